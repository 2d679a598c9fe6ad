import { fork } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  allocationTimes,
  insertBacklog,
  pendingDeliveries,
  releaseBacklog,
} from './delivery.sql.js';
import { configSchema } from '../src/config.js';
import { allocateBody } from './lead.js';
import { drive, type LoadResult, type LoadSpec } from './load.js';
import { driveWrk } from './load-wrk.js';
import { observe, type Observation } from './measure.js';
import type { ReceiverReport } from './receiver.js';
import type { ServerProcess } from './server.js';
import {
  allocationBaseline,
  http,
  withRatio,
  type BenchContext,
  type ScenarioResult,
} from './scenarios.js';
import { percentile } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The backlog the drain phase empties: 33,334 leads × 3 providers. */
const BACKLOG_DELIVERIES = 100_000;
const PROVIDERS_PER_LEAD = 3;
// Longest wait for deliveries to catch up after a load, or for the backlog to drain.
const SETTLE_TIMEOUT_MS = 300_000;

export interface DispatchReport {
  /** Dispatcher sends in flight (DELIVERY_CONCURRENCY), also the ceiling client's connections. */
  concurrency: number;
  /** Sent by a second Leadflow process; the one taking requests had DELIVERY_CONCURRENCY=0. */
  worker: boolean;
  /** The receiver under the bench's load generator (wrk, or autocannon without it). */
  ceiling: LoadResult;
  /** The receiver under the dispatcher's own client in a Node process (sender-ceiling.ts). */
  senderCeiling: LoadResult;
  allocationWindowSec: number;
  /** Deliveries arriving at the receiver during the allocation window, per second. */
  deliveredPerSecDuring: number;
  /** delivered/s during the window over 3 × allocations/s. */
  pace: number;
  /** Deliveries of the window's allocations, until the last one arrived, per second. */
  deliveredPerSecOverall: number;
  /** From the end of the allocation load until the last of its deliveries arrived. */
  tailMs: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  duplicates: number;
  drain: {
    deliveries: number;
    seconds: number;
    perSec: number;
    /** perSec over the receiver's ceiling under the load generator. */
    ofCeiling: number;
    /** perSec over the receiver's ceiling under the dispatcher's client: the target's ratio. */
    ofSenderCeiling: number;
    duplicates: number;
    observation: Observation;
  };
}

interface ReceiverProcess {
  url: string;
  pid: number;
  reset(): Promise<void>;
  count(): Promise<{ count: number; lastAt: number }>;
  report(): Promise<ReceiverReport>;
  stop(): void;
}

async function startReceiver(): Promise<ReceiverProcess> {
  const child = fork(path.join(here, 'receiver.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      const onExit = (code: number | null) => reject(new Error(`receiver exited with ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = <T>(type: string): Promise<T> => {
    const answer = next<T>(type);
    child.send({ type });
    return answer;
  };
  const { port } = await next<{ port: number }>('listening');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    reset: async () => void (await ask('reset')),
    count: () => ask('count'),
    report: () => ask('report'),
    stop: () => child.kill('SIGTERM'),
  };
}

const now = (): number => performance.timeOrigin + performance.now();

/** The receiver's ceiling under the dispatcher's own client, in a process of its own. */
function measureSenderCeiling(
  context: BenchContext,
  receiver: ReceiverProcess,
  connections: number,
): Promise<LoadResult> {
  const { options } = context;
  const child = fork(
    path.join(here, 'sender-ceiling.ts'),
    [receiver.url, String(connections), String(options.warmupSec), String(options.durationSec)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  context.loadGeneratorPids.add(child.pid!);
  return new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (message: { type: string; result: LoadResult }) => {
      if (message.type === 'ceiling') resolve(message.result);
    });
    child.once('exit', (code) => {
      context.loadGeneratorPids.delete(child.pid!);
      reject(new Error(`sender-ceiling exited with ${code}`));
    });
  }).finally(() => receiver.reset());
}

/** Waits until `done()`; throws after SETTLE_TIMEOUT_MS. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${SETTLE_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/** Every provider delivers to `url` (or, with null, nowhere), through the operators' API. */
async function pointProviders(serverUrl: string, url: string | null): Promise<void> {
  const providers = (await (await fetch(`${serverUrl}/api/providers`)).json()) as { id: number }[];
  for (const provider of providers) {
    const response = await fetch(`${serverUrl}/api/providers/${provider.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        delivery: url === null ? null : { url: `${url}/leads/${provider.id}` },
      }),
    });
    if (!response.ok) throw new Error(`PATCH /api/providers/${provider.id}: ${response.status}`);
  }
}

/**
 * The receiver's own ceiling: requests/s it takes from the bench's load generator over as many
 * keep-alive connections as the dispatcher has sends in flight, with a delivery-sized body.
 */
async function measureCeiling(
  context: BenchContext,
  receiver: ReceiverProcess,
  connections: number,
): Promise<LoadResult> {
  const { options } = context;
  const body = (sequence: number): string =>
    JSON.stringify({
      lead_id: '0',
      delivery_id: String(sequence),
      ...JSON.parse(allocateBody(sequence, 'ceiling')),
    });
  const spec = (durationSec: number): LoadSpec => ({
    url: receiver.url,
    path: '/ceiling',
    connections,
    durationSec,
    body,
    onResponse: () => undefined,
  });
  const run = (durationSec: number): Promise<LoadResult> =>
    context.wrk
      ? driveWrk(spec(durationSec), 200, `ceiling-${context.nextSequence()}`, 1, (pid) =>
          context.loadGeneratorPids.add(pid),
        )
      : drive(spec(durationSec), 200, context.nextSequence, 'ceiling');
  if (options.warmupSec > 0) await run(options.warmupSec);
  const result = await run(options.durationSec);
  await receiver.reset();
  return result;
}

/**
 * SPEC §9 at load: (1) the receiver's own ceiling; (2) allocation at full load with every
 * provider delivering to the receiver — allocations/s against the pgbench baseline, delivered/s
 * against 3 × allocations/s, and the lag from each allocation's commit-time now() to its
 * arrival; (3) a backlog of 100,000 deliveries drained, against the ceiling.
 */
export async function delivery(context: BenchContext): Promise<ScenarioResult> {
  const { options, monitor } = context;
  // The server's own default unless --server-env sets it.
  const concurrency = configSchema.shape.DELIVERY_CONCURRENCY.parse(
    options.serverEnv.DELIVERY_CONCURRENCY,
  );
  context.progress('delivery: receiver in its own process');
  const receiver = await startReceiver();
  context.loadGeneratorPids.add(receiver.pid);
  let worker: ServerProcess | undefined;
  try {
    if (options.deliveryWorker) {
      context.progress(
        `  delivery worker: a second Leadflow process, ${concurrency} sends in flight`,
      );
      worker = await context.startWorker({ DELIVERY_CONCURRENCY: String(concurrency) });
      context.workerPids.add(worker.pid);
    }
    context.progress(`  receiver ceiling: ${concurrency} connections`);
    const ceiling = await measureCeiling(context, receiver, concurrency);
    context.progress(`  receiver ceiling: the dispatcher's client, ${concurrency} sends in flight`);
    const senderCeiling = await measureSenderCeiling(context, receiver, concurrency);
    const base = await allocationBaseline(context);

    await pointProviders(context.serverUrl, receiver.url);
    const measured = await http(
      context,
      '/api/request-service',
      (sequence) => allocateBody(sequence, context.runId),
      (body) => context.acknowledged.allocationAnswered(body),
      {
        // After the warm-up: its deliveries are let through first, so the window counts only
        // its own allocations'.
        beforeMeasure: async () => {
          await until('warm-up deliveries', async () => (await pendingDeliveries(monitor)) === 0);
          await receiver.reset();
        },
      },
    );
    // The measured window as observe() timed it (after its CHECKPOINT), ending about now.
    const windowEnd = now();
    const windowStart = windowEnd - measured.observation.seconds * 1000;
    context.progress('  waiting for the last deliveries of the window');
    await until('deliveries after the load', async () => (await pendingDeliveries(monitor)) === 0);
    const during = await receiver.report();
    const windowSec = (windowEnd - windowStart) / 1000;
    const arrivedInWindow = during.arrivals.filter(([, at]) => at <= windowEnd).length;
    const allocated = await allocationTimes(
      monitor,
      during.arrivals.map(([id]) => id),
    );
    const lags = new Float64Array(
      during.arrivals
        .map(([id, at]) => at - (allocated.get(id) ?? Number.NaN))
        .filter(Number.isFinite),
    );
    const deliveredPerSecDuring = arrivedInWindow / windowSec;

    context.progress(
      `  drain: a backlog of ${(
        Math.ceil(BACKLOG_DELIVERIES / PROVIDERS_PER_LEAD) * PROVIDERS_PER_LEAD
      ).toLocaleString('en-US')} deliveries`,
    );
    await receiver.reset();
    const queued = await insertBacklog(monitor, Math.ceil(BACKLOG_DELIVERIES / PROVIDERS_PER_LEAD));
    await monitor.query('VACUUM ANALYZE deliveries');
    let releasedAt = 0;
    const { result: drained, observation } = await observe(context.subjects, async () => {
      releasedAt = await releaseBacklog(monitor);
      await until('the backlog', async () => (await receiver.count()).count >= queued);
      await until('the backlog recorded', async () => (await pendingDeliveries(monitor)) === 0);
      return receiver.report();
    });
    const drainSec = (drained.lastAt - releasedAt) / 1000;
    const drainPerSec = queued / drainSec;
    await pointProviders(context.serverUrl, null);

    const dispatch: DispatchReport = {
      concurrency,
      worker: worker !== undefined,
      ceiling,
      senderCeiling,
      allocationWindowSec: windowSec,
      deliveredPerSecDuring,
      pace: deliveredPerSecDuring / (PROVIDERS_PER_LEAD * measured.run.requestsPerSec),
      deliveredPerSecOverall: during.arrivals.length / ((during.lastAt - windowStart) / 1000),
      tailMs: Math.max(0, during.lastAt - windowEnd),
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      lagMaxMs: percentile(lags, 100),
      duplicates: during.duplicates,
      drain: {
        deliveries: queued,
        seconds: drainSec,
        perSec: drainPerSec,
        ofCeiling: drainPerSec / ceiling.requestsPerSec,
        ofSenderCeiling: drainPerSec / senderCeiling.requestsPerSec,
        duplicates: drained.duplicates,
        observation,
      },
    };
    return withRatio({
      name: 'delivery',
      title: 'delivery   POST /api/request-service, every provider delivering to a receiver',
      http: measured,
      baseline: base,
      dispatch,
    });
  } finally {
    if (worker) {
      context.workerPids.delete(worker.pid);
      await worker.stop();
    }
    context.loadGeneratorPids.delete(receiver.pid);
    receiver.stop();
  }
}
