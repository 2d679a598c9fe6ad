import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Clock } from '../../src/allocation/calendar.js';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import type { TestDatabase } from './db.js';

export interface TestApp {
  app: FastifyInstance;
  url: string;
  pool: Pool;
  close(): Promise<void>;
}

/** The real app on a random port over the given database, with its own pool. */
export async function startTestApp(
  database: Pick<TestDatabase, 'url'>,
  env: Record<string, string> = {},
  options: { clock?: Clock; automaticBacklog?: boolean } = {},
): Promise<TestApp> {
  const config: Config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const pool = createPool({ connectionString: database.url, max: config.DB_POOL_SIZE, logger });
  const app = await buildApp({ config, pool, databaseUrl: database.url, logger, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    pool,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function post(
  url: string,
  body: string | Buffer | Record<string, unknown> | unknown[],
  headers: Record<string, string> = {},
): Promise<PostResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body:
      typeof body === 'string'
        ? body
        : Buffer.isBuffer(body)
          ? new Uint8Array(body)
          : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}
