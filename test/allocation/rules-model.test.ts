/**
 * SPEC §10 over real PostgreSQL against the reference model: fast-check generates topologies
 * (membership, quotas, time zones, caps, schedules, filters, duplicate windows), a clock and a
 * stream of leads, resets and backlog drains; every answer, quota, pointer and cap count of the
 * service is compared with the model's after every step, as the 300-request model test does
 * for SPEC §3.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { post, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { ReferenceModel, type ModelLead, type ModelRules } from './reference-model.js';

const ZONES = ['UTC', 'Europe/Riga', 'America/New_York', 'Asia/Tokyo', 'Australia/Lord_Howe'];
// Instants a few hours before DST changes and a year's end, so steps cross those boundaries.
const STARTS = ['2026-03-28T20:00:00Z', '2026-10-24T21:30:00Z', '2026-12-31T18:00:00Z'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 30))
  .map(([hour, minute]) => `${String(hour).padStart(2, '0')}:${minute === 0 ? '00' : '30'}`);

const rulesArbitrary = fc.record({
  timezone: fc.constantFrom(...ZONES),
  caps: fc.record(
    {
      hour: fc.integer({ min: 0, max: 3 }),
      day: fc.integer({ min: 1, max: 5 }),
      week: fc.integer({ min: 1, max: 8 }),
      month: fc.integer({ min: 1, max: 10 }),
    },
    { requiredKeys: [] },
  ),
  schedule: fc.oneof(
    { arbitrary: fc.constant<ModelRules['schedule']>([]), weight: 2 },
    {
      arbitrary: fc.array(
        fc
          .record({
            days: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
            from: hhmm,
            to: hhmm,
          })
          .filter((window) => window.from !== window.to),
        { minLength: 1, maxLength: 2 },
      ),
      weight: 1,
    },
  ),
  filters: fc.array(
    fc.oneof(
      fc.record({
        field: fc.constant('country'),
        op: fc.constantFrom('eq', 'neq', 'contains'),
        value: fc.constantFrom('lv', ' LT', 'E'),
      }),
      fc.record({
        field: fc.constant('country'),
        op: fc.constantFrom('in', 'not_in'),
        value: fc.constant(['LV', 'lt']).map((list) => [...list]),
      }),
      fc.record({
        field: fc.constantFrom('extra.score', 'phone'),
        op: fc.constantFrom('exists', 'missing'),
      }),
      fc.record({
        field: fc.constant('extra.score'),
        op: fc.constantFrom('gt', 'gte', 'lt', 'lte'),
        value: fc.constantFrom(5, 10, '7'),
      }),
    ),
    { maxLength: 2 },
  ),
});

type Step =
  | {
      kind: 'lead';
      service: number;
      advanceMinutes: number;
      email: string | null;
      phone: string | null;
      country: string | null;
      score: number | string | null;
    }
  | { kind: 'reset' }
  | { kind: 'drain'; advanceMinutes: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('lead' as const),
      service: fc.integer({ min: 1, max: 3 }),
      advanceMinutes: fc.constantFrom(0, 1, 7, 29, 61, 180, 1440, 4000),
      email: fc.constantFrom(null, 'a@example.com', ' A@Example.com ', 'b@example.com', 'c@x.io'),
      phone: fc.constantFrom(null, '+371 2000 0001', '37120000001', '555'),
      country: fc.constantFrom(null, 'LV', 'lt', 'EE', ' lv '),
      score: fc.constantFrom(null, 3, 7, 12, '9', 'abc'),
    }),
    weight: 12,
  },
  { arbitrary: fc.constant({ kind: 'reset' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('drain' as const),
      advanceMinutes: fc.constantFrom(0, 60, 1440),
    }),
    weight: 2,
  },
);

interface Scenario {
  start: string;
  providers: { quota: number; active: boolean; rules: ModelRules | null }[];
  services: {
    n: number;
    statics: number[];
    pool: number[];
    dedupe: { fields: ('email' | 'phone')[]; days: number; scope: 'service' | 'provider' } | null;
  }[];
  steps: Step[];
}

const providerId = fc.integer({ min: 1, max: 6 });
const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  start: fc.constantFrom(...STARTS),
  providers: fc.array(
    fc.record({
      quota: fc.integer({ min: 0, max: 8 }),
      active: fc.oneof(
        { arbitrary: fc.constant(true), weight: 5 },
        { arbitrary: fc.constant(false), weight: 1 },
      ),
      rules: fc.option(
        rulesArbitrary.map((rules): ModelRules => rules),
        { freq: 3 },
      ),
    }),
    { minLength: 6, maxLength: 6 },
  ),
  services: fc.array(
    fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        statics: fc.uniqueArray(providerId, { maxLength: 2 }),
        pool: fc.uniqueArray(providerId, { minLength: 1, maxLength: 6 }),
        dedupe: fc.option(
          fc.record({
            fields: fc.constantFrom<('email' | 'phone')[]>(
              ['email'],
              ['phone'],
              ['email', 'phone'],
            ),
            days: fc.integer({ min: 1, max: 3 }),
            scope: fc.constantFrom<'service' | 'provider'>('service', 'provider'),
          }),
        ),
      })
      .map((service) => ({
        ...service,
        pool: service.pool.filter((id) => !service.statics.includes(id)),
      })),
    { minLength: 3, maxLength: 3 },
  ),
  steps: fc.array(stepArbitrary, { minLength: 10, maxLength: 30 }),
});

/** What the runs exercised, so a generator that stopped reaching a rule fails the test. */
const seen = new Map<string, number>();
const saw = (what: string): void => void seen.set(what, (seen.get(what) ?? 0) + 1);

async function runScenario(scenario: Scenario): Promise<void> {
  let now = new Date(scenario.start).getTime();
  const db = await createTestDatabase();
  const app = await startTestApp(db, {}, { clock: () => new Date(now), automaticBacklog: false });
  try {
    const quotas: Record<number, number> = {};
    for (const [index, provider] of scenario.providers.entries()) {
      const id = index + 1;
      quotas[id] = provider.quota;
      const rules = provider.rules ?? { timezone: 'UTC', caps: {}, schedule: [], filters: [] };
      await db.pool.query(
        `UPDATE providers SET quota = $2, remaining_quota = $2, active = $3, timezone = $4,
                caps = $5, schedule = $6, filters = $7 WHERE id = $1`,
        [
          id,
          provider.quota,
          provider.active,
          rules.timezone,
          JSON.stringify(rules.caps),
          JSON.stringify(rules.schedule),
          JSON.stringify(rules.filters),
        ],
      );
    }
    await db.pool.query('UPDATE providers SET active = false WHERE id > 6');
    await db.pool.query('DELETE FROM service_providers');
    const model = new ReferenceModel(
      quotas,
      Object.fromEntries(scenario.services.map((service, index) => [index + 1, service])),
    );
    for (const [index, provider] of scenario.providers.entries()) {
      if (!provider.active) model.inactive.add(index + 1);
      if (provider.rules) model.rules.set(index + 1, provider.rules);
    }
    for (const [index, service] of scenario.services.entries()) {
      const id = index + 1;
      await db.pool.query(
        `INSERT INTO service_providers (service_id, provider_id, role, position)
         SELECT $1::int, p, 'static', o - 1 FROM unnest($2::int[]) WITH ORDINALITY AS s(p, o)
         UNION ALL
         SELECT $1::int, p, 'pool', o - 1 FROM unnest($3::int[]) WITH ORDINALITY AS s(p, o)`,
        [id, service.statics, service.pool],
      );
      await db.pool.query(
        `UPDATE services SET providers_per_lead = $2, dedupe = $3, backlog_hours = 100000
          WHERE id = $1`,
        [id, service.n, service.dedupe && JSON.stringify(service.dedupe)],
      );
      if (service.dedupe) model.dedupe.set(id, service.dedupe);
    }

    const compareState = async (label: string): Promise<void> => {
      const { rows } = await db.pool.query<{ id: number; remaining_quota: number }>(
        'SELECT id, remaining_quota FROM providers WHERE id <= 6 ORDER BY id',
      );
      expect(Object.fromEntries(rows.map((row) => [row.id, row.remaining_quota])), label).toEqual(
        Object.fromEntries([...model.remaining]),
      );
      const state = await db.pool.query<{ service_id: number; pool_pointer: number }>(
        'SELECT service_id, pool_pointer FROM allocation_state ORDER BY service_id',
      );
      expect(
        Object.fromEntries(state.rows.map((row) => [row.service_id, row.pool_pointer])),
        label,
      ).toEqual(Object.fromEntries([...model.services].map(([id, service]) => [id, service.p])));
      const providers = (await (await fetch(`${app.url}/api/providers`)).json()) as {
        id: number;
        capUsage: Record<'hour' | 'day' | 'week' | 'month', number>;
      }[];
      for (const provider of providers.filter((candidate) => candidate.id <= 6)) {
        const at = new Date(now);
        expect(provider.capUsage, `${label}: caps of ${provider.id}`).toEqual({
          hour: model.capCount(provider.id, 'hour', at),
          day: model.capCount(provider.id, 'day', at),
          week: model.capCount(provider.id, 'week', at),
          month: model.capCount(provider.id, 'month', at),
        });
      }
    };

    let lastBacklogAttempt = 0;
    for (const [index, step] of scenario.steps.entries()) {
      const label = `step ${index} (${step.kind})`;
      if (step.kind === 'reset') {
        const reset = await post(`${app.url}/api/webhook/reset-quota`, { eventId: `r-${index}` });
        expect(reset.status, label).toBe(200);
        model.resetAll(quotas);
      } else if (step.kind === 'drain') {
        now += step.advanceMinutes * 60_000;
        await app.app.leadflow.backlog.drain();
        const expected = model.drainBacklog(new Date(now)).sort();
        if (expected.length > 0) saw('from_backlog');
        const { rows } = await db.pool.query<{ id: string; attempt: string }>(
          `SELECT a.lead_id AS id, a.id AS attempt FROM allocation_attempts a
            WHERE a.from_backlog AND a.outcome = 'allocated' AND a.id > $1
            ORDER BY 1`,
          [lastBacklogAttempt],
        );
        lastBacklogAttempt = rows.reduce(
          (last, row) => Math.max(last, Number(row.attempt)),
          lastBacklogAttempt,
        );
        expect(
          rows.map((row) => row.id),
          label,
        ).toEqual(expected);
      } else {
        now += step.advanceMinutes * 60_000;
        const fields: Record<string, string | null> = {
          email: step.email,
          phone: step.phone,
          country: step.country,
        };
        const extra = step.score === null ? {} : { score: step.score };
        const body: Record<string, unknown> = { serviceId: step.service, ...extra };
        for (const [name, value] of Object.entries(fields)) if (value !== null) body[name] = value;
        const actual = await post(`${app.url}/api/request-service`, body);
        const lead: ModelLead = { id: actual.body.lead_id as string, fields, extra };
        const expected = model.allocateLead(step.service, lead, new Date(now));
        saw(expected.status);
        if (expected.status === 'unallocated')
          for (const skip of expected.skipped) saw(skip.reason);
        if (expected.status === 'allocated') {
          expect(actual.status, label).toBe(201);
          expect(
            (actual.body.providers as { id: number; role: string }[]).map(
              (provider) => `${provider.id}:${provider.role}`,
            ),
            label,
          ).toEqual(expected.taken);
        } else if (expected.status === 'duplicate') {
          expect(actual.body, label).toMatchObject({
            ok: false,
            error: 'duplicate_lead',
            duplicate_of: expected.of,
          });
        } else {
          expect(actual.status, label).toBe(409);
          expect(actual.body, label).toMatchObject({
            error: 'insufficient_quota',
            skipped: expected.skipped,
          });
        }
      }
      await compareState(label);
    }
  } finally {
    await app.close();
    await db.drop();
  }
}

describe('routing rules against the reference model (SPEC §10)', () => {
  it('answers, quotas, pointers and cap counts match step by step', async () => {
    await fc.assert(fc.asyncProperty(scenarioArbitrary, runScenario), {
      numRuns: Number(process.env.RULES_MODEL_RUNS ?? 12),
      interruptAfterTimeLimit: 150_000,
    });
    for (const what of ['allocated', 'unallocated', 'no_quota', 'filter', 'outside_schedule']) {
      expect(seen.get(what), `runs never saw ${what}`).toBeGreaterThan(0);
    }
    expect(
      ['cap_hour', 'cap_day', 'cap_week', 'cap_month'].some((cap) => seen.has(cap)),
      'runs never hit a cap',
    ).toBe(true);
  }, 200_000);
});
