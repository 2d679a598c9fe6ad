import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Where the machine's cores went during a measurement: the server, PostgreSQL (postmaster
 * and every backend), the load generator, and everything else (other work on the machine,
 * which makes a run suspect). Read from /proc; absent on systems without it.
 */

const TICKS_PER_SECOND = 100;

export interface CpuShares {
  /** Percent of one core, so 200 = both cores of a 2-core machine. */
  server: number;
  postgres: number;
  loadGenerator: number;
  other: number;
  idle: number;
}

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, idle };
}

export interface CpuSubjects {
  /** Leadflow's processes (the one taking requests, and a delivery worker when there is one). */
  serverPids: () => number[];
  postmasterPid: number | undefined;
  /** Load generator processes besides this one (pgbench, the SSE listeners). */
  loadGeneratorPids: () => number[];
}

/**
 * Samples every 250 ms, remembering each process's first and last cumulative CPU, so a
 * backend that exits before the end (pgbench's) still counts.
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly role = new Map<number, keyof CpuShares>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private machineStart = { busy: 0, idle: 0 };
  private selfStart: NodeJS.CpuUsage = process.cpuUsage();
  private readonly enabled: boolean;

  constructor(private readonly subjects: CpuSubjects) {
    this.enabled = os.platform() === 'linux';
  }

  start(): void {
    if (!this.enabled) return;
    this.startedAt = performance.now();
    this.machineStart = machineTicks();
    this.selfStart = process.cpuUsage();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 250);
  }

  stop(): CpuShares | undefined {
    if (!this.enabled) return undefined;
    clearInterval(this.timer);
    this.sample(false);
    const seconds = (performance.now() - this.startedAt) / 1000;
    const totals: CpuShares = { server: 0, postgres: 0, loadGenerator: 0, other: 0, idle: 0 };
    for (const [pid, last] of this.last) {
      const role = this.role.get(pid)!;
      totals[role] += (last - (this.first.get(pid) ?? 0)) / TICKS_PER_SECOND;
    }
    const self = process.cpuUsage(this.selfStart);
    totals.loadGenerator += (self.user + self.system) / 1e6;
    const machine = machineTicks();
    const busy = (machine.busy - this.machineStart.busy) / TICKS_PER_SECOND;
    totals.idle = (machine.idle - this.machineStart.idle) / TICKS_PER_SECOND;
    totals.other = Math.max(0, busy - totals.server - totals.postgres - totals.loadGenerator);
    const percent = (value: number): number => Math.round((value / seconds) * 100);
    return {
      server: percent(totals.server),
      postgres: percent(totals.postgres),
      loadGenerator: percent(totals.loadGenerator),
      other: percent(totals.other),
      idle: percent(totals.idle),
    };
  }

  private sample(initial: boolean): void {
    const watched = new Map<number, keyof CpuShares>();
    for (const pid of this.subjects.serverPids()) watched.set(pid, 'server');
    for (const pid of this.subjects.loadGeneratorPids()) watched.set(pid, 'loadGenerator');
    const postmaster = this.subjects.postmasterPid;
    if (postmaster) {
      watched.set(postmaster, 'postgres');
      for (const entry of readdirSync('/proc')) {
        const pid = Number(entry);
        if (Number.isInteger(pid) && parentOf(pid) === postmaster) watched.set(pid, 'postgres');
      }
    }
    for (const [pid, role] of watched) {
      const ticks = processTicks(pid);
      if (ticks === undefined) continue;
      if (!this.first.has(pid)) {
        // A process born during the window counts from zero.
        this.first.set(pid, initial ? ticks : 0);
        this.role.set(pid, role);
      }
      this.last.set(pid, ticks);
    }
  }
}
