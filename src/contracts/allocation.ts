import { z } from 'zod';
import { queryLimit, timestamp } from './common.js';
import { skipped } from './rules.js';
import { role } from './topology.js';

/** A provider as a lead got it. */
export const pickedProvider = z.object({ id: z.number().int(), name: z.string(), role });
export type PickedProvider = z.infer<typeof pickedProvider>;

/** One allocation: one row per provider a lead went to. */
export const allocationRow = z.object({
  leadId: z.uuid(),
  serviceId: z.number().int(),
  providerId: z.number().int(),
  providerName: z.string(),
  role,
  allocatedAt: timestamp,
});
export type AllocationRow = z.infer<typeof allocationRow>;

export const allocationsQuery = z.object({ limit: queryLimit(500, 50) }).strict();
export type AllocationsQuery = z.infer<typeof allocationsQuery>;

/** SPEC §4 fixes these two answers' snake_case (`lead_id`, `service_id`): senders read them. */
export const allocationAnswer = z.union([
  z.object({
    ok: z.literal(true),
    service_id: z.number().int(),
    providers: z.array(pickedProvider),
  }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    duplicate_of: z.uuid().optional(),
    skipped: skipped.optional(),
  }),
]);
export type AllocationAnswer = z.infer<typeof allocationAnswer>;

export const requestServiceBody = z
  .object({ serviceId: z.union([z.number().int().positive(), z.string()]) })
  .catchall(z.unknown())
  .describe('`serviceId` plus any contact fields (stored as a lead, like `POST /api/lead`)');

export const allocatedResponse = z.object({
  ok: z.literal(true),
  lead_id: z.uuid(),
  service_id: z.number().int(),
  providers: z.array(pickedProvider),
  deduplicated: z.boolean(),
});
export type AllocatedResponse = z.infer<typeof allocatedResponse>;
