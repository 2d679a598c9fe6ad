import type { Pool, Tx } from '../db/pool.js';

export const EVENTS_CHANNEL = 'leadflow_events';
// Writers hold it shared from drawing ids to COMMIT; readers take it exclusive for an instant
// to learn which ids are final (migration 0003, events_horizon). Writers never wait for each
// other: an exclusive lock held through every writer's COMMIT round trip and WAL flush was
// 50–70 % of sampled backend time in bench/ and capped batches at ~5 requests per commit.
const EVENTS_LOCK_KEY = 7_264_231_002;

export type EventType =
  | 'lead.created'
  | 'lead.allocated'
  | 'lead.unallocated'
  | 'quota.reset'
  | 'provider.updated'
  | 'service.updated';

export interface NewEvent {
  type: EventType;
  payload: Record<string, unknown>;
}

export interface StoredEvent {
  id: number;
  type: EventType;
  payload: Record<string, unknown>;
  createdAt: string;
}

/**
 * Appends events inside the caller's transaction and notifies every instance on commit.
 * Best as the transaction's last statement: readers wait for its COMMIT before reading past it.
 */
export async function appendEvents(tx: Tx, events: NewEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ ids: number[] }>(
    `WITH lock AS (SELECT pg_advisory_xact_lock_shared($1)),
          input AS (SELECT type, payload, ord
                      FROM unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS e(type, payload, ord)),
          inserted AS (
            INSERT INTO events (id, type, payload)
            SELECT nextval('events_id_seq'), input.type, input.payload
              FROM lock, input
             ORDER BY input.ord
            RETURNING id)
     SELECT array_agg(id ORDER BY id) AS ids, pg_notify($4, max(id)::text) FROM inserted`,
    [
      EVENTS_LOCK_KEY,
      events.map((event) => event.type),
      events.map((event) => JSON.stringify(event.payload)),
      EVENTS_CHANNEL,
    ],
  );
  return rows[0]?.ids ?? [];
}

interface EventRow {
  id: number;
  type: EventType;
  payload: Record<string, unknown>;
  created_at: Date;
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    payload: row.payload,
    createdAt: row.created_at.toISOString(),
  };
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

/** Deletes events older than the retention window (the spec keeps at least 24 h). */
export async function deleteEventsOlderThan(pool: Pool, hours: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM events WHERE created_at < now() - make_interval(hours => $1)`,
    [hours],
  );
  return rowCount ?? 0;
}
