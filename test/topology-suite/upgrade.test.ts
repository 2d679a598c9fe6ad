import { execFile } from 'node:child_process';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { withDatabase } from '../../src/db/database.js';
import { projectRoot } from '../../src/paths.js';
import { spawnServer, type ServerProcess } from '../faults/server-process.js';
import { isAllowedAnswer, scratchDir, sendUntilAnswered, type Answer } from './harness.js';

// README "Upgrading": expand, deploy, contract. The release before the newest migration and
// this one run side by side on one database, as they do halfway through a rolling restart.
const execFileAsync = promisify(execFile);

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let oldRoot: string;
let databaseUrl: string;
let newestMigration: string;
const servers: ServerProcess[] = [];

async function git(...args: string[]): Promise<string> {
  return (await execFileAsync('git', args, { cwd: projectRoot })).stdout.trim();
}

beforeAll(async () => {
  scratch = await scratchDir('leadflow-upgrade-');
  const migrations = (await readdir(path.join(projectRoot, 'migrations'))).sort();
  newestMigration = migrations.at(-1)!;
  const added = await git(
    'log',
    '--diff-filter=A',
    '--format=%H',
    '-1',
    '--',
    `migrations/${newestMigration}`,
  );
  // The tree just before the newest migration landed: the release being replaced.
  oldRoot = path.join(scratch.dir, 'old');
  await mkdir(oldRoot);
  await execFileAsync('bash', ['-c', `git archive ${added}^ | tar -x -C "${oldRoot}"`], {
    cwd: projectRoot,
  });
  await symlink(path.join(projectRoot, 'node_modules'), path.join(oldRoot, 'node_modules'));

  const name = `${inject('databasePrefix')}_upgrade`;
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  databaseUrl = withDatabase(inject('adminUrl'), name);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
  await scratch?.remove();
});

async function applied(): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY name',
    );
    return rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

/**
 * A lead and an allocation through `server`, sent as senders do: a 503 + Retry-After (a fresh
 * process still compiling sheds load for a moment) is retried with the same key.
 */
async function exercise(server: ServerProcess, key: string): Promise<void> {
  const answers: Answer[] = [];
  const lead = await sendUntilAnswered(
    `${server.url}/api/lead`,
    { email: `${key}@example.com` },
    key,
    answers,
    30_000,
  );
  expect(lead.status).toBe(201);
  const allocation = await sendUntilAnswered(
    `${server.url}/api/request-service`,
    { serviceId: 1 },
    `${key}-allocation`,
    answers,
    30_000,
  );
  expect(allocation.status).toBe(201);
  expect(answers.filter((answer) => !isAllowedAnswer(answer))).toEqual([]);
  const ready = await fetch(`${server.url}/ready`);
  expect(ready.status).toBe(200);
}

it('an old and a new instance share one database across the newest migration', async () => {
  const old = await spawnServer(
    databaseUrl,
    { SEED_DEMO: '1' },
    { cwd: oldRoot, timeoutMs: 90_000 },
  );
  servers.push(old);
  expect(await applied()).not.toContain(newestMigration);
  await exercise(old, 'upgrade-old-1');

  // The new release starts beside it and applies the newest migration (expand).
  const current = await spawnServer(databaseUrl, {}, { timeoutMs: 90_000 });
  servers.push(current);
  expect(await applied()).toContain(newestMigration);
  await exercise(current, 'upgrade-new-1');
  // The old one keeps working on the expanded schema …
  await exercise(old, 'upgrade-old-2');
  // … and starts again on it (a crash mid-rollout): it ignores migrations it does not know.
  await old.kill();
  const restarted = await spawnServer(databaseUrl, {}, { cwd: oldRoot, timeoutMs: 90_000 });
  servers.push(restarted);
  await exercise(restarted, 'upgrade-old-3');
  // A key is one lead, whichever release answers.
  const again = await sendUntilAnswered(
    `${restarted.url}/api/lead`,
    {},
    'upgrade-new-1',
    [],
    30_000,
  );
  expect(again.status).toBe(409);
});
