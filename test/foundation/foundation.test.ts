import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { migrationsDir } from '../../src/paths.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const run = promisify(execFile);

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: '.data',
      LOG_LEVEL: 'info',
      BODY_LIMIT: 1048576,
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['LOG_LEVEL', 'loud'],
    ['BODY_LIMIT', '-1'],
  ])('names the variable when %s=%s is invalid', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(`^Invalid configuration:\\n  - ${name}:`),
    );
  });

  it('stops the process with the message when started with a bad value', async () => {
    const failure = await run('node', ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: { ...process.env, PORT: 'abc' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('PORT:');
  });
});

describe('health', () => {
  it('GET /health answers without the database, with X-Request-Id', async () => {
    const response = await fetch(`${server.url}/health`, {
      headers: { 'x-request-id': 'probe-1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('probe-1');
    const body = await response.json();
    expect(body).toEqual({ ok: true, timestamp: expect.any(String) });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('GET /ready is 200 with a database and 503 with Retry-After without one; /health stays 200', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const deadUrl = 'postgres://postgres@127.0.0.1:1/nowhere';
    const pool = createPool({ connectionString: deadUrl, max: 2 });
    const app = await buildApp({
      config: loadConfig({ NODE_ENV: 'test' }),
      pool,
      databaseUrl: deadUrl,
      logger: pino({ level: 'silent' }),
    });
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['retry-after']).toBeDefined();
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const ingest = await app.inject({
        method: 'POST',
        url: '/api/lead',
        headers: { 'content-type': 'application/json' },
        payload: { email: 'a@b.c' },
      });
      expect(ingest.statusCode).toBe(503);
      expect(ingest.headers['retry-after']).toBeDefined();
      expect(ingest.json()).toEqual({ ok: false, error: 'unavailable' });
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('answers unknown routes with the one error shape', async () => {
    const response = await fetch(`${server.url}/api/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: 'not_found' });
  });
});

describe('API reference', () => {
  it('publishes every API route in /openapi.json', async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    const paths = Object.keys(document.paths);
    for (const path of [
      '/api/lead',
      '/api/request-service',
      '/api/webhook/reset-quota',
      '/api/events',
      '/api/providers',
      '/api/providers/{id}',
      '/api/services',
      '/api/services/{id}',
      '/api/leads',
      '/api/leads/{id}',
      '/api/allocations',
      '/api/stats',
      '/health',
      '/ready',
    ]) {
      expect(paths).toContain(path);
    }
    expect((await fetch(`${server.url}/docs/`)).status).toBe(200);
  });
});

describe('migrations', () => {
  it('two processes migrating one empty database at once both succeed, applying each file once', async () => {
    const name = `${db.name}_race`;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = db.url.replace(/\/[^/]+$/, `/${name}`);
    try {
      const migrate = () =>
        run('node', ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
          env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
        });
      await Promise.all([migrate(), migrate()]);
      const files = (await readdir(migrationsDir)).filter((file) => file.endsWith('.sql'));
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const { rows } = await check.query('SELECT name FROM schema_migrations ORDER BY name');
      await check.end();
      expect(rows.map((row) => row.name)).toEqual(files.sort());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight, refuses new connections, and closes', async () => {
    const instance = await startTestApp(db);
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE leads IN EXCLUSIVE MODE');
    const inFlight = post(`${instance.url}/api/lead`, { email: 'in-flight@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closing = instance.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${instance.url}/health`)).rejects.toThrow();
    await blocker.query('COMMIT');
    await blocker.end();
    const answer = await inFlight;
    expect(answer.status).toBe(201);
    await closing;
    const { rows } = await db.pool.query('SELECT email FROM leads WHERE id = $1', [
      answer.body.lead_id,
    ]);
    expect(rows).toEqual([{ email: 'in-flight@example.com' }]);
  });
});
