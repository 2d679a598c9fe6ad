import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { refreshReportRollup } from './rollup.sql.js';

const REFRESH_EVERY_MS = 60_000;
/** The first run waits until the instance has settled in (its pool warm, its listeners up). */
const FIRST_RUN_AFTER_MS = 10_000;

/**
 * Keeps report_hourly current: 10 s after start (the first run ever rolls up all history),
 * then every minute the last 48 hours, so a status that changes late is counted within a minute while
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
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    refresh();
    timer = setInterval(refresh, REFRESH_EVERY_MS);
    timer.unref();
  }, FIRST_RUN_AFTER_MS);
  first.unref();
  // Stopping waits for a run in flight, so the pool is not closed under it.
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
