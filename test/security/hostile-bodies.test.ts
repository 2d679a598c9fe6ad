import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * SPEC §8, as a property: whatever body a client sends to either ingestion route, in whatever
 * encoding and content type, the answer is never 5xx, the request is stored with its exact
 * bytes unless the answer is one of the unstored refusals, and the same bytes get the same
 * answer every time.
 */

const BODY_LIMIT = 64 * 1024;
let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  // Quotas that never run out: the same bytes must get the same answer, so no answer may
  // depend on what the previous runs used up.
  await db.pool.query('UPDATE providers SET quota = 1000000000, remaining_quota = 1000000000');
  server = await startTestApp(db, {
    BODY_LIMIT: String(BODY_LIMIT),
    RATE_LIMIT_PER_MINUTE: '0',
    REFUSED_BYTES_PER_MINUTE: String(1024 * 1024 * 1024),
  });
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const nested = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 60, max: 5000 })),
    opener: fc.constantFrom('[', '{"a":', '[{"b":'),
    copies: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ depth, opener, copies }) => {
    const closer = opener === '[' ? ']' : opener === '{"a":' ? '}' : '}]';
    const one = `${opener.repeat(depth)}1${closer.repeat(depth)}`;
    return `{"service":1,"x":[${Array(copies).fill(one).join(',')}]}`;
  });

const number = fc.constantFrom(
  '2147483648',
  '2147483647',
  '-2147483649',
  '1e20',
  '1e400',
  '-0',
  '1.5',
  '9007199254740993',
  '0',
  '"2147483648"',
  '"99999999999"',
  '"service-1"',
  '"\\u0000"',
  '"\\ud800"',
  '"2"',
  'null',
  '[]',
  '{}',
);

const numbers = fc
  .record({ field: fc.constantFrom('service', 'serviceId', 'service_id'), value: number })
  .map(({ field, value }) => `{"${field}":${value},"email":"n@example.com"}`);

const duplicateKeys = fc
  .tuple(number, number)
  .map(([a, b]) => `{"serviceId":${a},"email":"a@x","email":"b@x","serviceId":${b}}`);

const oddText = fc
  .constantFrom(
    '{"email":"\\u0000nul","\\u0000":"k"}',
    '{"firstName":"\\ud800\\udc00\\udfff"}',
    '\ufeff{"email":"bom@example.com"}',
    '{"__proto__":{"polluted":true},"constructor":{"prototype":1}}',
    '{"email":"a","serviceId":1}garbage',
    '',
    ' ',
    '[]',
    '"just a string"',
  )
  .map((text) => Buffer.from(text, 'utf8'));

const invalidUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((bytes) =>
    Buffer.concat([Buffer.from('{"serviceId":1,"email":"'), Buffer.from(bytes), Buffer.from('"}')]),
  );

const form = fc
  .array(
    fc.tuple(
      fc.constantFrom('service', 'serviceId', 'email', 'a[b][c]', '__proto__', 'x'),
      fc.constantFrom('1', '2147483648', '%00', '%ff%fe', 'service-2', '', '1e20', '2'),
    ),
    { maxLength: 6 },
  )
  .map((pairs) => Buffer.from(pairs.map(([key, value]) => `${key}=${value}`).join('&')));

const body = fc.oneof(
  nested.map((text) => Buffer.from(text)),
  numbers.map((text) => Buffer.from(text)),
  duplicateKeys.map((text) => Buffer.from(text)),
  oddText,
  invalidUtf8,
  form,
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/plain',
  'application/xml',
  ';',
  '',
  undefined,
);

const hostileRequest = fc.record({
  route: fc.constantFrom('/api/lead', '/api/request-service'),
  contentType,
  body,
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function send(
  request: { route: string; contentType: string | undefined; body: Buffer },
  requestId: string,
): Promise<Answer> {
  const headers: Record<string, string> = {
    'x-request-id': requestId,
    'content-length': String(request.body.length),
  };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      `${server.url}${request.route}`,
      { method: 'POST', headers, agent: false, signal: AbortSignal.timeout(10_000) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** What the bytes decide: the outcome, not the new lead's id nor the round-robin's turn. */
function outcomeOf(answer: Answer): unknown {
  const { ok, error, deduplicated, service_id: serviceId } = answer.body;
  const allocation = answer.body.allocation as Record<string, unknown> | undefined;
  return {
    status: answer.status,
    ok,
    error,
    deduplicated,
    serviceId,
    allocation: allocation && { ok: allocation.ok, error: allocation.error },
  };
}

const UNSTORED = new Set([401, 413, 429, 503]);

describe('property: hostile bodies on both ingestion routes (SPEC §8)', () => {
  it('never 5xx; exact bytes stored for every answer but 401/413/429/503; same bytes, same answer', async () => {
    const statuses: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (request) => {
        const ids = [randomUUID(), randomUUID()];
        const first = await send(request, ids[0]!);
        const second = await send(request, ids[1]!);
        const label = `${request.route} ${first.status} ${String(first.body.error ?? '')}`;
        statuses[label] = (statuses[label] ?? 0) + 1;
        expect(first.status).toBeLessThan(500);
        expect(outcomeOf(second)).toEqual(outcomeOf(first));

        const { rows } = await db.pool.query<{ request_id: string; body: Buffer }>(
          'SELECT request_id, body FROM leads_raw WHERE request_id = ANY($1::text[])',
          [ids],
        );
        if (UNSTORED.has(first.status)) {
          expect(rows).toEqual([]);
          return;
        }
        expect(rows.map((row) => row.request_id).sort()).toEqual([...ids].sort());
        for (const row of rows) expect(row.body.equals(request.body)).toBe(true);
      }),
      {
        numRuns: 250,
        interruptAfterTimeLimit: 45_000,
        markInterruptAsFailure: false,
        // Every run starts with one request of each kind of answer, whatever the draw.
        examples: [
          [{ route: '/api/lead', contentType: 'application/json', body: Buffer.from('{"a":1}') }],
          [
            {
              route: '/api/lead',
              contentType: 'application/json',
              body: Buffer.from(`{"x":${'['.repeat(3000)}${']'.repeat(3000)}}`),
            },
          ],
          [
            {
              route: '/api/request-service',
              contentType: 'application/json',
              body: Buffer.from('{"serviceId":2147483647}'),
            },
          ],
          [{ route: '/api/request-service', contentType: 'text/plain', body: Buffer.from('x') }],
        ],
      },
    );
    console.info('hostile bodies, answers seen:', statuses);
    // The generators must reach the interesting answers, not only one kind.
    const seen = Object.keys(statuses).join(' ');
    for (const expected of ['201', 'invalid_payload', '415', '404'])
      expect(seen).toContain(expected);
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM leads_raw WHERE error = 'too_deep'`,
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
  }, 90_000);
});
