import {
  queryOptions,
  useMutation,
  useQueryClient,
  type UseMutationResult,
} from '@tanstack/react-query';
import type { UiConfig } from '../../../src/contracts/index.js';
import { ApiError, call, send } from './client.js';

/** A server without the endpoint predates sign-in: it is open and has its test tools. */
export const OPEN_SERVER: UiConfig = { testTools: true, auth: false, authenticated: true };

export const sessionQuery = queryOptions({
  queryKey: ['session'],
  queryFn: async (): Promise<UiConfig> => {
    try {
      return await call<UiConfig>('GET', '/api/config/ui');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return OPEN_SERVER;
      throw error;
    }
  },
  // Every page waits for this answer: an unreachable server is reported by the pages at once
  // rather than after a round of retries.
  retry: false,
});

/** Resolves to the answer's status: the sign-in form words 401 and 429 differently. */
export function useLogin(): UseMutationResult<number, Error, string> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (token: string) => (await send('POST', '/api/login', { token })).status,
    onSuccess: async (status) => {
      if (status !== 200) return;
      // Nothing read before signing in (or under a session that expired) is shown after it.
      queryClient.removeQueries({
        predicate: (query) => query.queryKey[0] !== sessionQuery.queryKey[0],
      });
      await queryClient.invalidateQueries({ queryKey: sessionQuery.queryKey });
    },
  });
}

export function useLogout(): UseMutationResult<void, Error, void> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      // Signed out already, or the server is away: the session is re-read either way.
      await call('POST', '/api/logout').catch(() => undefined);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionQuery.queryKey }),
  });
}
