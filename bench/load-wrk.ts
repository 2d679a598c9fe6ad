import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './load.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk', 'post.lua');
// Distinct bodies the threads rotate through; every request still has its own key.
const BODIES = 1000;

interface WrkSummary {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

/** `wrk --version` when it runs, undefined when it is not installed. */
export async function wrkVersion(binary = 'wrk'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', () => resolve(undefined));
    // wrk prints its version and usage, then exits 1.
    child.on('exit', () => resolve(/^wrk \S+/.exec(output)?.[0]));
  });
}

/**
 * Drives `spec` with wrk (C, epoll, a fraction of autocannon's CPU per request, so more of the
 * shared cores go to the server and PostgreSQL): keep-alive connections, one request in flight
 * on each, a unique Idempotency-Key per request. Answers are read back after the run.
 */
export async function driveWrk(
  spec: LoadSpec,
  expectedStatus: number,
  keyPrefix: string,
  threads: number,
  onStart?: (pid: number) => void,
): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'leadflow-wrk-'));
  try {
    const bodiesFile = path.join(dir, 'bodies.txt');
    await writeFile(
      bodiesFile,
      Array.from({ length: BODIES }, (_, index) => spec.body(index)).join('\n') + '\n',
    );
    const args = [
      `--threads=${Math.min(threads, spec.connections)}`,
      `--connections=${spec.connections}`,
      `--duration=${spec.durationSec}s`,
      '--timeout=30s',
      `--script=${SCRIPT}`,
      spec.url,
      '--',
      spec.path,
      keyPrefix,
      bodiesFile,
      dir,
    ];
    const summary = await new Promise<WrkSummary>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.pid) onStart?.(child.pid);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        const line = output.split('\n').find((text) => text.startsWith('WRK_RESULT '));
        if (code !== 0 || !line) reject(new Error(`wrk exited with ${code}:\n${output}`));
        else resolve(JSON.parse(line.slice('WRK_RESULT '.length)) as WrkSummary);
      });
    });
    const statuses: Record<string, number> = {};
    for (const file of (await readdir(dir)).filter((name) => name.startsWith('responses-'))) {
      for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
        const tab = line.indexOf('\t');
        if (tab < 0) continue;
        const status = Number(line.slice(0, tab));
        statuses[status] = (statuses[status] ?? 0) + 1;
        spec.onResponse(status, line.slice(tab + 1), -1);
      }
    }
    const answered = Object.values(statuses).reduce((sum, count) => sum + count, 0);
    if (answered !== summary.requests) {
      throw new Error(`wrk counted ${summary.requests} answers, its files hold ${answered}`);
    }
    const socketErrors = summary.connect + summary.read + summary.write + summary.timeout;
    return {
      requests: answered,
      requestsPerSec: answered / (summary.durationUs / 1e6),
      latencyP50Ms: summary.p50Us / 1000,
      latencyP99Ms: summary.p99Us / 1000,
      latencyMaxMs: summary.maxUs / 1000,
      errors: answered - (statuses[expectedStatus] ?? 0) + socketErrors,
      statuses,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
