-- The operator console (SPEC §11): lead filters by time, the raw request browser, the volume
-- and per-provider reports. Figures at 1,000,000 leads are in README (Reports).

-- The reports count leads per hour or day by status and service. Carrying both in the index
-- the list already walks by time makes that an index-only scan, and costs an insert nothing:
-- it replaces the index instead of adding one (status changes already could not be HOT
-- updates, leads_status_created_at_idx holds status).
DROP INDEX leads_created_at_idx;
CREATE INDEX leads_created_at_idx ON leads (created_at DESC, id DESC) INCLUDE (status, service_id);

-- Per-provider allocations by time, index-only; replaces the index the allocation log reads.
DROP INDEX allocations_allocated_at_idx;
CREATE INDEX allocations_allocated_at_idx ON allocations (allocated_at DESC, id DESC)
  INCLUDE (provider_id, service_id);

-- Delivery outcomes per provider by time (the reports), index-only. One more entry per
-- allocated provider: the delivery row itself costs more (three indexes already).
CREATE INDEX deliveries_created_at_idx ON deliveries (created_at) INCLUDE (provider_id, status);

-- The raw request browser by status, newest first. Accepted rows are nearly all of them and
-- are browsed by id (the primary key) anyway; leaving them out keeps the ingest hot path
-- free of this index (0004 removed a time index from it for that reason).
CREATE INDEX leads_raw_status_idx ON leads_raw (status, id DESC) WHERE status <> 'accepted';
-- Duplicates per hour or day (the volume report).
CREATE INDEX leads_raw_duplicate_received_idx ON leads_raw (received_at) INCLUDE (lead_id)
  WHERE status = 'duplicate';
