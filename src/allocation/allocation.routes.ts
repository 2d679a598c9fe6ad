import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InsufficientQuota, InvalidPayload, ServiceNotFound } from '../errors.js';
import {
  errorBody,
  errorResponses,
  idempotencyHeaders,
  validatedByHandler,
} from '../http/schemas.js';
import type { IngestService } from '../ingest/ingest.service.js';
import { rawRequestOf } from '../ingest/raw-request.js';
import type { AllocationService } from './allocation.service.js';
import { selectRecentAllocations } from './allocation.sql.js';
import type { Pool } from '../db/pool.js';
import { isIntegerId } from '../db/ids.js';

const providerBody = z.object({
  id: z.number().int(),
  name: z.string(),
  role: z.enum(['static', 'pool']),
});

export const allocationResultBody = z.union([
  z.object({ ok: z.literal(true), service_id: z.number().int(), providers: z.array(providerBody) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

const allocatedResponse = z.object({
  ok: z.literal(true),
  lead_id: z.uuid(),
  service_id: z.number().int(),
  providers: z.array(providerBody),
  deduplicated: z.boolean(),
});

const requestServiceBody = z
  .object({ serviceId: z.union([z.number().int().positive(), z.string()]) })
  .catchall(z.unknown())
  .describe('`serviceId` plus any contact fields (stored as a lead, like `POST /api/lead`)');

function parseServiceId(value: unknown): number | null {
  if (typeof value === 'number' && isIntegerId(value)) return value;
  if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) && isIntegerId(Number(value)))
    return Number(value);
  return null;
}

export interface AllocationRoutesOptions {
  ingest: IngestService;
  allocation: AllocationService;
  pool: Pool;
}

export const allocationRoutes: FastifyPluginAsyncZod<AllocationRoutesOptions> = async (
  app,
  { ingest, allocation, pool },
) => {
  app.post(
    '/api/request-service',
    {
      config: { access: 'ingest', rawCapture: true },
      validatorCompiler: validatedByHandler,
      schema: {
        tags: ['distribution'],
        summary: 'Store a lead and allocate it to N providers of a service',
        headers: idempotencyHeaders,
        body: requestServiceBody,
        response: {
          201: allocatedResponse,
          404: errorBody,
          409: errorBody,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const raw = rawRequestOf(request, 'request-service');
      const { outcome, service } = await ingest.receive(raw, async (intake) => {
        const payload = await ingest.screen(intake, request.body);
        const serviceId = parseServiceId(payload['serviceId'] ?? payload['service_id']);
        if (serviceId === null) return ingest.refuse(intake, new InvalidPayload());
        const service = await allocation.findService(serviceId);
        if (!service) return ingest.refuse(intake, new ServiceNotFound());
        return { outcome: await ingest.accept(intake, payload, service.id), service };
      });
      request.leadId = outcome.leadId;
      const result = outcome.deduplicated
        ? await allocation.answerFor(outcome.leadId, service.id)
        : await allocation.allocateLead(outcome.leadId, service.id);
      if (!result.ok) {
        request.outcome = result.error;
        throw new InsufficientQuota(outcome.leadId);
      }
      request.outcome = outcome.deduplicated ? 'duplicate' : 'allocated';
      // Plain JSON.stringify, as on POST /api/lead: a body built from typed fields.
      return reply.status(201).serializer(JSON.stringify).send({
        ok: true,
        lead_id: outcome.leadId,
        service_id: result.service_id,
        providers: result.providers,
        deduplicated: outcome.deduplicated,
      });
    },
  );

  app.get(
    '/api/allocations',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Most recent allocations, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      },
    },
    async (request) => selectRecentAllocations(pool, request.query.limit),
  );
};
