-- Event ids come from a sequence inside each writer's transaction, so they commit out of order.
-- A reader must never deliver id N while a smaller id can still commit. Writers therefore
-- announce themselves before drawing ids: each takes a transaction-scoped advisory lock whose
-- key is 2^62 + (the sequence's last value + 1), a lower bound of every id it will draw.
-- events_horizon() reads the sequence first, then the smallest announced bound: every id below
-- both is final (committed or rolled back). Nobody ever waits on these locks; pg_locks is only
-- read, never contended, so writers keep committing in parallel and sharing WAL flushes.
CREATE FUNCTION events_horizon() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  drawn bigint;
  lowest_in_flight bigint;
BEGIN
  SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO drawn FROM events_id_seq;
  SELECT min(((l.classid::bigint << 32) | l.objid::bigint) - (1::bigint << 62))
    INTO lowest_in_flight
    FROM pg_locks l
   WHERE l.locktype = 'advisory'
     AND l.objsubid = 1
     AND l.granted
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid >= (1::bigint << 30);
  RETURN CASE WHEN lowest_in_flight IS NULL THEN drawn ELSE least(drawn, lowest_in_flight - 1) END;
END $$;
