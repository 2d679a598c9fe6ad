import { uuidv7 } from '../db/ids.js';
import type { Pool, Tx } from '../db/pool.js';
import type { AllocationRow, Role } from '../contracts/index.js';

export interface ServiceRef {
  id: number;
  slug: string;
}

export async function selectServiceByReference(
  pool: Pool,
  reference: number | string,
): Promise<ServiceRef | null> {
  const { rows } = await pool.query<ServiceRef>(
    typeof reference === 'number'
      ? 'SELECT id, slug FROM services WHERE id = $1 AND archived_at IS NULL'
      : 'SELECT id, slug FROM services WHERE slug = $1 AND archived_at IS NULL',
    [reference],
  );
  return rows[0] ?? null;
}

export interface Membership {
  staticIds: number[];
  poolIds: number[];
}

export async function selectMembership(db: Pool | Tx, serviceId: number): Promise<Membership> {
  const { rows } = await db.query<{ provider_id: number; role: Role }>(
    `SELECT provider_id, role FROM service_providers WHERE service_id = $1 ORDER BY role, position`,
    [serviceId],
  );
  return {
    staticIds: rows.filter((row) => row.role === 'static').map((row) => row.provider_id),
    poolIds: rows.filter((row) => row.role === 'pool').map((row) => row.provider_id),
  };
}

export interface NewAllocation {
  leadId: string;
  providerId: number;
  role: Role;
}

/**
 * Writes a batch's outcome: allocations, their deliveries (the outbox of SPEC §9: one per
 * allocation to a provider with an endpoint, in the same statement, so neither exists without
 * the other), quota decrements, lead statuses and the pointer. Returns the deliveries queued.
 */
export async function writeAllocations(
  tx: Tx,
  serviceId: number,
  allocations: NewAllocation[],
  leadStatuses: { leadId: string; status: 'allocated' | 'unallocated' }[],
  pointer: number,
): Promise<number> {
  let queued = 0;
  if (allocations.length > 0) {
    const { rows } = await tx.query<{ queued: number }>(
      `WITH input AS (
         SELECT * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::uuid[])
                    AS a(lead_id, provider_id, role, delivery_id)),
       inserted AS (
         INSERT INTO allocations (lead_id, service_id, provider_id, role)
         SELECT lead_id, $1, provider_id, role FROM input
         RETURNING id, lead_id, provider_id),
       queued AS (
         INSERT INTO deliveries (id, lead_id, provider_id, allocation_id)
         SELECT input.delivery_id, inserted.lead_id, inserted.provider_id, inserted.id
           FROM inserted JOIN input USING (lead_id, provider_id)
          WHERE EXISTS (SELECT 1 FROM provider_delivery c WHERE c.provider_id = inserted.provider_id)
         RETURNING 1)
       UPDATE providers p SET remaining_quota = p.remaining_quota - d.taken, updated_at = now()
         FROM (SELECT provider_id, count(*)::int AS taken FROM input GROUP BY provider_id) d
        WHERE p.id = d.provider_id
       RETURNING (SELECT count(*)::int FROM queued) AS queued`,
      [
        serviceId,
        allocations.map((allocation) => allocation.leadId),
        allocations.map((allocation) => allocation.providerId),
        allocations.map((allocation) => allocation.role),
        // Drawn for every allocation, used for those whose provider has an endpoint: whether
        // it has one is decided in the statement, under the provider locks a configuration
        // change also takes.
        allocations.map(() => uuidv7()),
      ],
    );
    queued = rows[0]?.queued ?? 0;
  }
  await tx.query(
    `WITH statuses AS (
       UPDATE leads l SET status = s.status, service_id = $1
         FROM unnest($2::uuid[], $3::text[]) AS s(lead_id, status)
        WHERE l.id = s.lead_id)
     UPDATE allocation_state SET pool_pointer = $4 WHERE service_id = $1`,
    [
      serviceId,
      leadStatuses.map((lead) => lead.leadId),
      leadStatuses.map((lead) => lead.status),
      pointer,
    ],
  );
  return queued;
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
  pool: Pool,
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
