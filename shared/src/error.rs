//! The one error type of the product.
//!
//! Every failure a client can see is an [`ApiError`]: a status, a stable
//! snake_case `code()` and a public message. Internal causes (database
//! errors, stack traces, provider keys) are logged by the Worker and never put
//! into an `ApiError`'s public fields. Two renderings exist: the contract's
//! flat shape `{"error": code, "message": …, …extra}` and OpenAI's envelope
//! `{"error": {"message", "type", "code", "param": null, …extra}}` for `/v1/*`.

use serde_json::{Map, Value};

/// A client-visible error. `extra` holds the additional top-level fields of
/// the contract (`field`, `provider`, `status`, the 429 fields, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// Adds (or replaces) an extra top-level field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn invalid_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "invalid_json",
            format!("Body is not valid JSON: {detail}"),
        )
    }

    /// 400 `invalid_request` naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", message).with("field", field)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }

    pub fn payload_too_large(max: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("Body exceeds the maximum of {max} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "Send the body as JSON with content-type: application/json",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "method_not_allowed",
            "Method not allowed on this route",
        )
    }

    /// 500 with a generic public message; the cause goes to the log only.
    pub fn internal() -> Self {
        Self::new(500, "internal_error", "Internal error")
    }

    pub fn limiter_unavailable() -> Self {
        Self::new(
            503,
            "limiter_unavailable",
            "The usage counter could not be reached; nothing was forwarded",
        )
    }

    pub fn provider_timeout(provider: &str) -> Self {
        Self::new(
            504,
            "provider_timeout",
            "The provider did not answer in time",
        )
        .with("provider", provider)
    }

    pub fn provider_error(provider: &str, status: u16, message: impl Into<String>) -> Self {
        Self::new(502, "provider_error", message)
            .with("provider", provider)
            .with("status", status)
    }

    /// The contract's flat shape: `{"error": code, "message": text, …extra}`.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    /// OpenAI's error envelope, for the drop-in `/v1/*` routes.
    pub fn to_openai_json(&self) -> Value {
        let mut inner = Map::new();
        inner.insert("message".into(), Value::from(self.message.clone()));
        inner.insert("type".into(), Value::from(openai_error_type(self.status)));
        inner.insert("code".into(), Value::from(self.code));
        inner.insert("param".into(), Value::Null);
        for (k, v) in &self.extra {
            inner.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut body = Map::new();
        body.insert("error".into(), Value::Object(inner));
        Value::Object(body)
    }
}

/// OpenAI's `error.type` for a status, as docs/API.md ("Errors") maps it.
pub fn openai_error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_exceeded",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_shape_carries_code_message_and_extra_fields() {
        let e = ApiError::invalid_field("tier", "Unknown tier 'gold'");
        let v = e.to_json();
        assert_eq!(v["error"], "invalid_request");
        assert_eq!(v["message"], "Unknown tier 'gold'");
        assert_eq!(v["field"], "tier");
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn openai_envelope_maps_types_and_keeps_extra_fields() {
        let e = ApiError::new(429, "limit_exceeded", "over").with("deepLink", "app://up");
        let v = e.to_openai_json();
        assert_eq!(v["error"]["type"], "rate_limit_exceeded");
        assert_eq!(v["error"]["code"], "limit_exceeded");
        assert_eq!(v["error"]["deepLink"], "app://up");
        assert_eq!(v["error"]["param"], Value::Null);
        assert_eq!(openai_error_type(413), "invalid_request_error");
        assert_eq!(openai_error_type(503), "api_error");
        assert_eq!(openai_error_type(401), "authentication_error");
    }
}
