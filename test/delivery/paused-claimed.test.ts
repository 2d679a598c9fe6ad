/**
 * Rows a dispatcher claimed ahead, while their provider still delivered, are not sent once it
 * learns the provider paused: they go back to wait for the probe (SPEC §9: while paused, its
 * pending deliveries wait). Sent anyway, each failed against an endpoint known to be down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from './receiver.js';

const FAST_ANSWERS = 300;
const PROVIDERS = [1, 2, 3, 4, 5, 6, 7, 8];
let db: TestDatabase | undefined;
let buyer: Receiver | undefined;
const apps: TestApp[] = [];

afterAll(async () => {
  for (const app of apps) await app.close();
  await buyer?.close();
  await db?.drop();
});

it('claimed-ahead rows of a provider that paused are given back, not sent', async () => {
  db = await createTestDatabase();
  // Fast answers first, so the dispatcher claims well ahead of its two slots; then slow
  // failures hold both slots while the providers pause (a success would resume them).
  buyer = await startReceiver((index) =>
    index < FAST_ANSWERS ? { status: 200 } : { status: 503, delayMs: 400 },
  );
  const queuer = await startTestApp(db, { DELIVERY_CONCURRENCY: '0' });
  apps.push(queuer);
  for (const id of PROVIDERS) {
    const changes = {
      quota: 100_000,
      remainingQuota: 100_000,
      delivery: { url: buyer.url },
    };
    const answer = await fetch(`${queuer.url}/api/providers/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(changes),
    });
    expect(answer.status).toBe(200);
  }
  for (let lead = 0; lead < 250; lead++) {
    expect((await post(`${queuer.url}/api/request-service`, { serviceId: 1 })).status).toBe(201);
  }
  const queued = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM deliveries');
  expect(queued.rows[0]!.n).toBeGreaterThan(FAST_ANSWERS + 100);

  const sender = await startTestApp(db, {
    ...FAST_DELIVERY,
    DELIVERY_CONCURRENCY: '2',
    DELIVERY_PROBE_MS: '600000',
  });
  apps.push(sender);
  await expect
    .poll(() => buyer!.received.length, { timeout: 20_000, interval: 5 })
    .toBe(FAST_ANSWERS + 2);
  // The fast answers recorded (one recorded after the pause would resume its provider, as a
  // probe's success does)...
  await expect
    .poll(
      async () =>
        (await db!.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts'))
          .rows[0]!.n,
      { timeout: 5_000, interval: 5 },
    )
    .toBe(FAST_ANSWERS);
  // ...and both slots held: the providers pause (as another instance's outcomes would pause
  // them), and this instance hears of it.
  await db.pool.query(
    `UPDATE provider_delivery SET paused_at = now(), next_probe_at = now() + interval '1 hour'`,
  );
  sender.app.leadflow.dispatcher.observe(
    PROVIDERS.map((providerId) => ({
      type: 'provider.delivery_paused',
      payload: { providerId, consecutiveFailures: 10 },
    })),
  );
  // The slow failures free both slots; nothing more may be sent.
  await sleep(1_000);
  expect(buyer.received.length).toBe(FAST_ANSWERS + 2);
  const leased = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries
      WHERE status = 'pending' AND leased_until > now()`,
  );
  expect(leased.rows[0]!.n).toBe(0);
});
