import { queryOptions } from '@tanstack/react-query';
import type { LiveEvent, Stats } from '../../../src/contracts/index.js';
import { call } from './client.js';

export const statsQuery = queryOptions({
  queryKey: ['stats'],
  queryFn: (): Promise<Stats> => call<Stats>('GET', '/api/stats'),
});

/**
 * Counts a lead event at once, ahead of the re-read that follows it. Not re-applied over a
 * fetched answer (that answer may already count it), so an event must be applied only once.
 */
export function statsAfterEvent(stats: Stats, event: LiveEvent): Stats {
  switch (event.type) {
    case 'lead.created':
      return { ...stats, leadsToday: stats.leadsToday + 1 };
    case 'lead.allocated':
      return { ...stats, leads: { ...stats.leads, allocated: (stats.leads.allocated ?? 0) + 1 } };
    case 'lead.unallocated':
      return {
        ...stats,
        leads: { ...stats.leads, unallocated: (stats.leads.unallocated ?? 0) + 1 },
      };
    default:
      return stats;
  }
}
