import type { Provider, Service } from '../../../../src/contracts/index.js';

export interface ServiceCardsProps {
  services: Service[];
  providers: Provider[];
}

function ProviderChip({
  id,
  provider,
  next = false,
  kind,
}: {
  id: number;
  /** Undefined for an archived member: the live list no longer has it. */
  provider: Provider | undefined;
  next?: boolean;
  kind: 'static' | 'pool';
}) {
  // Two reasons a provider is skipped, told apart: switched off (or archived, gone from the
  // list) versus out of quota until the next reset.
  const state =
    !provider || !provider.active ? 'inactive' : provider.remainingQuota === 0 ? 'exhausted' : 'ok';
  const border = kind === 'static' ? 'border-indigo-700' : 'border-teal-700';
  // Grey and dashed rather than faded: opacity took the text below 4.5:1.
  const look =
    state === 'inactive'
      ? `${border} border-dashed bg-slate-100 text-slate-600 line-through decoration-slate-500`
      : state === 'exhausted'
        ? `${border} border-dashed bg-amber-50 text-amber-900`
        : kind === 'static'
          ? `${border} bg-indigo-50 text-indigo-900`
          : `${border} bg-teal-50 text-teal-900`;
  return (
    <li
      data-provider={provider?.name}
      data-state={state}
      aria-current={next ? 'true' : undefined}
      title={next ? 'Round-robin pointer: the pool walk starts here for the next lead' : undefined}
      className={`relative inline-flex items-center gap-1 rounded-md border px-2 py-1 text-sm font-medium transition-shadow duration-300 ${look} ${next ? 'ring-2 ring-amber-500 ring-offset-2' : ''}`}
    >
      {next && (
        <span aria-hidden="true" className="text-amber-600">
          ▶
        </span>
      )}
      {provider?.name ?? `#${id}`}
      <span className="text-xs font-normal tabular-nums">{provider?.remainingQuota ?? 0}</span>
      {state !== 'ok' && (
        <span className="text-xs font-normal no-underline" data-testid="chip-state">
          {!provider ? 'archived' : state === 'inactive' ? 'off' : 'no quota'}
        </span>
      )}
      {next && <span className="sr-only">(next in round robin)</span>}
    </li>
  );
}

export function ServiceCards({ services, providers }: ServiceCardsProps) {
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  return (
    <ul className="space-y-3">
      {services.map((service) => {
        const nextProvider = byId.get(service.pool[service.pointer] ?? -1);
        return (
          <li
            key={service.id}
            data-testid={`service-${service.id}`}
            className="rounded-lg border border-slate-200 p-3"
          >
            <div className="flex flex-wrap items-baseline justify-between gap-2">
              <h3 className="font-semibold text-slate-900">
                {service.name} <span className="font-normal text-slate-600">{service.slug}</span>
              </h3>
              <span
                className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-800"
                data-testid={`service-${service.id}-per-lead`}
              >
                {service.providersPerLead} providers per lead
              </span>
            </div>
            <div className="mt-2 grid gap-2 sm:grid-cols-[4rem_1fr] sm:items-center">
              <span className="text-xs font-medium text-slate-600 uppercase">Static</span>
              {service.static.length > 0 ? (
                <ol className="flex flex-wrap gap-1.5" aria-label={`${service.name} static`}>
                  {service.static.map((id) => (
                    <ProviderChip key={id} id={id} provider={byId.get(id)} kind="static" />
                  ))}
                </ol>
              ) : (
                <span className="text-sm text-slate-600">none</span>
              )}
              <span className="text-xs font-medium text-slate-600 uppercase">Pool</span>
              {service.pool.length > 0 ? (
                <ol
                  className="flex flex-wrap gap-2"
                  aria-label={`${service.name} pool, round-robin order`}
                  data-testid={`service-${service.id}-pool`}
                >
                  {service.pool.map((id, index) => (
                    <ProviderChip
                      key={id}
                      id={id}
                      provider={byId.get(id)}
                      kind="pool"
                      next={index === service.pointer}
                    />
                  ))}
                </ol>
              ) : (
                <span className="text-sm text-slate-600">empty</span>
              )}
            </div>
            <p
              className="mt-2 text-xs text-slate-600"
              data-testid={`service-${service.id}-pointer`}
            >
              Pointer {service.pointer}
              {nextProvider ? ` → next pool walk starts at ${nextProvider.name}` : ''}
            </p>
            <p className="text-xs text-slate-600" data-testid={`service-${service.id}-backlog`}>
              Backlog {service.backlog} waiting
            </p>
          </li>
        );
      })}
    </ul>
  );
}
