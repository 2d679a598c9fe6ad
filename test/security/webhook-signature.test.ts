import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';

const secret = (): string => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = secret();
const ADMIN_TOKEN = 'admin-token-webhook-tests-000';

let db: TestDatabase;
let server: TestApp;
let hookUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db, { WEBHOOK_SECRET: SECRET, ADMIN_TOKEN });
  hookUrl = `${server.url}/api/webhook/reset-quota`;
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query('UPDATE providers SET remaining_quota = 0');
});

interface Signed {
  body: string;
  headers: Record<string, string>;
}

function signed(
  body: string,
  { secrets = [SECRET], at = new Date(), id = `msg_${randomUUID()}` } = {},
): Signed {
  const signatures = secrets.map((key) => new Webhook(key).sign(id, at, body));
  return {
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    },
  };
}

async function send({ body, headers }: Signed) {
  return post(hookUrl, body, headers);
}

async function refilled(): Promise<number> {
  const { rows } = await db.pool.query(
    'SELECT count(*)::int AS n FROM providers WHERE remaining_quota > 0',
  );
  return rows[0].n;
}

describe('WEBHOOK_SECRET: Standard Webhooks signatures', () => {
  it('accepts a valid signature over the exact raw body, and resets once per event id', async () => {
    const request = signed(`{ "eventId" : "${randomUUID()}",  "providerIds":[1, 2] }`);
    const first = await send(request);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ok: true, duplicate: false, reset: 2 });
    expect(await refilled()).toBe(2);
    const copy = await send(request);
    expect(copy.body).toEqual({ ok: true, duplicate: true });
  });

  it('uses webhook-id as the event id when the body has none', async () => {
    const id = `msg_${randomUUID()}`;
    const first = await send(signed('{}', { id }));
    expect(first.body).toEqual({ ok: true, duplicate: false, reset: 8 });
    // A redelivery is signed afresh (new timestamp) but keeps its webhook-id.
    const redelivery = await send(signed('{}', { id, at: new Date(Date.now() + 1000) }));
    expect(redelivery.body).toEqual({ ok: true, duplicate: true });
    const { rows } = await db.pool.query('SELECT kind FROM webhook_events WHERE event_id = $1', [
      id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('accepts any one valid signature among several (secret rotation by the sender)', async () => {
    const rotated = signed(`{"eventId":"${randomUUID()}"}`, { secrets: [secret(), SECRET] });
    expect(rotated.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect((await send(rotated)).status).toBe(200);
    const unknownVersionFirst = signed(`{"eventId":"${randomUUID()}"}`);
    unknownVersionFirst.headers['webhook-signature'] =
      `v2,${randomBytes(32).toString('base64')} ${unknownVersionFirst.headers['webhook-signature']}`;
    expect((await send(unknownVersionFirst)).status).toBe(200);
  });

  it('accepts a timestamp 4 minutes old or ahead', async () => {
    for (const skew of [-4, 4]) {
      const at = new Date(Date.now() + skew * 60_000);
      expect((await send(signed(`{"eventId":"${randomUUID()}"}`, { at }))).status).toBe(200);
    }
  });

  it('refuses with 401 and changes nothing: missing, stale, wrong, tampered, replayed elsewhere', async () => {
    const eventId = randomUUID();
    const good = signed(`{"eventId":"${eventId}"}`);
    const without = (name: string): Signed => {
      const headers = { ...good.headers };
      delete headers[name];
      return { body: good.body, headers };
    };
    const refused: [string, Signed][] = [
      ['no signature headers', { body: good.body, headers: {} }],
      ['no webhook-id', without('webhook-id')],
      ['no webhook-timestamp', without('webhook-timestamp')],
      ['no webhook-signature', without('webhook-signature')],
      ['6 minutes old', signed(good.body, { at: new Date(Date.now() - 6 * 60_000) })],
      ['6 minutes ahead', signed(good.body, { at: new Date(Date.now() + 6 * 60_000) })],
      [
        'timestamp not a number',
        { body: good.body, headers: { ...good.headers, 'webhook-timestamp': 'now' } },
      ],
      ['another secret', signed(good.body, { secrets: [secret()] })],
      [
        'tampered body',
        { body: `{"eventId":"${eventId}","providerIds":[1]}`, headers: good.headers },
      ],
      ['whitespace added', { body: `${good.body} `, headers: good.headers }],
      [
        'other webhook-id',
        { body: good.body, headers: { ...good.headers, 'webhook-id': 'msg_other' } },
      ],
      [
        'timestamp changed',
        {
          body: good.body,
          headers: {
            ...good.headers,
            'webhook-timestamp': String(Number(good.headers['webhook-timestamp']) - 1),
          },
        },
      ],
      [
        'signature without version',
        {
          body: good.body,
          headers: {
            ...good.headers,
            'webhook-signature': good.headers['webhook-signature']!.slice(3),
          },
        },
      ],
      [
        'truncated signature',
        {
          body: good.body,
          headers: {
            ...good.headers,
            'webhook-signature': good.headers['webhook-signature']!.slice(0, -4),
          },
        },
      ],
      [
        'plain shared secret',
        { body: good.body, headers: { ...good.headers, 'webhook-signature': `v1,${SECRET}` } },
      ],
    ];
    for (const [label, request] of refused) {
      const res = await send(request);
      expect(res.status, label).toBe(401);
      expect(res.body, label).toEqual({ ok: false, error: 'unauthorized' });
    }
    expect(await refilled()).toBe(0);
    const { rows } = await db.pool.query('SELECT 1 FROM webhook_events WHERE event_id = $1', [
      eventId,
    ]);
    expect(rows).toHaveLength(0);
    // The untouched original still works afterwards: refusals did not burn its event id.
    expect((await send(good)).body).toEqual({ ok: true, duplicate: false, reset: 8 });
    const counters = await fetch(`${server.url}/api/security/counters`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(
      ((await counters.json()) as { unauthorized: { webhook: number } }).unauthorized.webhook,
    ).toBeGreaterThanOrEqual(refused.length);
  });

  it('answers a correctly signed but invalid body with 400, not 401', async () => {
    expect((await send(signed('{"providerIds":"all"}'))).status).toBe(400);
    expect((await send(signed('{"eventId": '))).status).toBe(400);
  });
});

describe('without WEBHOOK_SECRET', () => {
  it('accepts unsigned calls (loopback development) and still needs an eventId', async () => {
    const open = await startTestApp(db);
    try {
      const url = `${open.url}/api/webhook/reset-quota`;
      expect((await post(url, { eventId: randomUUID() })).status).toBe(200);
      expect((await post(url, {}, { 'webhook-id': 'msg_x' })).status).toBe(400);
    } finally {
      await open.close();
    }
  });
});

describe('an event id from the webhook-id header', () => {
  it('is held to the body rule: over 255 characters is 400, never 500', async () => {
    const long = await send(signed('{}', { id: `msg_${'x'.repeat(3000)}` }));
    expect(long).toMatchObject({ status: 400, body: { ok: false, error: 'invalid_payload' } });
    expect((await send(signed('{}', { id: `msg_${'y'.repeat(300)}` }))).status).toBe(400);
    expect(await refilled()).toBe(0);
  });
});
