import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit, createPool, transaction, type Pool, type Tx } from '../../src/db/pool.js';
import { isUnavailable } from '../../src/db/pg-errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
// One client for the whole file: a callback left behind by any transaction would run on a
// later transaction's commit here.
let single: Pool;
let backendPid: number;

beforeAll(async () => {
  db = await createTestDatabase();
  single = createPool({ connectionString: db.url, max: 1 });
  await single.query(`CREATE TABLE commit_check (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)`);
  backendPid = await pid();
});
afterAll(async () => {
  await single?.end();
  await db?.drop();
});

async function pid(): Promise<number> {
  const { rows } = await single.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

/** A transaction on the single client that registers a callback counting its runs. */
async function counted(
  work: (tx: Tx) => Promise<void> = async () => undefined,
): Promise<{ runs: number }> {
  const counter = { runs: 0 };
  await transaction(single, async (tx) => {
    afterCommit(tx, () => counter.runs++);
    await work(tx);
  });
  return counter;
}

describe('afterCommit', () => {
  it('runs each callback once, after its own transaction commits', async () => {
    const counters = [await counted(), await counted(), await counted()];
    expect(counters.map((counter) => counter.runs)).toEqual([1, 1, 1]);
    expect(await pid()).toBe(backendPid);
  });

  it('never runs the callback of a rolled-back transaction, not even on the next commit', async () => {
    const rolledBack = { runs: 0 };
    await expect(
      transaction(single, async (tx) => {
        afterCommit(tx, () => rolledBack.runs++);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    const next = await counted();
    expect(rolledBack.runs).toBe(0);
    expect(next.runs).toBe(1);
    expect(await pid()).toBe(backendPid);
  });

  it('never runs the callback of a transaction whose COMMIT fails', async () => {
    const failed = { runs: 0 };
    await expect(
      transaction(single, async (tx) => {
        afterCommit(tx, () => failed.runs++);
        await tx.query('INSERT INTO commit_check (n) VALUES (1), (1)');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const next = await counted();
    expect(failed.runs).toBe(0);
    expect(next.runs).toBe(1);
    expect(await pid()).toBe(backendPid);
  });

  it('refuses a callback once the transaction is over', async () => {
    let finished: Tx | undefined;
    await transaction(single, async (tx) => {
      finished = tx;
    });
    expect(() => afterCommit(finished!, () => undefined)).toThrow(/outside a transaction/);
  });
});

describe('a connection to a server that no longer accepts writes', () => {
  it('is reported as unavailable and dropped, so the next transaction connects afresh', async () => {
    const pool = createPool({ connectionString: db.url, max: 1 });
    try {
      // What a demoted primary looks like to a session that stayed connected to it.
      await pool.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const demoted = rows[0]!.pid;
      const failure = await transaction(pool, (tx) =>
        tx.query('INSERT INTO commit_check VALUES (-1)'),
      ).catch((error: unknown) => error);
      expect(isUnavailable(failure)).toBe(true);
      const after = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(after.rows[0]!.pid).not.toBe(demoted);
      await transaction(pool, (tx) => tx.query('INSERT INTO commit_check VALUES (-2)'));
    } finally {
      await pool.end();
    }
  });
});
