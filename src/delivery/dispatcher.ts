import type { Logger } from 'pino';
import {
  claimDueDeliveries,
  claimProbeDeliveries,
  releaseClaims,
  type ClaimedDelivery,
} from '../db/locks.sql.js';
import type { Pool } from '../db/pool.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { cleanText } from '../ingest/normalize.js';
import type { AttemptOutcome } from './delivery.sql.js';
import { classify, type SendResult } from './outcome.js';
import { deliveryPayload } from './payload.js';
import { AttemptRecorder, type FinishedAttempt } from './recorder.js';
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
  /** A URL the server built itself and may send to despite the guard (the demo buyer). */
  isOwnUrl: (url: URL) => boolean;
  /** Told of each attempt once it is recorded (the metrics). */
  onAttempt?: (providerId: number, outcome: AttemptOutcome) => void;
}

// The lease is the send's timeout plus this: time for the attempt's transaction to commit
// after the response. A send cannot outlive its timeout (one AbortSignal covers connect,
// headers and body), so while the lease holds no other instance can take the row.
const LEASE_MARGIN_MS = 5_000;
// A claim takes what this instance's sends get through in half of MAX_QUEUED_MS (at least a
// slot's worth each, at most this): rows claimed ahead wait here leased, not for another
// instance. One claim per 10 rows held the drain of a backlog to ~1,600/s on 2 cores, one
// autocommitted claim (and its WAL flush) after another; at ~9,000/s, claims of 200 (with the
// rows in flight and ready deducted, ~70 each) were 130 statements a second.
const MAX_CLAIM = 500;
// How long a claimed row may wait for a free slot. Its lease is its timeout plus
// LEASE_MARGIN_MS from the claim, so after 1 s it still has 4 s for its outcome to commit; a
// row that waited longer (slow endpoints filling every slot) is given back instead of sent.
const MAX_QUEUED_MS = 1_000;
// Answers received but not yet recorded, past which no more is claimed: a database slower than
// the receivers must not let outcomes pile up in memory (each row stays leased meanwhile).
const MAX_UNRECORDED = 1000;

/**
 * Sends deliveries (SPEC §9). The `deliveries` table is the queue: due rows are claimed with
 * SKIP LOCKED and leased for their timeout, so instances never send one delivery at the same
 * time, and a process killed mid-send leaves a lease that expires into a re-send with the same
 * Idempotency-Key. An allocation on this instance wakes it at once; otherwise it polls.
 */
export class Dispatcher {
  /** Also used for test sends, so they take the same path and address guard. */
  readonly sender: DeliverySender;
  private readonly recorder: AttemptRecorder;
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
  /** Claimed, waiting for a slot among the sends in flight, oldest first. */
  private readonly ready: { delivery: ClaimedDelivery; claimedAt: number }[] = [];
  /**
   * Providers whose delivery paused, and when this instance learned it. Rows claimed before
   * then were claimed while the provider delivered; sent anyway, they failed against an
   * endpoint known to be down (and with one attempt left, for good). Rows claimed after are
   * from a claim that found the provider delivering again, so a missed resume cannot hold
   * anything back for long.
   */
  private readonly pausedAt = new Map<number, number>();
  /** Sends finished since `rateSince`, and the rate they measured last (per ms). */
  private finishedSends = 0;
  private rateSince = Date.now();
  private sendRate = 0;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    private readonly options: DispatcherOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.recorder = new AttemptRecorder(pool, logger, committed, options, (events) => {
      this.observe(events);
      if (this.backlog) this.wake();
    });
    this.sender = new DeliverySender(
      options.concurrency || 1,
      options.guardAddresses,
      options.isOwnUrl,
    );
  }

  start(): void {
    if (this.options.concurrency === 0 || this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Follows delivery pauses and resumes, this instance's own (from its recorder, at once) and
   * every instance's (from the event hub).
   */
  observe(events: readonly { type: string; payload: unknown }[]): void {
    for (const event of events) {
      const providerId = (event.payload as { providerId?: unknown } | null)?.providerId;
      if (typeof providerId !== 'number') continue;
      if (event.type === 'provider.delivery_paused') this.pausedAt.set(providerId, Date.now());
      else if (event.type === 'provider.delivery_resumed') this.pausedAt.delete(providerId);
    }
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
    // Rows claimed but not sent go back at once, for another instance to take.
    await this.giveBack(this.ready.splice(0).map((entry) => entry.delivery));
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
    await this.recorder.flushed();
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
        this.sendReady();
        // Enough claimed to keep every slot busy while the next claim runs, or too many outcomes
        // waiting to be recorded. Claiming again only once fewer rows than slots were left
        // starved the slots while each claim ran: ~15 % of a drain's time, and deliveries fell
        // behind allocation at load (bench: lag p99 2.8 s → 0.7–1.0 s, drain +7 %).
        const size = this.claimSize();
        if (this.ready.length >= Math.max(this.options.concurrency, size / 2)) break;
        if (this.recorder.pending >= MAX_UNRECORDED) break;
        // Slow sends keep claimSize at `concurrency`: then, as before, only free slots claim.
        const wanted = size - this.ready.length - this.inFlight.size;
        if (wanted <= 0) break;
        // When the claim started: it may have read a provider as delivering up to then (and
        // its rows' leases run from about then).
        const claimedAt = Date.now();
        const claimed = await claimDueDeliveries(this.pool, wanted, LEASE_MARGIN_MS);
        for (const delivery of claimed) this.ready.push({ delivery, claimedAt });
        this.backlog = claimed.length === wanted;
        this.sendReady();
        if (!this.backlog) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'claiming deliveries failed; retrying at the next poll');
    }
  }

  /** Rows to claim: what the sends finish in MAX_QUEUED_MS / 2 at their recent rate. */
  private claimSize(): number {
    const now = Date.now();
    if (now - this.rateSince >= 100) {
      this.sendRate = this.finishedSends / (now - this.rateSince);
      this.finishedSends = 0;
      this.rateSince = now;
    }
    const affordable = Math.floor((this.sendRate * MAX_QUEUED_MS) / 2);
    return Math.min(MAX_CLAIM, Math.max(this.options.concurrency, affordable));
  }

  /**
   * Fills free slots from the claimed rows; rows that waited too long, or whose provider paused
   * since their claim, are given back.
   */
  private sendReady(): void {
    const stale: ClaimedDelivery[] = [];
    while (this.inFlight.size < this.options.concurrency && this.ready.length > 0) {
      const { delivery, claimedAt } = this.ready.shift()!;
      const pausedAt = this.pausedAt.get(delivery.providerId);
      if (Date.now() - claimedAt > MAX_QUEUED_MS) stale.push(delivery);
      else if (pausedAt !== undefined && claimedAt <= pausedAt) stale.push(delivery);
      else this.launch(delivery);
    }
    if (stale.length > 0) void this.giveBack(stale);
  }

  private async giveBack(deliveries: ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await releaseClaims(this.pool, deliveries);
    } catch (error) {
      // Their leases run out instead.
      this.logger.warn({ err: error, count: deliveries.length }, 'giving back claims failed');
    }
  }

  /**
   * Sends one delivery. Its slot among the sends in flight is free once the answer is in; the
   * outcome is then recorded with whatever else finished meanwhile (recorder.ts).
   */
  private launch(delivery: ClaimedDelivery): void {
    const startedAt = new Date();
    const sending: Promise<void> = this.send(delivery)
      .then((result) => {
        if (this.aborted) return;
        const attempt = this.finished(delivery, startedAt, result);
        this.recorder.record(attempt).then(
          () => {
            this.options.onAttempt?.(delivery.providerId, attempt.outcome);
            this.logger.debug(
              {
                deliveryId: delivery.id,
                attempt: delivery.attempt,
                outcome: attempt.outcome,
                statusCode: attempt.statusCode,
              },
              'delivery attempt',
            );
          },
          (error: unknown) =>
            // The row keeps its lease and is sent again when it expires.
            this.logger.warn(
              { err: error, deliveryId: delivery.id },
              'delivery attempt not recorded',
            ),
        );
      })
      .catch((error: unknown) =>
        // The row keeps its lease and is sent again when it expires.
        this.logger.warn({ err: error, deliveryId: delivery.id }, 'delivery not sent'),
      )
      .finally(() => {
        this.inFlight.delete(sending);
        this.finishedSends++;
        if (!this.running) return;
        this.sendReady();
        if (this.backlog) this.wake();
      });
    this.inFlight.add(sending);
  }

  private finished(
    delivery: ClaimedDelivery,
    startedAt: Date,
    result: SendResult,
  ): FinishedAttempt {
    const outcome = classify(result, {
      acceptPattern: delivery.endpoint.acceptPattern,
      attemptsSinceRequeue: delivery.attemptsSinceRequeue,
      maxAttempts: delivery.endpoint.maxAttempts,
      policy: this.options,
      now: Date.now(),
      random: this.random,
    });
    return {
      deliveryId: delivery.id,
      leadId: delivery.leadId,
      providerId: delivery.providerId,
      attempt: delivery.attempt,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      outcome: outcome.outcome,
      statusCode: result.kind === 'response' ? result.statusCode : null,
      // A buyer's bytes PostgreSQL text cannot hold (NUL) failed the whole record, so the
      // delivery was re-sent forever: the excerpt and error are made storable first.
      error: outcome.error === null ? null : cleanText(outcome.error),
      responseExcerpt:
        result.kind === 'response' ? cleanText(result.body.slice(0, EXCERPT_CHARS)) : null,
      retryInMs: outcome.retryInMs,
    };
  }

  private send(delivery: ClaimedDelivery): Promise<SendResult> {
    return this.sender.send({
      id: delivery.id,
      endpoint: delivery.endpoint,
      payload: deliveryPayload(delivery),
    });
  }
}
