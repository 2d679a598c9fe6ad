import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { selectAllocationsForLeads, selectAttemptsForLead } from '../allocation/allocation.sql.js';
import {
  errorBody,
  leadDetail,
  leadListQuery,
  leadPage,
  leadParams,
  stats,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { selectDeliveriesForLead } from '../delivery/delivery.sql.js';
import { selectEventsForLead } from '../events/events.sql.js';
import { InvalidPayload, NotFound } from '../errors.js';
import { selectLeadDetail, selectLeads, selectStats } from './leads.sql.js';

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // Exactly what encodeCursor writes: JavaScript's Date.parse takes strings PostgreSQL's
  // timestamptz refuses ("1", "hello 2020"), which were a 500.
  if (
    !createdAt ||
    !id ||
    !ISO_INSTANT.test(createdAt) ||
    Number.isNaN(Date.parse(createdAt)) ||
    !z.uuid().safeParse(id).success
  ) {
    throw new InvalidPayload();
  }
  return { createdAt, id };
}

export const leadsRoutes: FastifyPluginAsyncZod<{ pool: Pool }> = async (app, { pool }) => {
  app.get(
    '/api/leads',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          'Leads, newest first; `q` searches email, phone, name and the id or its last 8+ hex digits; cursor paging',
        querystring: leadListQuery,
        response: { 200: leadPage, 400: errorBody },
      },
    },
    async (request) => {
      const { status, q, cursor, limit } = request.query;
      const items = await selectLeads(pool, {
        status,
        q,
        cursor: cursor ? decodeCursor(cursor) : undefined,
        limit,
      });
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: items.length === limit && last ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
  );

  app.get(
    '/api/leads/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'One lead with its raw request, allocations, deliveries and events',
        params: leadParams,
        response: { 200: leadDetail, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const detail = await selectLeadDetail(pool, request.params.id);
      if (!detail) throw new NotFound('lead_not_found');
      const [allocations, decisions, deliveries, events] = await Promise.all([
        selectAllocationsForLeads(pool, [request.params.id]),
        selectAttemptsForLead(pool, request.params.id),
        selectDeliveriesForLead(pool, request.params.id),
        selectEventsForLead(pool, request.params.id),
      ]);
      return { ...detail, allocations, decisions, deliveries, events };
    },
  );

  app.get(
    '/api/stats',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Counts by status and recent ingest / allocation rates',
        response: { 200: stats },
      },
    },
    async () => selectStats(pool),
  );
};
