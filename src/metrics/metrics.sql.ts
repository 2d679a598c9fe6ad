import type { Pool } from '../db/pool.js';

export interface QueueDepths {
  unallocatedLeads: number;
  pendingDeliveries: number;
}

/**
 * Two counts that each read one small index: leads_status_created_at_idx (status first) and
 * deliveries_due_idx (pending rows only).
 */
export async function selectQueueDepths(pool: Pool): Promise<QueueDepths> {
  const { rows } = await pool.query<QueueDepths>(
    `SELECT (SELECT count(*)::int FROM leads WHERE status = 'unallocated') AS "unallocatedLeads",
            (SELECT count(*)::int FROM deliveries WHERE status = 'pending') AS "pendingDeliveries"`,
  );
  return rows[0]!;
}
