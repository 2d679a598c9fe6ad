import { z } from 'zod';

export const securityCounters = z.object({
  unauthorized: z
    .object({
      ingest: z.number().int(),
      admin: z.number().int(),
      webhook: z.number().int(),
      login: z.number().int(),
      demoBuyer: z
        .number()
        .int()
        .describe('The built-in demo buyer, which answers only requests signed by this server'),
    })
    .describe('Refused for missing or wrong credentials, by the surface that refused them'),
  rateLimited: z.number().int(),
  shed: z
    .number()
    .int()
    .describe('Answered 503 because the event loop or the database backlog was saturated'),
});
export type SecurityCounters = z.infer<typeof securityCounters>;

export const health = z.object({ ok: z.literal(true), timestamp: z.string() });
export type Health = z.infer<typeof health>;

export const notReady = z.object({ ok: z.literal(false), error: z.literal('unavailable') });
