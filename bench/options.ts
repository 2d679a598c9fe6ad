/**
 * Benchmark settings: each one from a `--flag=value` or its `BENCH_*` variable (the flag
 * wins), so `npm run bench -- --duration=30` and `BENCH_DURATION=30 npm run bench` agree.
 */

export type ScenarioName = 'ingest' | 'allocate' | 'sse' | 'delivery' | 'export';

export interface BenchOptions {
  /** Measured seconds per scenario (HTTP and pgbench alike). */
  durationSec: number;
  /** Unmeasured seconds before each measurement: JIT, pool, caches and the WAL settle. */
  warmupSec: number;
  connections: number;
  listeners: number;
  /** Allocation requests per second while the SSE listeners are connected; 0 = as fast as possible. */
  sseRate: number;
  scenarios: ScenarioName[];
  databaseUrl: string | undefined;
  pgbench: string;
  /** Writes a V8 CPU profile of the server and prints its top frames. */
  profile: boolean;
  /** `tsx` runs src/ as it is; `dist` runs `dist/src/cli.js` (after `npm run build:server`). */
  serverBuild: 'tsx' | 'dist';
  /** Extra environment for the server child, e.g. `--server-env=DB_POOL_SIZE=30,FOO=1`. */
  serverEnv: Record<string, string>;
  /**
   * HTTP load for ingestion and allocation: `auto` = wrk when it is installed, else autocannon.
   * The SSE scenario always uses autocannon (it needs each answer's arrival time and a rate).
   */
  loadGenerator: 'auto' | 'wrk' | 'autocannon';
  /**
   * The delivery scenario's deliveries are sent by a second Leadflow process (the same code
   * with DELIVERY_CONCURRENCY set) while the one taking the requests runs with
   * DELIVERY_CONCURRENCY=0: the split README "Running in production" describes.
   */
  deliveryWorker: boolean;
}

// delivery last: it leaves every provider without an endpoint again, as the others expect.
const SCENARIOS: readonly ScenarioName[] = ['ingest', 'allocate', 'sse', 'delivery', 'export'];

const FLAGS = [
  'duration',
  'warmup',
  'connections',
  'listeners',
  'sse-rate',
  'scenarios',
  'pgbench',
  'database-url',
  'profile',
  'server-build',
  'server-env',
  'load-generator',
  'delivery-worker',
] as const;

export const USAGE = `usage: npm run bench [-- --flag=value ...]; flags (or BENCH_<FLAG> variables): ${FLAGS.map(
  (flag) => `--${flag}`,
).join(' ')}; see bench/README.md`;

function flags(argv: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    // A misspelt flag would otherwise run the defaults for minutes.
    if (!match || !(FLAGS as readonly string[]).includes(match[1]!)) {
      throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
    found.set(match[1]!, match[2] ?? '1');
  }
  return found;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function keyValues(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  return Object.fromEntries(
    raw.split(',').map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--server-env expects NAME=value pairs, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function onOff(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new Error(`--${name} is on or off (1/0, true/false, on/off), got ${JSON.stringify(raw)}`);
}

export function loadOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const given = flags(argv);
  const read = (flag: string): string | undefined =>
    given.get(flag) ?? env[`BENCH_${flag.toUpperCase().replaceAll('-', '_')}`];
  const scenarios = (read('scenarios') ?? SCENARIOS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of scenarios) {
    if (!SCENARIOS.includes(name as ScenarioName)) {
      throw new Error(`unknown scenario ${name}; choose from ${SCENARIOS.join(', ')}`);
    }
  }
  const serverBuild = read('server-build') ?? 'tsx';
  if (serverBuild !== 'tsx' && serverBuild !== 'dist') {
    throw new Error(`--server-build must be tsx or dist, got ${serverBuild}`);
  }
  const loadGenerator = read('load-generator') ?? 'auto';
  if (loadGenerator !== 'auto' && loadGenerator !== 'wrk' && loadGenerator !== 'autocannon') {
    throw new Error(`--load-generator must be auto, wrk or autocannon, got ${loadGenerator}`);
  }
  return {
    durationSec: positiveNumber('duration', read('duration'), 15),
    warmupSec: positiveNumber('warmup', read('warmup'), 5, 0),
    connections: positiveNumber('connections', read('connections'), 64),
    listeners: positiveNumber('listeners', read('listeners'), 1000, 0),
    sseRate: positiveNumber('sse-rate', read('sse-rate'), 0, 0),
    scenarios: scenarios as ScenarioName[],
    databaseUrl: read('database-url') || undefined,
    pgbench: read('pgbench') ?? 'pgbench',
    profile: onOff('profile', read('profile')),
    serverBuild,
    serverEnv: keyValues(read('server-env')),
    loadGenerator,
    deliveryWorker: onOff('delivery-worker', read('delivery-worker')),
  };
}
