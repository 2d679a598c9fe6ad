import type { LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
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
import { checkLiteralHost, ForbiddenAddress, guardedLookup } from './address-guard.js';
import { recordAttempt, updateDeliveryHealth } from './delivery.sql.js';
import { classify, nextHealth, type SendResult } from './outcome.js';
import { deliveryPayload, encodeBody } from './payload.js';

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
}

// The lease is the send's timeout plus this: time for the attempt's transaction to commit
// after the response. A send cannot outlive its timeout (one AbortSignal covers connect,
// headers and body), so while the lease holds no other instance can take the row.
const LEASE_MARGIN_MS = 5_000;
// Claim in small batches: a large one would sit leased in one instance while another idles.
const CLAIM_BATCH = 10;
// The response body read for acceptPattern; the attempt log keeps its first 2 KiB.
const MAX_RESPONSE_BYTES = 64 * 1024;
const EXCERPT_CHARS = 2048;

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
  private readonly agent: Agent;
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
    this.agent = new Agent({
      connections: options.concurrency || 1,
      // undici 7 follows no redirect unless a redirect interceptor is composed: a 3xx is an
      // answer (a failure), never a second request to wherever it points.
      connect: options.guardAddresses ? { lookup: guardedLookup as unknown as LookupFunction } : {},
    });
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
    await this.agent.destroy();
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
    const result = await this.send(delivery);
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
        error: outcome.error,
        responseExcerpt: result.kind === 'response' ? result.body.slice(0, EXCERPT_CHARS) : null,
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

  /** One HTTP request, bounded by the endpoint's timeout from connect to the last body byte. */
  private async send(delivery: ClaimedDelivery): Promise<SendResult> {
    const { endpoint } = delivery;
    const { contentType, body } = encodeBody(deliveryPayload(delivery), endpoint.format);
    const headers: Record<string, string> = {
      ...endpoint.headers,
      'content-type': contentType,
      'user-agent': 'Leadflow-Delivery',
      'idempotency-key': delivery.id,
    };
    if (endpoint.signingSecret) {
      const timestamp = new Date();
      headers['webhook-id'] = delivery.id;
      headers['webhook-timestamp'] = String(Math.floor(timestamp.getTime() / 1000));
      headers['webhook-signature'] = new Webhook(endpoint.signingSecret).sign(
        delivery.id,
        timestamp,
        body,
      );
    }
    const signal = AbortSignal.timeout(endpoint.timeoutMs);
    try {
      const url = new URL(endpoint.url);
      if (this.options.guardAddresses && !this.options.isOwnUrl(url)) checkLiteralHost(url);
      const response = await request(url, {
        dispatcher: this.agent,
        method: endpoint.method,
        headers,
        body,
        signal,
      });
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'response',
        statusCode: response.statusCode,
        body: await readBounded(response.body),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      return describeFailure(error, signal);
    }
  }
}

/** The first MAX_RESPONSE_BYTES of a body, as text; the rest is not read. */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RESPONSE_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 5; current = (current as Error).cause) {
    chain.push(current);
  }
  return chain;
}

function describeFailure(error: unknown, signal: AbortSignal): SendResult {
  const chain = causeChain(error);
  const forbidden = chain.find((item) => item instanceof ForbiddenAddress);
  if (forbidden) {
    // Not retried: the address will not become public by waiting.
    return { kind: 'error', error: `refused: ${(forbidden as Error).message}`, retryable: false };
  }
  if (signal.aborted) return { kind: 'error', error: 'timeout', retryable: true };
  const code = chain.map((item) => (item as { code?: unknown }).code).find(Boolean);
  return {
    kind: 'error',
    error: `connection error: ${typeof code === 'string' ? code : (error as Error).message}`,
    retryable: true,
  };
}
