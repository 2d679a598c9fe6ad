import { useId, useState, type FormEvent } from 'react';
import { useLeads } from '../../api/leads.js';
import { useServices } from '../../api/services.js';
import type { LeadStatus } from '../../../../src/contracts/index.js';
import { StatusBadge } from '../../components/Badges.js';
import { Button } from '../../components/Button.js';
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
const STATUSES: LeadStatus[] = ['new', 'allocated', 'unallocated'];

interface ListState extends PageTrail {
  q: string;
  status: LeadStatus | '';
}

function readState(search: URLSearchParams): ListState {
  const status = search.get('status') ?? '';
  return {
    q: search.get('q') ?? '',
    status: (STATUSES as string[]).includes(status) ? (status as LeadStatus) : '',
    ...readPageTrail(search),
  };
}

function urlOf(state: ListState): string {
  const search = new URLSearchParams();
  if (state.q) search.set('q', state.q);
  if (state.status) search.set('status', state.status);
  writePageTrail(search, state);
  const text = search.toString();
  return text ? `/leads?${text}` : '/leads';
}

export function LeadsPage() {
  const { search } = useLocation();
  const state = readState(search);
  const [query, setQuery] = useState(state.q);
  const [status, setStatus] = useState(state.status);
  const searchId = useId();
  const statusId = useId();

  // Back/forward changes the URL under the form; keep the inputs in step with it.
  const [shown, setShown] = useState({ q: state.q, status: state.status });
  if (shown.q !== state.q || shown.status !== state.status) {
    setShown({ q: state.q, status: state.status });
    setQuery(state.q);
    setStatus(state.status);
  }

  const services = useServices();
  const serviceNames = new Map((services.data ?? []).map((service) => [service.id, service.name]));
  const leads = useLeads({
    q: state.q || undefined,
    status: state.status || undefined,
    cursor: state.cursor || undefined,
    limit: PAGE_SIZE,
  });
  const page = leads.data;
  const loading = leads.isPending || leads.isPlaceholderData;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    navigate(urlOf({ q: query.trim(), status, ...FIRST_PAGE }));
  };

  return (
    <>
      <PageHeader title="Leads">
        Newest first. Search matches email, phone, name or lead id.
      </PageHeader>
      <form
        onSubmit={submit}
        role="search"
        className="mb-4 flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-3 shadow-sm"
      >
        <div className="flex min-w-48 flex-1 flex-col gap-1">
          <label htmlFor={searchId} className="text-xs font-medium text-slate-700">
            Search
          </label>
          <input
            id={searchId}
            type="search"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            placeholder="email, phone, name, id"
            className="rounded-lg border border-slate-300 px-3 py-2 text-sm"
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={statusId} className="text-xs font-medium text-slate-700">
            Status
          </label>
          <select
            id={statusId}
            value={status}
            onChange={(event) => setStatus(event.target.value as LeadStatus | '')}
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
        <Button type="submit">Search</Button>
      </form>

      {leads.isError && <LoadError error={leads.error} onRetry={() => void leads.refetch()} />}
      <div
        className={`overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm transition-opacity ${loading ? 'opacity-60' : ''}`}
        aria-busy={loading}
      >
        <table className="w-full text-left text-sm" data-testid="leads-table">
          <caption className="sr-only">Leads, newest first</caption>
          <thead className="bg-slate-50 text-xs text-slate-600 uppercase">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">
                Lead
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">
                Received
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Contact
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">
                Service
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Status
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {page?.items.map((lead) => {
              const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
              return (
                <tr key={lead.id} className="hover:bg-slate-50">
                  <td className="px-3 py-2 align-top">
                    <Link
                      to={`/leads/${lead.id}`}
                      className="font-mono text-blue-800 underline-offset-2 hover:underline"
                      aria-label={`Lead ${shortId(lead.id)} (${lead.id})`}
                    >
                      {shortId(lead.id)}
                    </Link>
                  </td>
                  <td className="hidden px-3 py-2 align-top text-slate-700 tabular-nums md:table-cell">
                    {formatDateTime(lead.createdAt)}
                  </td>
                  <td className="max-w-0 px-3 py-2 align-top">
                    {/* Cut on wide screens with the whole value on hover; wrapped on phones. */}
                    <div
                      className="font-medium break-all text-slate-900 sm:truncate"
                      title={name || undefined}
                    >
                      {name || '—'}
                    </div>
                    <div
                      className="break-all text-slate-600 sm:truncate"
                      title={[lead.email, lead.phone].filter(Boolean).join(' · ') || undefined}
                    >
                      {[lead.email, lead.phone].filter(Boolean).join(' · ') || '—'}
                    </div>
                  </td>
                  <td className="hidden px-3 py-2 align-top text-slate-700 sm:table-cell">
                    {lead.serviceId === null
                      ? '—'
                      : (serviceNames.get(lead.serviceId) ?? `#${lead.serviceId}`)}
                  </td>
                  <td className="px-3 py-2 align-top">
                    <StatusBadge status={lead.status} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {page && page.items.length === 0 && (
          <p className="p-4 text-sm text-slate-600">No leads match.</p>
        )}
      </div>
      <Pager
        at={state}
        nextCursor={page?.nextCursor}
        onMove={(to) => navigate(urlOf({ ...state, ...to }))}
        pageNumberTestId="leads-page-number"
      />
    </>
  );
}
