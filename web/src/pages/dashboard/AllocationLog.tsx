import type { Service } from '../../../../src/contracts/index.js';
import { ProviderTag } from '../../components/Badges.js';
import { formatDateTime, plainCode, shortId } from '../../format.js';
import { Link } from '../../router/router.js';
import type { LogEntry } from './dashboardState.js';

export interface AllocationLogProps {
  entries: LogEntry[];
  services: Service[];
}

export function AllocationLog({ entries, services }: AllocationLogProps) {
  const serviceNames = new Map(services.map((service) => [service.id, service.name]));
  if (entries.length === 0) {
    return <p className="text-sm text-slate-600">No allocations yet.</p>;
  }
  return (
    <div role="log" aria-label="Allocation log, newest first" className="overflow-hidden">
      <ol className="divide-y divide-slate-100" data-testid="allocation-log">
        {entries.map((entry) => (
          <li
            key={entry.leadId}
            data-lead-id={entry.leadId}
            className={`grid grid-cols-[auto_1fr] items-center gap-x-3 gap-y-1 py-2 text-sm sm:grid-cols-[5.5rem_6rem_6rem_1fr] ${entry.live ? 'animate-slide-in' : ''}`}
          >
            <time dateTime={entry.at} className="text-slate-600 tabular-nums">
              {formatDateTime(entry.at)}
            </time>
            <Link
              to={`/leads/${entry.leadId}`}
              className="font-mono text-blue-800 underline-offset-2 hover:underline"
              aria-label={`Lead ${shortId(entry.leadId)} (${entry.leadId})`}
            >
              {shortId(entry.leadId)}
            </Link>
            <span className="text-slate-800">
              {entry.serviceId === null
                ? '—'
                : (serviceNames.get(entry.serviceId) ?? `#${entry.serviceId}`)}
            </span>
            <span className="flex flex-wrap gap-1">
              {entry.outcome === 'allocated' ? (
                entry.providers.map((provider) => (
                  <ProviderTag key={provider.id} name={provider.name} role={provider.role} />
                ))
              ) : (
                <span
                  title="insufficient_quota: fewer providers with quota left than the service needs"
                  className="rounded-md bg-red-100 px-1.5 py-0.5 text-xs font-semibold text-red-900"
                >
                  {plainCode('insufficient_quota')}
                </span>
              )}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
