import type { Delivery, ProviderView } from '../../../../src/contracts/index.js';
import { formatDateTime } from '../../format.js';

/**
 * When a pending delivery goes next. While its provider's delivery is paused, its due time
 * passes unsent (only the minute's probe is sent), so the time alone read like a stuck queue.
 */
export function nextAttemptText(
  delivery: Delivery,
  provider: ProviderView | undefined,
  /** Put before the time (not before the paused text), e.g. "next attempt ". */
  label = '',
): string | null {
  if (!delivery.nextAttemptAt) return null;
  if (provider?.deliveryState === 'paused') return 'waiting: delivery paused, a probe each minute';
  return `${label}${formatDateTime(delivery.nextAttemptAt)}`;
}
