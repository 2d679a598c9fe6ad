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
import {
  deleteProviderDelivery,
  selectStoredDelivery,
  upsertProviderDelivery,
} from '../delivery/delivery.sql.js';
import { resolveSecrets } from '../delivery/secrets.js';
import {
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

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === '23505';
}

/**
 * Validates a membership and locks its providers before the membership rows are written:
 * inserting those takes key locks on the providers in list order (4, 1, 8, …), which against
 * an allocation holding them deadlocked.
 */
async function lockMembership(tx: Tx, staticIds: number[], poolIds: number[]): Promise<void> {
  const all = [...staticIds, ...poolIds];
  if (new Set(all).size !== all.length) {
    throw invalid('a provider may appear once, either static or in the pool', 'pool');
  }
  const known = new Set((await lockProviders(tx, all)).map((provider) => provider.id));
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
  ) {}

  async createProvider(input: NewProvider): Promise<Provider> {
    const remainingQuota = input.remainingQuota ?? input.quota;
    if (remainingQuota > input.quota) throw invalid('cannot exceed quota', 'remainingQuota');
    return this.write(async (tx) => {
      const provider = await insertProvider(tx, {
        name: input.name,
        quota: input.quota,
        remainingQuota,
        active: input.active ?? true,
      });
      await appendEvents(tx, this.committed, [
        {
          type: 'provider.updated',
          payload: { provider, change: 'created', deliveryState: 'none' },
        },
      ]);
      return provider;
    });
  }

  async updateProvider(id: number, input: ProviderPatch): Promise<ProviderView> {
    const { delivery, ...changes } = input;
    if (delivery && this.guardDeliveryUrls) {
      // Before the transaction: a slow DNS answer must not hold the provider's row lock.
      const refused = await refuseUrl(delivery.url);
      if (refused) throw invalid(`not allowed: ${refused}`, 'delivery.url');
    }
    return this.write(async (tx) => {
      const [current] = await lockProviders(tx, [id]);
      if (!current) throw new NotFound('provider_not_found');
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
      const view = (await selectProvidersWithDelivery(tx, id))[0]!;
      await appendEvents(tx, this.committed, [
        {
          type: 'provider.updated',
          payload: { provider, change: 'updated', deliveryState: view.deliveryState },
        },
      ]);
      return view;
    });
  }

  async createService(input: NewService): Promise<ServiceChange> {
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
      return { service, warnings: warningsFor(service) };
    });
  }

  async updateService(id: number, input: ServicePatch): Promise<ServiceChange> {
    return this.write(async (tx) => {
      if (!(await lockAllocationState(tx, id))) throw new NotFound('service_not_found');
      const current = (await selectService(tx, id))!;
      await updateService(tx, id, {
        ...(input.slug !== undefined && { slug: input.slug }),
        ...(input.name !== undefined && { name: input.name }),
        ...(input.providersPerLead !== undefined && { providersPerLead: input.providersPerLead }),
      });
      if (input.static !== undefined || input.pool !== undefined) {
        const staticIds = input.static ?? current.static;
        const poolIds = input.pool ?? current.pool;
        await lockMembership(tx, staticIds, poolIds);
        await replaceMembership(tx, id, staticIds, poolIds);
      }
      const service = (await selectService(tx, id))!;
      await appendEvents(tx, this.committed, [
        { type: 'service.updated', payload: { service, change: 'updated' } },
      ]);
      return { service, warnings: warningsFor(service) };
    });
  }

  private async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await transaction(this.pool, work);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError(409, 'conflict', {
          details: [{ path: 'name', message: 'already taken' }],
        });
      throw error;
    }
  }
}
