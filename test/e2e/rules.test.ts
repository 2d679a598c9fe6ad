/**
 * The routing rules editors in a real Chromium at 1280 and 390 px: a provider's zone, cap,
 * schedule window and filter saved through Settings reach the API; a refused filter names its
 * field; the cap then shows as "capped" on the dashboard and the refusal's trace on the lead
 * page.
 */
import type { Browser } from 'playwright-core';
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
import { postJson, startServer, type E2EServer } from './helpers/server.js';

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

interface ProviderRules {
  id: number;
  timezone: string;
  caps: Record<string, number>;
  schedule: unknown[];
  filters: unknown[];
  capped: boolean;
}

async function providerRules(id: number): Promise<ProviderRules> {
  const providers = (await (await fetch(`${server.url}/api/providers`)).json()) as ProviderRules[];
  return providers.find((provider) => provider.id === id)!;
}

describe.each([
  ['desktop', DESKTOP, 2, 1],
  ['phone', PHONE, 6, 2],
] as const)('the rules editor at %s width', (width, viewport, providerId, serviceId) => {
  it('saves zone, cap, window and filter; refuses a bad filter by name; shows capped', async () => {
    const context = await newContext(browser, server.url, viewport);
    const { page, console } = await openPage(context, '/settings');
    await page.getByText(`Routing rules of P${providerId}`).click();
    const editor = page.getByTestId(`rules-editor-${providerId}`);
    await editor.getByLabel('Time zone').selectOption('Europe/Riga');
    await editor.getByLabel('Per day').fill('1');
    await editor.getByRole('button', { name: 'Add window' }).click();
    // Open every day, all day, in two windows (the second overnight): the lead below is
    // never refused by the clock of the machine running this.
    for (const day of ['sat', 'sun']) await editor.getByLabel(day, { exact: true }).check();
    await editor.getByLabel('From', { exact: true }).fill('00:00');
    await editor.getByLabel(/^To/).fill('12:00');
    await editor.getByRole('button', { name: 'Add window' }).click();
    const second = editor.getByRole('group', { name: 'Window 2' });
    for (const day of ['sat', 'sun']) await second.getByLabel(day, { exact: true }).check();
    await second.getByLabel('From', { exact: true }).fill('12:00');
    await second.getByLabel(/^To/).fill('00:00');
    await editor.getByRole('button', { name: 'Add filter' }).click();
    const filter = editor.getByRole('group', { name: 'Filter 1' });
    await filter.getByLabel(/^Field/).fill('extra.score');
    await filter.getByLabel('Operator').selectOption('gt');
    await filter.getByLabel(/^Value/).fill('many');
    await editor.getByRole('button', { name: 'Save rules' }).click();
    await expect
      .poll(async () => editor.getByRole('alert').textContent())
      .toContain('filters.0.value');
    await filter.getByLabel('Operator').selectOption('in');
    await filter.getByLabel(/^Field/).fill('country');
    await filter.getByLabel(/^Value/).fill('LV, lt');
    await editor.getByRole('button', { name: 'Save rules' }).click();
    await editor.getByText('Saved').waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `rules-editor-${width}`);

    const saved = await providerRules(providerId);
    expect(saved).toMatchObject({
      timezone: 'Europe/Riga',
      caps: { day: 1 },
      filters: [{ field: 'country', op: 'in', value: ['LV', 'lt'] }],
    });
    expect(saved.schedule).toHaveLength(2);
    console.expectClean([{ status: 400, path: `/api/providers/${providerId}` }]);

    // One lead from Latvia takes the provider's one lead of the day: it is capped.
    const lead = await postJson(`${server.url}/api/request-service`, {
      serviceId,
      country: 'LV',
      email: `${width}@example.com`,
    });
    expect(lead.status).toBe(201);
    expect((await providerRules(providerId)).capped).toBe(true);
    const { page: dashboard } = await openPage(context, '/dashboard');
    await dashboard.getByTestId(`provider-${providerId}-capped`).waitFor();
    const { page: leadPage } = await openPage(context, `/leads/${lead.body['lead_id'] as string}`);
    await leadPage.getByTestId('lead-decisions').getByText('taken').first().waitFor();
    await context.close();
  }, 60_000);
});
