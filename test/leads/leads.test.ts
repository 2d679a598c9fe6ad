import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;
const created: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
  for (let index = 0; index < 7; index++) {
    const res = await post(`${server.url}/api/lead`, {
      email: `person${index}@list.example`,
      firstName: index === 3 ? 'Ann' : `First${index}`,
      lastName: index === 3 ? 'Lee' : 'Doe',
      phone: `+3805000000${index}`,
    });
    created.push(res.body.lead_id as string);
  }
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function get(path: string) {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

describe('GET /api/leads', () => {
  it('pages newest first with a cursor until the end', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`/api/leads?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...created].reverse());
  });

  it('offers no next page after a full last page (a total that is a multiple of the limit)', async () => {
    const all = await get(`/api/leads?limit=${created.length}`);
    expect(all.body.items).toHaveLength(created.length);
    expect(all.body.nextCursor).toBeNull();
    const first = await get(`/api/leads?limit=${created.length - 1}`);
    const rest = await get(`/api/leads?limit=1&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((item: { id: string }) => item.id)).toEqual([created[0]]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('searches email, phone and full name, and filters by status', async () => {
    expect(
      (await get('/api/leads?q=person5@')).body.items.map((item: { id: string }) => item.id),
    ).toEqual([created[5]]);
    expect(
      (await get('/api/leads?q=%2B38050000002')).body.items.map((item: { id: string }) => item.id),
    ).toEqual([created[2]]);
    expect(
      (await get('/api/leads?q=Ann%20Lee')).body.items.map((item: { id: string }) => item.id),
    ).toEqual([created[3]]);
    expect((await get('/api/leads?q=100%25')).body.items).toEqual([]);
    expect((await get('/api/leads?status=allocated')).body.items).toEqual([]);
    expect((await get('/api/leads?status=new&limit=200')).body.items.length).toBeGreaterThanOrEqual(
      7,
    );
  });

  it('tells leads of the same millisecond apart by the last 8 hex digits of their id', async () => {
    // Sent at once, so their UUIDv7 ids likely share the timestamp that the first digits hold.
    const [first, second] = await Promise.all(
      ['same-ms-1', 'same-ms-2'].map((name) =>
        post(`${server.url}/api/lead`, { email: `${name}@list.example` }),
      ),
    );
    const ids = [...created, first!.body.lead_id as string, second!.body.lead_id as string];
    const shortIds = ids.map((id) => id.replaceAll('-', '').slice(-8));
    expect(new Set(shortIds).size).toBe(ids.length);

    const found = async (q: string): Promise<string[]> =>
      (await get(`/api/leads?q=${encodeURIComponent(q)}`)).body.items.map(
        (item: { id: string }) => item.id,
      );
    for (const [index, id] of ids.entries()) {
      expect(await found(shortIds[index]!)).toEqual([id]);
      expect(await found(shortIds[index]!.toUpperCase())).toEqual([id]);
      expect(await found(id.slice(-17))).toEqual([id]); // across the last dash
      expect(await found(id)).toEqual([id]);
    }
    // Fewer than 8 digits is too little to name a lead.
    expect(await found(shortIds[0]!.slice(-7))).toEqual([]);
  });

  it('refuses a bad status, limit or cursor with 400', async () => {
    for (const query of ['status=weird', 'limit=0', 'limit=201', 'cursor=not-a-cursor']) {
      const res = await get(`/api/leads?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('invalid_query');
    }
  });
});

describe('GET /api/leads/:id', () => {
  it('returns the lead with its exact raw request, allocations and events', async () => {
    const body = '{"email":"detail@example.com","first_name":"Ada","serviceId":2,"note":"é"}';
    const res = await post(`${server.url}/api/request-service`, body, {
      'idempotency-key': `d-${randomUUID()}`,
    });
    expect(res.status).toBe(201);
    const detail = await get(`/api/leads/${res.body.lead_id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.lead).toMatchObject({
      id: res.body.lead_id,
      email: 'detail@example.com',
      firstName: 'Ada',
      serviceId: 2,
      status: 'allocated',
      extra: { note: 'é' },
    });
    expect(Object.keys(detail.body.lead).filter((key) => key.includes('_'))).toEqual([]);
    expect(Buffer.from(detail.body.raw.bodyBase64, 'base64').toString('utf8')).toBe(body);
    expect(detail.body.raw).toMatchObject({
      endpoint: 'request-service',
      contentType: 'application/json',
      status: 'accepted',
    });
    expect(
      detail.body.allocations.map((allocation: { providerId: number }) => allocation.providerId),
    ).toEqual([5, 6, 7]);
    expect(detail.body.events.map((event: { type: string }) => event.type)).toEqual([
      'lead.created',
      'lead.allocated',
    ]);
    expect(detail.body.duplicates).toBe(0);
  });

  it('404 lead_not_found for an unknown id, 400 for a malformed one', async () => {
    expect(await get(`/api/leads/${randomUUID()}`)).toEqual({
      status: 404,
      body: { ok: false, error: 'lead_not_found' },
    });
    expect((await get('/api/leads/123')).status).toBe(400);
  });
});

describe('GET /api/stats', () => {
  it('counts leads by status and raw rows by status', async () => {
    const stats = await get('/api/stats');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM leads`);
    const total = Object.values(stats.body.leads as Record<string, number>).reduce(
      (sum, count) => sum + count,
      0,
    );
    expect(total).toBe(rows[0].n);
    expect(stats.body.leadsToday).toBe(rows[0].n);
    expect(stats.body.raw.accepted).toBe(rows[0].n);
    expect(stats.body.rates.windowSeconds).toBe(60);
  });
});
