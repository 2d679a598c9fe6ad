import { pageOf } from '../http/page.js';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { selectAllocationsForLeads, selectAttemptsForLead } from '../allocation/allocation.sql.js';
import {
  errorBody,
  idParams,
  leadDetail,
  leadExportQuery,
  leadListQuery,
  leadPage,
  leadParams,
  rawListQuery,
  rawPage,
  rawRequestDetail,
  stats,
} from '../contracts/index.js';
import type { PoolClient } from 'pg';
import type { Pool } from '../db/pool.js';
import { selectDeliveriesForLead } from '../delivery/delivery.sql.js';
import { selectEventsForLead } from '../events/events.sql.js';
import { NotFound, RateLimited, ValidationFailed } from '../errors.js';
import {
  EXPORT_COLUMNS,
  selectLeadDetail,
  selectLeads,
  selectRawRequest,
  selectRawRequests,
  selectStats,
  streamLeads,
} from './leads.sql.js';

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
    throw new ValidationFailed(
      [{ path: 'cursor', message: 'not a cursor this list gave' }],
      'invalid_query',
    );
  }
  return { createdAt, id };
}

/** Exports at once per instance; more answer 429 with Retry-After (see the export route). */
export const MAX_CONCURRENT_EXPORTS = 2;

export const leadsRoutes: FastifyPluginAsyncZod<{ pool: Pool }> = async (app, { pool }) => {
  let exporting = 0;
  app.get(
    '/api/leads',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          'Leads, newest first, filtered; `q` searches email, phone, name, idempotency key and the id or its last 8+ hex digits; cursor paging',
        querystring: leadListQuery,
        response: { 200: leadPage, 400: errorBody },
      },
    },
    async (request) => {
      const { cursor, limit, ...filter } = request.query;
      const rows = await selectLeads(pool, {
        ...filter,
        cursor: cursor ? decodeCursor(cursor) : undefined,
        limit: limit + 1,
      });
      return pageOf(rows, limit, (last) => encodeCursor(last.createdAt, last.id));
    },
  );

  app.get(
    '/api/leads/export.csv',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          "Every lead the filters match, newest first, as CSV (RFC 4180, UTF-8, header row; cells that a spreadsheet would run as a formula are prefixed with `'`)",
        querystring: leadExportQuery,
        response: {
          200: z.string().describe('text/csv: a header row, then one row per lead, newest first'),
          400: errorBody,
          429: errorBody,
        },
      },
    },
    async (request, reply) => {
      // Each export holds a pooled connection for as long as its client reads: a few slow
      // readers must not take the connections that ingestion needs.
      if (exporting >= MAX_CONCURRENT_EXPORTS) throw new RateLimited(5);
      exporting++;
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        exporting--;
        throw error;
      }
      const rows = streamLeads(client, request.query);
      const csv = stringify({
        header: true,
        columns: [...EXPORT_COLUMNS],
        // RFC 4180 line breaks; `=`, `+`, `-`, `@`, tab and CR at a cell's start get a `'`
        // so that a spreadsheet shows the text instead of running it (SPEC §11).
        record_delimiter: 'windows',
        escape_formulas: true,
        // A lone LF or CR inside a cell must be quoted too (the library quotes only CRLF by
        // itself): unquoted, a lead's "x\n=1+1" starts a row of its own with a live formula.
        quoted_match: /[\r\n]/,
        cast: {
          date: (value) => value.toISOString(),
          object: (value) => JSON.stringify(value),
        },
      });
      const body = new PassThrough();
      // Backpressure end to end: the cursor fetches the next 500 rows only when the socket
      // has taken the previous ones, so memory stays flat (bench: export scenario).
      pipeline(rows, csv, body)
        .catch((error: unknown) => {
          request.log.warn({ err: error }, 'lead export ended early');
          return error;
        })
        .then((error) => {
          exporting--;
          client.release(error instanceof Error ? error : undefined);
        });
      const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="leads-${stamp}.csv"`)
        .send(body as never);
    },
  );

  app.get(
    '/api/raw-requests',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Every stored request, newest first, with its status and reason; cursor paging',
        querystring: rawListQuery,
        response: { 200: rawPage, 400: errorBody },
      },
    },
    async (request) => {
      const { cursor, limit, ...filter } = request.query;
      const rows = await selectRawRequests(pool, { ...filter, beforeId: cursor, limit: limit + 1 });
      return pageOf(rows, limit, (last) => String(last.id));
    },
  );

  app.get(
    '/api/raw-requests/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'One stored request with its headers and exact body',
        params: idParams,
        response: { 200: rawRequestDetail, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const raw = await selectRawRequest(pool, request.params.id);
      if (!raw) throw new NotFound();
      return raw;
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
