//! Webhooks: the events an owner's backend can subscribe to, their payloads,
//! their signatures (Standard Webhooks) and the retry schedule.
//!
//! - Events carry ids, tier, rule, metric, window and numbers — never a
//!   prompt or an answer: the builders here take no text from a request.
//! - Deduplication: an identity's object reports an [`Alert`] only the first
//!   time its [`Alert::key`] is seen in a window ([`AlertMemory`]), and the
//!   event id is derived from the project and that key ([`event_id`]), so a
//!   second report after an object restart lands on the same id and the
//!   delivery table's `(endpoint, event id)` key drops it. Receivers dedupe
//!   by the same id, which every retry repeats.
//! - Signature: `webhook-signature: v1,<base64 HMAC-SHA256(key,
//!   "{id}.{timestamp}.{body}")>`, the key being the base64 part of the
//!   endpoint's `whsec_…` secret.
//! - Retries: attempt n (1-based) that fails waits `base · 2^(n-1)`, capped,
//!   times a jitter in [0.5, 1); after [`MAX_ATTEMPTS`] the delivery is dead
//!   (the dashboard's dead letter) until the owner redelivers it.

use crate::decision::{Decision, Verdict, WindowReport};
use crate::period::{iso8601, window_end, Period};
use crate::rules::ActionType;
use crate::ApiError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What happened. The wire name is `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// A warn rule fired for an identity (once per rule and window).
    #[serde(rename = "identity.warned")]
    IdentityWarned,
    /// An identity hit a tier cap: its requests get 429 `limit_exceeded`.
    #[serde(rename = "identity.limit_reached")]
    IdentityLimitReached,
    /// A block rule fired for an identity.
    #[serde(rename = "identity.blocked")]
    IdentityBlocked,
    /// A project budget reached 80 % or 100 % of its limit.
    #[serde(rename = "budget.threshold")]
    BudgetThreshold,
    /// A test-send from the dashboard or the API.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    /// The types an endpoint can subscribe to (a test-send reaches the
    /// endpoint it targets whatever it subscribed to).
    pub const SUBSCRIBABLE: [EventType; 4] = [
        EventType::IdentityWarned,
        EventType::IdentityLimitReached,
        EventType::IdentityBlocked,
        EventType::BudgetThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::IdentityWarned => "identity.warned",
            EventType::IdentityLimitReached => "identity.limit_reached",
            EventType::IdentityBlocked => "identity.blocked",
            EventType::BudgetThreshold => "budget.threshold",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        Self::SUBSCRIBABLE
            .into_iter()
            .chain([EventType::WebhookTest])
            .find(|t| t.as_str() == s)
    }
}

/// The `events` of an endpoint: a non-empty array of subscribable types,
/// answered sorted and without repeats.
pub fn parse_event_types(v: &Value) -> Result<Vec<EventType>, ApiError> {
    let bad = || {
        ApiError::invalid_field(
            "events",
            format!(
                "events must be a non-empty array of: {}",
                EventType::SUBSCRIBABLE.map(EventType::as_str).join(", ")
            ),
        )
    };
    let items = v.as_array().filter(|a| !a.is_empty()).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let t = item
            .as_str()
            .and_then(EventType::parse)
            .filter(|t| *t != EventType::WebhookTest)
            .ok_or_else(bad)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort();
    Ok(out)
}

/// An endpoint URL: the provider URL guard's rules (no loopback, private,
/// link-local or metadata addresses in production; https only there).
pub fn check_endpoint_url(url: &str, production: bool) -> Result<(), ApiError> {
    crate::url_guard::check_base_url(url, production)
        .map_err(|m| ApiError::invalid_field("url", m.replacen("baseUrl", "url", 1)))
}

/// The longest description kept with an endpoint.
pub const MAX_DESCRIPTION: usize = 200;

/// What an identity's object reports when a request crossed into a state
/// the owner may be alerted about: numbers and names, no content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Names the crossing: one alert per key and window.
    pub key: String,
    pub tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    pub metric: String,
    pub period: Period,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub limit: Option<u64>,
    pub used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_percent: Option<f64>,
    /// When the window resets (the key's expiry).
    pub window_reset_at_ms: i64,
    pub at_ms: i64,
}

/// The window an alert about `w` names, or the UTC day when no finite
/// window explains the decision.
fn window_or_day(
    w: Option<&WindowReport>,
    now_ms: i64,
) -> (String, Period, Option<String>, Option<u64>, u64, i64) {
    match w {
        Some(w) => (
            w.metric.as_str().to_string(),
            w.period,
            w.model.clone(),
            w.limit,
            w.used,
            w.reset_at_ms,
        ),
        None => (
            "requests".into(),
            Period::Day,
            None,
            None,
            0,
            window_end(Period::Day, now_ms),
        ),
    }
}

/// The alerts a decision may raise: a warn rule attached to an admitted
/// request, a block rule, or a tier cap reached. `owner_block`: the owner
/// blocked the identity by hand (no alert: the owner did it).
pub fn alerts_for(decision: &Decision, tier: &str, owner_block: bool, now_ms: i64) -> Vec<Alert> {
    let mut out = Vec::new();
    let make =
        |kind: EventType, rule: Option<&crate::decision::RuleRef>, w: Option<&WindowReport>| {
            let (metric, period, model, limit, used, reset) = window_or_day(w, now_ms);
            let what = match rule {
                Some(r) => format!("rule:{}", r.id),
                None => format!(
                    "{metric}:{}:{}",
                    period.as_str(),
                    model.as_deref().unwrap_or("")
                ),
            };
            Alert {
                kind,
                key: format!("{}|{what}|{reset}", kind.as_str()),
                tier: tier.to_string(),
                rule_id: rule.map(|r| r.id.clone()),
                rule_name: rule.map(|r| r.name.clone()),
                metric,
                period,
                model,
                limit,
                used,
                usage_percent: rule.and_then(|r| r.usage_percent),
                window_reset_at_ms: reset,
                at_ms: now_ms,
            }
        };
    match decision.verdict {
        Verdict::Block if owner_block => {}
        Verdict::Block => match &decision.rule {
            Some(rule) if rule.action == ActionType::Block => out.push(make(
                EventType::IdentityBlocked,
                Some(rule),
                decision.blocking.as_ref(),
            )),
            Some(_) => {}
            None => out.push(make(
                EventType::IdentityLimitReached,
                None,
                decision.blocking.as_ref(),
            )),
        },
        Verdict::Warn | Verdict::Allow => {
            if let Some(rule) = &decision.warning {
                out.push(make(
                    EventType::IdentityWarned,
                    Some(rule),
                    decision.header_window(),
                ));
            }
        }
    }
    out
}

/// The alert keys an identity's object has reported, each until its
/// window ends. Bounded: past [`AlertMemory::MAX`] keys the oldest windows
/// are forgotten (at worst one more report, which the event id dedupes).
#[derive(Debug, Default)]
pub struct AlertMemory {
    seen: BTreeMap<String, i64>,
}

impl AlertMemory {
    pub const MAX: usize = 256;

    /// Keeps the alerts not yet reported in their window and remembers them.
    pub fn first_in_window(&mut self, alerts: Vec<Alert>, now_ms: i64) -> Vec<Alert> {
        self.seen.retain(|_, until| *until > now_ms);
        let fresh: Vec<Alert> = alerts
            .into_iter()
            .filter(|a| !self.seen.contains_key(&a.key))
            .collect();
        for a in &fresh {
            self.seen.insert(a.key.clone(), a.window_reset_at_ms);
        }
        while self.seen.len() > Self::MAX {
            let oldest = self
                .seen
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.seen.remove(&k),
                None => break,
            };
        }
        fresh
    }
}

/// The event id of a crossing: the same project and key always give the
/// same id (`evt_` + 32 hex digits of SHA-256).
pub fn event_id(project_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{project_id}|{key}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("evt_{hex}")
}

/// An event ready to deliver: its id, type and the `data` object.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub kind: EventType,
    pub at_ms: i64,
    pub data: Value,
}

impl Event {
    /// The delivered body (the Standard Webhooks shape): `{"type",
    /// "timestamp", "data"}`, plus the id receivers dedupe by.
    pub fn body(&self) -> String {
        json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "timestamp": iso8601(self.at_ms),
            "data": self.data,
        })
        .to_string()
    }
}

/// The event of an identity's alert.
pub fn identity_event(project_id: &str, identity: &str, alert: &Alert) -> Event {
    let mut data = json!({
        "projectId": project_id,
        "identity": identity,
        "tier": alert.tier,
        "metric": alert.metric,
        "window": alert.period.as_str(),
        "limit": alert.limit,
        "used": alert.used,
        "windowResetsAt": iso8601(alert.window_reset_at_ms),
        "occurredAt": iso8601(alert.at_ms),
    });
    if let Some(m) = &alert.model {
        data["model"] = json!(m);
    }
    if let Some(id) = &alert.rule_id {
        data["ruleId"] = json!(id);
        data["ruleName"] = json!(alert.rule_name);
    }
    if let Some(p) = alert.usage_percent {
        data["usagePercent"] = json!(p);
    }
    Event {
        id: event_id(project_id, &format!("{identity}|{}", alert.key)),
        kind: alert.kind,
        at_ms: alert.at_ms,
        data,
    }
}

/// A project budget crossing 80 % or 100 % of its limit in a window: what
/// the budget code reports (`worker::webhooks::emit_budget_threshold`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetThreshold {
    /// The budget's id, when budgets have ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_id: Option<String>,
    /// `requests`, `tokens` or `cost`.
    pub metric: String,
    pub period: Period,
    /// 80 or 100.
    pub threshold_percent: u8,
    pub limit: u64,
    pub used: u64,
    /// When the budget's window resets.
    pub window_reset_at_ms: i64,
    pub at_ms: i64,
}

/// The event of a budget crossing: one per budget, metric, threshold and
/// window (the id is derived from them).
pub fn budget_event(project_id: &str, b: &BudgetThreshold) -> Event {
    let key = format!(
        "budget|{}|{}|{}|{}|{}",
        b.budget_id.as_deref().unwrap_or(""),
        b.metric,
        b.period.as_str(),
        b.threshold_percent,
        b.window_reset_at_ms
    );
    let mut data = json!({
        "projectId": project_id,
        "metric": b.metric,
        "window": b.period.as_str(),
        "thresholdPercent": b.threshold_percent,
        "limit": b.limit,
        "used": b.used,
        "windowResetsAt": iso8601(b.window_reset_at_ms),
        "occurredAt": iso8601(b.at_ms),
    });
    if let Some(id) = &b.budget_id {
        data["budgetId"] = json!(id);
    }
    Event {
        id: event_id(project_id, &key),
        kind: EventType::BudgetThreshold,
        at_ms: b.at_ms,
        data,
    }
}

/// A sample of `kind` for a test-send, marked `"sample": true`, with the
/// given (random) id. Identity events name the identity `sample-identity`.
pub fn sample_event(project_id: &str, kind: EventType, id: String, now_ms: i64) -> Event {
    let reset = window_end(Period::Day, now_ms);
    let alert = |kind, rule: bool| Alert {
        kind,
        key: String::new(),
        tier: "free".into(),
        rule_id: rule.then(|| "rul_sample".into()),
        rule_name: rule.then(|| "Sample rule".into()),
        metric: "requests".into(),
        period: Period::Day,
        model: None,
        limit: Some(100),
        used: if kind == EventType::IdentityWarned {
            80
        } else {
            100
        },
        usage_percent: rule.then_some(80.0),
        window_reset_at_ms: reset,
        at_ms: now_ms,
    };
    let mut event = match kind {
        EventType::BudgetThreshold => budget_event(
            project_id,
            &BudgetThreshold {
                budget_id: None,
                metric: "requests".into(),
                period: Period::Day,
                threshold_percent: 80,
                limit: 10_000,
                used: 8_000,
                window_reset_at_ms: reset,
                at_ms: now_ms,
            },
        ),
        EventType::IdentityWarned | EventType::IdentityBlocked => {
            identity_event(project_id, "sample-identity", &alert(kind, true))
        }
        EventType::IdentityLimitReached => {
            identity_event(project_id, "sample-identity", &alert(kind, false))
        }
        EventType::WebhookTest => Event {
            id: String::new(),
            kind,
            at_ms: now_ms,
            data: json!({"projectId": project_id, "message": "Test event from AI Ratelimit"}),
        },
    };
    event.id = id;
    event.data["sample"] = json!(true);
    event
}

/// The prefix of an endpoint's signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret from 24 random bytes: `whsec_` + base64.
pub fn new_secret(bytes: &[u8; 24]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256>` of
/// `"{id}.{timestamp}.{body}"` keyed with the secret's base64 part.
/// `None` for a secret that is not `whsec_<base64>`.
pub fn sign(secret: &str, id: &str, timestamp_s: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp_s}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Attempts before a delivery is dead (the first included).
pub const MAX_ATTEMPTS: u32 = 10;
/// Production back-off: 30 s after the first failure, doubling, at most 2 h
/// (before jitter): nominally 30 s, 1, 2, 4, 8, 16, 32, 64 min, 2 h — the
/// tenth attempt 4 h 8 min after the first, 2 h 4 min with the least jitter.
pub const RETRY_BASE_MS: i64 = 30_000;
pub const RETRY_MAX_MS: i64 = 2 * 3_600_000;

/// The wait after `attempts` failed attempts (1-based), with `jitter` in
/// [0, 1) scaling it into [0.5, 1) of the nominal delay; `None` when no
/// attempt is left (dead letter).
pub fn retry_delay_ms(attempts: u32, base_ms: i64, max_ms: i64, jitter: f64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let nominal = base_ms
        .saturating_mul(1_i64 << attempts.saturating_sub(1).min(30))
        .min(max_ms)
        .max(1);
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Some(((nominal as f64) * (0.5 + j / 2.0)).round() as i64)
}

/// The wait before a project's sender runs again when a pending row is
/// already overdue after its run (more were due than one run sends, or
/// another sender holds the row): it must not spin.
pub const OVERDUE_RERUN_MS: i64 = 1_000;

/// When the sender runs next, from the wait until the earliest pending
/// delivery: `None` when nothing is pending (it sleeps until woken), at
/// that row's time when it is ahead, [`OVERDUE_RERUN_MS`] when overdue.
pub fn next_run_in_ms(due_in_ms: Option<i64>) -> Option<i64> {
    due_in_ms.map(|d| if d > 0 { d } else { OVERDUE_RERUN_MS })
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Dead,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::decision::{decide, Policy};
    use crate::rules::Rule;
    use crate::tier::{Metric, Tier};

    // 2026-11-27T12:00:00Z
    const NOW: i64 = 1_795_780_800_000;

    #[test]
    fn the_sender_sleeps_when_nothing_is_pending_and_never_spins() {
        assert_eq!(next_run_in_ms(None), None);
        assert_eq!(next_run_in_ms(Some(30_000)), Some(30_000));
        assert_eq!(next_run_in_ms(Some(200)), Some(200));
        assert_eq!(next_run_in_ms(Some(0)), Some(OVERDUE_RERUN_MS));
        assert_eq!(next_run_in_ms(Some(-5_000)), Some(OVERDUE_RERUN_MS));
    }

    fn policy(rules: Vec<Rule>) -> Policy {
        Policy {
            tier_name: "free".into(),
            tier: serde_json::from_value::<Tier>(
                json!({"requests": {"limit": 5, "period": "day"}}),
            )
            .unwrap(),
            rules,
        }
    }

    fn rule(id: &str, action: &str, threshold: f64) -> Rule {
        serde_json::from_value(json!({
            "id": id, "name": id, "enabled": true, "priority": 1,
            "condition": {"type": "usage_percent", "metric": "requests", "operator": "gte", "threshold": threshold},
            "action": {"type": action, "message": "a message"}
        }))
        .unwrap()
    }

    fn at(p: &Policy, used: u64) -> Decision {
        at_time(p, used, NOW)
    }

    fn at_time(p: &Policy, used: u64, now: i64) -> Decision {
        decide(
            p,
            None,
            10,
            |_, m, _| if m == Metric::Requests { used } else { 0 },
            now,
        )
    }

    #[test]
    fn the_standard_webhooks_example_signs_as_published() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("sk_nope", "a", 1, "b"), None);
        assert_eq!(sign("whsec_***", "a", 1, "b"), None);
    }

    #[test]
    fn secrets_are_whsec_and_base64_of_24_bytes() {
        let s = new_secret(&[7; 24]);
        assert!(s.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&s[6..]).unwrap(), vec![7; 24]);
    }

    #[test]
    fn a_cap_reached_alerts_once_per_window_with_the_same_key() {
        let p = policy(vec![]);
        let d = at(&p, 5);
        let alerts = alerts_for(&d, "free", false, NOW);
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.kind, EventType::IdentityLimitReached);
        assert_eq!(
            (a.limit, a.used, a.metric.as_str()),
            (Some(5), 5, "requests")
        );
        let mut memory = AlertMemory::default();
        assert_eq!(memory.first_in_window(alerts.clone(), NOW).len(), 1);
        let again = alerts_for(&at(&p, 5), "free", false, NOW + 1000);
        assert_eq!(again[0].key, a.key);
        assert!(memory.first_in_window(again, NOW + 1000).is_empty());
        // The next day's window is a new key.
        let tomorrow = NOW + 86_400_000;
        let next = alerts_for(&at_time(&p, 5, tomorrow), "free", false, tomorrow);
        assert_ne!(next[0].key, a.key);
        assert_eq!(memory.first_in_window(next, tomorrow).len(), 1);
    }

    #[test]
    fn allowed_requests_raise_nothing_and_owner_blocks_raise_nothing() {
        let p = policy(vec![]);
        assert!(alerts_for(&at(&p, 1), "free", false, NOW).is_empty());
        assert!(alerts_for(&at(&p, 5), "free", true, NOW).is_empty());
    }

    #[test]
    fn warn_and_block_rules_name_their_rule() {
        let p = policy(vec![rule("rul_w", "warn", 60.0)]);
        let a = alerts_for(&at(&p, 3), "free", false, NOW);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].kind, EventType::IdentityWarned);
        assert_eq!(a[0].rule_id.as_deref(), Some("rul_w"));
        assert_eq!(a[0].used, 4);
        let p = policy(vec![rule("rul_b", "block", 60.0)]);
        let a = alerts_for(&at(&p, 3), "free", false, NOW);
        assert_eq!(a[0].kind, EventType::IdentityBlocked);
        assert_eq!(a[0].rule_id.as_deref(), Some("rul_b"));
    }

    #[test]
    fn events_carry_numbers_and_ids_only_and_ids_are_stable() {
        let p = policy(vec![]);
        let alert = alerts_for(&at(&p, 5), "free", false, NOW).remove(0);
        let e = identity_event("prj_1", "user-1", &alert);
        assert_eq!(e.id, identity_event("prj_1", "user-1", &alert).id);
        assert_ne!(e.id, identity_event("prj_1", "user-2", &alert).id);
        assert!(e.id.starts_with("evt_") && e.id.len() == 36);
        let body: Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(body["type"], "identity.limit_reached");
        assert_eq!(body["timestamp"], "2026-11-27T12:00:00Z");
        let keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
        for k in &keys {
            assert!(
                [
                    "projectId",
                    "identity",
                    "tier",
                    "metric",
                    "window",
                    "limit",
                    "used",
                    "windowResetsAt",
                    "occurredAt"
                ]
                .contains(&k.as_str()),
                "unexpected field {k}"
            );
        }
        assert_eq!(body["data"]["windowResetsAt"], "2026-11-28T00:00:00Z");
    }

    #[test]
    fn budget_events_are_one_per_threshold_and_window() {
        let b = BudgetThreshold {
            budget_id: Some("bud_1".into()),
            metric: "cost".into(),
            period: Period::Month,
            threshold_percent: 80,
            limit: 1_000_000,
            used: 800_100,
            window_reset_at_ms: NOW + 5,
            at_ms: NOW,
        };
        let e = budget_event("prj_1", &b);
        assert_eq!(e.kind, EventType::BudgetThreshold);
        assert_eq!(e.data["thresholdPercent"], 80);
        assert_eq!(e.data["budgetId"], "bud_1");
        assert_eq!(budget_event("prj_1", &b).id, e.id);
        let full = BudgetThreshold {
            threshold_percent: 100,
            ..b.clone()
        };
        assert_ne!(budget_event("prj_1", &full).id, e.id);
    }

    #[test]
    fn samples_are_marked_and_keep_the_given_id() {
        for kind in EventType::SUBSCRIBABLE
            .into_iter()
            .chain([EventType::WebhookTest])
        {
            let e = sample_event("prj_1", kind, "evt_x".into(), NOW);
            assert_eq!(e.id, "evt_x");
            assert_eq!(e.kind, kind);
            assert_eq!(e.data["sample"], true);
        }
    }

    #[test]
    fn event_types_parse_sorted_without_repeats_and_refuse_unknowns() {
        let t = parse_event_types(&json!([
            "budget.threshold",
            "identity.warned",
            "identity.warned"
        ]))
        .unwrap();
        assert_eq!(
            t,
            vec![EventType::IdentityWarned, EventType::BudgetThreshold]
        );
        assert!(parse_event_types(&json!([])).is_err());
        assert!(parse_event_types(&json!(["identity.nope"])).is_err());
        assert!(parse_event_types(&json!(["webhook.test"])).is_err());
        assert!(parse_event_types(&json!("identity.warned")).is_err());
    }

    #[test]
    fn endpoint_urls_go_through_the_url_guard() {
        assert!(check_endpoint_url("https://hooks.example.com/x", true).is_ok());
        let e = check_endpoint_url("http://127.0.0.1:9/x", true).unwrap_err();
        assert!(e.to_json().to_string().contains("url"));
        assert!(check_endpoint_url("https://169.254.169.254/", false).is_err());
        assert!(check_endpoint_url("https://10.0.0.1/", true).is_err());
        assert!(check_endpoint_url("http://127.0.0.1:9/x", false).is_ok());
    }

    #[test]
    fn back_off_doubles_with_jitter_and_ends_in_the_dead_letter() {
        assert_eq!(retry_delay_ms(1, 1000, 60_000, 0.0), Some(500));
        assert_eq!(retry_delay_ms(1, 1000, 60_000, 0.999_999), Some(1000));
        assert_eq!(retry_delay_ms(3, 1000, 60_000, 0.0), Some(2000));
        assert_eq!(retry_delay_ms(7, 1000, 3000, 0.0), Some(1500));
        assert_eq!(retry_delay_ms(MAX_ATTEMPTS, 1000, 60_000, 0.0), None);
        assert_eq!(retry_delay_ms(2, 1000, 60_000, f64::NAN), Some(1000));
    }
}
