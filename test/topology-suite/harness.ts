import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../src/net.js';
import { projectRoot } from '../../src/paths.js';
import { spawnServer, type ServerProcess } from '../faults/server-process.js';

/**
 * The production topology of README "Running in production", on loopback: nginx and PgBouncer
 * run the very files in deploy/ (ports, paths and authentication rewritten; a rewrite that
 * no longer matches fails the test, so the files cannot drift from what is tested).
 */

const isRoot = process.getuid?.() === 0;

async function deployFile(relative: string): Promise<string> {
  return readFile(path.join(projectRoot, 'deploy', relative), 'utf8');
}

/** Replaces each `from` once; throws when deploy/ no longer contains it. */
function rewrite(text: string, replacements: [string | RegExp, string][], file: string): string {
  let result = text;
  for (const [from, to] of replacements) {
    const found = typeof from === 'string' ? result.includes(from) : from.test(result);
    if (!found) throw new Error(`deploy/${file} no longer contains ${String(from)}`);
    result = result.replace(from, to);
  }
  return result;
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function startDaemon(command: string, args: string[]): Daemon {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (running) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/** A scratch directory the daemons' own users can use (PgBouncer refuses to run as root). */
export async function scratchDir(
  prefix: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dir, 0o777);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface PgBouncer extends Daemon {
  port: number;
  /** DATABASE_URL for the instances: through PgBouncer, to the `leadflow` alias. */
  url: string;
}

/** deploy/pgbouncer/pgbouncer.ini in front of `databaseUrl`'s server and database. */
export async function startPgBouncer(databaseUrl: string, dir: string): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const user = decodeURIComponent(target.username);
  const port = await freePort();
  const ini = rewrite(
    await deployFile('pgbouncer/pgbouncer.ini'),
    [
      [
        'host=127.0.0.1 port=5432 dbname=leadflow',
        `host=${target.hostname} port=${target.port || 5432} dbname=${target.pathname.slice(1)}`,
      ],
      ['listen_port = 6432', `listen_port = ${port}`],
      // Trust on loopback for the throw-away run; the user must still be in auth_file.
      ['auth_type = scram-sha-256', 'auth_type = trust'],
      ['auth_file = /etc/pgbouncer/userlist.txt', `auth_file = ${dir}/userlist.txt`],
      ['logfile = /var/log/postgresql/pgbouncer.log', `logfile = ${dir}/pgbouncer.log`],
      ['pidfile = /var/run/postgresql/pgbouncer.pid', `pidfile = ${dir}/pgbouncer.pid`],
      ['admin_users = postgres', `admin_users = ${user}`],
    ],
    'pgbouncer/pgbouncer.ini',
  );
  await writeFile(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  // PgBouncer logs in to PostgreSQL with the password it has for the user here (the
  // embedded PostgreSQL of a run without TEST_DATABASE_URL wants one).
  const password = decodeURIComponent(target.password);
  await writeFile(path.join(dir, 'userlist.txt'), `"${user}" "${password}"\n`, { mode: 0o644 });
  const daemon = startDaemon('pgbouncer', [
    ...(isRoot ? ['-u', 'postgres'] : []),
    path.join(dir, 'pgbouncer.ini'),
  ]);
  const url = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/leadflow`;
  await until('PgBouncer', async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  }).catch(async (error: Error) => {
    await daemon.stop();
    throw new Error(`${error.message}\n${daemon.output()}`);
  });
  return { ...daemon, port, url };
}

export interface Nginx extends Daemon {
  url: string;
}

/** deploy/nginx/leadflow.conf with its three upstreams on `upstreamPorts`. */
export async function startNginx(upstreamPorts: number[], dir: string): Promise<Nginx> {
  const port = await freePort();
  const site = rewrite(
    await deployFile('nginx/leadflow.conf'),
    [
      ['server 127.0.0.1:3001 ', `server 127.0.0.1:${upstreamPorts[0]} `],
      ['server 127.0.0.1:3002 ', `server 127.0.0.1:${upstreamPorts[1]} `],
      ['server 127.0.0.1:3003 ', `server 127.0.0.1:${upstreamPorts[2]} `],
      [/listen 80;/, `listen 127.0.0.1:${port};`],
    ],
    'nginx/leadflow.conf',
  );
  const main = `${isRoot ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), main);
  const daemon = startDaemon('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  const url = `http://127.0.0.1:${port}`;
  await until('nginx', async () => (await fetch(`${url}/health`)).status === 200).catch(
    async (error: Error) => {
      await daemon.stop();
      throw new Error(`${error.message}\n${daemon.output()}`);
    },
  );
  return { ...daemon, url };
}

/** KEY=VALUE lines of deploy/leadflow.env plus the unit's Environment= lines (PORT=%i aside). */
export async function deployedEnvironment(): Promise<Record<string, string>> {
  const unit = await deployFile('systemd/leadflow@.service');
  if (!unit.includes('EnvironmentFile=/etc/leadflow/leadflow.env')) {
    throw new Error('deploy/systemd/leadflow@.service no longer reads /etc/leadflow/leadflow.env');
  }
  const lines = [
    ...(await deployFile('leadflow.env')).split('\n'),
    ...unit
      .split('\n')
      .filter((line) => line.startsWith('Environment='))
      .map((line) => line.slice('Environment='.length)),
  ];
  const env: Record<string, string> = {};
  for (const line of lines) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match && match[2] !== '%i') env[match[1]!] = match[2]!;
  }
  return env;
}

/** The unit's stop timeout in ms: systemd sends SIGKILL after it. */
export async function unitStopTimeoutMs(): Promise<number> {
  const unit = await deployFile('systemd/leadflow@.service');
  const match = /^TimeoutStopSec=(\d+)$/m.exec(unit);
  if (!match || !/^KillSignal=SIGTERM$/m.test(unit)) {
    throw new Error('deploy/systemd/leadflow@.service: KillSignal=SIGTERM and TimeoutStopSec=');
  }
  return Number(match[1]) * 1000;
}

export interface InstanceSettings {
  databaseUrl: string;
  listenUrl: string;
  extra?: Record<string, string>;
}

/** One instance as the systemd unit starts it, on `port` (a fresh one when omitted). */
export async function startInstance(
  settings: InstanceSettings,
  port?: number,
): Promise<ServerProcess> {
  const env = await deployedEnvironment();
  return spawnServer(
    settings.databaseUrl,
    {
      ...env,
      DATABASE_LISTEN_URL: settings.listenUrl,
      LOG_LEVEL: 'warn',
      // One client address sends everything here; the production rate limit would 429 it.
      RATE_LIMIT_PER_MINUTE: '0',
      // The loopback receiver of the delivery test is a private address.
      DELIVERY_ALLOW_PRIVATE: '1',
      DELIVERY_POLL_MS: '100',
      ...settings.extra,
    },
    { port, timeoutMs: 60_000 },
  );
}

export interface Answer {
  status: number | null;
  /** When the answer (or the connection failure) arrived, ms since the epoch. */
  at?: number;
  retryAfter?: string;
  body?: Record<string, unknown>;
  error?: string;
}

/** One JSON POST over node:http with no agent; a connection failure is `status: null`. */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Answer> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ status: null, error: error.message }));
        response.on('end', () => {
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, retryAfter, body: parsed });
        });
      },
    );
    request.on('error', (error) => resolve({ status: null, error: error.message }));
    request.end(JSON.stringify(body));
  });
}

/** An answer SPEC §12 allows during restarts and failovers. */
export function isAllowedAnswer(answer: Answer): boolean {
  if (answer.status === null) return true; // refused or cut: the client retries
  if (answer.status === 503) return answer.retryAfter !== undefined;
  return answer.status === 200 || answer.status === 201 || answer.status === 409;
}

/**
 * A sender that retries as the SPEC's senders do: the same Idempotency-Key again after a
 * refused connection or a 503 (waiting Retry-After, capped), until acknowledged.
 */
export async function sendUntilAnswered(
  url: string,
  body: unknown,
  key: string,
  log: Answer[],
  giveUpAfterMs = 60_000,
): Promise<Answer> {
  const deadline = Date.now() + giveUpAfterMs;
  for (;;) {
    const answer = await postJson(url, body, { 'idempotency-key': key });
    log.push({ ...answer, at: Date.now() });
    if (answer.status !== null && answer.status !== 503) return answer;
    if (Date.now() > deadline) return answer;
    const wait = answer.retryAfter ? Math.min(Number(answer.retryAfter) * 1000, 1000) : 100;
    await sleep(wait);
  }
}

export interface AllocationHistory {
  providersBelowZero: number;
  /** Providers whose decrement differs from their allocation rows. */
  decrementMismatches: { id: number; decrement: number; allocations: number }[];
  /** Allocated leads without exactly `providers_per_lead` distinct providers. */
  badLeads: number;
  allocatedLeads: number;
}

/**
 * SPEC §3's invariants over the whole history, for providers that started at `startQuota`
 * with nothing allocated and were never reset.
 */
export async function allocationHistory(
  pool: pg.Pool,
  startQuota: number,
): Promise<AllocationHistory> {
  const below = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM providers WHERE remaining_quota < 0',
  );
  const mismatches = await pool.query<{ id: number; decrement: number; allocations: number }>(
    `SELECT p.id, $1 - p.remaining_quota AS decrement, count(a.id)::int AS allocations
       FROM providers p LEFT JOIN allocations a ON a.provider_id = p.id
      GROUP BY p.id HAVING $1 - p.remaining_quota <> count(a.id)`,
    [startQuota],
  );
  const leads = await pool.query<{ allocated: number; bad: number }>(
    `SELECT count(*)::int AS allocated,
            count(*) FILTER (WHERE providers <> per_lead OR distinct_providers <> per_lead)::int AS bad
       FROM (SELECT l.id, s.providers_per_lead AS per_lead, count(a.id) AS providers,
                    count(DISTINCT a.provider_id) AS distinct_providers
               FROM leads l JOIN services s ON s.id = l.service_id
               LEFT JOIN allocations a ON a.lead_id = l.id
              WHERE l.status = 'allocated'
              GROUP BY l.id, s.providers_per_lead) AS per_lead_counts`,
  );
  const orphans = await pool.query<{ n: number }>(
    `SELECT count(DISTINCT a.lead_id)::int AS n FROM allocations a JOIN leads l ON l.id = a.lead_id
      WHERE l.status <> 'allocated'`,
  );
  return {
    providersBelowZero: below.rows[0]!.n,
    decrementMismatches: mismatches.rows,
    badLeads: leads.rows[0]!.bad + orphans.rows[0]!.n,
    allocatedLeads: leads.rows[0]!.allocated,
  };
}
