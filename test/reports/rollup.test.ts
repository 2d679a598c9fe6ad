import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLeads } from '../../bench/seed-leads.sql.js';
import { selectProvidersReport, selectVolume } from '../../src/reports/reports.sql.js';
import { refreshReportRollup, ROLLUP_LOCK } from '../../src/reports/rollup.sql.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

beforeAll(async () => {
  db = await createTestDatabase();
  const client = await db.pool.connect();
  try {
    // ~30 leads an hour over 4 days up to now, so the current hour has rows too.
    await seedLeads(client, 3000, 4, true);
    // The seed's duplicates have no lead; point each at the lead before it, so the service and
    // provider filters of duplicates count something.
    await client.query(
      `UPDATE leads_raw r SET lead_id = (SELECT l.id FROM leads l WHERE l.raw_id < r.id
                                          ORDER BY l.raw_id DESC LIMIT 1)
        WHERE r.status = 'duplicate'`,
    );
  } finally {
    client.release();
  }
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

type Filter = { serviceId?: number; providerId?: number };

/** Counting rows, bucket by bucket: what every report answer must equal. */
async function countVolume(interval: 'hour' | 'day', from: string, to: string, filter: Filter) {
  const { rows } = await db.pool.query(
    `WITH b AS (
       SELECT step AT TIME ZONE 'UTC' AS s,
              (step + make_interval(hours => CASE WHEN $1 = 'hour' THEN 1 ELSE 24 END)) AT TIME ZONE 'UTC' AS e
         FROM generate_series(date_trunc($1, $2::timestamptz AT TIME ZONE 'UTC'),
                              $3::timestamptz AT TIME ZONE 'UTC',
                              make_interval(hours => CASE WHEN $1 = 'hour' THEN 1 ELSE 24 END)) AS step
        WHERE step < $3::timestamptz AT TIME ZONE 'UTC'),
     r AS (SELECT s, greatest(s, $2::timestamptz) AS lo, least(e, $3::timestamptz) AS hi FROM b),
     picked AS (
       SELECT l.* FROM leads l
        WHERE ($4::int IS NULL OR l.service_id = $4)
          AND ($5::int IS NULL OR l.id IN (SELECT lead_id FROM allocations WHERE provider_id = $5)))
     SELECT s AS bucket,
       (SELECT count(*)::int FROM picked WHERE created_at >= lo AND created_at < hi) AS leads,
       (SELECT count(*)::int FROM picked WHERE created_at >= lo AND created_at < hi AND status = 'allocated') AS allocated,
       (SELECT count(*)::int FROM picked WHERE created_at >= lo AND created_at < hi AND status = 'unallocated') AS unallocated,
       (SELECT count(*)::int FROM leads_raw d WHERE d.status = 'duplicate' AND received_at >= lo AND received_at < hi
           AND ($4::int IS NULL OR d.lead_id IN (SELECT id FROM leads WHERE service_id = $4))
           AND ($5::int IS NULL OR d.lead_id IN (SELECT lead_id FROM allocations WHERE provider_id = $5))) AS duplicates,
       (SELECT count(*)::int FROM deliveries d WHERE d.status = 'delivered' AND created_at >= lo AND created_at < hi
           AND ($5::int IS NULL OR d.provider_id = $5)
           AND ($4::int IS NULL OR d.allocation_id IN (SELECT id FROM allocations WHERE service_id = $4))) AS delivered,
       (SELECT count(*)::int FROM deliveries d WHERE d.status = 'failed' AND created_at >= lo AND created_at < hi
           AND ($5::int IS NULL OR d.provider_id = $5)
           AND ($4::int IS NULL OR d.allocation_id IN (SELECT id FROM allocations WHERE service_id = $4))) AS failed
       FROM r ORDER BY s`,
    [interval, from, to, filter.serviceId ?? null, filter.providerId ?? null],
  );
  return rows.map((row: { bucket: Date }) => ({ ...row, bucket: row.bucket.toISOString() }));
}

async function countProviders(from: string, to: string) {
  const { rows } = await db.pool.query(
    `SELECT p.id AS "providerId", p.name,
       (SELECT count(*)::int FROM allocations a WHERE a.provider_id = p.id AND allocated_at >= $1 AND allocated_at < $2) AS allocated,
       (SELECT count(*)::int FROM deliveries d WHERE d.provider_id = p.id AND status = 'delivered' AND created_at >= $1 AND created_at < $2) AS delivered,
       (SELECT count(*)::int FROM deliveries d WHERE d.provider_id = p.id AND status = 'rejected' AND created_at >= $1 AND created_at < $2) AS rejected,
       (SELECT count(*)::int FROM deliveries d WHERE d.provider_id = p.id AND status = 'failed' AND created_at >= $1 AND created_at < $2) AS failed,
       (SELECT count(*)::int FROM deliveries d WHERE d.provider_id = p.id AND status = 'pending' AND created_at >= $1 AND created_at < $2) AS pending
       FROM providers p ORDER BY p.id`,
    [from, to],
  );
  return rows;
}

/** Random ranges over the seeded days and past now (crossing the current hour), any filter. */
const ranges = fc.record({
  startAgoMs: fc.integer({ min: 0, max: 4 * DAY }),
  lengthMs: fc.integer({ min: 1, max: 4 * DAY }),
  interval: fc.constantFrom('hour' as const, 'day' as const),
  serviceId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  providerId: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
});

async function expectEqualToCounting(runs: number): Promise<void> {
  const now = Date.now();
  await fc.assert(
    fc.asyncProperty(ranges, async ({ startAgoMs, lengthMs, interval, serviceId, providerId }) => {
      const from = new Date(now - startAgoMs).toISOString();
      const to = new Date(Math.min(now - startAgoMs + lengthMs, now + 2 * HOUR)).toISOString();
      const filter: Filter = {};
      if (serviceId !== undefined) filter.serviceId = serviceId;
      if (providerId !== undefined) filter.providerId = providerId;
      expect(await selectVolume(db.pool, { interval, from, to, ...filter })).toEqual(
        await countVolume(interval, from, to, filter),
      );
      expect(await selectProvidersReport(db.pool, { from, to })).toEqual(
        await countProviders(from, to),
      );
    }),
    { numRuns: runs },
  );
}

describe('report rollup (report_hourly)', () => {
  it('answers exactly what counting rows answers, over random ranges and filters', async () => {
    expect(await refreshReportRollup(db.pool)).toMatchObject({ refreshed: true });
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM report_hourly',
    );
    expect(rows[0]!.n).toBeGreaterThan(90);
    await expectEqualToCounting(60);
  }, 120_000);

  it('catches late status changes in recent hours once the job re-ran', async () => {
    await refreshReportRollup(db.pool);
    // A backlog allocation of a lead from ~10 h ago (allocated now), and a delivery of ~5 h
    // ago that failed and then went through.
    await db.pool.query(
      `WITH lead AS (
         UPDATE leads SET status = 'allocated'
          WHERE id = (SELECT id FROM leads WHERE status = 'unallocated'
                         AND created_at < now() - interval '10 hours' ORDER BY created_at DESC LIMIT 1)
         RETURNING id, service_id)
       INSERT INTO allocations (lead_id, service_id, provider_id, role, allocated_at)
       SELECT id, service_id, 4, 'pool', now() FROM lead`,
    );
    await db.pool.query(
      `UPDATE deliveries SET status = 'delivered'
        WHERE id = (SELECT id FROM deliveries WHERE status = 'failed'
                       AND created_at < now() - interval '5 hours' ORDER BY created_at DESC LIMIT 1)`,
    );
    // Until the job re-runs, the rolled-up hours still hold the old statuses: proof the
    // answer comes from report_hourly and not from counting.
    const from = new Date(Date.now() - DAY).toISOString();
    const to = new Date().toISOString();
    const stale = await selectVolume(db.pool, { interval: 'day', from, to });
    expect(stale).not.toEqual(await countVolume('day', from, to, {}));

    expect(await refreshReportRollup(db.pool)).toMatchObject({ refreshed: true });
    expect(await selectVolume(db.pool, { interval: 'day', from, to })).toEqual(
      await countVolume('day', from, to, {}),
    );
    await expectEqualToCounting(40);
  }, 120_000);

  it('recomputes an hour older than 48 h when a change points at it', async () => {
    await refreshReportRollup(db.pool);
    const from = new Date(Date.now() - 4 * DAY).toISOString();
    const to = new Date(Date.now() - 2 * DAY - 2 * HOUR).toISOString();
    const exact = async () =>
      expect(await selectVolume(db.pool, { interval: 'hour', from, to })).toEqual(
        await countVolume('hour', from, to, {}),
      );
    // An operator re-queues a failed delivery of ~3 days ago (requeueDelivery)...
    const { rows } = await db.pool.query<{ id: string }>(
      `UPDATE deliveries SET status = 'pending'
        WHERE id = (SELECT id FROM deliveries WHERE status = 'failed'
                       AND created_at < now() - interval '3 days' ORDER BY created_at DESC LIMIT 1)
       RETURNING id`,
    );
    await refreshReportRollup(db.pool);
    await exact();
    // ...which then goes through.
    await db.pool.query(`UPDATE deliveries SET status = 'delivered' WHERE id = $1`, [rows[0]!.id]);
    await refreshReportRollup(db.pool);
    await exact();
    // The backlog allocates a lead of ~3 days ago that had a duplicate.
    const { rows: leads } = await db.pool.query<{ id: string }>(
      `SELECT id FROM leads WHERE status = 'unallocated' AND created_at < now() - interval '3 days'
        ORDER BY created_at DESC LIMIT 1`,
    );
    await db.pool.query(
      `UPDATE leads_raw SET lead_id = $1
        WHERE id = (SELECT id FROM leads_raw WHERE status = 'duplicate'
                       AND received_at < now() - interval '3 days' ORDER BY id DESC LIMIT 1)`,
      [leads[0]!.id],
    );
    await refreshReportRollup(db.pool);
    await exact();
    await db.pool.query(
      `WITH lead AS (UPDATE leads SET status = 'allocated' WHERE id = $1 RETURNING id, service_id)
       INSERT INTO allocations (lead_id, service_id, provider_id, role, allocated_at)
       SELECT id, service_id, 7, 'pool', now() FROM lead`,
      [leads[0]!.id],
    );
    const provider7 = async () =>
      [
        await selectVolume(db.pool, { interval: 'hour', from, to, providerId: 7 }),
        await countVolume('hour', from, to, { providerId: 7 }),
      ] as const;
    const [stale, counted] = await provider7();
    expect(stale).not.toEqual(counted);
    await refreshReportRollup(db.pool);
    await exact();
    const [fresh, recounted] = await provider7();
    expect(fresh).toEqual(recounted);
    await expectEqualToCounting(20);
  }, 120_000);

  it('lets one instance refresh at a time: the others skip while the lock is held', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK]);
      expect(await refreshReportRollup(db.pool)).toEqual({ refreshed: false });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await refreshReportRollup(db.pool)).toMatchObject({ refreshed: true });
  });
});
