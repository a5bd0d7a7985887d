//! The upgrade funnel on the Worker (docs/API.md, "Upgrade funnel"): the
//! tracked redirect `GET /r/{token}` and the owner's report
//! `GET /api/projects/{id}/analytics/funnel`.
//!
//! The redirect follows only links this Worker signed (HMAC under a key
//! derived from `JWT_SECRET`): a forged, altered or malformed token is a
//! 400 page and an expired one a 410 page, never a redirect, so it is no
//! open redirect. The target in a valid token is the project's deep link
//! as it was rendered for the message, checked again as deep links are on
//! input (no `javascript:`, `data:`, … schemes). The click is queued in a
//! funnel object's outbox (one object per project × identity reference)
//! and reaches `funnel_daily` with the next analytics flush; a click that
//! cannot be queued is logged and the redirect still happens.

use crate::auth::Owner;
use crate::config::Config;
use crate::http::{json_response, set_header, ApiResult};
use crate::limiter::Counter;
use crate::projects::load_owned;
use crate::store::funnel as stored;
use crate::store::{Client, OrStore};
use crate::tokens::{self, LinkRefused};
use serde_json::{json, Value};
use shared::funnel::{click_through_rate, summarize, Stages, Summary};
use shared::limiter_api::{AnalyticsEvent, ClickCall, FUNNEL_CLICK_SCOPE};
use shared::period::date_string;
use shared::values::DeepLink;
use shared::ApiError;
use worker::{console_error, Date, Env, Headers, Request, Response};

/// A small HTML page for a link that cannot be followed.
fn refusal(status: u16, title: &str, text: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/html; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    headers.set("referrer-policy", "no-referrer")?;
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1><p>{text}</p></body></html>"
    );
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// `GET /r/{token}`: records the click and answers 302 to the deep link.
pub async fn redirect(env: &Env, cfg: &Config, token: &str) -> worker::Result<Response> {
    let Some(secret) = cfg.jwt_secret.as_deref() else {
        console_error!("tracked link: JWT_SECRET is not set");
        return refusal(
            503,
            "Link unavailable",
            "This link cannot be checked right now. Please try again later.",
        );
    };
    let claims = match tokens::verify_link(secret, token, tokens::now_secs()) {
        Ok(c) => c,
        Err(LinkRefused::Expired) => return refusal(
            410,
            "This link has expired",
            "Links in usage-limit messages work for 7 days. Open the app again for a fresh one.",
        ),
        Err(LinkRefused::Invalid) => {
            return refusal(
                400,
                "This link is not valid",
                "The link is incomplete or was changed. Open it again from the app.",
            )
        }
    };
    if DeepLink::parse("deepLink", &claims.u).is_err() {
        return refusal(
            400,
            "This link is not valid",
            "The link's destination is not allowed.",
        );
    }
    let event = AnalyticsEvent::Funnel {
        event_id: format!("{}:click", claims.q),
        project_id: claims.p.clone(),
        day: date_string(Date::now().as_millis() as i64),
        key: claims.key.clone(),
        message: String::new(),
        shown: 0,
        linked: 0,
        clicks: 1,
        upgrades: 0,
    };
    let queued = match Counter::open(env, &format!("{}{FUNNEL_CLICK_SCOPE}", claims.p), &claims.i) {
        Ok(counter) => counter.send(&ClickCall { event }).await.map(|a| a.queued),
        Err(e) => Err(e),
    };
    if !matches!(queued, Ok(true)) {
        console_error!("tracked link click for {} not recorded", claims.q);
    }
    let mut resp = Response::empty()?.with_status(302);
    set_header(&mut resp, "location", &claims.u);
    set_header(&mut resp, "cache-control", "no-store");
    set_header(&mut resp, "referrer-policy", "no-referrer");
    Ok(resp)
}

fn stages_json(s: &Stages) -> Value {
    json!({
        "warned": s.warned,
        "blocked": s.blocked,
        "linked": s.linked,
        "clicked": s.clicked,
        "upgraded": s.upgraded,
        "clickThroughRate": click_through_rate(s.clicked, s.linked),
    })
}

/// `GET …/analytics/funnel?days=30`: the funnel per tier and per rule and
/// each message's counts and CTR over the last `days` UTC days.
pub async fn report(
    req: &Request,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    let days = match crate::http::query_param(req, "days") {
        None => 30,
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=366).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_field("days", "days must be an integer from 1 to 366")
            })?,
    };
    let now = Date::now().as_millis() as i64;
    let today = date_string(now);
    let from = date_string(now - i64::from(days - 1) * shared::period::DAY_MS);
    let rows = stored::messages(client, id, &today, days)
        .await
        .or_store("funnel")?;
    let s = &project.settings;
    let ranks = s.upgrade_funnel.ranks(&s.default_tier, &s.tiers);
    let tier_names: Vec<String> = s.tiers.keys().cloned().collect();
    let counts: Vec<_> = rows.iter().map(|(m, _)| m.clone()).collect();
    let Summary { tiers, rules } = summarize(&counts, &tier_names, &ranks);
    let rule_name = |rule_id: &str| {
        rows.iter()
            .find(|(m, _)| m.key.rule_id == rule_id)
            .and_then(|(_, n)| n.clone())
    };
    json_response(
        200,
        &json!({
            "days": days,
            "from": from,
            "to": today,
            "trackedRedirect": s.upgrade_funnel.tracked_redirect,
            "tierOrder": s.upgrade_funnel.tier_order,
            "tiers": tiers.iter().map(|(t, st)| {
                let mut v = stages_json(st);
                v["tier"] = json!(t);
                v["rank"] = json!(ranks.get(t));
                v
            }).collect::<Vec<_>>(),
            "rules": rules.iter().map(|(r, st)| {
                let mut v = stages_json(st);
                v["ruleId"] = json!(r);
                v["ruleName"] = json!(rule_name(r));
                v
            }).collect::<Vec<_>>(),
            "messages": rows.iter().map(|(m, name)| json!({
                "tier": m.key.tier,
                "kind": m.key.kind.as_str(),
                "origin": m.key.origin.as_str(),
                "ruleId": (!m.key.rule_id.is_empty()).then_some(&m.key.rule_id),
                "ruleName": name,
                "messageHash": m.key.message_hash,
                "message": m.message,
                "shown": m.shown,
                "linked": m.linked,
                "clicks": m.clicks,
                "upgrades": m.upgrades,
                "clickThroughRate": click_through_rate(m.clicks, m.linked),
            })).collect::<Vec<_>>(),
        }),
    )
}
