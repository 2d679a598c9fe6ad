import type { Logger } from 'pino';
import { isPlainObject, parseStoredBody } from '../http/body.js';
import { transaction, type Pool } from '../db/pool.js';
import { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { reprocessRaw, selectFailedRaw } from './ingest.sql.js';
import { normalizeLead } from './normalize.js';
import { uuidv7 } from '../db/ids.js';

export interface ReprocessSummary {
  created: number;
  duplicates: number;
  stillFailing: number;
}

/**
 * Runs normalisation again over raw rows marked `failed`. Idempotent: each row is locked and
 * moved to `reprocessed` (or `duplicate`, when its key got a lead meanwhile) in the same
 * transaction that writes its lead, so a second run finds nothing left to do.
 */
export async function reprocessFailed(pool: Pool, logger: Logger): Promise<ReprocessSummary> {
  const summary: ReprocessSummary = { created: 0, duplicates: 0, stillFailing: 0 };
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
        summary.stillFailing++;
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
                payload: { leadId: outcome.leadId, endpoint: row.endpoint, reprocessed: true },
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
