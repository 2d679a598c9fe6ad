/**
 * The allocation rule of SPEC §3 with the eligibility of SPEC §10, as a pure function over
 * locked state. The service applies it lead by lead inside one transaction, carrying quotas,
 * cap counts and the pointer forward.
 */

import type { Role } from '../contracts/index.js';
import {
  CAP_PERIODS,
  type CapUsage,
  type Caps,
  type Decision,
  type Filter,
  type Schedule,
  type SkipReason,
} from '../contracts/rules.js';
import { isOpen } from './calendar.js';
import { filtersHold, type FilterableLead } from './filters.js';

/** What the rule needs of one provider; `usage` is counted by the caller and moved forward. */
export interface ProviderQuota {
  id: number;
  remainingQuota: number;
  active: boolean;
  /** Its deliveries failed DELIVERY_PAUSE_AFTER times in a row (SPEC §9): it takes no lead. */
  deliveryPaused?: boolean;
  timezone?: string;
  caps?: Caps;
  /** Allocations in each cap's current period; only periods with a cap need counting. */
  usage?: CapUsage;
  schedule?: Schedule;
  filters?: readonly Filter[];
}

export interface Topology {
  providersPerLead: number;
  staticIds: readonly number[];
  poolIds: readonly number[];
}

/** The lead being allocated and the moment it is: what the §10 rules read. */
export interface LeadContext {
  now: Date;
  lead: FilterableLead;
  /** Scope `provider` dedupe: whether the provider had this lead's contact within the window. */
  hadContact?: (providerId: number) => boolean;
}

export interface Pick {
  providers: { id: number; role: Role }[];
  /** The pool pointer after this lead. */
  pointer: number;
  decisions: Decision[];
}

/** Why a provider cannot take this lead, or null when it can (checked in the SPEC's order). */
export function skipReasonFor(
  provider: ProviderQuota | undefined,
  context: LeadContext | undefined,
): SkipReason | null {
  if (provider === undefined || !provider.active) return 'inactive';
  if (provider.remainingQuota <= 0) return 'no_quota';
  if (context) {
    for (const period of CAP_PERIODS) {
      const cap = provider.caps?.[period];
      if (cap !== undefined && (provider.usage?.[period] ?? 0) >= cap) return `cap_${period}`;
    }
    if (provider.schedule && !isOpen(provider.schedule, context.now, provider.timezone ?? 'UTC'))
      return 'outside_schedule';
    if (provider.filters && !filtersHold(provider.filters, context.lead)) return 'filter';
    if (context.hadContact?.(provider.id)) return 'duplicate';
  }
  if (provider.deliveryPaused === true) return 'delivery_paused';
  return null;
}

/**
 * Why a lead could not be allocated: `delivery_paused` when a paused provider with quota would
 * have been eligible otherwise, `insufficient_quota` else.
 */
export function unallocatedReason(
  decisions: readonly Decision[],
): 'delivery_paused' | 'insufficient_quota' {
  return decisions.some((decision) => decision.reason === 'delivery_paused')
    ? 'delivery_paused'
    : 'insufficient_quota';
}

/**
 * The providers for one lead, or null providers when fewer than N can take it (nothing
 * changes then). `decisions` has one entry per member considered: taken, or skipped with why
 * (`not_needed` once N were taken).
 */
export function pickProviders(
  topology: Topology,
  quotas: ReadonlyMap<number, ProviderQuota>,
  pointer: number,
  context?: LeadContext,
): Pick | null {
  const attempt = tryProviders(topology, quotas, pointer, context);
  return attempt.providers ? { ...attempt, providers: attempt.providers } : null;
}

export function tryProviders(
  topology: Topology,
  quotas: ReadonlyMap<number, ProviderQuota>,
  pointer: number,
  context?: LeadContext,
): Omit<Pick, 'providers'> & { providers: Pick['providers'] | null } {
  const wanted = topology.providersPerLead;
  const taken: { id: number; role: Role }[] = [];
  const takenIds = new Set<number>();
  const decisions: Decision[] = [];
  const consider = (id: number, role: Role): boolean => {
    if (taken.length === wanted) {
      decisions.push({ providerId: id, role, outcome: 'skipped', reason: 'not_needed' });
      return false;
    }
    if (takenIds.has(id)) return false;
    const reason = skipReasonFor(quotas.get(id), context);
    decisions.push({ providerId: id, role, outcome: reason ? 'skipped' : 'taken', reason });
    if (reason) return false;
    taken.push({ id, role });
    takenIds.add(id);
    return true;
  };
  for (const id of topology.staticIds) consider(id, 'static');
  const poolSize = topology.poolIds.length;
  // A pool that shrank under a stored pointer starts again from its beginning.
  const start = poolSize === 0 ? 0 : pointer % poolSize;
  let lastPoolIndex = -1;
  for (let step = 0; step < poolSize; step++) {
    const index = (start + step) % poolSize;
    if (consider(topology.poolIds[index]!, 'pool')) lastPoolIndex = index;
  }
  if (taken.length < wanted) return { providers: null, pointer, decisions };
  return {
    providers: taken,
    pointer: lastPoolIndex === -1 ? pointer : (lastPoolIndex + 1) % poolSize,
    decisions,
  };
}

/** Moves a taken provider's quota and cap counts forward, as its allocation row will. */
export function recordTaken(provider: ProviderQuota): void {
  provider.remainingQuota--;
  if (provider.usage) for (const period of CAP_PERIODS) provider.usage[period]++;
}
