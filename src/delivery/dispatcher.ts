import { cleanText } from '../ingest/normalize.js';
import type { Logger } from 'pino';
import type { NewEvent } from '../contracts/index.js';
import {
  claimDueDeliveries,
  claimProbeDeliveries,
  lockDeliveryHealth,
  type ClaimedDelivery,
} from '../db/locks.sql.js';
import { transaction, type Pool } from '../db/pool.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { recordAttempt, updateDeliveryHealth } from './delivery.sql.js';
import { classify, nextHealth } from './outcome.js';
import { deliveryPayload } from './payload.js';
import { DeliverySender, EXCERPT_CHARS } from './sender.js';

export interface DispatcherOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  pauseAfter: number;
  probeMs: number;
  pollMs: number;
  /** Sends in flight at once on this instance; 0 disables the dispatcher. */
  concurrency: number;
  drainMs: number;
  /** Refuse loopback, private and link-local targets at connect time (production). */
  guardAddresses: boolean;
}

// The lease is the send's timeout plus this: time for the attempt's transaction to commit
// after the response. A send cannot outlive its timeout (one AbortSignal covers connect,
// headers and body), so while the lease holds no other instance can take the row.
const LEASE_MARGIN_MS = 5_000;
// Claim in small batches: a large one would sit leased in one instance while another idles.
const CLAIM_BATCH = 10;

const FINAL_EVENT = {
  delivered: 'delivery.succeeded',
  rejected: 'delivery.rejected',
  failed: 'delivery.failed',
} as const;

/**
 * Sends deliveries (SPEC §9). The `deliveries` table is the queue: due rows are claimed with
 * SKIP LOCKED and leased for their timeout, so instances never send one delivery at the same
 * time, and a process killed mid-send leaves a lease that expires into a re-send with the same
 * Idempotency-Key. An allocation on this instance wakes it at once; otherwise it polls.
 */
export class Dispatcher {
  /** Also used for test sends, so they take the same path and address guard. */
  readonly sender: DeliverySender;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private wakeAgain = false;
  private running = false;
  /** Set once shutdown aborts the sends left: those are not recorded, their lease expires. */
  private aborted = false;
  private nextProbeCheck = 0;
  /** The last claim came back full: more may be due, so a finished send claims again. */
  private backlog = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    private readonly options: DispatcherOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.sender = new DeliverySender(options.concurrency || 1, options.guardAddresses);
  }

  start(): void {
    if (this.options.concurrency === 0 || this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for due deliveries now (after an allocation committed, a retry was queued, …). */
  wake(): void {
    if (!this.running) return;
    if (this.cycle) {
      this.wakeAgain = true;
      return;
    }
    this.cycle = this.claimAndSend().finally(() => {
      this.cycle = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /**
   * Stops claiming, lets sends in flight finish for up to drainMs, then aborts the rest without
   * recording them: they stay pending and are sent again once their lease runs out.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    await this.cycle;
    let timeout: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<false>(
        (resolve) => (timeout = setTimeout(() => resolve(false), this.options.drainMs)),
      ),
    ]);
    clearTimeout(timeout);
    if (!drained) {
      this.aborted = true;
      this.logger.warn({ inFlight: this.inFlight.size }, 'delivery sends cut off by shutdown');
    }
    await this.sender.destroy();
    await Promise.allSettled([...this.inFlight]);
  }

  private async claimAndSend(): Promise<void> {
    try {
      if (Date.now() >= this.nextProbeCheck) {
        this.nextProbeCheck = Date.now() + this.options.pollMs;
        for (const delivery of await claimProbeDeliveries(
          this.pool,
          this.options.probeMs,
          LEASE_MARGIN_MS,
        )) {
          this.launch(delivery);
        }
      }
      while (this.running) {
        const wanted = Math.min(CLAIM_BATCH, this.options.concurrency - this.inFlight.size);
        if (wanted <= 0) break;
        const claimed = await claimDueDeliveries(this.pool, wanted, LEASE_MARGIN_MS);
        for (const delivery of claimed) this.launch(delivery);
        this.backlog = claimed.length === wanted;
        if (!this.backlog) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'claiming deliveries failed; retrying at the next poll');
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    const sending: Promise<void> = this.deliver(delivery)
      .catch((error: unknown) =>
        // The row keeps its lease and is sent again when it expires.
        this.logger.warn({ err: error, deliveryId: delivery.id }, 'delivery attempt not recorded'),
      )
      .finally(() => {
        this.inFlight.delete(sending);
        if (this.backlog) this.wake();
      });
    this.inFlight.add(sending);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = new Date();
    const result = await this.sender.send({
      id: delivery.id,
      endpoint: delivery.endpoint,
      payload: deliveryPayload(delivery),
    });
    if (this.aborted) return;
    const durationMs = Date.now() - startedAt.getTime();
    const outcome = classify(result, {
      acceptPattern: delivery.endpoint.acceptPattern,
      attemptsSinceRequeue: delivery.attemptsSinceRequeue,
      maxAttempts: delivery.endpoint.maxAttempts,
      policy: this.options,
      now: Date.now(),
      random: this.random,
    });
    const statusCode = result.kind === 'response' ? result.statusCode : null;
    await transaction(this.pool, async (tx) => {
      const health = await lockDeliveryHealth(tx, delivery.providerId);
      const changed = await recordAttempt(tx, {
        deliveryId: delivery.id,
        attempt: delivery.attempt,
        startedAt,
        durationMs,
        outcome: outcome.outcome,
        statusCode,
        // A buyer's bytes PostgreSQL text cannot hold (NUL) failed the whole record, so the
        // delivery was re-sent forever: the excerpt and error are made storable first.
        error: outcome.error === null ? null : cleanText(outcome.error),
        responseExcerpt:
          result.kind === 'response' ? cleanText(result.body.slice(0, EXCERPT_CHARS)) : null,
        retryInMs: outcome.retryInMs,
      });
      const events: NewEvent[] = [];
      if (changed && outcome.outcome !== 'retry') {
        events.push({
          type: FINAL_EVENT[outcome.outcome],
          payload: {
            deliveryId: delivery.id,
            leadId: delivery.leadId,
            providerId: delivery.providerId,
            attempts: delivery.attempt,
            statusCode,
            error: outcome.error,
          },
        });
      }
      if (health) {
        const next = nextHealth(health, outcome.outcome, this.options.pauseAfter);
        await updateDeliveryHealth(
          tx,
          delivery.providerId,
          next.consecutiveFailures,
          next.change,
          this.options.probeMs,
        );
        if (next.change === 'pause') {
          events.push({
            type: 'provider.delivery_paused',
            payload: {
              providerId: delivery.providerId,
              consecutiveFailures: next.consecutiveFailures,
            },
          });
        } else if (next.change === 'resume') {
          events.push({
            type: 'provider.delivery_resumed',
            payload: { providerId: delivery.providerId },
          });
        }
      }
      await appendEvents(tx, this.committed, events);
    });
    this.logger.debug(
      { deliveryId: delivery.id, attempt: delivery.attempt, outcome: outcome.outcome, statusCode },
      'delivery attempt',
    );
  }
}
