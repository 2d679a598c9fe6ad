import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;
/** Lead ids by name, in the order they were made. */
const leads: Record<string, string> = {};
let rejectedRequestId = '';

async function get(path: string) {
  const response = await fetch(`${server.url}${path}`);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
  };
}

const ids = (body: { items: { id: string }[] }): string[] => body.items.map((item) => item.id);

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
  const send = async (name: string, path: string, body: Record<string, unknown>, key?: string) => {
    const res = await post(`${server.url}${path}`, body, key ? { 'idempotency-key': key } : {});
    expect(res.status).toBe(201);
    leads[name] = res.body.lead_id as string;
  };
  await send('at', '/api/lead', { email: 'anna@example.at', country: 'AT', firstName: 'Anna' });
  await send('de', '/api/lead', { email: 'bernd@example.de', country: 'de', lastName: 'Berg' });
  // Service 2 allocates to providers 5, 6, 7 (the demo topology).
  await send(
    's2',
    '/api/request-service',
    { serviceId: 2, email: 'svc2@example.com', country: 'AT' },
    'key-s2-unique',
  );
  await send('formula', '/api/lead', {
    email: '=HYPERLINK("http://evil.example","x")',
    firstName: '+1 cmd',
    lastName: '-2',
    phone: '@SUM(A1)',
    description: 'line one\r\nline "two", with comma',
    offer: '\tleading tab',
    creo: 'ünïcødé ✓',
  });
  // A duplicate (answered as the first copy was) and a refused request, for the raw browser.
  await post(
    `${server.url}/api/request-service`,
    { serviceId: 2 },
    { 'idempotency-key': 'key-s2-unique' },
  );
  rejectedRequestId = randomUUID();
  expect(
    (await post(`${server.url}/api/lead`, '{"broken', { 'x-request-id': rejectedRequestId }))
      .status,
  ).toBe(400);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('GET /api/leads filters (SPEC §11)', () => {
  it('filters by status, service, provider and country (any case)', async () => {
    expect(ids((await get('/api/leads?status=allocated')).body)).toEqual([leads.s2]);
    expect(ids((await get('/api/leads?serviceId=2')).body)).toEqual([leads.s2]);
    expect(ids((await get('/api/leads?serviceId=1')).body)).toEqual([]);
    expect(ids((await get('/api/leads?providerId=6')).body)).toEqual([leads.s2]);
    expect(ids((await get('/api/leads?providerId=1')).body)).toEqual([]);
    expect(ids((await get('/api/leads?country=at')).body)).toEqual([leads.s2, leads.at]);
    expect(ids((await get('/api/leads?country=DE')).body)).toEqual([leads.de]);
    expect(ids((await get('/api/leads?country=AT&status=new')).body)).toEqual([leads.at]);
  });

  it('filters by a time range: from inclusive, to exclusive', async () => {
    const { rows } = await db.pool.query<{ id: string; created_at: Date }>(
      'SELECT id, created_at FROM leads WHERE id = $1',
      [leads.de],
    );
    const at = rows[0]!.created_at.toISOString();
    expect(ids((await get(`/api/leads?from=${at}&to=${at}`)).body)).toEqual([]);
    const later = new Date(rows[0]!.created_at.getTime() + 1).toISOString();
    expect(ids((await get(`/api/leads?from=${at}&to=${later}`)).body)).toEqual([leads.de]);
    expect(ids((await get(`/api/leads?to=${at}`)).body)).toEqual([leads.at]);
    // An offset is an instant too.
    expect(ids((await get('/api/leads?from=2000-01-01T02:00:00%2B02:00')).body)).toHaveLength(4);
  });

  it('searches the idempotency key and the id tail', async () => {
    expect(ids((await get('/api/leads?q=key-s2-unique')).body)).toEqual([leads.s2]);
    expect(ids((await get(`/api/leads?q=${leads.formula!.slice(-8)}`)).body)).toEqual([
      leads.formula,
    ]);
  });

  it.each([
    ['an unknown parameter', 'countryCode=AT'],
    ['an unknown parameter beside known ones', 'status=new&serviceid=4'],
    ['a hexadecimal limit', 'limit=0x10'],
    ['an exponent limit', 'limit=1e1'],
    ['a padded limit', 'limit=%205'],
    ['a service id that is not an id', 'serviceId=abc'],
    ['a service id beyond integer', 'serviceId=2147483648'],
    ['a date that is not an instant', 'from=yesterday'],
    ['a date without a zone', 'from=2026-01-01T00:00:00'],
    ['from after to', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['a bad cursor', 'cursor=abc'],
  ])('answers %s with 400 invalid_query', async (_name, query) => {
    const res = await get(`/api/leads?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ ok: false, error: 'invalid_query' });
  });

  it('keeps the other lists strict too', async () => {
    for (const path of [
      '/api/allocations?limit=0x10',
      '/api/allocations?providerId=1',
      '/api/deliveries?limit=0x10',
      '/api/deliveries?nope=1',
      '/api/raw-requests?limit=0x10',
      '/api/raw-requests?status=accepted&q=x',
      '/api/reports/volume?interval=week',
      '/api/reports/providers?serviceId=1',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toBe('invalid_query');
    }
  });
});

describe('GET /api/leads/export.csv', () => {
  it('streams every matching lead as RFC 4180 CSV that parses back exactly, formulas escaped', async () => {
    const res = await get('/api/leads/export.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="leads-.*\.csv"$/,
    );
    expect(res.text).toContain('\r\n');
    const rows: Record<string, string>[] = parse(res.text, { columns: true });
    expect(rows.map((row) => row.id)).toEqual([leads.formula, leads.s2, leads.de, leads.at]);
    const formula = rows[0]!;
    expect(formula.email).toBe(`'=HYPERLINK("http://evil.example","x")`);
    expect(formula.first_name).toBe("'+1 cmd");
    expect(formula.last_name).toBe("'-2");
    expect(formula.phone).toBe("'@SUM(A1)");
    expect(formula.offer).toBe("'\tleading tab");
    expect(formula.description).toBe('line one\r\nline "two", with comma');
    expect(formula.creo).toBe('ünïcødé ✓');
    expect(formula.status).toBe('new');
    expect(JSON.parse(formula.extra!)).toEqual({});
    expect(new Date(formula.created_at!).toISOString()).toBe(formula.created_at);
    expect(rows[1]).toMatchObject({
      service_id: '2',
      status: 'allocated',
      idempotency_key: 'key-s2-unique',
    });
  });

  it('applies the same filters as the list, and refuses what the list refuses', async () => {
    const rows: Record<string, string>[] = parse(
      (await get('/api/leads/export.csv?country=at&status=new')).text,
      { columns: true },
    );
    expect(rows.map((row) => row.id)).toEqual([leads.at]);
    const empty = await get('/api/leads/export.csv?providerId=1');
    expect(parse(empty.text)).toEqual([expect.arrayContaining(['id', 'email', 'extra'])]);
    const refused = await get('/api/leads/export.csv?limit=10');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_query');
  });

  it('gives every connection back, also when the client leaves mid-export', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/leads/export.csv`, {
      signal: controller.signal,
    });
    controller.abort();
    await response.body?.cancel().catch(() => {});
    for (
      let attempt = 0;
      attempt < 50 && server.pool.totalCount !== server.pool.idleCount;
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(server.pool.totalCount - server.pool.idleCount).toBe(0);
    expect((await get('/api/leads/export.csv')).status).toBe(200);
  });
});

describe('GET /api/raw-requests', () => {
  it('lists every stored request newest first with its reason, filtered by status', async () => {
    const all = await get('/api/raw-requests?limit=200');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(6);
    const statuses = all.body.items.map((item: { status: string }) => item.status);
    expect(statuses.slice(0, 2)).toEqual(['rejected', 'duplicate']);
    const rejected = await get('/api/raw-requests?status=rejected');
    expect(rejected.body.items).toEqual([
      expect.objectContaining({
        requestId: rejectedRequestId,
        status: 'rejected',
        error: 'invalid_payload',
        leadId: null,
        bodyBytes: 8,
      }),
    ]);
    const duplicate = await get('/api/raw-requests?status=duplicate');
    expect(duplicate.body.items).toEqual([
      expect.objectContaining({
        status: 'duplicate',
        leadId: leads.s2,
        idempotencyKey: 'key-s2-unique',
      }),
    ]);
    expect((await get('/api/raw-requests?status=failed')).body.items).toEqual([]);
  });

  it('pages by cursor and by time', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/api/raw-requests?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((item: { id: number }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    // Six rows, three a page: two pages, the second full and without a cursor to an empty third.
    const first = await get('/api/raw-requests?limit=3');
    const second = await get(`/api/raw-requests?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(3);
    expect(second.body.nextCursor).toBeNull();
    expect((await get('/api/raw-requests?to=2000-01-01T00:00:00Z')).body.items).toEqual([]);
    expect((await get('/api/raw-requests?from=2000-01-01T00:00:00Z')).body.items).toHaveLength(6);
  });

  it('shows one request with its exact body, 404 for none', async () => {
    const list = await get('/api/raw-requests?status=rejected');
    const one = await get(`/api/raw-requests/${list.body.items[0].id}`);
    expect(one.status).toBe(200);
    expect(Buffer.from(one.body.bodyBase64, 'base64').toString()).toBe('{"broken');
    expect((await get('/api/raw-requests/999999')).status).toBe(404);
    expect((await get('/api/raw-requests/0x10')).status).toBe(400);
  });
});

describe('GET /api/leads/export.csv with line breaks in cells', () => {
  it('quotes a cell with a lone line break, so no lead can start a row of its own', async () => {
    const sent = await post(`${server.url}/api/lead`, {
      email: 'breaks@example.com',
      country: 'ZZ',
      firstName: 'x\n=1+1',
      lastName: 'y\r@SUM(A1)',
    });
    expect(sent.status).toBe(201);
    const text = (await get('/api/leads/export.csv?country=ZZ')).text;
    const rows: string[][] = parse(text);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveLength(rows[0]!.length);
    const row = Object.fromEntries(rows[0]!.map((name, index) => [name, rows[1]![index]]));
    expect(row).toMatchObject({ first_name: 'x\n=1+1', last_name: 'y\r@SUM(A1)' });
  });
});
