import { HEALTH_TO_CLEAR, toDeliveryConfig, type EndpointRow } from '../db/locks.sql.js';
import type {
  DeliveryAttempt,
  DeliveryConfig,
  Delivery,
  DeliveryStatus,
  DeliveryTestAnswer,
  NewEvent,
  ProviderDeliveryStats,
} from '../contracts/index.js';
import { statementName, type Pool, type Tx } from '../db/pool.js';
import { appendEventsCtes, eventValues } from '../events/events.sql.js';

export type AttemptOutcome = DeliveryAttempt['outcome'];

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
  /** For a retry: when the next attempt is due, in ms from now. */
  retryInMs: number | null;
}

/**
 * The CTEs that record a batch of attempts and move their deliveries on: `changed` returns the
 * deliveries that changed, with the position `ord` of their attempt in the batch. A delivery
 * changes only if its send still holds it (still pending, attempt number unchanged): a send
 * that outlived its lease has had its row re-claimed, and the newer send decides. `guard` may
 * keep the whole batch out (a WHERE over the input).
 */
function recordAttemptsCtes(guard = ''): string {
  return `input AS (
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::text[],
                            $6::int[], $7::text[], $8::text[], $9::float8[])
         WITH ORDINALITY
         AS i (delivery_id, attempt, started_at, duration_ms, outcome, status_code, error,
               response_excerpt, retry_in_ms, ord)
       ${guard}),
     attempt AS (
       INSERT INTO delivery_attempts
         (delivery_id, attempt, started_at, duration_ms, outcome, status_code, error, response_excerpt)
       SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error,
              response_excerpt
         FROM input),
     changed AS (
       UPDATE deliveries d
          -- A retry with nowhere to go (the endpoint was removed during the send) fails: a
          -- pending row without an endpoint is never claimed again.
          SET status = CASE WHEN i.outcome <> 'retry' THEN i.outcome
                            WHEN EXISTS (SELECT 1 FROM provider_delivery pd
                                          WHERE pd.provider_id = d.provider_id)
                            THEN 'pending' ELSE 'failed' END,
              next_attempt_at = CASE WHEN i.outcome = 'retry'
                                     THEN now() + make_interval(secs => i.retry_in_ms / 1000.0)
                                     ELSE d.next_attempt_at END,
              leased_until = NULL,
              last_status_code = i.status_code, last_error = i.error,
              delivered_at = CASE WHEN i.outcome = 'delivered' THEN now() END,
              updated_at = now()
         FROM input i
        WHERE d.id = i.delivery_id AND d.status = 'pending' AND d.attempts = i.attempt
       RETURNING d.id, i.ord)`;
}

function recordValues(records: AttemptRecord[]): unknown[] {
  return [
    records.map((record) => record.deliveryId),
    records.map((record) => record.attempt),
    records.map((record) => record.startedAt),
    records.map((record) => record.durationMs),
    records.map((record) => record.outcome),
    records.map((record) => record.statusCode),
    records.map((record) => record.error),
    records.map((record) => record.responseExcerpt),
    records.map((record) => record.retryInMs ?? 0),
  ];
}

/**
 * Records a batch of attempts in the caller's transaction (which holds the delivery health of
 * their providers). Returns the attempts that moved their delivery on, by position in
 * `records`: of a stale send and the newer send of one delivery in the same batch, only the
 * newer one (a set of delivery ids gave the stale one a final event too).
 */
export async function recordAttempts(tx: Tx, records: AttemptRecord[]): Promise<Set<number>> {
  const { rows } = await tx.query<{ ord: string }>({
    // Named, so each connection plans it once (see claimDueDeliveries).
    name: statementName(tx, 'record-attempts'),
    text: `WITH ${recordAttemptsCtes()} SELECT ord FROM changed`,
    values: recordValues(records),
  });
  return new Set(rows.map((row) => Number(row.ord) - 1));
}

/**
 * The common batch in one autocommitted statement: every attempt answered (delivered or
 * rejected) and every provider of the batch healthy, so its delivery health stays as it is.
 * Records the attempts, moves the deliveries on and appends the event of each delivery that
 * changed (`events[i]` belongs to `records[i]`). Writes nothing and returns null when a
 * provider has failures to clear or is paused: that batch goes through the transaction that
 * locks the health it changes. Five round trips (BEGIN, health, attempts, events, COMMIT) were
 * a third of the dispatcher's PostgreSQL writes in a drain (bench, --profile).
 */
export async function recordAnsweredAttempts(
  pool: Pool,
  records: AttemptRecord[],
  providerIds: number[],
  events: NewEvent[],
): Promise<Set<string> | null> {
  const { rows } = await pool.query<{ unhealthy: boolean; changed: string[] | null }>({
    name: statementName(pool, 'record-answered-attempts'),
    text: `WITH unhealthy AS (
       SELECT 1 FROM provider_delivery
        WHERE provider_id = ANY($10::int[]) AND ${HEALTH_TO_CLEAR}
        LIMIT 1),
     ${recordAttemptsCtes('WHERE NOT EXISTS (SELECT 1 FROM unhealthy)')},
     ${appendEventsCtes('$11', '$12', 'WHERE ord IN (SELECT ord FROM changed)')}
     SELECT EXISTS (SELECT 1 FROM unhealthy) AS unhealthy,
            (SELECT array_agg(id) FROM changed) AS changed`,
    values: [...recordValues(records), providerIds, ...eventValues(events)],
  });
  const row = rows[0]!;
  return row.unhealthy ? null : new Set(row.changed ?? []);
}

export interface HealthChange {
  providerId: number;
  consecutiveFailures: number;
  change: 'pause' | 'resume' | 'keep';
}

/** Providers' delivery health after a batch (the rows are locked by lockDeliveryHealth). */
export async function updateDeliveryHealth(
  tx: Tx,
  changes: HealthChange[],
  probeMs: number,
): Promise<void> {
  await tx.query(
    `UPDATE provider_delivery c
        SET consecutive_failures = i.failures,
            paused_at = CASE i.change WHEN 'pause' THEN now() WHEN 'resume' THEN NULL
                                      ELSE c.paused_at END,
            next_probe_at = CASE i.change
                              WHEN 'pause' THEN now() + make_interval(secs => $4 / 1000.0)
                              WHEN 'resume' THEN NULL ELSE c.next_probe_at END
       FROM unnest($1::int[], $2::int[], $3::text[]) AS i (provider_id, failures, change)
      WHERE c.provider_id = i.provider_id`,
    [
      changes.map((change) => change.providerId),
      changes.map((change) => change.consecutiveFailures),
      changes.map((change) => change.change),
      probeMs,
    ],
  );
}

/**
 * Sets a provider's endpoint. Saving it also clears its health: an operator who fixed the
 * endpoint should not wait for a probe to learn so.
 */
export async function upsertProviderDelivery(
  tx: Tx,
  providerId: number,
  config: DeliveryConfig,
): Promise<void> {
  await tx.query(
    `INSERT INTO provider_delivery
       (provider_id, url, method, format, headers, fields, timeout_ms, max_attempts,
        accept_pattern, signing_secret)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (provider_id) DO UPDATE
       SET url = EXCLUDED.url, method = EXCLUDED.method, format = EXCLUDED.format,
           headers = EXCLUDED.headers, fields = EXCLUDED.fields,
           timeout_ms = EXCLUDED.timeout_ms, max_attempts = EXCLUDED.max_attempts,
           accept_pattern = EXCLUDED.accept_pattern, signing_secret = EXCLUDED.signing_secret,
           consecutive_failures = 0, paused_at = NULL, next_probe_at = NULL, updated_at = now()`,
    [
      providerId,
      config.url,
      config.method,
      config.format,
      JSON.stringify(config.headers),
      config.fields === null ? null : JSON.stringify(config.fields),
      config.timeoutMs,
      config.maxAttempts,
      config.acceptPattern,
      config.signingSecret,
    ],
  );
}

/**
 * Removes a provider's endpoint; its pending deliveries fail (they have nowhere to go) and can
 * be re-queued once an endpoint is set again. One statement, so no claim sees one without the
 * other.
 */
export async function deleteProviderDelivery(tx: Tx, providerId: number): Promise<void> {
  // A delivery being sent right now (leased) keeps its lease and its send decides: the
  // buyer may accept it. Clearing the lease let a retry start a second send of it meanwhile.
  await tx.query(
    `WITH removed AS (DELETE FROM provider_delivery WHERE provider_id = $1)
     UPDATE deliveries
        SET status = 'failed', last_error = 'delivery endpoint removed', updated_at = now()
      WHERE provider_id = $1 AND status = 'pending'
        AND (leased_until IS NULL OR leased_until <= now())`,
    [providerId],
  );
}

interface DeliveryRow {
  id: string;
  lead_id: string;
  provider_id: number;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
}

const DELIVERY_COLUMNS = `id, lead_id, provider_id, status, attempts, last_status_code,
       last_error, next_attempt_at, delivered_at, created_at`;

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    leadId: row.lead_id,
    providerId: row.provider_id,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  providerId?: number;
  leadId?: string;
  /** The id of the last delivery of the previous page: ids are UUIDv7, so newest first. */
  cursor?: string;
  limit: number;
}

export async function selectDeliveries(pool: Pool, filter: DeliveryFilter): Promise<Delivery[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::int IS NULL OR provider_id = $2)
        AND ($3::uuid IS NULL OR lead_id = $3)
        AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [
      filter.status ?? null,
      filter.providerId ?? null,
      filter.leadId ?? null,
      filter.cursor ?? null,
      filter.limit,
    ],
  );
  return rows.map(toDelivery);
}

export async function selectDelivery(db: Pool | Tx, id: string): Promise<Delivery | null> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`,
    [id],
  );
  return rows[0] ? toDelivery(rows[0]) : null;
}

export async function selectDeliveriesForLead(pool: Pool, leadId: string): Promise<Delivery[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE lead_id = $1 ORDER BY provider_id`,
    [leadId],
  );
  return rows.map(toDelivery);
}

export async function selectAttempts(pool: Pool, deliveryId: string): Promise<DeliveryAttempt[]> {
  const { rows } = await pool.query<{
    attempt: number;
    started_at: Date;
    duration_ms: number;
    outcome: AttemptOutcome;
    status_code: number | null;
    error: string | null;
    response_excerpt: string | null;
  }>(
    `SELECT attempt, started_at, duration_ms, outcome, status_code, error, response_excerpt
       FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt`,
    [deliveryId],
  );
  return rows.map((row) => ({
    attempt: row.attempt,
    startedAt: row.started_at.toISOString(),
    durationMs: row.duration_ms,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    responseExcerpt: row.response_excerpt,
  }));
}

/**
 * Re-queues a failed or rejected delivery, due now, with a fresh maxAttempts. Null when there
 * is no such delivery in a final state other than `delivered`, or its provider has no endpoint.
 */
export async function requeueDelivery(db: Pool | Tx, id: string): Promise<Delivery | null> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE deliveries
        SET status = 'pending', next_attempt_at = now(), attempts_base = attempts,
            -- The last answer was the one it gave up on: "pending · gave up after 3 attempts"
            -- read as a contradiction. The attempts keep every answer.
            last_status_code = NULL, last_error = NULL, updated_at = now()
      WHERE id = $1 AND status IN ('failed', 'rejected')
        -- Without an endpoint it would wait forever: nothing claims it.
        AND EXISTS (SELECT 1 FROM provider_delivery pd WHERE pd.provider_id = deliveries.provider_id)
     RETURNING ${DELIVERY_COLUMNS}`,
    [id],
  );
  return rows[0] ? toDelivery(rows[0]) : null;
}

/** Re-queues every delivery of a provider in `status`; returns how many. */
export async function requeueProviderDeliveries(
  db: Pool | Tx,
  providerId: number,
  status: 'failed' | 'rejected',
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE deliveries
        SET status = 'pending', next_attempt_at = now(), attempts_base = attempts,
            -- The last answer was the one it gave up on: "pending · gave up after 3 attempts"
            -- read as a contradiction. The attempts keep every answer.
            last_status_code = NULL, last_error = NULL, updated_at = now()
      WHERE provider_id = $1 AND status = $2
        AND EXISTS (SELECT 1 FROM provider_delivery pd WHERE pd.provider_id = $1)`,
    [providerId, status],
  );
  return rowCount ?? 0;
}

/** A provider's endpoint with its real header values and secret, or null when it has none. */
export async function selectStoredDelivery(
  db: Pool | Tx,
  providerId: number,
): Promise<DeliveryConfig | null> {
  const { rows } = await db.query<EndpointRow>(
    `SELECT url, method, format, headers, fields, timeout_ms, max_attempts, accept_pattern,
            signing_secret
       FROM provider_delivery WHERE provider_id = $1`,
    [providerId],
  );
  const row = rows[0];
  return row ? toDeliveryConfig(row) : null;
}

export async function providerExists(db: Pool | Tx, providerId: number): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM providers WHERE id = $1', [providerId]);
  return rows.length > 0;
}

export async function insertDeliveryTest(db: Pool | Tx, test: DeliveryTestAnswer): Promise<void> {
  await db.query(
    `INSERT INTO delivery_tests
       (id, provider_id, url, started_at, duration_ms, outcome, status_code, error,
        response_excerpt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      test.id,
      test.providerId,
      test.url,
      test.startedAt,
      test.durationMs,
      test.outcome,
      test.statusCode,
      test.error,
      test.responseExcerpt,
    ],
  );
}

/** Deletes test sends older than `days` (delivery_tests_started_idx); returns how many. */
export async function deleteDeliveryTestsOlderThan(pool: Pool, days: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM delivery_tests WHERE started_at < now() - make_interval(days => $1)`,
    [days],
  );
  return rowCount ?? 0;
}

/**
 * Attempts per provider over the last `minutes`, by outcome. A range scan of
 * delivery_attempts_started_idx, each attempt joined to its delivery by primary key.
 */
export async function selectDeliveryStats(
  pool: Pool,
  minutes: number,
): Promise<ProviderDeliveryStats[]> {
  const { rows } = await pool.query<{
    provider_id: number;
    attempts: number;
    delivered: number;
    rejected: number;
  }>(
    `SELECT d.provider_id,
            count(*)::int AS attempts,
            count(*) FILTER (WHERE a.outcome = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE a.outcome = 'rejected')::int AS rejected
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
      WHERE a.started_at > now() - make_interval(mins => $1)
      GROUP BY d.provider_id
      ORDER BY d.provider_id`,
    [minutes],
  );
  return rows.map((row) => ({
    providerId: row.provider_id,
    attempts: row.attempts,
    delivered: row.delivered,
    rejected: row.rejected,
    failed: row.attempts - row.delivered - row.rejected,
    rate: row.delivered / row.attempts,
  }));
}
