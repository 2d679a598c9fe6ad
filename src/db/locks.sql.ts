/**
 * Every row lock Leadflow takes (`FOR UPDATE`), and the one order they are taken in:
 *
 *   1. services' `allocation_state` rows, by ascending id, in one statement (the requests of
 *      several services are allocated in one transaction);
 *   2. providers, by ascending id, in one statement;
 *   3. leads, by ascending id, in one statement (the backlog's claim takes its leads here, oldest
 *      first, with SKIP LOCKED);
 *   4. providers' `provider_delivery` rows (their delivery health), by ascending id;
 *   5. deliveries.
 *
 * A transaction may skip a step but never goes back to an earlier one. Services 1 and 3 of
 * the demo share providers: allocations, membership changes and quota resets over them ran
 * into each other as deadlocks until all of them locked in this order. Writes that take key
 * locks implicitly (inserting service_providers or allocations, which reference providers
 * and leads) come after the rows they reference are locked here, so they wait, never cycle.
 *
 * A failed `leads_raw` row is locked alone, by reprocessing, with none of the above held.
 *
 * Delivery claims (steps 4–5) are single autocommitted statements with SKIP LOCKED: they never
 * wait for a lock, so they cannot close a cycle, and two instances polling at once take
 * disjoint rows. Their row locks end with the statement; what keeps a claimed delivery from
 * a second sender afterwards is its lease (`leased_until` moved past the send's timeout),
 * which a killed process gives back by time.
 */
import type { DeliveryConfig } from '../contracts/index.js';
import type { CapPeriod, Caps, Dedupe, Filter, Schedule } from '../contracts/rules.js';
import { LEAD_COLUMNS, type LeadColumn } from '../contracts/lead-columns.js';
import { statementName, type Pool, type Tx } from './pool.js';

export interface LockedAllocationState {
  pointer: number;
  providersPerLead: number;
  dedupe: Dedupe | null;
  backlogHours: number;
}

/**
 * Step 1: the states of the live services among `serviceIds`, locked in ascending id order in
 * one statement (an archived or missing service is absent from the map). One transaction
 * takes several when it allocates the requests of several services together.
 */
export async function lockAllocationStates(
  tx: Tx,
  serviceIds: number[],
): Promise<Map<number, LockedAllocationState>> {
  const { rows } = await tx.query<{
    service_id: number;
    pool_pointer: number;
    providers_per_lead: number;
    dedupe: Dedupe | null;
    backlog_hours: number;
  }>({
    name: statementName(tx, 'lock-allocation-states'),
    text: `SELECT st.service_id, st.pool_pointer, s.providers_per_lead, s.dedupe, s.backlog_hours
       FROM allocation_state st JOIN services s ON s.id = st.service_id
      WHERE st.service_id = ANY($1::int[]) AND s.archived_at IS NULL
        -- Re-checked on the row's newest version when its lock was waited for (migration 0015).
        AND NOT st.retired
      ORDER BY st.service_id
        FOR UPDATE OF st`,
    values: [serviceIds],
  });
  return new Map(
    rows.map((row) => [
      row.service_id,
      {
        pointer: row.pool_pointer,
        providersPerLead: row.providers_per_lead,
        dedupe: row.dedupe,
        backlogHours: row.backlog_hours,
      },
    ]),
  );
}

/** Step 1 for one service: null when it does not exist or is archived. */
export async function lockAllocationState(
  tx: Tx,
  serviceId: number,
): Promise<LockedAllocationState | null> {
  return (await lockAllocationStates(tx, [serviceId])).get(serviceId) ?? null;
}

export interface LockedProvider {
  id: number;
  name: string;
  quota: number;
  remainingQuota: number;
  active: boolean;
  archived: boolean;
  deliveryPaused: boolean;
  timezone: string;
  caps: Caps;
  schedule: Schedule;
  filters: Filter[];
}

/**
 * Step 2: the providers among `ids` that exist, or every provider when `ids` is null. The
 * delivery health row is read, not locked: a pause that commits a moment later only means one
 * more lead goes to a provider whose deliveries then wait.
 */
export async function lockProviders(tx: Tx, ids: number[] | null): Promise<LockedProvider[]> {
  const { rows } = await tx.query<{
    id: number;
    name: string;
    quota: number;
    remaining_quota: number;
    active: boolean;
    archived: boolean;
    delivery_paused: boolean;
    timezone: string;
    caps: Caps;
    schedule: Schedule;
    filters: Filter[];
  }>(
    `SELECT p.id, p.name, p.quota, p.remaining_quota, p.active, p.archived_at IS NOT NULL AS archived,
            c.paused_at IS NOT NULL AS delivery_paused,
            p.timezone, p.caps, p.schedule, p.filters
       FROM providers p LEFT JOIN provider_delivery c ON c.provider_id = p.id
      WHERE $1::int[] IS NULL OR p.id = ANY($1::int[])
      ORDER BY p.id FOR UPDATE OF p`,
    [ids],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    quota: row.quota,
    remainingQuota: row.remaining_quota,
    active: row.active,
    archived: row.archived,
    deliveryPaused: row.delivery_paused,
    timezone: row.timezone,
    caps: row.caps,
    schedule: row.schedule,
    filters: row.filters,
  }));
}

export interface LockedLead {
  id: string;
  status: string;
  serviceId: number | null;
  createdAt: Date;
  fields: Record<LeadColumn, string | null>;
  extra: unknown;
}

interface LockedLeadRow {
  id: string;
  status: string;
  service_id: number | null;
  created_at: Date;
  fields: Record<LeadColumn, string | null>;
  extra: unknown;
}

const LOCKED_LEAD_COLUMNS = `id, status, service_id, created_at, extra,
  jsonb_build_object(${LEAD_COLUMNS.map((column) => `'${column}', ${column}`).join(', ')}) AS fields`;

function toLockedLead(row: LockedLeadRow): LockedLead {
  return {
    id: row.id,
    status: row.status,
    serviceId: row.service_id,
    createdAt: row.created_at,
    fields: row.fields,
    extra: row.extra,
  };
}

/**
 * The cap counters a round reads (three parallel arrays: provider, period, period start), and
 * what they hold. They are read in the statement that locks the round's leads: it starts after
 * the provider locks were granted, and counters only change under those locks, so its snapshot
 * holds their newest values (a read joined into the providers' own FOR UPDATE would not: a
 * statement that waited for a lock keeps the snapshot it started with for every other table).
 * One round trip fewer while the providers are locked (bench/: allocation).
 */
export type CapCounterKeys = [providerIds: number[], periods: CapPeriod[], starts: Date[]];
export interface CapCounter {
  providerId: number;
  period: CapPeriod;
  used: number;
}

const CAP_COUNTERS = `(SELECT coalesce(jsonb_agg(jsonb_build_array(u.provider_id, u.period, u.used)), '[]')
     FROM unnest($COUNTER_IDS::int[], $COUNTER_PERIODS::text[], $COUNTER_STARTS::timestamptz[])
            AS k(provider_id, period, period_start)
     JOIN provider_cap_usage u USING (provider_id, period, period_start)) AS counters`;

/** The counters' select expression (column `counters`), its keys in parameters `$first`… */
export function capCounters(first: number): string {
  return CAP_COUNTERS.replace('$COUNTER_IDS', `$${first}`)
    .replace('$COUNTER_PERIODS', `$${first + 1}`)
    .replace('$COUNTER_STARTS', `$${first + 2}`);
}

export interface LockedLeads {
  leads: LockedLead[];
  /** The counters among the keys asked for that exist (none when no lead was found). */
  counters: CapCounter[];
}

/** What `capCounters` read, as counters. */
export function toCapCounters(raw: [number, CapPeriod, number][] | undefined): CapCounter[] {
  return (raw ?? []).map(([providerId, period, used]) => ({ providerId, period, used }));
}

function lockedLeads(
  rows: (LockedLeadRow & { counters: [number, CapPeriod, number][] })[],
): LockedLeads {
  return { leads: rows.map(toLockedLead), counters: toCapCounters(rows[0]?.counters) };
}

/** Step 3: the leads among `ids` that exist, with what the routing rules read of them. */
export async function lockLeads(tx: Tx, ids: string[], keys: CapCounterKeys): Promise<LockedLeads> {
  const { rows } = await tx.query<LockedLeadRow & { counters: [number, CapPeriod, number][] }>({
    name: statementName(tx, 'lock-leads'),
    text: `SELECT ${LOCKED_LEAD_COLUMNS}, ${capCounters(2)}
             FROM leads WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    values: [ids, ...keys],
  });
  return lockedLeads(rows);
}

/**
 * Step 3, the backlog's way: up to `limit` unallocated leads of a service after the keyset
 * `after`, oldest first. SKIP LOCKED: a lead another transaction holds (an operator's
 * allocate, another instance's drain) is that transaction's to settle, never retried twice.
 */
export async function lockBacklogLeads(
  tx: Tx,
  serviceId: number,
  after: { createdAt: Date; id: string } | null,
  limit: number,
  keys: CapCounterKeys,
): Promise<LockedLeads> {
  const { rows } = await tx.query<LockedLeadRow & { counters: [number, CapPeriod, number][] }>(
    `SELECT ${LOCKED_LEAD_COLUMNS}, ${capCounters(5)} FROM leads
      WHERE status = 'unallocated' AND service_id = $1
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id
      LIMIT $4
        FOR UPDATE SKIP LOCKED`,
    [serviceId, after?.createdAt ?? null, after?.id ?? null, limit, ...keys],
  );
  return lockedLeads(rows);
}

export interface LockedFailedRaw {
  sender: string;
  idempotencyKey: string | null;
}

/** Outside the order: null when the row is gone or no longer `failed` (another run took it). */
export async function lockFailedRaw(tx: Tx, rawId: number): Promise<LockedFailedRaw | null> {
  const { rows } = await tx.query<{ sender: string; idempotency_key: string | null }>(
    `SELECT sender, idempotency_key FROM leads_raw WHERE id = $1 AND status = 'failed' FOR UPDATE`,
    [rawId],
  );
  const row = rows[0];
  return row ? { sender: row.sender, idempotencyKey: row.idempotency_key } : null;
}

export interface LockedDeliveryHealth {
  consecutiveFailures: number;
  paused: boolean;
}

/**
 * Step 4: the delivery health a batch of attempts' outcomes may change, locked in ascending id
 * order: of `failingIds` (providers with a failed or retried attempt in the batch), and of any
 * other of `providerIds` that is paused or has failures to clear. A healthy provider whose
 * attempts were all answered is neither returned nor locked: nothing about it changes, and
 * locking it made every batch of outcomes wait for the one before (the same few providers are
 * in all of them), one transaction at a time with the machine 60 % idle (bench, drain).
 */
/**
 * A provider's delivery health has something an answer would change: failures to clear, or a
 * pause to end. Without it, a batch of answers leaves the health row as it is (the recorder's
 * one-statement path relies on that).
 */
export const HEALTH_TO_CLEAR = '(consecutive_failures > 0 OR paused_at IS NOT NULL)';

export async function lockDeliveryHealth(
  tx: Tx,
  providerIds: number[],
  failingIds: number[],
): Promise<Map<number, LockedDeliveryHealth>> {
  const { rows } = await tx.query<{
    provider_id: number;
    consecutive_failures: number;
    paused: boolean;
  }>({
    // Named, like the other statements of the delivery loop: each connection plans it once.
    name: statementName(tx, 'lock-delivery-health'),
    text: `SELECT provider_id, consecutive_failures, paused_at IS NOT NULL AS paused
       FROM provider_delivery
      WHERE provider_id = ANY($1::int[])
        AND (provider_id = ANY($2::int[]) OR ${HEALTH_TO_CLEAR})
      ORDER BY provider_id FOR UPDATE`,
    values: [providerIds, failingIds],
  });
  return new Map(
    rows.map((row) => [
      row.provider_id,
      { consecutiveFailures: row.consecutive_failures, paused: row.paused },
    ]),
  );
}

/** A delivery taken by this process for one send, with its endpoint and lead. */
export interface ClaimedDelivery {
  id: string;
  leadId: string;
  providerId: number;
  /** This send's number, counting every send ever made. */
  attempt: number;
  /** Sends since the last manual retry, this one included: compared with maxAttempts. */
  attemptsSinceRequeue: number;
  endpoint: DeliveryConfig;
  lead: { serviceId: number | null; fields: Record<LeadColumn, string | null>; extra: unknown };
}

/** The endpoint columns of `provider_delivery`, as every statement reading them gets them. */
export interface EndpointRow {
  url: string;
  method: 'POST' | 'PUT';
  format: 'json' | 'form';
  headers: Record<string, string>;
  fields: Record<string, string> | null;
  timeout_ms: number;
  max_attempts: number;
  accept_pattern: string | null;
  signing_secret: string | null;
}

export function toDeliveryConfig(row: EndpointRow): DeliveryConfig {
  return {
    url: row.url,
    method: row.method,
    format: row.format,
    headers: row.headers,
    fields: row.fields,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    acceptPattern: row.accept_pattern,
    signingSecret: row.signing_secret,
  };
}

interface ClaimedRow extends EndpointRow {
  id: string;
  lead_id: string;
  provider_id: number;
  attempts: number;
  attempts_base: number;
  service_id: number | null;
  lead: Record<string, string | null>;
  extra: unknown;
}

// The claim itself, shared by the two ways in: increments the attempt and leases the row for
// the send's timeout plus $2 ms, returning everything the send needs in the same round trip.
// It writes no indexed column (migration 0011), so it is a HOT update: moving next_attempt_at
// as the lease, as it first did, put an entry in each of the row's six indexes per claim.
const CLAIM_UPDATE = `
  UPDATE deliveries d
     SET attempts = d.attempts + 1,
         leased_until = now() + make_interval(secs => (c.timeout_ms + $2) / 1000.0),
         updated_at = now()
    FROM claimed, provider_delivery c, leads l
   WHERE d.id = claimed.id AND c.provider_id = d.provider_id AND l.id = d.lead_id
  RETURNING d.id, d.lead_id, d.provider_id, d.attempts, d.attempts_base,
            c.url, c.method, c.format, c.headers, c.fields, c.timeout_ms, c.max_attempts,
            c.accept_pattern, c.signing_secret, l.service_id, l.extra,
            jsonb_build_object(${LEAD_COLUMNS.map((column) => `'${column}', l.${column}`).join(', ')})
              AS lead`;

function toClaimed(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    leadId: row.lead_id,
    providerId: row.provider_id,
    attempt: row.attempts,
    attemptsSinceRequeue: row.attempts - row.attempts_base,
    endpoint: toDeliveryConfig(row),
    lead: { serviceId: row.service_id, fields: row.lead, extra: row.extra },
  };
}

/**
 * Claims up to `limit` due deliveries of providers that are not paused, oldest due first,
 * leasing each for its timeout plus `leaseMarginMs`. Autocommitted on its own (see the top).
 */
export async function claimDueDeliveries(
  pool: Pool,
  limit: number,
  leaseMarginMs: number,
): Promise<ClaimedDelivery[]> {
  const { rows } = await pool.query<ClaimedRow>({
    // Named: each connection plans it once. Planning took 0.3 ms a claim, as long as executing
    // a claim of 10–30 rows, the sizes a drain on two cores runs at.
    name: statementName(pool, 'claim-due-deliveries'),
    text: `WITH claimed AS (
       SELECT d.id FROM deliveries d JOIN provider_delivery c ON c.provider_id = d.provider_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND c.paused_at IS NULL
          -- Rows leased by a send in flight are skipped here, not by the index: at most the
          -- sends in flight and claimed ahead (a few thousand) lie at its head.
          AND (d.leased_until IS NULL OR d.leased_until <= now())
        ORDER BY d.next_attempt_at
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED)
     ${CLAIM_UPDATE}`,
    values: [limit, leaseMarginMs],
  });
  return rows.map(toClaimed);
}

/**
 * For each paused provider whose probe is due: moves its next probe `probeMs` on and claims
 * one pending delivery not leased by another send, whatever its backoff — the probe is what
 * tells whether the endpoint is back. A paused provider with nothing pending stays paused.
 */
export async function claimProbeDeliveries(
  pool: Pool,
  probeMs: number,
  leaseMarginMs: number,
): Promise<ClaimedDelivery[]> {
  const { rows } = await pool.query<ClaimedRow>(
    `WITH probe AS (
       UPDATE provider_delivery SET next_probe_at = now() + make_interval(secs => $1 / 1000.0)
        WHERE provider_id IN (SELECT provider_id FROM provider_delivery
                               WHERE paused_at IS NOT NULL AND next_probe_at <= now()
                               FOR UPDATE SKIP LOCKED)
       RETURNING provider_id),
     claimed AS (
       SELECT next.id FROM probe CROSS JOIN LATERAL (
         SELECT d.id FROM deliveries d
          WHERE d.provider_id = probe.provider_id AND d.status = 'pending'
            AND (d.leased_until IS NULL OR d.leased_until <= now())
          ORDER BY d.next_attempt_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED) next)
     ${CLAIM_UPDATE}`,
    [probeMs, leaseMarginMs],
  );
  return rows.map(toClaimed);
}

/**
 * Gives claimed deliveries back unsent: lease cleared (they were due when claimed, and stay
 * so), the claim's attempt number undone (no attempt was made). Only rows still held by that
 * claim (pending, same attempt).
 */
export async function releaseClaims(
  pool: Pool,
  deliveries: Pick<ClaimedDelivery, 'id' | 'attempt'>[],
): Promise<void> {
  await pool.query(
    `UPDATE deliveries d
        SET attempts = d.attempts - 1, leased_until = NULL, updated_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS r (id, attempt)
      WHERE d.id = r.id AND d.status = 'pending' AND d.attempts = r.attempt`,
    [deliveries.map((delivery) => delivery.id), deliveries.map((delivery) => delivery.attempt)],
  );
}
