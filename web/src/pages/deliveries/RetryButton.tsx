import { useRetryDelivery } from '../../api/deliveries.js';
import type { Delivery } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';

/** Re-queues a failed or rejected delivery; says why not when the server refuses. */
export function RetryButton({ delivery, label }: { delivery: Delivery; label: string }) {
  const retry = useRetryDelivery();
  if (delivery.status !== 'failed' && delivery.status !== 'rejected') return null;
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        size="sm"
        variant="secondary"
        aria-label={label}
        disabled={retry.isPending}
        onClick={() => retry.mutate(delivery.id)}
      >
        {retry.isPending ? 'Retrying…' : 'Retry'}
      </Button>
      {retry.isError && (
        <span role="alert" className="text-xs text-red-800">
          Could not retry: {retry.error.message}
        </span>
      )}
    </span>
  );
}
