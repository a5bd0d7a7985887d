//! `GET /healthz`: proves Postgres (through Hyperdrive) and the Durable
//! Object namespace really answer, and that the database has every
//! migration this Worker was built with; 503 names the part that failed.
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
    let pending = db.map(|h| h.pending).unwrap_or_default();
    let schema_ok = db_ok && pending.is_empty();
    let limiter_ok = limiter.is_ok();
    let ok = schema_ok && limiter_ok;
    let mut body = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "db": if db_ok { "ok" } else { "error" },
        "limiter": if limiter_ok { "ok" } else { "error" },
        "schema": if !db_ok { "unknown" } else if pending.is_empty() { "ok" } else { "behind" },
        "schemaVersion": store::schema_version(),
    });
    if !ok {
        let failing: Vec<&str> = [
            ("db", db_ok),
            ("schema", !db_ok || schema_ok),
            ("limiter", limiter_ok),
        ]
        .iter()
        .filter(|(_, up)| !up)
        .map(|(name, _)| *name)
        .collect();
        body["error"] = json!("unhealthy");
        body["failing"] = json!(failing);
    }
    if !pending.is_empty() {
        body["message"] = json!(shared::schema::schema_behind(&pending).message());
        body["pendingMigrations"] = json!(pending);
    }
    Ok(Response::from_json(&body)?.with_status(if ok { 200 } else { 503 }))
}
