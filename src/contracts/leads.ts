import { z } from 'zod';
import { allocationRow } from './allocation.js';
import { allocationAttempt } from './rules.js';
import { queryInstant, queryLimit, storableText, textRowId, timestamp } from './common.js';
import { delivery } from './delivery.js';
import { storedEvent } from './events.js';

export const leadStatus = z.enum(['new', 'allocated', 'unallocated', 'duplicate', 'expired']);
export type LeadStatus = z.infer<typeof leadStatus>;

export const rawStatus = z.enum(['accepted', 'duplicate', 'rejected', 'failed', 'reprocessed']);
export type RawStatus = z.infer<typeof rawStatus>;

/** `from` must not be after `to`; both optional. Shared by every query with a time range. */
export function orderedRange<T extends { from?: string | undefined; to?: string | undefined }>(
  query: T,
): boolean {
  return !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to);
}
export const rangeMessage = { message: '`from` is after `to`', path: ['from'] };

/** The lead filters of SPEC §11, shared by the list and the CSV export. */
export const leadFilterFields = {
  status: leadStatus.optional(),
  serviceId: textRowId.optional(),
  providerId: textRowId.optional().describe('Leads allocated to this provider'),
  country: storableText(z.string().trim().min(1).max(64)).optional(),
  from: queryInstant.optional().describe('Created at or after'),
  to: queryInstant.optional().describe('Created before'),
  q: storableText(z.string().trim().min(1).max(200))
    .optional()
    .describe('Email, phone, name, idempotency key, lead id or its last 8+ hex digits'),
};

export const leadExportQuery = z
  .object(leadFilterFields)
  .strict()
  .refine(orderedRange, rangeMessage);
export type LeadFilter = z.infer<typeof leadExportQuery>;

export const leadListQuery = z
  .object({
    ...leadFilterFields,
    cursor: z.string().max(200).optional(),
    limit: queryLimit(200, 50),
  })
  .strict()
  .refine(orderedRange, rangeMessage);
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

export const rawListQuery = z
  .object({
    status: rawStatus.optional(),
    from: queryInstant.optional().describe('Received at or after'),
    to: queryInstant.optional().describe('Received before'),
    cursor: textRowId.optional().describe('`nextCursor` of the previous page'),
    limit: queryLimit(200, 50),
  })
  .strict()
  .refine(orderedRange, rangeMessage);
export type RawListQuery = Partial<z.infer<typeof rawListQuery>>;

/** A stored request in a list: its reason without its headers and body. */
export const rawRequestSummary = z.object({
  id: z.number().int(),
  endpoint: z.string(),
  requestId: z.string(),
  idempotencyKey: z.string().nullable(),
  receivedAt: timestamp,
  contentType: z.string().nullable(),
  remoteAddr: z.string().nullable(),
  status: rawStatus,
  error: z.string().nullable().describe('Why it was refused or failed'),
  leadId: z.uuid().nullable(),
  bodyBytes: z.number().int(),
});
export type RawRequestSummary = z.infer<typeof rawRequestSummary>;

export const rawPage = z.object({
  items: z.array(rawRequestSummary),
  nextCursor: z.string().nullable(),
});
export type RawPage = z.infer<typeof rawPage>;

export const rawRequestDetail = rawRequest.extend({ leadId: z.uuid().nullable() });
export type RawRequestDetail = z.infer<typeof rawRequestDetail>;

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
