import vm from 'node:vm';
import type { AttemptOutcome } from './delivery.sql.js';

/** What one send came back with. */
export type SendResult =
  | { kind: 'response'; statusCode: number; body: string; retryAfter: string | undefined }
  | { kind: 'error'; error: string; retryable: boolean };

export interface RetryPolicy {
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface Outcome {
  outcome: AttemptOutcome;
  error: string | null;
  /** Set for `retry`: when the next attempt is due, in ms from now. */
  retryInMs: number | null;
}

// SPEC §9: the statuses that say "later", not "no".
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

/** Retry-After as ms from `now`: delta-seconds or an HTTP date; undefined when unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with full jitter (a uniform draw below min(max, base·2^(n−1))): retries
 * of many deliveries that failed together spread out instead of arriving together again. A
 * Retry-After is a floor, itself capped at the maximum so a receiver cannot park a delivery
 * for a year.
 */
export function retryDelayMs(
  attemptsSinceRequeue: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  const ceiling = Math.min(
    policy.retryMaxMs,
    policy.retryBaseMs * 2 ** Math.min(attemptsSinceRequeue - 1, 40),
  );
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined
    ? jittered
    : Math.max(jittered, Math.min(retryAfterMs, policy.retryMaxMs));
}

// An operator's pattern runs on the buyer's answer in the event loop. JavaScript regexes
// backtrack: `^(a+)+$` against 30 a's and a '!' blocked every request for 7.5 s. A vm
// timeout interrupts the match (V8 checks for interrupts while backtracking); the watchdog
// costs ~70 µs a call, only for endpoints with a pattern.
const PATTERN_BUDGET_MS = 50;
const patternContext = vm.createContext({});
const patternTest = new vm.Script('pattern.test(body)');

/** Whether `pattern` matches `body`, or 'timeout' when it takes longer than the budget. */
export function matchesWithin(pattern: string, body: string): boolean | 'timeout' {
  patternContext.pattern = new RegExp(pattern);
  patternContext.body = body;
  try {
    return patternTest.runInContext(patternContext, { timeout: PATTERN_BUDGET_MS }) === true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw error;
  } finally {
    patternContext.body = undefined;
  }
}

/** The outcome of SPEC §9 for one attempt. */
export function classify(
  result: SendResult,
  context: {
    acceptPattern: string | null;
    attemptsSinceRequeue: number;
    maxAttempts: number;
    policy: RetryPolicy;
    now: number;
    random: () => number;
  },
): Outcome {
  let error: string;
  let retryAfterMs: number | undefined;
  if (result.kind === 'response') {
    const { statusCode } = result;
    if (statusCode >= 200 && statusCode < 300) {
      const accepted =
        context.acceptPattern === null ? true : matchesWithin(context.acceptPattern, result.body);
      if (accepted === true) return { outcome: 'delivered', error: null, retryInMs: null };
      if (accepted === false) {
        return {
          outcome: 'rejected',
          error: 'response did not match acceptPattern',
          retryInMs: null,
        };
      }
      // Retried, not final: the budget is wall-clock time, and a busy moment (a GC pause, a
      // descheduled process) ran a plain `ok` past it — 6 of 20,000 matches with the cores
      // busy — failing for good deliveries the buyer had taken (hostile review). The retry
      // carries the same Idempotency-Key; a pattern that really backtracks fails at maxAttempts.
      error = `acceptPattern did not finish within ${PATTERN_BUDGET_MS} ms on the response: simplify it`;
    } else {
      error = `HTTP ${statusCode}`;
      if (!RETRYABLE_STATUSES.has(statusCode) && (statusCode < 500 || statusCode > 599)) {
        // 3xx too: redirects are never followed, and a retry would get the same answer. A
        // status past 599 is no HTTP answer at all (a raw `HTTP/1.1 999`), not a server error.
        return { outcome: 'failed', error, retryInMs: null };
      }
      retryAfterMs = parseRetryAfter(result.retryAfter, context.now);
    }
  } else {
    error = result.error;
    if (!result.retryable) return { outcome: 'failed', error, retryInMs: null };
  }
  if (context.attemptsSinceRequeue >= context.maxAttempts) {
    return {
      outcome: 'failed',
      error: `${error} (gave up after ${context.attemptsSinceRequeue} attempts)`,
      retryInMs: null,
    };
  }
  return {
    outcome: 'retry',
    error,
    retryInMs: retryDelayMs(
      context.attemptsSinceRequeue,
      context.policy,
      retryAfterMs,
      context.random,
    ),
  };
}

/** The buyer answered (delivered or rejected): the endpoint works, whatever it said. */
export function answered(outcome: AttemptOutcome): boolean {
  return outcome === 'delivered' || outcome === 'rejected';
}

/** A provider's health after one attempt: delivered or rejected means the endpoint answers. */
export function nextHealth(
  current: { consecutiveFailures: number; paused: boolean },
  outcome: AttemptOutcome,
  pauseAfter: number,
): { consecutiveFailures: number; change: 'pause' | 'resume' | 'keep' } {
  if (answered(outcome)) {
    return { consecutiveFailures: 0, change: current.paused ? 'resume' : 'keep' };
  }
  const consecutiveFailures = current.consecutiveFailures + 1;
  return {
    consecutiveFailures,
    change: !current.paused && consecutiveFailures >= pauseAfter ? 'pause' : 'keep',
  };
}
