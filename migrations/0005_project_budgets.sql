-- Project budgets: caps on a whole project's usage per window (every
-- identity together). The list in force lives in the project's
-- ProjectBudget Durable Object; this is the copy the proxy's project cache
-- loads, written by the owner API after the object took a change:
-- [{"metric": "requests"|"tokens", "period": "minute"|…|"month", "limit": n}].
CREATE TABLE IF NOT EXISTS project_budgets (
  project_id  text PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  budgets     jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
