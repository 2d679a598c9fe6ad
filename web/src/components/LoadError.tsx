import { ApiError } from '../api/client.js';
import { Button } from './Button.js';

export interface LoadErrorProps {
  error: unknown;
  onRetry?: () => void;
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'This server requires signing in.';
    if (error.status === 404) return 'Not found.';
    return `The server answered ${error.status} (${error.code}).`;
  }
  return 'The server could not be reached.';
}

export function LoadError({ error, onRetry }: LoadErrorProps) {
  return (
    <div
      role="alert"
      className="flex flex-wrap items-center gap-3 rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-900"
    >
      <span>{describe(error)}</span>
      {onRetry && (
        <Button variant="secondary" size="sm" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}
