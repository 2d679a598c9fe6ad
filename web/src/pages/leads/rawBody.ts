/** Turns the stored request body (exact bytes, base64) into something safe to show. */

import {
  PRETTY_JSON_LIMIT,
  prettyJson,
  truncationNote,
  type PrettyJson,
} from '../../prettyJson.js';

export type DecodedBody =
  | { kind: 'empty' }
  | { kind: 'json'; text: string; pretty: PrettyJson }
  | { kind: 'form'; text: string; fields: [string, string][]; fieldCount: number }
  | { kind: 'text'; text: string }
  | { kind: 'binary'; lines: string[]; truncated: boolean };

const HEX_DUMP_LIMIT = 64 * 1024;
const BYTES_PER_LINE = 16;
/** A table row per field is far heavier than a line of text, so fewer are listed. */
const FORM_FIELD_LIMIT = 1_000;

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Control characters other than tab and newlines are shown as escapes, so a body carrying
 * them cannot hide text or break the layout. React escapes markup already.
 */
export function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/g, (char) => {
    const code = char.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${code}`;
  });
}

/** The body as text, escaped, and cut at the same size the pretty-printer stops at. */
export function shownText(text: string): PrettyJson {
  if (text.length <= PRETTY_JSON_LIMIT) {
    return { text: escapeControlCharacters(text), truncated: false, collapsed: false };
  }
  return {
    text: `${escapeControlCharacters(text.slice(0, PRETTY_JSON_LIMIT))}\n${truncationNote(PRETTY_JSON_LIMIT)}`,
    truncated: true,
    collapsed: false,
  };
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
}

function hexDump(bytes: Uint8Array): { lines: string[]; truncated: boolean } {
  const shown = bytes.subarray(0, HEX_DUMP_LIMIT);
  const lines: string[] = [];
  for (let offset = 0; offset < shown.length; offset += BYTES_PER_LINE) {
    const chunk = Array.from(shown.subarray(offset, offset + BYTES_PER_LINE));
    const hex = chunk.map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    lines.push(
      `${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(BYTES_PER_LINE * 3 - 1)}  ${chunk.map(printable).join('')}`,
    );
  }
  return { lines, truncated: bytes.length > shown.length };
}

export function decodeBody(base64: string, contentType: string | null): DecodedBody {
  const bytes = base64ToBytes(base64);
  if (bytes.length === 0) return { kind: 'empty' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: 'binary', ...hexDump(bytes) };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return { kind: 'json', text, pretty: prettyJson(parsed) };
  } catch {
    // not JSON; fall through
  }
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const fields = [...new URLSearchParams(text).entries()];
    return {
      kind: 'form',
      text,
      fields: fields.slice(0, FORM_FIELD_LIMIT),
      fieldCount: fields.length,
    };
  }
  return { kind: 'text', text };
}
