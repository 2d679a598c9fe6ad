import type {
  DeliveryState,
  DeliveryStats,
  ProviderView,
  Service,
} from '../../../../src/contracts/index.js';
import { ProgressBar } from '../../components/ProgressBar.js';

export interface ProviderCardsProps {
  providers: ProviderView[];
  services: Service[];
  deliveryStats: DeliveryStats | undefined;
}

const DELIVERY_LOOK: Record<DeliveryState, { text: string; look: string }> = {
  none: { text: 'no endpoint', look: 'bg-slate-100 text-slate-700' },
  ok: { text: 'delivering', look: 'bg-emerald-100 text-emerald-900' },
  paused: { text: 'paused', look: 'bg-red-100 text-red-900' },
};

function DeliveryLine({
  provider,
  stats,
}: {
  provider: ProviderView;
  stats: DeliveryStats | undefined;
}) {
  const state = DELIVERY_LOOK[provider.deliveryState];
  const mine = stats?.providers.find((entry) => entry.providerId === provider.id);
  let rate = '';
  if (stats && provider.deliveryState !== 'none') {
    rate = mine
      ? // Attempts, not leads: "75% of 12" over leads that were all delivered in the end
        // (retries of a buyer's 503s) read as three leads lost.
        `${Math.round(mine.rate * 100)}% of ${mine.attempts} ${mine.attempts === 1 ? 'attempt' : 'attempts'} in ${stats.windowMinutes} min`
      : `no sends in ${stats.windowMinutes} min`;
  }
  return (
    <p
      className="mt-2 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs"
      data-testid={`provider-${provider.id}-delivery`}
    >
      <span className={`rounded px-1.5 font-medium ${state.look}`}>
        <span className="sr-only">Delivery: </span>
        {state.text}
      </span>
      {rate && <span className="text-slate-700 tabular-nums">{rate}</span>}
    </p>
  );
}

export function ProviderCards({ providers, services, deliveryStats }: ProviderCardsProps) {
  return (
    <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4 xl:grid-cols-8">
      {providers.map((provider) => {
        const memberOf = services.filter(
          (service) => service.static.includes(provider.id) || service.pool.includes(provider.id),
        );
        return (
          <li
            key={provider.id}
            data-testid={`provider-${provider.id}`}
            className={`rounded-xl border bg-white p-3 shadow-sm ${provider.active ? 'border-slate-200' : 'border-dashed border-slate-300 bg-slate-50'}`}
          >
            <div className="flex items-baseline justify-between gap-2">
              <h3 className="font-semibold text-slate-900">{provider.name}</h3>
              {!provider.active ? (
                <span className="rounded bg-slate-200 px-1.5 text-xs font-medium text-slate-700">
                  inactive
                </span>
              ) : (
                provider.remainingQuota === 0 && (
                  <span className="rounded bg-amber-100 px-1.5 text-xs font-medium text-amber-900">
                    out of quota
                  </span>
                )
              )}
              {provider.capped && (
                <span
                  className="rounded bg-amber-100 px-1.5 text-xs font-medium text-amber-900"
                  data-testid={`provider-${provider.id}-capped`}
                >
                  capped
                </span>
              )}
              {!provider.openNow && (
                <span
                  className="rounded bg-slate-200 px-1.5 text-xs font-medium text-slate-800"
                  data-testid={`provider-${provider.id}-closed`}
                >
                  closed now
                </span>
              )}
            </div>
            <p
              className="mt-1 mb-2 text-sm text-slate-700 tabular-nums"
              data-testid={`provider-${provider.id}-quota`}
            >
              <span className="text-lg font-semibold text-slate-900">
                {provider.remainingQuota}
              </span>{' '}
              / {provider.quota}
            </p>
            <ProgressBar
              value={provider.remainingQuota}
              max={provider.quota}
              label={`${provider.name} remaining quota`}
              muted={!provider.active}
            />
            <DeliveryLine provider={provider} stats={deliveryStats} />
            {/* Wrapped, never cut: "Service 1, Service …" hid which services a provider serves. */}
            <p className="mt-2 text-xs break-words text-slate-600">
              {memberOf.length > 0
                ? memberOf.map((service) => service.name).join(', ')
                : 'in no service'}
            </p>
          </li>
        );
      })}
    </ul>
  );
}
