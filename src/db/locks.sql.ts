/**
 * Every row lock Leadflow takes (`FOR UPDATE`), and the one order they are taken in:
 *
 *   1. a service's `allocation_state` row (at most one per transaction);
 *   2. providers, by ascending id, in one statement;
 *   3. leads, by ascending id, in one statement.
 *
 * A transaction may skip a step but never goes back to an earlier one. Services 1 and 3 of
 * the demo share providers: allocations, membership changes and quota resets over them ran
 * into each other as deadlocks until all of them locked in this order. Writes that take key
 * locks implicitly (inserting service_providers or allocations, which reference providers
 * and leads) come after the rows they reference are locked here, so they wait, never cycle.
 *
 * A failed `leads_raw` row is locked alone, by reprocessing, with none of the above held.
 */
import type { Tx } from './pool.js';

export interface LockedAllocationState {
  pointer: number;
  providersPerLead: number;
}

/** Step 1: null when the service does not exist. */
export async function lockAllocationState(
  tx: Tx,
  serviceId: number,
): Promise<LockedAllocationState | null> {
  const { rows } = await tx.query<{ pool_pointer: number; providers_per_lead: number }>(
    `SELECT st.pool_pointer, s.providers_per_lead
       FROM allocation_state st JOIN services s ON s.id = st.service_id
      WHERE st.service_id = $1
        FOR UPDATE OF st`,
    [serviceId],
  );
  const row = rows[0];
  return row ? { pointer: row.pool_pointer, providersPerLead: row.providers_per_lead } : null;
}

export interface LockedProvider {
  id: number;
  name: string;
  quota: number;
  remainingQuota: number;
  active: boolean;
}

/** Step 2: the providers among `ids` that exist, or every provider when `ids` is null. */
export async function lockProviders(tx: Tx, ids: number[] | null): Promise<LockedProvider[]> {
  const { rows } = await tx.query<{
    id: number;
    name: string;
    quota: number;
    remaining_quota: number;
    active: boolean;
  }>(
    `SELECT id, name, quota, remaining_quota, active FROM providers
      WHERE $1::int[] IS NULL OR id = ANY($1::int[])
      ORDER BY id FOR UPDATE`,
    [ids],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    quota: row.quota,
    remainingQuota: row.remaining_quota,
    active: row.active,
  }));
}

export interface LockedLead {
  id: string;
  status: string;
  serviceId: number | null;
}

/** Step 3: the leads among `ids` that exist. */
export async function lockLeads(tx: Tx, ids: string[]): Promise<LockedLead[]> {
  const { rows } = await tx.query<{ id: string; status: string; service_id: number | null }>(
    `SELECT id, status, service_id FROM leads WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return rows.map((row) => ({ id: row.id, status: row.status, serviceId: row.service_id }));
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
