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
//! list), `reporters` (one row per identity, its latest snapshot; rows
//! of past months are deleted when the month rolls), `levels` (one row, the
//! highest level each budget reached in its window, so that the 80 % and
//! 100 % crossings are announced once per window). The totals are not
//! stored: they are the sum of the reporters' rows, rebuilt on load.
//! Failure modes: a storage error answers 500; the reporter keeps its
//! snapshot and reports again on its next alarm; isolates keep their last
//! known state (docs/guarantees.md, "Failure policy").

use shared::limiter_api::LimiterCall;
use shared::period::{window_start, Period};
use shared::project_budget::{
    apply_op, BudgetSpec, BudgetState, ChangeCall, Crossing, Levels, ReportAnswer, ReportCall,
    Snapshot, StateCall, Totals,
};
use std::cell::RefCell;
use worker::*;

pub const BINDING: &str = "PROJECT_BUDGET";

/// Sends one typed call to an object and decodes exactly its answer type.
pub async fn call<C: LimiterCall>(stub: &Stub, call: &C) -> Result<C::Answer> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(call)?.into()));
    let req = Request::new_with_init(&format!("https://budget{}", C::PATH), &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(Error::RustError(format!(
            "{} answered {}",
            C::PATH,
            resp.status_code()
        )));
    }
    resp.json::<C::Answer>().await
}

/// The stub of a project's budget object.
pub fn stub(env: &Env, project_id: &str) -> Result<Stub> {
    env.durable_object(BINDING)?
        .id_from_name(&shared::project_budget::budget_object_name(project_id))?
        .get_stub()
}

#[derive(serde::Deserialize)]
struct DataRow {
    data: String,
}

#[derive(serde::Deserialize)]
struct ReporterRow {
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
    loaded: RefCell<Option<Loaded>>,
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
             CREATE TABLE IF NOT EXISTS reporters (name TEXT PRIMARY KEY, month INTEGER NOT NULL, \
               data TEXT NOT NULL) WITHOUT ROWID",
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

    /// Runs `f` on the loaded state (loading it first): synchronous.
    fn with<R>(&self, now: i64, f: impl FnOnce(&mut Loaded) -> Result<R>) -> Result<R> {
        let mut cell = self.loaded.borrow_mut();
        if cell.is_none() {
            let specs: Vec<BudgetSpec> = self.one("budgets")?;
            let levels: Levels = self.one("levels")?;
            let rows: Vec<ReporterRow> = self
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

    /// The state after a change, announcing the levels it reaches first.
    fn publish(&self, loaded: &mut Loaded, now: i64) -> Result<BudgetState> {
        let state = BudgetState::evaluate(&loaded.specs, &loaded.totals, now);
        let crossings = loaded.levels.crossings(&state);
        if !crossings.is_empty() {
            self.save_one("levels", &loaded.levels)?;
            for c in &crossings {
                announce(c);
            }
        }
        Ok(state)
    }

    fn report(&self, c: ReportCall) -> Result<ReportAnswer> {
        let now = now_ms();
        self.with(now, |l| {
            let applied = l.totals.apply(&c.reporter, c.snapshot, now);
            if applied {
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
                self.publish(l, now)?;
            }
            Ok(ReportAnswer { applied })
        })
    }

    fn change(&self, c: ChangeCall) -> Result<BudgetState> {
        let now = now_ms();
        self.with(now, |l| {
            apply_op(&mut l.specs, &c.op);
            self.save_one("budgets", &l.specs)?;
            self.publish(l, now)
        })
    }

    fn read(&self) -> Result<BudgetState> {
        let now = now_ms();
        self.with(now, |l| Ok(BudgetState::evaluate(&l.specs, &l.totals, now)))
    }

    async fn route(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            ReportCall::PATH => Response::from_json(&self.report(req.json().await?)?),
            ChangeCall::PATH => Response::from_json(&self.change(req.json().await?)?),
            StateCall::PATH => {
                let _: StateCall = req.json().await?;
                Response::from_json(&self.read()?)
            }
            _ => Response::error("unknown budget call", 404),
        }
    }
}

/// A budget reached 80 % or 100 % of its window for the first time: the
/// owner's alert (logged; delivered to the owner's backend where alerts
/// are configured).
fn announce(c: &Crossing) {
    let b = &c.budget;
    console_log!(
        "project budget {} reached {}%: {} of {}",
        b.spec.id(),
        c.level,
        b.used,
        b.spec.limit
    );
}

impl DurableObject for ProjectBudget {
    fn new(state: State, _env: Env) -> Self {
        let object = Self {
            state,
            loaded: RefCell::new(None),
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
}
