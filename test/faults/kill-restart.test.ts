import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  type LeadOutcome,
  expectAcknowledgedStored,
  expectOneLeadPerKey,
  isAcknowledged,
  resend,
  runSenders,
  tally,
} from './load.js';
import { spawnServer, type ServerProcess } from './server-process.js';

let db: TestDatabase;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  await db?.drop();
});

describe('kill -9 of the server under load', () => {
  it('loses no acknowledged lead, and retries of unanswered requests give one lead per key', async () => {
    const first = await spawnServer(db.url);
    servers.push(first);
    const prefix = `kill-${randomUUID()}`;
    let killed = false;
    const live: LeadOutcome[] = [];
    const load = runSenders(first.url, { clients: 16, prefix, stop: () => killed, outcomes: live });
    // Kill mid-flight once the load is well under way (at least 200 answered, however slow
    // the machine): some requests then sit in the batcher, some in COMMIT, some in the kernel.
    await expect
      .poll(() => live.filter(isAcknowledged).length, { timeout: 20_000, interval: 50 })
      .toBeGreaterThanOrEqual(200);
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    killed = true;
    const outcomes = await load;
    expect(exit.signal).toBe('SIGKILL');

    const acknowledged = outcomes.filter(isAcknowledged);
    const unanswered = outcomes.filter((outcome) => !isAcknowledged(outcome));
    console.info('kill -9:', { sent: outcomes.length, ...tally(outcomes) });
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect(unanswered.length).toBeGreaterThan(0);
    // No answer at all, or 503 if the machine was so busy that the server shed load.
    expect(
      unanswered.filter((outcome) => outcome.status !== null && outcome.status !== 503),
    ).toEqual([]);

    const second = await spawnServer(db.url, {}, { port: first.port });
    servers.push(second);
    await expectAcknowledgedStored(db.pool, outcomes);

    const retried = await resend(
      second.url,
      unanswered.map((outcome) => outcome.key),
    );
    console.info('kill -9 retries:', tally(retried));
    expect(retried.filter((outcome) => !isAcknowledged(outcome))).toEqual([]);
    // A sample of acknowledged keys answers 409 with the very same lead.
    const again = await resend(
      second.url,
      acknowledged.slice(0, 32).map((outcome) => outcome.key),
    );
    expect(again.map((outcome) => outcome.status)).toEqual(Array(again.length).fill(409));
    expect(again.map((outcome) => outcome.leadId)).toEqual(
      acknowledged.slice(0, 32).map((outcome) => outcome.leadId),
    );
    await expectOneLeadPerKey(
      db.pool,
      outcomes.map((outcome) => outcome.key),
    );
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM leads WHERE idempotency_key LIKE $1`,
      [`${prefix}-%`],
    );
    expect(rows[0].n).toBe(outcomes.length);
  }, 60_000);
});
