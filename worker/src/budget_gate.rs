//! The proxy's check of the project's budgets, from an in-isolate cache of
//! the project's `ProjectBudget` state (docs/API.md, "Project budgets").
//!
//! A project with budgets costs no extra round trip on the hot path: the
//! state is served from memory while it is younger than [`FRESH_MS`]
//! ([`NEAR_FRESH_MS`] once a budget is at 80 %), and when it is older but
//! younger than [`MAX_STALE_MS`] it still answers while one refresh runs in
//! `waitUntil`. Only an isolate that has no state, or one older than
//! [`MAX_STALE_MS`] (it was idle), waits for the object once. While a
//! budget is closed, requests are refused with `429
//! project_budget_exceeded` before anything is reserved or forwarded.
//!
//! Failure policy: when the object cannot be read, the last known state
//! keeps answering (whatever its age), and a project never read is open —
//! the identity's own caps still apply (docs/guarantees.md).

use crate::http::ApiResult;
use shared::error::BudgetExceeded;
use shared::period::{iso8601, seconds_until};
use shared::project_budget::{BudgetSpec, BudgetState, BudgetStatus, StateCall};
use shared::tier::Metric;
use shared::ApiError;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{console_error, Context, Env};

/// A state this young is used as it is.
pub const FRESH_MS: i64 = 1_000;
/// Once a budget is at 80 % or more, states are refreshed this often.
pub const NEAR_FRESH_MS: i64 = 200;
/// A state older than this (an idle isolate) is read again before use.
pub const MAX_STALE_MS: i64 = 10_000;
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct Entry {
    state: BudgetState,
    fetched_at: i64,
    refreshing: bool,
}

impl Entry {
    fn fresh_for(&self) -> i64 {
        if self.state.near() {
            NEAR_FRESH_MS
        } else {
            FRESH_MS
        }
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

/// Keeps `state` as the project's latest (also after an owner's change
/// made through this isolate).
pub fn remember(project_id: &str, state: BudgetState, now: i64) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.insert(
            project_id.to_string(),
            Entry {
                state,
                fetched_at: now,
                refreshing: false,
            },
        );
    });
}

fn mark_refreshing(project_id: &str, yes: bool) {
    CACHE.with(|c| {
        if let Some(e) = c.borrow_mut().get_mut(project_id) {
            e.refreshing = yes;
        }
    });
}

/// Reads the project's state from its object.
pub async fn read_state(env: &Env, project_id: &str) -> worker::Result<BudgetState> {
    let stub = durable_objects::project_budget::stub(env, project_id)?;
    durable_objects::project_budget::call(&stub, &StateCall {}).await
}

async fn refresh(env: &Env, project_id: &str) -> Option<BudgetState> {
    let answer = read_state(env, project_id).await;
    let now = worker::Date::now().as_millis() as i64;
    match answer {
        Ok(state) => {
            remember(project_id, state.clone(), now);
            Some(state)
        }
        Err(e) => {
            console_error!("project budget state of {project_id}: {e}");
            mark_refreshing(project_id, false);
            None
        }
    }
}

/// Refuses the request when one of the project's budgets is closed.
pub async fn check(
    env: &Env,
    ctx: &Context,
    project_id: &str,
    budgets: &[BudgetSpec],
    now: i64,
) -> ApiResult<()> {
    if budgets.is_empty() {
        return Ok(());
    }
    let entry = CACHE.with(|c| c.borrow().get(project_id).cloned());
    let state = match entry {
        Some(e) if now - e.fetched_at < MAX_STALE_MS => {
            if now - e.fetched_at >= e.fresh_for() && !e.refreshing {
                mark_refreshing(project_id, true);
                let (env, id) = (env.clone(), project_id.to_string());
                ctx.wait_until(async move {
                    refresh(&env, &id).await;
                });
            }
            e.state
        }
        stale => match refresh(env, project_id).await {
            Some(state) => state,
            None => match stale {
                Some(e) => e.state,
                None => return Ok(()),
            },
        },
    };
    match state.closed_by(now) {
        Some(b) => Err(exceeded(b, now)),
        None => Ok(()),
    }
}

/// The 429 for a closed budget.
pub fn exceeded(b: &BudgetStatus, now: i64) -> ApiError {
    let retry_after = seconds_until(b.reset_at_ms, now);
    let amount = match b.spec.metric {
        Metric::Cost => format!("${}", shared::pricing::usd(b.spec.limit)),
        m => format!("{} {}", b.spec.limit, m.as_str()),
    };
    ApiError::project_budget_exceeded(
        format!(
            "This app has used its {} budget of {amount}; requests resume at {}",
            b.spec.period.as_str(),
            iso8601(b.reset_at_ms)
        ),
        BudgetExceeded {
            budget: b.spec.id(),
            limit_type: b.spec.metric.as_str(),
            period: b.spec.period.as_str(),
            limit: b.spec.limit,
            usage: b.used,
            reset_at: iso8601(b.reset_at_ms),
            retry_after,
        },
    )
}
