import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyId } from '../../src/http/auth.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';

const ALPHA = 'alpha-0f3c9b7e1d2a4c6e8f00';
const BRAVO = 'bravo-5a1e7d3c9b2f4e6a8c11';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, {
    INGEST_API_KEYS: `${ALPHA}, ${BRAVO}`,
    ADMIN_TOKEN,
  });
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function rawCount(): Promise<number> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM leads_raw');
  return rows[0].n;
}

async function counters(): Promise<{ unauthorized: Record<string, number> }> {
  const response = await fetch(`${server.url}/api/security/counters`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { unauthorized: Record<string, number> };
}

describe('INGEST_API_KEYS', () => {
  it('refuses ingestion without a key, or with a wrong one: 401, not stored, counted', async () => {
    const before = await rawCount();
    const countedBefore = (await counters()).unauthorized.ingest!;
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-key-000000000000' },
      { 'x-api-key': 'wrong-key-000000000000' },
      { authorization: `Basic ${Buffer.from(`u:${ALPHA}`).toString('base64')}` },
      { authorization: `Bearer ${ALPHA}x` },
      { authorization: `Bearer ${ALPHA.slice(0, -1)}` },
      { authorization: `Bearer ${ADMIN_TOKEN}` },
    ];
    for (const headers of attempts) {
      for (const path of ['/api/lead', '/api/request-service']) {
        const res = await post(
          `${server.url}${path}`,
          { serviceId: 1, email: 'x@example.com' },
          {
            'idempotency-key': randomUUID(),
            ...headers,
          },
        );
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body).toEqual({ ok: false, error: 'unauthorized' });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    expect(await rawCount()).toBe(before);
    expect((await counters()).unauthorized.ingest).toBe(countedBefore + attempts.length * 2);
  });

  it('refuses before reading the body: an oversized or malformed body still gets 401', async () => {
    const huge = Buffer.alloc(4 * 1024 * 1024, 'a');
    const res = await post(`${server.url}/api/lead`, huge);
    expect(res.status).toBe(401);
    const malformed = await post(`${server.url}/api/lead`, '{"email": ', {
      'content-type': 'text/plain',
    });
    expect(malformed.status).toBe(401);
  });

  it('accepts the key as Authorization: Bearer or as X-Api-Key, for both endpoints', async () => {
    const bearer = await post(
      `${server.url}/api/lead`,
      { email: 'a@example.com' },
      {
        authorization: `Bearer ${ALPHA}`,
      },
    );
    expect(bearer.status).toBe(201);
    const header = await post(
      `${server.url}/api/lead`,
      { email: 'b@example.com' },
      {
        'x-api-key': BRAVO,
      },
    );
    expect(header.status).toBe(201);
    const lowercaseScheme = await post(
      `${server.url}/api/lead`,
      { email: 'c@example.com' },
      {
        authorization: `bearer ${BRAVO}`,
      },
    );
    expect(lowercaseScheme.status).toBe(201);
    const allocated = await post(
      `${server.url}/api/request-service`,
      { serviceId: 2, email: 'd@example.com' },
      { 'x-api-key': ALPHA },
    );
    expect(allocated.status).toBe(201);
    expect(allocated.body.providers).toHaveLength(3);
  });

  it('scopes idempotency keys per API key: one key string from two senders is two leads', async () => {
    const key = `shared-${randomUUID()}`;
    const fromAlpha = await post(
      `${server.url}/api/lead`,
      { email: 'alpha@example.com' },
      {
        authorization: `Bearer ${ALPHA}`,
        'idempotency-key': key,
      },
    );
    const fromBravo = await post(
      `${server.url}/api/lead`,
      { email: 'bravo@example.com' },
      {
        'x-api-key': BRAVO,
        'idempotency-key': key,
      },
    );
    const alphaAgain = await post(
      `${server.url}/api/lead`,
      { email: 'again@example.com' },
      {
        'x-api-key': ALPHA,
        'idempotency-key': key,
      },
    );
    expect(fromAlpha.status).toBe(201);
    expect(fromBravo.status).toBe(201);
    expect(fromBravo.body.lead_id).not.toBe(fromAlpha.body.lead_id);
    expect(alphaAgain.status).toBe(409);
    expect(alphaAgain.body.lead_id).toBe(fromAlpha.body.lead_id);
    const { rows } = await db.pool.query(
      'SELECT sender, count(*)::int AS n FROM leads WHERE idempotency_key = $1 GROUP BY sender ORDER BY sender',
      [key],
    );
    expect(rows).toEqual(
      [
        { sender: apiKeyId(ALPHA), n: 1 },
        { sender: apiKeyId(BRAVO), n: 1 },
      ].sort((a, b) => a.sender.localeCompare(b.sender)),
    );
  });

  it('stores a non-secret key id as the sender, and never the key itself', async () => {
    const requestId = randomUUID();
    await post(
      `${server.url}/api/lead`,
      { email: 'secret@example.com' },
      {
        'x-api-key': ALPHA,
        'x-request-id': requestId,
      },
    );
    const { rows } = await db.pool.query(
      `SELECT r.sender, r.headers::text AS headers, l.sender AS lead_sender
         FROM leads_raw r JOIN leads l ON l.id = r.lead_id WHERE r.request_id = $1`,
      [requestId],
    );
    expect(rows[0].sender).toMatch(/^[0-9a-f]{12}$/);
    expect(rows[0].lead_sender).toBe(rows[0].sender);
    const everything = await db.pool.query(
      `SELECT count(*)::int AS n FROM leads_raw
        WHERE sender LIKE '%' || $1 || '%' OR headers::text LIKE '%' || $1 || '%'
           OR position(convert_to($1, 'UTF8') IN body) > 0`,
      [ALPHA],
    );
    expect(everything.rows[0].n).toBe(0);
  });

  it('keeps refused-but-authorised requests raw-first, as without keys', async () => {
    const requestId = randomUUID();
    const res = await post(`${server.url}/api/lead`, '[1]', {
      'x-api-key': ALPHA,
      'x-request-id': requestId,
    });
    expect(res.status).toBe(400);
    const { rows } = await db.pool.query(
      'SELECT status, sender FROM leads_raw WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([{ status: 'rejected', sender: apiKeyId(ALPHA) }]);
  });

  it('leaves health open and does not ask senders for the admin token', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});
