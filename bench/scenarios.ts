import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Acknowledged } from './consistency.js';
import { allocateBody, ingestBody, PGBENCH_SAMPLE_BODY } from './lead.js';
import { drive, type LoadResult, type LoadSpec } from './load.js';
import { driveWrk } from './load-wrk.js';
import { observe, type Observation, type ObserverSubjects } from './measure.js';
import type { BenchOptions } from './options.js';
import { pgbench, type PgbenchRun } from './pgbench.js';
import type { DispatchReport } from './delivery.js';
import type { DelayReport } from './sse-listeners.js';
import type { ServerProcess } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface BenchContext {
  options: BenchOptions;
  serverUrl: string;
  databaseUrl: string;
  monitor: pg.Client;
  subjects: ObserverSubjects;
  acknowledged: Acknowledged;
  runId: string;
  nextSequence: () => number;
  /** wrk's version when ingestion and allocation use it; undefined = autocannon. */
  wrk: string | undefined;
  /** Why pgbench baselines are skipped, when they are. */
  pgbenchMissing: string | undefined;
  loadGeneratorPids: Set<number>;
  /** Leadflow processes besides the one at serverUrl (a delivery worker), counted as the server. */
  workerPids: Set<number>;
  /** Starts another Leadflow process on the same database with this environment on top. */
  startWorker: (extraEnv: Record<string, string>) => Promise<ServerProcess>;
  /** Prints a progress line (stderr, so the report on stdout stays clean). */
  progress: (line: string) => void;
  /** The allocation scenario's pgbench baseline, reused by the delivery scenario. */
  allocationBaseline?: Measured<PgbenchRun>;
}

export interface Measured<T> {
  run: T;
  observation: Observation;
}

export interface ScenarioResult {
  name: 'ingestion' | 'allocation' | 'sse' | 'delivery';
  title: string;
  http: Measured<LoadResult>;
  baseline?: Measured<PgbenchRun>;
  baselineSkipped?: string;
  /** HTTP requests/s over baseline transactions/s. */
  ratio?: number;
  delivery?: DelayReport;
  dispatch?: DispatchReport;
  backlog?: BacklogReport;
}

/** How long a quota reset takes to allocate a backlog of refused leads (SPEC §10). */
export interface BacklogReport {
  leads: number;
  allocated: number;
  drainMs: number;
}

const BACKLOG_LEADS = 10_000;

/**
 * One API call of the backlog scenario. A 503 (load shedding, SPEC §8) is waited out and sent
 * again, as a sender would: on a shared machine the filling phase was shed and ended the run.
 */
async function api(
  context: BenchContext,
  method: string,
  url: string,
  body?: unknown,
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${context.serverUrl}${url}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 503 && attempt < 50) {
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (response.status >= 500) throw new Error(`${method} ${url}: ${response.status}`);
    return (await response.json()) as unknown;
  }
}

/**
 * Service 1's providers emptied, BACKLOG_LEADS leads refused into its backlog, then one quota
 * reset: the time from the reset's answer until the backlog is empty (the drainer hears the
 * reset's event; allocation of the backlog runs oldest first in batches).
 */
async function backlogDrain(context: BenchContext): Promise<BacklogReport> {
  context.progress(`backlog: ${BACKLOG_LEADS.toLocaleString('en-US')} refused leads, then a reset`);
  const providers = [1, 2, 3, 4];
  for (const id of providers) {
    await api(context, 'PATCH', `/api/providers/${id}`, { remainingQuota: 0 });
  }
  let sent = 0;
  const sender = async (): Promise<void> => {
    while (sent < BACKLOG_LEADS) {
      const sequence = context.nextSequence();
      sent++;
      await api(context, 'POST', '/api/request-service', {
        ...JSON.parse(allocateBody(sequence, context.runId)),
        serviceId: 1,
      });
    }
  };
  await Promise.all(Array.from({ length: 32 }, sender));
  const waiting = async (): Promise<number> => {
    const services = (await api(context, 'GET', '/api/services')) as {
      id: number;
      backlog: number;
    }[];
    return services.find((service) => service.id === 1)!.backlog;
  };
  const before = await waiting();
  const started = performance.now();
  await api(context, 'POST', '/api/webhook/reset-quota', {
    eventId: `bench-backlog-${context.runId}`,
    providerIds: providers,
  });
  while ((await waiting()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const drainMs = performance.now() - started;
  // The reset refilled what the earlier scenarios had used, so the consistency check's
  // "decrement = 3 × allocated leads" would no longer hold: the quota is lowered by exactly
  // what the reset gave back, which the allocation rows still record.
  await context.monitor.query(
    `UPDATE providers p
        SET quota = p.remaining_quota +
                    (SELECT count(*)::int FROM allocations a WHERE a.provider_id = p.id)
      WHERE p.id = ANY($1::int[])`,
    [providers],
  );
  return { leads: before, allocated: before, drainMs };
}

async function baseline(
  context: BenchContext,
  script: string,
  variables: Record<string, string>,
): Promise<Measured<PgbenchRun> | undefined> {
  if (context.pgbenchMissing) return undefined;
  const { options } = context;
  const common = {
    binary: options.pgbench,
    url: context.databaseUrl,
    script: path.join(here, 'pgbench', script),
    connections: options.connections,
    variables,
    onStart: (pid: number) => context.loadGeneratorPids.add(pid),
  };
  if (options.warmupSec > 0) {
    context.progress(`  pgbench ${script}: ${options.warmupSec} s warm-up`);
    await pgbench({ ...common, durationSec: options.warmupSec, logLatencies: false });
  }
  context.progress(`  pgbench ${script}: ${options.durationSec} s measured`);
  const { result, observation } = await observe(context.subjects, () =>
    pgbench({ ...common, durationSec: options.durationSec, logLatencies: true }),
  );
  return { run: result, observation };
}

export async function http(
  context: BenchContext,
  path: string,
  body: (sequence: number) => string,
  answered: (body: string, sequence: number) => void,
  hooks: {
    /** Times each answer as it arrives and paces requests: autocannon in this process. */
    live?: { rate?: number; onMeasureStart: () => void };
    /** Runs between the warm-up and the measured window. */
    beforeMeasure?: () => Promise<void>;
  } = {},
): Promise<Measured<LoadResult>> {
  const { live } = hooks;
  const { options } = context;
  const spec = (durationSec: number): LoadSpec => ({
    url: context.serverUrl,
    path,
    connections: options.connections,
    durationSec,
    rate: live?.rate,
    body: (sequence: number) => body(sequence),
    onResponse: (status: number, responseBody: string, sequence: number) => {
      if (status === 201) answered(responseBody, sequence);
    },
  });
  // The SSE scenario times each answer as it arrives, which only the in-process client can.
  const run = (durationSec: number): Promise<LoadResult> =>
    context.wrk && !live
      ? driveWrk(spec(durationSec), 201, `${context.runId}-w${context.nextSequence()}`, 1, (pid) =>
          context.loadGeneratorPids.add(pid),
        )
      : drive(spec(durationSec), 201, context.nextSequence, context.runId);
  if (options.warmupSec > 0) {
    context.progress(`  HTTP ${path}: ${options.warmupSec} s warm-up`);
    await run(options.warmupSec);
  }
  await hooks.beforeMeasure?.();
  context.progress(`  HTTP ${path}: ${options.durationSec} s measured`);
  live?.onMeasureStart();
  const { result, observation } = await observe(context.subjects, () => run(options.durationSec));
  return { run: result, observation };
}

export function withRatio(result: ScenarioResult): ScenarioResult {
  if (result.baseline) {
    result.ratio = result.http.run.requestsPerSec / result.baseline.run.transactionsPerSec;
  } else {
    result.baselineSkipped = 'pgbench not found';
  }
  return result;
}

export async function ingestion(context: BenchContext): Promise<ScenarioResult> {
  context.progress('ingestion: POST /api/lead');
  const base = await baseline(context, 'ingest.sql', { body: PGBENCH_SAMPLE_BODY });
  const measured = await http(
    context,
    '/api/lead',
    (sequence) => ingestBody(sequence, context.runId),
    (body) => context.acknowledged.ingestAnswered(body),
  );
  return withRatio({
    name: 'ingestion',
    title: 'ingestion  POST /api/lead',
    http: measured,
    baseline: base,
  });
}

/**
 * Enough queued leads for the allocation baseline never to run dry: it measured 500–1,000
 * tx/s on the 2-core machine, so 4,000/s is ample; running dry fails pgbench loudly.
 */
async function fillAllocationQueue(context: BenchContext): Promise<void> {
  const { options } = context;
  const count = Math.ceil((options.warmupSec + options.durationSec) * 4000);
  const sql = (await readFile(path.join(here, 'pgbench', 'allocate-setup.sql'), 'utf8')).replace(
    '{{count}}',
    String(count),
  );
  await context.monitor.query('DROP TABLE IF EXISTS bench_allocation_queue');
  await context.monitor.query('DROP SEQUENCE IF EXISTS bench_allocation_seq');
  await context.monitor.query(sql);
  await context.monitor.query('VACUUM ANALYZE leads, leads_raw, bench_allocation_queue');
}

/** The allocation baseline: measured once per run, by whichever scenario needs it first. */
export async function allocationBaseline(
  context: BenchContext,
): Promise<Measured<PgbenchRun> | undefined> {
  if (context.pgbenchMissing || context.allocationBaseline) return context.allocationBaseline;
  await fillAllocationQueue(context);
  context.allocationBaseline = await baseline(context, 'allocate.sql', {});
  return context.allocationBaseline;
}

export async function allocation(context: BenchContext): Promise<ScenarioResult> {
  context.progress('allocation: POST /api/request-service');
  const base = await allocationBaseline(context);
  const measured = await http(
    context,
    '/api/request-service',
    (sequence) => allocateBody(sequence, context.runId),
    (body) => context.acknowledged.allocationAnswered(body),
  );
  const backlog = await backlogDrain(context);
  return withRatio({
    name: 'allocation',
    title: 'allocation POST /api/request-service (every routing rule on every provider)',
    http: measured,
    baseline: base,
    backlog,
  });
}

interface ListenerProcess {
  connected: Promise<{ count: number; failed: number }>;
  measure(sentAt: Map<string, number>): Promise<DelayReport>;
  pid: number;
}

function startListeners(url: string, count: number): ListenerProcess {
  const child = fork(path.join(here, 'sse-listeners.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`SSE listeners exited with ${code}`)));
    });
  const connected = next<{ count: number; failed: number }>('connected');
  child.send({ type: 'connect', url, count });
  return {
    connected,
    pid: child.pid!,
    measure: (sentAt) => {
      const report = next<DelayReport>('delays');
      child.send({ type: 'measure', sentAt: [...sentAt] });
      return report;
    },
  };
}

export async function liveEvents(context: BenchContext): Promise<ScenarioResult> {
  const { options } = context;
  const rate = options.sseRate > 0 ? options.sseRate : undefined;
  context.progress(
    `live events: ${options.listeners} SSE listeners while POST /api/request-service runs` +
      (rate ? ` at ${rate}/s` : ''),
  );
  const listeners = startListeners(context.serverUrl, options.listeners);
  context.loadGeneratorPids.add(listeners.pid);
  const connected = await listeners.connected;
  if (connected.failed > 0) throw new Error(`${connected.failed} SSE listeners could not connect`);
  const sentAt = new Map<string, number>();
  let measuring = false;
  const measured = await http(
    context,
    '/api/request-service',
    (sequence) => allocateBody(sequence, context.runId),
    (body) => {
      const at = performance.timeOrigin + performance.now();
      const leadId = context.acknowledged.allocationAnswered(body);
      if (measuring && leadId) sentAt.set(leadId, at);
    },
    { live: { rate, onMeasureStart: () => (measuring = true) } },
  );
  // Stragglers: an event still on its way after the last 201 counts, however late.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const delivery = await listeners.measure(sentAt);
  context.loadGeneratorPids.delete(listeners.pid);
  return {
    name: 'sse',
    title: `live events ${options.listeners} listeners on GET /api/events`,
    http: measured,
    delivery,
  };
}
