import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import type {
  DeliveryStats,
  ProviderView,
  Service,
  Stats,
} from '../../../../src/contracts/index.js';
import { deliveryStatsQuery } from '../../api/deliveries.js';
import { providersQuery } from '../../api/providers.js';
import { servicesQuery } from '../../api/services.js';
import { statsQuery } from '../../api/stats.js';
import { useEventStream, type EventStreamState } from '../../hooks/useEventStream.js';
import type { LogEntry } from './dashboardState.js';
import { allocationLogQuery, applyLiveEvent, LIVE_QUERY_KEYS } from './liveCache.js';

// Duplicates and failed raw rows have no event of their own, so counters are re-read shortly
// after any activity (coalescing a burst into one request) and every few seconds regardless.
const STATS_DEBOUNCE_MS = 300;
const STATS_POLL_MS = 10_000;

export interface Dashboard {
  providers: ProviderView[] | undefined;
  deliveryStats: DeliveryStats | undefined;
  services: Service[] | undefined;
  stats: Stats | undefined;
  /** Undefined until its first read: "no allocations yet" must not show while loading. */
  log: LogEntry[] | undefined;
  stream: EventStreamState;
  error: Error | null;
  retry(): void;
}

export function useDashboard(): Dashboard {
  const queryClient = useQueryClient();
  const providers = useQuery(providersQuery);
  const services = useQuery(servicesQuery);
  const log = useQuery(allocationLogQuery);
  const stats = useQuery({ ...statsQuery, refetchInterval: STATS_POLL_MS });
  const deliveryStats = useQuery(deliveryStatsQuery);
  const statsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stream = useEventStream({
    onEvent: (event) => {
      applyLiveEvent(queryClient, event);
      if (!event.type.startsWith('lead.') || statsTimer.current !== undefined) return;
      statsTimer.current = setTimeout(() => {
        statsTimer.current = undefined;
        void queryClient.invalidateQueries({ queryKey: statsQuery.queryKey });
      }, STATS_DEBOUNCE_MS);
    },
    // Re-read on every open: the first answers may predate the subscription, and whatever
    // happened while disconnected is not trusted to the replay alone.
    onOpen: () => {
      for (const queryKey of LIVE_QUERY_KEYS) void queryClient.invalidateQueries({ queryKey });
    },
  });

  useEffect(() => () => clearTimeout(statsTimer.current), []);

  return {
    providers: providers.data,
    deliveryStats: deliveryStats.data,
    services: services.data,
    stats: stats.data,
    log: log.data,
    stream,
    // A failed re-read of the counters is not shown: the next event or poll tries again.
    error: providers.error ?? services.error ?? log.error,
    retry: () => {
      void providers.refetch();
      void services.refetch();
      void log.refetch();
      void stats.refetch();
      void deliveryStats.refetch();
    },
  };
}
