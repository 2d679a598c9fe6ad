/**
 * Classifies PostgreSQL / driver errors. Only what PostgreSQL says is retryable is retried
 * (serialization failure, deadlock); connection loss is reported as "unavailable" so the
 * sender retries with its Idempotency-Key instead of us guessing whether a COMMIT landed.
 */

export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

// Class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot
// connect now), 53300 (too many connections), 57014 (statement_timeout: the database is too
// busy to answer in time, which a sender should treat like an outage and retry), 25006
// (read-only transaction: the connection reached a primary that was demoted by a failover).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300|57014|25006)$/;

/** The server this connection reached no longer accepts writes (a demoted primary). */
export function isReadOnlyServer(error: unknown): boolean {
  return codeOf(error) === '25006';
}
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Cannot use a pool after calling end',
  'terminating connection',
];

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function isRetryable(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && RETRYABLE_SQLSTATES.has(code);
}

export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE_CODES.has(code))) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  if (error instanceof AggregateError) return error.errors.some((inner) => isUnavailable(inner));
  return UNAVAILABLE_MESSAGES.some((fragment) => message.includes(fragment));
}
