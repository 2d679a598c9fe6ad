import type { AuditAction, AuditEntity, AuditEntry, AuditQuery } from '../contracts/index.js';
import type { Pool, Tx } from '../db/pool.js';

export interface NewAuditEntry {
  actor: string;
  action: AuditAction;
  entity: AuditEntity;
  entityId: string | number | null;
  before: unknown;
  after: unknown;
}

/**
 * Takes the transaction of the change it records, so the type system forbids an audit row
 * that could commit without its change, or a change that could commit without its row.
 */
export async function insertAudit(tx: Tx, entry: NewAuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      entry.actor,
      entry.action,
      entry.entity,
      entry.entityId === null ? null : String(entry.entityId),
      // JSON text: pg would send a JS array as a PostgreSQL array literal, not jsonb.
      entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after),
    ],
  );
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: AuditAction;
  entity: AuditEntity;
  entity_id: string | null;
  before: unknown;
  after: unknown;
}

/** Newest first, `limit` rows older than `cursor` (an id); the primary key serves it. */
export async function selectAudit(db: Pool | Tx, query: AuditQuery): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text, at, actor, action, entity, entity_id, before, after
       FROM audit_log
      WHERE $1::bigint IS NULL OR id < $1::bigint
      -- The table's id: a bare \`id\` would be the text alias above, where "9" > "10".
      ORDER BY audit_log.id DESC
      LIMIT $2`,
    [query.cursor ?? null, query.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    entity: row.entity,
    entityId: row.entity_id,
    before: row.before,
    after: row.after,
  }));
}
