import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('reading the topology', () => {
  it('lists the seeded demo providers and services (SPEC §2)', async () => {
    const providers = await call('GET', '/api/providers');
    expect(providers.body).toHaveLength(8);
    expect(providers.body[0]).toEqual({
      id: 1,
      name: 'P1',
      quota: 10,
      remainingQuota: 10,
      active: true,
      archivedAt: null,
      timezone: 'UTC',
      caps: {},
      schedule: [],
      filters: [],
      deliveryState: 'none',
      delivery: null,
      capUsage: { hour: 0, day: 0, week: 0, month: 0 },
      capped: false,
      openNow: true,
    });
    const services = await call('GET', '/api/services');
    expect(services.body).toEqual([
      {
        id: 1,
        slug: 'service-1',
        name: 'Service 1',
        providersPerLead: 3,
        static: [1],
        pool: [2, 3, 4],
        pointer: 0,
        archivedAt: null,
        dedupe: null,
        backlogHours: 24,
        backlog: 0,
      },
      {
        id: 2,
        slug: 'service-2',
        name: 'Service 2',
        providersPerLead: 3,
        static: [5],
        pool: [6, 7, 8],
        pointer: 0,
        archivedAt: null,
        dedupe: null,
        backlogHours: 24,
        backlog: 0,
      },
      {
        id: 3,
        slug: 'service-3',
        name: 'Service 3',
        providersPerLead: 3,
        static: [1, 4],
        pool: [2, 3, 5, 6, 7, 8],
        pointer: 0,
        archivedAt: null,
        dedupe: null,
        backlogHours: 24,
        backlog: 0,
      },
    ]);
  });
});

describe('configuring the topology', () => {
  it('creates a provider and a service that uses it', async () => {
    const provider = await call('POST', '/api/providers', { name: 'P9', quota: 5 });
    expect(provider).toMatchObject({
      status: 201,
      body: { name: 'P9', quota: 5, remainingQuota: 5, active: true },
    });
    const service = await call('POST', '/api/services', {
      slug: 'service-9',
      name: 'Service 9',
      providersPerLead: 2,
      static: [provider.body.id],
      pool: [1, 2],
    });
    expect(service).toMatchObject({
      status: 201,
      body: {
        service: { slug: 'service-9', static: [provider.body.id], pool: [1, 2], pointer: 0 },
        warnings: [],
      },
    });
  });

  it('reports, but allows, a service that can never be filled', async () => {
    const service = await call('POST', '/api/services', {
      slug: 'tiny',
      name: 'Tiny',
      static: [1],
    });
    expect(service.status).toBe(201);
    expect(service.body.warnings).toHaveLength(1);
  });

  it('refuses unknown providers, duplicates, bad values and unknown ids with clear errors', async () => {
    expect(await call('PATCH', '/api/services/1', { pool: [2, 3, 99] })).toMatchObject({
      status: 400,
      body: { ok: false, error: 'unknown_provider', providerIds: [99] },
    });
    expect(await call('PATCH', '/api/services/1', { static: [2], pool: [2, 3] })).toMatchObject({
      status: 400,
      body: { ok: false, error: 'invalid_payload' },
    });
    const negative = await call('PATCH', '/api/providers/1', { quota: -1 });
    expect(negative).toMatchObject({ status: 400, body: { ok: false, error: 'invalid_payload' } });
    expect(negative.body.details[0].path).toBe('quota');
    expect(await call('PATCH', '/api/providers/1', { remainingQuota: 11 })).toMatchObject({
      status: 400,
    });
    expect(await call('PATCH', '/api/providers/1', { colour: 'red' })).toMatchObject({
      status: 400,
    });
    expect(await call('PATCH', '/api/providers/404', { quota: 1 })).toMatchObject({
      status: 404,
      body: { error: 'provider_not_found' },
    });
    expect(await call('POST', '/api/providers', { name: 'P1', quota: 1 })).toMatchObject({
      status: 409,
      body: { ok: false, error: 'conflict' },
    });
    // Nothing above changed service 1.
    const services = await call('GET', '/api/services');
    expect(services.body[0]).toMatchObject({ static: [1], pool: [2, 3, 4] });
  });

  it('lowers remaining quota with the quota, and keeps it when the quota is raised', async () => {
    expect((await call('PATCH', '/api/providers/6', { quota: 4 })).body).toMatchObject({
      quota: 4,
      remainingQuota: 4,
    });
    expect((await call('PATCH', '/api/providers/6', { quota: 50 })).body).toMatchObject({
      quota: 50,
      remainingQuota: 4,
    });
  });
});
