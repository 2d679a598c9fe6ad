import type { Logger } from 'pino';
import { transaction, type Pool } from '../db/pool.js';
import { countProviders, replaceMembership, syncIdentitySequences } from './topology.sql.js';

/** SPEC §2: P1…P8 with quota 10; three services, two of which (1 and 3) share providers. */
export const DEMO_TOPOLOGY = {
  providers: Array.from({ length: 8 }, (_, index) => ({
    id: index + 1,
    name: `P${index + 1}`,
    quota: 10,
  })),
  services: [
    { id: 1, slug: 'service-1', name: 'Service 1', static: [1], pool: [2, 3, 4] },
    { id: 2, slug: 'service-2', name: 'Service 2', static: [5], pool: [6, 7, 8] },
    { id: 3, slug: 'service-3', name: 'Service 3', static: [1, 4], pool: [2, 3, 5, 6, 7, 8] },
  ],
} as const;

/** Seeds the demo topology when there are no providers yet. Returns whether it did. */
export async function seedDemo(pool: Pool, logger?: Logger): Promise<boolean> {
  return transaction(pool, async (tx) => {
    // Two instances starting together must not both seed.
    await tx.query('SELECT pg_advisory_xact_lock(7264231003)');
    if ((await countProviders(tx)) > 0) return false;
    for (const provider of DEMO_TOPOLOGY.providers) {
      await tx.query(
        'INSERT INTO providers (id, name, quota, remaining_quota) VALUES ($1, $2, $3, $3)',
        [provider.id, provider.name, provider.quota],
      );
    }
    for (const service of DEMO_TOPOLOGY.services) {
      await tx.query('INSERT INTO services (id, slug, name) VALUES ($1, $2, $3)', [
        service.id,
        service.slug,
        service.name,
      ]);
      await tx.query('INSERT INTO allocation_state (service_id) VALUES ($1)', [service.id]);
      await replaceMembership(tx, service.id, [...service.static], [...service.pool]);
    }
    await syncIdentitySequences(tx);
    logger?.info('demo topology seeded');
    return true;
  });
}
