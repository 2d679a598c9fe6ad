import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from './receiver.js';

let db: TestDatabase;
let buyer: Receiver;
const apps: TestApp[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  buyer = await startReceiver();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await buyer?.close();
  await db?.drop();
});

async function patch(app: TestApp, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${app.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

it('two instances drain 2,001 deliveries: each sent exactly once', async () => {
  // Deliveries are queued by an instance that does not deliver, then two that do drain them
  // together, claiming from the same rows.
  const queuer = await startTestApp(db, { DELIVERY_CONCURRENCY: '0' });
  apps.push(queuer);
  for (const id of [1, 2, 3, 4]) {
    await patch(queuer, `/api/providers/${id}`, {
      quota: 100_000,
      remainingQuota: 100_000,
      delivery: { url: buyer.url },
    });
  }
  const leads = 667;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < leads) {
        const key = `drain-${next++}`;
        // As a sender does: a 503 (load shed on a busy machine) is retried with the same key.
        for (;;) {
          const { status } = await post(
            `${queuer.url}/api/request-service`,
            { serviceId: 1 },
            { 'idempotency-key': key },
          );
          if (status !== 503) {
            expect(status).toBe(201);
            break;
          }
          await sleep(100);
        }
      }
    }),
  );
  const { rows: queued } = await db.pool.query<{ id: string }>('SELECT id FROM deliveries');
  expect(queued).toHaveLength(leads * 3);

  apps.push(await startTestApp(db, FAST_DELIVERY), await startTestApp(db, FAST_DELIVERY));
  await expect
    .poll(
      async () =>
        (
          await db.pool.query(
            `SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`,
          )
        ).rows[0].n,
      { timeout: 45_000, interval: 200 },
    )
    .toBe(leads * 3);

  const keys = buyer.received.map((request) => request.headers['idempotency-key']);
  expect(keys).toHaveLength(leads * 3);
  expect(new Set(keys)).toEqual(new Set(queued.map((row) => row.id)));
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS attempts, count(DISTINCT delivery_id)::int AS deliveries
       FROM delivery_attempts`,
  );
  expect(rows[0]).toEqual({ attempts: leads * 3, deliveries: leads * 3 });
}, 60_000);

it('an instance that only delivers sends what another allocates at once, not at its next poll', async () => {
  // A database of its own: the instances of the test above poll every 50 ms.
  const own = await createTestDatabase();
  try {
    const requests = await startTestApp(own, { DELIVERY_CONCURRENCY: '0' });
    apps.push(requests);
    // Its poll would come a minute later: a delivery within seconds came through the hub.
    const delivers = await startTestApp(own, { ...FAST_DELIVERY, DELIVERY_POLL_MS: '60000' });
    apps.push(delivers);
    for (const id of [5, 6, 7, 8]) {
      await patch(requests, `/api/providers/${id}`, { delivery: { url: buyer.url } });
    }
    const before = buyer.received.length;
    const response = await post(`${requests.url}/api/request-service`, { serviceId: 2 });
    expect(response.status).toBe(201);
    const { rows } = await own.pool.query<{ id: string }>(
      'SELECT id FROM deliveries WHERE lead_id = $1 ORDER BY id',
      [response.body.lead_id],
    );
    expect(rows).toHaveLength(3);
    await expect
      .poll(
        () =>
          buyer.received
            .slice(before)
            .map((request) => request.headers['idempotency-key'])
            .sort(),
        { timeout: 10_000, interval: 50 },
      )
      .toEqual(rows.map((row) => row.id).sort());
  } finally {
    for (const app of apps.splice(-2)) await app.close();
    await own.drop();
  }
}, 30_000);
