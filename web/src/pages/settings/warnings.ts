import type { Provider, Service } from '../../../../src/contracts/index.js';

/** Why a provider takes no leads now, in the operator's words; null when it can take some. */
export function providerWarning(provider: Provider): string | null {
  if (!provider.active) return 'Inactive: gets no leads until it is switched on';
  if (provider.remainingQuota === 0) return 'Out of quota: gets no leads until a quota reset';
  return null;
}

/**
 * Whether a service can fill a lead (N providers): never, with fewer members than N; not now,
 * with fewer members active and with quota left than N. Caps, schedules and filters are not
 * known here: the allocation's decision trace tells those.
 */
export function serviceWarning(service: Service, providers: Provider[]): string | null {
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  // `providers` lists the live ones: a member missing from it is archived and takes no lead.
  const members = [...service.static, ...service.pool].filter((id) => byId.has(id));
  const n = service.providersPerLead;
  if (members.length < n) {
    return `Can never fill a lead: ${members.length} provider${members.length === 1 ? '' : 's'} for ${n} per lead. Add providers or lower "Providers per lead".`;
  }
  const able = members.filter((id) => providerWarning(byId.get(id)!) === null);
  if (able.length < n) {
    return `Cannot fill a lead now: only ${able.length} of its ${members.length} providers are active with quota left, ${n} needed.`;
  }
  return null;
}

/** The live services a provider is in, for the question before deactivating or archiving it. */
export function servicesUsing(providerId: number, services: Service[]): Service[] {
  return services.filter(
    (service) => service.static.includes(providerId) || service.pool.includes(providerId),
  );
}
