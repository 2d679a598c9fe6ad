import type {
  AllocationRow,
  LeadSummary,
  LiveEvent,
  PickedProvider,
  Provider,
  Service,
  Stats,
} from '../../../../src/contracts/index.js';

export interface LogEntry {
  leadId: string;
  serviceId: number | null;
  at: string;
  outcome: 'allocated' | 'unallocated';
  providers: PickedProvider[];
  /** Arrived over the stream while watching (slides in), rather than with a snapshot. */
  live: boolean;
}

export interface DashboardState {
  providers: Provider[] | undefined;
  services: Service[] | undefined;
  stats: Stats | undefined;
  log: LogEntry[];
}

export type DashboardAction =
  | { type: 'snapshot'; providers: Provider[]; services: Service[]; log: LogEntry[] }
  | { type: 'stats'; stats: Stats }
  /** `replayed`: re-applied over a newer snapshot, so counters must not count it twice. */
  | { type: 'event'; event: LiveEvent; replayed?: boolean };

const LOG_LIMIT = 100;

export const initialDashboardState: DashboardState = {
  providers: undefined,
  services: undefined,
  stats: undefined,
  log: [],
};

/**
 * Allocation rows come newest first, one per provider; a lead's rows are consecutive and in
 * reverse pick order, so grouping and reversing each group restores "static first, then pool
 * in round-robin order", as the lead got them.
 */
export function logFromSnapshot(rows: AllocationRow[], unallocated: LeadSummary[]): LogEntry[] {
  const byLead = new Map<string, LogEntry>();
  for (const row of rows) {
    let entry = byLead.get(row.leadId);
    if (!entry) {
      entry = {
        leadId: row.leadId,
        serviceId: row.serviceId,
        at: row.allocatedAt,
        outcome: 'allocated',
        providers: [],
        live: false,
      };
      byLead.set(row.leadId, entry);
    }
    entry.providers.unshift({ id: row.providerId, name: row.providerName, role: row.role });
  }
  const refused: LogEntry[] = unallocated.map((lead) => ({
    leadId: lead.id,
    serviceId: lead.serviceId,
    at: lead.createdAt,
    outcome: 'unallocated',
    providers: [],
    live: false,
  }));
  return [...byLead.values(), ...refused]
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, LOG_LIMIT);
}

/**
 * Keeps entries already shown (so they do not slide in again) and adds the rest, newest
 * first. `incoming` is newest first too. Leads allocated in one transaction share a
 * timestamp, so ties keep arrival order reversed: the stable sort leaves new ones in front.
 */
function mergeLog(current: LogEntry[], incoming: LogEntry[]): LogEntry[] {
  const known = new Map(current.map((entry) => [entry.leadId, entry]));
  const fresh: LogEntry[] = [];
  const replaced = new Set<LogEntry>();
  for (const entry of incoming) {
    const existing = known.get(entry.leadId);
    if (existing && existing.outcome === entry.outcome) continue;
    if (existing) replaced.add(existing);
    fresh.push(entry);
    known.set(entry.leadId, entry);
  }
  if (fresh.length === 0) return current;
  return [...fresh, ...current.filter((entry) => !replaced.has(entry))]
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, LOG_LIMIT);
}

function bump(stats: Stats | undefined, change: (stats: Stats) => Stats): Stats | undefined {
  return stats && change(stats);
}

function withRemaining(
  providers: Provider[] | undefined,
  updates: { id: number; remainingQuota: number; quota?: number }[],
): Provider[] | undefined {
  if (!providers) return providers;
  const byId = new Map(updates.map((update) => [update.id, update]));
  return providers.map((provider) => {
    const update = byId.get(provider.id);
    return update
      ? {
          ...provider,
          remainingQuota: update.remainingQuota,
          quota: update.quota ?? provider.quota,
        }
      : provider;
  });
}

function upsert<T extends { id: number }>(items: T[] | undefined, item: T): T[] | undefined {
  if (!items) return items;
  return items.some((existing) => existing.id === item.id)
    ? items.map((existing) => (existing.id === item.id ? item : existing))
    : [...items, item].sort((a, b) => a.id - b.id);
}

function applyEvent(state: DashboardState, event: LiveEvent, replayed: boolean): DashboardState {
  const count = !replayed;
  switch (event.type) {
    case 'lead.created':
      return {
        ...state,
        stats: count
          ? bump(state.stats, (stats) => ({ ...stats, leadsToday: stats.leadsToday + 1 }))
          : state.stats,
      };
    case 'lead.allocated': {
      const { data } = event;
      return {
        ...state,
        providers: withRemaining(state.providers, data.providers),
        services: state.services?.map((service) =>
          service.id === data.serviceId ? { ...service, pointer: data.pointer } : service,
        ),
        stats: count
          ? bump(state.stats, (stats) => ({
              ...stats,
              leads: { ...stats.leads, allocated: (stats.leads.allocated ?? 0) + 1 },
            }))
          : state.stats,
        log: mergeLog(state.log, [
          {
            leadId: data.leadId,
            serviceId: data.serviceId,
            at: data.at,
            outcome: 'allocated',
            providers: data.providers.map(({ id, name, role }) => ({ id, name, role })),
            live: true,
          },
        ]),
      };
    }
    case 'lead.unallocated': {
      const { data } = event;
      return {
        ...state,
        stats: count
          ? bump(state.stats, (stats) => ({
              ...stats,
              leads: { ...stats.leads, unallocated: (stats.leads.unallocated ?? 0) + 1 },
            }))
          : state.stats,
        log: mergeLog(state.log, [
          {
            leadId: data.leadId,
            serviceId: data.serviceId,
            at: data.at,
            outcome: 'unallocated',
            providers: [],
            live: true,
          },
        ]),
      };
    }
    case 'quota.reset':
      return { ...state, providers: withRemaining(state.providers, event.data.providers) };
    case 'provider.updated':
      return { ...state, providers: upsert(state.providers, event.data.provider) };
    case 'service.updated':
      return { ...state, services: upsert(state.services, event.data.service) };
  }
}

export function dashboardReducer(state: DashboardState, action: DashboardAction): DashboardState {
  switch (action.type) {
    case 'snapshot':
      return {
        ...state,
        providers: action.providers,
        services: action.services,
        log: mergeLog(state.log, action.log),
      };
    case 'stats':
      return { ...state, stats: action.stats };
    case 'event':
      return applyEvent(state, action.event, action.replayed ?? false);
  }
}
