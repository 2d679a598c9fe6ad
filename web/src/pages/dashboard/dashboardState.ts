import type {
  AllocationRow,
  LeadSummary,
  LiveEvent,
  PickedProvider,
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

const LOG_LIMIT = 100;

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
export function mergeLog(current: LogEntry[], incoming: LogEntry[]): LogEntry[] {
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

/** Lead events add a row (sliding in); the others leave the log as it is. */
export function logAfterEvent(log: LogEntry[], event: LiveEvent): LogEntry[] {
  switch (event.type) {
    case 'lead.allocated': {
      const { data } = event;
      return mergeLog(log, [
        {
          leadId: data.leadId,
          serviceId: data.serviceId,
          at: data.at,
          outcome: 'allocated',
          providers: data.providers.map(({ id, name, role }) => ({ id, name, role })),
          live: true,
        },
      ]);
    }
    case 'lead.unallocated': {
      const { data } = event;
      return mergeLog(log, [
        {
          leadId: data.leadId,
          serviceId: data.serviceId,
          at: data.at,
          outcome: 'unallocated',
          providers: [],
          live: true,
        },
      ]);
    }
    default:
      return log;
  }
}
