import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;

async function get(path: string) {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

interface Bucket {
  bucket: string;
  leads: number;
  allocated: number;
  unallocated: number;
  duplicates: number;
  delivered: number;
  failed: number;
}

const sum = <Row extends object>(rows: Row[], field: keyof Row & string): number =>
  rows.reduce((total, row) => total + (row[field] as number), 0);

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(sql, params);
  return rows[0]!.n;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
  // Service 1 runs dry after 13 leads (SPEC §3 worked example); 16 leave 3 unallocated.
  for (let index = 0; index < 16; index++) {
    await post(
      `${server.url}/api/request-service`,
      { serviceId: 1, email: `r${index}@x.example` },
      {
        'idempotency-key': `report-${index}`,
      },
    );
  }
  for (let index = 0; index < 4; index++) {
    await post(`${server.url}/api/request-service`, { serviceId: 2 });
  }
  await post(`${server.url}/api/lead`, { email: 'plain@x.example' });
  await post(
    `${server.url}/api/request-service`,
    { serviceId: 1 },
    { 'idempotency-key': 'report-0' },
  );
  await post(
    `${server.url}/api/request-service`,
    { serviceId: 1 },
    { 'idempotency-key': 'report-1' },
  );
  // Spread the leads over earlier hours so buckets differ: every third lead an hour back.
  await db.pool.query(
    `UPDATE leads SET created_at = created_at - interval '1 hour' WHERE id IN
       (SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM leads) t WHERE n % 3 = 0)`,
  );
  // The demo buyer answers within milliseconds; wait until no delivery is pending (P4 retries).
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await count(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`)) === 0)
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('GET /api/reports/volume', () => {
  it('sums, bucket by bucket, to exactly the rows it counts', async () => {
    for (const interval of ['hour', 'day']) {
      const res = await get(`/api/reports/volume?interval=${interval}`);
      expect(res.status).toBe(200);
      const buckets = res.body as Bucket[];
      for (const bucket of buckets) {
        const next = new Date(
          Date.parse(bucket.bucket) + (interval === 'hour' ? 3_600_000 : 86_400_000),
        ).toISOString();
        const range = [bucket.bucket, next];
        expect(bucket.leads).toBe(
          await count(
            `SELECT count(*)::int AS n FROM leads WHERE created_at >= $1 AND created_at < $2`,
            range,
          ),
        );
        expect(bucket.allocated).toBe(
          await count(
            `SELECT count(*)::int AS n FROM leads WHERE status = 'allocated' AND created_at >= $1 AND created_at < $2`,
            range,
          ),
        );
      }
      expect(sum(buckets, 'leads')).toBe(21);
      expect(sum(buckets, 'allocated')).toBe(13 + 4);
      expect(sum(buckets, 'unallocated')).toBe(3);
      expect(sum(buckets, 'duplicates')).toBe(2);
      expect(sum(buckets, 'delivered') + sum(buckets, 'failed')).toBe(
        await count(
          `SELECT count(*)::int AS n FROM deliveries WHERE status IN ('delivered', 'failed')`,
        ),
      );
      expect(sum(buckets, 'delivered')).toBe(
        await count(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`),
      );
    }
  });

  it('gives every bucket of the range, zeros included, in UTC', async () => {
    const res = await get(
      '/api/reports/volume?interval=hour&from=2026-03-29T00:30:00%2B01:00&to=2026-03-29T04:00:00Z',
    );
    expect(res.body.map((bucket: Bucket) => bucket.bucket)).toEqual([
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ]);
    expect(sum(res.body, 'leads')).toBe(0);
    const days = await get('/api/reports/volume?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z');
    expect(days.body).toHaveLength(31);
  });

  it('filters by service and by provider', async () => {
    const service2 = (await get('/api/reports/volume?serviceId=2')).body as Bucket[];
    expect(sum(service2, 'leads')).toBe(4);
    expect(sum(service2, 'allocated')).toBe(4);
    expect(sum(service2, 'duplicates')).toBe(0);
    const provider1 = (await get('/api/reports/volume?providerId=1')).body as Bucket[];
    expect(sum(provider1, 'allocated')).toBe(
      await count(`SELECT count(*)::int AS n FROM allocations WHERE provider_id = 1`),
    );
    expect(sum(provider1, 'delivered') + sum(provider1, 'failed')).toBe(
      await count(
        `SELECT count(*)::int AS n FROM deliveries WHERE provider_id = 1 AND status IN ('delivered', 'failed')`,
      ),
    );
  });

  it('refuses a range too wide for its buckets', async () => {
    const res = await get(
      '/api/reports/volume?interval=hour&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
    );
    expect(res).toMatchObject({ status: 400, body: { ok: false, error: 'invalid_query' } });
  });
});

describe('GET /api/reports/providers', () => {
  it('counts per provider exactly the allocations and deliveries of the range', async () => {
    const res = await get('/api/reports/providers?from=2000-01-01T00:00:00Z');
    expect(res.status).toBe(200);
    const rows = res.body as Record<string, number>[];
    expect(rows.map((row) => row.providerId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sum(rows, 'allocated')).toBe(3 * 17);
    for (const row of rows) {
      expect(row.allocated).toBe(
        await count(`SELECT count(*)::int AS n FROM allocations WHERE provider_id = $1`, [
          row.providerId,
        ]),
      );
      expect(row.delivered + row.rejected + row.failed + row.pending).toBe(
        await count(`SELECT count(*)::int AS n FROM deliveries WHERE provider_id = $1`, [
          row.providerId,
        ]),
      );
    }
    const none = await get(
      '/api/reports/providers?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z',
    );
    expect(sum(none.body, 'allocated')).toBe(0);
  });
});
