import { existsSync } from 'node:fs';

/** Where Debian, Ubuntu and Fedora put Chromium or Chrome; CHROMIUM_PATH wins over all. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((candidate) => existsSync(candidate));
}

export const NO_BROWSER_MESSAGE = [
  'The browser tests need Chromium, and none was found.',
  process.env.CHROMIUM_PATH
    ? `  CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist.`
    : `  Looked in: ${CANDIDATES.join(', ')}.`,
  'Install it with your package manager, for example:',
  '  sudo apt-get update && sudo apt-get install -y chromium      # Debian',
  '  sudo apt-get install -y chromium-browser                     # Ubuntu',
  'or point CHROMIUM_PATH at an installed Chrome or Chromium binary.',
  '(playwright-core drives the system browser; `npx playwright install` is not needed.)',
].join('\n');
