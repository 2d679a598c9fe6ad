import type { LeadStatus, Role } from '../../../src/contracts/index.js';

const STATUS_LOOK: Record<string, string> = {
  allocated: 'bg-emerald-100 text-emerald-900',
  unallocated: 'bg-red-100 text-red-900',
  new: 'bg-sky-100 text-sky-900',
  accepted: 'bg-emerald-100 text-emerald-900',
  duplicate: 'bg-amber-100 text-amber-900',
  rejected: 'bg-red-100 text-red-900',
  failed: 'bg-red-100 text-red-900',
  reprocessed: 'bg-sky-100 text-sky-900',
  pending: 'bg-sky-100 text-sky-900',
  delivered: 'bg-emerald-100 text-emerald-900',
  expired: 'bg-slate-200 text-slate-800',
};

export function StatusBadge({ status }: { status: LeadStatus | string }) {
  return (
    <span
      className={`inline-block rounded-md px-2 py-0.5 text-xs font-semibold ${STATUS_LOOK[status] ?? 'bg-slate-100 text-slate-800'}`}
    >
      {status}
    </span>
  );
}

export interface ProviderTagProps {
  name: string;
  role: Role;
}

/** A provider as a lead got it: static ones solid, pool ones outlined, role spelled out. */
export function ProviderTag({ name, role }: ProviderTagProps) {
  const look =
    role === 'static'
      ? 'border-indigo-700 bg-indigo-700 text-white'
      : 'border-teal-700 bg-white text-teal-800';
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-md border px-1.5 py-0.5 text-xs font-semibold ${look}`}
    >
      {name}
      <span className="font-normal opacity-90">{role}</span>
    </span>
  );
}
