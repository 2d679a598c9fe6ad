import { queryOptions, type QueryClient } from '@tanstack/react-query';
import type { LiveEvent } from '../../../../src/contracts/index.js';
import { allocationsQuery } from '../../api/allocations.js';
import { deliveryStatsQuery, leadAfterEvent, refreshDeliveries } from '../../api/deliveries.js';
import { recordEvent, withEventsDuring } from '../../api/events.js';
import { leadQuery, leadsQuery } from '../../api/leads.js';
import { providersAfterEvent, providersQuery } from '../../api/providers.js';
import { servicesAfterEvent, servicesQuery } from '../../api/services.js';
import { statsAfterEvent, statsQuery } from '../../api/stats.js';
import { logAfterEvent, logFromSnapshot, mergeLog, type LogEntry } from './dashboardState.js';

const LOG_SNAPSHOT_ROWS = 300;
const LOG_SNAPSHOT_UNALLOCATED = 50;
// Under 'allocations', so whatever invalidates the allocations invalidates the log too.
const ALLOCATION_LOG_KEY = ['allocations', 'log'] as const;

/**
 * Allocations and refused leads as one log, newest first. Merged into what is shown, so rows
 * that already slid in do not slide in again.
 */
export const allocationLogQuery = queryOptions({
  queryKey: ALLOCATION_LOG_KEY,
  queryFn: async ({ client }): Promise<LogEntry[]> => {
    const snapshot = await withEventsDuring(
      client,
      async () => {
        // Straight from the server: a cached answer would be older than the log it refreshes.
        const [rows, unallocated] = await Promise.all([
          client.fetchQuery({ ...allocationsQuery(LOG_SNAPSHOT_ROWS), staleTime: 0 }),
          client.fetchQuery({
            ...leadsQuery({ status: 'unallocated', limit: LOG_SNAPSHOT_UNALLOCATED }),
            staleTime: 0,
          }),
        ]);
        return logFromSnapshot(rows, unallocated.items);
      },
      logAfterEvent,
    );
    return mergeLog(client.getQueryData<LogEntry[]>(ALLOCATION_LOG_KEY) ?? [], snapshot);
  },
});

/** What the dashboard re-reads whenever the stream (re)opens. */
export const LIVE_QUERY_KEYS = [
  providersQuery.queryKey,
  servicesQuery.queryKey,
  allocationLogQuery.queryKey,
  statsQuery.queryKey,
  deliveryStatsQuery.queryKey,
];

/**
 * Applies a stream event to every query it changes, once. Queries not loaded yet are left
 * alone: their first answer is at least as new, with what arrived meanwhile re-applied.
 */
export function applyLiveEvent(client: QueryClient, event: LiveEvent): void {
  if (!recordEvent(client, event)) return;
  client.setQueryData(
    providersQuery.queryKey,
    (providers) => providers && providersAfterEvent(providers, event),
  );
  client.setQueryData(
    servicesQuery.queryKey,
    (services) => services && servicesAfterEvent(services, event),
  );
  client.setQueryData(statsQuery.queryKey, (stats) => stats && statsAfterEvent(stats, event));
  client.setQueryData(allocationLogQuery.queryKey, (log) => log && logAfterEvent(log, event));
  switch (event.type) {
    case 'delivery.succeeded':
    case 'delivery.rejected':
    case 'delivery.failed':
      // The status shows at once; the attempt log, the rate and lists filtered by status
      // are re-read, as no event carries them.
      client.setQueryData(
        leadQuery(event.data.leadId).queryKey,
        (lead) => lead && leadAfterEvent(lead, event),
      );
      void refreshDeliveries(client);
      break;
    case 'provider.updated':
      // Its payload has no endpoint, which another tab may have just set or removed.
      void client.invalidateQueries({ queryKey: providersQuery.queryKey });
      break;
    case 'lead.unallocated':
      // A service's backlog count: no event carries it (a refused lead may join the backlog,
      // an expired one leaves it), so it is re-read.
      void client.invalidateQueries({ queryKey: servicesQuery.queryKey });
      break;
    case 'lead.allocated':
      if (event.data.fromBacklog)
        void client.invalidateQueries({ queryKey: servicesQuery.queryKey });
      break;
    default:
  }
}
