/**
 * Body parsing without PostgreSQL: the depth bound of SPEC §8, form fields, and that
 * reprocessing reads stored bytes exactly as the live parsers read them on arrival.
 */
import Fastify from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBodyParsers } from '../../src/http/body.js';
import {
  jsonDeeperThan,
  MALFORMED,
  parseForm,
  parseJson,
  parseStoredBody,
  TOO_DEEP,
  UNSUPPORTED,
} from '../../src/ingest/parse.js';

/** Nesting depth of a parsed JSON value (a scalar is 0), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop()!;
    if (typeof next === 'object' && next !== null) {
      deepest = Math.max(deepest, depth + 1);
      for (const inner of Object.values(next)) stack.push([inner, depth + 1]);
    }
  }
  return deepest;
}

// Strings full of brackets, quotes and backslashes: a scanner that counted them, or lost track
// of where a string ends after an escaped quote or backslash, would miscount depth.
const trickyUnit = fc.oneof(
  fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '"\\', ':', ','),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const anyJson = fc.jsonValue({ stringUnit: trickyUnit, maxDepth: 12, depthSize: 'medium' });
// jsonValue alone rarely nests past 6; wrapping a few of them covers both sides of every limit.
const jsonValue = fc.oneof(
  anyJson,
  fc
    .tuple(anyJson, fc.integer({ min: 1, max: 11 }), fc.array(anyJson, { maxLength: 2 }))
    .map(([inner, levels, siblings]) => {
      let value: unknown = inner;
      for (let level = 0; level < levels; level++) {
        value = level % 2 === 0 ? [...siblings, value] : { '"[{': siblings, k: value };
      }
      return value;
    }),
);

const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('jsonDeeperThan', () => {
  it('agrees with the depth of the parsed value at every limit from 0 to 10', () => {
    const depths = new Set<number>();
    fc.assert(
      fc.property(jsonValue, fc.boolean(), (value, indented) => {
        const depth = depthOf(value);
        depths.add(depth);
        const text = Buffer.from(indented ? JSON.stringify(value, null, 2) : JSON.stringify(value));
        for (let limit = 0; limit <= 10; limit++) {
          expect(jsonDeeperThan(text, limit), `limit ${limit}`).toBe(depth > limit);
        }
      }),
      { numRuns: 500 },
    );
    // Both sides of every limit must have been seen for the agreement to mean anything.
    for (let depth = 0; depth <= 11; depth++)
      expect(depths.has(depth), `depth ${depth}`).toBe(true);
  });

  it('does not count brackets inside strings, even after escaped quotes and backslashes', () => {
    expect(jsonDeeperThan(Buffer.from('["[[[[", "{{{{"]'), 1)).toBe(false);
    expect(jsonDeeperThan(Buffer.from('["\\"[[[[[", "\\\\", "[[[["]'), 1)).toBe(false);
    expect(jsonDeeperThan(Buffer.from('{"\\\\":[["\\\\\\"]]"]]}'), 3)).toBe(false);
    expect(jsonDeeperThan(Buffer.from('{"\\\\":[["\\\\\\"]]"]]}'), 2)).toBe(true);
  });
});

describe('parseJson', () => {
  it('returns 64 levels of nesting and refuses 65 as too deep', () => {
    for (const nested of [nestedArrays, nestedObjects]) {
      const atLimit = Buffer.from(nested(64));
      expect(parseJson(atLimit)).toEqual(JSON.parse(atLimit.toString()));
      expect(parseJson(Buffer.from(nested(65)))).toBe(TOO_DEEP);
    }
  });

  it('refuses very deep JSON as too deep, without overflowing the stack', () => {
    expect(parseJson(Buffer.from(nestedArrays(200_000)))).toBe(TOO_DEEP);
  });

  it('does not count brackets inside strings against the limit', () => {
    const value = JSON.parse(nestedArrays(63)) as unknown[];
    let innermost = value;
    for (let level = 1; level < 63; level++) innermost = innermost[0] as unknown[];
    innermost.push('[[[[{{{{'.repeat(20));
    expect(parseJson(Buffer.from(JSON.stringify(value)))).toEqual(value);
  });

  it('calls empty and malformed bodies malformed', () => {
    for (const body of ['', '{', '{"a":}', 'nul', '[1,]', '"unterminated']) {
      expect(parseJson(Buffer.from(body)), body).toBe(MALFORMED);
    }
  });
});

describe('parseForm', () => {
  it('keeps repeated keys as an array, in the order sent', () => {
    const form = parseForm(Buffer.from('a=1&b=x+y&a=2&c=%26&a=3'));
    expect({ ...form }).toEqual({ a: ['1', '2', '3'], b: 'x y', c: '&' });
  });

  it('keeps __proto__ and constructor as ordinary fields', () => {
    const form = parseForm(Buffer.from('__proto__=x&constructor=y&__proto__=z'));
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(Object.keys(form)).toEqual(['__proto__', 'constructor']);
    expect(form['__proto__']).toEqual(['x', 'z']);
    expect(form['constructor']).toBe('y');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('reads any sequence of fields back in order', () => {
    const field = fc.tuple(fc.string({ minLength: 1 }), fc.string());
    fc.assert(
      fc.property(fc.array(field, { maxLength: 10 }), (fields) => {
        const body = new URLSearchParams(fields).toString();
        const expected = Object.create(null) as Record<string, string[]>;
        for (const [key, value] of fields) (expected[key] ??= []).push(value);
        const form = parseForm(Buffer.from(body));
        // Key order is JavaScript's (integer-like keys first); the order of repeats is the sender's.
        expect(Object.keys(form)).toEqual(Object.keys(expected));
        for (const [key, values] of Object.entries(expected)) {
          expect(form[key]).toEqual(values.length === 1 ? values[0] : values);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseStoredBody', () => {
  // The live parsers, on a bare Fastify with the same registration as the server's.
  const app = Fastify();
  let received: unknown;

  beforeAll(async () => {
    registerBodyParsers(app);
    app.post('/', { config: { rawCapture: true } }, async (request) => {
      received = request.body;
      return {};
    });
    await app.ready();
  });
  afterAll(() => app.close());

  async function live(contentType: string, body: string): Promise<unknown> {
    received = undefined;
    const response = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': contentType },
      payload: body,
    });
    expect(response.statusCode, contentType).toBe(200);
    return received;
  }

  const bodies = ['{"a":1,"b":[true,null]}', 'a=1&a=2&__proto__=x', '{', nestedArrays(65)];
  const contentTypes = [
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/json ;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'text/plain',
    'application/jsonp',
    'application/problem+json',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'foo',
    ';',
  ];

  it('reads stored bytes as the live parsers read them on arrival', async () => {
    for (const contentType of contentTypes) {
      for (const body of bodies) {
        const stored = parseStoredBody(contentType, Buffer.from(body));
        expect(stored, `${contentType} | ${body.slice(0, 20)}`).toEqual(
          await live(contentType, body),
        );
      }
    }
  });

  it('dispatches by media type, and calls a missing content type unsupported', () => {
    const json = Buffer.from('{"a":1}');
    expect(parseStoredBody('application/json; charset=utf-8', json)).toEqual({ a: 1 });
    expect(parseStoredBody('application/x-www-form-urlencoded', Buffer.from('a=1'))).toEqual(
      parseForm(Buffer.from('a=1')),
    );
    expect(parseStoredBody('text/plain', json)).toBe(UNSUPPORTED);
    expect(parseStoredBody(null, json)).toBe(UNSUPPORTED);
    expect(parseStoredBody('application/json', Buffer.from(nestedArrays(65)))).toBe(TOO_DEEP);
  });
});
