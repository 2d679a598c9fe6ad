import {
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationResult,
  type UseQueryResult,
} from '@tanstack/react-query';
import type {
  DeliveryState,
  LiveEvent,
  NewProvider,
  Provider,
  ProviderPatch,
  ProviderView,
} from '../../../src/contracts/index.js';
import { call } from './client.js';
import { withEventsDuring } from './events.js';

export const providersQuery = queryOptions({
  queryKey: ['providers'],
  queryFn: ({ client }): Promise<ProviderView[]> =>
    withEventsDuring(
      client,
      () => call<ProviderView[]>('GET', '/api/providers'),
      providersAfterEvent,
    ),
});

export function useProviders(): UseQueryResult<ProviderView[]> {
  return useQuery(providersQuery);
}

function withRemaining(
  providers: ProviderView[],
  updates: { id: number; remainingQuota: number; quota?: number }[],
): ProviderView[] {
  const byId = new Map(updates.map((update) => [update.id, update]));
  return providers.map((provider) => {
    const update = byId.get(provider.id);
    return update
      ? {
          ...provider,
          remainingQuota: update.remainingQuota,
          quota: update.quota ?? provider.quota,
        }
      : provider;
  });
}

/**
 * `provider.updated` carries the provider and its delivery state without its endpoint: a new
 * one has none yet, a changed one keeps what the list knew (the endpoint's own changes are
 * re-read, see liveCache).
 */
function withProvider(
  providers: ProviderView[],
  provider: Provider,
  deliveryState: DeliveryState,
): ProviderView[] {
  // Only the fields the event is about: whatever else an object carries must not win.
  const { id, name, quota, remainingQuota, active, archivedAt, timezone, caps, schedule, filters } =
    provider;
  // The list shows live providers only: an archived one leaves it.
  if (archivedAt !== null) return providers.filter((existing) => existing.id !== id);
  const fields = {
    id,
    name,
    quota,
    remainingQuota,
    active,
    archivedAt,
    timezone,
    caps,
    schedule,
    filters,
    deliveryState,
  };
  const known = providers.find((existing) => existing.id === id);
  if (known) {
    return providers.map((existing) => (existing === known ? { ...known, ...fields } : existing));
  }
  const added: ProviderView = {
    ...fields,
    delivery: null,
    capUsage: { hour: 0, day: 0, week: 0, month: 0 },
    capped: false,
    openNow: true,
  };
  return [...providers, added].sort((a, b) => a.id - b.id);
}

function withDeliveryState(
  providers: ProviderView[],
  id: number,
  state: 'ok' | 'paused',
): ProviderView[] {
  return providers.map((provider) =>
    provider.id === id && provider.deliveryState !== 'none'
      ? { ...provider, deliveryState: state }
      : provider,
  );
}

/** Events carry what is left, not how much was taken, so applying one twice changes nothing. */
export function providersAfterEvent(providers: ProviderView[], event: LiveEvent): ProviderView[] {
  switch (event.type) {
    case 'lead.allocated':
    case 'quota.reset':
      return withRemaining(providers, event.data.providers);
    case 'provider.updated':
      return withProvider(providers, event.data.provider, event.data.deliveryState);
    case 'provider.delivery_paused':
      return withDeliveryState(providers, event.data.providerId, 'paused');
    case 'provider.delivery_resumed':
      return withDeliveryState(providers, event.data.providerId, 'ok');
    default:
      return providers;
  }
}

export function useCreateProvider(): UseMutationResult<Provider, Error, NewProvider> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (provider: NewProvider) => call<Provider>('POST', '/api/providers', provider),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: providersQuery.queryKey }),
  });
}

export function useUpdateProvider(): UseMutationResult<
  ProviderView,
  Error,
  { id: number; changes: ProviderPatch }
> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: number; changes: ProviderPatch }) =>
      call<ProviderView>('PATCH', `/api/providers/${id}`, changes),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: providersQuery.queryKey }),
  });
}

export function useArchiveProvider(): UseMutationResult<ProviderView, Error, number> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => call<ProviderView>('DELETE', `/api/providers/${id}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: providersQuery.queryKey }),
  });
}
