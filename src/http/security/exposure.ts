import type { Logger } from 'pino';
import type { Config } from '../../config.js';

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

/** What a production instance reachable from other machines leaves open; empty when nothing. */
export function exposureWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.INGEST_API_KEYS.some((key) => key.length < 16)) {
    warnings.push('INGEST_API_KEYS holds a key shorter than 16 characters: use long random keys');
  }
  if (config.NODE_ENV !== 'production' || LOOPBACK_HOST.test(config.HOST)) return warnings;
  if (config.INGEST_API_KEYS.length === 0) {
    warnings.push('ingestion is open: INGEST_API_KEYS is not set, anyone can send leads');
  }
  if (!config.ADMIN_TOKEN) {
    warnings.push(
      'the dashboard, read/config APIs and event stream are open: ADMIN_TOKEN is not set',
    );
  }
  if (!config.WEBHOOK_SECRET) {
    warnings.push('the quota-reset webhook is unsigned: WEBHOOK_SECRET is not set');
  }
  return warnings;
}

/** Called once at start; loud on purpose, because an open production instance is an incident. */
export function warnIfExposed(config: Config, logger: Logger): void {
  const warnings = exposureWarnings(config);
  if (warnings.length === 0) return;
  logger.warn(
    { host: config.HOST, nodeEnv: config.NODE_ENV, open: warnings },
    `SECURITY WARNING: ${warnings.join('; ')}`,
  );
}
