import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { demoBuyerAnswer, errorBody, idParams } from '../contracts/index.js';
import { Unauthorized } from '../errors.js';
import type { DemoBuyer } from './demo-buyer.js';

export interface DemoBuyerRoutesOptions {
  buyer: DemoBuyer;
}

/**
 * The demo buyer's endpoint (registered only where test tools are enabled). Signed access: it
 * answers Leadflow's own dispatcher, whose demo deliveries carry the buyer's per-process
 * secret; anyone else gets 401 and learns nothing. It stores nothing: a 200 is all a buyer
 * owes Leadflow.
 */
export const demoBuyerRoutes: FastifyPluginAsyncZod<DemoBuyerRoutesOptions> = async (
  app,
  { buyer },
) => {
  app.post(
    '/api/demo/buyer/:id',
    {
      config: { access: 'signed' },
      schema: {
        tags: ['test tools'],
        summary:
          'The built-in demo buyer the demo providers deliver to (P4 answers 503 now and then)',
        params: idParams,
        response: { 200: demoBuyerAnswer, 401: errorBody, 503: demoBuyerAnswer },
      },
    },
    async (request, reply) => {
      // Before the buyer has its secret (a retry sent as the server starts): come back later.
      if (!buyer.connected) {
        return reply.code(503).header('retry-after', '1').send({ accepted: false });
      }
      try {
        buyer.verify(request.rawBody ?? Buffer.alloc(0), request.headers as Record<string, string>);
      } catch {
        throw new Unauthorized();
      }
      if (buyer.answers(request.params.id) === 503) {
        return reply.code(503).send({ accepted: false });
      }
      return { accepted: true };
    },
  );
};
