-- Operator console (SPEC §11): archiving instead of deleting, and the audit log.

-- Archived providers and services keep their rows, so allocations, deliveries and leads that
-- reference them keep their history. An archived service is `service_not_found` to senders;
-- an archived provider is inactive and never allocated.
ALTER TABLE providers ADD COLUMN archived_at timestamptz;
ALTER TABLE services ADD COLUMN archived_at timestamptz;

-- Names and slugs are unique among the live ones only: archiving "service-1" frees its slug
-- for a new service instead of blocking it for good.
ALTER TABLE providers DROP CONSTRAINT providers_name_key;
CREATE UNIQUE INDEX providers_name_live_key ON providers (name) WHERE archived_at IS NULL;
ALTER TABLE services DROP CONSTRAINT services_slug_key;
CREATE UNIQUE INDEX services_slug_live_key ON services (slug) WHERE archived_at IS NULL;

-- One row per configuration change or manual action, written in the transaction of the
-- change itself (a rolled-back change leaves none), kept for good. Read newest first by id.
CREATE TABLE audit_log (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text        NOT NULL,
  action    text        NOT NULL,
  entity    text        NOT NULL,
  entity_id text,
  before    jsonb,
  after     jsonb
);
