/**
 * Issue 14's operator flow in a real Chromium: at 1280 px an operator creates a service and a
 * provider, gives the provider a delivery endpoint (a buyer on 127.0.0.1) and rules (zone, day
 * cap, filter), adds it to the service, then — after leads arrive over HTTP — finds one by
 * email, reads its decision trace and delivery, exports the filtered CSV, sees it counted on the
 * reports page, archives the service and reads that on the audit page. The same pages are then
 * visited at 390 px, none of them scrolling sideways. Every step is a screenshot in
 * test-artifacts/screenshots; UPDATE_DOCS_SCREENSHOT=1 also refreshes the README's docs/*.png.
 */
import { readFile, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from '../delivery/receiver.js';
import {
  ConsoleWatch,
  launchBrowser,
  newContext,
  PHONE,
  screenshot,
  SCREENSHOT_DIR,
} from './helpers/browser.js';
import { postJson, startServer, type E2EServer } from './helpers/server.js';

const SERVICE = { name: 'Solar panels', slug: 'solar-panels' };
const PROVIDER = 'SunBuyer';
const WANTED = 'ada.operator@example.test';
// Three leads from Latvia pass the provider's filter; the German one does not.
const LEADS = [
  { email: 'first.operator@example.test', country: 'LV' },
  { email: WANTED, country: 'LV' },
  { email: 'third.operator@example.test', country: 'LV' },
];

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let buyer: Receiver;
let page: Page;
let watch: ConsoleWatch;
let step = 0;
const ids = { provider: 0, service: 0, wanted: '', refused: '' };
/** Each page visited and what shows it has its data, so the phone pass visits the same ones. */
const visited: { pathname: string; ready: string }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  buyer = await startReceiver(() => ({ status: 200, body: '{"accepted":true}' }));
  server = await startServer(db.url, { env: FAST_DELIVERY });
  browser = await launchBrowser();
  context = await newContext(browser, server.url);
  page = await context.newPage();
  watch = new ConsoleWatch(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await buyer?.close();
  await db?.drop();
});

/** The file of each step's screenshot, by step name, for the README's copies. */
const shots = new Map<string, string>();

/** Numbered, so test-artifacts/screenshots reads as the flow in order. */
async function shot(name: string): Promise<void> {
  step++;
  const file = `operator-${String(step).padStart(2, '0')}-${name}-desktop`;
  await screenshot(page, file);
  shots.set(name, file);
}

async function visit(pathname: string, ready: string): Promise<void> {
  await page.goto(pathname);
  visited.push({ pathname, ready });
}

async function sideways(target: Page): Promise<number> {
  return target.evaluate(() =>
    Math.max(0, document.scrollingElement!.scrollWidth - window.innerWidth),
  );
}

describe('the operator flow at 1280 px', () => {
  it('creates a service and a provider with a delivery endpoint and rules, and joins them', async () => {
    await visit('/settings', '[data-testid="service-settings-1"]');
    const newService = page.getByRole('form', { name: 'New service' });
    await newService.getByLabel('New service name').fill(SERVICE.name);
    expect(await newService.getByLabel('Slug').inputValue()).toBe(SERVICE.slug);
    await newService.getByLabel('Providers per lead').fill('1');
    await newService.getByRole('button', { name: 'Add service' }).click();
    // The new service's id, from the API, names its editor on the page.
    await expect
      .poll(async () => {
        const services = (await (await fetch(`${server.url}/api/services`)).json()) as {
          id: number;
          slug: string;
        }[];
        ids.service = services.find((service) => service.slug === SERVICE.slug)?.id ?? 0;
        return ids.service;
      })
      .toBeGreaterThan(0);
    const serviceForm = page.getByTestId(`service-settings-${ids.service}`);
    await serviceForm.waitFor();
    await shot('service-created');

    const newProvider = page.getByRole('form', { name: 'New provider' });
    await newProvider.getByLabel('New provider name').fill(PROVIDER);
    await newProvider.getByLabel('Quota').fill('10');
    await newProvider.getByRole('button', { name: 'Add provider' }).click();
    await page.getByLabel(`Provider ${PROVIDER}`).waitFor();
    const providers = (await (await fetch(`${server.url}/api/providers`)).json()) as {
      id: number;
      name: string;
    }[];
    ids.provider = providers.find((provider) => provider.name === PROVIDER)!.id;

    // The buyer: tried before saving, then saved.
    await page.getByText(`Delivery endpoint of ${PROVIDER}`).click();
    const delivery = page.getByTestId(`delivery-editor-${ids.provider}`);
    await delivery.getByLabel('URL').fill(buyer.url);
    await delivery.getByRole('button', { name: 'Send a test lead' }).click();
    await delivery.getByTestId('test-answer').getByText('HTTP 200').waitFor();
    await delivery.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText(`Delivery endpoint of ${PROVIDER}: delivering`).waitFor();
    await shot('delivery-endpoint');

    // Rules: its own zone, five leads a day, Latvia only. No window: open around the clock.
    await page.getByText(`Routing rules of ${PROVIDER}`).click();
    const rules = page.getByTestId(`rules-editor-${ids.provider}`);
    await rules.getByLabel('Time zone').selectOption('Europe/Riga');
    await rules.getByLabel('Per day').fill('5');
    await rules.getByRole('button', { name: 'Add filter' }).click();
    const filter = rules.getByRole('group', { name: 'Filter 1' });
    await filter.getByLabel(/^Field/).fill('country');
    await filter.getByLabel('Operator').selectOption('in');
    await filter.getByLabel(/^Value/).fill('LV');
    await rules.getByRole('button', { name: 'Save rules' }).click();
    await rules.getByText('Saved').waitFor();
    await shot('provider-rules');

    await serviceForm.getByLabel('Add provider').selectOption({ label: PROVIDER });
    await serviceForm.getByRole('button', { name: 'Add to static' }).click();
    await serviceForm.getByRole('button', { name: 'Save service' }).click();
    await serviceForm.getByText('Saved').waitFor();
    await shot('provider-joined');

    // What the API now holds is what the operator typed.
    const saved = (await (await fetch(`${server.url}/api/providers`)).json()) as {
      id: number;
      timezone: string;
      caps: Record<string, number>;
      filters: unknown[];
    }[];
    expect(saved.find((provider) => provider.id === ids.provider)).toMatchObject({
      timezone: 'Europe/Riga',
      caps: { day: 5 },
      filters: [{ field: 'country', op: 'in', value: ['LV'] }],
    });
    watch.expectClean();
  });

  it('sends leads naming the service: the Latvian ones are allocated and delivered', async () => {
    for (const lead of LEADS) {
      const answer = await postJson(`${server.url}/api/lead`, { ...lead, service: SERVICE.slug });
      expect(answer.status).toBe(201);
      expect(answer.body['allocation']).toMatchObject({
        providers: [{ id: ids.provider, name: PROVIDER, role: 'static' }],
      });
      if (lead.email === WANTED) ids.wanted = answer.body['lead_id'] as string;
    }
    const refused = await postJson(`${server.url}/api/lead`, {
      email: 'german.operator@example.test',
      country: 'DE',
      service: SERVICE.slug,
    });
    expect(refused.status).toBe(201);
    expect(refused.body['allocation']).toMatchObject({ error: 'insufficient_quota' });
    ids.refused = refused.body['lead_id'] as string;
    await expect.poll(() => buyer.received.length, { timeout: 10_000 }).toBe(1 + LEADS.length);
  });

  it('finds the lead by email, with its decision trace and its delivery', async () => {
    await page.goto('/leads');
    await page.getByLabel('Search').fill(WANTED);
    await page.getByLabel('Search').press('Enter');
    const rows = page.getByTestId('leads-table').locator('tbody tr');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="leads-table"] tbody tr').length === 1,
    );
    expect(new URL(page.url()).searchParams.get('q')).toBe(WANTED);
    visited.push({
      pathname: `/leads${new URL(page.url()).search}`,
      ready: '[data-testid="leads-table"] tbody tr',
    });
    await shot('leads-found');

    await rows.first().getByRole('link').click();
    await page.getByTestId('lead-decisions').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/leads/${ids.wanted}`);
    visited.push({ pathname: `/leads/${ids.wanted}`, ready: '[data-testid="lead-decisions"]' });
    expect(await page.getByTestId('lead-fields').textContent()).toContain(`Email${WANTED}`);
    const decisions = page.getByTestId('lead-decisions');
    await decisions.getByText('taken').first().waitFor();
    expect(await decisions.textContent()).toContain(`${PROVIDER}(static)taken`);
    const deliveries = page.getByTestId('lead-deliveries');
    await expect
      .poll(() => deliveries.getByTestId('delivery-status').textContent(), { timeout: 10_000 })
      .toBe('delivered');
    await deliveries.getByText('HTTP 200').waitFor();
    expect(JSON.parse(buyer.received.find((r) => r.body.includes(WANTED))!.body)).toMatchObject({
      email: WANTED,
    });
    await shot('lead-detail');

    // The German lead's trace says why the provider was skipped.
    await page.goto(`/leads/${ids.refused}`);
    await page
      .getByTestId('lead-decisions')
      .getByText(/skipped/)
      .first()
      .waitFor();
    await shot('lead-refused');
    watch.expectClean();
  });

  it('exports the filtered leads as CSV: the one row, parsed', async () => {
    await page.goto(`/leads?q=${encodeURIComponent(WANTED)}`);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="leads-table"] tbody tr').length === 1,
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const file = await download.path();
    const exported: Record<string, string>[] = parse(await readFile(file), { columns: true });
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({ id: ids.wanted, email: WANTED, country: 'LV' });
    watch.expectClean();
  });

  it('counts the provider on the reports page', async () => {
    await visit('/reports', '[data-testid="providers-report"]');
    const row = page.getByTestId('providers-report').getByRole('row', {
      name: new RegExp(`^${PROVIDER} `),
    });
    await expect.poll(() => row.locator('td').first().textContent()).toBe(String(LEADS.length));
    await expect.poll(() => row.locator('td').nth(1).textContent()).toBe(String(LEADS.length));
    await shot('reports');
    watch.expectClean();
  });

  it('retires the service after a confirmation and reads the audit entry', async () => {
    await page.goto('/settings');
    const serviceForm = page.getByTestId(`service-settings-${ids.service}`);
    await serviceForm.getByRole('button', { name: 'Archive service' }).click();
    const dialog = page.getByRole('dialog', { name: `Archive service ${SERVICE.name}?` });
    await dialog.waitFor();
    await shot('archive-dialog');
    await dialog.getByRole('button', { name: 'Archive service' }).click();
    await serviceForm.waitFor({ state: 'detached' });
    const late = await postJson(`${server.url}/api/request-service`, { serviceId: ids.service });
    expect(late).toMatchObject({ status: 404, body: { error: 'service_not_found' } });

    await visit('/audit', '[data-testid="audit-list"] li');
    const first = page.getByTestId('audit-list').locator('li').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('Service archived');
    expect(await first.textContent()).toContain(`service ${SERVICE.name} (#${ids.service})`);
    expect(await first.getByRole('row', { name: /archivedAt/ }).textContent()).toMatch(
      /archivedAt\s*was null\s*→ now "20/,
    );
    await shot('audit');
    watch.expectClean();

    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      await mkdir('docs', { recursive: true });
      const docs: [string, string][] = [
        ['provider-rules', 'settings.png'],
        ['leads-found', 'leads.png'],
        ['lead-detail', 'lead-detail.png'],
        ['reports', 'reports.png'],
        ['audit', 'audit.png'],
      ];
      for (const [step, to] of docs) {
        await copyFile(path.join(SCREENSHOT_DIR, `${shots.get(step)!}.png`), path.join('docs', to));
      }
    }
  });
});

describe('the same pages at 390 px', () => {
  it('none scrolls sideways', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    try {
      const small = await phone.newPage();
      const phoneWatch = new ConsoleWatch(small);
      expect(visited.length).toBeGreaterThanOrEqual(5);
      for (const [index, { pathname, ready }] of visited.entries()) {
        await small.goto(pathname);
        await small.locator(ready).first().waitFor();
        expect({ pathname, overflow: await sideways(small) }).toEqual({ pathname, overflow: 0 });
        const name = pathname
          .replace(/\?.*/, '')
          .replace(/^\/leads\/.+/, '/lead')
          .slice(1);
        await screenshot(small, `operator-${String(index + 1).padStart(2, '0')}-${name}-phone`);
      }
      phoneWatch.expectClean();
    } finally {
      await phone.close();
    }
  });
});
