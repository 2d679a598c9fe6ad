/**
 * `npm run bench`: Leadflow's hot paths against PostgreSQL's own limit on the same machine.
 * See bench/README.md for what is measured and how to read the output.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../src/net.js';
import { Acknowledged, checkConsistency, type ConsistencyReport } from './consistency.js';
import { delivery } from './delivery.js';
import { describeExport, exportScenario, type ExportResult } from './export.js';
import { wrkVersion } from './load-wrk.js';
import { machineInfo, toolVersion } from './machine.js';
import { loadOptions, USAGE, type BenchOptions } from './options.js';
import { describeProfile, summariseProfile } from './profile.js';
import { startBenchPostgres, type BenchPostgres } from './postgres.js';
import {
  checkTargets,
  describeConsistency,
  describeInterference,
  describeScenario,
  describeTargets,
} from './report.js';
import {
  allocation,
  ingestion,
  liveEvents,
  type BenchContext,
  type ScenarioResult,
} from './scenarios.js';
import { startServer, type ServerProcess } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..');
const QUOTA = 1_000_000_000;
const PROVIDERS_PER_LEAD = 3;

const print = (lines: string[]): void => console.log(lines.join('\n'));

/**
 * Every rule of SPEC §10 on every provider, none of which refuses a bench lead: caps far above
 * any run's count (still counted per batch), a schedule open all day in two windows (one of
 * them overnight), a filter every lead passes. What is measured is their cost.
 */
const BENCH_RULES = {
  timezone: 'Europe/Riga',
  caps: { hour: QUOTA, day: QUOTA, week: QUOTA, month: QUOTA },
  schedule: [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '12:00' },
    { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '12:00', to: '00:00' },
  ],
  filters: [{ field: 'email', op: 'exists' }],
};

/** Quotas so large no scenario can exhaust them, set through the API every operator uses. */
async function raiseQuotas(serverUrl: string): Promise<number> {
  const providers = (await (await fetch(`${serverUrl}/api/providers`)).json()) as { id: number }[];
  for (const provider of providers) {
    const response = await fetch(`${serverUrl}/api/providers/${provider.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quota: QUOTA, remainingQuota: QUOTA, ...BENCH_RULES }),
    });
    if (!response.ok) throw new Error(`PATCH /api/providers/${provider.id}: ${response.status}`);
  }
  return providers.length;
}

function header(
  options: BenchOptions,
  database: BenchPostgres,
  pgbenchVersion: string | undefined,
  wrk: string | undefined,
): { lines: string[]; json: Record<string, unknown> } {
  const machine = machineInfo(projectRoot);
  const settings = database.settings;
  const lines = [
    `Leadflow benchmark · ${new Date().toISOString()}`,
    `machine    ${machine.cpuModel} · ${machine.cores} cores · ${machine.memoryGiB} GiB · ${machine.kernel}`,
    `software   Node ${machine.node} · PostgreSQL ${database.version} (${database.embedded ? 'embedded' : 'BENCH_DATABASE_URL'}) · ` +
      `${pgbenchVersion ?? 'pgbench absent'} · ` +
      `${wrk ? `${wrk} (ingestion, allocation) and ` : ''}autocannon ${machine.autocannon}${wrk ? ' (sse)' : ''} · ` +
      `Leadflow ${machine.leadflowSha}${machine.leadflowDirty ? ' + uncommitted changes in src/' : ''}`,
    `database   ${Object.entries(settings)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`,
    `load       ${options.connections} connections · ${options.durationSec} s measured after ${options.warmupSec} s warm-up · ` +
      `server NODE_ENV=production LOG_LEVEL=warn (${options.serverBuild}) · one machine for load, server and database`,
  ];
  return {
    lines,
    json: {
      machine,
      postgres: { version: database.version, settings },
      pgbench: pgbenchVersion,
      wrk,
    },
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const options = loadOptions(argv, process.env);
  const startedAt = new Date();
  const pgbenchVersion = toolVersion(options.pgbench);
  const wrk = options.loadGenerator === 'autocannon' ? undefined : await wrkVersion();
  if (options.loadGenerator === 'wrk' && !wrk) {
    throw new Error('--load-generator=wrk but wrk is not installed (apt-get install wrk)');
  }
  const resultsDir = path.join(here, 'results');
  await mkdir(resultsDir, { recursive: true });
  const profileDir = options.profile ? await mkdtemp(path.join(resultsDir, 'profile-')) : undefined;
  const progress = (line: string): void => {
    process.stderr.write(`[bench] ${line}\n`);
  };

  progress(options.databaseUrl ? 'preparing BENCH_DATABASE_URL' : 'starting embedded PostgreSQL');
  const database = await startBenchPostgres({
    databaseUrl: options.databaseUrl,
    dataDir: path.join(here, '.pgdata'),
  });
  let server: ServerProcess | undefined;
  const monitor = new pg.Client({
    connectionString: database.url,
    application_name: 'leadflow-bench',
  });
  try {
    await monitor.connect();
    progress('starting Leadflow');
    server = await startServer({
      projectRoot,
      databaseUrl: database.url,
      port: await freePort(),
      build: options.serverBuild,
      cpuProfileDir: profileDir,
      // With a delivery worker, this process only takes requests (the worker is started by
      // the delivery scenario).
      extraEnv: options.deliveryWorker
        ? { ...options.serverEnv, DELIVERY_CONCURRENCY: '0' }
        : options.serverEnv,
    });
    const providers = await raiseQuotas(server.url);
    const { lines, json: environment } = header(options, database, pgbenchVersion, wrk);
    print(lines);
    if (!pgbenchVersion) {
      print([
        `pgbench    not found as "${options.pgbench}": baselines skipped (install postgresql-client, or set BENCH_PGBENCH)`,
      ]);
    }
    print([
      `topology   demo services 1–3 over ${providers} providers, quotas raised to ${QUOTA.toLocaleString('en-US')}; ` +
        'every provider has caps (hour/day/week/month), a two-window schedule and a filter',
      '',
    ]);

    const acknowledged = new Acknowledged();
    let sequence = 0;
    const loadGeneratorPids = new Set<number>();
    const workerPids = new Set<number>();
    const runningServer = server;
    const context: BenchContext = {
      options,
      serverUrl: server.url,
      databaseUrl: database.url,
      monitor,
      subjects: {
        monitor,
        serverPid: runningServer.pid,
        serverPids: () => [runningServer.pid, ...workerPids],
        serverRss: () => runningServer.rssMiB(),
        postmasterPid: database.postmasterPid,
        loadGeneratorPids: () => [...loadGeneratorPids],
      },
      acknowledged,
      runId: startedAt.getTime().toString(36),
      nextSequence: () => sequence++,
      pgbenchMissing: pgbenchVersion ? undefined : 'pgbench not found',
      wrk,
      loadGeneratorPids,
      workerPids,
      startWorker: async (extraEnv) =>
        startServer({
          projectRoot,
          databaseUrl: database.url,
          port: await freePort(),
          build: options.serverBuild,
          cpuProfileDir: profileDir,
          extraEnv: { ...options.serverEnv, ...extraEnv },
        }),
      progress,
    };

    const results: ScenarioResult[] = [];
    const scenarios = { ingest: ingestion, allocate: allocation, sse: liveEvents, delivery };
    let exported: ExportResult | undefined;
    for (const name of options.scenarios) {
      if (name === 'export') {
        exported = await exportScenario(context);
        print([...describeExport(exported), '']);
        continue;
      }
      const result = await scenarios[name](context);
      results.push(result);
      print([...describeScenario(result), '']);
    }

    progress('checking consistency');
    const consistency: ConsistencyReport = await checkConsistency(
      database.url,
      acknowledged,
      PROVIDERS_PER_LEAD,
    );
    const targets = checkTargets(results);
    print([
      ...describeTargets(targets),
      ...describeInterference(results),
      '',
      ...describeConsistency(consistency),
    ]);

    await server.stop();
    server = undefined;
    const profile = profileDir ? await summariseProfile(profileDir) : undefined;
    if (profile) print(['', ...describeProfile(profile)]);

    const file = path.join(
      resultsDir,
      `bench-${startedAt.toISOString().replaceAll(':', '-')}.json`,
    );
    const report = {
      startedAt: startedAt.toISOString(),
      ...environment,
      options,
      scenarios: results,
      export: exported,
      targets,
      consistency,
      profile,
    };
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    print(['', `results    ${path.relative(projectRoot, file)}`]);
    return consistency.ok && (exported?.withinBudget ?? true) ? 0 : 1;
  } finally {
    await server?.stop();
    await monitor.end().catch(() => undefined);
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
