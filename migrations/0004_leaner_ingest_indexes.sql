-- Every accepted lead paid for eleven index entries across leads_raw, leads and events. Three
-- of them served no query:
--   leads_raw (received_at)  nothing reads raw rows by time;
--   leads (raw_id)           only a DELETE on leads_raw would use it, and raw rows are kept;
--   events (created_at)      retention now finds its boundary by id (ids rise with time).
DROP INDEX leads_raw_received_at_idx;
DROP INDEX leads_raw_id_idx;
DROP INDEX events_created_at_idx;
