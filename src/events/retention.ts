import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { deleteEventsOlderThan } from './events.sql.js';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Deletes events past the retention window once an hour. Every instance may run it: the
 * DELETE is idempotent and cheap on the created_at index.
 */
export function startEventRetention(pool: Pool, hours: number, logger: Logger): () => void {
  const sweep = async (): Promise<void> => {
    try {
      const deleted = await deleteEventsOlderThan(pool, hours);
      if (deleted > 0) logger.info({ deleted, retentionHours: hours }, 'old events deleted');
    } catch (error) {
      logger.warn({ err: error }, 'event retention sweep failed');
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
