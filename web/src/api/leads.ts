import {
  keepPreviousData,
  queryOptions,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type { LeadDetail, LeadListQuery, LeadPage } from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';

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
    queryFn: (): Promise<LeadDetail> =>
      call<LeadDetail>('GET', `/api/leads/${encodeURIComponent(id)}`),
  });

export function useLead(id: string): UseQueryResult<LeadDetail> {
  return useQuery(leadQuery(id));
}
