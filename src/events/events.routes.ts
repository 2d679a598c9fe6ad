import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Unavailable } from '../errors.js';
import type { EventHub, Subscriber } from './event-hub.js';
import {
  eventData,
  eventsHeaders,
  eventsQuery,
  errorBody,
  type StoredEvent,
} from '../contracts/index.js';
import { formatEvent } from './events.sql.js';

const HEARTBEAT_MS = 15_000;
// A client further behind than this many bytes is disconnected; it resumes by Last-Event-ID
// from the database, so a slow reader costs memory only up to this bound.
const MAX_BUFFERED_BYTES = 1024 * 1024;
// Browsers' EventSource gives up on a 503; other clients retry after this.
const FULL_RETRY_AFTER_SECONDS = 5;

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // A stream's socket is never reused: when the stream ends (shutdown, slow client), the
  // connection goes with it instead of idling and holding up a graceful close.
  connection: 'close',
  'x-accel-buffering': 'no',
};

export const eventsRoutes: FastifyPluginAsyncZod<{ hub: EventHub; maxClients: number }> = async (
  app,
  { hub, maxClients },
) => {
  let clients = 0;
  app.get(
    '/api/events',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: lead.created, lead.allocated, lead.unallocated, quota.reset, ' +
          'provider.updated, service.updated',
        headers: eventsHeaders,
        querystring: eventsQuery,
        response: {
          200: {
            description: 'A stream of `id:`, `event:` and `data:` frames',
            content: { 'text/event-stream': { schema: eventData } },
          },
          401: errorBody,
          503: errorBody,
        },
      },
    },
    async (request, reply) => {
      if (clients >= maxClients) {
        request.outcome = 'sse_clients_full';
        throw new Unavailable(FULL_RETRY_AFTER_SECONDS);
      }
      // Fastify's automatic HEAD runs this handler, but Node sends a HEAD response's headers
      // only with end(): a hijacked stream would never answer. No body, so none of the
      // stream's frames the schema types.
      if (request.method === 'HEAD') {
        return reply
          .code(200)
          .headers(STREAM_HEADERS)
          .send(undefined as never);
      }
      clients++;
      // 'close' comes once, whether the stream ends, the client leaves, or this handler fails.
      reply.raw.once('close', () => clients--);
      await hub.ready();
      // Digits only: parseInt read `1e3` as 1 and replayed everything from event 1. Anything
      // else is no id at all, and the client starts from now.
      const lastEventId = (
        request.headers['last-event-id'] ??
        request.query.lastEventId ??
        ''
      ).trim();
      let resumeFrom = /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : NaN;
      // An id this database never reached (it was reset or restored) would hide every new
      // event from the client; it starts from now instead.
      if (resumeFrom > hub.latestDeliveredId && resumeFrom > (await hub.horizon()))
        resumeFrom = NaN;
      // "From now" is the database's horizon, not only what this hub has read: the
      // notification of events committed just before this request may still be on its way,
      // and the hub would then hand them to a listener who arrived after them. Read before
      // the headers go out, so nothing the client does once connected falls below it.
      const now = Number.isInteger(resumeFrom)
        ? hub.latestDeliveredId
        : Math.max(hub.latestDeliveredId, await hub.horizon());
      const response = reply.raw;
      reply.hijack();
      response.writeHead(200, { ...STREAM_HEADERS, 'x-request-id': request.id });
      response.write('retry: 2000\n\n');

      let sentUpTo = Number.isInteger(resumeFrom) && resumeFrom >= 0 ? resumeFrom : now;
      let replaying = Number.isInteger(resumeFrom) && resumeFrom >= 0;
      const heldDuringReplay: StoredEvent[] = [];
      let closed = false;

      const write = (events: StoredEvent[], frames?: string[], joined?: string): boolean => {
        // Every event new to this client (the usual case): the frames joined once for all
        // clients, not a copy of them per client (1000 copies of each read's frames).
        if (joined !== undefined && events[0] !== undefined && events[0].id > sentUpTo) {
          sentUpTo = events[events.length - 1]!.id;
          response.write(joined);
          return response.writableLength <= MAX_BUFFERED_BYTES;
        }
        let chunk = '';
        events.forEach((event, index) => {
          if (event.id <= sentUpTo) return;
          sentUpTo = event.id;
          chunk += frames?.[index] ?? formatEvent(event);
        });
        if (chunk !== '') response.write(chunk);
        return response.writableLength <= MAX_BUFFERED_BYTES;
      };

      const subscriber: Subscriber = {
        deliver: (events, frames, joined) => {
          if (closed) return false;
          if (replaying) {
            heldDuringReplay.push(...events);
            return heldDuringReplay.length < 10_000;
          }
          return write(events, frames, joined);
        },
        close: () => {
          // Destroyed once flushed: a half-closed socket would hold a graceful shutdown until
          // the client noticed.
          if (!closed) response.end(() => socket.destroy());
        },
      };
      const unsubscribe = hub.subscribe(subscriber);
      const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const socket = request.raw.socket;
      response.on('close', () => {
        closed = true;
        // The client went away (or half-closed): drop our side too, or a graceful shutdown
        // waits on a socket nobody reads.
        socket.destroy();
        clearInterval(heartbeat);
        unsubscribe();
      });

      // Subscribed first, then replayed: whatever arrives meanwhile is held, and ids already
      // sent are skipped, so the client sees every event once and in order.
      try {
        while (replaying && !closed) {
          const missed = await hub.replay(sentUpTo);
          if (missed.length === 0) break;
          if (!write(missed)) {
            response.end();
            return;
          }
        }
      } catch (error) {
        request.log.warn({ err: error }, 'event replay failed');
        response.end();
        return;
      }
      replaying = false;
      if (!closed && !write(heldDuringReplay.splice(0))) response.end();
    },
  );
};
