import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INDENTED_DEPTH,
  PRETTY_JSON_LIMIT,
  prettyJson,
  truncationNote,
} from '../../web/src/prettyJson.js';

const MOST = PRETTY_JSON_LIMIT + 1 + truncationNote(PRETTY_JSON_LIMIT).length;

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

describe('prettyJson', () => {
  it('prints ordinary values exactly as JSON.stringify(value, null, 2) does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: INDENTED_DEPTH - 1 }), (value) => {
        expect(prettyJson(value)).toEqual({
          text: JSON.stringify(value, null, 2),
          truncated: false,
          collapsed: false,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('prints a value of exactly the limit in full, and one character more truncated', () => {
    const value = { note: 'x'.repeat(50) };
    const whole = JSON.stringify(value, null, 2);
    expect(prettyJson(value, whole.length)).toEqual({
      text: whole,
      truncated: false,
      collapsed: false,
    });
    const cut = prettyJson(value, whole.length - 1);
    expect(cut.truncated).toBe(true);
    expect(cut.text).toBe(`${whole.slice(0, -1)}\n${truncationNote(whole.length - 1)}`);
  });

  it('writes containers from the indentation cap down on one line', () => {
    const value = { deep: nestedArrays(INDENTED_DEPTH + 3) };
    const { text, truncated, collapsed } = prettyJson(value);
    expect(truncated).toBe(false);
    expect(collapsed).toBe(true);
    expect(JSON.parse(text)).toEqual(value);
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => line.length - line.trimStart().length))).toBe(
      2 * INDENTED_DEPTH,
    );
    expect(lines).toContain(`${' '.repeat(2 * INDENTED_DEPTH)}[[[[]]]]`);
  });

  it('prints 3,000 nested arrays within the limit, without recursing', () => {
    const { text, truncated } = prettyJson(nestedArrays(3_000));
    expect(truncated).toBe(false);
    expect(text.length).toBeLessThan(MOST);
    // Compared as compact text: a deep toEqual recurses 3,000 levels and may overflow a
    // worker's stack, depending on what ran before it.
    expect(text.replace(/\s/g, '')).toBe('['.repeat(3_000) + ']'.repeat(3_000));
  });

  it('stops a 29 KB body of nested arrays at the limit with a note', () => {
    const body = '['.repeat(14_500) + ']'.repeat(14_500);
    const { text, truncated } = prettyJson(JSON.parse(body), 10_000);
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(10_001 + truncationNote(10_000).length);
    expect(text.endsWith(truncationNote(10_000))).toBe(true);
  });

  it('prints a 29 KB body of nested arrays in full within the default limit', () => {
    const body = '['.repeat(14_500) + ']'.repeat(14_500);
    const { text, truncated } = prettyJson(JSON.parse(body));
    expect(truncated).toBe(false);
    expect(text.length).toBeLessThan(MOST);
    expect(text.replace(/\s/g, '')).toBe(body);
  });

  it('stops a 100k-key object at the limit with a note', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 100_000 }, (_, index) => [`key${index}`, 'v'.repeat(5)]),
    );
    const { text, truncated } = prettyJson(wide);
    expect(truncated).toBe(true);
    expect(text).toHaveLength(MOST);
    expect(text.startsWith('{\n  "key0": "vvvvv",\n  "key1": "vvvvv",')).toBe(true);
    expect(text.endsWith(`\n${truncationNote(PRETTY_JSON_LIMIT)}`)).toBe(true);
  });

  it('cuts a long string to the room left rather than escaping all of it', () => {
    const { text, truncated } = prettyJson(['\u0001'.repeat(1_000_000)], 1_000);
    expect(truncated).toBe(true);
    expect(text).toHaveLength(1_001 + truncationNote(1_000).length);
    expect(text.startsWith('[\n  "\\u0001\\u0001')).toBe(true);
  });
});
