/**
 * `JSON.stringify(value, null, 2)` with its work bounded, for showing what clients sent.
 *
 * A stored value can be nested thousands of levels deep, where indentation alone makes the
 * output grow with depth × size (a 29 KB body of nested arrays came to 168 M characters), or
 * be a 1 MiB object of 100k keys. JSON.stringify builds all of it before anything is shown,
 * and it recurses, so deep enough input throws. This walks the value with its own stack and
 * stops once the output reaches a limit, so its cost follows the output shown, not the input.
 */

export interface PrettyJson {
  text: string;
  truncated: boolean;
  /** Some container was nested INDENTED_DEPTH deep or more and so printed on one line. */
  collapsed: boolean;
}

/** About 100 KB: lays out in a `<pre>` without a visible pause and is more than anyone reads. */
export const PRETTY_JSON_LIMIT = 100_000;

/**
 * Containers this deep and deeper are written on one line, as JSON.stringify without indent
 * would: a line then never carries more than 40 spaces of indentation, and real leads are
 * only a few levels deep anyway.
 */
export const INDENTED_DEPTH = 20;

interface Frame {
  container: object;
  /** The object's keys in JSON.stringify order, or null for an array. */
  keys: string[] | null;
  count: number;
  next: number;
  depth: number;
}

const INDENTS = Array.from({ length: INDENTED_DEPTH + 1 }, (_, depth) => '  '.repeat(depth));

export function truncationNote(limit: number): string {
  return `… truncated: only the first ${limit.toLocaleString('en')} characters are shown`;
}

/** Prints a value that came from JSON.parse (or a JSON response); at most `limit` characters. */
export function prettyJson(value: unknown, limit = PRETTY_JSON_LIMIT): PrettyJson {
  const parts: string[] = [];
  let length = 0;
  const stack: Frame[] = [];
  let collapsed = false;

  const emit = (part: string) => {
    parts.push(part);
    length += part.length;
  };
  // A long string is cut before escaping, so escaping costs no more than the room left.
  const quote = (text: string) => JSON.stringify(text.slice(0, Math.max(0, limit - length)));
  const write = (item: unknown, depth: number) => {
    if (typeof item === 'string') return emit(quote(item));
    if (item === null || typeof item !== 'object') return emit(JSON.stringify(item) ?? 'null');
    const keys = Array.isArray(item) ? null : Object.keys(item);
    const count = keys ? keys.length : (item as unknown[]).length;
    if (count === 0) return emit(keys ? '{}' : '[]');
    emit(keys ? '{' : '[');
    if (depth >= INDENTED_DEPTH) collapsed = true;
    stack.push({ container: item, keys, count, next: 0, depth });
  };

  write(value, 0);
  while (stack.length > 0 && length < limit) {
    const frame = stack[stack.length - 1];
    const indented = frame.depth < INDENTED_DEPTH;
    if (frame.next === frame.count) {
      stack.pop();
      const close = frame.keys ? '}' : ']';
      emit(indented ? `\n${INDENTS[frame.depth]}${close}` : close);
      continue;
    }
    const index = frame.next++;
    if (index > 0) emit(',');
    if (indented) emit(`\n${INDENTS[frame.depth + 1]}`);
    if (frame.keys) {
      const key = frame.keys[index];
      emit(quote(key));
      emit(indented ? ': ' : ':');
      write((frame.container as Record<string, unknown>)[key], frame.depth + 1);
    } else {
      write((frame.container as unknown[])[index], frame.depth + 1);
    }
  }

  const text = parts.join('');
  if (stack.length === 0 && length <= limit) return { text, truncated: false, collapsed };
  return {
    text: `${text.slice(0, limit)}\n${truncationNote(limit)}`,
    truncated: true,
    collapsed,
  };
}
