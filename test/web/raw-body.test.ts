import { describe, expect, it } from 'vitest';
import { decodeBody, shownText } from '../../web/src/pages/leads/rawBody.js';
import { PRETTY_JSON_LIMIT, truncationNote } from '../../web/src/prettyJson.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('decodeBody', () => {
  it('pretty-prints a 29 KB body of nested arrays in full, within the limit', () => {
    const text = '['.repeat(14_500) + ']'.repeat(14_500);
    const body = decodeBody(base64(text), 'application/json');
    expect(body.kind).toBe('json');
    if (body.kind !== 'json') return;
    expect(body.pretty.truncated).toBe(false);
    expect(body.pretty.text.length).toBeLessThan(PRETTY_JSON_LIMIT);
  });

  it('lists the first 1,000 fields of a big form and counts them all', () => {
    const text = Array.from({ length: 100_000 }, (_, index) => `f${index}=v`).join('&');
    const body = decodeBody(base64(text), 'application/x-www-form-urlencoded');
    expect(body.kind).toBe('form');
    if (body.kind !== 'form') return;
    expect(body.fields).toHaveLength(1_000);
    expect(body.fields[999]).toEqual(['f999', 'v']);
    expect(body.fieldCount).toBe(100_000);
  });
});

describe('shownText', () => {
  it('shows short text whole, with control characters escaped', () => {
    expect(shownText('a\u0000b')).toEqual({
      text: 'a\\u0000b',
      truncated: false,
      collapsed: false,
    });
  });

  it('cuts a 1 MiB text at the limit and says so', () => {
    const { text, truncated } = shownText('x'.repeat(1024 * 1024));
    expect(truncated).toBe(true);
    expect(text).toBe(`${'x'.repeat(PRETTY_JSON_LIMIT)}\n${truncationNote(PRETTY_JSON_LIMIT)}`);
  });
});
