import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** The team's standard: no WCAG 2.0 or 2.1 A/AA violation. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}

/**
 * axe-core's WCAG 2 A/AA violations on the page as it is now, one readable line each, so a
 * failing `toEqual([])` says what is wrong and where. axe goes in through the DevTools
 * protocol, which the pages' CSP (script-src 'self') does not govern, unlike a script tag.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const scope = window as unknown as {
      axe?: {
        run(context: Document, options: object): Promise<{ violations: AxeViolation[] }>;
      };
    };
    const results = await scope.axe!.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return results.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map(({ target, html }) => ({ target, html })),
    }));
  }, WCAG_TAGS);
  // Tailwind's class names make poor selectors, so each node also shows its opening markup.
  return violations.map(
    ({ id, impact, help, nodes }) =>
      `${id} (${impact ?? 'unknown'}): ${help} — ${nodes.length} node(s): ` +
      nodes
        .map(({ target, html }) => `${target.map(String).join(' ')} ${html.slice(0, 120)}`)
        .join(' | '),
  );
}
