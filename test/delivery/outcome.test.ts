import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress } from '../../src/delivery/address-guard.js';
import { matchesWithin } from '../../src/delivery/outcome.js';
import { classify, nextHealth, parseRetryAfter, retryDelayMs } from '../../src/delivery/outcome.js';

const policy = { retryBaseMs: 5000, retryMaxMs: 3_600_000 };
const context = {
  acceptPattern: null,
  attemptsSinceRequeue: 1,
  maxAttempts: 8,
  policy,
  now: 0,
  random: () => 0.5,
};
const response = (statusCode: number, body = '') =>
  ({ kind: 'response', statusCode, body, retryAfter: undefined }) as const;

describe('outcomes of SPEC §9', () => {
  it('maps statuses to delivered, retry or failed', () => {
    expect(classify(response(204), context).outcome).toBe('delivered');
    for (const status of [408, 425, 429, 500, 503]) {
      expect(classify(response(status), context).outcome).toBe('retry');
    }
    for (const status of [301, 400, 401, 404, 422, 600, 999]) {
      expect(classify(response(status), context).outcome).toBe('failed');
    }
    expect(classify(response(200, 'no'), { ...context, acceptPattern: '^ok' }).outcome).toBe(
      'rejected',
    );
    expect(classify(response(500), { ...context, attemptsSinceRequeue: 8 }).outcome).toBe('failed');
  });

  it('backs off with full jitter below base·2^(n−1), capped, with Retry-After as a floor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (n, r) => {
          const delay = retryDelayMs(n, policy, undefined, () => r);
          return delay >= 0 && delay < Math.min(policy.retryMaxMs, 5000 * 2 ** (n - 1));
        },
      ),
    );
    expect(retryDelayMs(1, policy, 120_000, () => 0)).toBe(120_000);
    expect(retryDelayMs(1, policy, 10 ** 12, () => 0)).toBe(policy.retryMaxMs);
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(90_000).toUTCString(), 30_000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('pauses after N failures in a row and resumes on an answer', () => {
    let health = { consecutiveFailures: 0, paused: false };
    for (let attempt = 1; attempt <= 10; attempt++) {
      const next = nextHealth(health, 'retry', 10);
      expect(next.change).toBe(attempt === 10 ? 'pause' : 'keep');
      health = { consecutiveFailures: next.consecutiveFailures, paused: next.change === 'pause' };
    }
    expect(nextHealth(health, 'failed', 10).change).toBe('keep');
    expect(nextHealth(health, 'rejected', 10)).toEqual({
      consecutiveFailures: 0,
      change: 'resume',
    });
  });
});

describe('address guard', () => {
  it('refuses loopback, private, link-local and unspecified addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.31.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
      '224.0.0.1',
      '255.255.255.255',
      '198.18.0.1',
      'fec0::1',
      'ff02::1',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
    for (const address of [
      '93.184.216.34',
      '172.32.0.1',
      '2606:4700::1111',
      '2002:5db8:d822::1',
      '64:ff9b::5db8:d822',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(false);
    }
  });
});

describe('acceptPattern', () => {
  it('matches within its time budget, and reports a catastrophic pattern as a timeout', () => {
    expect(matchesWithin('"accepted":\\s*true', '{"accepted": true}')).toBe(true);
    expect(matchesWithin('^ok$', 'no')).toBe(false);
    expect(matchesWithin('^(a+)+$', `${'a'.repeat(40)}!`)).toBe('timeout');
  });

  it('retries a match that ran out of time (the budget is wall-clock), failing at maxAttempts', () => {
    const slow = { ...context, acceptPattern: '^(a+)+$' };
    const body = `${'a'.repeat(40)}!`;
    const first = classify(response(200, body), slow);
    expect(first.outcome).toBe('retry');
    expect(first.error).toMatch(/acceptPattern did not finish within 50 ms/);
    expect(first.retryInMs).toBeGreaterThanOrEqual(0);
    const last = classify(response(200, body), { ...slow, attemptsSinceRequeue: 8 });
    expect(last.outcome).toBe('failed');
    expect(last.error).toMatch(/did not finish .* \(gave up after 8 attempts\)/);
  });
});
