//! The one error type of the product.
//!
//! Every failure a client can see is an [`ApiError`]: an [`ErrorCode`] (which
//! carries its HTTP status, so a code and its status cannot disagree), a
//! public message, and for the errors that carry more the typed extra fields
//! ([`ErrorDetail`]). Internal causes (database errors, stack traces, provider
//! keys) are logged by the Worker and never put into an `ApiError`.
//!
//! Two renderings exist (docs/API.md, "Errors"): the flat shape
//! `{"error": code, "message": …, …extra}` and OpenAI's envelope
//! `{"error": {"message", "type", "code", "param": null, …extra}}` for `/v1/*`.

use serde::Serialize;
use serde_json::{Map, Value};

/// Every error code a client can receive, with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidJson,
    InvalidRequest,
    MissingProjectKey,
    InvalidProjectKey,
    InvalidIdentityToken,
    /// The dashboard API without a valid session.
    Unauthorized,
    /// A magic-link token that is unknown, used or expired.
    InvalidToken,
    OriginNotAllowed,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    LimitExceeded,
    /// A project budget (all identities together) is used up.
    ProjectBudgetExceeded,
    /// Too many magic-link requests.
    RateLimited,
    InternalError,
    ProviderError,
    LimiterUnavailable,
    /// The database (projects, rules, owner data) did not answer in time or
    /// is down, and nothing cached could stand in for it.
    ServiceUnavailable,
    ProviderTimeout,
}

impl ErrorCode {
    /// Every code, for documentation checks.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::InvalidJson,
        ErrorCode::InvalidRequest,
        ErrorCode::MissingProjectKey,
        ErrorCode::InvalidProjectKey,
        ErrorCode::InvalidIdentityToken,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidToken,
        ErrorCode::OriginNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::LimitExceeded,
        ErrorCode::ProjectBudgetExceeded,
        ErrorCode::RateLimited,
        ErrorCode::InternalError,
        ErrorCode::ProviderError,
        ErrorCode::LimiterUnavailable,
        ErrorCode::ServiceUnavailable,
        ErrorCode::ProviderTimeout,
    ];

    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson | ErrorCode::InvalidRequest => 400,
            ErrorCode::MissingProjectKey
            | ErrorCode::InvalidProjectKey
            | ErrorCode::InvalidIdentityToken
            | ErrorCode::Unauthorized
            | ErrorCode::InvalidToken => 401,
            ErrorCode::OriginNotAllowed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::LimitExceeded
            | ErrorCode::ProjectBudgetExceeded
            | ErrorCode::RateLimited => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::ProviderError => 502,
            ErrorCode::LimiterUnavailable | ErrorCode::ServiceUnavailable => 503,
            ErrorCode::ProviderTimeout => 504,
        }
    }

    /// The stable snake_case code sent as `error` (or `error.code`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::MissingProjectKey => "missing_project_key",
            ErrorCode::InvalidProjectKey => "invalid_project_key",
            ErrorCode::InvalidIdentityToken => "invalid_identity_token",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::LimitExceeded => "limit_exceeded",
            ErrorCode::ProjectBudgetExceeded => "project_budget_exceeded",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::ProviderError => "provider_error",
            ErrorCode::LimiterUnavailable => "limiter_unavailable",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::ProviderTimeout => "provider_timeout",
        }
    }

    /// OpenAI's `error.type` for this code's status on the `/v1/*` routes
    /// (docs/API.md, "Errors").
    pub const fn openai_type(self) -> &'static str {
        match self.status() {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_exceeded",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        }
    }
}

/// The rule that blocked a request, as the 429 names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRef {
    pub id: String,
    pub name: String,
}

/// The extra fields of a `429 limit_exceeded`: the window that blocked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitExceeded {
    pub deep_link: Option<String>,
    pub rule: Option<RuleRef>,
    pub tier: String,
    pub limit_type: Option<&'static str>,
    pub limit: Option<u64>,
    pub usage: Option<u64>,
    pub period: Option<&'static str>,
    pub reset_at: String,
    pub retry_after: u64,
}

/// The extra fields of a `429 project_budget_exceeded`: the budget that
/// refused (no deep link: an upgrade of the user does not reopen it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetExceeded {
    pub budget: String,
    pub limit_type: &'static str,
    pub period: &'static str,
    pub limit: u64,
    pub usage: u64,
    pub reset_at: String,
    pub retry_after: u64,
}

/// The typed extra fields an error carries besides `error` and `message`.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorDetail {
    None,
    /// `invalid_request`: the offending field as a dotted path.
    Field(String),
    /// `provider_error` / `provider_timeout`: which provider, and for an
    /// error answer the provider's status.
    Provider {
        provider: String,
        status: Option<u16>,
    },
    LimitExceeded(Box<LimitExceeded>),
    ProjectBudgetExceeded(Box<BudgetExceeded>),
}

/// A client-visible error.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    detail: ErrorDetail,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: ErrorDetail::None,
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    pub fn error_code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn detail(&self) -> &ErrorDetail {
        &self.detail
    }

    /// The field an `invalid_request` names, if any.
    pub fn field(&self) -> Option<&str> {
        match &self.detail {
            ErrorDetail::Field(f) => Some(f),
            _ => None,
        }
    }

    pub fn invalid_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::InvalidJson,
            format!("Body is not valid JSON: {detail}"),
        )
    }

    /// 400 `invalid_request` for the body as a whole (no one field).
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 400 `invalid_request` naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            detail: ErrorDetail::Field(field.to_string()),
            ..Self::new(ErrorCode::InvalidRequest, message)
        }
    }

    /// The same error, naming another field (for values checked before
    /// their place in the body is known).
    pub fn in_field(mut self, field: &str) -> Self {
        if let ErrorDetail::Field(f) = &mut self.detail {
            *f = field.to_string();
        }
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn payload_too_large(max: usize) -> Self {
        Self::new(
            ErrorCode::PayloadTooLarge,
            format!("Body exceeds the maximum of {max} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with content-type: application/json",
        )
    }

    /// 405; the Worker adds the `allow` header.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on this route"),
        )
    }

    /// 500 with a generic public message; the cause goes to the log only.
    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError, "Internal error")
    }

    pub fn limiter_unavailable() -> Self {
        Self::new(
            ErrorCode::LimiterUnavailable,
            "The usage counter could not be reached; nothing was forwarded",
        )
    }

    /// 503: the database is slow or down and no cached copy could answer.
    pub fn service_unavailable() -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "The service's database did not answer in time; nothing was forwarded. Retry shortly",
        )
    }

    pub fn provider_timeout(provider: &str) -> Self {
        Self {
            detail: ErrorDetail::Provider {
                provider: provider.to_string(),
                status: None,
            },
            ..Self::new(
                ErrorCode::ProviderTimeout,
                "The provider did not answer in time",
            )
        }
    }

    pub fn provider_error(provider: &str, status: u16, message: impl Into<String>) -> Self {
        Self {
            detail: ErrorDetail::Provider {
                provider: provider.to_string(),
                status: Some(status),
            },
            ..Self::new(ErrorCode::ProviderError, message)
        }
    }

    pub fn limit_exceeded(message: impl Into<String>, body: LimitExceeded) -> Self {
        Self {
            detail: ErrorDetail::LimitExceeded(Box::new(body)),
            ..Self::new(ErrorCode::LimitExceeded, message)
        }
    }

    pub fn project_budget_exceeded(message: impl Into<String>, body: BudgetExceeded) -> Self {
        Self {
            detail: ErrorDetail::ProjectBudgetExceeded(Box::new(body)),
            ..Self::new(ErrorCode::ProjectBudgetExceeded, message)
        }
    }

    /// The extra fields as JSON, in a stable order.
    fn extra(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match &self.detail {
            ErrorDetail::None => {}
            ErrorDetail::Field(f) => {
                m.insert("field".into(), Value::from(f.as_str()));
            }
            ErrorDetail::Provider { provider, status } => {
                m.insert("provider".into(), Value::from(provider.as_str()));
                if let Some(s) = status {
                    m.insert("status".into(), Value::from(*s));
                }
            }
            ErrorDetail::LimitExceeded(body) => {
                if let Ok(Value::Object(fields)) = serde_json::to_value(body) {
                    m = fields;
                }
            }
            ErrorDetail::ProjectBudgetExceeded(body) => {
                if let Ok(Value::Object(fields)) = serde_json::to_value(body) {
                    m = fields;
                }
            }
        }
        m
    }

    /// The flat shape: `{"error": code, "message": text, …extra}`.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(self.code()));
        body.insert("message".into(), Value::from(self.message.clone()));
        body.extend(self.extra());
        Value::Object(body)
    }

    /// OpenAI's error envelope, for the drop-in `/v1/*` routes.
    pub fn to_openai_json(&self) -> Value {
        let mut inner = Map::new();
        inner.insert("message".into(), Value::from(self.message.clone()));
        inner.insert("type".into(), Value::from(self.code.openai_type()));
        inner.insert("code".into(), Value::from(self.code()));
        inner.insert("param".into(), Value::Null);
        for (k, v) in self.extra() {
            inner.entry(k).or_insert(v);
        }
        let mut body = Map::new();
        body.insert("error".into(), Value::Object(inner));
        Value::Object(body)
    }
}

impl ApiError {
    /// Anthropic's error envelope, for `POST /v1/messages`:
    /// `{"type":"error","error":{"type","message","code",…extra}}`.
    pub fn to_anthropic_json(&self) -> Value {
        let kind = match self.status() {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            _ => "api_error",
        };
        let mut inner = Map::new();
        inner.insert("type".into(), Value::from(kind));
        inner.insert("message".into(), Value::from(self.message.clone()));
        inner.insert("code".into(), Value::from(self.code()));
        for (k, v) in self.extra() {
            inner.entry(k).or_insert(v);
        }
        let mut body = Map::new();
        body.insert("type".into(), Value::from("error"));
        body.insert("error".into(), Value::Object(inner));
        Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code(), self.message)
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

    fn blocked() -> ApiError {
        ApiError::limit_exceeded(
            "over",
            LimitExceeded {
                deep_link: Some("app://up".into()),
                rule: None,
                tier: "free".into(),
                limit_type: Some("requests"),
                limit: Some(5),
                usage: Some(5),
                period: Some("day"),
                reset_at: "2026-12-02T00:00:00Z".into(),
                retry_after: 60,
            },
        )
    }

    #[test]
    fn openai_envelope_maps_types_and_keeps_extra_fields() {
        let v = blocked().to_openai_json();
        assert_eq!(v["error"]["type"], "rate_limit_exceeded");
        assert_eq!(v["error"]["code"], "limit_exceeded");
        assert_eq!(v["error"]["deepLink"], "app://up");
        assert_eq!(v["error"]["param"], Value::Null);
        assert_eq!(v["error"]["rule"], Value::Null);
        assert_eq!(
            ErrorCode::PayloadTooLarge.openai_type(),
            "invalid_request_error"
        );
        assert_eq!(ErrorCode::LimiterUnavailable.openai_type(), "api_error");
        assert_eq!(
            ErrorCode::InvalidProjectKey.openai_type(),
            "authentication_error"
        );
    }

    #[test]
    fn the_429_body_has_every_field_of_the_blocking_window() {
        let v = blocked().to_json();
        for key in [
            "error",
            "message",
            "deepLink",
            "rule",
            "tier",
            "limitType",
            "limit",
            "usage",
            "period",
            "resetAt",
            "retryAfter",
        ] {
            assert!(v.get(key).is_some(), "{key} missing from {v}");
        }
        assert_eq!(v["limit"], 5);
        assert_eq!(blocked().status(), 429);
    }

    #[test]
    fn every_code_is_distinct_and_has_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!((400..600).contains(&code.status()));
        }
    }

    #[test]
    fn provider_errors_carry_the_provider_and_its_status() {
        let v = ApiError::provider_error("anthropic", 529, "overloaded").to_json();
        assert_eq!(v["provider"], "anthropic");
        assert_eq!(v["status"], 529);
        let t = ApiError::provider_timeout("google").to_json();
        assert_eq!(t["provider"], "google");
        assert!(t.get("status").is_none());
    }
}
