import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  allocatedResponse,
  allocateLeadBody,
  allocationRow,
  allocationsQuery,
  errorBody,
  leadParams,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { actorOf } from '../http/actor.js';
import { NotFound, ValidationFailed } from '../errors.js';
import { refusalOf, type AllocationService } from './allocation.service.js';
import { selectRecentAllocations } from './allocation.sql.js';

export const allocationRoutes: FastifyPluginAsyncZod<{
  pool: Pool;
  allocation: AllocationService;
}> = async (app, { pool, allocation }) => {
  app.get(
    '/api/allocations',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Most recent allocations, newest first',
        querystring: allocationsQuery,
        response: { 200: z.array(allocationRow), 400: errorBody },
      },
    },
    async (request) => selectRecentAllocations(pool, request.query.limit),
  );

  app.post(
    '/api/leads/:id/allocate',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['distribution'],
        summary:
          'Try to allocate a stored lead now (new, unallocated or expired), to its service or `serviceId`',
        params: leadParams,
        // nullish: a POST without a body (curl -X POST) arrives as null.
        body: allocateLeadBody.nullish(),
        response: { 201: allocatedResponse, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      const leadId = request.params.id;
      request.leadId = leadId;
      const answer = await allocation.allocateNow(
        leadId,
        request.body?.serviceId,
        actorOf(request),
      );
      if (!answer) throw new NotFound('lead_not_found');
      const { result, repeated } = answer;
      if (!result.ok) {
        request.outcome = result.error;
        if (result.error === 'service_not_found') throw new NotFound('service_not_found');
        // A lead stored without a service needs one named: the refusal says which field.
        if (result.error === 'not_allocated') {
          throw new ValidationFailed([
            { path: 'serviceId', message: 'the lead has no service: name one' },
          ]);
        }
        throw refusalOf(leadId, result);
      }
      request.outcome = repeated ? 'duplicate' : 'allocated';
      return reply.status(201).send({
        ok: true,
        lead_id: leadId,
        service_id: result.serviceId,
        providers: result.providers,
        deduplicated: repeated,
      });
    },
  );
};
