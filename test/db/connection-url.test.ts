import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { describeDatabaseUrl, parseDatabaseUrl } from '../../src/db/connection-url.js';
import { createPool, statementName, transaction, type Pool } from '../../src/db/pool.js';
import { freePort } from '../../src/net.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('libpq URLs with host lists (SPEC §12)', () => {
  it('splits a host list into one URL per host, keeping user, database and parameters', () => {
    expect(
      parseDatabaseUrl(
        'postgres://app:s3cret@db1:5432,db2:6432/leadflow?sslmode=disable&target_session_attrs=read-write',
      ),
    ).toEqual({
      targets: [
        'postgres://app:s3cret@db1:5432/leadflow?sslmode=disable',
        'postgres://app:s3cret@db2:6432/leadflow?sslmode=disable',
      ],
      readWrite: true,
    });
    expect(parseDatabaseUrl('postgresql://db/leadflow')).toEqual({
      targets: ['postgresql://db/leadflow'],
      readWrite: false,
    });
    expect(describeDatabaseUrl('postgres://app:s3cret@db1,db2:6432/x')).toBe(
      'db1:5432/x, db2:6432/x',
    );
  });

  it('refuses what is not one, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(
      /DATABASE_URL: must be a postgres/,
    );
    expect(() => loadConfig({ DATABASE_LISTEN_URL: 'postgres://a,,b/x' })).toThrow(
      /DATABASE_LISTEN_URL: has an empty host/,
    );
    expect(() => loadConfig({ DATABASE_LISTEN_URL: 'postgres://db/x' })).toThrow(
      /DATABASE_LISTEN_URL: set only with DATABASE_URL/,
    );
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://db/x?target_session_attrs=read-only' }),
    ).toThrow(/target_session_attrs must be any or read-write/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db:99999/x' })).toThrow(/DATABASE_URL/);
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@db1:5432,db2:5432/leadflow' }).DATABASE_URL,
    ).toBe('postgres://u@db1:5432,db2:5432/leadflow');
  });
});

describe('a pool on a host list', () => {
  let db: TestDatabase;
  let pool: Pool | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('skips a host that refuses and one that only reads, and takes the writable one', async () => {
    const target = new URL(db.url);
    const dead = await freePort();
    // A read-only "standby": the same server, under a role whose sessions default to read-only.
    const role = `ro_${Date.now().toString(36)}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    await db.pool.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    try {
      const list = (user: string) =>
        `postgres://${user}@127.0.0.1:${dead},${target.host}${target.pathname}?target_session_attrs=read-write`;
      const readOnlyFirst = createPool({ connectionString: list(role), max: 1 });
      await expect(readOnlyFirst.query('SELECT 1')).rejects.toMatchObject({ code: '08001' });
      await readOnlyFirst.end();

      const userInfo = target.password ? `${target.username}:${target.password}` : target.username;
      pool = createPool({ connectionString: list(userInfo), max: 2 });
      const { rows } = await pool.query<{ port: number }>('SELECT inet_server_port() AS port');
      expect(rows[0]!.port).toBe(Number(target.port));
      expect(statementName(pool, 'x')).toBe('x');
    } finally {
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });

  it('names no prepared statement behind a transaction pooler', async () => {
    const pooled = createPool({ connectionString: db.url, max: 1, transactionPooling: true });
    expect(statementName(pooled, 'insert-lead-batch')).toBeUndefined();
    // Nor inside a transaction (the delivery loop names the statements it runs in one).
    await transaction(pooled, async (tx) => {
      expect(statementName(tx, 'record-attempts')).toBeUndefined();
    });
    await pooled.end();
    const direct = createPool({ connectionString: db.url, max: 1 });
    await transaction(direct, async (tx) => {
      expect(statementName(tx, 'record-attempts')).toBe('record-attempts');
    });
    await direct.end();
  });
});
