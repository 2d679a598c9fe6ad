import { useQuery, type QueryClient } from '@tanstack/react-query';
import type { UiConfig } from '../../../src/contracts/index.js';
import { OPEN_SERVER, sessionQuery, useLogout } from '../api/session.js';
import { navigate } from '../router/router.js';

export interface Session {
  /** Undefined until the server answered. */
  config: UiConfig | undefined;
  signOut(): Promise<void>;
}

export function loginPath(): string {
  const here = window.location.pathname + window.location.search;
  return here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`;
}

/** A 401 from any call: the gate in App.tsx then sends the operator to sign in. */
export function expireSession(client: QueryClient): void {
  client.setQueryData(
    sessionQuery.queryKey,
    (current) => current && { ...current, authenticated: false },
  );
}

export function useSession(): Session {
  const session = useQuery(sessionQuery);
  const logout = useLogout();
  return {
    // Unreachable: keep what we knew (a failed re-read keeps its data), else assume open and
    // let the pages report the failure themselves.
    config: session.data ?? (session.isError ? OPEN_SERVER : undefined),
    signOut: async () => {
      await logout.mutateAsync();
      navigate('/login');
    },
  };
}
