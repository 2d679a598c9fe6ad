import type { Provider, Service } from '../../../../src/contracts/index.js';
import { ProgressBar } from '../../components/ProgressBar.js';

export interface ProviderCardsProps {
  providers: Provider[];
  services: Service[];
}

export function ProviderCards({ providers, services }: ProviderCardsProps) {
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
              {!provider.active && (
                <span className="rounded bg-slate-200 px-1.5 text-xs font-medium text-slate-700">
                  inactive
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
            <p className="mt-2 truncate text-xs text-slate-600">
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
