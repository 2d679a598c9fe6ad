import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from './metrics.js';

/** Every answered request's duration, labelled by route pattern (not URL: ids would explode the series). */
export function observeHttpDurations(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

export const metricsRoutes: FastifyPluginAsyncZod<{ metrics: Metrics }> = async (
  app,
  { metrics },
) => {
  app.get(
    '/metrics',
    {
      // Operators' data (volumes per service and provider): ADMIN_TOKEN as a bearer when set.
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Prometheus metrics (text exposition format)',
        response: { 200: z.string().describe('text/plain; version=0.0.4: Prometheus exposition') },
      },
    },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
