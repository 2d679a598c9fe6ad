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
  Service,
  ServiceChange,
  ServicePatch,
} from '../../../src/contracts/index.js';
import { call } from './client.js';
import { upsertById, withEventsDuring } from './events.js';

export const servicesQuery = queryOptions({
  queryKey: ['services'],
  queryFn: ({ client }): Promise<Service[]> =>
    withEventsDuring(client, () => call<Service[]>('GET', '/api/services'), servicesAfterEvent),
});

export function useServices(): UseQueryResult<Service[]> {
  return useQuery(servicesQuery);
}

export function servicesAfterEvent(services: Service[], event: LiveEvent): Service[] {
  switch (event.type) {
    case 'lead.allocated': {
      const { serviceId, pointer } = event.data;
      return services.map((service) =>
        service.id === serviceId ? { ...service, pointer } : service,
      );
    }
    case 'service.updated':
      return upsertById(services, event.data.service);
    default:
      return services;
  }
}

export function useUpdateService(): UseMutationResult<
  ServiceChange,
  Error,
  { id: number; changes: ServicePatch }
> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: number; changes: ServicePatch }) =>
      call<ServiceChange>('PATCH', `/api/services/${id}`, changes),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: servicesQuery.queryKey }),
  });
}
