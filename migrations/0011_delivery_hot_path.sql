-- Delivery at speed (bench/README.md, "What limits speed", delivery). A delivery cost ~235 µs of
-- PostgreSQL CPU, most of it index upkeep: the claim and the outcome were both non-HOT updates
-- of a row with six indexes, twelve index insertions per delivery.
--
-- The claim now sets only `attempts` and `leased_until`, which no index names, so it is a HOT
-- update (no index touched) when the row's page has room for the new version; 70 leaves it.
ALTER TABLE deliveries SET (fillfactor = 70);

-- Only pending rows are in the queue's indexes: a delivery reaching a final state leaves them
-- on that update, instead of adding an entry to each. The probe's "oldest pending of this
-- provider" and bulk retries by provider read the first.
DROP INDEX deliveries_provider_idx;
CREATE INDEX deliveries_provider_pending_idx ON deliveries (provider_id, next_attempt_at)
  WHERE status = 'pending';

-- The API's lists, newest first: by provider (any status), and by status for every status but
-- `delivered`, the common one, which a backward walk of the primary key finds at once
-- (ids are UUIDv7). The old (status, id) index took an entry on every final update.
DROP INDEX deliveries_status_idx;
CREATE INDEX deliveries_provider_id_idx ON deliveries (provider_id, id DESC);
CREATE INDEX deliveries_unfinished_idx ON deliveries (status, id DESC)
  WHERE status <> 'delivered';

-- One delivery per allocation is already unique as (lead_id, provider_id), like the
-- allocation's own key: the unique index on allocation_id said it a second time.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_allocation_id_key;

-- "Send a test lead" answers are kept for a week (src/delivery/housekeeping.ts), deleted by age.
CREATE INDEX delivery_tests_started_idx ON delivery_tests (started_at);

-- Foreign keys checked per row on the hot paths, each a query of its own inside the statement
-- (EXPLAIN ANALYZE of the allocation statement, 600 leads × 3 providers: the three checks on
-- deliveries took 25–29 ms of its 90–99 ms, more than the rows' own insert). A delivery's lead
-- and provider are its allocation's, copied from it in the same statement
-- (allocation.sql.ts), and the allocation's own keys check both: the reference to the
-- allocation stays and says it for them. Attempts are written only for deliveries just
-- claimed, and deliveries are never deleted.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_lead_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_provider_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;
