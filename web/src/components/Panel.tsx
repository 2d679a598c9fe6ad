import { useId, type ReactNode } from 'react';

export interface PanelProps {
  title: string;
  /** Shown at the right of the heading: counts, badges, actions. */
  aside?: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  className?: string;
}

export function Panel({ title, aside, description, children, className = '' }: PanelProps) {
  const headingId = useId();
  return (
    <section
      aria-labelledby={headingId}
      className={`min-w-0 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5 ${className}`}
    >
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id={headingId} className="text-base font-semibold text-slate-900">
          {title}
        </h2>
        {aside}
      </div>
      {description && <p className="mb-3 text-sm text-slate-600">{description}</p>}
      {children}
    </section>
  );
}
