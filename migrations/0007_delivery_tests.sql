-- "Send a test lead" (SPEC §11): each test send is recorded here, apart from deliveries, which
-- need a lead and an allocation a test does not have, and whose attempts count towards a
-- provider's health and success rate.
CREATE TABLE delivery_tests (
  id               uuid        PRIMARY KEY,
  provider_id      integer     NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  url              text        NOT NULL,
  started_at       timestamptz NOT NULL,
  duration_ms      integer     NOT NULL CHECK (duration_ms >= 0),
  outcome          text        NOT NULL CHECK (outcome IN ('delivered', 'rejected', 'failed')),
  status_code      integer,
  error            text,
  -- The first 2 KiB of the response body.
  response_excerpt text
);
CREATE INDEX delivery_tests_provider_idx ON delivery_tests (provider_id, started_at DESC);

-- The dashboard's success rate of the last hour reads attempts by time.
CREATE INDEX delivery_attempts_started_idx ON delivery_attempts (started_at);
