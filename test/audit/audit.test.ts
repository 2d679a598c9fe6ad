import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditAction, AuditEntry } from '../../src/contracts/index.js';
import { SESSION_COOKIE } from '../../src/http/auth.js';
import { startReceiver, FAST_DELIVERY, type Receiver } from '../delivery/receiver.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/**
 * Every write route, and what it leaves in the audit log. The enumeration test below reads the
 * route table: a write route added without an entry here fails it, so nobody adds a
 * configuration change or a manual action that the audit log silently misses.
 */
const AUDITED: Record<string, AuditAction[]> = {
  'POST /api/providers': ['provider.created'],
  'PATCH /api/providers/{id}': ['provider.updated'],
  'DELETE /api/providers/{id}': ['provider.archived'],
  'POST /api/services': ['service.created'],
  'PATCH /api/services/{id}': ['service.updated'],
  'DELETE /api/services/{id}': ['service.archived'],
  'POST /api/webhook/reset-quota': ['quota.reset'],
  'POST /api/deliveries/{id}/retry': ['delivery.retried'],
  'POST /api/deliveries/retry': ['delivery.bulk_retried'],
  'POST /api/providers/{id}/delivery/test': ['delivery.test_sent'],
  'POST /api/leads/{id}/allocate': ['lead.allocation_requested'],
};
/** Writes that change no configuration and are no operator's action, with where they are kept. */
const NOT_AUDITED: Record<string, string> = {
  'POST /api/lead': 'ingestion: every request is kept in leads_raw',
  'POST /api/request-service': 'ingestion: every request is kept in leads_raw',
  'POST /api/login': 'a session, kept in admin_sessions',
  'POST /api/logout': 'a session, kept in admin_sessions',
  'POST /api/demo/buyer/{id}': 'the demo buyer answering deliveries; changes nothing',
};

const ADMIN_TOKEN = 'audit-test-admin-token-0123456789';
const SECRET_HEADER = 'Bearer buyer-key-never-in-the-audit';
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let db: TestDatabase;
let server: TestApp;
let open: TestApp;
let buyer: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { ...FAST_DELIVERY, ADMIN_TOKEN });
  // A second instance without ADMIN_TOKEN, on the same database: its actor is "anonymous".
  open = await startTestApp(db, { DELIVERY_CONCURRENCY: '0' });
  // Refuses every lead: a 400 fails a delivery at once, so there is something to retry.
  buyer = await startReceiver(() => ({ status: 400, body: 'no' }));
});

afterAll(async () => {
  await buyer?.close();
  await open?.close();
  await server?.close();
  await db?.drop();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` },
  app: TestApp = server,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary answers
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function auditRows(): Promise<AuditEntry[]> {
  const rows: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: AuditEntry[]; nextCursor: string | null } } =
      await call('GET', `/api/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    // Never a cursor to an empty page.
    expect(page.body.items.length).toBeGreaterThan(0);
    rows.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return rows;
}

/** The newest audit row, after checking that exactly `count` rows were added since `before`. */
async function newRows(before: number, count = 1): Promise<AuditEntry[]> {
  const { rows } = await db.pool.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM audit_log',
  );
  expect(rows[0]!.count - before).toBe(count);
  return (await call('GET', `/api/audit?limit=${Math.max(count, 1)}`)).body.items;
}

async function auditCount(): Promise<number> {
  const { rows } = await db.pool.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM audit_log',
  );
  return rows[0]!.count;
}

async function waitForDelivery(status: string, providerId: number): Promise<{ id: string }> {
  for (let tries = 0; tries < 200; tries++) {
    const page = await call('GET', `/api/deliveries?providerId=${providerId}&status=${status}`);
    if (page.body.items.length > 0) return page.body.items[0];
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${status} delivery for provider ${providerId}`);
}

describe('the audit log', () => {
  it('lists every write route of the route table as audited or as not a change', () => {
    const paths = (server.app.swagger() as { paths: Record<string, Record<string, unknown>> })
      .paths;
    const writes = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((method) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(writes.sort()).toEqual([...Object.keys(AUDITED), ...Object.keys(NOT_AUDITED)].sort());
  });

  it('records provider and service changes with before and after, and the admin token as actor', async () => {
    let before = await auditCount();
    const created = await call('POST', '/api/providers', { name: 'P9', quota: 5 });
    expect(created.status).toBe(201);
    let [row] = await newRows(before);
    expect(row).toMatchObject({
      actor: 'admin',
      action: 'provider.created',
      entity: 'provider',
      entityId: String(created.body.id),
      before: null,
      after: { name: 'P9', quota: 5, remainingQuota: 5, active: true, archivedAt: null },
    });

    before = await auditCount();
    expect((await call('PATCH', `/api/providers/${created.body.id}`, { quota: 3 })).status).toBe(
      200,
    );
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'provider.updated',
      before: { quota: 5, remainingQuota: 5 },
      after: { quota: 3, remainingQuota: 3 },
    });

    before = await auditCount();
    const service = await call('POST', '/api/services', {
      slug: 'audited',
      name: 'Audited',
      providersPerLead: 1,
      pool: [created.body.id],
    });
    expect(service.status).toBe(201);
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'service.created',
      entity: 'service',
      entityId: String(service.body.service.id),
      before: null,
      after: { slug: 'audited', pool: [created.body.id] },
    });

    before = await auditCount();
    await call('PATCH', `/api/services/${service.body.service.id}`, { name: 'Audited twice' });
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'service.updated',
      before: { name: 'Audited' },
      after: { name: 'Audited twice' },
    });

    before = await auditCount();
    expect((await call('DELETE', `/api/services/${service.body.service.id}`)).status).toBe(200);
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'service.archived',
      before: { archivedAt: null },
      after: { archivedAt: expect.any(String) },
    });

    before = await auditCount();
    expect((await call('DELETE', `/api/providers/${created.body.id}`)).status).toBe(200);
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'provider.archived',
      before: { active: true, archivedAt: null },
      after: { active: false, archivedAt: expect.any(String) },
    });
  });

  it('writes nothing for a refused change (same transaction)', async () => {
    const before = await auditCount();
    expect(
      (await call('POST', '/api/services', { slug: 'x-1', name: 'X', pool: [999] })).status,
    ).toBe(400);
    expect((await call('PATCH', '/api/providers/1', { quota: -1 })).status).toBe(400);
    expect((await call('PATCH', '/api/providers/999', { quota: 1 })).status).toBe(404);
    expect((await call('POST', '/api/providers', { name: 'P1', quota: 1 })).status).toBe(409);
    expect((await call('DELETE', '/api/services/999')).status).toBe(404);
    expect(await auditCount()).toBe(before);
  });

  it('writes nothing for an empty change, and answers with what is stored', async () => {
    const before = await auditCount();
    const provider = await call('PATCH', '/api/providers/1', {});
    expect(provider.status).toBe(200);
    expect(provider.body).toMatchObject({ id: 1, name: expect.any(String) });
    const service = await call('PATCH', '/api/services/1', {});
    expect(service.status).toBe(200);
    expect(service.body.service).toMatchObject({ id: 1, slug: expect.any(String) });
    expect((await call('PATCH', '/api/providers/999', {})).status).toBe(404);
    expect((await call('PATCH', '/api/services/999', {})).status).toBe(404);
    expect(await auditCount()).toBe(before);
  });

  it('masks delivery secrets on both sides of an endpoint change', async () => {
    const before = await auditCount();
    const endpoint = {
      url: buyer.url,
      headers: { authorization: SECRET_HEADER },
      signingSecret: SIGNING_SECRET,
      maxAttempts: 1,
    };
    expect((await call('PATCH', '/api/providers/1', { delivery: endpoint })).status).toBe(200);
    // Changed again: `before` now has an endpoint with secrets too.
    expect(
      (
        await call('PATCH', '/api/providers/1', {
          delivery: { ...endpoint, headers: { authorization: '********' }, timeoutMs: 5000 },
        })
      ).status,
    ).toBe(200);
    const rows = await newRows(before, 2);
    expect(rows[0]).toMatchObject({
      action: 'provider.updated',
      before: { delivery: { headers: { authorization: '********' }, signingSecret: '********' } },
      after: { delivery: { timeoutMs: 5000, signingSecret: '********' } },
    });
    expect(rows[1]).toMatchObject({
      before: { delivery: null },
      after: { delivery: { url: buyer.url } },
    });
    const stored = await db.pool.query<{ text: string }>(
      `SELECT concat(before::text, after::text) AS text FROM audit_log`,
    );
    for (const { text } of stored.rows) {
      expect(text).not.toContain('buyer-key-never');
      expect(text).not.toContain(SIGNING_SECRET);
    }
  });

  it('records manual delivery actions: a test send, a retry, a bulk retry', async () => {
    let before = await auditCount();
    const test = await call('POST', '/api/providers/1/delivery/test', {});
    expect(test.status).toBe(200);
    let [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'delivery.test_sent',
      entity: 'provider',
      entityId: '1',
      after: { outcome: 'failed', statusCode: 400 },
    });

    const lead = await call(
      'POST',
      '/api/request-service',
      { serviceId: 1, email: 'a@example.com' },
      {},
    );
    expect(lead.status).toBe(201);
    const failed = await waitForDelivery('failed', 1);
    before = await auditCount();
    expect((await call('POST', `/api/deliveries/${failed.id}/retry`)).status).toBe(200);
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'delivery.retried',
      entity: 'delivery',
      entityId: failed.id,
      before: { status: 'failed' },
      after: { status: 'pending' },
    });

    await waitForDelivery('failed', 1);
    before = await auditCount();
    const bulk = await call('POST', '/api/deliveries/retry', { providerId: 1 });
    expect(bulk.body).toEqual({ ok: true, requeued: 1 });
    [row] = await newRows(before);
    expect(row).toMatchObject({
      action: 'delivery.bulk_retried',
      entityId: '1',
      before: { status: 'failed', deliveries: 1 },
      after: { status: 'pending', deliveries: 1 },
    });

    // A retry that cannot happen changes nothing and leaves no row.
    before = await auditCount();
    const unknown = await call(
      'POST',
      '/api/deliveries/00000000-0000-7000-8000-000000000000/retry',
    );
    expect(unknown.status).toBe(404);
    expect(await auditCount()).toBe(before);
  });

  it('records a quota reset by the webhook, once per event id', async () => {
    const before = await auditCount();
    const body = { eventId: 'audit-reset-1', providerIds: [2] };
    expect((await call('POST', '/api/webhook/reset-quota', body, {})).body.duplicate).toBe(false);
    expect((await call('POST', '/api/webhook/reset-quota', body, {})).body.duplicate).toBe(true);
    const [row] = await newRows(before);
    expect(row).toMatchObject({
      actor: 'webhook',
      action: 'quota.reset',
      entityId: '2',
      before: { eventId: 'audit-reset-1', providers: [{ id: 2 }] },
      after: { eventId: 'audit-reset-1', providers: [{ id: 2, remainingQuota: 10 }] },
    });
  });

  it('names a session by its id prefix, and anyone when no ADMIN_TOKEN is set', async () => {
    const login = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN_TOKEN }),
    });
    const cookie = login.headers
      .getSetCookie()
      .find((value) => value.startsWith(`${SESSION_COOKIE}=`))!
      .split(';')[0]!;
    let before = await auditCount();
    const changed = await call(
      'PATCH',
      '/api/providers/3',
      { name: 'P3 renamed' },
      {
        cookie,
        origin: new URL(server.url).origin,
      },
    );
    expect(changed.status).toBe(200);
    let [row] = await newRows(before);
    const sessionId = cookie.slice(SESSION_COOKIE.length + 1, SESSION_COOKIE.length + 9);
    expect(row!.actor).toBe(`session:${sessionId}`);

    before = await auditCount();
    expect((await call('PATCH', '/api/providers/3', { name: 'P3' }, {}, open)).status).toBe(200);
    [row] = await newRows(before);
    expect(row!.actor).toBe('anonymous');
  });

  it('records a manual allocation with what it came to, and nothing for an unknown lead', async () => {
    const stored = await call('POST', '/api/lead', { email: 'audit-manual@example.com' }, {});
    expect(stored.status).toBe(201);
    const leadId = stored.body.lead_id as string;
    let before = await auditCount();
    const answer = await call('POST', `/api/leads/${leadId}/allocate`, { serviceId: 1 });
    expect([201, 409]).toContain(answer.status);
    const [row] = await newRows(before);
    expect(row).toMatchObject({
      actor: 'admin',
      action: 'lead.allocation_requested',
      entity: 'lead',
      entityId: leadId,
      before: { status: 'new', serviceId: null, requestedServiceId: 1 },
      after: {
        serviceId: 1,
        outcome: answer.status === 201 ? 'allocated' : answer.body.error,
        providers:
          answer.status === 201 ? answer.body.providers.map((p: { id: number }) => p.id) : [],
      },
    });
    before = await auditCount();
    const missing = await call(
      'POST',
      '/api/leads/00000000-0000-7000-8000-000000000000/allocate',
      {},
    );
    expect(missing.status).toBe(404);
    expect(await auditCount()).toBe(before);
  });

  it('has a row for every audited route, pages newest first without gaps, and refuses bad cursors', async () => {
    const rows = await auditRows();
    const actions = new Set(rows.map((row) => row.action));
    for (const expected of Object.values(AUDITED).flat()) expect(actions).toContain(expected);
    const ids = rows.map((row) => Number(row.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(await auditCount());
    for (const query of ['cursor=abc', 'cursor=0', 'limit=0', 'limit=201', 'since=1']) {
      const answer = await call('GET', `/api/audit?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error).toBe('invalid_query');
    }
  });
});
