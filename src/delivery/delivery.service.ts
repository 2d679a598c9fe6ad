import { cleanText } from '../ingest/normalize.js';
import { randomUUID } from 'node:crypto';
import { insertAudit } from '../audit/audit.sql.js';
import type { Delivery, DeliveryConfigRequest, DeliveryTestAnswer } from '../contracts/index.js';
import { transaction, type Pool } from '../db/pool.js';
import { AppError, NotFound, ValidationFailed } from '../errors.js';
import { refuseUrl } from './address-guard.js';
import {
  insertDeliveryTest,
  providerExists,
  requeueDelivery,
  requeueProviderDeliveries,
  selectDelivery,
  selectStoredDelivery,
} from './delivery.sql.js';
import { classify } from './outcome.js';
import { testPayload } from './payload.js';
import { resolveSecrets } from './secrets.js';
import { EXCERPT_CHARS, type DeliverySender } from './sender.js';

// A test is one attempt: what a delivery would retry is reported as not delivered, with why.
const ONE_ATTEMPT = {
  attemptsSinceRequeue: 1,
  maxAttempts: 2,
  policy: { retryBaseMs: 1, retryMaxMs: 1 },
  random: Math.random,
};

/** "Send a test lead": one send to a provider's endpoint, recorded apart from deliveries. */
export class DeliveryTestService {
  constructor(
    private readonly pool: Pool,
    private readonly sender: DeliverySender,
    /** Refuse URLs that reach loopback, private or link-local addresses (SPEC §9). */
    private readonly guardUrls: boolean,
  ) {}

  /**
   * Sends a test lead to `given` (an endpoint not saved yet, its masked values taken from the
   * stored one) or to the stored endpoint, and answers what the buyer answered. Creates no
   * lead, allocation or delivery, touches no quota and no delivery health.
   */
  async sendTest(
    providerId: number,
    given: DeliveryConfigRequest | undefined,
    actor: string,
  ): Promise<DeliveryTestAnswer> {
    if (!(await providerExists(this.pool, providerId))) throw new NotFound('provider_not_found');
    const stored = await selectStoredDelivery(this.pool, providerId);
    const endpoint = given ? resolveSecrets(given, stored) : stored;
    if (!endpoint) {
      throw new AppError(409, 'conflict', {
        details: [{ path: 'delivery', message: 'this provider has no delivery endpoint yet' }],
      });
    }
    if (given && this.guardUrls) {
      const refused = await refuseUrl(endpoint.url);
      if (refused) {
        throw new ValidationFailed([{ path: 'delivery.url', message: `not allowed: ${refused}` }]);
      }
    }
    const id = randomUUID();
    const startedAt = new Date();
    const result = await this.sender.send({
      id,
      endpoint,
      payload: testPayload(id, providerId, endpoint.fields),
      headers: { 'leadflow-test': 'true' },
    });
    const outcome = classify(result, {
      ...ONE_ATTEMPT,
      acceptPattern: endpoint.acceptPattern,
      now: Date.now(),
    });
    const answer: DeliveryTestAnswer = {
      id,
      providerId,
      url: endpoint.url,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      outcome: outcome.outcome === 'retry' ? 'failed' : outcome.outcome,
      statusCode: result.kind === 'response' ? result.statusCode : null,
      // Storable, as in the dispatcher: a NUL in the buyer's answer would fail the insert.
      error:
        outcome.outcome === 'retry'
          ? cleanText(`${outcome.error} (a delivery would be retried)`)
          : outcome.error && cleanText(outcome.error),
      responseExcerpt:
        result.kind === 'response' ? cleanText(result.body.slice(0, EXCERPT_CHARS)) : null,
    };
    await transaction(this.pool, async (tx) => {
      await insertDeliveryTest(tx, answer);
      await insertAudit(tx, {
        actor,
        action: 'delivery.test_sent',
        entity: 'provider',
        entityId: providerId,
        before: null,
        after: answer,
      });
    });
    return answer;
  }
}

/** A re-queue of a provider without an endpoint: its deliveries would wait forever. */
function noEndpoint(): AppError {
  return new AppError(409, 'conflict', {
    details: [
      { path: 'delivery', message: 'the provider has no delivery endpoint: set one, then retry' },
    ],
  });
}

/** An operator's re-queues of failed or rejected deliveries, each with its audit row. */
export class DeliveryRetries {
  constructor(private readonly pool: Pool) {}

  /** The re-queued delivery; 404 for an unknown one, 409 for one that cannot be retried. */
  async retryOne(id: string, actor: string): Promise<Delivery> {
    return transaction(this.pool, async (tx) => {
      const before = await selectDelivery(tx, id);
      if (!before) throw new NotFound('delivery_not_found');
      const queued = await requeueDelivery(tx, id);
      if (!queued) {
        if (before.status === 'failed' || before.status === 'rejected') throw noEndpoint();
        throw new AppError(409, 'conflict', {
          details: [{ path: 'status', message: `a ${before.status} delivery cannot be retried` }],
        });
      }
      await insertAudit(tx, {
        actor,
        action: 'delivery.retried',
        entity: 'delivery',
        entityId: id,
        before,
        after: queued,
      });
      return queued;
    });
  }

  /** How many of the provider's deliveries in `status` were re-queued (0 is audited too). */
  async retryProvider(
    providerId: number,
    status: 'failed' | 'rejected',
    actor: string,
  ): Promise<number> {
    return transaction(this.pool, async (tx) => {
      if (!(await providerExists(tx, providerId))) throw new NotFound('provider_not_found');
      const requeued = await requeueProviderDeliveries(tx, providerId, status);
      // Re-queued rows would wait forever: nothing claims a delivery without an endpoint.
      if (requeued === 0 && !(await selectStoredDelivery(tx, providerId))) throw noEndpoint();
      await insertAudit(tx, {
        actor,
        action: 'delivery.bulk_retried',
        entity: 'provider',
        entityId: providerId,
        before: { status, deliveries: requeued },
        after: { status: 'pending', deliveries: requeued },
      });
      return requeued;
    });
  }
}
