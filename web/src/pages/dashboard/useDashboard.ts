import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { api } from '../../api/client.js';
import type { LiveEvent } from '../../../../src/contracts/index.js';
import { useEventStream, type EventStreamState } from '../../hooks/useEventStream.js';
import {
  dashboardReducer,
  initialDashboardState,
  logFromSnapshot,
  type DashboardState,
} from './dashboardState.js';

// Duplicates and failed raw rows have no event of their own, so counters are re-read shortly
// after any activity (coalescing a burst into one request) and every few seconds regardless.
const STATS_DEBOUNCE_MS = 300;
const STATS_POLL_MS = 10_000;
const LOG_SNAPSHOT_ROWS = 300;

export interface Dashboard extends DashboardState {
  stream: EventStreamState;
  error: unknown;
  retry(): void;
}

export function useDashboard(): Dashboard {
  const [state, dispatch] = useReducer(dashboardReducer, initialDashboardState);
  const [error, setError] = useState<unknown>(undefined);
  /** Events seen while a snapshot is loading; re-applied over it since it may predate them. */
  const pendingEvents = useRef<LiveEvent[] | null>(null);
  const statsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const loadStats = useCallback(async () => {
    try {
      dispatch({ type: 'stats', stats: await api.stats() });
    } catch {
      // The next event or poll tries again; the snapshot's error is the one shown.
    }
  }, []);

  const scheduleStats = useCallback(() => {
    if (statsTimer.current !== undefined) return;
    statsTimer.current = setTimeout(() => {
      statsTimer.current = undefined;
      void loadStats();
    }, STATS_DEBOUNCE_MS);
  }, [loadStats]);

  const loadSnapshot = useCallback(async () => {
    const buffer: LiveEvent[] = [];
    pendingEvents.current = buffer;
    try {
      const [providers, services, allocations, unallocated] = await Promise.all([
        api.providers(),
        api.services(),
        api.allocations(LOG_SNAPSHOT_ROWS),
        api.leads({ status: 'unallocated', limit: 50 }),
      ]);
      if (pendingEvents.current !== buffer) return; // a newer load superseded this one
      pendingEvents.current = null;
      setError(undefined);
      dispatch({
        type: 'snapshot',
        providers,
        services,
        log: logFromSnapshot(allocations, unallocated.items),
      });
      for (const event of buffer) dispatch({ type: 'event', event, replayed: true });
    } catch (loadError) {
      if (pendingEvents.current === buffer) pendingEvents.current = null;
      setError(loadError);
    }
  }, []);

  const stream = useEventStream({
    onEvent: (event) => {
      pendingEvents.current?.push(event);
      dispatch({ type: 'event', event });
      if (event.type.startsWith('lead.')) scheduleStats();
    },
    // Re-read on every open: the first snapshot may predate the subscription, and whatever
    // happened while disconnected is not trusted to the replay alone.
    onOpen: () => {
      void loadSnapshot();
      void loadStats();
    },
  });

  useEffect(() => {
    void loadSnapshot();
    void loadStats();
    const poll = setInterval(() => void loadStats(), STATS_POLL_MS);
    return () => {
      clearInterval(poll);
      clearTimeout(statsTimer.current);
    };
  }, [loadSnapshot, loadStats]);

  const retry = useCallback(() => {
    void loadSnapshot();
    void loadStats();
  }, [loadSnapshot, loadStats]);

  return { ...state, stream, error, retry };
}
