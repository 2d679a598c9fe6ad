import { z } from 'zod';
import { queryInstant, textRowId, timestamp } from './common.js';
import { orderedRange, rangeMessage } from './leads.js';

export const reportInterval = z.enum(['hour', 'day']);
export type ReportInterval = z.infer<typeof reportInterval>;

export const volumeQuery = z
  .object({
    interval: reportInterval.default('day'),
    from: queryInstant
      .optional()
      .describe('Default: 7 days (interval=day) or 48 hours before `to`'),
    to: queryInstant.optional().describe('Default: now'),
    serviceId: textRowId.optional(),
    providerId: textRowId.optional(),
  })
  .strict()
  .refine(orderedRange, rangeMessage);
export type VolumeQuery = Partial<z.infer<typeof volumeQuery>>;

/** One UTC hour or day. Lead counts by the lead's creation, deliveries by their creation. */
export const volumeBucket = z.object({
  bucket: timestamp,
  leads: z.number().int(),
  allocated: z.number().int(),
  unallocated: z.number().int(),
  duplicates: z.number().int().describe('Requests that repeated an earlier idempotency key'),
  delivered: z.number().int(),
  failed: z.number().int(),
});
export type VolumeBucket = z.infer<typeof volumeBucket>;
export const volumeReport = z.array(volumeBucket);

export const providersReportQuery = z
  .object({
    from: queryInstant.optional().describe('Default: the start of the current UTC day'),
    to: queryInstant.optional().describe('Default: now'),
  })
  .strict()
  .refine(orderedRange, rangeMessage);
export type ProvidersReportQuery = Partial<z.infer<typeof providersReportQuery>>;

export const providerReportRow = z.object({
  providerId: z.number().int(),
  name: z.string(),
  allocated: z.number().int(),
  delivered: z.number().int(),
  rejected: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
});
export type ProviderReportRow = z.infer<typeof providerReportRow>;
export const providersReport = z.array(providerReportRow);
