import { z } from 'zod';
import { parseDatabaseUrl } from './db/connection-url.js';

const booleanFlag = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((value) => value === '1' || value === 'true');

const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const byteSize = z.coerce.number().int().positive();

export const DEFAULT_EMBEDDED_PG_PORT = 54329;

// libpq's URL, host lists and target_session_attrs included (src/db/connection-url.ts).
const databaseUrl = z.string().superRefine((value, context) => {
  try {
    parseDatabaseUrl(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const configSchema = z.object({
  DATABASE_URL: databaseUrl.optional(),
  // Set when DATABASE_URL is a transaction pooler (PgBouncer): a direct connection to the
  // same database for the event stream's LISTEN, and DATABASE_URL then gets no session state
  // (no startup parameters, no named prepared statements). See README "Running in production".
  DATABASE_LISTEN_URL: databaseUrl.optional(),
  // On SIGTERM, how long /ready answers 503 (and new requests 503 + Retry-After) before the
  // port closes, so a load balancer probing /ready stops routing here first.
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  // Unset means DEFAULT_EMBEDDED_PG_PORT, or a free port when that one is taken.
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SEED_DEMO: booleanFlag,
  BODY_LIMIT: byteSize.default(1024 * 1024),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(20),
  // Group commit: ingest transactions in flight at once, and requests per transaction.
  INGEST_CONCURRENT_BATCHES: z.coerce.number().int().min(1).max(64).default(2),
  INGEST_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(200),
  // The spec keeps events at least 24 h for Last-Event-ID replay.
  EVENT_RETENTION_HOURS: z.coerce.number().int().min(24).default(72),
  INGEST_API_KEYS: commaList,
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by a base64 key')
    .optional(),
  ENABLE_TEST_TOOLS: booleanFlag,
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  CORS_ORIGINS: commaList.pipe(
    z.array(
      z
        .string()
        .regex(
          /^(\*|https?:\/\/[^/\s]+)$/,
          'each must be an origin (scheme://host[:port], no path) or *',
        ),
    ),
  ),
  // Host names answered besides loopback ones while ADMIN_TOKEN is unset (DNS rebinding).
  ALLOWED_HOSTS: commaList.pipe(
    z.array(z.string().regex(/^[\w.-]+$/, 'each must be a host name, without scheme or port')),
  ),
  // Refused (400/415) bodies one sender may have stored per minute; beyond it 429.
  REFUSED_BYTES_PER_MINUTE: byteSize.default(16 * 1024 * 1024),
  // How many reverse proxies stand in front: the client's address is the one the nearest of
  // them appended to X-Forwarded-For. Trusting every hop (Fastify's `true`) took the
  // left-most address, which the client writes itself, so one client could pose as many
  // and escape per-address limits. `1`/`true` = one proxy, `0`/`false`/unset = none.
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value) => (value === 'true' ? '1' : value === 'false' ? '0' : (value ?? '0')))
    .pipe(z.string().regex(/^\d{1,2}$/, 'a number of proxies in front (0, 1, 2 …), or true/false'))
    .transform(Number),
  // Load shedding (503 + Retry-After) past either bound; see src/http/security/load-shedding.ts.
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(1).default(1000),
  SHED_DB_BACKLOG: z.coerce.number().int().min(1).default(2000),
  // Unset: derived from the open-file limit at start; see src/http/security/connections.ts.
  MAX_CONNECTIONS: z.coerce.number().int().min(1).optional(),
  MAX_SSE_CLIENTS: z.coerce.number().int().min(1).optional(),
  // Delivery to providers (SPEC §9); see src/delivery/dispatcher.ts.
  DELIVERY_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5000),
  DELIVERY_RETRY_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
  DELIVERY_PAUSE_AFTER: z.coerce.number().int().min(1).default(10),
  DELIVERY_PROBE_MS: z.coerce.number().int().min(1).default(60_000),
  // Loopback, private and link-local targets are refused in production unless this is set.
  DELIVERY_ALLOW_PRIVATE: booleanFlag,
  // How often an idle instance looks for due deliveries (one index probe); an allocation on
  // this instance wakes it at once.
  DELIVERY_POLL_MS: z.coerce.number().int().min(10).default(1000),
  // Sends in flight per instance; 0: this instance never delivers.
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(0).max(1000).default(32),
  // On shutdown, how long in-flight sends may finish; the rest are re-sent after their lease.
  DELIVERY_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  // "Send a test lead" answers are deleted once older than this (hourly sweep).
  TEST_SEND_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
});

export type Config = z.infer<typeof configSchema>;

/** The dashboard's test tools and the demo buyer: off in production unless ENABLE_TEST_TOOLS. */
export function testToolsEnabled(config: Config): boolean {
  return config.NODE_ENV !== 'production' || config.ENABLE_TEST_TOOLS;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; a bad value names its variable instead of failing later. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An exported-but-empty variable (`PORT=`) means "unset", as shells and .env files intend.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  // The embedded PostgreSQL has no pooler in front: a listen URL beside it means a mistake.
  if (result.data.DATABASE_LISTEN_URL && !result.data.DATABASE_URL) {
    throw new ConfigError([
      'DATABASE_LISTEN_URL: set only with DATABASE_URL (the pooler it bypasses for LISTEN)',
    ]);
  }
  return result.data;
}
