import { ConnectionBadge } from '../../components/ConnectionBadge.js';
import { LoadError } from '../../components/LoadError.js';
import { Panel } from '../../components/Panel.js';
import { PageHeader } from '../../components/PageHeader.js';
import { AllocationLog } from './AllocationLog.js';
import { Counters } from './Counters.js';
import { ProviderCards } from './ProviderCards.js';
import { ServiceCards } from './ServiceCards.js';
import { useDashboard } from './useDashboard.js';

export function DashboardPage() {
  const dashboard = useDashboard();
  const { providers, services } = dashboard;
  return (
    <>
      <PageHeader
        title="Dashboard"
        aside={
          <ConnectionBadge
            status={dashboard.stream.status}
            lastEventId={dashboard.stream.lastEventId}
          />
        }
      />
      {dashboard.error && (
        <div className="mb-4">
          <LoadError error={dashboard.error} onRetry={dashboard.retry} />
        </div>
      )}
      <div className="space-y-5">
        <Counters stats={dashboard.stats} />
        <Panel title="Provider quotas" aside={<Legend />}>
          {providers && services ? (
            <ProviderCards
              providers={providers}
              services={services}
              deliveryStats={dashboard.deliveryStats}
            />
          ) : (
            <Loading />
          )}
        </Panel>
        <div className="grid gap-5 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
          <Panel title="Services">
            {providers && services ? (
              <ServiceCards services={services} providers={providers} />
            ) : (
              <Loading />
            )}
          </Panel>
          <Panel
            title="Allocation log"
            aside={<span className="text-xs text-slate-600">newest first</span>}
          >
            {dashboard.log ? (
              <AllocationLog entries={dashboard.log} services={services ?? []} />
            ) : (
              <Loading />
            )}
          </Panel>
        </div>
      </div>
    </>
  );
}

function Loading() {
  return <p className="text-sm text-slate-600">Loading…</p>;
}

function Legend() {
  return <span className="text-xs text-slate-600">remaining / total</span>;
}
