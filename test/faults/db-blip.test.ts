import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  expectAcknowledgedStored,
  expectOneLeadPerKey,
  httpRequest,
  isAcknowledged,
  resend,
  runSenders,
  tally,
} from './load.js';
import { spawnServer, type ServerProcess } from './server-process.js';

let db: TestDatabase;
let server: ServerProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await server?.kill();
  await db?.drop();
});

/** Terminates every connection the server holds to its database (pool and LISTEN). */
async function terminateServerConnections(): Promise<number> {
  const { rows } = await db.pool.query<{ terminated: boolean }>(
    `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND application_name LIKE 'leadflow%'`,
  );
  return rows.filter((row) => row.terminated).length;
}

describe('all database connections terminated mid-load (pg_terminate_backend)', () => {
  it('recovers by itself: 503 (never 500) during the blip, nothing acknowledged lost', async () => {
    server = await spawnServer(db.url);
    const prefix = `blip-${randomUUID()}`;
    let stop = false;
    const load = runSenders(server.url, { clients: 16, prefix, stop: () => stop });
    await sleep(700);
    // Eight blips, 100–250 ms apart: some hit transactions mid-statement, some hit the event
    // listener while it is still reconnecting from the previous one.
    let terminated = 0;
    for (let blip = 0; blip < 8; blip++) {
      terminated += await terminateServerConnections();
      await sleep(100 + Math.random() * 150);
    }
    await sleep(700);
    stop = true;
    const outcomes = await load;
    const counts = tally(outcomes);
    console.info('pg_terminate_backend x8:', { terminated, sent: outcomes.length, ...counts });

    expect(terminated).toBeGreaterThan(8);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect(outcomes.filter((outcome) => outcome.status === 500)).toEqual([]);
    expect(
      outcomes.filter((outcome) => !isAcknowledged(outcome) && outcome.status !== 503),
    ).toEqual([]);
    await expectAcknowledgedStored(db.pool, outcomes);

    // No restart: the pool reconnects on the next checkout, the event listener by itself.
    const ready = await httpRequest(`${server.url}/ready`, { method: 'GET' });
    expect(ready.status).toBe(200);
    const refused = outcomes.filter((outcome) => !isAcknowledged(outcome));
    const retried = await resend(
      server.url,
      refused.map((outcome) => outcome.key),
    );
    console.info('pg_terminate_backend retries:', tally(retried));
    expect(retried.filter((outcome) => !isAcknowledged(outcome))).toEqual([]);
    await expectOneLeadPerKey(
      db.pool,
      outcomes.map((outcome) => outcome.key),
    );
    const fresh = await resend(server.url, [`${prefix}-after`]);
    expect(fresh[0]!.status).toBe(201);
    await expect
      .poll(
        async () =>
          (
            await db.pool.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'leadflow-events'`,
            )
          ).rows[0].n,
        { timeout: 10_000 },
      )
      .toBe(1);
  }, 60_000);
});
