#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { resolveDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { StartupError } from './errors.js';
import { reprocessFailed } from './ingest/reprocess.js';
import { createLogger } from './logger.js';
import { serve } from './server.js';
import { seedDemo } from './topology/seed.js';

const USAGE = 'usage: leadflow serve | migrate | seed | reprocess';

/** One-shot commands run against the configured database, then stop it again. */
async function withDatabase(
  work: (pool: ReturnType<typeof createPool>) => Promise<void>,
  config: ReturnType<typeof loadConfig>,
  logger: ReturnType<typeof createLogger>,
): Promise<void> {
  const database = await resolveDatabase(config, logger);
  const pool = createPool({ connectionString: database.url, max: 4, logger });
  try {
    await work(pool);
  } finally {
    await pool.end();
    await database.embedded?.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'serve';
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  switch (command) {
    case 'serve':
      return serve(config, logger);
    case 'migrate':
      return withDatabase(
        async (pool) => {
          const applied = await migrate(pool, logger);
          logger.info(
            { applied },
            applied.length ? 'migrations applied' : 'database already up to date',
          );
        },
        config,
        logger,
      );
    case 'seed':
      return withDatabase(
        async (pool) => {
          await migrate(pool, logger);
          // seedDemo logs when it seeds; only the no-op needs saying here.
          if (!(await seedDemo(pool, logger)))
            logger.info('providers exist already; nothing seeded');
        },
        config,
        logger,
      );
    case 'reprocess':
      return withDatabase(
        async (pool) => {
          await migrate(pool, logger);
          const summary = await reprocessFailed(pool, logger);
          logger.info(summary, 'reprocess finished');
        },
        config,
        logger,
      );
    default:
      console.error(USAGE);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof StartupError ? error.message : error);
  process.exit(1);
});
