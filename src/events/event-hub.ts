import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import {
  EVENTS_CHANNEL,
  formatEvent,
  selectEventsBetween,
  selectEventsHorizon,
  type StoredEvent,
} from './events.sql.js';

export interface Subscriber {
  /**
   * `frames` are the events in SSE wire format, built once for every subscriber (one
   * JSON.stringify per event per listener was a fifth of the server's CPU with 1000 listeners).
   * Returns false when the subscriber cannot keep up and should be dropped.
   */
  deliver(events: StoredEvent[], frames: string[]): boolean;
  close(): void;
}

const READ_LIMIT = 1000;

/**
 * One LISTEN connection per instance. A notification only says "there is news"; the hub then
 * reads every event after the last one it delivered, so events from any instance reach every
 * subscriber in id order, and a lost connection is caught up by reading from where it was.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private listener: pg.Client | undefined;
  /** Id of the last event handed to subscribers; -1 until the first connection reads it. */
  private lastId = -1;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get latestDeliveredId(): number {
    return Math.max(this.lastId, 0);
  }

  get listening(): boolean {
    return this.listener !== undefined;
  }

  /**
   * Starts listening, waiting for the first connection only briefly: an instance that boots
   * while the database is down serves 503s and starts streaming once the listener connects.
   */
  async start(waitMs = 5000): Promise<void> {
    const connected = this.connect();
    await Promise.race([connected, sleep(waitMs, undefined, { ref: false })]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscriber of this.subscribers) subscriber.close();
    this.subscribers.clear();
    await this.listener?.end().catch(() => undefined);
    await this.reading;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
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
      const client = new pg.Client({
        connectionString: this.connectionString,
        application_name: 'leadflow-events',
      });
      try {
        await client.connect();
        client.on('notification', () => this.poll());
        client.on('error', (error) => {
          this.logger.warn({ err: error }, 'event listener lost its connection; reconnecting');
          if (this.listener === client) this.listener = undefined;
          void client.end().catch(() => undefined);
          if (!this.stopped) void this.connect();
        });
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        if (this.stopped) {
          await client.end();
          return;
        }
        if (this.lastId < 0) this.lastId = await selectEventsHorizon(this.pool);
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

  private async readNew(): Promise<void> {
    if (this.lastId < 0) return;
    const horizon = await selectEventsHorizon(this.pool);
    while (this.lastId < horizon) {
      const events = await selectEventsBetween(this.pool, this.lastId, horizon, READ_LIMIT);
      // Ids up to the horizon are final; a gap is a rolled-back writer and is never filled.
      this.lastId = events.length < READ_LIMIT ? horizon : events[events.length - 1]!.id;
      if (events.length === 0) return;
      const frames = events.map(formatEvent);
      for (const subscriber of this.subscribers) {
        if (!subscriber.deliver(events, frames)) {
          this.subscribers.delete(subscriber);
          subscriber.close();
        }
      }
    }
  }
}
