import {
  MASKED,
  type DeliveryConfigView,
  type Provider as ProviderView,
  type ProviderView as ProviderWithDelivery,
  type Role,
  type Service as ServiceView,
} from '../contracts/index.js';
import {
  CAP_PERIODS,
  type CapPeriod,
  type Caps,
  type Dedupe,
  type Filter,
  type Schedule,
} from '../contracts/rules.js';
import { countCapUsage } from '../allocation/allocation.sql.js';
import { isOpen, periodStarts } from '../allocation/calendar.js';
import type { Pool, Tx } from '../db/pool.js';

interface ProviderRow {
  id: number;
  name: string;
  quota: number;
  remaining_quota: number;
  active: boolean;
  archived_at: Date | null;
  timezone: string;
  caps: Caps;
  schedule: Schedule;
  filters: Filter[];
}

const PROVIDER_COLUMNS =
  'id, name, quota, remaining_quota, active, archived_at, timezone, caps, schedule, filters';

function toProviderView(row: ProviderRow): ProviderView {
  return {
    id: row.id,
    name: row.name,
    quota: row.quota,
    remainingQuota: row.remaining_quota,
    active: row.active,
    archivedAt: row.archived_at?.toISOString() ?? null,
    timezone: row.timezone,
    caps: row.caps,
    schedule: row.schedule,
    filters: row.filters,
  };
}

interface ProviderWithDeliveryRow extends ProviderRow {
  url: string | null;
  method: 'POST' | 'PUT';
  format: 'json' | 'form';
  headers: Record<string, string>;
  fields: Record<string, string> | null;
  timeout_ms: number;
  max_attempts: number;
  accept_pattern: string | null;
  signed: boolean;
  paused: boolean;
}

function toDeliveryView(row: ProviderWithDeliveryRow): DeliveryConfigView | null {
  if (row.url === null) return null;
  return {
    url: row.url,
    method: row.method,
    format: row.format,
    headers: Object.fromEntries(Object.keys(row.headers).map((name) => [name, MASKED])),
    fields: row.fields,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    acceptPattern: row.accept_pattern,
    signingSecret: row.signed ? MASKED : null,
  };
}

/**
 * Providers with their endpoint (header values and secret masked), its health, and their
 * rules' state at `now`: each cap's use this period, capped, open by the schedule. One by id
 * (archived or not), or the live ones, or with `includeArchived` all.
 */
export async function selectProvidersWithDelivery(
  db: Pool | Tx,
  id: number | null,
  now: Date,
  includeArchived = false,
): Promise<ProviderWithDelivery[]> {
  const { rows } = await db.query<ProviderWithDeliveryRow>(
    `SELECT p.id, p.name, p.quota, p.remaining_quota, p.active, p.archived_at,
            p.timezone, p.caps, p.schedule, p.filters,
            c.url, c.method, c.format, c.headers, c.fields, c.timeout_ms, c.max_attempts,
            c.accept_pattern, c.signing_secret IS NOT NULL AS signed,
            c.paused_at IS NOT NULL AS paused
       FROM providers p LEFT JOIN provider_delivery c ON c.provider_id = p.id
      WHERE CASE WHEN $1::int IS NULL THEN $2 OR p.archived_at IS NULL ELSE p.id = $1 END
      ORDER BY p.id`,
    [id, includeArchived],
  );
  const starts = new Map<number, Record<CapPeriod, Date>>(
    rows.map((row) => [row.id, periodStarts(now, row.timezone)]),
  );
  const usage = await countCapUsage(db, starts);
  return rows.map((row) => {
    const used = usage.get(row.id) ?? { hour: 0, day: 0, week: 0, month: 0 };
    return {
      ...toProviderView(row),
      deliveryState: row.url === null ? 'none' : row.paused ? 'paused' : 'ok',
      delivery: toDeliveryView(row),
      capUsage: used,
      capped: CAP_PERIODS.some(
        (period) => row.caps[period] !== undefined && used[period] >= row.caps[period]!,
      ),
      openNow: isOpen(row.schedule, now, row.timezone),
    };
  });
}

export async function selectProviderIds(db: Pool | Tx, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM providers WHERE id = ANY($1::int[])',
    [ids],
  );
  return rows.map((row) => row.id);
}

export async function insertProvider(
  tx: Tx,
  values: { name: string; quota: number; remainingQuota: number; active: boolean },
): Promise<ProviderView> {
  const { rows } = await tx.query<ProviderRow>(
    `INSERT INTO providers (name, quota, remaining_quota, active) VALUES ($1, $2, $3, $4)
     RETURNING ${PROVIDER_COLUMNS}`,
    [values.name, values.quota, values.remainingQuota, values.active],
  );
  return toProviderView(rows[0]!);
}

export async function updateProvider(
  tx: Tx,
  id: number,
  values: Partial<{
    name: string;
    quota: number;
    remainingQuota: number;
    active: boolean;
    timezone: string;
    caps: Caps;
    schedule: Schedule;
    filters: Filter[];
  }>,
): Promise<ProviderView> {
  // coalesce keeps a column whose value is not given; none of these columns is nullable.
  const json = (value: unknown): string | undefined =>
    value === undefined ? undefined : JSON.stringify(value);
  const { rows } = await tx.query<ProviderRow>(
    `UPDATE providers
        SET name = coalesce($2, name), quota = coalesce($3, quota),
            remaining_quota = coalesce($4, remaining_quota), active = coalesce($5, active),
            timezone = coalesce($6, timezone), caps = coalesce($7::jsonb, caps),
            schedule = coalesce($8::jsonb, schedule), filters = coalesce($9::jsonb, filters),
            updated_at = now()
      WHERE id = $1
     RETURNING ${PROVIDER_COLUMNS}`,
    [
      id,
      values.name,
      values.quota,
      values.remainingQuota,
      values.active,
      values.timezone,
      json(values.caps),
      json(values.schedule),
      json(values.filters),
    ],
  );
  return toProviderView(rows[0]!);
}

/** The live services, or with `includeArchived` all. */
export async function selectServices(
  db: Pool | Tx,
  includeArchived = false,
): Promise<ServiceView[]> {
  // One after another: a transaction's client runs one query at a time anyway, and pg
  // deprecates queueing several on one client.
  const services = await db.query<{
    id: number;
    slug: string;
    name: string;
    providers_per_lead: number;
    archived_at: Date | null;
    dedupe: Dedupe | null;
    backlog_hours: number;
    backlog: number;
  }>(
    `SELECT s.id, s.slug, s.name, s.providers_per_lead, s.archived_at, s.dedupe, s.backlog_hours,
            (SELECT count(*)::int FROM leads l
              WHERE l.status = 'unallocated' AND l.service_id = s.id) AS backlog
       FROM services s
      WHERE $1 OR s.archived_at IS NULL ORDER BY s.id`,
    [includeArchived],
  );
  const members = await db.query<{ service_id: number; provider_id: number; role: Role }>(
    `SELECT service_id, provider_id, role FROM service_providers
      ORDER BY service_id, role, position`,
  );
  const states = await db.query<{ service_id: number; pool_pointer: number }>(
    'SELECT service_id, pool_pointer FROM allocation_state',
  );
  const pointers = new Map(states.rows.map((row) => [row.service_id, row.pool_pointer]));
  return services.rows.map((service) => {
    const own = members.rows.filter((member) => member.service_id === service.id);
    const withRole = (role: Role): number[] =>
      own.filter((member) => member.role === role).map((member) => member.provider_id);
    return {
      id: service.id,
      slug: service.slug,
      name: service.name,
      providersPerLead: service.providers_per_lead,
      static: withRole('static'),
      pool: withRole('pool'),
      pointer: pointers.get(service.id) ?? 0,
      archivedAt: service.archived_at?.toISOString() ?? null,
      dedupe: service.dedupe,
      backlogHours: service.backlog_hours,
      backlog: service.backlog,
    };
  });
}

export async function selectService(db: Pool | Tx, id: number): Promise<ServiceView | null> {
  return (await selectServices(db, true)).find((service) => service.id === id) ?? null;
}

export async function archiveProvider(tx: Tx, id: number): Promise<ProviderView> {
  // Inactive too: allocation skips inactive providers, so no rule needs to know of archiving.
  const { rows } = await tx.query<ProviderRow>(
    `UPDATE providers SET archived_at = now(), active = false, updated_at = now() WHERE id = $1
     RETURNING ${PROVIDER_COLUMNS}`,
    [id],
  );
  return toProviderView(rows[0]!);
}

export async function archiveService(tx: Tx, id: number): Promise<void> {
  await tx.query('UPDATE services SET archived_at = now() WHERE id = $1', [id]);
  // The flag an allocation waiting on this row's lock sees (see lockAllocationState).
  await tx.query('UPDATE allocation_state SET retired = true WHERE service_id = $1', [id]);
}

export async function insertService(
  tx: Tx,
  values: { slug: string; name: string; providersPerLead: number },
): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `WITH service AS (
       INSERT INTO services (slug, name, providers_per_lead) VALUES ($1, $2, $3) RETURNING id),
     state AS (
       INSERT INTO allocation_state (service_id, pool_pointer) SELECT id, 0 FROM service)
     SELECT id FROM service`,
    [values.slug, values.name, values.providersPerLead],
  );
  return rows[0]!.id;
}

export async function updateService(
  tx: Tx,
  id: number,
  values: Partial<{
    slug: string;
    name: string;
    providersPerLead: number;
    dedupe: Dedupe | null;
    backlogHours: number;
  }>,
): Promise<void> {
  // dedupe: undefined keeps it, null removes it ($6 says which).
  await tx.query(
    `UPDATE services
        SET slug = coalesce($2, slug), name = coalesce($3, name),
            providers_per_lead = coalesce($4, providers_per_lead),
            dedupe = CASE WHEN $6::boolean THEN $5::jsonb ELSE dedupe END,
            backlog_hours = coalesce($7, backlog_hours)
      WHERE id = $1`,
    [
      id,
      values.slug,
      values.name,
      values.providersPerLead,
      values.dedupe === undefined || values.dedupe === null ? null : JSON.stringify(values.dedupe),
      values.dedupe !== undefined,
      values.backlogHours,
    ],
  );
}

export async function replaceMembership(
  tx: Tx,
  serviceId: number,
  staticIds: number[],
  poolIds: number[],
): Promise<void> {
  await tx.query('DELETE FROM service_providers WHERE service_id = $1', [serviceId]);
  // WITH ORDINALITY numbers from 1; positions have always counted from 0.
  await tx.query(
    `INSERT INTO service_providers (service_id, provider_id, role, position)
     SELECT $1::int, provider_id, 'static', ordinality::int - 1
       FROM unnest($2::int[]) WITH ORDINALITY AS s(provider_id, ordinality)
     UNION ALL
     SELECT $1::int, provider_id, 'pool', ordinality::int - 1
       FROM unnest($3::int[]) WITH ORDINALITY AS p(provider_id, ordinality)`,
    [serviceId, staticIds, poolIds],
  );
  await tx.query('UPDATE allocation_state SET pool_pointer = 0 WHERE service_id = $1', [serviceId]);
}

export async function countProviders(db: Pool | Tx): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM providers',
  );
  return rows[0]?.count ?? 0;
}

/** Moves the identity sequences past explicitly inserted ids (the demo seeds ids 1…8). */
export async function syncIdentitySequences(tx: Tx): Promise<void> {
  await tx.query(
    `SELECT setval(pg_get_serial_sequence('providers', 'id'), GREATEST((SELECT max(id) FROM providers), 1))`,
  );
  await tx.query(
    `SELECT setval(pg_get_serial_sequence('services', 'id'), GREATEST((SELECT max(id) FROM services), 1))`,
  );
}
