import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allocationRow, allocationsQuery, errorBody } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { selectRecentAllocations } from './allocation.sql.js';

export const allocationRoutes: FastifyPluginAsyncZod<{ pool: Pool }> = async (app, { pool }) => {
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
};
