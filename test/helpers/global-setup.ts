import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { withDatabase } from '../../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { freePort } from '../../src/net.js';
import { seedDemo } from '../../src/topology/seed.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    databasePrefix: string;
  }
}

/**
 * One PostgreSQL for the run: TEST_DATABASE_URL's server, or an embedded one in a temp dir.
 * A template database is migrated and seeded once; each test file clones it. Everything this
 * run created is dropped at the end, because the server may be shared with other runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'leadflow-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      persistent: false,
      // Throwaway cluster: no crash safety needed, and fsync dominates test time otherwise.
      postgresFlags: ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
    });
    adminUrl = embedded.url;
  }
  const prefix = `leadflow_test_${process.pid}_${Date.now().toString(36)}`;
  const template = `${prefix}_template`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const pool = createPool({ connectionString: withDatabase(adminUrl, template), max: 2 });
  await migrate(pool);
  await seedDemo(pool);
  await pool.end();

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('databasePrefix', prefix);

  return async () => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${prefix}%`],
    );
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    }
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
