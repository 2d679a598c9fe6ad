import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  allocatedResponse,
  errorBody,
  idempotencyHeaders,
  ingestResponse,
  leadBody,
  requestServiceBody,
  type AllocationAnswer,
  type IngestResponse,
} from '../contracts/index.js';
import {
  refusalOf,
  type AllocationResult,
  type AllocationService,
} from '../allocation/allocation.service.js';
import { isIntegerId } from '../db/ids.js';
import { InvalidPayload, ServiceNotFound } from '../errors.js';
import { errorResponses, validatedByHandler } from '../http/schemas.js';
import { rawRequestOf } from './raw-request.js';
import type { IngestService } from './ingest.service.js';
import { serviceReference } from './normalize.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface IngestRoutesOptions {
  ingest: IngestService;
  allocation: AllocationService;
}

/** An allocation as the ingestion answers carry it, in the spec's snake_case. */
function allocationAnswerOf(result: AllocationResult): AllocationAnswer {
  if (result.ok) return { ok: true, service_id: result.serviceId, providers: result.providers };
  if (result.error === 'duplicate_lead')
    return { ok: false, error: result.error, duplicate_of: result.duplicateOf };
  if (result.error === 'insufficient_quota' && result.skipped)
    return { ok: false, error: result.error, skipped: result.skipped };
  return { ok: false, error: result.error };
}

function parseServiceId(value: unknown): number | null {
  if (typeof value === 'number' && isIntegerId(value)) return value;
  if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) && isIntegerId(Number(value)))
    return Number(value);
  return null;
}

/**
 * The two ingestion routes. Both are raw-first (IngestService.receive); request-service then
 * allocates the stored lead, so it lives here and allocation's routes never import ingestion.
 */
export const ingestRoutes: FastifyPluginAsyncZod<IngestRoutesOptions> = async (
  app,
  { ingest, allocation },
) => {
  app.post(
    '/api/lead',
    {
      config: { access: 'ingest', rawCapture: true },
      validatorCompiler: validatedByHandler,
      schema: {
        tags: ['ingestion'],
        summary: 'Ingest a lead (raw-first, idempotent)',
        headers: idempotencyHeaders,
        body: leadBody,
        response: { 201: ingestResponse, 409: ingestResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const raw = rawRequestOf(request, 'lead');
      const { outcome, service, reference } = await ingest.receive(raw, async (intake) => {
        const payload = await ingest.screen(intake, request.body);
        const reference = serviceReference(payload);
        const service =
          reference === undefined ? undefined : await allocation.findService(reference);
        return {
          outcome: await ingest.accept(intake, payload, service?.id ?? null),
          service,
          reference,
        };
      });
      request.leadId = outcome.leadId;
      request.outcome = outcome.deduplicated ? 'duplicate' : 'created';
      const body: IngestResponse = {
        ok: true,
        lead_id: outcome.leadId,
        deduplicated: outcome.deduplicated,
      };
      if (reference !== undefined) {
        // A retry gets the first lead's answer, whatever service this copy names.
        body.allocation = allocationAnswerOf(
          outcome.deduplicated
            ? await allocation.answerFor(outcome.leadId, service?.id)
            : service
              ? await allocation.allocateLead(outcome.leadId, service.id)
              : { ok: false, error: 'service_not_found' },
        );
      }
      // Plain JSON.stringify, not the Zod response serializer: the body is built above from
      // typed fields, and re-parsing it cost ~17 of ~80 µs of server CPU per request (bench/).
      // A custom serializer leaves Content-Type unset (Fastify only sets it for its own JSON
      // serializer), so it is named here: every JSON answer says application/json.
      return reply
        .status(outcome.deduplicated ? 409 : 201)
        .type(JSON_CONTENT_TYPE)
        .serializer(JSON.stringify)
        .send(body);
    },
  );
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
        throw refusalOf(outcome.leadId, result);
      }
      request.outcome = outcome.deduplicated ? 'duplicate' : 'allocated';
      // Plain JSON.stringify, as on POST /api/lead: a body built from typed fields.
      return reply.status(201).type(JSON_CONTENT_TYPE).serializer(JSON.stringify).send({
        ok: true,
        lead_id: outcome.leadId,
        service_id: result.serviceId,
        providers: result.providers,
        deduplicated: outcome.deduplicated,
      });
    },
  );
};
