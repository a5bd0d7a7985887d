//! Parsing and validating a proxy request body (docs/API.md,
//! "POST /api/v1/proxy/chat") before any I/O.
//!
//! The body is OpenAI's chat format plus `identity`, `tier`,
//! `identityToken` and `limitType`. Those four are removed before the body is
//! forwarded (the project key never is in it). `max_tokens`,
//! `max_completion_tokens` and `n` size the token reservation, so they are
//! validated here (see [`crate::budget`]); everything else OpenAI accepts is
//! passed through untouched.

use crate::budget::RequestedOutput;
use crate::error::ApiError;
use crate::values::{Identity, ModelId, TierName};
use serde_json::{Map, Value};

pub const PROXY_ONLY_FIELDS: [&str; 4] = ["identity", "tier", "identityToken", "limitType"];
const ROLES: [&str; 5] = ["system", "user", "assistant", "tool", "developer"];

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyRequest {
    pub identity: Option<Identity>,
    pub tier: Option<TierName>,
    pub identity_token: Option<String>,
    pub model: String,
    pub stream: bool,
    /// Characters of prompt text (message contents and text parts).
    pub prompt_chars: u64,
    /// The body to forward: the app's body without the proxy-only fields.
    pub forward: Map<String, Value>,
}

fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, msg)
}

fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, format!("{field} must be a string"))),
    }
}

fn content_chars(content: &Value) -> u64 {
    match content {
        Value::String(s) => s.chars().count() as u64,
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .map(|t| t.chars().count() as u64)
            .sum(),
        _ => 0,
    }
}

/// Parses the body. `stream_route` is true on `/chat/stream`.
pub fn parse(body: Value, stream_route: bool) -> Result<ProxyRequest, ApiError> {
    let Value::Object(mut obj) = body else {
        return Err(ApiError::invalid_body("The body must be a JSON object"));
    };
    let identity = optional_string(&obj, "identity")?
        .map(|i| Identity::parse("identity", &i))
        .transpose()?;
    let tier = optional_string(&obj, "tier")?
        .map(|t| TierName::parse("tier", &t))
        .transpose()?;
    let identity_token = optional_string(&obj, "identityToken")?;
    match obj.get("limitType") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "requests" || s == "tokens" => {}
        Some(_) => return Err(bad("limitType", "limitType must be 'requests' or 'tokens'")),
    }
    let model = match obj.get("model") {
        Some(Value::String(m)) => ModelId::parse("model", m)?.into_string(),
        _ => return Err(bad("model", "model is required")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return Err(bad("messages", "messages must not be empty")),
        _ => {
            return Err(bad(
                "messages",
                "messages must be an array of {role, content}",
            ))
        }
    };
    let mut prompt_chars = 0u64;
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        if !ROLES.contains(&role) {
            return Err(bad(
                &format!("messages[{i}].role"),
                "role must be system, developer, user, assistant or tool",
            ));
        }
        match m.get("content") {
            Some(Value::String(_)) | Some(Value::Array(_)) => {}
            None | Some(Value::Null) if role == "assistant" => {}
            _ => {
                return Err(bad(
                    &format!("messages[{i}].content"),
                    "content must be a string or an array of content parts",
                ))
            }
        }
        prompt_chars = prompt_chars.saturating_add(m.get("content").map_or(0, content_chars));
    }
    RequestedOutput::from_body(&obj)?;
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => stream_route,
        Some(Value::Bool(b)) => *b || stream_route,
        Some(_) => return Err(bad("stream", "stream must be true or false")),
    };
    for f in PROXY_ONLY_FIELDS {
        obj.remove(f);
    }
    Ok(ProxyRequest {
        identity,
        tier,
        identity_token,
        model,
        stream,
        prompt_chars,
        forward: obj,
    })
}

/// ⌈prompt characters / 4⌉, the prompt part of a token estimate.
pub fn prompt_estimate(prompt_chars: u64) -> u64 {
    prompt_chars.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(r: Result<ProxyRequest, ApiError>) -> String {
        r.err()
            .and_then(|e| e.field().map(String::from))
            .unwrap_or_default()
    }

    #[test]
    fn proxy_only_fields_are_removed_and_the_rest_forwarded() {
        let r = parse(
            json!({"identity": "u1", "tier": "free", "identityToken": null, "limitType": "tokens",
                   "model": "m", "messages": [{"role": "user", "content": "abcdefgh"}], "temperature": 0.2}),
            false,
        );
        let r = r.unwrap_or_else(panic_free);
        assert_eq!(r.model, "m");
        assert_eq!(r.identity.as_ref().map(Identity::as_str), Some("u1"));
        assert!(!r.forward.contains_key("identity") && !r.forward.contains_key("limitType"));
        assert_eq!(r.forward.get("temperature"), Some(&json!(0.2)));
        assert_eq!(r.prompt_chars, 8);
        assert!(!r.stream);
    }

    fn panic_free(_: ApiError) -> ProxyRequest {
        ProxyRequest {
            identity: None,
            tier: None,
            identity_token: None,
            model: String::new(),
            stream: false,
            prompt_chars: 0,
            forward: Map::new(),
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let base = || json!({"identity": "u", "model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let mut b = base();
        b["max_tokens"] = json!(0);
        assert_eq!(field(parse(b, false)), "max_tokens");
        let mut b = base();
        b["max_completion_tokens"] = json!(1.5);
        assert_eq!(field(parse(b, false)), "max_completion_tokens");
        let mut b = base();
        b["max_tokens"] = json!(1);
        b["max_completion_tokens"] = json!(5000);
        assert_eq!(field(parse(b, false)), "max_completion_tokens");
        let mut b = base();
        b["n"] = json!(0);
        assert_eq!(field(parse(b, false)), "n");
        let mut b = base();
        b["identity"] = json!("a\u{0}b");
        assert_eq!(field(parse(b, false)), "identity");
        let mut b = base();
        b["identity"] = json!("x".repeat(257));
        assert_eq!(field(parse(b, false)), "identity");
        let mut b = base();
        b["model"] = json!("gpt\u{0}x");
        assert_eq!(field(parse(b, false)), "model");
        let mut b = base();
        b["tier"] = json!("free tier");
        assert_eq!(field(parse(b, false)), "tier");
        let mut b = base();
        b["messages"] = json!([{"role": "wizard", "content": "x"}]);
        assert_eq!(field(parse(b, false)), "messages[0].role");
        let mut b = base();
        b.as_object_mut().map(|o| o.remove("model"));
        assert_eq!(field(parse(b, false)), "model");
        assert_eq!(field(parse(json!({"model": "m"}), false)), "messages");
    }

    #[test]
    fn stream_route_forces_streaming_and_text_parts_count_as_prompt() {
        let r = parse(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "héllo"}, {"type": "image_url", "image_url": {"url": "x"}}]}]}),
            true,
        );
        assert!(r.as_ref().is_ok_and(|r| r.stream && r.prompt_chars == 5));
        assert_eq!(prompt_estimate(5), 2);
        assert_eq!(prompt_estimate(0), 0);
    }
}
