import {
  keepPreviousData,
  queryOptions,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type { LeadDetail, LeadListQuery, LeadPage } from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';
import { leadAfterEvent } from './deliveries.js';
import { withEventsDuring } from './events.js';

export const leadsQuery = (query: LeadListQuery) =>
  queryOptions({
    queryKey: ['leads', 'list', query],
    queryFn: (): Promise<LeadPage> =>
      call<LeadPage>('GET', `/api/leads${queryString({ ...query })}`),
  });

/** While the next page or search loads, the last one stays on screen. */
export function useLeads(query: LeadListQuery): UseQueryResult<LeadPage> {
  return useQuery({ ...leadsQuery(query), placeholderData: keepPreviousData });
}

export const leadQuery = (id: string) =>
  queryOptions({
    queryKey: ['leads', 'detail', id],
    // Delivery events that arrive while it loads are applied over the answer, which may
    // predate them (a Retry re-reads the lead as the dispatcher delivers it).
    queryFn: ({ client }): Promise<LeadDetail> =>
      withEventsDuring(
        client,
        () => call<LeadDetail>('GET', `/api/leads/${encodeURIComponent(id)}`),
        leadAfterEvent,
      ),
  });

export function useLead(id: string): UseQueryResult<LeadDetail> {
  return useQuery(leadQuery(id));
}

/** The export's address for the same filters as the list (no cursor or page size). */
export function leadsExportUrl(filter: Omit<LeadListQuery, 'cursor' | 'limit'>): string {
  return `/api/leads/export.csv${queryString({ ...filter })}`;
}
