import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseIfMissing, withDatabase } from '../../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { freePort } from '../../src/net.js';
import { seedDemo } from '../../src/topology/seed.js';
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

// A PostgreSQL of its own: this test stops it, which the shared one must never be.
const FLAGS = ['-c', 'fsync=off', '-c', 'full_page_writes=off'];
let dataDir: string;
let port: number;
let postgres: EmbeddedDatabase | undefined;
let pool: Pool | undefined;
let server: ServerProcess | undefined;
let databaseUrl: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'leadflow-restart-pg-'));
  port = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir, port, persistent: true, postgresFlags: FLAGS });
  await createDatabaseIfMissing(postgres.url, 'leadflow');
  databaseUrl = withDatabase(postgres.url, 'leadflow');
  pool = createPool({ connectionString: databaseUrl, max: 2 });
  await migrate(pool);
  await seedDemo(pool);
}, 60_000);

afterAll(async () => {
  await server?.kill();
  await pool?.end();
  await postgres?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 30_000);

const get = (url: string) => httpRequest(url, { method: 'GET', timeoutMs: 5000 });

describe('the database stopped and started again', () => {
  it('503 + Retry-After meanwhile (ready too), then works again without a server restart', async () => {
    server = await spawnServer(databaseUrl);
    const pid = server.child.pid;
    expect((await get(`${server.url}/ready`)).status).toBe(200);

    const prefix = `restart-${randomUUID()}`;
    let stop = false;
    const load = runSenders(server.url, { clients: 16, prefix, stop: () => stop });
    await sleep(500);

    await postgres!.stop();
    postgres = undefined;
    await expect
      .poll(async () => (await get(`${server!.url}/ready`)).status, { timeout: 5000 })
      .toBe(503);
    const ready = await get(`${server.url}/ready`);
    expect(JSON.parse(ready.body)).toEqual({ ok: false, error: 'unavailable' });
    expect(ready.headers['retry-after']).toMatch(/^\d+$/);
    const requests: [string, string, unknown][] = [
      ['/api/lead', `${prefix}-down-lead`, { email: 'down@example.com' }],
      ['/api/lead', `${prefix}-down-allocated`, { email: 'down@example.com', service: 2 }],
      ['/api/request-service', `${prefix}-down-service`, { serviceId: 1 }],
      ['/api/lead', `${prefix}-down-malformed`, []],
    ];
    for (const [route, key, body] of requests) {
      const answer = await httpRequest(`${server.url}${route}`, {
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      expect(answer.status, route).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({ ok: false, error: 'unavailable' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect((await get(`${server.url}/api/providers`)).status).toBe(503);
    expect((await get(`${server.url}/health`)).status).toBe(200);
    await sleep(500);

    postgres = await startEmbeddedPostgres({
      dataDir,
      port,
      persistent: true,
      postgresFlags: FLAGS,
    });
    await expect
      .poll(async () => (await get(`${server!.url}/ready`)).status, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(200);
    await sleep(500);
    stop = true;
    const outcomes = await load;
    const counts = tally(outcomes);
    console.info('database stop/start under load:', { sent: outcomes.length, ...counts });

    expect(server.child.pid).toBe(pid);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect(counts['503']).toBeGreaterThan(0);
    expect(
      outcomes.filter((outcome) => !isAcknowledged(outcome) && outcome.status !== 503),
    ).toEqual([]);
    await expectAcknowledgedStored(pool!, outcomes);
    const retried = await resend(
      server.url,
      outcomes.filter((outcome) => !isAcknowledged(outcome)).map((outcome) => outcome.key),
    );
    console.info('database stop/start retries:', tally(retried));
    expect(retried.filter((outcome) => !isAcknowledged(outcome))).toEqual([]);
    await expectOneLeadPerKey(
      pool!,
      outcomes.map((outcome) => outcome.key),
    );
    const allocated = await httpRequest(`${server.url}/api/request-service`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ serviceId: 1, email: 'back@example.com' }),
    });
    expect(allocated.status).toBe(201);
  }, 90_000);
});
