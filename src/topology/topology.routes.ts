import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  errorBody,
  idParams,
  newProvider,
  newService,
  provider,
  providerPatch,
  providerView,
  service,
  serviceChange,
  servicePatch,
  topologyListQuery,
} from '../contracts/index.js';
import { actorOf } from '../http/actor.js';
import type { Clock } from '../allocation/calendar.js';
import type { Pool } from '../db/pool.js';
import { selectProvidersWithDelivery, selectServices } from './topology.sql.js';
import type { TopologyService } from './topology.service.js';

export interface TopologyRoutesOptions {
  pool: Pool;
  topology: TopologyService;
  clock: Clock;
}

export const topologyRoutes: FastifyPluginAsyncZod<TopologyRoutesOptions> = async (
  app,
  { pool, topology, clock },
) => {
  app.get(
    '/api/providers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          'Providers, their quotas and delivery endpoints (masked); archived ones on request',
        querystring: topologyListQuery,
        response: { 200: z.array(providerView), 400: errorBody },
      },
    },
    async (request) =>
      selectProvidersWithDelivery(pool, null, clock(), request.query.archived === 'include'),
  );

  app.get(
    '/api/services',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary:
          'Services with static providers, pool and round-robin pointer; archived ones on request',
        querystring: topologyListQuery,
        response: { 200: z.array(service), 400: errorBody },
      },
    },
    async (request) => selectServices(pool, request.query.archived === 'include'),
  );

  app.post(
    '/api/providers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Create a provider',
        body: newProvider,
        response: { 201: provider, 400: errorBody, 409: errorBody },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await topology.createProvider(request.body, actorOf(request))),
  );

  app.patch(
    '/api/providers/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Change a provider (name, quota, remainingQuota, active, delivery)',
        params: idParams,
        body: providerPatch,
        response: { 200: providerView, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => topology.updateProvider(request.params.id, request.body, actorOf(request)),
  );

  app.post(
    '/api/services',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Create a service with its static providers and pool',
        body: newService,
        response: { 201: serviceChange, 400: errorBody, 409: errorBody },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await topology.createService(request.body, actorOf(request))),
  );

  app.patch(
    '/api/services/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Change a service; a new membership restarts the round-robin pointer at 0',
        params: idParams,
        body: servicePatch,
        response: { 200: serviceChange, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => topology.updateService(request.params.id, request.body, actorOf(request)),
  );

  app.delete(
    '/api/providers/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Archive a provider: inactive for good, hidden from lists, its history kept',
        params: idParams,
        response: { 200: providerView, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => topology.archiveProvider(request.params.id, actorOf(request)),
  );

  app.delete(
    '/api/services/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary:
          'Archive a service: `service_not_found` to senders, hidden from lists, history kept',
        params: idParams,
        response: { 200: service, 400: errorBody, 404: errorBody },
      },
    },
    async (request) => topology.archiveService(request.params.id, actorOf(request)),
  );
};
