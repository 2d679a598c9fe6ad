import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { percentile } from './stats.js';

export interface PgbenchRun {
  script: string;
  connections: number;
  durationSec: number;
  transactionsPerSec: number;
  transactions: number;
  failed: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface PgbenchOptions {
  binary: string;
  url: string;
  script: string;
  connections: number;
  durationSec: number;
  variables: Record<string, string>;
  /** Called with the pgbench pid, so its CPU is counted as load generation. */
  onStart?: (pid: number) => void;
  onExit?: (pid: number) => void;
  /** Keep per-transaction latencies (for p50/p99); off for warm-ups. */
  logLatencies: boolean;
}

function run(
  binary: string,
  args: string[],
  onStart?: (pid: number) => void,
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('spawn', () => onStart?.(child.pid!));
    child.once('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

/** Runs pgbench against `url` and reads tps, failures and (when logged) latency percentiles. */
export async function pgbench(options: PgbenchOptions): Promise<PgbenchRun> {
  const logDir = options.logLatencies
    ? await mkdtemp(path.join(tmpdir(), 'leadflow-pgbench-'))
    : '';
  try {
    const args = [
      '--no-vacuum',
      `--client=${options.connections}`,
      '--jobs=2',
      `--time=${options.durationSec}`,
      // Prepared statements: the database's cheapest way to run the same statements again.
      '--protocol=prepared',
      `--file=${options.script}`,
      ...Object.entries(options.variables).map(([name, value]) => `--define=${name}=${value}`),
      ...(options.logLatencies ? ['--log', `--log-prefix=${path.join(logDir, 'tx')}`] : []),
      options.url,
    ];
    const result = await run(options.binary, args, options.onStart);
    options.onExit?.(result.pid);
    if (result.code !== 0) {
      throw new Error(`pgbench exited with ${result.code}:\n${result.stderr || result.stdout}`);
    }
    const number = (pattern: RegExp): number => {
      const match = pattern.exec(result.stdout);
      if (!match) throw new Error(`pgbench output lacks ${pattern}:\n${result.stdout}`);
      return Number(match[1]);
    };
    const latencies: number[] = [];
    if (options.logLatencies) {
      for (const file of await readdir(logDir)) {
        for (const line of (await readFile(path.join(logDir, file), 'utf8')).split('\n')) {
          // client_id transaction_no time_us script_no time_epoch time_us_fraction
          const micros = Number(line.split(' ')[2]);
          if (Number.isFinite(micros) && line !== '') latencies.push(micros / 1000);
        }
      }
    }
    const failedMatch = /number of failed transactions: (\d+)/.exec(result.stdout);
    return {
      script: path.basename(options.script),
      connections: options.connections,
      durationSec: options.durationSec,
      transactionsPerSec: number(/tps = ([\d.]+) \(without initial connection time\)/),
      transactions: number(/number of transactions actually processed: (\d+)/),
      failed: failedMatch ? Number(failedMatch[1]) : 0,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
    };
  } finally {
    if (logDir) await rm(logDir, { recursive: true, force: true });
  }
}
