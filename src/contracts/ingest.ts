import { z } from 'zod';
import { allocationAnswer } from './allocation.js';

export const leadBody = z
  .record(z.string(), z.unknown())
  .describe(
    'Any JSON object (or form fields). Known fields fill columns, all others go to `extra`. ' +
      'Name a service (`service`: id or slug) to allocate the lead at once.',
  );

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('1–255 printable characters; a retry with the same key returns the first lead'),
  'x-request-id': z.string().optional(),
});

/** SPEC §4 fixes this answer's snake_case (`lead_id`): senders read it. */
export const ingestResponse = z.object({
  ok: z.literal(true),
  lead_id: z.uuid(),
  deduplicated: z.boolean(),
  allocation: allocationAnswer.optional(),
});
export type IngestResponse = z.infer<typeof ingestResponse>;
