import type { PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import {
  LEAD_COLUMNS,
  rawRequest,
  type Lead,
  type LeadFilter,
  type LeadStatus,
  type LeadSummary,
  type RawRequest,
  type RawRequestDetail,
  type RawRequestSummary,
  type RawStatus,
  type Stats,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';

export interface LeadListFilter extends LeadFilter {
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
 * The WHERE conditions of SPEC §11's lead filters over `leads AS l`, one placeholder per value
 * pushed onto `params` (never spliced into the text). The list and the export share them, so
 * an export holds exactly the rows the list showed.
 */
function leadConditions(filter: LeadFilter, params: unknown[]): string[] {
  const placeholder = (value: unknown): string => `$${params.push(value)}`;
  const conditions: string[] = [];
  if (filter.status) conditions.push(`l.status = ${placeholder(filter.status)}`);
  if (filter.serviceId) conditions.push(`l.service_id = ${placeholder(filter.serviceId)}`);
  if (filter.providerId) {
    // The (lead_id, provider_id) unique index answers this per lead.
    conditions.push(
      `EXISTS (SELECT 1 FROM allocations a WHERE a.lead_id = l.id AND a.provider_id = ${placeholder(filter.providerId)})`,
    );
  }
  if (filter.country) conditions.push(`upper(l.country) = upper(${placeholder(filter.country)})`);
  if (filter.from) conditions.push(`l.created_at >= ${placeholder(filter.from)}::timestamptz`);
  if (filter.to) conditions.push(`l.created_at < ${placeholder(filter.to)}::timestamptz`);
  if (filter.q) {
    // A search walks the rows newest first anyway (the `%q%` patterns use no index), so each
    // alternative adds a compare per row, not another scan.
    const pattern = placeholder(`%${filter.q.replace(/[\\%_]/g, (match) => `\\${match}`)}%`);
    const exact = placeholder(filter.q);
    const alternatives = [
      `l.email ILIKE ${pattern}`,
      `l.phone ILIKE ${pattern}`,
      `l.first_name ILIKE ${pattern}`,
      `l.last_name ILIKE ${pattern}`,
      `(l.first_name || ' ' || l.last_name) ILIKE ${pattern}`,
      `l.idempotency_key = ${exact}`,
      `l.id::text = ${exact}`,
    ];
    const suffix = idSuffixOf(filter.q);
    if (suffix)
      alternatives.push(`replace(l.id::text, '-', '') LIKE '%' || ${placeholder(suffix)}`);
    conditions.push(`(${alternatives.join(' OR ')})`);
  }
  return conditions;
}

function whereClause(conditions: string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** Newest first, keyset-paged on (created_at, id) so deep pages stay as cheap as the first. */
export async function selectLeads(pool: Pool, filter: LeadListFilter): Promise<LeadSummary[]> {
  const params: unknown[] = [];
  const conditions = leadConditions(filter, params);
  if (filter.cursor) {
    conditions.push(
      `(l.created_at, l.id) < ($${params.push(filter.cursor.createdAt)}::timestamptz, $${params.push(filter.cursor.id)}::uuid)`,
    );
  }
  const { rows } = await pool.query<LeadSummaryRow>(
    `SELECT l.id, l.status, l.service_id, l.email, l.phone, l.first_name, l.last_name, l.country,
            l.idempotency_key, l.created_at
       FROM leads l
       ${whereClause(conditions)}
      ORDER BY l.created_at DESC, l.id DESC
      LIMIT $${params.push(filter.limit)}`,
    params,
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

/** The export's columns, in order: the header row and each row's cells. */
export const EXPORT_COLUMNS = [
  'id',
  'created_at',
  'status',
  'service_id',
  'idempotency_key',
  ...LEAD_COLUMNS,
  'extra',
] as const;

/**
 * Every lead the filter matches, newest first, as a stream of rows read through a cursor
 * 500 at a time: the export's memory stays flat whatever the count. The caller owns `client`
 * and releases it when the stream ends or is destroyed.
 */
export function streamLeads(client: PoolClient, filter: LeadFilter): QueryStream {
  const params: unknown[] = [];
  const conditions = leadConditions(filter, params);
  const query = new QueryStream(
    `SELECT ${EXPORT_COLUMNS.map((column) => `l.${column}`).join(', ')}
       FROM leads l
       ${whereClause(conditions)}
      ORDER BY l.created_at DESC, l.id DESC`,
    params,
    { batchSize: 500 },
  );
  return client.query(query);
}

interface RawSummaryRow {
  id: number;
  endpoint: string;
  request_id: string;
  idempotency_key: string | null;
  received_at: Date;
  content_type: string | null;
  remote_addr: string | null;
  status: RawStatus;
  error: string | null;
  lead_id: string | null;
  body_bytes: number;
}

export interface RawListFilter {
  status?: RawStatus | undefined;
  from?: string | undefined;
  to?: string | undefined;
  beforeId?: number | undefined;
  limit: number;
}

/**
 * Stored requests newest first, keyset-paged on the id (ids rise with arrival). A status
 * other than `accepted` reads leads_raw_status_idx; the time range filters the walk, since a
 * time index on leads_raw would cost every ingest an entry (migration 0004).
 */
export async function selectRawRequests(
  pool: Pool,
  filter: RawListFilter,
): Promise<RawRequestSummary[]> {
  const { rows } = await pool.query<RawSummaryRow>(
    `SELECT id, endpoint, request_id, idempotency_key, received_at, content_type, remote_addr,
            status, error, lead_id, octet_length(body) AS body_bytes
       FROM leads_raw
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::timestamptz IS NULL OR received_at >= $2)
        AND ($3::timestamptz IS NULL OR received_at < $3)
        AND ($4::bigint IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [
      filter.status ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.beforeId ?? null,
      filter.limit,
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    endpoint: row.endpoint,
    requestId: row.request_id,
    idempotencyKey: row.idempotency_key,
    receivedAt: row.received_at.toISOString(),
    contentType: row.content_type,
    remoteAddr: row.remote_addr,
    status: row.status,
    error: row.error,
    leadId: row.lead_id,
    bodyBytes: row.body_bytes,
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
  const [raw, duplicates] = await Promise.all([
    selectRawRequest(pool, lead.rawId),
    pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM leads_raw WHERE lead_id = $1 AND status = 'duplicate'`,
      [id],
    ),
  ]);
  return {
    lead: { ...lead, createdAt: lead.createdAt.toISOString() },
    // The lead's own request: its leadId is this lead.
    raw: raw ? rawRequest.parse(raw) : null,
    duplicates: duplicates.rows[0]?.count ?? 0,
  };
}

/** One stored request with its headers and exact body. */
export async function selectRawRequest(pool: Pool, id: number): Promise<RawRequestDetail | null> {
  const { rows } = await pool.query<{
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
    lead_id: string | null;
  }>(
    `SELECT id, endpoint, request_id, idempotency_key, received_at, content_type, remote_addr,
            headers, body, status, error, lead_id
       FROM leads_raw WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    endpoint: row.endpoint,
    requestId: row.request_id,
    idempotencyKey: row.idempotency_key,
    receivedAt: row.received_at.toISOString(),
    contentType: row.content_type,
    remoteAddr: row.remote_addr,
    headers: row.headers,
    status: row.status,
    error: row.error,
    bodyBase64: row.body.toString('base64'),
    bodyBytes: row.body.length,
    leadId: row.lead_id,
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
