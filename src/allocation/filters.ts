/** Field filters of SPEC §10, over a lead's columns and `extra.<path>`. */
import type { Filter } from '../contracts/rules.js';

/** What a filter reads of a lead. */
export interface FilterableLead {
  fields: Readonly<Record<string, string | null>>;
  extra: unknown;
}

function valueAt(lead: FilterableLead, field: string): unknown {
  if (!field.startsWith('extra.')) return lead.fields[field] ?? null;
  let value: unknown = lead.extra;
  for (const key of field.slice('extra.'.length).split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    // Own keys only: `extra.__proto__` or `extra.constructor` must not reach Object.prototype.
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : null;
  }
  return value ?? null;
}

/** Strings and numbers compare as trimmed, lower-cased text; anything else has no text. */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value.trim().toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).toLowerCase();
  return null;
}

/** A decimal number as people write it; `Number()` would also read "0x10", "0b1" and "0o7". */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || !DECIMAL.test(value.trim())) return null;
  const parsed = Number(value.trim());
  return Number.isFinite(parsed) ? parsed : null;
}

function present(value: unknown): boolean {
  return (
    value !== null && value !== undefined && !(typeof value === 'string' && value.trim() === '')
  );
}

/**
 * Whether one filter holds. A missing field fails `eq`, `in`, `contains` and the numeric
 * operators, and satisfies `neq` and `not_in` (it is not any of those values).
 */
export function filterHolds(filter: Filter, lead: FilterableLead): boolean {
  const value = valueAt(lead, filter.field);
  const list = Array.isArray(filter.value) ? filter.value : [filter.value];
  const wanted = list.map(textOf);
  switch (filter.op) {
    case 'exists':
      return present(value);
    case 'missing':
      return !present(value);
    case 'eq':
    case 'in': {
      const text = textOf(value);
      return text !== null && wanted.includes(text);
    }
    case 'neq':
    case 'not_in': {
      const text = textOf(value);
      return text === null || !wanted.includes(text);
    }
    case 'contains': {
      const text = textOf(value);
      return text !== null && wanted[0] !== null && text.includes(wanted[0]!);
    }
    default: {
      const actual = numberOf(value);
      const bound = numberOf(filter.value);
      if (actual === null || bound === null) return false;
      if (filter.op === 'gt') return actual > bound;
      if (filter.op === 'gte') return actual >= bound;
      if (filter.op === 'lt') return actual < bound;
      return actual <= bound;
    }
  }
}

export function filtersHold(filters: readonly Filter[], lead: FilterableLead): boolean {
  return filters.every((filter) => filterHolds(filter, lead));
}
