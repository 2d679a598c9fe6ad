import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  DESKTOP,
  horizontalOverflow,
  launchBrowser,
  newContext,
  openPage,
  PHONE,
  screenshot,
} from './helpers/browser.js';
import { postJson, postRaw, startServer, type E2EServer } from './helpers/server.js';

/** The operator console's data pages (SPEC §11): lead filters and export, raw requests, reports. */

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
const contexts = new Map<string, BrowserContext>();
const WIDTHS = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const;
let austrian = '';

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  for (let index = 0; index < 4; index++) {
    const answer = await postJson(`${server.url}/api/request-service`, {
      serviceId: 1,
      email: `console-${index}@example.test`,
      country: index === 2 ? 'AT' : 'DE',
      firstName: index === 2 ? '=Formula' : 'Plain',
    });
    expect(answer.status).toBe(201);
    if (index === 2) austrian = answer.body['lead_id'] as string;
  }
  expect((await postRaw(`${server.url}/api/lead`, '{"broken', 'application/json')).status).toBe(
    400,
  );
  browser = await launchBrowser();
  for (const [width, viewport] of WIDTHS) {
    contexts.set(width, await newContext(browser, server.url, viewport));
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe('while the first answers are on their way', () => {
  it('says "Loading…", not that there is nothing, on the dashboard log and the leads list', async () => {
    const context = contexts.get('desktop')!;
    const page = await context.newPage();
    // Held until the checks are done: the pages show their loading state meanwhile.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/(allocations|leads)(\?|$)/, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto('/dashboard');
      const log = page.getByRole('region', { name: 'Allocation log' });
      await log.getByText('Loading…').waitFor();
      expect(await page.getByText('No allocations yet.').count()).toBe(0);
      await page.goto('/leads');
      await page.getByTestId('leads-table').waitFor();
      await page.getByText('Loading…').waitFor();
      expect(await page.getByText('No leads match.').count()).toBe(0);
      release();
      await page.getByTestId('leads-table').locator('tbody tr').first().waitFor();
      expect(await page.getByText('Loading…').count()).toBe(0);
    } finally {
      release();
      await page.close();
    }
  });
});

describe.each(WIDTHS)('at %s width', (width) => {
  it('filters leads by country and provider, keeps them in the address, and exports them', async () => {
    const { page, console: watch } = await openPage(contexts.get(width)!, '/leads');
    const rows = page.getByTestId('leads-table').locator('tbody tr');
    await rows.nth(3).waitFor();
    await page.getByLabel('Country').fill('at');
    await page.getByLabel('Provider').selectOption({ label: 'P1' });
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="leads-table"] tbody tr').length === 1,
    );
    const address = new URL(page.url());
    expect(address.searchParams.get('country')).toBe('at');
    expect(address.searchParams.get('providerId')).toBe('1');
    expect(await rows.first().getByRole('link').getAttribute('aria-label')).toContain(austrian);

    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toBe('/api/leads/export.csv?providerId=1&country=at');
    const csv = await (await contexts.get(width)!.request.get(href!)).text();
    const exported: Record<string, string>[] = parse(csv, { columns: true });
    expect(exported.map((row) => row['id'])).toEqual([austrian]);
    expect(exported[0]!['first_name']).toBe("'=Formula");

    // A reload restores the filters from the address.
    await page.reload();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="leads-table"] tbody tr').length === 1,
    );
    expect(await page.getByLabel('Country').inputValue()).toBe('at');
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, `console-leads-filtered-${width}`);
    watch.expectClean();
    await page.close();
  });

  it('shows stored requests with their reason, filtered by status', async () => {
    const { page, console: watch } = await openPage(contexts.get(width)!, '/raw-requests');
    const rows = page.getByTestId('raw-requests-table').locator('tbody tr');
    await rows.nth(4).waitFor();
    expect(await rows.count()).toBe(5);
    await page.getByLabel('Status').selectOption('rejected');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="raw-requests-table"] tbody tr').length === 1,
    );
    expect(await rows.first().textContent()).toContain('invalid_payload');
    expect(new URL(page.url()).searchParams.get('status')).toBe('rejected');
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, `raw-requests-${width}`);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No stored requests match.').waitFor();
    watch.expectClean();
    await page.close();
  });

  it('charts the volume by day and by hour and counts per provider', async () => {
    const { page, console: watch } = await openPage(contexts.get(width)!, '/reports');
    await page.getByTestId('volume-chart').locator('.recharts-bar-rectangle').first().waitFor();
    const table = page.getByTestId('providers-report');
    const p1 = table.getByRole('row', { name: /^P1 / });
    // Service 1's first four leads: P1 (static) gets each of them.
    expect(await p1.locator('td').first().textContent()).toBe('4');
    await page.getByLabel('Range').selectOption('hour');
    expect(new URL(page.url()).searchParams.get('interval')).toBe('hour');
    await page.getByTestId('volume-chart').locator('.recharts-bar-rectangle').first().waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    // Every column in view, at either width: none hidden behind the region's sideways scroll.
    expect(
      await table.evaluate((element) => element.scrollWidth - element.parentElement!.clientWidth),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, `reports-${width}`);
    watch.expectClean();
    await page.close();
  });
});
