import { uuidv7 } from '../db/ids.js';
import { statementName, type Pool, type Tx } from '../db/pool.js';
import { appendEventsCtes, eventValues } from '../events/events.sql.js';
import {
  capCounters,
  toCapCounters,
  type CapCounter,
  type CapCounterKeys,
} from '../db/locks.sql.js';
import type { AllocationRow, NewEvent, Role } from '../contracts/index.js';
import {
  CAP_PERIODS,
  type AllocationAttempt,
  type AttemptOutcome,
  type CapPeriod,
  type CapUsage,
  type Decision,
} from '../contracts/rules.js';

export interface ServiceRef {
  id: number;
  slug: string;
}

/** The live services among these ids and slugs (one statement for many look-ups). */
export async function selectServicesByReference(
  pool: Pool,
  ids: number[],
  slugs: string[],
): Promise<ServiceRef[]> {
  const { rows } = await pool.query<ServiceRef>({
    name: statementName(pool, 'select-services-by-reference'),
    text: `SELECT id, slug FROM services
            WHERE (id = ANY($1::int[]) OR slug = ANY($2::text[])) AND archived_at IS NULL`,
    values: [ids, slugs],
  });
  return rows;
}

export interface Membership {
  staticIds: number[];
  poolIds: number[];
}

/** The members of each service among `serviceIds`, in role then position order. */
export async function selectMemberships(
  db: Pool | Tx,
  serviceIds: number[],
): Promise<Map<number, Membership>> {
  const { rows } = await db.query<{ service_id: number; provider_id: number; role: Role }>({
    name: statementName(db, 'select-memberships'),
    text: `SELECT service_id, provider_id, role FROM service_providers
            WHERE service_id = ANY($1::int[]) ORDER BY service_id, role, position`,
    values: [serviceIds],
  });
  const memberships = new Map<number, Membership>(
    serviceIds.map((id) => [id, { staticIds: [], poolIds: [] }]),
  );
  for (const row of rows) {
    const membership = memberships.get(row.service_id)!;
    (row.role === 'static' ? membership.staticIds : membership.poolIds).push(row.provider_id);
  }
  return memberships;
}

export interface NewAllocation {
  leadId: string;
  providerId: number;
  role: Role;
}

export type LeadOutcome = 'allocated' | 'unallocated' | 'duplicate' | 'expired';

export interface NewAttempt {
  leadId: string;
  outcome: AttemptOutcome;
  fromBacklog: boolean;
  duplicateOf: string | null;
  decisions: Decision[];
}

/** What a transaction decided, for one service or several (which may share providers). */
export interface BatchOutcome {
  /** The clock's time: allocation rows are stamped with it, so caps count in its periods. */
  now: Date;
  /** Where each cap period of each locked provider began at `now`, in its zone (Luxon): the
   * keys of the cap counters the allocations count into. */
  periodStarts: Map<number, Record<CapPeriod, Date>>;
  // The rows below are in the order the leads were decided, each with its service: the ids
  // they get follow that order, so the console's log (newest allocation first) reads as the
  // live stream did, not grouped by service.
  allocations: (NewAllocation & { serviceId: number })[];
  leadStatuses: { serviceId: number; leadId: string; status: LeadOutcome }[];
  /** Normalised contacts of the leads allocated, for later duplicate windows. */
  contacts: { serviceId: number; contact: string; leadId: string }[];
  attempts: (NewAttempt & { serviceId: number })[];
  /** Each service's pool pointer after the batch. */
  pointers: { serviceId: number; pointer: number }[];
}

/** One array per column: every row of `rows` mapped by each of `columns`. */
function columns<T, C extends ((row: T) => unknown)[]>(
  rows: T[],
  ...of: C
): { [K in keyof C]: ReturnType<C[K]>[] } {
  return of.map((column) => rows.map(column)) as { [K in keyof C]: ReturnType<C[K]>[] };
}

/**
 * Writes a batch's outcome: allocations, their deliveries (the outbox of SPEC §9: one per
 * allocation to a provider with an endpoint, in the same statement, so neither exists without
 * the other), quota decrements, lead statuses, contacts, attempts and the services' pointers.
 * Returns the deliveries queued.
 */
export async function writeAllocations(
  tx: Tx,
  batch: BatchOutcome,
  events: NewEvent[],
): Promise<number> {
  const { now, allocations, leadStatuses: statuses, contacts, attempts, pointers } = batch;
  // One statement for the whole outcome and its events: it runs while the providers are
  // locked, and every round trip there is time the other services sharing them wait
  // (bench/: allocation, three statements → one).
  const { rows } = await tx.query<{ queued: number }>({
    name: statementName(tx, 'write-allocations'),
    text: `WITH input AS (
         SELECT * FROM unnest($1::int[], $2::uuid[], $3::int[], $4::text[], $5::uuid[])
                    AS a(service_id, lead_id, provider_id, role, delivery_id)),
       inserted AS (
         INSERT INTO allocations (lead_id, service_id, provider_id, role, allocated_at)
         SELECT lead_id, service_id, provider_id, role, $6 FROM input
         RETURNING id, lead_id, provider_id),
       queued AS (
         INSERT INTO deliveries (id, lead_id, provider_id, allocation_id)
         SELECT input.delivery_id, inserted.lead_id, inserted.provider_id, inserted.id
           FROM inserted JOIN input USING (lead_id, provider_id)
          WHERE EXISTS (SELECT 1 FROM provider_delivery c WHERE c.provider_id = inserted.provider_id)
         RETURNING 1),
       taken AS (
         SELECT provider_id, count(*)::int AS taken FROM input GROUP BY provider_id),
       -- The cap counters, under the provider locks the batch holds: O(1) per provider and
       -- period, where counting allocations since the month began grew with every one.
       counted AS (
         INSERT INTO provider_cap_usage AS u (provider_id, period, period_start, used)
         SELECT s.provider_id, s.period, s.period_start, t.taken
           FROM unnest($7::int[], $8::text[], $9::timestamptz[]) AS s(provider_id, period, period_start)
           JOIN taken t USING (provider_id)
         ON CONFLICT (provider_id, period, period_start) DO UPDATE SET used = u.used + excluded.used),
       quotas AS (
         UPDATE providers p SET remaining_quota = p.remaining_quota - d.taken, updated_at = now()
           FROM taken d
          WHERE p.id = d.provider_id),
       statuses AS (
         UPDATE leads l SET status = s.status, service_id = s.service_id
           FROM unnest($10::int[], $11::uuid[], $12::text[]) AS s(service_id, lead_id, status)
          WHERE l.id = s.lead_id),
       contacts AS (
         INSERT INTO lead_contacts (contact, lead_id, service_id, allocated_at)
         SELECT contact, lead_id, service_id, $6
           FROM unnest($13::int[], $14::text[], $15::uuid[]) AS c(service_id, contact, lead_id)
         ON CONFLICT DO NOTHING),
       attempts AS (
         INSERT INTO allocation_attempts
           (lead_id, service_id, attempted_at, outcome, from_backlog, duplicate_of, decisions)
         SELECT lead_id, service_id, $6, outcome, from_backlog, duplicate_of, decisions
           FROM unnest($16::int[], $17::uuid[], $18::text[], $19::boolean[], $20::uuid[], $21::jsonb[])
             AS a(service_id, lead_id, outcome, from_backlog, duplicate_of, decisions)),
       ${appendEventsCtes('$22', '$23')}
     UPDATE allocation_state st SET pool_pointer = s.pointer
       FROM unnest($24::int[], $25::int[]) AS s(service_id, pointer)
      WHERE st.service_id = s.service_id
     RETURNING (SELECT count(*)::int FROM queued) AS queued`,
    values: [
      ...columns(
        allocations,
        (allocation) => allocation.serviceId,
        (allocation) => allocation.leadId,
        (allocation) => allocation.providerId,
        (allocation) => allocation.role,
        // Drawn for every allocation, used for those whose provider has an endpoint: whether
        // it has one is decided in the statement, under the provider locks a configuration
        // change also takes.
        () => uuidv7(),
      ),
      now,
      ...counterKeys(batch.periodStarts),
      ...columns(
        statuses,
        (lead) => lead.serviceId,
        (lead) => lead.leadId,
        (lead) => lead.status,
      ),
      ...columns(
        contacts,
        (contact) => contact.serviceId,
        (contact) => contact.contact,
        (contact) => contact.leadId,
      ),
      ...columns(
        attempts,
        (attempt) => attempt.serviceId,
        (attempt) => attempt.leadId,
        (attempt) => attempt.outcome,
        (attempt) => attempt.fromBacklog,
        (attempt) => attempt.duplicateOf,
        (attempt) => JSON.stringify(attempt.decisions),
      ),
      ...eventValues(events),
      ...columns(
        pointers,
        (service) => service.serviceId,
        (service) => service.pointer,
      ),
    ],
  });
  return rows[0]?.queued ?? 0;
}

/** The counters' keys as three parallel arrays: provider, period, period start. */
export function counterKeys(starts: Map<number, Partial<Record<CapPeriod, Date>>>): CapCounterKeys {
  const keys: CapCounterKeys = [[], [], []];
  for (const [providerId, periods] of starts) {
    for (const period of CAP_PERIODS) {
      const start = periods[period];
      if (start === undefined) continue;
      keys[0].push(providerId);
      keys[1].push(period);
      keys[2].push(start);
    }
  }
  return keys;
}

/**
 * Each provider's allocations in the current period of each cap, read from the cap counters
 * (one primary-key probe per provider and period). `starts` holds only the periods worth
 * reading; a period without a counter row has had no allocation.
 */
export async function countCapUsage(
  db: Pool | Tx,
  starts: Map<number, Partial<Record<CapPeriod, Date>>>,
): Promise<Map<number, CapUsage>> {
  const keys = counterKeys(starts);
  if (keys[0].length === 0) return usageOf(starts, []);
  const { rows } = await db.query<{ counters: [number, CapPeriod, number][] }>(
    `SELECT ${capCounters(1)}`,
    keys,
  );
  return usageOf(starts, toCapCounters(rows[0]?.counters));
}

/** Each provider of `starts` with its counters (a period without a counter row has had none). */
export function usageOf(
  starts: Map<number, unknown>,
  counters: CapCounter[],
): Map<number, CapUsage> {
  const usage = new Map<number, CapUsage>();
  for (const id of starts.keys()) usage.set(id, { hour: 0, day: 0, week: 0, month: 0 });
  for (const counter of counters) {
    const own = usage.get(counter.providerId);
    if (own) own[counter.period] = counter.used;
  }
  return usage;
}

export async function selectContactHistory(
  tx: Tx,
  contacts: string[],
  since: Date,
): Promise<{ contact: string; leadId: string; serviceId: number; providerIds: number[] }[]> {
  if (contacts.length === 0) return [];
  const { rows } = await tx.query<{
    contact: string;
    lead_id: string;
    service_id: number;
    provider_ids: number[];
  }>(
    `SELECT c.contact, c.lead_id, c.service_id,
            array(SELECT a.provider_id FROM allocations a WHERE a.lead_id = c.lead_id) AS provider_ids
       FROM lead_contacts c
      WHERE c.contact = ANY($1::text[]) AND c.allocated_at >= $2
      ORDER BY c.allocated_at, c.lead_id`,
    [contacts, since],
  );
  return rows.map((row) => ({
    contact: row.contact,
    leadId: row.lead_id,
    serviceId: row.service_id,
    providerIds: row.provider_ids,
  }));
}

/** Services with unallocated leads waiting, oldest waiting first. */
export async function selectBacklogServices(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ service_id: number }>(
    `SELECT s.id AS service_id FROM services s
      WHERE EXISTS (SELECT 1 FROM leads l WHERE l.status = 'unallocated' AND l.service_id = s.id)
      ORDER BY s.id`,
  );
  return rows.map((row) => row.service_id);
}

export async function selectAttemptsForLead(
  db: Pool | Tx,
  leadId: string,
): Promise<AllocationAttempt[]> {
  const { rows } = await db.query<{
    service_id: number;
    attempted_at: Date;
    outcome: AttemptOutcome;
    from_backlog: boolean;
    duplicate_of: string | null;
    decisions: Decision[];
  }>(
    `SELECT service_id, attempted_at, outcome, from_backlog, duplicate_of, decisions
       FROM allocation_attempts WHERE lead_id = $1 ORDER BY id`,
    [leadId],
  );
  return rows.map((row) => ({
    serviceId: row.service_id,
    attemptedAt: row.attempted_at.toISOString(),
    outcome: row.outcome,
    fromBacklog: row.from_backlog,
    duplicateOf: row.duplicate_of,
    decisions: row.decisions,
  }));
}

interface AllocationDbRow {
  lead_id: string;
  service_id: number;
  provider_id: number;
  name: string;
  role: Role;
  allocated_at: Date;
}

const ALLOCATION_COLUMNS = `a.lead_id, a.service_id, a.provider_id, p.name, a.role, a.allocated_at
       FROM allocations a JOIN providers p ON p.id = a.provider_id`;

function toAllocationRow(row: AllocationDbRow): AllocationRow {
  return {
    leadId: row.lead_id,
    serviceId: row.service_id,
    providerId: row.provider_id,
    providerName: row.name,
    role: row.role,
    allocatedAt: row.allocated_at.toISOString(),
  };
}

export async function selectAllocationsForLeads(
  db: Pool | Tx,
  leadIds: string[],
): Promise<AllocationRow[]> {
  const { rows } = await db.query<AllocationDbRow>(
    `SELECT ${ALLOCATION_COLUMNS} WHERE a.lead_id = ANY($1::uuid[]) ORDER BY a.id`,
    [leadIds],
  );
  return rows.map(toAllocationRow);
}

export async function selectLeadAllocationState(
  pool: Pool | Tx,
  leadId: string,
): Promise<{ status: string; serviceId: number | null } | null> {
  const { rows } = await pool.query<{ status: string; service_id: number | null }>(
    'SELECT status, service_id FROM leads WHERE id = $1',
    [leadId],
  );
  const row = rows[0];
  return row ? { status: row.status, serviceId: row.service_id } : null;
}

export async function selectRecentAllocations(pool: Pool, limit: number): Promise<AllocationRow[]> {
  const { rows } = await pool.query<AllocationDbRow>(
    `SELECT ${ALLOCATION_COLUMNS} ORDER BY a.id DESC LIMIT $1`,
    [limit],
  );
  return rows.map(toAllocationRow);
}
