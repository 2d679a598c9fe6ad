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
  NewService,
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
      // The list shows live services only: an archived one leaves it.
      return event.data.service.archivedAt === null
        ? upsertById(services, event.data.service)
        : services.filter((service) => service.id !== event.data.service.id);
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

export function useCreateService(): UseMutationResult<ServiceChange, Error, NewService> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (service: NewService) => call<ServiceChange>('POST', '/api/services', service),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: servicesQuery.queryKey }),
  });
}

export function useArchiveService(): UseMutationResult<Service, Error, number> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => call<Service>('DELETE', `/api/services/${id}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: servicesQuery.queryKey }),
  });
}
