import { z } from 'zod';
import { allocationRow } from './allocation.js';
import { allocationAttempt } from './rules.js';
import { storableText, timestamp } from './common.js';
import { delivery } from './delivery.js';
import { storedEvent } from './events.js';

export const leadStatus = z.enum(['new', 'allocated', 'unallocated', 'duplicate', 'expired']);
export type LeadStatus = z.infer<typeof leadStatus>;

export const rawStatus = z.enum(['accepted', 'duplicate', 'rejected', 'failed', 'reprocessed']);
export type RawStatus = z.infer<typeof rawStatus>;

export const leadListQuery = z.object({
  status: leadStatus.optional(),
  q: storableText(z.string().trim().min(1).max(200)).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
/** What a client may send: every parameter is optional. */
export type LeadListQuery = Partial<z.infer<typeof leadListQuery>>;

export const leadSummary = z.object({
  id: z.uuid(),
  status: leadStatus,
  serviceId: z.number().int().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  country: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  createdAt: timestamp,
});
export type LeadSummary = z.infer<typeof leadSummary>;

export const leadPage = z.object({
  items: z.array(leadSummary),
  nextCursor: z.string().nullable(),
});
export type LeadPage = z.infer<typeof leadPage>;

export const leadParams = z.object({ id: z.uuid() });

const text = z.string().nullable();

/** A stored lead: the known fields of SPEC §4 normalised to text, every other field in `extra`. */
export const lead = z.object({
  id: z.uuid(),
  rawId: z.number().int(),
  sender: z.string(),
  idempotencyKey: text,
  status: leadStatus,
  serviceId: z.number().int().nullable(),
  createdAt: timestamp,
  extra: z.record(z.string(), z.unknown()),
  clickId: text,
  country: text,
  creo: text,
  description: text,
  domain: text,
  email: text,
  firstName: text,
  ip: text,
  lang: text,
  lastName: text,
  marker: text,
  offer: text,
  phone: text,
  sourcetype: text,
});
export type Lead = z.infer<typeof lead>;

/** A request exactly as it arrived (`leads_raw`). */
export const rawRequest = z.object({
  id: z.number().int(),
  endpoint: z.string(),
  requestId: z.string(),
  idempotencyKey: z.string().nullable(),
  receivedAt: timestamp,
  contentType: z.string().nullable(),
  remoteAddr: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  status: rawStatus,
  error: z.string().nullable(),
  bodyBase64: z.string().describe('The body exactly as received; base64, it may not be text'),
  bodyBytes: z.number().int(),
});
export type RawRequest = z.infer<typeof rawRequest>;

export const leadDetail = z.object({
  lead,
  raw: rawRequest.nullable(),
  duplicates: z.number().int().describe('Later requests that carried the same key'),
  allocations: z.array(allocationRow),
  decisions: z
    .array(allocationAttempt)
    .describe('Every allocation attempt, with each provider considered: taken or skipped and why'),
  deliveries: z.array(delivery),
  events: z.array(storedEvent),
});
export type LeadDetail = z.infer<typeof leadDetail>;

export const stats = z.object({
  leads: z.partialRecord(leadStatus, z.number().int()),
  leadsToday: z.number().int(),
  raw: z.partialRecord(rawStatus, z.number().int()),
  allocations: z.number().int(),
  rates: z.object({
    leadsPerSecond: z.number(),
    allocationsPerSecond: z.number(),
    windowSeconds: z.number().int(),
  }),
});
export type Stats = z.infer<typeof stats>;
