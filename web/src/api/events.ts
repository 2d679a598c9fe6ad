import type { QueryClient } from '@tanstack/react-query';
import type { LiveEvent } from '../../../src/contracts/index.js';

/**
 * The events of `/api/events` the page has applied, newest last: the queries they change
 * re-apply the ones that arrived while a fetch was under way, since its answer may predate
 * them. A fetch takes well under a second; this many events cover one under heavy load.
 */
const RECENT_EVENTS_KEY = ['events', 'recent'] as const;
const RECENT_EVENTS_KEPT = 1000;

function recentEvents(client: QueryClient): LiveEvent[] {
  return client.getQueryData<LiveEvent[]>(RECENT_EVENTS_KEY) ?? [];
}

/**
 * Notes an event as applied; false when it already was. The server sends every event once
 * and in id order, so an id not above the last one is a repeat.
 */
export function recordEvent(client: QueryClient, event: LiveEvent): boolean {
  const recent = recentEvents(client);
  if (event.id <= (recent.at(-1)?.id ?? 0)) return false;
  client.setQueryData(RECENT_EVENTS_KEY, [...recent.slice(1 - RECENT_EVENTS_KEPT), event]);
  return true;
}

/** `load()`'s answer with the events that arrived while it was loading applied over it. */
export async function withEventsDuring<T>(
  client: QueryClient,
  load: () => Promise<T>,
  apply: (data: T, event: LiveEvent) => T,
): Promise<T> {
  const seen = recentEvents(client).at(-1)?.id ?? 0;
  const data = await load();
  return recentEvents(client)
    .filter((event) => event.id > seen)
    .reduce(apply, data);
}

/** The list with `item` in place of the one with its id, or added in id order. */
export function upsertById<T extends { id: number }>(items: T[], item: T): T[] {
  return items.some((existing) => existing.id === item.id)
    ? items.map((existing) => (existing.id === item.id ? item : existing))
    : [...items, item].sort((a, b) => a.id - b.id);
}
