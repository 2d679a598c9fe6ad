import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  idempotencyHeaders,
  ingestResponse,
  leadBody,
  type IngestResponse,
} from '../contracts/index.js';
import { errorResponses, validatedByHandler } from '../http/schemas.js';
import { rawRequestOf } from './raw-request.js';
import type { IngestService } from './ingest.service.js';
import { serviceReference } from './normalize.js';
import type { AllocationService } from '../allocation/allocation.service.js';
import { allocationAnswerOf } from '../allocation/allocation.routes.js';

export interface IngestRoutesOptions {
  ingest: IngestService;
  allocation: AllocationService;
}

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
      return reply
        .status(outcome.deduplicated ? 409 : 201)
        .serializer(JSON.stringify)
        .send(body);
    },
  );
};
