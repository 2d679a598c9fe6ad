import { useId, useState } from 'react';
import { providersQuery } from '../../api/providers.js';
import { servicesQuery, useServices } from '../../api/services.js';
import { statsQuery } from '../../api/stats.js';
import type { Service } from '../../../../src/contracts/index.js';
import { ProviderTag } from '../../components/Badges.js';
import { PageHeader } from '../../components/PageHeader.js';
import { formatDuration, plainCode, shortId } from '../../format.js';
import { Link } from '../../router/router.js';
import { useSession } from '../../session/session.js';
import { ToolCard } from './ToolCard.js';
import {
  generateConcurrentLeads,
  resetAllQuotas,
  sendDuplicateLead,
  testWebhookIdempotency,
  type LeadRequestResult,
} from './tools.js';
import { useToolRun } from './toolRun.js';

const CONCURRENT_LEADS = 10;
const WEBHOOK_COPIES = 3;
const ALL_SERVICES = 'all';

// What each tool's requests change, for the pages that show it.
const LEADS = ['leads'];
const ALLOCATIONS = ['allocations'];
const NEW_LEADS = [
  LEADS,
  ALLOCATIONS,
  statsQuery.queryKey,
  providersQuery.queryKey,
  servicesQuery.queryKey,
];
const QUOTAS = [providersQuery.queryKey];
const DUPLICATE_LEAD = [LEADS, statsQuery.queryKey];

export function TestToolsPage() {
  const { config } = useSession();
  if (config?.testTools === false) {
    return (
      <PageHeader title="Test tools">
        The test tools are turned off on this server (production without ENABLE_TEST_TOOLS=1).
      </PageHeader>
    );
  }
  return <TestTools />;
}

function TestTools() {
  const services = useServices();
  const [choice, setChoice] = useState<string>('1');
  const selectId = useId();

  const serviceIds = (): number[] =>
    choice === ALL_SERVICES ? (services.data ?? []).map((service) => service.id) : [Number(choice)];

  const generate = useToolRun(
    () => generateConcurrentLeads(serviceIds(), CONCURRENT_LEADS),
    NEW_LEADS,
  );
  const idempotency = useToolRun(() => testWebhookIdempotency(WEBHOOK_COPIES), QUOTAS);
  const reset = useToolRun(resetAllQuotas, QUOTAS);
  const duplicate = useToolRun(sendDuplicateLead, DUPLICATE_LEAD);
  const serviceNames = new Map((services.data ?? []).map((service) => [service.id, service.name]));

  return (
    <>
      <PageHeader title="Test tools">
        Real requests against this server's API. Watch the{' '}
        <Link to="/dashboard" target="_blank" className="text-blue-800 underline">
          dashboard
        </Link>{' '}
        in another window while they run.
      </PageHeader>
      <div className="grid gap-5 lg:grid-cols-2">
        <ToolCard
          title="Concurrent leads"
          testId="tool-generate"
          buttonLabel={`Generate ${CONCURRENT_LEADS} Concurrent Leads`}
          tool={generate}
          description={`${CONCURRENT_LEADS} POST /api/request-service calls fired at once; each gets its providers or insufficient_quota.`}
          controls={
            <div className="flex flex-col gap-1">
              <label htmlFor={selectId} className="text-xs font-medium text-slate-700">
                Service
              </label>
              <ServiceSelect
                id={selectId}
                services={services.data}
                value={choice}
                onChange={setChoice}
                disabled={generate.running}
              />
            </div>
          }
        >
          {(results) => <LeadResults results={results} serviceNames={serviceNames} />}
        </ToolCard>

        <ToolCard
          title="Webhook idempotency"
          testId="tool-idempotency"
          buttonLabel="Test Webhook Idempotency"
          tool={idempotency}
          description={`${WEBHOOK_COPIES} concurrent copies of one new quota-reset event id: exactly one may reset quotas, the others must be recognised as duplicates.`}
        >
          {(result) => (
            <div className="space-y-2">
              <p className="font-medium" data-testid="idempotency-summary">
                {result.applied} applied / {result.duplicates} duplicates
              </p>
              <ul className="space-y-1 text-slate-700">
                {result.copies.map((copy, index) => (
                  <li key={index} className="flex flex-wrap gap-x-3">
                    <span>Copy {index + 1}:</span>
                    <span className="font-mono">{copy.status}</span>
                    <span>
                      {copy.status !== 200
                        ? copy.error
                        : copy.duplicate
                          ? 'duplicate'
                          : `applied, reset ${copy.reset} providers`}
                    </span>
                    <span className="text-slate-600 tabular-nums">{formatDuration(copy.ms)}</span>
                  </li>
                ))}
              </ul>
              <p className="text-xs break-all text-slate-600">event id {result.eventId}</p>
            </div>
          )}
        </ToolCard>

        <ToolCard
          title="Reset quotas"
          testId="tool-reset"
          buttonLabel="Reset Provider Quotas"
          variant="danger"
          tool={reset}
          description="Sends the quota-reset webhook with a new event id: every provider's remaining quota goes back to its quota."
        >
          {(result) => (
            <p data-testid="reset-summary">
              {result.status === 200
                ? `Reset ${result.reset ?? 0} providers.`
                : `Refused: ${result.status} ${result.error ?? ''}`}
            </p>
          )}
        </ToolCard>

        <ToolCard
          title="Duplicate lead"
          testId="tool-duplicate"
          buttonLabel="Send Duplicate Lead"
          tool={duplicate}
          description="POST /api/lead twice with the same Idempotency-Key: the first creates the lead (201), the second is recognised (409) and names the same lead."
        >
          {(result) => (
            <div className="space-y-2">
              <ol className="space-y-1">
                {result.attempts.map((attempt, index) => (
                  <li
                    key={index}
                    className="flex flex-wrap gap-x-3"
                    data-testid={`duplicate-attempt-${index + 1}`}
                  >
                    <span>Request {index + 1}:</span>
                    <span className="font-mono font-semibold">{attempt.status}</span>
                    {attempt.leadId ? (
                      <Link
                        to={`/leads/${attempt.leadId}`}
                        className="font-mono text-blue-800 underline"
                      >
                        {shortId(attempt.leadId)}
                      </Link>
                    ) : (
                      <span>{attempt.error}</span>
                    )}
                    {attempt.deduplicated && <span>deduplicated</span>}
                    <span className="text-slate-600 tabular-nums">
                      {formatDuration(attempt.ms)}
                    </span>
                  </li>
                ))}
              </ol>
              <p className="font-medium" data-testid="duplicate-summary">
                {result.sameLead ? 'One lead id for both requests.' : 'The lead ids differ!'}
              </p>
            </div>
          )}
        </ToolCard>
      </div>
    </>
  );
}

function ServiceSelect({
  id,
  services,
  value,
  onChange,
  disabled,
}: {
  id: string;
  services: Service[] | undefined;
  value: string;
  onChange: (value: string) => void;
  disabled: boolean;
}) {
  return (
    <select
      id={id}
      value={value}
      disabled={disabled}
      onChange={(event) => onChange(event.target.value)}
      className="rounded-lg border border-slate-300 bg-white px-2.5 py-2 text-sm"
    >
      {(services ?? [{ id: 1, name: 'Service 1' }]).map((service) => (
        <option key={service.id} value={String(service.id)}>
          {service.name}
        </option>
      ))}
      <option value={ALL_SERVICES}>All services, spread evenly</option>
    </select>
  );
}

function LeadResults({
  results,
  serviceNames,
}: {
  results: LeadRequestResult[];
  serviceNames: Map<number, string>;
}) {
  const allocated = results.filter((result) => result.status === 201).length;
  const refused = results.filter((result) => result.error === 'insufficient_quota').length;
  const other = results.length - allocated - refused;
  return (
    <div className="space-y-2">
      <p className="font-medium" data-testid="generate-summary">
        {allocated} allocated, {refused} {plainCode('insufficient_quota')}
        {other > 0 ? `, ${other} failed` : ''}
      </p>
      <ol className="divide-y divide-slate-100" data-testid="generate-results">
        {results.map((result) => (
          <li
            key={result.index}
            className="grid grid-cols-[1.5rem_1fr_auto] items-center gap-2 py-1.5 sm:grid-cols-[1.5rem_5.5rem_1fr_auto]"
          >
            <span className="text-slate-600 tabular-nums">{result.index + 1}</span>
            {/* On a phone the service goes above the providers (leads spread over services
                could not be told apart); from sm up each is a column of the grid. */}
            <div className="flex min-w-0 flex-col gap-1 sm:contents">
              <span className="text-xs text-slate-700 sm:text-sm">
                {serviceNames.get(result.serviceId) ?? `Service ${result.serviceId}`}
              </span>
              <span className="flex flex-wrap gap-1">
                {result.providers ? (
                  result.providers.map((provider) => (
                    <ProviderTag key={provider.id} name={provider.name} role={provider.role} />
                  ))
                ) : (
                  <span
                    title={result.error ?? undefined}
                    className="rounded-md bg-red-100 px-1.5 py-0.5 text-xs font-semibold text-red-900"
                  >
                    {result.error ? plainCode(result.error) : `HTTP ${result.status}`}
                  </span>
                )}
              </span>
            </div>
            <span className="text-xs text-slate-600 tabular-nums">{formatDuration(result.ms)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
