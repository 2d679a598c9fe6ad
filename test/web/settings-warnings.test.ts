import { describe, expect, it } from 'vitest';
import type { Provider, Service } from '../../src/contracts/index.js';
import {
  providerWarning,
  servicesUsing,
  serviceWarning,
} from '../../web/src/pages/settings/warnings.js';

const provider = (id: number, changes: Partial<Provider> = {}): Provider => ({
  id,
  name: `P${id}`,
  quota: 10,
  remainingQuota: 10,
  active: true,
  archivedAt: null,
  timezone: 'UTC',
  caps: {},
  schedule: [],
  filters: [],
  ...changes,
});

const service = (changes: Partial<Service>): Service => ({
  id: 1,
  slug: 'one',
  name: 'One',
  providersPerLead: 3,
  static: [],
  pool: [],
  pointer: 0,
  archivedAt: null,
  dedupe: null,
  backlogHours: 24,
  backlog: 0,
  ...changes,
});

describe('settings warnings', () => {
  it('tells an inactive provider from one out of quota', () => {
    expect(providerWarning(provider(1))).toBeNull();
    expect(providerWarning(provider(1, { active: false, remainingQuota: 0 }))).toMatch(/^Inactive/);
    expect(providerWarning(provider(1, { remainingQuota: 0 }))).toMatch(/^Out of quota/);
  });

  it('says a service can never fill with fewer members than N, and cannot now with fewer able ones', () => {
    const providers = [provider(1), provider(2, { remainingQuota: 0 }), provider(3)];
    expect(serviceWarning(service({ static: [1], pool: [3] }), providers)).toMatch(
      /^Can never fill a lead: 2 providers for 3 per lead/,
    );
    expect(serviceWarning(service({ static: [1], pool: [2, 3] }), providers)).toMatch(
      /^Cannot fill a lead now: only 2 of its 3 providers/,
    );
    // An archived member is missing from the live list: it can never take a lead again.
    expect(serviceWarning(service({ static: [1], pool: [3, 9] }), providers)).toMatch(
      /^Can never fill a lead: 2 providers for 3 per lead/,
    );
    expect(serviceWarning(service({ providersPerLead: 2, pool: [1, 3] }), providers)).toBeNull();
  });

  it('names the services a provider is in, static or pool', () => {
    const services = [
      service({ id: 1, static: [4] }),
      service({ id: 2, pool: [5, 4] }),
      service({ id: 3, pool: [5] }),
    ];
    expect(servicesUsing(4, services).map((found) => found.id)).toEqual([1, 2]);
  });
});
