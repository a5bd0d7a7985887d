//! The upstream call: one POST to the provider, bounded by the provider
//! deadline for the answer's head (`504 provider_timeout`, the fetch is
//! aborted); a network failure or an unusable URL is `502 provider_error`.
//! The body is sent as built (no re-serialisation). Redirects are never
//! followed (`redirect: manual`): a public base URL answering 302 to an
//! internal address gets that 302 back, which is a `502 provider_error`
//! naming status 302, and the internal address is never fetched.

use crate::http::{ApiResult, OrInternal};
use futures_util::future::{select, Either};
use shared::providers::{ProviderKind, UpstreamRequest};
use shared::ApiError;
use std::time::Duration;
use worker::{
    console_error, AbortController, Delay, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect, Response,
};

pub async fn send(
    built: &UpstreamRequest,
    timeout_ms: u64,
    provider: ProviderKind,
) -> ApiResult<Response> {
    let provider = provider.as_str();
    let headers = Headers::new();
    for (k, v) in &built.headers {
        headers.set(k, v).or_internal("upstream header")?;
    }
    let controller = AbortController::default();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_redirect(RequestRedirect::Manual)
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
