//! Calls to an identity's `IdentityLimiter` Durable Object.
//!
//! The object's name comes from [`shared::ledger::limiter_name`] over the
//! project id and the identity, so tenants can never share a counter. Any
//! failure to reach the object or to read its answer is
//! `503 limiter_unavailable`; callers on the proxy path forward nothing then.

use crate::http::ApiResult;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::ledger::limiter_name;
use shared::ApiError;
use worker::{console_error, Env, Headers, Method, Request, RequestInit, Stub};

pub const BINDING: &str = "IDENTITY_LIMITER";

pub fn stub(env: &Env, project_id: &str, identity: &str) -> ApiResult<Stub> {
    let fail = |e: worker::Error| {
        console_error!("limiter stub: {e}");
        ApiError::limiter_unavailable()
    };
    let ns = env.durable_object(BINDING).map_err(fail)?;
    let id = ns
        .id_from_name(&limiter_name(project_id, identity))
        .map_err(fail)?;
    id.get_stub().map_err(fail)
}

/// POSTs `body` to the object's `path` and decodes its JSON answer.
pub async fn call<B: Serialize, R: DeserializeOwned>(
    stub: &Stub,
    path: &str,
    body: &B,
) -> ApiResult<R> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        console_error!("limiter {path} {what}: {e}");
        ApiError::limiter_unavailable()
    };
    let text = serde_json::to_string(body).map_err(|e| fail("encode", &e))?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(|e| fail("header", &e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(text.into()));
    let req = Request::new_with_init(&format!("https://limiter{path}"), &init)
        .map_err(|e| fail("request", &e))?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| fail("fetch", &e))?;
    if resp.status_code() != 200 {
        return Err(fail("status", &resp.status_code()));
    }
    resp.json::<R>().await.map_err(|e| fail("decode", &e))
}

/// GET `/ping` on a dedicated health object: proves the namespace works.
pub async fn ping(env: &Env) -> ApiResult<()> {
    let stub = stub(env, "__health", "__health")?;
    let mut resp = stub
        .fetch_with_str("https://limiter/ping")
        .await
        .map_err(|e| {
            console_error!("limiter ping: {e}");
            ApiError::limiter_unavailable()
        })?;
    let ok = resp.status_code() == 200 && resp.text().await.is_ok();
    if ok {
        Ok(())
    } else {
        Err(ApiError::limiter_unavailable())
    }
}
