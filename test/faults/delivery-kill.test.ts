import { afterAll, beforeAll, expect, it } from 'vitest';
import { post } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from '../delivery/receiver.js';
import { spawnServer, type ServerProcess } from './server-process.js';

let db: TestDatabase;
let buyer: Receiver;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // Slow enough that a kill lands with sends in flight.
  buyer = await startReceiver(() => ({ status: 200, delayMs: 150 }));
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  await buyer?.close();
  await db?.drop();
});

it('kill -9 with deliveries in flight: after a restart every delivery is delivered, repeats keep their key', async () => {
  const env = { ...FAST_DELIVERY, DELIVERY_CONCURRENCY: '8' };
  const first = await spawnServer(db.url, env);
  servers.push(first);
  const patched = await fetch(`${first.url}/api/providers/1`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    // Lease = timeout + 5 s: the rows the killed process held fall due 6 s later.
    body: JSON.stringify({
      quota: 1000,
      remainingQuota: 1000,
      delivery: { url: buyer.url, timeoutMs: 1000 },
    }),
  });
  expect(patched.status).toBe(200);
  for (const id of [2, 3, 4]) {
    const pool = await fetch(`${first.url}/api/providers/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quota: 1000, remainingQuota: 1000 }),
    });
    expect(pool.status).toBe(200);
  }
  const leads = 150;
  for (let index = 0; index < leads; index++) {
    const answer = await post(`${first.url}/api/request-service`, { serviceId: 1 });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
  await expect
    .poll(() => buyer.received.length, { timeout: 20_000, interval: 20 })
    .toBeGreaterThanOrEqual(20);
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const { rows: before } = await db.pool.query(
    `SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`,
  );
  expect(before[0].n).toBeGreaterThan(0);

  const second = await spawnServer(db.url, env);
  servers.push(second);
  await expect
    .poll(
      async () =>
        (
          await db.pool.query(
            `SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`,
          )
        ).rows[0].n,
      { timeout: 40_000, interval: 200 },
    )
    .toBe(leads);

  const { rows: deliveries } = await db.pool.query<{
    id: string;
    lead_id: string;
    provider_id: number;
  }>('SELECT id, lead_id, provider_id FROM deliveries');
  const byId = new Map(deliveries.map((row) => [row.id, row]));
  const seen = new Map<string, number>();
  for (const request of buyer.received) {
    const key = request.headers['idempotency-key'] as string;
    const body = JSON.parse(request.body);
    // A repeat carries its original key, for the same (lead, provider).
    expect(byId.get(key)).toEqual({
      id: key,
      lead_id: body.lead_id,
      provider_id: body.provider_id,
    });
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  expect(seen.size).toBe(leads);
  const repeats = [...seen.values()].filter((count) => count > 1).length;
  console.info('delivery kill -9:', { sends: buyer.received.length, repeated: repeats });
}, 60_000);
