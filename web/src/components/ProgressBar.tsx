import { useEffect, useRef, useState } from 'react';

export interface ProgressBarProps {
  value: number;
  max: number;
  label: string;
  muted?: boolean;
}

function tone(fraction: number, muted: boolean): string {
  if (muted) return 'bg-slate-400';
  if (fraction > 0.5) return 'bg-emerald-600';
  if (fraction > 0.2) return 'bg-amber-500';
  return 'bg-red-600';
}

/** Remaining of a total; the width eases to each new value and the track flashes once. */
export function ProgressBar({ value, max, label, muted = false }: ProgressBarProps) {
  const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const [flashes, setFlashes] = useState(0);
  const previous = useRef(value);
  useEffect(() => {
    if (previous.current !== value) setFlashes((count) => count + 1);
    previous.current = value;
  }, [value]);

  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-valuetext={`${value} of ${max} left`}
      className="relative h-3 w-full rounded-full bg-slate-200"
    >
      <div
        className={`h-full rounded-full transition-[width,background-color] duration-700 ease-out ${tone(fraction, muted)}`}
        style={{ width: `${fraction * 100}%` }}
      />
      {flashes > 0 && (
        <span
          key={flashes}
          aria-hidden="true"
          className="animate-flash pointer-events-none absolute inset-0 rounded-full"
        />
      )}
    </div>
  );
}
