//! Parsing and validating a proxy request body (docs/API.md,
//! "POST /api/v1/proxy/chat") before any I/O.
//!
//! The body is OpenAI's chat format plus `identity`, `tier`,
//! `identityToken` and `limitType`. Those four are read and removed here
//! (the project key never is in the body); the rest is parsed once into the
//! typed [`ChatRequest`], which is what every provider's request is built
//! from. `max_tokens`, `max_completion_tokens` and `n` size the token
//! reservation, so they are validated there (see [`crate::budget`]);
//! everything else OpenAI accepts is passed through untouched.

use crate::chat::ChatRequest;
use crate::error::ApiError;
use crate::values::{Identity, ModelId, TierName};
use serde_json::{Map, Value};

pub const PROXY_ONLY_FIELDS: [&str; 4] = ["identity", "tier", "identityToken", "limitType"];

/// A parsed proxy request: who it is for and the body to forward (`B`: the
/// typed [`ChatRequest`] on the chat routes, the embeddings body as JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyRequest<B = ChatRequest> {
    pub identity: Option<Identity>,
    pub tier: Option<TierName>,
    pub identity_token: Option<String>,
    pub model: String,
    pub stream: bool,
    /// Characters of prompt text (message contents and text parts).
    pub prompt_chars: u64,
    /// The body to forward: the app's body without the proxy-only fields.
    pub forward: B,
}

impl<B> ProxyRequest<B> {
    /// The same request with its body mapped.
    pub fn map_forward<C>(self, f: impl FnOnce(B) -> C) -> ProxyRequest<C> {
        ProxyRequest {
            identity: self.identity,
            tier: self.tier,
            identity_token: self.identity_token,
            model: self.model,
            stream: self.stream,
            prompt_chars: self.prompt_chars,
            forward: f(self.forward),
        }
    }
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

/// Parses the body. `stream_route` is true on `/chat/stream`. The proxy-only
/// fields are read and removed here; the rest is typed once by
/// [`ChatRequest::from_object`].
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
    for f in PROXY_ONLY_FIELDS {
        obj.remove(f);
    }
    let chat = ChatRequest::from_object(obj)?;
    Ok(ProxyRequest {
        identity,
        tier,
        identity_token,
        model: ModelId::parse("model", &chat.model)?.into_string(),
        stream: chat.stream.unwrap_or(false) || stream_route,
        prompt_chars: chat.prompt_chars(),
        forward: chat,
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
        let sent = serde_json::to_value(&r.forward).unwrap_or_default();
        assert!(sent.get("identity").is_none() && sent.get("limitType").is_none());
        assert_eq!(sent.get("temperature"), Some(&json!(0.2)));
        assert_eq!(r.forward.field("temperature"), Some(&json!(0.2)));
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
            forward: ChatRequest {
                model: String::new(),
                messages: Vec::new(),
                stream: None,
                max_tokens: None,
                max_completion_tokens: None,
                n: None,
                extra: Map::new(),
            },
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
