import { pageOf } from '../http/page.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  bulkRetry,
  bulkRetryAnswer,
  delivery,
  deliveryDetail,
  deliveryListQuery,
  deliveryPage,
  deliveryParams,
  deliveryStats,
  deliveryTestAnswer,
  deliveryTestRequest,
  DELIVERY_STATS_WINDOW_MINUTES,
  errorBody,
  idParams,
} from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import { NotFound } from '../errors.js';
import { actorOf } from '../http/actor.js';
import {
  selectAttempts,
  selectDeliveries,
  selectDelivery,
  selectDeliveryStats,
} from './delivery.sql.js';
import type { DeliveryRetries, DeliveryTestService } from './delivery.service.js';

export interface DeliveryRoutesOptions {
  pool: Pool;
  /** Wakes this instance's dispatcher after a re-queue. */
  requeued: () => void;
  tests: DeliveryTestService;
  retries: DeliveryRetries;
}

export const deliveryRoutes: FastifyPluginAsyncZod<DeliveryRoutesOptions> = async (
  app,
  { pool, requeued, tests, retries },
) => {
  app.get(
    '/api/deliveries/stats',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: `Delivery attempts per provider over the last ${DELIVERY_STATS_WINDOW_MINUTES} minutes, and the share delivered`,
        response: { 200: deliveryStats },
      },
    },
    async () => ({
      windowMinutes: DELIVERY_STATS_WINDOW_MINUTES,
      providers: await selectDeliveryStats(pool, DELIVERY_STATS_WINDOW_MINUTES),
    }),
  );

  app.post(
    '/api/providers/:id/delivery/test',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary:
          'Send a test lead to the stored endpoint or to `delivery`, and answer what the buyer answered',
        description:
          'Recorded as a test: no lead, allocation or delivery is created, no quota or delivery health changes.',
        params: idParams,
        body: deliveryTestRequest,
        response: {
          200: deliveryTestAnswer,
          400: errorBody,
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (request) => tests.sendTest(request.params.id, request.body.delivery, actorOf(request)),
  );

  app.get(
    '/api/deliveries',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Deliveries, newest first; cursor paging',
        querystring: deliveryListQuery,
        response: { 200: deliveryPage, 400: errorBody },
      },
    },
    async (request) => {
      const { limit } = request.query;
      const rows = await selectDeliveries(pool, { ...request.query, limit: limit + 1 });
      return pageOf(rows, limit, (last) => last.id);
    },
  );

  app.get(
    '/api/deliveries/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'One delivery with every attempt',
        params: deliveryParams,
        response: { 200: deliveryDetail, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      const found = await selectDelivery(pool, request.params.id);
      if (!found) throw new NotFound('delivery_not_found');
      return { ...found, attemptLog: await selectAttempts(pool, found.id) };
    },
  );

  app.post(
    '/api/deliveries/:id/retry',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Re-queue a failed or rejected delivery, due now, with a fresh maxAttempts',
        params: deliveryParams,
        response: { 200: delivery, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => {
      const queued = await retries.retryOne(request.params.id, actorOf(request));
      requeued();
      return queued;
    },
  );

  app.post(
    '/api/deliveries/retry',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Re-queue every failed (or rejected) delivery of a provider',
        body: bulkRetry,
        response: { 200: bulkRetryAnswer, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => {
      const count = await retries.retryProvider(
        request.body.providerId,
        request.body.status,
        actorOf(request),
      );
      if (count > 0) requeued();
      return { ok: true as const, requeued: count };
    },
  );
};
