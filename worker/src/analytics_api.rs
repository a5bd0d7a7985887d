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
use crate::store::analytics as stored;
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

pub(crate) fn bounded(req: &Request, name: &str, default: i64, max: i64) -> ApiResult<i64> {
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

/// The current UTC window of `?period=day|week|month` (default `default`):
/// the period, the clock, and its first and last days (`YYYY-MM-DD`).
pub(crate) fn current_window(
    req: &Request,
    default: &str,
) -> ApiResult<(Period, i64, String, String)> {
    let period_name = query_param(req, "period").unwrap_or_else(|| default.into());
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
    Ok((period, now, from, to))
}

/// `GET …/usage/summary?period=day|week|month` (the current UTC window).
pub async fn summary(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    load_owned(client, owner, id).await?;
    let (period, now, from, to) = current_window(req, "day")?;
    let rows = stored::totals_by_tier(client, id, &from, &to, None)
        .await
        .or_store("usage summary")?;
    let identities = stored::active_identities(client, id, &from, &to)
        .await
        .or_store("usage identities")?;
    let (mut requests, mut input, mut output, mut blocked, mut warned, mut cost) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let flagged: i64 = rows.iter().map(|r| r.usage_flagged).sum();
    let mut by_tier = Map::new();
    for r in rows {
        let (tier, q, i, o, b, w) = (
            r.tier,
            r.requests,
            r.input_tokens,
            r.output_tokens,
            r.blocked,
            r.warned,
        );
        requests += q;
        input += i;
        output += o;
        blocked += b;
        warned += w;
        cost += r.cost;
        by_tier.insert(
            tier,
            json!({"requests": q, "tokens": i + o, "blocked": b, "cost": r.cost}),
        );
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
            "usageFlagged": flagged,
            "cost": cost,
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
    let rows = stored::usage_page(client, id, &from, &to, &after, limit + 1)
        .await
        .or_store("usage by identity")?;
    let page = usize::try_from(limit).unwrap_or(50);
    let items: Vec<Value> = rows
        .iter()
        .take(page)
        .map(|r| {
            let (i, o) = (r.input_tokens, r.output_tokens);
            json!({
                "date": r.day,
                "identity": r.identity,
                "tier": r.tier,
                "model": r.model,
                "requests": r.requests,
                "inputTokens": i,
                "outputTokens": o,
                "tokens": i + o,
                "blocked": r.blocked,
                "warned": r.warned,
                "cost": r.cost,
            })
        })
        .collect();
    let next = if rows.len() > page {
        rows.get(page - 1).map(|r| {
            let key = json!([r.day, r.identity, r.tier, r.model]);
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
    let items: Vec<Value> = stored::daily_totals(client, id, &today, days as i32)
        .await
        .or_store("usage timeseries")?
        .iter()
        .map(|r| {
            json!({
                "date": r.date,
                "requests": r.requests,
                "tokens": r.tokens,
                "blocked": r.blocked,
                "cost": r.cost,
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
    let stats = stored::rule_stats(client, id, &today, days as i32)
        .await
        .or_store("rule trigger stats")?;
    let by_day = stored::triggers_by_day(client, id, &today, days as i32)
        .await
        .or_store("rule triggers by day")?;
    json_response(
        200,
        &json!({
            "stats": stats.iter().map(|r| json!({
                "ruleId": r.rule_id,
                "ruleName": r.rule_name,
                "triggerCount": r.triggers,
                "uniqueIdentities": r.identities,
                "lastTriggered": r.last_triggered,
            })).collect::<Vec<_>>(),
            "byDay": by_day.iter().map(|(date, count)| json!({
                "date": date,
                "count": count,
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
    let items: Vec<Value> = stored::recent_triggers(client, id, limit)
        .await
        .or_store("recent triggers")?
        .iter()
        .map(|r| {
            json!({
                "ruleId": r.rule_id,
                "ruleName": r.rule_name,
                "identity": r.identity,
                "tier": r.tier,
                "action": r.action,
                "usagePercent": r.usage_percent,
                "triggeredAt": r.triggered_at,
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
