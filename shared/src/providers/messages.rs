//! Anthropic's Messages format as an app-facing shape (`POST /v1/messages`),
//! so that apps written against Anthropic's SDKs work unchanged.
//!
//! Request: [`to_chat`] maps a Messages body onto the typed chat request:
//! `system` (string or text blocks) → a system message; user turns' text
//! and image blocks → content parts, their `tool_result` blocks → `tool`
//! messages; assistant turns' `tool_use` blocks → `tool_calls`;
//! `max_tokens`, `stop_sequences`, `temperature`, `top_p`,
//! `metadata.user_id`, tools and `tool_choice` mapped. For Anthropic
//! projects the body is forwarded as is and the mapping only sizes the
//! reservation; anything unmappable is named in `unsupported` (a 400 for
//! the translated providers).
//!
//! Response: [`from_completion`] turns a `chat.completion` into a Messages
//! `message`. Stream: [`StreamWriter`] turns the chat chunk stream into
//! Anthropic's events (`message_start`, `content_block_*`, `message_delta`
//! with the usage, `message_stop`), event by event.

use serde_json::{json, Map, Value};

use super::responses::write_event;
use super::Usage;
use crate::error::ApiError;

/// A Messages body mapped to the chat shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatForm {
    pub body: Map<String, Value>,
    pub unsupported: Option<String>,
}

fn block_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn image_part(block: &Value) -> Option<Value> {
    let src = block.get("source")?;
    let url = match src.get("type").and_then(Value::as_str)? {
        "base64" => format!(
            "data:{};base64,{}",
            src.get("media_type").and_then(Value::as_str)?,
            src.get("data").and_then(Value::as_str)?
        ),
        "url" => src.get("url").and_then(Value::as_str)?.to_string(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// Maps a Messages request body to the chat shape (see the module docs).
pub fn to_chat(body: &Map<String, Value>) -> ChatForm {
    let mut unsupported: Option<String> = None;
    let mut messages = Vec::new();
    let system = block_text(body.get("system"));
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for turn in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = turn.get("role").and_then(Value::as_str).unwrap_or_default();
        let content = turn.get("content");
        if let Some(Value::String(s)) = content {
            messages.push(json!({"role": role, "content": s}));
            continue;
        }
        let blocks = content
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut parts = Vec::new();
        let mut calls = Vec::new();
        for b in &blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => {
                    let t = b.get("text").and_then(Value::as_str).unwrap_or_default();
                    parts.push(json!({"type": "text", "text": t}));
                }
                Some("image") => match image_part(b) {
                    Some(p) => parts.push(p),
                    None => {
                        unsupported.get_or_insert_with(|| "messages[].content[].source".into());
                    }
                },
                Some("tool_use") => calls.push(json!({
                    "id": b.get("id").cloned().unwrap_or(Value::Null),
                    "type": "function",
                    "function": {
                        "name": b.get("name").cloned().unwrap_or(Value::Null),
                        "arguments": b.get("input").map_or_else(|| "{}".to_string(), Value::to_string),
                    },
                })),
                Some("tool_result") => messages.push(json!({
                    "role": "tool",
                    "tool_call_id": b.get("tool_use_id").cloned().unwrap_or(Value::Null),
                    "content": block_text(b.get("content")),
                })),
                Some("thinking" | "redacted_thinking") => {}
                other => {
                    unsupported.get_or_insert_with(|| {
                        format!("messages[].content[] of type '{}'", other.unwrap_or("(none)"))
                    });
                }
            }
        }
        if role == "assistant" {
            let text = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<String>();
            let mut m = json!({"role": "assistant", "content": text});
            if !calls.is_empty() {
                m["tool_calls"] = Value::Array(calls);
                if text.is_empty() {
                    m["content"] = Value::Null;
                }
            }
            messages.push(m);
        } else if !parts.is_empty() {
            messages.push(json!({"role": role, "content": parts}));
        }
    }
    // Only blocks with no chat form (say documents): the native path still
    // forwards them, so the chat form keeps one empty turn to validate.
    if unsupported.is_some() && !messages.iter().any(|m| m["role"] != "system") {
        messages.push(json!({"role": "user", "content": ""}));
    }
    let mut out = Map::new();
    if let Some(m) = body.get("model") {
        out.insert("model".into(), m.clone());
    }
    out.insert("messages".into(), Value::Array(messages));
    for (from, to) in [
        ("max_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("stop_sequences", "stop"),
        ("stream", "stream"),
        ("identity", "identity"),
        ("tier", "tier"),
        ("identityToken", "identityToken"),
    ] {
        if let Some(v) = body.get(from).filter(|v| !v.is_null()) {
            out.insert(to.into(), v.clone());
        }
    }
    if let Some(u) = body
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .filter(|v| v.is_string())
    {
        out.insert("user".into(), u.clone());
    }
    if let Some(Value::Array(tools)) = body.get("tools") {
        let mut chat_tools = Vec::new();
        for t in tools {
            let custom = t
                .get("type")
                .and_then(Value::as_str)
                .is_none_or(|k| k == "custom");
            if !custom {
                unsupported.get_or_insert_with(|| "tools[] other than custom tools".into());
                continue;
            }
            let mut f = Map::new();
            if let Some(n) = t.get("name") {
                f.insert("name".into(), n.clone());
            }
            if let Some(d) = t.get("description") {
                f.insert("description".into(), d.clone());
            }
            if let Some(s) = t.get("input_schema") {
                f.insert("parameters".into(), s.clone());
            }
            chat_tools.push(json!({"type": "function", "function": f}));
        }
        if !chat_tools.is_empty() {
            out.insert("tools".into(), Value::Array(chat_tools));
        }
    }
    if let Some(choice) = body.get("tool_choice") {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("auto") => Some(json!("auto")),
            Some("any") => Some(json!("required")),
            Some("none") => Some(json!("none")),
            Some("tool") => Some(
                json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or(Value::Null)}}),
            ),
            _ => None,
        };
        if let Some(m) = mapped {
            out.insert("tool_choice".into(), m);
        }
    }
    ChatForm {
        body: out,
        unsupported,
    }
}

/// Checks what Anthropic itself requires of a Messages body.
pub fn validate(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => {}
        _ => {
            return Err(ApiError::invalid_field(
                "messages",
                "messages must be a non-empty array of {role, content}",
            ))
        }
    }
    if !body.get("max_tokens").is_some_and(Value::is_u64) {
        return Err(ApiError::invalid_field(
            "max_tokens",
            "max_tokens is required (a positive integer)",
        ));
    }
    Ok(())
}

fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Messages `usage`.
pub fn usage_json(u: Usage) -> Value {
    json!({"input_tokens": u.input_tokens, "output_tokens": u.output_tokens})
}

/// A `chat.completion` → an Anthropic `message`.
pub fn from_completion(completion: &Value, id: &str) -> Value {
    let model = completion
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let choice = completion.pointer("/choices/0");
    let message = choice.and_then(|c| c.get("message"));
    let mut content = Vec::new();
    if let Some(t) = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": t}));
    }
    for call in message
        .and_then(|m| m.get("tool_calls"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .unwrap_or_else(|| json!({}));
        content.push(json!({"type": "tool_use",
            "id": call.get("id").cloned().unwrap_or(Value::Null),
            "name": call.pointer("/function/name").cloned().unwrap_or(Value::Null),
            "input": args}));
    }
    let usage = completion
        .get("usage")
        .and_then(super::openai::usage_of)
        .unwrap_or_default();
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str)),
        "stop_sequence": null,
        "usage": usage_json(usage),
    })
}

/// Chat chunks → Anthropic stream events.
pub struct StreamWriter {
    id: String,
    model: String,
    started: bool,
    /// The open content block: its index and whether it is text.
    open: Option<(u64, bool)>,
    next_block: u64,
    /// Chat tool-call slot → block index.
    tool_blocks: Vec<(u64, u64)>,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl StreamWriter {
    pub fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_string(),
            model: model.to_string(),
            started: false,
            open: None,
            next_block: 0,
            tool_blocks: Vec::new(),
            finish: None,
            usage: None,
        }
    }

    fn emit(out: &mut Vec<u8>, name: &str, mut data: Value) {
        if let Some(o) = data.as_object_mut() {
            o.insert("type".into(), Value::from(name));
        }
        write_event(out, name, &data);
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        Self::emit(
            out,
            "message_start",
            json!({"message": {"id": self.id, "type": "message", "role": "assistant",
                "model": self.model, "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0}}}),
        );
    }

    fn close_block(&mut self, out: &mut Vec<u8>) {
        if let Some((index, _)) = self.open.take() {
            Self::emit(out, "content_block_stop", json!({"index": index}));
        }
    }

    fn open_block(&mut self, out: &mut Vec<u8>, block: Value, text: bool) -> u64 {
        self.close_block(out);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some((index, text));
        Self::emit(
            out,
            "content_block_start",
            json!({"index": index, "content_block": block}),
        );
        index
    }

    /// Handles one chat event's data; returns the Anthropic bytes.
    pub fn on_data(&mut self, data: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if data == "[DONE]" {
            self.start(&mut out);
            self.close_block(&mut out);
            let usage = self.usage.unwrap_or_default();
            Self::emit(
                &mut out,
                "message_delta",
                json!({"delta": {"stop_reason": stop_reason(self.finish.as_deref()), "stop_sequence": null},
                       "usage": usage_json(usage)}),
            );
            Self::emit(&mut out, "message_stop", json!({}));
            return out;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return out;
        };
        if let Some(err) = chunk.get("error") {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("The provider failed mid-stream");
            out.extend(error_event(message));
            return out;
        }
        self.start(&mut out);
        if let Some(u) = chunk.get("usage").and_then(super::openai::usage_of) {
            self.usage = Some(u);
        }
        let choice = chunk.pointer("/choices/0");
        let delta = choice.and_then(|c| c.get("delta"));
        if let Some(text) = delta
            .and_then(|d| d.get("content"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let index = match self.open {
                Some((i, true)) => i,
                _ => self.open_block(&mut out, json!({"type": "text", "text": ""}), true),
            };
            Self::emit(
                &mut out,
                "content_block_delta",
                json!({"index": index, "delta": {"type": "text_delta", "text": text}}),
            );
        }
        for call in delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let slot = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                let name = call
                    .pointer("/function/name")
                    .cloned()
                    .unwrap_or(Value::Null);
                let index = self.open_block(
                    &mut out,
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    false,
                );
                self.tool_blocks.push((slot, index));
            }
            let part = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let block = self
                .tool_blocks
                .iter()
                .find(|(s, _)| *s == slot)
                .map(|(_, b)| *b);
            if let (false, Some(index)) = (part.is_empty(), block) {
                Self::emit(
                    &mut out,
                    "content_block_delta",
                    json!({"index": index, "delta": {"type": "input_json_delta", "partial_json": part}}),
                );
            }
        }
        if let Some(f) = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
        {
            self.finish = Some(f.to_string());
        }
        out
    }
}

/// Anthropic's in-stream error event.
pub fn error_event(message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_event(
        &mut out,
        "error",
        &json!({"type": "error", "error": {"type": "api_error", "message": message}}),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn system_turns_tools_and_results_map_to_chat() {
        let f = to_chat(&obj(json!({"model": "m", "max_tokens": 64,
            "system": [{"type": "text", "text": "Be brief"}],
            "messages": [
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]}
            ],
            "tools": [{"name": "w", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any"}, "stop_sequences": ["x"]})));
        let m = &f.body["messages"];
        assert_eq!(m[0], json!({"role": "system", "content": "Be brief"}));
        assert_eq!(m[2]["tool_calls"][0]["function"]["arguments"], "{\"c\":1}");
        assert_eq!(m[3]["role"], "tool");
        assert_eq!(f.body["tool_choice"], "required");
        assert_eq!(f.body["stop"], json!(["x"]));
        assert_eq!(f.body["max_tokens"], 64);
        assert!(f.unsupported.is_none());
    }

    #[test]
    fn a_turn_of_only_untranslatable_blocks_keeps_an_empty_turn() {
        let f = to_chat(&obj(
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
            "content": [{"type": "document", "source": {"type": "text", "data": "x"}}]}]}),
        ));
        assert!(f.unsupported.is_some());
        assert_eq!(f.body["messages"], json!([{"role": "user", "content": ""}]));
    }

    #[test]
    fn max_tokens_and_messages_are_required() {
        assert!(validate(&obj(
            json!({"messages": [{"role": "user", "content": "x"}]})
        ))
        .is_err());
        assert!(validate(&obj(json!({"max_tokens": 5, "messages": []}))).is_err());
        assert!(validate(&obj(
            json!({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
        ))
        .is_ok());
    }

    #[test]
    fn a_completion_becomes_a_message() {
        let c = json!({"model": "m", "choices": [{"message": {"role": "assistant", "content": "Hi"},
            "finish_reason": "length"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
        let m = from_completion(&c, "msg_1");
        assert_eq!(m["content"][0]["text"], "Hi");
        assert_eq!(m["stop_reason"], "max_tokens");
        assert_eq!(m["usage"], json!({"input_tokens": 3, "output_tokens": 2}));
    }

    #[test]
    fn chat_chunks_become_anthropic_events_with_usage_in_message_delta() {
        let mut w = StreamWriter::new("msg_1", "m");
        let mut out = Vec::new();
        out.extend(w.on_data(r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#));
        out.extend(
            w.on_data(r#"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}"#),
        );
        out.extend(w.on_data("[DONE]"));
        let text = String::from_utf8_lossy(&out);
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert!(text.contains(r#""usage":{"input_tokens":4,"output_tokens":1}"#));
    }
}
