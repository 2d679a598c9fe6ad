-- Event ids are drawn by writers holding the ordering lock SHARED (from the insert to COMMIT),
-- so writers never wait for each other. A reader takes it EXCLUSIVE for an instant: at that
-- moment no writer is between drawing an id and committing, so every id up to the sequence's
-- last value is final (committed or rolled back) and can be read without ever skipping one
-- that commits later.
CREATE FUNCTION events_horizon() RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7264231002);
  RETURN (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq);
END $$;
