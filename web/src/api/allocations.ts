import { queryOptions } from '@tanstack/react-query';
import type { AllocationRow } from '../../../src/contracts/index.js';
import { call, queryString } from './client.js';

export const allocationsQuery = (limit: number) =>
  queryOptions({
    queryKey: ['allocations', { limit }],
    queryFn: (): Promise<AllocationRow[]> =>
      call<AllocationRow[]>('GET', `/api/allocations${queryString({ limit })}`),
  });
