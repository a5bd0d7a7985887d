//! Owner API for money (docs/API.md, "Cost"): what the project's requests
//! cost per tier, model and identity, the tier economics (what a tier pays
//! against what its identities cost), and the prices in force.
//!
//! Every amount is integer micro-dollars (µUSD). Costs come from the
//! `usage_daily` rollups, which the identities' objects fill with each
//! settled request's exact cost; a model that had no price when its
//! requests settled cost 0 and is listed as unpriced.

use crate::analytics_api::{bounded, current_window};
use crate::auth::Owner;
use crate::http::{json_response, query_param, ApiResult};
use crate::projects::load_owned;
use crate::store::analytics as stored;
use crate::store::Client;
use crate::store::OrStore;
use serde_json::{json, Value};
use shared::period::{date_string, iso8601, Period, DAY_MS};
use shared::pricing::{self, price_json, ProjectPrices};
use shared::values::Identity;
use worker::{Date, Request, Response};

/// The most identities a cost answer reads (for the tiers' revenue).
const MAX_IDENTITIES: i64 = 10_000;

/// The price of `model` as the API shows it: `priced: false` when none.
fn model_price(model: &str, own: &ProjectPrices) -> Value {
    match pricing::resolve(model, own) {
        Some(r) => json!({
            "priced": true,
            "source": r.source.as_str(),
            "pricedAs": r.priced_as,
            "price": price_json(&r.price),
        }),
        None => json!({"priced": false, "source": null, "pricedAs": null, "price": null}),
    }
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// `GET …/analytics/costs?period=day|week|month&limit=&identity=`: spend
/// of the current window per tier, model and identity (of one identity
/// when `identity` is given). With `period=month` each
/// tier and identity carries the tier's monthly price and the margin
/// (price − cost); `unprofitable` lists the identities that cost more than
/// their tier pays.
pub async fn costs(req: &Request, client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    let (period, now, from, to) = current_window(req, "month")?;
    let limit = bounded(req, "limit", 50, 500)?;
    let identity = query_param(req, "identity")
        .map(|i| Identity::parse("identity", &i).map(|_| i))
        .transpose()?;
    let identity = identity.as_deref();
    let pricing = &project.settings.pricing;
    let monthly = period == Period::Month;
    let tier_price = |tier: &str| -> Option<i64> {
        monthly
            .then(|| pricing.tier_prices.get(tier))
            .flatten()
            .map(|p| i64::try_from(*p).unwrap_or(i64::MAX))
    };
    let tiers = stored::totals_by_tier(client, id, &from, &to, identity)
        .await
        .or_store("cost by tier")?;
    let models = stored::spend_by_model(client, id, &from, &to, identity)
        .await
        .or_store("cost by model")?;
    // Every identity counts towards its tier's revenue; the answer lists the
    // `limit` dearest.
    let identities = stored::spend_by_identity(client, id, &from, &to, identity, MAX_IDENTITIES)
        .await
        .or_store("cost by identity")?;
    let identity_json: Vec<Value> = identities
        .iter()
        .map(|r| {
            let price = tier_price(&r.tier);
            json!({
                "identity": r.key,
                "tier": r.tier,
                "requests": r.requests,
                "tokens": r.tokens,
                "cost": r.cost,
                "tierPrice": price,
                "margin": price.map(|p| p - r.cost),
            })
        })
        .collect();
    let shown = usize::try_from(limit).unwrap_or(50);
    let unprofitable: Vec<Value> = identity_json
        .iter()
        .filter(|v| v["margin"].as_i64().is_some_and(|m| m < 0))
        .take(shown)
        .cloned()
        .collect();
    let mut paying: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for r in &identities {
        *paying.entry(r.tier.as_str()).or_default() += 1;
    }
    let total: i64 = tiers.iter().map(|t| t.cost).sum();
    json_response(
        200,
        &json!({
            "period": period.as_str(),
            "from": iso8601(shared::period::window_start(period, now)),
            "to": iso8601(shared::period::window_end(period, now)),
            "currency": pricing::CURRENCY,
            "unit": "micro",
            "cost": total,
            "byTier": tiers.iter().map(|t| {
                let price = tier_price(&t.tier);
                let counted = paying.get(t.tier.as_str()).copied().unwrap_or(0);
                json!({
                    "tier": t.tier,
                    "requests": t.requests,
                    "cost": t.cost,
                    "identities": counted,
                    "tierPrice": price,
                    "revenue": price.map(|p| p.saturating_mul(counted)),
                    "margin": price.map(|p| p.saturating_mul(counted) - t.cost),
                })
            }).collect::<Vec<_>>(),
            "byModel": models.iter().map(|m| with(
                json!({"model": m.key, "requests": m.requests, "tokens": m.tokens, "cost": m.cost}),
                model_price(&m.key, &pricing.model_prices),
            )).collect::<Vec<_>>(),
            "byIdentity": identity_json.into_iter().take(shown).collect::<Vec<_>>(),
            "unprofitable": unprofitable,
        }),
    )
}

/// `GET …/prices`: the shipped table (with its source and date), the
/// project's own prices, and every model the project used in the last 30
/// days with the price in force for it — `priced: false` marks the ones
/// that cost 0 because nobody priced them.
pub async fn prices(client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let project = load_owned(client, owner, id).await?;
    let own = &project.settings.pricing.model_prices;
    let now = Date::now().as_millis() as i64;
    let (from, to) = (date_string(now - 29 * DAY_MS), date_string(now));
    let used = stored::spend_by_model(client, id, &from, &to, None)
        .await
        .or_store("models used")?;
    json_response(
        200,
        &json!({
            "currency": pricing::CURRENCY,
            "unit": "micro per million tokens",
            "table": {
                "source": pricing::TABLE_SOURCE,
                "date": pricing::TABLE_DATE,
                "models": pricing::table().map(|e| with(
                    json!({"provider": e.provider, "model": e.model}),
                    price_json(&e.price),
                )).collect::<Vec<_>>(),
            },
            "modelPrices": own.iter().map(|(m, p)| (m.clone(), price_json(p)))
                .collect::<serde_json::Map<_, _>>(),
            "models": used.iter().map(|m| with(
                json!({"model": m.key, "requests": m.requests, "cost": m.cost}),
                model_price(&m.key, own),
            )).collect::<Vec<_>>(),
        }),
    )
}
