import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../faults/server-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  allocationHistory,
  isAllowedAnswer,
  scratchDir,
  sendUntilAnswered,
  startInstance,
  startNginx,
  startPgBouncer,
  unitStopTimeoutMs,
  type Answer,
  type Nginx,
  type PgBouncer,
} from './harness.js';

const QUOTA = 1_000_000;

let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let bouncer: PgBouncer;
const instances: ServerProcess[] = [];
let nginx: Nginx;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('UPDATE providers SET quota = $1, remaining_quota = $1', [QUOTA]);
  scratch = await scratchDir('leadflow-rolling-');
  bouncer = await startPgBouncer(db.url, scratch.dir);
  instances.push(
    ...(await Promise.all(
      [0, 1, 2].map(() => startInstance({ databaseUrl: bouncer.url, listenUrl: db.url })),
    )),
  );
  nginx = await startNginx(
    instances.map((instance) => instance.port),
    scratch.dir,
  );
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(instances.map((instance) => instance.kill()));
  await bouncer?.stop();
  await db?.drop();
  await scratch?.remove();
});

interface Acknowledged {
  key: string;
  kind: 'lead' | 'allocation';
  leadId: string;
}

/** 4 ingest and 2 allocation senders through nginx, each retrying until answered. */
function startLoad(prefix: string) {
  const answers: Answer[] = [];
  const acknowledged: Acknowledged[] = [];
  let stopping = false;
  const sender = async (name: string, kind: 'lead' | 'allocation') => {
    for (let seq = 0; !stopping; seq++) {
      const key = `${prefix}-${name}-${seq}`;
      const answer =
        kind === 'lead'
          ? await sendUntilAnswered(
              `${nginx.url}/api/lead`,
              { email: `${key}@example.com` },
              key,
              answers,
            )
          : await sendUntilAnswered(
              `${nginx.url}/api/request-service`,
              { serviceId: seq % 2 === 0 ? 1 : 3, email: `${key}@example.com` },
              key,
              answers,
            );
      if (
        (answer.status === 201 || answer.status === 409) &&
        typeof answer.body?.lead_id === 'string'
      ) {
        acknowledged.push({ key, kind, leadId: answer.body.lead_id });
      }
    }
  };
  const load = Promise.all([
    ...[0, 1, 2, 3].map((index) => sender(`ingest-${index}`, 'lead')),
    ...[0, 1].map((index) => sender(`allocate-${index}`, 'allocation')),
  ]);
  return {
    answers,
    acknowledged,
    stop: async () => {
      stopping = true;
      await load;
    },
  };
}

function tallyStatuses(answers: Answer[]): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const answer of answers) {
    const label = String(answer.status ?? 'refused');
    statuses[label] = (statuses[label] ?? 0) + 1;
  }
  return statuses;
}

/** Every acknowledged lead stored with its id, allocations allocated; SPEC §3 over all of it. */
async function expectNothingLost(acknowledged: Acknowledged[]): Promise<void> {
  const leads = await db.pool.query<{ idempotency_key: string; id: string; status: string }>(
    `SELECT idempotency_key, id, status FROM leads WHERE idempotency_key = ANY($1::text[])`,
    [acknowledged.map((entry) => entry.key)],
  );
  const stored = new Map(leads.rows.map((row) => [row.idempotency_key, row]));
  const missing = acknowledged.filter((entry) => stored.get(entry.key)?.id !== entry.leadId);
  expect(missing).toEqual([]);
  const notAllocated = acknowledged.filter(
    (entry) => entry.kind === 'allocation' && stored.get(entry.key)?.status !== 'allocated',
  );
  expect(notAllocated).toEqual([]);
  const history = await allocationHistory(db.pool, QUOTA);
  expect(history.providersBelowZero).toBe(0);
  expect(history.decrementMismatches).toEqual([]);
  expect(history.badLeads).toBe(0);
}

const allAllocations: Acknowledged[] = [];

it('restarts all three instances one by one under load: nothing acknowledged is lost', async () => {
  const { answers, acknowledged, stop } = startLoad('rolling');
  const stopTimeoutMs = await unitStopTimeoutMs();
  const drains: { readySeen503: boolean; exitCode: number | null; stopMs: number }[] = [];
  await sleep(1500);
  for (const index of [0, 1, 2]) {
    const old = instances[index]!;
    const started = Date.now();
    old.child.kill('SIGTERM'); // what systemctl restart leadflow@PORT sends
    let readySeen503 = false;
    const exit = old.exited.then((result) => result);
    while (!(await Promise.race([exit.then(() => true), sleep(100).then(() => false)]))) {
      const ready = await fetch(`${old.url}/ready`).catch(() => undefined);
      if (ready?.status === 503 && ready.headers.get('retry-after')) readySeen503 = true;
    }
    const { code } = await exit;
    drains.push({ readySeen503, exitCode: code, stopMs: Date.now() - started });
    instances[index] = await startInstance(
      { databaseUrl: bouncer.url, listenUrl: db.url },
      old.port,
    );
    await sleep(1000);
  }
  await sleep(1000);
  await stop();

  console.log('rolling restart', {
    answers: answers.length,
    statuses: tallyStatuses(answers),
    drains,
  });
  expect(drains.every((drain) => drain.readySeen503 && drain.exitCode === 0)).toBe(true);
  expect(drains.every((drain) => drain.stopMs < stopTimeoutMs)).toBe(true);
  expect(answers.filter((answer) => !isAllowedAnswer(answer))).toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(200);
  await expectNothingLost(acknowledged);
  allAllocations.push(...acknowledged.filter((entry) => entry.kind === 'allocation'));
  const history = await allocationHistory(db.pool, QUOTA);
  expect(history.allocatedLeads).toBe(allAllocations.length);
});

it('one instance killed (kill -9) under load: nginx retries its requests elsewhere', async () => {
  const { answers, acknowledged, stop } = startLoad('killed');
  await sleep(1500);
  const victim = instances[1]!;
  await victim.kill(); // SIGKILL: requests in flight on it are cut
  await sleep(2000);
  instances[1] = await startInstance({ databaseUrl: bouncer.url, listenUrl: db.url }, victim.port);
  await sleep(1500);
  await stop();
  console.log('kill -9', { answers: answers.length, statuses: tallyStatuses(answers) });
  expect(answers.filter((answer) => !isAllowedAnswer(answer))).toEqual([]);
  await expectNothingLost(acknowledged);
  allAllocations.push(...acknowledged.filter((entry) => entry.kind === 'allocation'));
  const history = await allocationHistory(db.pool, QUOTA);
  expect(history.allocatedLeads).toBe(allAllocations.length);
});
