-- Ingestion: every request lands in leads_raw first; leads holds the normalised view.

CREATE TABLE leads_raw (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint        text        NOT NULL,
  sender          text        NOT NULL DEFAULT '',
  idempotency_key text,
  request_id      text        NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  content_type    text,
  remote_addr     text,
  headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  body            bytea       NOT NULL,
  -- accepted | duplicate | rejected | failed | reprocessed
  status          text        NOT NULL,
  error           text,
  lead_id         uuid
);

CREATE INDEX leads_raw_lead_id_idx ON leads_raw (lead_id);
CREATE INDEX leads_raw_failed_idx ON leads_raw (id) WHERE status = 'failed';
CREATE INDEX leads_raw_received_at_idx ON leads_raw (received_at);

CREATE TABLE leads (
  id              uuid        PRIMARY KEY,
  raw_id          bigint      NOT NULL REFERENCES leads_raw (id),
  -- Idempotency keys are scoped per sender (API key id; '' when ingestion is open).
  sender          text        NOT NULL DEFAULT '',
  idempotency_key text,
  click_id        text,
  country         text,
  creo            text,
  description     text,
  domain          text,
  email           text,
  first_name      text,
  ip              text,
  lang            text,
  last_name       text,
  marker          text,
  offer           text,
  phone           text,
  sourcetype      text,
  extra           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- new | allocated | unallocated
  status          text        NOT NULL DEFAULT 'new',
  service_id      integer,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX leads_sender_idempotency_key_uq ON leads (sender, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX leads_created_at_idx ON leads (created_at DESC, id DESC);
CREATE INDEX leads_status_created_at_idx ON leads (status, created_at DESC, id DESC);
CREATE INDEX leads_raw_id_idx ON leads (raw_id);
