import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import {
  ADMIN_SENDER,
  AdminSessions,
  ApiKeyRing,
  SESSION_COOKIE,
  accessOf,
  apiKeyId,
  bearerToken,
  presentedApiKey,
} from './auth.js';
import { AppError } from './errors.js';
import { registerLoadShedding } from './load-shedding.js';
import { errorBody } from './schemas.js';

export interface SecurityOptions {
  config: Config;
  pool: Pool;
}

export interface SecurityCounters {
  /** Refused for missing or wrong credentials, by the surface that refused them. */
  unauthorized: { ingest: number; admin: number; webhook: number; login: number };
  rateLimited: number;
  /** Answered 503 because the event loop or the database backlog was saturated. */
  shed: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    securityCounters: SecurityCounters;
  }
}

/** Never shed, never rate limited: load balancers must see the truth about this instance. */
const HEALTH_ROUTES = new Set(['/health', '/ready']);
const LOGIN_ATTEMPTS_PER_MINUTE = 10;
const HEADERS_TIMEOUT_MS = 10_000;

// The dashboard is a Vite build: module scripts and one stylesheet from this origin, no
// inline code. React's `style={…}` goes through the CSSOM, which style-src does not govern.
const DASHBOARD_CSP = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

// Swagger UI sets inline styles from its bundle; it stays on its own pages.
const DOCS_CSP = { ...DASHBOARD_CSP, styleSrc: ["'self'", "'unsafe-inline'"] };

/**
 * Helmet's response headers for one set of options. @fastify/helmet builds helmet's middleware
 * anew on every request, which doubled the CPU of a bare request (autocannon, 87 → 190 µs); the
 * headers never vary, so helmet computes them once here.
 */
function helmetHeaders(options: HelmetOptions): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return [...headers];
}

const documentHeaders = (directives: typeof DASHBOARD_CSP): HelmetOptions => ({
  contentSecurityPolicy: { useDefaults: false, directives },
});

// JSON and event-stream responses are never rendered as pages: they get the set OWASP's REST
// Security Cheat Sheet lists for APIs (no framing, no sniffing, HTTPS only, same-origin
// resource) with a CSP that allows nothing. Node validates every header it sends; the
// document-only ones (opener policy, origin agent cluster, DNS prefetch, the long page CSP)
// were ~7 % of an ingest request's instructions in the event loop (callgrind, medians).
const API_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

const isDocs = (url: string | undefined): boolean =>
  url !== undefined && (url === '/docs' || url.startsWith('/docs/'));

const unauthorized = (): AppError =>
  new AppError(401, 'unauthorized', {}, { 'www-authenticate': 'Bearer realm="leadflow"' });

/**
 * SPEC §6: credentials, rate limits, security headers, CORS and load shedding, registered
 * before any route so that every route registered afterwards gets them.
 */
export async function registerSecurity(
  app: FastifyInstance,
  { config, pool }: SecurityOptions,
): Promise<void> {
  const keys = new ApiKeyRing(config.INGEST_API_KEYS);
  const sessions = config.ADMIN_TOKEN ? new AdminSessions(config.ADMIN_TOKEN) : undefined;
  const testTools = config.NODE_ENV !== 'production' || config.ENABLE_TEST_TOOLS;
  const counters: SecurityCounters = {
    unauthorized: { ingest: 0, admin: 0, webhook: 0, login: 0 },
    rateLimited: 0,
    shed: 0,
  };
  app.decorate('securityCounters', counters);

  const senders = new WeakMap<FastifyRequest, string | null>();
  const senderOf = (request: FastifyRequest): string | null => {
    if (!senders.has(request)) {
      const presented = keys.enabled ? presentedApiKey(request) : undefined;
      senders.set(request, presented === undefined ? null : keys.match(presented));
    }
    return senders.get(request)!;
  };
  const hasSession = (request: FastifyRequest): boolean => {
    const header = request.headers.cookie;
    if (!sessions || header === undefined) return false;
    const cookie = app.parseCookie(header)[SESSION_COOKIE];
    return cookie !== undefined && sessions.verify(cookie);
  };
  const isAdmin = (request: FastifyRequest): boolean => {
    const bearer = bearerToken(request);
    if (sessions && bearer !== undefined && sessions.isToken(bearer)) return true;
    return hasSession(request);
  };

  // Node's default lets a client trickle headers for 60 s per connection (slowloris); the
  // whole request stays bounded by requestTimeout (app.ts).
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;

  // Cookies are parsed only where a session can matter, not in a hook on every request.
  await app.register(fastifyCookie, { hook: false });

  const dashboardHeaders = helmetHeaders(documentHeaders(DASHBOARD_CSP));
  const docsHeaders = helmetHeaders(documentHeaders(DOCS_CSP));
  const apiHeaders = helmetHeaders(API_HEADERS);
  // On the raw response, so that hijacked replies (the event stream) carry them too.
  app.addHook('onRequest', (request, reply, done) => {
    // request.url for unknown paths: a 404 under /api/ is an API answer too.
    const path = request.routeOptions.url ?? request.url;
    const headers = path.startsWith('/api/')
      ? apiHeaders
      : isDocs(path)
        ? docsHeaders
        : dashboardHeaders;
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });

  if (config.CORS_ORIGINS.length > 0) {
    await app.register(fastifyCors, {
      origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'PATCH'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'x-api-key',
        'x-request-id',
        'last-event-id',
      ],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    });
  }

  registerLoadShedding(app, {
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    maxDatabaseBacklog: config.SHED_DB_BACKLOG,
    // Past the bound, answering 503 now beats answering 500 after a timeout.
    databaseBacklog: () => pool.waitingCount + ingestBacklog(app),
    exempt: HEALTH_ROUTES,
    onShed: () => counters.shed++,
  });

  await app.register(fastifyRateLimit, {
    global: config.RATE_LIMIT_PER_MINUTE > 0,
    max: config.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const sender = senderOf(request);
      return sender === null ? `ip:${request.ip}` : `key:${sender}`;
    },
    allowList: (request) => HEALTH_ROUTES.has(request.routeOptions.url ?? ''),
    onExceeded: (request, key) => {
      counters.rateLimited++;
      request.log.warn({ rateLimitKey: key }, 'rate limit exceeded');
    },
    errorResponseBuilder: (_request, context) =>
      new AppError(
        context.statusCode,
        'rate_limited',
        {},
        { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      ),
  });

  // preParsing: after the rate limit has counted the request, before its body is read, so a
  // caller without credentials can neither fill memory nor the disk, nor guess keys quickly.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const access = accessOf(request.routeOptions.url);
    if (access === 'ingest' && keys.enabled) {
      const sender = senderOf(request);
      if (sender !== null) {
        request.sender = sender;
      } else if (testTools && hasSession(request)) {
        // The dashboard's test tools, in an operator's logged-in browser, with their own scope.
        request.sender = ADMIN_SENDER;
      } else {
        request.outcome = presentedApiKey(request) === undefined ? 'missing_key' : 'invalid_key';
        return done(unauthorized());
      }
    } else if (access === 'admin' && sessions && !isAdmin(request)) {
      request.outcome = 'missing_or_invalid_admin_credentials';
      return done(unauthorized());
    }
    done(null, payload);
  });

  // 401s are not stored (anyone could fill the disk with them): counted and logged instead.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 401) return done();
    const url = request.routeOptions.url;
    const access = accessOf(url);
    const surface =
      url === '/api/login'
        ? 'login'
        : access === 'signed'
          ? 'webhook'
          : access === 'ingest'
            ? 'ingest'
            : 'admin';
    counters.unauthorized[surface]++;
    const presented = surface === 'ingest' ? presentedApiKey(request) : undefined;
    request.log.warn(
      {
        surface,
        reason: request.outcome,
        remoteAddr: request.ip,
        // Lets an operator tell which misconfigured sender it is without logging its key.
        presentedKeyId: presented === undefined ? undefined : apiKeyId(presented),
      },
      'unauthorized request refused',
    );
    done();
  });

  registerAuthRoutes(app, { sessions, testTools, counters, isAdmin });
}

function ingestBacklog(app: FastifyInstance): number {
  return app.hasDecorator('leadflow') ? app.leadflow.ingest.pending : 0;
}

interface AuthRoutesOptions {
  sessions: AdminSessions | undefined;
  testTools: boolean;
  counters: SecurityCounters;
  isAdmin(request: FastifyRequest): boolean;
}

function registerAuthRoutes(
  app: FastifyInstance,
  { sessions, testTools, counters, isAdmin }: AuthRoutesOptions,
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const okBody = z.object({ ok: z.literal(true) });

  api.post(
    '/api/login',
    {
      config: {
        rateLimit: {
          max: LOGIN_ATTEMPTS_PER_MINUTE,
          timeWindow: 60_000,
          keyGenerator: (request) => `login:${request.ip}`,
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Exchange ADMIN_TOKEN for an HttpOnly, SameSite=Strict session cookie',
        body: z.object({ token: z.string().max(1024) }),
        response: { 200: okBody, 400: errorBody, 401: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      if (!sessions) return { ok: true as const };
      if (!sessions.isToken(request.body.token)) {
        request.outcome = 'invalid_admin_token';
        throw unauthorized();
      }
      reply.setCookie(SESSION_COOKIE, sessions.issue(), {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
        maxAge: sessions.lifetimeSeconds,
      });
      request.outcome = 'logged_in';
      return { ok: true as const };
    },
  );

  api.post(
    '/api/logout',
    { schema: { tags: ['auth'], summary: 'Clear the session cookie', response: { 200: okBody } } },
    async (request, reply) => {
      reply.clearCookie(SESSION_COOKIE, {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
      });
      return { ok: true as const };
    },
  );

  api.get(
    '/api/config/ui',
    {
      schema: {
        tags: ['auth'],
        summary: 'What the dashboard should show: test tools, and whether a login is needed',
        response: {
          200: z.object({
            testTools: z.boolean(),
            auth: z.boolean(),
            authenticated: z.boolean(),
          }),
        },
      },
    },
    async (request) => ({
      testTools,
      auth: sessions !== undefined,
      authenticated: sessions === undefined || isAdmin(request),
    }),
  );

  api.get(
    '/api/security/counters',
    {
      schema: {
        tags: ['operations'],
        summary: 'Requests refused by authentication, rate limits and load shedding since start',
      },
    },
    async () => counters,
  );
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

/** What a production instance reachable from other machines leaves open; empty when nothing. */
export function exposureWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.INGEST_API_KEYS.some((key) => key.length < 16)) {
    warnings.push('INGEST_API_KEYS holds a key shorter than 16 characters: use long random keys');
  }
  if (config.NODE_ENV !== 'production' || LOOPBACK_HOST.test(config.HOST)) return warnings;
  if (config.INGEST_API_KEYS.length === 0) {
    warnings.push('ingestion is open: INGEST_API_KEYS is not set, anyone can send leads');
  }
  if (!config.ADMIN_TOKEN) {
    warnings.push(
      'the dashboard, read/config APIs and event stream are open: ADMIN_TOKEN is not set',
    );
  }
  if (!config.WEBHOOK_SECRET) {
    warnings.push('the quota-reset webhook is unsigned: WEBHOOK_SECRET is not set');
  }
  return warnings;
}

/** Called once at start; loud on purpose, because an open production instance is an incident. */
export function warnIfExposed(config: Config, logger: Logger): void {
  const warnings = exposureWarnings(config);
  if (warnings.length === 0) return;
  logger.warn(
    { host: config.HOST, nodeEnv: config.NODE_ENV, open: warnings },
    `SECURITY WARNING: ${warnings.join('; ')}`,
  );
}
