import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventHub, type Subscriber } from '../../src/events/event-hub.js';
import { EventsCommitted } from '../../src/events/events-committed.js';
import * as eventsSql from '../../src/events/events.sql.js';
import { transaction } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

// The hub's horizon reads go through this mock, so a test can hold one back.
vi.mock('../../src/events/events.sql.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/events/events.sql.js')>();
  return { ...real, selectEventsHorizon: vi.fn(real.selectEventsHorizon) };
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** An event committed by "another instance": no local signal, so the hub has not read it. */
async function insertQuietly(n: number): Promise<number> {
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO events (id, type, payload) VALUES (nextval('events_id_seq'), 'provider.updated', $1)
     RETURNING id`,
    [{ n }],
  );
  return rows[0]!.id;
}

describe('EventHub after a stretch without subscribers', () => {
  it('never skips a subscriber who arrives while another client catches the hub up', async () => {
    const committed = new EventsCommitted();
    const hub = new EventHub(db.pool, db.url, pino({ level: 'silent' }), committed);
    await hub.start();
    try {
      // Client X connects; its ready() has nothing to catch up on yet.
      await hub.ready();
      const xStartsAt = hub.latestDeliveredId;

      // Before X subscribes, an event arrives with nobody listening: the hub skips reading it.
      await transaction(db.pool, (tx) =>
        eventsSql.appendEvents(tx, committed, [
          { type: 'quota.reset', payload: { eventId: 'unheard', providers: [] } },
        ]),
      );
      await sleep(100);

      // Client Y connects and catches the hub up; its horizon read is held back.
      let releaseHorizon!: (value: number) => void;
      vi.mocked(eventsSql.selectEventsHorizon).mockImplementationOnce(
        () => new Promise<number>((resolve) => (releaseHorizon = resolve)),
      );
      const yReady = hub.ready();

      // X subscribes meanwhile, at the position its ready() saw.
      expect(hub.latestDeliveredId).toBe(xStartsAt);
      const seen: number[] = [];
      const x: Subscriber = {
        deliver: (events) => {
          seen.push(...events.map((event) => event.id));
          return true;
        },
        close: () => undefined,
      };
      hub.subscribe(x);

      // Committed after X subscribed, before Y's horizon read answers (which then covers it).
      const afterX = await insertQuietly(2);
      releaseHorizon(afterX);
      await yReady;

      committed.announce();
      await vi.waitFor(() => expect(seen).toContain(afterX), { timeout: 3000 });
    } finally {
      await hub.stop();
    }
  });
});
