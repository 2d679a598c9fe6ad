import pg from 'pg';
import { CpuMeter, type CpuShares } from './cpu.js';
import { counterDelta, readCounters, WaitSampler, type DatabaseCounters } from './postgres.js';
import { RssMeter } from './server.js';

export interface Observation {
  seconds: number;
  database: DatabaseCounters;
  cpu: CpuShares | undefined;
  /** Share of sampled active backends per wait event ("CPU" = running, waiting on nothing). */
  waits: Record<string, number>;
  serverRssPeakMiB: number;
}

export interface ObserverSubjects {
  monitor: pg.Client;
  serverPid: number;
  /** Every Leadflow process, `serverPid` first (a delivery worker's CPU counts as the server's). */
  serverPids: () => number[];
  serverRss: () => number;
  postmasterPid: number | undefined;
  loadGeneratorPids: () => number[];
}

/**
 * Everything watched around one measured window: database commits and WAL flushes, where
 * the CPU went, what the backends waited on, and the server's peak memory.
 */
export async function observe<T>(
  subjects: ObserverSubjects,
  work: () => Promise<T>,
): Promise<{ result: T; observation: Observation }> {
  await subjects.monitor.query('CHECKPOINT');
  const cpu = new CpuMeter({
    serverPids: subjects.serverPids,
    postmasterPid: subjects.postmasterPid,
    loadGeneratorPids: subjects.loadGeneratorPids,
  });
  const rss = new RssMeter(subjects.serverRss);
  const waits = new WaitSampler(subjects.monitor);
  const before = await readCounters(subjects.monitor);
  const startedAt = performance.now();
  cpu.start();
  rss.start();
  waits.start();
  const result = await work();
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuShares = cpu.stop();
  const serverRssPeakMiB = rss.stop();
  const sampled = await waits.stop();
  const after = await readCounters(subjects.monitor);
  const totalWaits = Object.values(sampled.waits).reduce((sum, count) => sum + count, 0);
  return {
    result,
    observation: {
      seconds,
      database: counterDelta(before, after),
      cpu: cpuShares,
      waits: Object.fromEntries(
        Object.entries(sampled.waits).map(([wait, count]) => [
          wait,
          Math.round((count / Math.max(1, totalWaits)) * 1000) / 10,
        ]),
      ),
      serverRssPeakMiB,
    },
  };
}
