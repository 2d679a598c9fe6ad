import type { ResetProvider } from '../contracts/index.js';
import type { Tx } from '../db/pool.js';

/** Records a webhook event id; false when it was recorded before (by any copy, at any time). */
export async function claimWebhookEvent(tx: Tx, eventId: string, kind: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO webhook_events (event_id, kind) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`,
    [eventId, kind],
  );
  return rowCount === 1;
}

export async function recordWebhookResult(tx: Tx, eventId: string, result: unknown): Promise<void> {
  await tx.query('UPDATE webhook_events SET result = $2 WHERE event_id = $1', [
    eventId,
    JSON.stringify(result),
  ]);
}

/**
 * Refills providers (all when `ids` is null), locking them in ascending id order like
 * allocation does, so a reset and allocations never deadlock.
 */
export async function resetProviderQuotas(tx: Tx, ids: number[] | null): Promise<ResetProvider[]> {
  const { rows } = await tx.query<{
    id: number;
    name: string;
    quota: number;
    remaining_quota: number;
  }>(
    `WITH locked AS (
       SELECT id FROM providers WHERE $1::int[] IS NULL OR id = ANY($1::int[]) ORDER BY id FOR UPDATE)
     UPDATE providers p SET remaining_quota = p.quota, updated_at = now()
       FROM locked WHERE p.id = locked.id
     RETURNING p.id, p.name, p.quota, p.remaining_quota`,
    [ids],
  );
  return rows
    .map((row) => ({
      id: row.id,
      name: row.name,
      quota: row.quota,
      remainingQuota: row.remaining_quota,
    }))
    .sort((a, b) => a.id - b.id);
}
