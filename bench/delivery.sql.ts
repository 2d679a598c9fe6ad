import type pg from 'pg';

/**
 * A UUIDv7 for the `n`-th row, SQL: its time part the start of the statement plus `n` ms, so
 * ids rise with `n` the way the server's do (src/db/ids.ts). Random v4 ids for the backlog
 * scattered every index insertion of the drain over the whole index (and a full-page WAL image
 * per page after the window's CHECKPOINT), which production's time-ordered ids never do.
 */
const uuidv7 = (n: string): string =>
  `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
     placing substring(int8send((extract(epoch FROM now()) * 1000)::bigint + ${n}) FROM 3)
     FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid`;

/**
 * A backlog of `leads` × 3 pending deliveries, written in one statement the way the allocation
 * statement writes them (lead allocated to service 1's P1 + P2, P3, quotas decremented, one
 * delivery per allocation), but due at 'infinity' so no dispatcher touches them until
 * `releaseBacklog`. The run's consistency check holds for them like for any allocation.
 */
export async function insertBacklog(monitor: pg.Client, leads: number): Promise<number> {
  const { rows } = await monitor.query<{ queued: number }>(
    `WITH raw AS (
       INSERT INTO leads_raw (endpoint, sender, request_id, body, status, lead_id)
       SELECT 'request-service', 'bench-backlog', 'backlog-' || g, '\\x7b7d', 'accepted',
              ${uuidv7('g')}
         FROM generate_series(1, $1) AS g
       RETURNING id, lead_id),
     lead AS (
       INSERT INTO leads (id, raw_id, sender, status, service_id, email, first_name, last_name,
                          phone, country, lang, offer)
       SELECT lead_id, id, 'bench-backlog', 'allocated', 1, 'backlog.' || id || '@mail.example.com',
              'Anna', 'Schmidt', '+49 151 10000000', 'DE', 'de', 'offer-1'
         FROM raw
       RETURNING id),
     allocated AS (
       INSERT INTO allocations (lead_id, service_id, provider_id, role)
       SELECT lead.id, 1, picked.provider_id, picked.role
         FROM lead CROSS JOIN (VALUES (1, 'static'), (2, 'pool'), (3, 'pool'))
                              AS picked (provider_id, role)
       RETURNING id, lead_id, provider_id),
     queued AS (
       INSERT INTO deliveries (id, lead_id, provider_id, allocation_id, next_attempt_at)
       SELECT ${uuidv7('row_number() OVER (ORDER BY id)')}, lead_id, provider_id, id, 'infinity'
         FROM allocated
       RETURNING 1),
     quota AS (
       UPDATE providers SET remaining_quota = remaining_quota - $1, updated_at = now()
        WHERE id IN (1, 2, 3)
       RETURNING 1)
     SELECT (SELECT count(*)::int FROM queued) AS queued, (SELECT count(*) FROM quota)`,
    [leads],
  );
  return rows[0]!.queued;
}

/** Makes the backlog due now, in one commit; returns the commit's wall-clock ms. */
export async function releaseBacklog(monitor: pg.Client): Promise<number> {
  await monitor.query(
    `UPDATE deliveries SET next_attempt_at = now()
      WHERE status = 'pending' AND next_attempt_at = 'infinity'`,
  );
  return performance.timeOrigin + performance.now();
}

export async function pendingDeliveries(monitor: pg.Client): Promise<number> {
  const { rows } = await monitor.query<{ pending: number }>(
    `SELECT count(*)::int AS pending FROM deliveries WHERE status = 'pending'`,
  );
  return rows[0]!.pending;
}

const CHUNK = 5000;

/** Delivery id → its allocation's time (allocated_at, the allocation transaction's now()), ms. */
export async function allocationTimes(
  monitor: pg.Client,
  deliveryIds: string[],
): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (let from = 0; from < deliveryIds.length; from += CHUNK) {
    const { rows } = await monitor.query<{ id: string; at: number }>(
      `SELECT d.id, extract(epoch FROM a.allocated_at)::float8 * 1000 AS at
         FROM deliveries d JOIN allocations a ON a.id = d.allocation_id
        WHERE d.id = ANY($1::uuid[])`,
      [deliveryIds.slice(from, from + CHUNK)],
    );
    for (const row of rows) times.set(row.id, row.at);
  }
  return times;
}
