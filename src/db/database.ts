import pg from 'pg';
import type { Logger } from 'pino';
import { DEFAULT_EMBEDDED_PG_PORT, type Config } from '../config.js';
import { StartupError } from '../errors.js';
import { freePort, isPortFree } from '../net.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';

export interface DatabaseTarget {
  url: string;
  /** Set when Leadflow started the PostgreSQL itself; stop it last on shutdown. */
  embedded?: EmbeddedDatabase;
}

const EMBEDDED_DATABASE = 'leadflow';

/** `DATABASE_URL` when set, otherwise an embedded PostgreSQL in `DATA_DIR` with a `leadflow` database. */
export async function resolveDatabase(config: Config, logger: Logger): Promise<DatabaseTarget> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    port: () => chooseEmbeddedPort(config.EMBEDDED_PG_PORT, logger),
    logger,
  });
  await createDatabaseIfMissing(embedded.url, EMBEDDED_DATABASE);
  return { url: withDatabase(embedded.url, EMBEDDED_DATABASE), embedded };
}

/**
 * The embedded PostgreSQL's port. One the user set must be free: silently using another would
 * surprise whoever chose it. The default gives way to a free port, so that a second checkout,
 * or anything else on 54329, does not stop `npm start`.
 */
export async function chooseEmbeddedPort(
  setting: number | undefined,
  logger: Logger,
  defaultPort: number = DEFAULT_EMBEDDED_PG_PORT,
): Promise<number> {
  if (setting !== undefined) {
    if (await isPortFree(setting)) return setting;
    throw new StartupError(
      `EMBEDDED_PG_PORT=${setting} is already in use on 127.0.0.1: ` +
        'set EMBEDDED_PG_PORT to a free port, or unset it to let Leadflow pick one.',
    );
  }
  if (await isPortFree(defaultPort)) return defaultPort;
  const port = await freePort();
  logger.info(`port ${defaultPort} is in use; embedded PostgreSQL uses ${port} instead`);
  return port;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`).catch((error) => {
        // 42P04: another instance created it between our check and our CREATE.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}
