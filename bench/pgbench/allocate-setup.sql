-- Leads for the allocation baseline to allocate, one per transaction, taken in order from
-- a sequence (the HTTP scenario stores its leads in the request itself; this baseline only
-- pays for the allocation). bench/scenarios.ts runs it before pgbench, sized for the run.
CREATE TABLE bench_allocation_queue (n bigint PRIMARY KEY, lead_id uuid NOT NULL);
CREATE SEQUENCE bench_allocation_seq;
WITH raw AS (
  INSERT INTO leads_raw (endpoint, sender, request_id, body, status, lead_id)
  SELECT 'request-service', 'pgbench', 'pgbench-' || g, '\x7b7d', 'accepted', gen_random_uuid()
    FROM generate_series(1, {{count}}) AS g
  RETURNING id, lead_id),
lead AS (
  INSERT INTO leads (id, raw_id, sender, status)
  SELECT lead_id, id, 'pgbench', 'new' FROM raw
  RETURNING id)
INSERT INTO bench_allocation_queue (n, lead_id)
SELECT row_number() OVER (), id FROM lead;
