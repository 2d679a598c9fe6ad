import {
  useMutation,
  useMutationState,
  useQueryClient,
  type QueryKey,
} from '@tanstack/react-query';
import { useId } from 'react';

/** A run's outcome and its wall time, from the click to the last answer, failed or not. */
export type Timed<T> = { ms: number } & (
  { result: T; error?: undefined } | { result?: undefined; error: unknown }
);

export interface ToolRun<T> {
  running: boolean;
  /** The last finished run; it stays on screen while the next one runs. */
  last: Timed<T> | undefined;
  run(): void;
}

async function timed<T>(action: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  try {
    return { result: await action(), ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

/**
 * A test tool as a mutation: its requests change what other pages show, so the queries named
 * by `invalidates` are re-read when next shown. Keyed by the component instance, so a page
 * opened again starts blank rather than with a run from an earlier visit.
 */
export function useToolRun<T>(action: () => Promise<T>, invalidates: QueryKey[]): ToolRun<T> {
  const queryClient = useQueryClient();
  const mutationKey = ['tool', useId()];
  const mutation = useMutation({
    mutationKey,
    mutationFn: () => timed(action),
    onSettled: () => {
      for (const queryKey of invalidates) void queryClient.invalidateQueries({ queryKey });
    },
  });
  const finished = useMutationState({
    filters: { mutationKey, status: 'success' },
    select: (run) => run.state.data as Timed<T>,
  });
  return { running: mutation.isPending, last: finished.at(-1), run: () => mutation.mutate() };
}
