//! The messages between the Worker and the `IdentityLimiter` Durable Object,
//! and the analytics events the object batches for Postgres.
//!
//! The protocol is typed per call: each call type names its path and its
//! answer type ([`LimiterCall`]), so the Worker cannot send a call to the
//! wrong path or read its answer as the wrong type, and the object answers
//! each path with exactly the declared type.
//!
//! Settlements travel as [`Ending`]s: the Worker folds the endings of an
//! identity's finished requests into that identity's next call (a reserve
//! or a read), or sends them in one [`SettleCall`] when no call comes soon;
//! the object applies them before anything else in that call, so a reserve
//! decides on settled counters. Each ending acts at most once (the ledger
//! removes the lease), so a repeated ending changes nothing.
//!
//! Only counts, ids, tiers, model ids and rule ids travel here: never a
//! prompt or an answer (guarantee G6).

use crate::decision::{Decision, WindowReport};
use crate::funnel::{FunnelKey, FunnelPolicy};
use crate::identity::{IdentityRecord, Override};
use crate::ledger::{ReserveRequest, SettleOutcome};
use crate::tier::Tier;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One call to the object: its path and the type it answers with.
pub trait LimiterCall: Serialize + DeserializeOwned {
    const PATH: &'static str;
    type Answer: Serialize + DeserializeOwned;
}

/// How an admitted request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Ending {
    /// Replace the reservation by the real usage and its cost.
    #[serde(rename_all = "camelCase")]
    Settle {
        request_id: String,
        input_tokens: u64,
        output_tokens: u64,
        /// The provider's usage had a count out of range (clamped or
        /// ignored): counted in analytics as `usage_flagged`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        flagged: bool,
        /// The usage priced by the Worker (micro-dollars; 0 without a price).
        #[serde(default)]
        cost: u64,
    },
    /// Take the reservation back: not counted (provider error before any byte).
    #[serde(rename_all = "camelCase")]
    Release { request_id: String },
}

impl Ending {
    pub fn request_id(&self) -> &str {
        match self {
            Ending::Settle { request_id, .. } | Ending::Release { request_id } => request_id,
        }
    }
}

/// Who the object counts for; sent with every call that may produce
/// analytics so the object can label its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub project_id: String,
    pub identity: String,
    /// The project has budgets: the object reports its usage to the
    /// project's `ProjectBudget` (`shared::project_budget`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub budgeted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveCall {
    pub subject: Subject,
    #[serde(flatten)]
    pub request: ReserveRequest,
    /// Endings of this identity's earlier requests, applied first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endings: Vec<Ending>,
    /// The project's tiers, for an identity record that names its tier.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, Tier>,
    /// Funnel tracking (the Worker's identity counters; none for per-IP ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel: Option<FunnelPolicy>,
    /// The request's tier is authoritative (a signed token's claim, or a
    /// request's tier when the project trusts requests): a record's tier
    /// does not replace it.
    #[serde(default)]
    pub tier_pinned: bool,
}

impl LimiterCall for ReserveCall {
    const PATH: &'static str = "/reserve";
    type Answer = ReserveAnswer;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveAnswer {
    pub decision: Decision,
    /// The object's clock when it decided (for reset times in headers).
    pub now_ms: i64,
    /// The tier in force when the identity's record changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_name: Option<String>,
    /// How the identity's record changed the decision, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Override>,
    /// Crossings the owner may be alerted about, each reported once per
    /// window by this object (`shared::webhooks`). Empty on almost every
    /// request: only a request that raises one makes the Worker send it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::webhooks::Alert>,
}

/// What the owner does to an identity's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum RecordOp {
    Get,
    /// A change already validated by the Worker (`identity::parse_patch`).
    Patch {
        body: serde_json::Value,
    },
    /// Adds credits (a gift).
    Gift {
        requests: u64,
        tokens: u64,
        #[serde(default)]
        cost: u64,
    },
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordCall {
    #[serde(flatten)]
    pub op: RecordOp,
    /// The project's tiers (to validate a patch's `tier` again).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, Tier>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordAnswer {
    /// The record after the call (`None`: the identity has none).
    pub record: Option<IdentityRecord>,
    pub now_ms: i64,
}

impl LimiterCall for RecordCall {
    const PATH: &'static str = "/record";
    type Answer = RecordAnswer;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleCall {
    pub subject: Subject,
    pub endings: Vec<Ending>,
}

impl LimiterCall for SettleCall {
    const PATH: &'static str = "/settle";
    type Answer = SettleAnswer;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleAnswer {
    /// One per ending, in order.
    pub outcomes: Vec<SettleOutcome>,
}

/// Reads the usage of every window a tier defines (tier-wide and per model).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadCall {
    pub tier: Tier,
    /// The tier's name; with `tiers`, lets the identity's record put its own
    /// tier or limits in force (unless `tier_pinned`), as admission does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier_name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, Tier>,
    #[serde(default)]
    pub tier_pinned: bool,
    /// Endings of this identity's requests, applied before reading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endings: Vec<Ending>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
}

impl LimiterCall for ReadCall {
    const PATH: &'static str = "/read";
    type Answer = ReadAnswer;
}

/// Forgets the identity's usage and in-flight reservations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResetCall {}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetAnswer {
    pub reset: bool,
}

impl LimiterCall for ResetCall {
    const PATH: &'static str = "/reset";
    type Answer = ResetAnswer;
}

/// A followed tracked link, queued by a funnel object (one per project ×
/// identity reference) for the analytics flush. The object accepts only a
/// funnel event that counts exactly one click.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClickCall {
    pub event: AnalyticsEvent,
}

impl ClickCall {
    /// Whether the event is one click and nothing else.
    pub fn is_one_click(&self) -> bool {
        matches!(
            self.event,
            AnalyticsEvent::Funnel {
                shown: 0,
                linked: 0,
                clicks: 1,
                upgrades: 0,
                ..
            }
        ) && self.event.is_analytics()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClickAnswer {
    pub queued: bool,
}

impl LimiterCall for ClickCall {
    const PATH: &'static str = "/click";
    type Answer = ClickAnswer;
}

/// Expires due leases and flushes the analytics outbox now.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlushCall {}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlushAnswer {
    /// Events still waiting for Postgres.
    pub pending: i64,
}

impl LimiterCall for FlushCall {
    const PATH: &'static str = "/flush";
    type Answer = FlushAnswer;
}

/// Proves the object and its storage answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PingCall {}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingAnswer {
    pub ok: bool,
    /// When the object's alarm is set to fire (epoch ms), if it is.
    #[serde(default)]
    pub alarm_at: Option<i64>,
    /// Requests admitted and not yet settled or released.
    #[serde(default)]
    pub leases: usize,
}

impl LimiterCall for PingCall {
    const PATH: &'static str = "/ping";
    type Answer = PingAnswer;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadAnswer {
    pub windows: Vec<WindowReport>,
    pub now_ms: i64,
    /// The tier in force when the identity's record changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_name: Option<String>,
}

/// One analytics fact, idempotent by `event_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AnalyticsEvent {
    #[serde(rename_all = "camelCase")]
    Usage {
        event_id: String,
        project_id: String,
        identity: String,
        tier: String,
        model: String,
        /// `YYYY-MM-DD` (UTC) of the request.
        day: String,
        requests: i64,
        input_tokens: i64,
        output_tokens: i64,
        /// Micro-dollars.
        #[serde(default)]
        cost: i64,
        blocked: i64,
        warned: i64,
        /// Answers whose provider usage had a count out of range.
        #[serde(default)]
        usage_flagged: i64,
    },
    #[serde(rename_all = "camelCase")]
    Trigger {
        event_id: String,
        project_id: String,
        rule_id: String,
        rule_name: String,
        identity: String,
        tier: String,
        action: String,
        usage_percent: Option<f64>,
        at_ms: i64,
    },
    /// Counts of the upgrade funnel for one message on one day.
    #[serde(rename_all = "camelCase")]
    Funnel {
        event_id: String,
        project_id: String,
        /// `YYYY-MM-DD` (UTC).
        day: String,
        key: FunnelKey,
        /// The owner's copy (template), never a rendered message.
        message: String,
        shown: i64,
        linked: i64,
        clicks: i64,
        upgrades: i64,
    },
}

/// The suffix of the project id under which a project's per-IP counters
/// for unsigned traffic live (`<project id>#anonymous-ip`). Project ids never
/// contain `#`, so these never collide with an identity's counter.
pub const ANONYMOUS_IP_SCOPE: &str = "#anonymous-ip";

/// The suffix of the project id under which a project's funnel objects
/// live (`<project id>#funnel-clicks`, one per identity reference): they
/// only queue clicks of tracked links for the analytics flush.
pub const FUNNEL_CLICK_SCOPE: &str = "#funnel-clicks";

impl AnalyticsEvent {
    /// The project the event belongs to.
    pub fn project_id(&self) -> &str {
        match self {
            AnalyticsEvent::Usage { project_id, .. }
            | AnalyticsEvent::Trigger { project_id, .. }
            | AnalyticsEvent::Funnel { project_id, .. } => project_id,
        }
    }

    /// Events of per-IP counters are not analytics: they are never queued.
    pub fn is_analytics(&self) -> bool {
        !self.project_id().ends_with(ANONYMOUS_IP_SCOPE)
    }

    pub fn event_id(&self) -> &str {
        match self {
            AnalyticsEvent::Usage { event_id, .. }
            | AnalyticsEvent::Trigger { event_id, .. }
            | AnalyticsEvent::Funnel { event_id, .. } => event_id,
        }
    }
}
