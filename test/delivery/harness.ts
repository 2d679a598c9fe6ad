import { afterEach } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FAST_DELIVERY, startReceiver, type Receiver } from './receiver.js';

/**
 * Per-test databases, apps and buyers for the delivery tests, each undone after its test (in
 * reverse order: the app before its database).
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

/** Runs `undo` after the current test, before what was registered earlier. */
export function afterTest(undo: () => Promise<void>): void {
  cleanups.push(undo);
}

/** A fresh database and an app on it with fast retry timings (plus `env`). */
export async function setup(
  env: Record<string, string> = {},
): Promise<{ db: TestDatabase; app: TestApp }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const app = await startTestApp(db, { ...FAST_DELIVERY, ...env });
  cleanups.push(() => app.close());
  return { db, app };
}

/** A buyer on 127.0.0.1 answering `answer(n)` to its n-th request. */
export async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(answer);
  cleanups.push(() => started.close());
  return started;
}

/** A JSON call; the body is whatever the route sent, each test asserts the parts it needs. */
export async function call(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary answers
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
