import { useDelivery } from '../../api/deliveries.js';
import type { DeliveryAttempt } from '../../../../src/contracts/index.js';
import { LoadError } from '../../components/LoadError.js';
import { formatDateTime, formatDuration } from '../../format.js';
import { escapeControlCharacters } from '../leads/rawBody.js';

// The server keeps 2 KiB; a phone shows a few lines of it and scrolls for the rest.
const EXCERPT_SHOWN = 2048;

const OUTCOME_LOOK: Record<DeliveryAttempt['outcome'], string> = {
  delivered: 'text-emerald-800',
  rejected: 'text-red-800',
  failed: 'text-red-800',
  retry: 'text-amber-800',
};

/** A buyer's answer as text: control characters escaped (React escapes markup), capped. */
export function ResponseExcerpt({ text, label }: { text: string | null; label: string }) {
  if (!text) return <p className="text-xs text-slate-600">Empty response body.</p>;
  return (
    <pre
      tabIndex={0}
      role="region"
      aria-label={label}
      className="max-h-40 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-xs wrap-anywhere whitespace-pre-wrap"
    >
      {escapeControlCharacters(text.slice(0, EXCERPT_SHOWN))}
    </pre>
  );
}

/** Every attempt of one delivery, oldest first, with what the buyer answered. */
export function AttemptLog({ deliveryId }: { deliveryId: string }) {
  const detail = useDelivery(deliveryId);
  if (detail.isError)
    return <LoadError error={detail.error} onRetry={() => void detail.refetch()} />;
  if (!detail.data) return <p className="text-sm text-slate-600">Loading attempts…</p>;
  const { attemptLog } = detail.data;
  if (attemptLog.length === 0) return <p className="text-sm text-slate-600">Not sent yet.</p>;
  return (
    <ol className="space-y-3" data-testid={`attempts-${deliveryId}`}>
      {attemptLog.map((attempt) => (
        <li key={attempt.attempt} className="text-sm">
          <div className="flex flex-wrap items-baseline gap-x-3">
            <span className="font-medium text-slate-900">Attempt {attempt.attempt}</span>
            <span className="text-slate-600">{formatDateTime(attempt.startedAt)}</span>
            <span className={`font-semibold ${OUTCOME_LOOK[attempt.outcome]}`}>
              {attempt.outcome}
            </span>
            <span className="text-slate-700 tabular-nums">
              {attempt.statusCode === null ? 'no answer' : `HTTP ${attempt.statusCode}`}
            </span>
            <span className="text-slate-600 tabular-nums">
              {formatDuration(attempt.durationMs)}
            </span>
          </div>
          {attempt.error && attempt.error !== `HTTP ${attempt.statusCode}` && (
            <p className="text-red-800">{escapeControlCharacters(attempt.error)}</p>
          )}
          {attempt.statusCode !== null && (
            <div className="mt-1">
              <ResponseExcerpt
                text={attempt.responseExcerpt}
                label={`Response to attempt ${attempt.attempt}`}
              />
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}
