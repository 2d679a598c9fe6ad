import type { Pool } from '../db/pool.js';

/** Key of the transaction-scoped advisory lock one instance holds while it refreshes. */
export const ROLLUP_LOCK = 7264231014;

/** Recomputes report_hourly's rows for [$1, $2) from the tables ($1, $2 on hour boundaries). */
const RECOMPUTE = `INSERT INTO report_hourly (bucket, service_id, provider_id, leads, allocated, unallocated,
                                  duplicates, allocations, delivered, rejected, failed, pending)
       SELECT bucket AT TIME ZONE 'UTC', service_id, provider_id, sum(leads), sum(allocated),
              sum(unallocated), sum(duplicates), sum(allocations), sum(delivered), sum(rejected),
              sum(failed), sum(pending)
         FROM (
           -- Leads whatever their providers: each lead once.
           SELECT date_trunc('hour', l.created_at AT TIME ZONE 'UTC') AS bucket,
                  coalesce(l.service_id, 0) AS service_id, 0 AS provider_id,
                  count(*) AS leads,
                  count(*) FILTER (WHERE l.status = 'allocated') AS allocated,
                  count(*) FILTER (WHERE l.status = 'unallocated') AS unallocated,
                  0 AS duplicates, 0 AS allocations, 0 AS delivered, 0 AS rejected,
                  0 AS failed, 0 AS pending
             FROM leads l
            WHERE l.created_at >= $1 AND l.created_at < $2
            GROUP BY 1, 2
           UNION ALL
           -- Leads per provider they are allocated to: (lead_id, provider_id) is unique.
           SELECT date_trunc('hour', l.created_at AT TIME ZONE 'UTC'), coalesce(l.service_id, 0),
                  a.provider_id, count(*),
                  count(*) FILTER (WHERE l.status = 'allocated'),
                  count(*) FILTER (WHERE l.status = 'unallocated'),
                  0, 0, 0, 0, 0, 0
             FROM leads l JOIN allocations a ON a.lead_id = l.id
            WHERE l.created_at >= $1 AND l.created_at < $2
            GROUP BY 1, 2, 3
           UNION ALL
           -- Duplicates by the time they came in, keyed by their lead's service...
           SELECT date_trunc('hour', r.received_at AT TIME ZONE 'UTC'),
                  coalesce(l.service_id, 0), 0, 0, 0, 0, count(*), 0, 0, 0, 0, 0
             FROM leads_raw r LEFT JOIN leads l ON l.id = r.lead_id
            WHERE r.status = 'duplicate' AND r.received_at >= $1 AND r.received_at < $2
            GROUP BY 1, 2
           UNION ALL
           -- ...and once per provider their lead is allocated to.
           SELECT date_trunc('hour', r.received_at AT TIME ZONE 'UTC'),
                  coalesce(l.service_id, 0), a.provider_id, 0, 0, 0, count(*), 0, 0, 0, 0, 0
             FROM leads_raw r
             JOIN allocations a ON a.lead_id = r.lead_id
             LEFT JOIN leads l ON l.id = r.lead_id
            WHERE r.status = 'duplicate' AND r.received_at >= $1 AND r.received_at < $2
            GROUP BY 1, 2, 3
           UNION ALL
           SELECT date_trunc('hour', a.allocated_at AT TIME ZONE 'UTC'),
                  coalesce(a.service_id, 0), a.provider_id, 0, 0, 0, 0, count(*), 0, 0, 0, 0
             FROM allocations a
            WHERE a.allocated_at >= $1 AND a.allocated_at < $2
            GROUP BY 1, 2, 3
           UNION ALL
           SELECT date_trunc('hour', d.created_at AT TIME ZONE 'UTC'),
                  coalesce(a.service_id, 0), d.provider_id, 0, 0, 0, 0, 0,
                  count(*) FILTER (WHERE d.status = 'delivered'),
                  count(*) FILTER (WHERE d.status = 'rejected'),
                  count(*) FILTER (WHERE d.status = 'failed'),
                  count(*) FILTER (WHERE d.status = 'pending')
             FROM deliveries d LEFT JOIN allocations a ON a.id = d.allocation_id
            WHERE d.created_at >= $1 AND d.created_at < $2
            GROUP BY 1, 2, 3
         ) AS parts
        GROUP BY 1, 2, 3`;

export interface RollupRefresh {
  /** false when another instance held the lock: it is refreshing the same hours. */
  refreshed: boolean;
  from?: Date;
  to?: Date;
}

/**
 * Recomputes report_hourly (migration 0014) for complete UTC hours: the first time from the
 * earliest row of the counted tables, then the last `recentHours` hours and any hour that
 * completed since the previous run. Each hour is recomputed fully from the tables (DELETE then
 * INSERT in one transaction), so a rerun is idempotent and late status changes — a backlog
 * allocation, a delivery finishing — are caught while their hour is recent. Older hours are
 * recomputed when a sign of change points at them (a pending delivery, an allocation made
 * since the previous run), so they stay exact too without rescanning all history.
 *
 * Every instance may call it; pg_try_advisory_xact_lock lets one win and the others skip
 * instead of queueing behind it to redo the same work.
 */
export async function refreshReportRollup(pool: Pool, recentHours = 48): Promise<RollupRefresh> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows: locked } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS ok',
      [ROLLUP_LOCK],
    );
    if (!locked[0]!.ok) {
      await client.query('ROLLBACK');
      return { refreshed: false };
    }
    const { rows: states } = await client.query<{
      complete_from: Date;
      refreshed_at: Date;
    }>('SELECT complete_from, refreshed_at FROM report_rollup_state');
    const state = states[0];
    // now() is the transaction's start: the hours before it are complete by the clock.
    const { rows } = await client.query<{ from_at: Date; to_at: Date }>(
      `WITH state AS (SELECT complete_from, complete_to FROM report_rollup_state),
            horizon AS (SELECT date_trunc('hour', now(), 'UTC') AS to_at),
            earliest AS (
              SELECT date_trunc('hour', min(t), 'UTC') AS at FROM (
                SELECT min(created_at) AS t FROM leads
                UNION ALL SELECT min(received_at) FROM leads_raw WHERE status = 'duplicate'
                UNION ALL SELECT min(allocated_at) FROM allocations
                UNION ALL SELECT min(created_at) FROM deliveries) AS firsts)
       SELECT CASE WHEN EXISTS (SELECT 1 FROM state)
                   THEN (SELECT greatest(s.complete_from,
                                         least(s.complete_to, h.to_at - make_interval(hours => $1)))
                           FROM state s)
                   ELSE least(h.to_at, coalesce((SELECT at FROM earliest), h.to_at))
              END AS from_at,
              h.to_at
         FROM horizon h`,
      [recentHours],
    );
    const { from_at: from, to_at: to } = rows[0]!;
    await client.query('DELETE FROM report_hourly WHERE bucket >= $1 AND bucket < $2', [from, to]);
    await client.query(RECOMPUTE, [from, to]);
    // Older hours whose counts may have moved since they were rolled up: a delivery pending
    // there (an operator re-queued a failed one) or pending in the rollup (it settled since),
    // and the hours of the leads allocated since the previous run (backlog, manual allocation)
    // and of their duplicates (the provider filter counts those). The 5 minutes cover a
    // transaction that was in flight when the previous run took its snapshot.
    const { rows: unsettled } = await client.query<{ hour: Date }>(
      `SELECT DISTINCT date_trunc('hour', t, 'UTC') AS hour FROM (
         SELECT created_at AS t FROM deliveries WHERE status = 'pending'
         UNION ALL SELECT bucket FROM report_hourly WHERE pending > 0
         UNION ALL
         SELECT l.created_at FROM allocations a JOIN leads l ON l.id = a.lead_id
          WHERE a.allocated_at >= $3::timestamptz - interval '5 minutes'
         UNION ALL
         SELECT r.received_at FROM allocations a
           JOIN leads_raw r ON r.lead_id = a.lead_id AND r.status = 'duplicate'
          WHERE a.allocated_at >= $3::timestamptz - interval '5 minutes') AS changed
        WHERE t >= $1 AND t < $2
        ORDER BY 1`,
      [state?.complete_from ?? from, from, state?.refreshed_at ?? to],
    );
    for (const { hour } of unsettled) {
      const next = new Date(hour.getTime() + 3_600_000);
      await client.query('DELETE FROM report_hourly WHERE bucket >= $1 AND bucket < $2', [
        hour,
        next,
      ]);
      await client.query(RECOMPUTE, [hour, next]);
    }
    await client.query(
      `INSERT INTO report_rollup_state (complete_from, complete_to) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET complete_to = $2, refreshed_at = now()`,
      [from, to],
    );
    await client.query('COMMIT');
    return { refreshed: true, from, to };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
