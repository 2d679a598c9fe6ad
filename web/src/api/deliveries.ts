import {
  keepPreviousData,
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type UseMutationResult,
  type UseQueryResult,
} from '@tanstack/react-query';
import type {
  Delivery,
  DeliveryConfigInput,
  DeliveryDetail,
  DeliveryPage,
  DeliveryStats,
  DeliveryStatus,
  DeliveryTestAnswer,
  LeadDetail,
  LiveEvent,
} from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';
import { withEventsDuring } from './events.js';

export interface DeliveryFilter {
  status?: DeliveryStatus;
  providerId?: number;
  cursor?: string;
  limit: number;
}

const DELIVERIES_KEY = ['deliveries'] as const;

export const deliveriesQuery = (filter: DeliveryFilter) =>
  queryOptions({
    queryKey: [...DELIVERIES_KEY, 'list', filter],
    queryFn: ({ client }): Promise<DeliveryPage> =>
      withEventsDuring(
        client,
        () => call<DeliveryPage>('GET', `/api/deliveries${queryString({ ...filter })}`),
        (page, event) => ({
          ...page,
          items: page.items.map((delivery) => deliveryAfterEvent(delivery, event)),
        }),
      ),
  });

/** While the next page or filter loads, the last one stays on screen. */
export function useDeliveries(filter: DeliveryFilter): UseQueryResult<DeliveryPage> {
  return useQuery({ ...deliveriesQuery(filter), placeholderData: keepPreviousData });
}

export const deliveryQuery = (id: string) =>
  queryOptions({
    queryKey: [...DELIVERIES_KEY, 'detail', id],
    queryFn: ({ client }): Promise<DeliveryDetail> =>
      withEventsDuring(
        client,
        () => call<DeliveryDetail>('GET', `/api/deliveries/${encodeURIComponent(id)}`),
        deliveryAfterEvent,
      ),
  });

export function useDelivery(id: string): UseQueryResult<DeliveryDetail> {
  return useQuery(deliveryQuery(id));
}

// The rate covers a sliding hour: it changes with time alone, so it is re-read now and then
// as well as after each delivery event.
const STATS_POLL_MS = 60_000;

export const deliveryStatsQuery = queryOptions({
  queryKey: [...DELIVERIES_KEY, 'stats'],
  queryFn: (): Promise<DeliveryStats> => call<DeliveryStats>('GET', '/api/deliveries/stats'),
  refetchInterval: STATS_POLL_MS,
});

export function useDeliveryStats(): UseQueryResult<DeliveryStats> {
  return useQuery(deliveryStatsQuery);
}

const FINAL_STATUS = {
  'delivery.succeeded': 'delivered',
  'delivery.rejected': 'rejected',
  'delivery.failed': 'failed',
} as const;

/** The delivery as a final-state event leaves it; other events leave it alone. */
export function deliveryAfterEvent<T extends Delivery>(delivery: T, event: LiveEvent): T {
  if (
    (event.type === 'delivery.succeeded' ||
      event.type === 'delivery.rejected' ||
      event.type === 'delivery.failed') &&
    event.data.deliveryId === delivery.id
  ) {
    return {
      ...delivery,
      status: FINAL_STATUS[event.type],
      attempts: Math.max(delivery.attempts, event.data.attempts),
      lastStatusCode: event.data.statusCode,
      lastError: event.data.error,
      nextAttemptAt: null,
      deliveredAt: event.type === 'delivery.succeeded' ? event.data.at : delivery.deliveredAt,
    };
  }
  return delivery;
}

/** A lead's deliveries as an event leaves them. */
export function leadAfterEvent(lead: LeadDetail, event: LiveEvent): LeadDetail {
  return {
    ...lead,
    deliveries: lead.deliveries.map((delivery) => deliveryAfterEvent(delivery, event)),
  };
}

/**
 * Re-reads every delivery list and detail. A read already on its way may predate the event,
 * so it is restarted; what it would have shown is at most one event older.
 */
export function refreshDeliveries(client: QueryClient): Promise<void> {
  return client.invalidateQueries({ queryKey: DELIVERIES_KEY });
}

export function useRetryDelivery(): UseMutationResult<Delivery, Error, string> {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      call<Delivery>('POST', `/api/deliveries/${encodeURIComponent(id)}/retry`, {}),
    onSuccess: () =>
      Promise.all([
        refreshDeliveries(client),
        client.invalidateQueries({ queryKey: ['leads', 'detail'] }),
      ]),
  });
}

export function useRetryProviderDeliveries(): UseMutationResult<
  { requeued: number },
  Error,
  number
> {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (providerId: number) =>
      call<{ requeued: number }>('POST', '/api/deliveries/retry', {
        providerId,
        status: 'failed',
      }),
    onSuccess: () => refreshDeliveries(client),
  });
}

export function useSendTestLead(): UseMutationResult<
  DeliveryTestAnswer,
  Error,
  { providerId: number; delivery?: DeliveryConfigInput }
> {
  return useMutation({
    mutationFn: ({ providerId, delivery }) =>
      call<DeliveryTestAnswer>(
        'POST',
        `/api/providers/${providerId}/delivery/test`,
        delivery ? { delivery } : {},
      ),
  });
}
