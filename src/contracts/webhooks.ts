import { z } from 'zod';
import { rowId, storableText } from './common.js';
import { provider } from './topology.js';

export const resetQuotaBody = z.object({
  eventId: storableText(z.string().min(1).max(255))
    .optional()
    .describe('Required unless the `webhook-id` header carries it'),
  providerIds: z.array(rowId).max(1000).optional().describe('Default: every provider'),
});
export type ResetQuotaBody = z.infer<typeof resetQuotaBody>;

export const resetQuotaResponse = z.union([
  z.object({ ok: z.literal(true), duplicate: z.literal(false), reset: z.number().int() }),
  z.object({ ok: z.literal(true), duplicate: z.literal(true) }),
]);
export type ResetQuotaResponse = z.infer<typeof resetQuotaResponse>;

/** A provider refilled by a reset, as the `quota.reset` event lists it. */
export const resetProvider = provider.pick({
  id: true,
  name: true,
  quota: true,
  remainingQuota: true,
});
export type ResetProvider = z.infer<typeof resetProvider>;
