import { useProviders } from '../../api/providers.js';
import type { AllocationAttempt, SkipReason } from '../../../../src/contracts/index.js';
import { StatusBadge } from '../../components/Badges.js';
import { formatDateTime } from '../../format.js';

/** What each skip reason means, in the operator's words (README "Skip reasons"). */
const REASON_TEXT: Record<SkipReason, string> = {
  inactive: 'switched off',
  no_quota: 'no quota left',
  cap_hour: 'hourly cap reached',
  cap_day: 'daily cap reached',
  cap_week: 'weekly cap reached',
  cap_month: 'monthly cap reached',
  outside_schedule: 'closed by its schedule',
  filter: 'a filter did not match',
  duplicate: 'had this contact recently',
  delivery_paused: 'deliveries paused',
  not_needed: 'not needed: enough providers taken',
};

/** Every allocation attempt of a lead: each provider considered, taken or skipped and why. */
export function LeadDecisions({ attempts }: { attempts: AllocationAttempt[] }) {
  const providers = useProviders();
  const name = (id: number): string =>
    providers.data?.find((provider) => provider.id === id)?.name ?? `#${id}`;
  if (attempts.length === 0) {
    return <p className="text-sm text-slate-600">No allocation attempt recorded.</p>;
  }
  return (
    <ol className="space-y-3" data-testid="lead-decisions">
      {attempts.map((attempt, index) => (
        <li key={index} className="rounded-lg border border-slate-200 p-3">
          <p className="mb-2 flex flex-wrap items-center gap-2 text-sm text-slate-700">
            <StatusBadge status={attempt.outcome} />
            <span>
              Service {attempt.serviceId} · {formatDateTime(attempt.attemptedAt)}
              {attempt.fromBacklog ? ' · backlog retry' : ''}
              {attempt.duplicateOf ? ` · duplicate of ${attempt.duplicateOf}` : ''}
            </span>
          </p>
          {attempt.decisions.length > 0 && (
            <ul className="grid gap-1 text-sm">
              {attempt.decisions.map((decision) => (
                <li key={decision.providerId} className="flex flex-wrap gap-2">
                  <span className="font-medium text-slate-900">{name(decision.providerId)}</span>
                  <span className="text-slate-600">({decision.role})</span>
                  <span
                    className={decision.outcome === 'taken' ? 'text-emerald-800' : 'text-slate-700'}
                  >
                    {/* A refused attempt took nobody: its eligible providers were too few. */}
                    {decision.outcome === 'taken'
                      ? attempt.outcome === 'allocated'
                        ? 'taken'
                        : 'eligible'
                      : `skipped: ${REASON_TEXT[decision.reason!]}`}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}
