import type { Stats } from '../../../../src/contracts/index.js';

interface Counter {
  label: string;
  value: number | undefined;
  hint?: string;
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
      label: 'Raw rows failed',
      value: count(stats?.raw.failed),
      hint: stats ? `${stats.raw.rejected ?? 0} refused (400/415)` : undefined,
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
        </div>
      ))}
    </dl>
  );
}
