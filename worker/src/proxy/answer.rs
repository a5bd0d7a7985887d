//! Answers in OpenAI's format: the translated completion (with the
//! `ratelimit` field), the translated stream (chunk by chunk, never
//! buffered), the 429, the errors, and the headers every proxied answer
//! carries (docs/API.md, "Limit headers").
//!
//! [`answer`] consumes the request's reservation on every path: a provider
//! error status or an unreadable or untranslatable answer releases it; a
//! translated answer settles it — at once for a completion, after the last
//! byte for a stream. When the client leaves mid-stream, the provider's
//! stream is still read to its end in the background (at most
//! [`DRAIN_AFTER_CLIENT_LEFT_MS`]), so the exact usage is counted rather
//! than an estimate; a stream that does not end in time counts as a broken
//! one (at least the reservation).

use super::admit::Admitted;
use super::Route;
use crate::http::{body_bytes, percent_encode, set_header, ApiResult, OrInternal};
use futures_channel::oneshot;
use futures_util::future::{select, Either};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use shared::decision::{Decision, WindowReport};
use shared::error::{LimitExceeded, RuleRef};
use shared::period::{iso8601, seconds_until};
use shared::providers::dialect::{from_completion, native_usage, AnswerStream, Dialect};
use shared::providers::openai::with_last_member;
use shared::providers::{
    embeddings, error_message, translate_response, verbatim_usage, ProviderKind,
};
use shared::settlement::{counted_usage, AnswerOutcome};
use shared::ApiError;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use worker::{console_error, ByteStream, Context, Delay, Headers, Response};

/// How long the provider's stream is still read after the client left, for
/// its exact usage. Cloudflare keeps a request's background work about 30 s
/// after its response ends; this stays under that.
pub const DRAIN_AFTER_CLIENT_LEFT_MS: u64 = 25_000;

/// Headers every proxied answer carries (docs/API.md, "Limit headers").
pub struct AnswerMeta {
    pub request_id: String,
    pub overhead_ms: i64,
    pub limit_headers: Vec<(&'static str, String)>,
    pub warning: Option<(String, Option<String>)>,
    pub cors_origin: Option<String>,
    /// Webhook alerts the identity's object raised (project, identity,
    /// alerts): sent in `waitUntil` after the answer, whatever it was.
    pub alerts: Option<(String, String, Vec<shared::webhooks::Alert>)>,
}

impl AnswerMeta {
    pub fn new(request_id: String) -> Self {
        Self {
            request_id,
            overhead_ms: 0,
            limit_headers: Vec::new(),
            warning: None,
            cors_origin: None,
            alerts: None,
        }
    }

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

/// An error in the route's envelope, with the answer headers.
pub fn error(e: &ApiError, route: Route, meta: &AnswerMeta) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let mut resp = Response::ok(route.error_json(e).to_string())?
        .with_status(e.status())
        .with_headers(headers);
    meta.apply(&mut resp);
    Ok(resp)
}

/// One window as the body's `limits` and `/api/v1/usage` show it.
pub fn limit_entry(w: &WindowReport) -> Value {
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

/// The 429 (docs/API.md, "Limit exceeded (429)"), describing the window that blocked.
pub fn limit_exceeded(
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

/// Answers from the provider's response; consumes the reservation.
pub async fn answer(
    mut resp: Response,
    admitted: Admitted,
    ctx: &Context,
    started: i64,
    meta: &AnswerMeta,
) -> ApiResult<Response> {
    let Admitted {
        upstream,
        provider,
        stream,
        dialect,
        base64_embeddings,
        tier_name,
        decision,
        reservation,
        prompt_tokens,
        estimate,
    } = admitted;
    let native = dialect.native_for(provider);
    let status = resp.status_code();
    if !(200..300).contains(&status) {
        let body = body_bytes(&resp).await.unwrap_or_default();
        reservation.release().await;
        return Err(ApiError::provider_error(
            provider.as_str(),
            status,
            error_message(provider, status, &body),
        ));
    }
    let created = started / 1000;

    if stream {
        let body = match resp.stream() {
            Ok(b) => b,
            Err(e) => {
                reservation.release().await;
                return Err(crate::http::internal("upstream stream", e));
            }
        };
        let (tx, rx) = oneshot::channel::<AnswerOutcome>();
        let translator = AnswerStream::new(
            dialect,
            provider,
            &upstream.model,
            &format!("{}{}", dialect.id_prefix(), meta.request_id),
            created,
        );
        reservation.settle(ctx, async move { rx.await.unwrap_or_default() });
        let stream = ProxyStream {
            upstream: Some(body),
            translator,
            report: Some(tx),
            prompt_tokens,
            estimate,
        };
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

    let bytes = match body_bytes(&resp).await {
        Ok(b) => b,
        Err(e) => {
            reservation.release().await;
            console_error!("provider body read failed: {e}");
            return Err(ApiError::provider_error(
                provider.as_str(),
                502,
                "The provider's answer could not be read",
            ));
        }
    };
    if native {
        // The provider's own answer, unchanged; its usage is counted.
        let usage = native_usage(dialect, provider, &upstream.model, &bytes);
        reservation.settle_read(ctx, Ok(((), usage))).await?;
        let mut out = crate::http::bytes_response(200, "application/json", bytes)?;
        meta.apply(&mut out);
        return Ok(out);
    }
    if dialect == Dialect::Embeddings {
        // Gemini: its embeddings as OpenAI's list; it reports no usage, so
        // the input estimate is counted (and reported in the answer).
        let read =
            embeddings::translate_google(&upstream.model, &bytes, base64_embeddings, prompt_tokens);
        let list = reservation
            .settle_read(ctx, read.map(|list| (list, None)))
            .await?;
        let mut out = crate::http::json_response(200, &list)?;
        meta.apply(&mut out);
        return Ok(out);
    }
    let ratelimit = || {
        json!({
            "tier": tier_name,
            "limits": decision.limits.iter().map(limit_entry).collect::<Vec<_>>(),
            "warning": decision.warning.as_ref().zip(meta.warning.as_ref()).map(|(rule, (message, link))| json!({
                "ruleId": rule.id,
                "message": message,
                "deepLink": link,
            })),
        })
    };
    if dialect == Dialect::Chat {
        // An answer the translation would not change goes out as it came,
        // with the `ratelimit` member appended: no document is built.
        if let Some(usage) = verbatim_usage(provider, &bytes) {
            reservation.settle_read(ctx, Ok(((), usage))).await?;
            let body = with_last_member(&bytes, "ratelimit", &ratelimit())
                .ok_or("not an object")
                .or_internal("verbatim answer")?;
            let mut out = crate::http::bytes_response(200, "application/json", body)?;
            meta.apply(&mut out);
            return Ok(out);
        }
    }
    let mut completion = reservation
        .settle_read(
            ctx,
            translate_response(provider, &upstream.model, &bytes, created),
        )
        .await?;
    if dialect != Dialect::Chat {
        let id = format!("{}{}", dialect.id_prefix(), meta.request_id);
        let translated = from_completion(dialect, completion, &id, created);
        let mut out = crate::http::json_response(200, &translated)?;
        meta.apply(&mut out);
        return Ok(out);
    }
    if let Value::Object(obj) = &mut completion {
        obj.insert("ratelimit".into(), ratelimit());
    }
    let mut out = crate::http::json_response(200, &completion)?;
    meta.apply(&mut out);
    Ok(out)
}

/// The provider's stream, translated to OpenAI's SSE chunk by chunk. When
/// the upstream ends, fails, or the client goes away (the stream is
/// dropped), it reports what it saw exactly once.
struct ProxyStream {
    upstream: Option<ByteStream>,
    translator: AnswerStream,
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
        // Dropped before the upstream ended: the client left. Keep reading
        // the provider's stream in the background for its exact usage; the
        // settlement (in `waitUntil`) waits for this report.
        let (Some(upstream), Some(report)) = (self.upstream.take(), self.report.take()) else {
            return;
        };
        let translator = std::mem::replace(
            &mut self.translator,
            AnswerStream::new(Dialect::Chat, ProviderKind::Other, "", "", 0),
        );
        wasm_bindgen_futures::spawn_local(drain(upstream, translator, report));
    }
}

/// Reads what is left of the provider's stream (output discarded) and
/// reports the outcome: completed with the provider's usage when it ended
/// within [`DRAIN_AFTER_CLIENT_LEFT_MS`], else incomplete with what was seen.
async fn drain(
    mut upstream: ByteStream,
    mut translator: AnswerStream,
    report: oneshot::Sender<AnswerOutcome>,
) {
    let ended = {
        let reading = std::pin::pin!(async {
            while let Some(chunk) = upstream.next().await {
                match chunk {
                    Ok(bytes) => {
                        let _ = translator.push(&bytes);
                        if translator.failed() {
                            break;
                        }
                    }
                    Err(e) => {
                        console_error!("provider stream broke after the client left: {e}");
                        break;
                    }
                }
            }
        });
        let deadline = std::pin::pin!(Delay::from(std::time::Duration::from_millis(
            DRAIN_AFTER_CLIENT_LEFT_MS
        )));
        matches!(select(reading, deadline).await, Either::Left(_))
    };
    let completed = ended && {
        let _ = translator.finish_with(|_| None);
        !translator.failed()
    };
    let _ = report.send(AnswerOutcome {
        usage: translator.usage(),
        output_chars: translator.output_chars(),
        completed,
    });
}
