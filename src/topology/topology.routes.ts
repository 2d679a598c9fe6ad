import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../db/pool.js';
import { errorBody, rowId, rowIdParam, storableText } from '../http/schemas.js';
import { SLUG_PATTERN } from './slug.js';
import { selectProviders, selectServices } from './topology.sql.js';
import type { TopologyService } from './topology.service.js';

const provider = z.object({
  id: z.number().int(),
  name: z.string(),
  quota: z.number().int(),
  remainingQuota: z.number().int(),
  active: z.boolean(),
});

const service = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  providersPerLead: z.number().int(),
  static: z.array(z.number().int()),
  pool: z.array(z.number().int()),
  pointer: z.number().int(),
});

const serviceChange = z.object({ service, warnings: z.array(z.string()) });

const quota = z.number().int().min(0).max(1_000_000_000);
const providerName = storableText(z.string().trim().min(1).max(100));
const providerIds = z.array(rowId).max(1000);
const slug = z
  .string()
  .trim()
  .regex(SLUG_PATTERN, 'lowercase letters, digits and dashes, with at least one letter');

const providerPatch = z
  .object({ name: providerName, quota, remainingQuota: quota, active: z.boolean() })
  .partial()
  .strict();

const servicePatch = z
  .object({
    slug,
    name: storableText(z.string().trim().min(1).max(200)),
    providersPerLead: z.number().int().min(1).max(100),
    static: providerIds,
    pool: providerIds,
  })
  .partial()
  .strict();

const idParam = z.object({ id: rowIdParam });

export interface TopologyRoutesOptions {
  pool: Pool;
  topology: TopologyService;
}

export const topologyRoutes: FastifyPluginAsyncZod<TopologyRoutesOptions> = async (
  app,
  { pool, topology },
) => {
  app.get(
    '/api/providers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Providers and their quotas',
        response: { 200: z.array(provider) },
      },
    },
    async () => selectProviders(pool),
  );

  app.get(
    '/api/services',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['reading'],
        summary: 'Services with static providers, pool and round-robin pointer',
        response: { 200: z.array(service) },
      },
    },
    async () => selectServices(pool),
  );

  app.post(
    '/api/providers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Create a provider',
        body: providerPatch.required({ name: true, quota: true }),
        response: { 201: provider, 400: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => reply.status(201).send(await topology.createProvider(request.body)),
  );

  app.patch(
    '/api/providers/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Change a provider (name, quota, remainingQuota, active)',
        params: idParam,
        body: providerPatch,
        response: { 200: provider, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => topology.updateProvider(request.params.id, request.body),
  );

  app.post(
    '/api/services',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Create a service with its static providers and pool',
        body: servicePatch.required({ slug: true, name: true }),
        response: { 201: serviceChange, 400: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => reply.status(201).send(await topology.createService(request.body)),
  );

  app.patch(
    '/api/services/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['configuring'],
        summary: 'Change a service; a new membership restarts the round-robin pointer at 0',
        params: idParam,
        body: servicePatch,
        response: { 200: serviceChange, 400: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => topology.updateService(request.params.id, request.body),
  );
};
