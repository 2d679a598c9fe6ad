import { useId } from 'react';
import { useRawRequests } from '../../api/rawRequests.js';
import type { RawStatus } from '../../../../src/contracts/index.js';
import { StatusBadge } from '../../components/Badges.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import {
  FIRST_PAGE,
  Pager,
  readPageTrail,
  writePageTrail,
  type PageTrail,
} from '../../components/Pager.js';
import { formatDateTime, shortId } from '../../format.js';
import { Link, navigate, useLocation } from '../../router/router.js';

const PAGE_SIZE = 25;
const STATUSES: RawStatus[] = ['accepted', 'duplicate', 'rejected', 'failed', 'reprocessed'];

interface ListState extends PageTrail {
  status: RawStatus | '';
}

function readState(search: URLSearchParams): ListState {
  const status = search.get('status') ?? '';
  return {
    status: (STATUSES as string[]).includes(status) ? (status as RawStatus) : '',
    ...readPageTrail(search),
  };
}

function urlOf(state: ListState): string {
  const search = new URLSearchParams();
  if (state.status) search.set('status', state.status);
  writePageTrail(search, state);
  const text = search.toString();
  return text ? `/raw-requests?${text}` : '/raw-requests';
}

/** Every request as it was stored, malformed and refused ones too, with the reason (SPEC §11). */
export function RawRequestsPage() {
  const { search } = useLocation();
  const state = readState(search);
  const statusId = useId();
  const requests = useRawRequests({
    status: state.status || undefined,
    cursor: state.cursor ? Number(state.cursor) : undefined,
    limit: PAGE_SIZE,
  });
  const page = requests.data;
  const loading = requests.isPending || requests.isPlaceholderData;

  return (
    <>
      <PageHeader title="Raw requests">
        Every request to the ingest endpoints, newest first, exactly as stored, with why it was
        refused or failed.
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-3 shadow-sm">
        <div className="flex flex-col gap-1">
          <label htmlFor={statusId} className="text-xs font-medium text-slate-700">
            Status
          </label>
          <select
            id={statusId}
            value={state.status}
            onChange={(event) =>
              navigate(urlOf({ status: event.target.value as RawStatus | '', ...FIRST_PAGE }))
            }
            className="rounded-lg border border-slate-300 bg-white px-2.5 py-2 text-sm"
          >
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
      </div>

      {requests.isError && (
        <LoadError error={requests.error} onRetry={() => void requests.refetch()} />
      )}
      <div
        className={`overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm transition-opacity ${loading ? 'opacity-60' : ''}`}
        aria-busy={loading}
      >
        <table className="w-full text-left text-sm" data-testid="raw-requests-table">
          <caption className="sr-only">Stored requests, newest first</caption>
          <thead className="bg-slate-50 text-xs text-slate-600 uppercase">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">
                #
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">
                Received
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Status
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Reason
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">
                Lead
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {page?.items.map((request) => (
              <tr key={request.id} className="hover:bg-slate-50">
                <td className="px-3 py-2 align-top font-mono text-slate-700">
                  {request.id}
                  <div className="font-sans text-xs text-slate-600">
                    /api/{request.endpoint} · {request.bodyBytes} B
                  </div>
                </td>
                <td className="hidden px-3 py-2 align-top text-slate-700 tabular-nums md:table-cell">
                  {formatDateTime(request.receivedAt)}
                </td>
                <td className="px-3 py-2 align-top">
                  <StatusBadge status={request.status} />
                </td>
                <td className="max-w-0 px-3 py-2 align-top">
                  <div className="truncate text-slate-800" title={request.error ?? undefined}>
                    {request.error ?? '—'}
                  </div>
                </td>
                <td className="hidden px-3 py-2 align-top sm:table-cell">
                  {request.leadId ? (
                    <Link
                      to={`/leads/${request.leadId}`}
                      className="font-mono text-blue-800 underline-offset-2 hover:underline"
                      aria-label={`Lead ${shortId(request.leadId)} (${request.leadId})`}
                    >
                      {shortId(request.leadId)}
                    </Link>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {requests.isPending && <p className="p-4 text-sm text-slate-600">Loading…</p>}
        {page && page.items.length === 0 && (
          <p className="p-4 text-sm text-slate-600">No stored requests match.</p>
        )}
      </div>
      <Pager
        at={state}
        nextCursor={page?.nextCursor}
        onMove={(to) => navigate(urlOf({ ...state, ...to }))}
        pageNumberTestId="raw-requests-page-number"
      />
    </>
  );
}
