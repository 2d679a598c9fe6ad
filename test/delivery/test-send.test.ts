import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deleteDeliveryTestsOlderThan } from '../../src/delivery/delivery.sql.js';
import { post } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/db.js';
import { call, receiver, setup } from './harness.js';

async function count(db: TestDatabase, table: string): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('send a test lead (POST /api/providers/:id/delivery/test)', () => {
  it("sends to the stored endpoint with its real secrets and answers the buyer's reply; no lead, quota or delivery", async () => {
    const { app, db } = await setup();
    const buyer = await receiver(() => ({ status: 201, body: '{"accepted":true}' }));
    const saved = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, headers: { authorization: 'Bearer buyer-key' } },
    });
    expect(saved.status).toBe(200);
    const before = (await call(app, 'GET', '/api/providers')).body[0];

    const answer = await call(app, 'POST', '/api/providers/1/delivery/test', {});
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      providerId: 1,
      url: buyer.url,
      outcome: 'delivered',
      statusCode: 201,
      error: null,
      responseExcerpt: '{"accepted":true}',
    });
    expect(answer.body.durationMs).toBeGreaterThanOrEqual(0);

    expect(buyer.received).toHaveLength(1);
    const request = buyer.received[0]!;
    expect(request.headers.authorization).toBe('Bearer buyer-key');
    expect(request.headers['leadflow-test']).toBe('true');
    expect(request.headers['idempotency-key']).toBe(answer.body.id);
    expect(JSON.parse(request.body)).toMatchObject({
      test: true,
      lead_id: answer.body.id,
      delivery_id: answer.body.id,
      provider_id: 1,
      email: 'test-lead@example.invalid',
      extra: { test: true },
    });

    expect(await count(db, 'leads')).toBe(0);
    expect(await count(db, 'allocations')).toBe(0);
    expect(await count(db, 'deliveries')).toBe(0);
    expect(await count(db, 'delivery_attempts')).toBe(0);
    const { rows } = await db.pool.query('SELECT * FROM delivery_tests');
    expect(rows).toMatchObject([
      { id: answer.body.id, provider_id: 1, outcome: 'delivered', status_code: 201 },
    ]);
    const after = (await call(app, 'GET', '/api/providers')).body[0];
    expect(after.remainingQuota).toBe(before.remainingQuota);
    expect((await call(app, 'GET', '/api/deliveries/stats')).body.providers).toEqual([]);
  });

  it('tries an endpoint before it is saved: mapping, acceptPattern, signature', async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: 'status=duplicate' }));
    const answer = await call(app, 'POST', '/api/providers/2/delivery/test', {
      delivery: {
        url: buyer.url,
        fields: { mail: 'email', is_test: 'extra.test' },
        acceptPattern: 'status=ok',
        signingSecret: SECRET,
      },
    });
    expect(answer.body).toMatchObject({
      outcome: 'rejected',
      statusCode: 200,
      error: 'response did not match acceptPattern',
      responseExcerpt: 'status=duplicate',
    });
    const request = buyer.received[0]!;
    expect(JSON.parse(request.body)).toEqual({ mail: 'test-lead@example.invalid', is_test: true });
    expect(() =>
      new Webhook(SECRET).verify(request.body, {
        'webhook-id': request.headers['webhook-id'] as string,
        'webhook-timestamp': request.headers['webhook-timestamp'] as string,
        'webhook-signature': request.headers['webhook-signature'] as string,
      }),
    ).not.toThrow();
    // Nothing was saved.
    expect((await call(app, 'GET', '/api/providers')).body[1].delivery).toBeNull();
  });

  it('a 503, a refused connection and a long answer: failed with why, the excerpt capped at 2 KiB', async () => {
    const { app } = await setup();
    const down = await receiver(() => ({ status: 503, body: 'x'.repeat(5000) }));
    const failed = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: down.url },
    });
    expect(failed.body).toMatchObject({
      outcome: 'failed',
      statusCode: 503,
      error: 'HTTP 503 (a delivery would be retried)',
    });
    expect(failed.body.responseExcerpt).toHaveLength(2048);

    const gone = await receiver();
    await gone.close();
    const refused = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: gone.url },
    });
    expect(refused.body).toMatchObject({ outcome: 'failed', statusCode: null });
    expect(refused.body.error).toMatch(/^connection error: ECONNREFUSED/);

    const withHeader = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: down.url, headers: { 'x-buyer': 'hello' } },
    });
    expect(withHeader.body.outcome).toBe('failed');
    expect(down.received.at(-1)!.headers['x-buyer']).toBe('hello');
  });

  it('no endpoint → 409; unknown provider → 404; bad input → 400 with the field', async () => {
    const { app } = await setup();
    const none = await call(app, 'POST', '/api/providers/1/delivery/test', {});
    expect(none.status).toBe(409);
    expect(none.body.details[0].path).toBe('delivery');
    expect((await call(app, 'POST', '/api/providers/999/delivery/test', {})).status).toBe(404);
    const bad = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: 'ftp://example.com/' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('delivery.url');
    const masked = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: 'http://127.0.0.1:9/', headers: { authorization: '********' } },
    });
    expect(masked.status).toBe(400);
    expect(masked.body.details[0].path).toBe('delivery.headers.authorization');
  });

  it('in production a loopback URL is refused, given or stored (the same guard as delivery)', async () => {
    const { app, db } = await setup({ NODE_ENV: 'production' });
    const buyer = await receiver();
    const given = await call(app, 'POST', '/api/providers/1/delivery/test', {
      delivery: { url: buyer.url },
    });
    expect(given.status).toBe(400);
    expect(given.body.details[0].path).toBe('delivery.url');
    // Stored by hand, as by an instance that allowed private addresses.
    await db.pool.query(`INSERT INTO provider_delivery (provider_id, url) VALUES (1, $1)`, [
      buyer.url,
    ]);
    const stored = await call(app, 'POST', '/api/providers/1/delivery/test', {});
    expect(stored.status).toBe(200);
    expect(stored.body.outcome).toBe('failed');
    expect(stored.body.error).toMatch(/^refused: /);
    expect(buyer.received).toHaveLength(0);
  });
});

describe('masked values on save (PATCH /api/providers/:id delivery)', () => {
  it('keeps stored header values sent masked and a secret left out or masked; null removes it', async () => {
    const { app } = await setup();
    const buyer = await receiver();
    const first = await call(app, 'PATCH', '/api/providers/1', {
      delivery: {
        url: buyer.url,
        headers: { Authorization: 'Bearer one', 'X-Account': '42' },
        signingSecret: SECRET,
      },
    });
    expect(first.body.delivery).toMatchObject({
      headers: { Authorization: '********', 'X-Account': '********' },
      signingSecret: '********',
    });

    // The editor sends what it read back, with one header renamed in case and one new.
    const second = await call(app, 'PATCH', '/api/providers/1', {
      delivery: {
        url: buyer.url,
        headers: { authorization: '********', 'X-Extra': 'new' },
        timeoutMs: 2000,
      },
    });
    expect(second.status).toBe(200);
    expect(second.body.delivery).toMatchObject({
      headers: { authorization: '********', 'X-Extra': '********' },
      signingSecret: '********',
      timeoutMs: 2000,
    });
    await call(app, 'POST', '/api/providers/1/delivery/test', {});
    const sent = buyer.received.at(-1)!.headers;
    expect(sent.authorization).toBe('Bearer one');
    expect(sent['x-extra']).toBe('new');
    expect(sent['x-account']).toBeUndefined();
    expect(sent['webhook-signature']).toBeDefined();

    const third = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, headers: {}, signingSecret: '********' },
    });
    expect(third.body.delivery.signingSecret).toBe('********');
    const removed = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, signingSecret: null },
    });
    expect(removed.body.delivery.signingSecret).toBeNull();
    const nothingToKeep = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, signingSecret: '********', headers: { 'X-New': '********' } },
    });
    expect(nothingToKeep.status).toBe(400);
    expect(nothingToKeep.body.details.map((detail: { path: string }) => detail.path)).toEqual([
      'delivery.headers.X-New',
      'delivery.signingSecret',
    ]);
  });
});

describe('stored secrets stay with their endpoint', () => {
  it('a masked header value is not kept for another address: the value must be entered again', async () => {
    const { app } = await setup();
    const buyer = await receiver();
    const other = await receiver();
    await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, headers: { Authorization: 'Bearer kept-for-its-buyer' } },
    });
    for (const [method, path] of [
      ['POST', '/api/providers/1/delivery/test'],
      ['PATCH', '/api/providers/1'],
    ] as const) {
      const moved = await call(app, method, path, {
        delivery: { url: other.url, headers: { Authorization: '********' } },
      });
      expect(moved.status, path).toBe(400);
      expect(moved.body.details).toEqual([
        {
          path: 'delivery.headers.Authorization',
          message: "the endpoint's address changed: enter this header's value again",
        },
      ]);
    }
    expect(other.received).toHaveLength(0);
    // Same origin, another path: still the buyer's, kept.
    const samePlace = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: `${buyer.url}/v2`, headers: { Authorization: '********' } },
    });
    expect(samePlace.status).toBe(200);
  });

  it('a signing secret is not kept for another address either: enter it again or stop signing', async () => {
    const { app } = await setup();
    const buyer = await receiver();
    const other = await receiver();
    await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: buyer.url, signingSecret: SECRET },
    });
    for (const delivery of [{ url: other.url }, { url: other.url, signingSecret: '********' }]) {
      const moved = await call(app, 'PATCH', '/api/providers/1', { delivery });
      expect(moved.status).toBe(400);
      expect(moved.body.details).toEqual([
        {
          path: 'delivery.signingSecret',
          message:
            "the endpoint's address changed: enter the signing secret again, or stop signing",
        },
      ]);
    }
    expect(
      (await call(app, 'PATCH', '/api/providers/1', { delivery: { url: `${buyer.url}/v2` } }))
        .status,
    ).toBe(200);
    const unsigned = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: other.url, signingSecret: null },
    });
    expect(unsigned.status).toBe(200);
    expect(unsigned.body.delivery.signingSecret).toBeNull();
  });

  it('a buyer echoing its request shows no header value or signature in the answer or the logs', async () => {
    const { app, db } = await setup();
    const echo = await receiver((_, request) => ({
      status: 200,
      body: JSON.stringify({ headers: request.headers }),
    }));
    await call(app, 'PATCH', '/api/providers/1', {
      delivery: {
        url: echo.url,
        headers: { Authorization: 'Bearer echoed-credential-123', 'X-Api-Key': 'k-987654321' },
        signingSecret: SECRET,
      },
    });
    const answer = await call(app, 'POST', '/api/providers/1/delivery/test', {});
    expect(answer.status).toBe(200);
    const sent = echo.received[0]!.headers;
    const stored = JSON.stringify((await db.pool.query('SELECT * FROM delivery_tests')).rows);
    const audit = JSON.stringify((await db.pool.query('SELECT * FROM audit_log')).rows);
    for (const text of [answer.body.responseExcerpt as string, stored, audit]) {
      expect(text).not.toContain('echoed-credential-123');
      expect(text).not.toContain('k-987654321');
      expect(text).not.toContain(String(sent['webhook-signature']));
    }
    expect(answer.body.responseExcerpt).toContain('********');
  });
});

describe('success rate of the last hour (GET /api/deliveries/stats)', () => {
  it('counts attempts per provider by outcome; older attempts drop out; tests do not count', async () => {
    const { app, db } = await setup();
    const buyer = await receiver((index) => ({ status: index === 0 ? 500 : 200 }));
    await call(app, 'PATCH', '/api/providers/1', { delivery: { url: buyer.url } });
    const lead = await post(`${app.url}/api/request-service`, { serviceId: 1 });
    expect(lead.status).toBe(201);
    await expect
      .poll(async () => (await call(app, 'GET', '/api/deliveries?status=delivered')).body.items, {
        timeout: 10_000,
        interval: 50,
      })
      .toHaveLength(1);

    const stats = await call(app, 'GET', '/api/deliveries/stats');
    expect(stats.body).toEqual({
      windowMinutes: 60,
      providers: [{ providerId: 1, attempts: 2, delivered: 1, rejected: 0, failed: 1, rate: 0.5 }],
    });
    await db.pool.query(
      `UPDATE delivery_attempts SET started_at = now() - interval '61 minutes' WHERE attempt = 1`,
    );
    expect((await call(app, 'GET', '/api/deliveries/stats')).body.providers).toEqual([
      { providerId: 1, attempts: 1, delivered: 1, rejected: 0, failed: 0, rate: 1 },
    ]);
  });

  it('keeps test answers for TEST_SEND_RETENTION_DAYS: older ones are deleted by the sweep', async () => {
    const { app, db } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: 'ok' }));
    await call(app, 'PATCH', '/api/providers/1', { delivery: { url: buyer.url } });
    for (let i = 0; i < 3; i++) {
      expect((await call(app, 'POST', '/api/providers/1/delivery/test', {})).status).toBe(200);
    }
    // Two of them as if sent 8 and 6 days ago.
    await db.pool.query(
      `UPDATE delivery_tests SET started_at = now() - make_interval(days => d.age)
         FROM (SELECT id, (ARRAY[8, 6])[row_number() OVER (ORDER BY id)] AS age
                 FROM delivery_tests ORDER BY id LIMIT 2) d
        WHERE delivery_tests.id = d.id`,
    );
    expect(await deleteDeliveryTestsOlderThan(db.pool, 7)).toBe(1);
    expect(await count(db, 'delivery_tests')).toBe(2);
    expect(await deleteDeliveryTestsOlderThan(db.pool, 7)).toBe(0);
    expect(await deleteDeliveryTestsOlderThan(db.pool, 5)).toBe(1);
    expect(await count(db, 'delivery_tests')).toBe(1);
  });
});
