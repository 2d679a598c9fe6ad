/**
 * What ingestion makes of a body's bytes. Parsing never throws: a malformed, too deep or
 * unsupported body becomes a sentinel, so the raw-first path can store the request before it
 * refuses it. The live parsers (http/body.ts) and reprocessing both parse through here.
 */

/** Body that failed to parse as its declared content type. */
export const MALFORMED = Symbol('malformed body');
/** JSON nested deeper than MAX_JSON_DEPTH. */
export const TOO_DEEP = Symbol('json too deep');
/** Body whose content type Leadflow does not read. */
export const UNSUPPORTED = Symbol('unsupported media type');

/**
 * SPEC §8. Real leads nest two or three levels; everything downstream of the parser (cleaning,
 * JSON.stringify, jsonb, the dashboard) may then recurse without overflowing the stack, which
 * at ~2,500 levels it did, before the raw row was written.
 */
const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether valid JSON text nests deeper than `limit`, by one pass over its bytes (no recursion,
 * no allocation). Brackets inside strings do not count.
 */
export function jsonDeeperThan(text: Buffer, limit: number): boolean {
  // The shortest text deeper than `limit` is limit + 1 openers and as many closers.
  if (text.length < 2 * (limit + 1)) return false;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const byte = text[index];
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return MALFORMED;
  let value: unknown;
  try {
    // V8's JSON.parse is iterative: any depth parses without touching the stack. Invalid
    // UTF-8 decodes to U+FFFD here; the exact bytes stay in rawBody.
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return MALFORMED;
  }
  return jsonDeeperThan(raw, MAX_JSON_DEPTH) ? TOO_DEEP : value;
}

export function parseForm(raw: Buffer): Record<string, string | string[]> {
  // No prototype: a field named __proto__ is a field like any other.
  const result: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >;
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    const existing = result[key];
    // In place: copying the array per repeat made 40,000 repeats of one key (120 KB) block
    // the event loop for 17.7 s.
    if (existing === undefined) result[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else result[key] = [existing, value];
  }
  return result;
}

/** Parses stored bytes the way the live parsers (http/body.ts) did (reprocessing). */
export function parseStoredBody(contentType: string | null, body: Buffer): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return parseJson(body);
  if (type === 'application/x-www-form-urlencoded') return parseForm(body);
  return UNSUPPORTED;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
