import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminSessions, SESSION_COOKIE } from '../../src/http/auth.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';

const ADMIN_TOKEN = 'operator-token-7f1c2e9a4b6d8f00';
const INGEST_KEY = 'ingest-key-3e5a7c9b1d2f4a6c';

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { ADMIN_TOKEN, INGEST_API_KEYS: INGEST_KEY });
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const ADMIN_READS = [
  '/api/providers',
  '/api/services',
  '/api/leads',
  '/api/allocations',
  '/api/stats',
  '/api/security/counters',
  '/openapi.json',
  '/docs',
  '/docs/static/swagger-ui-bundle.js',
];

interface Answer {
  status: number;
  json(): unknown;
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, { headers, redirect: 'manual' });
  // Read every body: an unread one (the 1.5 MB swagger bundle) stalls its connection, and
  // the server's close waits for it.
  const text = await response.text();
  return { status: response.status, json: () => JSON.parse(text) };
}

async function login(url: string, token: string): Promise<Response> {
  return fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
}

function sessionCookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  expect(cookie).toBeDefined();
  return cookie!;
}

describe('ADMIN_TOKEN', () => {
  it('requires the token for every read/config API, the event stream, /docs and /openapi.json', async () => {
    for (const path of ADMIN_READS) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toEqual({ ok: false, error: 'unauthorized' });
    }
    const events = await get('/api/events');
    expect(events.status).toBe(401);
    const writes: [string, string, unknown][] = [
      ['POST', '/api/providers', { name: 'PX', quota: 1 }],
      ['PATCH', '/api/providers/1', { quota: 99 }],
      ['POST', '/api/services', { slug: 'x', name: 'X' }],
      ['PATCH', '/api/services/1', { providersPerLead: 1 }],
    ];
    for (const [method, path, body] of writes) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const { rows } = await db.pool.query('SELECT quota FROM providers WHERE id = 1');
    expect(rows[0].quota).toBe(10);
  });

  it('accepts Authorization: Bearer <ADMIN_TOKEN> from scripts', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const path of ADMIN_READS) {
      expect((await get(path, auth)).status, path).toBe(200);
    }
    expect((await get('/api/providers', { authorization: `Bearer ${ADMIN_TOKEN}0` })).status).toBe(
      401,
    );
    expect((await get('/api/providers', { authorization: `Bearer ${INGEST_KEY}` })).status).toBe(
      401,
    );
    const controller = new AbortController();
    const events = await fetch(`${server.url}/api/events`, {
      headers: auth,
      signal: controller.signal,
    });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('leaves health, the UI switch, login/logout and the dashboard pages open', async () => {
    for (const path of ['/health', '/ready', '/api/config/ui', '/']) {
      expect((await get(path)).status, path).toBeLessThan(400);
    }
    expect(await (await get('/api/config/ui')).json()).toEqual({
      testTools: true,
      auth: true,
      authenticated: false,
    });
  });

  it('logs a browser in with an HttpOnly, SameSite=Strict cookie that is not the token', async () => {
    const wrong = await login(server.url, 'not-the-token-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);

    const res = await login(server.url, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const setCookie = sessionCookieOf(res);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Strict/i);
    expect(setCookie).toMatch(/; Path=\//i);
    expect(setCookie).toMatch(/; Max-Age=\d+/i);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0]!;

    expect((await get('/api/providers', { cookie })).status).toBe(200);
    expect((await get('/docs', { cookie })).status).toBe(200);
    expect(await (await get('/api/config/ui', { cookie })).json()).toMatchObject({
      authenticated: true,
    });

    const logout = await fetch(`${server.url}/api/logout`, { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(200);
    expect(sessionCookieOf(logout)).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
  });

  it('refuses tampered, expired and foreign session cookies', async () => {
    const cookie = sessionCookieOf(await login(server.url, ADMIN_TOKEN)).split(';')[0]!;
    const valid = cookie.slice(SESSION_COOKIE.length + 1);
    const [id, expires, mac] = valid.split('.') as [string, string, string];
    const otherId = `${id.slice(0, -1)}${id.endsWith('a') ? 'b' : 'a'}`;
    const candidates = [
      `${id}.${Number(expires) + 3600}.${mac}`,
      `${id}.${expires}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `${otherId}.${expires}.${mac}`,
      await new AdminSessions(ADMIN_TOKEN, db.pool).issue(Date.now() - 13 * 60 * 60 * 1000),
      await new AdminSessions('some-other-token-0123456789', db.pool).issue(),
      ADMIN_TOKEN,
      '',
    ];
    for (const value of candidates) {
      const res = await get('/api/providers', { cookie: `${SESSION_COOKIE}=${value}` });
      expect(res.status, value).toBe(401);
    }
    expect((await get('/api/providers', { cookie })).status).toBe(200);
  });

  it('needs its own Origin for a cookie write, whatever other credential-looking header comes along', async () => {
    const cookie = sessionCookieOf(await login(server.url, ADMIN_TOKEN)).split(';')[0]!;
    const patch = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/providers/8`, {
        method: 'PATCH',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ active: true }),
      });
    const junks: Record<string, string>[] = [
      {},
      { 'x-api-key': 'garbage' },
      { authorization: 'Bearer garbage' },
    ];
    for (const junk of junks) {
      const res = await patch(junk);
      expect(res.status, JSON.stringify(junk)).toBe(403);
      expect(await res.json()).toEqual({ ok: false, error: 'forbidden_origin' });
    }
    expect((await patch({ origin: server.url })).status).toBe(200);
    // The admin token itself is not a cookie: scripts need no Origin.
    expect((await patch({ authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('revokes every session a logout carries, even behind a planted cookie', async () => {
    const cookie = sessionCookieOf(await login(server.url, ADMIN_TOKEN)).split(';')[0]!;
    const planted = `${SESSION_COOKIE}=garbage; ${cookie}`;
    expect((await get('/api/providers', { cookie: planted })).status).toBe(200);
    const logout = await fetch(`${server.url}/api/logout`, {
      method: 'POST',
      headers: { cookie: planted, origin: server.url },
    });
    expect(logout.status).toBe(200);
    expect((await get('/api/providers', { cookie })).status).toBe(401);
  });

  it('revokes a session on logout on every instance, not only in the browser', async () => {
    const other = await startTestApp(db, { ADMIN_TOKEN, INGEST_API_KEYS: INGEST_KEY });
    try {
      const cookie = sessionCookieOf(await login(server.url, ADMIN_TOKEN)).split(';')[0]!;
      const onOther = async () =>
        (await fetch(`${other.url}/api/providers`, { headers: { cookie } })).status;
      expect(await onOther()).toBe(200);
      const logout = await fetch(`${server.url}/api/logout`, {
        method: 'POST',
        headers: { cookie, origin: server.url },
      });
      expect(logout.status).toBe(200);
      // A copy of the cookie kept after the logout (another tab, a thief) is dead everywhere.
      expect((await get('/api/providers', { cookie })).status).toBe(401);
      expect(await onOther()).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('lets a logged-in browser use the test tools (ingestion) as its own sender, a script not', async () => {
    const cookie = sessionCookieOf(await login(server.url, ADMIN_TOKEN)).split(';')[0]!;
    const viaCookie = await post(
      `${server.url}/api/lead`,
      { email: 'tools@example.com' },
      { cookie, origin: server.url },
    );
    expect(viaCookie.status).toBe(201);
    // The cookie is a credential here: another origin (a page on another port of this host is
    // "same site" and gets the SameSite=Strict cookie) or none at all is refused.
    for (const origin of [undefined, 'http://127.0.0.1:1', 'null']) {
      const refused = await post(
        `${server.url}/api/lead`,
        { email: 'csrf@example.com' },
        origin === undefined ? { cookie } : { cookie, origin },
      );
      expect(refused, String(origin)).toMatchObject({
        status: 403,
        body: { ok: false, error: 'forbidden_origin' },
      });
    }
    const { rows } = await db.pool.query('SELECT sender FROM leads WHERE id = $1', [
      viaCookie.body.lead_id,
    ]);
    expect(rows[0].sender).toBe('admin');
    const viaBearer = await post(
      `${server.url}/api/lead`,
      { email: 'tools@example.com' },
      {
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
    );
    expect(viaBearer.status).toBe(401);
  });

  it('counts refused admin calls', async () => {
    const res = await get('/api/security/counters', { authorization: `Bearer ${ADMIN_TOKEN}` });
    const counters = (await res.json()) as { unauthorized: Record<string, number> };
    expect(counters.unauthorized.admin).toBeGreaterThanOrEqual(ADMIN_READS.length + 5);
    expect(counters.unauthorized.login).toBeGreaterThanOrEqual(1);
  });
});

describe('test tools and login limits', () => {
  it('hides the test tools in production unless ENABLE_TEST_TOOLS=1, and then refuses their cookie', async () => {
    const production = await startTestApp(db, {
      NODE_ENV: 'production',
      ADMIN_TOKEN,
      INGEST_API_KEYS: INGEST_KEY,
    });
    const enabled = await startTestApp(db, { NODE_ENV: 'production', ENABLE_TEST_TOOLS: '1' });
    try {
      expect(await (await fetch(`${production.url}/api/config/ui`)).json()).toEqual({
        testTools: false,
        auth: true,
        authenticated: false,
      });
      expect(await (await fetch(`${enabled.url}/api/config/ui`)).json()).toEqual({
        testTools: true,
        auth: false,
        authenticated: true,
      });
      const cookie = sessionCookieOf(await login(production.url, ADMIN_TOKEN)).split(';')[0]!;
      const res = await post(`${production.url}/api/lead`, { email: 'x@example.com' }, { cookie });
      expect(res.status).toBe(401);
    } finally {
      await production.close();
      await enabled.close();
    }
  });

  it('allows 10 login attempts per minute per address, then 429 with Retry-After', async () => {
    const app = await startTestApp(db, { ADMIN_TOKEN });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 11; attempt++) {
        statuses.push((await login(app.url, `guess-${attempt}-0000000000000`)).status);
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      const limited = await login(app.url, ADMIN_TOKEN);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await limited.json()).toEqual({ ok: false, error: 'rate_limited' });
    } finally {
      await app.close();
    }
  });
});
