import type pg from 'pg';

/**
 * `count` raw requests (98 % of them accepted leads, one in fifty a duplicate) spread evenly over the `days` before now, in one
 * statement each through generate_series: a million take about a minute, where the HTTP path
 * would take hours. Every third lead is allocated to three of the demo providers with a
 * delivery (mostly delivered, some failed), every tenth is unallocated; quotas are not touched, so this is for reading only (reports, export).
 */
export async function seedLeads(
  client: pg.Client | pg.PoolClient,
  count: number,
  days: number,
  withAllocations: boolean,
): Promise<void> {
  await client.query(
    `INSERT INTO leads_raw (endpoint, idempotency_key, request_id, received_at, content_type, body, status, lead_id)
     SELECT 'lead', 'seed-' || n, 'seed-' || n,
            now() - make_interval(secs => $2::float8 * 86400 * n / $1), 'application/json',
            convert_to('{"email":"seed' || n || '@example.com"}', 'UTF8'),
            CASE WHEN n % 50 = 0 THEN 'duplicate' ELSE 'accepted' END,
            NULL
       FROM generate_series(1, $1::int) AS n`,
    [count, days],
  );
  await client.query(
    `INSERT INTO leads (id, raw_id, idempotency_key, email, first_name, last_name, phone, country,
                        status, service_id, created_at)
     SELECT uuid_in(overlay(overlay(md5(r.id::text) placing '7' from 13) placing '8' from 17)::cstring),
            r.id, r.idempotency_key, 'seed' || r.id || '@example.com', 'First' || (r.id % 1000),
            '=cmd' || (r.id % 7), '+43' || r.id, (ARRAY['AT','DE','CH','IT'])[1 + r.id % 4],
            CASE WHEN $1 AND r.id % 3 = 0 THEN 'allocated' WHEN r.id % 10 = 0 THEN 'unallocated' ELSE 'new' END,
            CASE WHEN r.id % 3 = 0 OR r.id % 10 = 0 THEN 1 + r.id % 3 END,
            r.received_at
       FROM leads_raw r WHERE r.request_id LIKE 'seed-%' AND r.status = 'accepted'`,
    [withAllocations],
  );
  await client.query(
    `UPDATE leads_raw r SET lead_id = l.id FROM leads l WHERE l.raw_id = r.id AND r.request_id LIKE 'seed-%'`,
  );
  if (withAllocations) {
    await client.query(
      `INSERT INTO allocations (lead_id, service_id, provider_id, role, allocated_at)
       SELECT l.id, l.service_id, p.provider_id, 'pool', l.created_at
         FROM leads l
         CROSS JOIN LATERAL (VALUES (1 + (l.raw_id % 8)::int), (1 + ((l.raw_id + 1) % 8)::int),
                                    (1 + ((l.raw_id + 2) % 8)::int)) AS p(provider_id)
        WHERE l.status = 'allocated' AND l.idempotency_key LIKE 'seed-%'`,
    );
    await client.query(
      `INSERT INTO deliveries (id, lead_id, provider_id, allocation_id, status, created_at, updated_at)
       SELECT gen_random_uuid(), a.lead_id, a.provider_id, a.id,
              CASE WHEN a.id % 20 = 0 THEN 'failed' WHEN a.id % 50 = 1 THEN 'rejected' ELSE 'delivered' END,
              a.allocated_at, a.allocated_at
         FROM allocations a JOIN leads l ON l.id = a.lead_id
        WHERE l.idempotency_key LIKE 'seed-%'`,
    );
  }
  await client.query('VACUUM ANALYZE leads_raw, leads, allocations, deliveries');
}
