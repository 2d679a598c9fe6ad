import type { Logger } from 'pino';
import {
  SLUG_PATTERN,
  type AllocationRow,
  type NewEvent,
  type PickedProvider,
} from '../contracts/index.js';
import { Batcher } from '../db/batcher.js';
import { afterCommit, transaction, type Pool, type Tx } from '../db/pool.js';
import { withRetry } from '../db/retry.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { lockAllocationState, lockLeads, lockProviders } from '../db/locks.sql.js';
import {
  selectAllocationsForLeads,
  selectLeadAllocationState,
  selectMembership,
  selectServiceByReference,
  writeAllocations,
  type NewAllocation,
  type ServiceRef,
} from './allocation.sql.js';
import { isIntegerId } from '../db/ids.js';
import { pickProviders, unallocatedReason, type ProviderQuota } from './rule.js';

export type AllocationResult =
  | { ok: true; serviceId: number; providers: PickedProvider[] }
  | { ok: false; error: 'insufficient_quota' | 'service_not_found' | 'not_allocated' };

function resultFromRows(serviceId: number, rows: AllocationRow[]): AllocationResult {
  return {
    ok: true,
    serviceId,
    providers: rows.map((row) => ({ id: row.providerId, name: row.providerName, role: row.role })),
  };
}

/**
 * Allocates leads to providers by SPEC §3. Each service has its own queue: leads waiting
 * for the same service are allocated together, in arrival order, under one set of locks and
 * one commit, while services that share no provider proceed in parallel. Correctness across
 * instances rests on the row locks alone; the queue only saves commits.
 */
export class AllocationService {
  private readonly batchers = new Map<number, Batcher<string, AllocationResult>>();
  private readonly servicesById = new Map<number, ServiceRef>();

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    /** Called after a commit that queued deliveries: this instance's dispatcher sends at once. */
    private readonly deliveriesQueued: () => void = () => {},
    /** Told after each commit how many leads of a service were allocated or not (metrics). */
    private readonly settled: (
      serviceId: number,
      outcome: 'allocated' | 'unallocated',
      count: number,
    ) => void = () => {},
  ) {}

  /**
   * A service by id or slug. Ids found are cached (services are never deleted, so an id stays
   * valid); slugs can be renamed, so they are always looked up.
   */
  async findService(reference: number | string): Promise<ServiceRef | null> {
    // References no service can have are not worth a query, and some would fail one (an id
    // beyond integer, a NUL in a slug): they name nothing.
    if (typeof reference === 'number' ? !isIntegerId(reference) : !SLUG_PATTERN.test(reference)) {
      return null;
    }
    const cached = typeof reference === 'number' ? this.servicesById.get(reference) : undefined;
    if (cached) return cached;
    const service = await selectServiceByReference(this.pool, reference);
    if (service) this.servicesById.set(service.id, service);
    return service;
  }

  /** Allocates a stored lead; a lead allocated before gets its first answer again. */
  allocateLead(leadId: string, serviceId: number): Promise<AllocationResult> {
    let batcher = this.batchers.get(serviceId);
    if (!batcher) {
      batcher = new Batcher((leadIds) => this.allocateBatch(serviceId, leadIds), {
        maxBatch: 100,
        maxConcurrent: 1,
      });
      this.batchers.set(serviceId, batcher);
    }
    return batcher.submit(leadId);
  }

  /**
   * The answer for a lead already stored (an idempotent retry), allocating it if still new. A
   * lead first stored without a service (POST /api/lead) is allocated to `serviceId`, the
   * service the retry names: it had no allocation to repeat.
   */
  async answerFor(leadId: string, serviceId?: number): Promise<AllocationResult> {
    const lead = await selectLeadAllocationState(this.pool, leadId);
    const leadServiceId = lead?.serviceId ?? (lead?.status === 'new' ? serviceId : undefined);
    if (!lead || leadServiceId === undefined) return { ok: false, error: 'not_allocated' };
    if (lead.status === 'new') return this.allocateLead(leadId, leadServiceId);
    if (lead.status === 'unallocated') return { ok: false, error: 'insufficient_quota' };
    return resultFromRows(leadServiceId, await selectAllocationsForLeads(this.pool, [leadId]));
  }

  private allocateBatch(serviceId: number, leadIds: string[]): Promise<AllocationResult[]> {
    return withRetry(
      () => transaction(this.pool, (tx) => this.allocateInTransaction(tx, serviceId, leadIds)),
      {
        onRetry: (error, attempt) =>
          this.logger.warn(
            { err: error, attempt, serviceId, batch: leadIds.length },
            'allocation retried',
          ),
      },
    );
  }

  private async allocateInTransaction(
    tx: Tx,
    serviceId: number,
    leadIds: string[],
  ): Promise<AllocationResult[]> {
    const state = await lockAllocationState(tx, serviceId);
    if (!state) return leadIds.map(() => ({ ok: false, error: 'service_not_found' }));
    const membership = await selectMembership(tx, serviceId);
    const providers = await lockProviders(tx, [...membership.staticIds, ...membership.poolIds]);
    const quotas = new Map<number, ProviderQuota>(
      providers.map((provider) => [provider.id, { ...provider }]),
    );
    const names = new Map(providers.map((provider) => [provider.id, provider.name]));
    const leads = new Map((await lockLeads(tx, leadIds)).map((lead) => [lead.id, lead]));

    const topology = { providersPerLead: state.providersPerLead, ...membership };
    let pointer = state.pointer;
    const allocations: NewAllocation[] = [];
    const statuses: { leadId: string; status: 'allocated' | 'unallocated' }[] = [];
    const events: NewEvent[] = [];
    const results = new Map<string, AllocationResult>();
    const settledEarlier: string[] = [];

    for (const leadId of leadIds) {
      const lead = leads.get(leadId);
      if (!lead || results.has(leadId)) continue;
      if (lead.status !== 'new' || (lead.serviceId !== null && lead.serviceId !== serviceId)) {
        settledEarlier.push(leadId);
        continue;
      }
      const pick = pickProviders(topology, quotas, pointer);
      if (!pick) {
        statuses.push({ leadId, status: 'unallocated' });
        results.set(leadId, { ok: false, error: 'insufficient_quota' });
        events.push({
          type: 'lead.unallocated',
          payload: { leadId, serviceId, reason: unallocatedReason(topology, quotas) },
        });
        continue;
      }
      pointer = pick.pointer;
      for (const provider of pick.providers) {
        quotas.get(provider.id)!.remainingQuota--;
        allocations.push({ leadId, providerId: provider.id, role: provider.role });
      }
      statuses.push({ leadId, status: 'allocated' });
      const picked = pick.providers.map((provider) => ({
        id: provider.id,
        name: names.get(provider.id)!,
        role: provider.role,
      }));
      results.set(leadId, { ok: true, serviceId, providers: picked });
      events.push({
        type: 'lead.allocated',
        payload: {
          leadId,
          serviceId,
          pointer,
          providers: picked.map((provider) => ({
            ...provider,
            remainingQuota: quotas.get(provider.id)!.remainingQuota,
          })),
        },
      });
    }

    if (statuses.length > 0) {
      const queued = await writeAllocations(tx, serviceId, allocations, statuses, pointer);
      if (queued > 0) afterCommit(tx, this.deliveriesQueued);
      const allocatedCount = statuses.filter((entry) => entry.status === 'allocated').length;
      afterCommit(tx, () => {
        this.settled(serviceId, 'allocated', allocatedCount);
        this.settled(serviceId, 'unallocated', statuses.length - allocatedCount);
      });
    }
    if (settledEarlier.length > 0) {
      const rows = await selectAllocationsForLeads(tx, settledEarlier);
      for (const leadId of settledEarlier) {
        const lead = leads.get(leadId)!;
        const own = rows.filter((row) => row.leadId === leadId);
        results.set(
          leadId,
          own.length > 0
            ? resultFromRows(own[0]!.serviceId, own)
            : {
                ok: false,
                error: lead.status === 'unallocated' ? 'insufficient_quota' : 'not_allocated',
              },
        );
      }
    }
    await appendEvents(tx, this.committed, events);
    return leadIds.map((leadId) => results.get(leadId) ?? { ok: false, error: 'not_allocated' });
  }
}
