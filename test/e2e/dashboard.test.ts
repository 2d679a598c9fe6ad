import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
  SCREENSHOT_DIR,
  stillSamePage,
} from './helpers/browser.js';
import {
  counter,
  logLeadIds,
  quotas,
  waitForCounter,
  waitForLogRows,
  waitForQuotas,
  waitForStream,
  waitForText,
} from './helpers/dashboard.js';
import { startServer, type E2EServer } from './helpers/server.js';

const PROVIDERS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'];
const LIVE_WITHIN_MS = 2000;

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let dashboard: Page;
let dashboardConsole: ConsoleWatch;
let tools: Page;
let toolsConsole: ConsoleWatch;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url);
  browser = await launchBrowser();
  context = await newContext(browser, server.url);
  ({ page: dashboard, console: dashboardConsole } = await openPage(context, '/dashboard'));
  await waitForStream(dashboard, 'live');
  await markPage(dashboard);
  ({ page: tools, console: toolsConsole } = await openPage(context, '/test-tools'));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

afterEach(() => {
  dashboardConsole.expectClean();
  // The tools provoke these answers on purpose: insufficient quota and a duplicate key.
  toolsConsole.expectClean([
    { status: 409, path: '/api/request-service' },
    { status: 409, path: '/api/lead' },
  ]);
});

/**
 * Clicks a tool's button and waits for the run to finish, watching from before the click
 * that the button was disabled meanwhile, however briefly. Returns when it was clicked.
 */
async function runTool(page: Page, label: string): Promise<number> {
  await page.evaluate((text) => {
    const button = [...document.querySelectorAll('button')].find(
      (candidate) => candidate.textContent?.trim() === text,
    )!;
    const state = window as unknown as { sawDisabled: boolean; runButton: HTMLButtonElement };
    state.sawDisabled = false;
    state.runButton = button;
    new MutationObserver(() => {
      if (button.disabled) state.sawDisabled = true;
    }).observe(button, { attributes: true });
  }, label);
  const clickedAt = Date.now();
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.waitForFunction(() => {
    const state = window as unknown as { sawDisabled: boolean; runButton: HTMLButtonElement };
    return state.sawDisabled && !state.runButton.disabled;
  });
  return clickedAt;
}

/** A read of the API, as an operator's script would make it (no ADMIN_TOKEN in this file). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary answers
async function adminGet(path: string): Promise<any> {
  const response = await fetch(`${server.url}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

function allFull(): Record<string, { remaining: number }> {
  return Object.fromEntries(PROVIDERS.map((name) => [name, { remaining: 10 }]));
}

describe('dashboard and test tools side by side', () => {
  it('shows the seeded topology: eight full bars and the round-robin pointers at 0', async () => {
    expect(await quotas(dashboard)).toEqual(
      Object.fromEntries(PROVIDERS.map((name) => [name, { remaining: 10, total: 10 }])),
    );
    expect(await dashboard.getByTestId('provider-1-quota').textContent()).toBe('10 / 10');
    const pool = dashboard.getByTestId('service-1-pool');
    expect(await pool.locator('[aria-current="true"]').count()).toBe(1);
    expect(await pool.locator('[aria-current="true"]').textContent()).toContain('P2');
    expect(await dashboard.getByTestId('service-3-per-lead').textContent()).toBe(
      '3 providers per lead',
    );
    expect(await logLeadIds(dashboard)).toEqual([]);
  });

  it('"Generate 10 Concurrent Leads" moves the bars, the pointer and the log within 2 s, without a reload', async () => {
    await tools.getByLabel('Service').selectOption({ label: 'Service 1' });
    const clicked = runTool(tools, 'Generate 10 Concurrent Leads');
    const clickedAt = Date.now();

    // Fresh data, Service 1: every lead gets P1 (static) and two of P2-P4, so P1 runs dry
    // and the pool gives 20 of its 30.
    await waitForQuotas(
      dashboard,
      { P1: { remaining: 0 } },
      LIVE_WITHIN_MS - (Date.now() - clickedAt),
    );
    await waitForLogRows(dashboard, 10, LIVE_WITHIN_MS - (Date.now() - clickedAt));
    expect(Date.now() - clickedAt).toBeLessThan(LIVE_WITHIN_MS);

    await clicked; // the button was disabled while the requests ran, and is enabled again
    const summary = tools.getByTestId('generate-summary');
    expect(await summary.textContent()).toBe('10 allocated, 0 not enough providers');
    expect(await tools.getByTestId('generate-results').locator('li').count()).toBe(10);
    expect(await tools.getByTestId('tool-generate-timing').textContent()).toMatch(
      /^Took \d+(\.\d+)? m?s$/,
    );

    const after = await quotas(dashboard);
    expect(after['P1']).toEqual({ remaining: 0, total: 10 });
    expect(after['P2']!.remaining + after['P3']!.remaining + after['P4']!.remaining).toBe(10);
    for (const name of ['P5', 'P6', 'P7', 'P8']) expect(after[name]!.remaining).toBe(10);
    expect(await dashboard.getByTestId('provider-1-quota').textContent()).toBe('0 / 10');

    // Each lead advances the pointer by its two pool picks: 10 × 2 mod 3 = 2, at P4.
    const marked = dashboard.getByTestId('service-1-pool').locator('[aria-current="true"]');
    expect(await marked.textContent()).toContain('P4');
    expect(await dashboard.getByTestId('service-1-pointer').textContent()).toContain('Pointer 2');

    // Newest first, as allocated: one transaction may allocate several leads at one timestamp.
    const { rows: allocated } = await db.pool.query<{ lead_id: string }>(
      `SELECT lead_id FROM allocations GROUP BY lead_id ORDER BY max(id) DESC`,
    );
    expect(await logLeadIds(dashboard)).toEqual(allocated.map((row) => row.lead_id));
    const rows = dashboard.getByTestId('allocation-log').locator('li');
    for (let index = 0; index < 10; index++) {
      const row = rows.nth(index);
      expect(await row.textContent()).toContain('Service 1');
      expect(await row.textContent()).toMatch(/^.*P1static.*P\dpool.*P\dpool$/);
    }
    await waitForCounter(dashboard, 'allocated', 10, LIVE_WITHIN_MS);
    expect(await counter(dashboard, 'leads-today')).toBe(10);
    expect(await stillSamePage(dashboard)).toBe(true);

    // Arrivals slide in and bars ease to their new width (CSS, so it is read from the styles).
    const motion = await dashboard.evaluate(() => {
      const row = document.querySelector('[data-testid="allocation-log"] > li')!;
      const fill = document.querySelector('[aria-label="P1 remaining quota"] > div')!;
      return {
        row: getComputedStyle(row).animationName,
        fill: getComputedStyle(fill).transitionProperty,
      };
    });
    expect(motion.row).toBe('slide-in');
    expect(motion.fill).toContain('width');

    await screenshot(dashboard, 'dashboard-desktop');
    await screenshot(tools, 'test-tools-desktop');
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      await mkdir('docs', { recursive: true });
      await copyFile(path.join(SCREENSHOT_DIR, 'dashboard-desktop.png'), 'docs/dashboard.png');
    }
  });

  it('lists leads refused with insufficient_quota, in words, when they cannot get three providers', async () => {
    // Service 1 has P2-P4 left with 10 between them; P1 is empty, so each lead takes three
    // pool providers. The first ten took 7, 7 and 6 of them (two per lead, in turn), so
    // 3, 3 and 4 are left: three leads fit, seven are refused.
    await runTool(tools, 'Generate 10 Concurrent Leads');
    expect(await tools.getByTestId('generate-summary').textContent()).toBe(
      '3 allocated, 7 not enough providers',
    );
    const refusedResults = tools
      .getByTestId('generate-results')
      .getByText('not enough providers', { exact: true });
    expect(await refusedResults.count()).toBe(7);
    await waitForCounter(dashboard, 'unallocated', 7, LIVE_WITHIN_MS);
    await waitForLogRows(dashboard, 20, LIVE_WITHIN_MS);
    const refusedRows = dashboard
      .getByTestId('allocation-log')
      .getByText('not enough providers', { exact: true });
    expect(await refusedRows.count()).toBe(7);
    // They wait in service 1's backlog, and its card says so without a reload.
    await waitForText(dashboard, 'service-1-backlog', 'Backlog 7 waiting', LIVE_WITHIN_MS);
    await waitForQuotas(
      dashboard,
      { P1: { remaining: 0 }, P2: { remaining: 0 }, P3: { remaining: 0 }, P4: { remaining: 1 } },
      LIVE_WITHIN_MS,
    );
  });

  it('"Reset Provider Quotas" refills every bar, and the backlog waiting for capacity takes its share, live', async () => {
    expect(Object.values(await quotas(dashboard)).some((quota) => quota.remaining < 10)).toBe(true);
    const clickedAt = await runTool(tools, 'Reset Provider Quotas');
    expect(await tools.getByTestId('reset-summary').textContent()).toBe('Reset 8 providers.');
    // The seven refused leads wait in service 1's backlog (SPEC §10); the reset wakes it, and
    // each takes P1 and two pool providers: 7 of P1's 10, 14 of the pool's 30.
    await expect
      .poll(async () => (await adminGet('/api/services'))[0].backlog, { timeout: 10_000 })
      .toBe(0);
    const providers: { name: string; remainingQuota: number }[] = await adminGet('/api/providers');
    const used = providers.reduce((sum, provider) => sum + (10 - provider.remainingQuota), 0);
    expect(used).toBe(21);
    expect(providers.find((provider) => provider.name === 'P1')!.remainingQuota).toBe(3);
    await waitForText(dashboard, 'service-1-backlog', 'Backlog 0 waiting', LIVE_WITHIN_MS);
    await waitForQuotas(
      dashboard,
      Object.fromEntries(
        providers.map((provider) => [provider.name, { remaining: provider.remainingQuota }]),
      ),
      LIVE_WITHIN_MS,
    );
    expect(Date.now() - clickedAt).toBeLessThan(10_000);
  });

  it('"Test Webhook Idempotency" shows 1 applied and 2 duplicates, every time', async () => {
    // The backlog took part of the last refill: refill first, so ten leads fit.
    await runTool(tools, 'Reset Provider Quotas');
    await waitForQuotas(dashboard, allFull(), LIVE_WITHIN_MS);
    await tools.getByLabel('Service').selectOption({ label: 'All services, spread evenly' });
    await runTool(tools, 'Generate 10 Concurrent Leads');
    expect(await tools.getByTestId('generate-summary').textContent()).toBe(
      '10 allocated, 0 not enough providers',
    );
    await waitForLogRows(dashboard, 30, LIVE_WITHIN_MS);

    for (let round = 0; round < 2; round++) {
      await runTool(tools, 'Test Webhook Idempotency');
      expect(await tools.getByTestId('idempotency-summary').textContent()).toBe(
        '1 applied / 2 duplicates',
      );
      const copies = await tools
        .getByTestId('tool-idempotency-result')
        .locator('li')
        .allTextContents();
      expect(copies).toHaveLength(3);
      expect(copies.filter((copy) => copy.includes('applied, reset 8 providers'))).toHaveLength(1);
      expect(copies.filter((copy) => copy.includes('duplicate'))).toHaveLength(2);
    }
    // The one copy that applied refilled everything.
    await waitForQuotas(dashboard, allFull(), LIVE_WITHIN_MS);
  });

  it('"Send Duplicate Lead" shows 201 then 409 for one lead id, and the dashboard counts it', async () => {
    const before = await counter(dashboard, 'duplicates');
    await runTool(tools, 'Send Duplicate Lead');
    const first = await tools.getByTestId('duplicate-attempt-1').textContent();
    const second = await tools.getByTestId('duplicate-attempt-2').textContent();
    expect(first).toMatch(/^Request 1:201[0-9a-f]{8}/);
    expect(second).toMatch(/^Request 2:409[0-9a-f]{8}deduplicated/);
    expect(first!.slice(13, 21)).toBe(second!.slice(13, 21));
    expect(await tools.getByTestId('duplicate-summary').textContent()).toBe(
      'One lead id for both requests.',
    );
    // Duplicates have no event of their own: the counter follows by re-reading the stats.
    await waitForCounter(dashboard, 'duplicates', before + 1, 15_000);
    expect(await stillSamePage(dashboard)).toBe(true);
  });

  it('works at phone width, and from the keyboard alone', async () => {
    const phone = await newContext(browser, server.url, PHONE);
    try {
      const { page, console } = await openPage(phone, '/test-tools');
      await page.getByRole('button', { name: 'Send Duplicate Lead' }).waitFor();
      let reached = false;
      for (let presses = 0; presses < 20 && !reached; presses++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(
          () => document.activeElement?.textContent === 'Send Duplicate Lead',
        );
      }
      expect(reached).toBe(true);
      const outline = await page.evaluate(
        () => getComputedStyle(document.activeElement!).outlineStyle,
      );
      expect(outline).not.toBe('none');
      await page.keyboard.press('Enter');
      await page.getByTestId('duplicate-summary').waitFor();
      // Leads spread over services: each result names its service at this width too.
      await page.getByLabel('Service').selectOption({ label: 'All services, spread evenly' });
      await page.getByRole('button', { name: 'Generate 10 Concurrent Leads' }).click();
      const results = page.getByTestId('generate-results').locator('li');
      await results.nth(9).waitFor();
      for (const result of await results.all()) {
        expect(await result.getByText(/^Service [123]$/).isVisible()).toBe(true);
      }
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'test-tools-phone');

      await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
      await waitForStream(page, 'live');
      await page.getByTestId('allocation-log').waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, 'dashboard-phone');
      console.expectClean([
        { status: 409, path: '/api/lead' },
        { status: 409, path: '/api/request-service' },
      ]);
    } finally {
      await phone.close();
    }
  });
});
