//! The identity object's part in project budgets: it reports a snapshot
//! of its tier-wide counters (committed + in flight, as its caps see them)
//! to the project's `ProjectBudget` object from its alarm, when the
//! project has budgets (`Subject::budgeted`) and the snapshot changed
//! since the last report. The alarm is armed [`REPORT_DELAY_MS`] after a
//! change, so one identity sends at most one report per that delay however
//! many requests it serves. Snapshots are absolute: a failed report is
//! simply sent again later (after [`REPORT_RETRY_MS`]), a repeated one
//! changes nothing. Per-IP counters never report (their requests are also
//! counted by the identity they name). An owner's reset of the identity's
//! counters does not give the project its usage back: what the counters
//! held in the current windows is carried (table `budget_carry`) and added
//! to every later snapshot of those windows.

use crate::IdentityLimiter;
use shared::limiter_api::{Subject, ANONYMOUS_IP_SCOPE};
use shared::project_budget::{ReportCall, Snapshot};
use worker::{console_error, Result};

/// How soon after a change of its counters an identity reports them.
pub const REPORT_DELAY_MS: i64 = 500;
/// After a failed report, the next attempt waits this long.
pub const REPORT_RETRY_MS: i64 = 5_000;

impl IdentityLimiter {
    /// The snapshot to report now, if the identity reports and it changed.
    fn budget_snapshot(&self, now: i64) -> Option<(Subject, Snapshot)> {
        let subject = self.subject()?;
        if !subject.budgeted || subject.project_id.ends_with(ANONYMOUS_IP_SCOPE) {
            return None;
        }
        let mut snapshot = self
            .with_ledger(|l| Snapshot::of(l.scopes.get(""), now))
            .ok()?;
        if let Some(carry) = self.budget_carry().ok()? {
            snapshot = snapshot.plus(&carry);
        }
        let unchanged = self
            .budget_reported
            .borrow()
            .as_ref()
            .is_some_and(|r| r.same_usage(&snapshot));
        (!unchanged).then_some((subject, snapshot))
    }

    /// The usage carried over an owner's reset (cached after the first read).
    fn budget_carry(&self) -> Result<Option<Snapshot>> {
        if let Some(c) = *self.budget_carry.borrow() {
            return Ok(c);
        }
        #[derive(serde::Deserialize)]
        struct Row {
            data: String,
        }
        let sql = self.state.storage().sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS budget_carry (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
            None,
        )?;
        let rows: Vec<Row> = sql
            .exec("SELECT data FROM budget_carry WHERE id = 1", None)?
            .to_array()?;
        let carry = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.data).ok());
        *self.budget_carry.borrow_mut() = Some(carry);
        Ok(carry)
    }

    /// Before an owner's reset forgets the counters: keeps what they hold
    /// in the current windows for the project's budgets. Synchronous, part
    /// of the reset's step.
    pub(crate) fn carry_budget_usage(&self, now: i64) -> Result<()> {
        let held = self.with_ledger(|l| Snapshot::of(l.scopes.get(""), now))?;
        let carry = match self.budget_carry()? {
            Some(c) => held.plus(&c),
            None => held,
        };
        self.state.storage().sql().exec(
            "INSERT INTO budget_carry (id, data) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            vec![serde_json::to_string(&carry)?.into()],
        )?;
        *self.budget_carry.borrow_mut() = Some(Some(carry));
        Ok(())
    }

    /// When the alarm must fire for the next report, if one is due.
    pub(crate) fn budget_report_at(&self, now: i64) -> Option<i64> {
        self.budget_snapshot(now)?;
        Some((now + REPORT_DELAY_MS).max(self.budget_retry_at.get()))
    }

    /// Sends the report that is due, if any (from the alarm). A failure is
    /// logged and retried later; it never fails the alarm.
    pub(crate) async fn report_budget(&self, now: i64) {
        if now < self.budget_retry_at.get() {
            return;
        }
        let Some((subject, snapshot)) = self.budget_snapshot(now) else {
            return;
        };
        let name = shared::ledger::limiter_name(&subject.project_id, &subject.identity);
        let sent = match crate::project_budget::stub(&self.env, &subject.project_id) {
            Ok(stub) => {
                crate::project_budget::call(
                    &stub,
                    &ReportCall {
                        project_id: subject.project_id.clone(),
                        reporter: name,
                        snapshot,
                    },
                )
                .await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(_) => {
                *self.budget_reported.borrow_mut() = Some(snapshot);
                self.budget_retry_at.set(0);
            }
            Err(e) => {
                console_error!("budget report failed, retrying: {e}");
                self.budget_retry_at.set(now + REPORT_RETRY_MS);
            }
        }
    }
}
