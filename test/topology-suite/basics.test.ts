import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../delivery/receiver.js';
import type { ServerProcess } from '../faults/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { SseClient } from '../helpers/sse.js';
import {
  allocationHistory,
  postJson,
  scratchDir,
  sendUntilAnswered,
  startInstance,
  startNginx,
  startPgBouncer,
  type Nginx,
  type PgBouncer,
} from './harness.js';

// Three instances behind deploy/nginx, on deploy/pgbouncer in transaction mode, LISTEN direct.
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let bouncer: PgBouncer;
let instances: ServerProcess[] = [];
let nginx: Nginx;

beforeAll(async () => {
  db = await createTestDatabase();
  scratch = await scratchDir('leadflow-topology-');
  bouncer = await startPgBouncer(db.url, scratch.dir);
  instances = await Promise.all(
    [0, 1, 2].map(() => startInstance({ databaseUrl: bouncer.url, listenUrl: db.url })),
  );
  // A freshly started instance may shed load (503 + Retry-After) while it compiles; the tests
  // below expect exact answers from each, so each answers one retried lead first.
  await Promise.all(
    instances.map((instance, index) =>
      sendUntilAnswered(`${instance.url}/api/lead`, {}, `warm-up-${index}`, [], 30_000),
    ),
  );
  nginx = await startNginx(
    instances.map((instance) => instance.port),
    scratch.dir,
  );
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(instances.map((instance) => instance.kill()));
  await bouncer?.stop();
  await db?.drop();
  await scratch?.remove();
});

describe('three instances behind nginx, on PgBouncer in transaction mode', () => {
  it('sessions through PgBouncer get statement_timeout from its connect_query', async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: bouncer.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ statement_timeout: string }>('SHOW statement_timeout');
      expect(rows[0]!.statement_timeout).toBe('1min');
    } finally {
      await client.end();
    }
    // The instances really do go through PgBouncer (it names no client; PostgreSQL sees its).
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'leadflow-events'`,
    );
    expect(rows[0]!.n).toBe(3);
  });

  it('ingests with idempotency: a key is one lead whichever instance answers', async () => {
    const keys = Array.from({ length: 60 }, (_, index) => `basic-${index}`);
    const first = await Promise.all(
      keys.map((key) =>
        postJson(
          `${nginx.url}/api/lead`,
          { email: `${key}@example.com` },
          { 'idempotency-key': key },
        ),
      ),
    );
    expect(first.map((answer) => answer.status)).toEqual(keys.map(() => 201));
    // The same keys again, straight at each instance in turn (prepared statements would
    // break here if a named one were used through PgBouncer).
    const again = await Promise.all(
      keys.map((key, index) =>
        postJson(
          `${instances[index % 3]!.url}/api/lead`,
          { email: 'x@example.com' },
          { 'idempotency-key': key },
        ),
      ),
    );
    expect(again.map((answer) => answer.status)).toEqual(keys.map(() => 409));
    expect(again.map((answer) => answer.body?.lead_id)).toEqual(
      first.map((answer) => answer.body?.lead_id),
    );
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM leads WHERE idempotency_key LIKE 'basic-%'`,
    );
    expect(rows[0]!.n).toBe(60);
  });

  it('an SSE client on instance A sees an allocation made through instance C', async () => {
    const sse = await SseClient.connect(`${instances[0]!.url}/api/events`);
    try {
      const answer = await postJson(`${instances[2]!.url}/api/request-service`, { serviceId: 2 });
      expect(answer.status).toBe(201);
      const leadId = answer.body!.lead_id;
      await sse.waitFor(
        (events) =>
          events.some((event) => event.event === 'lead.allocated' && event.data.leadId === leadId),
        10_000,
      );
    } finally {
      await sse.close();
    }
  });

  it('allocates concurrently through all three within the invariants of SPEC §3', async () => {
    const perProvider = `SELECT p.id, p.remaining_quota, count(a.id)::int AS allocations
                           FROM providers p LEFT JOIN allocations a ON a.provider_id = p.id
                          GROUP BY p.id ORDER BY p.id`;
    await db.pool.query('UPDATE providers SET quota = 40, remaining_quota = 40');
    const before = await db.pool.query<{ id: number; allocations: number }>(perProvider);
    // Services 1 and 3 share providers 1–4: 90 requests want more than their quota holds.
    const answers = await Promise.all(
      Array.from({ length: 90 }, (_, index) =>
        postJson(`${nginx.url}/api/request-service`, { serviceId: index % 2 === 0 ? 1 : 3 }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    const allocated = statuses.filter((status) => status === 201).length;
    expect(allocated).toBeGreaterThan(20);
    const after = await db.pool.query<{ id: number; remaining_quota: number; allocations: number }>(
      perProvider,
    );
    let decrement = 0;
    for (const [index, row] of after.rows.entries()) {
      expect(row.remaining_quota).toBeGreaterThanOrEqual(0);
      expect(40 - row.remaining_quota).toBe(row.allocations - before.rows[index]!.allocations);
      decrement += 40 - row.remaining_quota;
    }
    expect(decrement).toBe(3 * allocated);
    const history = await allocationHistory(db.pool, 40);
    expect(history.badLeads).toBe(0);
  });

  it('applies a quota-reset webhook exactly once, copies spread over the instances', async () => {
    const since = (await db.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        postJson(`${instances[index % 3]!.url}/api/webhook/reset-quota`, {
          eventId: 'topology-reset-1',
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.filter((answer) => answer.body?.duplicate === false)).toHaveLength(1);
    // The reset wakes the backlog (leads refused earlier in this file): whatever it allocated
    // after the reset is all a provider is missing. A second application would have refilled it.
    const missing = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM providers p
            WHERE p.remaining_quota <> p.quota - (SELECT count(*) FROM allocations a
                                                   WHERE a.provider_id = p.id AND a.allocated_at >= $1)`,
          [since],
        )
      ).rows[0]!.n;
    await expect.poll(missing, { timeout: 10_000 }).toBe(0);
  });

  it('delivers an allocated lead to a loopback receiver', async () => {
    const receiver: Receiver = await startReceiver();
    try {
      const patched = await fetch(`${nginx.url}/api/providers/5`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ delivery: { url: receiver.url } }),
      });
      expect(patched.status).toBe(200);
      const answer = await postJson(`${nginx.url}/api/request-service`, { serviceId: 2 });
      expect(answer.status).toBe(201);
      const deadline = Date.now() + 15_000;
      while (receiver.received.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(receiver.received).toHaveLength(1);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
        lead_id: answer.body!.lead_id,
      });
    } finally {
      await receiver.close();
    }
  });
});
