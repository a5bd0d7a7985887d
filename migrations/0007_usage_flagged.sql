-- Answers whose provider-reported usage had a count out of range (negative,
-- fractional, or above 10,000,000 per count): such a count is clamped or
-- ignored and the answer counted at least at its reservation; the owner sees
-- how many there were (analytics `usageFlagged`, the dashboard's overview).
ALTER TABLE usage_daily ADD COLUMN IF NOT EXISTS usage_flagged bigint NOT NULL DEFAULT 0;
