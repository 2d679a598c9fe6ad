import { useCallback, useEffect, useRef, useState } from 'react';

export interface ToolRun<T> {
  running: boolean;
  result: T | undefined;
  error: unknown;
  /** Wall time of the last run, from the click to the last answer. */
  ms: number | undefined;
  run(): Promise<void>;
}

export function useTool<T>(action: () => Promise<T>): ToolRun<T> {
  const [state, setState] = useState<Omit<ToolRun<T>, 'run'>>({
    running: false,
    result: undefined,
    error: undefined,
    ms: undefined,
  });
  const runningRef = useRef(false);
  const actionRef = useRef(action);
  useEffect(() => {
    actionRef.current = action;
  });

  const run = useCallback(async () => {
    if (runningRef.current) return;
    runningRef.current = true;
    setState((previous) => ({ ...previous, running: true, error: undefined }));
    const started = performance.now();
    try {
      const result = await actionRef.current();
      setState({ running: false, result, error: undefined, ms: performance.now() - started });
    } catch (error) {
      setState({ running: false, result: undefined, error, ms: performance.now() - started });
    } finally {
      runningRef.current = false;
    }
  }, []);

  return { ...state, run };
}
