import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/net.js';
import { projectRoot } from '../../src/paths.js';

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves when the process has exited, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote to stderr and stdout so far (its warn+ logs). */
  output(): string;
  /** SIGKILL if still running; safe to call twice. */
  kill(): Promise<void>;
}

/**
 * `leadflow serve` as a real child process on loopback, against `databaseUrl`. Resolves
 * once /health answers; rejects (and kills the child) if it does not within `timeoutMs`.
 */
export async function spawnServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  {
    port,
    timeoutMs = 30_000,
    openFileLimit,
    cwd = projectRoot,
    viaTsxCli = false,
  }: {
    port?: number;
    timeoutMs?: number;
    openFileLimit?: number;
    cwd?: string;
    /** `tsx src/cli.ts serve` (what `npm run dev` runs): tsx's own process relays signals. */
    viaTsxCli?: boolean;
  } = {},
): Promise<ServerProcess> {
  const chosenPort = port ?? (await freePort());
  const node = viaTsxCli
    ? [path.join(projectRoot, 'node_modules', '.bin', 'tsx'), 'src/cli.ts', 'serve']
    : [process.execPath, '--import', 'tsx', 'src/cli.ts', 'serve'];
  // exec: the child is node itself, so kill() and the exit code are the server's own.
  const [command, ...args] =
    openFileLimit === undefined
      ? node
      : ['bash', '-c', `ulimit -n ${openFileLimit} && exec "$@"`, 'bash', ...node];
  const child = spawn(command!, args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      // These tests drive unthrottled load from one address to break the database under it;
      // the per-client cap (6,000/min) would answer 429 once the server is fast enough.
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(chosenPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => (running = false));
  const url = `http://127.0.0.1:${chosenPort}`;
  const server: ServerProcess = {
    url,
    port: chosenPort,
    child,
    exited,
    output: () => output,
    kill: async () => {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running) break;
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await server.kill();
  throw new Error(`server did not start on ${url}:\n${output}`);
}
