import pg from 'pg';
import type { Logger } from 'pino';
import { clientOptions } from './connection-url.js';
import { isReadOnlyServer } from './pg-errors.js';

// bigint (int8) and numeric come back as strings by default; counts and ids we read fit in
// a double, so parse int8 as number (event ids and raw ids stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));
const INT8_ARRAY_OID = 1016 as unknown as typeof pg.types.builtins.INT8;
const TEXT_ARRAY_OID = 1009 as unknown as typeof pg.types.builtins.TEXT;
const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY_OID) as (value: string) => string[];
pg.types.setTypeParser(INT8_ARRAY_OID, (value: string) =>
  parseTextArray(value).map((item) => Number.parseInt(item, 10)),
);

export type Pool = pg.Pool;

/** A client inside an open transaction. Functions that lock rows take one as first parameter. */
export type Tx = pg.PoolClient & { readonly __transaction: true };

export interface PoolOptions {
  connectionString: string;
  max: number;
  logger?: Logger;
  applicationName?: string;
  /**
   * The URL is a transaction pooler (PgBouncer `pool_mode = transaction`): consecutive
   * statements may run on different server sessions, so nothing may rely on session state.
   */
  transactionPooling?: boolean;
}

/** Pools whose connections are a transaction pooler's, and their clients; see statementName. */
const transactionPooled = new WeakSet<object>();

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    ...clientOptions(options.connectionString),
    max: options.max,
    application_name: options.applicationName ?? 'leadflow',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A statement may wait on row locks behind a long queue; a minute means something is wrong.
    // PgBouncer 1.18 refuses this startup parameter ("unsupported startup parameter"), so
    // behind it the pooler's connect_query sets it on each server connection (deploy/).
    ...(options.transactionPooling ? {} : { statement_timeout: 60_000 }),
  });
  if (options.transactionPooling) {
    transactionPooled.add(pool);
    pool.on('connect', (client) => transactionPooled.add(client));
  }
  // An idle client losing its connection (database restart, pg_terminate_backend) must not
  // crash the process; the pool drops it and the next checkout connects afresh.
  pool.on('error', (error: Error & { code?: string }) =>
    // Message and code only: the driver's error can reference its whole client.
    options.logger?.warn({ error: error.message, code: error.code }, 'idle database client failed'),
  );
  // pg-pool listens for 'error' on idle clients only. A checked-out client whose backend is
  // terminated between two statements (pg_terminate_backend, failover), or right after it
  // connected, would emit an unhandled 'error' and take the process down. The statement in
  // flight, or the next one, fails anyway, and pg-pool discards the dead client on release.
  pool.on('connect', (client) =>
    client.on('error', (error) =>
      options.logger?.debug({ err: error }, 'database connection lost while in use'),
    ),
  );
  return pool;
}

/**
 * The name to prepare a hot statement under, or none behind a transaction pooler: a named
 * statement lives in one server session, and PgBouncer 1.18 sends the next Bind to whichever
 * session is free ("prepared statement … does not exist"). Takes the pool or one of its
 * clients (a transaction), so statements run inside transactions can be named too.
 */
export function statementName(db: Pool | Tx, name: string): string | undefined {
  return transactionPooled.has(db) ? undefined : name;
}

/** Callbacks of the transactions in progress; an entry lives from BEGIN to the client's release. */
const afterCommitCallbacks = new Map<Tx, (() => void)[]>();

/** Runs `callback` once the transaction `tx` has committed (never if it rolls back). */
export function afterCommit(tx: Tx, callback: () => void): void {
  const callbacks = afterCommitCallbacks.get(tx);
  // After COMMIT or ROLLBACK the callback could never run: say so rather than lose it.
  if (!callbacks) throw new Error('afterCommit called outside a transaction');
  callbacks.push(callback);
}

/**
 * Runs `work` in a transaction on one pooled client. The client is destroyed rather than
 * returned to the pool when the failure may have left it unusable.
 */
export async function transaction<T>(pool: Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const tx = client as Tx;
  const callbacks: (() => void)[] = [];
  afterCommitCallbacks.set(tx, callbacks);
  let broken: Error | undefined;
  let result: T;
  try {
    await client.query('BEGIN');
    result = await work(tx);
    await client.query('COMMIT');
  } catch (error) {
    // A demoted primary keeps its sessions open: drop this one so the next connection picks
    // the new read-write host (connection-url.ts) instead of failing on it again and again.
    if (isReadOnlyServer(error)) broken = error as Error;
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    afterCommitCallbacks.delete(tx);
    client.release(broken ?? false);
  }
  // Outside the try: a throwing callback must not send ROLLBACK after a COMMIT.
  for (const callback of callbacks) callback();
  return result;
}
