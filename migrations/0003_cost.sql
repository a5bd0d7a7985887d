-- Cost: a project's own model prices and its tier prices (micro-dollars),
-- {"modelPrices": {model: {input, output, cachedInput?}}, "tierPrices": {tier: µUSD}};
-- prices are per million tokens, tier prices per identity per month.
ALTER TABLE projects ADD COLUMN IF NOT EXISTS pricing jsonb NOT NULL DEFAULT '{}'::jsonb;

-- The cost of the requests in a daily rollup, in micro-dollars (integers,
-- never floats). Rows written before this migration cost 0.
ALTER TABLE usage_daily ADD COLUMN IF NOT EXISTS cost_micros bigint NOT NULL DEFAULT 0;
