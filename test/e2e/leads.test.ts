import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  ConsoleWatch,
  horizontalOverflow,
  launchBrowser,
  newContext,
  openPage,
  PHONE,
  screenshot,
} from './helpers/browser.js';
import { postJson, postRaw, startServer, type E2EServer } from './helpers/server.js';

const JSON_BODY =
  '{"firstName":"Ada","lastName":"Lovelace","email":"ada.lovelace@example.test",' +
  '"phone":"+44 20 7946 0018","utm":{"source":"newsletter","campaign":"spring"},' +
  '"tags":["vip","<script>alert(1)</script>"]}';
const FORM_BODY = 'email=grace%40example.test&firstName=Grace&lastName=Hopper&note=a+b%26c';
// "café" in Latin-1, then two bytes that are never UTF-8: stored exactly, shown as hex.
const BINARY_BODY = new Uint8Array([
  ...Buffer.from('{"email":"bytes@example.test","note":"caf'),
  0xe9,
  0x20,
  0xff,
  0xfe,
  ...Buffer.from('"}'),
]);
const FILLERS = 28;
const PAGE_SIZE = 25;

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: ConsoleWatch;
const ids = { json: '', form: '', binary: '', allocated: [] as string[] };
let dialogs = 0;

async function created(answer: Promise<{ status: number; body: Record<string, unknown> }>) {
  const { status, body } = await answer;
  expect(status).toBe(201);
  return body['lead_id'] as string;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  const lead = `${server.url}/api/lead`;
  ids.json = await created(postRaw(lead, JSON_BODY, 'application/json'));
  ids.form = await created(postRaw(lead, FORM_BODY, 'application/x-www-form-urlencoded'));
  ids.binary = await created(postRaw(lead, BINARY_BODY, 'application/json'));
  for (let index = 0; index < FILLERS; index++) {
    await created(postJson(lead, { email: `filler-${index}@example.test`, firstName: 'Filler' }));
  }
  for (let index = 0; index < 2; index++) {
    ids.allocated.push(
      await created(
        postJson(`${server.url}/api/request-service`, {
          serviceId: 1,
          email: `allocated-${index}@example.test`,
        }),
      ),
    );
  }
  browser = await launchBrowser();
  context = await newContext(browser, server.url);
  ({ page, console: watch } = await openPage(context, '/leads'));
  page.on('dialog', (dialog) => {
    dialogs++;
    void dialog.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

afterEach(() => {
  watch.expectClean();
  expect(dialogs).toBe(0);
});

const rows = (target: Page = page) => target.getByTestId('leads-table').locator('tbody tr');

async function waitForRows(count: number, target: Page = page): Promise<void> {
  await target.waitForFunction(
    (wanted) =>
      document.querySelectorAll('[data-testid="leads-table"] tbody tr').length === wanted &&
      document.querySelector('[data-testid="leads-table"]')?.closest('[aria-busy="true"]') === null,
    count,
  );
}

async function rawBody(target: Page = page): Promise<{ kind: string | null; text: string }> {
  const body = target.getByTestId('raw-body');
  return { kind: await body.getAttribute('data-kind'), text: (await body.textContent()) ?? '' };
}

describe('leads', () => {
  it('pages through every lead, newest first', async () => {
    await waitForRows(PAGE_SIZE);
    expect(await page.getByTestId('leads-page-number').textContent()).toBe('Page 1');
    expect(await rows().first().getByRole('link').getAttribute('aria-label')).toBe(
      `Lead ${ids.allocated[1]!.slice(-8)} (${ids.allocated[1]})`,
    );
    expect(await page.getByRole('button', { name: '← Newer' }).isDisabled()).toBe(true);
    await screenshot(page, 'leads-desktop');

    await page.getByRole('button', { name: 'Older →' }).click();
    const total = 3 + FILLERS + 2;
    await waitForRows(total - PAGE_SIZE);
    expect(await page.getByTestId('leads-page-number').textContent()).toBe('Page 2');
    expect(await rows().last().getByRole('link').getAttribute('aria-label')).toBe(
      `Lead ${ids.json.slice(-8)} (${ids.json})`,
    );
    expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: '← Newer' }).click();
    await waitForRows(PAGE_SIZE);
    expect(await page.getByTestId('leads-page-number').textContent()).toBe('Page 1');
  });

  it('searches and filters, and keeps both in the address for the back button', async () => {
    await page.getByLabel('Search').fill('lovelace');
    await page.getByLabel('Search').press('Enter');
    await waitForRows(1);
    expect(await rows().first().textContent()).toContain('Ada Lovelace');
    expect(new URL(page.url()).searchParams.get('q')).toBe('lovelace');

    await page.getByLabel('Search').fill('');
    await page.getByLabel('Status').selectOption('allocated');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await waitForRows(2);
    expect(await rows().locator('td:last-child').allTextContents()).toEqual([
      'allocated',
      'allocated',
    ]);

    await page.goBack();
    await waitForRows(1);
    expect(await page.getByLabel('Search').inputValue()).toBe('lovelace');
  });

  it('says which parts of the address it did not apply, instead of looking filtered', async () => {
    await page.goto('/leads?from=garbage&bogus=1&status=allocated');
    await waitForRows(2);
    expect(await page.getByTestId('ignored-filters').textContent()).toBe(
      'Not applied from the address: "from" must be a date and time, not "garbage"; "bogus" is not a filter.',
    );
    await page.goto('/leads?status=allocated');
    await waitForRows(2);
    expect(await page.getByTestId('ignored-filters').count()).toBe(0);
    // Where the test before left the page, for the one after.
    await page.goto('/leads?q=lovelace');
    await waitForRows(1);
  });

  it("shows a lead's normalised fields and its raw JSON, pretty and exactly as received", async () => {
    await rows().first().getByRole('link').click();
    await page.getByTestId('raw-body').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/leads/${ids.json}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      `Lead ${ids.json.slice(-8)}`,
    );
    const fields = await page.getByTestId('lead-fields').textContent();
    expect(fields).toContain('Emailada.lovelace@example.test');
    expect(fields).toContain('First nameAda');
    expect(fields).toContain('Phone+44 20 7946 0018');

    expect(await rawBody()).toEqual({
      kind: 'json',
      text: JSON.stringify(JSON.parse(JSON_BODY), null, 2),
    });
    await page.getByLabel('Show exactly as received').check();
    expect(await rawBody()).toEqual({ kind: 'text', text: JSON_BODY });
    await page.getByLabel('Show exactly as received').uncheck();
    await screenshot(page, 'lead-detail-desktop');
  });

  it('shows form bodies decoded and bytes that are not UTF-8 as a hex dump', async () => {
    await page.goto(`/leads/${ids.form}`);
    await page.getByTestId('raw-body').waitFor();
    expect(await rawBody()).toEqual({ kind: 'form', text: FORM_BODY });
    const decoded = await page.getByRole('table', { name: 'Decoded form fields' }).textContent();
    expect(decoded).toContain('emailgrace@example.test');
    expect(decoded).toContain('notea b&c');

    await page.goto(`/leads/${ids.binary}`);
    await page.getByTestId('raw-body').waitFor();
    const binary = await rawBody();
    expect(binary.kind).toBe('binary');
    expect(binary.text).toContain('e9 20 ff fe 22 7d');
    expect(binary.text.split('\n')).toHaveLength(Math.ceil(BINARY_BODY.length / 16));
    await screenshot(page, 'lead-detail-binary-desktop');
  });

  it("lists an allocated lead's providers and its events", async () => {
    await page.goto(`/leads/${ids.allocated[0]}`);
    await page.getByTestId('lead-allocations').waitFor();
    const allocations = await page.getByTestId('lead-allocations').locator('li').allTextContents();
    expect(allocations).toHaveLength(3);
    expect(allocations[0]).toMatch(/^P1static/);
    const events = await page.getByTestId('lead-events').textContent();
    expect(events).toContain('lead.created');
    expect(events).toContain('lead.allocated');
  });

  it('fits a phone-width screen', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    try {
      const { page: small, console } = await openPage(phone, '/leads');
      await waitForRows(PAGE_SIZE, small);
      expect(await horizontalOverflow(small)).toBe(0);
      await screenshot(small, 'leads-phone');
      // A name wraps between its words; no word that fits is split across lines.
      await created(
        postJson(`${server.url}/api/lead`, {
          email: 'bartholomew@example.test',
          firstName: 'Bartholomew',
          lastName: 'Lovelace',
        }),
      );
      await small.goto('/leads?q=bartholomew');
      const name = small.getByTestId('leads-table').locator('tbody tr td div').first();
      await name.getByText('Bartholomew Lovelace').waitFor();
      const split = await name.evaluate((element) => {
        const text = element.firstChild!;
        return [...element.textContent!.matchAll(/\S+/g)]
          .filter((word) => {
            const range = document.createRange();
            range.setStart(text, word.index);
            range.setEnd(text, word.index + word[0].length);
            return range.getClientRects().length > 1;
          })
          .map((word) => word[0]);
      });
      expect(split).toEqual([]);
      await small.goto(`/leads/${ids.binary}`);
      await small.getByTestId('raw-body').waitFor();
      expect(await horizontalOverflow(small)).toBe(0);
      await small.goto(`/leads/${ids.json}`);
      await small.getByTestId('raw-body').waitFor();
      expect(await horizontalOverflow(small)).toBe(0);
      await screenshot(small, 'lead-detail-phone');
      console.expectClean();
    } finally {
      await phone.close();
    }
  });
});
