import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';

let db: TestDatabase;
let server: TestApp;
let leadUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { BODY_LIMIT: String(64 * 1024) });
  leadUrl = `${server.url}/api/lead`;
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function rawRowsFor(requestId: string) {
  const { rows } = await db.pool.query(
    'SELECT status, error, lead_id, body, content_type, idempotency_key, headers FROM leads_raw WHERE request_id = $1 ORDER BY id',
    [requestId],
  );
  return rows;
}

async function leadRow(id: string) {
  const { rows } = await db.pool.query('SELECT * FROM leads WHERE id = $1', [id]);
  return rows[0];
}

describe('POST /api/lead — accepted leads', () => {
  it('stores a new lead: known fields in columns (both spellings), the rest in extra', async () => {
    const requestId = randomUUID();
    const res = await post(
      leadUrl,
      {
        email: 'ann@example.com',
        firstName: 'Ann',
        last_name: 'Lee',
        clickId: 'c-1',
        phone: 380501234567,
        offer: true,
        sourceType: 'seo',
        campaign: { id: 7, tags: ['a'] },
      },
      { 'x-request-id': requestId },
    );
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ ok: true, lead_id: expect.any(String), deduplicated: false });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead).toMatchObject({
      email: 'ann@example.com',
      first_name: 'Ann',
      last_name: 'Lee',
      click_id: 'c-1',
      phone: '380501234567',
      offer: 'true',
      sourcetype: 'seo',
      status: 'new',
      extra: { campaign: { id: 7, tags: ['a'] } },
    });
    const [raw] = await rawRowsFor(requestId);
    expect(raw).toMatchObject({
      status: 'accepted',
      lead_id: lead.id,
      content_type: 'application/json',
    });
  });

  it('keeps the snake_case value when both twins are sent, and the camelCase one in extra', async () => {
    const res = await post(leadUrl, { first_name: 'Snake', firstName: 'Camel' });
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead.first_name).toBe('Snake');
    expect(lead.extra).toEqual({ firstName: 'Camel' });
  });

  it('stores the exact body bytes, and never logs credentials into the raw headers', async () => {
    const requestId = randomUUID();
    const body = '{ "email" : "spaces@example.com" ,"z":1 }';
    await post(leadUrl, body, {
      'x-request-id': requestId,
      authorization: 'Bearer secret',
      'user-agent': 'php',
    });
    const [raw] = await rawRowsFor(requestId);
    expect(Buffer.from(raw.body).toString('utf8')).toBe(body);
    expect(raw.headers['user-agent']).toBe('php');
    expect(raw.headers.authorization).toBeUndefined();
  });

  it('accepts application/x-www-form-urlencoded bodies', async () => {
    const requestId = randomUUID();
    const res = await post(leadUrl, 'email=form%40example.com&first_name=J%C3%BCrgen&utm=a&utm=b', {
      'content-type': 'application/x-www-form-urlencoded',
      'x-request-id': requestId,
    });
    expect(res.status).toBe(201);
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead).toMatchObject({
      email: 'form@example.com',
      first_name: 'Jürgen',
      extra: { utm: ['a', 'b'] },
    });
    const [raw] = await rawRowsFor(requestId);
    expect(raw.content_type).toBe('application/x-www-form-urlencoded');
  });

  it('round-trips unicode exactly', async () => {
    const name = 'Zoë 李雷 🚀 Ωμέγα';
    const res = await post(leadUrl, { firstName: name, note: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢' });
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead.first_name).toBe(name);
    expect(lead.extra.note).toBe('𝔘𝔫𝔦𝔠𝔬𝔡𝔢');
  });

  it('turns NUL inside JSON strings into a stored lead, keeping the raw bytes as sent', async () => {
    const requestId = randomUUID();
    const body = '{"email":"nul\\u0000@example.com","x\\u0000y":"a\\u0000b","lone":"\\ud800"}';
    const res = await post(leadUrl, body, { 'x-request-id': requestId });
    expect(res.status).toBe(201);
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead.email).toBe('nul@example.com');
    expect(lead.extra).toEqual({ xy: 'ab', lone: '\ufffd' });
    const [raw] = await rawRowsFor(requestId);
    expect(Buffer.from(raw.body).toString('utf8')).toBe(body);
  });

  it('accepts invalid UTF-8 and keeps the original bytes', async () => {
    const requestId = randomUUID();
    const body = Buffer.concat([
      Buffer.from('{"firstName":"bad'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    const res = await post(leadUrl, body, { 'x-request-id': requestId });
    expect(res.status).toBe(201);
    const lead = await leadRow(res.body.lead_id as string);
    expect(lead.first_name.startsWith('bad')).toBe(true);
    const [raw] = await rawRowsFor(requestId);
    expect(Buffer.from(raw.body).equals(body)).toBe(true);
  });
});

describe('POST /api/lead — idempotency', () => {
  it('answers a repeated key with 409 and the first lead id, logging the duplicate raw', async () => {
    const key = `key-${randomUUID()}`;
    const first = await post(leadUrl, { email: 'a@example.com' }, { 'idempotency-key': key });
    const requestId = randomUUID();
    const second = await post(
      leadUrl,
      { email: 'changed@example.com' },
      { 'idempotency-key': key, 'x-request-id': requestId },
    );
    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body).toEqual({ ok: true, lead_id: first.body.lead_id, deduplicated: true });
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const [raw] = await rawRowsFor(requestId);
    expect(raw).toMatchObject({ status: 'duplicate', lead_id: first.body.lead_id });
    expect((await leadRow(first.body.lead_id as string)).email).toBe('a@example.com');
  });

  it('gives 50 concurrent requests with one key exactly one lead and one id', async () => {
    const key = `burst-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        post(leadUrl, { email: `c${index}@example.com` }, { 'idempotency-key': key }),
      ),
    );
    const ids = new Set(results.map((result) => result.body.lead_id));
    expect(ids.size).toBe(1);
    expect(results.filter((result) => result.status === 201)).toHaveLength(1);
    expect(results.filter((result) => result.status === 409)).toHaveLength(49);
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS leads FROM leads WHERE idempotency_key = $1',
      [key],
    );
    expect(rows[0].leads).toBe(1);
    const raw = await db.pool.query(
      `SELECT status, count(*)::int AS n, count(DISTINCT lead_id)::int AS ids FROM leads_raw
        WHERE idempotency_key = $1 GROUP BY status ORDER BY status`,
      [key],
    );
    expect(raw.rows).toEqual([
      { status: 'accepted', n: 1, ids: 1 },
      { status: 'duplicate', n: 49, ids: 1 },
    ]);
  });

  it('stores 200 concurrent requests with distinct keys as 200 leads', async () => {
    const prefix = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        post(
          leadUrl,
          { email: `d${index}@example.com` },
          { 'idempotency-key': `${prefix}-${index}` },
        ),
      ),
    );
    expect(results.every((result) => result.status === 201)).toBe(true);
    expect(new Set(results.map((result) => result.body.lead_id)).size).toBe(200);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM leads WHERE idempotency_key LIKE $1`,
      [`${prefix}-%`],
    );
    expect(rows[0].n).toBe(200);
  });

  it('does not let a refused request claim the key of a later valid one', async () => {
    const key = `refused-${randomUUID()}`;
    const refused = await post(leadUrl, '[1,2]', { 'idempotency-key': key });
    expect(refused.status).toBe(400);
    const accepted = await post(leadUrl, { email: 'ok@example.com' }, { 'idempotency-key': key });
    expect(accepted.status).toBe(201);
  });
});

describe('POST /api/lead — refused requests are stored raw first', () => {
  const invalidBodies: [string, string][] = [
    ['malformed JSON', '{"email": '],
    ['an array', '[{"email":"a@b.c"}]'],
    ['a scalar', '42'],
    ['a string', '"lead"'],
    ['null', 'null'],
    ['an empty body', ''],
    ['a raw control character', '{"email":"a\u0001b"}'],
  ];
  it.each(invalidBodies)('400 invalid_payload for %s', async (_name, body) => {
    const requestId = randomUUID();
    const res = await post(leadUrl, body, { 'x-request-id': requestId });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error: 'invalid_payload' });
    const raw = await rawRowsFor(requestId);
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatchObject({ status: 'rejected', error: 'invalid_payload', lead_id: null });
    expect(Buffer.from(raw[0].body).toString('utf8')).toBe(body);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['10 000 characters', 'k'.repeat(10_000)],
    // Other control characters never reach the app: Node's HTTP parser refuses them itself.
    ['a tab', 'a\tb'],
  ])('400 invalid_idempotency_key for a key with %s', async (_name, key) => {
    const requestId = randomUUID();
    const res = await post(
      leadUrl,
      { email: 'a@b.c' },
      { 'idempotency-key': key, 'x-request-id': requestId },
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error: 'invalid_idempotency_key' });
    const raw = await rawRowsFor(requestId);
    expect(raw[0]).toMatchObject({
      status: 'rejected',
      error: 'invalid_idempotency_key',
      idempotency_key: key,
    });
  });

  it('accepts a key of exactly 255 printable characters', async () => {
    const res = await post(
      leadUrl,
      { email: 'a@b.c' },
      { 'idempotency-key': `${randomUUID()}${'x'.repeat(219)}` },
    );
    expect(res.status).toBe(201);
  });

  it('415 unsupported_media_type for other content types, stored raw', async () => {
    const requestId = randomUUID();
    const res = await post(leadUrl, 'email=a@b.c', {
      'content-type': 'text/plain',
      'x-request-id': requestId,
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ ok: false, error: 'unsupported_media_type' });
    const [raw] = await rawRowsFor(requestId);
    expect(raw).toMatchObject({
      status: 'rejected',
      error: 'unsupported_media_type',
      content_type: 'text/plain',
    });
  });

  it('413 payload_too_large over BODY_LIMIT, and nothing stored', async () => {
    const requestId = randomUUID();
    const res = await post(leadUrl, { blob: 'x'.repeat(70 * 1024) }, { 'x-request-id': requestId });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ ok: false, error: 'payload_too_large' });
    expect(await rawRowsFor(requestId)).toHaveLength(0);
  });

  it('generates a request id when the sender sends none or an unusable one', async () => {
    const res = await post(leadUrl, { email: 'a@b.c' }, { 'x-request-id': 'bad id with spaces' });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('a lead that cannot be normalised', () => {
  it('keeps the raw row as failed, answers 500, and `reprocess` creates the lead once', async () => {
    const { reprocessFailed } = await import('../../src/ingest/reprocess.js');
    const { default: pino } = await import('pino');
    await db.pool.query(
      `ALTER TABLE leads ADD CONSTRAINT test_reject CHECK (email IS DISTINCT FROM 'reject@example.com')`,
    );
    const requestId = randomUUID();
    const key = `fail-${randomUUID()}`;
    try {
      const res = await post(
        leadUrl,
        { email: 'reject@example.com' },
        { 'x-request-id': requestId, 'idempotency-key': key },
      );
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ ok: false, error: 'internal_error' });
    } finally {
      await db.pool.query('ALTER TABLE leads DROP CONSTRAINT test_reject');
    }
    const [raw] = await rawRowsFor(requestId);
    expect(raw).toMatchObject({ status: 'failed', lead_id: null });
    expect(raw.error).toContain('test_reject');

    const logger = pino({ level: 'silent' });
    expect(await reprocessFailed(db.pool, logger)).toMatchObject({ created: 1 });
    expect(await reprocessFailed(db.pool, logger)).toEqual({
      created: 0,
      duplicates: 0,
      rejected: 0,
      stillFailing: 0,
    });
    const [after] = await rawRowsFor(requestId);
    expect(after.status).toBe('reprocessed');
    expect((await leadRow(after.lead_id)).email).toBe('reject@example.com');
    // The sender's retry now finds the reprocessed lead.
    const retry = await post(leadUrl, { email: 'reject@example.com' }, { 'idempotency-key': key });
    expect(retry).toMatchObject({ status: 409, body: { lead_id: after.lead_id } });
  });
});

describe('reprocess of rows an older version failed on', () => {
  it('turns a failed row that today is refused (too deep) into that refusal, once', async () => {
    const { reprocessFailed } = await import('../../src/ingest/reprocess.js');
    const { default: pino } = await import('pino');
    const body = `{"x":${'['.repeat(2900)}${']'.repeat(2900)}}`;
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO leads_raw (endpoint, request_id, content_type, body, status, error)
       VALUES ('lead', $1, 'application/json', $2, 'failed', 'Maximum call stack size exceeded')
       RETURNING id`,
      [randomUUID(), Buffer.from(body)],
    );
    const logger = pino({ level: 'silent' });
    expect(await reprocessFailed(db.pool, logger)).toMatchObject({ rejected: 1, stillFailing: 0 });
    expect(await reprocessFailed(db.pool, logger)).toMatchObject({ rejected: 0 });
    const { rows: after } = await db.pool.query(
      'SELECT status, error FROM leads_raw WHERE id = $1',
      [rows[0]!.id],
    );
    expect(after[0]).toEqual({ status: 'rejected', error: 'too_deep' });
  });
});
