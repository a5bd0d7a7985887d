//! Project budgets: caps on a whole project's usage (every identity
//! together) per calendar window, that protect the owner's provider bill.
//!
//! Algorithm (eventually consistent, never one object on every request's
//! path):
//! - Each identity's `IdentityLimiter` reports a [`Snapshot`] of its
//!   tier-wide counters (committed + in-flight reservations, the same
//!   `used` its own caps see) to the project's `ProjectBudget` object, on
//!   its alarm, at most every `REPORT_DELAY_MS` while it changes.
//!   Snapshots are absolute, so a report repeated, lost and re-sent, or
//!   sent again after the object restarted changes nothing twice: the
//!   project object keeps the latest snapshot of each reporter and
//!   [`Totals`] is their sum, window by window.
//! - The project object answers a [`BudgetState`]: every budget's usage,
//!   its level (0, 80 or 100 %) and whether it is closed. Isolates cache it
//!   for a short time and refuse requests while a budget is closed.
//!
//! Invariants: a total only counts snapshots of its current window (a
//! window that rolled is zero); an older snapshot of a reporter never
//! replaces a newer one; a budget is closed exactly while `used ≥ limit`
//! in the window of its period that contains the clock reading. The clock
//! is a parameter everywhere.

use crate::error::ApiError;
use crate::ledger::ScopeCounters;
use crate::limiter_api::LimiterCall;
use crate::period::{window_end, window_start, Period};
use crate::tier::Metric;
use crate::values::MAX_SAFE_INTEGER;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// One budget: at most `limit` of `metric` per window of `period`, across
/// every identity of the project. One budget per metric × period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSpec {
    pub metric: Metric,
    pub period: Period,
    pub limit: u64,
}

impl BudgetSpec {
    /// The budget's id in the API: `<metric>-<period>`, e.g. `tokens-month`.
    pub fn id(&self) -> String {
        budget_id(self.metric, self.period)
    }
}

pub fn budget_id(metric: Metric, period: Period) -> String {
    format!("{}-{}", metric.as_str(), period.as_str())
}

/// The metrics a budget may cap (`cost` in micro-dollars, µUSD).
pub const METRICS: [Metric; 3] = Metric::ALL;

/// Parses a budget id (`requests-day`); `None` when it names none.
pub fn parse_budget_id(id: &str) -> Option<(Metric, Period)> {
    let (m, p) = id.split_once('-')?;
    let metric = METRICS.into_iter().find(|x| x.as_str() == m)?;
    Some((metric, Period::parse(p)?))
}

/// Validates the body of `POST /api/projects/{id}/budgets`:
/// `{"metric", "period", "limit"}`, nothing else.
pub fn parse_budget(body: &Value) -> Result<BudgetSpec, ApiError> {
    let Value::Object(obj) = body else {
        return Err(ApiError::invalid_body("The body must be a JSON object"));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "metric" | "period" | "limit"))
    {
        return Err(ApiError::invalid_field(k, format!("Unknown field '{k}'")));
    }
    let names = METRICS.map(Metric::as_str).join(", ");
    let metric = obj
        .get("metric")
        .and_then(Value::as_str)
        .and_then(|m| METRICS.into_iter().find(|x| x.as_str() == m))
        .ok_or_else(|| {
            ApiError::invalid_field("metric", format!("metric must be one of {names}"))
        })?;
    let period = obj
        .get("period")
        .and_then(Value::as_str)
        .and_then(Period::parse)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "period",
                "period must be one of minute, hour, day, week, month",
            )
        })?;
    let limit = obj
        .get("limit")
        .and_then(Value::as_u64)
        .filter(|l| (1..=MAX_SAFE_INTEGER).contains(l))
        .ok_or_else(|| {
            ApiError::invalid_field("limit", "limit must be an integer from 1 to 2^53 - 1")
        })?;
    Ok(BudgetSpec {
        metric,
        period,
        limit,
    })
}

/// A change to a project's budgets, applied atomically by its object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum BudgetOp {
    /// Sets (or replaces) the budget of the spec's metric × period.
    Set { budget: BudgetSpec },
    /// Removes the budget with this id (nothing when there is none).
    Remove { id: String },
}

/// Applies `op` to a list kept in a stable order (metric, then period).
pub fn apply_op(budgets: &mut Vec<BudgetSpec>, op: &BudgetOp) {
    match op {
        BudgetOp::Set { budget } => {
            budgets.retain(|b| b.id() != budget.id());
            budgets.push(*budget);
        }
        BudgetOp::Remove { id } => budgets.retain(|b| b.id() != *id),
    }
    budgets.sort_by_key(|b| (b.metric, b.period));
}

/// Usage in one window (the window of its period that starts at `start`):
/// the same counts, and the same stored form, as an identity's own window.
pub type PeriodUsage = crate::ledger::Window;

/// One identity's usage in the current window of every period, taken at
/// `at_ms` (by the identity object's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub at_ms: i64,
    pub periods: [PeriodUsage; 5],
}

impl Snapshot {
    /// The snapshot of an identity's tier-wide counters at `now_ms`.
    pub fn of(counters: Option<&ScopeCounters>, now_ms: i64) -> Snapshot {
        let periods = Period::ALL.map(|p| {
            let used = |m| counters.map_or(0, |c| c.used(m, p, now_ms));
            PeriodUsage {
                start: window_start(p, now_ms),
                requests: used(Metric::Requests),
                tokens: used(Metric::Tokens),
                cost: used(Metric::Cost),
            }
        });
        Snapshot {
            at_ms: now_ms,
            periods,
        }
    }

    /// This snapshot with `other`'s usage added in the windows both are in
    /// (a window of `other` that is not current here adds nothing).
    pub fn plus(&self, other: &Snapshot) -> Snapshot {
        let mut out = *self;
        for (w, o) in out.periods.iter_mut().zip(&other.periods) {
            if w.start == o.start {
                w.add(o);
            }
        }
        out
    }

    /// The same usage in the same windows (the time it was taken aside).
    pub fn same_usage(&self, other: &Snapshot) -> bool {
        self.periods == other.periods
    }
}

/// A project's totals: the sum of the latest snapshot of every reporter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    periods: [PeriodUsage; 5],
    reporters: HashMap<String, Snapshot>,
}

impl Totals {
    /// Takes `snapshot` as `reporter`'s usage. Answers `false` (and changes
    /// nothing) when an older snapshot than the one held arrives late.
    pub fn apply(&mut self, reporter: &str, snapshot: Snapshot, now_ms: i64) -> bool {
        let old = self.reporters.get(reporter).copied();
        if old.is_some_and(|o| o.at_ms > snapshot.at_ms) {
            return false;
        }
        for p in Period::ALL {
            let i = p.index();
            let new = &snapshot.periods[i];
            let target = window_start(p, now_ms).max(new.start);
            let total = &mut self.periods[i];
            if total.start < target {
                *total = PeriodUsage {
                    start: target,
                    ..PeriodUsage::default()
                };
            }
            if let Some(old) = old.filter(|o| o.periods[i].start == total.start) {
                total.sub(&old.periods[i]);
            }
            if new.start == total.start {
                total.add(new);
            }
        }
        self.reporters.insert(reporter.to_string(), snapshot);
        true
    }

    /// Usage of `metric` in the window of `period` containing `now_ms`.
    pub fn used(&self, metric: Metric, period: Period, now_ms: i64) -> u64 {
        let w = &self.periods[period.index()];
        if w.start >= window_start(period, now_ms) {
            w.get(metric)
        } else {
            0
        }
    }

    /// Forgets reporters whose snapshot counts in no current window (taken
    /// before this month began); answers their names.
    pub fn prune(&mut self, now_ms: i64) -> Vec<String> {
        let month = window_start(Period::Month, now_ms);
        let gone: Vec<String> = self
            .reporters
            .iter()
            .filter(|(_, s)| s.periods[Period::Month.index()].start < month)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            self.reporters.remove(k);
        }
        gone
    }

    pub fn reporters(&self) -> usize {
        self.reporters.len()
    }
}

/// The share of a budget at which it warns (80 %), as a fraction.
pub const WARN_PERCENT: u64 = 80;

/// One budget as the state reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetStatus {
    #[serde(flatten)]
    pub spec: BudgetSpec,
    pub used: u64,
    /// 0, 80 ([`WARN_PERCENT`]) or 100 (closed).
    pub level: u8,
    pub window_start_ms: i64,
    pub reset_at_ms: i64,
}

impl BudgetStatus {
    pub fn closed(&self) -> bool {
        self.level >= 100
    }
}

/// Level of `used` against `limit`: 100 at or past it, 80 from 80 %.
pub fn level(used: u64, limit: u64) -> u8 {
    if used >= limit {
        100
    } else if u128::from(used) * 100 >= u128::from(limit) * u128::from(WARN_PERCENT) {
        80
    } else {
        0
    }
}

/// What a project's object publishes: every budget against its total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetState {
    pub budgets: Vec<BudgetStatus>,
    pub now_ms: i64,
}

impl BudgetState {
    pub fn evaluate(specs: &[BudgetSpec], totals: &Totals, now_ms: i64) -> BudgetState {
        let budgets = specs
            .iter()
            .map(|spec| {
                let used = totals.used(spec.metric, spec.period, now_ms);
                BudgetStatus {
                    spec: *spec,
                    used,
                    level: level(used, spec.limit),
                    window_start_ms: window_start(spec.period, now_ms),
                    reset_at_ms: window_end(spec.period, now_ms),
                }
            })
            .collect();
        BudgetState { budgets, now_ms }
    }

    /// The closed budget that refuses a request at `now_ms` (a cached state
    /// whose window has ended closes nothing), the one that reopens last.
    pub fn closed_by(&self, now_ms: i64) -> Option<&BudgetStatus> {
        self.budgets
            .iter()
            .filter(|b| b.closed() && b.reset_at_ms > now_ms)
            .max_by_key(|b| b.reset_at_ms)
    }

    /// Some budget is at 80 % or more (isolates then refresh faster).
    pub fn near(&self) -> bool {
        self.budgets.iter().any(|b| b.level > 0)
    }
}

/// A budget that reached a level in a window (for the owner's alerts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Crossing {
    pub budget: BudgetStatus,
    pub level: u8,
    /// When the project object found it.
    #[serde(default)]
    pub at_ms: i64,
}

impl Crossing {
    /// Names the crossing: one per budget, level and window.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.budget.spec.id(),
            self.level,
            self.budget.window_start_ms
        )
    }
}

/// The highest level each budget reached in its current window, so that
/// each level is announced once per window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels(pub BTreeMap<String, (i64, u8)>);

impl Levels {
    /// The levels `state` reaches for the first time in their window.
    pub fn crossings(&mut self, state: &BudgetState) -> Vec<Crossing> {
        let mut out = Vec::new();
        for b in &state.budgets {
            let entry = self.0.entry(b.spec.id()).or_insert((b.window_start_ms, 0));
            if entry.0 != b.window_start_ms {
                *entry = (b.window_start_ms, 0);
            }
            if b.level > entry.1 {
                for l in [WARN_PERCENT as u8, 100] {
                    if l > entry.1 && l <= b.level {
                        out.push(Crossing {
                            budget: *b,
                            level: l,
                            at_ms: state.now_ms,
                        });
                    }
                }
                entry.1 = b.level;
            }
        }
        self.0
            .retain(|id, _| state.budgets.iter().any(|b| b.spec.id() == *id));
        out
    }
}

/// An identity object's report of its usage (its limiter name and snapshot).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportCall {
    #[serde(default)]
    pub project_id: String,
    pub reporter: String,
    pub snapshot: Snapshot,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportAnswer {
    /// `false`: an older snapshot than the one held (ignored).
    pub applied: bool,
}

impl LimiterCall for ReportCall {
    const PATH: &'static str = "/report";
    type Answer = ReportAnswer;
}

/// Reads the project's budget state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StateCall {}

impl LimiterCall for StateCall {
    const PATH: &'static str = "/state";
    type Answer = BudgetState;
}

/// Changes the project's budgets; answers the state after the change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCall {
    #[serde(default)]
    pub project_id: String,
    #[serde(flatten)]
    pub op: BudgetOp,
}

impl LimiterCall for ChangeCall {
    const PATH: &'static str = "/change";
    type Answer = BudgetState;
}

/// The name of a project's `ProjectBudget` object.
pub fn budget_object_name(project_id: &str) -> String {
    format!("budget:{project_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::{days_from_civil, DAY_MS, HOUR_MS};
    use serde_json::json;

    const NOW: i64 = 1_795_000_000_000;

    fn snap(at: i64, requests: u64, tokens: u64) -> Snapshot {
        Snapshot {
            at_ms: at,
            periods: Period::ALL.map(|p| PeriodUsage {
                start: window_start(p, at),
                requests,
                tokens,
                cost: tokens * 10,
            }),
        }
    }

    #[test]
    fn totals_sum_the_latest_snapshot_of_each_reporter() {
        let mut t = Totals::default();
        assert!(t.apply("a", snap(NOW, 3, 30), NOW));
        assert!(t.apply("b", snap(NOW, 2, 20), NOW));
        assert_eq!(t.used(Metric::Requests, Period::Day, NOW), 5);
        // a's newer snapshot replaces its older one; repeating it changes nothing.
        assert!(t.apply("a", snap(NOW + 10, 4, 25), NOW + 10));
        assert!(t.apply("a", snap(NOW + 10, 4, 25), NOW + 10));
        assert_eq!(t.used(Metric::Requests, Period::Day, NOW + 10), 6);
        assert_eq!(t.used(Metric::Tokens, Period::Day, NOW + 10), 45);
        assert_eq!(t.used(Metric::Cost, Period::Day, NOW + 10), 450);
        // A late, older snapshot is ignored.
        assert!(!t.apply("a", snap(NOW + 5, 1, 1), NOW + 10));
        assert_eq!(t.used(Metric::Requests, Period::Day, NOW + 10), 6);
    }

    #[test]
    fn a_rolled_window_counts_only_snapshots_of_the_new_window() {
        let day = days_from_civil(2026, 12, 1) * DAY_MS;
        let late = day + DAY_MS - 1_000;
        let mut t = Totals::default();
        t.apply("a", snap(late, 7, 70), late);
        t.apply("b", snap(late, 1, 10), late);
        assert_eq!(t.used(Metric::Requests, Period::Day, late), 8);
        let next = day + DAY_MS + HOUR_MS;
        // The day rolled: nothing counted until someone reports in it.
        assert_eq!(t.used(Metric::Requests, Period::Day, next), 0);
        t.apply("a", snap(next, 2, 20), next);
        assert_eq!(t.used(Metric::Requests, Period::Day, next), 2);
        // b's old snapshot is in no current window; a's month still counts.
        assert_eq!(t.used(Metric::Requests, Period::Month, next), 3);
        // A snapshot from a reporter ahead of this object's clock rolls it.
        let mut u = Totals::default();
        u.apply("x", snap(next, 1, 1), late);
        assert_eq!(u.used(Metric::Requests, Period::Day, next), 1);
    }

    #[test]
    fn snapshots_read_the_counters_current_windows() {
        let mut counters = ScopeCounters::default();
        let w = &mut counters.0[Period::Day.index()];
        w.start = window_start(Period::Day, NOW);
        w.requests = 4;
        w.tokens = 400;
        let s = Snapshot::of(Some(&counters), NOW);
        assert_eq!(s.periods[Period::Day.index()].requests, 4);
        // The minute window was never written: zero, in the current minute.
        assert_eq!(s.periods[Period::Minute.index()].requests, 0);
        assert_eq!(
            s.periods[Period::Minute.index()].start,
            window_start(Period::Minute, NOW)
        );
        assert!(s.same_usage(&Snapshot::of(Some(&counters), NOW + 1)));
        assert_eq!(Snapshot::of(None, NOW).periods[2].requests, 0);
    }

    #[test]
    fn plus_adds_only_the_windows_both_are_in() {
        let now = snap(NOW, 2, 20);
        let earlier_today = snap(NOW - 90_000, 3, 30);
        let sum = now.plus(&earlier_today);
        assert_eq!(sum.periods[Period::Day.index()].requests, 5);
        assert_eq!(sum.periods[Period::Month.index()].tokens, 50);
        // The minute of 90 s ago is over: it adds nothing to this minute.
        assert_eq!(sum.periods[Period::Minute.index()].requests, 2);
        assert_eq!(sum.at_ms, NOW);
    }

    #[test]
    fn prune_forgets_reporters_of_past_months() {
        let mut t = Totals::default();
        t.apply("old", snap(NOW - 40 * DAY_MS, 1, 1), NOW - 40 * DAY_MS);
        t.apply("new", snap(NOW, 1, 1), NOW);
        assert_eq!(t.prune(NOW), vec!["old".to_string()]);
        assert_eq!(t.reporters(), 1);
    }

    #[test]
    fn state_closes_at_the_limit_and_warns_from_80_percent() {
        let specs = [
            BudgetSpec {
                metric: Metric::Requests,
                period: Period::Day,
                limit: 10,
            },
            BudgetSpec {
                metric: Metric::Tokens,
                period: Period::Month,
                limit: 1_000,
            },
        ];
        let mut t = Totals::default();
        t.apply("a", snap(NOW, 8, 100), NOW);
        let s = BudgetState::evaluate(&specs, &t, NOW);
        assert_eq!(s.budgets[0].level, 80);
        assert_eq!(s.budgets[1].level, 0);
        assert!(s.near());
        assert!(s.closed_by(NOW).is_none());
        t.apply("b", snap(NOW, 2, 0), NOW);
        let s = BudgetState::evaluate(&specs, &t, NOW);
        let closed = s.closed_by(NOW).copied();
        assert_eq!(closed.map(|b| b.spec.id()), Some("requests-day".into()));
        // A cached closed state stops refusing once its window ended.
        let end = closed.map_or(0, |b| b.reset_at_ms);
        assert!(s.closed_by(end).is_none());
        assert_eq!(level(0, 1), 0);
        assert_eq!(level(u64::MAX - 1, u64::MAX), 80);
    }

    #[test]
    fn each_level_is_announced_once_per_window() {
        let spec = BudgetSpec {
            metric: Metric::Requests,
            period: Period::Day,
            limit: 10,
        };
        let mut levels = Levels::default();
        let mut t = Totals::default();
        t.apply("a", snap(NOW, 10, 0), NOW);
        let s = BudgetState::evaluate(&[spec], &t, NOW);
        let c = levels.crossings(&s);
        assert_eq!(c.iter().map(|c| c.level).collect::<Vec<_>>(), vec![80, 100]);
        assert!(levels.crossings(&s).is_empty());
        // Settling below and back again: no second announcement.
        t.apply("a", snap(NOW + 1, 9, 0), NOW + 1);
        levels.crossings(&BudgetState::evaluate(&[spec], &t, NOW + 1));
        t.apply("a", snap(NOW + 2, 10, 0), NOW + 2);
        assert!(levels
            .crossings(&BudgetState::evaluate(&[spec], &t, NOW + 2))
            .is_empty());
        // The next day announces again.
        let next = NOW + DAY_MS;
        t.apply("a", snap(next, 9, 0), next);
        let c = levels.crossings(&BudgetState::evaluate(&[spec], &t, next));
        assert_eq!(c.iter().map(|c| c.level).collect::<Vec<_>>(), vec![80]);
    }

    #[test]
    fn budget_bodies_are_validated_field_by_field() {
        let ok = parse_budget(&json!({"metric": "tokens", "period": "month", "limit": 5}));
        assert_eq!(ok.map(|b| b.id()).ok(), Some("tokens-month".into()));
        let cost = parse_budget(&json!({"metric": "cost", "period": "month", "limit": 50_000_000}));
        assert_eq!(cost.map(|b| b.id()).ok(), Some("cost-month".into()));
        for (body, field) in [
            (
                json!({"metric": "dollars", "period": "day", "limit": 1}),
                "metric",
            ),
            (
                json!({"metric": "requests", "period": "year", "limit": 1}),
                "period",
            ),
            (
                json!({"metric": "requests", "period": "day", "limit": 0}),
                "limit",
            ),
            (
                json!({"metric": "requests", "period": "day", "limit": 1.5}),
                "limit",
            ),
            (json!({"metric": "requests", "period": "day"}), "limit"),
            (
                json!({"metric": "requests", "period": "day", "limit": 1, "x": 1}),
                "x",
            ),
        ] {
            let e = parse_budget(&body).err();
            assert_eq!(e.as_ref().and_then(|e| e.field()), Some(field), "{body}");
        }
        assert!(parse_budget(&json!([])).is_err());
        assert_eq!(
            parse_budget_id("requests-week"),
            Some((Metric::Requests, Period::Week))
        );
        assert_eq!(parse_budget_id("requests"), None);
        assert_eq!(
            parse_budget_id("cost-day"),
            Some((Metric::Cost, Period::Day))
        );
        assert_eq!(parse_budget_id("dollars-day"), None);
    }

    #[test]
    fn ops_set_replace_and_remove_in_a_stable_order() {
        let mut b = Vec::new();
        let spec = |metric, period, limit| BudgetSpec {
            metric,
            period,
            limit,
        };
        apply_op(
            &mut b,
            &BudgetOp::Set {
                budget: spec(Metric::Tokens, Period::Day, 5),
            },
        );
        apply_op(
            &mut b,
            &BudgetOp::Set {
                budget: spec(Metric::Requests, Period::Month, 5),
            },
        );
        apply_op(
            &mut b,
            &BudgetOp::Set {
                budget: spec(Metric::Tokens, Period::Day, 9),
            },
        );
        assert_eq!(
            b.iter().map(|s| (s.id(), s.limit)).collect::<Vec<_>>(),
            vec![("requests-month".into(), 5), ("tokens-day".into(), 9)]
        );
        apply_op(
            &mut b,
            &BudgetOp::Remove {
                id: "tokens-day".into(),
            },
        );
        assert_eq!(b.len(), 1);
    }
}
