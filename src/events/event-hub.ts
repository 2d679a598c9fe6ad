import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { createClient } from '../db/connection-url.js';
import type { Pool } from '../db/pool.js';
import type { StoredEvent } from '../contracts/index.js';
import type { EventsCommitted } from './events-committed.js';
import {
  EVENTS_CHANNEL,
  formatEvent,
  selectEventsBetween,
  selectEventsHorizon,
} from './events.sql.js';

export interface Subscriber {
  /**
   * `frames` are the events in SSE wire format, built once for every subscriber (one
   * JSON.stringify per event per listener was a fifth of the server's CPU with 1000 listeners).
   * Returns false when the subscriber cannot keep up and should be dropped.
   */
  deliver(events: StoredEvent[], frames: string[], joined: string): boolean;
  close(): void;
}

const READ_LIMIT = 1000;
// A NOTIFY lost with a crashed writer, or a notification missed while reconnecting, is made
// up by reading at least this often.
const SAFETY_POLL_MS = 1000;

/**
 * One LISTEN connection per instance. A notification only says "there is news"; the hub then
 * reads every event up to the horizon (ids that can no longer be overtaken), so events from
 * any instance reach every subscriber in id order, and a lost connection is caught up by
 * reading from where it was. Events committed by this process are read at once and announced
 * to the other instances with one coalesced NOTIFY.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private listener: pg.Client | undefined;
  /** Id of the last event handed to subscribers; -1 until the first connection reads it. */
  private lastId = -1;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  /** Reads were skipped for want of subscribers: lastId lags the database. */
  private skipped = false;
  private catchingUp: Promise<void> | undefined;
  private stopped = false;
  private notifying = false;
  private notifyAgain = false;
  private readonly onLocalCommit = (): void => {
    this.poll();
    this.notifyOthers();
  };
  private safetyPoll: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
  ) {}

  get latestDeliveredId(): number {
    return Math.max(this.lastId, 0);
  }

  /**
   * Starts listening, waiting for the first connection only briefly: an instance that boots
   * while the database is down serves 503s and starts streaming once the listener connects.
   */
  async start(waitMs = 5000): Promise<void> {
    this.committed.on(this.onLocalCommit);
    this.safetyPoll = setInterval(() => this.poll(), SAFETY_POLL_MS);
    this.safetyPoll.unref();
    const connected = this.connect();
    await Promise.race([connected, sleep(waitMs, undefined, { ref: false })]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.committed.off(this.onLocalCommit);
    clearInterval(this.safetyPoll);
    for (const subscriber of this.subscribers) subscriber.close();
    this.subscribers.clear();
    await this.listener?.end().catch(() => undefined);
    await this.reading;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The highest event id that is final in the database now. */
  horizon(): Promise<number> {
    return selectEventsHorizon(this.pool);
  }

  /**
   * Events after `afterId` up to what this hub has delivered live, for a client resuming with
   * Last-Event-ID; anything later reaches the client through `deliver`.
   */
  replay(afterId: number, limit = READ_LIMIT): Promise<StoredEvent[]> {
    return selectEventsBetween(this.pool, afterId, this.latestDeliveredId, limit);
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      // A host list (primary + standbys) is tried in order, as libpq would.
      const client = createClient(this.connectionString, { application_name: 'leadflow-events' });
      // Listening before connect: an error read together with the connection's first
      // ReadyForQuery (a backend terminated right after startup) reaches 'error' before the
      // code after `await client.connect()` runs, and with no listener it crashes the process.
      // Until the client is the listener, this loop retries; after, the handler reconnects —
      // never both, or every blip during start-up would leave one more LISTEN connection.
      let lost = false;
      client.on('notification', () => this.poll());
      client.on('error', (error) => {
        lost = true;
        void client.end().catch(() => undefined);
        if (this.listener !== client) return;
        this.logger.warn({ err: error }, 'event listener lost its connection; reconnecting');
        this.listener = undefined;
        if (!this.stopped) void this.connect();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        if (this.stopped) {
          await client.end();
          return;
        }
        if (this.lastId < 0) this.lastId = await selectEventsHorizon(this.pool);
        if (lost) throw new Error('event listener lost its connection while starting');
        this.listener = client;
        this.poll(); // catch up on anything committed while we were not listening
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (attempt % 10 === 0)
          this.logger.warn({ err: error }, 'event listener cannot connect; retrying');
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), undefined, { ref: false });
      }
    }
  }

  /** One NOTIFY at a time; commits meanwhile fold into one more. */
  private notifyOthers(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.pool
      .query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, ''])
      .catch((error: unknown) => this.logger.warn({ err: error }, 'NOTIFY failed'))
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain && !this.stopped) {
          this.notifyAgain = false;
          this.notifyOthers();
        }
      });
  }

  /** Reads new events; notifications arriving mid-read fold into one more read. */
  private poll(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readNew()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'reading events failed'))
      .finally(() => {
        this.reading = undefined;
        if (this.readAgain && !this.stopped) {
          this.readAgain = false;
          this.poll();
        }
      });
  }

  /**
   * Call before a new subscriber reads `latestDeliveredId`. While nobody listens the hub reads
   * nothing (an ingest batch would otherwise cost two more queries and a frame per event for no
   * one); the first subscriber after such a pause starts from the database's horizon, as a
   * subscriber without Last-Event-ID starts from now.
   */
  ready(): Promise<void> {
    // Concurrent callers share one catch-up, so none reads latestDeliveredId before the jump.
    if (this.catchingUp) return this.catchingUp;
    if (!this.skipped || this.subscribers.size > 0 || this.lastId < 0) return Promise.resolve();
    this.catchingUp = selectEventsHorizon(this.pool)
      .then((horizon) => {
        // Someone subscribed while the horizon was read (at lastId, between its own ready()
        // and now): jumping would skip it past events committed after it subscribed. Reading
        // on from lastId instead only gives newcomers a little more than "from now".
        if (this.subscribers.size > 0) return;
        this.lastId = Math.max(this.lastId, horizon);
        this.skipped = false;
      })
      .finally(() => {
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  private async readNew(): Promise<void> {
    if (this.lastId < 0) return;
    if (this.subscribers.size === 0) {
      this.skipped = true;
      return;
    }
    const horizon = await selectEventsHorizon(this.pool);
    while (this.lastId < horizon) {
      const events = await selectEventsBetween(this.pool, this.lastId, horizon, READ_LIMIT);
      // Ids up to the horizon are final; a gap is a rolled-back writer and is never filled.
      this.lastId = events.length < READ_LIMIT ? horizon : events[events.length - 1]!.id;
      if (events.length === 0) return;
      const frames = events.map(formatEvent);
      const joined = frames.join('');
      for (const subscriber of this.subscribers) {
        if (!subscriber.deliver(events, frames, joined)) {
          this.subscribers.delete(subscriber);
          subscriber.close();
        }
      }
    }
  }
}
