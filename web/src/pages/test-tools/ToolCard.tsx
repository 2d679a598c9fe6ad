import { useId, type ReactNode } from 'react';
import { Button } from '../../components/Button.js';
import { formatDuration } from '../../format.js';
import type { ToolRun } from './toolRun.js';

export interface ToolCardProps<T> {
  title: string;
  description: ReactNode;
  buttonLabel: string;
  tool: ToolRun<T>;
  testId: string;
  controls?: ReactNode;
  variant?: 'primary' | 'danger';
  children: (result: T) => ReactNode;
}

export function ToolCard<T>({
  title,
  description,
  buttonLabel,
  tool,
  testId,
  controls,
  variant = 'primary',
  children,
}: ToolCardProps<T>) {
  const headingId = useId();
  return (
    <section
      aria-labelledby={headingId}
      data-testid={testId}
      className="flex flex-col rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5"
    >
      <h2 id={headingId} className="text-base font-semibold text-slate-900">
        {title}
      </h2>
      <p className="mt-1 text-sm text-slate-600">{description}</p>
      <div className="mt-3 flex flex-wrap items-end gap-3">
        {controls}
        <Button
          variant={variant}
          onClick={tool.run}
          disabled={tool.running}
          aria-describedby={`${headingId}-timing`}
        >
          {tool.running && (
            <span
              aria-hidden="true"
              className="size-3.5 animate-spin rounded-full border-2 border-white/40 border-t-white"
            />
          )}
          {buttonLabel}
        </Button>
        <span
          id={`${headingId}-timing`}
          data-testid={`${testId}-timing`}
          className="py-2 text-sm text-slate-600 tabular-nums"
        >
          {tool.running ? 'Running…' : tool.last ? `Took ${formatDuration(tool.last.ms)}` : ''}
        </span>
      </div>
      <div aria-live="polite" className="mt-3 text-sm" data-testid={`${testId}-result`}>
        {tool.last?.error !== undefined && (
          <p role="alert" className="text-red-800">
            The request failed: the server could not be reached.
          </p>
        )}
        {tool.last?.result !== undefined && children(tool.last.result)}
      </div>
    </section>
  );
}
