import {
  keepPreviousData,
  queryOptions,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type { AuditPage } from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';

export const auditQuery = (query: { cursor?: string; limit: number }) =>
  queryOptions({
    queryKey: ['audit', query],
    queryFn: (): Promise<AuditPage> =>
      call<AuditPage>('GET', `/api/audit${queryString({ ...query })}`),
  });

/** While the next page loads, the last one stays on screen. */
export function useAudit(query: { cursor?: string; limit: number }): UseQueryResult<AuditPage> {
  return useQuery({ ...auditQuery(query), placeholderData: keepPreviousData });
}
