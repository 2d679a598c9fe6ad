import { asc, eq, inArray, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Provider as ProviderView, Service as ServiceView } from '../contracts/index.js';
import type { Pool, Tx } from '../db/pool.js';
import { allocationState, providers, serviceProviders, services } from '../db/schema.js';

const providerColumns = {
  id: providers.id,
  name: providers.name,
  quota: providers.quota,
  remainingQuota: providers.remainingQuota,
  active: providers.active,
};

const db = (client: Pool | Tx) => drizzle({ client });

export async function selectProviders(client: Pool | Tx): Promise<ProviderView[]> {
  return db(client).select(providerColumns).from(providers).orderBy(asc(providers.id));
}

export async function selectProviderIds(client: Pool | Tx, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db(client)
    .select({ id: providers.id })
    .from(providers)
    .where(inArray(providers.id, ids));
  return rows.map((row) => row.id);
}

export async function lockProvider(tx: Tx, id: number): Promise<ProviderView | null> {
  const rows = await db(tx)
    .select(providerColumns)
    .from(providers)
    .where(eq(providers.id, id))
    .for('update');
  return rows[0] ?? null;
}

export async function insertProvider(
  tx: Tx,
  values: { name: string; quota: number; remainingQuota: number; active: boolean },
): Promise<ProviderView> {
  const rows = await db(tx).insert(providers).values(values).returning(providerColumns);
  return rows[0]!;
}

export async function updateProvider(
  tx: Tx,
  id: number,
  values: Partial<{ name: string; quota: number; remainingQuota: number; active: boolean }>,
): Promise<ProviderView> {
  const rows = await db(tx)
    .update(providers)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(providers.id, id))
    .returning(providerColumns);
  return rows[0]!;
}

export async function selectServices(client: Pool | Tx): Promise<ServiceView[]> {
  // One after another: a transaction's client runs one query at a time anyway, and pg
  // deprecates queueing several on one client.
  const serviceRows = await db(client).select().from(services).orderBy(asc(services.id));
  const memberRows = await db(client)
    .select()
    .from(serviceProviders)
    .orderBy(
      asc(serviceProviders.serviceId),
      asc(serviceProviders.role),
      asc(serviceProviders.position),
    );
  const stateRows = await db(client).select().from(allocationState);
  const pointers = new Map(stateRows.map((row) => [row.serviceId, row.poolPointer]));
  return serviceRows.map((service) => {
    const members = memberRows.filter((member) => member.serviceId === service.id);
    return {
      id: service.id,
      slug: service.slug,
      name: service.name,
      providersPerLead: service.providersPerLead,
      static: members
        .filter((member) => member.role === 'static')
        .map((member) => member.providerId),
      pool: members.filter((member) => member.role === 'pool').map((member) => member.providerId),
      pointer: pointers.get(service.id) ?? 0,
    };
  });
}

export async function selectService(client: Pool | Tx, id: number): Promise<ServiceView | null> {
  return (await selectServices(client)).find((service) => service.id === id) ?? null;
}

export async function insertService(
  tx: Tx,
  values: { slug: string; name: string; providersPerLead: number; id?: number },
): Promise<number> {
  const rows = await db(tx).insert(services).values(values).returning({ id: services.id });
  const id = rows[0]!.id;
  await db(tx).insert(allocationState).values({ serviceId: id, poolPointer: 0 });
  return id;
}

/** Takes the same first lock as an allocation of this service. */
export async function lockServiceState(tx: Tx, id: number): Promise<boolean> {
  const rows = await db(tx)
    .select({ id: allocationState.serviceId })
    .from(allocationState)
    .where(eq(allocationState.serviceId, id))
    .for('update');
  return rows.length === 1;
}

export async function updateService(
  tx: Tx,
  id: number,
  values: Partial<{ slug: string; name: string; providersPerLead: number }>,
): Promise<void> {
  if (Object.keys(values).length > 0) {
    await db(tx).update(services).set(values).where(eq(services.id, id));
  }
}

export async function replaceMembership(
  tx: Tx,
  serviceId: number,
  staticIds: number[],
  poolIds: number[],
): Promise<void> {
  await db(tx).delete(serviceProviders).where(eq(serviceProviders.serviceId, serviceId));
  const rows = [
    ...staticIds.map((providerId, position) => ({
      serviceId,
      providerId,
      role: 'static' as const,
      position,
    })),
    ...poolIds.map((providerId, position) => ({
      serviceId,
      providerId,
      role: 'pool' as const,
      position,
    })),
  ];
  if (rows.length > 0) await db(tx).insert(serviceProviders).values(rows);
  await db(tx)
    .update(allocationState)
    .set({ poolPointer: 0 })
    .where(eq(allocationState.serviceId, serviceId));
}

export async function countProviders(client: Pool | Tx): Promise<number> {
  const rows = await db(client)
    .select({ count: sql<number>`count(*)::int` })
    .from(providers);
  return rows[0]?.count ?? 0;
}

/** Moves the identity sequences past explicitly inserted ids (the demo seeds ids 1…8). */
export async function syncIdentitySequences(tx: Tx): Promise<void> {
  await tx.query(
    `SELECT setval(pg_get_serial_sequence('providers', 'id'), GREATEST((SELECT max(id) FROM providers), 1))`,
  );
  await tx.query(
    `SELECT setval(pg_get_serial_sequence('services', 'id'), GREATEST((SELECT max(id) FROM services), 1))`,
  );
}
