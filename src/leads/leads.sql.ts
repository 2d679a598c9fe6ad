import type {
  Lead,
  LeadStatus,
  LeadSummary,
  RawRequest,
  RawStatus,
  Stats,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';

export interface LeadListFilter {
  status?: LeadStatus;
  q?: string;
  cursor?: { createdAt: string; id: string };
  limit: number;
}

interface LeadSummaryRow {
  id: string;
  status: LeadStatus;
  service_id: number | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  country: string | null;
  idempotency_key: string | null;
  created_at: Date;
}

/**
 * The hex digits of `q` when it can be the tail of a lead id: lists show a lead by the last
 * 8 digits of its id (SPEC §11), because the first ones are a UUIDv7 timestamp that every
 * lead of the same minute shares.
 */
function idSuffixOf(q: string | undefined): string | null {
  if (!q || !/^[0-9a-f-]+$/i.test(q)) return null;
  const digits = q.replaceAll('-', '').toLowerCase();
  return digits.length >= 8 && digits.length <= 32 ? digits : null;
}

/**
 * Newest first, keyset-paged on (created_at, id) so deep pages stay as cheap as the first.
 * A search already walks the rows newest first (the `%q%` patterns use no index), so the
 * right-anchored id match adds a string compare per row, not another scan.
 */
export async function selectLeads(pool: Pool, filter: LeadListFilter): Promise<LeadSummary[]> {
  const pattern = filter.q ? `%${filter.q.replace(/[\\%_]/g, (match) => `\\${match}`)}%` : null;
  const { rows } = await pool.query<LeadSummaryRow>(
    `SELECT id, status, service_id, email, phone, first_name, last_name, country, idempotency_key, created_at
       FROM leads
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR email ILIKE $2 OR phone ILIKE $2 OR first_name ILIKE $2
             OR last_name ILIKE $2 OR (first_name || ' ' || last_name) ILIKE $2 OR id::text = $5
             OR replace(id::text, '-', '') LIKE '%' || $7)
        AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $6`,
    [
      filter.status ?? null,
      pattern,
      filter.cursor?.createdAt ?? null,
      filter.cursor?.id ?? null,
      filter.q ?? null,
      filter.limit,
      idSuffixOf(filter.q),
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    serviceId: row.service_id,
    email: row.email,
    phone: row.phone,
    firstName: row.first_name,
    lastName: row.last_name,
    country: row.country,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at.toISOString(),
  }));
}

/** The lead and its raw request; the route adds allocations and events. */
export interface LeadWithRequest {
  lead: Lead;
  raw: RawRequest | null;
  /** Raw rows of later requests that carried the same key. */
  duplicates: number;
}

export async function selectLeadDetail(pool: Pool, id: string): Promise<LeadWithRequest | null> {
  const { rows } = await pool.query<Omit<Lead, 'createdAt'> & { createdAt: Date }>(
    `SELECT id, raw_id AS "rawId", sender, idempotency_key AS "idempotencyKey", status,
            service_id AS "serviceId", created_at AS "createdAt", extra,
            click_id AS "clickId", country, creo, description, domain, email,
            first_name AS "firstName", ip, lang, last_name AS "lastName", marker, offer, phone,
            sourcetype
       FROM leads WHERE id = $1`,
    [id],
  );
  const lead = rows[0];
  if (!lead) return null;
  const raw = await pool.query<{
    id: number;
    endpoint: string;
    request_id: string;
    idempotency_key: string | null;
    received_at: Date;
    content_type: string | null;
    remote_addr: string | null;
    headers: Record<string, string>;
    body: Buffer;
    status: RawStatus;
    error: string | null;
  }>(
    `SELECT id, endpoint, request_id, idempotency_key, received_at, content_type, remote_addr, headers, body, status, error
       FROM leads_raw WHERE id = $1`,
    [lead.rawId],
  );
  const duplicates = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM leads_raw WHERE lead_id = $1 AND status = 'duplicate'`,
    [id],
  );
  const rawRow = raw.rows[0];
  return {
    lead: { ...lead, createdAt: lead.createdAt.toISOString() },
    raw: rawRow
      ? {
          id: rawRow.id,
          endpoint: rawRow.endpoint,
          requestId: rawRow.request_id,
          idempotencyKey: rawRow.idempotency_key,
          receivedAt: rawRow.received_at.toISOString(),
          contentType: rawRow.content_type,
          remoteAddr: rawRow.remote_addr,
          headers: rawRow.headers,
          status: rawRow.status,
          error: rawRow.error,
          bodyBase64: rawRow.body.toString('base64'),
          bodyBytes: rawRow.body.length,
        }
      : null,
    duplicates: duplicates.rows[0]?.count ?? 0,
  };
}

const RATE_WINDOW_SECONDS = 60;

export async function selectStats(pool: Pool): Promise<Stats> {
  const [leads, raw, recent] = await Promise.all([
    pool.query<{ status: LeadStatus; count: number; today: number }>(
      `SELECT status, count(*)::int AS count,
              count(*) FILTER (WHERE created_at >= date_trunc('day', now()))::int AS today
         FROM leads GROUP BY status`,
    ),
    pool.query<{ status: RawStatus; count: number }>(
      `SELECT status, count(*)::int AS count FROM leads_raw GROUP BY status`,
    ),
    pool.query<{ leads: number; allocations: number; total_allocations: number }>(
      `SELECT (SELECT count(*)::int FROM leads WHERE created_at > now() - make_interval(secs => $1)) AS leads,
              (SELECT count(DISTINCT lead_id)::int FROM allocations
                WHERE allocated_at > now() - make_interval(secs => $1)) AS allocations,
              (SELECT count(DISTINCT lead_id)::int FROM allocations) AS total_allocations`,
      [RATE_WINDOW_SECONDS],
    ),
  ]);
  const recentRow = recent.rows[0]!;
  return {
    leads: Object.fromEntries(leads.rows.map((row) => [row.status, row.count])),
    leadsToday: leads.rows.reduce((sum, row) => sum + row.today, 0),
    raw: Object.fromEntries(raw.rows.map((row) => [row.status, row.count])),
    allocations: recentRow.total_allocations,
    rates: {
      leadsPerSecond: Math.round((recentRow.leads / RATE_WINDOW_SECONDS) * 100) / 100,
      allocationsPerSecond: Math.round((recentRow.allocations / RATE_WINDOW_SECONDS) * 100) / 100,
      windowSeconds: RATE_WINDOW_SECONDS,
    },
  };
}
