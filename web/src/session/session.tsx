import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react';
import { ApiError, UNAUTHORIZED_EVENT, api } from '../api/client.js';
import type { UiConfig } from '../../../src/contracts/index.js';
import { navigate } from '../router/router.js';

export interface Session {
  /** Undefined until the server answered. */
  config: UiConfig | undefined;
  refresh(): Promise<void>;
  signOut(): Promise<void>;
}

/** A server without the endpoint predates sign-in: it is open and has its test tools. */
const OPEN_SERVER: UiConfig = { testTools: true, auth: false, authenticated: true };

const SessionContext = createContext<Session>({
  config: OPEN_SERVER,
  refresh: async () => undefined,
  signOut: async () => undefined,
});

export function loginPath(): string {
  const here = window.location.pathname + window.location.search;
  return here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<UiConfig>();

  const refresh = useCallback(async () => {
    try {
      setConfig(await api.uiConfig());
    } catch (error) {
      // Unreachable: keep what we knew, and let the pages report the failure themselves.
      setConfig((current) =>
        error instanceof ApiError && error.status === 404 ? OPEN_SERVER : (current ?? OPEN_SERVER),
      );
    }
  }, []);

  const signOut = useCallback(async () => {
    await api.logout().catch(() => undefined);
    await refresh();
    navigate('/login');
  }, [refresh]);

  useEffect(() => {
    void refresh();
    const onUnauthorized = (): void => {
      setConfig((current) => current && { ...current, authenticated: false });
      navigate(loginPath(), { replace: true });
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [refresh]);

  const session = useMemo(() => ({ config, refresh, signOut }), [config, refresh, signOut]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  return useContext(SessionContext);
}
