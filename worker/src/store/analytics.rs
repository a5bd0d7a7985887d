//! Usage and rule-trigger rollups as stored (`usage_daily`,
//! `rule_triggers`), read for the owner API. Days are `YYYY-MM-DD` text,
//! instants ISO 8601 UTC text; every column is read by name.

use super::{col, Client, Row, StoreError};

/// One tier's sums over a range of days.
pub struct TierTotals {
    pub tier: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub blocked: i64,
    pub warned: i64,
    /// Answers whose provider usage had a count out of range.
    pub usage_flagged: i64,
    /// Micro-dollars.
    pub cost: i64,
}

/// Per-tier sums of a project's usage from `from` to `to` (both included),
/// of one identity when `identity` is given.
pub async fn totals_by_tier(
    client: &Client,
    project_id: &str,
    from: &str,
    to: &str,
    identity: Option<&str>,
) -> Result<Vec<TierTotals>, StoreError> {
    client
        .query(
            "SELECT tier, sum(requests)::bigint AS requests, sum(input_tokens)::bigint AS input_tokens, \
               sum(output_tokens)::bigint AS output_tokens, \
               sum(blocked)::bigint AS blocked, sum(warned)::bigint AS warned, \
               sum(cost_micros)::bigint AS cost, \
               sum(usage_flagged)::bigint AS usage_flagged \
             FROM usage_daily WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
               AND ($4::text IS NULL OR identity = $4) \
             GROUP BY tier ORDER BY tier",
            &[&project_id, &from, &to, &identity],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(TierTotals {
                tier: col(r, "tier")?,
                requests: col(r, "requests")?,
                input_tokens: col(r, "input_tokens")?,
                output_tokens: col(r, "output_tokens")?,
                blocked: col(r, "blocked")?,
                warned: col(r, "warned")?,
                usage_flagged: col(r, "usage_flagged")?,
                cost: col(r, "cost")?,
            })
        })
        .collect()
}

/// How many identities made or were refused a request from `from` to `to`.
pub async fn active_identities(
    client: &Client,
    project_id: &str,
    from: &str,
    to: &str,
) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT count(DISTINCT identity) AS identities FROM usage_daily WHERE project_id = $1 \
               AND day BETWEEN $2::text::date AND $3::text::date AND (requests > 0 OR blocked > 0)",
            &[&project_id, &from, &to],
        )
        .await?;
    col(&row, "identities")
}

/// One `usage_daily` row.
pub struct UsageRow {
    pub day: String,
    pub identity: String,
    pub tier: String,
    pub model: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub blocked: i64,
    pub warned: i64,
    pub cost: i64,
}

fn usage_row(r: &Row) -> Result<UsageRow, StoreError> {
    Ok(UsageRow {
        day: col(r, "day_text")?,
        identity: col(r, "identity")?,
        tier: col(r, "tier")?,
        model: col(r, "model")?,
        requests: col(r, "requests")?,
        input_tokens: col(r, "input_tokens")?,
        output_tokens: col(r, "output_tokens")?,
        blocked: col(r, "blocked")?,
        warned: col(r, "warned")?,
        cost: col(r, "cost_micros")?,
    })
}

/// Up to `limit` usage rows from `from` to `to`, ordered by day, identity,
/// tier, model, strictly after the key `after` (day, identity, tier, model).
pub async fn usage_page(
    client: &Client,
    project_id: &str,
    from: &str,
    to: &str,
    after: &(String, String, String, String),
    limit: i64,
) -> Result<Vec<UsageRow>, StoreError> {
    client
        .query(
            "SELECT to_char(day, 'YYYY-MM-DD') AS day_text, identity, tier, model, requests, input_tokens, \
               output_tokens, blocked, warned, cost_micros FROM usage_daily \
             WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
               AND (day, identity, tier, model) > ($4::text::date, $5, $6, $7) \
             ORDER BY day, identity, tier, model LIMIT $8",
            &[&project_id, &from, &to, &after.0, &after.1, &after.2, &after.3, &limit],
        )
        .await?
        .iter()
        .map(usage_row)
        .collect()
}

/// One day of a project's usage.
pub struct DayTotals {
    pub date: String,
    pub requests: i64,
    pub tokens: i64,
    pub blocked: i64,
    pub cost: i64,
}

/// The `days` days ending `today`, oldest first, zero where nothing was used.
pub async fn daily_totals(
    client: &Client,
    project_id: &str,
    today: &str,
    days: i32,
) -> Result<Vec<DayTotals>, StoreError> {
    client
        .query(
            "SELECT to_char(d::date, 'YYYY-MM-DD') AS date, COALESCE(sum(u.requests), 0)::bigint AS requests, \
               COALESCE(sum(u.input_tokens + u.output_tokens), 0)::bigint AS tokens, \
               COALESCE(sum(u.blocked), 0)::bigint AS blocked, \
               COALESCE(sum(u.cost_micros), 0)::bigint AS cost \
             FROM generate_series($2::text::date - ($3::int - 1), $2::text::date, interval '1 day') AS d \
             LEFT JOIN usage_daily u ON u.project_id = $1 AND u.day = d::date \
             GROUP BY d ORDER BY d",
            &[&project_id, &today, &days],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(DayTotals {
                date: col(r, "date")?,
                requests: col(r, "requests")?,
                tokens: col(r, "tokens")?,
                blocked: col(r, "blocked")?,
                cost: col(r, "cost")?,
            })
        })
        .collect()
}

/// One model's or one identity's spend over a range of days.
pub struct SpendRow {
    /// The model or the identity.
    pub key: String,
    /// The identity's latest tier in the range (empty for a model).
    pub tier: String,
    pub requests: i64,
    pub tokens: i64,
    /// Micro-dollars.
    pub cost: i64,
}

fn spend_row(r: &Row) -> Result<SpendRow, StoreError> {
    Ok(SpendRow {
        key: col(r, "key")?,
        tier: col(r, "tier")?,
        requests: col(r, "requests")?,
        tokens: col(r, "tokens")?,
        cost: col(r, "cost")?,
    })
}

/// Spend per model from `from` to `to`, dearest first (models that made
/// at least one request).
pub async fn spend_by_model(
    client: &Client,
    project_id: &str,
    from: &str,
    to: &str,
    identity: Option<&str>,
) -> Result<Vec<SpendRow>, StoreError> {
    client
        .query(
            "SELECT model AS key, '' AS tier, sum(requests)::bigint AS requests, \
               sum(input_tokens + output_tokens)::bigint AS tokens, sum(cost_micros)::bigint AS cost \
             FROM usage_daily WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
               AND ($4::text IS NULL OR identity = $4) \
             GROUP BY model HAVING sum(requests) > 0 ORDER BY cost DESC, model",
            &[&project_id, &from, &to, &identity],
        )
        .await?
        .iter()
        .map(spend_row)
        .collect()
}

/// Spend per identity from `from` to `to`, dearest first, at most `limit`;
/// each with the tier of its latest day.
pub async fn spend_by_identity(
    client: &Client,
    project_id: &str,
    from: &str,
    to: &str,
    identity: Option<&str>,
    limit: i64,
) -> Result<Vec<SpendRow>, StoreError> {
    client
        .query(
            "SELECT identity AS key, (array_agg(tier ORDER BY day DESC, requests DESC))[1] AS tier, \
               sum(requests)::bigint AS requests, \
               sum(input_tokens + output_tokens)::bigint AS tokens, sum(cost_micros)::bigint AS cost \
             FROM usage_daily WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
               AND ($5::text IS NULL OR identity = $5) \
             GROUP BY identity HAVING sum(requests) > 0 ORDER BY cost DESC, identity LIMIT $4",
            &[&project_id, &from, &to, &limit, &identity],
        )
        .await?
        .iter()
        .map(spend_row)
        .collect()
}

/// One rule's triggers over a range of days.
pub struct RuleStats {
    pub rule_id: String,
    pub rule_name: String,
    pub triggers: i64,
    pub identities: i64,
    pub last_triggered: String,
}

/// Per-rule trigger counts of the `days` days ending `today`, most first.
pub async fn rule_stats(
    client: &Client,
    project_id: &str,
    today: &str,
    days: i32,
) -> Result<Vec<RuleStats>, StoreError> {
    client
        .query(
            "SELECT rule_id, max(rule_name) AS rule_name, count(*)::bigint AS triggers, \
               count(DISTINCT identity)::bigint AS identities, \
               to_char(max(triggered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_triggered \
             FROM rule_triggers WHERE project_id = $1 \
               AND triggered_at >= ($2::text::date - ($3::int - 1))::timestamp AT TIME ZONE 'UTC' \
             GROUP BY rule_id ORDER BY count(*) DESC, rule_id",
            &[&project_id, &today, &days],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(RuleStats {
                rule_id: col(r, "rule_id")?,
                rule_name: col(r, "rule_name")?,
                triggers: col(r, "triggers")?,
                identities: col(r, "identities")?,
                last_triggered: col(r, "last_triggered")?,
            })
        })
        .collect()
}

/// Trigger counts per UTC day of the `days` days ending `today`, oldest
/// first: `(date, count)`.
pub async fn triggers_by_day(
    client: &Client,
    project_id: &str,
    today: &str,
    days: i32,
) -> Result<Vec<(String, i64)>, StoreError> {
    client
        .query(
            "SELECT to_char(d::date, 'YYYY-MM-DD') AS date, count(t.event_id)::bigint AS triggers \
             FROM generate_series($2::text::date - ($3::int - 1), $2::text::date, interval '1 day') AS d \
             LEFT JOIN rule_triggers t ON t.project_id = $1 \
               AND (t.triggered_at AT TIME ZONE 'UTC')::date = d::date \
             GROUP BY d ORDER BY d",
            &[&project_id, &today, &days],
        )
        .await?
        .iter()
        .map(|r| Ok((col(r, "date")?, col(r, "triggers")?)))
        .collect()
}

/// One rule trigger.
pub struct Trigger {
    pub rule_id: String,
    pub rule_name: String,
    pub identity: String,
    pub tier: String,
    pub action: String,
    pub usage_percent: Option<f64>,
    pub triggered_at: String,
}

/// The project's latest `limit` triggers, newest first.
pub async fn recent_triggers(
    client: &Client,
    project_id: &str,
    limit: i64,
) -> Result<Vec<Trigger>, StoreError> {
    client
        .query(
            "SELECT rule_id, rule_name, identity, tier, action, usage_percent, \
               to_char(triggered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS triggered_at_utc \
             FROM rule_triggers WHERE project_id = $1 ORDER BY triggered_at DESC, event_id LIMIT $2",
            &[&project_id, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Trigger {
                rule_id: col(r, "rule_id")?,
                rule_name: col(r, "rule_name")?,
                identity: col(r, "identity")?,
                tier: col(r, "tier")?,
                action: col(r, "action")?,
                usage_percent: col(r, "usage_percent")?,
                triggered_at: col(r, "triggered_at_utc")?,
            })
        })
        .collect()
}
