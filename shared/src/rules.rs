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

/// Usage of one window, *including* the request being decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowUsage {
    pub metric: Metric,
    pub period: Period,
    /// `None` for a tier-wide window.
    pub model: Option<String>,
    pub limit: Option<u64>,
    pub used: u64,
    pub reset_at_ms: i64,
}

impl WindowUsage {
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

/// What a rule sees: the tier, the model and the usage of every window.
/// `windows` must contain the tier-wide usage of both metrics for every
/// period (limit set where the tier caps it) plus the model windows the tier
/// caps.
#[derive(Debug, Clone)]
pub struct RuleInput<'a> {
    pub tier: &'a str,
    pub model: Option<&'a str>,
    pub windows: &'a [WindowUsage],
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
        out.trace.push(TraceEntry {
            rule_id: rule.id.clone(),
            matched: m.matched,
            reason: m.reason,
        });
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
                format!("tier {} {} [{}]", input.tier, in_word(m), tiers.join(", ")),
            )
        }
        Condition::Model { models } => {
            let model = input.model.unwrap_or("");
            let m = models.iter().any(|x| x == model);
            plain(
                m,
                format!("model {model} {} [{}]", in_word(m), models.join(", ")),
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
                    reason: format!(
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
                format!("no finite {} limit applies", metric.as_str()),
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
                    reason: format!(
                        "{} used {used} {} {} {threshold}",
                        metric.as_str(),
                        if m { "is" } else { "is not" },
                        operator.as_str()
                    ),
                    window: Some(idx),
                }
            }
            None => plain(false, format!("no {} usage is known", metric.as_str())),
        },
        Condition::All { conditions } | Condition::Any { conditions } => {
            let all = matches!(cond, Condition::All { .. });
            if depth >= MAX_CONDITION_DEPTH {
                return plain(false, "conditions nested too deeply".into());
            }
            let mut window = None;
            let mut reasons = Vec::new();
            let mut result = all;
            for c in conditions {
                let m = matches(c, input, depth + 1);
                if window.is_none() {
                    window = m.window;
                }
                reasons.push(m.reason);
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
                reason: format!(
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

fn highest_percent(windows: &[WindowUsage], metric: Metric) -> Option<(usize, f64)> {
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

fn absolute_window(windows: &[WindowUsage], metric: Metric) -> Option<usize> {
    let tier_wide = |w: &&WindowUsage| w.metric == metric && w.model.is_none();
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
