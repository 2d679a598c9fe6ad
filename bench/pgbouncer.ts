/**
 * `npm run bench:pgbouncer`: ingestion (POST /api/lead, a unique Idempotency-Key each) on one
 * instance straight to PostgreSQL against the same instance through PgBouncer 1.18 in
 * transaction mode (deploy/pgbouncer/pgbouncer.ini), in one run, alternating, on one database.
 * BENCH_DATABASE_URL (default the machine's PostgreSQL on 127.0.0.1:5432) is the server used;
 * a scratch database is created there and dropped.
 */
import pg from 'pg';
import { withDatabase } from '../src/db/database.js';
import type { ServerProcess } from '../test/faults/server-process.js';
import { scratchDir, startInstance, startPgBouncer } from '../test/topology-suite/harness.js';
import { drive, type LoadResult } from './load.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION_SEC = Number(process.env.BENCH_DURATION_SEC ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = 2;

async function measure(server: ServerProcess, label: string): Promise<LoadResult> {
  let sequence = 0;
  return drive(
    {
      url: server.url,
      path: '/api/lead',
      connections: CONNECTIONS,
      durationSec: DURATION_SEC,
      body: (n) => JSON.stringify({ email: `bench-${n}@example.com`, firstName: 'Bench' }),
      onResponse: () => undefined,
    },
    201,
    () => sequence++,
    `pgb-${label}-${Date.now()}`,
  );
}

const database = `leadflow_bench_pgbouncer_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const scratch = await scratchDir('leadflow-bench-pgb-');
const directUrl = withDatabase(adminUrl, database);
const results: { mode: string; result: LoadResult }[] = [];
try {
  const bouncer = await startPgBouncer(directUrl, scratch.dir);
  try {
    const settings = {
      direct: { databaseUrl: directUrl, listenUrl: directUrl },
      pgbouncer: { databaseUrl: bouncer.url, listenUrl: directUrl },
    };
    // Migrations and the demo data once, directly.
    const seeding = await startInstance({ ...settings.direct, extra: { SEED_DEMO: '1' } });
    await seeding.kill();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['direct', 'pgbouncer'] as const) {
        const server = await startInstance(settings[mode]);
        try {
          results.push({ mode, result: await measure(server, mode) });
        } finally {
          await server.kill();
        }
      }
    }
  } finally {
    await bouncer.stop();
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await scratch.remove();
}

console.log(
  `ingestion, ${CONNECTIONS} connections, ${DURATION_SEC} s × ${ROUNDS} rounds per mode, one instance`,
);
for (const { mode, result } of results) {
  console.log(
    `${mode.padEnd(10)} ${result.requestsPerSec.toFixed(0).padStart(6)} req/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms  errors ${result.errors}`,
  );
}
