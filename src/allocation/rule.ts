/**
 * The allocation rule of SPEC §3, as a pure function over locked state. The service applies
 * it lead by lead inside one transaction, carrying quotas and the pointer forward.
 */

import type { Role } from '../contracts/index.js';

export interface ProviderQuota {
  id: number;
  remainingQuota: number;
  active: boolean;
  /** Its deliveries failed DELIVERY_PAUSE_AFTER times in a row (SPEC §9): it takes no lead. */
  deliveryPaused?: boolean;
}

export interface Topology {
  providersPerLead: number;
  staticIds: readonly number[];
  poolIds: readonly number[];
}

export interface Pick {
  providers: { id: number; role: Role }[];
  /** The pool pointer after this lead. */
  pointer: number;
}

function available(provider: ProviderQuota | undefined): provider is ProviderQuota {
  return (
    provider !== undefined &&
    provider.active &&
    provider.remainingQuota > 0 &&
    provider.deliveryPaused !== true
  );
}

/** The providers for one lead, or null when fewer than N can take it (nothing changes then). */
/**
 * Why a lead could not be allocated: `delivery_paused` when a paused provider with quota would
 * have been eligible otherwise, `insufficient_quota` else.
 */
export function unallocatedReason(
  topology: Topology,
  quotas: ReadonlyMap<number, ProviderQuota>,
): 'delivery_paused' | 'insufficient_quota' {
  const paused = [...topology.staticIds, ...topology.poolIds].some((id) => {
    const provider = quotas.get(id);
    return provider?.deliveryPaused === true && provider.active && provider.remainingQuota > 0;
  });
  return paused ? 'delivery_paused' : 'insufficient_quota';
}

export function pickProviders(
  topology: Topology,
  quotas: ReadonlyMap<number, ProviderQuota>,
  pointer: number,
): Pick | null {
  const wanted = topology.providersPerLead;
  const taken: { id: number; role: Role }[] = [];
  const takenIds = new Set<number>();
  for (const id of topology.staticIds) {
    if (taken.length === wanted) break;
    if (available(quotas.get(id)) && !takenIds.has(id)) {
      taken.push({ id, role: 'static' });
      takenIds.add(id);
    }
  }
  const poolSize = topology.poolIds.length;
  // A pool that shrank under a stored pointer starts again from its beginning.
  const start = poolSize === 0 ? 0 : pointer % poolSize;
  let lastPoolIndex = -1;
  for (let step = 0; step < poolSize && taken.length < wanted; step++) {
    const index = (start + step) % poolSize;
    const id = topology.poolIds[index]!;
    if (available(quotas.get(id)) && !takenIds.has(id)) {
      taken.push({ id, role: 'pool' });
      takenIds.add(id);
      lastPoolIndex = index;
    }
  }
  if (taken.length < wanted) return null;
  return {
    providers: taken,
    pointer: lastPoolIndex === -1 ? pointer : (lastPoolIndex + 1) % poolSize,
  };
}
