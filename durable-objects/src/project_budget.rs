//! Calls to a project's `ProjectBudget` object (the class lives in the
//! Worker crate, `worker/src/budget_object.rs`): its binding, its stub, and
//! one typed call. Used by identity objects (their reports) and by the
//! Worker (state reads, owner changes).

use shared::limiter_api::LimiterCall;
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
