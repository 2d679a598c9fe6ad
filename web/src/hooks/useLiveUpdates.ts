import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { applyLiveEvent } from '../pages/dashboard/liveCache.js';
import { useEventStream, type EventStreamState } from './useEventStream.js';

/**
 * Keeps a page's queries live outside the dashboard: events go through the same cache
 * updates, and `refresh` is re-read whenever the stream (re)opens, since what happened
 * while it was closed is not trusted to the replay alone.
 */
export function useLiveUpdates(refresh: QueryKey[]): EventStreamState {
  const client = useQueryClient();
  return useEventStream({
    onEvent: (event) => applyLiveEvent(client, event),
    onOpen: () => {
      for (const queryKey of refresh) void client.invalidateQueries({ queryKey });
    },
  });
}
