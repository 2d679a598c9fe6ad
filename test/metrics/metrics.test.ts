import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;
const ADMIN_TOKEN = 'metrics-admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { ADMIN_TOKEN });
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, { headers: auth });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** A sample's value; 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0]!;
    if (wanted.every((pair) => labelText.includes(pair))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

describe('GET /metrics', () => {
  it('needs ADMIN_TOKEN when it is set', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect(
      (
        await fetch(`${server.url}/metrics`, {
          headers: { authorization: 'Bearer wrong-token-0123456789' },
        })
      ).status,
    ).toBe(401);
  });

  it('passes promtool check metrics', async () => {
    // Something in every family first, so each is checked with samples.
    await post(`${server.url}/api/request-service`, { serviceId: 2 }, auth);
    const text = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    for (const name of [
      'leadflow_leads_total',
      'leadflow_allocations_total',
      'leadflow_delivery_attempts_total',
      'leadflow_backlog_leads',
      'leadflow_delivery_queue_depth',
      'leadflow_http_request_duration_seconds',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('counts leads, allocations and deliveries as they happen; depths come from the database', async () => {
    const before = await scrape();
    // Service 1 fills 13 leads on fresh quotas (SPEC §3); the request above used service 2.
    for (let index = 0; index < 15; index++) {
      await post(
        `${server.url}/api/request-service`,
        { serviceId: 1 },
        { ...auth, 'idempotency-key': `m-${index}` },
      );
    }
    await post(
      `${server.url}/api/request-service`,
      { serviceId: 1 },
      { ...auth, 'idempotency-key': 'm-0' },
    );
    await post(`${server.url}/api/lead`, '{"broken', auth);
    // Every delivery of the 13 allocated leads final (P4's 503s are retried after a delay, so
    // wait for attempts, not for final states).
    let after = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      after = await scrape();
      const attempts = ['delivered', 'retry', 'rejected', 'failed'].reduce(
        (sum, outcome) => sum + sample(after, 'leadflow_delivery_attempts_total', { outcome }),
        0,
      );
      if (attempts >= 3 * 14) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('leadflow_leads_total', { outcome: 'created' })).toBe(15);
    expect(moved('leadflow_leads_total', { outcome: 'duplicate' })).toBe(1);
    expect(moved('leadflow_leads_total', { outcome: 'rejected' })).toBe(1);
    expect(moved('leadflow_allocations_total', { service_id: '1', outcome: 'allocated' })).toBe(13);
    expect(moved('leadflow_allocations_total', { service_id: '1', outcome: 'unallocated' })).toBe(
      2,
    );
    // The backlog's retry (each minute, or after a capacity change) finds no room for the two
    // either: they are still the two unallocated leads, not two more.
    await server.app.leadflow.backlog.drain();
    await server.app.leadflow.backlog.drain();
    expect(
      sample(await scrape(), 'leadflow_allocations_total', {
        service_id: '1',
        outcome: 'unallocated',
      }) -
        sample(before, 'leadflow_allocations_total', { service_id: '1', outcome: 'unallocated' }),
    ).toBe(2);
    const { rows } = await db.pool.query<{ provider_id: number; attempts: number }>(
      `SELECT provider_id, count(*)::int AS attempts FROM delivery_attempts a
         JOIN deliveries d ON d.id = a.delivery_id GROUP BY provider_id`,
    );
    for (const row of rows) {
      const counted = ['delivered', 'retry', 'rejected', 'failed'].reduce(
        (sum, outcome) =>
          sum +
          sample(after, 'leadflow_delivery_attempts_total', {
            provider_id: String(row.provider_id),
            outcome,
          }),
        0,
      );
      expect(counted, `provider ${row.provider_id}`).toBe(row.attempts);
    }
    // The depth gauges are cached for 5 s; the backlog is what the database holds.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const depths = await scrape();
    expect(sample(depths, 'leadflow_backlog_leads')).toBe(2);
    const pending = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`,
    );
    expect(sample(depths, 'leadflow_delivery_queue_depth')).toBeLessThanOrEqual(3 * 14);
    expect(sample(depths, 'leadflow_delivery_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(pending.rows[0]!.n).toBeLessThanOrEqual(3 * 14);
    expect(
      sample(depths, 'leadflow_http_request_duration_seconds_count', {
        route: '/api/request-service',
        status_code: '201',
      }),
    ).toBeGreaterThanOrEqual(14);
  }, 30_000);
});
