/**
 * Requests for several services that wait together are allocated in one transaction: the
 * services share providers, and a transaction per service waited for the others' provider
 * locks (bench/: allocation). The clock is read once per transaction, so its readings count
 * the transactions.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AllocationService,
  type AllocationResult,
} from '../../src/allocation/allocation.service.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { EventsCommitted } from '../../src/events/events-committed.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const logger = pino({ level: 'silent' });
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function setup() {
  const committed = new EventsCommitted();
  const ingest = new IngestService(pool, logger, committed);
  const readings: Date[] = [];
  const clock = (): Date => {
    // A second apart, so each transaction's rows carry their own time.
    const at = new Date(Date.now() + readings.length * 1000);
    readings.push(at);
    return at;
  };
  const allocation = new AllocationService(pool, logger, committed, undefined, clock);
  const store = async (serviceId: number): Promise<string> =>
    (
      await ingest.accept(
        {
          stored: false,
          raw: {
            endpoint: 'request-service',
            sender: '',
            idempotencyKey: randomUUID(),
            requestId: randomUUID(),
            contentType: 'application/json',
            headers: {},
            body: Buffer.from('{}'),
            remoteAddr: '127.0.0.1',
          },
        },
        { email: `${randomUUID()}@example.com` },
        serviceId,
      )
    ).leadId;
  return { allocation, store, readings };
}

interface Provider {
  id: number;
  remainingQuota: number;
}

const providerIds = (result: AllocationResult): number[] =>
  result.ok ? result.providers.map((provider) => provider.id) : [];

async function allocatedAt(leadId: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ at: Date }>(
    'SELECT DISTINCT allocated_at AS at FROM allocations WHERE lead_id = $1',
    [leadId],
  );
  return rows.map((row) => row.at.getTime());
}

describe('requests of several services waiting together', () => {
  it('are allocated in one transaction', async () => {
    const { allocation, store, readings } = setup();
    const [first, forThree, forTwo] = await Promise.all([store(1), store(3), store(2)]);
    // The first starts a transaction at once; the other two wait for it, then go together.
    const results = await Promise.all([
      allocation.allocateLead(first!, 1),
      allocation.allocateLead(forThree!, 3),
      allocation.allocateLead(forTwo!, 2),
    ]);
    expect(results.map((result) => result.ok && result.serviceId)).toEqual([1, 3, 2]);
    expect(readings).toHaveLength(2);
    const [at1, at3, at2] = await Promise.all([first!, forThree!, forTwo!].map(allocatedAt));
    expect(at3).toEqual([readings[1]!.getTime()]);
    expect(at2).toEqual(at3);
    expect(at1).toEqual([readings[0]!.getTime()]);
  });

  it('decide in arrival order: a shared provider’s last quota goes to the earlier request', async () => {
    const { allocation, store } = setup();
    await db.pool.query('UPDATE providers SET quota = 100, remaining_quota = 100');
    await db.pool.query('UPDATE providers SET remaining_quota = 1 WHERE id = 1');
    // P1 is static in services 1 and 3.
    const [blocker, forOne, forThree, forOneAgain] = await Promise.all(
      [2, 1, 3, 1].map((serviceId) => store(serviceId)),
    );
    const [, three, one, oneAgain] = await Promise.all([
      allocation.allocateLead(blocker!, 2),
      allocation.allocateLead(forThree!, 3),
      allocation.allocateLead(forOne!, 1),
      allocation.allocateLead(forOneAgain!, 1),
    ]);
    // Service 3's request came first, though service 1's state is locked first (ascending ids).
    expect(providerIds(three!)).toContain(1);
    expect(providerIds(one!)).not.toContain(1);
    expect(providerIds(one!)).toHaveLength(3);
    expect(providerIds(oneAgain!)).not.toContain(1);
    expect(providerIds(oneAgain!)).toHaveLength(3);
    const { rows } = await db.pool.query<{ remaining_quota: number }>(
      'SELECT remaining_quota FROM providers WHERE id = 1',
    );
    expect(rows[0]!.remaining_quota).toBe(0);
    // The events in the order the leads were decided, so each provider's remaining quota only
    // falls from one event to the next (the dashboard applies them in id order).
    const { rows: events } = await db.pool.query<{ lead_id: string; providers: Provider[] }>(
      `SELECT payload->>'leadId' AS lead_id, payload->'providers' AS providers FROM events
        WHERE type = 'lead.allocated' AND payload->>'leadId' = ANY($1) ORDER BY id`,
      [[blocker!, forThree!, forOne!, forOneAgain!]],
    );
    expect(events.map((event) => event.lead_id)).toEqual([blocker, forThree, forOne, forOneAgain]);
    // The allocation rows too: their ids follow the decisions, not the services' order.
    const { rows: allocations } = await db.pool.query<{ lead_id: string }>(
      'SELECT lead_id FROM allocations WHERE lead_id = ANY($1) ORDER BY id',
      [[forThree!, forOne!, forOneAgain!]],
    );
    expect([...new Set(allocations.map((row) => row.lead_id))]).toEqual([
      forThree,
      forOne,
      forOneAgain,
    ]);
    const last = new Map<number, number>();
    for (const { providers } of events) {
      for (const provider of providers) {
        expect(provider.remainingQuota).toBeLessThan(last.get(provider.id) ?? Infinity);
        last.set(provider.id, provider.remainingQuota);
      }
    }
  });
});
