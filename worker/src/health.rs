//! `GET /healthz`: proves Postgres (through Hyperdrive) and the Durable
//! Object namespace really answer; 503 names the part that failed.

use crate::{db, limiter};
use serde_json::json;
use worker::{Env, Response};

pub async fn healthz(env: &Env) -> worker::Result<Response> {
    let db_ok = match db::connect(env).await {
        Ok(client) => client.query_one("SELECT 1", &[]).await.is_ok(),
        Err(_) => false,
    };
    let limiter_ok = limiter::ping(env).await.is_ok();
    let ok = db_ok && limiter_ok;
    let body = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "db": if db_ok { "ok" } else { "error" },
        "limiter": if limiter_ok { "ok" } else { "error" },
    });
    let mut failing = Vec::new();
    if !db_ok {
        failing.push("db");
    }
    if !limiter_ok {
        failing.push("limiter");
    }
    let mut body = body;
    if !ok {
        body["error"] = json!("unhealthy");
        body["failing"] = json!(failing);
    }
    Ok(Response::from_json(&body)?.with_status(if ok { 200 } else { 503 }))
}
