-- Delivery to providers (SPEC §9): each provider's endpoint and its health, one delivery per
-- allocation to a provider with an endpoint (written in the allocation's statement), and
-- every attempt. The deliveries table is the dispatcher's queue.

CREATE TABLE provider_delivery (
  provider_id          integer     PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
  url                  text        NOT NULL,
  method               text        NOT NULL DEFAULT 'POST' CHECK (method IN ('POST', 'PUT')),
  format               text        NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'form')),
  headers              jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- target name → lead field or extra.<path>; NULL sends the whole lead.
  fields               jsonb,
  timeout_ms           integer     NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 100 AND 120000),
  max_attempts         integer     NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 100),
  accept_pattern       text,
  signing_secret       text,
  -- Health, shared by every instance: failed attempts in a row, and when paused the next probe.
  consecutive_failures integer     NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  paused_at            timestamptz,
  next_probe_at        timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
  id                  uuid        PRIMARY KEY,
  lead_id             uuid        NOT NULL REFERENCES leads (id),
  provider_id         integer     NOT NULL REFERENCES providers (id),
  allocation_id       bigint      NOT NULL UNIQUE REFERENCES allocations (id),
  status              text        NOT NULL DEFAULT 'pending'
                                  CHECK (status IN ('pending', 'delivered', 'rejected', 'failed')),
  -- Every send ever made; a manual retry moves attempts_base up so maxAttempts starts again.
  attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  attempts_base       integer     NOT NULL DEFAULT 0 CHECK (attempts_base >= 0),
  -- While pending: when it is due. A claim moves it past the send's timeout, so the same
  -- column is the lease: a process killed mid-send lets the row fall due again by time.
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  -- Set by a claim to the same instant, cleared when the attempt is recorded: a paused
  -- provider's probe, which ignores backoff, must still not take a row another send holds.
  leased_until        timestamptz,
  last_status_code    integer,
  last_error          text,
  delivered_at        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lead_id, provider_id)
);

-- The dispatcher's poll: due pending rows, oldest first; final rows leave the index.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
-- A paused provider's probe, and the API's filters by provider.
CREATE INDEX deliveries_provider_idx ON deliveries (provider_id, status, next_attempt_at);
CREATE INDEX deliveries_status_idx ON deliveries (status, id DESC);

CREATE TABLE delivery_attempts (
  delivery_id      uuid        NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt          integer     NOT NULL CHECK (attempt >= 1),
  started_at       timestamptz NOT NULL,
  duration_ms      integer     NOT NULL CHECK (duration_ms >= 0),
  outcome          text        NOT NULL
                               CHECK (outcome IN ('delivered', 'rejected', 'retry', 'failed')),
  status_code      integer,
  error            text,
  -- The first 2 KiB of the response body.
  response_excerpt text,
  PRIMARY KEY (delivery_id, attempt)
);
