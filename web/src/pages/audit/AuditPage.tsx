import type { AuditAction, AuditEntry } from '../../../../src/contracts/index.js';
import { useAudit } from '../../api/audit.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Pager, readPageTrail, writePageTrail, type PageTrail } from '../../components/Pager.js';
import { formatDateTime } from '../../format.js';
import { navigate, useLocation } from '../../router/router.js';
import { auditDiff, auditSubject } from './auditDiff.js';

const PAGE_SIZE = 25;

const ACTION_WORDS: Record<AuditAction, string> = {
  'provider.created': 'Provider created',
  'provider.updated': 'Provider changed',
  'provider.archived': 'Provider archived',
  'service.created': 'Service created',
  'service.updated': 'Service changed',
  'service.archived': 'Service archived',
  'quota.reset': 'Quotas reset',
  'delivery.retried': 'Delivery sent again',
  'delivery.bulk_retried': 'Deliveries of a provider sent again',
  'delivery.test_sent': 'Test lead sent',
  'lead.allocation_requested': 'Lead allocation tried by hand',
};

function actorWords(actor: string): string {
  if (actor === 'admin') return 'admin token';
  if (actor === 'anonymous') return 'anyone (no ADMIN_TOKEN set)';
  if (actor === 'webhook') return 'quota webhook';
  if (actor.startsWith('session:')) return `dashboard login ${actor.slice('session:'.length)}`;
  return actor;
}

function urlOf(at: PageTrail): string {
  const search = new URLSearchParams();
  writePageTrail(search, at);
  const text = search.toString();
  return text ? `/audit?${text}` : '/audit';
}

function Entry({ entry }: { entry: AuditEntry }) {
  const changes = auditDiff(entry.before, entry.after);
  return (
    <li className="px-4 py-3" data-testid={`audit-entry-${entry.id}`}>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <span className="font-semibold text-slate-900">{ACTION_WORDS[entry.action]}</span>
        <span className="text-sm break-all text-slate-800">{auditSubject(entry)}</span>
        <span className="text-xs text-slate-600">by {actorWords(entry.actor)}</span>
        <time dateTime={entry.at} className="ml-auto text-xs text-slate-600 tabular-nums">
          {formatDateTime(entry.at)}
        </time>
      </div>
      {changes.length === 0 ? (
        <p className="mt-1 text-sm text-slate-600">Nothing changed.</p>
      ) : (
        <table className="mt-2 w-full table-fixed text-left text-xs">
          <caption className="sr-only">What changed: field, before, after</caption>
          <thead className="text-slate-600">
            <tr>
              <th scope="col" className="w-2/5 py-0.5 pr-2 font-medium sm:w-1/4">
                Field
              </th>
              <th scope="col" className="py-0.5 pr-2 font-medium">
                Before
              </th>
              <th scope="col" className="py-0.5 font-medium">
                After
              </th>
            </tr>
          </thead>
          <tbody className="font-mono">
            {changes.map((change) => (
              <tr key={change.path} className="border-t border-slate-100 align-top">
                <th scope="row" className="py-0.5 pr-2 font-normal break-words text-slate-700">
                  {/* Break a long path at its dots, not inside a name (390 px). */}
                  {change.path.split('.').map((part, index) => (
                    <span key={index}>
                      {index > 0 && (
                        <>
                          .<wbr />
                        </>
                      )}
                      {part}
                    </span>
                  ))}
                </th>
                <td className="py-0.5 pr-2 break-words text-red-900">
                  <span className="sr-only">was </span>
                  {change.before}
                </td>
                <td className="py-0.5 break-words text-emerald-900">
                  <span aria-hidden="true">→ </span>
                  <span className="sr-only">now </span>
                  {change.after}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

export function AuditPage() {
  const { search } = useLocation();
  const at = readPageTrail(search);
  const audit = useAudit({ cursor: at.cursor || undefined, limit: PAGE_SIZE });
  const loading = audit.isPending || audit.isPlaceholderData;
  return (
    <>
      <PageHeader title="Audit">
        Every configuration change and manual action, newest first, with what it changed. Kept for
        good; secrets show as ********.
      </PageHeader>
      {audit.isError && <LoadError error={audit.error} onRetry={() => void audit.refetch()} />}
      <div
        className={`rounded-xl border border-slate-200 bg-white shadow-sm transition-opacity ${loading ? 'opacity-60' : ''}`}
        aria-busy={loading}
      >
        {audit.isPending ? (
          <p className="px-4 py-3 text-sm text-slate-600">Loading…</p>
        ) : audit.data?.items.length === 0 ? (
          <p className="px-4 py-3 text-sm text-slate-600">
            Nothing yet: changes made on the Settings page, retries and quota resets show here.
          </p>
        ) : (
          <ol
            className="divide-y divide-slate-100"
            aria-label="Audit entries"
            data-testid="audit-list"
          >
            {audit.data?.items.map((entry) => (
              <Entry key={entry.id} entry={entry} />
            ))}
          </ol>
        )}
      </div>
      <Pager
        at={at}
        nextCursor={audit.data?.nextCursor}
        onMove={(to) => navigate(urlOf(to))}
        pageNumberTestId="audit-page-number"
      />
    </>
  );
}
