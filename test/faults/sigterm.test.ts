import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  expectAcknowledgedStored,
  expectOneLeadPerKey,
  isAcknowledged,
  resend,
  runSenders,
  tally,
} from './load.js';
import { spawnServer, type ServerProcess } from './server-process.js';

let db: TestDatabase;
let server: ServerProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await server?.kill();
  await db?.drop();
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
}

describe('SIGTERM during load', () => {
  it('completes in-flight requests, refuses new connections, exits 0', async () => {
    server = await spawnServer(db.url);
    const prefix = `term-${randomUUID()}`;
    let stop = false;
    const load = runSenders(server.url, { clients: 16, prefix, stop: () => stop });
    await sleep(800);

    // A request whose body is still arriving when the signal comes: it is in flight.
    const key = `${prefix}-slow`;
    const body = JSON.stringify({ email: 'slow@example.com', note: 'x'.repeat(200) });
    const slow = await openSocket(server.port);
    const answer = readAll(slow);
    slow.write(
      `POST /api/lead HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nIdempotency-Key: ${key}\r\n\r\n` +
        body.slice(0, 40),
    );
    await sleep(100);

    server.child.kill('SIGTERM');
    // New connections are refused while the in-flight request is still open.
    let refused = false;
    for (let attempt = 0; attempt < 40 && !refused; attempt++) {
      try {
        (await openSocket(server.port)).destroy();
        await sleep(50);
      } catch (error) {
        refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      }
    }
    expect(refused).toBe(true);
    expect(server.child.exitCode).toBeNull();

    // write, not end: a half-closed socket is an aborted request to Node's HTTP server.
    slow.write(body.slice(40));
    const response = await answer;
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    const leadId = /"lead_id":"([0-9a-f-]{36})"/.exec(response)?.[1];
    const { rows } = await db.pool.query(
      'SELECT id FROM leads WHERE idempotency_key = $1 AND sender = $2',
      [key, ''],
    );
    expect(rows).toEqual([{ id: leadId }]);

    const exit = await Promise.race([server.exited, sleep(15_000, 'timeout' as const)]);
    expect(exit).toEqual({ code: 0, signal: null });
    stop = true;
    const outcomes = await load;
    console.info('SIGTERM under load:', { sent: outcomes.length, ...tally(outcomes) });
    expect(outcomes.filter((outcome) => outcome.status === 500)).toEqual([]);
    expect(
      outcomes.filter(
        (outcome) => outcome.status !== null && ![201, 409, 503].includes(outcome.status),
      ),
    ).toEqual([]);
    await expectAcknowledgedStored(db.pool, outcomes);

    // Requests refused during shutdown, or cut on a keep-alive connection being closed just as
    // they were sent, are a sender's retry away from being stored once.
    server = await spawnServer(db.url);
    const unanswered = outcomes.filter((outcome) => !isAcknowledged(outcome));
    const retried = await resend(
      server.url,
      unanswered.map((outcome) => outcome.key),
    );
    console.info('SIGTERM retries after restart:', tally(retried));
    expect(retried.filter((outcome) => !isAcknowledged(outcome))).toEqual([]);
    await expectOneLeadPerKey(
      db.pool,
      outcomes.map((outcome) => outcome.key),
    );
  }, 60_000);

  it('exits 0 after draining when run through the tsx command (npm run dev) as well', async () => {
    // tsx's parent process sends SIGKILL when its child does not acknowledge a relayed signal
    // within 30 ms; the child's acknowledging listener must survive ours being installed.
    const viaTsx = await spawnServer(db.url, {}, { viaTsxCli: true });
    try {
      expect((await fetch(`${viaTsx.url}/ready`)).status).toBe(200);
      viaTsx.child.kill('SIGTERM');
      const exit = await Promise.race([viaTsx.exited, sleep(15_000, 'timeout' as const)]);
      expect(exit, viaTsx.output()).toEqual({ code: 0, signal: null });
      expect(viaTsx.output()).not.toMatch(/"level":50/);
    } finally {
      await viaTsx.kill();
    }
  }, 60_000);

  it('Ctrl-C under npm (two SIGINTs at once) still drains and exits 0', async () => {
    const server2 = await spawnServer(db.url);
    try {
      expect((await fetch(`${server2.url}/ready`)).status).toBe(200);
      // The terminal signals the process group and npm passes its own on: both arrive.
      server2.child.kill('SIGINT');
      await sleep(5);
      server2.child.kill('SIGINT');
      const exit = await Promise.race([server2.exited, sleep(15_000, 'timeout' as const)]);
      expect(exit, server2.output()).toEqual({ code: 0, signal: null });
    } finally {
      await server2.kill();
    }
  }, 60_000);
});
