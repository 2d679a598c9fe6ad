import pino from 'pino';
import type { DeliveryDetail } from '../../src/contracts/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { post } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY } from './receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

/** What `npm start` does over DATABASE_URL with SEED_DEMO=1 (the template is already seeded). */
async function start(db: TestDatabase, env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    SEED_DEMO: '1',
    PORT: '0',
    ...FAST_DELIVERY,
    ...env,
  });
  const server = await startServer(config, pino({ level: 'silent' }));
  cleanups.push(() => server.close());
  return server;
}

async function get<T>(server: RunningServer, path: string): Promise<T> {
  return (await (await fetch(`${server.url}${path}`)).json()) as T;
}

interface ProviderRow {
  id: number;
  deliveryState: string;
  delivery: { url: string; signingSecret: string | null } | null;
}

/** Allocates `count` leads to service 3 (P1 and P4 static, one of the pool): their ids. */
async function allocate(server: RunningServer, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const answer = await post(`${server.url}/api/request-service`, {
      serviceId: 3,
      email: `demo${index}@example.com`,
    });
    expect(answer.status).toBe(201);
    ids.push(answer.body.lead_id as string);
  }
  return ids;
}

async function deliveriesOf(server: RunningServer, leadIds: string[]): Promise<DeliveryDetail[]> {
  const details: DeliveryDetail[] = [];
  for (const leadId of leadIds) {
    const page = await get<{ items: { id: string }[] }>(server, `/api/deliveries?leadId=${leadId}`);
    for (const item of page.items) {
      details.push(await get<DeliveryDetail>(server, `/api/deliveries/${item.id}`));
    }
  }
  return details;
}

async function allDelivered(server: RunningServer, leadIds: string[]): Promise<DeliveryDetail[]> {
  await expect
    .poll(
      async () => (await deliveriesOf(server, leadIds)).filter((d) => d.status !== 'delivered'),
      { timeout: 10_000, interval: 100 },
    )
    .toEqual([]);
  return deliveriesOf(server, leadIds);
}

describe('the built-in demo buyer', () => {
  it('the seeded providers deliver to it; P4 answers 503 now and then, so a retry shows', async () => {
    const db = await database();
    // An endpoint an operator set before this start is theirs: left alone.
    await db.pool.query(
      `INSERT INTO provider_delivery (provider_id, url) VALUES (8, 'https://buyer.example/leads')`,
    );
    const server = await start(db, { NODE_ENV: 'test' });

    const providers = await get<ProviderRow[]>(server, '/api/providers');
    for (const provider of providers.filter((p) => p.id !== 8)) {
      expect(provider.delivery?.url).toBe(`${server.url}/api/demo/buyer/${provider.id}`);
      expect(provider.delivery?.signingSecret).toBe('********');
    }
    expect(providers.find((p) => p.id === 8)?.delivery?.url).toBe('https://buyer.example/leads');

    const leadIds = await allocate(server, 4);
    const deliveries = await allDelivered(server, leadIds);
    // 4 leads × 3 providers; P4 is static in service 3, so it has all four leads.
    expect(deliveries).toHaveLength(12);
    const p4 = deliveries.filter((d) => d.providerId === 4);
    expect(p4).toHaveLength(4);
    const retried = p4.filter((d) => d.attempts > 1);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // P4's 1st and 5th requests are 503s; sent concurrently, one delivery may take both.
    for (const delivery of retried) {
      const log = delivery.attemptLog.map((a) => [a.outcome, a.statusCode]);
      expect(log.at(-1)).toEqual(['delivered', 200]);
      expect(
        log.slice(0, -1).every(([outcome, status]) => outcome === 'retry' && status === 503),
      ).toBe(true);
    }
    expect(deliveries.filter((d) => d.providerId !== 4).every((d) => d.attempts === 1)).toBe(true);

    // Signed access: anyone but Leadflow's dispatcher gets 401.
    const unsigned = await post(`${server.url}/api/demo/buyer/1`, { lead_id: 'x' });
    expect(unsigned.status).toBe(401);
    // Counted as the demo buyer's, not as the quota webhook's.
    const counters = await (await fetch(`${server.url}/api/security/counters`)).json();
    expect(counters.unauthorized).toMatchObject({ demoBuyer: 1, webhook: 0 });

    // A restart (another port) moves the demo endpoints along. Deliveries due when it starts
    // (retries waiting across the restart) are sent as it starts, before its demo buyer is
    // connected: they must not fail for good with 401.
    await server.close();
    const { rows: secrets } = await db.pool.query<{ signing_secret: string }>(
      'SELECT DISTINCT signing_secret FROM provider_delivery WHERE provider_id <> 8',
    );
    expect(secrets).toHaveLength(1);
    await db.pool.query(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), delivered_at = NULL
        WHERE lead_id = ANY($1::uuid[])`,
      [leadIds],
    );
    const again = await start(db, { NODE_ENV: 'test' });
    const redelivered = await allDelivered(again, leadIds);
    expect(redelivered.filter((d) => d.attemptLog.some((a) => a.statusCode === 401))).toEqual([]);
    // The buyer kept its secret: what was signed before the restart still verifies.
    expect(
      (
        await db.pool.query(
          'SELECT DISTINCT signing_secret FROM provider_delivery WHERE provider_id <> 8',
        )
      ).rows,
    ).toEqual(secrets);
    expect(again.url).not.toBe(server.url);
    const moved = await get<ProviderRow[]>(again, '/api/providers');
    expect(moved.find((p) => p.id === 1)?.delivery?.url).toBe(`${again.url}/api/demo/buyer/1`);
    expect(moved.find((p) => p.id === 8)?.delivery?.url).toBe('https://buyer.example/leads');
    const later = await allocate(again, 1);
    expect(await allDelivered(again, later)).toHaveLength(3);
  });

  it('production without test tools: no demo route and no endpoints', async () => {
    const server = await start(await database(), { NODE_ENV: 'production' });
    const providers = await get<ProviderRow[]>(server, '/api/providers');
    expect(providers.map((p) => p.deliveryState)).toEqual(providers.map(() => 'none'));
    expect((await post(`${server.url}/api/demo/buyer/1`, {})).status).toBe(404);
  });

  it('production with ENABLE_TEST_TOOLS: the demo delivers, the SSRF guard still refuses loopback set by an operator', async () => {
    const server = await start(await database(), {
      NODE_ENV: 'production',
      ENABLE_TEST_TOOLS: '1',
    });
    const leadIds = await allocate(server, 2);
    expect(await allDelivered(server, leadIds)).toHaveLength(6);

    const refused = await fetch(`${server.url}/api/providers/2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delivery: { url: `${server.url}/api/demo/buyer/2` } }),
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('delivery.url');
  });
});
