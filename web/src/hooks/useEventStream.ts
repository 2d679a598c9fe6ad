import { useEffect, useRef, useState } from 'react';
// Straight from event-types.ts: the contracts' index would bundle Zod with the dashboard.
import { EVENT_TYPES } from '../../../src/contracts/event-types.js';
import type { LiveEvent } from '../../../src/contracts/index.js';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

export interface EventStreamHandlers {
  onEvent(event: LiveEvent): void;
  /** Every (re)connection, after which the server sends what was missed, if it can. */
  onOpen?(): void;
}

export interface EventStreamState {
  status: StreamStatus;
  lastEventId: number | null;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Subscribes to `/api/events`. While the connection merely drops, EventSource reconnects by
 * itself and sends `Last-Event-ID`, so the server replays what was missed. When the browser
 * gives up instead (an HTTP error such as the 503 of a server shutting down closes the
 * source for good), a new source is opened with `?lastEventId=`, which the server treats
 * the same way.
 */
export function useEventStream(handlers: EventStreamHandlers): EventStreamState {
  const handlersRef = useRef(handlers);
  useEffect(() => {
    handlersRef.current = handlers;
  });
  const [state, setState] = useState<EventStreamState>({ status: 'connecting', lastEventId: null });

  useEffect(() => {
    let source: EventSource | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let lastEventId: string | null = null;
    let failures = 0;
    let everOpened = false;
    let disposed = false;

    const connect = (): void => {
      const url = lastEventId
        ? `/api/events?lastEventId=${encodeURIComponent(lastEventId)}`
        : '/api/events';
      const current = new EventSource(url);
      source = current;
      current.onopen = () => {
        failures = 0;
        setState((previous) => ({ ...previous, status: 'live' }));
        handlersRef.current.onOpen?.();
        everOpened = true;
      };
      current.onerror = () => {
        if (disposed) return;
        setState((previous) => ({
          ...previous,
          status: everOpened ? 'reconnecting' : 'connecting',
        }));
        if (current.readyState !== EventSource.CLOSED) return;
        current.close();
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures) * (0.75 + Math.random() / 2);
        failures++;
        retryTimer = setTimeout(connect, delay);
      };
      for (const type of EVENT_TYPES) {
        current.addEventListener(type, (message: MessageEvent<string>) => {
          lastEventId = message.lastEventId || lastEventId;
          const id = Number(message.lastEventId);
          let data: unknown;
          try {
            data = JSON.parse(message.data);
          } catch {
            return;
          }
          setState((previous) => ({ ...previous, lastEventId: id }));
          handlersRef.current.onEvent({ id, type, data } as LiveEvent);
        });
      }
    };

    connect();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, []);

  return state;
}
