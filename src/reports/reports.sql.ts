import type { ProviderReportRow, ReportInterval, VolumeBucket } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';

export interface VolumeFilter {
  interval: ReportInterval;
  from: string;
  to: string;
  serviceId?: number | undefined;
  providerId?: number | undefined;
}

interface VolumeRow {
  bucket: Date;
  leads: number;
  allocated: number;
  unallocated: number;
  duplicates: number;
  delivered: number;
  failed: number;
}

/**
 * Counts per UTC hour or day, every bucket of the range present (zeros included) so a chart
 * has no gaps. Buckets are cut in UTC wall time by PostgreSQL (`date_trunc` over
 * `AT TIME ZONE 'UTC'`), whatever the session's time zone: half the CPU per row of
 * `date_trunc(…, 'UTC')`, which converts through the zone rules for every row.
 *
 * Each part reads one index and never the table (migration 0009): leads by created_at with
 * status and service_id, duplicates by received_at, deliveries by created_at with provider and
 * status. A provider or service filter adds a probe per row of the unique
 * (lead_id, provider_id) index or the allocations key.
 */
export async function selectVolume(pool: Pool, filter: VolumeFilter): Promise<VolumeBucket[]> {
  const params = [
    filter.interval,
    filter.from,
    filter.to,
    filter.serviceId ?? null,
    filter.providerId ?? null,
  ];
  // Three statements on three connections at once: each scans its own index, so the answer
  // takes as long as the largest part instead of the sum of all three.
  const [leads, duplicates, deliveries] = await Promise.all([
    pool.query<Omit<VolumeRow, 'duplicates' | 'delivered' | 'failed'>>(
      `WITH buckets AS (
         SELECT step AS bucket
           FROM generate_series(date_trunc($1, $2::timestamptz AT TIME ZONE 'UTC'),
                                $3::timestamptz AT TIME ZONE 'UTC',
                                make_interval(hours => CASE WHEN $1 = 'hour' THEN 1 ELSE 24 END)) AS step
          WHERE step < $3::timestamptz AT TIME ZONE 'UTC'
       ),
       lead_counts AS (
         SELECT date_trunc($1, l.created_at AT TIME ZONE 'UTC') AS bucket,
                count(*)::int AS leads,
                count(*) FILTER (WHERE l.status = 'allocated')::int AS allocated,
                count(*) FILTER (WHERE l.status = 'unallocated')::int AS unallocated
           FROM leads l
          WHERE l.created_at >= $2 AND l.created_at < $3
            AND ($4::int IS NULL OR l.service_id = $4)
            AND ($5::int IS NULL OR EXISTS (
                  SELECT 1 FROM allocations a WHERE a.lead_id = l.id AND a.provider_id = $5))
          GROUP BY 1
       )
       SELECT b.bucket AT TIME ZONE 'UTC' AS bucket,
              coalesce(lc.leads, 0) AS leads,
              coalesce(lc.allocated, 0) AS allocated,
              coalesce(lc.unallocated, 0) AS unallocated
         FROM buckets b
         LEFT JOIN lead_counts lc ON lc.bucket = b.bucket
        ORDER BY b.bucket`,
      params,
    ),
    pool.query<{ bucket: Date; duplicates: number }>(
      `SELECT date_trunc($1, r.received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
              count(*)::int AS duplicates
         FROM leads_raw r
        WHERE r.status = 'duplicate' AND r.received_at >= $2 AND r.received_at < $3
          AND ($4::int IS NULL OR EXISTS (
                SELECT 1 FROM leads l WHERE l.id = r.lead_id AND l.service_id = $4))
          AND ($5::int IS NULL OR EXISTS (
                SELECT 1 FROM allocations a WHERE a.lead_id = r.lead_id AND a.provider_id = $5))
        GROUP BY 1`,
      params,
    ),
    pool.query<{ bucket: Date; delivered: number; failed: number }>(
      `SELECT date_trunc($1, d.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
              count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE d.status = 'failed')::int AS failed
         FROM deliveries d
        WHERE d.created_at >= $2 AND d.created_at < $3
          AND ($5::int IS NULL OR d.provider_id = $5)
          AND ($4::int IS NULL OR EXISTS (
                SELECT 1 FROM allocations a WHERE a.id = d.allocation_id AND a.service_id = $4))
        GROUP BY 1`,
      params,
    ),
  ]);
  const duplicatesAt = new Map(
    duplicates.rows.map((row) => [row.bucket.getTime(), row.duplicates]),
  );
  const deliveriesAt = new Map(deliveries.rows.map((row) => [row.bucket.getTime(), row]));
  return leads.rows.map((row) => {
    const at = row.bucket.getTime();
    return {
      bucket: row.bucket.toISOString(),
      leads: row.leads,
      allocated: row.allocated,
      unallocated: row.unallocated,
      duplicates: duplicatesAt.get(at) ?? 0,
      delivered: deliveriesAt.get(at)?.delivered ?? 0,
      failed: deliveriesAt.get(at)?.failed ?? 0,
    };
  });
}

/**
 * Per provider (every one, zeros included): allocations made in the range, and the outcome so
 * far of the deliveries created in it. Both parts are index-only scans (migration 0009).
 * Without `from`, the range starts at the beginning of `to`'s UTC day.
 */
export async function selectProvidersReport(
  pool: Pool,
  range: { from?: string | undefined; to: string },
): Promise<ProviderReportRow[]> {
  const { rows } = await pool.query<ProviderReportRow>(
    `WITH range AS (
       SELECT coalesce($1::timestamptz, date_trunc('day', $2::timestamptz, 'UTC')) AS from_at,
              $2::timestamptz AS to_at
     ),
     allocated AS (
       SELECT provider_id, count(*)::int AS allocated
         FROM allocations, range
        WHERE allocated_at >= range.from_at AND allocated_at < range.to_at
        GROUP BY provider_id
     ),
     delivered AS (
       SELECT provider_id,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM deliveries, range
        WHERE created_at >= range.from_at AND created_at < range.to_at
        GROUP BY provider_id
     )
     SELECT p.id AS "providerId", p.name,
            coalesce(a.allocated, 0) AS allocated,
            coalesce(d.delivered, 0) AS delivered,
            coalesce(d.rejected, 0) AS rejected,
            coalesce(d.failed, 0) AS failed,
            coalesce(d.pending, 0) AS pending
       FROM providers p
       LEFT JOIN allocated a ON a.provider_id = p.id
       LEFT JOIN delivered d ON d.provider_id = p.id
      ORDER BY p.id`,
    [range.from ?? null, range.to],
  );
  return rows;
}
