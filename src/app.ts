import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { allocationRoutes } from './allocation/allocation.routes.js';
import { auditRoutes } from './audit/audit.routes.js';
import { AllocationService } from './allocation/allocation.service.js';
import { BacklogDrainer } from './allocation/backlog.js';
import { systemClock, type Clock } from './allocation/calendar.js';
import { testToolsEnabled, type Config } from './config.js';
import type { Pool } from './db/pool.js';
import { deliveryRoutes } from './delivery/delivery.routes.js';
import { DeliveryRetries, DeliveryTestService } from './delivery/delivery.service.js';
import { DemoBuyer } from './delivery/demo-buyer.js';
import { demoBuyerRoutes } from './delivery/demo-buyer.routes.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { startDeliveryTestRetention } from './delivery/housekeeping.js';
import { EventHub } from './events/event-hub.js';
import { EventsCommitted } from './events/events-committed.js';
import { eventsRoutes } from './events/events.routes.js';
import { startEventRetention } from './events/retention.js';
import { healthRoutes } from './health/health.routes.js';
import { registerBodyParsers } from './http/body.js';
import {
  answerClientError,
  connectionLimits,
  limitConnections,
} from './http/security/connections.js';
import { registerDraining, type Draining } from './http/draining.js';
import { registerErrorHandler } from './http/error-handler.js';
import { generateRequestId, registerRequestContext } from './http/request-context.js';
import { registerSecurity, registerSessionRoutes } from './http/security/index.js';
import { ingestRoutes } from './ingest/ingest.routes.js';
import { IngestService } from './ingest/ingest.service.js';
import { leadsRoutes } from './leads/leads.routes.js';
import { Metrics } from './metrics/metrics.js';
import { metricsRoutes, observeHttpDurations } from './metrics/metrics.routes.js';
import { reportsRoutes } from './reports/reports.routes.js';
import { startReportRollup } from './reports/rollup.js';
import { webDistDir } from './paths.js';
import { topologyRoutes } from './topology/topology.routes.js';
import { TopologyService } from './topology/topology.service.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';

export interface AppDependencies {
  config: Config;
  pool: Pool;
  /**
   * Connection string for the dedicated LISTEN connection of the event stream: a direct one
   * (DATABASE_LISTEN_URL) when the pool's goes through a transaction pooler.
   */
  databaseUrl: string;
  logger: Logger;
  /** The time caps, schedules, duplicate windows and the backlog read; tests set it. */
  clock?: Clock;
  /**
   * false: the backlog is drained only when asked (`leadflow.backlog.drain()`), never by the
   * minute or by events; for tests that compare each step with a model.
   */
  automaticBacklog?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    leadflow: {
      ingest: IngestService;
      allocation: AllocationService;
      backlog: BacklogDrainer;
      hub: EventHub;
      committed: EventsCommitted;
      dispatcher: Dispatcher;
      /** Where test tools are enabled: the buyer the demo providers deliver to. */
      demoBuyer: DemoBuyer | undefined;
      /** Begun on SIGTERM (server.ts), before the app closes. */
      draining: Draining;
    };
  }
}

const WEB_ROUTES = [
  '/dashboard',
  '/test-tools',
  '/leads',
  '/leads/*',
  '/deliveries',
  '/settings',
  '/audit',
  '/raw-requests',
  '/reports',
  '/login',
];

const DOCS_BACK_LINK = `document.addEventListener('DOMContentLoaded', function () {
  var link = document.createElement('a');
  link.href = '/dashboard';
  link.textContent = '\u2190 Back to the Leadflow dashboard';
  link.setAttribute('data-testid', 'docs-back-link');
  link.style.cssText = 'display:block;padding:10px 20px;font:600 14px sans-serif;color:#1e40af;background:#f1f5f9;border-bottom:1px solid #cbd5e1';
  document.body.insertBefore(link, document.body.firstChild);
});
`;

/** Builds the whole HTTP app without listening, so tests can `inject` or listen on port 0. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, pool, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT,
    genReqId: generateRequestId,
    // One line per request is written in request-context.ts, with the lead and outcome.
    logController: new LogController({ disableRequestLogging: true }),
    // The nearest TRUST_PROXY hops are proxies (what Fastify does for a number, which its
    // types do not accept).
    trustProxy: config.TRUST_PROXY > 0 ? (_address, hop) => hop < config.TRUST_PROXY : false,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    http: {
      // Node enforces headersTimeout (10 s) and requestTimeout by a sweep every 30 s by
      // default: a socket that never sends a byte held its descriptor up to 40 s, now up to
      // 11 s. The sweep walks only connections mid-request, a few µs per thousand.
      connectionsCheckingInterval: 1000,
      // A request without Host reaches the app, which answers it in the spec's shape (403
      // invalid_host while ADMIN_TOKEN is unset) instead of Node's bare 400.
      requireHostHeader: false,
    },
    // A URL the router cannot decode (`/%zz`): Fastify's own answer named its internal code
    // and echoed the URL.
    frameworkErrors: (_error, request, reply) => {
      request.outcome = 'bad_url';
      void reply
        .header('x-request-id', request.id)
        .type('application/json; charset=utf-8')
        .status(400 as never)
        .send('{"ok":false,"error":"bad_request"}' as never);
    },
    clientErrorHandler: answerClientError,
    // Our own 503 while closing (http/draining.ts) carries Retry-After; Fastify's did not.
    return503OnClosing: false,
  });
  const limits = connectionLimits(config);
  limitConnections(app, limits.maxConnections);

  // Node answers an Expect other than 100-continue with a bare 417 unless someone listens.
  app.server.on('checkExpectation', (_request, response) => {
    response.writeHead(417, { 'content-type': 'application/json; charset=utf-8' });
    response.end('{"ok":false,"error":"expectation_failed"}');
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerBodyParsers(app);
  const webBuilt = existsSync(path.join(webDistDir, 'index.html'));
  registerErrorHandler(app, {
    notFoundPage: webBuilt ? (reply) => reply.sendFile('index.html') : undefined,
  });
  registerRequestContext(app);
  const draining = registerDraining(app, new Set(['/health', '/ready']));
  const committed = new EventsCommitted();
  const metrics = new Metrics(pool);
  observeHttpDurations(app, metrics);
  const ingest = new IngestService(pool, logger, committed, {
    maxConcurrent: config.INGEST_CONCURRENT_BATCHES,
    maxBatch: config.INGEST_MAX_BATCH,
    refusedBytesPerMinute: config.REFUSED_BYTES_PER_MINUTE,
    onStored: (outcome, count) => metrics.leadStored(outcome, count),
  });
  const sessionRoutes = await registerSecurity(app, {
    config,
    pool,
    ingestBacklog: () => ingest.pending,
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Leadflow',
        description: 'Zero-loss lead ingestion and fair, quota-bound distribution to providers.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // A way back to the dashboard above Swagger UI's own page. A script file, not inline: the
    // page's Content-Security-Policy allows scripts from this origin only.
    theme: {
      title: 'Leadflow API',
      js: [{ filename: 'back-to-dashboard.js', content: DOCS_BACK_LINK }],
    },
  });
  app.get('/openapi.json', { config: { access: 'admin' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  // SPEC §9: private targets are refused in production unless DELIVERY_ALLOW_PRIVATE=1.
  const guardAddresses = config.NODE_ENV === 'production' && !config.DELIVERY_ALLOW_PRIVATE;
  const demoBuyer = testToolsEnabled(config) ? new DemoBuyer() : undefined;
  const dispatcher = new Dispatcher(pool, logger, committed, {
    retryBaseMs: config.DELIVERY_RETRY_BASE_MS,
    retryMaxMs: config.DELIVERY_RETRY_MAX_MS,
    pauseAfter: config.DELIVERY_PAUSE_AFTER,
    probeMs: config.DELIVERY_PROBE_MS,
    pollMs: config.DELIVERY_POLL_MS,
    concurrency: config.DELIVERY_CONCURRENCY,
    drainMs: config.DELIVERY_DRAIN_MS,
    guardAddresses,
    isOwnUrl: (url) => demoBuyer?.owns(url) ?? false,
    onAttempt: (providerId, outcome) => metrics.deliveryAttempted(providerId, outcome),
  });
  const wakeDispatcher = (): void => dispatcher.wake();
  const allocation = new AllocationService(
    pool,
    logger,
    committed,
    wakeDispatcher,
    clock,
    (serviceId, outcome, count) => metrics.leadSettled(serviceId, outcome, count),
  );
  const topology = new TopologyService(pool, committed, guardAddresses, clock);
  const hub = new EventHub(pool, deps.databaseUrl, logger, committed);
  const backlog = new BacklogDrainer(pool, allocation, logger);
  app.decorate('leadflow', {
    ingest,
    allocation,
    backlog,
    hub,
    committed,
    dispatcher,
    demoBuyer,
    draining,
  });
  app.addHook('onReady', () => hub.start());
  if (deps.automaticBacklog !== false) app.addHook('onReady', async () => backlog.start(hub));
  app.addHook('preClose', () => backlog.stop());
  // Allocations committed on other instances (say an instance that only delivers, beside
  // instances with DELIVERY_CONCURRENCY=0 that take the requests): their events arrive through
  // the hub's notification within milliseconds, where the poll would wait up to DELIVERY_POLL_MS.
  // Delivery pauses of every instance reach the dispatcher the same way.
  let stopFollowingEvents: (() => void) | undefined;
  app.addHook('onReady', async () => {
    dispatcher.start();
    stopFollowingEvents = hub.subscribe({
      deliver: (events) => {
        if (events.some((event) => event.type === 'lead.allocated')) dispatcher.wake();
        dispatcher.observe(events);
        return true;
      },
      close: () => {},
    });
  });
  // A block, not an expression: Fastify takes a value a close hook resolves to as its error.
  app.addHook('preClose', async () => {
    stopFollowingEvents?.();
  });
  app.addHook('preClose', () => hub.stop());
  // After the server stopped taking requests, before the pool closes (server.ts).
  app.addHook('onClose', () => dispatcher.stop());
  const stopRetention = startEventRetention(pool, config.EVENT_RETENTION_HOURS, logger);
  app.addHook('onClose', async () => stopRetention());
  const stopTestRetention = startDeliveryTestRetention(
    pool,
    config.TEST_SEND_RETENTION_DAYS,
    logger,
  );
  app.addHook('onClose', async () => stopTestRetention());
  const stopReportRollup = startReportRollup(pool, logger);
  app.addHook('onClose', async () => stopReportRollup());
  drainKeepAliveOnClose(app);

  const api = app.withTypeProvider<ZodTypeProvider>();
  registerSessionRoutes(app, sessionRoutes);
  await api.register(healthRoutes, { pool, draining });
  await api.register(ingestRoutes, { ingest, allocation });
  await api.register(allocationRoutes, { pool, allocation });
  await api.register(webhookRoutes, { pool, committed, secret: config.WEBHOOK_SECRET });
  await api.register(eventsRoutes, { hub, maxClients: limits.maxSseClients });
  await api.register(topologyRoutes, { pool, topology, clock });
  await api.register(leadsRoutes, { pool });
  await api.register(auditRoutes, { pool });
  await api.register(reportsRoutes, { pool });
  await api.register(metricsRoutes, { metrics });
  await api.register(deliveryRoutes, {
    pool,
    requeued: wakeDispatcher,
    tests: new DeliveryTestService(pool, dispatcher.sender, guardAddresses),
    retries: new DeliveryRetries(pool),
  });
  if (demoBuyer) await api.register(demoBuyerRoutes, { buyer: demoBuyer });
  await registerWebApp(app, webBuilt);
  return app;
}

/**
 * Node's server.close() closes the keep-alive connections idle at that instant only; one that
 * was busy keeps the process alive until its keep-alive timeout. So once closing starts,
 * every response says `Connection: close` and idle connections are swept until the end.
 */
function drainKeepAliveOnClose(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    app.server.once('close', () => clearInterval(sweep));
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

/** Serves the built dashboard; a missing build is reported instead of failing the API. */
async function registerWebApp(app: FastifyInstance, built: boolean): Promise<void> {
  if (!built) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain')
        .send('Leadflow API is running. Build the dashboard with `npm run build`.'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: webDistDir,
    prefix: '/',
    wildcard: false,
    index: false,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/dashboard'));
  for (const route of WEB_ROUTES) {
    app.get(route, { schema: { hide: true } }, async (_request, reply) =>
      reply.sendFile('index.html'),
    );
  }
}
