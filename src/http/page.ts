/**
 * A page of a list read with `limit + 1` rows: the extra row only says that a next page exists.
 * A cursor offered whenever a page came back full sent clients (and the console's "Next") to an
 * empty last page when the total was a multiple of the limit.
 */
export function pageOf<T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => string,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}
