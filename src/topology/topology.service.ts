import type {
  NewProvider,
  NewService,
  Provider,
  ProviderPatch,
  ProviderView,
  Service,
  ServiceChange,
  ServicePatch,
} from '../contracts/index.js';
import { lockAllocationState, lockProviders } from '../db/locks.sql.js';
import { transaction, type Pool, type Tx } from '../db/pool.js';
import type { EventsCommitted } from '../events/events-committed.js';
import { appendEvents } from '../events/events.sql.js';
import { AppError, NotFound, ValidationFailed } from '../errors.js';
import { refuseUrl } from '../delivery/address-guard.js';
import { systemClock, type Clock } from '../allocation/calendar.js';
import {
  deleteProviderDelivery,
  selectStoredDelivery,
  upsertProviderDelivery,
} from '../delivery/delivery.sql.js';
import { resolveSecrets } from '../delivery/secrets.js';
import { insertAudit } from '../audit/audit.sql.js';
import {
  archiveProvider,
  archiveService,
  insertProvider,
  selectProvidersWithDelivery,
  insertService,
  replaceMembership,
  selectService,
  updateProvider,
  updateService,
} from './topology.sql.js';

function invalid(message: string, path: string): AppError {
  return new ValidationFailed([{ path, message }]);
}

/** The field a unique violation is about, by the index that refused it (migration 0010). */
function uniqueViolationField(error: unknown): string | null {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (code !== '23505') return null;
  return constraint === 'services_slug_live_key' ? 'slug' : 'name';
}

/**
 * Validates a membership and locks its providers before the membership rows are written:
 * inserting those takes key locks on the providers in list order (4, 1, 8, …), which against
 * an allocation holding them deadlocked.
 */
async function lockMembership(
  tx: Tx,
  staticIds: number[],
  poolIds: number[],
  currentMembers: number[] = [],
): Promise<void> {
  const all = [...staticIds, ...poolIds];
  if (new Set(all).size !== all.length) {
    throw invalid('a provider may appear once, either static or in the pool', 'pool');
  }
  // An archived provider may stay where it was (it is inactive there) but joins nothing new.
  const known = new Set(
    (await lockProviders(tx, all))
      .filter((provider) => !provider.archived || currentMembers.includes(provider.id))
      .map((provider) => provider.id),
  );
  const unknown = all.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new AppError(400, 'unknown_provider', { providerIds: unknown });
}

function warningsFor(service: Service): string[] {
  const members = service.static.length + service.pool.length;
  return members < service.providersPerLead
    ? [
        `only ${members} providers for ${service.providersPerLead} per lead: every lead will be unallocated`,
      ]
    : [];
}

/** Operator changes to providers and services, under the locks allocation takes, broadcast as events. */
export class TopologyService {
  constructor(
    private readonly pool: Pool,
    private readonly committed: EventsCommitted,
    /** Refuse delivery URLs that reach loopback, private or link-local addresses (SPEC §9). */
    private readonly guardDeliveryUrls: boolean = false,
    private readonly clock: Clock = systemClock,
  ) {}

  async createProvider(input: NewProvider, actor: string): Promise<Provider> {
    const remainingQuota = input.remainingQuota ?? input.quota;
    if (remainingQuota > input.quota) throw invalid('cannot exceed quota', 'remainingQuota');
    return this.write(async (tx) => {
      const provider = await insertProvider(tx, {
        name: input.name,
        quota: input.quota,
        remainingQuota,
        active: input.active ?? true,
      });
      const { timezone, caps, schedule, filters } = input;
      // Rules given at creation are part of it: one event and one audit row either way.
      const created =
        (timezone ?? caps ?? schedule ?? filters)
          ? await updateProvider(tx, provider.id, { timezone, caps, schedule, filters })
          : provider;
      await appendEvents(tx, this.committed, [
        {
          type: 'provider.updated',
          payload: { provider: created, change: 'created', deliveryState: 'none' },
        },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'provider.created',
        entity: 'provider',
        entityId: provider.id,
        before: null,
        after: (await selectProvidersWithDelivery(tx, provider.id, this.clock()))[0],
      });
      return created;
    });
  }

  async updateProvider(id: number, input: ProviderPatch, actor: string): Promise<ProviderView> {
    const { delivery, ...changes } = input;
    if (delivery && this.guardDeliveryUrls) {
      // Before the transaction: a slow DNS answer must not hold the provider's row lock.
      const refused = await refuseUrl(delivery.url);
      if (refused) throw invalid(`not allowed: ${refused}`, 'delivery.url');
    }
    return this.write(async (tx) => {
      const [current] = await lockProviders(tx, [id]);
      if (!current || current.archived) throw new NotFound('provider_not_found');
      const before = (await selectProvidersWithDelivery(tx, id, this.clock()))[0]!;
      // Nothing to change: no write, no event, no audit row saying something changed.
      if (Object.keys(input).length === 0) return before;
      const quota = changes.quota ?? current.quota;
      // Lowering a quota lowers what is left with it; raising it leaves what is left alone.
      const remainingQuota = changes.remainingQuota ?? Math.min(current.remainingQuota, quota);
      if (remainingQuota > quota) throw invalid('cannot exceed quota', 'remainingQuota');
      const provider = await updateProvider(tx, id, { ...changes, quota, remainingQuota });
      // Under the provider's lock, which allocation holds while it writes deliveries: a lead
      // allocated concurrently is delivered by the endpoint before or after, never half.
      if (delivery === null) await deleteProviderDelivery(tx, id);
      else if (delivery) {
        const stored = await selectStoredDelivery(tx, id);
        await upsertProviderDelivery(tx, id, resolveSecrets(delivery, stored));
      }
      // Both sides as reads show them: header values and the signing secret masked.
      const after = (await selectProvidersWithDelivery(tx, id, this.clock()))[0]!;
      await appendEvents(tx, this.committed, [
        // Saving the endpoint clears its health: a resume, like the probe's, for whoever
        // follows the events.
        ...(before.deliveryState === 'paused' && after.deliveryState === 'ok'
          ? [{ type: 'provider.delivery_resumed' as const, payload: { providerId: id } }]
          : []),
        {
          type: 'provider.updated',
          payload: { provider, change: 'updated', deliveryState: after.deliveryState },
        },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'provider.updated',
        entity: 'provider',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  /**
   * Archives a provider: inactive for good, hidden from lists, history kept. Deliveries
   * already queued to it are still sent. An archived (or unknown) provider is a 404.
   */
  async archiveProvider(id: number, actor: string): Promise<ProviderView> {
    return this.write(async (tx) => {
      const [current] = await lockProviders(tx, [id]);
      if (!current || current.archived) throw new NotFound('provider_not_found');
      const before = (await selectProvidersWithDelivery(tx, id, this.clock()))[0]!;
      const provider = await archiveProvider(tx, id);
      const after = (await selectProvidersWithDelivery(tx, id, this.clock()))[0]!;
      await appendEvents(tx, this.committed, [
        {
          type: 'provider.updated',
          payload: { provider, change: 'archived', deliveryState: after.deliveryState },
        },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'provider.archived',
        entity: 'provider',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  async createService(input: NewService, actor: string): Promise<ServiceChange> {
    return this.write(async (tx) => {
      const staticIds = input.static ?? [];
      const poolIds = input.pool ?? [];
      await lockMembership(tx, staticIds, poolIds);
      const id = await insertService(tx, {
        slug: input.slug,
        name: input.name,
        providersPerLead: input.providersPerLead ?? 3,
      });
      await replaceMembership(tx, id, staticIds, poolIds);
      const service = (await selectService(tx, id))!;
      await appendEvents(tx, this.committed, [
        { type: 'service.updated', payload: { service, change: 'created' } },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'service.created',
        entity: 'service',
        entityId: id,
        before: null,
        after: service,
      });
      return { service, warnings: warningsFor(service) };
    });
  }

  async updateService(id: number, input: ServicePatch, actor: string): Promise<ServiceChange> {
    return this.write(async (tx) => {
      if (!(await lockAllocationState(tx, id))) throw new NotFound('service_not_found');
      const current = (await selectService(tx, id))!;
      // Nothing to change: no write, no event, no audit row saying something changed.
      if (Object.keys(input).length === 0)
        return { service: current, warnings: warningsFor(current) };
      await updateService(tx, id, {
        ...(input.slug !== undefined && { slug: input.slug }),
        ...(input.name !== undefined && { name: input.name }),
        ...(input.providersPerLead !== undefined && { providersPerLead: input.providersPerLead }),
        ...(input.dedupe !== undefined && { dedupe: input.dedupe }),
        ...(input.backlogHours !== undefined && { backlogHours: input.backlogHours }),
      });
      if (input.static !== undefined || input.pool !== undefined) {
        const staticIds = input.static ?? current.static;
        const poolIds = input.pool ?? current.pool;
        await lockMembership(tx, staticIds, poolIds, [...current.static, ...current.pool]);
        await replaceMembership(tx, id, staticIds, poolIds);
      }
      const service = (await selectService(tx, id))!;
      await appendEvents(tx, this.committed, [
        { type: 'service.updated', payload: { service, change: 'updated' } },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'service.updated',
        entity: 'service',
        entityId: id,
        before: current,
        after: service,
      });
      return { service, warnings: warningsFor(service) };
    });
  }

  /**
   * Archives a service: senders get `service_not_found` from the commit on, its leads,
   * allocations and deliveries stay. An archived (or unknown) service is a 404.
   */
  async archiveService(id: number, actor: string): Promise<Service> {
    return this.write(async (tx) => {
      // The allocation lock: an allocation in flight for it finishes first, none starts after.
      if (!(await lockAllocationState(tx, id))) throw new NotFound('service_not_found');
      const before = (await selectService(tx, id))!;
      await archiveService(tx, id);
      const service = (await selectService(tx, id))!;
      await appendEvents(tx, this.committed, [
        { type: 'service.updated', payload: { service, change: 'archived' } },
      ]);
      await insertAudit(tx, {
        actor,
        action: 'service.archived',
        entity: 'service',
        entityId: id,
        before,
        after: service,
      });
      return service;
    });
  }

  private async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await transaction(this.pool, work);
    } catch (error) {
      const field = uniqueViolationField(error);
      if (field !== null)
        throw new AppError(409, 'conflict', {
          details: [
            {
              path: field,
              message: `already taken by another ${field === 'slug' ? 'service' : 'provider'}`,
            },
          ],
        });
      throw error;
    }
  }
}
