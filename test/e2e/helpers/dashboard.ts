import type { Page } from 'playwright-core';

/** What the dashboard shows, read the way a screen reader would: from its ARIA attributes. */

export interface Quota {
  remaining: number;
  total: number;
}

export async function quotas(page: Page): Promise<Record<string, Quota>> {
  return page.evaluate(() => {
    const result: Record<string, { remaining: number; total: number }> = {};
    for (const bar of document.querySelectorAll('[role="progressbar"]')) {
      const name = (bar.getAttribute('aria-label') ?? '').replace(' remaining quota', '');
      result[name] = {
        remaining: Number(bar.getAttribute('aria-valuenow')),
        total: Number(bar.getAttribute('aria-valuemax')),
      };
    }
    return result;
  });
}

/** Waits until the named bars read `remaining` (and `total`, when given). */
export async function waitForQuotas(
  page: Page,
  expected: Record<string, Partial<Quota>>,
  timeout: number,
): Promise<void> {
  await page.waitForFunction(
    (wanted) =>
      Object.entries(wanted).every(([name, quota]) => {
        const bar = document.querySelector(
          `[role="progressbar"][aria-label="${name} remaining quota"]`,
        );
        if (!bar) return false;
        return (
          (quota.remaining === undefined ||
            Number(bar.getAttribute('aria-valuenow')) === quota.remaining) &&
          (quota.total === undefined || Number(bar.getAttribute('aria-valuemax')) === quota.total)
        );
      }),
    expected,
    { timeout: Math.max(timeout, 1), polling: 50 },
  );
}

export async function logLeadIds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="allocation-log"] > li')].map(
      (row) => row.getAttribute('data-lead-id') ?? '',
    ),
  );
}

export async function waitForLogRows(page: Page, count: number, timeout: number): Promise<void> {
  await page.waitForFunction(
    (wanted) => document.querySelectorAll('[data-testid="allocation-log"] > li').length === wanted,
    count,
    { timeout: Math.max(timeout, 1), polling: 50 },
  );
}

export async function waitForStream(
  page: Page,
  status: 'live' | 'reconnecting',
  timeout = 10_000,
): Promise<void> {
  await page.waitForSelector(`[data-testid="connection-badge"][data-status="${status}"]`, {
    timeout,
  });
}

export async function lastEventId(page: Page): Promise<number> {
  const value = await page.getByTestId('connection-badge').getAttribute('data-last-event-id');
  return Number(value);
}

export async function counter(page: Page, name: string): Promise<number> {
  const text = await page.getByTestId(`counter-${name}`).locator('dd').first().textContent();
  return Number(text);
}

export async function waitForCounter(
  page: Page,
  name: string,
  value: number,
  timeout: number,
): Promise<void> {
  await page.waitForFunction(
    ([testId, wanted]) =>
      document.querySelector(`[data-testid="${testId}"] dd`)?.textContent === String(wanted),
    [`counter-${name}`, value] as const,
    { timeout, polling: 100 },
  );
}

/** Waits until the element with `testId` reads exactly `text`. */
export async function waitForText(
  page: Page,
  testId: string,
  text: string,
  timeout: number,
): Promise<void> {
  await page.waitForFunction(
    ([id, wanted]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === wanted,
    [testId, text] as const,
    { timeout, polling: 50 },
  );
}
