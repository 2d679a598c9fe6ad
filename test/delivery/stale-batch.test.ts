/**
 * A stale send's outcome (attempt 1: its lease ran out and the row was claimed again) and the
 * newer send's outcome (attempt 2) recorded in the same batch: only attempt 2 decides the
 * delivery and its final event, on both of the recorder's paths (one statement for a batch of
 * answers from healthy providers; the locking transaction otherwise).
 */
import pino from 'pino';
import { expect, it } from 'vitest';
import { AttemptRecorder, type FinishedAttempt } from '../../src/delivery/recorder.js';
import { post } from '../helpers/app.js';
import { call, setup } from './harness.js';

const FINAL = {
  delivered: 'delivery.succeeded',
  rejected: 'delivery.rejected',
  failed: 'delivery.failed',
} as const;

for (const [stale, fresh, failuresBefore] of [
  ['delivered', 'failed', 0],
  ['delivered', 'retry', 0],
  ['rejected', 'failed', 0],
  ['delivered', 'rejected', 1],
  ['delivered', 'rejected', 0],
] as const) {
  it(`stale ${stale} + newer ${fresh} in one batch, ${failuresBefore} failures before`, async () => {
    const { app, db } = await setup({ DELIVERY_CONCURRENCY: '0' });
    const endpoint = { delivery: { url: 'http://127.0.0.1:9/x' } };
    expect((await call(app, 'PATCH', '/api/providers/1', endpoint)).status).toBe(200);
    const lead = await post(`${app.url}/api/request-service`, { serviceId: 1 });
    expect(lead.status).toBe(201);
    const { rows } = await db.pool.query<{ id: string }>(
      `UPDATE deliveries SET attempts = 2, leased_until = now() + interval '1 minute',
              next_attempt_at = now() + interval '1 minute'
        WHERE lead_id = $1 AND provider_id = 1 RETURNING id`,
      [lead.body.lead_id],
    );
    const id = rows[0]!.id;
    await db.pool.query('UPDATE provider_delivery SET consecutive_failures = $1', [failuresBefore]);
    const recorder = new AttemptRecorder(
      db.pool,
      pino({ level: 'silent' }),
      { announce() {} } as never,
      { pauseAfter: 10, probeMs: 60_000 },
      () => {},
    );
    const attempt = (n: number, outcome: FinishedAttempt['outcome']): FinishedAttempt => ({
      deliveryId: id,
      leadId: String(lead.body.lead_id),
      providerId: 1,
      attempt: n,
      startedAt: new Date(),
      durationMs: 1,
      outcome,
      statusCode: outcome === 'delivered' || outcome === 'rejected' ? 200 : 500,
      error: null,
      responseExcerpt: null,
      retryInMs: outcome === 'retry' ? 60_000 : null,
    });
    await Promise.all([recorder.record(attempt(1, stale)), recorder.record(attempt(2, fresh))]);
    const status = await db.pool.query('SELECT status FROM deliveries WHERE id = $1', [id]);
    expect(status.rows[0].status).toBe(fresh === 'retry' ? 'pending' : fresh);
    const events = await db.pool.query(
      `SELECT type, payload->>'attempts' AS attempt FROM events
        WHERE payload->>'deliveryId' = $1 ORDER BY id`,
      [id],
    );
    expect(events.rows).toEqual(fresh === 'retry' ? [] : [{ type: FINAL[fresh], attempt: '2' }]);
    const attempts = await db.pool.query(
      'SELECT count(*)::int AS n FROM delivery_attempts WHERE delivery_id = $1',
      [id],
    );
    expect(attempts.rows[0].n).toBe(2);
  });
}
