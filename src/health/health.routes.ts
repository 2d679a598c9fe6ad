import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { health, notReady, okBody } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';

export const healthRoutes: FastifyPluginAsyncZod<{
  pool: Pool;
  draining: { readonly active: boolean };
}> = async (app, { pool, draining }) => {
  app.get(
    '/health',
    {
      config: { access: 'open' },
      schema: {
        tags: ['operations'],
        summary: 'Process is alive (does not touch the database)',
        response: { 200: health },
      },
    },
    async () => ({ ok: true as const, timestamp: new Date().toISOString() }),
  );

  app.get(
    '/ready',
    {
      config: { access: 'open' },
      schema: {
        tags: ['operations'],
        summary: '200 when the database answers and the instance is not draining, 503 otherwise',
        response: { 200: okBody, 503: notReady },
      },
    },
    async (_request, reply) => {
      // SPEC §12: a draining instance still answers in-flight work, but takes no new work.
      if (draining.active) {
        return reply
          .status(503)
          .header('retry-after', '1')
          .send({ ok: false as const, error: 'unavailable' as const });
      }
      try {
        // A short timeout: a load balancer asks often and must not queue behind a dead pool.
        await Promise.race([
          pool.query('SELECT 1'),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
        ]);
        return { ok: true as const };
      } catch {
        return reply
          .status(503)
          .header('retry-after', '2')
          .send({ ok: false as const, error: 'unavailable' as const });
      }
    },
  );
};
