import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  launchBrowser,
  markPage,
  newContext,
  openPage,
  stillSamePage,
  type ConsoleWatch,
} from './helpers/browser.js';
import {
  lastEventId,
  logLeadIds,
  waitForLogRows,
  waitForQuotas,
  waitForStream,
} from './helpers/dashboard.js';
import { postJson, startServer, type E2EServer } from './helpers/server.js';

// While the server is away the browser logs its failed attempts, and nothing else may appear.
const WHILE_AWAY = [
  /ERR_CONNECTION_REFUSED/,
  /status of 503 .*\/api\//,
  /EventSource's response has a MIME type/,
];

let db: TestDatabase;
let server: E2EServer | undefined;
let browser: Browser;
let dashboard: Page;
let dashboardConsole: ConsoleWatch;
const streamRequests: { at: number; url: string; lastEventId: Promise<string | undefined> }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  browser = await launchBrowser();
  const context = await newContext(browser, server.url);
  ({ page: dashboard, console: dashboardConsole } = await openPage(context, '/dashboard'));
  dashboard.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/events') {
      streamRequests.push({
        at: Date.now(),
        url: request.url(),
        // headers() leaves out what the network stack adds; EventSource adds Last-Event-ID.
        lastEventId: request.allHeaders().then((headers) => headers['last-event-id']),
      });
    }
  });
  await waitForStream(dashboard, 'live');
  await markPage(dashboard);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

async function requestService(serviceId: number, count: number): Promise<string[]> {
  const leadIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const answer = await postJson(`${server!.url}/api/request-service`, {
      serviceId,
      email: `stream-${index}@example.test`,
    });
    expect(answer.status).toBe(201);
    leadIds.push(answer.body['lead_id'] as string);
  }
  return leadIds;
}

async function latestEventId(): Promise<number> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM events');
  return Number(rows[0]!.id);
}

/**
 * Closes the server, waits for the dashboard to notice, and starts a new one on the same port
 * over the same database. Returns when the new one started listening.
 */
async function restartServer(): Promise<number> {
  const port = server!.port;
  await server!.close();
  server = undefined;
  await waitForStream(dashboard, 'reconnecting', 5000);
  const restartedAt = Date.now();
  server = await startServer(db.url, { port });
  return restartedAt;
}

describe('the event stream', () => {
  it('resumes after the server restarts and catches up on what happened meanwhile', async () => {
    const before = await requestService(2, 2);
    await waitForLogRows(dashboard, 2, 2000);
    await waitForQuotas(dashboard, { P5: { remaining: 8 } }, 2000);
    const seenBeforeRestart = await lastEventId(dashboard);
    expect(seenBeforeRestart).toBe(await latestEventId());

    const restartedAt = await restartServer();

    // Sent at once, before the browser's retry (the stream asks for 2 s) finds the new
    // server: only a resume from Last-Event-ID can deliver these events to the page.
    const during = await requestService(2, 3);
    await waitForStream(dashboard, 'live', 15_000);
    await waitForLogRows(dashboard, 5, 5000);
    await waitForQuotas(dashboard, { P5: { remaining: 5 } }, 5000);
    expect(new Set(await logLeadIds(dashboard))).toEqual(new Set([...before, ...during]));
    expect(await lastEventId(dashboard)).toBe(await latestEventId());

    const resumed = streamRequests.filter((request) => request.at >= restartedAt);
    expect(resumed.length).toBeGreaterThan(0);
    const resumedFrom = await Promise.all(
      resumed.map(
        async (request) =>
          (await request.lastEventId) ?? new URL(request.url).searchParams.get('lastEventId') ?? '',
      ),
    );
    expect(resumedFrom).toContain(String(seenBeforeRestart));
    expect(await stillSamePage(dashboard)).toBe(true);
    dashboardConsole.expectClean([], WHILE_AWAY);
  });

  it('keeps following live events after the resume', async () => {
    const later = await requestService(1, 1);
    await waitForLogRows(dashboard, 6, 2000);
    expect((await logLeadIds(dashboard))[0]).toBe(later[0]);
    await waitForQuotas(dashboard, { P1: { remaining: 9 } }, 2000);
    dashboardConsole.expectClean([], WHILE_AWAY);
  });

  it('opens a new stream with ?lastEventId= when the browser gives up after an HTTP error', async () => {
    // EventSource retries dropped connections by itself, but an error status (a 503 from an
    // instance shutting down) closes it for good; the page must then resume on its own.
    await dashboard.route(
      '**/api/events**',
      (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: '{"ok":false,"error":"unavailable"}',
        }),
      { times: 1 },
    );
    const seen = await lastEventId(dashboard);
    const restartedAt = await restartServer();
    const during = await requestService(3, 2);

    await waitForStream(dashboard, 'live', 15_000);
    await waitForLogRows(dashboard, 8, 5000);
    expect((await logLeadIds(dashboard)).slice(0, 2).sort()).toEqual([...during].sort());
    expect(await lastEventId(dashboard)).toBe(await latestEventId());
    const reopened = streamRequests.filter(
      (request) =>
        request.at >= restartedAt &&
        new URL(request.url).searchParams.get('lastEventId') === String(seen),
    );
    expect(reopened.length).toBeGreaterThan(0);
    expect(await stillSamePage(dashboard)).toBe(true);
    dashboardConsole.expectClean([], WHILE_AWAY);
  });
});
