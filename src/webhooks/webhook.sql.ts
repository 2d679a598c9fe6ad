import type { ResetProvider } from '../contracts/index.js';
import { lockProviders } from '../db/locks.sql.js';
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
 * Refills providers (all when `ids` is null); `before`: their quotas as they were. Archived
 * providers are inactive for good and are never refilled: not by a reset of all, and an
 * explicit id of an archived provider is skipped (not counted in `providers`).
 */
export async function resetProviderQuotas(
  tx: Tx,
  ids: number[] | null,
): Promise<{ before: ResetProvider[]; providers: ResetProvider[] }> {
  const locked = (await lockProviders(tx, ids)).filter((provider) => !provider.archived);
  const before = locked.map(({ id, name, quota, remainingQuota }) => ({
    id,
    name,
    quota,
    remainingQuota,
  }));
  const { rows } = await tx.query<{
    id: number;
    name: string;
    quota: number;
    remaining_quota: number;
  }>(
    `UPDATE providers SET remaining_quota = quota, updated_at = now()
      WHERE id = ANY($1::int[])
     RETURNING id, name, quota, remaining_quota`,
    [locked.map((provider) => provider.id)],
  );
  const providers = rows
    .map((row) => ({
      id: row.id,
      name: row.name,
      quota: row.quota,
      remainingQuota: row.remaining_quota,
    }))
    .sort((a, b) => a.id - b.id);
  return { before, providers };
}
