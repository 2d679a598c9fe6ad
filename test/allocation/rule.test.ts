/**
 * SPEC §3 without PostgreSQL: pickProviders, driven the way the service drives it (apply the
 * decrements and the pointer, then the next lead), against the independent reference model and
 * against the rule's own invariants, over generated topologies and request streams.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickProviders, type ProviderQuota, type Topology } from '../../src/allocation/rule.js';
import { ReferenceModel } from './reference-model.js';

interface GeneratedService {
  n: number;
  statics: number[];
  pool: number[];
}

/**
 * A lead for a service (an index, taken modulo the service count), or something an operator or
 * billing does between leads. Without resets and switches, a service whose statics once ran
 * short could never again be served by statics alone with a moved pointer.
 */
type Event =
  { kind: 'lead'; service: number } | { kind: 'reset' } | { kind: 'switch'; provider: number };

interface Scenario {
  providers: { quota: number; active: boolean }[];
  services: GeneratedService[];
  events: Event[];
}

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('lead'), service: fc.nat() }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant('reset') }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('switch'), provider: fc.nat() }), weight: 2 },
);

// Few providers shared by up to three services, so lists overlap (as P1 does in services 1
// and 3 of the demo) and quotas of 0–5 run out within a stream: refusals and wraps are common.
const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .integer({ min: 1, max: 8 })
  .chain((providerCount) => {
    const id = fc.integer({ min: 1, max: providerCount });
    return fc.record({
      providers: fc.array(
        fc.record({
          quota: fc.integer({ min: 0, max: 5 }),
          active: fc.oneof(
            { arbitrary: fc.constant(true), weight: 4 },
            { arbitrary: fc.constant(false), weight: 1 },
          ),
        }),
        { minLength: providerCount, maxLength: providerCount },
      ),
      services: fc.array(
        fc.record({
          n: fc.integer({ min: 1, max: Math.min(5, providerCount) }),
          statics: fc.uniqueArray(id, { maxLength: 4 }),
          pool: fc.uniqueArray(id, { maxLength: providerCount, size: 'max' }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      events: fc.array(eventArbitrary, { maxLength: 60, size: 'medium' }),
    });
  });

const serviceIdOf = (index: number): number => index + 1;
const providerIdOf = (index: number): number => index + 1;

function topologyOf(service: GeneratedService): Topology {
  return { providersPerLead: service.n, staticIds: service.statics, poolIds: service.pool };
}

function initialQuotas(scenario: Scenario): Map<number, ProviderQuota> {
  return new Map(
    scenario.providers.map((provider, index) => [
      providerIdOf(index),
      { id: providerIdOf(index), remainingQuota: provider.quota, active: provider.active },
    ]),
  );
}

function modelOf(scenario: Scenario): ReferenceModel {
  const model = new ReferenceModel(
    Object.fromEntries(scenario.providers.map((p, index) => [providerIdOf(index), p.quota])),
    Object.fromEntries(scenario.services.map((s, index) => [serviceIdOf(index), s])),
  );
  scenario.providers.forEach((p, index) => {
    if (!p.active) model.inactive.add(providerIdOf(index));
  });
  return model;
}

/** The rule's state as the service keeps it between leads: quotas and one pointer per service. */
class RuleState {
  readonly pointers: Map<number, number>;

  constructor(
    readonly quotas: Map<number, ProviderQuota>,
    serviceCount: number,
  ) {
    this.pointers = new Map(Array.from({ length: serviceCount }, (_, i) => [serviceIdOf(i), 0]));
  }

  step(serviceId: number, topology: Topology) {
    const pick = pickProviders(topology, this.quotas, this.pointers.get(serviceId)!);
    if (pick === null) return null;
    for (const { id } of pick.providers) {
      const quota = this.quotas.get(id)!;
      this.quotas.set(id, { ...quota, remainingQuota: quota.remainingQuota - 1 });
    }
    this.pointers.set(serviceId, pick.pointer);
    return pick;
  }

  /** The quota-reset webhook: every provider back to its full quota. */
  reset(scenario: Scenario): void {
    scenario.providers.forEach((provider, index) => {
      const quota = this.quotas.get(providerIdOf(index))!;
      this.quotas.set(quota.id, { ...quota, remainingQuota: provider.quota });
    });
  }

  switch(id: number): void {
    const quota = this.quotas.get(id)!;
    this.quotas.set(id, { ...quota, active: !quota.active });
  }

  remaining(): Map<number, number> {
    return new Map([...this.quotas].map(([id, quota]) => [id, quota.remainingQuota]));
  }
}

/** Applies the non-lead events to both sides; returns the service index of a lead. */
function leadOrApply(
  scenario: Scenario,
  event: Event,
  state: RuleState,
  model?: ReferenceModel,
): number | null {
  if (event.kind === 'lead') return event.service % scenario.services.length;
  if (event.kind === 'reset') {
    state.reset(scenario);
    model?.resetAll(
      Object.fromEntries(scenario.providers.map((p, index) => [providerIdOf(index), p.quota])),
    );
  } else {
    const id = providerIdOf(event.provider % scenario.providers.length);
    state.switch(id);
    if (model?.inactive.has(id)) model.inactive.delete(id);
    else model?.inactive.add(id);
  }
  return null;
}

describe('allocation rule (SPEC §3, no database)', () => {
  it('agrees with the reference model on every pick, quota and pointer of a request stream', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const state = new RuleState(initialQuotas(scenario), scenario.services.length);
        const model = modelOf(scenario);
        for (const event of scenario.events) {
          const index = leadOrApply(scenario, event, state, model);
          if (index === null) continue;
          const serviceId = serviceIdOf(index);
          const pick = state.step(serviceId, topologyOf(scenario.services[index]!));
          const expected = model.allocate(serviceId);
          expect(pick?.providers.map(({ id, role }) => `${id}:${role}`) ?? null).toEqual(expected);
          expect(state.remaining()).toEqual(model.remaining);
          expect(state.pointers).toEqual(
            new Map([...model.services].map(([id, service]) => [id, service.p])),
          );
        }
      }),
      { numRuns: 250 },
    );
  });

  it('keeps the invariants of §3 at every step, and the stream exercises refusals and wraps', () => {
    const seen = {
      allocated: 0,
      refused: 0,
      wrapped: 0,
      staticAndPool: 0,
      skippedInPool: 0,
      staticsOnlyAfterPointerMoved: 0,
    };
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const state = new RuleState(initialQuotas(scenario), scenario.services.length);
        let allocatedProviders = 0;
        let initialTotal = sum(state.remaining().values());
        for (const event of scenario.events) {
          if (event.kind === 'reset') {
            // The decrement count restarts with the quotas.
            expect(initialTotal - sum(state.remaining().values())).toBe(allocatedProviders);
            allocatedProviders = 0;
          }
          const index = leadOrApply(scenario, event, state);
          if (event.kind === 'reset') initialTotal = sum(state.remaining().values());
          if (index === null) continue;
          const serviceId = serviceIdOf(index);
          const service = scenario.services[index]!;
          const before = state.remaining();
          const pointerBefore = state.pointers.get(serviceId)!;
          const usable = (id: number): boolean =>
            state.quotas.get(id)!.active && before.get(id)! > 0;

          const pick = state.step(serviceId, topologyOf(service));

          const candidates = new Set([...service.statics, ...service.pool].filter(usable));
          // All or nothing: refused exactly when fewer than N distinct providers could take it.
          expect(pick === null).toBe(candidates.size < service.n);
          if (pick === null) {
            seen.refused++;
            expect(state.remaining()).toEqual(before);
            expect(state.pointers.get(serviceId)).toBe(pointerBefore);
            continue;
          }
          seen.allocated++;
          allocatedProviders += service.n;
          const ids = pick.providers.map((p) => p.id);
          expect(new Set(ids).size).toBe(service.n);
          for (const id of ids) expect(usable(id)).toBe(true);

          // Statics come first, in list order, as many as usable (at most N).
          const statics = pick.providers.filter((p) => p.role === 'static').map((p) => p.id);
          expect(statics).toEqual(service.statics.filter(usable).slice(0, service.n));
          expect(ids.slice(0, statics.length)).toEqual(statics);

          // Pool picks follow the pool from the pointer, wrapping, and skip only providers that
          // could not take the lead or were already taken as statics.
          const poolPicks = ids.slice(statics.length);
          const size = service.pool.length;
          const offsets = poolPicks.map(
            (id) => (service.pool.indexOf(id) - pointerBefore + size) % size,
          );
          for (let i = 1; i < offsets.length; i++)
            expect(offsets[i]).toBeGreaterThan(offsets[i - 1]!);
          const lastOffset = offsets.at(-1) ?? -1;
          for (let offset = 0; offset < lastOffset; offset++) {
            const id = service.pool[(pointerBefore + offset) % size]!;
            if (!poolPicks.includes(id)) {
              expect(!usable(id) || statics.includes(id)).toBe(true);
              seen.skippedInPool++;
            }
          }
          if (poolPicks.length === 0) {
            expect(state.pointers.get(serviceId)).toBe(pointerBefore);
            if (pointerBefore !== 0) seen.staticsOnlyAfterPointerMoved++;
          } else {
            const lastIndex = service.pool.indexOf(poolPicks.at(-1)!);
            expect(state.pointers.get(serviceId)).toBe((lastIndex + 1) % size);
            if (lastIndex < pointerBefore) seen.wrapped++;
            if (statics.length > 0) seen.staticAndPool++;
          }

          for (const remaining of state.remaining().values()) {
            expect(remaining).toBeGreaterThanOrEqual(0);
          }
          for (const [id, remaining] of state.remaining()) {
            expect(before.get(id)! - remaining).toBe(ids.includes(id) ? 1 : 0);
          }
        }
        expect(initialTotal - sum(state.remaining().values())).toBe(allocatedProviders);
      }),
      { numRuns: 250 },
    );
    // A generator that never refused or wrapped would make the properties above vacuous.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
  });

  it('plays the worked example of §3: service 1 of the demo until lead 14 is refused', () => {
    const topology: Topology = { providersPerLead: 3, staticIds: [1], poolIds: [2, 3, 4] };
    const quotas = new Map(
      [1, 2, 3, 4].map((id) => [id, { id, remainingQuota: 10, active: true }] as const),
    );
    const state = new RuleState(quotas, 1);
    const lead = () => {
      const pick = state.step(1, topology);
      return pick && { ids: pick.providers.map((p) => p.id), pointer: pick.pointer };
    };

    expect(lead()).toEqual({ ids: [1, 2, 3], pointer: 2 });
    expect(lead()).toEqual({ ids: [1, 4, 2], pointer: 1 });
    expect(lead()).toEqual({ ids: [1, 3, 4], pointer: 0 });
    for (let n = 4; n <= 10; n++) expect(lead()?.ids[0]).toBe(1);
    expect(state.quotas.get(1)!.remainingQuota).toBe(0);
    for (let n = 11; n <= 13; n++) {
      const pick = pickProviders(topology, state.quotas, state.pointers.get(1)!);
      expect(pick?.providers.map((p) => p.role)).toEqual(['pool', 'pool', 'pool']);
      state.step(1, topology);
    }
    expect(sum(state.remaining().values())).toBe(1);

    const before = { remaining: state.remaining(), pointer: state.pointers.get(1) };
    expect(lead()).toBeNull();
    expect({ remaining: state.remaining(), pointer: state.pointers.get(1) }).toEqual(before);
  });
});

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
