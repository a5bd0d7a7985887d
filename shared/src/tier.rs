//! A project's tiers: what each tier may use, and the caps they compile to.
//!
//! A tier names at most one tier-wide window per metric (`requests`,
//! `tokens`, `cost`) and optional per-model windows. `cost` limits are in
//! micro-dollars (µUSD, integers; see [`crate::pricing`]). `limit: null` means unlimited.
//! [`Tier::caps_for`] turns a tier and a model into the list of [`Cap`]s the
//! identity's counter enforces: counters belong to the identity (and to
//! identity × model), the tier only chooses which caps apply.

use crate::period::Period;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default token reservation when a request gives no `max_tokens`
/// and its tier sets no `defaultMaxTokens`.
pub const DEFAULT_MAX_TOKENS: u64 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Requests,
    Tokens,
    /// Money, in micro-dollars.
    Cost,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Requests => "requests",
            Metric::Tokens => "tokens",
            Metric::Cost => "cost",
        }
    }

    pub const ALL: [Metric; 3] = [Metric::Requests, Metric::Tokens, Metric::Cost];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitSpec {
    /// `None` (JSON `null`) means unlimited.
    pub limit: Option<u64>,
    pub period: Period,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<LimitSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<LimitSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<LimitSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitMessage {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<LimitSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<LimitSpec>,
    /// Spend per window, in micro-dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<LimitSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, ModelLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_message: Option<LimitMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_tokens: Option<u64>,
}

/// One window the counter must check: a metric, a period, tier-wide
/// (`model: None`) or for one model, and its limit (`None`: unlimited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    pub metric: Metric,
    pub period: Period,
    pub model: Option<String>,
    pub limit: Option<u64>,
}

impl Tier {
    /// The windows this tier defines for a request to `model`: tier-wide
    /// first (requests, tokens, cost), then the model's own.
    pub fn caps_for(&self, model: Option<&str>) -> Vec<Cap> {
        let mut caps = Vec::new();
        let mut push = |metric, spec: &Option<LimitSpec>, model: Option<&str>| {
            if let Some(spec) = spec {
                caps.push(Cap {
                    metric,
                    period: spec.period,
                    model: model.map(str::to_string),
                    limit: spec.limit,
                });
            }
        };
        push(Metric::Requests, &self.requests, None);
        push(Metric::Tokens, &self.tokens, None);
        push(Metric::Cost, &self.cost, None);
        if let Some(model) = model {
            if let Some(m) = self.models.get(model) {
                push(Metric::Requests, &m.requests, Some(model));
                push(Metric::Tokens, &m.tokens, Some(model));
                push(Metric::Cost, &m.cost, Some(model));
            }
        }
        caps
    }

    /// Every window of the tier, tier-wide and for every model it names.
    pub fn all_caps(&self) -> Vec<Cap> {
        let mut caps = self.caps_for(None);
        for model in self.models.keys() {
            caps.extend(
                self.caps_for(Some(model))
                    .into_iter()
                    .filter(|c| c.model.is_some()),
            );
        }
        caps
    }

    /// The token reservation for a request that asks for `max_tokens`.
    pub fn max_tokens_or_default(&self, requested: Option<u64>) -> u64 {
        requested
            .or(self.default_max_tokens)
            .unwrap_or(DEFAULT_MAX_TOKENS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier() -> Tier {
        serde_json::from_value(serde_json::json!({
            "requests": {"limit": 100, "period": "day"},
            "tokens": {"limit": null, "period": "month"},
            "models": {"gpt-4o": {"requests": {"limit": 10, "period": "hour"}}},
            "limitMessage": {"message": "Upgrade", "deepLink": "app://up"},
            "defaultMaxTokens": 256
        }))
        .unwrap_or_default()
    }

    #[test]
    fn caps_include_tier_wide_then_model_windows() {
        let caps = tier().caps_for(Some("gpt-4o"));
        assert_eq!(caps.len(), 3);
        assert_eq!(caps[0].limit, Some(100));
        assert_eq!(caps[1].limit, None);
        assert_eq!(caps[2].model.as_deref(), Some("gpt-4o"));
        assert_eq!(caps[2].period, Period::Hour);
        assert_eq!(tier().caps_for(Some("other")).len(), 2);
        assert_eq!(tier().all_caps().len(), 3);
    }

    #[test]
    fn unknown_fields_in_a_tier_are_rejected() {
        let r: Result<Tier, _> = serde_json::from_value(
            serde_json::json!({"requests": {"limit": 1, "period": "day", "x": 1}}),
        );
        assert!(r.is_err());
        let r: Result<Tier, _> = serde_json::from_value(serde_json::json!({"burst": 3}));
        assert!(r.is_err());
    }

    #[test]
    fn reservation_uses_max_tokens_then_tier_default_then_global_default() {
        assert_eq!(tier().max_tokens_or_default(Some(50)), 50);
        assert_eq!(tier().max_tokens_or_default(None), 256);
        assert_eq!(
            Tier::default().max_tokens_or_default(None),
            DEFAULT_MAX_TOKENS
        );
    }
}
