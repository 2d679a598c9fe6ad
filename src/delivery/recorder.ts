import type { Logger } from 'pino';
import type { NewEvent } from '../contracts/index.js';
import { lockDeliveryHealth } from '../db/locks.sql.js';
import { transaction, type Pool } from '../db/pool.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import {
  recordAnsweredAttempts,
  recordAttempts,
  updateDeliveryHealth,
  type AttemptRecord,
  type HealthChange,
} from './delivery.sql.js';
import { answered, nextHealth } from './outcome.js';

/** One attempt's outcome as the dispatcher hands it over, with what its events name. */
export interface FinishedAttempt extends AttemptRecord {
  leadId: string;
  providerId: number;
}

interface Waiting {
  attempt: FinishedAttempt;
  /** When it was handed over (Date.now()). */
  at: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// A batch's statements carry one array element per attempt; 500 keeps a transaction at a few
// ms, and at thousands of outcomes per second a batch is already whatever arrived meanwhile.
const MAX_BATCH = 500;
// Batches written at once. A batch is five round trips (BEGIN, health, attempts, events,
// COMMIT) through the server's busy event loop, most of it waiting; with one at a time the
// drain left the machine 60 % idle. Batches of healthy providers lock nothing in common
// (lockDeliveryHealth), so they commit side by side and share WAL flushes.
const MAX_WRITERS = 3;
// A second writer starts only when this many outcomes wait: small batches cost PostgreSQL
// more per delivery (bench/delivery-cost.ts: ~134 µs in batches of 20, ~70 µs in batches of
// 200), so while one writer keeps up, its batches are left to grow. A drain's event loop is
// the server's limit (busy ~90 % of the time): 200 and 25 ms below, against 64 and 10 ms,
// wrote ~3 times fewer statements and drained 8,400–9,300/s against 8,000 (bench, delivery).
const PARALLEL_AFTER = 200;
// How long an outcome may wait for others to share its batch (unless PARALLEL_AFTER wait
// already). Once a batch of healthy providers became one statement, a writer kept up with
// every few outcomes: a drain wrote ~7 per statement, ~1,000 commits/s, and the server spent
// a fifth of its time in the socket writes of those statements (bench, --profile). Their
// sends are done; only the record waits, its row still leased.
const GATHER_MS = 25;

const FINAL_EVENT = {
  delivered: 'delivery.succeeded',
  rejected: 'delivery.rejected',
  failed: 'delivery.failed',
} as const;

/** The event of a delivery that reached a final state with this attempt. */
function finalEvent(attempt: FinishedAttempt): NewEvent {
  if (attempt.outcome === 'retry') throw new Error('a retry is no final state');
  return {
    type: FINAL_EVENT[attempt.outcome],
    payload: {
      deliveryId: attempt.deliveryId,
      leadId: attempt.leadId,
      providerId: attempt.providerId,
      attempts: attempt.attempt,
      statusCode: attempt.statusCode,
      error: attempt.error,
    },
  };
}

/**
 * Records attempts in batches: whatever finished while the previous batch was being written
 * goes in the next one, one transaction for all of them. Recording one attempt at a time took
 * six round trips and a WAL flush per send and locked the provider's health row for all six,
 * so one provider's outcomes queued on each other: 388 deliveries/s drained on 2 cores against
 * a receiver that takes 45,000/s (bench, delivery scenario).
 */
export class AttemptRecorder {
  private queue: Waiting[] = [];
  private readonly writers = new Set<Promise<void>>();
  /** Ends the wait of the writer gathering a batch, if one is. */
  private gathered: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    private readonly options: { pauseAfter: number; probeMs: number },
    /** Called after each batch commits (more may be claimed now), with the events it wrote. */
    private readonly written: (events: readonly NewEvent[]) => void,
  ) {}

  /** Attempts handed over and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once the attempt is committed; rejects if its batch failed (its lease expires). */
  record(attempt: FinishedAttempt): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ attempt, at: Date.now(), resolve, reject });
      if (this.gathered) {
        if (this.queue.length >= PARALLEL_AFTER) this.gathered();
        return;
      }
      const more = this.writers.size < MAX_WRITERS && this.queue.length >= PARALLEL_AFTER;
      if (this.writers.size === 0 || more) {
        const writer: Promise<void> = this.writeAll().finally(() => this.writers.delete(writer));
        this.writers.add(writer);
      }
    });
  }

  /** Resolves once everything handed over so far is written (or failed). */
  async flushed(): Promise<void> {
    while (this.writers.size > 0) await Promise.allSettled([...this.writers]);
  }

  private async writeAll(): Promise<void> {
    for (;;) {
      await this.gather();
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0, MAX_BATCH);
      let events: readonly NewEvent[] = [];
      try {
        events = await this.write(batch.map((waiting) => waiting.attempt));
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
      this.written(events);
    }
  }

  /**
   * Waits until the oldest outcome waiting is GATHER_MS old or PARALLEL_AFTER wait, for one
   * writer at a time; the others (and a full queue) only yield, so attempts handed over in the
   * same tick join the batch.
   */
  private async gather(): Promise<void> {
    const oldest = this.queue[0];
    const wait = oldest ? GATHER_MS - (Date.now() - oldest.at) : 0;
    if (this.gathered || wait <= 0 || this.queue.length >= PARALLEL_AFTER) {
      await Promise.resolve();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.gathered?.(), wait);
      this.gathered = () => {
        clearTimeout(timer);
        this.gathered = undefined;
        resolve();
      };
    });
  }

  /** Writes one batch; returns the events it wrote (none for a batch of answers alone). */
  private async write(attempts: FinishedAttempt[]): Promise<readonly NewEvent[]> {
    const providerIds = [...new Set(attempts.map((attempt) => attempt.providerId))].sort(
      (a, b) => a - b,
    );
    if (attempts.every((attempt) => answered(attempt.outcome))) {
      const changed = await recordAnsweredAttempts(
        this.pool,
        attempts,
        providerIds,
        attempts.map(finalEvent),
      );
      if (changed) {
        if (changed.size > 0) this.committed.announce();
        this.logger.debug({ attempts: attempts.length }, 'delivery attempts recorded');
        return [];
      }
    }
    const failingIds = [
      ...new Set(
        attempts
          .filter((attempt) => !answered(attempt.outcome))
          .map((attempt) => attempt.providerId),
      ),
    ];
    const written = await transaction(this.pool, async (tx) => {
      const health = await lockDeliveryHealth(tx, providerIds, failingIds);
      const changed = await recordAttempts(tx, attempts);
      const events: NewEvent[] = attempts
        .filter((attempt, index) => attempt.outcome !== 'retry' && changed.has(index))
        .map(finalEvent);
      const changes: HealthChange[] = [];
      for (const providerId of providerIds) {
        const before = health.get(providerId);
        // Healthy and every attempt answered (nothing changes), or no endpoint any more.
        if (!before) continue;
        const change = this.foldHealth(
          before,
          attempts.filter((attempt) => attempt.providerId === providerId),
          providerId,
          events,
        );
        // The common case, an endpoint that keeps answering: no write at all.
        if (change.change !== 'keep' || change.consecutiveFailures !== before.consecutiveFailures) {
          changes.push(change);
        }
      }
      if (changes.length > 0) await updateDeliveryHealth(tx, changes, this.options.probeMs);
      await appendEvents(tx, this.committed, events);
      return events;
    });
    this.logger.debug({ attempts: attempts.length }, 'delivery attempts recorded');
    return written;
  }

  /** A provider's health after its attempts of the batch, in order; pause/resume events. */
  private foldHealth(
    before: { consecutiveFailures: number; paused: boolean },
    attempts: FinishedAttempt[],
    providerId: number,
    events: NewEvent[],
  ): HealthChange {
    let state = before;
    let pausedHere = false;
    for (const attempt of attempts) {
      const next = nextHealth(state, attempt.outcome, this.options.pauseAfter);
      if (next.change === 'pause') {
        pausedHere = true;
        events.push({
          type: 'provider.delivery_paused',
          payload: { providerId, consecutiveFailures: next.consecutiveFailures },
        });
      } else if (next.change === 'resume') {
        events.push({ type: 'provider.delivery_resumed', payload: { providerId } });
      }
      state = {
        consecutiveFailures: next.consecutiveFailures,
        paused: next.change === 'pause' ? true : next.change === 'resume' ? false : state.paused,
      };
    }
    const change = state.paused
      ? pausedHere
        ? 'pause'
        : 'keep'
      : before.paused
        ? 'resume'
        : 'keep';
    return { providerId, consecutiveFailures: state.consecutiveFailures, change };
  }
}
