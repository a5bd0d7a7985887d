//! What a request costs: the per-model price table shipped with the product,
//! a project's own prices over it, and the exact cost of a usage.
//!
//! Money is kept in integer **micro-dollars** (µUSD, 1 USD = 1 000 000 µUSD)
//! everywhere — prices, counters, caps, analytics; no float ever holds a
//! count. A price is µUSD per million tokens, so a list price of $2.50 / 1M
//! tokens is `2_500_000`.
//!
//! Rounding rule (one rounding, up, per request):
//! `cost = ⌈(uncached_input × input + cached_input × cached + output × output) / 1 000 000⌉`
//! computed in 128-bit integers, so it is exact for any counts and prices a
//! request can carry; a request never costs less than its exact price.
//!
//! The reservation for a cost cap is the token reservation priced at the
//! model's dearest per-token price (its output price, or its input price
//! where that is higher): no answer that stays within its token reservation
//! can cost more than was reserved, so admission stays exact under
//! concurrency.
//!
//! Lookup: a project's own price for the canonical model id wins; else the
//! shipped table by exact id, else the longest shipped id that the model
//! id starts with followed by `-` (dated snapshots and aliases such as
//! `gpt-4o-2024-08-06` or `claude-sonnet-4-20250514` are priced as their
//! family); an id with a `/` (a router's `vendor/model`) is looked up by its
//! last segment too. A model found nowhere costs 0, and the dashboard says
//! so.
//!
//! The table is a convenience, not a source of truth: the list prices below
//! are as published by OpenAI, Anthropic, Google and xAI on their pricing
//! pages, as of [`TABLE_DATE`], for standard (not batch, not priority)
//! processing and, where a provider prices long prompts higher (Gemini Pro
//! above 200k tokens), the shorter-prompt tier. Prices change: owners set
//! their own per project.

use crate::error::ApiError;
use crate::providers::Usage;
use crate::values::{safe_integer, ModelId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// When the shipped prices were taken from the providers' pricing pages.
pub const TABLE_DATE: &str = "2025-11-15";
/// Where they come from.
pub const TABLE_SOURCE: &str =
    "List prices as published by OpenAI, Anthropic, Google (Gemini API) and xAI on their pricing pages";
/// The currency of every amount.
pub const CURRENCY: &str = "USD";
/// Micro-units per unit of currency.
pub const MICROS_PER_UNIT: u64 = 1_000_000;
/// Tokens a price is quoted for.
pub const TOKENS_PER_PRICE: u128 = 1_000_000;
/// The most models a project may price itself.
pub const MAX_PRICED_MODELS: usize = 200;

/// One model's price, in µUSD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelPrice {
    pub input: u64,
    pub output: u64,
    /// Input read from the provider's prompt cache; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<u64>,
}

impl ModelPrice {
    const fn usd(input: u64, cached: u64, output: u64) -> Self {
        Self {
            input,
            output,
            cached_input: Some(cached),
        }
    }

    pub fn cached_or_input(&self) -> u64 {
        self.cached_input.unwrap_or(self.input)
    }

    /// The exact cost of a usage in µUSD, rounded up once.
    pub fn cost(&self, usage: &Usage) -> u64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let uncached = usage.input_tokens - cached;
        let part = |tokens: u64, price: u64| u128::from(tokens).saturating_mul(u128::from(price));
        let micro_millions = part(uncached, self.input)
            .saturating_add(part(cached, self.cached_or_input()))
            .saturating_add(part(usage.output_tokens, self.output));
        to_u64(micro_millions.div_ceil(TOKENS_PER_PRICE))
    }

    /// What a cost cap reserves for `tokens` reserved tokens: each priced
    /// at the dearest of the input and output prices, rounded up.
    pub fn reservation(&self, tokens: u64) -> u64 {
        let dearest = self.input.max(self.output).max(self.cached_or_input());
        to_u64(
            u128::from(tokens)
                .saturating_mul(u128::from(dearest))
                .div_ceil(TOKENS_PER_PRICE),
        )
    }
}

fn to_u64(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Where a model's price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// The project's own price.
    Project,
    /// The table shipped with the product.
    Table,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Project => "project",
            PriceSource::Table => "table",
        }
    }
}

/// A price in force for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPrice {
    pub price: ModelPrice,
    pub source: PriceSource,
    /// The table or project id that priced it.
    pub priced_as: String,
}

/// `(provider, model id, input, cached input, output)` in µUSD per 1M tokens.
const TABLE: &[(&str, &str, u64, u64, u64)] = &[
    // OpenAI
    ("openai", "gpt-5", 1_250_000, 125_000, 10_000_000),
    ("openai", "gpt-5-mini", 250_000, 25_000, 2_000_000),
    ("openai", "gpt-5-nano", 50_000, 5_000, 400_000),
    ("openai", "gpt-4.1", 2_000_000, 500_000, 8_000_000),
    ("openai", "gpt-4.1-mini", 400_000, 100_000, 1_600_000),
    ("openai", "gpt-4.1-nano", 100_000, 25_000, 400_000),
    ("openai", "gpt-4o", 2_500_000, 1_250_000, 10_000_000),
    ("openai", "gpt-4o-mini", 150_000, 75_000, 600_000),
    ("openai", "o1", 15_000_000, 7_500_000, 60_000_000),
    ("openai", "o3", 2_000_000, 500_000, 8_000_000),
    ("openai", "o3-mini", 1_100_000, 550_000, 4_400_000),
    ("openai", "o4-mini", 1_100_000, 275_000, 4_400_000),
    ("openai", "text-embedding-3-small", 20_000, 20_000, 0),
    ("openai", "text-embedding-3-large", 130_000, 130_000, 0),
    // Anthropic (cache reads; cache writes are priced as input here)
    (
        "anthropic",
        "claude-opus-4-5",
        5_000_000,
        500_000,
        25_000_000,
    ),
    (
        "anthropic",
        "claude-opus-4-1",
        15_000_000,
        1_500_000,
        75_000_000,
    ),
    (
        "anthropic",
        "claude-opus-4",
        15_000_000,
        1_500_000,
        75_000_000,
    ),
    (
        "anthropic",
        "claude-sonnet-4-5",
        3_000_000,
        300_000,
        15_000_000,
    ),
    (
        "anthropic",
        "claude-sonnet-4",
        3_000_000,
        300_000,
        15_000_000,
    ),
    (
        "anthropic",
        "claude-3-7-sonnet",
        3_000_000,
        300_000,
        15_000_000,
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        1_000_000,
        100_000,
        5_000_000,
    ),
    ("anthropic", "claude-3-5-haiku", 800_000, 80_000, 4_000_000),
    ("anthropic", "claude-3-haiku", 250_000, 30_000, 1_250_000),
    // Google Gemini API (prompts up to 200k tokens)
    ("google", "gemini-2.5-pro", 1_250_000, 312_500, 10_000_000),
    ("google", "gemini-2.5-flash", 300_000, 75_000, 2_500_000),
    ("google", "gemini-2.5-flash-lite", 100_000, 25_000, 400_000),
    ("google", "gemini-2.0-flash", 100_000, 25_000, 400_000),
    ("google", "gemini-2.0-flash-lite", 75_000, 75_000, 300_000),
    ("google", "gemini-1.5-pro", 1_250_000, 312_500, 5_000_000),
    ("google", "gemini-1.5-flash", 75_000, 18_750, 300_000),
    // xAI
    ("xai", "grok-4", 3_000_000, 750_000, 15_000_000),
    ("xai", "grok-4-fast", 200_000, 50_000, 500_000),
    ("xai", "grok-3", 3_000_000, 750_000, 15_000_000),
    ("xai", "grok-3-mini", 300_000, 75_000, 500_000),
    ("xai", "grok-code-fast-1", 200_000, 20_000, 1_500_000),
];

/// One row of the shipped table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableEntry {
    pub provider: &'static str,
    pub model: &'static str,
    pub price: ModelPrice,
}

/// The shipped table, in order.
pub fn table() -> impl Iterator<Item = TableEntry> {
    TABLE
        .iter()
        .map(|&(provider, model, input, cached, output)| TableEntry {
            provider,
            model,
            price: ModelPrice::usd(input, cached, output),
        })
}

fn table_lookup(model: &str) -> Option<TableEntry> {
    let family_of = |id: &str| {
        table()
            .filter(|e| {
                id == e.model
                    || id
                        .strip_prefix(e.model)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|e| e.model.len())
    };
    family_of(model).or_else(|| model.rsplit_once('/').and_then(|(_, last)| family_of(last)))
}

/// A project's own prices, by canonical model id.
pub type ProjectPrices = BTreeMap<String, ModelPrice>;

/// The price in force for `model`: the project's, else the table's.
pub fn resolve(model: &str, own: &ProjectPrices) -> Option<ResolvedPrice> {
    if let Some(p) = own.get(model) {
        return Some(ResolvedPrice {
            price: *p,
            source: PriceSource::Project,
            priced_as: model.to_string(),
        });
    }
    table_lookup(model).map(|e| ResolvedPrice {
        price: e.price,
        source: PriceSource::Table,
        priced_as: e.model.to_string(),
    })
}

/// Cost of a usage for `model`, 0 when no price is known.
pub fn cost_of(model: &str, own: &ProjectPrices, usage: &Usage) -> u64 {
    resolve(model, own).map_or(0, |r| r.price.cost(usage))
}

/// The cost a cost cap reserves for `tokens` reserved tokens of `model`.
pub fn reservation_of(model: &str, own: &ProjectPrices, tokens: u64) -> u64 {
    resolve(model, own).map_or(0, |r| r.price.reservation(tokens))
}

/// Parses a project's `modelPrices`: `{model id: {input, output, cachedInput?}}`
/// in µUSD per million tokens (the whole set; a model left out has the
/// table's price again).
pub fn parse_prices(v: &Value) -> Result<ProjectPrices, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        ApiError::invalid_field(
            "modelPrices",
            "modelPrices must be an object of model id to {input, output, cachedInput}",
        )
    })?;
    if obj.len() > MAX_PRICED_MODELS {
        return Err(ApiError::invalid_field(
            "modelPrices",
            format!("price at most {MAX_PRICED_MODELS} models"),
        ));
    }
    let mut out = BTreeMap::new();
    for (model, spec) in obj {
        let field = format!("modelPrices.{model}");
        ModelId::parse(&field, model)?;
        let price: ModelPrice = serde_json::from_value(spec.clone()).map_err(|_| {
            ApiError::invalid_field(
                &field,
                format!("{field} must be {{input, output, cachedInput?}}: non-negative integers of micro-dollars per million tokens"),
            )
        })?;
        safe_integer(&format!("{field}.input"), price.input)?;
        safe_integer(&format!("{field}.output"), price.output)?;
        if let Some(c) = price.cached_input {
            safe_integer(&format!("{field}.cachedInput"), c)?;
        }
        out.insert(model.clone(), price);
    }
    Ok(out)
}

/// A price as the API shows it.
pub fn price_json(p: &ModelPrice) -> Value {
    json!({"input": p.input, "output": p.output, "cachedInput": p.cached_or_input()})
}

/// Formats µUSD as dollars with six decimals (`1234567` → `"1.234567"`).
pub fn usd(micros: u64) -> String {
    format!(
        "{}.{:06}",
        micros / MICROS_PER_UNIT,
        micros % MICROS_PER_UNIT
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn usage(input: u64, cached: u64, output: u64) -> Usage {
        Usage::new(input, output).with_cached(cached)
    }

    #[test]
    fn cost_is_tokens_times_price_over_a_million_rounded_up_once() {
        let p = ModelPrice::usd(2_500_000, 1_250_000, 10_000_000);
        // 1000 × 2.5 + 500 × 10 = 7500 µUSD exactly.
        assert_eq!(p.cost(&usage(1000, 0, 500)), 7_500);
        // 200 cached of 1000: 800 × 2.5 + 200 × 1.25 + 500 × 10 = 7250.
        assert_eq!(p.cost(&usage(1000, 200, 500)), 7_250);
        // 1 token of input is 2.5 µUSD: rounded up to 3, once per request.
        assert_eq!(p.cost(&usage(1, 0, 0)), 3);
        assert_eq!(p.cost(&usage(3, 0, 0)), 8); // 7.5 → 8, not 3 × 3
        assert_eq!(p.cost(&usage(0, 0, 0)), 0);
        // Cached beyond the input is clamped to the input.
        assert_eq!(p.cost(&usage(10, 50, 0)), 13); // 10 × 1.25 = 12.5 → 13
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let p = ModelPrice::usd(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(p.cost(&usage(u64::MAX, 0, u64::MAX)), u64::MAX);
        assert_eq!(p.reservation(u64::MAX), u64::MAX);
    }

    #[test]
    fn the_reservation_bounds_every_usage_within_the_token_reservation() {
        for p in table().map(|e| e.price) {
            let reserved = p.reservation(1_000);
            for (i, c, o) in [(1_000, 0, 0), (0, 0, 1_000), (400, 100, 600), (999, 999, 1)] {
                assert!(p.cost(&usage(i, c, o)) <= reserved, "{p:?}");
            }
        }
    }

    #[test]
    fn lookup_prefers_the_project_then_exact_then_the_longest_family() {
        let own = ProjectPrices::from([(
            "gpt-4o".to_string(),
            ModelPrice {
                input: 1,
                output: 2,
                cached_input: None,
            },
        )]);
        assert_eq!(
            resolve("gpt-4o", &own).unwrap().source,
            PriceSource::Project
        );
        let r = resolve("gpt-4o-mini-2024-07-18", &own).unwrap();
        assert_eq!(
            (r.source, r.priced_as.as_str()),
            (PriceSource::Table, "gpt-4o-mini")
        );
        assert_eq!(
            resolve("gpt-4o-2024-08-06", &ProjectPrices::new())
                .unwrap()
                .priced_as,
            "gpt-4o"
        );
        assert_eq!(
            resolve("claude-sonnet-4-5-20250929", &own)
                .unwrap()
                .priced_as,
            "claude-sonnet-4-5"
        );
        assert_eq!(
            resolve("claude-sonnet-4-20250514", &own).unwrap().priced_as,
            "claude-sonnet-4"
        );
        assert_eq!(
            resolve("openai/gpt-4.1-mini", &own).unwrap().priced_as,
            "gpt-4.1-mini"
        );
        assert_eq!(
            resolve("gemini-2.5-flash", &own).unwrap().priced_as,
            "gemini-2.5-flash"
        );
        // A prefix that is not followed by '-' is another model.
        assert!(resolve("gpt-4oxyz", &ProjectPrices::new()).is_none());
        assert!(resolve("my-finetune", &own).is_none());
        assert_eq!(cost_of("my-finetune", &own, &usage(1000, 0, 1000)), 0);
    }

    #[test]
    fn the_table_covers_every_provider_with_sane_prices() {
        for provider in ["openai", "anthropic", "google", "xai"] {
            assert!(
                table().filter(|e| e.provider == provider).count() >= 4,
                "{provider}"
            );
        }
        let mut ids: Vec<&str> = table().map(|e| e.model).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TABLE.len(), "model ids are unique");
        for e in table() {
            assert!(e.price.cached_or_input() <= e.price.input, "{}", e.model);
        }
    }

    #[test]
    fn project_prices_parse_strictly() {
        let ok =
            parse_prices(&json!({"ft:gpt-4o:acme": {"input": 3_000_000, "output": 12_000_000}}))
                .unwrap();
        assert_eq!(ok["ft:gpt-4o:acme"].cached_or_input(), 3_000_000);
        for bad in [
            json!([]),
            json!({"m": {"input": -1, "output": 1}}),
            json!({"m": {"input": 1.5, "output": 1}}),
            json!({"m": {"input": 1}}),
            json!({"m": null}),
            json!({"m": {"input": 1, "output": 1, "currency": "eur"}}),
            json!({"m": {"input": 9_007_199_254_740_992u64, "output": 1}}),
            json!({"": {"input": 1, "output": 1}}),
        ] {
            assert!(parse_prices(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dollars_format_with_six_decimals() {
        assert_eq!(usd(1_234_567), "1.234567");
        assert_eq!(usd(5), "0.000005");
    }
}
