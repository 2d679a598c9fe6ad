-- Cap counters (SPEC §10, issue 13): each provider's allocations per cap period, kept with the
-- allocations themselves, so a batch reads four rows per provider instead of counting every
-- allocation since the start of the month under the service and provider locks.
--
-- period_start is where the period began in the provider's time zone. The allocation path
-- computes it with Luxon (src/allocation/calendar.ts) and upserts in the statement that
-- inserts the allocations, under the provider row locks it already holds. Rows of past
-- periods are never read again (reads name the current period_start); they are left in place.
CREATE TABLE provider_cap_usage (
  provider_id  integer     NOT NULL REFERENCES providers (id),
  period       text        NOT NULL CHECK (period IN ('hour', 'day', 'week', 'month')),
  period_start timestamptz NOT NULL,
  used         integer     NOT NULL CHECK (used >= 0),
  PRIMARY KEY (provider_id, period, period_start)
);

-- Recounts a provider's counters from its allocations in its current zone: for the backfill
-- below and when the zone changes (the keys of the old zone's periods mean nothing in the new
-- one). PostgreSQL's date_trunc with a zone does the zone math (DST included; ISO weeks start
-- on Monday, as Luxon's do). O(the provider's allocations), but only on a zone change.
CREATE FUNCTION rebuild_provider_cap_usage(target integer) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM provider_cap_usage WHERE provider_id = target;
  INSERT INTO provider_cap_usage (provider_id, period, period_start, used)
  SELECT a.provider_id, x.period, date_trunc(x.period, a.allocated_at, p.timezone), count(*)
    FROM allocations a
    JOIN providers p ON p.id = a.provider_id
   CROSS JOIN unnest(ARRAY['hour', 'day', 'week', 'month']) AS x(period)
   WHERE a.provider_id = target
   GROUP BY 1, 2, 3;
$$;

-- A trigger, not the API's update alone: a zone changed by any statement (an operator's SQL,
-- a test's setup) keeps the counters true. It runs under the row lock of the update.
CREATE FUNCTION providers_zone_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM rebuild_provider_cap_usage(NEW.id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER providers_zone_changed
  AFTER UPDATE OF timezone ON providers
  FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
  EXECUTE FUNCTION providers_zone_changed();

SELECT rebuild_provider_cap_usage(id) FROM providers;
