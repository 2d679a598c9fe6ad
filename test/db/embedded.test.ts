import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { StartupError } from '../../src/errors.js';
import { freePort, isPortFree } from '../../src/net.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temp dir with `mode`: mkdtemp's 0700 keeps out the `postgres` user PostgreSQL runs as under root. */
async function tempDir(mode = 0o755): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'leadflow-embedded-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, mode);
  return dir;
}

async function occupy(port: number): Promise<void> {
  const server = await listen(port);
  cleanups.push(() => close(server));
}

describe('free ports', () => {
  it('hands out a port that can then be listened on, and sees it busy while it is', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await isPortFree(port)).toBe(true);
    const server = await listen(port);
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await close(server);
    }
    expect(await isPortFree(port)).toBe(true);
  });
});

describe('startEmbeddedPostgres', () => {
  it('says why PostgreSQL stopped when its port is taken', async () => {
    const port = await freePort();
    await occupy(port);
    const failure = await startEmbeddedPostgres({
      dataDir: path.join(await tempDir(), 'data'),
      port,
      persistent: false,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toMatch(
      new RegExp(
        `on port ${port} .*could not bind IPv4 address "127.0.0.1": Address already in use`,
      ),
    );
  });
});
