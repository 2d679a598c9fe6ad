import { QueryClient } from '@tanstack/react-query';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  LeadDetail,
  LiveEvent,
  ProviderView,
  Service,
  Stats,
} from '../../src/contracts/index.js';
import { withEventsDuring } from '../../web/src/api/events.js';
import { leadQuery } from '../../web/src/api/leads.js';
import { providersAfterEvent, providersQuery } from '../../web/src/api/providers.js';
import { servicesQuery } from '../../web/src/api/services.js';
import { statsQuery } from '../../web/src/api/stats.js';
import { logFromSnapshot, type LogEntry } from '../../web/src/pages/dashboard/dashboardState.js';
import { allocationLogQuery, applyLiveEvent } from '../../web/src/pages/dashboard/liveCache.js';

/** The dashboard's cache without a browser: the updaters are pure, the client is plain data. */

const AT = '2025-01-01T10:00:00.000Z';
const PROVIDERS: ProviderView[] = [1, 2, 3, 4].map((id) => ({
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
  deliveryState: 'none',
  delivery: null,
  capUsage: { hour: 0, day: 0, week: 0, month: 0 },
  capped: false,
  openNow: true,
}));
const SERVICES: Service[] = [
  {
    id: 1,
    slug: 'one',
    name: 'Service 1',
    providersPerLead: 3,
    static: [1],
    pool: [2, 3, 4],
    pointer: 0,
    archivedAt: null,
    dedupe: null,
    backlogHours: 24,
    backlog: 0,
  },
];
const STATS: Stats = {
  leads: {},
  leadsToday: 0,
  raw: {},
  allocations: 0,
  rates: { leadsPerSecond: 0, allocationsPerSecond: 0, windowSeconds: 60 },
};

function leadId(n: number): string {
  return `0198a000-0000-7000-8000-${String(n).padStart(12, '0')}`;
}

function allocated(id: number, remaining: Record<number, number>, pointer = 0): LiveEvent {
  return {
    id,
    type: 'lead.allocated',
    data: {
      leadId: leadId(id),
      serviceId: 1,
      pointer,
      at: AT,
      providers: Object.entries(remaining).map(([providerId, remainingQuota], index) => ({
        id: Number(providerId),
        name: `P${providerId}`,
        role: index === 0 ? 'static' : 'pool',
        remainingQuota,
      })),
    },
  };
}

function loadedClient(): QueryClient {
  const client = new QueryClient();
  client.setQueryData(providersQuery.queryKey, PROVIDERS);
  client.setQueryData(servicesQuery.queryKey, SERVICES);
  client.setQueryData(statsQuery.queryKey, STATS);
  client.setQueryData(allocationLogQuery.queryKey, [] as LogEntry[]);
  return client;
}

function remaining(client: QueryClient): Record<number, number> {
  return Object.fromEntries(
    client.getQueryData(providersQuery.queryKey)!.map((p) => [p.id, p.remainingQuota]),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('applyLiveEvent', () => {
  it('moves the bars, the pointer, the counter and the log for an allocation', () => {
    const client = loadedClient();
    applyLiveEvent(client, allocated(7, { 1: 9, 3: 4, 4: 6 }, 2));
    expect(remaining(client)).toEqual({ 1: 9, 2: 10, 3: 4, 4: 6 });
    expect(client.getQueryData(servicesQuery.queryKey)![0]!.pointer).toBe(2);
    expect(client.getQueryData(statsQuery.queryKey)!.leads.allocated).toBe(1);
    expect(client.getQueryData(allocationLogQuery.queryKey)).toEqual([
      {
        leadId: leadId(7),
        serviceId: 1,
        at: AT,
        outcome: 'allocated',
        providers: [
          { id: 1, name: 'P1', role: 'static' },
          { id: 3, name: 'P3', role: 'pool' },
          { id: 4, name: 'P4', role: 'pool' },
        ],
        live: true,
      },
    ]);
  });

  it('leaves queries that have not loaded alone', () => {
    const client = new QueryClient();
    applyLiveEvent(client, allocated(1, { 1: 9 }));
    expect(client.getQueryData(providersQuery.queryKey)).toBeUndefined();
    expect(client.getQueryData(allocationLogQuery.queryKey)).toBeUndefined();
  });

  const events = fc
    .array(
      fc.oneof(
        fc.record({
          kind: fc.constant('allocated' as const),
          remaining: fc.dictionary(
            fc.constantFrom('1', '2', '3', '4'),
            fc.integer({ min: 0, max: 10 }),
            { minKeys: 1 },
          ),
          pointer: fc.integer({ min: 0, max: 2 }),
        }),
        fc.record({ kind: fc.constant('unallocated' as const) }),
        fc.record({ kind: fc.constant('created' as const) }),
      ),
      { maxLength: 40 },
    )
    .map((drawn) =>
      drawn.map((event, index): LiveEvent => {
        const id = index + 1;
        if (event.kind === 'allocated') {
          const byId = Object.fromEntries(
            Object.entries(event.remaining).map(([key, value]) => [Number(key), value]),
          );
          return allocated(id, byId, event.pointer);
        }
        if (event.kind === 'unallocated') {
          return {
            id,
            type: 'lead.unallocated',
            data: { leadId: leadId(id), serviceId: 1, reason: 'insufficient_quota', at: AT },
          };
        }
        return {
          id,
          type: 'lead.created',
          data: { leadId: leadId(id), endpoint: '/api/lead', serviceId: 1, at: AT },
        };
      }),
    );

  it('shows what the last event said of each provider, never below zero', () => {
    fc.assert(
      fc.property(events, (sequence) => {
        const client = loadedClient();
        const expected: Record<number, number> = { 1: 10, 2: 10, 3: 10, 4: 10 };
        for (const event of sequence) {
          applyLiveEvent(client, event);
          if (event.type === 'lead.allocated') {
            for (const provider of event.data.providers) {
              expected[provider.id] = provider.remainingQuota;
            }
          }
        }
        expect(remaining(client)).toEqual(expected);
        expect(Object.values(remaining(client)).every((value) => value >= 0)).toBe(true);
      }),
    );
  });

  it('counts every event once, however often it is delivered', () => {
    fc.assert(
      fc.property(events, fc.array(fc.nat()), (sequence, repeats) => {
        const once = loadedClient();
        for (const event of sequence) applyLiveEvent(once, event);

        const repeated = loadedClient();
        sequence.forEach((event, index) => {
          applyLiveEvent(repeated, event);
          // Again, and an earlier one again: a resume that overlaps what was seen.
          applyLiveEvent(repeated, event);
          const earlier = sequence[(repeats[index] ?? 0) % (index + 1)]!;
          applyLiveEvent(repeated, earlier);
        });

        for (const query of [providersQuery, servicesQuery, statsQuery, allocationLogQuery]) {
          expect(repeated.getQueryData(query.queryKey)).toEqual(once.getQueryData(query.queryKey));
        }
        const stats = once.getQueryData(statsQuery.queryKey)!;
        const count = (type: LiveEvent['type']) =>
          sequence.filter((event) => event.type === type).length;
        expect(stats.leads.allocated ?? 0).toBe(count('lead.allocated'));
        expect(stats.leads.unallocated ?? 0).toBe(count('lead.unallocated'));
        expect(stats.leadsToday).toBe(count('lead.created'));
      }),
    );
  });

  it('keeps at most 100 log rows, newest first', () => {
    const client = loadedClient();
    for (let id = 1; id <= 120; id++) {
      applyLiveEvent(client, {
        ...allocated(id, { 1: 5 }),
        data: { ...allocated(id, { 1: 5 }).data, at: new Date(Date.parse(AT) + id).toISOString() },
      } as LiveEvent);
    }
    const log = client.getQueryData(allocationLogQuery.queryKey)!;
    expect(log).toHaveLength(100);
    expect(log[0]!.leadId).toBe(leadId(120));
    expect(log.at(-1)!.leadId).toBe(leadId(21));
  });
});

describe('an answer that predates events which arrived while it loaded', () => {
  it('gets those events applied over it', async () => {
    const client = loadedClient();
    applyLiveEvent(client, allocated(1, { 1: 9 }));
    let answer!: (providers: ProviderView[]) => void;
    const loading = withEventsDuring(
      client,
      () => new Promise<ProviderView[]>((resolve) => (answer = resolve)),
      providersAfterEvent,
    );
    applyLiveEvent(client, allocated(2, { 1: 8, 2: 9 }));
    answer(PROVIDERS.map((p) => (p.id === 1 ? { ...p, remainingQuota: 9 } : p)));
    const providers = await loading;
    expect(providers.find((p) => p.id === 1)!.remainingQuota).toBe(8);
    expect(providers.find((p) => p.id === 2)!.remainingQuota).toBe(9);
  });

  it('does so for the providers query, so a refetch cannot roll the bars back', async () => {
    const client = loadedClient();
    let answer!: (response: Response) => void;
    vi.stubGlobal('fetch', () => new Promise<Response>((resolve) => (answer = resolve)));
    const refetch = client.fetchQuery({ ...providersQuery, staleTime: 0 });
    await vi.waitFor(() => expect(answer).toBeDefined());
    applyLiveEvent(client, allocated(1, { 1: 3 }));
    answer(new Response(JSON.stringify(PROVIDERS), { status: 200 }));
    await refetch;
    expect(remaining(client)[1]).toBe(3);
  });
});

describe('logFromSnapshot', () => {
  it('groups rows by lead in pick order, and lists refused leads among them by time', () => {
    const row = (lead: number, provider: number, role: 'static' | 'pool', at: string) => ({
      leadId: leadId(lead),
      serviceId: 1,
      providerId: provider,
      providerName: `P${provider}`,
      role,
      allocatedAt: at,
    });
    const log = logFromSnapshot(
      [
        row(2, 3, 'pool', '2025-01-01T10:00:03.000Z'),
        row(2, 1, 'static', '2025-01-01T10:00:03.000Z'),
        row(1, 2, 'pool', '2025-01-01T10:00:01.000Z'),
      ],
      [
        {
          id: leadId(9),
          status: 'unallocated',
          serviceId: 1,
          email: null,
          phone: null,
          firstName: null,
          lastName: null,
          country: null,
          idempotencyKey: null,
          createdAt: '2025-01-01T10:00:02.000Z',
        },
      ],
    );
    expect(log.map((entry) => [entry.leadId, entry.outcome])).toEqual([
      [leadId(2), 'allocated'],
      [leadId(9), 'unallocated'],
      [leadId(1), 'allocated'],
    ]);
    expect(log[0]!.providers.map((provider) => provider.role)).toEqual(['static', 'pool']);
    expect(log.every((entry) => !entry.live)).toBe(true);
  });
});

describe('delivery events', () => {
  it("flip a provider's delivery state, keep its endpoint through provider.updated, and settle a lead's delivery", () => {
    const client = loadedClient();
    client.setQueryData(
      providersQuery.queryKey,
      PROVIDERS.map((p) => (p.id === 1 ? { ...p, deliveryState: 'ok' as const } : p)),
    );
    applyLiveEvent(client, {
      id: 1,
      type: 'provider.delivery_paused',
      data: { providerId: 1, consecutiveFailures: 10, at: AT },
    });
    // A provider without an endpoint has nothing to pause.
    applyLiveEvent(client, {
      id: 2,
      type: 'provider.delivery_paused',
      data: { providerId: 2, consecutiveFailures: 10, at: AT },
    });
    const states = () => client.getQueryData(providersQuery.queryKey)!.map((p) => p.deliveryState);
    expect(states()).toEqual(['paused', 'none', 'none', 'none']);
    applyLiveEvent(client, {
      id: 3,
      type: 'provider.updated',
      data: {
        provider: { ...PROVIDERS[0]!, name: 'Renamed' },
        change: 'updated',
        deliveryState: 'paused',
        at: AT,
      },
    });
    expect(client.getQueryData(providersQuery.queryKey)![0]).toMatchObject({
      name: 'Renamed',
      deliveryState: 'paused',
    });
    // Another tab set provider 2's endpoint: the event says so, the list shows it at once.
    applyLiveEvent(client, {
      id: 4,
      type: 'provider.updated',
      data: { provider: PROVIDERS[1]!, change: 'updated', deliveryState: 'ok', at: AT },
    });
    expect(states()).toEqual(['paused', 'ok', 'none', 'none']);
    applyLiveEvent(client, {
      id: 5,
      type: 'provider.delivery_resumed',
      data: { providerId: 1, at: AT },
    });
    expect(states()).toEqual(['ok', 'ok', 'none', 'none']);

    const lead = leadId(5);
    const delivery = {
      id: '0198a000-0000-7000-8000-00000000d001',
      leadId: lead,
      providerId: 1,
      status: 'pending' as const,
      attempts: 1,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: AT,
      deliveredAt: null,
      createdAt: AT,
    };
    client.setQueryData(leadQuery(lead).queryKey, {
      deliveries: [delivery],
    } as unknown as LeadDetail);
    applyLiveEvent(client, {
      id: 6,
      type: 'delivery.succeeded',
      data: {
        deliveryId: delivery.id,
        leadId: lead,
        providerId: 1,
        attempts: 2,
        statusCode: 200,
        error: null,
        at: AT,
      },
    });
    expect(client.getQueryData(leadQuery(lead).queryKey)!.deliveries[0]).toEqual({
      ...delivery,
      status: 'delivered',
      attempts: 2,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: AT,
    });
  });
});
