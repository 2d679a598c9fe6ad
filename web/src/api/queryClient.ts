import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './client.js';

const STALE_MS = 5_000;
const MAX_RETRIES = 2;

/** A 4xx will answer the same again; a 5xx or a lost connection may not. */
function shouldRetry(failures: number, error: Error): boolean {
  return failures < MAX_RETRIES && !(error instanceof ApiError && error.status < 500);
}

/**
 * The dashboard's one QueryClient. Every failed query and mutation passes through its
 * caches' `onError`, so a 401 from any call is handled in this one place.
 */
export function createQueryClient(onUnauthorized: (client: QueryClient) => void): QueryClient {
  const onError = (error: Error): void => {
    if (error instanceof ApiError && error.status === 401) onUnauthorized(client);
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: { staleTime: STALE_MS, retry: shouldRetry },
      mutations: { retry: false },
    },
  });
  return client;
}
