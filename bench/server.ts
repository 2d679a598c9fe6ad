import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resident memory of the server process now, in MiB. */
  rssMiB(): number;
  /** Stops the server with SIGINT (graceful: a CPU profile is written on exit). */
  stop(): Promise<void>;
}

export interface ServerOptions {
  projectRoot: string;
  databaseUrl: string;
  port: number;
  build: 'tsx' | 'dist';
  /** Directory for a V8 CPU profile of the whole run; none when undefined. */
  cpuProfileDir: string | undefined;
  extraEnv: Record<string, string>;
}

export function readRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/**
 * Leadflow in its own process, as production runs it (NODE_ENV=production, warn-level logs),
 * so the load generator never shares its event loop. Resolves once /ready answers 200.
 */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const entry =
    options.build === 'dist'
      ? [path.join(options.projectRoot, 'dist', 'src', 'cli.js')]
      : ['--import', 'tsx', path.join(options.projectRoot, 'src', 'cli.ts')];
  if (options.build === 'dist' && !existsSync(entry[0]!)) {
    throw new Error('dist/src/cli.js is missing: run `npm run build:server` first');
  }
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, ...entry, 'serve'], {
    cwd: options.projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: options.databaseUrl,
      SEED_DEMO: '1',
      HOST: '127.0.0.1',
      PORT: String(options.port),
      // The benchmark is one client on loopback; a per-client request cap would measure the cap.
      RATE_LIMIT_PER_MINUTE: '0',
      // The delivery scenario's receiver listens on 127.0.0.1, which production refuses.
      DELIVERY_ALLOW_PRIVATE: '1',
      ...options.extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, sleep(200).then(() => 'waiting' as const)]);
    if (early !== 'waiting') throw new Error(`the server exited with code ${early} while starting`);
    const ready = await fetch(`${url}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the server did not become ready within 60 s');
    }
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    rssMiB: () => readRssMiB(pid),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') child.kill('SIGKILL');
    },
  };
}

/** Samples the server's RSS while a measurement runs; reports the peak. */
export class RssMeter {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly read: () => number) {}

  start(): void {
    this.peak = this.read();
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, this.read());
    }, 200);
  }

  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, this.read());
  }
}
