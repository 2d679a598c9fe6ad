/**
 * Times the report queries (SPEC §11: < 200 ms at 1,000,000 leads) on a database seeded with
 * BENCH_LEADS leads (default 1,000,000) over 30 days, with allocations and deliveries:
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:reports
 *
 * It creates its own database on that server and drops it at the end. Each query runs once to
 * warm the cache, then 5 times; the median is reported. The report rollup is filled first and
 * its refresh timed.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { withDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { selectLeads } from '../src/leads/leads.sql.js';
import { selectProvidersReport, selectVolume } from '../src/reports/reports.sql.js';
import { refreshReportRollup } from '../src/reports/rollup.sql.js';
import { seedDemo } from '../src/topology/seed.js';
import { seedLeads } from './seed-leads.sql.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const leads = Number(process.env.BENCH_LEADS ?? 1_000_000);
const database = `leadflow_bench_reports_${Date.now().toString(36)}`;

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const pool = createPool({ connectionString: withDatabase(adminUrl, database), max: 4 });
  try {
    await migrate(pool);
    await seedDemo(pool);
    const seeding = performance.now();
    const client = await pool.connect();
    await client.query('SET statement_timeout = 0');
    await seedLeads(client, leads, 30, true);
    client.release();
    console.log(
      `seeded ${leads.toLocaleString('en-US')} leads in ${((performance.now() - seeding) / 1000).toFixed(0)} s`,
    );
    // The rollup job (migration 0014): the first run rolls up all history, the next ones the
    // last 48 hours, which is what every instance pays each minute.
    for (const run of ['backfill (all history)', 'refresh (last 48 h)', 'refresh (last 48 h)']) {
      const started = performance.now();
      await refreshReportRollup(pool);
      console.log(`rollup ${run.padEnd(41)} ${(performance.now() - started).toFixed(1)} ms`);
    }
    const now = new Date().toISOString();
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const cases: [string, () => Promise<unknown>][] = [
      [
        'volume, day, 30 days (all leads)',
        () => selectVolume(pool, { interval: 'day', from: ago(31), to: now }),
      ],
      [
        'volume, day, 7 days (default)',
        () => selectVolume(pool, { interval: 'day', from: ago(7), to: now }),
      ],
      [
        'volume, hour, 48 h (default)',
        () => selectVolume(pool, { interval: 'hour', from: ago(2), to: now }),
      ],
      [
        'volume, day, 30 days, service 2',
        () => selectVolume(pool, { interval: 'day', from: ago(31), to: now, serviceId: 2 }),
      ],
      [
        'volume, day, 7 days, provider 5',
        () => selectVolume(pool, { interval: 'day', from: ago(7), to: now, providerId: 5 }),
      ],
      ['providers, 30 days (all)', () => selectProvidersReport(pool, { from: ago(31), to: now })],
      ['providers, today (default)', () => selectProvidersReport(pool, { to: now })],
      [
        'leads list, country=AT, 7 days, first page',
        () => selectLeads(pool, { country: 'AT', from: ago(7), limit: 50 }),
      ],
    ];
    for (const [name, run] of cases) {
      await run();
      const times: number[] = [];
      for (let index = 0; index < 5; index++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      console.log(
        `${name.padEnd(48)} median ${times[2]!.toFixed(1)} ms  max ${times[4]!.toFixed(1)} ms`,
      );
    }
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
