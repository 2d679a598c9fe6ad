import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Pool } from './pool.js';
import { transaction } from './pool.js';
import { migrationsDir } from '../paths.js';

// Any fixed 64-bit number; every instance booting at once queues on it.
const MIGRATION_LOCK_KEY = 7_264_231_001;

export interface MigrationFile {
  name: string;
  sql: string;
}

export async function readMigrations(dir: string = migrationsDir): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(path.join(dir, name), 'utf8') })),
  );
}

/**
 * Applies pending migrations in one transaction under a transaction-scoped advisory lock, so
 * instances that boot together queue: the first applies, the others find nothing to do.
 */
export async function migrate(pool: Pool, logger?: Logger, dir?: string): Promise<string[]> {
  const migrations = await readMigrations(dir);
  return transaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        name       text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ name: string }>('SELECT name FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.name));
    const pending = migrations.filter((migration) => !applied.has(migration.name));
    for (const migration of pending) {
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [migration.name]);
      logger?.info({ migration: migration.name }, 'migration applied');
    }
    return pending.map((migration) => migration.name);
  });
}
