import { z } from 'zod';

/** PostgreSQL's `integer`, the type of every serial id here: larger ids cannot exist. */
export const MAX_INTEGER_ID = 2_147_483_647;

/** A row id: a positive PostgreSQL integer. A larger one would fail its query (SPEC §8). */
export const rowId = z.number().int().positive().max(MAX_INTEGER_ID);

/** A row id as text (a path or a query parameter): decimal digits only (no `0x10`, `1e3`, ` 1`). */
export const textRowId = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a positive integer id')
  .transform(Number)
  .pipe(rowId);

/** An id in a path: `/api/providers/7`. */
export const idParams = z.object({ id: textRowId });

/**
 * A page size in a query string. Decimal digits only: `z.coerce.number()` took `0x10`, `1e1`
 * and ` 5` (JavaScript's Number() reads them all), which SPEC §11 refuses.
 */
export const queryLimit = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, 'a positive whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);

/** An instant in a query string (`from`, `to`): ISO 8601 with `Z` or an offset. */
export const queryInstant = z.iso
  .datetime({ offset: true })
  .describe('ISO 8601 instant, e.g. 2026-12-01T00:00:00Z');

/**
 * Text PostgreSQL can store: no NUL, no lone UTF-16 surrogate. Either fails the query that
 * writes or looks it up, which was a 500 for a provider name or a webhook event id (SPEC §8).
 */
export const storableText = (schema: z.ZodString): z.ZodString =>
  schema.refine((value) => !value.includes('\u0000') && value.isWellFormed(), {
    message: 'contains a character that cannot be stored (NUL or a lone surrogate)',
  });

/**
 * A name people read in the console, the audit log and exports: storable, and without control
 * characters (a newline or an escape sequence in a provider's name broke table rows and CSV
 * cells, and could rewrite an operator's terminal reading the logs).
 */
export const displayName = (schema: z.ZodString): z.ZodString =>
  storableText(schema).refine((value) => !/\p{Cc}/u.test(value), {
    message: 'contains a control character (newline, tab, escape, …)',
  });

/** What a field of a refused configuration body got wrong, for showing next to its input. */
export const fieldError = z.object({ path: z.string(), message: z.string() });
export type FieldError = z.infer<typeof fieldError>;

/** The spec's one error shape. */
export const errorBody = z
  .object({ ok: z.literal(false), error: z.string() })
  .catchall(z.unknown())
  .describe(
    '`{ ok: false, error: code }`, sometimes with more: `lead_id` (ingestion), `details` ' +
      '(`[{path, message}]`), `providerIds` (`unknown_provider`)',
  );
export type ErrorBody = z.infer<typeof errorBody>;

export const okBody = z.object({ ok: z.literal(true) });
export type OkBody = z.infer<typeof okBody>;

/** An instant, as ISO 8601 text in UTC. */
export const timestamp = z.iso.datetime();
