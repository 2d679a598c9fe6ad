import type { StreamStatus } from '../hooks/useEventStream.js';

const LOOK: Record<StreamStatus, { text: string; className: string; dot: string }> = {
  live: {
    text: 'Live',
    className: 'border-emerald-300 bg-emerald-50 text-emerald-800',
    dot: 'bg-emerald-600 animate-pulse',
  },
  reconnecting: {
    text: 'Reconnecting…',
    className: 'border-amber-300 bg-amber-50 text-amber-900',
    dot: 'bg-amber-500',
  },
  connecting: {
    text: 'Connecting…',
    className: 'border-slate-300 bg-slate-50 text-slate-700',
    dot: 'bg-slate-400',
  },
};

export interface ConnectionBadgeProps {
  status: StreamStatus;
  lastEventId: number | null;
}

export function ConnectionBadge({ status, lastEventId }: ConnectionBadgeProps) {
  const look = LOOK[status];
  return (
    <span
      role="status"
      data-testid="connection-badge"
      data-status={status}
      data-last-event-id={lastEventId ?? ''}
      title={lastEventId === null ? 'No event received yet' : `Last event #${lastEventId}`}
      className={`inline-flex items-center gap-2 rounded-full border px-3 py-1 text-sm font-medium ${look.className}`}
    >
      <span aria-hidden="true" className={`size-2.5 rounded-full ${look.dot}`} />
      {look.text}
    </span>
  );
}
