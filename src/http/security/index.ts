import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { testToolsEnabled, type Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import { AdminSessions, ApiKeyRing } from '../auth.js';
import { requireAccessDeclarations } from './access.js';
import { registerAuthentication } from './authentication.js';
import { registerBrowserWriteChecks } from './browser-writes.js';
import { registerCors } from './cors.js';
import { createSecurityCounters } from './counters.js';
import { registerSecurityHeaders } from './headers.js';
import { registerHostCheck } from './host.js';
import { registerLoadShedding } from './load-shedding.js';
import { registerRateLimit } from './rate-limit.js';
import type { SessionRoutesOptions } from './session.routes.js';

export { exposureWarnings, warnIfExposed } from './exposure.js';
export type { SecurityCounters } from '../../contracts/index.js';
export { registerSessionRoutes } from './session.routes.js';

export interface SecurityOptions {
  config: Config;
  pool: Pool;
  /** Leads queued for the next group commit, for load shedding. */
  ingestBacklog: () => number;
}

/** Never shed: load balancers must see the truth about this instance. */
const HEALTH_ROUTES = new Set(['/health', '/ready']);

// Node's default lets a client trickle headers for 60 s per connection (slowloris); the whole
// request stays bounded by requestTimeout (app.ts).
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * SPEC §6 and §8, one plugin per concern, registered before any route so that every route
 * registered afterwards gets them. The order of their hooks is the order a request meets them:
 * headers, Host, load shedding, rate limit, browser writes (onRequest), then credentials
 * (preParsing, before the body is read).
 */
export async function registerSecurity(
  app: FastifyInstance,
  { config, pool, ingestBacklog }: SecurityOptions,
): Promise<SessionRoutesOptions> {
  const keys = new ApiKeyRing(config.INGEST_API_KEYS);
  const sessions = config.ADMIN_TOKEN ? new AdminSessions(config.ADMIN_TOKEN, pool) : undefined;
  const testTools = testToolsEnabled(config);
  const counters = createSecurityCounters(app);

  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  requireAccessDeclarations(app);
  // Cookies are parsed only where a session can matter, not in a hook on every request.
  await app.register(fastifyCookie, { hook: false });

  registerSecurityHeaders(app);
  if (!sessions) registerHostCheck(app, config.ALLOWED_HOSTS);
  await registerCors(app, config.CORS_ORIGINS);
  registerLoadShedding(app, {
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    maxDatabaseBacklog: config.SHED_DB_BACKLOG,
    databaseBacklog: () => pool.waitingCount + ingestBacklog(),
    exempt: HEALTH_ROUTES,
    onShed: () => counters.shed++,
  });
  await registerRateLimit(app, config.RATE_LIMIT_PER_MINUTE, keys, counters);
  registerBrowserWriteChecks(app);
  registerAuthentication(app, { keys, sessions, testTools }, counters);
  // For registerSessionRoutes, once the OpenAPI document collects routes.
  return { sessions, testTools, counters };
}
