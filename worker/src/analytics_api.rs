//! Owner API for usage and analytics (docs/API.md, "Usage and analytics"),
//! read from the rollups the
//! identities' Durable Objects flush to Postgres (`usage_daily`,
//! `rule_triggers`), and live identity usage read from the object itself.
//! Every route first loads the project through the owner filter.

use crate::auth::Owner;
use crate::http::{json_response, query_param, ApiResult};
use crate::limiter;
use crate::projects::load_owned;
use crate::proxy::read_usage;
use crate::store::Client;
use crate::store::OrStore;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use shared::period::{date_string, iso8601, parse_date, window_end, window_start, Period, DAY_MS};
use shared::values::Identity;
use shared::ApiError;
use worker::{Date, Env, Request, Response};

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn bounded(req: &Request, name: &str, default: i64, max: i64) -> ApiResult<i64> {
    match query_param(req, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_field(name, format!("{name} must be an integer from 1 to {max}"))
            }),
    }
}

/// `GET …/usage/summary?period=day|week|month` (the current UTC window).
pub async fn summary(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let period_name = query_param(req, "period").unwrap_or_else(|| "day".into());
    let period = match Period::parse(&period_name) {
        Some(p @ (Period::Day | Period::Week | Period::Month)) => p,
        _ => {
            return Err(ApiError::invalid_field(
                "period",
                "period must be day, week or month",
            ))
        }
    };
    let now = now_ms();
    let from = date_string(window_start(period, now));
    let to = date_string(window_end(period, now) - DAY_MS);
    let rows = client
        .query(
            "SELECT tier, sum(requests)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint, \
               sum(blocked)::bigint, sum(warned)::bigint \
             FROM usage_daily WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
             GROUP BY tier ORDER BY tier",
            &[&id, &from, &to],
        )
        .await
        .or_store("usage summary")?;
    let identities: i64 = client
        .query_one(
            "SELECT count(DISTINCT identity) FROM usage_daily WHERE project_id = $1 \
               AND day BETWEEN $2::text::date AND $3::text::date AND (requests > 0 OR blocked > 0)",
            &[&id, &from, &to],
        )
        .await
        .or_store("usage identities")?
        .get(0);
    let (mut requests, mut input, mut output, mut blocked, mut warned) =
        (0i64, 0i64, 0i64, 0i64, 0i64);
    let mut by_tier = Map::new();
    for r in &rows {
        let (tier, q, i, o, b, w): (String, i64, i64, i64, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        requests += q;
        input += i;
        output += o;
        blocked += b;
        warned += w;
        by_tier.insert(tier, json!({"requests": q, "tokens": i + o, "blocked": b}));
    }
    json_response(
        200,
        &json!({
            "period": period.as_str(),
            "from": iso8601(window_start(period, now)),
            "to": iso8601(window_end(period, now)),
            "requests": requests,
            "tokens": {"input": input, "output": output, "total": input + output},
            "identities": identities,
            "blocked": blocked,
            "warned": warned,
            "byTier": by_tier,
        }),
    )
}

/// Longest `from`..`to` range `by-identity` accepts, in days (both ends included).
const MAX_RANGE_DAYS: i64 = 31;

/// The days `by-identity` reads: `date=YYYY-MM-DD` (default today, UTC), or
/// `from` and `to` (both YYYY-MM-DD, `from` ≤ `to`, at most
/// [`MAX_RANGE_DAYS`] days) instead of `date`.
fn day_range(req: &Request) -> ApiResult<(String, String)> {
    let date_param = |name: &str| -> ApiResult<Option<String>> {
        query_param(req, name)
            .map(|d| {
                parse_date(&d).map(|_| d).ok_or_else(|| {
                    ApiError::invalid_field(name, format!("{name} must be YYYY-MM-DD"))
                })
            })
            .transpose()
    };
    let (date, from, to) = (date_param("date")?, date_param("from")?, date_param("to")?);
    match (date, from, to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::invalid_field(
            "date",
            "give either date or from and to, not both",
        )),
        (Some(d), None, None) => Ok((d.clone(), d)),
        (None, None, None) => {
            let today = date_string(now_ms());
            Ok((today.clone(), today))
        }
        (None, Some(_), None) => Err(ApiError::invalid_field("to", "to is required with from")),
        (None, None, Some(_)) => Err(ApiError::invalid_field("from", "from is required with to")),
        (None, Some(from), Some(to)) => {
            let (f, t) = (
                parse_date(&from).unwrap_or_default(),
                parse_date(&to).unwrap_or_default(),
            );
            if t < f {
                return Err(ApiError::invalid_field("to", "to must not be before from"));
            }
            if (t - f) / DAY_MS + 1 > MAX_RANGE_DAYS {
                return Err(ApiError::invalid_field(
                    "to",
                    format!("from..to spans at most {MAX_RANGE_DAYS} days"),
                ));
            }
            Ok((from, to))
        }
    }
}

/// `GET …/usage/by-identity?date=|from=&to=&limit=&cursor=`: keyset-paged
/// rows ordered by day, identity, tier, model; the cursor is the last row's
/// key `[day, identity, tier, model]`.
pub async fn by_identity(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let (from, to) = day_range(req)?;
    let limit = bounded(req, "limit", 50, 500)?;
    // No identity is empty, so ("", "", "") sorts before every row of `from`.
    let after: (String, String, String, String) = match query_param(req, "cursor") {
        None => (from.clone(), String::new(), String::new(), String::new()),
        Some(c) => URL_SAFE_NO_PAD
            .decode(c.as_bytes())
            .ok()
            .and_then(|b| serde_json::from_slice::<(String, String, String, String)>(&b).ok())
            .filter(|(d, a, b, c)| {
                parse_date(d).is_some() && ![a, b, c].iter().any(|s| s.contains('\0'))
            })
            .ok_or_else(|| ApiError::invalid_field("cursor", "cursor is not valid"))?,
    };
    let rows = client
        .query(
            "SELECT to_char(day, 'YYYY-MM-DD'), identity, tier, model, requests, input_tokens, output_tokens, \
               blocked, warned FROM usage_daily \
             WHERE project_id = $1 AND day BETWEEN $2::text::date AND $3::text::date \
               AND (day, identity, tier, model) > ($4::text::date, $5, $6, $7) \
             ORDER BY day, identity, tier, model LIMIT $8",
            &[&id, &from, &to, &after.0, &after.1, &after.2, &after.3, &(limit + 1)],
        )
        .await
        .or_store("usage by identity")?;
    let page = usize::try_from(limit).unwrap_or(50);
    let items: Vec<Value> = rows
        .iter()
        .take(page)
        .map(|r| {
            let (i, o): (i64, i64) = (r.get(5), r.get(6));
            json!({
                "date": r.get::<_, String>(0),
                "identity": r.get::<_, String>(1),
                "tier": r.get::<_, String>(2),
                "model": r.get::<_, String>(3),
                "requests": r.get::<_, i64>(4),
                "inputTokens": i,
                "outputTokens": o,
                "tokens": i + o,
                "blocked": r.get::<_, i64>(7),
                "warned": r.get::<_, i64>(8),
            })
        })
        .collect();
    let next = if rows.len() > page {
        rows.get(page - 1).map(|r| {
            let key = json!([
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3)
            ]);
            URL_SAFE_NO_PAD.encode(key.to_string())
        })
    } else {
        None
    };
    json_response(200, &json!({"items": items, "nextCursor": next}))
}

/// `GET …/usage/timeseries?days=30`: one entry per day, oldest first.
pub async fn timeseries(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let days = bounded(req, "days", 30, 366)?;
    let today = date_string(now_ms());
    let rows = client
        .query(
            "SELECT to_char(d::date, 'YYYY-MM-DD'), COALESCE(sum(u.requests), 0)::bigint, \
               COALESCE(sum(u.input_tokens + u.output_tokens), 0)::bigint, COALESCE(sum(u.blocked), 0)::bigint \
             FROM generate_series($2::text::date - ($3::int - 1), $2::text::date, interval '1 day') AS d \
             LEFT JOIN usage_daily u ON u.project_id = $1 AND u.day = d::date \
             GROUP BY d ORDER BY d",
            &[&id, &today, &(days as i32)],
        )
        .await
        .or_store("usage timeseries")?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "date": r.get::<_, String>(0),
                "requests": r.get::<_, i64>(1),
                "tokens": r.get::<_, i64>(2),
                "blocked": r.get::<_, i64>(3),
            })
        })
        .collect();
    json_response(200, &Value::Array(items))
}

/// `GET …/analytics/rule-triggers?days=7`.
pub async fn rule_triggers(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let days = bounded(req, "days", 7, 366)?;
    let today = date_string(now_ms());
    let stats = client
        .query(
            "SELECT rule_id, max(rule_name), count(*)::bigint, count(DISTINCT identity)::bigint, \
               to_char(max(triggered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM rule_triggers WHERE project_id = $1 \
               AND triggered_at >= ($2::text::date - ($3::int - 1))::timestamp AT TIME ZONE 'UTC' \
             GROUP BY rule_id ORDER BY count(*) DESC, rule_id",
            &[&id, &today, &(days as i32)],
        )
        .await
        .or_store("rule trigger stats")?;
    let by_day = client
        .query(
            "SELECT to_char(d::date, 'YYYY-MM-DD'), count(t.event_id)::bigint \
             FROM generate_series($2::text::date - ($3::int - 1), $2::text::date, interval '1 day') AS d \
             LEFT JOIN rule_triggers t ON t.project_id = $1 \
               AND (t.triggered_at AT TIME ZONE 'UTC')::date = d::date \
             GROUP BY d ORDER BY d",
            &[&id, &today, &(days as i32)],
        )
        .await
        .or_store("rule triggers by day")?;
    json_response(
        200,
        &json!({
            "stats": stats.iter().map(|r| json!({
                "ruleId": r.get::<_, String>(0),
                "ruleName": r.get::<_, String>(1),
                "triggerCount": r.get::<_, i64>(2),
                "uniqueIdentities": r.get::<_, i64>(3),
                "lastTriggered": r.get::<_, String>(4),
            })).collect::<Vec<_>>(),
            "byDay": by_day.iter().map(|r| json!({
                "date": r.get::<_, String>(0),
                "count": r.get::<_, i64>(1),
            })).collect::<Vec<_>>(),
        }),
    )
}

/// `GET …/analytics/recent-triggers?limit=50`, newest first.
pub async fn recent_triggers(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let limit = bounded(req, "limit", 50, 500)?;
    let rows = client
        .query(
            "SELECT rule_id, rule_name, identity, tier, action, usage_percent, \
               to_char(triggered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM rule_triggers WHERE project_id = $1 ORDER BY triggered_at DESC, event_id LIMIT $2",
            &[&id, &limit],
        )
        .await
        .or_store("recent triggers")?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "ruleId": r.get::<_, String>(0),
                "ruleName": r.get::<_, String>(1),
                "identity": r.get::<_, String>(2),
                "tier": r.get::<_, String>(3),
                "action": r.get::<_, String>(4),
                "usagePercent": r.get::<_, Option<f64>>(5),
                "triggeredAt": r.get::<_, String>(6),
            })
        })
        .collect();
    json_response(200, &Value::Array(items))
}

fn tier_for(req: &Request, settings: &shared::project::ProjectSettings) -> ApiResult<String> {
    let tier = query_param(req, "tier").unwrap_or_else(|| settings.default_tier.clone());
    if !settings.tiers.contains_key(&tier) {
        return Err(ApiError::invalid_field(
            "tier",
            format!("Unknown tier '{tier}'"),
        ));
    }
    Ok(tier)
}

/// `GET …/identities/:identity`: live usage from the identity's object.
pub async fn identity(
    req: &Request,
    env: &Env,
    client: &Client,
    owner: &Owner,
    id: &str,
    identity: &str,
) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    Identity::parse("identity", identity)?;
    let tier = tier_for(req, &project.settings)?;
    json_response(
        200,
        &read_usage(env, id, &project.settings, identity, &tier, true).await?,
    )
}

/// `POST …/identities/:identity/reset`: zeroes the identity's counters.
pub async fn reset_identity(
    req: &Request,
    env: &Env,
    client: &Client,
    owner: &Owner,
    id: &str,
    identity: &str,
) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    Identity::parse("identity", identity)?;
    let tier = tier_for(req, &project.settings)?;
    limiter::Counter::open(env, id, identity)?
        .send(&shared::limiter_api::ResetCall {})
        .await?;
    json_response(
        200,
        &read_usage(env, id, &project.settings, identity, &tier, true).await?,
    )
}
