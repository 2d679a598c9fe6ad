import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
  url = `${server.url}/api/webhook/reset-quota`;
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function drain(): Promise<void> {
  await db.pool.query('UPDATE providers SET remaining_quota = 0');
}

async function remainingById(): Promise<Record<number, number>> {
  const { rows } = await db.pool.query('SELECT id, remaining_quota FROM providers ORDER BY id');
  return Object.fromEntries(rows.map((row) => [row.id, row.remaining_quota]));
}

describe('POST /api/webhook/reset-quota', () => {
  it('resets exactly once when three copies arrive at the same moment', async () => {
    await drain();
    const copies = await Promise.all([1, 2, 3].map(() => post(url, { eventId: 'evt-concurrent' })));
    expect(copies.map((copy) => copy.status)).toEqual([200, 200, 200]);
    const applied = copies.filter((copy) => copy.body.duplicate === false);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.body).toEqual({ ok: true, duplicate: false, reset: 8 });
    expect(copies.filter((copy) => copy.body.duplicate === true).map((copy) => copy.body)).toEqual([
      { ok: true, duplicate: true },
      { ok: true, duplicate: true },
    ]);
    expect(Object.values(await remainingById())).toEqual(Array(8).fill(10));
  });

  it('does not reset again when the same event is replayed later', async () => {
    await post(url, { eventId: 'evt-replay' });
    await drain();
    const replay = await post(url, { eventId: 'evt-replay' });
    expect(replay.body).toEqual({ ok: true, duplicate: true });
    expect(Object.values(await remainingById())).toEqual(Array(8).fill(0));
  });

  it('resets only the named providers', async () => {
    await drain();
    const res = await post(url, { eventId: 'evt-subset', providerIds: [2, 5, 5] });
    expect(res.body).toEqual({ ok: true, duplicate: false, reset: 2 });
    expect(await remainingById()).toEqual({ 1: 0, 2: 10, 3: 0, 4: 0, 5: 10, 6: 0, 7: 0, 8: 0 });
  });

  it('skips archived providers, in a reset of all and when named explicitly', async () => {
    await drain();
    await db.pool.query('UPDATE providers SET archived_at = now() WHERE id = 8');
    try {
      const all = await post(url, { eventId: 'evt-archived-all' });
      expect(all.body).toEqual({ ok: true, duplicate: false, reset: 7 });
      expect((await remainingById())[8]).toBe(0);
      await drain();
      const named = await post(url, { eventId: 'evt-archived-named', providerIds: [3, 8] });
      expect(named.body).toEqual({ ok: true, duplicate: false, reset: 1 });
      expect(await remainingById()).toMatchObject({ 3: 10, 8: 0 });
    } finally {
      await db.pool.query('UPDATE providers SET archived_at = NULL WHERE id = 8');
    }
  });

  it('400 invalid_payload without an eventId or with a malformed body', async () => {
    for (const body of [{}, { eventId: '' }, { eventId: 'x'.repeat(256) }, { eventId: 7 }]) {
      expect(await post(url, body)).toMatchObject({
        status: 400,
        body: { ok: false, error: 'invalid_payload' },
      });
    }
    expect(await post(url, '{"eventId":')).toMatchObject({
      status: 400,
      body: { ok: false, error: 'invalid_payload' },
    });
    expect(await post(url, 'eventId=1', { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: { ok: false, error: 'unsupported_media_type' },
    });
  });
});
