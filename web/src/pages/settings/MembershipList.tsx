import type { Provider } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';

export type Slot = 'static' | 'pool';

export interface MembershipListProps {
  slot: Slot;
  serviceName: string;
  ids: number[];
  providers: Map<number, Provider>;
  onMove: (index: number, delta: -1 | 1) => void;
  onSwitch: (index: number) => void;
  onRemove: (index: number) => void;
}

/** One ordered list (static or pool) with keyboard-operable reordering. */
export function MembershipList({
  slot,
  serviceName,
  ids,
  providers,
  onMove,
  onSwitch,
  onRemove,
}: MembershipListProps) {
  const other = slot === 'static' ? 'pool' : 'static';
  const title = slot === 'static' ? 'Static, served first' : 'Pool, round-robin order';
  return (
    <div>
      <h4 className="mb-1 text-xs font-semibold text-slate-700 uppercase">{title}</h4>
      {ids.length === 0 ? (
        <p className="text-sm text-slate-600">None.</p>
      ) : (
        <ol className="space-y-1" aria-label={`${serviceName} ${slot} providers`}>
          {ids.map((providerId, index) => {
            const name = providers.get(providerId)?.name ?? `#${providerId}`;
            return (
              <li
                key={providerId}
                data-testid={`${slot}-member-${providerId}`}
                className="flex items-center gap-1 rounded-lg border border-slate-200 bg-slate-50 px-2 py-1"
              >
                <span className="w-6 text-xs text-slate-600 tabular-nums">{index + 1}.</span>
                <span className="flex-1 text-sm font-medium">{name}</span>
                <Button
                  variant="ghost"
                  size="sm"
                  aria-label={`Move ${name} up`}
                  disabled={index === 0}
                  onClick={() => onMove(index, -1)}
                >
                  ↑
                </Button>
                <Button
                  variant="ghost"
                  size="sm"
                  aria-label={`Move ${name} down`}
                  disabled={index === ids.length - 1}
                  onClick={() => onMove(index, 1)}
                >
                  ↓
                </Button>
                <Button
                  variant="ghost"
                  size="sm"
                  aria-label={`Make ${name} ${other}`}
                  onClick={() => onSwitch(index)}
                >
                  → {other}
                </Button>
                <Button
                  variant="ghost"
                  size="sm"
                  aria-label={`Remove ${name}`}
                  onClick={() => onRemove(index)}
                >
                  ✕
                </Button>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
