//! The rule engine: conditions over tier, model and usage; actions warn,
//! block and allow.
//!
//! Rules are evaluated in ascending `priority`, then in the order given
//! (creation order). A condition sees usage *including* the request being
//! decided. The first matching `block` or `allow` rule decides admission; the
//! first matching `warn` rule supplies the warning. `usage_percent` is the
//! highest percentage over the tier-wide windows of its metric that have a
//! finite limit, and never matches without one. `usage_absolute` compares the
//! highest `used` among those same windows; when the tier caps that metric
//! nowhere, it compares the `day` window's usage (so "more than 5 images"
//! means per day on an otherwise unlimited tier). Evaluation is pure and
//! total: no input makes it panic, nesting depth is bounded by validation.

use crate::decision::WindowReport;
use crate::period::Period;
use crate::tier::Metric;
use serde::{Deserialize, Serialize};

/// How deep `all`/`any` may nest.
pub const MAX_CONDITION_DEPTH: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    Gte,
    Gt,
    Lte,
    Lt,
    Eq,
}

impl Operator {
    pub fn test(self, value: f64, threshold: f64) -> bool {
        match self {
            Operator::Gte => value >= threshold,
            Operator::Gt => value > threshold,
            Operator::Lte => value <= threshold,
            Operator::Lt => value < threshold,
            Operator::Eq => (value - threshold).abs() < 1e-9,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Gte => ">=",
            Operator::Gt => ">",
            Operator::Lte => "<=",
            Operator::Lt => "<",
            Operator::Eq => "=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    UsagePercent {
        metric: Metric,
        operator: Operator,
        threshold: f64,
    },
    UsageAbsolute {
        metric: Metric,
        operator: Operator,
        threshold: f64,
    },
    Tier {
        tiers: Vec<String>,
    },
    Model {
        models: Vec<String>,
    },
    All {
        conditions: Vec<Condition>,
    },
    Any {
        conditions: Vec<Condition>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    Warn,
    Block,
    Allow,
}

impl ActionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Warn => "warn",
            ActionType::Block => "block",
            ActionType::Allow => "allow",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: ActionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub priority: i64,
    pub condition: Condition,
    pub action: Action,
}

/// What a rule sees: the tier, the model and the usage of every window.
/// `windows` must contain the tier-wide usage of both metrics for every
/// period (limit set where the tier caps it) plus the model windows the tier
/// caps.
#[derive(Debug, Clone)]
pub struct RuleInput<'a> {
    pub tier: &'a str,
    pub model: Option<&'a str>,
    pub windows: &'a [WindowReport],
    /// Write the human-readable trace (the simulator); the live path leaves
    /// it off and formats nothing.
    pub explain: bool,
}

/// A trace reason, formatted only when the caller asked for explanations.
macro_rules! why {
    ($input:expr, $($arg:tt)*) => {
        if $input.explain {
            format!($($arg)*)
        } else {
            String::new()
        }
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceEntry {
    pub rule_id: String,
    pub matched: bool,
    pub reason: String,
}

/// The outcome of evaluating a rule set. Indices point into the slice that
/// was evaluated; `window` into `RuleInput::windows`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// The first matching `block` or `allow` rule and the window its
    /// condition's metric referred to (if it has one).
    pub decisive: Option<(usize, Option<usize>)>,
    /// The first matching `warn` rule.
    pub warning: Option<usize>,
    pub trace: Vec<TraceEntry>,
}

/// Evaluates `rules` (disabled ones are skipped) in priority order.
pub fn evaluate(rules: &[Rule], input: &RuleInput<'_>) -> Evaluation {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].priority); // stable: ties keep creation order
    let mut out = Evaluation::default();
    for i in order {
        let rule = &rules[i];
        if !rule.enabled {
            continue;
        }
        let m = matches(&rule.condition, input, 0);
        if input.explain {
            out.trace.push(TraceEntry {
                rule_id: rule.id.clone(),
                matched: m.matched,
                reason: m.reason,
            });
        }
        if !m.matched {
            continue;
        }
        match rule.action.kind {
            ActionType::Warn => {
                if out.warning.is_none() {
                    out.warning = Some(i);
                }
            }
            ActionType::Block | ActionType::Allow => {
                if out.decisive.is_none() {
                    out.decisive = Some((i, m.window));
                }
            }
        }
    }
    out
}

struct Match {
    matched: bool,
    reason: String,
    window: Option<usize>,
}

fn matches(cond: &Condition, input: &RuleInput<'_>, depth: usize) -> Match {
    let plain = |matched: bool, reason: String| Match {
        matched,
        reason,
        window: None,
    };
    match cond {
        Condition::Tier { tiers } => {
            let m = tiers.iter().any(|t| t == input.tier);
            plain(
                m,
                why!(
                    input,
                    "tier {} {} [{}]",
                    input.tier,
                    in_word(m),
                    tiers.join(", ")
                ),
            )
        }
        Condition::Model { models } => {
            let model = input.model.unwrap_or("");
            let m = models.iter().any(|x| x == model);
            plain(
                m,
                why!(
                    input,
                    "model {model} {} [{}]",
                    in_word(m),
                    models.join(", ")
                ),
            )
        }
        Condition::UsagePercent {
            metric,
            operator,
            threshold,
        } => match highest_percent(input.windows, *metric) {
            Some((idx, pct)) => {
                let m = operator.test(pct, *threshold);
                Match {
                    matched: m,
                    reason: why!(
                        input,
                        "{} at {:.1}% {} {} {threshold}%",
                        metric.as_str(),
                        pct,
                        if m { "is" } else { "is not" },
                        operator.as_str()
                    ),
                    window: Some(idx),
                }
            }
            None => plain(
                false,
                why!(input, "no finite {} limit applies", metric.as_str()),
            ),
        },
        Condition::UsageAbsolute {
            metric,
            operator,
            threshold,
        } => match absolute_window(input.windows, *metric) {
            Some(idx) => {
                let used = input.windows[idx].used;
                let m = operator.test(used as f64, *threshold);
                Match {
                    matched: m,
                    reason: why!(
                        input,
                        "{} used {used} {} {} {threshold}",
                        metric.as_str(),
                        if m { "is" } else { "is not" },
                        operator.as_str()
                    ),
                    window: Some(idx),
                }
            }
            None => plain(false, why!(input, "no {} usage is known", metric.as_str())),
        },
        Condition::All { conditions } | Condition::Any { conditions } => {
            let all = matches!(cond, Condition::All { .. });
            if depth >= MAX_CONDITION_DEPTH {
                return plain(false, why!(input, "conditions nested too deeply"));
            }
            let mut window = None;
            let mut reasons = Vec::new();
            let mut result = all;
            for c in conditions {
                let m = matches(c, input, depth + 1);
                if window.is_none() {
                    window = m.window;
                }
                if input.explain {
                    reasons.push(m.reason);
                }
                if all && !m.matched {
                    result = false;
                    break;
                }
                if !all && m.matched {
                    result = true;
                    window = m.window.or(window);
                    break;
                }
            }
            if conditions.is_empty() {
                result = all;
            }
            Match {
                matched: result,
                reason: why!(
                    input,
                    "{}({})",
                    if all { "all" } else { "any" },
                    reasons.join("; ")
                ),
                window,
            }
        }
    }
}

fn in_word(m: bool) -> &'static str {
    if m {
        "in"
    } else {
        "not in"
    }
}

fn highest_percent(windows: &[WindowReport], metric: Metric) -> Option<(usize, f64)> {
    windows
        .iter()
        .enumerate()
        .filter(|(_, w)| w.metric == metric && w.model.is_none())
        .filter_map(|(i, w)| w.percent().map(|p| (i, p)))
        .fold(None, |best: Option<(usize, f64)>, (i, p)| match best {
            Some((_, bp)) if bp >= p => best,
            _ => Some((i, p)),
        })
}

fn absolute_window(windows: &[WindowReport], metric: Metric) -> Option<usize> {
    let tier_wide = |w: &&WindowReport| w.metric == metric && w.model.is_none();
    let capped = windows
        .iter()
        .enumerate()
        .filter(|(_, w)| tier_wide(w) && w.limit.is_some())
        .max_by_key(|(_, w)| w.used)
        .map(|(i, _)| i);
    capped.or_else(|| {
        windows
            .iter()
            .position(|w| tier_wide(&w) && w.period == Period::Day)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::{json, Value};

    fn w(metric: Metric, period: Period, limit: Option<u64>, used: u64) -> WindowReport {
        WindowReport {
            metric,
            period,
            model: None,
            limit,
            used,
            reset_at_ms: 0,
        }
    }

    fn rule(id: &str, priority: i64, condition: Value, action: &str) -> Rule {
        serde_json::from_value(json!({
            "id": id, "name": id, "enabled": true, "priority": priority,
            "condition": condition, "action": {"type": action}
        }))
        .unwrap()
    }

    fn pct(metric: &str, op: &str, threshold: f64) -> Value {
        json!({"type": "usage_percent", "metric": metric, "operator": op, "threshold": threshold})
    }

    fn abs(metric: &str, op: &str, threshold: f64) -> Value {
        json!({"type": "usage_absolute", "metric": metric, "operator": op, "threshold": threshold})
    }

    /// Requests 4 of 5 per day (80%), tokens 300 of 1000 per month (30%),
    /// and a gpt-4o window at 9 of 10 per hour.
    fn windows() -> Vec<WindowReport> {
        let mut model = w(Metric::Requests, Period::Hour, Some(10), 9);
        model.model = Some("gpt-4o".into());
        vec![
            w(Metric::Requests, Period::Day, Some(5), 4),
            w(Metric::Requests, Period::Month, None, 40),
            w(Metric::Tokens, Period::Month, Some(1000), 300),
            w(Metric::Tokens, Period::Day, None, 120),
            model,
        ]
    }

    fn matched(condition: Value, tier: &str, model: Option<&str>) -> bool {
        let ws = windows();
        let input = RuleInput {
            tier,
            model,
            windows: &ws,
            explain: true,
        };
        let e = evaluate(&[rule("r", 0, condition, "warn")], &input);
        e.warning.is_some()
    }

    fn on(condition: Value) -> bool {
        matched(condition, "free", Some("gpt-4o"))
    }

    #[test]
    fn tier_condition_matches_only_listed_tiers() {
        assert!(on(json!({"type": "tier", "tiers": ["pro", "free"]})));
        assert!(!on(json!({"type": "tier", "tiers": ["pro"]})));
        assert!(!on(json!({"type": "tier", "tiers": ["Free"]})));
    }

    #[test]
    fn model_condition_matches_only_listed_models() {
        assert!(on(json!({"type": "model", "models": ["gpt-4o"]})));
        assert!(!on(json!({"type": "model", "models": ["gpt-4o-mini"]})));
        assert!(!matched(
            json!({"type": "model", "models": ["gpt-4o"]}),
            "free",
            None
        ));
    }

    #[test]
    fn usage_percent_compares_with_every_operator() {
        assert!(on(pct("requests", "gte", 80.0)));
        assert!(!on(pct("requests", "gt", 80.0)));
        assert!(on(pct("requests", "eq", 80.0)));
        assert!(on(pct("requests", "lte", 80.0)));
        assert!(!on(pct("requests", "lt", 80.0)));
        assert!(on(pct("requests", "lt", 80.1)));
        assert!(on(pct("tokens", "eq", 30.0)));
    }

    #[test]
    fn usage_percent_ignores_model_windows_and_unlimited_ones() {
        // The gpt-4o window is at 90%, but only tier-wide windows count.
        assert!(!on(pct("requests", "gte", 85.0)));
    }

    #[test]
    fn usage_percent_never_matches_without_a_finite_limit() {
        let ws = vec![
            w(Metric::Requests, Period::Day, None, 1_000),
            w(Metric::Tokens, Period::Day, None, 1_000),
        ];
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        for op in ["gte", "lte", "gt", "lt", "eq"] {
            let e = evaluate(&[rule("r", 0, pct("requests", op, 0.0), "block")], &input);
            assert_eq!(e.decisive, None, "{op}");
            assert!(e.trace[0].reason.contains("no finite"));
        }
    }

    #[test]
    fn usage_percent_takes_the_highest_tier_wide_window() {
        let ws = vec![
            w(Metric::Requests, Period::Day, Some(100), 10),
            w(Metric::Requests, Period::Month, Some(100), 95),
        ];
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        let e = evaluate(
            &[rule("r", 0, pct("requests", "gte", 95.0), "block")],
            &input,
        );
        assert_eq!(e.decisive, Some((0, Some(1))));
    }

    #[test]
    fn usage_absolute_uses_the_capped_window_else_the_day_window() {
        // Requests are capped per day: 4 used.
        assert!(on(abs("requests", "eq", 4.0)));
        assert!(!on(abs("requests", "gt", 4.0)));
        // Tokens: the monthly cap's window (300), not the uncapped day one.
        assert!(on(abs("tokens", "eq", 300.0)));
        // Without any cap on the metric, the day window decides.
        let ws = vec![
            w(Metric::Requests, Period::Hour, None, 2),
            w(Metric::Requests, Period::Day, None, 6),
        ];
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        let e = evaluate(&[rule("r", 0, abs("requests", "gt", 5.0), "block")], &input);
        assert_eq!(e.decisive, Some((0, Some(1))));
        let none = RuleInput {
            tier: "free",
            model: None,
            windows: &[],
            explain: true,
        };
        let e = evaluate(&[rule("r", 0, abs("requests", "gte", 0.0), "block")], &none);
        assert_eq!(e.decisive, None);
    }

    #[test]
    fn all_requires_every_condition_and_any_one_of_them() {
        let tier_free = json!({"type": "tier", "tiers": ["free"]});
        let tier_pro = json!({"type": "tier", "tiers": ["pro"]});
        let high = pct("requests", "gte", 80.0);
        assert!(on(json!({"type": "all", "conditions": [tier_free, high]})));
        assert!(!on(json!({"type": "all", "conditions": [tier_pro, high]})));
        assert!(on(json!({"type": "any", "conditions": [tier_pro, high]})));
        assert!(!on(
            json!({"type": "any", "conditions": [tier_pro, pct("tokens", "gt", 50.0)]})
        ));
        // Nested: free ∧ (pro ∨ requests ≥ 80%).
        assert!(on(json!({"type": "all", "conditions": [
            tier_free, {"type": "any", "conditions": [tier_pro, high]}
        ]})));
    }

    #[test]
    fn nested_condition_reports_the_window_of_its_usage_part() {
        let ws = windows();
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        let c = json!({"type": "all", "conditions": [
            {"type": "tier", "tiers": ["free"]}, pct("tokens", "gte", 10.0)
        ]});
        let e = evaluate(&[rule("r", 0, c, "block")], &input);
        assert_eq!(e.decisive, Some((0, Some(2))));
    }

    #[test]
    fn nesting_beyond_the_maximum_depth_never_matches() {
        let nest = |levels: usize| {
            let mut c = json!({"type": "tier", "tiers": ["free"]});
            for _ in 0..levels {
                c = json!({"type": "all", "conditions": [c]});
            }
            c
        };
        assert!(on(nest(MAX_CONDITION_DEPTH)));
        assert!(!on(nest(MAX_CONDITION_DEPTH + 1)));
    }

    #[test]
    fn rules_run_in_ascending_priority_and_ties_keep_their_order() {
        let ws = windows();
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        let t = json!({"type": "tier", "tiers": ["free"]});
        let rules = vec![
            rule("late-block", 10, t.clone(), "block"),
            rule("first-allow", -5, t.clone(), "allow"),
            rule("warn-a", 0, t.clone(), "warn"),
            rule("warn-b", 0, t.clone(), "warn"),
        ];
        let e = evaluate(&rules, &input);
        assert_eq!(e.decisive.map(|d| d.0), Some(1));
        assert_eq!(e.warning, Some(2));
        let ids: Vec<&str> = e.trace.iter().map(|t| t.rule_id.as_str()).collect();
        assert_eq!(ids, ["first-allow", "warn-a", "warn-b", "late-block"]);
        // Equal priority: the first in creation order decides.
        let rules = vec![rule("b1", 0, t.clone(), "block"), rule("a2", 0, t, "allow")];
        assert_eq!(evaluate(&rules, &input).decisive.map(|d| d.0), Some(0));
    }

    #[test]
    fn disabled_rules_are_skipped_and_left_out_of_the_trace() {
        let ws = windows();
        let input = RuleInput {
            tier: "free",
            model: None,
            windows: &ws,
            explain: true,
        };
        let mut off = rule(
            "off",
            0,
            json!({"type": "tier", "tiers": ["free"]}),
            "block",
        );
        off.enabled = false;
        let e = evaluate(&[off], &input);
        assert_eq!(e, Evaluation::default());
    }

    #[test]
    fn trace_explains_each_outcome() {
        let ws = windows();
        let input = RuleInput {
            tier: "free",
            model: Some("gpt-4o"),
            windows: &ws,
            explain: true,
        };
        let rules = vec![
            rule("a", 0, pct("requests", "gte", 80.0), "warn"),
            rule("b", 1, json!({"type": "model", "models": ["o1"]}), "block"),
        ];
        let e = evaluate(&rules, &input);
        assert_eq!(e.trace[0].reason, "requests at 80.0% is >= 80%");
        assert!(e.trace[0].matched);
        assert_eq!(e.trace[1].reason, "model gpt-4o not in [o1]");
        assert!(!e.trace[1].matched);
    }

    #[test]
    fn percent_of_a_zero_limit_is_infinite_once_used() {
        assert_eq!(
            w(Metric::Requests, Period::Day, Some(0), 0).percent(),
            Some(0.0)
        );
        assert_eq!(
            w(Metric::Requests, Period::Day, Some(0), 1).percent(),
            Some(f64::INFINITY)
        );
        assert_eq!(w(Metric::Requests, Period::Day, None, 1).percent(), None);
    }

    #[test]
    fn rules_serialize_in_the_contract_shape() {
        let r = rule("r1", 3, pct("tokens", "gt", 90.0), "warn");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["condition"]["type"], "usage_percent");
        assert_eq!(v["action"], json!({"type": "warn"}));
        assert_eq!(v["priority"], 3);
    }
}
