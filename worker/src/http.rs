//! Response building and body reading shared by every route.
//!
//! Handlers return `ApiResult<Response>`; an `ApiError` becomes the
//! contract's JSON shape here (or OpenAI's envelope on `/v1/*`). Internal
//! causes are logged with [`internal`] and replaced by a generic message.

use shared::ApiError;
use worker::{console_error, Headers, Request, Response};

pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// Logs an internal failure and returns the public 500.
pub fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
    console_error!("{context}: {e}");
    ApiError::internal()
}

/// Extension to turn `worker::Result` into `ApiResult` with a logged cause.
pub trait OrInternal<T> {
    fn or_internal(self, context: &str) -> ApiResult<T>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for std::result::Result<T, E> {
    fn or_internal(self, context: &str) -> ApiResult<T> {
        self.map_err(|e| internal(context, e))
    }
}

pub fn json_response(status: u16, body: &serde_json::Value) -> ApiResult<Response> {
    let text = serde_json::to_string(body).or_internal("encode json")?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .or_internal("set header")?;
    Ok(Response::ok(text)
        .or_internal("build response")?
        .with_status(status)
        .with_headers(headers))
}

/// A response whose body is `bytes` as they are.
pub fn bytes_response(status: u16, content_type: &str, bytes: Vec<u8>) -> ApiResult<Response> {
    let headers = Headers::new();
    headers
        .set("content-type", content_type)
        .or_internal("set header")?;
    Ok(Response::from_bytes(bytes)
        .or_internal("build response")?
        .with_status(status)
        .with_headers(headers))
}

pub fn empty_response(status: u16) -> ApiResult<Response> {
    Ok(Response::empty()
        .or_internal("build response")?
        .with_status(status))
}

/// Renders an error in the contract's shape, or OpenAI's envelope.
pub fn error_response(e: &ApiError, openai_envelope: bool) -> worker::Result<Response> {
    let body = if openai_envelope {
        e.to_openai_json()
    } else {
        e.to_json()
    };
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(body.to_string())?
        .with_status(e.status())
        .with_headers(headers))
}

pub fn set_header(resp: &mut Response, name: &str, value: &str) {
    if let Err(e) = resp.headers_mut().set(name, value) {
        console_error!("set header {name}: {e}");
    }
}

/// Reads a JSON body: checks the content type and the size cap before
/// parsing, so bad input is a 4xx before any I/O.
pub async fn read_json_body(
    req: &mut Request,
    max_bytes: usize,
) -> ApiResult<(Vec<u8>, serde_json::Value)> {
    let content_type = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.is_empty() && !content_type.contains("json") {
        return Err(ApiError::unsupported_media_type());
    }
    if let Some(len) = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > max_bytes {
            return Err(ApiError::payload_too_large(max_bytes));
        }
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::invalid_body("Could not read the request body"))?;
    if bytes.len() > max_bytes {
        return Err(ApiError::payload_too_large(max_bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_json("the body is empty"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(ApiError::invalid_json)?;
    Ok((bytes, value))
}

/// A fetched answer's whole body, read in one call (`arrayBuffer()`). The
/// workers-rs `Response::bytes` reads a fetched body through a stream
/// reader, a JS call per chunk plus the lock's release, which the proxy's
/// CPU profile showed as one of its largest costs.
pub async fn body_bytes(resp: &worker::Response) -> worker::Result<Vec<u8>> {
    let worker::ResponseBody::Stream(stream) = resp.body() else {
        return match resp.body() {
            worker::ResponseBody::Body(bytes) => Ok(bytes.clone()),
            _ => Ok(Vec::new()),
        };
    };
    let whole = worker::web_sys::Response::new_with_opt_readable_stream(Some(stream))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(whole.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The value of a query parameter.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Percent-encodes a header value (UTF-8 bytes outside unreserved ASCII).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~ !'()*,;:/?@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded path segment (UTF-8); bad escapes are a 400.
pub fn percent_decode(segment: &str) -> ApiResult<String> {
    let bad =
        || ApiError::invalid_field("identity", "the path segment is not valid percent-encoding");
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = segment.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}
