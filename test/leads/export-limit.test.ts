import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLeads } from '../../bench/seed-leads.sql.js';
import { MAX_CONCURRENT_EXPORTS } from '../../src/leads/leads.routes.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/**
 * An export holds a pooled connection while its client reads. Enough leads that a client
 * reading nothing keeps its export open (the socket's buffers fill long before the end).
 */
let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  const client = await db.pool.connect();
  try {
    await seedLeads(client, 60_000, 1, false);
  } finally {
    client.release();
  }
  server = await startTestApp(db);
}, 120_000);

// Closing takes about a minute here after the aborted exports (noticed, not yet explained:
// every pooled connection is back, see the test); the hook allows for it.
afterAll(async () => {
  await server?.close();
  await db?.drop();
}, 120_000);

describe('concurrent exports', () => {
  it('answers 429 with Retry-After beyond the limit, leaving connections for ingestion', async () => {
    const readers = Array.from({ length: MAX_CONCURRENT_EXPORTS }, () => new AbortController());
    const held = await Promise.all(
      readers.map((controller) =>
        fetch(`${server.url}/api/leads/export.csv`, { signal: controller.signal }),
      ),
    );
    expect(held.map((response) => response.status)).toEqual(readers.map(() => 200));
    const refused = await fetch(`${server.url}/api/leads/export.csv`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Ingestion still has connections while the exports are held.
    const lead = await fetch(`${server.url}/api/lead`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'during-export@example.com' }),
    });
    expect(lead.status).toBe(201);
    await lead.body?.cancel();
    for (const [index, controller] of readers.entries()) {
      controller.abort();
      await held[index]!.body?.cancel().catch(() => {});
    }
    // Both held exports gave their connections back.
    await expect
      .poll(() => server.pool.totalCount - server.pool.idleCount, { timeout: 10_000 })
      .toBe(0);
    await expect
      .poll(async () => {
        const again = await fetch(`${server.url}/api/leads/export.csv?country=AT`);
        await again.body?.cancel();
        return again.status;
      })
      .toBe(200);
  });
});
