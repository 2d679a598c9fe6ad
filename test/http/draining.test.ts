import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

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

it('while draining: /ready and new requests 503 with Retry-After, /health 200, nothing stored', async () => {
  expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  server.app.leadflow.draining.begin();
  const ready = await fetch(`${server.url}/ready`);
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe('1');
  expect(await ready.json()).toEqual({ ok: false, error: 'unavailable' });
  expect((await fetch(`${server.url}/health`)).status).toBe(200);

  const lead = await fetch(`${server.url}/api/lead`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'drain-1' },
    body: JSON.stringify({ email: 'a@example.com' }),
  });
  expect(lead.status).toBe(503);
  expect(lead.headers.get('retry-after')).toBe('1');
  expect(await lead.json()).toEqual({ ok: false, error: 'unavailable' });
  const { rows } = await db.pool.query('SELECT 1 FROM leads_raw WHERE idempotency_key = $1', [
    'drain-1',
  ]);
  expect(rows).toEqual([]);
});
