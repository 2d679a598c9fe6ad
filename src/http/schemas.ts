import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { MAX_INTEGER_ID } from '../db/ids.js';

/** The spec's one error shape. */
export const errorBody = z
  .object({ ok: z.literal(false), error: z.string() })
  .catchall(z.unknown())
  .describe('`{ ok: false, error: code }`, sometimes with more fields such as `lead_id`');

export const allocatedProviderBody = z.object({
  id: z.number().int(),
  name: z.string(),
  role: z.enum(['static', 'pool']),
});

export const allocationResultBody = z.union([
  z.object({
    ok: z.literal(true),
    service_id: z.number().int(),
    providers: z.array(allocatedProviderBody),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

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

export const errorResponses = {
  400: errorBody,
  413: errorBody,
  415: errorBody,
  503: errorBody,
} as const;

/**
 * Validator for the raw-capture routes (POST /api/lead, /api/request-service): their schemas
 * document the API in OpenAPI, while the handler itself validates, after the raw row is
 * stored (raw-first). Running the Zod schemas as well cost ~7 µs of server CPU per request in
 * bench/ for a result nothing read.
 */
export const validatedByHandler: FastifySchemaCompiler<unknown> = () => (value) => ({ value });

/** A row id: a positive PostgreSQL integer. A larger one would fail its query (SPEC §8). */
export const rowId = z.number().int().positive().max(MAX_INTEGER_ID);

/**
 * Text PostgreSQL can store: no NUL, no lone UTF-16 surrogate. Either fails the query that
 * writes or looks it up, which was a 500 for a provider name or a webhook event id (SPEC §8).
 */
export const storableText = (schema: z.ZodString): z.ZodString =>
  schema.refine((value) => !value.includes('\u0000') && value.isWellFormed(), {
    message: 'contains a character that cannot be stored (NUL or a lone surrogate)',
  });
