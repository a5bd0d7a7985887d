//! The AI Ratelimit edge Worker: routes requests to the proxy, the owner
//! API and the health check through the one route table
//! (`shared::routes`: a known path with another method is 405 with `allow`). Handlers validate and authenticate; state lives
//! in Postgres (projects, rules, analytics) and in one `IdentityLimiter`
//! Durable Object per project × identity (counters).
//!
//! No handler panics: every failure becomes an `ApiError` rendered in the
//! contract's shape, and internal causes are logged, never sent.

mod analytics_api;
mod auth;
mod budget_gate;
mod budget_object;
mod budgets_api;
mod config;
mod cost_api;
mod crypto;
mod funnel_api;
mod health;
mod http;
mod identities;
mod limiter;
mod owner;
mod project_cache;
mod projects;
mod proxy;
mod rules_api;
mod store;
mod tokens;
mod webhooks;

pub use budget_object::ProjectBudget;
pub use durable_objects::{AnalyticsRelay, IdentityLimiter};
pub use webhooks::WebhookOutbox;

use config::Config;
use http::{error_response, set_header};
use shared::routes::{self, Matched, RouteId};
use shared::ApiError;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let cfg = Config::get(&env);
    let path = req.path();
    let method = req.method();

    if method == Method::Options {
        return preflight(&req, &cfg, &path);
    }
    if cfg.fault_injection {
        if let Some(project_id) = path.strip_prefix("/__test/webhook-outbox/") {
            return match webhooks::outbox::sender_state(&env, project_id).await {
                Ok(state) => Response::from_json(&state),
                Err(e) => Response::error(e, 500),
            };
        }
        if let Some((project_id, identity)) = path
            .strip_prefix("/__test/identity-limiter/")
            .and_then(|rest| rest.split_once('/'))
        {
            return match limiter::object_state(&env, project_id, identity).await {
                Ok(state) => Response::from_json(&state),
                Err(e) => Response::error(e.message(), 500),
            };
        }
        if let Some(project_id) = path.strip_prefix("/__test/analytics-relay/") {
            return match durable_objects::relay::project_state(&env, project_id).await {
                Ok(state) => Response::from_json(&state),
                Err(e) => Response::error(e.to_string(), 500),
            };
        }
    }
    let openai_envelope = path.starts_with("/v1/");
    let (id, params) = match routes::match_route(route_method(&method), &path) {
        Matched::Found { id, params } => (id, params),
        Matched::WrongMethod { allow } => {
            let e = ApiError::method_not_allowed(method.as_ref());
            let mut resp = error_response(&e, openai_envelope)?;
            set_header(&mut resp, "allow", &allow);
            return Ok(resp);
        }
        Matched::NotFound => return error_response(&ApiError::not_found("Route"), openai_envelope),
    };
    match id {
        RouteId::Healthz => health::healthz(&env).await,
        RouteId::Usage => proxy::usage(req, &env, &cfg).await,
        RouteId::TrackedRedirect => funnel_api::redirect(&env, &cfg, params.first()).await,
        RouteId::ProxyChat => proxy::handle(req, &env, &ctx, &cfg, proxy::Route::Chat).await,
        RouteId::ProxyChatStream => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::ChatStream).await
        }
        RouteId::OpenAiChatCompletions => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::OpenAi).await
        }
        RouteId::OpenAiResponses => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::Responses).await
        }
        RouteId::AnthropicMessages => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::Messages).await
        }
        RouteId::OpenAiEmbeddings => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::Embeddings).await
        }
        RouteId::ProxyEmbeddings => {
            proxy::handle(req, &env, &ctx, &cfg, proxy::Route::ProxyEmbeddings).await
        }
        _ => {
            let origin = req.headers().get("origin").ok().flatten();
            let mut resp = match owner::route(req, &env, &cfg, id, params).await {
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
            Ok(resp)
        }
    }
}

/// The route table's method for a request's (None: one the API never uses).
fn route_method(method: &Method) -> Option<routes::Method> {
    match method {
        Method::Get => Some(routes::Method::Get),
        Method::Post => Some(routes::Method::Post),
        Method::Patch => Some(routes::Method::Patch),
        Method::Delete => Some(routes::Method::Delete),
        _ => None,
    }
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
            "content-type, authorization, x-project-key, x-api-key, anthropic-version, x-identity, x-tier, x-identity-token",
        );
        set_header(&mut resp, "access-control-max-age", "600");
    }
    Ok(resp)
}
