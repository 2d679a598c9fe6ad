import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from '../delivery/receiver.js';
import {
  ConsoleWatch,
  horizontalOverflow,
  launchBrowser,
  newContext,
  PHONE,
  screenshot,
} from './helpers/browser.js';
import { postJson, startServer, type E2EServer } from './helpers/server.js';

/**
 * Delivery end to end: a buyer on 127.0.0.1 connected through the Settings editor, a test
 * lead, real deliveries seen on the lead page and /deliveries, a failure and a Retry.
 */

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let buyer: Receiver;
let buyerDown = false;

beforeAll(async () => {
  db = await createTestDatabase();
  buyer = await startReceiver(() =>
    buyerDown
      ? { status: 422, body: '{"error":"<b>closed</b>"}' }
      : { status: 200, body: '{"accepted":true}' },
  );
  server = await startServer(db.url, { env: FAST_DELIVERY });
  browser = await launchBrowser();
  context = await newContext(browser, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await buyer?.close();
  await db?.drop();
});

async function allocate(): Promise<string> {
  const answer = await postJson(`${server.url}/api/request-service`, {
    serviceId: 1,
    email: 'buyer-test@example.test',
  });
  expect(answer.status).toBe(201);
  return answer.body['lead_id'] as string;
}

async function open(page: Page, path: string): Promise<ConsoleWatch> {
  const watch = new ConsoleWatch(page);
  await page.goto(path);
  return watch;
}

describe('delivery through the dashboard', () => {
  it('connects a buyer in Settings, sends a test lead, delivers, fails and retries', async () => {
    const page = await context.newPage();
    const console = await open(page, '/settings');
    const editor = page.getByTestId('delivery-editor-1');
    await page.getByText('Delivery endpoint of P1').click();
    await editor.getByLabel('URL').fill(buyer.url);
    await editor.getByRole('button', { name: 'Add header' }).click();
    await editor.getByLabel('Header 1 name').fill('Authorization');
    await editor.getByLabel('Header 1 value').fill('Bearer buyer-key');

    // Tried before it is saved: the buyer's answer shows, and nothing was stored.
    await editor.getByRole('button', { name: 'Send a test lead' }).click();
    const answer = editor.getByTestId('test-answer');
    await answer.getByText('HTTP 200').waitFor();
    await answer.getByText('{"accepted":true}').waitFor();
    expect(buyer.received.at(-1)!.headers['leadflow-test']).toBe('true');
    expect(buyer.received.at(-1)!.headers.authorization).toBe('Bearer buyer-key');
    await screenshot(page, 'delivery-editor-test-answer');

    await editor.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('Delivery endpoint of P1: delivering').waitFor();
    // The save says so, and the test lead's answer stays (the editor was re-mounted on the
    // saved endpoint, which wiped both).
    const saved = page.getByTestId('delivery-editor-1');
    await saved.getByText('Saved').waitFor();
    await saved.getByTestId('test-answer').getByText('HTTP 200').waitFor();
    // Saved values come back hidden; saving again unchanged keeps the buyer's key.
    await expect.poll(() => saved.getByLabel('Header 1 value').inputValue()).toBe('');
    await saved.getByRole('button', { name: 'Save endpoint' }).click();
    await saved.getByText('Saved').waitFor();
    await saved.getByRole('button', { name: 'Send a test lead' }).click();
    await saved.getByTestId('test-answer').waitFor();
    expect(buyer.received.at(-1)!.headers.authorization).toBe('Bearer buyer-key');
    expect(await db.pool.query('SELECT count(*)::int AS n FROM leads')).toMatchObject({
      rows: [{ n: 0 }],
    });

    // A real lead: delivered, with its attempt, on the lead page and on /deliveries.
    const delivered = await allocate();
    await page.goto(`/leads/${delivered}`);
    const section = page.getByTestId('lead-deliveries');
    const status = (): Promise<string | null> =>
      section.getByTestId('delivery-status').textContent();
    await expect.poll(status, { timeout: 10_000 }).toBe('delivered');
    await section.getByText('Attempt 1').waitFor();
    await section.getByText('HTTP 200').waitFor();
    await screenshot(page, 'delivery-lead-delivered');

    // The dashboard's rate counts attempts, and says so.
    await page.goto('/');
    await page
      .getByTestId('provider-1-delivery')
      .getByText('100% of 1 attempt in 60 min')
      .waitFor();

    await page.goto('/deliveries');
    const table = page.getByTestId('deliveries-table');
    await table.locator('tbody tr').first().getByText('delivered').waitFor();
    await screenshot(page, 'delivery-list');

    // The buyer refuses (a 422 is final): failed at once, shown live on the lead page.
    buyerDown = true;
    const failed = await allocate();
    await page.goto(`/leads/${failed}`);
    await expect.poll(status, { timeout: 10_000 }).toBe('failed');
    await section.getByText('HTTP 422').waitFor();
    // The buyer's answer is shown as text, never as markup.
    await section.getByText('{"error":"<b>closed</b>"}').waitFor();
    expect(await section.locator('b').count()).toBe(0);

    // Back up: Retry, and the same page turns delivered on the event.
    buyerDown = false;
    await section.getByRole('button', { name: /^Retry the delivery to P1/ }).click();
    await expect.poll(status, { timeout: 10_000 }).toBe('delivered');
    await section.getByText('Attempt 2').waitFor();
    await screenshot(page, 'delivery-lead-retried');

    await page.goto('/deliveries?status=failed');
    await page.getByText('No deliveries match.').waitFor();
    console.expectClean();
    await page.close();
  });

  it('the deliveries page and the editor fit a phone', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    const page = await phone.newPage();
    const console = await open(page, '/deliveries');
    await page.getByTestId('deliveries-table').locator('tbody tr').first().waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await page.goto('/settings');
    await page.getByText('Delivery endpoint of P1').click();
    await page.getByTestId('delivery-editor-1').getByLabel('URL').waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, 'delivery-editor-phone');
    console.expectClean();
    await phone.close();
  });
});
