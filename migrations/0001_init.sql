-- AI Ratelimit: the whole data model. Forward-only; applied once, in order,
-- under pg_advisory_lock(7411001), and recorded in schema_migrations.
-- Never stored here: prompts, answers, provider keys or sk_ secrets in clear.

CREATE TABLE IF NOT EXISTS accounts (
  id          text PRIMARY KEY,
  email       text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Magic links: only the SHA-256 of the token is kept; a link works once.
CREATE TABLE IF NOT EXISTS magic_links (
  token_hash  text PRIMARY KEY,
  email       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS magic_links_email_created ON magic_links (email, created_at);

-- Per-IP attempts at the magic-link endpoint (rate limiting outside development).
CREATE TABLE IF NOT EXISTS auth_attempts (
  ip          text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS auth_attempts_ip_created ON auth_attempts (ip, created_at);

CREATE TABLE IF NOT EXISTS projects (
  id                       text PRIMARY KEY,
  owner_id                 text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name                     text NOT NULL,
  provider                 text NOT NULL,
  base_url                 text,
  -- AES-256-GCM, "v1:<nonce b64>:<ciphertext b64>", AAD = project id.
  provider_key_enc         text,
  provider_key_hint        text,
  -- The publishable key is public by design; it is the lookup key of the proxy.
  project_key              text NOT NULL UNIQUE,
  -- The sk_ secret is the HMAC key of signed identities: encrypted, not hashed.
  secret_key_enc           text NOT NULL,
  default_tier             text NOT NULL,
  tiers                    jsonb NOT NULL,
  require_signed_identity  boolean NOT NULL DEFAULT false,
  allowed_origins          jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS projects_owner ON projects (owner_id, created_at);

CREATE TABLE IF NOT EXISTS rules (
  id          text PRIMARY KEY,
  project_id  text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        text NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  priority    bigint NOT NULL DEFAULT 0,
  condition   jsonb NOT NULL,
  action      jsonb NOT NULL,
  seq         bigserial,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rules_project ON rules (project_id, priority, seq);

-- Idempotency of analytics: an event id is applied to the rollups once.
CREATE TABLE IF NOT EXISTS usage_events (
  event_id    text PRIMARY KEY,
  project_id  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Daily rollups per project x identity x tier x model x day.
CREATE TABLE IF NOT EXISTS usage_daily (
  project_id     text NOT NULL,
  identity       text NOT NULL,
  tier           text NOT NULL,
  model          text NOT NULL,
  day            date NOT NULL,
  requests       bigint NOT NULL DEFAULT 0,
  input_tokens   bigint NOT NULL DEFAULT 0,
  output_tokens  bigint NOT NULL DEFAULT 0,
  blocked        bigint NOT NULL DEFAULT 0,
  warned         bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, identity, tier, model, day)
);
CREATE INDEX IF NOT EXISTS usage_daily_project_day ON usage_daily (project_id, day);

CREATE TABLE IF NOT EXISTS rule_triggers (
  event_id       text PRIMARY KEY,
  project_id     text NOT NULL,
  rule_id        text NOT NULL,
  rule_name      text NOT NULL,
  identity       text NOT NULL,
  tier           text NOT NULL,
  action         text NOT NULL,
  usage_percent  double precision,
  triggered_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rule_triggers_project_time ON rule_triggers (project_id, triggered_at);
