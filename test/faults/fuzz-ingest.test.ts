import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlainObject } from '../../src/ingest/parse.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { spawnServer, type ServerProcess } from './server-process.js';

const BODY_LIMIT = 4096;
let db: TestDatabase;
let server: ServerProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await spawnServer(db.url, { BODY_LIMIT: String(BODY_LIMIT) });
});

afterAll(async () => {
  await server?.kill();
  await db?.drop();
});

// Header values Node's client will send: tab, visible ASCII, space, and latin1 (obs-text).
const headerChar = fc
  .integer({ min: 0x09, max: 0xff })
  .filter((code) => code === 0x09 || (code >= 0x20 && code !== 0x7f))
  .map((code) => String.fromCharCode(code));
const headerValue = (maxLength: number) => fc.string({ unit: headerChar, maxLength });

const contentType = fc.oneof(
  {
    arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
    weight: 6,
  },
  { arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'APPLICATION/JSON',
      'application/jsonx',
      'application/json;;;',
      '*/*',
      '',
      'undefined',
      ';',
    ),
    weight: 2,
  },
  { arbitrary: headerValue(40), weight: 1 },
  { arbitrary: fc.constant(undefined), weight: 1 },
);

const body = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  fc
    .dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }))
    .map((value) => Buffer.from(JSON.stringify(value))),
  fc
    .record({
      email: fc.string({ unit: 'binary' }),
      firstName: fc.string({ unit: 'grapheme' }),
      phone: fc.oneof(fc.integer(), fc.double(), fc.string()),
      extra: fc.anything({ maxDepth: 2 }),
    })
    .map((value) => Buffer.from(JSON.stringify(value) ?? '{}')),
  fc
    .string({ unit: 'binary', maxLength: 200 })
    .map((text) => Buffer.from(`email=${encodeURIComponent(text)}&x=%ZZ&&=&a=1&a=2`)),
  fc.integer({ min: BODY_LIMIT - 20, max: BODY_LIMIT + 2000 }).map((size) => {
    const filler = 'x'.repeat(Math.max(0, size - 12));
    return Buffer.from(`{"f":"${filler}"}`);
  }),
);

const fuzzRequest = fc.record({
  contentType,
  body,
  idempotencyKey: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constantFrom('dup-a', 'dup-b', ' dup-a ', 'a\tb', ''), weight: 2 },
    { arbitrary: headerValue(40), weight: 3 },
    { arbitrary: headerValue(300), weight: 1 },
  ),
  extraHeaders: fc.dictionary(fc.stringMatching(/^x-fuzz-[a-z0-9-]{1,16}$/), headerValue(80), {
    maxKeys: 4,
  }),
  chunked: fc.boolean(),
});

type FuzzRequest = typeof fuzzRequest extends fc.Arbitrary<infer T> ? T : never;

interface Answer {
  status: number;
  body: string;
  requestId: string | undefined;
}

function send(request: FuzzRequest, requestId: string): Promise<Answer> {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...request.extraHeaders };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
  if (!request.chunked) headers['content-length'] = String(request.body.length);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      `${server.url}/api/lead`,
      { method: 'POST', headers, agent: false, signal: AbortSignal.timeout(10_000) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            requestId: response.headers['x-request-id'] as string | undefined,
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    if (request.chunked) {
      outgoing.write(request.body);
      outgoing.end();
    } else {
      outgoing.end(request.body);
    }
  });
}

/** What SPEC §4 says the answer must be, where it says so unambiguously. */
function expectedStatuses(request: FuzzRequest): number[] | null {
  if (request.body.length > BODY_LIMIT) return [413];
  const type = request.contentType;
  const key = request.idempotencyKey?.replace(/^[ \t]+|[ \t]+$/g, '');
  // eslint-disable-next-line no-control-regex -- the spec's rule: no control characters
  const keyValid = key === undefined || /^[^\x00-\x1f\x7f]{1,255}$/.test(key);
  if (type === 'text/plain' || type === 'application/xml') return [415];
  if (type === 'application/json' || type === 'application/json; charset=utf-8') {
    if (!keyValid) return [400];
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body.toString('utf8'));
    } catch {
      return [400];
    }
    return isPlainObject(parsed) ? [201, 409] : [400];
  }
  if (type === 'application/x-www-form-urlencoded') return keyValid ? [201, 409] : [400];
  return null;
}

const STORED = new Map([
  [201, 'accepted'],
  [409, 'duplicate'],
  [400, 'rejected'],
  [415, 'rejected'],
]);

describe('property: POST /api/lead under random bytes, JSON, headers and content types', () => {
  it('never answers 500, never hangs, and stores every request the spec says to store', async () => {
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (request) => {
        const requestId = randomUUID();
        const answer = await send(request, requestId);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        expect(answer.status).not.toBe(500);
        expect([201, 400, 409, 413, 415]).toContain(answer.status);
        expect(answer.requestId).toBe(requestId);
        const parsed = JSON.parse(answer.body) as { ok: boolean; error?: string; lead_id?: string };
        expect(parsed.ok).toBe(answer.status === 201 || answer.status === 409);
        const expected = expectedStatuses(request);
        if (expected) expect(expected).toContain(answer.status);

        const { rows } = await db.pool.query<{
          status: string;
          error: string | null;
          lead_id: string | null;
          body: Buffer;
        }>('SELECT status, error, lead_id, body FROM leads_raw WHERE request_id = $1', [requestId]);
        const storedAs = STORED.get(answer.status);
        if (storedAs === undefined) {
          expect(rows).toEqual([]);
          return;
        }
        expect(rows).toHaveLength(1);
        expect(rows[0]!.status).toBe(storedAs);
        expect(rows[0]!.body.equals(request.body)).toBe(true);
        if (parsed.ok) expect(rows[0]!.lead_id).toBe(parsed.lead_id);
        else expect(rows[0]!.error).toBe(parsed.error);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false },
    );
    console.info('fuzz POST /api/lead statuses:', statuses);
    expect(Object.keys(statuses).length).toBeGreaterThanOrEqual(4);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('survives raw garbage on the socket: never a 500, the process stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
          fc
            .tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }))
            .map(([name, value]) =>
              Buffer.concat([
                Buffer.from('POST /api/lead HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-'),
                Buffer.from(name),
                Buffer.from(': '),
                Buffer.from(value),
                Buffer.from('\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{}'),
              ]),
            ),
        ),
        async (bytes) => {
          const response = await new Promise<string>((resolve) => {
            const socket = connect(server.port, '127.0.0.1');
            let text = '';
            socket.setTimeout(5000, () => socket.destroy());
            socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
            socket.on('error', () => resolve(text));
            socket.on('close', () => resolve(text));
            socket.end(bytes);
          });
          expect(response).not.toMatch(/^HTTP\/1\.[01] 5\d\d/);
        },
      ),
      { numRuns: 150, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false },
    );
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  }, 30_000);
});
