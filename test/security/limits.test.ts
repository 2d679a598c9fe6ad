import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { exposureWarnings, warnIfExposed } from '../../src/http/security/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp } from '../helpers/app.js';

const KEY_A = 'limits-key-a-5e0c7a9b1d3f';
const KEY_B = 'limits-key-b-8c2e4a6b0d1f';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

async function rawCount(): Promise<number> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM leads_raw');
  return rows[0].n;
}

describe('rate limits', () => {
  it('limits each API key separately: 429 rate_limited with Retry-After, health exempt', async () => {
    const app = await startTestApp(db, {
      INGEST_API_KEYS: `${KEY_A},${KEY_B}`,
      RATE_LIMIT_PER_MINUTE: '5',
    });
    try {
      const send = (key: string) =>
        post(`${app.url}/api/lead`, { email: 'r@example.com' }, { 'x-api-key': key });
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await send(KEY_A)).status);
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
      const before = await rawCount();
      const limited = await send(KEY_A);
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ ok: false, error: 'rate_limited' });
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await rawCount()).toBe(before);
      // Another sender from the same address has its own budget.
      expect((await send(KEY_B)).status).toBe(201);
      for (let i = 0; i < 10; i++) {
        expect((await fetch(`${app.url}/health`)).status).toBe(200);
        expect((await fetch(`${app.url}/ready`)).status).toBe(200);
      }
      expect(app.app.securityCounters.rateLimited).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('limits callers without a key by address, including refused 401s', async () => {
    const app = await startTestApp(db, { INGEST_API_KEYS: KEY_A, RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await post(`${app.url}/api/lead`, {}, { 'x-api-key': `guess-${i}` })).status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect((await post(`${app.url}/api/lead`, {}, { 'x-api-key': KEY_A })).status).toBe(201);
    } finally {
      await app.close();
    }
  });
});

describe('security headers', () => {
  it('sends helmet headers and a strict CSP for the dashboard, a relaxed one for /docs only', async () => {
    const app = await startTestApp(db);
    try {
      const root = await fetch(`${app.url}/`, { redirect: 'manual' });
      await root.arrayBuffer();
      expect(root.headers.get('x-content-type-options')).toBe('nosniff');
      expect(root.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(root.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = root.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("img-src 'self' data:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
      const page = await fetch(`${app.url}/no-such-page`);
      await page.arrayBuffer();
      expect(page.headers.get('content-security-policy')).toBe(csp);

      // API answers (JSON, the event stream, a 404 under /api/) are never rendered as pages:
      // the API set, with a CSP that allows nothing.
      const api = await post(`${app.url}/api/lead`, { email: 'h@example.com' });
      const unknown = await fetch(`${app.url}/api/nope`);
      await unknown.arrayBuffer();
      for (const res of [api, unknown]) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('content-security-policy')).toBe(
          "default-src 'none';frame-ancestors 'none'",
        );
        expect(res.headers.get('strict-transport-security')).toContain('max-age=');
        expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
        expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
      }

      // /docs renders: the page and every script and stylesheet it names load under its CSP.
      const docs = await fetch(`${app.url}/docs/`);
      expect(docs.status).toBe(200);
      const docsCsp = docs.headers.get('content-security-policy')!;
      expect(docsCsp).toContain("script-src 'self';");
      expect(docsCsp).toContain("style-src 'self' 'unsafe-inline'");
      const html = await docs.text();
      expect(html).not.toMatch(/<script>(?!\s*<\/script>)|<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(4);
      for (const asset of assets) {
        const res = await fetch(new URL(asset, `${app.url}/docs/`));
        await res.arrayBuffer();
        expect(res.status, asset).toBe(200);
        expect(res.headers.get('content-security-policy'), asset).toBe(docsCsp);
      }
      const spec = await fetch(`${app.url}/docs/json`);
      expect(spec.status).toBe(200);
      expect(await spec.json()).toHaveProperty('openapi');
    } finally {
      await app.close();
    }
  });

  it('keeps the timeouts that bound slow clients', async () => {
    const app = await startTestApp(db);
    try {
      expect(app.app.server.requestTimeout).toBe(30_000);
      expect(app.app.server.headersTimeout).toBe(10_000);
      expect(app.app.server.keepAliveTimeout).toBe(72_000);
      expect(app.app.server.timeout).toBe(60_000);
    } finally {
      await app.close();
    }
  });
});

describe('CORS', () => {
  it('is same-origin only by default', async () => {
    const app = await startTestApp(db);
    try {
      const res = await post(`${app.url}/api/lead`, {}, { origin: 'https://evil.example' });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${app.url}/api/lead`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('allows exactly the configured origins', async () => {
    const app = await startTestApp(db, { CORS_ORIGINS: 'https://landing.example' });
    try {
      const preflight = await fetch(`${app.url}/api/lead`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://landing.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key,x-api-key',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://landing.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
      const res = await post(`${app.url}/api/lead`, {}, { origin: 'https://landing.example' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://landing.example');
      expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
      const other = await post(`${app.url}/api/lead`, {}, { origin: 'https://other.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await app.close();
    }
  });
});

describe('load shedding', () => {
  it('answers 503 unavailable with Retry-After while the database backlog is over the bound', async () => {
    const app = await startTestApp(db, { DB_POOL_SIZE: '2', SHED_DB_BACKLOG: '3' });
    const held = [await app.pool.connect(), await app.pool.connect()];
    // Connections queued behind the held ones; each gives up after the pool's 5 s timeout.
    const waiting = Array.from({ length: 5 }, () =>
      app.pool.connect().then(
        (client) => client.release(),
        () => undefined,
      ),
    );
    try {
      await expect.poll(() => app.pool.waitingCount).toBe(5);
      // The backlog is sampled every 250 ms.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const res = await post(`${app.url}/api/lead`, { email: 's@example.com' });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ ok: false, error: 'unavailable' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
      expect(app.app.securityCounters.shed).toBeGreaterThan(0);
    } finally {
      for (const client of held) client.release();
      await Promise.all(waiting);
    }
    try {
      await expect
        .poll(async () => (await post(`${app.url}/api/lead`, { email: 'ok@example.com' })).status, {
          timeout: 3000,
        })
        .toBe(201);
    } finally {
      await app.close();
    }
  });

  it('answers 503 while the event loop lags beyond MAX_EVENT_LOOP_DELAY_MS, health exempt', async () => {
    const app = await startTestApp(db, { MAX_EVENT_LOOP_DELAY_MS: '100' });
    try {
      // Block this process's event loop in 300 ms slices for 1.5 s: every sample lags.
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        const slice = Date.now() + 300;
        while (Date.now() < slice);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [lead, health] = await Promise.all([
        post(`${app.url}/api/lead`, { email: 'lag@example.com' }, { 'x-request-id': randomUUID() }),
        fetch(`${app.url}/health`),
      ]);
      expect(lead.status).toBe(503);
      expect(lead.body).toEqual({ ok: false, error: 'unavailable' });
      expect(lead.headers.get('retry-after')).toBe('5');
      expect(health.status).toBe(200);
      await expect
        .poll(async () => (await post(`${app.url}/api/lead`, { email: 'ok@example.com' })).status, {
          timeout: 3000,
          interval: 200,
        })
        .toBe(201);
    } finally {
      await app.close();
    }
  });
});

describe('start-up warning', () => {
  const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'production', ...env });

  it('names every open surface of a production instance on a non-loopback address', () => {
    const warnings = exposureWarnings(config({ HOST: '0.0.0.0' }));
    expect(warnings.join('\n')).toMatch(/INGEST_API_KEYS/);
    expect(warnings.join('\n')).toMatch(/ADMIN_TOKEN/);
    expect(warnings.join('\n')).toMatch(/WEBHOOK_SECRET/);
    expect(
      exposureWarnings(
        config({
          HOST: '0.0.0.0',
          INGEST_API_KEYS: 'a-long-random-key-000001',
          ADMIN_TOKEN: 'admin-token-0000000000',
          WEBHOOK_SECRET: 'whsec_c2VjcmV0',
        }),
      ),
    ).toEqual([]);
    expect(
      exposureWarnings(config({ HOST: '0.0.0.0', ADMIN_TOKEN: 'admin-token-0000000000' })),
    ).toHaveLength(2);
  });

  it('stays quiet on loopback and outside production', () => {
    for (const HOST of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      expect(exposureWarnings(config({ HOST }))).toEqual([]);
    }
    expect(exposureWarnings(loadConfig({ NODE_ENV: 'development', HOST: '0.0.0.0' }))).toEqual([]);
  });

  it('logs one loud warning naming what is open', () => {
    const lines: { level: number; msg: string; open: string[] }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    warnIfExposed(config({ HOST: '10.0.0.5', ADMIN_TOKEN: 'admin-token-0000000000' }), logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
    expect(lines[0]!.msg).toMatch(/^SECURITY WARNING: .*INGEST_API_KEYS.*WEBHOOK_SECRET/);
    expect(lines[0]!.open).toHaveLength(2);
  });
});
