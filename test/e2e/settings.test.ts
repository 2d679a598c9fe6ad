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
import { waitForQuotas, waitForStream, waitForText } from './helpers/dashboard.js';
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
    { status: 409, path: '/api/services' },
  ]);
});

const provider = (id: number): Locator => settings.getByTestId(`provider-settings-${id}`);
const service = (id: number): Locator => settings.getByTestId(`service-settings-${id}`);

async function saveProvider(id: number): Promise<void> {
  await provider(id).getByRole('button', { name: 'Save' }).click();
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
    // P8 serves services 2 and 3: the page asks first.
    await settings
      .getByRole('dialog', { name: 'Deactivate P8?' })
      .getByRole('button', { name: 'Deactivate' })
      .click();
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
    // The API's library message, said in plain words (web/src/api/plainMessages.ts).
    expect(await error.textContent()).toBe('Must be at least 1');
    expect(await perLead.getAttribute('aria-invalid')).toBe('true');
    expect(await dashboard.getByTestId('service-2-per-lead').textContent()).toBe(
      '3 providers per lead',
    );

    await perLead.fill('2');
    await service(2).getByRole('button', { name: 'Save service' }).click();
    await waitForText(dashboard, 'service-2-per-lead', '2 providers per lead', LIVE_WITHIN_MS);
  });

  it('moves a provider from the pool to the static list and reorders a pool', async () => {
    // One lead first, so that the pointer has moved and its restart shows.
    const lead = await postJson(`${server.url}/api/request-service`, { serviceId: 1 });
    expect(lead.status).toBe(201);
    await waitForText(
      dashboard,
      'service-1-pointer',
      'Pointer 2 → next pool walk starts at P4',
      LIVE_WITHIN_MS,
    );

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

  it('asks before deactivating a provider that services use, naming them', async () => {
    const before = patches.length;
    await provider(5).getByLabel('Active').uncheck();
    await saveProvider(5);
    const dialog = settings.getByRole('dialog', { name: 'Deactivate P5?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('2 services use it: Service 2, Service 3');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(patches.slice(before)).toEqual([]);
    await provider(5).getByLabel('Active').check();
  });

  it('saves only the field typed in: a quota used meanwhile is not written back', async () => {
    const bodies: string[] = [];
    const record = (request: { method(): string; url(): string; postData(): string | null }) => {
      if (request.method() === 'PATCH' && request.url().endsWith('/api/providers/7'))
        bodies.push(request.postData() ?? '');
    };
    settings.on('request', record);
    try {
      // Leads took quota after the page read the providers (this page is not live); saving
      // another provider then reads them all again.
      await db.pool.query('UPDATE providers SET remaining_quota = 3 WHERE id = 7');
      await provider(6).getByLabel('Name').fill('P6 west');
      await saveProvider(6);
      await provider(6).getByText('Saved').waitFor();
      // Nothing typed in P7's row: nothing to save there.
      expect(await provider(7).getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
      await provider(7).getByLabel('Name').fill('P7 east');
      await saveProvider(7);
      await provider(7).getByText('Saved').waitFor();
      expect(bodies).toEqual([JSON.stringify({ name: 'P7 east' })]);
      const { rows } = await db.pool.query<{ remaining_quota: number }>(
        'SELECT remaining_quota FROM providers WHERE id = 7',
      );
      expect(rows[0]!.remaining_quota).toBe(3);
      // The fields not typed in show the provider as the server has it.
      expect(await provider(7).getByLabel('Remaining').inputValue()).toBe('3');
    } finally {
      settings.off('request', record);
    }
  });

  it('creates a service, warns that it can never fill, refuses a taken slug on the slug field', async () => {
    const form = settings.getByRole('form', { name: 'New service' });
    await form.getByLabel('New service name').fill('Service 4');
    expect(await form.getByLabel('Slug').inputValue()).toBe('service-4');
    await form.getByLabel('Providers per lead').fill('2');
    await form.getByRole('button', { name: 'Add service' }).click();
    const created = settings.getByTestId('service-settings-4');
    await created.waitFor();
    expect(await created.getByTestId('service-warning').textContent()).toContain(
      'Can never fill a lead: 0 providers for 2 per lead',
    );

    await form.getByLabel('New service name').fill('Service one again');
    await form.getByLabel('Slug').fill('service-1');
    await form.getByRole('button', { name: 'Add service' }).click();
    const slugError = form.getByRole('alert');
    await slugError.waitFor();
    expect(await slugError.textContent()).toBe('already taken by another service');
    expect(await form.getByLabel('Slug').getAttribute('aria-describedby')).toBe(
      await slugError.getAttribute('id'),
    );
    expect(await form.getByLabel('New service name').getAttribute('aria-invalid')).toBeNull();
    await screenshot(settings, 'settings-new-service-desktop');
  });

  it('renames a service, and archives it after a confirmation; the dashboard drops it', async () => {
    await service(2).getByLabel('Name', { exact: true }).fill('Service two');
    await service(2).getByRole('button', { name: 'Save service' }).click();
    await service(2).getByText('Saved').waitFor();
    await dashboard.getByText('Service two').first().waitFor({ timeout: LIVE_WITHIN_MS });

    await service(2).getByRole('button', { name: 'Archive service' }).click();
    const dialog = settings.getByRole('dialog', { name: 'Archive service Service two?' });
    await dialog.waitFor();
    await screenshot(settings, 'settings-archive-dialog-desktop');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await service(2).count()).toBe(1);

    await service(2).getByRole('button', { name: 'Archive service' }).click();
    await dialog.getByRole('button', { name: 'Archive service' }).click();
    await service(2).waitFor({ state: 'detached' });
    await dashboard
      .getByTestId('service-2-per-lead')
      .waitFor({ state: 'detached', timeout: LIVE_WITHIN_MS });
    const answer = await postJson(`${server.url}/api/request-service`, { serviceId: 2 });
    expect(answer).toMatchObject({ status: 404, body: { error: 'service_not_found' } });
  });

  it('creates a provider and archives it after a confirmation', async () => {
    const form = settings.getByRole('form', { name: 'New provider' });
    await form.getByLabel('New provider name').fill('P9');
    await form.getByRole('button', { name: 'Add provider' }).click();
    await provider(9).waitFor();
    await provider(9).getByRole('button', { name: 'Archive' }).click();
    const dialog = settings.getByRole('dialog', { name: 'Archive provider P9?' });
    await dialog.getByText('No service uses it.').waitFor();
    await dialog.getByRole('button', { name: 'Archive provider' }).click();
    await provider(9).waitFor({ state: 'detached' });
    await dashboard
      .getByTestId('provider-9')
      .waitFor({ state: 'detached', timeout: LIVE_WITHIN_MS });
  });

  it('shows every change on the audit page, newest first, as before → after', async () => {
    const { page, console } = await openPage(context, '/audit');
    try {
      const list = page.getByTestId('audit-list');
      await list.waitFor();
      const first = list.locator('li').first();
      expect(await first.textContent()).toContain('Provider archived');
      expect(await first.textContent()).toContain('provider P9 (#9)');
      const archived = first.getByRole('row', { name: /archivedAt/ });
      expect(await archived.textContent()).toMatch(/archivedAt\s*was null\s*→ now "20/);
      await list.getByText('Service archived').waitFor();
      await list.getByText('Service created').waitFor();
      await screenshot(page, 'audit-desktop');
      console.expectClean();
    } finally {
      await page.close();
    }
  });

  it('fits a phone-width screen', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    try {
      const { page, console } = await openPage(phone, '/settings');
      await page.getByTestId('service-settings-3').waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'settings-phone');
      await page
        .getByTestId('service-settings-3')
        .getByRole('button', { name: 'Archive service' })
        .click();
      await page.getByRole('dialog', { name: 'Archive service Service 3?' }).waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'settings-archive-dialog-phone');
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.goto('/audit');
      await page.getByTestId('audit-list').waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'audit-phone');
      console.expectClean();
    } finally {
      await phone.close();
    }
  });
});
