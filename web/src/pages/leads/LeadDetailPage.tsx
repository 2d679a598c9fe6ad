import type { ReactNode } from 'react';
import { leadQuery, useLead } from '../../api/leads.js';
import { useServices } from '../../api/services.js';
import type { Lead, LeadDetail } from '../../../../src/contracts/index.js';
import { ProviderTag, StatusBadge } from '../../components/Badges.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Panel } from '../../components/Panel.js';
import { formatDateTime, shortId } from '../../format.js';
import { INDENTED_DEPTH, PRETTY_JSON_LIMIT, prettyJson } from '../../prettyJson.js';
import { useLiveUpdates } from '../../hooks/useLiveUpdates.js';
import { Link } from '../../router/router.js';
import { LeadDecisions } from './LeadDecisions.js';
import { LeadDeliveries } from './LeadDeliveries.js';
import { escapeControlCharacters } from './rawBody.js';
import { RawBodyView } from './RawBodyView.js';

/** The normalised fields of a lead (SPEC §5), in the order an operator reads a contact. */
const LEAD_FIELDS: [field: keyof Lead, label: string][] = [
  ['firstName', 'First name'],
  ['lastName', 'Last name'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['country', 'Country'],
  ['lang', 'Language'],
  ['ip', 'IP'],
  ['domain', 'Domain'],
  ['offer', 'Offer'],
  ['creo', 'Creo'],
  ['clickId', 'Click id'],
  ['marker', 'Marker'],
  ['sourcetype', 'Source type'],
  ['description', 'Description'],
];

export function LeadDetailPage({ id }: { id: string }) {
  const detail = useLead(id);
  const services = useServices();
  useLiveUpdates([leadQuery(id).queryKey, ['deliveries']]);
  const serviceName = (serviceId: number | null): string =>
    serviceId === null
      ? '—'
      : (services.data?.find((service) => service.id === serviceId)?.name ?? `#${serviceId}`);

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link to="/leads" className="text-blue-800 underline-offset-2 hover:underline">
          ← All leads
        </Link>
      </nav>
      <PageHeader
        title={`Lead ${shortId(id)}`}
        aside={detail.data && <StatusBadge status={detail.data.lead.status} />}
      >
        <span className="font-mono break-all">{id}</span>
      </PageHeader>
      {detail.isError && <LoadError error={detail.error} onRetry={() => void detail.refetch()} />}
      {detail.isPending && <p className="text-sm text-slate-600">Loading…</p>}
      {detail.data && <LeadSections detail={detail.data} serviceName={serviceName} />}
    </>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium text-slate-600">{label}</dt>
      <dd className="break-words text-slate-900">{children}</dd>
    </div>
  );
}

/**
 * Client data can be any size or depth; the printer stops early and this says so. The box
 * scrolls, so it takes keyboard focus and a name; lines wrap so that the one-line remainder
 * of a deep value stays within a phone's width.
 */
function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const pretty = prettyJson(value);
  return (
    <>
      <pre
        tabIndex={0}
        role="region"
        aria-label={label}
        className="max-h-[32rem] overflow-auto rounded-lg bg-slate-50 p-2 font-mono text-xs wrap-anywhere whitespace-pre-wrap"
      >
        {escapeControlCharacters(pretty.text)}
      </pre>
      {pretty.collapsed && (
        <p className="mt-1 text-xs text-slate-700">
          Nested more than {INDENTED_DEPTH} levels deep: the deepest part is on one line.
        </p>
      )}
      {pretty.truncated && (
        <p className="mt-1 text-xs text-slate-700">
          Too long to show in full: only the first {PRETTY_JSON_LIMIT.toLocaleString('en')}{' '}
          characters are shown.
        </p>
      )}
    </>
  );
}

function text(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return escapeControlCharacters(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Enough for any real name or note; a 200 KB one made the page 139,000 px tall. */
const FIELD_LIMIT = 2_000;

function FieldValue({ value }: { value: unknown }) {
  const shown = text(value);
  if (shown.length <= FIELD_LIMIT) return shown;
  const length = typeof value === 'string' ? value.length : shown.length;
  return (
    <>
      {shown.slice(0, FIELD_LIMIT)}
      <span className="text-slate-600">
        {' '}
        … ({length.toLocaleString('en')} characters; the raw request below has all of it)
      </span>
    </>
  );
}

function LeadSections({
  detail,
  serviceName,
}: {
  detail: LeadDetail;
  serviceName: (id: number | null) => string;
}) {
  const { lead, raw, allocations, decisions, deliveries, events } = detail;
  const extra = lead.extra && Object.keys(lead.extra).length > 0 ? lead.extra : null;
  return (
    <div className="grid gap-5 lg:grid-cols-2">
      <Panel title="Lead">
        <dl className="grid grid-cols-2 gap-3 text-sm">
          <Field label="Status">
            <StatusBadge status={lead.status} />
          </Field>
          <Field label="Service">{serviceName(lead.serviceId)}</Field>
          <Field label="Received">{formatDateTime(lead.createdAt)}</Field>
          <Field label="Idempotency key">
            <span className="font-mono">{text(lead.idempotencyKey)}</span>
          </Field>
          <Field label="Duplicate requests">{detail.duplicates}</Field>
          <Field label="Sender">{text(lead.sender)}</Field>
        </dl>
      </Panel>

      <Panel title="Normalised fields">
        <dl className="grid grid-cols-2 gap-3 text-sm" data-testid="lead-fields">
          {LEAD_FIELDS.map(([field, label]) => (
            <Field key={field} label={label}>
              <FieldValue value={lead[field]} />
            </Field>
          ))}
        </dl>
        {extra && (
          <div className="mt-4">
            <h3 className="mb-1 text-xs font-medium text-slate-600">Other fields (extra)</h3>
            <JsonBlock value={extra} label="Other fields" />
          </div>
        )}
      </Panel>

      <Panel title="Why these providers (decision trace)" className="lg:col-span-2">
        <LeadDecisions attempts={decisions} />
      </Panel>

      <Panel title="Deliveries" className="lg:col-span-2">
        <LeadDeliveries deliveries={deliveries} allocated={allocations.length > 0} />
      </Panel>

      <Panel title="Raw request" className="lg:col-span-2">
        {raw ? (
          <div className="space-y-4">
            <dl className="grid grid-cols-2 gap-3 text-sm lg:grid-cols-4">
              <Field label="Endpoint">{raw.endpoint}</Field>
              <Field label="Received">{formatDateTime(raw.receivedAt)}</Field>
              <Field label="Content type">{text(raw.contentType)}</Field>
              <Field label="Raw status">
                <StatusBadge status={raw.status} />
                {raw.error && <span className="ml-2 text-red-800">{raw.error}</span>}
              </Field>
              <Field label="Request id">
                <span className="font-mono break-all">{raw.requestId}</span>
              </Field>
              <Field label="Idempotency key">
                <span className="font-mono">{text(raw.idempotencyKey)}</span>
              </Field>
              <Field label="Remote address">{text(raw.remoteAddr)}</Field>
              <Field label="Raw row">#{raw.id}</Field>
            </dl>
            <div>
              <h3 className="mb-1 text-sm font-semibold text-slate-900">Body</h3>
              <RawBodyView
                bodyBase64={raw.bodyBase64}
                contentType={raw.contentType}
                bytes={raw.bodyBytes}
                fileName={`raw-request-${raw.id}`}
              />
            </div>
            <details>
              <summary className="cursor-pointer text-sm font-semibold text-slate-900">
                Headers ({Object.keys(raw.headers).length})
              </summary>
              <table className="mt-2 w-full text-left text-sm">
                <tbody className="font-mono text-xs">
                  {Object.entries(raw.headers).map(([name, value]) => (
                    <tr key={name} className="border-t border-slate-100">
                      <th scope="row" className="py-1 pr-4 align-top font-medium">
                        {name}
                      </th>
                      <td className="py-1 break-all">{escapeControlCharacters(String(value))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </div>
        ) : (
          <p className="text-sm text-slate-600">No raw request is stored for this lead.</p>
        )}
      </Panel>

      <Panel title="Allocations">
        {allocations.length > 0 ? (
          <ul className="space-y-2 text-sm" data-testid="lead-allocations">
            {allocations.map((allocation) => (
              <li key={allocation.providerId} className="flex flex-wrap items-center gap-3">
                <ProviderTag name={allocation.providerName} role={allocation.role} />
                <span className="text-slate-700">{serviceName(allocation.serviceId)}</span>
                <span className="text-slate-600">{formatDateTime(allocation.allocatedAt)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-600">Not allocated.</p>
        )}
      </Panel>

      <Panel title="Events">
        {events.length > 0 ? (
          <ol className="space-y-3 text-sm" data-testid="lead-events">
            {events.map((event) => (
              <li key={event.id}>
                <div className="flex flex-wrap items-baseline gap-x-3">
                  <span className="font-mono text-slate-600">#{event.id}</span>
                  <span className="font-semibold text-slate-900">{event.type}</span>
                  <span className="text-slate-600">{formatDateTime(event.createdAt)}</span>
                </div>
                <div className="mt-1">
                  <JsonBlock value={event.payload} label={`Event #${event.id} payload`} />
                </div>
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-sm text-slate-600">No events.</p>
        )}
      </Panel>
    </div>
  );
}
