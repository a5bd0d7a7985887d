//! Owner API for project budgets (docs/API.md, "Project budgets"): list
//! them with the project's current usage, set one, remove one.
//!
//! The list in force lives in the project's `ProjectBudget` object, which
//! a change reaches first; the copy in Postgres (`store::budgets`, read by
//! the proxy's project cache) is written after it. If that copy fails the
//! answer is a 503 and the caller retries (the change is idempotent); the
//! proxy of another isolate sees a change within the project cache's 30 s.
//! The object unreachable is `503 limiter_unavailable`, nothing changed.

use crate::auth::Owner;
use crate::budget_gate;
use crate::http::{empty_response, json_response, read_json_body, ApiResult};
use crate::project_cache;
use crate::projects;
use crate::store::{self, Client, OrStore};
use serde_json::{json, Value};
use shared::limiter_api::LimiterCall;
use shared::period::iso8601;
use shared::project_budget::{
    parse_budget, parse_budget_id, BudgetOp, BudgetState, BudgetStatus, ChangeCall, StateCall,
};
use shared::ApiError;
use worker::{console_error, Date, Env, Request, Response};

const BODY_CAP: usize = 16 * 1024;

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

async fn send<C: LimiterCall>(env: &Env, project_id: &str, call: &C) -> ApiResult<C::Answer> {
    let answer = match durable_objects::project_budget::stub(env, project_id) {
        Ok(stub) => durable_objects::project_budget::call(&stub, call).await,
        Err(e) => Err(e),
    };
    answer.map_err(|e| {
        console_error!("project budget {}: {e}", C::PATH);
        ApiError::limiter_unavailable()
    })
}

fn budget_json(b: &BudgetStatus) -> Value {
    let state = match b.level {
        0 => "open",
        l if l < 100 => "warning",
        _ => "closed",
    };
    let percent = (u128::from(b.used) * 100 / u128::from(b.spec.limit.max(1))) as u64;
    json!({
        "id": b.spec.id(),
        "metric": b.spec.metric.as_str(),
        "period": b.spec.period.as_str(),
        "limit": b.spec.limit,
        "used": b.used,
        "remaining": b.spec.limit.saturating_sub(b.used),
        "percent": percent,
        "state": state,
        "resetAt": iso8601(b.reset_at_ms),
    })
}

fn state_json(state: &BudgetState) -> Value {
    json!({
        "budgets": state.budgets.iter().map(budget_json).collect::<Vec<_>>(),
        "closed": state.closed_by(state.now_ms).is_some(),
        "asOf": iso8601(state.now_ms),
    })
}

/// `GET /api/projects/{id}/budgets`
pub async fn list(env: &Env, client: &Client, owner: &Owner, id: &str) -> ApiResult<Response> {
    let project = projects::load_owned(client, owner, id).await?;
    let state = send(env, &project.id, &StateCall {}).await?;
    json_response(200, &state_json(&state))
}

/// Applies a change in the object, then copies the list to Postgres.
async fn change(
    env: &Env,
    client: &Client,
    project_id: &str,
    op: BudgetOp,
) -> ApiResult<BudgetState> {
    let call = ChangeCall {
        project_id: project_id.to_string(),
        op,
    };
    let state = send(env, project_id, &call).await?;
    let specs: Vec<_> = state.budgets.iter().map(|b| b.spec).collect();
    store::budgets::replace(client, project_id, &specs)
        .await
        .or_store("write budgets")?;
    project_cache::expire_project(project_id);
    budget_gate::remember(project_id, state.clone(), now_ms());
    Ok(state)
}

/// `POST /api/projects/{id}/budgets`: sets (or replaces) the budget of a
/// metric × period.
pub async fn set(
    mut req: Request,
    env: &Env,
    client: &Client,
    owner: &Owner,
    id: &str,
) -> ApiResult<Response> {
    let project = projects::load_owned(client, owner, id).await?;
    let (_, body) = read_json_body(&mut req, BODY_CAP).await?;
    let budget = parse_budget(&body)?;
    let state = change(env, client, &project.id, BudgetOp::Set { budget }).await?;
    json_response(200, &state_json(&state))
}

/// `DELETE /api/projects/{id}/budgets/{budgetId}`
pub async fn delete(
    env: &Env,
    client: &Client,
    owner: &Owner,
    id: &str,
    budget_id: &str,
) -> ApiResult<Response> {
    let project = projects::load_owned(client, owner, id).await?;
    let not_found = || ApiError::not_found("Budget");
    parse_budget_id(budget_id).ok_or_else(not_found)?;
    let before = send(env, &project.id, &StateCall {}).await?;
    if !before.budgets.iter().any(|b| b.spec.id() == budget_id) {
        return Err(not_found());
    }
    let op = BudgetOp::Remove {
        id: budget_id.to_string(),
    };
    change(env, client, &project.id, op).await?;
    empty_response(204)
}
