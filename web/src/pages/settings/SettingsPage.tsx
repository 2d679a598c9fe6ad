import { useProviders } from '../../api/providers.js';
import { useServices } from '../../api/services.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Panel } from '../../components/Panel.js';
import { Link } from '../../router/router.js';
import { NewProviderForm } from './NewProviderForm.js';
import { NewServiceForm } from './NewServiceForm.js';
import { ProviderRow } from './ProviderRow.js';
import { ServiceForm } from './ServiceForm.js';
import { ServiceRulesEditor } from './ServiceRulesEditor.js';

export function SettingsPage() {
  const providers = useProviders();
  const services = useServices();
  const error = providers.error ?? services.error;
  const retry = (): void => {
    void providers.refetch();
    void services.refetch();
  };

  return (
    <>
      <PageHeader title="Settings">
        Changes go through the configuration API, take the same locks as allocation and show on the
        dashboard at once.
      </PageHeader>
      {error && <LoadError error={error} onRetry={retry} />}
      {providers.data && services.data ? (
        <div className="space-y-5">
          <Panel
            title="Providers"
            description="Lowering a quota lowers what is left with it; raising it leaves what is left alone."
          >
            <ul className="divide-y divide-slate-100">
              {providers.data.map((provider) => (
                <ProviderRow key={provider.id} provider={provider} services={services.data} />
              ))}
            </ul>
            <NewProviderForm />
          </Panel>
          <section aria-labelledby="services-heading" className="space-y-3">
            <h2 id="services-heading" className="text-base font-semibold text-slate-900">
              Services
            </h2>
            <p className="text-sm text-slate-700">
              Archived services and providers leave these lists and the dashboard; their history
              stays, and every change is in the{' '}
              <Link to="/audit" className="text-blue-800 underline">
                audit log
              </Link>
              .
            </p>
            <NewServiceForm />
            <div className="grid gap-4 xl:grid-cols-2">
              {services.data.map((service) => (
                <div key={service.id} className="space-y-2">
                  <ServiceForm service={service} providers={providers.data} />
                  <ServiceRulesEditor service={service} />
                </div>
              ))}
            </div>
          </section>
        </div>
      ) : (
        (providers.isPending || services.isPending) && (
          <p className="text-sm text-slate-600">Loading…</p>
        )
      )}
    </>
  );
}
