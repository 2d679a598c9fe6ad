import { cleanText } from '../ingest/normalize.js';
import { randomUUID } from 'node:crypto';
import type { DeliveryConfigRequest, DeliveryTestAnswer } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { AppError, NotFound, ValidationFailed } from '../errors.js';
import { refuseUrl } from './address-guard.js';
import { insertDeliveryTest, providerExists, selectStoredDelivery } from './delivery.sql.js';
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
    await insertDeliveryTest(this.pool, answer);
    return answer;
  }
}
