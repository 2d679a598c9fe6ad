import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Webhook } from 'standardwebhooks';
import { errorBody, resetQuotaBody, resetQuotaResponse } from '../contracts/index.js';
import { transaction, type Pool } from '../db/pool.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { AppError, InvalidPayload, Unauthorized } from '../errors.js';
import { insertAudit } from '../audit/audit.sql.js';
import { actorOf } from '../http/actor.js';
import { selectProviderIds } from '../topology/topology.sql.js';
import { claimWebhookEvent, recordWebhookResult, resetProviderQuotas } from './webhook.sql.js';

export interface WebhookRoutesOptions {
  pool: Pool;
  committed: EventsCommitted;
  /** Standard Webhooks secret (`whsec_…`); when set, unsigned calls get 401. */
  secret?: string;
}

export const webhookRoutes: FastifyPluginAsyncZod<WebhookRoutesOptions> = async (
  app,
  { pool, committed, secret },
) => {
  const verifier = secret ? new Webhook(secret) : undefined;

  app.post(
    '/api/webhook/reset-quota',
    {
      config: { access: 'signed' },
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: 'Reset provider quotas, exactly once per event id',
        body: resetQuotaBody,
        response: { 200: resetQuotaResponse, 400: errorBody, 401: errorBody, 415: errorBody },
      },
    },
    async (request) => {
      if (verifier) {
        try {
          verifier.verify(
            request.rawBody ?? Buffer.alloc(0),
            request.headers as Record<string, string>,
          );
        } catch {
          throw new Unauthorized();
        }
      }
      if (request.validationError) throw new InvalidPayload();
      const headerId = request.headers['webhook-id'];
      const eventId =
        request.body.eventId ?? (verifier && typeof headerId === 'string' ? headerId : undefined);
      // The header is held to the body's rule: 1–255 characters (a 3,000-character id
      // overflowed the primary key's index entry, a 500).
      if (!eventId || eventId.length > 255) throw new InvalidPayload();
      const providerIds = request.body.providerIds ? [...new Set(request.body.providerIds)] : null;

      return transaction(pool, async (tx) => {
        if (!(await claimWebhookEvent(tx, eventId, 'reset-quota'))) {
          request.outcome = 'duplicate';
          return { ok: true as const, duplicate: true as const };
        }
        if (providerIds) {
          const known = new Set(await selectProviderIds(tx, providerIds));
          const unknown = providerIds.filter((id) => !known.has(id));
          if (unknown.length > 0)
            throw new AppError(400, 'unknown_provider', { providerIds: unknown });
        }
        const { before, providers } = await resetProviderQuotas(tx, providerIds);
        await recordWebhookResult(tx, eventId, { reset: providers.map((provider) => provider.id) });
        await insertAudit(tx, {
          actor: actorOf(request),
          action: 'quota.reset',
          entity: 'provider',
          entityId: providerIds?.length === 1 ? providerIds[0]! : null,
          before: { eventId, providers: before },
          after: { eventId, providers },
        });
        await appendEvents(tx, committed, [
          { type: 'quota.reset', payload: { eventId, providers } },
        ]);
        request.outcome = 'reset';
        return { ok: true as const, duplicate: false as const, reset: providers.length };
      });
    },
  );
};
