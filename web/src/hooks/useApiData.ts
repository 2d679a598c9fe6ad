import { useCallback, useEffect, useState } from 'react';

export interface ApiData<T> {
  data: T | undefined;
  previous: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads once per change of `key` and again on `reload()`. An answer that arrives after the
 * key changed is dropped, so a slow search never overwrites a newer one.
 */
export function useApiData<T>(key: string, load: () => Promise<T>): ApiData<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown }>({ key: '' });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ key, data }),
      (error: unknown) => current && setState({ key, error }),
    );
    return () => {
      current = false;
    };
    // `load` is a fresh closure every render; `key` names what it loads.
  }, [key, generation]);

  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    /** The last answer, even for an older key: lists keep showing while the next page loads. */
    previous: state.data,
    error: fresh ? state.error : undefined,
    loading: !fresh,
    reload,
  };
}
