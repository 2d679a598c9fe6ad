import { existsSync } from 'node:fs';
import path from 'node:path';
import { findChromium, NO_BROWSER_MESSAGE } from './chromium.js';

/** Fails once, up front, with the way out, instead of once per test file. */
export default function checkPrerequisites(): void {
  if (!findChromium()) throw new Error(NO_BROWSER_MESSAGE);
  if (!existsSync(path.resolve('dist', 'web', 'index.html'))) {
    throw new Error(
      'The dashboard is not built (dist/web/index.html is missing): run `npm run test:e2e`, ' +
        'which builds it first, or `npm run build:web`.',
    );
  }
}
