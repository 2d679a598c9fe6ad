import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { registerErrorHandler } from '../../src/http/error-handler.js';
import {
  registerLoadShedding,
  type LoadSheddingOptions,
} from '../../src/http/security/load-shedding.js';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A bare app with the plugin and two routes, its warn+ log lines collected. */
async function appWith(
  options: Partial<LoadSheddingOptions>,
): Promise<{ app: FastifyInstance; logs: Record<string, unknown>[]; shed: () => number }> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  let shed = 0;
  app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  registerErrorHandler(app);
  registerLoadShedding(app, {
    maxEventLoopDelayMs: 1000,
    maxDatabaseBacklog: 10,
    databaseBacklog: () => 0,
    exempt: new Set(['/health']),
    onShed: () => shed++,
    ...options,
  });
  app.get('/work', async () => ({ ok: true }));
  app.get('/health', async () => ({ ok: true }));
  await app.ready();
  return { app, logs, shed: () => shed };
}

describe('load shedding probes', () => {
  it('a probe that throws is logged once per 10 s, never sheds, never crashes', async () => {
    const emfile = (): never => {
      throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    };
    const { app, logs, shed } = await appWith({
      eventLoopDelayMs: emfile,
      databaseBacklog: emfile,
    });
    // Four samples or so, every one of them failing.
    await sleep(1100);
    for (let i = 0; i < 5; i++) expect((await app.inject('/work')).statusCode).toBe(200);
    expect(shed()).toBe(0);
    const failures = logs.filter((line) => line.msg?.toString().startsWith('load probe failed'));
    expect(failures.map((line) => line.probe).sort()).toEqual([
      'databaseBacklog',
      'eventLoopDelay',
    ]);
  });

  it('sheds with 503 unavailable and Retry-After past a bound, health exempt, and recovers', async () => {
    let backlog = 11;
    const { app, shed } = await appWith({ databaseBacklog: () => backlog });
    await sleep(300);
    const refused = await app.inject('/work');
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual({ ok: false, error: 'unavailable' });
    expect(refused.headers['retry-after']).toBe('5');
    expect((await app.inject('/health')).statusCode).toBe(200);
    expect(shed()).toBe(1);
    backlog = 10;
    await expect.poll(async () => (await app.inject('/work')).statusCode).toBe(200);
  });
});
