import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { post, type PostResult, type TestApp } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/db.js';
import { useFreshDatabases } from '../helpers/fresh.js';
import { DEMO_QUOTAS, DEMO_SERVICES, ReferenceModel } from './reference-model.js';

const { fresh } = useFreshDatabases();

function requestService(
  app: TestApp,
  serviceId: number | string,
  headers: Record<string, string> = {},
): Promise<PostResult> {
  return post(
    `${app.url}/api/request-service`,
    { serviceId, email: `${randomUUID()}@example.com` },
    headers,
  );
}

const providerIds = (result: PostResult): string[] =>
  (result.body.providers as { id: number; role: string }[]).map(
    (provider) => `${provider.id}:${provider.role}`,
  );

async function remaining(db: TestDatabase): Promise<Record<number, number>> {
  const { rows } = await db.pool.query<{ id: number; remaining_quota: number }>(
    'SELECT id, remaining_quota FROM providers ORDER BY id',
  );
  return Object.fromEntries(rows.map((row) => [row.id, row.remaining_quota]));
}

async function pointers(db: TestDatabase): Promise<Record<number, number>> {
  const { rows } = await db.pool.query<{ service_id: number; pool_pointer: number }>(
    'SELECT service_id, pool_pointer FROM allocation_state ORDER BY service_id',
  );
  return Object.fromEntries(rows.map((row) => [row.service_id, row.pool_pointer]));
}

/** Invariants over the whole history of a database (SPEC §3, "Concurrency"). */
async function checkInvariants(db: TestDatabase): Promise<{ allocatedLeads: number }> {
  const { rows: quota } = await db.pool.query<{ below_zero: number; decrement: number }>(
    `SELECT count(*) FILTER (WHERE remaining_quota < 0)::int AS below_zero,
            sum(quota - remaining_quota)::int AS decrement FROM providers`,
  );
  const { rows: leads } = await db.pool.query<{
    allocated: number;
    rows: number;
    bad_leads: number;
    orphan_rows: number;
  }>(
    `SELECT (SELECT count(*)::int FROM leads WHERE status = 'allocated') AS allocated,
            (SELECT count(*)::int FROM allocations) AS rows,
            (SELECT count(*)::int FROM (
               SELECT lead_id FROM allocations GROUP BY lead_id
               HAVING count(*) <> 3 OR count(DISTINCT provider_id) <> 3) bad) AS bad_leads,
            (SELECT count(*)::int FROM allocations a JOIN leads l ON l.id = a.lead_id
              WHERE l.status <> 'allocated' OR l.service_id <> a.service_id) AS orphan_rows`,
  );
  expect(quota[0]!.below_zero).toBe(0);
  expect(leads[0]!.bad_leads).toBe(0);
  expect(leads[0]!.orphan_rows).toBe(0);
  expect(leads[0]!.rows).toBe(3 * leads[0]!.allocated);
  expect(quota[0]!.decrement).toBe(3 * leads[0]!.allocated);
  return { allocatedLeads: leads[0]!.allocated };
}

describe('the allocation rule (SPEC §3)', () => {
  it('follows the worked example for service 1 on fresh demo data', async () => {
    const { db, apps } = await fresh();
    const app = apps[0]!;
    const first = await requestService(app, 1);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      ok: true,
      service_id: 1,
      deduplicated: false,
      providers: [
        { id: 1, name: 'P1', role: 'static' },
        { id: 2, name: 'P2', role: 'pool' },
        { id: 3, name: 'P3', role: 'pool' },
      ],
    });
    expect((await pointers(db))[1]).toBe(2);
    expect(providerIds(await requestService(app, 1))).toEqual(['1:static', '4:pool', '2:pool']);
    expect((await pointers(db))[1]).toBe(1);
    expect(providerIds(await requestService(app, 1))).toEqual(['1:static', '3:pool', '4:pool']);
    expect((await pointers(db))[1]).toBe(0);
    for (let lead = 4; lead <= 13; lead++) expect((await requestService(app, 1)).status).toBe(201);
    expect((await remaining(db))[1]).toBe(0);
    const before = { quotas: await remaining(db), pointers: await pointers(db) };
    const p = before.quotas;
    expect(p[2]! + p[3]! + p[4]!).toBe(1);

    const fourteenth = await requestService(app, 1);
    expect(fourteenth.status).toBe(409);
    expect(fourteenth.body).toEqual({
      ok: false,
      error: 'insufficient_quota',
      lead_id: expect.any(String),
      skipped: expect.arrayContaining([{ providerId: 1, reason: 'no_quota' }]),
    });
    expect(await remaining(db)).toEqual(before.quotas);
    expect(await pointers(db)).toEqual(before.pointers);
    const { rows } = await db.pool.query('SELECT status, service_id FROM leads WHERE id = $1', [
      fourteenth.body.lead_id,
    ]);
    expect(rows[0]).toEqual({ status: 'unallocated', service_id: 1 });
    await checkInvariants(db);
  });

  it('matches an independent reference model step by step over 300 requests on all services', async () => {
    const { db, apps } = await fresh();
    const app = apps[0]!;
    const model = new ReferenceModel(DEMO_QUOTAS, DEMO_SERVICES);
    // SPEC §3 alone: refused leads expire at once instead of waiting in the backlog, which
    // would take them after each reset (the routing-rules model test covers the backlog).
    await db.pool.query('UPDATE services SET backlog_hours = 0');
    let seed = 20261121;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let conflicts = 0;
    for (let step = 0; step < 300; step++) {
      if (step % 60 === 59) {
        const reset = await post(`${app.url}/api/webhook/reset-quota`, {
          eventId: `model-${step}`,
        });
        expect(reset.body).toMatchObject({ ok: true, duplicate: false, reset: 8 });
        model.resetAll(DEMO_QUOTAS);
        continue;
      }
      const serviceId = 1 + Math.floor(random() * 3);
      const expected = model.allocate(serviceId);
      const actual = await requestService(app, serviceId);
      if (expected === null) {
        conflicts++;
        expect(actual.status, `step ${step}`).toBe(409);
      } else {
        expect(actual.status, `step ${step}`).toBe(201);
        expect(providerIds(actual), `step ${step}`).toEqual(expected);
      }
      if (step % 10 === 0) {
        expect(await remaining(db)).toEqual(Object.fromEntries(model.remaining));
        const modelPointers = Object.fromEntries(
          [...model.services].map(([id, service]) => [id, service.p]),
        );
        expect(await pointers(db)).toEqual(modelPointers);
      }
    }
    expect(conflicts).toBeGreaterThan(10); // the run really exercised exhaustion
    expect(await remaining(db)).toEqual(Object.fromEntries(model.remaining));
  });

  it('skips inactive providers and uses a new membership from its start', async () => {
    const { db, apps } = await fresh();
    const app = apps[0]!;
    const patch = await fetch(`${app.url}/api/providers/3`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ active: false }),
    });
    expect(patch.status).toBe(200);
    expect(providerIds(await requestService(app, 1))).toEqual(['1:static', '2:pool', '4:pool']);
    const change = await fetch(`${app.url}/api/services/1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ static: [], pool: [8, 7, 6, 5] }),
    });
    expect(change.status).toBe(200);
    expect((await pointers(db))[1]).toBe(0);
    expect(providerIds(await requestService(app, 1))).toEqual(['8:pool', '7:pool', '6:pool']);
  });
});

describe('POST /api/request-service', () => {
  it('answers a retry with the same Idempotency-Key with the first answer and no new quota', async () => {
    const { db, apps } = await fresh();
    const key = `rs-${randomUUID()}`;
    const first = await requestService(apps[0]!, 1, { 'idempotency-key': key });
    const quotas = await remaining(db);
    const retry = await requestService(apps[0]!, 1, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ ...first.body, deduplicated: true });
    for (const answer of [first, retry])
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await remaining(db)).toEqual(quotas);
  });

  it('404 for an unknown service and 400 without a valid serviceId, both stored raw', async () => {
    const { db, apps } = await fresh();
    const url = `${apps[0]!.url}/api/request-service`;
    expect(await post(url, { serviceId: 999 })).toMatchObject({
      status: 404,
      body: { ok: false, error: 'service_not_found' },
    });
    for (const body of [{}, { serviceId: 'abc' }, { serviceId: -1 }, { serviceId: 1.5 }]) {
      expect(await post(url, body)).toMatchObject({
        status: 400,
        body: { ok: false, error: 'invalid_payload' },
      });
    }
    const { rows } = await db.pool.query(
      `SELECT error, count(*)::int AS n FROM leads_raw WHERE endpoint = 'request-service' GROUP BY error ORDER BY error`,
    );
    expect(rows).toEqual([
      { error: 'invalid_payload', n: 4 },
      { error: 'service_not_found', n: 1 },
    ]);
  });

  it('allocates a lead posted to /api/lead that names a service by slug', async () => {
    const { db, apps } = await fresh();
    const res = await post(`${apps[0]!.url}/api/lead`, {
      email: 'slug@example.com',
      service: 'service-2',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ok: true,
      deduplicated: false,
      allocation: {
        ok: true,
        service_id: 2,
        providers: [
          { id: 5, role: 'static' },
          { id: 6, role: 'pool' },
          { id: 7, role: 'pool' },
        ],
      },
    });
    const key = `lead-svc-${randomUUID()}`;
    const first = await post(
      `${apps[0]!.url}/api/lead`,
      { service: 1 },
      { 'idempotency-key': key },
    );
    const quotas = await remaining(db);
    // A retry naming another service still gets the first lead's allocation.
    const retry = await post(
      `${apps[0]!.url}/api/lead`,
      { service: 3 },
      { 'idempotency-key': key },
    );
    expect(retry.status).toBe(409);
    expect(retry.body).toEqual({ ...first.body, deduplicated: true });
    expect(await remaining(db)).toEqual(quotas);
    const unknown = await post(`${apps[0]!.url}/api/lead`, {
      email: 'x@example.com',
      service: 'nope',
    });
    expect(unknown).toMatchObject({
      status: 201,
      body: { allocation: { ok: false, error: 'service_not_found' } },
    });
  });
});

describe('allocation under concurrency', () => {
  it('10 concurrent requests for service 1 on fresh data: all 201, P1 empty, pool used 7/7/6', async () => {
    const { db, apps } = await fresh();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => requestService(apps[0]!, 1)),
    );
    expect(results.map((result) => result.status)).toEqual(Array(10).fill(201));
    const quotas = await remaining(db);
    expect(quotas[1]).toBe(0);
    expect([10 - quotas[2]!, 10 - quotas[3]!, 10 - quotas[4]!]).toEqual([7, 7, 6]);
    await checkInvariants(db);
  });

  it('a burst past exhaustion gets exactly as many 201s as the quotas allow', async () => {
    const { db, apps } = await fresh();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => requestService(apps[0]!, 1)),
    );
    expect(results.filter((result) => result.status === 201)).toHaveLength(13);
    expect(results.filter((result) => result.status === 409)).toHaveLength(17);
    expect(
      results.every(
        (result) => result.status === 201 || result.body.error === 'insufficient_quota',
      ),
    ).toBe(true);
    const quotas = await remaining(db);
    expect(quotas[1]! + quotas[2]! + quotas[3]! + quotas[4]!).toBe(1);
    const { allocatedLeads } = await checkInvariants(db);
    expect(allocatedLeads).toBe(13);
  });

  it.each([1, 2])(
    'hundreds of concurrent requests over services 1–3 on %i instance(s): no 5xx, no deadlock, invariants hold',
    async (instances) => {
      const { db, apps } = await fresh(instances);
      await db.pool.query('UPDATE providers SET quota = 1000, remaining_quota = 1000');
      // Provider edits race the allocations: they lock provider rows too.
      const total = 300;
      const requests = Array.from({ length: total }, (_, index) =>
        requestService(apps[index % instances]!, 1 + (index % 3)),
      );
      const edits = [4, 5].map((id) =>
        fetch(`${apps[instances - 1]!.url}/api/providers/${id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Provider ${id}` }),
        }),
      );
      const results = await Promise.all(requests);
      expect((await Promise.all(edits)).map((edit) => edit.status)).toEqual([200, 200]);
      expect(results.filter((result) => result.status >= 500)).toEqual([]);
      expect(results.every((result) => result.status === 201)).toBe(true);
      const leadIds = results.map((result) => result.body.lead_id);
      expect(new Set(leadIds).size).toBe(total);
      for (const result of results) {
        const ids = (result.body.providers as { id: number }[]).map((provider) => provider.id);
        expect(new Set(ids).size).toBe(3);
      }
      const { allocatedLeads } = await checkInvariants(db);
      expect(allocatedLeads).toBe(total);
    },
  );

  it('allocations racing quota resets and membership changes never deadlock', async () => {
    const { db, apps } = await fresh(2);
    await db.pool.query('UPDATE providers SET quota = 500, remaining_quota = 500');
    const requests = Array.from({ length: 200 }, (_, index) =>
      requestService(apps[index % 2]!, 1 + (index % 3)),
    );
    const resets = Array.from({ length: 5 }, (_, index) =>
      post(`${apps[index % 2]!.url}/api/webhook/reset-quota`, { eventId: `race-${index}` }),
    );
    const membership = fetch(`${apps[1]!.url}/api/services/3`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ providersPerLead: 3, static: [4, 1], pool: [8, 7, 6, 5, 3, 2] }),
    });
    const results = await Promise.all(requests);
    expect((await Promise.all(resets)).map((reset) => reset.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
    expect((await membership).status).toBe(200);
    expect(results.map((result) => result.status)).toEqual(Array(200).fill(201));
    const { rows } = await db.pool.query<{ below_zero: number; rows: number; allocated: number }>(
      `SELECT (SELECT count(*)::int FROM providers WHERE remaining_quota < 0) AS below_zero,
              (SELECT count(*)::int FROM allocations) AS rows,
              (SELECT count(*)::int FROM leads WHERE status = 'allocated') AS allocated`,
    );
    expect(rows[0]).toEqual({ below_zero: 0, rows: 600, allocated: 200 });
  });
});
