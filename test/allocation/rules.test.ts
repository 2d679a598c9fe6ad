/**
 * SPEC §10 over real PostgreSQL and real app instances: caps, the duplicate window and the
 * backlog under concurrency, day boundaries across DST changes with an injected clock, the
 * settings' validation, the decision trace and POST /api/leads/:id/allocate.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { post, type PostResult, type TestApp } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/db.js';
import { useFreshDatabases } from '../helpers/fresh.js';
import { periodStarts } from '../../src/allocation/calendar.js';
import type { CapUsage, Caps } from '../../src/contracts/rules.js';

const { fresh } = useFreshDatabases();
// The concurrency tests are about correctness, not load shedding: on a shared 2-core machine
// (load average ~14 while these were written) the event loop lag went past the 1 s default
// and SPEC §8's shedding answered 503.
const NO_SHEDDING = { MAX_EVENT_LOOP_DELAY_MS: '60000' };

async function patch(app: TestApp, path: string, body: unknown): Promise<PostResult> {
  const response = await fetch(`${app.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function requestService(
  app: TestApp,
  serviceId: number,
  fields: Record<string, unknown> = {},
): Promise<PostResult> {
  return post(`${app.url}/api/request-service`, {
    serviceId,
    email: `${randomUUID()}@example.com`,
    ...fields,
  });
}

async function allocationsPerProvider(db: TestDatabase): Promise<Record<number, number>> {
  const { rows } = await db.pool.query<{ provider_id: number; n: number }>(
    'SELECT provider_id, count(*)::int AS n FROM allocations GROUP BY provider_id',
  );
  return Object.fromEntries(rows.map((row) => [row.provider_id, row.n]));
}

/** The invariants of SPEC §3 over the whole history, allocations as N per lead. */
async function checkInvariants(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{
    below_zero: number;
    decrement: number;
    allocations: number;
    allocated: number;
    twice: number;
  }>(
    `SELECT (SELECT count(*)::int FROM providers WHERE remaining_quota < 0) AS below_zero,
            (SELECT coalesce(sum(quota - remaining_quota), 0)::int FROM providers) AS decrement,
            (SELECT count(*)::int FROM allocations) AS allocations,
            (SELECT count(*)::int FROM leads WHERE status = 'allocated') AS allocated,
            (SELECT count(*)::int FROM (SELECT lead_id FROM allocations GROUP BY lead_id
               HAVING count(*) <> 3) bad) AS twice`,
  );
  const row = rows[0]!;
  expect(row.below_zero).toBe(0);
  expect(row.twice).toBe(0);
  expect(row.allocations).toBe(3 * row.allocated);
  return row.allocated;
}

describe('calendar caps', () => {
  it('are never exceeded under 300 concurrent requests across two instances', async () => {
    const { db, apps } = await fresh(2, undefined, NO_SHEDDING);
    await db.pool.query('UPDATE providers SET quota = 1000, remaining_quota = 1000');
    // Each provider takes at most 25 a day and 40 an hour… the day binds; P1 and P4 (static
    // in service 3) also 10 an hour.
    for (const id of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const caps = id === 1 || id === 4 ? { hour: 10, day: 25 } : { hour: 40, day: 25 };
      const result = await patch(apps[0]!, `/api/providers/${id}`, {
        caps,
        timezone: 'Europe/Riga',
      });
      expect(result.status).toBe(200);
    }
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, index) => requestService(apps[index % 2]!, 1 + (index % 3))),
    );
    expect(results.filter((result) => ![201, 409].includes(result.status))).toEqual([]);
    const used = await allocationsPerProvider(db);
    for (const id of [1, 4]) expect(used[id] ?? 0).toBeLessThanOrEqual(10);
    for (const id of [2, 3, 5, 6, 7, 8]) expect(used[id] ?? 0).toBeLessThanOrEqual(25);
    const allocated = await checkInvariants(db);
    expect(allocated).toBe(results.filter((result) => result.status === 201).length);
    // The caps, not the quotas, stopped them: every refusal names a cap among its reasons.
    const refused = results.filter((result) => result.status === 409);
    expect(refused.length).toBeGreaterThan(0);
    for (const result of refused) {
      const reasons = (result.body.skipped as { reason: string }[]).map((skip) => skip.reason);
      expect(reasons.some((reason) => reason.startsWith('cap_'))).toBe(true);
    }
    const providers = (await (await fetch(`${apps[1]!.url}/api/providers`)).json()) as {
      id: number;
      capUsage: { day: number };
      capped: boolean;
    }[];
    for (const provider of providers) expect(provider.capUsage.day).toBe(used[provider.id] ?? 0);
  }, 60_000);

  /**
   * Service 2 sends every lead to provider 5 alone, capped in Riga, on a clock the test sets:
   * `at(iso, statuses)` moves the clock and checks what that many leads are answered.
   */
  async function cappedInRiga(start: string, caps: Caps) {
    let now = Date.parse(start);
    const { apps } = await fresh(1, () => new Date(now), NO_SHEDDING);
    const app = apps[0]!;
    expect((await patch(app, '/api/services/2', { providersPerLead: 1, pool: [] })).status).toBe(
      200,
    );
    const changes = { timezone: 'Europe/Riga', caps, quota: 100, remainingQuota: 100 };
    expect((await patch(app, '/api/providers/5', changes)).status).toBe(200);
    const lead = (): Promise<PostResult> => requestService(app, 2);
    const at = async (iso: string, statuses: number[]): Promise<void> => {
      now = Date.parse(iso);
      const got: number[] = [];
      for (let index = 0; index < statuses.length; index++) got.push((await lead()).status);
      expect(got, iso).toEqual(statuses);
    };
    return { lead, at };
  }

  it('restart at local midnight of the provider zone on both sides of a DST change', async () => {
    // 23:30 in Riga (UTC+2), 28 March
    const { lead, at } = await cappedInRiga('2026-03-28T21:30:00Z', { day: 2 });
    await at('2026-03-28T21:30:00Z', [201, 201, 409]);
    await at('2026-03-28T21:59:59Z', [409]); // 23:59:59 local: still the 28th
    // Local midnight of the 29th is 22:00Z; the clocks go forward at 03:00 that night, so
    // the 29th is 23 hours long and ends at 21:00Z (UTC+3).
    await at('2026-03-28T22:00:00Z', [201, 201, 409]);
    await at('2026-03-29T20:59:00Z', [409]);
    await at('2026-03-29T21:00:00Z', [201]);
    // Autumn: 25 October 2026 starts at 21:00Z on the 24th (UTC+3) and, 25 hours later,
    // ends at 22:00Z on the 25th (UTC+2).
    await at('2026-10-24T20:59:00Z', [201]); // the 24th, local
    await at('2026-10-24T21:00:00Z', [201, 201, 409]);
    await at('2026-10-25T21:59:00Z', [409]);
    await at('2026-10-25T22:00:00Z', [201, 201]);
    const rejected = await lead();
    expect(rejected.body.skipped).toEqual([{ providerId: 5, reason: 'cap_day' }]);
  }, 60_000);

  it('count the local hour that happens twice when clocks go back as two hours', async () => {
    // 03:10 EEST in Riga; at 04:00 the clocks go back to 03:00
    const { at } = await cappedInRiga('2026-10-25T00:10:00Z', { hour: 1 });
    await at('2026-10-25T00:10:00Z', [201, 409]); // 03:10 EEST
    await at('2026-10-25T00:59:00Z', [409]); // 03:59 EEST
    await at('2026-10-25T01:00:00Z', [201, 409]); // 03:00 EET: the second 03:00 hour
    await at('2026-10-25T02:00:00Z', [201]); // 04:00 EET
  }, 60_000);
});

describe('cap counters (issue 13)', () => {
  /** What count(*) over the allocations since each period's start (Luxon) says. */
  async function counted(db: TestDatabase, at: Date): Promise<Record<number, CapUsage>> {
    const { rows } = await db.pool.query<{ id: number; timezone: string }>(
      'SELECT id, timezone FROM providers ORDER BY id',
    );
    const expected: Record<number, CapUsage> = {};
    for (const row of rows) {
      const starts = periodStarts(at, row.timezone);
      const usage = await db.pool.query<CapUsage>(
        `SELECT count(*) FILTER (WHERE allocated_at >= $2)::int AS hour,
                count(*) FILTER (WHERE allocated_at >= $3)::int AS day,
                count(*) FILTER (WHERE allocated_at >= $4)::int AS week,
                count(*) FILTER (WHERE allocated_at >= $5)::int AS month
           FROM allocations WHERE provider_id = $1`,
        [row.id, starts.hour, starts.day, starts.week, starts.month],
      );
      expected[row.id] = usage.rows[0]!;
    }
    return expected;
  }

  async function shown(app: TestApp): Promise<Record<number, CapUsage>> {
    const providers = (await (await fetch(`${app.url}/api/providers`)).json()) as {
      id: number;
      capUsage: CapUsage;
    }[];
    return Object.fromEntries(providers.map((provider) => [provider.id, provider.capUsage]));
  }

  it('count allocations made before a cap was set, and follow a change of time zone', async () => {
    // 23:50 UTC on a Sunday, the last day of a month: an hour, a day, a week and a month end
    // within minutes in UTC, and have ended already in zones east of it.
    let now = new Date('2026-05-31T23:50:00Z').getTime();
    const { db, apps } = await fresh(1, () => new Date(now));
    const app = apps[0]!;
    await db.pool.query('UPDATE providers SET quota = 1000, remaining_quota = 1000');
    for (let index = 0; index < 6; index++) {
      expect((await requestService(app, 1 + (index % 3))).status).toBe(201);
      now += 3 * 60_000; // crosses 00:00 UTC on the third request
    }
    const at = new Date(now);
    // No cap anywhere yet: the counters were kept all the same.
    for (const id of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const result = await patch(app, `/api/providers/${id}`, {
        caps: { hour: 100, day: 100, week: 100, month: 100 },
      });
      expect(result.status).toBe(200);
    }
    const utc = await counted(db, at);
    expect(Object.values(utc).some((usage) => usage.month > 0)).toBe(true);
    expect(await shown(app)).toEqual(utc);
    // A zone with a 45-minute offset (hours start at :15 UTC) and one fourteen hours east: the
    // old zone's counter rows mean nothing there, so the change recounts them.
    for (const timezone of ['Asia/Kathmandu', 'Pacific/Kiritimati', 'America/New_York']) {
      for (const id of [1, 5, 6]) {
        expect((await patch(app, `/api/providers/${id}`, { timezone })).status).toBe(200);
      }
      expect(await shown(app)).toEqual(await counted(db, at));
      // And allocations after the change count into the new zone's periods.
      for (let index = 0; index < 3; index++) {
        expect((await requestService(app, 1 + index)).status).toBe(201);
      }
      expect(await shown(app)).toEqual(await counted(db, at));
    }
  }, 60_000);
});

describe('schedules, filters and the decision trace', () => {
  it('skip providers outside their window or filters, and the lead shows why', async () => {
    // Friday 2026-12-04, 23:00 in Riga (21:00Z).
    let now = Date.parse('2026-12-04T21:00:00Z');
    const { apps } = await fresh(1, () => new Date(now), NO_SHEDDING);
    const app = apps[0]!;
    await patch(app, '/api/providers/2', {
      timezone: 'Europe/Riga',
      schedule: [{ days: ['fri'], from: '22:00', to: '06:00' }],
    });
    await patch(app, '/api/providers/3', {
      filters: [{ field: 'country', op: 'in', value: ['LV', 'LT'] }],
    });
    await patch(app, '/api/providers/4', {
      filters: [{ field: 'extra.score', op: 'gte', value: 10 }],
    });
    const first = await requestService(app, 1, { country: ' lv ', score: '12' });
    expect(first.body.providers).toEqual([
      { id: 1, name: 'P1', role: 'static' },
      { id: 2, name: 'P2', role: 'pool' },
      { id: 3, name: 'P3', role: 'pool' },
    ]);
    now = Date.parse('2026-12-05T04:30:00Z'); // Saturday 06:30 local: the window has closed
    const second = await requestService(app, 1, { country: 'EE', score: 9 });
    expect(second.status).toBe(409);
    expect(second.body.skipped).toEqual([
      { providerId: 4, reason: 'filter' },
      { providerId: 2, reason: 'outside_schedule' },
      { providerId: 3, reason: 'filter' },
    ]);
    // The first lead left the pointer at 2, so the walk went P4, P2, P3: the trace's order.
    const detail = (await (
      await fetch(`${app.url}/api/leads/${second.body.lead_id as string}`)
    ).json()) as { decisions: { outcome: string; decisions: unknown[] }[] };
    expect(detail.decisions).toHaveLength(1);
    expect(detail.decisions[0]).toMatchObject({
      outcome: 'unallocated',
      fromBacklog: false,
      decisions: [
        { providerId: 1, role: 'static', outcome: 'taken', reason: null },
        { providerId: 4, role: 'pool', outcome: 'skipped', reason: 'filter' },
        { providerId: 2, role: 'pool', outcome: 'skipped', reason: 'outside_schedule' },
        { providerId: 3, role: 'pool', outcome: 'skipped', reason: 'filter' },
      ],
    });
  });

  it('refuses bad rules with 400 and the field at fault', async () => {
    const { apps } = await fresh(1, undefined, NO_SHEDDING);
    const app = apps[0]!;
    const bad: [string, unknown][] = [
      ['/api/providers/1', { timezone: 'Mars/Olympus' }],
      ['/api/providers/1', { caps: { day: -1 } }],
      ['/api/providers/1', { caps: { year: 5 } }],
      ['/api/providers/1', { schedule: [{ days: ['mon'], from: '25:00', to: '06:00' }] }],
      ['/api/providers/1', { schedule: [{ days: ['funday'], from: '09:00', to: '18:00' }] }],
      ['/api/providers/1', { filters: [{ field: 'password', op: 'eq', value: 'x' }] }],
      ['/api/providers/1', { filters: [{ field: 'country', op: 'in', value: 'LV' }] }],
      ['/api/providers/1', { filters: [{ field: 'extra.score', op: 'gt', value: 'many' }] }],
      ['/api/services/1', { dedupe: { fields: ['name'], days: 3, scope: 'service' } }],
      ['/api/services/1', { backlogHours: -2 }],
    ];
    for (const [path, body] of bad) {
      const result = await patch(app, path, body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body).toMatchObject({ ok: false, error: 'invalid_payload' });
    }
  });
});

describe('the duplicate window', () => {
  it('allocates exactly one of many concurrent leads with one contact (two instances)', async () => {
    const { db, apps } = await fresh(2, undefined, NO_SHEDDING);
    await db.pool.query('UPDATE providers SET quota = 100, remaining_quota = 100');
    expect(
      (
        await patch(apps[0]!, '/api/services/1', {
          dedupe: { fields: ['email', 'phone'], days: 30, scope: 'service' },
        })
      ).status,
    ).toBe(200);
    const emails = ['same@example.com', ' SAME@example.com', 'Same@Example.com '];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        requestService(apps[index % 2]!, 1, { email: emails[index % 3] }),
      ),
    );
    const allocated = results.filter((result) => result.status === 201);
    expect(allocated).toHaveLength(1);
    const original = allocated[0]!.body.lead_id;
    const duplicates = results.filter((result) => result.status === 409);
    expect(duplicates).toHaveLength(29);
    for (const result of duplicates) {
      expect(result.body).toEqual({
        ok: false,
        error: 'duplicate_lead',
        lead_id: expect.any(String),
        duplicate_of: original,
      });
    }
    const { rows } = await db.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM leads GROUP BY status ORDER BY status`,
    );
    expect(rows).toEqual([
      { status: 'allocated', n: 1 },
      { status: 'duplicate', n: 29 },
    ]);
    // An operator's "try now" on a duplicate gets the same refusal, naming the original.
    const retried = await fetch(
      `${apps[1]!.url}/api/leads/${duplicates[0]!.body.lead_id}/allocate`,
      {
        method: 'POST',
      },
    );
    const retriedBody = await retried.clone().text();
    expect(retried.status, retriedBody).toBe(409);
    expect(await retried.json()).toEqual({
      ok: false,
      error: 'duplicate_lead',
      lead_id: duplicates[0]!.body.lead_id,
      duplicate_of: original,
    });
    // Same phone, other email: still the same contact; another service is not concerned.
    await post(`${apps[0]!.url}/api/request-service`, {
      serviceId: 1,
      email: 'x@example.com',
      phone: '+1 (555) 0100',
    });
    const byPhone = await requestService(apps[1]!, 1, { phone: '15550100' });
    expect(byPhone.body.error).toBe('duplicate_lead');
    expect((await requestService(apps[1]!, 2, { email: 'same@example.com' })).status).toBe(201);
    expect(await checkInvariants(db)).toBe(3);
  }, 60_000);

  it('scope provider skips only the providers that had the contact', async () => {
    const { apps } = await fresh(1, undefined, NO_SHEDDING);
    const app = apps[0]!;
    await patch(app, '/api/services/1', {
      providersPerLead: 1,
      static: [],
      pool: [2, 3, 4],
      dedupe: { fields: ['email'], days: 1, scope: 'provider' },
    });
    const taken: number[] = [];
    for (let index = 0; index < 3; index++) {
      const result = await requestService(app, 1, { email: 'p@example.com' });
      taken.push((result.body.providers as { id: number }[])[0]!.id);
    }
    expect(taken).toEqual([2, 3, 4]);
    const fourth = await requestService(app, 1, { email: 'P@example.com' });
    expect(fourth.body).toMatchObject({
      error: 'insufficient_quota',
      skipped: [
        { providerId: 2, reason: 'duplicate' },
        { providerId: 3, reason: 'duplicate' },
        { providerId: 4, reason: 'duplicate' },
      ],
    });
  });
});

describe('the backlog', () => {
  it('drains exactly once after a quota reset with two instances running', async () => {
    const { db, apps } = await fresh(2, undefined, NO_SHEDDING);
    await db.pool.query('UPDATE providers SET remaining_quota = 0');
    const refused = await Promise.all(
      Array.from({ length: 40 }, (_, index) => requestService(apps[index % 2]!, 1)),
    );
    expect(refused.every((result) => result.status === 409)).toBe(true);
    // The reset's event reaches both instances' drainers; both are also asked directly.
    const reset = await post(`${apps[0]!.url}/api/webhook/reset-quota`, { eventId: 'refill' });
    expect(reset.status).toBe(200);
    await Promise.all(apps.map((app) => app.app.leadflow.backlog.drain()));
    await Promise.all(apps.map((app) => app.app.leadflow.backlog.drain()));
    // Service 1 on full quotas takes 13 leads (SPEC §3's worked example), oldest first.
    expect(await checkInvariants(db)).toBe(13);
    const { rows } = await db.pool.query<{ lead_id: string; n: number }>(
      `SELECT lead_id, count(*)::int AS n FROM allocation_attempts
        WHERE outcome = 'allocated' GROUP BY lead_id`,
    );
    expect(rows).toHaveLength(13);
    expect(rows.every((row) => row.n === 1)).toBe(true);
    const events = await db.pool.query<{ lead_id: string; backlog: boolean }>(
      `SELECT payload->>'leadId' AS lead_id, (payload->>'fromBacklog')::boolean AS backlog
         FROM events WHERE type = 'lead.allocated'`,
    );
    expect(events.rows).toHaveLength(13);
    expect(events.rows.every((event) => event.backlog)).toBe(true);
    // Oldest first: the 13 allocated are the first 13 refused.
    const oldest = await db.pool.query<{ id: string }>(
      `SELECT id FROM leads ORDER BY created_at, id LIMIT 13`,
    );
    expect(new Set(events.rows.map((event) => event.lead_id))).toEqual(
      new Set(oldest.rows.map((row) => row.id)),
    );
    const services = (await (await fetch(`${apps[1]!.url}/api/services`)).json()) as {
      id: number;
      backlog: number;
    }[];
    expect(services.find((service) => service.id === 1)!.backlog).toBe(27);
  }, 60_000);

  it('expires leads older than backlogHours; POST /api/leads/:id/allocate tries one now', async () => {
    let now = Date.now();
    const { db, apps } = await fresh(1, () => new Date(now), NO_SHEDDING);
    const app = apps[0]!;
    await db.pool.query('UPDATE providers SET remaining_quota = 0');
    const waiting = await requestService(app, 1);
    const old = await requestService(app, 2);
    expect([waiting.status, old.status]).toEqual([409, 409]);
    await patch(app, '/api/services/2', { backlogHours: 1 });
    now += 2 * 3_600_000;
    await app.app.leadflow.backlog.drain();
    const status = async (id: unknown): Promise<string> =>
      (await db.pool.query('SELECT status FROM leads WHERE id = $1', [id])).rows[0].status;
    expect(await status(old.body.lead_id)).toBe('expired');
    expect(await status(waiting.body.lead_id)).toBe('unallocated');

    const url = (id: unknown): string => `${app.url}/api/leads/${id as string}/allocate`;
    const again = await post(url(waiting.body.lead_id), {});
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('insufficient_quota');
    await db.pool.query('UPDATE providers SET remaining_quota = quota');
    const now201 = await post(url(waiting.body.lead_id), {});
    expect(now201).toMatchObject({ status: 201, body: { ok: true, service_id: 1 } });
    const repeat = await post(url(waiting.body.lead_id), {});
    expect(repeat).toMatchObject({ status: 201, body: { deduplicated: true } });
    // An expired lead can be sent to another service by hand.
    const moved = await post(url(old.body.lead_id), { serviceId: 3 });
    expect(moved).toMatchObject({ status: 201, body: { service_id: 3 } });
    // A lead stored without a service needs one named.
    const plain = await post(`${app.url}/api/lead`, { email: 'n@example.com' });
    expect(await post(url(plain.body.lead_id), {})).toMatchObject({
      status: 400,
      body: {
        ok: false,
        error: 'invalid_payload',
        details: [{ path: 'serviceId', message: 'the lead has no service: name one' }],
      },
    });
    expect((await post(url(plain.body.lead_id), { serviceId: 2 })).status).toBe(201);
    expect((await post(url(randomUUID()), {})).status).toBe(404);
    expect((await post(url(plain.body.lead_id), { serviceId: 'x' })).status).toBe(400);
  });

  it('allocation, drains, rule changes and quota resets together never deadlock', async () => {
    const { db, apps } = await fresh(2, undefined, NO_SHEDDING);
    await db.pool.query('UPDATE providers SET quota = 60, remaining_quota = 60');
    const work: Promise<{ status: number }>[] = [];
    for (let index = 0; index < 200; index++) {
      work.push(requestService(apps[index % 2]!, 1 + (index % 3)));
      if (index % 40 === 0) {
        work.push(
          post(`${apps[(index / 40) % 2]!.url}/api/webhook/reset-quota`, { eventId: `r${index}` }),
        );
        work.push(
          patch(apps[1]!, `/api/providers/${1 + ((index / 40) % 8)}`, { caps: { hour: 50 } }),
        );
        work.push(patch(apps[0]!, '/api/services/3', { backlogHours: 1 + index }));
        work.push(apps[index % 2]!.app.leadflow.backlog.drain().then(() => ({ status: 200 })));
      }
    }
    const statuses = (await Promise.all(work)).map((result) => result.status);
    expect(statuses.filter((status) => ![200, 201, 409].includes(status))).toEqual([]);
    await checkInvariants(db);
  }, 90_000);
});
