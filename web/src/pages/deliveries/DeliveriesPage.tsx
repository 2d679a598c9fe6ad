import { useId, useState, type FormEvent } from 'react';
import { useDeliveries, useRetryProviderDeliveries } from '../../api/deliveries.js';
import { useProviders } from '../../api/providers.js';
import { nextAttemptText } from './nextAttempt.js';
import type { DeliveryStatus, ProviderView } from '../../../../src/contracts/index.js';
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
import { useLiveUpdates } from '../../hooks/useLiveUpdates.js';
import { Link, navigate, useLocation } from '../../router/router.js';
import { escapeControlCharacters } from '../leads/rawBody.js';
import { RetryButton } from './RetryButton.js';

const PAGE_SIZE = 25;
const STATUSES: DeliveryStatus[] = ['pending', 'failed', 'rejected', 'delivered'];

interface ListState extends PageTrail {
  status: DeliveryStatus | '';
  providerId: string;
}

function readState(search: URLSearchParams): ListState {
  const status = search.get('status') ?? '';
  const providerId = search.get('providerId') ?? '';
  return {
    status: (STATUSES as string[]).includes(status) ? (status as DeliveryStatus) : '',
    providerId: /^[1-9]\d{0,8}$/.test(providerId) ? providerId : '',
    ...readPageTrail(search),
  };
}

function urlOf(state: ListState): string {
  const search = new URLSearchParams();
  if (state.status) search.set('status', state.status);
  if (state.providerId) search.set('providerId', state.providerId);
  writePageTrail(search, state);
  const text = search.toString();
  return text ? `/deliveries?${text}` : '/deliveries';
}

const SELECT = 'rounded-lg border border-slate-300 bg-white px-2.5 py-2 text-sm';

export function DeliveriesPage() {
  const { search } = useLocation();
  const state = readState(search);
  const [status, setStatus] = useState(state.status);
  const [providerId, setProviderId] = useState(state.providerId);
  const statusId = useId();
  const providerFilterId = useId();
  useLiveUpdates([['deliveries'], ['providers']]);

  // Back/forward changes the URL under the form; keep the inputs in step with it.
  const [shown, setShown] = useState({ status: state.status, providerId: state.providerId });
  if (shown.status !== state.status || shown.providerId !== state.providerId) {
    setShown({ status: state.status, providerId: state.providerId });
    setStatus(state.status);
    setProviderId(state.providerId);
  }

  const providers = useProviders();
  const providerOf = (id: number) => providers.data?.find((provider) => provider.id === id);
  const name = (id: number): string => providerOf(id)?.name ?? `#${id}`;
  const deliveries = useDeliveries({
    status: state.status || undefined,
    providerId: state.providerId ? Number(state.providerId) : undefined,
    cursor: state.cursor || undefined,
    limit: PAGE_SIZE,
  });
  const page = deliveries.data;
  const loading = deliveries.isPending || deliveries.isPlaceholderData;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    navigate(urlOf({ status, providerId, ...FIRST_PAGE }));
  };

  return (
    <>
      <PageHeader title="Deliveries">
        Leads sent to providers&apos; endpoints, newest first. Failed and rejected ones can be sent
        again.
      </PageHeader>
      <div className="mb-4 grid gap-3 lg:grid-cols-[minmax(0,1fr)_auto]">
        <form
          onSubmit={submit}
          aria-label="Filter deliveries"
          className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-3 shadow-sm"
        >
          <div className="flex flex-col gap-1">
            <label htmlFor={statusId} className="text-xs font-medium text-slate-700">
              Status
            </label>
            <select
              id={statusId}
              value={status}
              onChange={(event) => setStatus(event.target.value as DeliveryStatus | '')}
              className={SELECT}
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
            <label htmlFor={providerFilterId} className="text-xs font-medium text-slate-700">
              Provider
            </label>
            <select
              id={providerFilterId}
              value={providerId}
              onChange={(event) => setProviderId(event.target.value)}
              className={SELECT}
            >
              <option value="">Any</option>
              {providers.data?.map((provider) => (
                <option key={provider.id} value={String(provider.id)}>
                  {provider.name}
                </option>
              ))}
            </select>
          </div>
          <Button type="submit">Show</Button>
        </form>
        {providers.data && (
          <RetryAllFailed
            providers={providers.data}
            initial={state.providerId}
            key={state.providerId}
          />
        )}
      </div>

      {deliveries.isError && (
        <LoadError error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      )}
      <div
        className={`overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm transition-opacity ${loading ? 'opacity-60' : ''}`}
        aria-busy={loading}
      >
        <table className="w-full text-left text-sm" data-testid="deliveries-table">
          <caption className="sr-only">Deliveries, newest first</caption>
          <thead className="bg-slate-50 text-xs text-slate-600 uppercase">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">
                Lead
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Provider
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Status
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">
                Attempts
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">
                Last answer
              </th>
              <th scope="col" className="hidden px-3 py-2 font-medium lg:table-cell">
                Next attempt / delivered
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {page?.items.map((delivery) => (
              <tr key={delivery.id} data-testid={`delivery-row-${delivery.id}`}>
                <td className="px-3 py-2 align-top">
                  <Link
                    to={`/leads/${delivery.leadId}`}
                    className="font-mono text-blue-800 underline-offset-2 hover:underline"
                    aria-label={`Lead ${shortId(delivery.leadId)} (${delivery.leadId})`}
                  >
                    {shortId(delivery.leadId)}
                  </Link>
                </td>
                <td className="px-3 py-2 align-top text-slate-900">{name(delivery.providerId)}</td>
                <td className="px-3 py-2 align-top">
                  <StatusBadge status={delivery.status} />
                  <span className="ml-1 text-xs text-slate-600 tabular-nums sm:hidden">
                    ×{delivery.attempts}
                  </span>
                </td>
                <td className="hidden px-3 py-2 align-top text-slate-700 tabular-nums sm:table-cell">
                  {delivery.attempts}
                </td>
                <td className="hidden max-w-64 px-3 py-2 align-top break-words text-slate-700 md:table-cell">
                  {delivery.lastStatusCode !== null && `HTTP ${delivery.lastStatusCode}`}
                  {/* An error that only repeats the status ("HTTP 400") is said once. */}
                  {delivery.lastStatusCode !== null &&
                    delivery.lastError &&
                    delivery.lastError !== `HTTP ${delivery.lastStatusCode}` &&
                    ` · ${escapeControlCharacters(delivery.lastError)}`}
                  {delivery.lastStatusCode === null &&
                    delivery.lastError &&
                    escapeControlCharacters(delivery.lastError)}
                  {delivery.lastStatusCode === null && !delivery.lastError && '—'}
                </td>
                <td className="hidden px-3 py-2 align-top text-slate-700 tabular-nums lg:table-cell">
                  {delivery.nextAttemptAt
                    ? nextAttemptText(delivery, providerOf(delivery.providerId))
                    : delivery.deliveredAt
                      ? formatDateTime(delivery.deliveredAt)
                      : '—'}
                </td>
                <td className="px-3 py-2 text-right align-top">
                  <RetryButton
                    delivery={delivery}
                    label={`Retry the delivery of lead ${shortId(delivery.leadId)} to ${name(delivery.providerId)}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.isPending && <p className="p-4 text-sm text-slate-600">Loading…</p>}
        {page && page.items.length === 0 && (
          <p className="p-4 text-sm text-slate-600">No deliveries match.</p>
        )}
      </div>
      <Pager
        at={state}
        nextCursor={page?.nextCursor}
        onMove={(to) => navigate(urlOf({ ...state, ...to }))}
      />
    </>
  );
}

/** Re-queues every failed delivery of one provider, after the operator confirms. */
function RetryAllFailed({ providers, initial }: { providers: ProviderView[]; initial: string }) {
  const selectId = useId();
  const [providerId, setProviderId] = useState(initial);
  const [confirming, setConfirming] = useState(false);
  const retryAll = useRetryProviderDeliveries();
  const chosen = providers.find((provider) => String(provider.id) === providerId);

  return (
    <section
      aria-label="Retry all failed deliveries of a provider"
      className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-3 shadow-sm"
    >
      <div className="flex flex-col gap-1">
        <label htmlFor={selectId} className="text-xs font-medium text-slate-700">
          Retry all failed of
        </label>
        <select
          id={selectId}
          value={providerId}
          onChange={(event) => {
            setProviderId(event.target.value);
            setConfirming(false);
            retryAll.reset();
          }}
          className={SELECT}
        >
          <option value="">Choose a provider</option>
          {providers.map((provider) => (
            <option key={provider.id} value={String(provider.id)}>
              {provider.name}
            </option>
          ))}
        </select>
      </div>
      {confirming && chosen ? (
        <div role="group" aria-label="Confirm" className="flex flex-wrap items-center gap-2">
          <span className="text-sm text-slate-800">
            Send every failed delivery of {chosen.name} again?
          </span>
          <Button
            variant="danger"
            disabled={retryAll.isPending}
            onClick={() => retryAll.mutate(chosen.id, { onSettled: () => setConfirming(false) })}
          >
            Yes, retry all
          </Button>
          <Button variant="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </Button>
        </div>
      ) : (
        <Button variant="secondary" disabled={!chosen} onClick={() => setConfirming(true)}>
          Retry all failed…
        </Button>
      )}
      <p aria-live="polite" className="w-full text-sm text-slate-700 empty:hidden">
        {retryAll.isSuccess &&
          (retryAll.data.requeued === 0
            ? 'No failed deliveries to retry.'
            : `${retryAll.data.requeued} ${retryAll.data.requeued === 1 ? 'delivery' : 'deliveries'} queued again.`)}
        {retryAll.isError && `Could not retry: ${retryAll.error.message}`}
      </p>
    </section>
  );
}
