import pino from 'pino';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';

export interface E2EServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The real app over a real database, like test/helpers/app.ts, but on a chosen port: the
 * reconnect test stops the server and starts a new one where the browser left the old one.
 */
export async function startServer(
  databaseUrl: string,
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<E2EServer> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...options.env });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const pool = createPool({ connectionString: databaseUrl, max: config.DB_POOL_SIZE, logger });
  const app = await buildApp({ config, pool, databaseUrl, logger });
  const url = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  return {
    url,
    port: new URL(url).port ? Number(new URL(url).port) : 80,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Drives the API directly, as a sender would, while the browser watches. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  return postRaw(url, JSON.stringify(body), 'application/json', headers);
}

/** Exactly these bytes, as a PHP script or a broken client might send them. */
export async function postRaw(
  url: string,
  body: string | Uint8Array,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}
