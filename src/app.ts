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
import { AllocationService } from './allocation/allocation.service.js';
import { testToolsEnabled, type Config } from './config.js';
import type { Pool } from './db/pool.js';
import { deliveryRoutes } from './delivery/delivery.routes.js';
import { DeliveryTestService } from './delivery/delivery.service.js';
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
import { registerErrorHandler } from './http/error-handler.js';
import { generateRequestId, registerRequestContext } from './http/request-context.js';
import { registerSecurity, registerSessionRoutes } from './http/security/index.js';
import { ingestRoutes } from './ingest/ingest.routes.js';
import { IngestService } from './ingest/ingest.service.js';
import { leadsRoutes } from './leads/leads.routes.js';
import { webDistDir } from './paths.js';
import { topologyRoutes } from './topology/topology.routes.js';
import { TopologyService } from './topology/topology.service.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';

export interface AppDependencies {
  config: Config;
  pool: Pool;
  /** Connection string for the dedicated LISTEN connection of the event stream. */
  databaseUrl: string;
  logger: Logger;
}

declare module 'fastify' {
  interface FastifyInstance {
    leadflow: {
      ingest: IngestService;
      allocation: AllocationService;
      hub: EventHub;
      committed: EventsCommitted;
      dispatcher: Dispatcher;
      /** Where test tools are enabled: the buyer the demo providers deliver to. */
      demoBuyer: DemoBuyer | undefined;
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
  '/login',
];

/** Builds the whole HTTP app without listening, so tests can `inject` or listen on port 0. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, pool, logger } = deps;
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
    return503OnClosing: true,
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
  const committed = new EventsCommitted();
  const ingest = new IngestService(pool, logger, committed, {
    maxConcurrent: config.INGEST_CONCURRENT_BATCHES,
    maxBatch: config.INGEST_MAX_BATCH,
    refusedBytesPerMinute: config.REFUSED_BYTES_PER_MINUTE,
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
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
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
  });
  const wakeDispatcher = (): void => dispatcher.wake();
  const allocation = new AllocationService(pool, logger, committed, wakeDispatcher);
  const topology = new TopologyService(pool, committed, guardAddresses);
  const hub = new EventHub(pool, deps.databaseUrl, logger, committed);
  app.decorate('leadflow', { ingest, allocation, hub, committed, dispatcher, demoBuyer });
  app.addHook('onReady', () => hub.start());
  app.addHook('onReady', async () => dispatcher.start());
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
  drainKeepAliveOnClose(app);

  const api = app.withTypeProvider<ZodTypeProvider>();
  registerSessionRoutes(app, sessionRoutes);
  await api.register(healthRoutes, { pool });
  await api.register(ingestRoutes, { ingest, allocation });
  await api.register(allocationRoutes, { pool });
  await api.register(webhookRoutes, { pool, committed, secret: config.WEBHOOK_SECRET });
  await api.register(eventsRoutes, { hub, maxClients: limits.maxSseClients });
  await api.register(topologyRoutes, { pool, topology });
  await api.register(leadsRoutes, { pool });
  await api.register(deliveryRoutes, {
    pool,
    requeued: wakeDispatcher,
    tests: new DeliveryTestService(pool, dispatcher.sender, guardAddresses),
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
