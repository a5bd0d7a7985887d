//! The proxy (docs/API.md, "Proxy"): admit, forward, translate, settle.
//!
//! Order on the request path: key present → body parsed and validated (no
//! I/O yet) → project from the isolate cache → origin → identity (signed or
//! plain) → tier → ONE Durable Object call that decides and reserves → on a
//! block, a 429 and nothing forwarded → forward to the provider with a
//! first-byte deadline → translate back to OpenAI's format (streams chunk
//! by chunk, never buffered) → settle exactly once in `waitUntil` with the
//! real usage. A provider error or timeout before the answer releases the
//! reservation (not counted); a stream that breaks, or a client that leaves,
//! settles with max(what was observed, the reservation). If this isolate
//! dies, the object's lease alarm settles at the reservation.

use crate::config::Config;
use crate::crypto::random_id;
use crate::http::{
    error_response, percent_encode, read_json_body, set_header, ApiResult, OrInternal,
};
use crate::limiter;
use crate::project_cache::{self, ResolvedProject};
use crate::tokens;
use futures_channel::oneshot;
use futures_util::future::{select, Either};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use shared::decision::{limit_headers, Decision, Policy, Verdict, WindowReport};
use shared::error::{LimitExceeded, RuleRef};
use shared::ledger::ReserveRequest;
use shared::limiter_api::{
    ReadAnswer, ReadCall, ReleaseCall, ReserveAnswer, ReserveCall, SettleAnswer, SettleCall,
    Subject,
};
use shared::period::{iso8601, seconds_until};
use shared::providers::{build_request, error_message, translate_response, StreamTranslator};
use shared::proxy_request::{parse, prompt_estimate, ProxyRequest};
use shared::settlement::{counted_usage, AnswerOutcome};
use shared::simulate::decision_message;
use shared::values::{Identity, TierName};
use shared::ApiError;
use shared::ErrorCode;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use worker::{
    console_error, AbortController, ByteStream, Context, Date, Delay, Env, Fetch, Headers, Method,
    Request, RequestInit, Response, Stub,
};

/// Which proxy route is being served.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/api/v1/proxy/chat`
    Chat,
    /// `/api/v1/proxy/chat/stream`
    ChatStream,
    /// `/v1/chat/completions` (OpenAI drop-in: identity in headers, OpenAI error envelope)
    OpenAi,
}

impl Route {
    fn openai_envelope(self) -> bool {
        self == Route::OpenAi
    }
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

/// The publishable key from `x-project-key` (or `Authorization: Bearer pk_…`).
fn project_key(req: &Request) -> ApiResult<String> {
    if let Some(k) = header(req, "x-project-key") {
        return Ok(k);
    }
    if let Some(auth) = header(req, "authorization") {
        if let Some(k) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            return Ok(k.trim().to_string());
        }
    }
    Err(ApiError::new(
        ErrorCode::MissingProjectKey,
        "Send your project key in the x-project-key header",
    ))
}

fn invalid_key() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidProjectKey,
        "The project key is invalid or revoked",
    )
}

async fn resolve_project(req: &Request, env: &Env, cfg: &Config) -> ApiResult<Rc<ResolvedProject>> {
    let key = project_key(req)?;
    if !key.starts_with("pk_") || key.len() > 128 {
        return Err(invalid_key());
    }
    project_cache::resolve(env, cfg, &key)
        .await?
        .ok_or_else(invalid_key)
}

/// CORS for browser apps: with `allowedOrigins`, other origins get 403.
fn check_origin(req: &Request, project: &ResolvedProject) -> ApiResult<Option<String>> {
    let Some(origin) = header(req, "origin") else {
        return Ok(None);
    };
    let allowed = &project.settings.allowed_origins;
    if allowed.is_empty() || allowed.iter().any(|o| o == origin.trim_end_matches('/')) {
        return Ok(Some(origin));
    }
    Err(ApiError::new(
        ErrorCode::OriginNotAllowed,
        "This origin is not allowed to use the project",
    ))
}

/// The identity and tier in force: from a signed token when one is sent,
/// else from the request (only where signing is not required).
fn identity_and_tier(
    project: &ResolvedProject,
    token: Option<&str>,
    identity: Option<String>,
    tier: Option<String>,
) -> ApiResult<(String, String)> {
    let settings = &project.settings;
    let (identity, tier) = match token {
        Some(token) => {
            let claims = tokens::verify_identity(&project.secret_key, token).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidIdentityToken,
                    "The identity token is missing, expired or forged",
                )
            })?;
            (claims.sub, claims.tier)
        }
        None if settings.require_signed_identity => {
            return Err(ApiError::new(
                ErrorCode::InvalidIdentityToken,
                "This project requires a signed identity token",
            ))
        }
        None => (
            identity.ok_or_else(|| ApiError::invalid_field("identity", "identity is required"))?,
            tier,
        ),
    };
    let identity = Identity::parse("identity", &identity)?.into_string();
    let tier = match tier {
        Some(t) => TierName::parse("tier", &t)?.into_string(),
        None => settings.default_tier.clone(),
    };
    if !settings.tiers.contains_key(&tier) {
        return Err(ApiError::invalid_field(
            "tier",
            format!("Unknown tier '{tier}'"),
        ));
    }
    Ok((identity, tier))
}

fn limit_entry(w: &WindowReport) -> Value {
    json!({
        "limitType": w.metric.as_str(),
        "period": w.period.as_str(),
        "model": w.model,
        "limit": w.limit,
        "used": w.used,
        "remaining": w.remaining(),
        "resetAt": iso8601(w.reset_at_ms),
    })
}

/// Headers every proxied answer carries (docs/API.md, "Limit headers").
struct AnswerMeta {
    request_id: String,
    overhead_ms: i64,
    limit_headers: Vec<(&'static str, String)>,
    warning: Option<(String, Option<String>)>,
    cors_origin: Option<String>,
}

impl AnswerMeta {
    fn apply(&self, resp: &mut Response) {
        set_header(resp, "x-request-id", &self.request_id);
        set_header(
            resp,
            "x-ratelimit-overhead-ms",
            &self.overhead_ms.to_string(),
        );
        for (k, v) in &self.limit_headers {
            set_header(resp, k, v);
        }
        if let Some((message, deep_link)) = &self.warning {
            set_header(resp, "x-ratelimit-warning", &percent_encode(message));
            if let Some(link) = deep_link {
                set_header(resp, "x-ratelimit-deeplink", link);
            }
        }
        if let Some(origin) = &self.cors_origin {
            set_header(resp, "access-control-allow-origin", origin);
            set_header(resp, "vary", "Origin");
            set_header(
                resp,
                "access-control-expose-headers",
                "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-ratelimit-policy, x-ratelimit-warning, x-ratelimit-deeplink, x-ratelimit-overhead-ms, retry-after",
            );
        }
    }
}

fn with_meta(e: &ApiError, route: Route, meta: &AnswerMeta) -> worker::Result<Response> {
    let mut resp = error_response(e, route.openai_envelope())?;
    meta.apply(&mut resp);
    Ok(resp)
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
            return error_response(
                &crate::http::internal("request id", e),
                route.openai_envelope(),
            )
        }
    };
    let mut meta = AnswerMeta {
        request_id,
        overhead_ms: 0,
        limit_headers: Vec::new(),
        warning: None,
        cors_origin: None,
    };
    match serve(req, env, ctx, cfg, route, started, &mut meta).await {
        Ok(resp) => Ok(resp),
        Err(e) => with_meta(&e, route, &meta),
    }
}

async fn serve(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &Config,
    route: Route,
    started: i64,
    meta: &mut AnswerMeta,
) -> ApiResult<Response> {
    project_key(&req)?;
    let (_, body) = read_json_body(&mut req, cfg.max_body_bytes).await?;
    let mut parsed: ProxyRequest = parse(body, route == Route::ChatStream)?;
    if route == Route::OpenAi {
        if let Some(i) = header(&req, "x-identity") {
            parsed.identity = Some(Identity::parse("identity", &i)?);
        }
        if let Some(t) = header(&req, "x-tier") {
            parsed.tier = Some(TierName::parse("tier", &t)?);
        }
        parsed.identity_token = header(&req, "x-identity-token").or(parsed.identity_token);
    }
    let project = resolve_project(&req, env, cfg).await?;
    meta.cors_origin = check_origin(&req, &project)?;
    let (identity, tier_name) = identity_and_tier(
        &project,
        parsed.identity_token.as_deref(),
        parsed.identity.take().map(String::from),
        parsed.tier.take().map(String::from),
    )?;
    let tier = project
        .settings
        .tiers
        .get(&tier_name)
        .cloned()
        .unwrap_or_default();
    let prompt_tokens = prompt_estimate(parsed.prompt_chars);
    let estimate = prompt_tokens.saturating_add(tier.max_tokens_or_default(parsed.max_tokens));
    let policy = Policy {
        tier_name: tier_name.clone(),
        tier: tier.clone(),
        rules: project.rules.clone(),
    };
    let subject = Subject {
        project_id: project.id.clone(),
        identity: identity.clone(),
    };
    let stub = limiter::stub(env, &project.id, &identity)?;
    let answer: ReserveAnswer = limiter::call(
        &stub,
        "/reserve",
        &ReserveCall {
            subject: subject.clone(),
            request: ReserveRequest {
                request_id: meta.request_id.clone(),
                model: parsed.model.clone(),
                estimate_tokens: estimate,
                lease_ms: i64::try_from(cfg.provider_timeout_ms.saturating_add(cfg.lease_grace_ms))
                    .ok(),
                policy,
            },
        },
    )
    .await?;
    let decision = answer.decision;
    let (message, deep_link) =
        decision_message(&decision, &tier_name, &tier, &identity, answer.now_ms);
    if let Some(w) = decision.header_window() {
        meta.limit_headers = limit_headers(w, answer.now_ms);
    }
    if decision.verdict == Verdict::Block {
        meta.overhead_ms = now_ms() - started;
        return Err(limit_exceeded(
            &decision,
            &tier_name,
            message,
            deep_link,
            answer.now_ms,
            meta,
        ));
    }
    if decision.verdict == Verdict::Warn {
        if let Some(m) = message {
            meta.warning = Some((m, deep_link));
        }
    }

    let upstream = Upstream {
        env: env.clone(),
        ctx,
        stub,
        subject,
        request_id: meta.request_id.clone(),
        prompt_tokens,
        estimate,
    };
    let provider = project.settings.provider;
    let base_url = project
        .settings
        .effective_base_url()
        .ok_or_else(|| ApiError::invalid_body("The project has no provider URL"))?
        .to_string();
    let built = match build_request(
        provider,
        &base_url,
        project.provider_key.as_deref().unwrap_or_default(),
        std::mem::take(&mut parsed.forward),
        parsed.stream,
    ) {
        Ok(b) => b,
        Err(e) => {
            upstream.release().await;
            return Err(e);
        }
    };
    meta.overhead_ms = now_ms() - started;
    let mut resp = match upstream
        .send(built, cfg.provider_timeout_ms, provider.as_str())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            upstream.release().await;
            return Err(e);
        }
    };
    let status = resp.status_code();
    if !(200..300).contains(&status) {
        let body = resp.bytes().await.unwrap_or_default();
        upstream.release().await;
        return Err(ApiError::provider_error(
            provider.as_str(),
            status,
            error_message(provider, status, &body),
        ));
    }
    let created = started / 1000;

    if parsed.stream {
        let body = match resp.stream() {
            Ok(b) => b,
            Err(e) => {
                upstream.release().await;
                return Err(crate::http::internal("upstream stream", e));
            }
        };
        let (tx, rx) = oneshot::channel::<AnswerOutcome>();
        let translator = StreamTranslator::new(
            provider,
            &parsed.model,
            &format!("chatcmpl-{}", meta.request_id),
            created,
        );
        let stream = ProxyStream {
            upstream: Some(body),
            translator,
            report: Some(tx),
            prompt_tokens,
            estimate,
        };
        upstream.settle_later(async move { rx.await.unwrap_or_default() });
        let headers = Headers::new();
        headers
            .set("content-type", "text/event-stream; charset=utf-8")
            .or_internal("header")?;
        headers
            .set("cache-control", "no-cache")
            .or_internal("header")?;
        let mut out = Response::from_stream(stream)
            .or_internal("stream response")?
            .with_headers(headers);
        meta.apply(&mut out);
        return Ok(out);
    }

    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            upstream.release().await;
            console_error!("provider body read failed: {e}");
            return Err(ApiError::provider_error(
                provider.as_str(),
                502,
                "The provider's answer could not be read",
            ));
        }
    };
    let (mut completion, usage) = match translate_response(provider, &parsed.model, &bytes, created)
    {
        Ok(t) => t,
        Err(e) => {
            upstream.release().await;
            return Err(e);
        }
    };
    upstream.settle_later(std::future::ready(AnswerOutcome {
        usage,
        output_chars: 0,
        completed: true,
    }));
    if let Value::Object(obj) = &mut completion {
        obj.insert(
            "ratelimit".into(),
            json!({
                "tier": tier_name,
                "limits": decision.limits.iter().map(limit_entry).collect::<Vec<_>>(),
                "warning": decision.warning.as_ref().zip(meta.warning.as_ref()).map(|(rule, (message, link))| json!({
                    "ruleId": rule.id,
                    "message": message,
                    "deepLink": link,
                })),
            }),
        );
    }
    let mut out = crate::http::json_response(200, &completion)?;
    meta.apply(&mut out);
    Ok(out)
}

fn limit_exceeded(
    decision: &Decision,
    tier_name: &str,
    message: Option<String>,
    deep_link: Option<String>,
    now: i64,
    meta: &mut AnswerMeta,
) -> ApiError {
    let window = decision.blocking.as_ref();
    let reset_at = window.map(|w| w.reset_at_ms).unwrap_or(now);
    let retry_after = seconds_until(reset_at, now);
    meta.limit_headers
        .push(("retry-after", retry_after.to_string()));
    ApiError::limit_exceeded(
        message.unwrap_or_else(|| "Usage limit reached".into()),
        LimitExceeded {
            deep_link,
            rule: decision.rule.as_ref().map(|r| RuleRef {
                id: r.id.clone(),
                name: r.name.clone(),
            }),
            tier: tier_name.to_string(),
            limit_type: window.map(|w| w.metric.as_str()),
            limit: window.and_then(|w| w.limit),
            usage: window.map(|w| w.used),
            period: window.map(|w| w.period.as_str()),
            reset_at: iso8601(reset_at),
            retry_after,
        },
    )
}

/// Everything needed to forward one admitted request and settle it.
struct Upstream<'a> {
    env: Env,
    ctx: &'a Context,
    stub: Stub,
    subject: Subject,
    request_id: String,
    prompt_tokens: u64,
    estimate: u64,
}

impl Upstream<'_> {
    /// Sends the provider request; `provider_timeout` bounds the wait for
    /// the answer's head (504), a network failure is a 502.
    async fn send(
        &self,
        built: shared::providers::UpstreamRequest,
        timeout_ms: u64,
        provider: &str,
    ) -> ApiResult<Response> {
        let headers = Headers::new();
        for (k, v) in &built.headers {
            headers.set(k, v).or_internal("upstream header")?;
        }
        let controller = AbortController::default();
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(js_sys::Uint8Array::from(built.body.as_slice()).into()));
        let request = Request::new_with_init(&built.url, &init).map_err(|e| {
            console_error!("provider request: {e}");
            ApiError::provider_error(provider, 502, "The provider URL is not usable")
        })?;
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let sending = Box::pin(async move { fetch.send_with_signal(&signal).await });
        let deadline = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
        match select(sending, deadline).await {
            Either::Left((Ok(resp), _)) => Ok(resp),
            Either::Left((Err(e), _)) => {
                console_error!("provider fetch failed: {e}");
                Err(ApiError::provider_error(
                    provider,
                    502,
                    "The provider could not be reached",
                ))
            }
            Either::Right(_) => {
                controller.abort();
                Err(ApiError::provider_timeout(provider))
            }
        }
    }

    async fn release(&self) {
        let call = ReleaseCall {
            request_id: self.request_id.clone(),
        };
        if let Err(e) = limiter::call::<_, Value>(&self.stub, "/release", &call).await {
            console_error!("release {}: {e}", self.request_id);
        }
    }

    /// Settles in `waitUntil` once `usage` resolves: the provider's usage
    /// when known, else max(observed estimate, reservation).
    fn settle_later(&self, report: impl std::future::Future<Output = AnswerOutcome> + 'static) {
        let env = self.env.clone();
        let subject = self.subject.clone();
        let request_id = self.request_id.clone();
        let (prompt_tokens, estimate) = (self.prompt_tokens, self.estimate);
        self.ctx.wait_until(async move {
            let usage = counted_usage(&report.await, prompt_tokens, estimate);
            let call = SettleCall {
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                subject,
                request_id,
            };
            let settled =
                match limiter::stub(&env, &call.subject.project_id, &call.subject.identity) {
                    Ok(stub) => limiter::call::<_, SettleAnswer>(&stub, "/settle", &call)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                };
            if let Err(e) = settled {
                console_error!("settle {}: {e}", call.request_id);
            }
        });
    }
}

/// The provider's stream, translated to OpenAI's SSE chunk by chunk. When
/// the upstream ends, fails, or the client goes away (the stream is
/// dropped), it reports what it saw exactly once.
struct ProxyStream {
    upstream: Option<ByteStream>,
    translator: StreamTranslator,
    report: Option<oneshot::Sender<AnswerOutcome>>,
    /// Prompt estimate and reservation, for the usage chunk of a completed
    /// stream whose provider reported none.
    prompt_tokens: u64,
    estimate: u64,
}

impl ProxyStream {
    fn finish(&mut self) -> Vec<u8> {
        self.upstream = None;
        let (prompt_tokens, estimate) = (self.prompt_tokens, self.estimate);
        let tail = self.translator.finish_with(|output_chars| {
            let outcome = AnswerOutcome {
                usage: None,
                output_chars,
                completed: true,
            };
            Some(counted_usage(&outcome, prompt_tokens, estimate))
        });
        self.send_report(!self.translator.failed());
        tail
    }

    fn send_report(&mut self, completed: bool) {
        if let Some(tx) = self.report.take() {
            let _ = tx.send(AnswerOutcome {
                usage: self.translator.usage(),
                output_chars: self.translator.output_chars(),
                completed,
            });
        }
    }
}

impl Stream for ProxyStream {
    type Item = worker::Result<Vec<u8>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(upstream) = self.upstream.as_mut() else {
                return Poll::Ready(None);
            };
            match upstream.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let mut out = self.translator.push(&chunk);
                    if self.translator.failed() {
                        out.extend(self.finish());
                    }
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(out)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    console_error!("provider stream broke: {e}");
                    let out = self.finish();
                    return Poll::Ready((!out.is_empty()).then_some(Ok(out)));
                }
                Poll::Ready(None) => {
                    let out = self.finish();
                    return Poll::Ready((!out.is_empty()).then_some(Ok(out)));
                }
            }
        }
    }
}

impl Drop for ProxyStream {
    fn drop(&mut self) {
        // The client left before the end: nothing completed.
        self.send_report(false);
    }
}

/// `GET /api/v1/usage` (docs/API.md, "GET /api/v1/usage").
pub async fn usage(req: Request, env: &Env, cfg: &Config) -> worker::Result<Response> {
    // An allowed origin gets CORS on errors too (a browser app must be able
    // to read a 401 for its token), as on the chat routes.
    let mut cors = None;
    match serve_usage(req, env, cfg, &mut cors).await {
        Ok(r) => Ok(r),
        Err(e) => {
            let mut resp = error_response(&e, false)?;
            if let Some(origin) = cors {
                set_header(&mut resp, "access-control-allow-origin", &origin);
                set_header(&mut resp, "vary", "Origin");
            }
            Ok(resp)
        }
    }
}

async fn serve_usage(
    req: Request,
    env: &Env,
    cfg: &Config,
    cors_out: &mut Option<String>,
) -> ApiResult<Response> {
    project_key(&req)?;
    let project = resolve_project(&req, env, cfg).await?;
    let cors = check_origin(&req, &project)?;
    cors_out.clone_from(&cors);
    let token = header(&req, "x-identity-token");
    let (identity, tier_name) = identity_and_tier(
        &project,
        token.as_deref(),
        crate::http::query_param(&req, "identity"),
        crate::http::query_param(&req, "tier"),
    )?;
    let mut resp = crate::http::json_response(
        200,
        &read_usage(env, &project.id, &project.settings, &identity, &tier_name).await?,
    )?;
    if let Some(origin) = cors {
        set_header(&mut resp, "access-control-allow-origin", &origin);
        set_header(&mut resp, "vary", "Origin");
    }
    Ok(resp)
}

/// Live usage of an identity under a tier: `{identity, tier, limits}`.
pub async fn read_usage(
    env: &Env,
    project_id: &str,
    settings: &shared::project::ProjectSettings,
    identity: &str,
    tier_name: &str,
) -> ApiResult<Value> {
    let tier = settings.tiers.get(tier_name).cloned().unwrap_or_default();
    let stub = limiter::stub(env, project_id, identity)?;
    let answer: ReadAnswer = limiter::call(&stub, "/read", &ReadCall { tier }).await?;
    Ok(json!({
        "identity": identity,
        "tier": tier_name,
        "limits": answer.windows.iter().map(limit_entry).collect::<Vec<_>>(),
    }))
}
