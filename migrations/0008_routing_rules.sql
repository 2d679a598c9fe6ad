-- Routing rules (SPEC §10): per-provider time zone, calendar caps, schedule and filters;
-- per-service dedupe and backlog; the decision trace of every allocation attempt.

ALTER TABLE providers
  ADD COLUMN timezone text  NOT NULL DEFAULT 'UTC',
  ADD COLUMN caps     jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN schedule jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN filters  jsonb NOT NULL DEFAULT '[]'::jsonb;

ALTER TABLE services
  ADD COLUMN dedupe        jsonb,
  ADD COLUMN backlog_hours integer NOT NULL DEFAULT 24 CHECK (backlog_hours >= 0);

-- Caps count a provider's allocations since the start of each period: one index range scan
-- per provider. It also serves everything the plain provider index did.
CREATE INDEX allocations_provider_time_idx ON allocations (provider_id, allocated_at);
DROP INDEX allocations_provider_idx;

-- The normalised contacts (email trimmed and lower-cased as 'e:…', phone digits as 'p:…') of
-- every allocated lead, written with its allocations: the duplicate window looks them up here
-- instead of by an expression over every lead.
CREATE TABLE lead_contacts (
  contact      text        NOT NULL,
  lead_id      uuid        NOT NULL REFERENCES leads (id),
  service_id   integer     NOT NULL REFERENCES services (id),
  allocated_at timestamptz NOT NULL,
  PRIMARY KEY (contact, lead_id)
);
CREATE INDEX lead_contacts_time_idx ON lead_contacts (contact, allocated_at);

-- One row per allocation attempt of a lead, with every provider considered and why.
CREATE TABLE allocation_attempts (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  lead_id      uuid        NOT NULL REFERENCES leads (id),
  service_id   integer     NOT NULL REFERENCES services (id),
  attempted_at timestamptz NOT NULL,
  outcome      text        NOT NULL
                           CHECK (outcome IN ('allocated', 'unallocated', 'duplicate', 'expired')),
  from_backlog boolean     NOT NULL DEFAULT false,
  duplicate_of uuid,
  decisions    jsonb       NOT NULL
);
CREATE INDEX allocation_attempts_lead_idx ON allocation_attempts (lead_id, id);

-- The backlog: a service's unallocated leads, oldest first.
CREATE INDEX leads_backlog_idx ON leads (service_id, created_at, id) WHERE status = 'unallocated';
