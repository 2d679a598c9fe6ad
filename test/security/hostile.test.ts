import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';

/** The reproductions of the hostile-client report (SPEC §8), each over real sockets. */

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { NODE_ENV: 'production', RATE_LIMIT_PER_MINUTE: '0' });
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function rawRow(requestId: string) {
  const { rows } = await db.pool.query<{ status: string; error: string | null; body: Buffer }>(
    'SELECT status, error, body FROM leads_raw WHERE request_id = $1 ORDER BY id',
    [requestId],
  );
  return rows;
}

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** node:http, because fetch will not send a Host of our choosing. */
function request(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      `${server.url}${path}`,
      { method, headers, agent: false },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('raw-first has no exceptions', () => {
  it.each([
    ['5,000 nested arrays', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`],
    ['2,500 nested objects', `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`],
    ['65 levels', `${'['.repeat(64)}{}${']'.repeat(64)}`.replace(/^\[/, '{"x":[') + '}'],
  ])('stores %s before answering 400 invalid_payload (reason too_deep)', async (_name, text) => {
    const requestId = randomUUID();
    const res = await post(`${server.url}/api/lead`, text, { 'x-request-id': requestId });
    expect(res).toMatchObject({ status: 400, body: { ok: false, error: 'invalid_payload' } });
    const rows = await rawRow(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'rejected', error: 'too_deep' });
    expect(rows[0]!.body.toString()).toBe(text);
  });

  it('accepts 64 levels, the limit itself', async () => {
    const text = `{"x":${'['.repeat(63)}${']'.repeat(63)}}`;
    const res = await post(`${server.url}/api/lead`, text);
    expect(res.status).toBe(201);
  });

  it('answers five 2,900-deep arrays in one body the same way every time', async () => {
    const one = `${'['.repeat(2900)}${']'.repeat(2900)}`;
    const text = `{"x":[${Array(5).fill(one).join(',')}]}`;
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      answers.push((await post(`${server.url}/api/lead`, text)).status);
    }
    expect(answers).toEqual([400, 400, 400]);
  });

  it.each([['2147483648'], ['1e20'], ['"99999999999"'], ['"\\u0000"'], ['1e400'], ['-0'], ['{}']])(
    'stores a lead naming service %s and says the service is not found',
    async (service) => {
      const requestId = randomUUID();
      const res = await post(`${server.url}/api/lead`, `{"service":${service}}`, {
        'x-request-id': requestId,
      });
      expect(res.status).toBe(201);
      expect(res.body.allocation).toEqual({ ok: false, error: 'service_not_found' });
      expect((await rawRow(requestId))[0]).toMatchObject({ status: 'accepted' });
    },
  );

  it.each([['2147483648'], ['1e20'], ['-1'], ['"2147483648"']])(
    'refuses /api/request-service with serviceId %s: 400, stored',
    async (serviceId) => {
      const requestId = randomUUID();
      const res = await post(`${server.url}/api/request-service`, `{"serviceId":${serviceId}}`, {
        'x-request-id': requestId,
      });
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_payload' } });
      expect((await rawRow(requestId))[0]).toMatchObject({ status: 'rejected' });
    },
  );

  it('allocates a lead first sent to /api/lead when /api/request-service retries its key', async () => {
    const key = `both-${randomUUID()}`;
    const first = await post(
      `${server.url}/api/lead`,
      { email: 'both@example.com' },
      {
        'idempotency-key': key,
      },
    );
    expect(first.status).toBe(201);
    const second = await post(
      `${server.url}/api/request-service`,
      { serviceId: 2, email: 'both@example.com' },
      { 'idempotency-key': key },
    );
    expect(second).toMatchObject({
      status: 201,
      body: { ok: true, lead_id: first.body.lead_id, service_id: 2, deduplicated: true },
    });
    expect(second.body.providers).toHaveLength(3);
  });
});

describe('bounded work', () => {
  it('parses a form repeating one key 100,000 times in linear time', async () => {
    // Copying the array per repeat took 17.7 s for 40,000 (quadratic): this one would outlast
    // the test's timeout.
    const body = Array(100_000).fill('x=1').join('&');
    const res = await fetch(`${server.url}/api/lead`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(res.status).toBe(201);
    const { lead_id: leadId } = (await res.json()) as { lead_id: string };
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT jsonb_array_length(extra->'x') AS n FROM leads WHERE id = $1`,
      [leadId],
    );
    expect(rows[0]!.n).toBe(100_000);
  });
});

describe('browsers cannot be used against it', () => {
  const formPosts: [string, string][] = [
    ['/api/webhook/reset-quota', 'eventId=csrf-1'],
    ['/api/services', 'slug=csrf&name=CSRF'],
    ['/api/providers', 'name=csrf&quota=5'],
    ['/api/login', 'token=x'],
  ];

  it.each(formPosts)('refuses a form post to %s: 415, nothing changed', async (path, form) => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data']) {
      const res = await request(
        'POST',
        path,
        { 'content-type': type, host: new URL(server.url).host },
        form,
      );
      expect(res.status, type).toBe(415);
      expect(JSON.parse(res.body)).toEqual({ ok: false, error: 'unsupported_media_type' });
    }
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM webhook_events) AS webhooks,
              (SELECT count(*)::int FROM services WHERE slug = 'csrf') AS services,
              (SELECT count(*)::int FROM providers WHERE name = 'csrf') AS providers`,
    );
    expect(rows[0]).toEqual({ webhooks: 0, services: 0, providers: 0 });
  });

  it('refuses a write from another origin, with or without a body', async () => {
    const origin = 'http://evil.example';
    const withBody = await post(
      `${server.url}/api/webhook/reset-quota`,
      { eventId: 'cross-origin' },
      { origin },
    );
    expect(withBody).toMatchObject({ status: 403, body: { error: 'forbidden_origin' } });
    const bodyless = await fetch(`${server.url}/api/logout`, {
      method: 'POST',
      headers: { origin },
    });
    expect(bodyless.status).toBe(403);
    // Its own origin, and scripts that send none, are fine.
    const own = await post(
      `${server.url}/api/webhook/reset-quota`,
      { eventId: `own-${randomUUID()}` },
      { origin: server.url },
    );
    expect(own.status).toBe(200);
  });

  it('answers only loopback Host names without ADMIN_TOKEN (DNS rebinding), health always', async () => {
    const port = new URL(server.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `10.0.0.1:${port}`]) {
      for (const path of ['/api/providers', '/dashboard', '/api/events', '/nope']) {
        const res = await request('GET', path, { host });
        expect(res.status, `${host} ${path}`).toBe(403);
        expect(JSON.parse(res.body)).toEqual({ ok: false, error: 'invalid_host' });
      }
      const lead = await request(
        'POST',
        '/api/lead',
        { host, 'content-type': 'application/json' },
        '{}',
      );
      expect(lead.status).toBe(403);
      expect((await request('GET', '/health', { host })).status).toBe(200);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `app.localhost:${port}`]) {
      expect((await request('GET', '/api/providers', { host })).status, host).toBe(200);
    }
  });

  it('answers the names in ALLOWED_HOSTS', async () => {
    const other = await startTestApp(db, { ALLOWED_HOSTS: 'leads.example.com' });
    try {
      const port = new URL(other.url).port;
      const ask = (host: string) =>
        new Promise<number>((resolve, reject) => {
          http
            .get(`${other.url}/api/providers`, { headers: { host }, agent: false }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
      expect(await ask(`leads.example.com:${port}`)).toBe(200);
      expect(await ask(`LEADS.example.com`)).toBe(200);
      expect(await ask(`evil.example`)).toBe(403);
    } finally {
      await other.close();
    }
  });
});

describe('no 500 for client input on configuration routes', () => {
  const cases: [string, string, unknown][] = [
    ['POST', '/api/providers', { name: 'bad\u0000name', quota: 1 }],
    ['POST', '/api/providers', { name: 'lone \ud800', quota: 1 }],
    ['PATCH', '/api/providers/1', { name: '\u0000' }],
    ['POST', '/api/services', { slug: 'ok-slug', name: 'x', pool: [2147483648] }],
    ['POST', '/api/services', { slug: 'ok-slug', name: 'x', static: [1e20] }],
    ['POST', '/api/services', { slug: '2', name: 'digits' }],
    ['POST', '/api/services', { slug: 'nul', name: 'a\u0000b' }],
    ['PATCH', '/api/services/1', { pool: [2147483648] }],
    ['PATCH', '/api/providers/2147483648', { quota: 1 }],
    ['PATCH', '/api/providers/99999999999999999999', { quota: 1 }],
    ['POST', '/api/webhook/reset-quota', { eventId: 'e\u0000' }],
    ['POST', '/api/webhook/reset-quota', { eventId: 'ok', providerIds: [2147483648] }],
    ['GET', '/api/leads?q=%00', undefined],
    ['GET', '/api/leads?cursor=%00', undefined],
    ...['1', 'hello 2020', '-1', '+275760-09-13T00:00:00.000Z'].map(
      (time): [string, string, unknown] => [
        'GET',
        `/api/leads?cursor=${Buffer.from(`${time}|00000000-0000-4000-8000-000000000000`).toString('base64url')}`,
        undefined,
      ],
    ),
    ['PATCH', '/api/providers/0x10', { quota: 1 }],
    ['PATCH', '/api/providers/1e3', { quota: 1 }],
    ['GET', '/%zz', undefined],
    ['GET', '/api/leads/%ff', undefined],
    ['GET', '/api/leads/00000000-0000-0000-0000-00000000000%00', undefined],
    ['GET', '/api/allocations?limit=1e400', undefined],
  ];

  it.each(cases)('%s %s %j → 4xx with the spec body', async (method, path, body) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.json()).toMatchObject({ ok: false, error: expect.any(String) });
  });
});

describe('names people read', () => {
  it.each([
    ['POST', '/api/providers', { name: 'Red\u001b[31m Buyer', quota: 1 }],
    ['POST', '/api/providers', { name: 'two\nlines', quota: 1 }],
    ['PATCH', '/api/providers/1', { name: 'tab\there' }],
    ['POST', '/api/services', { slug: 'ctl', name: 'bell\u0007' }],
    ['PATCH', '/api/services/1', { name: 'del\u007f' }],
  ])('%s %s %j → 400 naming the field; nothing stored', async (method, path, body) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('control character');
    const names = await fetch(
      `${server.url}${path.startsWith('/api/providers') ? '/api/providers' : '/api/services'}`,
    );
    const stored = ((await names.json()) as { name: string }[]).map((row) => row.name);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored).not.toContain(body.name);
  });

  it('still takes letters, digits, punctuation and emoji', async () => {
    const res = await fetch(`${server.url}/api/providers/1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ünïcode — Buyer #1 ✓ 🚀' }),
    });
    expect(res.status).toBe(200);
  });
});

describe('refusals Node would answer itself', () => {
  function raw(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.end(text);
    });
  }

  it('answers a request without Host in the spec shape (403 invalid_host in the open default)', async () => {
    const answer = await raw('GET /api/providers HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(answer).toContain('{"ok":false,"error":"invalid_host"}');
  });

  it('answers an unknown Expect with 417 in the spec shape', async () => {
    const answer = await raw(
      'POST /api/lead HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 417/);
    expect(answer).toContain('{"ok":false,"error":"expectation_failed"}');
  });
});

describe('behind a proxy (TRUST_PROXY=1)', () => {
  it('checks the Host header itself and takes the address the proxy appended', async () => {
    const proxied = await startTestApp(db, {
      TRUST_PROXY: '1',
      REFUSED_BYTES_PER_MINUTE: String(10_000),
      RATE_LIMIT_PER_MINUTE: '0',
    });
    try {
      const ask = (
        headers: Record<string, string>,
        method = 'GET',
        path = '/api/providers',
        body?: string,
      ) =>
        new Promise<number>((resolve, reject) => {
          const outgoing = http.request(
            `${proxied.url}${path}`,
            { method, headers, agent: false },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          outgoing.on('error', reject);
          outgoing.end(body);
        });
      // A rebinding page can add X-Forwarded-Host to its own requests; the Host is what counts.
      expect(await ask({ host: 'rebind.evil.example', 'x-forwarded-host': 'localhost' })).toBe(403);
      // The client writes the left of X-Forwarded-For itself: it must not buy a new budget.
      const refused = `[${'1,'.repeat(2999)}1]`;
      const statuses = [];
      for (const client of ['10.0.0.1', '10.0.0.2']) {
        statuses.push(
          await ask(
            {
              host: '127.0.0.1',
              'content-type': 'application/json',
              'x-forwarded-for': `${client}, 192.0.2.7`,
            },
            'POST',
            '/api/lead',
            refused,
          ),
        );
      }
      expect(statuses).toEqual([400, 429]);
    } finally {
      await proxied.close();
    }
  });
});

describe('disk and secrets', () => {
  it('stores no credential-like header, whatever its name', async () => {
    const requestId = randomUUID();
    await post(
      `${server.url}/api/lead`,
      { email: 'h@example.com' },
      {
        'x-request-id': requestId,
        'x-auth-token': 's1',
        'api-key': 's2',
        'x-secret': 's3',
        'x-session-id': 's4',
        'x-password': 's5',
        'webhook-signature': 's6',
        'idempotency-key': `kept-${requestId}`,
        'x-campaign': 'kept',
      },
    );
    const { rows } = await db.pool.query<{ headers: Record<string, string> }>(
      'SELECT headers FROM leads_raw WHERE request_id = $1',
      [requestId],
    );
    const names = Object.keys(rows[0]!.headers);
    expect(names).toEqual(expect.arrayContaining(['idempotency-key', 'x-campaign']));
    expect(names.filter((name) => /auth|key|secret|session|password|signature/.test(name))).toEqual(
      ['idempotency-key'],
    );
  });

  it('stores at most REFUSED_BYTES_PER_MINUTE of refused bodies per sender, then 429', async () => {
    const budgeted = await startTestApp(db, {
      REFUSED_BYTES_PER_MINUTE: String(10_000),
      RATE_LIMIT_PER_MINUTE: '0',
    });
    try {
      const refused = `[${'1,'.repeat(2999)}1]`; // 6 KB, not an object
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const statuses = [];
      for (const id of ids) {
        statuses.push(
          (await post(`${budgeted.url}/api/lead`, refused, { 'x-request-id': id })).status,
        );
      }
      expect(statuses).toEqual([400, 429, 429]);
      const { rows } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM leads_raw WHERE request_id = ANY($1::text[])',
        [ids],
      );
      expect(rows[0]!.n).toBe(1);
      // Valid leads are not refusals: the budget never blocks them.
      expect((await post(`${budgeted.url}/api/lead`, { email: 'ok@example.com' })).status).toBe(
        201,
      );
    } finally {
      await budgeted.close();
    }
  });
});
