/**
 * PostgreSQL's CPU per delivery on the drain's path, alone: claim (claimDueDeliveries) and
 * outcome (AttemptRecorder: health, attempts, deliveries, events) of a backlog, in batches
 * of `batch`, measured as the CPU time of the backends doing it (/proc/<pid>/stat), so other
 * processes on the machine do not count. No HTTP: every send "succeeds" at once.
 *
 *   npx tsx bench/delivery-cost.ts [postgres://…/postgres] [deliveries=30000] [batch=200]
 *
 * Needs the database server on this machine (it reads the backends' /proc entries).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { createDatabaseIfMissing, withDatabase } from '../src/db/database.js';
import { claimDueDeliveries } from '../src/db/locks.sql.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { AttemptRecorder } from '../src/delivery/recorder.js';
import { EventsCommitted } from '../src/events/events-committed.js';
import { seedDemo } from '../src/topology/seed.js';
import { insertBacklog, releaseBacklog } from './delivery.sql.js';

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const deliveries = Number(process.argv[3] ?? 30_000);
const batch = Number(process.argv[4] ?? 200);
const database = `leadflow_cost_${process.pid}`;
const logger = pino({ level: 'warn' });

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

await createDatabaseIfMissing(adminUrl, database);
const pool = createPool({ connectionString: withDatabase(adminUrl, database), max: 4 });
try {
  await migrate(pool, logger);
  await seedDemo(pool, logger);
  await pool.query(
    `INSERT INTO provider_delivery (provider_id, url) SELECT id, 'http://127.0.0.1:9/' FROM providers`,
  );
  await pool.query('UPDATE providers SET quota = 1000000000, remaining_quota = 1000000000');
  const monitor = await pool.connect();
  const queued = await insertBacklog(monitor as never, Math.ceil(deliveries / 3));
  await monitor.query('VACUUM ANALYZE deliveries');
  await releaseBacklog(monitor as never);
  await monitor.query('CHECKPOINT');
  const { rows: before } = await monitor.query<{ lsn: string }>(
    'SELECT pg_current_wal_lsn()::text AS lsn',
  );
  monitor.release();

  // Every backend the pool opens is measured from its first statement on.
  const pids = new Set<number>();
  const started = new Map<number, number>();
  pool.on('connect', (client) => {
    void client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then(({ rows }) => {
      const pid = rows[0]!.pid;
      pids.add(pid);
      started.set(pid, cpuMs(pid));
    });
  });
  for (const client of await Promise.all([pool.connect(), pool.connect(), pool.connect()])) {
    client.release();
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const cpuBefore = [...pids].reduce((sum, pid) => sum + cpuMs(pid), 0);

  const recorder = new AttemptRecorder(
    pool,
    logger,
    new EventsCommitted(),
    { pauseAfter: 10, probeMs: 60_000 },
    () => undefined,
  );
  const cpuNow = (): number => [...pids].reduce((sum, pid) => sum + cpuMs(pid), 0);
  const wallStart = performance.now();
  // One claim, then its outcomes, as the dispatcher does; nothing else runs meanwhile, so the
  // backends' CPU during the claim is the claim's (clock ticks: unbiased over many claims).
  let claimCpu = 0;
  let done = 0;
  for (;;) {
    const claimStart = cpuNow();
    const claimed = await claimDueDeliveries(pool, batch, 5000);
    claimCpu += cpuNow() - claimStart;
    if (claimed.length === 0) break;
    const now = new Date();
    await Promise.all(
      claimed.map((delivery) =>
        recorder.record({
          deliveryId: delivery.id,
          leadId: delivery.leadId,
          providerId: delivery.providerId,
          attempt: delivery.attempt,
          startedAt: now,
          durationMs: 1,
          outcome: 'delivered',
          statusCode: 200,
          error: null,
          responseExcerpt: '{"accepted":true}',
          retryInMs: null,
        }),
      ),
    );
    done += claimed.length;
  }
  const wallMs = performance.now() - wallStart;
  const cpu = cpuNow() - cpuBefore;
  const { rows: after } = await pool.query<{ bytes: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes',
    [before[0]!.lsn],
  );
  console.log(
    JSON.stringify({
      queued,
      done,
      batch,
      backendCpuUsPerDelivery: Math.round((cpu * 1000) / done),
      claimCpuUsPerDelivery: Math.round((claimCpu * 1000) / done),
      outcomeCpuUsPerDelivery: Math.round(((cpu - claimCpu) * 1000) / done),
      walBytesPerDelivery: Math.round(Number(after[0]!.bytes) / done),
      wallUsPerDelivery: Math.round((wallMs * 1000) / done),
    }),
  );
} finally {
  await pool.end();
  const admin = createPool({ connectionString: adminUrl, max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
