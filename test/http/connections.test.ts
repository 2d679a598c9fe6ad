import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionLimits, openFileLimit } from '../../src/http/security/connections.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let app: TestApp;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leadflow-limits-'));
  db = await createTestDatabase();
  app = await startTestApp(db);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function limitsFile(maxOpenFiles: string): Promise<string> {
  const file = path.join(dir, `limits-${maxOpenFiles}`);
  await writeFile(
    file,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             63541                63541                processes \n' +
      `Max open files            ${maxOpenFiles.padEnd(21)}1048576              files     \n`,
  );
  return file;
}

/** Raw bytes to the server on one connection; everything it answers until it closes. */
function exchange(bytes: string): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('connection limits', () => {
  it('reads the soft open-file limit, 1024 when it cannot', async () => {
    expect(openFileLimit(await limitsFile('4096'))).toBe(4096);
    expect(openFileLimit(await limitsFile('unlimited'))).toBe(1_048_576);
    expect(openFileLimit(path.join(dir, 'missing'))).toBe(1024);
  });

  it('leaves room for the pool, the LISTEN connection and 64 other files', () => {
    const defaults = { DB_POOL_SIZE: 20, MAX_CONNECTIONS: undefined, MAX_SSE_CLIENTS: undefined };
    expect(connectionLimits(defaults, 1024)).toEqual({ maxConnections: 939, maxSseClients: 469 });
    expect(connectionLimits(defaults, 65_536)).toEqual({
      maxConnections: 65_451,
      maxSseClients: 1000,
    });
    expect(
      connectionLimits({ ...defaults, MAX_CONNECTIONS: 50, MAX_SSE_CLIENTS: 40 }, 1024),
    ).toEqual({ maxConnections: 50, maxSseClients: 40 });
    expect(app.app.server.maxConnections).toBe(connectionLimits(defaults).maxConnections);
  });
});

describe('at MAX_CONNECTIONS', () => {
  it('closes the connection beyond it, gives back idle keep-alive ones, and serves again', async () => {
    const capped = await startTestApp(db, { MAX_CONNECTIONS: '2' });
    const port = Number(new URL(capped.url).port);
    const open = (): Promise<{ socket: Socket; closed: Promise<void>; answer(): string }> =>
      new Promise((resolve, reject) => {
        let answer = '';
        const socket = connect(port, '127.0.0.1');
        const closed = new Promise<void>((done) => socket.on('close', () => done()));
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('error', () => undefined);
        socket.once('connect', () => resolve({ socket, closed, answer: () => answer }));
        socket.once('error', reject);
      });
    const health = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
    try {
      // Two keep-alive connections, each idle after one answered request.
      const idle = [await open(), await open()];
      for (const connection of idle) connection.socket.write(health);
      await expect.poll(() => idle.every((c) => c.answer().includes('HTTP/1.1 200'))).toBe(true);

      const beyond = await open();
      await beyond.closed;
      expect(beyond.answer()).toBe('');
      await Promise.all(idle.map((connection) => connection.closed));

      const next = await open();
      next.socket.write(health.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      await next.closed;
      expect(next.answer()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await capped.close();
    }
  });
});

describe('requests Node refuses before any route', () => {
  it('answers an unparsable request 400 with the JSON error shape', async () => {
    const answer = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('\r\n\r\n{"ok":false,"error":"bad_request"}');
  });

  it('answers headers beyond 16 KiB 431 with the JSON error shape', async () => {
    const answer = await exchange(
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('\r\n\r\n{"ok":false,"error":"headers_too_large"}');
  });
});
