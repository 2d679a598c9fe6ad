import { describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { useFreshDatabases } from '../helpers/fresh.js';
import { SseClient, type SseEvent } from '../helpers/sse.js';

const { fresh, cleanup } = useFreshDatabases();

async function listen(app: TestApp, lastEventId?: number | string): Promise<SseClient> {
  const client = await SseClient.connect(
    `${app.url}/api/events`,
    lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) },
  );
  cleanup(() => client.close());
  return client;
}

const ofType = (events: SseEvent[], type: string): SseEvent[] =>
  events.filter((event) => event.event === type);

describe('GET /api/events', () => {
  it('streams lead.created and lead.allocated with providers and their remaining quota', async () => {
    const { apps } = await fresh();
    const client = await listen(apps[0]!);
    const res = await post(`${apps[0]!.url}/api/request-service`, { serviceId: 1 });
    await client.waitFor((events) => ofType(events, 'lead.allocated').length === 1);
    const created = ofType(client.events, 'lead.created')[0]!;
    const allocated = ofType(client.events, 'lead.allocated')[0]!;
    expect(created.data).toMatchObject({ leadId: res.body.lead_id, serviceId: 1 });
    expect(allocated.data).toMatchObject({
      leadId: res.body.lead_id,
      serviceId: 1,
      pointer: 2,
      providers: [
        { id: 1, name: 'P1', role: 'static', remainingQuota: 9 },
        { id: 2, name: 'P2', role: 'pool', remainingQuota: 9 },
        { id: 3, name: 'P3', role: 'pool', remainingQuota: 9 },
      ],
    });
    expect(allocated.id).toBeGreaterThan(created.id);
  });

  it('replays exactly what a client missed after Last-Event-ID, then continues live without duplicates', async () => {
    const { apps } = await fresh();
    const app = apps[0]!;
    const first = await listen(app);
    for (let index = 0; index < 5; index++)
      await post(`${app.url}/api/request-service`, { serviceId: 2 });
    await first.waitFor((events) => ofType(events, 'lead.allocated').length === 5);
    const seen = first.events;
    const resumeAt = seen[3]!.id;
    const resumed = await listen(app, resumeAt);
    await resumed.waitFor((events) => events.length === seen.length - 4);
    expect(resumed.events.map((event) => event.id)).toEqual(seen.slice(4).map((event) => event.id));
    await post(`${app.url}/api/request-service`, { serviceId: 2 });
    await resumed.waitFor((events) => ofType(events, 'lead.allocated').length >= 4);
    const ids = resumed.events.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('treats a Last-Event-ID the database never reached as "from now"', async () => {
    const { apps } = await fresh();
    const client = await listen(apps[0]!, 1_000_000);
    const res = await post(`${apps[0]!.url}/api/lead`, { email: 'after-reset@example.com' });
    await client.waitFor((events) => events.length === 1);
    expect(client.events[0]!.data.leadId).toBe(res.body.lead_id);
  });

  it.each(['1e3', '0x10', '-5', '2.5'])(
    'treats Last-Event-ID %s (not a whole number) as none: from now, no replay',
    async (header) => {
      const { apps } = await fresh();
      for (let index = 0; index < 3; index++)
        await post(`${apps[0]!.url}/api/lead`, { email: `before-${index}@example.com` });
      const client = await listen(apps[0]!, header);
      const res = await post(`${apps[0]!.url}/api/lead`, { email: 'after@example.com' });
      await client.waitFor((events) => events.length >= 1);
      expect(client.events.map((event) => event.data.leadId)).toEqual([res.body.lead_id]);
    },
  );

  it('starts a listener who arrives after an unheard stretch from now; Last-Event-ID still replays it', async () => {
    const { apps } = await fresh();
    const app = apps[0]!;
    const unheard = [];
    for (let index = 0; index < 3; index++)
      unheard.push(await post(`${app.url}/api/lead`, { email: `unheard-${index}@example.com` }));
    const live = await listen(app);
    const heard = await post(`${app.url}/api/lead`, { email: 'heard@example.com' });
    await live.waitFor((events) => events.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(live.events.map((event) => event.data.leadId)).toEqual([heard.body.lead_id]);
    const replayed = await listen(app, 0);
    await replayed.waitFor((events) => events.length === 4);
    expect(replayed.events.map((event) => event.data.leadId)).toEqual(
      [...unheard, heard].map((res) => res.body.lead_id),
    );
  });

  it('delivers events to clients of every instance, not only the one that did the work', async () => {
    const { apps } = await fresh(2);
    const onA = await listen(apps[0]!);
    const res = await post(`${apps[1]!.url}/api/request-service`, { serviceId: 3 });
    await onA.waitFor((events) => ofType(events, 'lead.allocated').length === 1);
    expect(ofType(onA.events, 'lead.allocated')[0]!.data.leadId).toBe(res.body.lead_id);
  });

  it('gives ids that increase in commit order under concurrent writers on two instances', async () => {
    const { apps } = await fresh(2);
    const client = await listen(apps[0]!);
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        post(`${apps[index % 2]!.url}/api/lead`, { email: `${index}@x.io` }),
      ),
    );
    await client.waitFor((events) => ofType(events, 'lead.created').length === 60);
    const ids = client.events.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('announces a refused allocation as lead.unallocated and changes no quota', async () => {
    const { db, apps } = await fresh();
    await db.pool.query('UPDATE providers SET remaining_quota = 0 WHERE id IN (2, 3)');
    const client = await listen(apps[0]!);
    const res = await post(`${apps[0]!.url}/api/request-service`, { serviceId: 1 });
    expect(res.status).toBe(409);
    await client.waitFor((events) => ofType(events, 'lead.unallocated').length === 1);
    expect(ofType(client.events, 'lead.unallocated')[0]!.data).toMatchObject({
      leadId: res.body.lead_id,
      serviceId: 1,
      reason: 'insufficient_quota',
    });
    expect(client.events.map((event) => event.event).sort()).toEqual([
      'lead.created',
      'lead.unallocated',
    ]);
    const { rows } = await db.pool.query(
      'SELECT sum(remaining_quota)::int AS total FROM providers',
    );
    expect(rows[0].total).toBe(60);
  });

  it('writes no event for a change that rolled back', async () => {
    const { db, apps } = await fresh();
    const before = await db.pool.query('SELECT count(*)::int AS n FROM events');
    // An unknown provider makes the whole reset roll back after its event id was claimed.
    const res = await post(`${apps[0]!.url}/api/webhook/reset-quota`, {
      eventId: 'rolled-back',
      providerIds: [1, 999],
    });
    expect(res.status).toBe(400);
    const after = await db.pool.query('SELECT count(*)::int AS n FROM events');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const claimed = await db.pool.query(
      `SELECT 1 FROM webhook_events WHERE event_id = 'rolled-back'`,
    );
    expect(claimed.rowCount).toBe(0);
  });

  it('broadcasts quota.reset and provider.updated', async () => {
    const { apps } = await fresh();
    const client = await listen(apps[0]!);
    await post(`${apps[0]!.url}/api/webhook/reset-quota`, {
      eventId: 'broadcast',
      providerIds: [2],
    });
    await fetch(`${apps[0]!.url}/api/providers/2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quota: 20 }),
    });
    await client.waitFor((events) => events.length === 2);
    expect(client.events[0]).toMatchObject({
      event: 'quota.reset',
      data: { eventId: 'broadcast', providers: [{ id: 2, remainingQuota: 10 }] },
    });
    expect(client.events[1]).toMatchObject({
      event: 'provider.updated',
      data: { provider: { id: 2, quota: 20, remainingQuota: 10 }, deliveryState: 'none' },
    });
  });
});

describe('event ordering across concurrent writers', () => {
  it('holds back a later id until an earlier, still-open writer commits, then sends both in order', async () => {
    const { appendEvents } = await import('../../src/events/events.sql.js');
    const { transaction } = await import('../../src/db/pool.js');
    const { db, apps } = await fresh();
    const { committed } = apps[0]!.app.leadflow;
    const client = await listen(apps[0]!);
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstDrawn!: () => void;
    const firstHasDrawn = new Promise<void>((resolve) => (firstDrawn = resolve));
    const first = transaction(db.pool, async (tx) => {
      await appendEvents(tx, committed, [
        { type: 'quota.reset', payload: { eventId: 'first', providers: [] } },
      ]);
      firstDrawn();
      await firstMayCommit;
    });
    await firstHasDrawn;
    await transaction(db.pool, (tx) =>
      appendEvents(tx, committed, [
        { type: 'quota.reset', payload: { eventId: 'second', providers: [] } },
      ]),
    );
    // The second writer has committed and notified; its id is higher than the open first one's.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.events).toEqual([]);
    releaseFirst();
    await first;
    await client.waitFor((events) => events.length === 2);
    expect(client.events.map((event) => event.data.eventId)).toEqual(['first', 'second']);
    expect(client.events[0]!.id).toBeLessThan(client.events[1]!.id);
  });
});

describe('event retention', () => {
  it('deletes events older than the window and keeps the rest', async () => {
    const { deleteEventsOlderThan } = await import('../../src/events/events.sql.js');
    const { db, apps } = await fresh();
    const insertOld = (lead: string, hours: number) =>
      db.pool.query(
        `INSERT INTO events (id, type, payload, created_at)
         VALUES (nextval('events_id_seq'), 'lead.created', jsonb_build_object('leadId', $1::text),
                 now() - make_interval(hours => $2))`,
        [lead, hours],
      );
    await insertOld('old-1', 80);
    await insertOld('old-2', 73);
    expect(await deleteEventsOlderThan(db.pool, 72)).toBe(2);
    await insertOld('old-3', 75);
    await insertOld('recent', 71);
    const kept = await post(`${apps[0]!.url}/api/lead`, { email: 'keep@example.com' });
    expect(await deleteEventsOlderThan(db.pool, 72)).toBe(1);
    const { rows } = await db.pool.query(
      `SELECT payload->>'leadId' AS lead FROM events ORDER BY id`,
    );
    expect(rows.map((row) => row.lead)).toEqual(['recent', kept.body.lead_id]);
    expect(await deleteEventsOlderThan(db.pool, 72)).toBe(0);
  });
});
