//! The proxy (docs/API.md, "Proxy") as phases over one request:
//! admit → forward → answer → settle-or-release.
//!
//! - [`admit`]: key present → body parsed and validated (no I/O yet) →
//!   project from the isolate cache → origin → identity (signed or plain) →
//!   tier → the provider request built (model canonicalised, output budget
//!   computed — pure, before any reservation) → ONE Durable Object call
//!   that decides and reserves. A block is a 429 and nothing is forwarded.
//! - [`forward`]: the upstream call with its first-byte deadline.
//! - [`answer`]: OpenAI-format answers (streams chunk by chunk, never
//!   buffered), the 429 and the limit headers.
//!
//! Invariant: an admitted request holds a [`Reservation`], which only
//! settle or release consume, so each admitted request ends exactly once:
//! a provider error or timeout before the answer releases it (not
//! counted); an answer settles it with the real usage after the last byte,
//! or, when the stream breaks or the client leaves, with max(what was
//! observed, the reservation). A reservation dropped on an unforeseen early
//! return is released. If this isolate dies, the object's lease alarm
//! settles at the reservation.
//!
//! [`Reservation`]: crate::limiter::Reservation

mod admit;
mod answer;
mod forward;
mod usage;

pub use usage::{read_usage, usage};

use crate::config::Config;
use crate::crypto::random_id;
use crate::http::ApiResult;
use answer::AnswerMeta;
use shared::providers::dialect::Dialect;
use worker::{Context, Date, Env, Request, Response};

/// Which proxy route is being served.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/api/v1/proxy/chat`
    Chat,
    /// `/api/v1/proxy/chat/stream`
    ChatStream,
    /// `/v1/chat/completions` (OpenAI drop-in: identity in headers, OpenAI error envelope)
    OpenAi,
    /// `/v1/responses` (OpenAI Responses API; identity in headers, OpenAI error envelope)
    Responses,
    /// `/v1/messages` (Anthropic Messages format; identity in headers, Anthropic error envelope)
    Messages,
    /// `/v1/embeddings` (OpenAI embeddings; identity in headers, OpenAI error envelope)
    Embeddings,
    /// `/api/v1/proxy/embeddings` (identity in the body, flat error shape)
    ProxyEmbeddings,
}

impl Route {
    /// The wire format the app speaks on this route.
    fn dialect(self) -> Dialect {
        match self {
            Route::Responses => Dialect::Responses,
            Route::Messages => Dialect::Messages,
            Route::Embeddings | Route::ProxyEmbeddings => Dialect::Embeddings,
            _ => Dialect::Chat,
        }
    }

    /// Drop-in routes take identity, tier and token from headers.
    fn drop_in(self) -> bool {
        matches!(
            self,
            Route::OpenAi | Route::Responses | Route::Messages | Route::Embeddings
        )
    }

    /// The error body in the route's own envelope.
    fn error_json(self, e: &shared::ApiError) -> serde_json::Value {
        match self {
            Route::Chat | Route::ChatStream | Route::ProxyEmbeddings => e.to_json(),
            Route::OpenAi | Route::Responses | Route::Embeddings => e.to_openai_json(),
            Route::Messages => e.to_anthropic_json(),
        }
    }
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

/// Serves a proxy route; every failure becomes the contract's error shape.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &Config,
    route: Route,
) -> worker::Result<Response> {
    let started = now_ms();
    let request_id = match random_id("req_") {
        Ok(id) => id,
        Err(e) => {
            let meta = AnswerMeta::new(String::new());
            return answer::error(&crate::http::internal("request id", e), route, &meta);
        }
    };
    let mut meta = AnswerMeta::new(request_id);
    let served = serve(req, env, ctx, cfg, route, started, &mut meta).await;
    // Only a request whose admission raised an alert pays for sending it,
    // after its answer.
    if let Some((project_id, identity, alerts)) = meta.alerts.take() {
        let env = env.clone();
        ctx.wait_until(async move {
            crate::webhooks::emit_alerts(&env, &project_id, &identity, &alerts).await;
        });
    }
    match served {
        Ok(resp) => Ok(resp),
        Err(e) => answer::error(&e, route, &meta),
    }
}

async fn serve(
    req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &Config,
    route: Route,
    started: i64,
    meta: &mut AnswerMeta,
) -> ApiResult<Response> {
    let admitted = admit::admit(req, env, ctx, cfg, route, meta).await;
    meta.overhead_ms = now_ms() - started;
    let admitted = admitted?;
    let sent = forward::send(
        &admitted.upstream,
        cfg.provider_timeout_ms,
        admitted.provider,
    )
    .await;
    match sent {
        Ok(resp) => answer::answer(resp, admitted, ctx, started, meta).await,
        Err(e) => {
            admitted.reservation.release().await;
            Err(e)
        }
    }
}
