import { defineConfig } from 'vitest/config';

// `npm run test:topology`: nginx, PgBouncer and several real instances (README "Running in
// production"). Not part of `npm test`: it needs Debian's nginx, pgbouncer and
// postgresql-15-auto-failover, and takes minutes.
export default defineConfig({
  test: {
    include: ['test/topology-suite/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // One topology at a time: each is a dozen processes on a 2-core machine.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
