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
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::web_sys::{AbortController, Headers, RequestInit, RequestRedirect};
use worker::{console_error, Delay, Response};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's `fetch(url, init)`: no `Request` object is built for
    /// the call (measured at about 0.1 ms of CPU per request).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_url(url: &str, init: &RequestInit) -> Result<js_sys::Promise, JsValue>;
}

pub async fn send(
    built: &UpstreamRequest,
    timeout_ms: u64,
    provider: ProviderKind,
) -> ApiResult<Response> {
    let provider = provider.as_str();
    let js = |e: JsValue| format!("{e:?}");
    let headers = Headers::new().map_err(js).or_internal("upstream headers")?;
    for (k, v) in &built.headers {
        headers
            .set(k, v)
            .map_err(js)
            .or_internal("upstream header")?;
    }
    let controller = AbortController::new()
        .map_err(js)
        .or_internal("abort controller")?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_redirect(RequestRedirect::Manual);
    init.set_headers(&headers);
    init.set_body(&js_sys::Uint8Array::from(built.body.as_slice()));
    init.set_signal(Some(&controller.signal()));
    let unusable = |e: JsValue| {
        console_error!("provider request: {e:?}");
        ApiError::provider_error(provider, 502, "The provider URL is not usable")
    };
    let promise = fetch_url(&built.url, &init).map_err(unusable)?;
    let sending = Box::pin(JsFuture::from(promise));
    let deadline = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match select(sending, deadline).await {
        Either::Left((Ok(resp), _)) => match resp.dyn_into::<worker::web_sys::Response>() {
            Ok(resp) => Ok(Response::from(resp)),
            Err(e) => Err(unusable(e)),
        },
        Either::Left((Err(e), _)) => {
            console_error!("provider fetch failed: {e:?}");
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
