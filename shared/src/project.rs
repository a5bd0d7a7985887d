//! A project's settings as owners write them (docs/API.md, "Projects"),
//! validated.
//!
//! Parsing is strict: unknown fields are rejected (no mass assignment),
//! limits are integers within JavaScript's safe range (negative or fractional
//! values are 400), the default tier must be one of the tiers, and the base
//! URL passes the SSRF guard for the environment. Every error names its
//! `field` with a dotted path.

use crate::error::ApiError;
use crate::funnel::FunnelSettings;
use crate::pricing::{parse_prices, ProjectPrices};
use crate::providers::ProviderKind;
use crate::tier::{LimitSpec, Tier};
use crate::url_guard::check_base_url;
use crate::values::{safe_integer, DeepLink, DisplayName, Message, ModelId, TierName};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const MAX_TIERS: usize = 20;
pub const MAX_MODELS_PER_TIER: usize = 50;
pub const MAX_ORIGINS: usize = 50;

/// Where the tier of a request comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierSource {
    /// A signed token's claim, else the request's `tier`, else the
    /// identity's record, else the default tier (compatible with SDKs that
    /// send the tier).
    #[default]
    Request,
    /// A signed token's claim, else the identity's record, else the default
    /// tier: a tier sent in a plain request is ignored.
    Server,
}

impl TierSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TierSource::Request => "request",
            TierSource::Server => "server",
        }
    }
}

/// The identity settings of a project, stored together (`identity_policy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityPolicy {
    #[serde(default)]
    pub tier_source: TierSource,
    /// Caps per client IP for requests without a signed identity (tier-wide
    /// `requests` and `tokens` windows), across all identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_limits: Option<Tier>,
}

/// What a project's money looks like: its own model prices (over the
/// shipped table) and the price it charges per tier, stored together
/// (`pricing`). All amounts are micro-dollars.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// µUSD per million tokens, by canonical model id.
    #[serde(default)]
    pub model_prices: ProjectPrices,
    /// What one identity on the tier pays the owner per month, in µUSD.
    #[serde(default)]
    pub tier_prices: BTreeMap<String, u64>,
}

/// The settings of a project that are not secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSettings {
    pub name: String,
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    pub default_tier: String,
    pub tiers: BTreeMap<String, Tier>,
    pub require_signed_identity: bool,
    pub allowed_origins: Vec<String>,
    pub identity_policy: IdentityPolicy,
    /// Tracked redirects and the tier order of the upgrade funnel.
    pub upgrade_funnel: FunnelSettings,
    pub pricing: Pricing,
}

/// A validated create or patch body. `None` = not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub provider: Option<ProviderKind>,
    /// `Some(None)` clears an override.
    pub base_url: Option<Option<String>>,
    pub provider_api_key: Option<String>,
    pub default_tier: Option<String>,
    pub tiers: Option<BTreeMap<String, Tier>>,
    pub require_signed_identity: Option<bool>,
    pub allowed_origins: Option<Vec<String>>,
    pub tier_source: Option<TierSource>,
    /// `Some(None)` removes the per-IP caps.
    pub anonymous_limits: Option<Option<Tier>>,
    pub upgrade_funnel: Option<FunnelSettings>,
    /// Replaces the project's own model prices.
    pub model_prices: Option<ProjectPrices>,
    /// Replaces the tier prices.
    pub tier_prices: Option<BTreeMap<String, u64>>,
}

const FIELDS: &[&str] = &[
    "name",
    "provider",
    "baseUrl",
    "providerApiKey",
    "defaultTier",
    "tiers",
    "requireSignedIdentity",
    "allowedOrigins",
    "tierSource",
    "anonymousLimits",
    "upgradeFunnel",
    "modelPrices",
    "tierPrices",
];

fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, msg)
}

fn string(v: &Value, field: &str, max: usize) -> Result<String, ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(field, format!("{field} must be a string")))?;
    let trimmed = s.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(bad(field, format!("{field} must be 1 to {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(bad(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(trimmed.to_string())
}

fn check_limit(spec: &Option<LimitSpec>, field: &str) -> Result<(), ApiError> {
    if let Some(LimitSpec {
        limit: Some(limit), ..
    }) = spec
    {
        safe_integer(field, *limit)?;
    }
    Ok(())
}

/// Parses `tiers`, reporting the first problem with its path.
pub fn parse_tiers(v: &Value) -> Result<BTreeMap<String, Tier>, ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad("tiers", "tiers must be an object of tier name to limits"))?;
    if obj.is_empty() || obj.len() > MAX_TIERS {
        return Err(bad("tiers", format!("define 1 to {MAX_TIERS} tiers")));
    }
    let mut tiers = BTreeMap::new();
    for (name, spec) in obj {
        let field = format!("tiers.{name}");
        TierName::parse(&field, name)?;
        let mut tier: Tier = serde_json::from_value(spec.clone()).map_err(|e| {
            bad(
                &field,
                format!("invalid tier (limits are non-negative integers or null; periods minute|hour|day|week|month): {e}"),
            )
        })?;
        check_limit(&tier.requests, &format!("{field}.requests.limit"))?;
        check_limit(&tier.tokens, &format!("{field}.tokens.limit"))?;
        check_limit(&tier.cost, &format!("{field}.cost.limit"))?;
        if tier.models.len() > MAX_MODELS_PER_TIER {
            return Err(bad(&format!("{field}.models"), "too many models"));
        }
        for (model, limits) in &tier.models {
            let mf = format!("{field}.models.{model}");
            ModelId::parse(&mf, model)?;
            check_limit(&limits.requests, &format!("{mf}.requests.limit"))?;
            check_limit(&limits.tokens, &format!("{mf}.tokens.limit"))?;
            check_limit(&limits.cost, &format!("{mf}.cost.limit"))?;
        }
        if let Some(d) = tier.default_max_tokens {
            let df = format!("{field}.defaultMaxTokens");
            if d == 0 {
                return Err(bad(&df, "must be a positive integer"));
            }
            safe_integer(&df, d)?;
        }
        if let Some(m) = &mut tier.limit_message {
            m.message =
                Message::parse(&format!("{field}.limitMessage.message"), &m.message)?.into();
            m.deep_link = m
                .deep_link
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(|d| DeepLink::parse(&format!("{field}.limitMessage.deepLink"), d))
                .transpose()?
                .map(String::from);
        }
        tiers.insert(name.clone(), tier);
    }
    Ok(tiers)
}

fn parse_origins(v: &Value) -> Result<Vec<String>, ApiError> {
    let arr = v.as_array().ok_or_else(|| {
        bad(
            "allowedOrigins",
            "allowedOrigins must be an array of origins",
        )
    })?;
    if arr.len() > MAX_ORIGINS {
        return Err(bad("allowedOrigins", "too many origins"));
    }
    arr.iter()
        .map(|o| {
            let s = string(o, "allowedOrigins", 300)?;
            let ok = (s.starts_with("https://") || s.starts_with("http://"))
                && !s.trim_end_matches('/').contains(['?', '#', ' ']);
            if !ok {
                return Err(bad(
                    "allowedOrigins",
                    format!("'{s}' is not an origin like https://app.example.com"),
                ));
            }
            Ok(s.trim_end_matches('/').to_string())
        })
        .collect()
}

/// Validates a create (`existing: None`) or patch body. `production`
/// selects the SSRF rules for `baseUrl`.
pub fn parse_changes(body: &Value, production: bool) -> Result<ProjectChanges, ApiError> {
    let obj: &Map<String, Value> = body
        .as_object()
        .ok_or_else(|| ApiError::invalid_body("The body must be a JSON object"))?;
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(unknown, format!("unknown field '{unknown}'")));
    }
    let mut c = ProjectChanges::default();
    if let Some(v) = obj.get("name") {
        let name = v
            .as_str()
            .ok_or_else(|| bad("name", "name must be a string"))?;
        c.name = Some(DisplayName::parse("name", name)?.into());
    }
    if let Some(v) = obj.get("provider") {
        let s = v.as_str().unwrap_or_default();
        c.provider = Some(ProviderKind::parse(s).ok_or_else(|| {
            bad(
                "provider",
                "provider must be one of openai, anthropic, google, xai, other",
            )
        })?);
    }
    if let Some(v) = obj.get("baseUrl") {
        c.base_url = Some(match v {
            Value::Null => None,
            _ => {
                let url = string(v, "baseUrl", 2000)?;
                check_base_url(&url, production).map_err(|m| bad("baseUrl", m))?;
                Some(url)
            }
        });
    }
    if let Some(v) = obj.get("providerApiKey") {
        c.provider_api_key = Some(string(v, "providerApiKey", 1000)?);
    }
    if let Some(v) = obj.get("defaultTier") {
        let t = v
            .as_str()
            .ok_or_else(|| bad("defaultTier", "defaultTier must be a string"))?;
        c.default_tier = Some(TierName::parse("defaultTier", t)?.into());
    }
    if let Some(v) = obj.get("tiers") {
        c.tiers = Some(parse_tiers(v)?);
    }
    if let Some(v) = obj.get("requireSignedIdentity") {
        c.require_signed_identity = Some(
            v.as_bool()
                .ok_or_else(|| bad("requireSignedIdentity", "must be true or false"))?,
        );
    }
    if let Some(v) = obj.get("allowedOrigins") {
        c.allowed_origins = Some(parse_origins(v)?);
    }
    if let Some(v) = obj.get("tierSource") {
        c.tier_source = Some(match v.as_str() {
            Some("request") => TierSource::Request,
            Some("server") => TierSource::Server,
            _ => {
                return Err(bad(
                    "tierSource",
                    "tierSource must be 'request' or 'server'",
                ))
            }
        });
    }
    if let Some(v) = obj.get("anonymousLimits") {
        c.anonymous_limits = Some(match v {
            Value::Null => None,
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| *k != "requests" && *k != "tokens") {
                    return Err(bad(
                        "anonymousLimits",
                        format!("anonymousLimits takes requests and tokens only, not '{k}'"),
                    ));
                }
                let mut one = Map::new();
                one.insert("anonymousLimits".into(), v.clone());
                parse_tiers(&Value::Object(one))
                    .map_err(|e| {
                        bad(
                            "anonymousLimits",
                            e.message()
                                .replace("tiers.anonymousLimits", "anonymousLimits"),
                        )
                    })?
                    .into_values()
                    .next()
            }
            _ => {
                return Err(bad(
                    "anonymousLimits",
                    "anonymousLimits must be an object or null",
                ))
            }
        });
    }
    if let Some(v) = obj.get("upgradeFunnel") {
        c.upgrade_funnel = Some(FunnelSettings::parse(v)?);
    }
    if let Some(v) = obj.get("modelPrices") {
        c.model_prices = Some(parse_prices(v)?);
    }
    if let Some(v) = obj.get("tierPrices") {
        let o = v.as_object().ok_or_else(|| {
            bad(
                "tierPrices",
                "tierPrices must be an object of tier name to micro-dollars per month",
            )
        })?;
        let mut prices = BTreeMap::new();
        for (tier, amount) in o {
            let f = format!("tierPrices.{tier}");
            let n = amount.as_u64().ok_or_else(|| {
                bad(
                    &f,
                    format!("{f} must be a non-negative integer of micro-dollars"),
                )
            })?;
            prices.insert(tier.clone(), safe_integer(&f, n)?);
        }
        c.tier_prices = Some(prices);
    }
    Ok(c)
}

/// The tiers a new project gets when its owner names none.
pub fn default_tiers() -> BTreeMap<String, Tier> {
    let mut tiers = BTreeMap::new();
    let limit = |n: u64, period| {
        Some(LimitSpec {
            limit: Some(n),
            period,
        })
    };
    tiers.insert(
        "free".to_string(),
        Tier {
            requests: limit(100, crate::period::Period::Day),
            ..Tier::default()
        },
    );
    tiers.insert(
        "pro".to_string(),
        Tier {
            requests: limit(5000, crate::period::Period::Day),
            ..Tier::default()
        },
    );
    tiers
}

impl ProjectSettings {
    /// Settings of a new project from a validated create body.
    pub fn create(c: &ProjectChanges) -> Result<ProjectSettings, ApiError> {
        let name = c
            .name
            .clone()
            .ok_or_else(|| bad("name", "name is required"))?;
        let provider = c
            .provider
            .ok_or_else(|| bad("provider", "provider is required"))?;
        let tiers = c.tiers.clone().unwrap_or_else(default_tiers);
        let default_tier = c
            .default_tier
            .clone()
            .or_else(|| tiers.contains_key("free").then(|| "free".to_string()))
            .or_else(|| tiers.keys().next().cloned())
            .unwrap_or_else(|| "free".to_string());
        let settings = ProjectSettings {
            name,
            provider,
            base_url: c.base_url.clone().flatten(),
            default_tier,
            tiers,
            require_signed_identity: c.require_signed_identity.unwrap_or(false),
            allowed_origins: c.allowed_origins.clone().unwrap_or_default(),
            identity_policy: IdentityPolicy {
                tier_source: c.tier_source.unwrap_or_default(),
                anonymous_limits: c.anonymous_limits.clone().flatten(),
            },
            upgrade_funnel: c.upgrade_funnel.clone().unwrap_or_default(),
            pricing: Pricing {
                model_prices: c.model_prices.clone().unwrap_or_default(),
                tier_prices: c.tier_prices.clone().unwrap_or_default(),
            },
        };
        settings.check()?;
        Ok(settings)
    }

    /// These settings with a validated patch applied.
    pub fn patched(&self, c: &ProjectChanges) -> Result<ProjectSettings, ApiError> {
        let mut s = self.clone();
        if let Some(v) = &c.name {
            s.name = v.clone();
        }
        if let Some(v) = c.provider {
            s.provider = v;
        }
        if let Some(v) = &c.base_url {
            s.base_url = v.clone();
        }
        if let Some(v) = &c.tiers {
            s.tiers = v.clone();
        }
        if let Some(v) = &c.default_tier {
            s.default_tier = v.clone();
        }
        if let Some(v) = c.require_signed_identity {
            s.require_signed_identity = v;
        }
        if let Some(v) = &c.allowed_origins {
            s.allowed_origins = v.clone();
        }
        if let Some(v) = c.tier_source {
            s.identity_policy.tier_source = v;
        }
        if let Some(v) = &c.anonymous_limits {
            s.identity_policy.anonymous_limits.clone_from(v);
        }
        match &c.upgrade_funnel {
            Some(v) => s.upgrade_funnel = v.clone(),
            // Tiers removed by this patch leave the funnel's order with them.
            None => s
                .upgrade_funnel
                .tier_order
                .retain(|t| s.tiers.contains_key(t)),
        }
        if let Some(v) = &c.model_prices {
            s.pricing.model_prices.clone_from(v);
        }
        if let Some(v) = &c.tier_prices {
            s.pricing.tier_prices.clone_from(v);
        }
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), ApiError> {
        if !self.tiers.contains_key(&self.default_tier) {
            return Err(bad(
                "defaultTier",
                format!(
                    "defaultTier '{}' is not one of the tiers",
                    self.default_tier
                ),
            ));
        }
        if let Some(t) = self
            .pricing
            .tier_prices
            .keys()
            .find(|t| !self.tiers.contains_key(*t))
        {
            return Err(bad(
                &format!("tierPrices.{t}"),
                format!("'{t}' is not one of the tiers"),
            ));
        }
        self.upgrade_funnel.check(&self.tiers)?;
        if self.provider == ProviderKind::Other && self.base_url.is_none() {
            return Err(bad("baseUrl", "baseUrl is required for provider 'other'"));
        }
        Ok(())
    }

    /// The URL requests are sent to: the override or the provider's default.
    pub fn effective_base_url(&self) -> Option<&str> {
        self.base_url
            .as_deref()
            .or_else(|| self.provider.default_base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(e: ApiError) -> String {
        e.field().unwrap_or("").to_string()
    }

    #[test]
    fn create_fills_defaults_and_checks_the_default_tier() {
        let c =
            parse_changes(&json!({"name": "App", "provider": "openai"}), true).unwrap_or_default();
        let s = ProjectSettings::create(&c);
        assert!(s
            .as_ref()
            .is_ok_and(|s| s.default_tier == "free" && s.tiers.len() == 2));
        let c = parse_changes(
            &json!({"name": "App", "provider": "openai", "tiers": {"gold": {}}, "defaultTier": "free"}),
            true,
        )
        .unwrap_or_default();
        assert_eq!(
            ProjectSettings::create(&c).err().map(field).as_deref(),
            Some("defaultTier")
        );
    }

    #[test]
    fn nul_characters_in_tier_strings_are_rejected() {
        for body in [
            json!({"tiers": {"free": {"limitMessage": {"message": "up\u{0}grade"}}}}),
            json!({"tiers": {"free": {"models": {"gpt\u{0}x": {"requests": {"limit": 1, "period": "day"}}}}}}),
        ] {
            let e = parse_changes(&body, true).err();
            assert!(
                e.map(field).is_some_and(|f| f.starts_with("tiers.free")),
                "{body}"
            );
        }
    }

    #[test]
    fn tier_messages_and_deep_links_follow_the_rule_rules() {
        let tier = |m: Value| json!({"tiers": {"free": {"limitMessage": m}}});
        for (body, f) in [
            (
                tier(json!({"message": "up", "deepLink": "javascript:alert(1)"})),
                "tiers.free.limitMessage.deepLink",
            ),
            (
                tier(json!({"message": "up", "deepLink": "DATA:text/html,x"})),
                "tiers.free.limitMessage.deepLink",
            ),
            (
                tier(json!({"message": "up", "deepLink": "myapp://a b"})),
                "tiers.free.limitMessage.deepLink",
            ),
            (
                tier(json!({"message": "bell\u{7}"})),
                "tiers.free.limitMessage.message",
            ),
            (
                tier(json!({"message": "esc\u{1b}[31m"})),
                "tiers.free.limitMessage.message",
            ),
            (json!({"tiers": {"free tier": {}}}), "tiers.free tier"),
            (json!({"defaultTier": "über"}), "defaultTier"),
        ] {
            assert_eq!(
                parse_changes(&body, true).err().map(field).as_deref(),
                Some(f),
                "{body}"
            );
        }
        let ok =
            tier(json!({"message": "Line one\nline two", "deepLink": "myapp://up?u={{identity}}"}));
        assert!(parse_changes(&ok, true).is_ok());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = parse_changes(&json!({"name": "x", "ownerId": "someone"}), true).err();
        assert_eq!(e.map(field).as_deref(), Some("ownerId"));
    }

    #[test]
    fn negative_fractional_and_unsafe_limits_are_rejected() {
        for limit in [
            json!(-1),
            json!(1.5),
            json!(9_007_199_254_740_992u64),
            json!("5"),
        ] {
            let body = json!({"tiers": {"free": {"requests": {"limit": limit, "period": "day"}}}});
            let e = parse_changes(&body, true).err();
            assert!(
                e.map(field).is_some_and(|f| f.starts_with("tiers.free")),
                "{body}"
            );
        }
        let ok = json!({"tiers": {"free": {"requests": {"limit": null, "period": "day"}}}});
        assert!(parse_changes(&ok, true).is_ok());
    }

    #[test]
    fn other_provider_needs_a_base_url_and_production_refuses_loopback() {
        let c = parse_changes(&json!({"name": "x", "provider": "other"}), true).unwrap_or_default();
        assert_eq!(
            ProjectSettings::create(&c).err().map(field).as_deref(),
            Some("baseUrl")
        );
        let e = parse_changes(&json!({"baseUrl": "http://127.0.0.1:3100/v1"}), true).err();
        assert_eq!(e.map(field).as_deref(), Some("baseUrl"));
        assert!(parse_changes(&json!({"baseUrl": "http://127.0.0.1:3100/v1"}), false).is_ok());
    }

    #[test]
    fn patch_replaces_only_given_fields() {
        let c =
            parse_changes(&json!({"name": "App", "provider": "openai"}), true).unwrap_or_default();
        let s = ProjectSettings::create(&c).unwrap_or_else(|_| unreachable_settings());
        let p = parse_changes(
            &json!({"name": "Renamed", "requireSignedIdentity": true}),
            true,
        )
        .unwrap_or_default();
        let s2 = s.patched(&p).unwrap_or_else(|_| unreachable_settings());
        assert_eq!(s2.name, "Renamed");
        assert!(s2.require_signed_identity);
        assert_eq!(s2.tiers, s.tiers);
    }

    fn unreachable_settings() -> ProjectSettings {
        ProjectSettings {
            name: String::new(),
            provider: ProviderKind::Openai,
            base_url: None,
            default_tier: String::new(),
            tiers: BTreeMap::new(),
            require_signed_identity: false,
            identity_policy: IdentityPolicy::default(),
            pricing: Pricing::default(),
            allowed_origins: vec![],
            upgrade_funnel: FunnelSettings::default(),
        }
    }
}

#[cfg(test)]
mod identity_policy_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn tier_source_and_anonymous_limits_parse_patch_and_clear() {
        let c = parse_changes(
            &json!({"name": "A", "provider": "openai", "tierSource": "server",
                    "anonymousLimits": {"requests": {"limit": 5, "period": "minute"}}}),
            true,
        )
        .unwrap();
        let s = ProjectSettings::create(&c).unwrap();
        assert_eq!(s.identity_policy.tier_source, TierSource::Server);
        let caps = s.identity_policy.anonymous_limits.clone().unwrap();
        assert_eq!(caps.requests.and_then(|r| r.limit), Some(5));
        let p = parse_changes(
            &json!({"anonymousLimits": null, "tierSource": "request"}),
            true,
        )
        .unwrap();
        let s = s.patched(&p).unwrap();
        assert_eq!(s.identity_policy, IdentityPolicy::default());
        for bad in [
            json!({"tierSource": "client"}),
            json!({"anonymousLimits": {"models": {}}}),
            json!({"anonymousLimits": {"requests": {"limit": -1, "period": "day"}}}),
            json!({"anonymousLimits": 5}),
        ] {
            assert!(parse_changes(&bad, true).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod pricing_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn model_and_tier_prices_parse_replace_and_name_real_tiers() {
        let c = parse_changes(
            &json!({"name": "A", "provider": "openai",
                    "modelPrices": {"my-model": {"input": 1_000_000, "output": 2_000_000}},
                    "tierPrices": {"pro": 9_000_000}}),
            true,
        )
        .unwrap();
        let s = ProjectSettings::create(&c).unwrap();
        assert_eq!(s.pricing.model_prices["my-model"].output, 2_000_000);
        assert_eq!(s.pricing.tier_prices["pro"], 9_000_000);
        let s = s
            .patched(&parse_changes(&json!({"modelPrices": {}}), true).unwrap())
            .unwrap();
        assert!(s.pricing.model_prices.is_empty());
        assert_eq!(s.pricing.tier_prices["pro"], 9_000_000);
        let e = s
            .patched(&parse_changes(&json!({"tierPrices": {"gold": 1}}), true).unwrap())
            .err()
            .and_then(|e| e.field().map(String::from));
        assert_eq!(e.as_deref(), Some("tierPrices.gold"));
        for bad in [
            json!({"tierPrices": {"pro": -1}}),
            json!({"tierPrices": {"pro": 1.5}}),
            json!({"modelPrices": {"m": {"input": 1}}}),
        ] {
            assert!(parse_changes(&bad, true).is_err(), "{bad}");
        }
    }
}
