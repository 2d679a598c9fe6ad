import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { findChromium, NO_BROWSER_MESSAGE } from './chromium.js';

// Without the background-networking flags Chromium keeps calling home on a closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export const SCREENSHOT_DIR = path.resolve('test-artifacts', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(NO_BROWSER_MESSAGE);
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

export async function newContext(
  browser: Browser,
  baseURL: string,
  viewport = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport, reducedMotion: 'no-preference' });
  // Waits for a page to show its data, not timings under test: 10 s ran out once when the
  // browser tests shared two cores with a benchmark. Timed assertions pass their own timeout.
  context.setDefaultTimeout(20_000);
  return context;
}

/** An answer the page asked for on purpose, which Chromium still logs as a console error. */
export interface ExpectedFailure {
  status: number;
  path: string;
}

/**
 * Every console error and uncaught exception of a page. Chromium logs each 4xx answer to
 * fetch as "Failed to load resource"; a test names the ones it provokes (409 for a duplicate
 * or insufficient quota, 400 for a refused setting) and everything else fails it.
 */
export class ConsoleWatch {
  private readonly problems: { text: string; url: string }[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error') {
        this.problems.push({ text: message.text(), url: message.location().url });
      }
    });
    page.on('pageerror', (error) =>
      this.problems.push({ text: error.stack ?? error.message, url: '' }),
    );
  }

  unexpected(expected: ExpectedFailure[] = [], allow: RegExp[] = []): string[] {
    return this.problems
      .filter(
        (problem) =>
          !expected.some(
            (failure) =>
              problem.text.includes(`status of ${failure.status}`) &&
              new URL(problem.url || 'http://x/').pathname === failure.path,
          ) && !allow.some((pattern) => pattern.test(`${problem.text} ${problem.url}`)),
      )
      .map((problem) => `${problem.text} (${problem.url})`);
  }

  expectClean(expected: ExpectedFailure[] = [], allow: RegExp[] = []): void {
    expect(this.unexpected(expected, allow)).toEqual([]);
  }
}

export async function openPage(
  context: BrowserContext,
  pathname: string,
): Promise<{
  page: Page;
  console: ConsoleWatch;
}> {
  const page = await context.newPage();
  const console = new ConsoleWatch(page);
  await page.goto(pathname);
  return { page, console };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Let transitions (700 ms bars, 450 ms log rows) settle so the picture shows the state.
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** A page that reloads loses this marker; tests read it to prove nothing reloaded. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { e2eMarker: boolean }).e2eMarker = true;
  });
}

export async function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { e2eMarker?: boolean }).e2eMarker === true);
}

/** The page fits the viewport: nothing scrolls sideways on a phone. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}
