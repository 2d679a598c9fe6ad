import type { ConsistencyReport } from './consistency.js';
import type { Observation } from './measure.js';
import type { DispatchReport } from './delivery.js';
import type { ScenarioResult } from './scenarios.js';

export interface TargetCheck {
  scenario: string;
  target: string;
  actual: string;
  /** Undefined when it could not be measured (e.g. no pgbench for a ratio). */
  met: boolean | undefined;
}

/** Percent of a core taken by processes outside the benchmark above which a window is suspect. */
export const BUSY_MACHINE = 25;

const integer = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');

function describeObservation(observation: Observation, requests: number): string[] {
  const { database, cpu, waits } = observation;
  const perSecond = (value: number): string => integer(value / observation.seconds);
  const lines = [
    `    database  ${perSecond(database.commits)} commits/s · ${(requests / Math.max(1, database.commits)).toFixed(1)} requests/commit · ` +
      `${perSecond(database.walSyncs)} WAL flushes/s · ${(database.walBytes / requests / 1024).toFixed(1)} KiB WAL/request` +
      (database.rollbacks > 0 ? ` · ${integer(database.rollbacks)} rollbacks` : ''),
  ];
  if (cpu) {
    lines.push(
      `    CPU       server ${cpu.server}% · postgres ${cpu.postgres}% · load generator ${cpu.loadGenerator}% · ` +
        `other ${cpu.other}% · idle ${cpu.idle}%  (100% = one core)` +
        (cpu.other > BUSY_MACHINE ? '  ← machine shared: figures understate' : ''),
    );
  }
  const topWaits = Object.entries(waits)
    .slice(0, 5)
    .map(([wait, share]) => `${wait} ${share}%`)
    .join(' · ');
  if (topWaits) lines.push(`    backends  ${topWaits}`);
  return lines;
}

export function describeScenario(result: ScenarioResult): string[] {
  const { http, baseline } = result;
  const lines = [`── ${result.title}`];
  if (baseline) {
    const run = baseline.run;
    lines.push(
      `  pgbench baseline (${run.script}, ${run.connections} clients, one request per transaction)`,
      `    ${integer(run.transactionsPerSec)} tx/s · p50 ${ms(run.latencyP50Ms)} ms · p99 ${ms(run.latencyP99Ms)} ms · failed ${run.failed}`,
      ...describeObservation(baseline.observation, run.transactions),
    );
  } else if (result.baselineSkipped) {
    lines.push(`  pgbench baseline skipped: ${result.baselineSkipped}`);
  }
  const run = http.run;
  const statuses = Object.entries(run.statuses)
    .map(([status, count]) => `${status}×${integer(count)}`)
    .join(' ');
  lines.push(
    `  Leadflow (${statuses})`,
    `    ${integer(run.requestsPerSec)} req/s · p50 ${ms(run.latencyP50Ms)} ms · p99 ${ms(run.latencyP99Ms)} ms · ` +
      `errors ${run.errors} · server RSS ${http.observation.serverRssPeakMiB} MiB` +
      (result.ratio !== undefined ? ` · ${result.ratio.toFixed(2)}× baseline` : ''),
    ...describeObservation(http.observation, run.requests),
  );
  if (result.backlog) {
    const backlog = result.backlog;
    lines.push(
      `  backlog   ${integer(backlog.leads)} unallocated leads drained ${ms(backlog.drainMs)} ms after one quota reset ` +
        `(${integer((backlog.allocated / backlog.drainMs) * 1000)} leads/s)`,
    );
  }
  if (result.delivery) {
    const delivery = result.delivery;
    lines.push(
      `  delivery  ${integer(delivery.events)} allocations × ${delivery.listeners} listeners: ` +
        `p50 ${ms(delivery.p50Ms)} ms · p99 ${ms(delivery.p99Ms)} ms · max ${ms(delivery.maxMs)} ms · ` +
        `missed ${integer(delivery.missed)}`,
    );
  }
  if (result.dispatch) lines.push(...describeDispatch(result.dispatch));
  return lines;
}

function describeDispatch(dispatch: DispatchReport): string[] {
  const { ceiling, senderCeiling, drain } = dispatch;
  return [
    dispatch.worker
      ? `  sent by a delivery worker (a second Leadflow process; the first has DELIVERY_CONCURRENCY=0); server CPU is both`
      : `  sent by the process taking the requests`,
    `  receiver ceiling (${dispatch.concurrency} connections, the dispatcher's sends in flight)`,
    `    load generator         ${integer(ceiling.requestsPerSec)} req/s · p50 ${ms(ceiling.latencyP50Ms)} ms · p99 ${ms(ceiling.latencyP99Ms)} ms · errors ${ceiling.errors}`,
    `    the dispatcher's client ${integer(senderCeiling.requestsPerSec)} req/s · p50 ${ms(senderCeiling.latencyP50Ms)} ms · p99 ${ms(senderCeiling.latencyP99Ms)} ms · errors ${senderCeiling.errors}`,
    `  deliveries during the allocation load`,
    `    ${integer(dispatch.deliveredPerSecDuring)} delivered/s in the window = ${dispatch.pace.toFixed(2)} × (3 × allocations/s) · ` +
      `${integer(dispatch.deliveredPerSecOverall)}/s until the last arrived, ${integer(dispatch.tailMs)} ms after the load · ` +
      `duplicates ${dispatch.duplicates}`,
    `    lag allocation → receiver: p50 ${ms(dispatch.lagP50Ms)} ms · p99 ${ms(dispatch.lagP99Ms)} ms · max ${ms(dispatch.lagMaxMs)} ms`,
    `  drain of ${integer(drain.deliveries)} pending deliveries`,
    `    ${integer(drain.perSec)} deliveries/s (${drain.seconds.toFixed(1)} s) = ${drain.ofSenderCeiling.toFixed(2)} × the receiver's ceiling under the dispatcher's client (${drain.ofCeiling.toFixed(2)} × under the load generator) · duplicates ${drain.duplicates}`,
    ...describeObservation(drain.observation, drain.deliveries),
  ];
}

export function checkTargets(results: ScenarioResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const result of results) {
    const run = result.http.run;
    const ratio = (minimum: number): TargetCheck => ({
      scenario: result.name,
      target: `≥ ${minimum}× pgbench baseline`,
      actual: result.ratio === undefined ? 'no baseline' : `${result.ratio.toFixed(2)}×`,
      met: result.ratio === undefined ? undefined : result.ratio >= minimum,
    });
    const errors: TargetCheck = {
      scenario: result.name,
      target: 'zero errors',
      actual: String(run.errors),
      met: run.errors === 0,
    };
    if (result.name === 'ingestion') {
      checks.push(ratio(2), errors, {
        scenario: result.name,
        target: 'p99 < 50 ms',
        actual: `${ms(run.latencyP99Ms)} ms`,
        met: run.latencyP99Ms < 50,
      });
    } else if (result.name === 'allocation') {
      checks.push(ratio(2), errors);
    } else if (result.dispatch) {
      const dispatch = result.dispatch;
      checks.push(
        ratio(2),
        errors,
        {
          scenario: result.name,
          // "delivered/s ≈ 3 × allocations/s": within 10 %.
          target: 'delivered/s ≥ 0.9 × 3 × alloc/s',
          actual: `${dispatch.pace.toFixed(2)}×`,
          met: dispatch.pace >= 0.9,
        },
        {
          scenario: result.name,
          target: 'lag p99 < 1 s',
          actual: `${ms(dispatch.lagP99Ms)} ms`,
          met: dispatch.lagP99Ms < 1000,
        },
        // Both ceilings are judged: the fair one (the dispatcher's own client in a Node process)
        // and the one the target was first read against (wrk, a C client).
        {
          scenario: result.name,
          target: "drain ≥ 0.5 × ceiling, dispatcher's client",
          actual: `${dispatch.drain.ofSenderCeiling.toFixed(2)}×`,
          met: dispatch.drain.ofSenderCeiling >= 0.5,
        },
        {
          scenario: result.name,
          target: 'drain ≥ 0.5 × ceiling, load generator',
          actual: `${dispatch.drain.ofCeiling.toFixed(2)}×`,
          met: dispatch.drain.ofCeiling >= 0.5,
        },
      );
    } else if (result.delivery) {
      checks.push(
        {
          scenario: result.name,
          target: 'delivery p99 < 250 ms',
          actual: `${ms(result.delivery.p99Ms)} ms`,
          met: result.delivery.p99Ms < 250,
        },
        {
          scenario: result.name,
          target: 'every listener gets every event',
          actual: `${result.delivery.missed} missed`,
          met: result.delivery.missed === 0,
        },
        {
          scenario: result.name,
          target: 'server RSS < 300 MiB',
          actual: `${result.http.observation.serverRssPeakMiB} MiB`,
          met: result.http.observation.serverRssPeakMiB < 300,
        },
        errors,
      );
    }
  }
  return checks;
}

/** Windows in which other processes on the machine took CPU from the benchmark. */
export function describeInterference(results: ScenarioResult[]): string[] {
  const windows = results.flatMap((result) => [
    ...(result.baseline
      ? [{ name: `${result.name} baseline`, cpu: result.baseline.observation.cpu }]
      : []),
    { name: result.name, cpu: result.http.observation.cpu },
    ...(result.dispatch
      ? [{ name: `${result.name} drain`, cpu: result.dispatch.drain.observation.cpu }]
      : []),
  ]);
  const busy = windows.filter((window) => (window.cpu?.other ?? 0) > BUSY_MACHINE);
  if (busy.length === 0) return [];
  return [
    `note       other processes took CPU during ${busy
      .map((window) => `${window.name} (${window.cpu!.other}%)`)
      .join(', ')}: rerun on a quiet machine for figures to compare`,
  ];
}

export function describeTargets(checks: TargetCheck[]): string[] {
  return [
    '── targets',
    ...checks.map(
      (check) =>
        `  ${check.met === undefined ? 'n/a ' : check.met ? 'MET ' : 'MISS'}  ${check.scenario.padEnd(10)} ${check.target.padEnd(32)} ${check.actual}`,
    ),
  ];
}

export function describeConsistency(report: ConsistencyReport): string[] {
  const { totals } = report;
  return [
    `── consistency ${report.ok ? 'OK' : 'FAILED'}`,
    `  ${integer(report.acknowledgedLeads)} leads and ${integer(report.acknowledgedAllocations)} allocations answered 201, all checked against the database`,
    `  database: ${integer(totals.leads)} leads · ${integer(totals.allocatedLeads)} allocated · ` +
      `${integer(totals.allocationRows)} allocation rows · quota decrement ${integer(totals.quotaDecrement)} ` +
      `(= 3 × ${integer(totals.allocatedLeads)}: ${totals.quotaDecrement === 3 * totals.allocatedLeads ? 'yes' : 'NO'})`,
    ...report.problems.map((problem) => `  PROBLEM: ${problem}`),
  ];
}
