import { useId } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useProvidersReport, useVolumeReport } from '../../api/reports.js';
import type { ReportInterval } from '../../../../src/contracts/index.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Panel } from '../../components/Panel.js';
import { navigate, useLocation } from '../../router/router.js';

const INTERVALS: { value: ReportInterval; label: string }[] = [
  { value: 'hour', label: 'Last 48 hours, by hour' },
  { value: 'day', label: 'Last 7 days, by day' },
];

/** Bucket labels in the browser's own time zone, formatted by Intl (no arithmetic here). */
function bucketLabel(iso: string, interval: ReportInterval): string {
  const date = new Date(iso);
  return interval === 'hour'
    ? date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

// Tailwind's palette, dark enough for 3:1 against white (WCAG non-text contrast).
const SERIES = [
  { key: 'allocated', name: 'Allocated', color: '#1d4ed8' },
  { key: 'unallocated', name: 'Unallocated', color: '#b45309' },
  { key: 'duplicates', name: 'Duplicates', color: '#64748b' },
  { key: 'delivered', name: 'Delivered', color: '#15803d' },
  { key: 'failed', name: 'Failed deliveries', color: '#b91c1c' },
] as const;

export function ReportsPage() {
  const { search } = useLocation();
  const interval: ReportInterval = search.get('interval') === 'hour' ? 'hour' : 'day';
  const intervalId = useId();
  const volume = useVolumeReport({ interval });
  const providers = useProvidersReport({});
  const buckets = (volume.data ?? []).map((bucket) => ({
    ...bucket,
    label: bucketLabel(bucket.bucket, interval),
  }));
  const total = buckets.reduce((sum, bucket) => sum + bucket.leads, 0);

  return (
    <>
      <PageHeader title="Reports">
        Lead volume over time and what each provider got today. Buckets are UTC hours or days,
        labelled in your time zone.
      </PageHeader>
      <Panel
        title="Volume"
        aside={
          <div className="flex items-center gap-2">
            <label htmlFor={intervalId} className="text-xs font-medium text-slate-700">
              Range
            </label>
            <select
              id={intervalId}
              value={interval}
              onChange={(event) => navigate(`/reports?interval=${event.target.value}`)}
              className="rounded-lg border border-slate-300 bg-white px-2.5 py-1.5 text-sm"
            >
              {INTERVALS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
        }
      >
        {volume.isError && <LoadError error={volume.error} onRetry={() => void volume.refetch()} />}
        {volume.isPending && <p className="text-sm text-slate-600">Loading…</p>}
        {volume.data && total === 0 && (
          <p className="text-sm text-slate-600">No leads in this range yet.</p>
        )}
        {volume.data && total > 0 && (
          <figure data-testid="volume-chart">
            <figcaption className="sr-only">
              {total} leads in the range; the table below gives the numbers per provider.
            </figcaption>
            <div className="h-72 w-full">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={buckets} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                  <XAxis dataKey="label" tick={{ fontSize: 12, fill: '#334155' }} minTickGap={12} />
                  <YAxis
                    allowDecimals={false}
                    tick={{ fontSize: 12, fill: '#334155' }}
                    width={40}
                  />
                  <Tooltip />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  {SERIES.map((series) => (
                    <Bar
                      key={series.key}
                      dataKey={series.key}
                      name={series.name}
                      fill={series.color}
                      stackId={series.key === 'delivered' || series.key === 'failed' ? 'd' : 'l'}
                      isAnimationActive={false}
                    />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
        )}
      </Panel>

      <Panel title="Providers today" className="mt-4">
        {providers.isError && (
          <LoadError error={providers.error} onRetry={() => void providers.refetch()} />
        )}
        {providers.isPending && <p className="text-sm text-slate-600">Loading…</p>}
        {providers.data && providers.data.length === 0 && (
          <p className="text-sm text-slate-600">No providers yet.</p>
        )}
        {providers.data && providers.data.length > 0 && (
          // Focusable so a keyboard can scroll it sideways on a phone (axe: scrollable-region-focusable).
          <div
            className="overflow-x-auto"
            tabIndex={0}
            role="region"
            aria-label="Providers today, scrolls sideways"
          >
            <table className="w-full text-left text-sm" data-testid="providers-report">
              <caption className="sr-only">Allocations and deliveries per provider today</caption>
              {/* Narrow cells and plain-case headings on a phone: the six columns fit 390 px
                  instead of hiding three of them behind a sideways scroll. */}
              <thead className="bg-slate-50 text-xs text-slate-600 sm:uppercase">
                <tr>
                  {['Provider', 'Allocated', 'Delivered', 'Rejected', 'Failed', 'Pending'].map(
                    (title) => (
                      <th key={title} scope="col" className="px-1 py-2 font-medium sm:px-3">
                        {title}
                      </th>
                    ),
                  )}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 tabular-nums">
                {providers.data.map((row) => (
                  <tr key={row.providerId}>
                    <th scope="row" className="px-1 py-2 font-medium text-slate-900 sm:px-3">
                      {row.name}
                    </th>
                    <td className="px-1 py-2 sm:px-3">{row.allocated}</td>
                    <td className="px-1 py-2 sm:px-3">{row.delivered}</td>
                    <td className="px-1 py-2 sm:px-3">{row.rejected}</td>
                    <td className="px-1 py-2 sm:px-3">{row.failed}</td>
                    <td className="px-1 py-2 sm:px-3">{row.pending}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}
