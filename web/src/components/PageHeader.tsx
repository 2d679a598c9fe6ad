import { useEffect, type ReactNode } from 'react';

export interface PageHeaderProps {
  title: string;
  aside?: ReactNode;
  children?: ReactNode;
}

export function PageHeader({ title, aside, children }: PageHeaderProps) {
  useEffect(() => {
    document.title = `${title} · Leadflow`;
  }, [title]);
  return (
    <div className="mb-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold text-slate-900">{title}</h1>
        {aside}
      </div>
      {children && <div className="mt-1 text-sm text-slate-600">{children}</div>}
    </div>
  );
}
