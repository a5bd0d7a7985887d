//! Admission: one function decides every request, live or simulated.
//!
//! `decide` takes the tier, the rules, the request's size and a view of the
//! counters *before* the request, and answers allow / warn / block with the
//! windows that explain it. The live path calls it inside the identity's
//! Durable Object between reading and writing the counters (so rules are as
//! exact under concurrency as limits); the simulator calls it with the usage
//! an owner typed in. Order: the first matching `block`/`allow` rule decides;
//! otherwise every finite cap must have room (`used + 1 ≤ limit` for
//! requests, `used < limit` for tokens); an admitted request carries the
//! first matching `warn` rule.

use crate::period::{seconds_until, window_end, Period};
use crate::rules::{evaluate, ActionType, Rule, RuleInput, TraceEntry, WindowUsage};
use crate::tier::{Cap, Metric, Tier};
use serde::{Deserialize, Serialize};

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

/// One window as reported to clients (body `limits`, headers, 429).
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
            return Some(b);
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
pub fn decide(
    policy: &Policy,
    model: Option<&str>,
    request_tokens: u64,
    used_before: impl Fn(&str, Metric, Period) -> u64,
    now_ms: i64,
) -> Decision {
    let increment = |m: Metric| match m {
        Metric::Requests => 1,
        Metric::Tokens => request_tokens,
    };
    let caps = policy.tier.caps_for(model);
    let cap_limit = |metric: Metric, period: Period| {
        caps.iter()
            .find(|c| c.model.is_none() && c.metric == metric && c.period == period)
            .and_then(|c| c.limit)
    };

    // What rules see: tier-wide usage of both metrics in every period, plus
    // the model windows the tier caps — all including this request.
    let mut rule_windows: Vec<WindowUsage> = Vec::with_capacity(10 + caps.len());
    for metric in [Metric::Requests, Metric::Tokens] {
        for period in Period::ALL {
            rule_windows.push(WindowUsage {
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
        rule_windows.push(WindowUsage {
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
    };
    let eval = evaluate(&policy.rules, &input);
    let top_percent = rule_windows
        .iter()
        .filter(|w| w.model.is_none())
        .filter_map(WindowUsage::percent)
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
