import { pageOf } from '../http/page.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { auditPage, auditQuery, errorBody } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { selectAudit } from './audit.sql.js';

export interface AuditRoutesOptions {
  pool: Pool;
}

export const auditRoutes: FastifyPluginAsyncZod<AuditRoutesOptions> = async (app, { pool }) => {
  app.get(
    '/api/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Every configuration change and manual action, newest first; cursor paging',
        querystring: auditQuery,
        response: { 200: auditPage, 400: errorBody },
      },
    },
    async (request) => {
      const { limit } = request.query;
      const rows = await selectAudit(pool, { ...request.query, limit: limit + 1 });
      return pageOf(rows, limit, (last) => last.id);
    },
  );
};
