//! Admission: one function decides every request, live or simulated.
//!
//! `decide` takes the tier, the rules, the request's size and a view of the
//! counters *before* the request, and answers allow / warn / block with the
//! windows that explain it. The live path calls it inside the identity's
//! Durable Object between reading and writing the counters (so rules are as
//! exact under concurrency as limits); the simulator calls it with the usage
//! an owner typed in. Order: the first matching `block`/`allow` rule decides;
//! otherwise every finite cap must have room (`used + 1 ≤ limit` for
//! requests, `used < limit` for tokens, `used + reserved cost ≤ limit` for
//! cost — money is never overspent by an admitted request whose answer
//! stays within its reservation); an admitted request carries the first
//! matching `warn` rule.

use crate::period::{seconds_until, window_end, Period};
use crate::rules::{evaluate, ActionType, Rule, RuleInput, TraceEntry};
use crate::tier::{Cap, Metric, Tier};
use serde::{Deserialize, Serialize};

/// What one request adds to the counters at admission: its token
/// reservation and the cost reservation (micro-dollars). A bare number is
/// a token reservation with no cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub tokens: u64,
    pub cost: u64,
}

impl From<u64> for Size {
    fn from(tokens: u64) -> Self {
        Self { tokens, cost: 0 }
    }
}

impl Size {
    /// What this request adds to a window of `metric`.
    pub fn of(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Requests => 1,
            Metric::Tokens => self.tokens,
            Metric::Cost => self.cost,
        }
    }
}

/// What the counter enforces for one request: the tier in force and the
/// project's enabled rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub tier_name: String,
    pub tier: Tier,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Warn,
    Block,
}

/// One window's usage: what rules read (including the request being
/// decided) and what clients are shown (body `limits`, headers, 429).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowReport {
    pub metric: Metric,
    pub period: Period,
    pub model: Option<String>,
    pub limit: Option<u64>,
    pub used: u64,
    pub reset_at_ms: i64,
}

impl WindowReport {
    pub fn remaining(&self) -> Option<u64> {
        self.limit.map(|l| l.saturating_sub(self.used))
    }

    /// Percentage of the limit in use; `None` when unlimited (or limit 0
    /// with nothing used, which is not a meaningful fraction).
    pub fn percent(&self) -> Option<f64> {
        match self.limit {
            Some(0) if self.used == 0 => Some(0.0),
            Some(0) => Some(f64::INFINITY),
            Some(limit) => Some(self.used as f64 * 100.0 / limit as f64),
            None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRef {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
    pub action: ActionType,
    /// Highest percentage of a finite tier-wide limit at decision time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub verdict: Verdict,
    /// The block rule, or the allow rule that admitted past the limits.
    pub rule: Option<RuleRef>,
    /// The warn rule attached to an admitted request.
    pub warning: Option<RuleRef>,
    /// `true` when an `allow` rule lifted the tier's limits.
    pub unlimited: bool,
    /// The tier's windows for this request: usage *after* the reservation
    /// when admitted, usage before the request when blocked.
    pub limits: Vec<WindowReport>,
    /// For a block: the window that blocked, usage without this request.
    pub blocking: Option<WindowReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceEntry>,
}

impl Decision {
    /// The window the `x-ratelimit-*` headers describe: the finite limit with
    /// the smallest remaining fraction (ties: the shorter window). `None` when
    /// no finite limit applies.
    pub fn header_window(&self) -> Option<&WindowReport> {
        if let Some(b) = &self.blocking {
            return b.limit.is_some().then_some(b);
        }
        if self.unlimited {
            return None;
        }
        tightest(&self.limits)
    }
}

/// The finite window with the smallest remaining fraction (ties: shorter).
pub fn tightest(windows: &[WindowReport]) -> Option<&WindowReport> {
    windows.iter().filter(|w| w.limit.is_some()).min_by(|a, b| {
        let fa = fraction(a);
        let fb = fraction(b);
        fa.total_cmp(&fb).then(a.period.cmp(&b.period))
    })
}

fn fraction(w: &WindowReport) -> f64 {
    match (w.limit, w.remaining()) {
        (Some(0), _) => 0.0,
        (Some(l), Some(r)) => r as f64 / l as f64,
        _ => f64::INFINITY,
    }
}

/// `x-ratelimit-*` header values for a window.
pub fn limit_headers(w: &WindowReport, now_ms: i64) -> Vec<(&'static str, String)> {
    let limit = w.limit.unwrap_or(0);
    vec![
        ("x-ratelimit-limit", limit.to_string()),
        (
            "x-ratelimit-remaining",
            w.remaining().unwrap_or(0).to_string(),
        ),
        (
            "x-ratelimit-reset",
            seconds_until(w.reset_at_ms, now_ms).to_string(),
        ),
        (
            "x-ratelimit-policy",
            format!("{limit};w={}", w.period.nominal_seconds()),
        ),
    ]
}

/// Decides one request. `used_before(scope, metric, period)` reads the
/// counters before this request (`scope` is `""` tier-wide or the model).
/// The live path: no rule trace is formatted.
pub fn decide(
    policy: &Policy,
    model: Option<&str>,
    size: impl Into<Size>,
    used_before: impl Fn(&str, Metric, Period) -> u64,
    now_ms: i64,
) -> Decision {
    decide_with(policy, model, size, used_before, now_ms, false)
}

/// [`decide`], with the human-readable rule trace when `explain` is set
/// (the simulator).
pub fn decide_with(
    policy: &Policy,
    model: Option<&str>,
    size: impl Into<Size>,
    used_before: impl Fn(&str, Metric, Period) -> u64,
    now_ms: i64,
    explain: bool,
) -> Decision {
    let size: Size = size.into();
    let increment = |m: Metric| size.of(m);
    let caps = policy.tier.caps_for(model);
    let cap_limit = |metric: Metric, period: Period| {
        caps.iter()
            .find(|c| c.model.is_none() && c.metric == metric && c.period == period)
            .and_then(|c| c.limit)
    };

    // What rules see: tier-wide usage of every metric in every period, plus
    // the model windows the tier caps — all including this request.
    let mut rule_windows: Vec<WindowReport> = Vec::with_capacity(15 + caps.len());
    for metric in Metric::ALL {
        for period in Period::ALL {
            rule_windows.push(WindowReport {
                metric,
                period,
                model: None,
                limit: cap_limit(metric, period),
                used: used_before("", metric, period).saturating_add(increment(metric)),
                reset_at_ms: window_end(period, now_ms),
            });
        }
    }
    for cap in caps.iter().filter(|c| c.model.is_some()) {
        let scope = cap.model.as_deref().unwrap_or("");
        rule_windows.push(WindowReport {
            metric: cap.metric,
            period: cap.period,
            model: cap.model.clone(),
            limit: cap.limit,
            used: used_before(scope, cap.metric, cap.period).saturating_add(increment(cap.metric)),
            reset_at_ms: window_end(cap.period, now_ms),
        });
    }

    let report = |cap: &Cap, with_request: bool| {
        let scope = cap.model.as_deref().unwrap_or("");
        let before = used_before(scope, cap.metric, cap.period);
        WindowReport {
            metric: cap.metric,
            period: cap.period,
            model: cap.model.clone(),
            limit: cap.limit,
            used: if with_request {
                before.saturating_add(increment(cap.metric))
            } else {
                before
            },
            reset_at_ms: window_end(cap.period, now_ms),
        }
    };
    let before_reports: Vec<WindowReport> = caps.iter().map(|c| report(c, false)).collect();
    let after_reports: Vec<WindowReport> = caps.iter().map(|c| report(c, true)).collect();

    let input = RuleInput {
        tier: &policy.tier_name,
        model,
        windows: &rule_windows,
        explain,
    };
    let eval = evaluate(&policy.rules, &input);
    let top_percent = rule_windows
        .iter()
        .filter(|w| w.model.is_none())
        .filter_map(WindowReport::percent)
        .fold(None, |acc: Option<f64>, p| {
            Some(acc.map_or(p, |a| a.max(p)))
        });
    let rule_ref = |i: usize| {
        let r = &policy.rules[i];
        RuleRef {
            id: r.id.clone(),
            name: r.name.clone(),
            message: r.action.message.clone(),
            deep_link: r.action.deep_link.clone(),
            action: r.action.kind,
            usage_percent: top_percent.filter(|p| p.is_finite()),
        }
    };
    let warning = eval.warning.map(rule_ref);

    if let Some((i, window)) = eval.decisive {
        let rule = rule_ref(i);
        if rule.action == ActionType::Block {
            // The window the rule's metric refers to, else the tier's tightest.
            let blocking = window
                .and_then(|w| rule_windows.get(w))
                .map(|w| WindowReport {
                    metric: w.metric,
                    period: w.period,
                    model: w.model.clone(),
                    limit: w.limit,
                    used: w.used.saturating_sub(increment(w.metric)),
                    reset_at_ms: w.reset_at_ms,
                })
                .or_else(|| tightest(&before_reports).cloned())
                .or_else(|| {
                    rule_windows
                        .iter()
                        .find(|w| w.metric == Metric::Requests && w.period == Period::Day)
                        .map(|w| WindowReport {
                            metric: w.metric,
                            period: w.period,
                            model: None,
                            limit: None,
                            used: w.used.saturating_sub(1),
                            reset_at_ms: w.reset_at_ms,
                        })
                });
            return Decision {
                verdict: Verdict::Block,
                rule: Some(rule),
                warning: None,
                unlimited: false,
                limits: before_reports,
                blocking,
                trace: eval.trace,
            };
        }
        return Decision {
            verdict: if warning.is_some() {
                Verdict::Warn
            } else {
                Verdict::Allow
            },
            rule: Some(rule),
            warning,
            unlimited: true,
            limits: after_reports,
            blocking: None,
            trace: eval.trace,
        };
    }

    let exhausted = before_reports
        .iter()
        .filter(|w| match (w.limit, w.metric) {
            (Some(limit), Metric::Requests) => w.used.saturating_add(1) > limit,
            (Some(limit), Metric::Tokens) => w.used >= limit,
            (Some(limit), Metric::Cost) => w.used.saturating_add(size.cost) > limit,
            (None, _) => false,
        })
        .max_by_key(|w| w.reset_at_ms)
        .cloned();
    if let Some(blocking) = exhausted {
        return Decision {
            verdict: Verdict::Block,
            rule: None,
            warning: None,
            unlimited: false,
            limits: before_reports,
            blocking: Some(blocking),
            trace: eval.trace,
        };
    }
    Decision {
        verdict: if warning.is_some() {
            Verdict::Warn
        } else {
            Verdict::Allow
        },
        rule: None,
        warning,
        unlimited: false,
        limits: after_reports,
        blocking: None,
        trace: eval.trace,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::{json, Value};

    // 2026-11-27T12:00:00Z, a Friday.
    const NOW: i64 = 1_795_780_800_000;

    fn tier(v: Value) -> Tier {
        serde_json::from_value(v).unwrap()
    }

    fn free() -> Tier {
        tier(json!({"requests": {"limit": 5, "period": "day"}}))
    }

    fn rule(id: &str, priority: i64, condition: Value, action: &str) -> Rule {
        serde_json::from_value(json!({
            "id": id, "name": id, "enabled": true, "priority": priority,
            "condition": condition, "action": {"type": action, "message": format!("{id} says")}
        }))
        .unwrap()
    }

    fn policy(tier_name: &str, tier: Tier, rules: Vec<Rule>) -> Policy {
        Policy {
            tier_name: tier_name.into(),
            tier,
            rules,
        }
    }

    fn at(p: &Policy, requests: u64, tokens: u64, request_tokens: u64) -> Decision {
        decide(
            p,
            None,
            request_tokens,
            |_, m, _| match m {
                Metric::Requests => requests,
                Metric::Tokens => tokens,
                Metric::Cost => 0,
            },
            NOW,
        )
    }

    fn gte(metric: &str, threshold: f64) -> Value {
        json!({"type": "usage_percent", "metric": metric, "operator": "gte", "threshold": threshold})
    }

    fn free_tier() -> Value {
        json!({"type": "tier", "tiers": ["free"]})
    }

    #[test]
    fn request_cap_admits_exactly_up_to_the_limit() {
        let p = policy("free", free(), vec![]);
        let ok = at(&p, 4, 0, 0);
        assert_eq!(ok.verdict, Verdict::Allow);
        assert_eq!(ok.limits[0].used, 5); // after this request's reservation
        assert_eq!(ok.limits[0].remaining(), Some(0));
        let blocked = at(&p, 5, 0, 0);
        assert_eq!(blocked.verdict, Verdict::Block);
        assert_eq!(blocked.rule, None);
        let b = blocked.blocking.unwrap();
        assert_eq!((b.limit, b.used, b.period), (Some(5), 5, Period::Day));
        assert_eq!(b.reset_at_ms, NOW + 12 * 3_600_000);
        assert_eq!(blocked.limits[0].used, 5); // the blocked request is not counted
    }

    #[test]
    fn token_cap_admits_while_used_is_below_the_limit() {
        let p = policy(
            "free",
            tier(json!({"tokens": {"limit": 1000, "period": "month"}})),
            vec![],
        );
        assert_eq!(at(&p, 0, 999, 5000).verdict, Verdict::Allow);
        assert_eq!(at(&p, 0, 1000, 0).verdict, Verdict::Block);
    }

    #[test]
    fn fourth_of_five_requests_is_at_eighty_percent() {
        let p = policy(
            "free",
            free(),
            vec![rule("w80", 0, gte("requests", 80.0), "warn")],
        );
        assert_eq!(at(&p, 2, 0, 0).verdict, Verdict::Allow);
        let d = at(&p, 3, 0, 0);
        assert_eq!(d.verdict, Verdict::Warn);
        let w = d.warning.unwrap();
        assert_eq!(w.id, "w80");
        assert_eq!(w.message.as_deref(), Some("w80 says"));
        assert_eq!(w.usage_percent, Some(80.0));
    }

    #[test]
    fn block_wins_over_warn_when_both_match() {
        let p = policy(
            "free",
            free(),
            vec![
                rule("warn", -1, free_tier(), "warn"),
                rule("block", 5, free_tier(), "block"),
            ],
        );
        let d = at(&p, 0, 0, 0);
        assert_eq!(d.verdict, Verdict::Block);
        assert_eq!(d.rule.unwrap().id, "block");
        assert_eq!(d.warning, None);
        assert!(!d.unlimited);
    }

    #[test]
    fn allow_rule_admits_over_an_exhausted_tier_limit() {
        let p = policy(
            "enterprise",
            free(),
            vec![rule(
                "unlimited",
                0,
                json!({"type": "tier", "tiers": ["enterprise"]}),
                "allow",
            )],
        );
        let d = at(&p, 500, 0, 0);
        assert_eq!(d.verdict, Verdict::Allow);
        assert!(d.unlimited);
        assert_eq!(d.rule.as_ref().unwrap().id, "unlimited");
        assert_eq!(d.blocking, None);
        assert_eq!(d.header_window(), None);
    }

    #[test]
    fn allow_rule_still_carries_a_matching_warning() {
        let p = policy(
            "free",
            free(),
            vec![
                rule("allow", 0, free_tier(), "allow"),
                rule("warn", 1, free_tier(), "warn"),
            ],
        );
        let d = at(&p, 9, 0, 0);
        assert_eq!(d.verdict, Verdict::Warn);
        assert!(d.unlimited);
        assert_eq!(d.warning.unwrap().id, "warn");
    }

    #[test]
    fn lower_priority_block_beats_a_later_allow_and_vice_versa() {
        let block_first = policy(
            "free",
            free(),
            vec![
                rule("allow", 2, free_tier(), "allow"),
                rule("block", 1, free_tier(), "block"),
            ],
        );
        assert_eq!(at(&block_first, 0, 0, 0).verdict, Verdict::Block);
        let allow_first = policy(
            "free",
            free(),
            vec![
                rule("allow", 1, free_tier(), "allow"),
                rule("block", 2, free_tier(), "block"),
            ],
        );
        assert_eq!(at(&allow_first, 99, 0, 0).verdict, Verdict::Allow);
    }

    #[test]
    fn equal_priority_keeps_creation_order() {
        let p = policy(
            "free",
            free(),
            vec![
                rule("first", 0, free_tier(), "block"),
                rule("second", 0, free_tier(), "allow"),
            ],
        );
        assert_eq!(at(&p, 0, 0, 0).rule.unwrap().id, "first");
        let p = policy(
            "free",
            free(),
            vec![
                rule("w1", 0, free_tier(), "warn"),
                rule("w2", 0, free_tier(), "warn"),
            ],
        );
        assert_eq!(at(&p, 0, 0, 0).warning.unwrap().id, "w1");
    }

    #[test]
    fn the_live_path_formats_no_trace_and_the_simulator_does() {
        let p = policy("free", free(), vec![rule("w1", 0, free_tier(), "warn")]);
        let live = at(&p, 0, 0, 0);
        assert_eq!(live.verdict, Verdict::Warn);
        assert!(live.trace.is_empty());
        let explained = decide_with(&p, None, 0, |_, _, _| 0, NOW, true);
        assert_eq!(explained.verdict, Verdict::Warn);
        assert_eq!(explained.trace.len(), 1);
        assert!(!explained.trace[0].reason.is_empty());
    }

    #[test]
    fn disabled_rules_are_ignored() {
        let mut off = rule("off", 0, free_tier(), "block");
        off.enabled = false;
        let p = policy("free", free(), vec![off]);
        let d = at(&p, 0, 0, 0);
        assert_eq!(d.verdict, Verdict::Allow);
        assert!(d.trace.is_empty());
    }

    #[test]
    fn usage_percent_rule_never_fires_on_an_unlimited_tier() {
        let p = policy(
            "free",
            tier(json!({"requests": {"limit": null, "period": "day"}})),
            vec![rule("b", 0, gte("requests", 0.0), "block")],
        );
        let d = at(&p, 1_000_000, 0, 0);
        assert_eq!(d.verdict, Verdict::Allow);
        assert_eq!(d.header_window(), None);
    }

    #[test]
    fn usage_absolute_block_reports_its_window_without_the_request() {
        let p = policy(
            "free",
            Tier::default(),
            vec![rule(
                "img",
                0,
                json!({"type": "usage_absolute", "metric": "requests", "operator": "gt", "threshold": 5}),
                "block",
            )],
        );
        assert_eq!(at(&p, 4, 0, 0).verdict, Verdict::Allow);
        let d = at(&p, 5, 0, 0);
        assert_eq!(d.verdict, Verdict::Block);
        let b = d.blocking.unwrap();
        assert_eq!((b.period, b.used, b.limit), (Period::Day, 5, None));
    }

    #[test]
    fn rule_without_metric_blocks_on_the_tiers_tightest_window() {
        let t = tier(json!({
            "requests": {"limit": 100, "period": "day"},
            "tokens": {"limit": 1000, "period": "month"}
        }));
        let p = policy(
            "free",
            t,
            vec![rule(
                "m",
                0,
                json!({"type": "model", "models": ["o1"]}),
                "block",
            )],
        );
        let d = decide(
            &p,
            Some("o1"),
            0,
            |_, m, _| if m == Metric::Tokens { 900 } else { 10 },
            NOW,
        );
        assert_eq!(d.verdict, Verdict::Block);
        let b = d.blocking.unwrap();
        assert_eq!((b.metric, b.used), (Metric::Tokens, 900));
        let other = decide(&p, Some("gpt-4o"), 0, |_, _, _| 0, NOW);
        assert_eq!(other.verdict, Verdict::Allow);
    }

    #[test]
    fn request_tokens_count_in_token_rules_but_not_in_admission() {
        let p = policy(
            "free",
            tier(json!({"tokens": {"limit": 1000, "period": "day"}})),
            vec![rule("t90", 0, gte("tokens", 90.0), "warn")],
        );
        assert_eq!(at(&p, 0, 800, 99).verdict, Verdict::Allow);
        assert_eq!(at(&p, 0, 800, 100).verdict, Verdict::Warn);
        let d = at(&p, 0, 800, 500);
        assert_eq!(d.verdict, Verdict::Warn);
        assert_eq!(d.limits[0].used, 1300);
    }

    #[test]
    fn model_caps_block_only_their_model() {
        let t = tier(json!({"models": {"gpt-4o": {"requests": {"limit": 2, "period": "hour"}}}}));
        let p = policy("free", t, vec![]);
        let d = decide(
            &p,
            Some("gpt-4o"),
            0,
            |scope, _, _| if scope == "gpt-4o" { 2 } else { 0 },
            NOW,
        );
        assert_eq!(d.verdict, Verdict::Block);
        assert_eq!(d.blocking.unwrap().model.as_deref(), Some("gpt-4o"));
        let d = decide(&p, Some("gpt-4o-mini"), 0, |_, _, _| 2, NOW);
        assert_eq!(d.verdict, Verdict::Allow);
    }

    #[test]
    fn cost_caps_and_cost_rules_see_the_cost_reservation() {
        let t = tier(json!({"cost": {"limit": 1_000_000, "period": "month"},
                            "models": {"o1": {"cost": {"limit": 100, "period": "day"}}}}));
        let p = policy("free", t, vec![rule("c80", 0, gte("cost", 80.0), "warn")]);
        let spent =
            |v: u64| move |_: &str, m: Metric, _: Period| if m == Metric::Cost { v } else { 0 };
        let size = Size {
            tokens: 10,
            cost: 200_000,
        };
        let ok = decide(&p, Some("gpt-4o"), size, spent(600_000), NOW);
        assert_eq!(ok.verdict, Verdict::Warn); // 800k of 1M after this request
        assert_eq!(ok.limits[0].used, 800_000);
        assert_eq!(
            decide(&p, Some("gpt-4o"), size, spent(800_000), NOW).verdict,
            Verdict::Warn
        );
        // 800 001 + 200 000 > 1 000 000: the reservation no longer fits.
        let b = decide(&p, Some("gpt-4o"), size, spent(800_001), NOW);
        assert_eq!(b.verdict, Verdict::Block);
        assert_eq!(b.blocking.unwrap().metric, Metric::Cost);
        // A per-model cost cap blocks only its model.
        let small = Size {
            tokens: 1,
            cost: 50,
        };
        let d = decide(&p, Some("o1"), small, spent(60), NOW);
        assert_eq!(d.blocking.unwrap().model.as_deref(), Some("o1"));
        assert_eq!(
            decide(&p, Some("gpt-4o"), small, spent(60), NOW).verdict,
            Verdict::Allow
        );
        // An unpriced model reserves nothing and is not stopped by the cap.
        assert_ne!(
            decide(&p, Some("x"), 5u64, spent(1_000_000), NOW).verdict,
            Verdict::Block
        );
    }

    #[test]
    fn several_exhausted_windows_report_the_one_that_resets_last() {
        let t = tier(json!({
            "requests": {"limit": 5, "period": "hour"},
            "tokens": {"limit": 10, "period": "week"}
        }));
        let d = at(&policy("free", t, vec![]), 5, 10, 0);
        assert_eq!(d.blocking.unwrap().period, Period::Week);
    }

    #[test]
    fn header_window_is_the_smallest_remaining_fraction_ties_shorter() {
        let t = tier(json!({
            "requests": {"limit": 10, "period": "day"},
            "tokens": {"limit": 100, "period": "minute"}
        }));
        let p = policy("free", t, vec![]);
        // requests 5/10 after, tokens 50/100: tie → the minute window.
        let d = at(&p, 4, 50, 0);
        let h = d.header_window().unwrap();
        assert_eq!(h.period, Period::Minute);
        let d = at(&p, 8, 50, 0);
        assert_eq!(d.header_window().unwrap().metric, Metric::Requests);
    }

    #[test]
    fn limit_headers_use_the_window_and_clock() {
        let w = WindowReport {
            metric: Metric::Requests,
            period: Period::Day,
            model: None,
            limit: Some(100),
            used: 40,
            reset_at_ms: NOW + 1_500,
        };
        let h = limit_headers(&w, NOW);
        assert_eq!(
            h,
            vec![
                ("x-ratelimit-limit", "100".to_string()),
                ("x-ratelimit-remaining", "60".to_string()),
                ("x-ratelimit-reset", "2".to_string()),
                ("x-ratelimit-policy", "100;w=86400".to_string()),
            ]
        );
    }

    #[test]
    fn huge_usage_saturates_instead_of_overflowing() {
        let p = policy(
            "free",
            free(),
            vec![rule("w", 0, gte("requests", 1.0), "warn")],
        );
        let d = at(&p, u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(d.verdict, Verdict::Block);
        let d = at(
            &policy("free", Tier::default(), vec![]),
            u64::MAX,
            u64::MAX,
            u64::MAX,
        );
        assert_eq!(d.verdict, Verdict::Allow);
    }
}
