import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { refreshReportRollup } from './rollup.sql.js';

const REFRESH_EVERY_MS = 60_000;

/**
 * Keeps report_hourly current: once at start (the first run rolls up all history), then every
 * minute the last 48 hours, so a status that changes late is counted within a minute while
 * its hour is recent. Every instance runs it; the advisory lock lets one do the work.
 */
export function startReportRollup(pool: Pool, logger: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const refresh = (): void => {
    // A slow run (the first backfill) must not overlap the next tick on the same instance.
    if (running) return;
    running = refreshReportRollup(pool)
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error }, 'report rollup refresh failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  refresh();
  const timer = setInterval(refresh, REFRESH_EVERY_MS);
  timer.unref();
  // Stopping waits for a run in flight, so the pool is not closed under it.
  return async () => {
    clearInterval(timer);
    await running;
  };
}
