import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseEmbeddedPort } from '../../src/db/database.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { firstClosedDirectory } from '../../src/db/postgres-user.js';
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

const run = promisify(execFile);

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

describe('chooseEmbeddedPort', () => {
  function recordingLogger(): {
    logger: pino.Logger;
    lines: () => { level: number; msg: string }[];
  } {
    const written: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => written.push(line) });
    return { logger, lines: () => written.map((line) => JSON.parse(line)) };
  }

  it('keeps the default port while it is free', async () => {
    const port = await freePort();
    const { logger, lines } = recordingLogger();
    expect(await chooseEmbeddedPort(undefined, logger, port)).toBe(port);
    expect(lines()).toEqual([]);
  });

  it('takes a free port instead of a busy default, and says which', async () => {
    const busy = await freePort();
    await occupy(busy);
    const { logger, lines } = recordingLogger();
    const port = await chooseEmbeddedPort(undefined, logger, busy);
    expect(port).not.toBe(busy);
    expect(await isPortFree(port)).toBe(true);
    expect(lines()).toMatchObject([
      { level: 30, msg: `port ${busy} is in use; embedded PostgreSQL uses ${port} instead` },
    ]);
  });

  it('keeps a port the user set, and refuses it when busy', async () => {
    const { logger } = recordingLogger();
    const port = await freePort();
    expect(await chooseEmbeddedPort(port, logger)).toBe(port);
    await occupy(port);
    await expect(chooseEmbeddedPort(port, logger)).rejects.toThrow(
      new StartupError(
        `EMBEDDED_PG_PORT=${port} is already in use on 127.0.0.1: ` +
          'set EMBEDDED_PG_PORT to a free port, or unset it to let Leadflow pick one.',
      ),
    );
  });
});

describe('firstClosedDirectory', () => {
  // Any ids but the owner's: the check reads permission bits, so it needs no such user.
  const [uid, gid] = [65_534, 65_534];

  it('finds the directory others may not enter on the way, and none when all are open', async () => {
    const closed = await tempDir(0o700);
    await mkdir(path.join(closed, 'inner'));
    expect(await firstClosedDirectory(path.join(closed, 'inner', 'data'), uid, gid)).toBe(closed);
    await chmod(closed, 0o711);
    expect(
      await firstClosedDirectory(path.join(closed, 'inner', 'data'), uid, gid),
    ).toBeUndefined();
  });
});

const serve = (env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, DATABASE_URL: '', PORT: '0', ...env },
    timeout: 20_000,
  }).catch((error: { code: number; stdout: string; stderr: string }) => error);

describe('leadflow serve with the embedded PostgreSQL', () => {
  it('stops with one line naming EMBEDDED_PG_PORT when the port set there is busy', async () => {
    const port = await freePort();
    await occupy(port);
    const dataDir = path.join(await tempDir(), 'data');
    const failure = await serve({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
    expect(failure).toMatchObject({
      code: 1,
      stderr:
        `EMBEDDED_PG_PORT=${port} is already in use on 127.0.0.1: ` +
        'set EMBEDDED_PG_PORT to a free port, or unset it to let Leadflow pick one.\n',
    });
  });

  it.runIf(process.getuid?.() === 0)(
    'as root, stops with one line when the postgres user cannot reach DATA_DIR',
    async () => {
      const closed = await tempDir(0o700);
      const dataDir = path.join(closed, 'data');
      const failure = await serve({
        DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(await freePort()),
      });
      expect(failure).toMatchObject({
        code: 1,
        stderr:
          "PostgreSQL refuses to run as root, and the 'postgres' user it then runs as cannot " +
          `enter ${closed}, which holds the data directory ${dataDir}: set DATA_DIR to a ` +
          'directory other users can enter, run as a non-root user, or set DATABASE_URL.\n',
      });
      expect(existsSync(dataDir)).toBe(false);
    },
  );
});
