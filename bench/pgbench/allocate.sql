-- Allocation baseline: SPEC §3 for one lead per transaction, with the locks Leadflow takes —
-- the service's state row, then its providers in ascending id order — so services 1 and 3
-- (sharing P1–P4) and 2 and 3 (sharing P5–P8) queue on each other exactly as in the server.
-- BEGIN, lock state, lock providers, update, insert allocations, COMMIT. Quotas are large
-- enough never to run out, so the pick is the static providers then the pool from the pointer.
\set service random(1, 3)
BEGIN;
SELECT pool_pointer AS pointer, nextval('bench_allocation_seq') AS n
  FROM allocation_state WHERE service_id = :service FOR UPDATE \gset
SELECT id, remaining_quota, active FROM providers
 WHERE id IN (SELECT provider_id FROM service_providers WHERE service_id = :service)
 ORDER BY id FOR UPDATE;
WITH pool AS (SELECT count(*) AS size FROM service_providers WHERE service_id = :service AND role = 'pool'),
     picked AS (
       SELECT provider_id FROM service_providers, pool
        WHERE service_id = :service
        ORDER BY CASE WHEN role = 'static' THEN position
                      ELSE 1000 + (position - :pointer + size) % size END
        LIMIT 3)
UPDATE providers SET remaining_quota = remaining_quota - 1, updated_at = now()
 WHERE id IN (SELECT provider_id FROM picked);
WITH pool AS (SELECT count(*) AS size FROM service_providers WHERE service_id = :service AND role = 'pool'),
     statics AS (SELECT count(*) AS size FROM service_providers WHERE service_id = :service AND role = 'static'),
     picked AS (
       SELECT provider_id, role FROM service_providers, pool
        WHERE service_id = :service
        ORDER BY CASE WHEN role = 'static' THEN position
                      ELSE 1000 + (position - :pointer + size) % size END
        LIMIT 3),
     lead AS (
       UPDATE leads SET status = 'allocated', service_id = :service
        WHERE id = (SELECT lead_id FROM bench_allocation_queue WHERE n = :n)
       RETURNING id),
     pointer AS (
       UPDATE allocation_state
          SET pool_pointer = (:pointer + greatest(0, 3 - (SELECT size FROM statics))) % (SELECT size FROM pool)
        WHERE service_id = :service)
INSERT INTO allocations (lead_id, service_id, provider_id, role)
SELECT lead.id, :service, provider_id, role FROM picked, lead;
END;
