import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  errorBody,
  providersReport,
  providersReportQuery,
  volumeQuery,
  volumeReport,
  type ReportInterval,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { ValidationFailed } from '../errors.js';
import { selectProvidersReport, selectVolume } from './reports.sql.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Default span when `from` is left out, and the widest allowed: 744 hourly or 366 daily buckets. */
const SPAN: Record<ReportInterval, { fallbackMs: number; maxMs: number }> = {
  hour: { fallbackMs: 48 * HOUR_MS, maxMs: 31 * DAY_MS },
  day: { fallbackMs: 7 * DAY_MS, maxMs: 366 * DAY_MS },
};

export const reportsRoutes: FastifyPluginAsyncZod<{ pool: Pool; now?: () => Date }> = async (
  app,
  { pool, now = () => new Date() },
) => {
  app.get(
    '/api/reports/volume',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          'Leads, allocated, unallocated, duplicates, delivered and failed per UTC hour or day',
        querystring: volumeQuery,
        response: { 200: volumeReport, 400: errorBody },
      },
    },
    async (request) => {
      const { interval, serviceId, providerId } = request.query;
      const to = request.query.to ? new Date(request.query.to) : now();
      const from = request.query.from
        ? new Date(request.query.from)
        : new Date(to.getTime() - SPAN[interval].fallbackMs);
      if (to.getTime() - from.getTime() > SPAN[interval].maxMs) {
        throw new ValidationFailed(
          [
            {
              path: 'from',
              message: `at most ${SPAN[interval].maxMs / DAY_MS} days of ${interval}ly buckets`,
            },
          ],
          'invalid_query',
        );
      }
      return selectVolume(pool, {
        interval,
        from: from.toISOString(),
        to: to.toISOString(),
        serviceId,
        providerId,
      });
    },
  );

  app.get(
    '/api/reports/providers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Per provider: allocations and delivery outcomes in a time range',
        querystring: providersReportQuery,
        response: { 200: providersReport, 400: errorBody },
      },
    },
    async (request) => {
      // Without `from`: the current UTC day, "how many leads did each provider get today".
      return selectProvidersReport(pool, {
        from: request.query.from,
        to: request.query.to ?? now().toISOString(),
      });
    },
  );
};
