//! `GET /healthz`: proves Postgres (through Hyperdrive) and the Durable
//! Object namespace really answer; 503 names the part that failed.
//!
//! Both checks run at once, each under [`CHECK_DEADLINE_MS`], so the answer
//! comes within that deadline even when the database hangs (accepts
//! connections and never answers).

use crate::{limiter, store};
use futures_util::future::join;
use serde_json::json;
use worker::{Env, Response};

/// Each dependency check's deadline.
pub const CHECK_DEADLINE_MS: u64 = 2_000;

pub async fn healthz(env: &Env) -> worker::Result<Response> {
    let (db, limiter) = join(
        store::ping(env, CHECK_DEADLINE_MS),
        store::within("limiter ping", CHECK_DEADLINE_MS, async {
            limiter::ping(env)
                .await
                .map_err(|e| store::StoreError::Unreachable(e.to_string()))
        }),
    )
    .await;
    let db_ok = db.is_ok();
    let limiter_ok = limiter.is_ok();
    let ok = db_ok && limiter_ok;
    let mut body = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "db": if db_ok { "ok" } else { "error" },
        "limiter": if limiter_ok { "ok" } else { "error" },
    });
    if !ok {
        let failing: Vec<&str> = [("db", db_ok), ("limiter", limiter_ok)]
            .iter()
            .filter(|(_, up)| !up)
            .map(|(name, _)| *name)
            .collect();
        body["error"] = json!("unhealthy");
        body["failing"] = json!(failing);
    }
    Ok(Response::from_json(&body)?.with_status(if ok { 200 } else { 503 }))
}
