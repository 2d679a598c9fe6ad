/**
 * Turns any JSON object into a lead: the known fields go to their columns (as text), every
 * other field is kept in `extra`. Nothing is rejected here; anything that PostgreSQL text or
 * jsonb cannot hold (NUL, lone surrogates) is cleaned, while the exact bytes stay in leads_raw.
 */

import { LEAD_COLUMNS, type LeadColumn } from '../contracts/lead-columns.js';

export type LeadFields = Record<LeadColumn, string | null>;

function camelCase(column: string): string {
  return column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Every accepted spelling of a column, snake_case first (it wins when both are sent). */
const ALIASES: ReadonlyMap<string, LeadColumn> = new Map(
  LEAD_COLUMNS.flatMap((column) => {
    const spellings = new Set([column, camelCase(column)]);
    if (column === 'sourcetype') {
      spellings.add('sourceType');
      spellings.add('source_type');
    }
    return [...spellings].map((spelling) => [spelling, column] as const);
  }),
);

/** Text PostgreSQL can store: no NUL, no lone UTF-16 surrogates. */
export function cleanText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/\u0000/g, '').toWellFormed();
}

/** A deep copy with every string (keys included) made storable as jsonb. */
export function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [cleanText(key), cleanJson(inner)]),
    );
  }
  return value;
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return cleanText(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return cleanText(JSON.stringify(value));
}

export interface NormalizedLead {
  fields: LeadFields;
  extra: Record<string, unknown>;
}

export function normalizeLead(payload: Record<string, unknown>): NormalizedLead {
  const fields = Object.fromEntries(LEAD_COLUMNS.map((column) => [column, null])) as LeadFields;
  // No prototype: `extra["__proto__"] = …` on a plain object sets its prototype instead of a
  // field, and a sender's `__proto__` field vanished from the lead (the raw bytes kept it).
  const extra = Object.create(null) as Record<string, unknown>;
  const entries = Object.entries(payload).sort(([a], [b]) => {
    // snake_case spellings first, so they win over their camelCase twins.
    const aSnake = ALIASES.get(a) === a ? 0 : 1;
    const bSnake = ALIASES.get(b) === b ? 0 : 1;
    return aSnake - bSnake;
  });
  for (const [key, value] of entries) {
    const column = ALIASES.get(key);
    if (column !== undefined && fields[column] === null && value !== null && value !== undefined) {
      fields[column] = asText(value);
    } else {
      extra[cleanText(key)] = cleanJson(value);
    }
  }
  return { fields, extra };
}

/**
 * `service` in a payload, as an id or a slug; undefined when the payload names none (absent,
 * null, or an empty string, as forms send). Any other value is a reference, which may name no
 * service (`1e400`, `-1`, `{}`): the lead's answer then says service_not_found rather than
 * silently treating it as no service.
 */
export function serviceReference(payload: Record<string, unknown>): number | string | undefined {
  const value = payload['service'] ?? payload['serviceId'] ?? payload['service_id'];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return undefined;
    return /^\d{1,10}$/.test(trimmed) ? Number(trimmed) : trimmed;
  }
  // Objects, arrays, booleans name no service: '' is no slug (`true` as text would be one).
  return '';
}
