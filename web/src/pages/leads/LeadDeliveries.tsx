import { useProviders } from '../../api/providers.js';
import type { Delivery } from '../../../../src/contracts/index.js';
import { StatusBadge } from '../../components/Badges.js';
import { formatDateTime } from '../../format.js';
import { AttemptLog } from '../deliveries/AttemptLog.js';
import { RetryButton } from '../deliveries/RetryButton.js';
import { nextAttemptText } from '../deliveries/nextAttempt.js';

/**
 * Each delivery of a lead: to whom, how it stands, and every attempt with the buyer's answer.
 * `allocated`: whether the lead went to any provider; without one, an empty list is not about
 * endpoints at all.
 */
export function LeadDeliveries({
  deliveries,
  allocated,
}: {
  deliveries: Delivery[];
  allocated: boolean;
}) {
  const providers = useProviders();
  const providerOf = (id: number) => providers.data?.find((provider) => provider.id === id);
  const name = (id: number): string => providerOf(id)?.name ?? `Provider #${id}`;
  if (deliveries.length === 0) {
    return (
      <p className="text-sm text-slate-600">
        {allocated
          ? "No deliveries: none of this lead's providers has a delivery endpoint."
          : 'Not allocated: no deliveries.'}
      </p>
    );
  }
  return (
    <ul className="space-y-5" data-testid="lead-deliveries">
      {deliveries.map((delivery) => (
        <li
          key={delivery.id}
          data-testid={`delivery-${delivery.id}`}
          className="border-t border-slate-100 pt-3 first:border-t-0 first:pt-0"
        >
          <div className="mb-2 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
            <span className="font-semibold text-slate-900">{name(delivery.providerId)}</span>
            <span data-testid="delivery-status">
              <StatusBadge status={delivery.status} />
            </span>
            <span className="text-slate-700">
              {delivery.attempts} {delivery.attempts === 1 ? 'attempt' : 'attempts'}
            </span>
            {delivery.nextAttemptAt && (
              <span className="text-slate-600">
                {nextAttemptText(delivery, providerOf(delivery.providerId), 'next attempt ')}
              </span>
            )}
            {delivery.deliveredAt && (
              <span className="text-slate-600">
                delivered {formatDateTime(delivery.deliveredAt)}
              </span>
            )}
            <RetryButton
              delivery={delivery}
              label={`Retry the delivery to ${name(delivery.providerId)}`}
            />
          </div>
          <AttemptLog deliveryId={delivery.id} />
        </li>
      ))}
    </ul>
  );
}
