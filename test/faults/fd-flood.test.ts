import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { spawnServer, type ServerProcess } from './server-process.js';

let db: TestDatabase;
let server: ServerProcess | undefined;
const flood: { socket: Socket; received: string; closed: boolean }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const { socket } of flood) socket.destroy();
  await server?.kill();
  await db?.drop();
});

/** A TCP connection that never sends a byte; settles once connected, refused or closed. */
function idleConnection(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve());
    const entry = { socket, received: '', closed: false };
    flood.push(entry);
    socket.on('data', (chunk: Buffer) => (entry.received += chunk.toString()));
    // Resets are how the server refuses connections beyond its cap.
    socket.on('error', () => resolve());
    socket.on('close', () => {
      entry.closed = true;
      resolve();
    });
  });
}

describe('connection flood past the open-file limit (ulimit -n 1024)', () => {
  it('stays up, closes the idle sockets itself, and serves again', async () => {
    server = await spawnServer(
      db.url,
      { NODE_ENV: 'production' },
      { openFileLimit: 1024, timeoutMs: 20_000 },
    );
    // 1,100 idle connections, 100 at a time: more than the process has file descriptors.
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => idleConnection(server!.port)));
    }
    await sleep(2000);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect(server.output()).not.toContain('shutting down');

    // headersTimeout (10 s) plus Node's sweep interval (1 s) closes every silent socket.
    await expect
      .poll(() => flood.filter((entry) => !entry.closed).length, { timeout: 15_000 })
      .toBe(0);
    const timedOut = flood.filter((entry) => entry.received.includes('HTTP/1.1 408'));
    console.info('1,100 idle connections at ulimit -n 1024:', {
      timedOut408: timedOut.length,
      closedAtOnce: flood.length - timedOut.length,
    });
    expect(timedOut.length).toBeGreaterThan(500);
    expect(timedOut[0]!.received).toContain('{"ok":false,"error":"request_timeout"}');

    const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(3000) });
    expect(health.status).toBe(200);
    const lead = await fetch(`${server.url}/api/lead`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'after-flood@example.com' }),
      signal: AbortSignal.timeout(5000),
    });
    expect(lead.status).toBe(201);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect(server.output()).toContain('connection limit reached');
  });
});
