import {
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationResult,
  type UseQueryResult,
} from '@tanstack/react-query';
import type {
  LiveEvent,
  NewProvider,
  Provider,
  ProviderPatch,
} from '../../../src/contracts/index.js';
import { call } from './client.js';
import { upsertById, withEventsDuring } from './events.js';

export const providersQuery = queryOptions({
  queryKey: ['providers'],
  queryFn: ({ client }): Promise<Provider[]> =>
    withEventsDuring(client, () => call<Provider[]>('GET', '/api/providers'), providersAfterEvent),
});

export function useProviders(): UseQueryResult<Provider[]> {
  return useQuery(providersQuery);
}

function withRemaining(
  providers: Provider[],
  updates: { id: number; remainingQuota: number; quota?: number }[],
): Provider[] {
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

/** Events carry what is left, not how much was taken, so applying one twice changes nothing. */
export function providersAfterEvent(providers: Provider[], event: LiveEvent): Provider[] {
  switch (event.type) {
    case 'lead.allocated':
    case 'quota.reset':
      return withRemaining(providers, event.data.providers);
    case 'provider.updated':
      return upsertById(providers, event.data.provider);
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
  Provider,
  Error,
  { id: number; changes: ProviderPatch }
> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: number; changes: ProviderPatch }) =>
      call<Provider>('PATCH', `/api/providers/${id}`, changes),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: providersQuery.queryKey }),
  });
}
