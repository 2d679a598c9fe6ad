import { afterEach } from 'vitest';
import type { Clock } from '../../src/allocation/calendar.js';
import { startTestApp, type TestApp } from './app.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface FreshSetup {
  /** A new database with the demo topology and `instances` apps over it, gone after the test. */
  fresh(
    instances?: number,
    clock?: Clock,
    env?: Record<string, string>,
  ): Promise<{ db: TestDatabase; apps: TestApp[] }>;
  /** Registers anything else to undo after the current test (run in reverse order). */
  cleanup(undo: () => Promise<void>): void;
}

/** Per-test databases and app instances, for tests whose every case needs fresh quotas. */
export function useFreshDatabases(): FreshSetup {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const undo of cleanups.splice(0).reverse()) await undo();
  });
  return {
    cleanup: (undo) => cleanups.push(undo),
    fresh: async (instances = 1, clock?: Clock, env: Record<string, string> = {}) => {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      const apps: TestApp[] = [];
      for (let index = 0; index < instances; index++) {
        const app = await startTestApp(db, env, { clock });
        cleanups.push(() => app.close());
        apps.push(app);
      }
      return { db, apps };
    },
  };
}
