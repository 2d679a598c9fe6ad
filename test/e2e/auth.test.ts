import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { launchBrowser, newContext, openPage, screenshot } from './helpers/browser.js';
import { quotas, waitForQuotas, waitForStream } from './helpers/dashboard.js';
import { postJson, startServer, type E2EServer } from './helpers/server.js';

const ADMIN_TOKEN = 'e2e-admin-token-5b7d9f1a3c';

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;

beforeAll(async () => {
  db = await createTestDatabase();
  // Production without ENABLE_TEST_TOOLS: the operator signs in and sees no test tools.
  server = await startServer(db.url, { env: { ADMIN_TOKEN, NODE_ENV: 'production' } });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe('with ADMIN_TOKEN set', () => {
  it('sends the operator to sign in, then back to the page they asked for, live', async () => {
    const context = await newContext(browser, server.url);
    const { page, console } = await openPage(context, '/leads?status=allocated');
    await page.waitForURL((url) => url.pathname === '/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/leads?status=allocated');
    await screenshot(page, 'login-desktop');

    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted.').waitFor();

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/leads');
    expect(new URL(page.url()).searchParams.get('status')).toBe('allocated');
    expect(await page.getByRole('link', { name: 'Test tools' }).count()).toBe(0);

    // The session cookie also opens the event stream, which cannot send headers.
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await waitForStream(page, 'live');
    // The stream can be live before the providers' first fetch has rendered: wait for the bars.
    await waitForQuotas(page, { P1: { remaining: 10, total: 10 } }, 5000);
    expect((await quotas(page))['P1']).toEqual({ remaining: 10, total: 10 });
    const answer = await postJson(`${server.url}/api/request-service`, { serviceId: 1 });
    expect(answer.status).toBe(201);
    await waitForQuotas(page, { P1: { remaining: 9 } }, 2000);

    await page.goto('/test-tools');
    await page.getByText('The test tools are turned off on this server').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto('/dashboard');
    await page.waitForURL((url) => url.pathname === '/login');
    console.expectClean([{ status: 401, path: '/api/login' }]);
    await context.close();
  });
});
