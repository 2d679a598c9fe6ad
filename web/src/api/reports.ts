import {
  keepPreviousData,
  queryOptions,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type {
  ProviderReportRow,
  ProvidersReportQuery,
  VolumeBucket,
  VolumeQuery,
} from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';

// Reports count history: a minute old is fresh enough, and each is a scan of an index.
const REPORT_STALE_MS = 60_000;

export const volumeQuery = (query: VolumeQuery) =>
  queryOptions({
    queryKey: ['reports', 'volume', query],
    queryFn: (): Promise<VolumeBucket[]> =>
      call<VolumeBucket[]>('GET', `/api/reports/volume${queryString({ ...query })}`),
    staleTime: REPORT_STALE_MS,
  });

export function useVolumeReport(query: VolumeQuery): UseQueryResult<VolumeBucket[]> {
  return useQuery({ ...volumeQuery(query), placeholderData: keepPreviousData });
}

export const providersReportQuery = (query: ProvidersReportQuery) =>
  queryOptions({
    queryKey: ['reports', 'providers', query],
    queryFn: (): Promise<ProviderReportRow[]> =>
      call<ProviderReportRow[]>('GET', `/api/reports/providers${queryString({ ...query })}`),
    staleTime: REPORT_STALE_MS,
  });

export function useProvidersReport(
  query: ProvidersReportQuery,
): UseQueryResult<ProviderReportRow[]> {
  return useQuery({ ...providersReportQuery(query), placeholderData: keepPreviousData });
}
