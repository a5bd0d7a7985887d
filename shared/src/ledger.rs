//! The identity's ledger: counters per window, reservations (leases) and
//! settlement — the state one `IdentityLimiter` Durable Object holds.
//!
//! Invariants:
//! - `used` of a window = committed usage + the reservations of requests in
//!   flight. A request is admitted only if, for every finite cap, `used + 1 ≤
//!   limit` (requests) or `used < limit` (tokens) *before* it reserves; then
//!   it reserves 1 request and its token estimate in every window at once
//!   (all or nothing: a blocked request changes nothing).
//! - Counters belong to the identity: tier-wide (scope `""`) for both
//!   metrics and every period, whatever the tier; the tier only picks which
//!   of them are capped. A model gets its own scope only when the project
//!   caps it somewhere (`ReserveRequest::count_model`, or a cap of the tier
//!   in force), so the scopes are bounded by the project's configuration,
//!   never by the model strings apps send; each lease remembers whether it
//!   reserved in its model's scope, so settle and release correct exactly
//!   the scopes it reserved in.
//! - Each request id is settled at most once: `settle` and `release` act
//!   only on an open lease and remove it, so a repeated call finds nothing
//!   and changes nothing. `settle` replaces the estimate with the real
//!   tokens; `release` takes the whole reservation back (provider error
//!   before any byte); `expire` settles a lease whose Worker never came back
//!   at its reserved amount and remembers it for [`EXPIRED_MEMORY_MS`], so
//!   that a late `settle` corrects it once. Only expired leases are
//!   remembered, so the ledger stays as small as the requests in flight. A
//!   correction applies only to windows that are still the ones the
//!   reservation was made in (a closed window is never reopened).
//! - The clock is a parameter everywhere; nothing here reads time.

use crate::decision::{decide, Decision, Policy, Verdict, WindowReport};
use crate::period::{window_end, window_start, Period};
use crate::tier::{Metric, Tier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a lease settled by expiry waits for its real usage.
pub const EXPIRED_MEMORY_MS: i64 = 2 * 3_600_000;
/// Default lease: past it, the reservation is settled as reserved.
pub const DEFAULT_LEASE_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(rename = "s")]
    pub start: i64,
    #[serde(rename = "r")]
    pub requests: u64,
    #[serde(rename = "t")]
    pub tokens: u64,
    /// Micro-dollars.
    #[serde(rename = "c", default)]
    pub cost: u64,
}

impl Window {
    /// The window's count of `metric`.
    pub fn get(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Requests => self.requests,
            Metric::Tokens => self.tokens,
            Metric::Cost => self.cost,
        }
    }

    /// Adds another window's counts (saturating).
    pub fn add(&mut self, other: &Window) {
        self.requests = self.requests.saturating_add(other.requests);
        self.tokens = self.tokens.saturating_add(other.tokens);
        self.cost = self.cost.saturating_add(other.cost);
    }

    /// Takes another window's counts away (saturating at 0).
    pub fn sub(&mut self, other: &Window) {
        self.requests = self.requests.saturating_sub(other.requests);
        self.tokens = self.tokens.saturating_sub(other.tokens);
        self.cost = self.cost.saturating_sub(other.cost);
    }
}

/// What one request adds to a window, or a correction of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    pub requests: u64,
    pub tokens: u64,
    pub cost: u64,
}

impl Amount {
    /// A settlement of `n` tokens and no cost.
    pub const fn tokens(n: u64) -> Self {
        Self {
            requests: 0,
            tokens: n,
            cost: 0,
        }
    }
}

/// A signed correction of a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Delta {
    requests: i64,
    tokens: i64,
    cost: i64,
}

/// The five windows (minute…month) of one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCounters(pub [Window; 5]);

impl ScopeCounters {
    /// Usage of `metric` in the current window of `period` (0 once it rolled).
    pub fn used(&self, metric: Metric, period: Period, now_ms: i64) -> u64 {
        let w = &self.0[period.index()];
        if w.start != window_start(period, now_ms) {
            return 0;
        }
        w.get(metric)
    }

    /// Adds to every current window (rolling stale ones to zero first).
    fn add_current(&mut self, add: Amount, now_ms: i64) {
        for period in Period::ALL {
            let start = window_start(period, now_ms);
            let w = &mut self.0[period.index()];
            if w.start != start {
                *w = Window {
                    start,
                    ..Window::default()
                };
            }
            w.requests = w.requests.saturating_add(add.requests);
            w.tokens = w.tokens.saturating_add(add.tokens);
            w.cost = w.cost.saturating_add(add.cost);
        }
    }

    /// Applies a signed correction to the windows that are still the ones
    /// that contained `reserved_at`.
    fn correct(&mut self, d: Delta, reserved_at: i64) {
        for period in Period::ALL {
            let w = &mut self.0[period.index()];
            if w.start == window_start(period, reserved_at) {
                w.requests = w.requests.saturating_add_signed(d.requests);
                w.tokens = w.tokens.saturating_add_signed(d.tokens);
                w.cost = w.cost.saturating_add_signed(d.cost);
            }
        }
    }

    fn is_stale(&self, now_ms: i64) -> bool {
        let month = &self.0[Period::Month.index()];
        month.start != window_start(Period::Month, now_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub model: String,
    pub tier: String,
    pub tokens: u64,
    /// Micro-dollars reserved (0 when the model has no price).
    #[serde(default)]
    pub cost: u64,
    pub reserved_at: i64,
    pub expires_at: i64,
    /// A warn rule fired when it was admitted (for analytics).
    #[serde(default)]
    pub warned: bool,
    /// It reserved in its model's scope too.
    #[serde(default = "yes")]
    pub model_scoped: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// A lease that expired and was counted at its reservation, waiting for a
/// late `settle` to correct it.
pub struct ExpiredEntry {
    pub at: i64,
    pub model: String,
    #[serde(default)]
    pub tier: String,
    pub reserved_at: i64,
    /// Tokens counted for it (its reservation).
    pub counted: u64,
    /// Micro-dollars counted for it (its reservation).
    #[serde(default)]
    pub counted_cost: u64,
    #[serde(default = "yes")]
    pub model_scoped: bool,
}

/// The name of the identity's Durable Object: the project id is length
/// prefixed so that no (project, identity) pair can collide with another.
pub fn limiter_name(project_id: &str, identity: &str) -> String {
    format!("{}:{project_id}:{identity}", project_id.len())
}

/// What a reserve call asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveRequest {
    pub request_id: String,
    pub model: String,
    pub estimate_tokens: u64,
    /// The cost reservation in micro-dollars: the token estimate priced at
    /// the model's dearest token price (0 when it has no price).
    #[serde(default)]
    pub estimate_cost: u64,
    #[serde(default)]
    pub lease_ms: Option<i64>,
    pub policy: Policy,
    /// The project caps this model in some tier: count it in its own scope.
    #[serde(default)]
    pub count_model: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SettleOutcome {
    /// The reservation was replaced by the real usage.
    Settled,
    /// A lease settled by expiry was corrected to the real usage.
    Corrected,
    /// The reservation was taken back: not counted.
    Released,
    /// Nothing to do: already settled or never reserved.
    Duplicate,
}

/// A lease that `expire` settled at its reserved amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredLease {
    pub request_id: String,
    pub lease: Lease,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLedger {
    /// `""` is the tier-wide scope; any other key is a model id.
    #[serde(default)]
    pub scopes: BTreeMap<String, ScopeCounters>,
    #[serde(default)]
    pub leases: BTreeMap<String, Lease>,
    #[serde(default)]
    pub expired: BTreeMap<String, ExpiredEntry>,
}

impl IdentityLedger {
    pub fn used(&self, scope: &str, metric: Metric, period: Period, now_ms: i64) -> u64 {
        self.scopes
            .get(scope)
            .map_or(0, |s| s.used(metric, period, now_ms))
    }

    /// Decides a request and, when admitted, reserves it — atomically, since
    /// nothing here awaits.
    pub fn reserve(&mut self, req: &ReserveRequest, now_ms: i64) -> Decision {
        let decision = decide(
            &req.policy,
            Some(&req.model),
            req.size(),
            |scope, metric, period| self.used(scope, metric, period, now_ms),
            now_ms,
        );
        self.commit(req, decision, now_ms)
    }

    /// Reserves a request that `decision` admitted (nothing for a block or
    /// a request id already known) and answers the decision.
    pub fn commit(&mut self, req: &ReserveRequest, decision: Decision, now_ms: i64) -> Decision {
        let duplicate =
            self.leases.contains_key(&req.request_id) || self.expired.contains_key(&req.request_id);
        if decision.verdict != Verdict::Block && !duplicate {
            let model_scoped = req.count_model || req.policy.tier.models.contains_key(&req.model);
            for scope in scopes(&req.model, model_scoped) {
                self.scopes
                    .entry(scope.to_string())
                    .or_default()
                    .add_current(
                        Amount {
                            requests: 1,
                            tokens: req.estimate_tokens,
                            cost: req.estimate_cost,
                        },
                        now_ms,
                    );
            }
            let lease_ms = req.lease_ms.unwrap_or(DEFAULT_LEASE_MS).max(1_000);
            self.leases.insert(
                req.request_id.clone(),
                Lease {
                    model: req.model.clone(),
                    tier: req.policy.tier_name.clone(),
                    tokens: req.estimate_tokens,
                    cost: req.estimate_cost,
                    reserved_at: now_ms,
                    expires_at: now_ms + lease_ms,
                    warned: decision.warning.is_some(),
                    model_scoped,
                },
            );
        }
        decision
    }

    fn correct(&mut self, (model, model_scoped): (&str, bool), d: Delta, reserved_at: i64) {
        for scope in scopes(model, model_scoped) {
            if let Some(s) = self.scopes.get_mut(scope) {
                s.correct(d, reserved_at);
            }
        }
    }

    /// Replaces a reservation's estimate by the real tokens and cost
    /// (`real.requests` is ignored: the request stays counted once).
    pub fn settle(&mut self, request_id: &str, real: Amount, now_ms: i64) -> SettleOutcome {
        self.forget_expired(now_ms);
        if let Some(lease) = self.leases.remove(request_id) {
            let d = Delta {
                requests: 0,
                tokens: signed_delta(real.tokens, lease.tokens),
                cost: signed_delta(real.cost, lease.cost),
            };
            self.correct((&lease.model, lease.model_scoped), d, lease.reserved_at);
            return SettleOutcome::Settled;
        }
        let Some(entry) = self.expired.remove(request_id) else {
            return SettleOutcome::Duplicate;
        };
        let d = Delta {
            requests: 0,
            tokens: signed_delta(real.tokens, entry.counted),
            cost: signed_delta(real.cost, entry.counted_cost),
        };
        self.correct((&entry.model, entry.model_scoped), d, entry.reserved_at);
        SettleOutcome::Corrected
    }

    /// Takes a reservation back entirely: the request is not counted.
    pub fn release(&mut self, request_id: &str) -> bool {
        let Some(lease) = self.leases.remove(request_id) else {
            return false;
        };
        let d = Delta {
            requests: -1,
            tokens: signed_delta(0, lease.tokens),
            cost: signed_delta(0, lease.cost),
        };
        self.correct((&lease.model, lease.model_scoped), d, lease.reserved_at);
        true
    }

    /// Settles every lease that expired by `now_ms` at its reserved amount,
    /// forgets old expired entries and empty scopes.
    pub fn expire(&mut self, now_ms: i64) -> Vec<ExpiredLease> {
        let expired_ids: Vec<String> = self
            .leases
            .iter()
            .filter(|(_, l)| l.expires_at <= now_ms)
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = Vec::new();
        for id in expired_ids {
            if let Some(lease) = self.leases.remove(&id) {
                self.expired.insert(
                    id.clone(),
                    ExpiredEntry {
                        at: now_ms,
                        model: lease.model.clone(),
                        tier: lease.tier.clone(),
                        reserved_at: lease.reserved_at,
                        counted: lease.tokens,
                        counted_cost: lease.cost,
                        model_scoped: lease.model_scoped,
                    },
                );
                out.push(ExpiredLease {
                    request_id: id,
                    lease,
                });
            }
        }
        self.forget_expired(now_ms);
        let leased: Vec<String> = self.leases.values().map(|l| l.model.clone()).collect();
        self.scopes
            .retain(|scope, c| scope.is_empty() || !c.is_stale(now_ms) || leased.contains(scope));
        out
    }

    fn forget_expired(&mut self, now_ms: i64) {
        self.expired
            .retain(|_, e| now_ms - e.at < EXPIRED_MEMORY_MS);
    }

    /// Usage of every window `tier` defines (tier-wide, then per model):
    /// committed plus in flight.
    pub fn read(&self, tier: &Tier, now_ms: i64) -> Vec<WindowReport> {
        tier.all_caps()
            .into_iter()
            .map(|cap| WindowReport {
                used: self.used(
                    cap.model.as_deref().unwrap_or(""),
                    cap.metric,
                    cap.period,
                    now_ms,
                ),
                metric: cap.metric,
                period: cap.period,
                limit: cap.limit,
                reset_at_ms: window_end(cap.period, now_ms),
                model: cap.model,
            })
            .collect()
    }

    /// The open reservation of a request, if any.
    pub fn lease(&self, request_id: &str) -> Option<&Lease> {
        self.leases.get(request_id)
    }

    /// When the next lease expires (for the object's alarm).
    pub fn next_expiry(&self) -> Option<i64> {
        self.leases.values().map(|l| l.expires_at).min()
    }

    /// Forgets all usage and in-flight reservations (an owner's reset).
    /// Requests in flight settle as duplicates afterwards: nothing they
    /// used is counted against the fresh start.
    pub fn reset(&mut self) {
        self.scopes.clear();
        self.leases.clear();
        self.expired.clear();
    }

    /// The expired lease a late `settle` would correct, if any.
    pub fn expired_entry(&self, request_id: &str) -> Option<&ExpiredEntry> {
        self.expired.get(request_id)
    }
}

impl ReserveRequest {
    /// What admission adds for this request.
    pub fn size(&self) -> crate::decision::Size {
        crate::decision::Size {
            tokens: self.estimate_tokens,
            cost: self.estimate_cost,
        }
    }
}

/// The scopes a request counts in: tier-wide, and its model's when counted.
fn scopes(model: &str, model_scoped: bool) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(model_scoped.then_some(model))
}

fn signed_delta(new: u64, old: u64) -> i64 {
    let new = i64::try_from(new).unwrap_or(i64::MAX);
    let old = i64::try_from(old).unwrap_or(i64::MAX);
    new.saturating_sub(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::{days_from_civil, DAY_MS, HOUR_MS};

    fn policy(json: serde_json::Value) -> Policy {
        Policy {
            tier_name: "free".into(),
            tier: serde_json::from_value(json).unwrap_or_default(),
            rules: vec![],
        }
    }

    fn req(id: &str, estimate: u64, p: &Policy) -> ReserveRequest {
        ReserveRequest {
            request_id: id.into(),
            model: "m".into(),
            estimate_tokens: estimate,
            estimate_cost: 0,
            lease_ms: Some(60_000),
            policy: p.clone(),
            count_model: true,
        }
    }

    const NOW: i64 = 1_795_000_000_000;

    #[test]
    fn request_cap_admits_exactly_the_limit() {
        let p = policy(serde_json::json!({"requests": {"limit": 5, "period": "day"}}));
        let mut l = IdentityLedger::default();
        let admitted = (0..60)
            .filter(|i| l.reserve(&req(&format!("r{i}"), 10, &p), NOW).verdict != Verdict::Block)
            .count();
        assert_eq!(admitted, 5);
        assert_eq!(l.used("", Metric::Requests, Period::Day, NOW), 5);
        assert_eq!(l.used("m", Metric::Requests, Period::Day, NOW), 5);
    }

    #[test]
    fn a_blocked_request_changes_nothing() {
        let p = policy(serde_json::json!({"requests": {"limit": 1, "period": "day"}}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 10, &p), NOW);
        let before = l.clone();
        let d = l.reserve(&req("b", 10, &p), NOW);
        assert_eq!(d.verdict, Verdict::Block);
        assert_eq!(l, before);
    }

    #[test]
    fn settle_replaces_the_estimate_once() {
        let p = policy(serde_json::json!({"tokens": {"limit": 1000, "period": "day"}}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 500, &p), NOW);
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW), 500);
        assert_eq!(
            l.settle("a", Amount::tokens(42), NOW + 10),
            SettleOutcome::Settled
        );
        assert_eq!(
            l.settle("a", Amount::tokens(42), NOW + 20),
            SettleOutcome::Duplicate
        );
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW), 42);
        assert_eq!(l.used("m", Metric::Tokens, Period::Month, NOW), 42);
        assert_eq!(l.used("", Metric::Requests, Period::Day, NOW), 1);
    }

    #[test]
    fn token_cap_counts_in_flight_reservations() {
        let p = policy(serde_json::json!({"tokens": {"limit": 1000, "period": "day"}}));
        let mut l = IdentityLedger::default();
        assert_ne!(l.reserve(&req("a", 600, &p), NOW).verdict, Verdict::Block);
        assert_ne!(l.reserve(&req("b", 600, &p), NOW).verdict, Verdict::Block);
        // 1200 reserved >= 1000: the third is blocked while both are in flight.
        assert_eq!(l.reserve(&req("c", 1, &p), NOW).verdict, Verdict::Block);
        l.settle("a", Amount::tokens(100), NOW);
        l.settle("b", Amount::tokens(100), NOW);
        assert_ne!(l.reserve(&req("c", 1, &p), NOW).verdict, Verdict::Block);
    }

    #[test]
    fn release_takes_the_whole_reservation_back() {
        let p = policy(serde_json::json!({"requests": {"limit": 1, "period": "minute"}}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 77, &p), NOW);
        assert!(l.release("a"));
        assert!(!l.release("a"));
        assert_eq!(
            l.settle("a", Amount::tokens(5), NOW),
            SettleOutcome::Duplicate
        );
        assert_eq!(l.used("", Metric::Requests, Period::Minute, NOW), 0);
        assert_eq!(l.used("", Metric::Tokens, Period::Minute, NOW), 0);
        assert_ne!(l.reserve(&req("b", 1, &p), NOW).verdict, Verdict::Block);
    }

    #[test]
    fn expiry_settles_at_the_reservation_and_a_late_settle_corrects_once() {
        let p = policy(serde_json::json!({}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 300, &p), NOW);
        assert_eq!(l.next_expiry(), Some(NOW + 60_000));
        assert!(l.expire(NOW + 59_999).is_empty());
        let expired = l.expire(NOW + 60_000);
        assert_eq!(expired.len(), 1);
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW + 60_000), 300);
        assert_eq!(l.next_expiry(), None);
        assert_eq!(
            l.settle("a", Amount::tokens(1000), NOW + 61_000),
            SettleOutcome::Corrected
        );
        assert_eq!(
            l.settle("a", Amount::tokens(5), NOW + 62_000),
            SettleOutcome::Duplicate
        );
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW + 62_000), 1000);
    }

    #[test]
    fn windows_reset_at_their_utc_boundaries() {
        let p = policy(serde_json::json!({"requests": {"limit": 2, "period": "day"}}));
        let mut l = IdentityLedger::default();
        let late = days_from_civil(2026, 11, 27) * DAY_MS + 23 * HOUR_MS + 59 * 60_000;
        assert_ne!(l.reserve(&req("a", 1, &p), late).verdict, Verdict::Block);
        assert_ne!(l.reserve(&req("b", 1, &p), late).verdict, Verdict::Block);
        assert_eq!(
            l.reserve(&req("c", 1, &p), late + 59_999).verdict,
            Verdict::Block
        );
        let midnight = days_from_civil(2026, 11, 28) * DAY_MS;
        assert_ne!(
            l.reserve(&req("d", 1, &p), midnight).verdict,
            Verdict::Block
        );
        // The month window kept counting across the day boundary.
        assert_eq!(l.used("", Metric::Requests, Period::Month, midnight), 3);
        assert_eq!(l.used("", Metric::Requests, Period::Day, midnight), 1);
    }

    #[test]
    fn a_correction_never_reopens_a_closed_window() {
        let p = policy(serde_json::json!({}));
        let mut l = IdentityLedger::default();
        let late = days_from_civil(2026, 11, 27) * DAY_MS + DAY_MS - 1_000;
        l.reserve(&req("a", 100, &p), late);
        let next_day = late + 2_000;
        l.settle("a", Amount::tokens(900), next_day);
        assert_eq!(l.used("", Metric::Tokens, Period::Day, next_day), 0);
        // The month window is the same one, so it is corrected.
        assert_eq!(l.used("", Metric::Tokens, Period::Month, next_day), 900);
    }

    #[test]
    fn moving_to_another_tier_keeps_the_usage() {
        let free = policy(serde_json::json!({"requests": {"limit": 3, "period": "day"}}));
        let mut pro = policy(serde_json::json!({"requests": {"limit": 4, "period": "day"}}));
        pro.tier_name = "pro".into();
        let mut l = IdentityLedger::default();
        for i in 0..3 {
            l.reserve(&req(&format!("f{i}"), 1, &free), NOW);
        }
        assert_ne!(l.reserve(&req("p1", 1, &pro), NOW).verdict, Verdict::Block);
        assert_eq!(l.reserve(&req("p2", 1, &pro), NOW).verdict, Verdict::Block);
    }

    #[test]
    fn a_repeated_request_id_is_not_reserved_twice() {
        let p = policy(serde_json::json!({}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 10, &p), NOW);
        l.reserve(&req("a", 10, &p), NOW);
        assert_eq!(l.used("", Metric::Requests, Period::Day, NOW), 1);
    }

    #[test]
    fn limiter_names_cannot_collide_across_projects() {
        assert_ne!(limiter_name("ab", "c:d"), limiter_name("ab:c", "d"));
        assert_eq!(limiter_name("p1", "u"), "2:p1:u");
    }

    #[test]
    fn reset_zeroes_usage_and_ignores_in_flight_settles() {
        let p = policy(serde_json::json!({"requests": {"limit": 1, "period": "day"}}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 10, &p), NOW);
        l.reset();
        assert_eq!(
            l.settle("a", Amount::tokens(500), NOW),
            SettleOutcome::Duplicate
        );
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW), 0);
        assert_ne!(l.reserve(&req("b", 1, &p), NOW).verdict, Verdict::Block);
    }

    #[test]
    fn the_ledger_stays_as_small_as_the_requests_in_flight() {
        let p = policy(serde_json::json!({"requests": {"limit": 100000, "period": "day"}}));
        let mut l = IdentityLedger::default();
        for i in 0..2_000 {
            let id = format!("r{i}");
            l.reserve(&req(&id, 10, &p), NOW + i);
            l.settle(&id, Amount::tokens(7), NOW + i);
        }
        let size = serde_json::to_string(&l)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        assert!(
            size < 1_024,
            "ledger JSON is {size} bytes after 2000 settled requests"
        );
        assert_eq!(l.used("", Metric::Tokens, Period::Day, NOW), 14_000);
    }

    #[test]
    fn model_names_no_cap_mentions_create_no_scope() {
        // A per-model cap on one model; thousands of other model strings.
        let p = policy(serde_json::json!({
            "models": {"capped": {"requests": {"limit": 1000, "period": "day"}}}
        }));
        let mut l = IdentityLedger::default();
        for i in 0..5_000 {
            let mut r = req(&format!("r{i}"), 10, &p);
            r.model = format!("bogus-{i}");
            r.count_model = false;
            l.reserve(&r, NOW);
            l.settle(&r.request_id, Amount::tokens(3), NOW);
        }
        let mut r = req("c", 10, &p);
        r.model = "capped".into();
        r.count_model = false; // capped by the tier in force: counted anyway
        l.reserve(&r, NOW);
        let names: Vec<&str> = l.scopes.keys().map(String::as_str).collect();
        assert_eq!(names, ["", "capped"]);
        assert_eq!(l.used("", Metric::Requests, Period::Day, NOW), 5_001);
        assert_eq!(l.used("capped", Metric::Requests, Period::Day, NOW), 1);
        // Release takes back only what was reserved, in the scopes it used.
        assert!(l.release("c"));
        assert_eq!(l.used("capped", Metric::Requests, Period::Day, NOW), 0);
        assert_eq!(l.used("", Metric::Requests, Period::Day, NOW), 5_000);
    }

    #[test]
    fn a_cost_cap_is_never_overspent_by_requests_in_flight() {
        // $0.01 a day; each request reserves 3000 µUSD and really costs 1234.
        let p = policy(serde_json::json!({"cost": {"limit": 10_000, "period": "day"}}));
        let mut l = IdentityLedger::default();
        let sized = |id: &str| {
            let mut r = req(id, 100, &p);
            r.estimate_cost = 3_000;
            r
        };
        // 50 arrive together: exactly ⌊10000 / 3000⌋ = 3 fit.
        let admitted: Vec<String> = (0..50)
            .map(|i| format!("r{i}"))
            .filter(|id| l.reserve(&sized(id), NOW).verdict != Verdict::Block)
            .collect();
        assert_eq!(admitted.len(), 3);
        assert_eq!(l.used("", Metric::Cost, Period::Day, NOW), 9_000);
        let real = Amount {
            requests: 0,
            tokens: 80,
            cost: 1_234,
        };
        for id in &admitted {
            assert_eq!(l.settle(id, real, NOW), SettleOutcome::Settled);
        }
        assert_eq!(l.used("", Metric::Cost, Period::Day, NOW), 3 * 1_234);
        // Settled: 6298 left, two more reservations of 3000 fit, not a third.
        let more = (50..100)
            .filter(|i| l.reserve(&sized(&format!("r{i}")), NOW).verdict != Verdict::Block)
            .count();
        assert_eq!(more, 2);
        assert!(l.used("", Metric::Cost, Period::Day, NOW) <= 10_000);
        // Release and expiry move the cost like the tokens.
        assert!(l.release("r50"));
        assert_eq!(
            l.used("", Metric::Cost, Period::Day, NOW),
            3 * 1_234 + 3_000
        );
        let expired = l.expire(NOW + 60_000);
        assert_eq!(expired.len(), 1);
        assert_eq!(
            l.settle("r51", real, NOW + 61_000),
            SettleOutcome::Corrected
        );
        assert_eq!(
            l.used("", Metric::Cost, Period::Day, NOW + 61_000),
            4 * 1_234
        );
    }

    #[test]
    fn ledger_round_trips_through_json() {
        let p = policy(serde_json::json!({}));
        let mut l = IdentityLedger::default();
        l.reserve(&req("a", 10, &p), NOW);
        let back: IdentityLedger =
            serde_json::from_str(&serde_json::to_string(&l).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(back, l);
        let _ = Tier::default();
    }
}
