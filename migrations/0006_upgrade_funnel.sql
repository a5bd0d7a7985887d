-- The upgrade funnel (docs/API.md, "Upgrade funnel").
-- {"trackedRedirect": bool, "tierOrder": [tier, ...]} per project.
ALTER TABLE projects ADD COLUMN IF NOT EXISTS upgrade_funnel jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Daily rollups per project x day x tier x message (kind, origin, rule,
-- fingerprint of the copy). Written from the identities' outboxes like
-- usage_daily, idempotently through usage_events. `message` is the owner's
-- own copy (a template, never a rendered text, never an identity).
--   shown    times the message was shown
--   linked   ... of which with a tracked link
--   clicks   tracked links followed (each shown link counted once)
--   upgrades identities seen on a higher tier after this message (last touch)
CREATE TABLE IF NOT EXISTS funnel_daily (
  project_id    text NOT NULL,
  day           date NOT NULL,
  tier          text NOT NULL,
  kind          text NOT NULL,
  origin        text NOT NULL,
  rule_id       text NOT NULL DEFAULT '',
  message_hash  text NOT NULL,
  message       text NOT NULL DEFAULT '',
  shown         bigint NOT NULL DEFAULT 0,
  linked        bigint NOT NULL DEFAULT 0,
  clicks        bigint NOT NULL DEFAULT 0,
  upgrades      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, day, tier, kind, origin, rule_id, message_hash)
);
CREATE INDEX IF NOT EXISTS funnel_daily_project_day ON funnel_daily (project_id, day);
