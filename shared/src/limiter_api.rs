//! The messages between the Worker and the `IdentityLimiter` Durable Object,
//! and the analytics events the object batches for Postgres.
//!
//! Only counts, ids, tiers, model ids and rule ids travel here: never a
//! prompt or an answer (guarantee G6).

use crate::decision::{Decision, WindowReport};
use crate::ledger::{ReserveRequest, SettleOutcome};
use crate::tier::Tier;
use serde::{Deserialize, Serialize};

/// Who the object counts for; sent with every call that may produce
/// analytics so the object can label its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub project_id: String,
    pub identity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveCall {
    pub subject: Subject,
    #[serde(flatten)]
    pub request: ReserveRequest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveAnswer {
    pub decision: Decision,
    /// The object's clock when it decided (for reset times in headers).
    pub now_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleCall {
    pub subject: Subject,
    pub request_id: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleAnswer {
    pub outcome: SettleOutcome,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseCall {
    pub request_id: String,
}

/// Reads the usage of every window a tier defines (tier-wide and per model).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadCall {
    pub tier: Tier,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadAnswer {
    pub windows: Vec<WindowReport>,
    pub now_ms: i64,
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
        blocked: i64,
        warned: i64,
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
}

impl AnalyticsEvent {
    pub fn event_id(&self) -> &str {
        match self {
            AnalyticsEvent::Usage { event_id, .. } | AnalyticsEvent::Trigger { event_id, .. } => {
                event_id
            }
        }
    }
}
