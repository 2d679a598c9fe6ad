import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/net.js';

/**
 * pg_auto_failover (Debian's postgresql-15-auto-failover): a monitor, a primary and a
 * synchronous standby, each a `pg_autoctl … --run` process group on its own free port, data
 * under `dir`. Run as the `postgres` OS user when the tests run as root (initdb refuses root).
 */

const execFileAsync = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;

// The monitor's defaults take ~25 s to call a primary dead (5 s checks, 20 s "unhealthy").
// Tightened so that detection plus promotion stays well inside SPEC §12's 30 s on a busy
// 2-core machine; README "Running in production" gives the production values.
const MONITOR_SETTINGS: Record<string, string> = {
  'pgautofailover.health_check_period': '1000',
  'pgautofailover.health_check_timeout': '1000',
  'pgautofailover.health_check_max_retries': '1',
  'pgautofailover.health_check_retry_delay': '500',
  'pgautofailover.node_considered_unhealthy_timeout': '3000',
  // How long the standby waits, the primary unreachable, for it to have demoted itself. Safe
  // only above the keepers' network_partition_timeout (set to 2 s below).
  'pgautofailover.primary_demote_timeout': '4000',
};

export interface AutoctlNode {
  name: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** SIGKILL to the keeper and its PostgreSQL: the machine died. */
  kill(): Promise<void>;
}

export interface AutoFailover {
  monitorUrl: string;
  nodes: AutoctlNode[];
  /** The database URL listing both nodes, the writable one to be found by the client. */
  url(database: string): string;
  stateOf(): Promise<{ nodename: string; reportedstate: string; goalstate: string }[]>;
  stop(): Promise<void>;
}

function autoctlCommand(dir: string, args: string[]): string[] {
  const env = [
    `PATH=${PG_BIN}:/usr/bin:/bin`,
    `HOME=${dir}`,
    `XDG_CONFIG_HOME=${dir}/config`,
    `XDG_DATA_HOME=${dir}/share`,
    'PG_AUTOCTL_DEBUG=',
  ];
  return isRoot
    ? ['runuser', '-u', 'postgres', '--', 'env', ...env, 'pg_autoctl', ...args]
    : ['env', ...env, 'pg_autoctl', ...args];
}

/** A one-off pg_autoctl command (config set, reload). */
async function autoctlOnce(dir: string, args: string[]): Promise<void> {
  const [command, ...rest] = autoctlCommand(dir, args);
  await execFileAsync(command!, rest, { cwd: dir, timeout: 30_000 });
}

function autoctl(dir: string, args: string[], logName: string): ChildProcess {
  const command = autoctlCommand(dir, args);
  // Its own process group, so that kill() takes the keeper and the PostgreSQL it started.
  const log = openSync(path.join(dir, `${logName}.log`), 'a');
  const child = spawn(command[0]!, command.slice(1), {
    detached: true,
    stdio: ['ignore', log, log],
    cwd: dir,
  });
  closeSync(log);
  return child;
}

async function killGroup(child: ChildProcess, dataDir: string): Promise<void> {
  const postmaster = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  const pid = Number(postmaster.split('\n')[0]);
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`pg_auto_failover: ${what} not within ${timeoutMs} ms`);
}

async function reportsState(monitorUrl: string, name: string, states: string[]) {
  const rows = await query<{ reportedstate: string }>(
    monitorUrl,
    `SELECT reportedstate FROM pgautofailover.node WHERE nodename = '${name}'`,
  );
  return states.includes(rows[0]?.reportedstate ?? '');
}

export async function startAutoFailover(dir: string): Promise<AutoFailover> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777); // mkdir's mode passes through the umask
  const children: { child: ChildProcess; dataDir: string }[] = [];
  const monitorPort = await freePort();
  const monitorDir = path.join(dir, 'monitor');
  const common = ['--auth', 'trust', '--no-ssl', '--hostname', '127.0.0.1', '--run'];
  const monitor = autoctl(
    dir,
    ['create', 'monitor', '--pgdata', monitorDir, '--pgport', String(monitorPort), ...common],
    'monitor',
  );
  children.push({ child: monitor, dataDir: monitorDir });
  const monitorUrl = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover`;
  const superMonitor = `postgres://postgres@127.0.0.1:${monitorPort}/pg_auto_failover`;
  const stop = async () => {
    for (const { child, dataDir } of children.reverse()) await killGroup(child, dataDir);
  };
  try {
    await until('monitor', async () => (await query(monitorUrl, 'SELECT 1')).length === 1, 60_000);
    for (const [name, value] of Object.entries(MONITOR_SETTINGS)) {
      await query(superMonitor, `ALTER SYSTEM SET ${name} = '${value}'`);
    }
    await query(superMonitor, 'SELECT pg_reload_conf()');
    const nodes: AutoctlNode[] = [];
    for (const name of ['node_1', 'node_2']) {
      const port = await freePort();
      const dataDir = path.join(dir, name);
      const child = autoctl(
        dir,
        [
          'create',
          'postgres',
          '--pgdata',
          dataDir,
          '--pgport',
          String(port),
          '--name',
          name,
          '--monitor',
          monitorUrl,
          ...common,
        ],
        name,
      );
      children.push({ child, dataDir });
      nodes.push({ name, port, dataDir, child, kill: () => killGroup(child, dataDir) });
      // Alone, the first node is `single`; it turns `primary` once the second is `secondary`.
      const expected = name === 'node_1' ? ['single'] : ['secondary'];
      await until(`${name} ${expected[0]}`, () => reportsState(monitorUrl, name, expected), 90_000);
      // A primary cut off from monitor and standby demotes itself after this long (20 s by
      // default); it must stay below the monitor's primary_demote_timeout above.
      await autoctlOnce(dir, [
        'config',
        'set',
        '--pgdata',
        dataDir,
        'timeout.network_partition_timeout',
        '2',
      ]);
      await autoctlOnce(dir, ['reload', '--pgdata', dataDir]);
    }
    await until('node_1 primary', () => reportsState(monitorUrl, 'node_1', ['primary']), 60_000);
    // The standby is synchronous: the primary waits for it on every commit.
    const primary = `postgres://postgres@127.0.0.1:${nodes[0]!.port}/postgres`;
    await until(
      'synchronous standby',
      async () =>
        (
          await query<{ sync_state: string }>(primary, 'SELECT sync_state FROM pg_stat_replication')
        ).some((row) => row.sync_state === 'quorum' || row.sync_state === 'sync'),
      30_000,
    );
    return {
      monitorUrl,
      nodes,
      url: (database) =>
        `postgres://postgres@${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}/${database}?target_session_attrs=read-write`,
      stateOf: () =>
        query(monitorUrl, 'SELECT nodename, reportedstate, goalstate FROM pgautofailover.node'),
      stop,
    };
  } catch (error) {
    await stop();
    const logs = await Promise.all(
      ['monitor', 'node_1', 'node_2'].map(async (name) => {
        const text = await readFile(path.join(dir, `${name}.log`), 'utf8').catch(() => '');
        return `--- ${name}.log\n${text.slice(-1500)}`;
      }),
    );
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`);
  }
}

/** Whether this machine has pg_auto_failover for PostgreSQL 15. */
export const autoFailoverInstalled = (): boolean =>
  existsSync(path.join(PG_BIN, 'pg_autoctl')) || existsSync('/usr/bin/pg_autoctl');
