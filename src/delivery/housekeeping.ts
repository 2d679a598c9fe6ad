import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { deleteDeliveryTestsOlderThan } from './delivery.sql.js';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Deletes "send a test lead" answers older than `days`, once an hour, like event retention
 * (src/events/retention.ts): each test adds a row with up to 2 KiB of the buyer's answer and
 * nothing else ever removes them. Every instance may run it: the DELETE is idempotent.
 * Returns the function that stops it.
 */
export function startDeliveryTestRetention(pool: Pool, days: number, logger: Logger): () => void {
  const sweep = async (): Promise<void> => {
    try {
      const deleted = await deleteDeliveryTestsOlderThan(pool, days);
      if (deleted > 0) logger.info({ deleted, retentionDays: days }, 'old delivery tests deleted');
    } catch (error) {
      logger.warn({ err: error }, 'delivery test retention sweep failed');
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
