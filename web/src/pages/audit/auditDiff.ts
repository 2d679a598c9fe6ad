import type { AuditEntry } from '../../../../src/contracts/index.js';

/** One changed field of an audit entry: where, and what it was and became (JSON text). */
export interface FieldChange {
  path: string;
  before: string;
  after: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}

/**
 * The fields that differ between an entry's before and after, nested objects walked by dotted
 * path (`delivery.timeoutMs`); arrays and values compared whole. A creation lists every field
 * of `after` against "—".
 */
export function auditDiff(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isPlainObject(before) || isPlainObject(after)) {
    const from = isPlainObject(before) ? before : {};
    const to = isPlainObject(after) ? after : {};
    if (!isPlainObject(before) && before !== null && before !== undefined) {
      return [{ path: path || '(value)', before: show(before), after: show(after) }];
    }
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((key) => auditDiff(from[key], to[key], path ? `${path}.${key}` : key));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || '(value)', before: show(before), after: show(after) }];
}

/**
 * What an entry is about, in words: `provider P1 (#1)`, `provider all`; for a quota reset also
 * its webhook event id, which is the same before and after and so never shows as a change —
 * without it, resets could not be told apart from one another (operator review).
 */
export function auditSubject(
  entry: Pick<AuditEntry, 'entity' | 'entityId' | 'before' | 'after'>,
): string {
  const named = [entry.before, entry.after].find(
    (side): side is { name: string } =>
      typeof side === 'object' &&
      side !== null &&
      typeof (side as { name?: unknown }).name === 'string',
  );
  const id = entry.entityId === null ? 'all' : `#${entry.entityId}`;
  const eventId = (entry.after as { eventId?: unknown } | null)?.eventId;
  const event = typeof eventId === 'string' ? ` · event ${eventId}` : '';
  return `${entry.entity} ${named ? `${named.name} (${id})` : id}${event}`;
}
