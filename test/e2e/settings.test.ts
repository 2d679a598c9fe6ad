import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  ConsoleWatch,
  horizontalOverflow,
  launchBrowser,
  markPage,
  newContext,
  openPage,
  PHONE,
  screenshot,
  stillSamePage,
} from './helpers/browser.js';
import { waitForQuotas, waitForStream } from './helpers/dashboard.js';
import { postJson, startServer, type E2EServer } from './helpers/server.js';

const LIVE_WITHIN_MS = 2000;

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let dashboard: Page;
let dashboardConsole: ConsoleWatch;
let settings: Page;
let settingsConsole: ConsoleWatch;
const patches: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  browser = await launchBrowser();
  context = await newContext(browser, server.url);
  ({ page: dashboard, console: dashboardConsole } = await openPage(context, '/dashboard'));
  await waitForStream(dashboard, 'live');
  await markPage(dashboard);
  ({ page: settings, console: settingsConsole } = await openPage(context, '/settings'));
  settings.on('request', (request) => {
    if (request.method() === 'PATCH') patches.push(new URL(request.url()).pathname);
  });
  await settings.getByTestId('provider-settings-1').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

afterEach(() => {
  dashboardConsole.expectClean();
  // The refused saves below are 400s on purpose.
  settingsConsole.expectClean([
    { status: 400, path: '/api/providers/2' },
    { status: 400, path: '/api/services/2' },
  ]);
});

const provider = (id: number): Locator => settings.getByTestId(`provider-settings-${id}`);
const service = (id: number): Locator => settings.getByTestId(`service-settings-${id}`);

async function saveProvider(id: number): Promise<void> {
  await provider(id).getByRole('button', { name: 'Save' }).click();
}

async function waitForText(page: Page, testId: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([id, wanted]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === wanted,
    [testId, text] as const,
    { timeout: LIVE_WITHIN_MS, polling: 50 },
  );
}

async function chipNames(page: Page, label: string): Promise<string[]> {
  const chips = await page.getByRole('list', { name: label, exact: true }).locator('li').all();
  return Promise.all(chips.map(async (chip) => (await chip.getAttribute('data-provider')) ?? ''));
}

describe('settings', () => {
  it('raises a quota and the dashboard bar follows without a reload', async () => {
    await provider(1).getByLabel('Quota').fill('20');
    await saveProvider(1);
    await provider(1).getByText('Saved').waitFor();
    await waitForQuotas(dashboard, { P1: { remaining: 10, total: 20 } }, LIVE_WITHIN_MS);
    expect(await dashboard.getByTestId('provider-1-quota').textContent()).toBe('10 / 20');
    expect(await stillSamePage(dashboard)).toBe(true);
  });

  it('deactivates a provider and the dashboard marks it', async () => {
    await provider(8).getByLabel('Active').uncheck();
    await saveProvider(8);
    await dashboard
      .getByTestId('provider-8')
      .getByText('inactive')
      .waitFor({ timeout: LIVE_WITHIN_MS });
  });

  it('shows the API validation error next to the field, and saves once it is fixed', async () => {
    const remaining = provider(2).getByLabel('Remaining');
    await remaining.fill('50');
    await saveProvider(2);
    const error = provider(2).getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toBe('cannot exceed quota');
    expect(await remaining.getAttribute('aria-invalid')).toBe('true');
    expect(await remaining.getAttribute('aria-describedby')).toBe(await error.getAttribute('id'));
    await screenshot(settings, 'settings-desktop');

    await remaining.fill('4');
    await saveProvider(2);
    await waitForQuotas(dashboard, { P2: { remaining: 4, total: 10 } }, LIVE_WITHIN_MS);
    // The other page's live update can land before this page has read the save's answer.
    await provider(2).getByRole('alert').waitFor({ state: 'detached' });
    expect(await provider(2).getByRole('alert').count()).toBe(0);
    expect(await remaining.getAttribute('aria-invalid')).toBeNull();
  });

  it('refuses a quota that is not a number before sending anything', async () => {
    const before = patches.length;
    await provider(3).getByLabel('Quota').fill('ten');
    await saveProvider(3);
    expect(await provider(3).getByRole('alert').textContent()).toBe('Enter a whole number');
    expect(patches.slice(before)).toEqual([]);
  });

  it('changes providers per lead, with the API refusing 0 inline', async () => {
    const perLead = service(2).getByLabel('Providers per lead');
    await perLead.fill('0');
    await service(2).getByRole('button', { name: 'Save service' }).click();
    const error = service(2).getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/>=\s*1/);
    expect(await perLead.getAttribute('aria-invalid')).toBe('true');
    expect(await dashboard.getByTestId('service-2-per-lead').textContent()).toBe(
      '3 providers per lead',
    );

    await perLead.fill('2');
    await service(2).getByRole('button', { name: 'Save service' }).click();
    await waitForText(dashboard, 'service-2-per-lead', '2 providers per lead');
  });

  it('moves a provider from the pool to the static list and reorders a pool', async () => {
    // One lead first, so that the pointer has moved and its restart shows.
    const lead = await postJson(`${server.url}/api/request-service`, { serviceId: 1 });
    expect(lead.status).toBe(201);
    await waitForText(dashboard, 'service-1-pointer', 'Pointer 2 → next pool walk starts at P4');

    await service(1).getByRole('button', { name: 'Make P4 static' }).click();
    await service(1).getByRole('button', { name: 'Save service' }).click();
    await dashboard.waitForFunction(
      () =>
        document.querySelectorAll('[aria-label="Service 1 static"] [data-provider]').length === 2,
      undefined,
      { timeout: LIVE_WITHIN_MS, polling: 50 },
    );
    expect(await dashboard.getByTestId('service-1-pointer').textContent()).toBe(
      'Pointer 0 → next pool walk starts at P2',
    );
    expect(await chipNames(dashboard, 'Service 1 static')).toEqual(['P1', 'P4']);
    expect(await chipNames(dashboard, 'Service 1 pool, round-robin order')).toEqual(['P2', 'P3']);

    await service(3).getByRole('button', { name: 'Move P8 up' }).click();
    await service(3).getByRole('button', { name: 'Save service' }).click();
    await dashboard.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="service-3-pool"] li:nth-child(5)')
          ?.textContent?.startsWith('P8') === true,
      undefined,
      { timeout: LIVE_WITHIN_MS, polling: 50 },
    );
    expect(await chipNames(dashboard, 'Service 3 pool, round-robin order')).toEqual([
      'P2',
      'P3',
      'P5',
      'P6',
      'P8',
      'P7',
    ]);
    expect(await stillSamePage(dashboard)).toBe(true);
  });

  it('fits a phone-width screen', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    try {
      const { page, console } = await openPage(phone, '/settings');
      await page.getByTestId('service-settings-3').waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'settings-phone');
      console.expectClean();
    } finally {
      await phone.close();
    }
  });
});
