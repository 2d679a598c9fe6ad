import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../src/db/connection-url.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import type { ServerProcess } from '../faults/server-process.js';
import { startAutoFailover, type AutoFailover } from './auto-failover.js';
import {
  isAllowedAnswer,
  scratchDir,
  sendUntilAnswered,
  startInstance,
  startNginx,
  type Answer,
  type Nginx,
} from './harness.js';

// SPEC §12: a primary with a synchronous standby under pg_auto_failover, instances on a
// DATABASE_URL listing both with target_session_attrs=read-write; the primary dies under load.
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let cluster: AutoFailover;
const instances: ServerProcess[] = [];
let nginx: Nginx;
let pool: Pool;

beforeAll(async () => {
  scratch = await scratchDir('leadflow-failover-');
  cluster = await startAutoFailover(`${scratch.dir}/cluster`);
  const admin = createClient(cluster.url('postgres'));
  await admin.connect();
  await admin.query('CREATE DATABASE leadflow');
  await admin.end();
  const url = cluster.url('leadflow');
  // SEED_DEMO: the demo topology, so that allocation has providers to take.
  instances.push(
    await startInstance({ databaseUrl: url, listenUrl: url, extra: { SEED_DEMO: '1' } }),
  );
  instances.push(await startInstance({ databaseUrl: url, listenUrl: url }));
  // Two instances; the site's third upstream is the first one again.
  nginx = await startNginx(
    [instances[0]!.port, instances[1]!.port, instances[0]!.port],
    scratch.dir,
  );
  pool = createPool({ connectionString: url, max: 2 });
  await pool.query('UPDATE providers SET quota = 1000000, remaining_quota = 1000000');
}, 240_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(instances.map((instance) => instance.kill()));
  await pool?.end();
  await cluster?.stop();
  await scratch?.remove();
});

interface StreamedEvent {
  id: number;
  at: number;
}

/** An SSE reader through nginx that reconnects with Last-Event-ID, as EventSource does. */
function followEvents(url: string): { events: StreamedEvent[]; reconnects: number; stop(): void } {
  const state = { events: [] as StreamedEvent[], reconnects: 0, stopped: false };
  let current: http.ClientRequest | undefined;
  const connect = (): void => {
    if (state.stopped) return;
    const last = state.events.at(-1)?.id;
    current = http.get(
      url,
      { agent: false, headers: last === undefined ? {} : { 'last-event-id': String(last) } },
      (response) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const id = /^id: ?(\d+)$/m.exec(block)?.[1];
            if (id !== undefined) state.events.push({ id: Number(id), at: Date.now() });
          }
        });
        const again = () => {
          if (state.stopped) return;
          state.reconnects++;
          setTimeout(connect, 200);
        };
        response.on('end', again);
        response.on('error', () => undefined);
        response.on('close', () => undefined);
        if (response.statusCode !== 200) response.resume();
      },
    );
    current.on('error', () => {
      if (state.stopped) return;
      state.reconnects++;
      setTimeout(connect, 200);
    });
  };
  connect();
  return {
    events: state.events,
    get reconnects() {
      return state.reconnects;
    },
    stop: () => {
      state.stopped = true;
      current?.destroy();
    },
  };
}

it('the primary dies under load: service resumes within 30 s, nothing acknowledged is lost, events without a gap', async () => {
  const stream = followEvents(`${nginx.url}/api/events`);
  const answers: Answer[] = [];
  const acknowledged: { key: string; leadId: string; at: number; sentAt: number }[] = [];
  let stopping = false;
  const sender = async (name: string, allocate: boolean) => {
    for (let seq = 0; !stopping; seq++) {
      const key = `${name}-${seq}`;
      const sentAt = Date.now();
      const answer = allocate
        ? await sendUntilAnswered(
            `${nginx.url}/api/request-service`,
            { serviceId: 1 },
            key,
            answers,
          )
        : await sendUntilAnswered(
            `${nginx.url}/api/lead`,
            { email: `${key}@example.com` },
            key,
            answers,
          );
      if (
        (answer.status === 201 || answer.status === 409) &&
        typeof answer.body?.lead_id === 'string'
      ) {
        acknowledged.push({ key, leadId: answer.body.lead_id, at: Date.now(), sentAt });
      }
    }
  };
  const load = Promise.all([
    sender('fo-ingest-0', false),
    sender('fo-ingest-1', false),
    sender('fo-allocate', true),
  ]);
  await sleep(3000);
  const before = acknowledged.length;
  const killedAt = Date.now();
  await cluster.nodes[0]!.kill();
  // The outage begins with the first 503 or refused connection after the kill; service has
  // resumed once a request sent after that is acknowledged.
  const outageAt = () =>
    answers.find(
      (answer) => (answer.at ?? 0) > killedAt && !(answer.status === 201 || answer.status === 409),
    )?.at;
  const resumedAt = () => {
    const outage = outageAt();
    return outage === undefined
      ? undefined
      : acknowledged.find((entry) => entry.sentAt > outage)?.at;
  };
  while (resumedAt() === undefined && Date.now() - killedAt < 60_000) await sleep(100);
  const outageStartedAfterMs = (outageAt() ?? Infinity) - killedAt;
  const resumedAfterMs = (resumedAt() ?? Infinity) - killedAt;
  await sleep(3000);
  stopping = true;
  await load;
  await sleep(1500); // the last events reach the stream
  stream.stop();

  const statuses: Record<string, number> = {};
  for (const answer of answers) {
    const label = String(answer.status ?? 'refused');
    statuses[label] = (statuses[label] ?? 0) + 1;
  }
  console.log('failover', {
    outageStartedAfterMs,
    resumedAfterMs,
    acknowledgedBeforeKill: before,
    acknowledged: acknowledged.length,
    statuses,
    events: stream.events.length,
    sseReconnects: stream.reconnects,
    state: await cluster.stateOf().catch(() => 'monitor unreachable'),
  });
  expect(resumedAfterMs).toBeLessThan(30_000);
  expect(answers.filter((answer) => !isAllowedAnswer(answer))).toEqual([]);

  const { rows } = await pool.query<{ idempotency_key: string; id: string }>(
    'SELECT idempotency_key, id FROM leads WHERE idempotency_key = ANY($1::text[])',
    [acknowledged.map((entry) => entry.key)],
  );
  const stored = new Map(rows.map((row) => [row.idempotency_key, row.id]));
  expect(acknowledged.filter((entry) => stored.get(entry.key) !== entry.leadId)).toEqual([]);
  expect(outageStartedAfterMs).toBeLessThan(5_000); // the kill really interrupted service

  // No gap: every event stored between the first and the last one streamed was streamed.
  const ids = stream.events.map((event) => event.id);
  expect(ids.length).toBeGreaterThan(0);
  const storedIds = await pool.query<{ id: number }>(
    'SELECT id FROM events WHERE id BETWEEN $1 AND $2 ORDER BY id',
    [ids[0], ids.at(-1)],
  );
  const streamed = new Set(ids);
  expect(storedIds.rows.filter((row) => !streamed.has(row.id)).map((row) => row.id)).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(stream.events.some((event) => event.at > killedAt + resumedAfterMs)).toBe(true);
});
