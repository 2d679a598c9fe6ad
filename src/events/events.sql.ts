import type { EventType, NewEvent, StoredEvent } from '../contracts/index.js';
import { afterCommit, type Pool, type Tx } from '../db/pool.js';
import type { EventsCommitted } from './events-committed.js';

export const EVENTS_CHANNEL = 'leadflow_events';
// Writers announce the lowest id they may draw with an uncontended advisory lock held to
// COMMIT; readers only look at pg_locks (migration 0003, events_horizon). An exclusive ordering
// lock held through every writer's COMMIT round trip and WAL flush was 50–70 % of sampled
// backend time in bench/ and capped batches at ~5 requests per commit.

/**
 * The CTE every event writer starts with (see the comment at the top): an uncontended shared
 * advisory lock on 2^62 + (the sequence's last value + 1), held to COMMIT. Join it into the
 * SELECT that calls nextval('events_id_seq') so the announcement happens before the first id
 * is drawn.
 */
export const ANNOUNCE_EVENT_WRITER = `announce AS (
    SELECT pg_advisory_xact_lock_shared(
             (1::bigint << 62) + 1 +
             (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq)))`;

/**
 * The CTEs that insert a list of events, for a statement that writes other rows too: the
 * writer's announcement, then `appended_events` (RETURNING id), ids drawn in the list's order.
 * `$types` and `$payloads` are the placeholders of `eventValues(events)`; `where` may keep only
 * some of them, by their 1-based position `ord` (events of the rows the statement changed).
 */
export function appendEventsCtes(types: string, payloads: string, where = ''): string {
  return `${ANNOUNCE_EVENT_WRITER},
    event_input AS (
      SELECT type, payload, ord
        FROM unnest(${types}::text[], ${payloads}::jsonb[]) WITH ORDINALITY AS e(type, payload, ord)
       ${where}),
    appended_events AS (
      INSERT INTO events (id, type, payload)
      SELECT nextval('events_id_seq'), event_input.type, event_input.payload
        FROM announce, event_input
       ORDER BY event_input.ord
      RETURNING id)`;
}

/** The two parameters appendEventsCtes reads: the events' types and their JSON payloads. */
export function eventValues(events: NewEvent[]): [string[], string[]] {
  return [events.map((event) => event.type), events.map((event) => JSON.stringify(event.payload))];
}

/**
 * Appends events inside the caller's transaction and announces them on `committed` once it
 * commits. No NOTIFY here: PostgreSQL serialises the commits of notifying transactions on one
 * lock (bench/: Lock:object 11–18 % of backend time), so the hub sends a single coalesced
 * NOTIFY after commit instead.
 */
export async function appendEvents(
  tx: Tx,
  committed: EventsCommitted,
  events: NewEvent[],
): Promise<number[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ ids: number[] }>(
    `WITH ${appendEventsCtes('$1', '$2')}
     SELECT array_agg(id ORDER BY id) AS ids FROM appended_events`,
    eventValues(events),
  );
  afterCommit(tx, () => committed.announce());
  return rows[0]?.ids ?? [];
}

interface EventRow {
  id: number;
  type: EventType;
  payload: Record<string, unknown>;
  created_at: Date;
}

function toStoredEvent(row: EventRow): StoredEvent {
  // Every row was written through appendEvents or the ingest CTE, whose payloads the contract
  // types; parsing each again on the stream's hot path would only re-check that.
  return {
    id: row.id,
    type: row.type,
    payload: row.payload,
    createdAt: row.created_at.toISOString(),
  } as StoredEvent;
}

/** Events with `afterId < id <= upTo`, where `upTo` came from `selectEventsHorizon`. */
export async function selectEventsBetween(
  pool: Pool,
  afterId: number,
  upTo: number,
  limit: number,
): Promise<StoredEvent[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT id, type, payload, created_at FROM events
      WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`,
    [afterId, upTo, limit],
  );
  return rows.map(toStoredEvent);
}

/**
 * The highest event id below which nothing can still appear. Read the events up to it in a
 * later statement: this one's snapshot predates the commits it waited for.
 */
export async function selectEventsHorizon(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ horizon: number }>('SELECT events_horizon() AS horizon');
  return rows[0]?.horizon ?? 0;
}

/** The SSE frame of an event; built once and written to every subscriber. */
export function formatEvent(event: StoredEvent): string {
  const data = JSON.stringify({ ...event.payload, at: event.createdAt });
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

export async function selectEventsForLead(pool: Pool, leadId: string): Promise<StoredEvent[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT id, type, payload, created_at FROM events
      WHERE payload->>'leadId' = $1 ORDER BY id`,
    [leadId],
  );
  return rows.map(toStoredEvent);
}

/**
 * Deletes events older than the retention window (the spec keeps at least 24 h). The boundary
 * is the lowest id created inside the window, found by walking the primary key from its old
 * end; every lower id was created before the window (a later one would be the boundary).
 */
export async function deleteEventsOlderThan(pool: Pool, hours: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM events
      WHERE id < coalesce(
              (SELECT id FROM events
                WHERE created_at >= now() - make_interval(hours => $1)
                ORDER BY id LIMIT 1),
              (SELECT max(id) + 1 FROM events))`,
    [hours],
  );
  return rowCount ?? 0;
}
