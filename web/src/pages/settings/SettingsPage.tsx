import { useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import type { Provider, Service } from '../../../../src/contracts/index.js';
import { LoadError } from '../../components/LoadError.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Panel } from '../../components/Panel.js';
import { useApiData } from '../../hooks/useApiData.js';
import { NewProviderForm } from './NewProviderForm.js';
import { ProviderRow } from './ProviderRow.js';
import { ServiceForm } from './ServiceForm.js';

export function SettingsPage() {
  const topology = useApiData('topology', () => Promise.all([api.providers(), api.services()]));
  const [providers, setProviders] = useState<Provider[]>();
  const [services, setServices] = useState<Service[]>();

  useEffect(() => {
    if (!topology.data) return;
    setProviders(topology.data[0]);
    setServices(topology.data[1]);
  }, [topology.data]);

  const providerSaved = (saved: Provider): void =>
    setProviders((current) =>
      current?.some((provider) => provider.id === saved.id)
        ? current.map((provider) => (provider.id === saved.id ? saved : provider))
        : [...(current ?? []), saved],
    );
  const serviceSaved = (saved: Service): void =>
    setServices((current) =>
      current?.map((service) => (service.id === saved.id ? saved : service)),
    );

  return (
    <>
      <PageHeader title="Settings">
        Changes go through the configuration API, take the same locks as allocation and show on the
        dashboard at once.
      </PageHeader>
      {topology.error !== undefined && (
        <LoadError error={topology.error} onRetry={topology.reload} />
      )}
      {providers && services ? (
        <div className="space-y-5">
          <Panel
            title="Providers"
            description="Lowering a quota lowers what is left with it; raising it leaves what is left alone."
          >
            <ul className="divide-y divide-slate-100">
              {providers.map((provider) => (
                <ProviderRow key={provider.id} provider={provider} onSaved={providerSaved} />
              ))}
            </ul>
            <NewProviderForm onCreated={providerSaved} />
          </Panel>
          <section aria-labelledby="services-heading" className="space-y-3">
            <h2 id="services-heading" className="text-base font-semibold text-slate-900">
              Services
            </h2>
            <div className="grid gap-4 xl:grid-cols-2">
              {services.map((service) => (
                <ServiceForm
                  key={service.id}
                  service={service}
                  providers={providers}
                  onSaved={serviceSaved}
                />
              ))}
            </div>
          </section>
        </div>
      ) : (
        topology.loading && <p className="text-sm text-slate-600">Loading…</p>
      )}
    </>
  );
}
