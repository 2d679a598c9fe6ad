import type { ComponentType } from 'react';
import type { ProviderView } from '../../../../src/contracts/index.js';
import { DeliveryEditor } from './DeliveryEditor.js';

const DELIVERY_SUMMARY = { none: 'no endpoint', ok: 'delivering', paused: 'paused' } as const;

export interface ProviderEditor {
  /** Stable key, also the test id suffix. */
  key: string;
  /** The fold-out's title for a provider, and a one-line summary of its current state. */
  title(provider: ProviderView): string;
  summary(provider: ProviderView): string;
  /**
   * Not re-mounted when the provider changes: a remount after the editor's own save wiped its
   * "Saved" and the test lead's answer. An editor sets its form from what its save returned.
   */
  Editor: ComponentType<{ provider: ProviderView }>;
}

/**
 * The editors each provider row folds out, in order. A new per-provider editor (routing
 * rules, caps, schedule) is one more entry here; the row needs no change.
 */
export const PROVIDER_EDITORS: ProviderEditor[] = [
  {
    key: 'delivery',
    title: (provider) => `Delivery endpoint of ${provider.name}`,
    summary: (provider) =>
      `${DELIVERY_SUMMARY[provider.deliveryState]}${provider.delivery ? ` · ${provider.delivery.url}` : ''}`,
    Editor: DeliveryEditor,
  },
];
