import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  autocannon: string;
  leadflowSha: string;
  /** Uncommitted changes under src/ or migrations/ at the time of the run. */
  leadflowDirty: boolean;
}

function quiet(command: string, args: string[], cwd?: string): string | undefined {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

export function machineInfo(projectRoot: string): MachineInfo {
  const require = createRequire(import.meta.url);
  const autocannon = JSON.parse(
    readFileSync(require.resolve('autocannon/package.json'), 'utf8'),
  ) as { version: string };
  // --no-optional-locks: reading the status must not rewrite .git/index under other engineers.
  const status = quiet(
    'git',
    ['--no-optional-locks', 'status', '--porcelain', '--', 'src', 'migrations'],
    projectRoot,
  );
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    autocannon: autocannon.version,
    leadflowSha: quiet('git', ['rev-parse', '--short=12', 'HEAD'], projectRoot) ?? 'unknown',
    leadflowDirty: status !== undefined && status !== '',
  };
}

export function toolVersion(command: string): string | undefined {
  return quiet(command, ['--version'])?.split('\n')[0];
}
