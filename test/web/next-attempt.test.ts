import { describe, expect, it } from 'vitest';
import type { Delivery, ProviderView } from '../../src/contracts/index.js';
import { nextAttemptText } from '../../web/src/pages/deliveries/nextAttempt.js';
import { formatDateTime } from '../../web/src/format.js';

const pending: Delivery = {
  id: '0190a7a0-0000-7000-8000-000000000001',
  leadId: '0190a7a0-0000-7000-8000-000000000002',
  providerId: 3,
  status: 'pending',
  attempts: 10,
  lastStatusCode: null,
  lastError: 'connection error: ECONNREFUSED',
  nextAttemptAt: '2026-12-01T14:13:18.000Z',
  deliveredAt: null,
  createdAt: '2026-12-01T14:00:00.000Z',
};

const provider = (deliveryState: ProviderView['deliveryState']): ProviderView =>
  ({ id: 3, name: 'P3', deliveryState }) as ProviderView;

describe('a pending delivery says when it goes next', () => {
  it('at its due time while its provider delivers', () => {
    expect(nextAttemptText(pending, provider('ok'))).toBe(formatDateTime(pending.nextAttemptAt!));
    expect(nextAttemptText(pending, undefined)).toBe(formatDateTime(pending.nextAttemptAt!));
    expect(nextAttemptText(pending, provider('ok'), 'next attempt ')).toBe(
      `next attempt ${formatDateTime(pending.nextAttemptAt!)}`,
    );
  });

  it('that it waits for the probe while its provider is paused (its due time passes unsent)', () => {
    expect(nextAttemptText(pending, provider('paused'))).toBe(
      'waiting: delivery paused, a probe each minute',
    );
    expect(nextAttemptText(pending, provider('paused'), 'next attempt ')).toBe(
      'waiting: delivery paused, a probe each minute',
    );
  });

  it('nothing once it is final', () => {
    expect(
      nextAttemptText({ ...pending, status: 'failed', nextAttemptAt: null }, provider('paused')),
    ).toBeNull();
  });
});
