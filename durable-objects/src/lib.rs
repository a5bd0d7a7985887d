//! `IdentityLimiter`: one Durable Object per project × identity, holding
//! that identity's [`shared::ledger::IdentityLedger`].
//!
//! Every call reads the ledger, decides and writes it back with no `.await`
//! in between (SQLite storage calls are synchronous), so admission is atomic
//! per identity: concurrent requests are serialised by the object. The
//! ledger is cached in memory and written through on every change, one row
//! per counter scope, lease and expired lease (table `ledger_rows`): a call
//! writes only the rows it changed, never the whole
//! ledger, so its cost does not grow with the identity's history. A ledger
//! stored by an earlier version as one JSON row is moved to those tables
//! on first load. A call carries the endings (settle or release) of the
//! identity's earlier requests, applied before anything else in the same
//! synchronous step. Analytics events go to an `outbox` table
//! in the same synchronous step; the alarm writes a busy identity's batch
//! to Postgres itself and hands a quiet one's few events to the project's
//! analytics relay, which batches many identities' ([`relay`]);
//! the same alarm settles expired leases (a Worker that died mid-request).
//! Failure modes: a storage error answers 500 to the Worker, which answers
//! 503 `limiter_unavailable` without forwarding; a failed hand-off leaves
//! the outbox in place and the alarm retries.

pub mod analytics;
mod budget_report;
mod funnel;
mod outbox;
pub mod pg;
pub mod project_budget;
pub mod relay;

pub use relay::AnalyticsRelay;

use serde::Serialize;
use shared::decision::Verdict;
use shared::identity::{self, IdentityRecord, Override};
use shared::ledger::{Amount, IdentityLedger, SettleOutcome};
use shared::limiter_api::{
    AnalyticsEvent, ClickCall, Ending, FlushAnswer, FlushCall, LimiterCall, PingAnswer, PingCall,
    ReadAnswer, ReadCall, RecordAnswer, RecordCall, RecordOp, ReserveAnswer, ReserveCall,
    ResetAnswer, ResetCall, SettleAnswer, SettleCall, Subject, ANONYMOUS_IP_SCOPE,
};
use shared::period::date_string;
use shared::webhooks::{alerts_for, AlertMemory};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use worker::*;

/// How soon after an event the outbox is handed to the relay (which
/// writes within a second more: analytics visible within 10 s).
const FLUSH_DELAY_MS: i64 = 1_500;
/// Events handed over (or written) per flush.
const FLUSH_BATCH: i64 = 200;
/// A flush of at least this many events writes them to Postgres itself;
/// fewer go to the project's relay.
const DIRECT_WRITE_MIN: usize = 20;
/// Kinds of ledger rows: one row per scope, lease and expired lease.
const SCOPE: i64 = 0;
const LEASE: i64 = 1;
const EXPIRED: i64 = 2;

#[durable_object]
pub struct IdentityLimiter {
    state: State,
    env: Env,
    ledger: RefCell<Option<IdentityLedger>>,
    /// Inside [`Self::in_one_write`]: ledger changes wait for its end.
    one_write: Cell<bool>,
    alarm_at: Cell<Option<i64>>,
    /// Failed hand-offs in a row, and no hand-off before the retry time.
    backoff: outbox::Backoff,
    /// The subject last written to storage (skips rewriting it per request).
    subject_saved: RefCell<Option<Subject>>,
    /// The identity's record as stored (`Some(None)`: known to have none).
    record: RefCell<Option<Option<IdentityRecord>>>,
    /// The last snapshot the project's budgets received (`budget_report`).
    budget_reported: RefCell<Option<shared::project_budget::Snapshot>>,
    budget_retry_at: Cell<i64>,
    /// Usage carried over an owner's reset (`Some(None)`: known to be none).
    budget_carry: RefCell<Option<Option<shared::project_budget::Snapshot>>>,
    /// The last funnel message shown (`Some(None)`: known to be none).
    exposure: RefCell<Option<Option<shared::funnel::Exposure>>>,
    /// Webhook alerts already reported in their window (in memory: after a
    /// restart a crossing may be reported again, and its event id, derived
    /// from the same key, dedupes it downstream).
    alerted: RefCell<AlertMemory>,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::RustError(format!("{what}: {e}"))
}

/// Most values one storage statement may bind: Durable Object SQLite
/// refuses more than 100 ("too many SQL variables").
pub const MAX_BOUND_VALUES: usize = 100;

/// Adds the rows of one kind that `after` changed or added to `written`
/// (kind, key, JSON) and those it dropped to `removed`.
fn changed_rows<'a, T: Serialize + PartialEq>(
    kind: i64,
    before: &'a BTreeMap<String, T>,
    after: &'a BTreeMap<String, T>,
    written: &mut Vec<(i64, &'a String, String)>,
    removed: &mut Vec<(i64, &'a String)>,
) -> Result<()> {
    for (k, v) in after {
        if before.get(k) != Some(v) {
            let data = serde_json::to_string(v).map_err(|e| corrupt("ledger encode", e))?;
            written.push((kind, k, data));
        }
    }
    removed.extend(
        before
            .keys()
            .filter(|k| !after.contains_key(*k))
            .map(|k| (kind, k)),
    );
    Ok(())
}

/// Reads a call of type `C` and answers with exactly `C::Answer`.
async fn serve<C, F, Fut>(mut req: Request, handle: F) -> Result<Response>
where
    C: LimiterCall,
    F: FnOnce(C) -> Fut,
    Fut: std::future::Future<Output = Result<C::Answer>>,
{
    let call: C = read_json(&mut req).await?;
    Response::from_json(&handle(call).await?)
}

/// A call's JSON body: read as text in one call and parsed in Rust
/// (`Request::json` parses in JavaScript and then walks the JavaScript
/// value from Rust, field by field, which costs more).
pub async fn read_json<T: serde::de::DeserializeOwned>(req: &mut Request) -> Result<T> {
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| Error::RustError(format!("call body: {e}")))
}

#[derive(serde::Deserialize)]
struct DataRow {
    data: String,
}

#[derive(serde::Deserialize)]
struct KeyedRow {
    kind: i64,
    k: String,
    data: String,
}

impl IdentityLimiter {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// One statement for the whole schema (one call into storage when an
    /// object starts). `ledger` is the single-row format of earlier
    /// versions, read once and emptied by [`Self::load`].
    fn init_schema(&self) -> Result<()> {
        let schema = format!(
            "CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS ledger_rows (kind INTEGER NOT NULL, k TEXT NOT NULL, \
               data TEXT NOT NULL, PRIMARY KEY (kind, k)) WITHOUT ROWID; \
             {}; \
             CREATE TABLE IF NOT EXISTS subject (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS record (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS funnel_exposure (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
            outbox::SCHEMA
        );
        self.sql().exec(&schema, None)?;
        Ok(())
    }

    /// The identity's record (cached after the first read). Synchronous.
    fn load_record(&self) -> Result<Option<IdentityRecord>> {
        if let Some(r) = self.record.borrow().as_ref() {
            return Ok(r.clone());
        }
        let rows: Vec<DataRow> = self
            .sql()
            .exec("SELECT data FROM record WHERE id = 1", None)?
            .to_array()?;
        let record = match rows.first() {
            Some(row) => {
                Some(serde_json::from_str(&row.data).map_err(|e| corrupt("record corrupt", e))?)
            }
            None => None,
        };
        *self.record.borrow_mut() = Some(record.clone());
        Ok(record)
    }

    /// Writes (or deletes) the identity's record. Synchronous.
    fn save_record(&self, record: Option<&IdentityRecord>) -> Result<()> {
        *self.record.borrow_mut() = None;
        match record {
            Some(r) => {
                let data = serde_json::to_string(r).map_err(|e| corrupt("record encode", e))?;
                self.sql().exec(
                    "INSERT INTO record (id, data) VALUES (1, ?) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                    vec![data.into()],
                )?;
            }
            None => {
                self.sql().exec("DELETE FROM record WHERE id = 1", None)?;
            }
        }
        *self.record.borrow_mut() = Some(record.cloned());
        Ok(())
    }

    /// Reads or changes the record: one synchronous step.
    async fn record_call(&self, call: RecordCall) -> Result<RecordAnswer> {
        let now = now_ms();
        let current = self.load_record()?;
        let next = match call.op {
            RecordOp::Get => current,
            RecordOp::Delete => {
                self.save_record(None)?;
                None
            }
            RecordOp::Patch { body } => {
                let patch = identity::parse_patch(&body, &call.tiers)
                    .map_err(|e| corrupt("record patch", e.message()))?;
                let mut r = current.unwrap_or_default();
                patch.apply(&mut r, now);
                self.save_record(Some(&r))?;
                Some(r)
            }
            RecordOp::Gift {
                requests,
                tokens,
                cost,
            } => {
                let mut r = current.unwrap_or_default();
                let add = identity::Credits {
                    requests,
                    tokens,
                    cost,
                };
                identity::gift(&mut r, add, now);
                self.save_record(Some(&r))?;
                Some(r)
            }
        };
        Ok(RecordAnswer {
            record: next,
            now_ms: now,
        })
    }

    /// Loads the ledger from its rows, moving a ledger stored as one JSON
    /// row by an earlier version into them first.
    fn load(&self) -> Result<IdentityLedger> {
        let legacy: Vec<DataRow> = self
            .sql()
            .exec("SELECT data FROM ledger WHERE id = 1", None)?
            .to_array()?;
        if let Some(row) = legacy.first() {
            let old: IdentityLedger =
                serde_json::from_str(&row.data).map_err(|e| corrupt("ledger corrupt", e))?;
            self.write_rows(&IdentityLedger::default(), &old)?;
            self.sql().exec("DELETE FROM ledger WHERE id = 1", None)?;
        }
        let rows: Vec<KeyedRow> = self
            .sql()
            .exec("SELECT kind, k, data FROM ledger_rows", None)?
            .to_array()?;
        let mut ledger = IdentityLedger::default();
        for row in rows {
            let bad = |e: serde_json::Error| corrupt("ledger row corrupt", e);
            match row.kind {
                SCOPE => {
                    ledger
                        .scopes
                        .insert(row.k, serde_json::from_str(&row.data).map_err(bad)?);
                }
                LEASE => {
                    ledger
                        .leases
                        .insert(row.k, serde_json::from_str(&row.data).map_err(bad)?);
                }
                _ => {
                    ledger
                        .expired
                        .insert(row.k, serde_json::from_str(&row.data).map_err(bad)?);
                }
            }
        }
        Ok(ledger)
    }

    /// Writes the rows that differ between `before` and `after`: one
    /// statement for every row written and one for every row removed (a
    /// storage call costs more than the rows it carries).
    fn write_rows(&self, before: &IdentityLedger, after: &IdentityLedger) -> Result<()> {
        let mut written = Vec::new();
        let mut removed = Vec::new();
        changed_rows(
            SCOPE,
            &before.scopes,
            &after.scopes,
            &mut written,
            &mut removed,
        )?;
        changed_rows(
            LEASE,
            &before.leases,
            &after.leases,
            &mut written,
            &mut removed,
        )?;
        changed_rows(
            EXPIRED,
            &before.expired,
            &after.expired,
            &mut written,
            &mut removed,
        )?;
        let sql = self.sql();
        for rows in written.chunks(MAX_BOUND_VALUES / 3) {
            let values = vec!["(?, ?, ?)"; rows.len()].join(", ");
            let binds: Vec<SqlStorageValue> = rows
                .iter()
                .flat_map(|(kind, k, data)| -> [SqlStorageValue; 3] {
                    [(*kind).into(), k.as_str().into(), data.as_str().into()]
                })
                .collect();
            sql.exec(
                &format!(
                    "INSERT INTO ledger_rows (kind, k, data) VALUES {values} \
                     ON CONFLICT (kind, k) DO UPDATE SET data = excluded.data"
                ),
                binds,
            )?;
        }
        for rows in removed.chunks(MAX_BOUND_VALUES / 2) {
            let keys = vec!["(?, ?)"; rows.len()].join(", ");
            let binds: Vec<SqlStorageValue> = rows
                .iter()
                .flat_map(|(kind, k)| -> [SqlStorageValue; 2] {
                    [(*kind).into(), k.as_str().into()]
                })
                .collect();
            sql.exec(
                &format!("DELETE FROM ledger_rows WHERE (kind, k) IN (VALUES {keys})"),
                binds,
            )?;
        }
        Ok(())
    }

    /// Runs `f` on the ledger and persists what changed — synchronously,
    /// atomically. Inside [`Self::in_one_write`], the change is written
    /// with the others at its end.
    fn with_ledger<R>(&self, f: impl FnOnce(&mut IdentityLedger) -> R) -> Result<R> {
        let mut cache = self.ledger.borrow_mut();
        if cache.is_none() {
            *cache = Some(self.load()?);
        }
        let ledger = cache.get_or_insert_with(IdentityLedger::default);
        if self.one_write.get() {
            return Ok(f(ledger));
        }
        let before = ledger.clone();
        let out = f(ledger);
        if *ledger != before {
            if let Err(e) = self.write_rows(&before, ledger) {
                // Storage may hold part of the change: reload on next use.
                *cache = None;
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Runs `step` (synchronous: no `.await` may split it) with every
    /// ledger change it makes written once, at its end: a call that applies
    /// endings and reserves writes its rows in one statement, not one per
    /// ending. A failed step or write drops the cached ledger (reloaded
    /// from storage on next use), so nothing half-applied is kept.
    fn in_one_write<R>(&self, step: impl FnOnce() -> Result<R>) -> Result<R> {
        let before = self.with_ledger(|l| l.clone())?;
        self.one_write.set(true);
        let out = step();
        self.one_write.set(false);
        let mut cache = self.ledger.borrow_mut();
        let written = match (&out, cache.as_ref()) {
            (Ok(_), Some(after)) if *after != before => self.write_rows(&before, after),
            (Ok(_), _) => Ok(()),
            (Err(_), _) => Ok(()),
        };
        if out.is_err() || written.is_err() {
            *cache = None;
        }
        written?;
        out
    }

    fn remember_subject(&self, subject: &Subject) -> Result<()> {
        if self.subject_saved.borrow().as_ref() == Some(subject) {
            return Ok(());
        }
        let data = serde_json::to_string(subject)?;
        self.sql().exec(
            "INSERT INTO subject (id, data) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            vec![data.into()],
        )?;
        *self.subject_saved.borrow_mut() = Some(subject.clone());
        Ok(())
    }

    fn subject(&self) -> Option<Subject> {
        if let Some(s) = self.subject_saved.borrow().as_ref() {
            return Some(s.clone());
        }
        let rows: Vec<DataRow> = self
            .sql()
            .exec("SELECT data FROM subject WHERE id = 1", None)
            .and_then(|c| c.to_array())
            .ok()?;
        rows.first()
            .and_then(|r| serde_json::from_str(&r.data).ok())
    }

    fn enqueue(&self, events: &[AnalyticsEvent]) -> Result<()> {
        let events: Vec<AnalyticsEvent> = events
            .iter()
            .filter(|e| e.is_analytics())
            .cloned()
            .collect();
        outbox::push(&self.sql(), &events)
    }

    fn outbox_len(&self) -> i64 {
        outbox::len(&self.sql())
    }

    /// Makes sure an alarm fires by the next lease expiry, outbox flush or
    /// budget report, and that none stays set once nothing is due. A quiet
    /// identity's settled lease would otherwise wake its object a lease time
    /// later (over 15 min in production), long after the runtime evicted
    /// it, to recreate it for nothing: on the dev stack those wake-ups cost
    /// ~7 ms of CPU per quiet request, the delete no measurable amount.
    async fn arm(&self, now: i64, enqueued: bool) -> Result<()> {
        let expiry = self
            .ledger
            .borrow()
            .as_ref()
            .and_then(IdentityLedger::next_expiry);
        let flush = (enqueued || self.alarm_at.get().is_none() && self.outbox_len() > 0)
            .then_some((now + FLUSH_DELAY_MS).max(self.backoff.retry_at()));
        let wanted = [expiry, flush, self.budget_report_at(now)]
            .into_iter()
            .flatten()
            .min();
        match (wanted, self.alarm_at.get()) {
            (Some(at), current) if current.is_none_or(|current| at < current) => {
                self.alarm_at.set(Some(at));
                self.state.storage().set_alarm((at - now).max(0)).await?;
            }
            (None, Some(_)) => {
                self.alarm_at.set(None);
                self.state.storage().delete_alarm().await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies the endings of earlier requests; answers each one's outcome
    /// and queues their analytics. No `.await`: part of the caller's step.
    fn apply_endings(
        &self,
        subject: Option<&Subject>,
        endings: &[Ending],
        now: i64,
    ) -> Result<Vec<SettleOutcome>> {
        if endings.is_empty() {
            return Ok(Vec::new());
        }
        let subject = subject.cloned().or_else(|| self.subject());
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut outcomes = Vec::with_capacity(endings.len());
        let mut events = Vec::new();
        for ending in endings {
            match ending {
                Ending::Release { request_id } => {
                    let released = self.with_ledger(|l| l.release(request_id))?;
                    outcomes.push(if released {
                        SettleOutcome::Released
                    } else {
                        SettleOutcome::Duplicate
                    });
                }
                Ending::Settle {
                    request_id,
                    input_tokens,
                    output_tokens,
                    flagged,
                    cost,
                } => {
                    let real = Amount {
                        requests: 0,
                        tokens: input_tokens.saturating_add(*output_tokens),
                        cost: *cost,
                    };
                    let (outcome, lease, expired) = self.with_ledger(|l| {
                        let lease = l.lease(request_id).cloned();
                        let expired = l.expired_entry(request_id).cloned();
                        (l.settle(request_id, real, now), lease, expired)
                    })?;
                    outcomes.push(outcome);
                    let Some(subject) = subject.as_ref() else {
                        continue;
                    };
                    let event = match (outcome, lease) {
                        (SettleOutcome::Settled, Some(lease)) => Some(AnalyticsEvent::Usage {
                            event_id: request_id.clone(),
                            project_id: subject.project_id.clone(),
                            identity: subject.identity.clone(),
                            tier: lease.tier,
                            model: lease.model,
                            day: date_string(lease.reserved_at),
                            requests: 1,
                            input_tokens: to_i64(*input_tokens),
                            output_tokens: to_i64(*output_tokens),
                            cost: to_i64(*cost),
                            blocked: 0,
                            warned: i64::from(lease.warned),
                            usage_flagged: i64::from(*flagged),
                        }),
                        (SettleOutcome::Corrected, _) => expired.map(|entry| {
                            // The expiry counted `counted` tokens as output; move to the real split.
                            let counted = to_i64(entry.counted);
                            AnalyticsEvent::Usage {
                                event_id: format!("{request_id}:correction"),
                                project_id: subject.project_id.clone(),
                                identity: subject.identity.clone(),
                                tier: entry.tier,
                                model: entry.model,
                                day: date_string(entry.reserved_at),
                                requests: 0,
                                input_tokens: to_i64(*input_tokens),
                                output_tokens: to_i64(*output_tokens) - counted,
                                cost: to_i64(*cost) - to_i64(entry.counted_cost),
                                blocked: 0,
                                warned: 0,
                                usage_flagged: 0,
                            }
                        }),
                        _ => None,
                    };
                    events.extend(event);
                }
            }
        }
        self.enqueue(&events)?;
        Ok(outcomes)
    }

    async fn reserve(&self, call: ReserveCall) -> Result<ReserveAnswer> {
        let now = now_ms();
        let subject = &call.subject;
        let request = &call.request;
        // The endings, the record and the counters are read, decided on and
        // written in this one synchronous step (the ledger's rows in one
        // write): credits are exact under concurrency.
        let (settled, (decision, tier_name, by)) = self.in_one_write(|| {
            let settled = self.apply_endings(Some(subject), &call.endings, now)?;
            let decided = match self.load_record()? {
                None => (
                    self.with_ledger(|l| l.reserve(request, now))?,
                    request.policy.tier_name.clone(),
                    None,
                ),
                Some(mut record) => {
                    let before = record.clone();
                    let admission = self.with_ledger(|l| {
                        identity::admit(l, &mut record, request, call.tier_pinned, &call.tiers, now)
                    })?;
                    if record != before {
                        self.save_record(Some(&record))?;
                    }
                    (admission.decision, admission.tier_name, admission.by)
                }
            };
            Ok((settled, decided))
        })?;
        let tier = &tier_name;
        let mut events = Vec::new();
        if decision.verdict == Verdict::Block {
            events.push(AnalyticsEvent::Usage {
                event_id: request.request_id.clone(),
                project_id: subject.project_id.clone(),
                identity: subject.identity.clone(),
                tier: tier.clone(),
                model: request.model.clone(),
                day: date_string(now),
                requests: 0,
                input_tokens: 0,
                output_tokens: 0,
                cost: 0,
                blocked: 1,
                warned: 0,
                usage_flagged: 0,
            });
        }
        let owner_block = by == Some(Override::Blocked);
        for rule in decision
            .rule
            .iter()
            .filter(|_| !owner_block)
            .chain(decision.warning.iter())
        {
            events.push(AnalyticsEvent::Trigger {
                event_id: format!("{}:{}", request.request_id, rule.id),
                project_id: subject.project_id.clone(),
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                identity: subject.identity.clone(),
                tier: tier.clone(),
                action: rule.action.as_str().to_string(),
                usage_percent: rule.usage_percent,
                at_ms: now,
            });
        }
        if let Some(funnel) = &call.funnel {
            let tier = call
                .tiers
                .get(tier)
                .filter(|_| *tier != request.policy.tier_name)
                .unwrap_or(&request.policy.tier);
            events.extend(self.funnel_step(
                funnel,
                subject,
                &request.request_id,
                &decision,
                &tier_name,
                tier,
                !owner_block,
                now,
            )?);
        }
        if decision.verdict != Verdict::Block {
            self.remember_subject(subject)?;
        }
        self.enqueue(&events)?;
        self.arm(now, !events.is_empty() || !settled.is_empty())
            .await?;
        let alerts = alerts_for(&decision, tier, owner_block, now);
        let alerts = if alerts.is_empty() || subject.project_id.ends_with(ANONYMOUS_IP_SCOPE) {
            Vec::new()
        } else {
            self.alerted.borrow_mut().first_in_window(alerts, now)
        };
        let changed_tier = (tier_name != request.policy.tier_name).then_some(tier_name);
        Ok(ReserveAnswer {
            decision,
            now_ms: now,
            tier_name: changed_tier,
            by,
            alerts,
        })
    }

    async fn settle(&self, call: SettleCall) -> Result<SettleAnswer> {
        let now = now_ms();
        let outcomes =
            self.in_one_write(|| self.apply_endings(Some(&call.subject), &call.endings, now))?;
        // Settlements sent on their own come after the answer, off the
        // request path (an error's release does not): their events are
        // handed to the relay now, instead of from an alarm a moment
        // later, which would be one more invocation of this object per
        // request for an identity that does not return within seconds.
        if call
            .endings
            .iter()
            .any(|e| matches!(e, Ending::Settle { .. }))
        {
            self.hand_off(now).await?;
        }
        let more = self.outbox_len() > 0;
        self.arm(now, more).await?;
        Ok(SettleAnswer { outcomes })
    }

    async fn read(&self, call: ReadCall) -> Result<ReadAnswer> {
        let now = now_ms();
        let settled =
            self.in_one_write(|| self.apply_endings(call.subject.as_ref(), &call.endings, now))?;
        // The caps in force: the record's tier or own limits, as admission sees them.
        let requested = shared::decision::Policy {
            tier_name: call.tier_name.clone(),
            tier: call.tier.clone(),
            rules: Vec::new(),
        };
        let record = self.load_record()?;
        let policy =
            identity::effective_policy(record.as_ref(), &requested, call.tier_pinned, &call.tiers);
        let windows = self.with_ledger(|l| l.read(&policy.tier, now))?;
        if !settled.is_empty() {
            self.arm(now, true).await?;
        }
        Ok(ReadAnswer {
            windows,
            now_ms: now,
            tier_name: (policy.tier_name != call.tier_name).then_some(policy.tier_name),
        })
    }

    async fn expire_and_flush(&self) -> Result<()> {
        let now = now_ms();
        self.alarm_at.set(None);
        let expired = self.with_ledger(|l| l.expire(now))?;
        if !expired.is_empty() {
            if let Some(subject) = self.subject() {
                let events: Vec<AnalyticsEvent> = expired
                    .into_iter()
                    .map(|e| AnalyticsEvent::Usage {
                        event_id: e.request_id,
                        project_id: subject.project_id.clone(),
                        identity: subject.identity.clone(),
                        tier: e.lease.tier,
                        model: e.lease.model,
                        day: date_string(e.lease.reserved_at),
                        requests: 1,
                        input_tokens: 0,
                        output_tokens: i64::try_from(e.lease.tokens).unwrap_or(i64::MAX),
                        cost: i64::try_from(e.lease.cost).unwrap_or(i64::MAX),
                        blocked: 0,
                        warned: i64::from(e.lease.warned),
                        usage_flagged: 0,
                    })
                    .collect();
                self.enqueue(&events)?;
            }
        }
        self.report_budget(now).await;
        self.hand_off(now).await?;
        let more = self.outbox_len() > 0;
        self.arm(now_ms(), more).await
    }

    /// Sends the outbox's oldest events on: written to Postgres when there
    /// are many, else handed to the project's relay. While backing off it
    /// does nothing (a lease expiry does not flush early); events not done
    /// with stay queued and the object backs off.
    async fn hand_off(&self, now: i64) -> Result<()> {
        if now < self.backoff.retry_at() {
            return Ok(());
        }
        let sql = self.sql();
        let batch = outbox::peek(&sql, FLUSH_BATCH)?;
        // Rows that no longer parse are dropped (never retried forever).
        outbox::remove(&sql, batch.unreadable.iter().map(String::as_str))?;
        if batch.events.is_empty() {
            return Ok(());
        }
        // A busy identity fills a Postgres session on its own; a quiet
        // one shares its relay's (one session per identity and flush is
        // what made many quiet identities cost a session per request).
        let done = if batch.events.len() >= DIRECT_WRITE_MIN {
            analytics::write_events(&self.env, &batch.events).await
        } else {
            let shard_key = self.state.id().to_string();
            relay::hand_off(&self.env, &shard_key, &batch.events)
                .await
                .map(|()| vec![true; batch.events.len()])
        };
        let done = done.unwrap_or_else(|e| {
            console_error!("analytics flush failed, retrying: {e}");
            Vec::new()
        });
        let finished = batch.events.iter().zip(&done).filter(|(_, d)| **d);
        outbox::remove(&sql, finished.map(|(e, _)| e.event_id()))?;
        if done.len() == batch.events.len() && done.iter().all(|d| *d) {
            self.backoff.succeeded();
            return Ok(());
        }
        let delay = self.backoff.failed(now);
        self.alarm_at.set(Some(now + delay));
        self.state.storage().set_alarm(delay).await
    }

    async fn route(&self, req: Request) -> Result<Response> {
        let path = req.path();
        match path.as_str() {
            ReserveCall::PATH => serve(req, |c: ReserveCall| self.reserve(c)).await,
            SettleCall::PATH => serve(req, |c: SettleCall| self.settle(c)).await,
            ClickCall::PATH => serve(req, |c: ClickCall| self.click(c)).await,
            ReadCall::PATH => serve(req, |c: ReadCall| self.read(c)).await,
            RecordCall::PATH => serve(req, |c: RecordCall| self.record_call(c)).await,
            ResetCall::PATH => {
                serve(req, |_: ResetCall| async {
                    self.carry_budget_usage(now_ms())?;
                    self.with_ledger(IdentityLedger::reset)?;
                    Ok(ResetAnswer { reset: true })
                })
                .await
            }
            FlushCall::PATH => {
                serve(req, |_: FlushCall| async {
                    self.expire_and_flush().await?;
                    Ok(FlushAnswer {
                        pending: self.outbox_len(),
                    })
                })
                .await
            }
            PingCall::PATH => {
                serve(req, |_: PingCall| async {
                    let leases = self.with_ledger(|l| l.leases.len())?;
                    Ok(PingAnswer {
                        ok: true,
                        alarm_at: self.state.storage().get_alarm().await?,
                        leases,
                    })
                })
                .await
            }
            _ => Response::error("unknown limiter call", 404),
        }
    }
}

impl DurableObject for IdentityLimiter {
    fn new(state: State, env: Env) -> Self {
        let limiter = Self {
            state,
            env,
            ledger: RefCell::new(None),
            one_write: Cell::new(false),
            alarm_at: Cell::new(None),
            backoff: outbox::Backoff::default(),
            subject_saved: RefCell::new(None),
            record: RefCell::new(None),
            budget_reported: RefCell::new(None),
            budget_retry_at: Cell::new(0),
            budget_carry: RefCell::new(None),
            exposure: RefCell::new(None),
            alerted: RefCell::new(AlertMemory::default()),
        };
        if let Err(e) = limiter.init_schema() {
            console_error!("identity limiter schema: {e}");
        }
        limiter
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.route(req).await {
            Ok(resp) => Ok(resp),
            Err(e) => {
                console_error!("identity limiter call failed: {e}");
                Response::error("limiter error", 500)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.expire_and_flush().await {
            console_error!("identity limiter alarm failed: {e}");
        }
        Response::ok("done")
    }
}
