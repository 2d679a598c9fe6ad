import {
  keepPreviousData,
  queryOptions,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type { RawListQuery, RawPage } from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';

export const rawRequestsQuery = (query: RawListQuery) =>
  queryOptions({
    queryKey: ['raw-requests', 'list', query],
    queryFn: (): Promise<RawPage> =>
      call<RawPage>('GET', `/api/raw-requests${queryString({ ...query })}`),
  });

/** While the next page loads, the last one stays on screen. */
export function useRawRequests(query: RawListQuery): UseQueryResult<RawPage> {
  return useQuery({ ...rawRequestsQuery(query), placeholderData: keepPreviousData });
}
