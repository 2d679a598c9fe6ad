import type { Pool, Tx } from '../db/pool.js';

export const EVENTS_CHANNEL = 'leadflow_events';
// Held from the events insert to COMMIT, so event ids become visible in commit order and
// a reader that has seen id N can never later find an id below N appear.
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
 * Call it as the transaction's last statement: it holds the sequence lock until COMMIT.
 */
export async function appendEvents(tx: Tx, events: NewEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ ids: number[] }>(
    `WITH lock AS (SELECT pg_advisory_xact_lock($1)),
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

export async function selectEventsAfter(
  pool: Pool,
  afterId: number,
  limit: number,
): Promise<StoredEvent[]> {
  const { rows } = await pool.query<EventRow>(
    'SELECT id, type, payload, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2',
    [afterId, limit],
  );
  return rows.map(toStoredEvent);
}

export async function selectLatestEventId(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ id: number | null }>('SELECT max(id) AS id FROM events');
  return rows[0]?.id ?? 0;
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
