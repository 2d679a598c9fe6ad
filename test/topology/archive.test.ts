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

/** Waits until `count` backends of this database wait for a row lock. */
async function waitForLockWaiters(count: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} backends waited for a lock`);
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary answers
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('archiving a service (DELETE /api/services/:id)', () => {
  it('answers service_not_found to senders from then on, and keeps its leads and allocations', async () => {
    const created = await call('POST', '/api/services', {
      slug: 'retiring',
      name: 'Retiring',
      providersPerLead: 1,
      pool: [7],
    });
    const id: number = created.body.service.id;
    const lead = await call('POST', '/api/request-service', {
      serviceId: id,
      email: 'r@example.com',
    });
    expect(lead.status).toBe(201);

    const archived = await call('DELETE', `/api/services/${id}`);
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ id, slug: 'retiring', archivedAt: expect.any(String) });

    expect((await call('POST', '/api/request-service', { serviceId: id })).body).toEqual({
      ok: false,
      error: 'service_not_found',
    });
    const bySlug = await call('POST', '/api/lead', { email: 's@example.com', service: 'retiring' });
    expect(bySlug.status).toBe(201);
    expect(bySlug.body.allocation).toMatchObject({ ok: false, error: 'service_not_found' });

    // History stays: the first lead's allocation is still there.
    const detail = await call('GET', `/api/leads/${lead.body.lead_id}`);
    expect(detail.body.allocations).toHaveLength(1);
  });

  it('refuses an allocation that waited for the archive to commit (no 201 after its 200)', async () => {
    const created = await call('POST', '/api/services', {
      slug: 'racing',
      name: 'Racing',
      providersPerLead: 1,
      pool: [6],
    });
    const id: number = created.body.service.id;
    // Hold the services row, so the archive takes the allocation lock and then waits here.
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM services WHERE id = $1 FOR UPDATE', [id]);
      const archive = call('DELETE', `/api/services/${id}`);
      await waitForLockWaiters(1);
      // This allocation queues behind the archive's lock on the service's allocation state.
      const lead = call('POST', '/api/request-service', {
        serviceId: id,
        email: 'late@example.com',
      });
      await waitForLockWaiters(2);
      await holder.query('COMMIT');
      expect((await archive).status).toBe(200);
      const answer = await lead;
      expect(answer.status).toBe(404);
      expect(answer.body.error).toBe('service_not_found');
    } finally {
      holder.release();
    }
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM allocations WHERE service_id = $1',
      [id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('hides it from the list unless asked, and refuses to change or archive it again', async () => {
    const id = (
      await call('POST', '/api/services', { slug: 'hidden', name: 'Hidden', pool: [1, 2, 3] })
    ).body.service.id;
    await call('DELETE', `/api/services/${id}`);
    const live = (await call('GET', '/api/services')).body as { id: number }[];
    expect(live.map((service) => service.id)).not.toContain(id);
    const all = (await call('GET', '/api/services?archived=include')).body as {
      id: number;
      archivedAt: string | null;
    }[];
    expect(all.find((service) => service.id === id)?.archivedAt).toEqual(expect.any(String));
    expect((await call('GET', '/api/services?archived=maybe')).status).toBe(400);

    expect((await call('PATCH', `/api/services/${id}`, { name: 'Back' })).body.error).toBe(
      'service_not_found',
    );
    expect((await call('DELETE', `/api/services/${id}`)).status).toBe(404);
    expect((await call('DELETE', '/api/services/99999')).status).toBe(404);
  });

  it('frees its slug for a new service; a live duplicate is refused on the slug field', async () => {
    const first = await call('POST', '/api/services', { slug: 'reused', name: 'First' });
    const duplicate = await call('POST', '/api/services', { slug: 'reused', name: 'Second' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.details).toEqual([
      { path: 'slug', message: 'already taken by another service' },
    ]);
    await call('DELETE', `/api/services/${first.body.service.id}`);
    const second = await call('POST', '/api/services', { slug: 'reused', name: 'Second' });
    expect(second.status).toBe(201);
  });
});

describe('archiving a provider (DELETE /api/providers/:id)', () => {
  it('is never allocated again, in any service it was in', async () => {
    const provider = (await call('POST', '/api/providers', { name: 'Leaving', quota: 100 })).body;
    const service = (
      await call('POST', '/api/services', {
        slug: 'with-leaving',
        name: 'With leaving',
        providersPerLead: 1,
        static: [provider.id],
        pool: [8],
      })
    ).body.service;
    const before = await call('POST', '/api/request-service', { serviceId: service.id });
    expect(before.body.providers.map((p: { id: number }) => p.id)).toEqual([provider.id]);

    const archived = await call('DELETE', `/api/providers/${provider.id}`);
    expect(archived.body).toMatchObject({ active: false, archivedAt: expect.any(String) });
    for (let lead = 0; lead < 3; lead++) {
      const after = await call('POST', '/api/request-service', { serviceId: service.id });
      expect(after.body.providers.map((p: { id: number }) => p.id)).toEqual([8]);
    }
    // It stays where it was (inactive), so the service can still be renamed with its list...
    const renamed = await call('PATCH', `/api/services/${service.id}`, {
      name: 'Renamed',
      static: [provider.id],
      pool: [8],
    });
    expect(renamed.status).toBe(200);
    // ...but joins nothing new, and cannot be reactivated.
    const joined = await call('POST', '/api/services', {
      slug: 'late',
      name: 'Late',
      pool: [provider.id],
    });
    expect(joined.body).toMatchObject({ error: 'unknown_provider', providerIds: [provider.id] });
    expect((await call('PATCH', `/api/providers/${provider.id}`, { active: true })).status).toBe(
      404,
    );
  });

  it('is hidden from the list unless asked; its name can be used again', async () => {
    const provider = (await call('POST', '/api/providers', { name: 'Renamable', quota: 1 })).body;
    const duplicate = await call('POST', '/api/providers', { name: 'Renamable', quota: 1 });
    expect(duplicate.body.details).toEqual([
      { path: 'name', message: 'already taken by another provider' },
    ]);
    await call('DELETE', `/api/providers/${provider.id}`);
    const ids = (body: { id: number }[]) => body.map((p) => p.id);
    expect(ids((await call('GET', '/api/providers')).body)).not.toContain(provider.id);
    expect(ids((await call('GET', '/api/providers?archived=include')).body)).toContain(provider.id);
    expect((await call('POST', '/api/providers', { name: 'Renamable', quota: 1 })).status).toBe(
      201,
    );
    expect((await call('DELETE', `/api/providers/${provider.id}`)).status).toBe(404);
  });
});

describe('archiving under load', () => {
  it('splits concurrent senders cleanly: each is allocated before the archive or refused after, never half', async () => {
    const provider = (await call('POST', '/api/providers', { name: 'Busy', quota: 100_000 })).body;
    const id: number = (
      await call('POST', '/api/services', {
        slug: 'busy',
        name: 'Busy',
        providersPerLead: 1,
        pool: [provider.id],
      })
    ).body.service.id;
    const send = () => call('POST', '/api/request-service', { serviceId: id });
    const before = await Promise.all(Array.from({ length: 20 }, send));
    const during = Array.from({ length: 150 }, send);
    const archived = await call('DELETE', `/api/services/${id}`);
    expect(archived.status).toBe(200);
    const after = await Promise.all(Array.from({ length: 20 }, send));
    const answers = [...before, ...(await Promise.all(during)), ...after];

    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([201, 404]));
    expect(before.every((answer) => answer.status === 201)).toBe(true);
    expect(after.every((answer) => answer.body.error === 'service_not_found')).toBe(true);
    const allocated = answers.filter((answer) => answer.status === 201).length;
    const { rows } = await db.pool.query<{ count: number; taken: number }>(
      `SELECT (SELECT count(*)::int FROM allocations WHERE service_id = $1) AS count,
              (SELECT quota - remaining_quota FROM providers WHERE id = $2) AS taken`,
      [id, provider.id],
    );
    // Every 201 has its allocation and its quota, and no refused sender took either.
    expect(rows[0]).toEqual({ count: allocated, taken: allocated });
  });

  it('refuses ids that cannot be a row with 400, never a 500', async () => {
    for (const path of ['abc', '0', '-1', '1e3', '99999999999']) {
      expect((await call('DELETE', `/api/services/${path}`)).status, path).toBe(400);
      expect((await call('DELETE', `/api/providers/${path}`)).status, path).toBe(400);
    }
  });
});
