import type { Stats } from '../../../../src/contracts/index.js';
import { Link } from '../../router/router.js';

interface Counter {
  label: string;
  value: number | undefined;
  hint?: string;
  /** Where the rows behind the number are listed. */
  to?: string;
}

function countersOf(stats: Stats | undefined): Counter[] {
  // A status nobody has reached yet is missing from the counts, which means zero.
  const count = (value: number | undefined): number | undefined =>
    stats === undefined ? undefined : (value ?? 0);
  return [
    { label: 'Leads today', value: count(stats?.leadsToday) },
    { label: 'Allocated', value: count(stats?.leads.allocated) },
    { label: 'Unallocated', value: count(stats?.leads.unallocated) },
    { label: 'Duplicates', value: count(stats?.raw.duplicate) },
    {
      // Plain words for `leads_raw.status = 'failed'`: stored, but not turned into a lead.
      label: 'Requests not processed',
      value: count(stats?.raw.failed),
      hint: stats ? `${stats.raw.rejected ?? 0} refused as invalid` : undefined,
      to: '/raw-requests?status=failed',
    },
  ];
}

export function Counters({ stats }: { stats: Stats | undefined }) {
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
      {countersOf(stats).map((counter) => (
        <div
          key={counter.label}
          data-testid={`counter-${counter.label.toLowerCase().replaceAll(' ', '-')}`}
          className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm"
        >
          <dt className="text-xs font-medium tracking-wide text-slate-600 uppercase">
            {counter.label}
          </dt>
          <dd className="mt-1 text-2xl font-semibold text-slate-900 tabular-nums">
            {counter.value ?? '–'}
          </dd>
          {counter.hint && <dd className="text-xs text-slate-600">{counter.hint}</dd>}
          {counter.to && (
            <dd className="text-xs">
              <Link to={counter.to} className="text-blue-800 underline underline-offset-2">
                See the requests
              </Link>
            </dd>
          )}
        </div>
      ))}
    </dl>
  );
}
