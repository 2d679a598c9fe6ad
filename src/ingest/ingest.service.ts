import type { Logger } from 'pino';
import { Batcher } from '../db/batcher.js';
import { isUnavailable } from '../db/pg-errors.js';
import type { Pool } from '../db/pool.js';
import { withRetry } from '../db/retry.js';
import type { EventsCommitted } from '../events/events-committed.js';
import {
  AppError,
  InvalidIdempotencyKey,
  InvalidPayload,
  RateLimited,
  UnsupportedMediaType,
} from '../errors.js';
import { MALFORMED, TOO_DEEP, UNSUPPORTED, isPlainObject } from './parse.js';
import { insertLeadBatch, insertRawOnly, type LeadRow, type RawRequest } from './ingest.sql.js';
import { normalizeLead } from './normalize.js';
import { RefusedBytesBudget } from './refused-budget.js';
import { uuidv7 } from '../db/ids.js';

export interface IngestOutcome {
  leadId: string;
  rawId: number;
  deduplicated: boolean;
}

interface BatchItem {
  raw: RawRequest;
  lead: LeadRow;
}

/** One request on its way through the raw-first path; `stored` once its raw row committed. */
export interface Intake {
  readonly raw: RawRequest;
  stored: boolean;
}

// Printable characters only; headers arrive latin1-decoded, so anything from space upward
// except DEL is accepted.
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const IDEMPOTENCY_KEY = /^[^\x00-\x1f\x7f]{1,255}$/;

function validateIdempotencyKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) throw new InvalidIdempotencyKey();
  return key;
}

/** Refusals that are answered without storing the request (SPEC §8). */
const NOT_STORED = new Set([401, 413, 429, 503]);

export interface IngestServiceOptions {
  maxBatch?: number;
  maxConcurrent?: number;
  /** Refused bodies one sender may have stored per minute (SPEC §8); default 16 MiB. */
  refusedBytesPerMinute?: number;
  /** Told after each stored request commits, by outcome (the metrics). */
  onStored?: (outcome: 'created' | 'duplicate' | 'rejected' | 'failed', count: number) => void;
}

/**
 * Raw-first ingestion. Every request is committed to leads_raw before it is answered: accepted
 * ones together with their lead (group-committed with their neighbours), refused ones alone
 * with the reason, and anything that fails in between alone as `failed` with the error.
 *
 * The path, top to bottom (the routes call it in this order inside `receive`):
 *   1. the body parsers (http/body.ts, through parse.ts) read bytes and never throw: a malformed, too deep or
 *      unsupported body becomes a sentinel;
 *   2. `screen` refuses by media type, key and body shape, storing the refusal;
 *   3. the route's own checks (a service id), refusing through `refuse`;
 *   4. `accept` stores the raw row and the lead in one statement;
 *   5. only then allocation, whose failure no longer concerns the raw row.
 */
export class IngestService {
  private readonly batcher: Batcher<BatchItem, IngestOutcome>;
  private readonly refusedBudget: RefusedBytesBudget;
  private readonly onStored: NonNullable<IngestServiceOptions['onStored']>;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    options: IngestServiceOptions = {},
  ) {
    this.onStored = options.onStored ?? (() => {});
    this.refusedBudget = new RefusedBytesBudget(options.refusedBytesPerMinute ?? 16 * 1024 * 1024);
    this.batcher = new Batcher((items) => this.commitBatch(items), {
      maxBatch: options.maxBatch ?? 200,
      maxConcurrent: options.maxConcurrent ?? 2,
      // One statement cannot both insert a key and find it taken (ON CONFLICT DO UPDATE
      // touches a row once per statement); a same-key retry waits for the next batch.
      conflictKey: ({ raw }) =>
        raw.idempotencyKey === null ? undefined : `${raw.sender}\n${raw.idempotencyKey}`,
    });
  }

  /**
   * Runs a route's steps 2–5 with the raw-first guarantee: whatever `work` throws before the
   * raw row is stored — a bug, a lookup that chokes on client input — stores the request first
   * (`failed` with the error, or `rejected` with an AppError's code), then goes on to the one
   * error handler. Only the refusals SPEC §8 exempts are not stored, and nothing is when the
   * database itself is unreachable (503).
   */
  async receive<T>(raw: RawRequest, work: (intake: Intake) => Promise<T>): Promise<T> {
    const intake: Intake = { raw, stored: false };
    try {
      return await work(intake);
    } catch (error) {
      if (!intake.stored && !isUnavailable(error)) {
        if (error instanceof AppError) {
          if (!NOT_STORED.has(error.statusCode)) await this.storeRefusal(intake, error);
        } else {
          await this.storeFailure(intake, error);
        }
      }
      throw error;
    }
  }

  /**
   * Step 2: checks the request the way the spec orders it (media type, key, body) and stores
   * it raw with the reason when it is refused. Returns the parsed object for `accept`.
   */
  async screen(intake: Intake, body: unknown): Promise<Record<string, unknown>> {
    if (body === UNSUPPORTED) return this.refuse(intake, new UnsupportedMediaType());
    try {
      validateIdempotencyKey(intake.raw.idempotencyKey ?? undefined);
    } catch (error) {
      return this.refuse(intake, error as AppError);
    }
    if (body === TOO_DEEP) return this.refuse(intake, new InvalidPayload('too_deep'));
    if (body === MALFORMED || !isPlainObject(body)) {
      return this.refuse(intake, new InvalidPayload());
    }
    return body;
  }

  /** Stores the request as refused with `error`'s reason, then throws `error`. */
  async refuse(intake: Intake, error: AppError): Promise<never> {
    await this.storeRefusal(intake, error);
    throw error;
  }

  /** Step 4: stores the request and its lead; resolves once both are committed. */
  async accept(
    intake: Intake,
    payload: Record<string, unknown>,
    serviceId: number | null = null,
  ): Promise<IngestOutcome> {
    const { raw } = intake;
    const { fields, extra } = normalizeLead(payload);
    const lead: LeadRow = { id: uuidv7(), fields, extra, serviceId };
    try {
      const outcome = await this.batcher.submit({ raw, lead });
      intake.stored = true;
      return outcome;
    } catch (error) {
      if (isUnavailable(error)) throw error;
      // The lead could not be written; the request itself must still be kept.
      await this.storeFailure(intake, error);
      throw error;
    }
  }

  get pending(): number {
    return this.batcher.pending;
  }

  private async storeRefusal(intake: Intake, error: AppError): Promise<void> {
    const { raw } = intake;
    const sender = raw.sender !== '' ? `key:${raw.sender}` : `ip:${raw.remoteAddr ?? ''}`;
    const retryAfter = this.refusedBudget.take(sender, raw.body.length);
    if (retryAfter > 0) {
      this.logger.warn({ requestId: raw.requestId, sender }, 'refused-bytes budget exhausted');
      throw new RateLimited(retryAfter);
    }
    const reason = error instanceof InvalidPayload ? error.reason : error.code;
    await insertRawOnly(this.pool, raw, 'rejected', reason);
    intake.stored = true;
    this.onStored('rejected', 1);
  }

  private async storeFailure(intake: Intake, error: unknown): Promise<void> {
    const { raw } = intake;
    const reason = error instanceof Error ? error.message : String(error);
    const rawId = await insertRawOnly(this.pool, raw, 'failed', reason.slice(0, 1000));
    intake.stored = true;
    this.onStored('failed', 1);
    this.logger.error({ err: error, rawId, requestId: raw.requestId }, 'request failed; kept raw');
  }

  private async commitBatch(items: BatchItem[]): Promise<IngestOutcome[]> {
    const inserted = await withRetry(() => insertLeadBatch(this.pool, items), {
      onRetry: (error, attempt) =>
        this.logger.warn({ err: error, attempt, batch: items.length }, 'ingest batch retried'),
    });
    const created = inserted.filter((row) => row.created).length;
    if (created > 0) this.committed.announce();
    this.onStored('created', created);
    this.onStored('duplicate', inserted.length - created);
    return inserted.map((row) => ({
      leadId: row.leadId,
      rawId: row.rawId,
      deduplicated: !row.created,
    }));
  }
}
