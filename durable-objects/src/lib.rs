//! `IdentityLimiter`: one Durable Object per project × identity, holding
//! that identity's [`shared::ledger::IdentityLedger`].
//!
//! Every call reads the ledger, decides and writes it back with no `.await`
//! in between (SQLite storage calls are synchronous), so admission is atomic
//! per identity: concurrent requests are serialised by the object. The
//! ledger is cached in memory and written through on every change, so it
//! survives eviction and restarts. Analytics events go to an `outbox` table
//! in the same synchronous step and are flushed to Postgres by the alarm;
//! the same alarm settles expired leases (a Worker that died mid-request).
//! Failure modes: a storage error answers 500 to the Worker, which answers
//! 503 `limiter_unavailable` without forwarding; a Postgres error leaves the
//! outbox in place and the alarm retries.

pub mod analytics;
pub mod pg;

use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::decision::Verdict;
use shared::ledger::{IdentityLedger, SettleOutcome};
use shared::limiter_api::{
    AnalyticsEvent, ReadAnswer, ReadCall, ReleaseCall, ReserveAnswer, ReserveCall, SettleAnswer,
    SettleCall, Subject,
};
use shared::period::date_string;
use std::cell::{Cell, RefCell};
use worker::*;

/// How soon after an event the outbox is flushed (analytics visible within 10 s).
const FLUSH_DELAY_MS: i64 = 1_500;
/// Retry delay after a failed flush.
const FLUSH_RETRY_MS: i64 = 5_000;
/// Events written to Postgres per flush.
const FLUSH_BATCH: i64 = 200;

#[durable_object]
pub struct IdentityLimiter {
    state: State,
    env: Env,
    ledger: RefCell<Option<IdentityLedger>>,
    alarm_at: Cell<Option<i64>>,
    /// The subject last written to storage (skips rewriting it per request).
    subject_saved: RefCell<Option<Subject>>,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn json_answer<T: Serialize>(value: &T) -> Result<Response> {
    Response::from_json(value)
}

async fn parse<T: DeserializeOwned>(req: &mut Request) -> Result<T> {
    req.json::<T>().await
}

#[derive(serde::Deserialize)]
struct LedgerRow {
    data: String,
}

#[derive(serde::Deserialize)]
struct OutboxRow {
    event_id: String,
    payload: String,
}

impl IdentityLimiter {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn init_schema(&self) -> Result<()> {
        let sql = self.sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
            None,
        )?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS outbox (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL)",
            None,
        )?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS subject (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
            None,
        )?;
        Ok(())
    }

    /// Runs `f` on the ledger and persists it — synchronously, atomically.
    fn with_ledger<R>(&self, f: impl FnOnce(&mut IdentityLedger) -> R) -> Result<R> {
        let mut cache = self.ledger.borrow_mut();
        if cache.is_none() {
            let rows: Vec<LedgerRow> = self
                .sql()
                .exec("SELECT data FROM ledger WHERE id = 1", None)?
                .to_array()?;
            let ledger = match rows.first() {
                Some(row) => serde_json::from_str(&row.data)
                    .map_err(|e| Error::RustError(format!("ledger corrupt: {e}")))?,
                None => IdentityLedger::default(),
            };
            *cache = Some(ledger);
        }
        let ledger = cache.get_or_insert_with(IdentityLedger::default);
        let before = ledger.clone();
        let out = f(ledger);
        if *ledger != before {
            let data = serde_json::to_string(ledger)
                .map_err(|e| Error::RustError(format!("ledger encode: {e}")))?;
            if let Err(e) = self.sql().exec(
                "INSERT INTO ledger (id, data) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                vec![data.into()],
            ) {
                *cache = Some(before);
                return Err(e);
            }
        }
        Ok(out)
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
        let rows: Vec<LedgerRow> = self
            .sql()
            .exec("SELECT data FROM subject WHERE id = 1", None)
            .and_then(|c| c.to_array())
            .ok()?;
        rows.first()
            .and_then(|r| serde_json::from_str(&r.data).ok())
    }

    fn enqueue(&self, events: &[AnalyticsEvent]) -> Result<()> {
        for event in events {
            let payload = serde_json::to_string(event)?;
            self.sql().exec(
                "INSERT INTO outbox (event_id, payload) VALUES (?, ?) ON CONFLICT DO NOTHING",
                vec![event.event_id().into(), payload.into()],
            )?;
        }
        Ok(())
    }

    fn outbox_len(&self) -> i64 {
        #[derive(serde::Deserialize)]
        struct Count {
            n: i64,
        }
        self.sql()
            .exec("SELECT count(*) AS n FROM outbox", None)
            .and_then(|c| c.one::<Count>())
            .map(|c| c.n)
            .unwrap_or(0)
    }

    /// Makes sure an alarm fires by the next lease expiry or outbox flush.
    async fn arm(&self, now: i64) -> Result<()> {
        let expiry = self
            .ledger
            .borrow()
            .as_ref()
            .and_then(IdentityLedger::next_expiry);
        let flush = (self.outbox_len() > 0).then_some(now + FLUSH_DELAY_MS);
        let wanted = match (expiry, flush) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(at) = wanted {
            if self.alarm_at.get().is_none_or(|current| at < current) {
                self.alarm_at.set(Some(at));
                self.state.storage().set_alarm((at - now).max(0)).await?;
            }
        }
        Ok(())
    }

    async fn reserve(&self, call: ReserveCall) -> Result<Response> {
        let now = now_ms();
        let request = &call.request;
        let mut decision = self.with_ledger(|l| l.reserve(request, now))?;
        // The rule trace is for the simulator; the live path does not need it back.
        decision.trace.clear();
        let subject = &call.subject;
        let tier = &request.policy.tier_name;
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
                blocked: 1,
                warned: 0,
            });
        }
        for rule in decision.rule.iter().chain(decision.warning.iter()) {
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
        if decision.verdict != Verdict::Block {
            self.remember_subject(subject)?;
        }
        self.enqueue(&events)?;
        self.arm(now).await?;
        json_answer(&ReserveAnswer {
            decision,
            now_ms: now,
        })
    }

    async fn settle(&self, call: SettleCall) -> Result<Response> {
        let now = now_ms();
        let real = call.input_tokens.saturating_add(call.output_tokens);
        let (outcome, lease, expired) = self.with_ledger(|l| {
            let lease = l.lease(&call.request_id).cloned();
            let expired = l.expired_entry(&call.request_id).cloned();
            (l.settle(&call.request_id, real, now), lease, expired)
        })?;
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let subject = &call.subject;
        let event = match (outcome, lease) {
            (SettleOutcome::Settled, Some(lease)) => Some(AnalyticsEvent::Usage {
                event_id: call.request_id.clone(),
                project_id: subject.project_id.clone(),
                identity: subject.identity.clone(),
                tier: lease.tier,
                model: lease.model,
                day: date_string(lease.reserved_at),
                requests: 1,
                input_tokens: to_i64(call.input_tokens),
                output_tokens: to_i64(call.output_tokens),
                blocked: 0,
                warned: i64::from(lease.warned),
            }),
            (SettleOutcome::Corrected, _) => expired.map(|entry| {
                // The expiry counted `counted` tokens as output; move to the real split.
                let counted = to_i64(entry.counted);
                AnalyticsEvent::Usage {
                    event_id: format!("{}:correction", call.request_id),
                    project_id: subject.project_id.clone(),
                    identity: subject.identity.clone(),
                    tier: entry.tier,
                    model: entry.model,
                    day: date_string(entry.reserved_at),
                    requests: 0,
                    input_tokens: to_i64(call.input_tokens),
                    output_tokens: to_i64(call.output_tokens) - counted,
                    blocked: 0,
                    warned: 0,
                }
            }),
            _ => None,
        };
        if let Some(event) = event {
            self.enqueue(&[event])?;
        }
        self.arm(now).await?;
        json_answer(&SettleAnswer { outcome })
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
                        blocked: 0,
                        warned: i64::from(e.lease.warned),
                    })
                    .collect();
                self.enqueue(&events)?;
            }
        }
        let rows: Vec<OutboxRow> = self
            .sql()
            .exec(
                "SELECT event_id, payload FROM outbox ORDER BY rowid LIMIT ?",
                vec![FLUSH_BATCH.into()],
            )?
            .to_array()?;
        if !rows.is_empty() {
            let events: Vec<AnalyticsEvent> = rows
                .iter()
                .filter_map(|r| serde_json::from_str(&r.payload).ok())
                .collect();
            match analytics::write_events(&self.env, &events).await {
                Ok(done) => {
                    for (event, _) in events.iter().zip(&done).filter(|(_, d)| **d) {
                        self.sql().exec(
                            "DELETE FROM outbox WHERE event_id = ?",
                            vec![event.event_id().into()],
                        )?;
                    }
                    // Rows that no longer parse are dropped too (never retried forever).
                    for row in rows
                        .iter()
                        .filter(|r| serde_json::from_str::<AnalyticsEvent>(&r.payload).is_err())
                    {
                        self.sql().exec(
                            "DELETE FROM outbox WHERE event_id = ?",
                            vec![row.event_id.clone().into()],
                        )?;
                    }
                    if done.iter().any(|d| !d) {
                        self.alarm_at.set(Some(now + FLUSH_RETRY_MS));
                        self.state.storage().set_alarm(FLUSH_RETRY_MS).await?;
                        return Ok(());
                    }
                }
                Err(e) => {
                    console_error!("analytics flush failed, retrying: {e}");
                    self.alarm_at.set(Some(now + FLUSH_RETRY_MS));
                    self.state.storage().set_alarm(FLUSH_RETRY_MS).await?;
                    return Ok(());
                }
            }
        }
        self.arm(now_ms()).await
    }

    async fn route(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/reserve") => {
                let call: ReserveCall = parse(&mut req).await?;
                self.reserve(call).await
            }
            (Method::Post, "/settle") => {
                let call: SettleCall = parse(&mut req).await?;
                self.settle(call).await
            }
            (Method::Post, "/release") => {
                let call: ReleaseCall = parse(&mut req).await?;
                let released = self.with_ledger(|l| l.release(&call.request_id))?;
                json_answer(&serde_json::json!({ "released": released }))
            }
            (Method::Post, "/read") => {
                let call: ReadCall = parse(&mut req).await?;
                let now = now_ms();
                let windows = self.with_ledger(|l| l.read(&call.tier, now))?;
                json_answer(&ReadAnswer {
                    windows,
                    now_ms: now,
                })
            }
            (Method::Post, "/reset") => {
                self.with_ledger(IdentityLedger::reset)?;
                json_answer(&serde_json::json!({ "reset": true }))
            }
            (Method::Post, "/flush") => {
                self.expire_and_flush().await?;
                json_answer(&serde_json::json!({ "pending": self.outbox_len() }))
            }
            (Method::Get, "/ping") => {
                self.with_ledger(|_| ())?;
                json_answer(&serde_json::json!({ "ok": true }))
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
            alarm_at: Cell::new(None),
            subject_saved: RefCell::new(None),
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
