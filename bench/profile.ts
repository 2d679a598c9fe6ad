import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (as written by `node --cpu-prof`) that a summary needs. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time by where the code lives: a package, a src/ file, node internals, GC, idle. */
  byArea: [string, number][];
  /** Self time by function. */
  byFunction: [string, number][];
}

function area(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1]!;
  const source = /\/(src\/.+)$/.exec(url);
  if (source) return source[1]!;
  if (url.startsWith('node:') || url === '') return `node internals${url ? '' : ' (native)'}`;
  return url;
}

/**
 * Summarises the busiest profile in `dir`: node writes one per thread (tsx's loader worker
 * included), and the server's main thread is the one that did the work.
 */
export async function summariseProfile(dir: string, top = 20): Promise<ProfileSummary | undefined> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
  const summaries = await Promise.all(files.map((file) => summariseFile(dir, file, top)));
  const busy = (summary: ProfileSummary): number =>
    summary.totalMs - (summary.byArea.find(([name]) => name === '(idle)')?.[1] ?? 0);
  return summaries.sort((a, b) => busy(b) - busy(a))[0];
}

async function summariseFile(dir: string, file: string, top: number): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id)!.callFrame;
    total += micros;
    const where = area(frame.url, frame.functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const ranked = (map: Map<string, number>): [string, number][] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => [name, Math.round(micros / 1000)]);
  return {
    file: path.join(dir, file),
    totalMs: Math.round(total / 1000),
    byArea: ranked(byArea),
    byFunction: ranked(byFunction),
  };
}

export function describeProfile(summary: ProfileSummary): string[] {
  const share = (value: number): string =>
    `${((value / summary.totalMs) * 100).toFixed(1)}%`.padStart(6);
  return [
    `── server CPU profile (${summary.file}, ${summary.totalMs.toLocaleString('en-US')} ms sampled)`,
    '  self time by area:',
    ...summary.byArea.slice(0, 12).map(([name, value]) => `  ${share(value)}  ${name}`),
    '  self time by function:',
    ...summary.byFunction.map(([name, value]) => `  ${share(value)}  ${name}`),
  ];
}
