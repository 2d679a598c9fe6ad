import { defineConfig } from 'vitest/config';

/**
 * Browser tests: the built dashboard (`npm run test:e2e` builds it first), served by the real
 * app over a fresh database per file, driven by the system Chromium through playwright-core.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/helpers/global-setup.ts', 'test/helpers/global-setup.ts'],
    pool: 'forks',
    // One Chromium and one server at a time: on two cores, parallel files make the "within
    // 2 s" assertions measure the machine rather than the dashboard.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
