/**
 * SPEC §4 normalisation without PostgreSQL: which field lands in which column, how values
 * become text, and that nothing PostgreSQL text or jsonb refuses survives cleaning.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEAD_COLUMNS, type LeadColumn } from '../../src/contracts/lead-columns.js';
import {
  cleanJson,
  cleanText,
  normalizeLead,
  serviceReference,
} from '../../src/ingest/normalize.js';

const SLUG = /^[a-z0-9][a-z0-9-]*$/;

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

// Written out rather than derived, so a changed alias table shows up here.
const TWINS: [LeadColumn, string][] = [
  ['click_id', 'clickId'],
  ['first_name', 'firstName'],
  ['last_name', 'lastName'],
  ['sourcetype', 'sourceType'],
  ['sourcetype', 'source_type'],
];

const COLUMN_OF = new Map<string, LeadColumn>([
  ...LEAD_COLUMNS.flatMap((column) => [
    [column, column] as const,
    [camel(column), column] as const,
  ]),
  ...TWINS.map(([column, twin]) => [twin, column] as const),
]);

/** Units PostgreSQL cannot store, mixed with ordinary code points (and real surrogate pairs). */
const hostileUnit = fc.oneof(
  fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const hostileString = fc.string({ unit: hostileUnit, maxLength: 20 });
const storableUnit = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 1 })
  .filter((unit) => unit !== '\u0000');

function storable(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/** Every string in a JSON value, keys included, without recursing on its depth. */
function stringsIn(value: unknown): string[] {
  const found: string[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === 'string') found.push(next);
    else if (Array.isArray(next)) stack.push(...next);
    else if (typeof next === 'object' && next !== null) {
      for (const [key, inner] of Object.entries(next)) {
        found.push(key);
        stack.push(inner);
      }
    }
  }
  return found;
}

describe('normalizeLead', () => {
  it('fills every known column from its snake_case or camelCase spelling', () => {
    for (const column of LEAD_COLUMNS) {
      for (const spelling of new Set([column, camel(column)])) {
        const { fields, extra } = normalizeLead({ [spelling]: `v-${spelling}` });
        expect(fields[column], spelling).toBe(`v-${spelling}`);
        expect(extra).toEqual({});
      }
    }
    for (const [column, spelling] of TWINS) {
      expect(normalizeLead({ [spelling]: 'x' }).fields[column], spelling).toBe('x');
    }
  });

  it('prefers the snake_case spelling whichever comes first, and keeps the twin in extra', () => {
    for (const [column, twin] of TWINS) {
      for (const payload of [
        { [column]: 'snake', [twin]: 'camel' },
        { [twin]: 'camel', [column]: 'snake' },
      ]) {
        const { fields, extra } = normalizeLead(payload);
        expect(fields[column], `${column}/${twin}`).toBe('snake');
        expect(extra).toEqual({ [twin]: 'camel' });
      }
    }
  });

  it('lets the twin fill a column whose snake_case value is null, keeping the null in extra', () => {
    const { fields, extra } = normalizeLead({ first_name: null, firstName: 'Ann' });
    expect(fields.first_name).toBe('Ann');
    expect(extra).toEqual({ first_name: null });
  });

  it('turns numbers and booleans into text and objects into JSON text', () => {
    const { fields, extra } = normalizeLead({
      phone: 37120000000,
      offer: 1.5,
      marker: true,
      creo: false,
      description: { a: [1, 'b'] },
      domain: ['x', 2],
    });
    expect(fields).toMatchObject({
      phone: '37120000000',
      offer: '1.5',
      marker: 'true',
      creo: 'false',
      description: '{"a":[1,"b"]}',
      domain: '["x",2]',
    });
    expect(extra).toEqual({});
  });

  it('keeps every other field in extra, cleaned, and leaves the columns null', () => {
    const { fields, extra } = normalizeLead({
      utm: { source: 'a\u0000b' },
      'k\ud800': ['\udfff'],
      service: 'service-1',
    });
    expect(Object.values(fields).every((value) => value === null)).toBe(true);
    expect(extra).toEqual({ utm: { source: 'ab' }, 'k\ufffd': ['\ufffd'], service: 'service-1' });
  });

  it('loses no field: each lands in a column or in extra, and all text is storable', () => {
    const known = fc.constantFrom(...LEAD_COLUMNS, ...LEAD_COLUMNS.map(camel), 'source_type');
    const key = fc.oneof(known, hostileString);
    const value = fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 3 });
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 12 }), (payload) => {
        const { fields, extra } = normalizeLead(payload);
        for (const key of Object.keys(payload)) {
          const column = COLUMN_OF.get(key);
          const inColumn = column !== undefined && fields[column] !== null;
          expect(inColumn || Object.hasOwn(extra, cleanText(key)), key).toBe(true);
        }
        for (const text of Object.values(fields))
          if (text !== null) expect(storable(text)).toBe(true);
        for (const text of stringsIn(extra)) expect(storable(text)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('cleanText', () => {
  it('removes NUL and replaces lone surrogates, keeping surrogate pairs', () => {
    expect(cleanText('a\u0000b')).toBe('ab');
    expect(cleanText('\ud800x\udfff')).toBe('\ufffdx\ufffd');
    expect(cleanText('\ud83d\ude00')).toBe('\ud83d\ude00');
  });

  it('always returns storable text', () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        expect(storable(cleanText(text))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves storable text unchanged', () => {
    const storableString = fc.string({ unit: storableUnit });
    fc.assert(
      fc.property(storableString, (text) => {
        expect(cleanText(text)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('cleanJson', () => {
  it('makes every key and nested string storable', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 5 }), (value) => {
        for (const text of stringsIn(cleanJson(value))) expect(storable(text)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('returns an equal value for storable JSON and never changes its input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: storableUnit, maxDepth: 5 }), (value) => {
        const before = JSON.stringify(value);
        expect(cleanJson(value)).toEqual(value);
        expect(JSON.stringify(value)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });
});

describe('serviceReference', () => {
  it('names no service when absent, null or empty', () => {
    expect(serviceReference({})).toBeUndefined();
    expect(serviceReference({ service: null })).toBeUndefined();
    expect(serviceReference({ service: '' })).toBeUndefined();
    expect(serviceReference({ service: '   ' })).toBeUndefined();
  });

  it('reads decimal text as an id and anything else textual as a slug', () => {
    expect(serviceReference({ service: '7' })).toBe(7);
    expect(serviceReference({ service: ' 7 ' })).toBe(7);
    expect(serviceReference({ service: 'service-1' })).toBe('service-1');
    // Too long for an id: stays text, which no slug can equal (slugs contain a letter).
    expect(serviceReference({ service: '12345678901' })).toBe('12345678901');
  });

  it('returns numbers as given, even those that can name no service', () => {
    // Infinity is what JSON.parse makes of a sender's 1e400.
    for (const value of [7, 0, -1, 1.5, Infinity, Number.MAX_SAFE_INTEGER]) {
      expect(serviceReference({ service: value })).toBe(value);
    }
  });

  it('reads serviceId and service_id when service is absent or null', () => {
    expect(serviceReference({ serviceId: 3 })).toBe(3);
    expect(serviceReference({ service_id: '4' })).toBe(4);
    expect(serviceReference({ service: null, serviceId: 'service-2' })).toBe('service-2');
    expect(serviceReference({ service: 1, serviceId: 2, service_id: 3 })).toBe(1);
  });

  it('turns objects, arrays and booleans into a reference that is no slug', () => {
    for (const value of [{}, { id: 1 }, [], [1], ['service-1'], true, false]) {
      const reference = serviceReference({ service: value });
      expect(typeof reference).toBe('string');
      expect(reference as string).not.toMatch(SLUG);
    }
  });
});
