import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/** Pino JSON; pretty in development when pino-pretty is installed and a person is watching. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>): Logger {
  const pretty =
    config.NODE_ENV === 'development' && process.stdout.isTTY && canResolve('pino-pretty');
  return pino({
    level: config.LOG_LEVEL,
    // Leads are personal data and credentials are secrets: neither belongs in logs.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'body',
        'payload',
      ],
      censor: '[redacted]',
    },
    ...(pretty && {
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } },
    }),
  });
}

function canResolve(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
