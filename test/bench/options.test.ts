import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../bench/options.js';

describe('npm run bench options', () => {
  it('takes flags before BENCH_* variables, and defaults for the rest', () => {
    const options = loadOptions(['--duration=30', '--scenarios=ingest,sse', '--profile=on'], {
      BENCH_DURATION: '5',
      BENCH_CONNECTIONS: '128',
      BENCH_SERVER_ENV: 'DB_POOL_SIZE=30,INGEST_CONCURRENT_BATCHES=1',
    });
    expect(options).toMatchObject({
      durationSec: 30,
      connections: 128,
      warmupSec: 5,
      scenarios: ['ingest', 'sse'],
      profile: true,
      loadGenerator: 'auto',
      serverEnv: { DB_POOL_SIZE: '30', INGEST_CONCURRENT_BATCHES: '1' },
    });
  });

  it('refuses a misspelt flag or value instead of running the defaults for minutes', () => {
    expect(() => loadOptions(['--durations=30'], {})).toThrow(/unknown argument --durations/);
    expect(() => loadOptions(['--profile=maybe'], {})).toThrow(/on or off/);
    expect(() => loadOptions(['--load-generator=ab'], {})).toThrow(/wrk or autocannon/);
    expect(() => loadOptions(['--scenarios=ingest,load'], {})).toThrow(/unknown scenario load/);
    expect(() => loadOptions(['--duration=0'], {})).toThrow(/at least 1/);
  });
});
