//! The AI Ratelimit edge Worker: routes requests to the proxy, the owner
//! API and the health check. Handlers validate and authenticate; state lives
//! in Postgres (projects, rules, analytics) and in one `IdentityLimiter`
//! Durable Object per project × identity (counters).
//!
//! No handler panics: every failure becomes an `ApiError` rendered in the
//! contract's shape, and internal causes are logged, never sent.

mod analytics_api;
mod auth;
mod config;
mod crypto;
mod db;
mod health;
mod http;
mod limiter;
mod owner;
mod project_cache;
mod projects;
mod proxy;
mod rules_api;
mod tokens;

pub use durable_objects::IdentityLimiter;

use config::Config;
use http::{error_response, set_header};
use shared::ApiError;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let cfg = Config::get(&env);
    let path = req.path();
    let method = req.method();

    // The hot path first: no route table.
    if method == Method::Post {
        let route = match path.as_str() {
            "/api/v1/proxy/chat" => Some(proxy::Route::Chat),
            "/api/v1/proxy/chat/stream" => Some(proxy::Route::ChatStream),
            "/v1/chat/completions" => Some(proxy::Route::OpenAi),
            _ => None,
        };
        if let Some(route) = route {
            return proxy::handle(req, &env, &ctx, &cfg, route).await;
        }
    }
    if method == Method::Options {
        return preflight(&req, &cfg, &path);
    }
    if path == "/healthz" && method == Method::Get {
        return health::healthz(&env).await;
    }
    if path == "/api/v1/usage" && method == Method::Get {
        return proxy::usage(req, &env, &cfg).await;
    }
    if path.starts_with("/api/") {
        let origin = req.headers().get("origin").ok().flatten();
        let result = owner::route(req, &env, &cfg, &path, method).await;
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => error_response(&e, false)?,
        };
        set_header(&mut resp, "cache-control", "no-store");
        if let Some(origin) =
            origin.filter(|o| !cfg.cors_origin.is_empty() && *o == cfg.cors_origin)
        {
            set_header(&mut resp, "access-control-allow-origin", &origin);
            set_header(&mut resp, "vary", "Origin");
        }
        return Ok(resp);
    }
    if path.starts_with("/v1/") {
        return error_response(&ApiError::not_found("Route"), true);
    }
    error_response(&ApiError::not_found("Route"), false)
}

/// Answers CORS preflights: the proxy for any origin (the origin check is
/// per project, on the real request), the dashboard API for `CORS_ORIGIN`.
fn preflight(req: &Request, cfg: &Config, path: &str) -> worker::Result<Response> {
    let origin = req
        .headers()
        .get("origin")
        .ok()
        .flatten()
        .unwrap_or_default();
    let proxy_route = path.starts_with("/api/v1/") || path.starts_with("/v1/");
    let mut resp = Response::empty()?.with_status(204);
    let allowed = if proxy_route {
        !origin.is_empty()
    } else {
        !cfg.cors_origin.is_empty() && origin == cfg.cors_origin
    };
    if allowed {
        set_header(&mut resp, "access-control-allow-origin", &origin);
        set_header(&mut resp, "vary", "Origin");
        set_header(
            &mut resp,
            "access-control-allow-methods",
            "GET, POST, PATCH, DELETE, OPTIONS",
        );
        set_header(
            &mut resp,
            "access-control-allow-headers",
            "content-type, authorization, x-project-key, x-identity, x-tier, x-identity-token",
        );
        set_header(&mut resp, "access-control-max-age", "600");
    }
    Ok(resp)
}
