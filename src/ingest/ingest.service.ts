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
  UnsupportedMediaType,
} from '../http/errors.js';
import { MALFORMED, UNSUPPORTED, isPlainObject } from '../http/body.js';
import { insertLeadBatch, insertRawOnly, type LeadRow, type RawRequest } from './ingest.sql.js';
import { normalizeLead } from './normalize.js';
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

// Printable characters only; headers arrive latin1-decoded, so anything from space upward
// except DEL is accepted.
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const IDEMPOTENCY_KEY = /^[^\x00-\x1f\x7f]{1,255}$/;

export function validateIdempotencyKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) throw new InvalidIdempotencyKey();
  return key;
}

export interface IngestServiceOptions {
  maxBatch?: number;
  maxConcurrent?: number;
}

/**
 * Raw-first ingestion. Every request is committed to leads_raw before it is answered: accepted
 * ones together with their lead (group-committed with their neighbours), refused ones alone
 * with the reason. A normalisation failure never takes the raw row down with it.
 */
export class IngestService {
  private readonly batcher: Batcher<BatchItem, IngestOutcome>;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    options: IngestServiceOptions = {},
  ) {
    this.batcher = new Batcher((items) => this.commitBatch(items), {
      maxBatch: options.maxBatch ?? 200,
      maxConcurrent: options.maxConcurrent ?? 4,
      // One statement cannot both insert a key and find it taken (ON CONFLICT DO UPDATE
      // touches a row once per statement); a same-key retry waits for the next batch.
      conflictKey: ({ raw }) =>
        raw.idempotencyKey === null ? undefined : `${raw.sender}\n${raw.idempotencyKey}`,
    });
  }

  /**
   * Checks the request the way the spec orders it (media type, key, body) and stores it raw
   * with the reason when it is refused. Returns the parsed object for `accept`.
   */
  async screen(raw: RawRequest, body: unknown): Promise<Record<string, unknown>> {
    try {
      if (body === UNSUPPORTED) throw new UnsupportedMediaType();
      validateIdempotencyKey(raw.idempotencyKey ?? undefined);
      if (body === MALFORMED || !isPlainObject(body)) throw new InvalidPayload();
      return body;
    } catch (error) {
      // The refusal's code is the reason stored with the raw row.
      if (error instanceof AppError) await this.storeRefused(raw, error.code);
      throw error;
    }
  }

  async storeRefused(raw: RawRequest, reason: string): Promise<void> {
    await insertRawOnly(this.pool, raw, 'rejected', reason);
  }

  /** Stores the request and its lead; resolves once both are committed. */
  async accept(
    raw: RawRequest,
    payload: Record<string, unknown>,
    serviceId: number | null = null,
  ): Promise<IngestOutcome> {
    const { fields, extra } = normalizeLead(payload);
    const lead: LeadRow = { id: uuidv7(), fields, extra, serviceId };
    try {
      return await this.batcher.submit({ raw, lead });
    } catch (error) {
      if (isUnavailable(error)) throw error;
      // The lead could not be written; the request itself must still be kept.
      const reason = error instanceof Error ? error.message : String(error);
      const rawId = await insertRawOnly(this.pool, raw, 'failed', reason.slice(0, 1000));
      this.logger.error(
        { err: error, rawId, requestId: raw.requestId },
        'lead normalisation failed',
      );
      throw error;
    }
  }

  get pending(): number {
    return this.batcher.pending;
  }

  private async commitBatch(items: BatchItem[]): Promise<IngestOutcome[]> {
    const inserted = await withRetry(() => insertLeadBatch(this.pool, items), {
      onRetry: (error, attempt) =>
        this.logger.warn({ err: error, attempt, batch: items.length }, 'ingest batch retried'),
    });
    if (inserted.some((row) => row.created)) this.committed.announce();
    return inserted.map((row) => ({
      leadId: row.leadId,
      rawId: row.rawId,
      deduplicated: !row.created,
    }));
  }
}
