//! The identity's side of the upgrade funnel (`shared::funnel`): each
//! reservation that shows a message queues a `shown` count, and remembers
//! it as the identity's last exposure (table `funnel_exposure`, cached in
//! memory); a later request on a higher tier queues one `upgrade` for that
//! exposure and forgets it. Both go to the outbox in the reservation's own
//! synchronous step, so they are as exact as the counters and cost no
//! extra I/O on the request's path. Clicks arrive through [`ClickCall`] on
//! an object of their own (named by project and identity reference).

use crate::IdentityLimiter;
use shared::decision::Decision;
use shared::funnel::{message_source, step, Exposure, FunnelKey, FunnelPolicy};
use shared::limiter_api::{AnalyticsEvent, ClickAnswer, ClickCall, Subject};
use shared::period::date_string;
use shared::simulate::{DEFAULT_LIMIT_MESSAGE, DEFAULT_WARNING_MESSAGE};
use shared::tier::Tier;
use worker::Result;

/// One funnel count of `key`.
fn count(
    event_id: String,
    subject: &Subject,
    now: i64,
    key: FunnelKey,
    message: String,
    counts: [i64; 4],
) -> AnalyticsEvent {
    let [shown, linked, clicks, upgrades] = counts;
    AnalyticsEvent::Funnel {
        event_id,
        project_id: subject.project_id.clone(),
        day: date_string(now),
        key,
        message,
        shown,
        linked,
        clicks,
        upgrades,
    }
}

impl IdentityLimiter {
    /// The identity's last exposure (cached after the first read). Synchronous.
    fn exposure(&self) -> Result<Option<Exposure>> {
        if let Some(e) = self.exposure.borrow().as_ref() {
            return Ok(e.clone());
        }
        let rows: Vec<crate::DataRow> = self
            .sql()
            .exec("SELECT data FROM funnel_exposure WHERE id = 1", None)?
            .to_array()?;
        // A row that no longer parses is forgotten, not an error: it only
        // ever costs one conversion.
        let exposure = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.data).ok());
        *self.exposure.borrow_mut() = Some(exposure.clone());
        Ok(exposure)
    }

    fn save_exposure(&self, exposure: Option<&Exposure>) -> Result<()> {
        *self.exposure.borrow_mut() = None;
        match exposure {
            Some(e) => {
                let data = serde_json::to_string(e)?;
                self.sql().exec(
                    "INSERT INTO funnel_exposure (id, data) VALUES (1, ?) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                    vec![data.into()],
                )?;
            }
            None => {
                self.sql()
                    .exec("DELETE FROM funnel_exposure WHERE id = 1", None)?;
            }
        }
        *self.exposure.borrow_mut() = Some(exposure.cloned());
        Ok(())
    }

    /// The funnel counts of one decided reservation on `tier_name` (the
    /// tier in force), and the identity's new exposure. `show` is false
    /// when the owner blocked the identity (no upgrade message applies).
    /// Synchronous: part of the reservation's step.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn funnel_step(
        &self,
        policy: &FunnelPolicy,
        subject: &Subject,
        request_id: &str,
        decision: &Decision,
        tier_name: &str,
        tier: &Tier,
        show: bool,
        now: i64,
    ) -> Result<Vec<AnalyticsEvent>> {
        let source = message_source(
            decision,
            tier,
            DEFAULT_LIMIT_MESSAGE,
            DEFAULT_WARNING_MESSAGE,
        )
        .filter(|_| show);
        let linked = source.as_ref().is_some_and(|s| s.deep_link.is_some()) && policy.tracked;
        let shown = source.as_ref().map(|s| Exposure {
            key: FunnelKey::of(tier_name, s),
            message: s.template.clone(),
        });
        let current = self.exposure()?;
        let moved = step(current.as_ref(), tier_name, shown.clone(), &policy.ranks);
        let mut events = Vec::new();
        if let Some(e) = moved.upgrade {
            events.push(count(
                format!("{request_id}:upgrade"),
                subject,
                now,
                e.key,
                e.message,
                [0, 0, 0, 1],
            ));
        }
        if let Some(e) = shown {
            events.push(count(
                format!("{request_id}:shown"),
                subject,
                now,
                e.key,
                e.message,
                [1, i64::from(linked), 0, 0],
            ));
        }
        if let Some(next) = moved.next {
            self.save_exposure(next.as_ref())?;
        }
        Ok(events)
    }

    /// Queues one followed link for the analytics flush.
    pub(crate) async fn click(&self, call: ClickCall) -> Result<ClickAnswer> {
        if !call.is_one_click() {
            return Ok(ClickAnswer { queued: false });
        }
        self.enqueue(std::slice::from_ref(&call.event))?;
        self.arm(crate::now_ms(), true).await?;
        Ok(ClickAnswer { queued: true })
    }
}
