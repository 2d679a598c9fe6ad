import type { ProviderReportRow, ReportInterval, VolumeBucket } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';

export interface VolumeFilter {
  interval: ReportInterval;
  from: string;
  to: string;
  serviceId?: number | undefined;
  providerId?: number | undefined;
}

interface VolumeCounts {
  leads: number;
  allocated: number;
  unallocated: number;
  duplicates: number;
  delivered: number;
  failed: number;
}

interface Span {
  from: string;
  to: string;
}

/**
 * Splits [from, to) into the complete UTC hours report_hourly holds (migration 0014, filled by
 * the job in rollup.sql.ts) and the edges around them, counted live: the partial first hour,
 * and everything from the last rolled-up hour on (the current hour). Without a rollup state
 * (the job has not run yet) the whole range is live.
 */
async function splitRange(
  pool: Pool,
  from: string,
  to: string,
): Promise<{ rolled: Span | null; live: Span[] }> {
  const { rows } = await pool.query<{ rolled_from: Date; rolled_to: Date }>(
    `SELECT greatest(CASE WHEN date_trunc('hour', $1::timestamptz, 'UTC') = $1::timestamptz
                          THEN $1::timestamptz
                          ELSE date_trunc('hour', $1::timestamptz, 'UTC') + interval '1 hour' END,
                     complete_from) AS rolled_from,
            least(date_trunc('hour', $2::timestamptz, 'UTC'), complete_to) AS rolled_to
       FROM report_rollup_state`,
    [from, to],
  );
  const row = rows[0];
  if (!row || row.rolled_from >= row.rolled_to) return { rolled: null, live: [{ from, to }] };
  const rolled = { from: row.rolled_from.toISOString(), to: row.rolled_to.toISOString() };
  const live: Span[] = [];
  if (Date.parse(from) < row.rolled_from.getTime()) live.push({ from, to: rolled.from });
  if (row.rolled_to.getTime() < Date.parse(to)) live.push({ from: rolled.to, to });
  return { rolled, live };
}

/**
 * Live counts per bucket in one span, straight from the tables. Each part reads one index and
 * never the table (migration 0009): leads by created_at with status and service_id, duplicates
 * by received_at, deliveries by created_at with provider and status. A provider or service
 * filter adds a probe per row of the unique (lead_id, provider_id) index or the allocations key.
 */
async function countVolumeLive(
  pool: Pool,
  filter: VolumeFilter,
  span: Span,
): Promise<Map<number, VolumeCounts>> {
  const params = [
    filter.interval,
    span.from,
    span.to,
    filter.serviceId ?? null,
    filter.providerId ?? null,
  ];
  // Three statements on three connections at once: each scans its own index, so the answer
  // takes as long as the largest part instead of the sum of all three.
  const [leads, duplicates, deliveries] = await Promise.all([
    pool.query<{ bucket: Date; leads: number; allocated: number; unallocated: number }>(
      `SELECT date_trunc($1, l.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
              count(*)::int AS leads,
              count(*) FILTER (WHERE l.status = 'allocated')::int AS allocated,
              count(*) FILTER (WHERE l.status = 'unallocated')::int AS unallocated
         FROM leads l
        WHERE l.created_at >= $2 AND l.created_at < $3
          AND ($4::int IS NULL OR l.service_id = $4)
          AND ($5::int IS NULL OR EXISTS (
                SELECT 1 FROM allocations a WHERE a.lead_id = l.id AND a.provider_id = $5))
        GROUP BY 1`,
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
  const counts = new Map<number, VolumeCounts>();
  const at = (bucket: Date): VolumeCounts => {
    const key = bucket.getTime();
    let entry = counts.get(key);
    if (!entry) {
      entry = { leads: 0, allocated: 0, unallocated: 0, duplicates: 0, delivered: 0, failed: 0 };
      counts.set(key, entry);
    }
    return entry;
  };
  for (const row of leads.rows) {
    const entry = at(row.bucket);
    entry.leads += row.leads;
    entry.allocated += row.allocated;
    entry.unallocated += row.unallocated;
  }
  for (const row of duplicates.rows) at(row.bucket).duplicates += row.duplicates;
  for (const row of deliveries.rows) {
    const entry = at(row.bucket);
    entry.delivered += row.delivered;
    entry.failed += row.failed;
  }
  return counts;
}

/**
 * Counts per UTC hour or day, every bucket of the range present (zeros included) so a chart
 * has no gaps. Buckets are cut in UTC wall time by PostgreSQL (`date_trunc` over
 * `AT TIME ZONE 'UTC'`), whatever the session's time zone.
 *
 * Complete hours come from report_hourly (a day sums its hours), the partial edges are
 * counted live, so the answer equals counting rows while reading ~1 row per hour, service
 * and provider instead of every lead (issue 14: 30 days of 1M leads took ~1 s counted).
 */
export async function selectVolume(pool: Pool, filter: VolumeFilter): Promise<VolumeBucket[]> {
  const { rolled, live } = await splitRange(pool, filter.from, filter.to);
  const [buckets, ...edges] = await Promise.all([
    // The skeleton of every bucket, with the rollup's sums where it covers the hours. Without
    // a provider filter the lead counts are the provider_id = 0 rows (each lead once) and the
    // deliveries the sum of every provider's rows.
    pool.query<{ bucket: Date } & VolumeCounts>(
      `WITH buckets AS (
         SELECT step AS bucket
           FROM generate_series(date_trunc($1, $2::timestamptz AT TIME ZONE 'UTC'),
                                $3::timestamptz AT TIME ZONE 'UTC',
                                make_interval(hours => CASE WHEN $1 = 'hour' THEN 1 ELSE 24 END)) AS step
          WHERE step < $3::timestamptz AT TIME ZONE 'UTC'
       ),
       rolled AS (
         SELECT date_trunc($1, r.bucket AT TIME ZONE 'UTC') AS bucket,
                sum(r.leads) FILTER (WHERE r.provider_id = coalesce($5::int, 0))::int AS leads,
                sum(r.allocated) FILTER (WHERE r.provider_id = coalesce($5::int, 0))::int AS allocated,
                sum(r.unallocated) FILTER (WHERE r.provider_id = coalesce($5::int, 0))::int AS unallocated,
                sum(r.duplicates) FILTER (WHERE r.provider_id = coalesce($5::int, 0))::int AS duplicates,
                sum(r.delivered)::int AS delivered,
                sum(r.failed)::int AS failed
           FROM report_hourly r
          WHERE r.bucket >= $6 AND r.bucket < $7
            AND ($4::int IS NULL OR r.service_id = $4)
            AND ($5::int IS NULL OR r.provider_id = $5)
          GROUP BY 1
       )
       SELECT b.bucket AT TIME ZONE 'UTC' AS bucket,
              coalesce(r.leads, 0) AS leads,
              coalesce(r.allocated, 0) AS allocated,
              coalesce(r.unallocated, 0) AS unallocated,
              coalesce(r.duplicates, 0) AS duplicates,
              coalesce(r.delivered, 0) AS delivered,
              coalesce(r.failed, 0) AS failed
         FROM buckets b
         LEFT JOIN rolled r ON r.bucket = b.bucket
        ORDER BY b.bucket`,
      [
        filter.interval,
        filter.from,
        filter.to,
        filter.serviceId ?? null,
        filter.providerId ?? null,
        rolled?.from ?? filter.from,
        rolled?.to ?? filter.from,
      ],
    ),
    ...live.map((span) => countVolumeLive(pool, filter, span)),
  ]);
  return buckets.rows.map((row) => {
    const counts = { ...row };
    for (const edge of edges) {
      const extra = edge.get(row.bucket.getTime());
      if (!extra) continue;
      counts.leads += extra.leads;
      counts.allocated += extra.allocated;
      counts.unallocated += extra.unallocated;
      counts.duplicates += extra.duplicates;
      counts.delivered += extra.delivered;
      counts.failed += extra.failed;
    }
    return {
      bucket: row.bucket.toISOString(),
      leads: counts.leads,
      allocated: counts.allocated,
      unallocated: counts.unallocated,
      duplicates: counts.duplicates,
      delivered: counts.delivered,
      failed: counts.failed,
    };
  });
}

type ProviderCounts = Omit<ProviderReportRow, 'providerId' | 'name'>;

/** Live per-provider counts in one span: both parts are index-only scans (migration 0009). */
async function countProvidersLive(pool: Pool, span: Span): Promise<Map<number, ProviderCounts>> {
  const { rows } = await pool.query<{ providerId: number } & ProviderCounts>(
    `WITH allocated AS (
       SELECT provider_id, count(*)::int AS allocated
         FROM allocations
        WHERE allocated_at >= $1 AND allocated_at < $2
        GROUP BY provider_id
     ),
     delivered AS (
       SELECT provider_id,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM deliveries
        WHERE created_at >= $1 AND created_at < $2
        GROUP BY provider_id
     )
     SELECT coalesce(a.provider_id, d.provider_id) AS "providerId",
            coalesce(a.allocated, 0) AS allocated,
            coalesce(d.delivered, 0) AS delivered,
            coalesce(d.rejected, 0) AS rejected,
            coalesce(d.failed, 0) AS failed,
            coalesce(d.pending, 0) AS pending
       FROM allocated a FULL JOIN delivered d ON d.provider_id = a.provider_id`,
    [span.from, span.to],
  );
  return new Map(rows.map(({ providerId, ...counts }) => [providerId, counts]));
}

/**
 * Per provider (every one, zeros included): allocations made in the range, and the outcome so
 * far of the deliveries created in it; complete hours from report_hourly, the edges live.
 * Without `from`, the range starts at the beginning of `to`'s UTC day.
 */
export async function selectProvidersReport(
  pool: Pool,
  range: { from?: string | undefined; to: string },
): Promise<ProviderReportRow[]> {
  const from =
    range.from ??
    (
      await pool.query<{ at: Date }>(`SELECT date_trunc('day', $1::timestamptz, 'UTC') AS at`, [
        range.to,
      ])
    ).rows[0]!.at.toISOString();
  const { rolled, live } = await splitRange(pool, from, range.to);
  const [providers, ...edges] = await Promise.all([
    pool.query<ProviderReportRow>(
      `WITH rolled AS (
         SELECT provider_id,
                sum(allocations)::int AS allocated,
                sum(delivered)::int AS delivered,
                sum(rejected)::int AS rejected,
                sum(failed)::int AS failed,
                sum(pending)::int AS pending
           FROM report_hourly
          WHERE bucket >= $1 AND bucket < $2 AND provider_id > 0
          GROUP BY provider_id
       )
       SELECT p.id AS "providerId", p.name,
              coalesce(r.allocated, 0) AS allocated,
              coalesce(r.delivered, 0) AS delivered,
              coalesce(r.rejected, 0) AS rejected,
              coalesce(r.failed, 0) AS failed,
              coalesce(r.pending, 0) AS pending
         FROM providers p
         LEFT JOIN rolled r ON r.provider_id = p.id
        ORDER BY p.id`,
      [rolled?.from ?? from, rolled?.to ?? from],
    ),
    ...live.map((span) => countProvidersLive(pool, span)),
  ]);
  return providers.rows.map((row) => {
    const counts = { ...row };
    for (const edge of edges) {
      const extra = edge.get(row.providerId);
      if (!extra) continue;
      counts.allocated += extra.allocated;
      counts.delivered += extra.delivered;
      counts.rejected += extra.rejected;
      counts.failed += extra.failed;
      counts.pending += extra.pending;
    }
    return counts;
  });
}
