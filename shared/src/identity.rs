//! Identity records: what the project owner decides about one identity —
//! its tier, its own limits, gifted credits, an "unlimited until" time, a
//! block — held by the identity's `IdentityLimiter` next to its counters,
//! so a change applies to the very next request and credits are consumed in
//! the same synchronous step as the admission that uses them.
//!
//! Precedence, in [`admit`]:
//! 1. `blocked` → refused (429, the record's message), nothing counted;
//! 2. `unlimitedUntil` in the future → admitted past every cap and rule,
//!    still counted;
//! 3. the caps: the record's own `limits` replace the caps of the tier in
//!    force (the record's `tier` when the request did not pin one);
//! 4. the project's rules, as without a record (`decide`);
//! 5. credits: a request refused by a cap (not by a rule) is admitted when
//!    the record holds credits for every exhausted metric — one request
//!    credit for a requests cap, the token estimate (down to zero, never
//!    below) for a tokens cap, and the cost reservation (micro-dollars, down
//!    to zero) for a cost cap.
//!
//! Invariants: credits never go below zero; `N` concurrent requests past
//! the caps with `k` request credits admit exactly `min(N, k)` (the object
//! runs one admission at a time, and credit and reservation are written in
//! the same step). Nothing here reads the clock.

use crate::decision::{decide, Decision, Policy, RuleRef, Size, Verdict, WindowReport};
use crate::error::ApiError;
use crate::ledger::{IdentityLedger, ReserveRequest};
use crate::period::iso8601;
use crate::project::parse_tiers;
use crate::rules::ActionType;
use crate::tier::{Metric, Tier};
use crate::values::{safe_integer, Message, TierName, MAX_SAFE_INTEGER};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The largest `metadata` accepted, serialised.
pub const MAX_METADATA_BYTES: usize = 2048;
/// The rule id a 429 of a blocked identity carries.
pub const BLOCKED_RULE_ID: &str = "identity-blocked";
/// The message of a blocked identity without its own.
pub const DEFAULT_BLOCK_MESSAGE: &str = "This account cannot use this feature right now";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credits {
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub tokens: u64,
    /// Micro-dollars of spend past a cost cap.
    #[serde(default)]
    pub cost: u64,
}

impl Credits {
    pub fn is_empty(&self) -> bool {
        self.requests == 0 && self.tokens == 0 && self.cost == 0
    }
}

/// One identity's record, as the object stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Caps that replace the tier's (`requests`, `tokens`, `models`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Tier>,
    #[serde(default)]
    pub credits: Credits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlimited_until_ms: Option<i64>,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub updated_at_ms: i64,
}

impl IdentityRecord {
    /// The record as the owner API shows it.
    pub fn to_wire(&self, identity: &str) -> Value {
        json!({
            "identity": identity,
            "tier": self.tier,
            "limits": self.limits,
            "credits": {"requests": self.credits.requests, "tokens": self.credits.tokens,
                        "cost": self.credits.cost},
            "unlimitedUntil": self.unlimited_until_ms.map(iso8601),
            "blocked": self.blocked,
            "blockMessage": self.block_message,
            "metadata": self.metadata.clone().unwrap_or_else(|| json!({})),
            "updatedAt": iso8601(self.updated_at_ms),
        })
    }
}

/// The fields a change sets: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordPatch {
    pub tier: Option<Option<String>>,
    pub limits: Option<Option<Tier>>,
    pub credits: Option<Credits>,
    pub unlimited_until_ms: Option<Option<i64>>,
    pub blocked: Option<bool>,
    pub block_message: Option<Option<String>>,
    pub metadata: Option<Option<Value>>,
}

impl RecordPatch {
    pub fn apply(&self, r: &mut IdentityRecord, now_ms: i64) {
        if let Some(v) = &self.tier {
            r.tier.clone_from(v);
        }
        if let Some(v) = &self.limits {
            r.limits.clone_from(v);
        }
        if let Some(v) = self.credits {
            r.credits = v;
        }
        if let Some(v) = self.unlimited_until_ms {
            r.unlimited_until_ms = v;
        }
        if let Some(v) = self.blocked {
            r.blocked = v;
        }
        if let Some(v) = &self.block_message {
            r.block_message.clone_from(v);
        }
        if let Some(v) = &self.metadata {
            r.metadata.clone_from(v);
        }
        r.updated_at_ms = now_ms;
    }
}

/// Adds gifted credits, saturating at 2^53 − 1.
pub fn gift(r: &mut IdentityRecord, add: Credits, now_ms: i64) {
    r.credits.requests = r
        .credits
        .requests
        .saturating_add(add.requests)
        .min(MAX_SAFE_INTEGER);
    r.credits.tokens = r
        .credits
        .tokens
        .saturating_add(add.tokens)
        .min(MAX_SAFE_INTEGER);
    r.credits.cost = r
        .credits
        .cost
        .saturating_add(add.cost)
        .min(MAX_SAFE_INTEGER);
    r.updated_at_ms = now_ms;
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, message)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` into epoch milliseconds.
pub fn parse_instant(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once('T')?;
    let day_ms = crate::period::parse_date(date)?;
    let time = rest.strip_suffix('Z')?;
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (time, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return None;
    };
    let num = |p: &str, max: i64| -> Option<i64> {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<i64>().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let mut ms = day_ms + (num(h, 23)? * 3600 + num(m, 59)? * 60 + num(sec, 59)?) * 1000;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let first3: String = frac.chars().chain("000".chars()).take(3).collect();
        ms += first3.parse::<i64>().ok()?;
    }
    Some(ms)
}

fn credits(v: &Value, field: &str) -> Result<Credits, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        bad(
            field,
            format!("{field} must be an object {{requests, tokens, cost}}"),
        )
    })?;
    let mut c = Credits::default();
    for (k, n) in obj {
        let f = format!("{field}.{k}");
        let n = n
            .as_u64()
            .ok_or_else(|| bad(&f, format!("{f} must be a non-negative integer")))?;
        let n = safe_integer(&f, n)?;
        match k.as_str() {
            "requests" => c.requests = n,
            "tokens" => c.tokens = n,
            "cost" => c.cost = n,
            _ => return Err(bad(&f, format!("unknown field {f}"))),
        }
    }
    Ok(c)
}

/// Parses the credits of a gift (`POST …/credits`): at least one positive.
pub fn parse_gift(body: &Value) -> Result<Credits, ApiError> {
    let c = credits(body, "credits")?;
    if c.is_empty() {
        return Err(bad(
            "credits",
            "give at least one request, token or micro-dollar",
        ));
    }
    Ok(c)
}

/// Validates a change to a record against the project's tiers.
pub fn parse_patch(body: &Value, tiers: &BTreeMap<String, Tier>) -> Result<RecordPatch, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::invalid_body("The body must be a JSON object"))?;
    let mut p = RecordPatch::default();
    for (k, v) in obj {
        match k.as_str() {
            "tier" => {
                p.tier = Some(match v {
                    Value::Null => None,
                    Value::String(s) => {
                        let t = TierName::parse("tier", s)?.into_string();
                        if !tiers.contains_key(&t) {
                            return Err(bad("tier", format!("Unknown tier '{t}'")));
                        }
                        Some(t)
                    }
                    _ => return Err(bad("tier", "tier must be a tier name or null")),
                })
            }
            "limits" => {
                p.limits = Some(match v {
                    Value::Null => None,
                    Value::Object(o) => {
                        if o.contains_key("limitMessage") || o.contains_key("defaultMaxTokens") {
                            return Err(bad(
                                "limits",
                                "limits holds caps only (requests, tokens, cost, models)",
                            ));
                        }
                        let mut one = Map::new();
                        one.insert("limits".into(), v.clone());
                        let parsed = parse_tiers(&Value::Object(one)).map_err(|e| {
                            let msg = e.message().replace("tiers.limits", "limits");
                            bad("limits", msg)
                        })?;
                        parsed.into_values().next()
                    }
                    _ => return Err(bad("limits", "limits must be an object or null")),
                })
            }
            "credits" => p.credits = Some(credits(v, "credits")?),
            "unlimitedUntil" => {
                p.unlimited_until_ms = Some(match v {
                    Value::Null => None,
                    Value::String(s) => Some(parse_instant(s).ok_or_else(|| {
                        bad(
                            "unlimitedUntil",
                            "unlimitedUntil must be a time like 2026-12-31T00:00:00Z or null",
                        )
                    })?),
                    _ => {
                        return Err(bad(
                            "unlimitedUntil",
                            "unlimitedUntil must be a time or null",
                        ))
                    }
                })
            }
            "blocked" => {
                p.blocked = Some(
                    v.as_bool()
                        .ok_or_else(|| bad("blocked", "blocked must be true or false"))?,
                )
            }
            "blockMessage" => {
                p.block_message = Some(match v {
                    Value::Null => None,
                    Value::String(s) => Some(Message::parse("blockMessage", s)?.into_string()),
                    _ => return Err(bad("blockMessage", "blockMessage must be a string or null")),
                })
            }
            "metadata" => {
                p.metadata = Some(match v {
                    Value::Null => None,
                    Value::Object(_) => {
                        if v.to_string().len() > MAX_METADATA_BYTES {
                            return Err(bad(
                                "metadata",
                                format!(
                                    "metadata must be at most {MAX_METADATA_BYTES} bytes of JSON"
                                ),
                            ));
                        }
                        Some(v.clone())
                    }
                    _ => return Err(bad("metadata", "metadata must be an object or null")),
                })
            }
            other => return Err(bad(other, format!("unknown field {other}"))),
        }
    }
    Ok(p)
}

/// The policy in force for a record: the record's tier unless the request
/// pinned one (a signed token's claim, or a request's tier when the
/// project trusts requests), then the record's own limits over the tier's.
pub fn effective_policy(
    record: Option<&IdentityRecord>,
    requested: &Policy,
    tier_pinned: bool,
    tiers: &BTreeMap<String, Tier>,
) -> Policy {
    let mut policy = requested.clone();
    let Some(record) = record else {
        return policy;
    };
    if !tier_pinned {
        if let Some((name, tier)) = record.tier.as_ref().and_then(|t| tiers.get_key_value(t)) {
            policy.tier_name.clone_from(name);
            policy.tier = tier.clone();
        }
    }
    if let Some(limits) = &record.limits {
        policy.tier.requests.clone_from(&limits.requests);
        policy.tier.tokens.clone_from(&limits.tokens);
        policy.tier.cost.clone_from(&limits.cost);
        policy.tier.models.clone_from(&limits.models);
    }
    policy
}

/// How the record changed a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Override {
    Blocked,
    Unlimited,
    Credits,
}

/// What [`admit`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub decision: Decision,
    pub tier_name: String,
    pub by: Option<Override>,
}

fn with_request(limits: &[WindowReport], size: Size) -> Vec<WindowReport> {
    limits
        .iter()
        .map(|w| WindowReport {
            used: w.used.saturating_add(size.of(w.metric)),
            ..w.clone()
        })
        .collect()
}

/// Decides a request for an identity with its record and, when admitted,
/// reserves it and consumes the credits it used — one synchronous step.
pub fn admit(
    ledger: &mut IdentityLedger,
    record: &mut IdentityRecord,
    req: &ReserveRequest,
    tier_pinned: bool,
    tiers: &BTreeMap<String, Tier>,
    now_ms: i64,
) -> Admission {
    let policy = effective_policy(Some(record), &req.policy, tier_pinned, tiers);
    let req = ReserveRequest {
        policy,
        ..req.clone()
    };
    let tier_name = req.policy.tier_name.clone();
    let decision = decide(
        &req.policy,
        Some(&req.model),
        req.size(),
        |scope, metric, period| ledger.used(scope, metric, period, now_ms),
        now_ms,
    );
    if record.blocked {
        let decision = Decision {
            verdict: Verdict::Block,
            rule: Some(RuleRef {
                id: BLOCKED_RULE_ID.into(),
                name: "Blocked identity".into(),
                message: Some(
                    record
                        .block_message
                        .clone()
                        .unwrap_or_else(|| DEFAULT_BLOCK_MESSAGE.into()),
                ),
                deep_link: None,
                action: ActionType::Block,
                usage_percent: None,
            }),
            warning: None,
            unlimited: false,
            blocking: None,
            trace: Vec::new(),
            limits: if decision.verdict == Verdict::Block {
                decision.limits
            } else {
                // Admitted reports include the request; a block does not.
                decision
                    .limits
                    .iter()
                    .map(|w| WindowReport {
                        used: w.used.saturating_sub(req.size().of(w.metric)),
                        ..w.clone()
                    })
                    .collect()
            },
        };
        return Admission {
            decision,
            tier_name,
            by: Some(Override::Blocked),
        };
    }
    if record.unlimited_until_ms.is_some_and(|t| t > now_ms) {
        let limits = if decision.verdict == Verdict::Block {
            with_request(&decision.limits, req.size())
        } else {
            decision.limits.clone()
        };
        let decision = Decision {
            verdict: Verdict::Allow,
            rule: None,
            warning: None,
            unlimited: true,
            limits,
            blocking: None,
            trace: Vec::new(),
        };
        let decision = ledger.commit(&req, decision, now_ms);
        return Admission {
            decision,
            tier_name,
            by: Some(Override::Unlimited),
        };
    }
    if decision.verdict == Verdict::Block && decision.rule.is_none() {
        let exhausted = |metric: Metric| {
            decision.limits.iter().any(|w| match (w.limit, w.metric) {
                (Some(limit), Metric::Requests) if metric == Metric::Requests => {
                    w.used.saturating_add(1) > limit
                }
                (Some(limit), Metric::Tokens) if metric == Metric::Tokens => w.used >= limit,
                (Some(limit), Metric::Cost) if metric == Metric::Cost => {
                    w.used.saturating_add(req.estimate_cost) > limit
                }
                _ => false,
            })
        };
        let need_requests = exhausted(Metric::Requests);
        let need_tokens = exhausted(Metric::Tokens);
        let need_cost = exhausted(Metric::Cost);
        let covered = (!need_requests || record.credits.requests >= 1)
            && (!need_tokens || record.credits.tokens > 0)
            && (!need_cost || record.credits.cost > 0);
        if covered && (need_requests || need_tokens || need_cost) {
            let decision = Decision {
                verdict: Verdict::Allow,
                rule: None,
                warning: None,
                unlimited: false,
                limits: with_request(&decision.limits, req.size()),
                blocking: None,
                trace: Vec::new(),
            };
            let decision = ledger.commit(&req, decision, now_ms);
            if need_requests {
                record.credits.requests -= 1;
            }
            if need_tokens {
                record.credits.tokens = record.credits.tokens.saturating_sub(req.estimate_tokens);
            }
            if need_cost {
                record.credits.cost = record.credits.cost.saturating_sub(req.estimate_cost);
            }
            return Admission {
                decision,
                tier_name,
                by: Some(Override::Credits),
            };
        }
    }
    let decision = ledger.commit(&req, decision, now_ms);
    Admission {
        decision,
        tier_name,
        by: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::period::Period;
    use crate::tier::LimitSpec;

    const NOW: i64 = 1_795_000_000_000;

    fn tiers() -> BTreeMap<String, Tier> {
        let cap = |n| Tier {
            requests: Some(LimitSpec {
                limit: Some(n),
                period: Period::Day,
            }),
            ..Tier::default()
        };
        BTreeMap::from([("free".to_string(), cap(2)), ("pro".to_string(), cap(100))])
    }

    fn request(id: &str, tier: &str) -> ReserveRequest {
        ReserveRequest {
            request_id: id.into(),
            model: "m".into(),
            estimate_tokens: 10,
            estimate_cost: 0,
            lease_ms: None,
            policy: Policy {
                tier_name: tier.into(),
                tier: tiers()[tier].clone(),
                rules: Vec::new(),
            },
            count_model: false,
        }
    }

    fn run(
        ledger: &mut IdentityLedger,
        record: &mut IdentityRecord,
        n: usize,
        pinned: bool,
    ) -> Vec<Admission> {
        (0..n)
            .map(|i| {
                admit(
                    ledger,
                    record,
                    &request(&format!("r{i}-{}", ledger.leases.len()), "free"),
                    pinned,
                    &tiers(),
                    NOW,
                )
            })
            .collect()
    }

    fn admitted(a: &[Admission]) -> usize {
        a.iter()
            .filter(|a| a.decision.verdict != Verdict::Block)
            .count()
    }

    #[test]
    fn credits_admit_exactly_their_number_past_the_cap_and_never_go_below_zero() {
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            credits: Credits {
                requests: 10,
                tokens: 0,
                cost: 0,
            },
            ..IdentityRecord::default()
        };
        let out = run(&mut ledger, &mut record, 50, false);
        // 2 by the tier's cap, then exactly 10 by credits.
        assert_eq!(admitted(&out), 12);
        assert_eq!(
            out.iter()
                .filter(|a| a.by == Some(Override::Credits))
                .count(),
            10
        );
        assert_eq!(record.credits.requests, 0);
        assert!(out[..2].iter().all(|a| a.by.is_none()));
    }

    #[test]
    fn credits_are_not_used_while_the_cap_has_room() {
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            credits: Credits {
                requests: 5,
                tokens: 0,
                cost: 0,
            },
            ..IdentityRecord::default()
        };
        run(&mut ledger, &mut record, 2, false);
        assert_eq!(record.credits.requests, 5);
    }

    #[test]
    fn blocked_beats_unlimited_and_unlimited_beats_the_caps() {
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            blocked: true,
            block_message: Some("Suspended".into()),
            unlimited_until_ms: Some(NOW + 1),
            credits: Credits {
                requests: 3,
                tokens: 0,
                cost: 0,
            },
            ..IdentityRecord::default()
        };
        let out = run(&mut ledger, &mut record, 1, false);
        assert_eq!(out[0].decision.verdict, Verdict::Block);
        assert_eq!(out[0].by, Some(Override::Blocked));
        let rule = out[0].decision.rule.as_ref().unwrap();
        assert_eq!(
            (rule.id.as_str(), rule.message.as_deref()),
            (BLOCKED_RULE_ID, Some("Suspended"))
        );
        assert!(ledger.leases.is_empty(), "a blocked request is not counted");
        record.blocked = false;
        let out = run(&mut ledger, &mut record, 5, false);
        assert_eq!(admitted(&out), 5);
        assert!(out.iter().all(|a| a.by == Some(Override::Unlimited)));
        assert_eq!(
            record.credits.requests, 3,
            "unlimited does not spend credits"
        );
        // Expired: the caps are back (5 used ≥ 2), credits take over.
        record.unlimited_until_ms = Some(NOW);
        let out = run(&mut ledger, &mut record, 5, false);
        assert_eq!(admitted(&out), 3);
    }

    #[test]
    fn the_record_tier_applies_unless_the_request_pinned_one_and_own_limits_replace_caps() {
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            tier: Some("pro".into()),
            ..IdentityRecord::default()
        };
        let out = run(&mut ledger, &mut record, 5, false);
        assert_eq!(admitted(&out), 5);
        assert_eq!(out[0].tier_name, "pro");
        let mut ledger = IdentityLedger::default();
        let out = run(&mut ledger, &mut record, 5, true);
        assert_eq!(admitted(&out), 2);
        assert_eq!(out[0].tier_name, "free");
        let mut ledger = IdentityLedger::default();
        record.limits = Some(Tier {
            requests: Some(LimitSpec {
                limit: Some(1),
                period: Period::Day,
            }),
            ..Tier::default()
        });
        let out = run(&mut ledger, &mut record, 5, false);
        assert_eq!(admitted(&out), 1);
    }

    #[test]
    fn token_credits_cover_a_token_cap_and_stop_at_zero() {
        let mut t = tiers();
        t.insert(
            "free".into(),
            Tier {
                tokens: Some(LimitSpec {
                    limit: Some(5),
                    period: Period::Day,
                }),
                ..Tier::default()
            },
        );
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            credits: Credits {
                requests: 0,
                tokens: 15,
                cost: 0,
            },
            ..IdentityRecord::default()
        };
        let mut req = request("a", "free");
        req.policy.tier = t["free"].clone();
        let mut results = Vec::new();
        for i in 0..5 {
            req.request_id = format!("t{i}");
            results.push(admit(&mut ledger, &mut record, &req, false, &t, NOW));
        }
        // 1 by the cap (0 < 5), then 15 credits cover two estimates of 10 (10, then 5 → 0).
        assert_eq!(admitted(&results), 3);
        assert_eq!(record.credits.tokens, 0);
    }

    #[test]
    fn cost_credits_cover_a_cost_cap_and_stop_at_zero() {
        let mut t = tiers();
        t.insert(
            "free".into(),
            Tier {
                cost: Some(LimitSpec {
                    limit: Some(1_000),
                    period: Period::Month,
                }),
                ..Tier::default()
            },
        );
        let mut ledger = IdentityLedger::default();
        let mut record = IdentityRecord {
            credits: Credits {
                cost: 700,
                ..Credits::default()
            },
            ..IdentityRecord::default()
        };
        let mut req = request("a", "free");
        req.policy.tier = t["free"].clone();
        req.estimate_cost = 400;
        let mut results = Vec::new();
        for i in 0..6 {
            req.request_id = format!("c{i}");
            results.push(admit(&mut ledger, &mut record, &req, false, &t, NOW));
        }
        // 2 fit the cap (800 ≤ 1000), then 700 µUSD of credits cover two (400, then 300 → 0).
        assert_eq!(admitted(&results), 4);
        assert_eq!(
            results
                .iter()
                .filter(|a| a.by == Some(Override::Credits))
                .count(),
            2
        );
        assert_eq!(record.credits.cost, 0);
        assert_eq!(parse_gift(&json!({"cost": 5})).unwrap().cost, 5);
    }

    #[test]
    fn patches_validate_and_clear() {
        let t = tiers();
        let p = parse_patch(
            &json!({"tier": "pro", "credits": {"requests": 10}, "unlimitedUntil": "2026-12-31T23:59:59Z",
                    "blocked": true, "blockMessage": " Paused ", "metadata": {"plan": "x"},
                    "limits": {"requests": {"limit": 7, "period": "hour"}}}),
            &t,
        )
        .unwrap();
        let mut r = IdentityRecord::default();
        p.apply(&mut r, NOW);
        assert_eq!(r.tier.as_deref(), Some("pro"));
        assert_eq!(r.credits.requests, 10);
        assert_eq!(r.block_message.as_deref(), Some("Paused"));
        assert_eq!(
            r.limits
                .as_ref()
                .and_then(|l| l.requests.as_ref())
                .and_then(|s| s.limit),
            Some(7)
        );
        assert_eq!(
            iso8601(r.unlimited_until_ms.unwrap()),
            "2026-12-31T23:59:59Z"
        );
        parse_patch(&json!({"tier": null, "unlimitedUntil": null}), &t)
            .unwrap()
            .apply(&mut r, NOW);
        assert_eq!((r.tier.as_ref(), r.unlimited_until_ms), (None, None));
        for bad in [
            json!({"tier": "gold"}),
            json!({"credits": {"requests": -1}}),
            json!({"credits": {"dollars": 1}}),
            json!({"unlimitedUntil": "tomorrow"}),
            json!({"blocked": "yes"}),
            json!({"metadata": [1]}),
            json!({"metadata": {"x": "y".repeat(3000)}}),
            json!({"limits": {"requests": {"limit": 1, "period": "year"}}}),
            json!({"limits": {"limitMessage": {"message": "x"}}}),
            json!({"colour": "red"}),
        ] {
            assert!(parse_patch(&bad, &t).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_parse_strictly() {
        assert_eq!(
            parse_instant("2026-12-31T00:00:00Z")
                .map(iso8601)
                .as_deref(),
            Some("2026-12-31T00:00:00Z")
        );
        assert_eq!(
            parse_instant("2026-12-31T00:00:00.250Z").map(|m| m % 1000),
            Some(250)
        );
        for s in [
            "2026-12-31",
            "2026-12-31T24:00:00Z",
            "2026-12-31T00:00:00",
            "2026-12-31T00:00:00+01:00",
        ] {
            assert!(parse_instant(s).is_none(), "{s}");
        }
    }

    #[test]
    fn gifts_add_and_saturate() {
        let mut r = IdentityRecord::default();
        gift(
            &mut r,
            Credits {
                requests: 3,
                tokens: 1,
                cost: 0,
            },
            NOW,
        );
        gift(
            &mut r,
            Credits {
                requests: 2,
                tokens: MAX_SAFE_INTEGER,
                cost: 0,
            },
            NOW,
        );
        assert_eq!(
            r.credits,
            Credits {
                requests: 5,
                tokens: MAX_SAFE_INTEGER,
                cost: 0,
            }
        );
        assert!(parse_gift(&json!({"requests": 0})).is_err());
        assert_eq!(parse_gift(&json!({"requests": 4})).unwrap().requests, 4);
    }
}
