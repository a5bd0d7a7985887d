-- Webhooks: endpoints an owner registers per project, and one delivery row
-- per (endpoint, event). The rows are the outbox: the project's
-- WebhookOutbox Durable Object sends the due ones from its alarm, records
-- each attempt here and schedules the next by exponential back-off; after
-- the last attempt a row is `dead` (the dashboard's dead letter) until the
-- owner redelivers it. Payloads carry ids, tier, rule, metric, window and
-- numbers only, never prompt or answer content.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id           text PRIMARY KEY,
  project_id   text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  url          text NOT NULL,
  description  text NOT NULL DEFAULT '',
  events       text[] NOT NULL,
  enabled      boolean NOT NULL DEFAULT true,
  -- The whsec_ signing secret, sealed (AES-256-GCM, AAD = purpose and project).
  secret_enc   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_project ON webhook_endpoints (project_id);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id                text PRIMARY KEY,
  project_id        text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  endpoint_id       text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  -- The same id on every attempt: receivers dedupe by it.
  event_id          text NOT NULL,
  event_type        text NOT NULL,
  payload           text NOT NULL,
  status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  last_attempt_at   timestamptz,
  last_status_code  integer,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at      timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
  ON webhook_deliveries (project_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_recent
  ON webhook_deliveries (project_id, created_at DESC);
