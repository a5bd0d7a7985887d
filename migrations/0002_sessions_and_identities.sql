-- Sign-out-everywhere: a session carries the account's epoch when it was
-- issued; POST /api/auth/sign-out-all moves the epoch on, which ends every
-- session issued before.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS session_epoch bigint NOT NULL DEFAULT 0;

-- The secret-key API (Authorization: Bearer sk_…) finds a project by the
-- SHA-256 of its secret (the secret itself is sealed, never stored in clear).
-- Projects created before get it on their first proxied request or their
-- next secret rotation.
ALTER TABLE projects ADD COLUMN IF NOT EXISTS secret_key_hash text;
CREATE UNIQUE INDEX IF NOT EXISTS projects_secret_key_hash ON projects (secret_key_hash);

-- Tier trust and per-IP caps for unsigned requests:
-- {"tierSource": "request"|"server", "anonymousLimits": {requests?, tokens?}}.
ALTER TABLE projects ADD COLUMN IF NOT EXISTS identity_policy jsonb NOT NULL DEFAULT '{}'::jsonb;

-- The index of identity records, for listing them. The record itself lives
-- in the identity's Durable Object (where it applies, atomically with
-- admission); this copy is written by the Worker after the object accepted
-- a change, so its credits are as of the last change, not live.
CREATE TABLE IF NOT EXISTS identity_records (
  project_id  text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  identity    text NOT NULL,
  record      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, identity)
);
