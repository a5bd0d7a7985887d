//! `ProjectBudget`: one Durable Object per project that has budgets,
//! holding the project's budgets and the latest usage snapshot of every
//! identity (`shared::project_budget`).
//!
//! Off the request path: identity objects report to it from their alarms
//! ([`ReportCall`], at most one report per identity per `REPORT_DELAY_MS`),
//! isolates read its [`BudgetState`] every second or so ([`StateCall`]),
//! the owner API changes the budgets ([`ChangeCall`]). Each call is one
//! synchronous step over SQLite (no `.await` between read and write), so
//! reports and changes never interleave. Storage: `budgets` (one row, the
//! list), `reporters` (one row per identity, its latest snapshot; rows of
//! past months are deleted when the month rolls), `levels` (one row, the
//! highest level each budget reached in its window), `alerts` (crossings of
//! 80 % and 100 % not yet handed to the owner's alerts), `meta` (the
//! project id). The totals are not stored: they are the sum of the
//! reporters' rows, rebuilt on load.
//!
//! Alerts: a crossing is written to `alerts` in the same step that finds
//! it (so each level is raised once per window), and the object's alarm
//! hands the rows to [`deliver`]; a row is deleted only once delivered, and
//! retried every [`ALERT_RETRY_MS`] until then (at least once).
//! Failure modes: a storage error answers 500; the reporter keeps its
//! snapshot and reports again later; isolates keep their last known state
//! (docs/guarantees.md, "Failure policy").

use crate::webhooks;
use durable_objects::read_json;
use shared::limiter_api::LimiterCall;
use shared::period::{window_start, Period};
use shared::project_budget::{
    apply_op, BudgetSpec, BudgetState, ChangeCall, Crossing, Levels, ReportAnswer, ReportCall,
    Snapshot, StateCall, Totals,
};
use shared::webhooks::{budget_event, BudgetThreshold};
use std::cell::{Cell, RefCell};
use worker::*;

/// After a failed delivery, the alarm tries again this much later.
const ALERT_RETRY_MS: i64 = 30_000;

#[derive(serde::Deserialize)]
struct DataRow {
    data: String,
}

#[derive(serde::Deserialize)]
struct KeyedRow {
    name: String,
    data: String,
}

struct Loaded {
    specs: Vec<BudgetSpec>,
    totals: Totals,
    levels: Levels,
    /// The month whose reporters were last pruned.
    pruned_month: i64,
}

#[durable_object]
pub struct ProjectBudget {
    state: State,
    env: Env,
    loaded: RefCell<Option<Loaded>>,
    /// An alarm is set (for alerts).
    armed: Cell<bool>,
    /// The project id as stored (empty until known).
    project_id: RefCell<String>,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::RustError(format!("{what}: {e}"))
}

impl ProjectBudget {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn init_schema(&self) -> Result<()> {
        self.sql().exec(
            "CREATE TABLE IF NOT EXISTS budgets (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS levels (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY, data TEXT NOT NULL); \
             CREATE TABLE IF NOT EXISTS reporters (name TEXT PRIMARY KEY, month INTEGER NOT NULL, \
               data TEXT NOT NULL) WITHOUT ROWID; \
             CREATE TABLE IF NOT EXISTS alerts (name TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID",
            None,
        )?;
        Ok(())
    }

    fn one<T: serde::de::DeserializeOwned + Default>(&self, table: &str) -> Result<T> {
        let rows: Vec<DataRow> = self
            .sql()
            .exec(&format!("SELECT data FROM {table} WHERE id = 1"), None)?
            .to_array()?;
        match rows.first() {
            Some(r) => serde_json::from_str(&r.data).map_err(|e| corrupt(table, e)),
            None => Ok(T::default()),
        }
    }

    fn save_one<T: serde::Serialize>(&self, table: &str, value: &T) -> Result<()> {
        let data = serde_json::to_string(value)?;
        self.sql().exec(
            &format!(
                "INSERT INTO {table} (id, data) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data"
            ),
            vec![data.into()],
        )?;
        Ok(())
    }

    /// Remembers the project id (calls carry it; the object's id is a hash).
    fn remember_project(&self, project_id: &str) -> Result<()> {
        if project_id.is_empty() || *self.project_id.borrow() == project_id {
            return Ok(());
        }
        if self.one::<String>("meta")? != project_id {
            self.save_one("meta", &project_id)?;
        }
        *self.project_id.borrow_mut() = project_id.to_string();
        Ok(())
    }

    /// Runs `f` on the loaded state (loading it first): synchronous.
    fn with<R>(&self, now: i64, f: impl FnOnce(&mut Loaded) -> Result<R>) -> Result<R> {
        let mut cell = self.loaded.borrow_mut();
        if cell.is_none() {
            let specs: Vec<BudgetSpec> = self.one("budgets")?;
            let levels: Levels = self.one("levels")?;
            let rows: Vec<KeyedRow> = self
                .sql()
                .exec("SELECT name, data FROM reporters", None)?
                .to_array()?;
            let mut totals = Totals::default();
            for row in rows {
                match serde_json::from_str::<Snapshot>(&row.data) {
                    Ok(s) => {
                        totals.apply(&row.name, s, now);
                    }
                    Err(e) => console_error!("budget reporter row {}: {e}", row.name),
                }
            }
            *cell = Some(Loaded {
                specs,
                totals,
                levels,
                pruned_month: 0,
            });
        }
        let loaded = cell
            .as_mut()
            .ok_or_else(|| Error::RustError("budget state not loaded".into()))?;
        let month = window_start(Period::Month, now);
        if loaded.pruned_month != month {
            loaded.totals.prune(now);
            self.sql()
                .exec("DELETE FROM reporters WHERE month < ?", vec![month.into()])?;
            loaded.pruned_month = month;
        }
        let out = f(loaded);
        if out.is_err() {
            // Storage may hold part of the change: reload on next use.
            *cell = None;
        }
        out
    }

    /// The state after a change; the levels it reaches first are queued
    /// as alerts in the same step. Answers whether an alert was queued.
    fn publish(&self, loaded: &mut Loaded, now: i64) -> Result<(BudgetState, bool)> {
        let state = BudgetState::evaluate(&loaded.specs, &loaded.totals, now);
        let crossings = loaded.levels.crossings(&state);
        if !crossings.is_empty() {
            self.save_one("levels", &loaded.levels)?;
            for c in &crossings {
                self.sql().exec(
                    "INSERT INTO alerts (name, data) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    vec![c.key().into(), serde_json::to_string(c)?.into()],
                )?;
            }
        }
        Ok((state, !crossings.is_empty()))
    }

    /// Makes sure the alarm hands queued alerts over soon.
    async fn arm(&self, queued: bool) -> Result<()> {
        if queued && !self.armed.get() {
            self.armed.set(true);
            self.state.storage().set_alarm(0).await?;
        }
        Ok(())
    }

    async fn report(&self, c: ReportCall) -> Result<ReportAnswer> {
        let now = now_ms();
        self.remember_project(&c.project_id)?;
        let (applied, queued) = self.with(now, |l| {
            if !l.totals.apply(&c.reporter, c.snapshot, now) {
                return Ok((false, false));
            }
            let month = c.snapshot.periods[Period::Month.index()].start;
            self.sql().exec(
                "INSERT INTO reporters (name, month, data) VALUES (?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET month = excluded.month, data = excluded.data",
                vec![
                    c.reporter.as_str().into(),
                    month.into(),
                    serde_json::to_string(&c.snapshot)?.into(),
                ],
            )?;
            Ok((true, self.publish(l, now)?.1))
        })?;
        self.arm(queued).await?;
        Ok(ReportAnswer { applied })
    }

    async fn change(&self, c: ChangeCall) -> Result<BudgetState> {
        let now = now_ms();
        self.remember_project(&c.project_id)?;
        let (state, queued) = self.with(now, |l| {
            apply_op(&mut l.specs, &c.op);
            self.save_one("budgets", &l.specs)?;
            self.publish(l, now)
        })?;
        self.arm(queued).await?;
        Ok(state)
    }

    fn read(&self) -> Result<BudgetState> {
        let now = now_ms();
        self.with(now, |l| Ok(BudgetState::evaluate(&l.specs, &l.totals, now)))
    }

    /// Hands every queued alert over; re-arms for those that failed.
    async fn deliver_alerts(&self) -> Result<()> {
        self.armed.set(false);
        let project_id: String = self.one("meta")?;
        let rows: Vec<KeyedRow> = self
            .sql()
            .exec("SELECT name, data FROM alerts", None)?
            .to_array()?;
        let mut alerts = Vec::new();
        for row in rows {
            match serde_json::from_str::<Crossing>(&row.data) {
                Ok(c) => alerts.push((row.name, c)),
                Err(e) => {
                    console_error!("budget alert row {}: {e}", row.name);
                    self.sql()
                        .exec("DELETE FROM alerts WHERE name = ?", vec![row.name.into()])?;
                }
            }
        }
        // 80 % before 100 % of the same window.
        alerts.sort_by_key(|(_, c)| (c.budget.window_start_ms, c.level));
        let mut failed = false;
        for (name, crossing) in alerts {
            match deliver(&self.env, &project_id, &crossing).await {
                Ok(()) => {
                    self.sql()
                        .exec("DELETE FROM alerts WHERE name = ?", vec![name.into()])?;
                }
                Err(e) => {
                    console_error!("budget alert {name} not delivered, retrying: {e}");
                    failed = true;
                }
            }
        }
        if failed {
            self.armed.set(true);
            self.state.storage().set_alarm(ALERT_RETRY_MS).await?;
        }
        Ok(())
    }

    async fn route(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            ReportCall::PATH => {
                Response::from_json(&self.report(read_json(&mut req).await?).await?)
            }
            ChangeCall::PATH => {
                Response::from_json(&self.change(read_json(&mut req).await?).await?)
            }
            StateCall::PATH => {
                let _: StateCall = read_json(&mut req).await?;
                Response::from_json(&self.read()?)
            }
            _ => Response::error("unknown budget call", 404),
        }
    }
}

/// Hands a crossing of 80 % or 100 % to the owner's webhooks: the
/// `budget.threshold` event is written to the outbox (its id is derived from
/// budget, level and window, so a crossing handed over twice is delivered
/// once); an error leaves the alert queued for the next alarm.
async fn deliver(env: &Env, project_id: &str, c: &Crossing) -> std::result::Result<(), String> {
    let b = &c.budget;
    console_log!(
        "project {project_id}: budget {} reached {}% ({} of {})",
        b.spec.id(),
        c.level,
        b.used,
        b.spec.limit
    );
    let threshold = BudgetThreshold {
        budget_id: Some(b.spec.id()),
        metric: b.spec.metric.as_str().to_string(),
        period: b.spec.period,
        threshold_percent: c.level,
        limit: b.spec.limit,
        used: b.used,
        window_reset_at_ms: b.reset_at_ms,
        at_ms: c.at_ms,
    };
    webhooks::enqueue(
        env,
        project_id,
        None,
        &[budget_event(project_id, &threshold)],
    )
    .await
    .map(|_| ())
}

impl DurableObject for ProjectBudget {
    fn new(state: State, env: Env) -> Self {
        let object = Self {
            state,
            env,
            loaded: RefCell::new(None),
            armed: Cell::new(false),
            project_id: RefCell::new(String::new()),
        };
        if let Err(e) = object.init_schema() {
            console_error!("project budget schema: {e}");
        }
        object
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.route(req).await {
            Ok(resp) => Ok(resp),
            Err(e) => {
                console_error!("project budget call failed: {e}");
                Response::error("budget error", 500)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.deliver_alerts().await {
            console_error!("project budget alarm failed: {e}");
        }
        Response::ok("done")
    }
}
