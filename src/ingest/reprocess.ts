import type { Logger } from 'pino';
import { TOO_DEEP, UNSUPPORTED, isPlainObject, parseStoredBody } from './parse.js';
import { transaction, type Pool } from '../db/pool.js';
import { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { rejectFailedRaw, reprocessRaw, selectFailedRaw } from './ingest.sql.js';
import { normalizeLead } from './normalize.js';
import { uuidv7 } from '../db/ids.js';

export interface ReprocessSummary {
  created: number;
  duplicates: number;
  /** Failed rows whose body today's rules refuse (e.g. deeper than 64 levels): now `rejected`. */
  rejected: number;
  stillFailing: number;
}

/**
 * Runs normalisation again over raw rows marked `failed`. Idempotent: each row is locked and
 * moved to `reprocessed` (or `duplicate`, when its key got a lead meanwhile) in the same
 * transaction that writes its lead, so a second run finds nothing left to do.
 */
export async function reprocessFailed(pool: Pool, logger: Logger): Promise<ReprocessSummary> {
  const summary: ReprocessSummary = { created: 0, duplicates: 0, rejected: 0, stillFailing: 0 };
  // No hub listens in this process; the servers' safety poll picks the events up.
  const committed = new EventsCommitted();
  let afterId = 0;
  for (;;) {
    const rows = await selectFailedRaw(pool, afterId, 100);
    if (rows.length === 0) return summary;
    for (const row of rows) {
      afterId = row.id;
      const payload = parseStoredBody(row.content_type, row.body);
      if (!isPlainObject(payload)) {
        // Stored `failed` by an older version that choked on it (a 500 then); the live path
        // refuses it today, so it becomes the refusal it would be now, with the same reason.
        const reason = payload === TOO_DEEP ? 'too_deep' : refusalReason(payload);
        if (await rejectFailedRaw(pool, row.id, reason)) summary.rejected++;
        continue;
      }
      const { fields, extra } = normalizeLead(payload);
      try {
        const result = await transaction(pool, async (tx) => {
          const outcome = await reprocessRaw(tx, row.id, {
            id: uuidv7(),
            fields,
            extra,
            serviceId: null,
          });
          if (outcome?.created) {
            await appendEvents(tx, committed, [
              {
                type: 'lead.created',
                payload: { leadId: outcome.leadId, endpoint: row.endpoint, serviceId: null },
              },
            ]);
          }
          return outcome;
        });
        if (result?.created) summary.created++;
        else if (result) summary.duplicates++;
      } catch (error) {
        summary.stillFailing++;
        logger.warn({ err: error, rawId: row.id }, 'raw row still fails normalisation');
      }
    }
  }
}

function refusalReason(payload: unknown): string {
  return payload === UNSUPPORTED ? 'unsupported_media_type' : 'invalid_payload';
}
