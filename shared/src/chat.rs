//! The app's chat-completions body, typed (docs/API.md,
//! "POST /api/v1/proxy/chat").
//!
//! Invariant: a chat body is parsed and validated once, by
//! [`ChatRequest::from_object`] (called from [`crate::proxy_request::parse`]);
//! everything downstream (the prompt size, the output budget, every
//! provider's request body) reads these types, never the raw JSON again.
//! Fields the proxy does not interpret are kept verbatim in `extra` (on the
//! request and on each message) and forwarded as they came, so an
//! OpenAI-compatible provider receives the app's body unchanged in meaning.
//! Content parts stay JSON values: their shapes vary by part type and are
//! read only by the translating providers.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::budget::RequestedOutput;
use crate::error::ApiError;
use crate::values::ModelId;

/// A message's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "system" => Some(Self::System),
            "developer" => Some(Self::Developer),
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            "tool" => Some(Self::Tool),
            _ => None,
        }
    }
}

/// A message's `content`: text, content parts, or an explicit `null`
/// (assistant messages that only call tools).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Value>),
    Null,
}

impl Content {
    /// The text parts (`{"type":"text","text":…}` or any part with a
    /// string `text`).
    fn text_parts(parts: &[Value]) -> impl Iterator<Item = &str> {
        parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
    }

    /// The text: the string, or the text parts joined with `\n`.
    pub fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Parts(parts) => Self::text_parts(parts).collect::<Vec<_>>().join("\n"),
            Self::Null => String::new(),
        }
    }

    /// Characters of prompt text (the string, or every text part).
    pub fn chars(&self) -> u64 {
        let count = |s: &str| s.chars().count() as u64;
        match self {
            Self::Text(s) => count(s),
            Self::Parts(parts) => Self::text_parts(parts).map(count).sum(),
            Self::Null => 0,
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Every other field (`name`, `tool_calls`, `tool_call_id`, …), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    /// The content's text (empty when there is none).
    pub fn text(&self) -> String {
        self.content.as_ref().map(Content::text).unwrap_or_default()
    }

    /// A string field kept in `extra` (`tool_call_id`, `name`).
    pub fn str_field(&self, field: &str) -> Option<&str> {
        self.extra.get(field).and_then(Value::as_str)
    }

    /// The assistant's `tool_calls`, when it is an array.
    pub fn tool_calls(&self) -> &[Value] {
        self.extra
            .get("tool_calls")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

/// An OpenAI chat-completions request, without the proxy-only fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    /// The model as the app spelled it.
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// Every field the proxy does not interpret, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, msg)
}

/// One message, validated: a known role and a string or array content
/// (absent or `null` only on assistant messages).
fn message(i: usize, m: Value) -> Result<ChatMessage, ApiError> {
    let role_error = || {
        bad(
            &format!("messages[{i}].role"),
            "role must be system, developer, user, assistant or tool",
        )
    };
    let Value::Object(mut extra) = m else {
        return Err(role_error());
    };
    let role = extra
        .remove("role")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(Role::parse)
        .ok_or_else(role_error)?;
    let content = match extra.remove("content") {
        Some(Value::String(s)) => Some(Content::Text(s)),
        Some(Value::Array(parts)) => Some(Content::Parts(parts)),
        None if role == Role::Assistant => None,
        Some(Value::Null) if role == Role::Assistant => Some(Content::Null),
        _ => {
            return Err(bad(
                &format!("messages[{i}].content"),
                "content must be a string or an array of content parts",
            ))
        }
    };
    Ok(ChatMessage {
        role,
        content,
        extra,
    })
}

/// A validated positive integer field (validated by [`RequestedOutput`]).
fn take_count(obj: &mut Map<String, Value>, field: &str) -> Option<u64> {
    obj.remove(field).and_then(|v| v.as_u64())
}

impl ChatRequest {
    /// Validates and types a chat body (proxy-only fields already read).
    /// Errors, in order: `model`, `messages`, `messages[i].role` /
    /// `messages[i].content`, the output fields ([`RequestedOutput`]),
    /// `stream`.
    pub fn from_object(mut obj: Map<String, Value>) -> Result<Self, ApiError> {
        let model = match obj.get("model") {
            Some(Value::String(m)) => {
                ModelId::parse("model", m)?;
                m.clone()
            }
            _ => return Err(bad("model", "model is required")),
        };
        let raw = match obj.remove("messages") {
            Some(Value::Array(m)) if !m.is_empty() => m,
            Some(Value::Array(_)) => return Err(bad("messages", "messages must not be empty")),
            _ => {
                return Err(bad(
                    "messages",
                    "messages must be an array of {role, content}",
                ))
            }
        };
        let messages = raw
            .into_iter()
            .enumerate()
            .map(|(i, m)| message(i, m))
            .collect::<Result<Vec<_>, _>>()?;
        RequestedOutput::from_body(&obj)?;
        let stream = match obj.get("stream") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(bad("stream", "stream must be true or false")),
        };
        obj.remove("model");
        obj.remove("stream");
        Ok(Self {
            model,
            messages,
            stream,
            max_tokens: take_count(&mut obj, "max_tokens"),
            max_completion_tokens: take_count(&mut obj, "max_completion_tokens"),
            n: take_count(&mut obj, "n"),
            extra: obj,
        })
    }

    /// Characters of prompt text over every message.
    pub fn prompt_chars(&self) -> u64 {
        self.messages
            .iter()
            .filter_map(|m| m.content.as_ref())
            .fold(0, |sum, c| sum.saturating_add(c.chars()))
    }

    /// The output the app asked for (the fields were validated on parse).
    pub fn requested_output(&self) -> RequestedOutput {
        RequestedOutput {
            max_tokens: self.max_tokens.or(self.max_completion_tokens),
            choices: self.n.unwrap_or(1),
        }
    }

    /// A field the proxy does not interpret.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.extra.get(name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(v: Value) -> Result<ChatRequest, ApiError> {
        ChatRequest::from_object(v.as_object().cloned().unwrap())
    }

    fn error(v: Value) -> (String, String) {
        let e = chat(v).unwrap_err();
        assert_eq!(e.status(), 400);
        (
            e.field().unwrap_or_default().to_string(),
            e.message().to_string(),
        )
    }

    #[test]
    fn unknown_fields_pass_through_untouched() {
        let body = json!({"model": "gpt-4o", "temperature": 0.2, "user": "u1",
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"a": [1, 2.5, null]}}},
        "logit_bias": {"50256": -100}, "max_tokens": 9, "n": 2, "stream": false,
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}}], "name": "ann"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}], "refusal": null},
            {"role": "assistant", "tool_calls": []},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}
        ]});
        let c = chat(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), body);
        assert_eq!(c.messages[2].content, Some(Content::Null));
        assert_eq!(c.messages[3].content, None);
        assert_eq!(c.messages[4].str_field("tool_call_id"), Some("c1"));
        assert_eq!(c.messages[2].tool_calls().len(), 1);
        assert_eq!(c.field("temperature"), Some(&json!(0.2)));
        assert_eq!(c.prompt_chars(), "be brief".len() as u64 + 2 + 2);
        let out = c.requested_output();
        assert_eq!((out.max_tokens, out.choices), (Some(9), 2));
    }

    #[test]
    fn each_validation_error_is_unchanged() {
        let msgs = json!([{"role": "user", "content": "hi"}]);
        let cases = [
            (json!({"messages": msgs}), "model", "model is required"),
            (
                json!({"model": 5, "messages": msgs}),
                "model",
                "model is required",
            ),
            (
                json!({"model": "m"}),
                "messages",
                "messages must be an array of {role, content}",
            ),
            (
                json!({"model": "m", "messages": {}}),
                "messages",
                "messages must be an array of {role, content}",
            ),
            (
                json!({"model": "m", "messages": []}),
                "messages",
                "messages must not be empty",
            ),
            (
                json!({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}),
                "messages[0].role",
                "role must be system, developer, user, assistant or tool",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}, "nope"]}),
                "messages[1].role",
                "role must be system, developer, user, assistant or tool",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user"}]}),
                "messages[0].content",
                "content must be a string or an array of content parts",
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": null}]}),
                "messages[0].content",
                "content must be a string or an array of content parts",
            ),
            (
                json!({"model": "m", "messages": [{"role": "assistant", "content": 3}]}),
                "messages[0].content",
                "content must be a string or an array of content parts",
            ),
            (
                json!({"model": "m", "messages": msgs, "max_tokens": 0}),
                "max_tokens",
                "max_tokens must be a positive integer up to 9007199254740991",
            ),
            (
                json!({"model": "m", "messages": msgs, "n": 129}),
                "n",
                "n must be a positive integer up to 128",
            ),
            (
                json!({"model": "m", "messages": msgs, "max_tokens": 1, "max_completion_tokens": 2}),
                "max_completion_tokens",
                "max_tokens and max_completion_tokens disagree; send one of them",
            ),
            (
                json!({"model": "m", "messages": msgs, "stream": "yes"}),
                "stream",
                "stream must be true or false",
            ),
        ];
        for (body, field, message) in cases {
            assert_eq!(
                error(body.clone()),
                (field.to_string(), message.to_string()),
                "{body}"
            );
        }
        let (field, message) = error(json!({"model": "a\u{0}b", "messages": msgs}));
        assert_eq!(field, "model");
        assert!(message.starts_with("model must be 1 to"));
    }

    #[test]
    fn null_output_fields_mean_the_default() {
        let c = chat(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "max_tokens": null, "n": null, "stream": null}),
        )
        .unwrap();
        assert_eq!(c.requested_output(), RequestedOutput::default());
        assert_eq!(c.stream, None);
    }
}
