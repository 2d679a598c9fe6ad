import { useId, useState, type FormEvent } from 'react';
import { leadsExportUrl, useLeads } from '../../api/leads.js';
import { useProviders } from '../../api/providers.js';
import { useServices } from '../../api/services.js';
import { leadStatus, type LeadStatus } from '../../../../src/contracts/index.js';
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
const STATUSES: readonly LeadStatus[] = leadStatus.options;

/** The filters of SPEC §11 as the address keeps them (text; times as ISO instants). */
interface Filters {
  q: string;
  status: LeadStatus | '';
  serviceId: string;
  providerId: string;
  country: string;
  from: string;
  to: string;
}

type ListState = Filters & PageTrail;

const ID = /^[1-9][0-9]{0,9}$/;
const instantOrEmpty = (value: string | null): string =>
  value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : '';

function readState(search: URLSearchParams): ListState {
  const status = search.get('status') ?? '';
  const id = (name: string): string => {
    const value = search.get(name) ?? '';
    return ID.test(value) ? value : '';
  };
  return {
    q: search.get('q') ?? '',
    status: (STATUSES as string[]).includes(status) ? (status as LeadStatus) : '',
    serviceId: id('serviceId'),
    providerId: id('providerId'),
    country: search.get('country') ?? '',
    from: instantOrEmpty(search.get('from')),
    to: instantOrEmpty(search.get('to')),
    ...readPageTrail(search),
  };
}

const FILTER_NAMES = ['q', 'status', 'serviceId', 'providerId', 'country', 'from', 'to'] as const;
const KNOWN_NAMES = new Set<string>([...FILTER_NAMES, 'cursor', 'trail']);

/**
 * What the address asked for that the list does not apply, in words: a pasted or edited link
 * must not look filtered when it is not (the API would refuse it with invalid_query).
 */
function ignoredParts(search: URLSearchParams, state: ListState): string[] {
  const ignored: string[] = [];
  for (const [name, value] of search) {
    if (!KNOWN_NAMES.has(name)) ignored.push(`"${name}" is not a filter`);
    else if (value !== '' && (FILTER_NAMES as readonly string[]).includes(name)) {
      if (state[name as (typeof FILTER_NAMES)[number]] === '') {
        ignored.push(
          `"${name}" must be ${name === 'from' || name === 'to' ? 'a date and time' : name === 'status' ? `one of ${STATUSES.join(', ')}` : 'a number'}, not "${value}"`,
        );
      }
    }
  }
  return ignored;
}

function urlOf(state: ListState): string {
  const search = new URLSearchParams();
  for (const name of FILTER_NAMES) if (state[name]) search.set(name, state[name]);
  writePageTrail(search, state);
  const text = search.toString();
  return text ? `/leads?${text}` : '/leads';
}

/** The API's filter for the address's: empty fields left out. */
function apiFilter(filters: Filters) {
  return {
    q: filters.q || undefined,
    status: filters.status || undefined,
    serviceId: filters.serviceId ? Number(filters.serviceId) : undefined,
    providerId: filters.providerId ? Number(filters.providerId) : undefined,
    country: filters.country || undefined,
    from: filters.from || undefined,
    to: filters.to || undefined,
  };
}

/**
 * `<input type="datetime-local">` speaks the browser's wall time; the browser's Date turns it
 * into an instant and back (no time zone arithmetic here).
 */
function toLocalInput(iso: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value: string): string {
  return value ? new Date(value).toISOString() : '';
}

const INPUT = 'rounded-lg border border-slate-300 bg-white px-2.5 py-2 text-sm';
const LABEL = 'text-xs font-medium text-slate-700';

export function LeadsPage() {
  const { search } = useLocation();
  const state = readState(search);
  const ignored = ignoredParts(search, state);
  const filters: Filters = {
    q: state.q,
    status: state.status,
    serviceId: state.serviceId,
    providerId: state.providerId,
    country: state.country,
    from: state.from,
    to: state.to,
  };
  const [form, setForm] = useState(filters);
  const ids = {
    search: useId(),
    status: useId(),
    service: useId(),
    provider: useId(),
    country: useId(),
    from: useId(),
    to: useId(),
  };

  // Back/forward changes the URL under the form; keep the inputs in step with it.
  const key = urlOf({ ...filters, ...FIRST_PAGE });
  const [shown, setShown] = useState(key);
  if (shown !== key) {
    setShown(key);
    setForm(filters);
  }
  const set = (name: keyof Filters) => (value: string) =>
    setForm((current) => ({ ...current, [name]: value }));

  const services = useServices();
  const providers = useProviders();
  const serviceNames = new Map((services.data ?? []).map((service) => [service.id, service.name]));
  const leads = useLeads({
    ...apiFilter(filters),
    cursor: state.cursor || undefined,
    limit: PAGE_SIZE,
  });
  const page = leads.data;
  const loading = leads.isPending || leads.isPlaceholderData;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    navigate(urlOf({ ...form, q: form.q.trim(), country: form.country.trim(), ...FIRST_PAGE }));
  };

  return (
    <>
      <PageHeader title="Leads">
        Newest first. Search matches email, phone, name, idempotency key or lead id; the filters
        stay in the address, and Export CSV downloads every lead they match.
      </PageHeader>
      {ignored.length > 0 && (
        <p
          role="status"
          data-testid="ignored-filters"
          className="mb-4 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900"
        >
          Not applied from the address: {ignored.join('; ')}.
        </p>
      )}
      <form
        onSubmit={submit}
        role="search"
        className="mb-4 flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-3 shadow-sm"
      >
        <div className="flex min-w-48 flex-1 flex-col gap-1">
          <label htmlFor={ids.search} className={LABEL}>
            Search
          </label>
          <input
            id={ids.search}
            type="search"
            value={form.q}
            onChange={(event) => set('q')(event.target.value)}
            placeholder="email, phone, name, key, id"
            className="rounded-lg border border-slate-300 px-3 py-2 text-sm"
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.status} className={LABEL}>
            Status
          </label>
          <select
            id={ids.status}
            value={form.status}
            onChange={(event) => set('status')(event.target.value)}
            className={INPUT}
          >
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.service} className={LABEL}>
            Service
          </label>
          <select
            id={ids.service}
            value={form.serviceId}
            onChange={(event) => set('serviceId')(event.target.value)}
            className={INPUT}
          >
            <option value="">Any</option>
            {(services.data ?? []).map((service) => (
              <option key={service.id} value={String(service.id)}>
                {service.name}
              </option>
            ))}
          </select>
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.provider} className={LABEL}>
            Provider
          </label>
          <select
            id={ids.provider}
            value={form.providerId}
            onChange={(event) => set('providerId')(event.target.value)}
            className={INPUT}
          >
            <option value="">Any</option>
            {(providers.data ?? []).map((provider) => (
              <option key={provider.id} value={String(provider.id)}>
                {provider.name}
              </option>
            ))}
          </select>
        </div>
        <div className="flex w-24 flex-col gap-1">
          <label htmlFor={ids.country} className={LABEL}>
            Country
          </label>
          <input
            id={ids.country}
            value={form.country}
            onChange={(event) => set('country')(event.target.value)}
            placeholder="AT"
            className={INPUT}
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.from} className={LABEL}>
            From
          </label>
          <input
            id={ids.from}
            type="datetime-local"
            value={toLocalInput(form.from)}
            onChange={(event) => set('from')(fromLocalInput(event.target.value))}
            className={INPUT}
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={ids.to} className={LABEL}>
            To
          </label>
          <input
            id={ids.to}
            type="datetime-local"
            value={toLocalInput(form.to)}
            onChange={(event) => set('to')(fromLocalInput(event.target.value))}
            className={INPUT}
          />
        </div>
        <Button type="submit">Search</Button>
        <a
          href={leadsExportUrl(apiFilter(filters))}
          download
          className="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-blue-800 hover:bg-slate-50"
        >
          Export CSV
        </a>
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
                    {/* Cut on wide screens with the whole value on hover; wrapped on phones, between words
                        where they fit (break-all split "Lovelace" mid-word at 390 px). */}
                    <div
                      className="font-medium wrap-anywhere text-slate-900 sm:truncate"
                      title={name || undefined}
                    >
                      {name || '—'}
                    </div>
                    <div
                      className="wrap-anywhere text-slate-600 sm:truncate"
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
        {leads.isPending && <p className="p-4 text-sm text-slate-600">Loading…</p>}
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
