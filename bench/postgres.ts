import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withDatabase } from '../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { freePort } from '../src/net.js';

export const BENCH_DATABASE = 'leadflow_bench';

export interface BenchPostgres {
  /** URL of the `leadflow_bench` database the server and pgbench share. */
  url: string;
  embedded: boolean;
  /** The postmaster's pid when it runs on this machine under our control (for CPU accounting). */
  postmasterPid: number | undefined;
  version: string;
  settings: Record<string, string>;
  stop(): Promise<void>;
}

const SHOWN_SETTINGS = [
  'synchronous_commit',
  'fsync',
  'wal_sync_method',
  'full_page_writes',
  'shared_buffers',
  'max_connections',
  'commit_delay',
];

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'leadflow-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh `leadflow_bench` database: on an embedded PostgreSQL with its stock, durable
 * settings (synchronous_commit on, fsync on) in bench/.pgdata, or on BENCH_DATABASE_URL's
 * server. synchronous_commit is pinned on for the database, so no role or server default can
 * turn a 201 into a promise the WAL has not kept.
 */
export async function startBenchPostgres(options: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<BenchPostgres> {
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = options.databaseUrl;
  if (!adminUrl) {
    await rm(options.dataDir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgres({
      dataDir: options.dataDir,
      port: await freePort(),
      persistent: false,
      postgresFlags: [
        '-c',
        'synchronous_commit=on',
        '-c',
        'fsync=on',
        // 64 pgbench clients + the server's pool + listeners' LISTEN connection + this harness.
        '-c',
        'max_connections=200',
      ],
    });
    adminUrl = embedded.url;
  }
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
    await client.query(`ALTER DATABASE ${BENCH_DATABASE} SET synchronous_commit = on`);
  });
  const url = withDatabase(adminUrl, BENCH_DATABASE);
  const { version, settings } = await withClient(url, async (client) => {
    const versionRow = await client.query<{ server_version: string }>('SHOW server_version');
    const rows = await client.query<{ name: string; setting: string }>(
      'SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)',
      [SHOWN_SETTINGS],
    );
    return {
      version: versionRow.rows[0]!.server_version,
      settings: Object.fromEntries(rows.rows.map((row) => [row.name, row.setting])),
    };
  });
  const pidFile = path.join(options.dataDir, 'postmaster.pid');
  const postmasterPid =
    embedded && existsSync(pidFile)
      ? Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10)
      : undefined;
  return {
    url,
    embedded: embedded !== undefined,
    postmasterPid,
    version,
    settings,
    stop: async () => {
      if (embedded) {
        await embedded.stop();
        await rm(options.dataDir, { recursive: true, force: true });
      } else {
        await withClient(adminUrl, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`),
        ).catch(() => undefined);
      }
    },
  };
}

export interface DatabaseCounters {
  commits: number;
  rollbacks: number;
  walRecords: number;
  walBytes: number;
  /** WAL flushes to disk: the real group-commit denominator. */
  walSyncs: number;
}

export async function readCounters(client: pg.Client): Promise<DatabaseCounters> {
  // Through jsonb so that a server whose pg_stat_wal lacks a column (PostgreSQL 18 moved
  // wal_sync to pg_stat_io) reads it as 0 instead of failing the run.
  const { rows } = await client.query<{
    xact_commit: string;
    xact_rollback: string;
    wal_records: string | null;
    wal_bytes: string | null;
    wal_sync: string | null;
  }>(
    `SELECT d.xact_commit, d.xact_rollback, to_jsonb(w) ->> 'wal_records' AS wal_records,
            to_jsonb(w) ->> 'wal_bytes' AS wal_bytes, to_jsonb(w) ->> 'wal_sync' AS wal_sync
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()`,
  );
  const row = rows[0]!;
  return {
    commits: Number(row.xact_commit),
    rollbacks: Number(row.xact_rollback),
    walRecords: Number(row.wal_records),
    walBytes: Number(row.wal_bytes),
    walSyncs: Number(row.wal_sync),
  };
}

export function counterDelta(before: DatabaseCounters, after: DatabaseCounters): DatabaseCounters {
  return {
    commits: after.commits - before.commits,
    rollbacks: after.rollbacks - before.rollbacks,
    walRecords: after.walRecords - before.walRecords,
    walBytes: after.walBytes - before.walBytes,
    walSyncs: after.walSyncs - before.walSyncs,
  };
}

/**
 * Samples what the database's backends are doing every `intervalMs`: the wait event of each
 * active backend (or `CPU` when it waits on nothing), the poor man's profile of PostgreSQL.
 */
export class WaitSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly client: pg.Client,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  async stop(): Promise<{ samples: number; waits: Record<string, number> }> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    const waits = Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
    return { samples: this.samples, waits };
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ wait: string; backends: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*)::int AS backends
           FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
          GROUP BY 1`,
      );
      this.samples++;
      for (const row of rows)
        this.counts.set(row.wait, (this.counts.get(row.wait) ?? 0) + row.backends);
    } finally {
      this.busy = false;
    }
  }
}
