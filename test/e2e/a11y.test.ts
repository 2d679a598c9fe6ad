import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../delivery/receiver.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { accessibilityViolations } from './helpers/axe.js';
import {
  ConsoleWatch,
  DESKTOP,
  launchBrowser,
  newContext,
  PHONE,
  screenshot,
} from './helpers/browser.js';
import { postJson, postRaw, startServer, type E2EServer } from './helpers/server.js';

/**
 * Every page at both widths, signed in (so the header carries "Sign out"), checked with
 * axe-core for WCAG 2 A/AA violations. Swagger UI at /docs is third-party and not checked.
 */

const ADMIN_TOKEN = 'e2e-a11y-token-8c2e4a6b1d';
const WIDTHS = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const;

let db: TestDatabase;
let server: E2EServer;
let browser: Browser;
let buyer: Receiver | undefined;
const contexts = new Map<string, BrowserContext>();
const ids = { json: '', form: '', big: '', deep: '' };

async function created(answer: Promise<{ status: number; body: Record<string, unknown> }>) {
  const { status, body } = await answer;
  expect(status).toBe(201);
  return body['lead_id'] as string;
}

/** Nested `levels` objects deep, deeper than the JSON viewer indents. */
function nested(levels: number): unknown {
  let value: unknown = { email: 'deep@example.test', leaf: 'the innermost value' };
  for (let level = 0; level < levels; level++) value = { [`level${levels - level}`]: value };
  return value;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db.url, { env: { ADMIN_TOKEN } });
  browser = await launchBrowser();
  for (const [width, viewport] of WIDTHS) {
    contexts.set(width, await newContext(browser, server.url, viewport));
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await buyer?.close();
  await db?.drop();
});

/**
 * Opens `pathname`, waits for `ready`, saves a picture and expects no violation; the picture's
 * wait also lets bars and rows finish their transitions, which axe would measure midway.
 */
async function check(
  width: string,
  name: string,
  pathname: string,
  ready: (page: Page) => Promise<unknown>,
  expected: { status: number; path: string }[] = [],
): Promise<void> {
  const page = await contexts.get(width)!.newPage();
  const console = new ConsoleWatch(page);
  try {
    await page.goto(pathname);
    await ready(page);
    await screenshot(page, `a11y-${name}-${width}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    console.expectClean(expected);
  } finally {
    await page.close();
  }
}

const heading = (text: string) => (page: Page) =>
  page.getByRole('heading', { level: 1, name: text }).waitFor();

describe.each(WIDTHS)('at %s width', (width) => {
  it('the login page', async () => {
    await check(width, 'login', '/login', heading('Sign in'));
  });

  it('the empty leads page, signed in', async () => {
    const context = contexts.get(width)!;
    const answer = await context.request.post('/api/login', { data: { token: ADMIN_TOKEN } });
    expect(answer.status()).toBe(200);
    await check(width, 'leads-empty', '/leads?q=matches-no-lead', (page) =>
      page.getByText('No leads match.').waitFor(),
    );
  });
});

describe('with leads', () => {
  beforeAll(async () => {
    const lead = `${server.url}/api/lead`;
    ids.json = await created(
      postJson(lead, { firstName: 'Ada', email: 'ada@example.test', utm: { source: 'mail' } }),
    );
    ids.form = await created(
      postRaw(
        lead,
        'email=grace%40example.test&firstName=Grace',
        'application/x-www-form-urlencoded',
      ),
    );
    ids.big = await created(postJson(lead, { description: 'B'.repeat(200_000) }));
    ids.deep = await created(postJson(lead, nested(30)));
    // P1 delivers to a buyer on 127.0.0.1, so the lead pages and /deliveries have deliveries.
    buyer = await startReceiver(() => ({ status: 200, body: '{"accepted":true}' }));
    const connected = await fetch(`${server.url}/api/providers/1`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: JSON.stringify({
        delivery: { url: buyer.url, headers: { authorization: 'Bearer buyer-key' } },
      }),
    });
    expect(connected.status).toBe(200);
    // Ten leads for service 1 use up its static provider P1, whose chips then fade.
    for (let index = 0; index < 10; index++) {
      const answer = await postJson(`${server.url}/api/request-service`, { serviceId: 1 });
      expect(answer.status).toBe(201);
    }
  });

  describe.each(WIDTHS)('at %s width', (width) => {
    it('the dashboard, with a provider out of quota', async () => {
      await check(width, 'dashboard', '/dashboard', (page) =>
        page.waitForSelector('[data-testid="connection-badge"][data-status="live"]'),
      );
    });

    it('the leads page', async () => {
      await check(width, 'leads', '/leads', (page) =>
        page.getByTestId('leads-table').locator('tbody tr').first().waitFor(),
      );
    });

    for (const kind of ['json', 'form', 'big', 'deep'] as const) {
      it(`a lead's page (${kind})`, async () => {
        await check(width, `lead-${kind}`, `/leads/${ids[kind]}`, (page) =>
          page.getByTestId('raw-body').waitFor(),
        );
      });
    }

    it('the settings page', async () => {
      await check(width, 'settings', '/settings', (page) =>
        page.getByTestId('service-settings-3').waitFor(),
      );
    });

    it('the deliveries page', async () => {
      await check(width, 'deliveries', '/deliveries', (page) =>
        page.getByTestId('deliveries-table').locator('tbody tr').first().waitFor(),
      );
    });

    it('the empty deliveries page', async () => {
      await check(width, 'deliveries-empty', '/deliveries?status=rejected', (page) =>
        page.getByText('No deliveries match.').waitFor(),
      );
    });

    it("the delivery editor, with a test lead's answer", async () => {
      await check(width, 'delivery-editor', '/settings', async (page) => {
        await page.getByText('Delivery endpoint of P1').click();
        const editor = page.getByTestId('delivery-editor-1');
        await editor.getByRole('button', { name: 'Send a test lead' }).click();
        await editor.getByTestId('test-answer').waitFor();
      });
    });

    it('the audit page, with the test send above in it', async () => {
      await check(width, 'audit', '/audit', (page) =>
        page.getByTestId('audit-list').getByText('Test lead sent').first().waitFor(),
      );
    });

    it("the archive question's dialog", async () => {
      await check(width, 'settings-archive-dialog', '/settings', async (page) => {
        await page
          .getByTestId('service-settings-3')
          .getByRole('button', { name: 'Archive service' })
          .click();
        await page.getByRole('dialog', { name: 'Archive service Service 3?' }).waitFor();
      });
    });

    it('the routing rules editors, with a window and a filter row', async () => {
      await check(width, 'rules-editor', '/settings', async (page) => {
        await page.getByText('Routing rules of P1').click();
        const editor = page.getByTestId('rules-editor-1');
        await editor.getByRole('button', { name: 'Add window' }).click();
        await editor.getByRole('button', { name: 'Add filter' }).click();
        await page.getByTestId('service-rules-1').getByText('Refuse repeated contacts').click();
      });
    });

    it('the test tools page', async () => {
      await check(width, 'test-tools', '/test-tools', heading('Test tools'));
    });

    it('the raw requests page', async () => {
      await check(width, 'raw-requests', '/raw-requests', (page) =>
        page.getByTestId('raw-requests-table').locator('tbody tr').first().waitFor(),
      );
    });

    it('the empty raw requests page', async () => {
      await check(width, 'raw-requests-empty', '/raw-requests?status=reprocessed', (page) =>
        page.getByText('No stored requests match.').waitFor(),
      );
    });

    it('the reports page', async () => {
      await check(width, 'reports', '/reports', async (page) => {
        await page.getByTestId('volume-chart').locator('svg').first().waitFor();
        await page.getByTestId('providers-report').waitFor();
      });
    });

    it('the not-found page', async () => {
      await check(width, 'not-found', '/nosuchpage', heading('Page not found'), [
        { status: 404, path: '/nosuchpage' },
      ]);
    });
  });
});

describe('an unknown address', () => {
  it("is the dashboard's not-found page for a browser, JSON for everything else", async () => {
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const page = await fetch(`${server.url}/nosuchpage`, { headers: html });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    for (const [path, headers] of [
      ['/api/nosuch', html],
      ['/docs/nosuch', html],
      ['/assets/gone.js', html],
      ['/nosuchpage', { accept: 'application/json' }],
      ['/nosuchpage', {}],
    ] as const) {
      const answer = await fetch(`${server.url}${path}`, { headers });
      expect(answer.status, path).toBe(404);
      expect(await answer.json(), path).toEqual({ ok: false, error: 'not_found' });
    }
  });
});
