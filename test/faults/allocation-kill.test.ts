import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocationService } from '../../src/allocation/allocation.service.js';
import { isUnavailable } from '../../src/db/pg-errors.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { EventsCommitted } from '../../src/events/events-committed.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const SERVICE = 3; // P1, P4 static + six pool providers: room for 26 leads
const logger = pino({ level: 'silent' });

let db: TestDatabase;
let pool: Pool;

/**
 * Arms a kill: the `statement`-th query after the next BEGIN (1 = the first statement inside
 * the transaction; COMMIT counts too) finds its backend terminated just before it is sent.
 */
let armedAt: number | null = null;
let statementsSeen = 0;
let killed = false;

function intercept(client: pg.PoolClient): void {
  const original = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let inTransaction = false;
  let position = 0;
  (client as unknown as { query: unknown }).query = async (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    if (text === 'BEGIN' && armedAt !== null) {
      inTransaction = true;
      position = 0;
    } else if (inTransaction) {
      position++;
      statementsSeen = Math.max(statementsSeen, position);
      if (position === armedAt) {
        armedAt = null;
        inTransaction = false;
        killed = true;
        await db.pool.query('SELECT pg_terminate_backend($1)', [
          (client as unknown as { processID: number }).processID,
        ]);
      }
      if (text === 'COMMIT' || text === 'ROLLBACK') inTransaction = false;
    }
    return original(...args);
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4 });
  pool.on('connect', intercept);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

interface Snapshot {
  remaining: Record<string, number>;
  allocations: number;
  allocationEvents: number;
  pointer: number;
  status: string;
}

async function snapshot(leadId: string): Promise<Snapshot> {
  const { rows } = await db.pool.query(
    `SELECT (SELECT json_object_agg(id, remaining_quota) FROM providers) AS remaining,
            (SELECT count(*)::int FROM allocations) AS allocations,
            (SELECT count(*)::int FROM events
              WHERE type IN ('lead.allocated', 'lead.unallocated')) AS "allocationEvents",
            (SELECT pool_pointer FROM allocation_state WHERE service_id = $2) AS pointer,
            (SELECT status FROM leads WHERE id = $1) AS status`,
    [leadId, SERVICE],
  );
  return rows[0];
}

async function expectConsistent(): Promise<void> {
  const { rows } = await db.pool.query(
    `SELECT (SELECT sum(quota - remaining_quota)::int FROM providers) AS decremented,
            (SELECT count(*)::int FROM allocations) AS allocations,
            (SELECT count(*)::int FROM leads WHERE status = 'allocated') AS allocated,
            (SELECT count(*)::int FROM events WHERE type = 'lead.allocated') AS events,
            (SELECT count(*)::int FROM (SELECT lead_id FROM allocations GROUP BY lead_id
                                         HAVING count(*) <> 3) odd) AS "oddLeads"`,
  );
  const state = rows[0];
  expect(state.decremented).toBe(state.allocations);
  expect(state.allocations).toBe(3 * state.allocated);
  expect(state.events).toBe(state.allocated);
  expect(state.oddLeads).toBe(0);
}

describe('an allocation transaction killed between its statements', () => {
  it('leaves no partial state at any statement boundary, and the retry allocates once', async () => {
    // Nobody listens: the test reads the database, not the stream.
    const committed = new EventsCommitted();
    const ingest = new IngestService(pool, logger, committed);
    const allocation = new AllocationService(pool, logger, committed);
    const boundaries: { statement: number; outcome: string }[] = [];
    for (let statement = 1; statement <= 20; statement++) {
      const { leadId } = await ingest.accept(
        {
          stored: false,
          raw: {
            endpoint: 'lead',
            sender: '',
            idempotencyKey: `kill-${randomUUID()}`,
            requestId: randomUUID(),
            contentType: 'application/json',
            headers: {},
            body: Buffer.from('{}'),
            remoteAddr: '127.0.0.1',
          },
        },
        { email: `k${statement}@example.com` },
        SERVICE,
      );
      const before = await snapshot(leadId);
      armedAt = statement;
      killed = false;
      statementsSeen = 0;
      const attempt = await allocation.allocateLead(leadId, SERVICE).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      armedAt = null;
      if (!killed) {
        // `statement` is past the transaction's last one: nothing left to interrupt.
        expect(attempt.ok).toBe(true);
        boundaries.push({ statement, outcome: `committed (${statementsSeen} statements)` });
        await expectConsistent();
        break;
      }
      expect(attempt.ok, `killed before statement ${statement}`).toBe(false);
      expect(isUnavailable((attempt as { error: unknown }).error)).toBe(true);
      expect(await snapshot(leadId), `killed before statement ${statement}`).toEqual(before);
      await expectConsistent();

      const retry = await allocation.allocateLead(leadId, SERVICE);
      expect(retry).toMatchObject({ ok: true, serviceId: SERVICE });
      const after = await snapshot(leadId);
      expect(after.allocations).toBe(before.allocations + 3);
      expect(after.allocationEvents).toBe(before.allocationEvents + 1);
      expect(after.status).toBe('allocated');
      await expectConsistent();
      boundaries.push({ statement, outcome: 'rolled back, retry allocated' });
    }
    console.info('allocation killed between statements:', boundaries);
    expect(boundaries.length).toBeGreaterThanOrEqual(6);
    expect(boundaries.at(-1)!.outcome).toMatch(/^committed/);
  });
});
