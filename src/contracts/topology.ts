import { z } from 'zod';
import { displayName, rowId, timestamp } from './common.js';
import { deliveryConfigInput, deliveryConfigView, deliveryState } from './delivery.js';
import { backlogHours, capUsage, caps, dedupe, filters, schedule, timeZone } from './rules.js';

/**
 * A service slug: lowercase letters, digits and dashes, at most 63, and at least one letter —
 * an all-digit slug such as "2" would be shadowed by service id 2 wherever a service is named
 * by id or slug (SPEC §8).
 */
export const SLUG_PATTERN = /^(?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]{0,62}$/;

export const role = z.enum(['static', 'pool']);
export type Role = z.infer<typeof role>;

export const provider = z.object({
  id: z.number().int(),
  name: z.string(),
  quota: z.number().int(),
  remainingQuota: z.number().int(),
  active: z.boolean(),
  archivedAt: timestamp.nullable().describe('Set once archived: never allocated, not editable'),
  timezone: z.string(),
  caps,
  schedule,
  filters,
});
export type Provider = z.infer<typeof provider>;

/** A provider as reads show it: with its delivery endpoint (masked) and that endpoint's health. */
export const providerView = provider.extend({
  deliveryState,
  delivery: deliveryConfigView.nullable(),
  capUsage: capUsage.describe("Allocations in each cap's current period, in the provider's zone"),
  capped: z.boolean().describe('A cap is reached for its current period'),
  openNow: z.boolean().describe('Inside its schedule now (always, without one)'),
});
export type ProviderView = z.infer<typeof providerView>;

export const service = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  providersPerLead: z.number().int(),
  static: z.array(z.number().int()),
  pool: z.array(z.number().int()),
  pointer: z.number().int().describe('Index into `pool` where the next round-robin walk starts'),
  archivedAt: timestamp
    .nullable()
    .describe('Set once archived: `service_not_found` to senders, not editable'),
  dedupe: dedupe.nullable(),
  backlogHours: z.number().int(),
  backlog: z.number().int().describe('Unallocated leads waiting for a retry'),
});
export type Service = z.infer<typeof service>;

export const serviceChange = z.object({
  service,
  warnings: z.array(z.string()).describe('Set when the membership can never fill a lead'),
});
export type ServiceChange = z.infer<typeof serviceChange>;

const quota = z.number().int().min(0).max(1_000_000_000);
const providerIds = z.array(rowId).max(1000);
const slug = z
  .string()
  .trim()
  .regex(SLUG_PATTERN, 'lowercase letters, digits and dashes, with at least one letter');

export const providerPatch = z
  .object({
    name: displayName(z.string().trim().min(1).max(100)),
    quota,
    remainingQuota: quota,
    active: z.boolean(),
    delivery: deliveryConfigInput.nullable().describe('The delivery endpoint; null removes it'),
    timezone: timeZone,
    caps,
    schedule,
    filters,
  })
  .partial()
  .strict();
export type ProviderPatch = z.infer<typeof providerPatch>;

export const newProvider = providerPatch
  .omit({ delivery: true })
  .required({ name: true, quota: true });
export type NewProvider = z.infer<typeof newProvider>;

export const servicePatch = z
  .object({
    slug,
    name: displayName(z.string().trim().min(1).max(200)),
    providersPerLead: z.number().int().min(1).max(100),
    static: providerIds,
    pool: providerIds,
    dedupe: dedupe.nullable().describe('The duplicate window; null removes it'),
    backlogHours,
  })
  .partial()
  .strict();
export type ServicePatch = z.infer<typeof servicePatch>;

export const newService = servicePatch.required({ slug: true, name: true });
export type NewService = z.infer<typeof newService>;

/** `GET /api/providers` and `/api/services`: archived ones only when asked for. */
export const topologyListQuery = z
  .object({
    archived: z
      .enum(['exclude', 'include'])
      .default('exclude')
      .describe('`include` lists archived ones too (with `archivedAt` set)'),
  })
  .strict();
export type TopologyListQuery = z.infer<typeof topologyListQuery>;
