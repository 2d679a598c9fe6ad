import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../db/pool.js';
import { selectRecentAllocations } from './allocation.sql.js';

export interface AllocationRoutesOptions {
  pool: Pool;
}

export const allocationRoutes: FastifyPluginAsyncZod<AllocationRoutesOptions> = async (
  app,
  { pool },
) => {
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
