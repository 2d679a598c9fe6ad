import { Webhook } from 'standardwebhooks';
import type { DeliveryDetail } from '../../src/contracts/index.js';
import { describe, expect, it } from 'vitest';
import { startTestApp, post, type TestApp } from '../helpers/app.js';
import { afterTest, call, receiver, setup } from './harness.js';
import { FAST_DELIVERY, startReceiver } from './receiver.js';

/** P1 is service 1's static provider: every lead of service 1 goes to it. */
async function connectP1(app: TestApp, delivery: Record<string, unknown>): Promise<void> {
  const answer = await call(app, 'PATCH', '/api/providers/1', { delivery });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

async function allocate(app: TestApp, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await post(`${app.url}/api/request-service`, {
    serviceId: 1,
    email: 'buyer@example.com',
    ...extra,
  });
  expect(answer.status).toBe(201);
  return answer.body.lead_id as string;
}

async function deliveryOf(app: TestApp, leadId: string): Promise<DeliveryDetail> {
  const list = await call(app, 'GET', `/api/deliveries?leadId=${leadId}`);
  expect(list.body.items).toHaveLength(1);
  return (await call(app, 'GET', `/api/deliveries/${list.body.items[0].id}`)).body;
}

async function settled(app: TestApp, leadId: string, timeout = 10_000): Promise<DeliveryDetail> {
  await expect
    .poll(async () => (await deliveryOf(app, leadId)).status, { timeout, interval: 50 })
    .not.toBe('pending');
  return deliveryOf(app, leadId);
}

describe('delivery outcomes (SPEC §9)', () => {
  it('500, 500, 200: delivered on attempt 3, with one Idempotency-Key throughout', async () => {
    const { app, db } = await setup();
    const buyer = await receiver((index) => ({ status: index < 2 ? 500 : 200, body: 'ok' }));
    await connectP1(app, { url: buyer.url, headers: { authorization: 'Bearer buyer-key' } });
    const leadId = await allocate(app, { firstName: 'Ada', campaign: { id: 7 } });
    const delivery = await settled(app, leadId);

    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts).toBe(3);
    expect(delivery.attemptLog.map((attempt) => attempt.outcome)).toEqual([
      'retry',
      'retry',
      'delivered',
    ]);
    expect(delivery.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 500, 200]);
    expect(buyer.received).toHaveLength(3);
    expect(new Set(buyer.received.map((request) => request.headers['idempotency-key']))).toEqual(
      new Set([delivery.id]),
    );
    const sent = JSON.parse(buyer.received[2]!.body);
    expect(sent).toMatchObject({
      lead_id: leadId,
      service_id: 1,
      provider_id: 1,
      delivery_id: delivery.id,
      email: 'buyer@example.com',
      first_name: 'Ada',
      extra: { campaign: { id: 7 } },
    });
    expect(buyer.received[0]!.headers.authorization).toBe('Bearer buyer-key');

    // Reads mask the buyer's credentials; the lead lists its delivery; an event says so.
    const providers = await call(app, 'GET', '/api/providers');
    expect(providers.body[0]).toMatchObject({
      deliveryState: 'ok',
      delivery: { url: buyer.url, headers: { authorization: '********' }, signingSecret: null },
    });
    const lead = await call(app, 'GET', `/api/leads/${leadId}`);
    expect(lead.body.deliveries).toMatchObject([{ id: delivery.id, status: 'delivered' }]);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'delivery.succeeded'`,
    );
    expect(rows[0].n).toBe(1);
    // The answer after two failures cleared the provider's count of them.
    const health = await db.pool.query(
      'SELECT consecutive_failures FROM provider_delivery WHERE provider_id = 1',
    );
    expect(health.rows[0].consecutive_failures).toBe(0);
    // The next lead goes to a healthy provider: one statement records it, with its event.
    const nextLeadId = await allocate(app, { firstName: 'Grace' });
    const next = await settled(app, nextLeadId);
    expect(next).toMatchObject({ status: 'delivered', attempts: 1 });
    const succeeded = await db.pool.query(
      `SELECT payload FROM events WHERE type = 'delivery.succeeded' ORDER BY id`,
    );
    expect(succeeded.rows.map((row) => row.payload)).toEqual([
      {
        deliveryId: delivery.id,
        leadId,
        providerId: 1,
        attempts: 3,
        statusCode: 200,
        error: null,
      },
      {
        deliveryId: next.id,
        leadId: nextLeadId,
        providerId: 1,
        attempts: 1,
        statusCode: 200,
        error: null,
      },
    ]);
    // A delivered delivery is not retried by hand.
    expect((await call(app, 'POST', `/api/deliveries/${delivery.id}/retry`)).status).toBe(409);
  });

  it('429 with Retry-After: 2 → the next attempt not before 2 s', async () => {
    // Retry-After is capped at DELIVERY_RETRY_MAX_MS, 200 ms in the other tests.
    const { app } = await setup({ DELIVERY_RETRY_MAX_MS: '60000' });
    const buyer = await receiver((index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    await connectP1(app, { url: buyer.url });
    const delivery = await settled(app, await allocate(app));
    expect(delivery.status).toBe('delivered');
    expect(buyer.received).toHaveLength(2);
    expect(buyer.received[1]!.at - buyer.received[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  it('a receiver that never answers: timeout, then retried', async () => {
    const { app } = await setup();
    const buyer = await receiver((index) => (index === 0 ? { hang: true } : { status: 204 }));
    await connectP1(app, { url: buyer.url, timeoutMs: 300 });
    const delivery = await settled(app, await allocate(app));
    expect(delivery.status).toBe('delivered');
    expect(delivery.attemptLog[0]).toMatchObject({ outcome: 'retry', error: 'timeout' });
    expect(delivery.attemptLog[0].durationMs).toBeGreaterThanOrEqual(290);
    expect(buyer.received).toHaveLength(2);
  });

  it('connection refused until maxAttempts → failed; a manual retry once the buyer is back → delivered once', async () => {
    const { app } = await setup();
    const gone = await startReceiver();
    const port = gone.port;
    await gone.close();
    await connectP1(app, { url: `http://127.0.0.1:${port}/leads`, maxAttempts: 3 });
    const leadId = await allocate(app);
    const failed = await settled(app, leadId);
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toMatch(/ECONNREFUSED.*gave up after 3 attempts/);

    const back = await startReceiver(undefined, port);
    afterTest(() => back.close());
    const retried = await call(app, 'POST', `/api/deliveries/${failed.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      status: 'pending',
      lastError: null,
      lastStatusCode: null,
    });
    const delivered = await settled(app, leadId);
    expect(delivered.status).toBe('delivered');
    expect(delivered.attempts).toBe(4);
    expect(back.received).toHaveLength(1);
    expect(back.received[0]!.headers['idempotency-key']).toBe(failed.id);
  });

  it('2xx without the acceptPattern → rejected, not retried; 400 → failed at once', async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: '{"accepted":false}' }));
    await connectP1(app, { url: buyer.url, acceptPattern: '"accepted":\\s*true' });
    const rejected = await settled(app, await allocate(app));
    expect(rejected).toMatchObject({ status: 'rejected', attempts: 1, lastStatusCode: 200 });
    expect(rejected.attemptLog[0].responseExcerpt).toBe('{"accepted":false}');
    expect(buyer.received).toHaveLength(1);

    const refusing = await receiver(() => ({ status: 400, body: 'bad phone' }));
    await connectP1(app, { url: refusing.url, format: 'form', fields: { mail: 'email' } });
    const failed = await settled(app, await allocate(app));
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 400 });
    expect(refusing.received).toHaveLength(1);
    expect(refusing.received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(refusing.received[0]!.body).toBe('mail=buyer%40example.com');

    const bulk = await call(app, 'POST', '/api/deliveries/retry', {
      providerId: 1,
      status: 'failed',
    });
    expect(bulk.body).toEqual({ ok: true, requeued: 1 });
  });

  it('a signed delivery verifies with standardwebhooks on the receiver side', async () => {
    const { app } = await setup();
    const secret = `whsec_${Buffer.from('a-buyer-shared-secret-32-bytes!!').toString('base64')}`;
    const buyer = await receiver();
    await connectP1(app, { url: buyer.url, signingSecret: secret });
    const delivery = await settled(app, await allocate(app));
    const [request] = buyer.received;
    const verified = new Webhook(secret).verify(request!.body, {
      'webhook-id': request!.headers['webhook-id'] as string,
      'webhook-timestamp': request!.headers['webhook-timestamp'] as string,
      'webhook-signature': request!.headers['webhook-signature'] as string,
    });
    expect(verified).toMatchObject({ delivery_id: delivery.id });
    expect(request!.headers['webhook-id']).toBe(delivery.id);
    const providers = await call(app, 'GET', '/api/providers');
    expect(providers.body[0].delivery.signingSecret).toBe('********');
  });
});

describe('provider health', () => {
  it('paused after 10 failed attempts in a row, skipped by allocation, resumed by a probe', async () => {
    const { app, db } = await setup({ DELIVERY_PAUSE_AFTER: '10' });
    let up = false;
    const buyer = await receiver(() => ({ status: up ? 200 : 503 }));
    await connectP1(app, { url: buyer.url, maxAttempts: 100 });
    const leads = [await allocate(app), await allocate(app)];
    await expect
      .poll(async () => (await call(app, 'GET', '/api/providers')).body[0].deliveryState, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('paused');
    const failuresAtPause = buyer.received.length;
    expect(failuresAtPause).toBeGreaterThanOrEqual(10);

    // Service 1's static provider is paused: the pool fills the lead without it.
    const skipping = await post(`${app.url}/api/request-service`, { serviceId: 1 });
    expect(skipping.status).toBe(201);
    expect(
      (skipping.body.providers as { id: number }[]).map((provider) => provider.id),
    ).not.toContain(1);

    up = true;
    await expect
      .poll(async () => (await call(app, 'GET', '/api/providers')).body[0].deliveryState, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe('ok');
    for (const leadId of leads) expect((await settled(app, leadId)).status).toBe('delivered');
    const { rows } = await db.pool.query(
      `SELECT type FROM events WHERE type LIKE 'provider.delivery_%' ORDER BY id`,
    );
    expect(rows.map((row) => row.type)).toEqual([
      'provider.delivery_paused',
      'provider.delivery_resumed',
    ]);
  });
  it('saving the endpoint of a paused provider resumes it, with the event', async () => {
    // No probe during the test: only the save can resume it.
    const { app, db } = await setup({ DELIVERY_PAUSE_AFTER: '2', DELIVERY_PROBE_MS: '600000' });
    let up = false;
    const buyer = await receiver(() => ({ status: up ? 200 : 503 }));
    await connectP1(app, { url: buyer.url, maxAttempts: 100 });
    await allocate(app);
    await expect
      .poll(async () => (await call(app, 'GET', '/api/providers')).body[0].deliveryState, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('paused');
    up = true;
    await connectP1(app, { url: buyer.url, maxAttempts: 100 });
    expect((await call(app, 'GET', '/api/providers')).body[0].deliveryState).toBe('ok');
    const { rows } = await db.pool.query(
      `SELECT type, payload FROM events WHERE type LIKE 'provider.delivery_%' ORDER BY id`,
    );
    expect(rows).toEqual([
      { type: 'provider.delivery_paused', payload: { providerId: 1, consecutiveFailures: 2 } },
      { type: 'provider.delivery_resumed', payload: { providerId: 1 } },
    ]);
  });
});

describe('configuration', () => {
  it('in production a loopback URL is refused unless DELIVERY_ALLOW_PRIVATE=1', async () => {
    const { db, app: open } = await setup({ NODE_ENV: 'production' });
    const refused = await call(open, 'PATCH', '/api/providers/1', {
      delivery: { url: 'http://127.0.0.1:9/leads' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([
      { path: 'delivery.url', message: expect.stringContaining('loopback') },
    ]);
    const viaName = await call(open, 'PATCH', '/api/providers/1', {
      delivery: { url: 'http://localhost:9/leads' },
    });
    expect(viaName.status).toBe(400);

    const allowed = await startTestApp(db, {
      ...FAST_DELIVERY,
      NODE_ENV: 'production',
      DELIVERY_ALLOW_PRIVATE: '1',
    });
    afterTest(() => allowed.close());
    const accepted = await call(allowed, 'PATCH', '/api/providers/1', {
      delivery: { url: 'http://127.0.0.1:9/leads' },
    });
    expect(accepted.status).toBe(200);
  });

  it('a production instance refuses to send to a loopback address set before', async () => {
    const { db } = await setup({ DELIVERY_CONCURRENCY: '0' });
    const buyer = await receiver();
    const configuring = await startTestApp(db, { DELIVERY_CONCURRENCY: '0' });
    afterTest(() => configuring.close());
    await connectP1(configuring, { url: buyer.url });
    const leadId = await allocate(configuring);
    const production = await startTestApp(db, { ...FAST_DELIVERY, NODE_ENV: 'production' });
    afterTest(() => production.close());
    const delivery = await settled(production, leadId);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery.lastError).toMatch(/^refused: 127\.0\.0\.1/);
    expect(buyer.received).toHaveLength(0);
  });

  it('refuses bad endpoints and unknown query parameters with 400', async () => {
    const { app } = await setup();
    for (const delivery of [
      { url: 'ftp://example.com/' },
      { url: 'https://example.com/', acceptPattern: '(' },
      { url: 'https://example.com/', acceptPattern: 'a'.repeat(201) },
      { url: 'https://example.com/', headers: { 'x-bad': 'line\r\nbreak' } },
      { url: 'https://example.com/', headers: { 'idempotency-key': 'mine' } },
      { url: 'https://example.com/', fields: { to: 'password' } },
      { url: 'https://example.com/', signingSecret: 'plain' },
      // Found by a hostile run: credentials in the URL would be shown by every read; headers
      // the HTTP client refuses made every send fail; __proto__ keys vanished silently.
      { url: 'https://user:secret@example.com/' },
      { url: 'https://example.com/', headers: { expect: '100-continue' } },
      { url: 'https://example.com/', headers: { upgrade: 'h2c' } },
      { url: 'https://example.com/', headers: JSON.parse('{"__proto__":"x"}') },
      { url: 'https://example.com/', fields: JSON.parse('{"__proto__":"email"}') },
    ]) {
      const answer = await call(app, 'PATCH', '/api/providers/1', { delivery });
      expect(answer.status, JSON.stringify(delivery)).toBe(400);
    }
    // A header name's refusal says why, where Zod says only "Invalid key in record".
    const reserved = await call(app, 'PATCH', '/api/providers/1', {
      delivery: { url: 'https://example.com/', headers: { Host: 'evil.example', 'bad name': 'x' } },
    });
    expect(reserved.body.details).toEqual([
      { path: 'delivery.headers.Host', message: 'set by Leadflow itself' },
      {
        path: 'delivery.headers.bad name',
        message: "a header name (letters, digits and !#$%&'*+.^_`|~-)",
      },
    ]);
    expect((await call(app, 'GET', '/api/deliveries?stauts=failed')).status).toBe(400);
    expect((await call(app, 'GET', '/api/deliveries?cursor=nope')).status).toBe(400);
    const missing = await call(app, 'GET', '/api/deliveries/01890000-0000-7000-8000-000000000000');
    expect(missing.body).toEqual({ ok: false, error: 'delivery_not_found' });
    // Removing the endpoint: reads say none again.
    await connectP1(app, { url: 'https://example.com/' });
    expect((await call(app, 'PATCH', '/api/providers/1', { delivery: null })).body).toMatchObject({
      deliveryState: 'none',
      delivery: null,
    });
  });
});

describe('what a hostile buyer or a racing operator cannot do (second hostile run)', () => {
  it("a catastrophic acceptPattern on the buyer's answer fails the delivery in ~50 ms instead of blocking", async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: `${'a'.repeat(40)}!` }));
    await connectP1(app, { url: buyer.url, acceptPattern: '^(a+)+$', maxAttempts: 1 });
    const delivery = await settled(app, await allocate(app));
    expect(delivery.status).toBe('failed');
    expect(delivery.lastError).toMatch(/acceptPattern did not finish within 50 ms/);
    // The event loop was never held for long: the server answers at once afterwards.
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
  });

  it("a NUL in the buyer's answer is recorded without it, and the delivery ends", async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: 'ok\u0000tail' }));
    await connectP1(app, { url: buyer.url, timeoutMs: 1000, maxAttempts: 2 });
    const delivery = await settled(app, await allocate(app));
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(delivery.attemptLog[0].responseExcerpt).toBe('oktail');
    expect(buyer.received).toHaveLength(1);
  });

  it('removing the endpoint during a send lets the send decide, and a retry cannot start a second one', async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 200, body: 'ok', delayMs: 1500 }));
    await connectP1(app, { url: buyer.url, timeoutMs: 5000 });
    const leadId = await allocate(app);
    await expect.poll(() => buyer.received.length, { timeout: 5000, interval: 20 }).toBe(1);
    expect((await call(app, 'PATCH', '/api/providers/1', { delivery: null })).status).toBe(200);
    await connectP1(app, { url: buyer.url, timeoutMs: 5000 });
    const inFlight = await deliveryOf(app, leadId);
    expect(inFlight.status).toBe('pending');
    expect((await call(app, 'POST', `/api/deliveries/${inFlight.id}/retry`)).status).toBe(409);
    const delivery = await settled(app, leadId);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(buyer.received).toHaveLength(1);
  });

  it('a delivery of a provider without an endpoint cannot be re-queued to wait forever', async () => {
    const { app } = await setup();
    const buyer = await receiver(() => ({ status: 400, body: 'no' }));
    await connectP1(app, { url: buyer.url });
    const failed = await settled(app, await allocate(app));
    expect(failed.status).toBe('failed');
    await call(app, 'PATCH', '/api/providers/1', { delivery: null });
    const noEndpoint = {
      error: 'conflict',
      details: [
        { path: 'delivery', message: 'the provider has no delivery endpoint: set one, then retry' },
      ],
    };
    const one = await call(app, 'POST', `/api/deliveries/${failed.id}/retry`);
    expect(one.status).toBe(409);
    expect(one.body).toMatchObject(noEndpoint);
    const bulk = await call(app, 'POST', '/api/deliveries/retry', {
      providerId: 1,
      status: 'failed',
    });
    expect(bulk.status).toBe(409);
    expect(bulk.body).toMatchObject(noEndpoint);
    expect((await deliveryOf(app, failed.leadId)).status).toBe('failed');
    const unknown = await call(app, 'POST', '/api/deliveries/retry', {
      providerId: 999,
      status: 'failed',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'provider_not_found' });
  });
});
