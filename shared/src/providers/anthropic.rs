//! Anthropic Messages API.
//!
//! Request: system messages become the top-level `system` string; the other
//! messages become alternating user/assistant turns (consecutive same-role
//! messages merged, `tool` messages turned into user `tool_result` blocks,
//! assistant `tool_calls` into `tool_use` blocks); `max_tokens` defaults to
//! 4096; `stop` → `stop_sequences`; tools and `tool_choice` are mapped;
//! `user` → `metadata.user_id`; OpenAI-only fields are dropped.
//!
//! Response: text blocks concatenated, `tool_use` → `tool_calls`, stop
//! reasons mapped; usage = input (+ cache creation and cache reads) and
//! output tokens.
//!
//! Stream: `message_start` carries the input tokens (and opens the answer
//! with a role chunk), content block events become content / tool-call
//! deltas, `message_delta` the finish reason and the FINAL cumulative output
//! token count (not an increment), `message_stop` completes; `error` fails.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::turns::{walk, Conversation, TurnEncoder};
use super::{
    assistant_message, bad_messages, completion_json, endpoint, event_json, malformed_response,
    parse_arguments, parse_data_url, stop_list, stream_error_message, tool_call_json, Answer,
    Provider, ProviderKind, Sending, StreamCtx, StreamEvents, Usage,
};
use crate::budget::{OutputBudget, RequestedOutput, ANTHROPIC_DEFAULT_MAX_TOKENS};
use crate::chat::{ChatMessage, ChatRequest};
use crate::sse::SseEvent;
use crate::ApiError;

/// Anthropic's Messages API.
pub(crate) struct Anthropic;

impl Provider for Anthropic {
    /// Anthropic requires a ceiling: the requested one or
    /// [`ANTHROPIC_DEFAULT_MAX_TOKENS`]; one choice.
    fn output_budget(&self, requested: RequestedOutput) -> OutputBudget {
        OutputBudget {
            max_output: Some(requested.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS)),
            choices: 1,
        }
    }

    fn chat_url(&self, base: &str, _model: &str, _stream: bool) -> String {
        endpoint(base, "/messages")
    }

    fn auth_headers(&self, api_key: &str) -> Vec<(String, String)> {
        vec![
            ("x-api-key".to_string(), api_key.to_string()),
            ("anthropic-version".to_string(), "2023-06-01".to_string()),
        ]
    }

    fn chat_body(&self, chat: ChatRequest, to: &Sending<'_>) -> Result<Vec<u8>, ApiError> {
        build_body(&chat, to.model, to.stream, &to.budget)
    }

    fn translate_response(&self, model: &str, body: Value, created: i64) -> Answer {
        translate_response(model, body, created)
    }

    fn stream_state(&self) -> Box<dyn StreamEvents> {
        Box::<StreamState>::default()
    }
}

/// The Messages API request body (the fields the proxy sends).
#[derive(Serialize)]
struct MessagesBody<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<Turn>,
    max_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

#[derive(Serialize)]
struct Turn {
    role: &'static str,
    content: Value,
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

pub(crate) fn build_body(
    chat: &ChatRequest,
    model: &str,
    stream: bool,
    budget: &OutputBudget,
) -> Result<Vec<u8>, ApiError> {
    let Conversation { system, turns } = walk(&chat.messages, &mut Encoder)?;
    let number = |key: &str| chat.field(key).filter(|v| v.is_number());
    let tools = tools(chat.field("tools"))?;
    let mut tool_choice = None;
    if !tools.is_empty() {
        tool_choice = self::tool_choice(chat.field("tool_choice"))?;
        if chat.field("parallel_tool_calls") == Some(&Value::Bool(false)) {
            let c = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
            if let Some(o) = c.as_object_mut() {
                if o.get("type").and_then(Value::as_str) != Some("none") {
                    o.insert("disable_parallel_tool_use".into(), Value::Bool(true));
                }
            }
        }
    }
    let body = MessagesBody {
        model,
        system: (!system.is_empty()).then(|| system.join("\n\n")),
        messages: turns
            .into_iter()
            .map(|(role, blocks)| Turn {
                role,
                content: compact(blocks),
            })
            .collect(),
        max_tokens: budget.max_output.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS),
        stop_sequences: stop_list(chat.field("stop")),
        temperature: number("temperature"),
        top_p: number("top_p"),
        metadata: chat
            .field("user")
            .and_then(Value::as_str)
            .map(|user_id| Metadata { user_id }),
        tools,
        tool_choice,
        stream,
    };
    serde_json::to_vec(&body).map_err(|_| ApiError::internal())
}

/// A turn that is one text block is sent as a plain string.
fn compact(blocks: Vec<Value>) -> Value {
    if let [only] = blocks.as_slice() {
        if only.get("type").and_then(Value::as_str) == Some("text") {
            if let Some(text) = only.get("text") {
                return text.clone();
            }
        }
    }
    Value::Array(blocks)
}

/// Anthropic's content blocks.
struct Encoder;

impl TurnEncoder for Encoder {
    const PROVIDER: &'static str = "Anthropic";
    const ASSISTANT: &'static str = "assistant";

    fn text(&self, text: &str) -> Value {
        json!({"type": "text", "text": text})
    }

    fn image(&self, url: &str) -> Result<Value, ApiError> {
        if let Some((media_type, data)) = parse_data_url(url) {
            return Ok(json!({"type": "image", "source":
                {"type": "base64", "media_type": media_type, "data": data}}));
        }
        if url.starts_with("https://") || url.starts_with("http://") {
            return Ok(json!({"type": "image", "source": {"type": "url", "url": url}}));
        }
        Err(bad_messages(
            "image_url.url must be a base64 data: URL or an http(s) URL",
        ))
    }

    fn tool_call(&mut self, id: Option<&str>, name: &str, call: &Value) -> Result<Value, ApiError> {
        let id = id.unwrap_or_default();
        if id.is_empty() || name.is_empty() {
            return Err(bad_messages("tool_calls[] need an id and a function name"));
        }
        let input = parse_arguments(call.pointer("/function/arguments"))?;
        Ok(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
    }

    fn tool_result(&mut self, msg: &ChatMessage) -> Result<Value, ApiError> {
        let id = msg
            .str_field("tool_call_id")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_messages("tool messages need a tool_call_id"))?;
        let mut block = json!({"type": "tool_result", "tool_use_id": id});
        let text = msg.text();
        if let (false, Some(o)) = (text.is_empty(), block.as_object_mut()) {
            o.insert("content".into(), Value::from(text));
        }
        Ok(block)
    }
}

fn tools(tools: Option<&Value>) -> Result<Vec<Value>, ApiError> {
    Ok(super::function_tools(tools)?
        .into_iter()
        .map(|tool| {
            let mut t = Map::new();
            t.insert("name".into(), Value::from(tool.name));
            if let Some(d) = tool.description {
                t.insert("description".into(), Value::from(d));
            }
            let schema = tool
                .parameters
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            t.insert("input_schema".into(), schema);
            Value::Object(t)
        })
        .collect())
}

fn tool_choice(choice: Option<&Value>) -> Result<Option<Value>, ApiError> {
    let invalid = || ApiError::invalid_field("tool_choice", "unsupported tool_choice");
    match choice {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(Some(json!({"type": "auto"}))),
            "none" => Ok(Some(json!({"type": "none"}))),
            "required" => Ok(Some(json!({"type": "any"}))),
            _ => Err(invalid()),
        },
        Some(v) => {
            let name = v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            Ok(Some(json!({"type": "tool", "name": name})))
        }
    }
}

/// Anthropic stop reason → OpenAI finish reason.
/// Emits the `text` of a content block or text delta as a content chunk.
fn emit_text(v: &Value, ctx: &mut StreamCtx) {
    let text = v.get("text").and_then(Value::as_str).unwrap_or_default();
    if !text.is_empty() {
        ctx.count_chars(text);
        ctx.emit_delta(json!({"content": text}), None);
    }
}

pub(crate) fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens") | Some("model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// The counts of a usage object (for [`super::any_out_of_range`]).
const USAGE_KEYS: [&str; 4] = [
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
];
/// Cache reads of a usage object (priced as cached input).
fn cache_reads(u: &Value) -> u64 {
    u.get("cache_read_input_tokens")
        .and_then(super::token)
        .unwrap_or(0)
}

/// Input tokens of a usage object: uncached + cache creation + cache reads.
fn input_tokens(u: &Value) -> Option<u64> {
    let base = u.get("input_tokens").and_then(super::token)?;
    let extra = ["cache_creation_input_tokens", "cache_read_input_tokens"]
        .iter()
        .filter_map(|k| u.get(*k).and_then(super::token))
        .fold(0u64, u64::saturating_add);
    Some(base.saturating_add(extra).min(super::MAX_REPORTED_TOKENS))
}

pub(crate) fn translate_response(
    model: &str,
    v: Value,
    created: i64,
) -> Result<(Value, Option<Usage>), ApiError> {
    let kind = ProviderKind::Anthropic;
    if v.get("type").and_then(Value::as_str) == Some("error") {
        let message =
            super::message_in(&v).unwrap_or_else(|| "The provider reported an error".to_string());
        return Err(ApiError::provider_error(kind.as_str(), 502, message));
    }
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed_response(kind, "no content"))?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(
                block
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
            Some("tool_use") => {
                let id = block.get("id").and_then(Value::as_str).unwrap_or_default();
                let name = block
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let args = block.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(tool_call_json(id, name, &args.to_string()));
            }
            _ => {}
        }
    }
    let usage = v.get("usage").and_then(|u| {
        let flagged = super::any_out_of_range(u, &USAGE_KEYS);
        let Some(input) = input_tokens(u) else {
            return flagged.then(Usage::flagged_without_counts);
        };
        let output = u.get("output_tokens").and_then(super::token).unwrap_or(0);
        Some(
            Usage::new(input, output)
                .with_cached(cache_reads(u))
                .flag_if(flagged),
        )
    });
    let id = match v.get("id").and_then(Value::as_str) {
        Some(id) => format!("chatcmpl-{id}"),
        None => format!("chatcmpl-{created}"),
    };
    let model = v.get("model").and_then(Value::as_str).unwrap_or(model);
    let finish = finish_reason(v.get("stop_reason").and_then(Value::as_str));
    let message = assistant_message(text, calls);
    Ok((
        completion_json(&id, model, created, message, finish, usage),
        usage,
    ))
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    started: bool,
    stopped: bool,
    input_tokens: u64,
    output_tokens: u64,
    /// A usage object of the stream had a count out of range.
    flagged: bool,
    cached_input_tokens: u64,
    /// Content block index → OpenAI tool call index.
    tool_index: HashMap<u64, u64>,
    next_tool: u64,
}

impl StreamState {
    fn start(&mut self, ctx: &mut StreamCtx) {
        if !self.started {
            self.started = true;
            ctx.emit_delta(json!({"role": "assistant", "content": ""}), None);
        }
    }

    fn record_usage(&self, ctx: &mut StreamCtx) {
        ctx.usage = Some(
            Usage::new(self.input_tokens, self.output_tokens)
                .with_cached(self.cached_input_tokens.min(self.input_tokens))
                .flag_if(self.flagged),
        );
    }
}

impl StreamEvents for StreamState {
    fn on_event(&mut self, ev: &SseEvent, ctx: &mut StreamCtx) -> Result<(), String> {
        if self.stopped {
            return Ok(());
        }
        let v = event_json(ev)?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default();
        match kind {
            "message_start" => {
                // A usage without a valid input count is no usage (`{}`
                // counts at the estimate, never as 0 tokens).
                if let Some(u) = v.pointer("/message/usage") {
                    if super::any_out_of_range(u, &USAGE_KEYS) {
                        self.flagged = true;
                        self.record_usage(ctx);
                    }
                    if let Some(input) = input_tokens(u) {
                        self.input_tokens = input;
                        self.cached_input_tokens = cache_reads(u);
                        self.output_tokens =
                            u.get("output_tokens").and_then(super::token).unwrap_or(0);
                        self.record_usage(ctx);
                    }
                }
                self.start(ctx);
            }
            "content_block_start" => {
                self.start(ctx);
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = v.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let tool = self.next_tool;
                        self.next_tool += 1;
                        self.tool_index.insert(index, tool);
                        let id = block.get("id").and_then(Value::as_str).unwrap_or_default();
                        let name = block
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        ctx.emit_delta(
                            json!({"tool_calls": [{"index": tool, "id": id, "type": "function",
                                "function": {"name": name, "arguments": ""}}]}),
                            None,
                        );
                    }
                    Some("text") => emit_text(block, ctx),
                    _ => {}
                }
            }
            "content_block_delta" => {
                self.start(ctx);
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                let delta = v.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => emit_text(delta, ctx),
                    Some("input_json_delta") => {
                        let part = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if !part.is_empty() {
                            ctx.count_chars(part);
                            let tool = self.tool_index.get(&index).copied().unwrap_or(0);
                            ctx.emit_delta(
                                json!({"tool_calls": [{"index": tool,
                                    "function": {"arguments": part}}]}),
                                None,
                            );
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                self.start(ctx);
                if let Some(u) = v.get("usage") {
                    // Cumulative totals: replace, never add. A usage with
                    // no valid count adds nothing (`{}` is not 0 tokens).
                    let mut any = ctx.usage.is_some();
                    if super::any_out_of_range(u, &USAGE_KEYS) {
                        self.flagged = true;
                        any = true;
                    }
                    if let Some(out) = u.get("output_tokens").and_then(super::token) {
                        self.output_tokens = out;
                        any = true;
                    }
                    if let Some(input) = input_tokens(u) {
                        self.input_tokens = self.input_tokens.max(input);
                        self.cached_input_tokens = self.cached_input_tokens.max(cache_reads(u));
                        any = true;
                    }
                    if any {
                        self.record_usage(ctx);
                    }
                }
                if let Some(reason) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    ctx.emit_delta(json!({}), Some(finish_reason(Some(reason))));
                }
            }
            "message_stop" => {
                self.stopped = true;
                ctx.completed = true;
            }
            "error" => return Err(stream_error_message(&v)),
            // ping, content_block_stop and event types added later.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{build_json as build_request, error_message, StreamTranslator};
    use super::*;

    fn build(v: Value) -> Value {
        let req = build_request(
            ProviderKind::Anthropic,
            "https://api.anthropic.com/v1",
            "sk-ant",
            v.as_object().cloned().unwrap(),
            false,
        )
        .unwrap();
        serde_json::from_slice(&req.body).unwrap()
    }

    #[test]
    fn anthropic_request_has_messages_url_key_and_version_headers() {
        let req = build_request(
            ProviderKind::Anthropic,
            "https://api.anthropic.com/v1/",
            "sk-ant",
            json!({"model": "claude", "messages": []})
                .as_object()
                .cloned()
                .unwrap(),
            true,
        )
        .unwrap();
        assert_eq!(req.url, "https://api.anthropic.com/v1/messages");
        assert!(req.headers.contains(&("x-api-key".into(), "sk-ant".into())));
        assert!(req
            .headers
            .contains(&("anthropic-version".into(), "2023-06-01".into())));
        assert!(req
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["stream"], true);
    }

    #[test]
    fn anthropic_system_messages_join_into_top_level_system() {
        let b = build(json!({"model": "c", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": [{"type": "text", "text": "Be kind."}]},
            {"role": "user", "content": "hi"}]}));
        assert_eq!(b["system"], "Be brief.\n\nBe kind.");
        assert_eq!(b["messages"], json!([{"role": "user", "content": "hi"}]));
    }

    #[test]
    fn anthropic_max_tokens_defaults_to_4096_and_takes_max_completion_tokens() {
        let b = build(json!({"model": "c", "messages": []}));
        assert_eq!(b["max_tokens"], 4096);
        let b = build(json!({"model": "c", "messages": [], "max_tokens": 10}));
        assert_eq!(b["max_tokens"], 10);
        let b = build(json!({"model": "c", "messages": [], "max_completion_tokens": 20}));
        assert_eq!(b["max_tokens"], 20);
        assert!(b.get("max_completion_tokens").is_none());
    }

    #[test]
    fn anthropic_stop_string_or_array_becomes_stop_sequences() {
        let b = build(json!({"model": "c", "messages": [], "stop": "END"}));
        assert_eq!(b["stop_sequences"], json!(["END"]));
        let b = build(json!({"model": "c", "messages": [], "stop": ["a", "b"]}));
        assert_eq!(b["stop_sequences"], json!(["a", "b"]));
        assert!(b.get("stop").is_none());
    }

    #[test]
    fn anthropic_drops_openai_only_fields_and_maps_user_to_metadata() {
        let b = build(json!({"model": "c", "messages": [], "user": "u-1", "n": 2,
            "response_format": {"type": "json_object"}, "frequency_penalty": 1,
            "stream_options": {"include_usage": true}, "temperature": 0.5, "top_p": 0.9}));
        assert_eq!(b["metadata"], json!({"user_id": "u-1"}));
        for k in [
            "user",
            "n",
            "response_format",
            "frequency_penalty",
            "stream_options",
        ] {
            assert!(b.get(k).is_none(), "{k} forwarded");
        }
        assert_eq!(b["temperature"], 0.5);
        assert_eq!(b["top_p"], 0.9);
    }

    #[test]
    fn anthropic_consecutive_same_role_messages_merge_into_one_turn() {
        let b = build(json!({"model": "c", "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"}, {"role": "assistant", "content": "d"}]}));
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]}
            ])
        );
    }

    #[test]
    fn anthropic_tool_calls_and_results_become_tool_use_and_tool_result_blocks() {
        let b = build(json!({"model": "c", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "t2", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "18C"},
            {"role": "tool", "tool_call_id": "t2", "content": "noon"},
            {"role": "user", "content": "thanks"}]}));
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "t2", "name": "get_time", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "noon"},
                    {"type": "text", "text": "thanks"}]}
            ])
        );
    }

    #[test]
    fn anthropic_tools_and_tool_choice_are_mapped() {
        let tools = json!([{"type": "function", "function": {"name": "f", "description": "d",
            "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}}]);
        let b =
            build(json!({"model": "c", "messages": [], "tools": tools, "tool_choice": "required"}));
        assert_eq!(
            b["tools"],
            json!([{"name": "f", "description": "d", "input_schema":
                {"type": "object", "properties": {"x": {"type": "string"}}}}])
        );
        assert_eq!(b["tool_choice"], json!({"type": "any"}));
        for (choice, expected) in [
            (json!("auto"), json!({"type": "auto"})),
            (json!("none"), json!({"type": "none"})),
            (
                json!({"type": "function", "function": {"name": "f"}}),
                json!({"type": "tool", "name": "f"}),
            ),
        ] {
            let b =
                build(json!({"model": "c", "messages": [], "tools": tools, "tool_choice": choice}));
            assert_eq!(b["tool_choice"], expected);
        }
        let b = build(
            json!({"model": "c", "messages": [], "tools": tools, "parallel_tool_calls": false}),
        );
        assert_eq!(
            b["tool_choice"],
            json!({"type": "auto", "disable_parallel_tool_use": true})
        );
    }

    #[test]
    fn anthropic_image_parts_become_base64_or_url_sources() {
        let b = build(
            json!({"model": "c", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/AA=="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
        );
        assert_eq!(
            b["messages"][0]["content"],
            json!([
                {"type": "text", "text": "what is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/AA=="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
            ])
        );
    }

    #[test]
    fn anthropic_bad_tool_arguments_are_a_400_on_messages() {
        let req = build_request(
            ProviderKind::Anthropic,
            "https://a/v1",
            "k",
            json!({"model": "c", "messages": [{"role": "assistant", "tool_calls": [
                {"id": "t", "function": {"name": "f", "arguments": "{not json"}}]}]})
            .as_object()
            .cloned()
            .unwrap(),
            false,
        );
        let e = req.unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(e.field().unwrap_or_default(), "messages");
    }

    #[test]
    fn anthropic_error_body_message_is_extracted() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}"#;
        assert_eq!(
            error_message(ProviderKind::Anthropic, 400, body),
            "max_tokens: must be positive"
        );
        assert_eq!(
            error_message(ProviderKind::Anthropic, 503, b""),
            "provider answered 503"
        );
    }

    fn run(input: &str) -> (String, StreamTranslator) {
        let mut t = StreamTranslator::new(ProviderKind::Anthropic, "claude", "id", 1);
        let mut out = t.push(input.as_bytes());
        out.extend(t.finish());
        (String::from_utf8(out).unwrap(), t)
    }

    const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n";

    #[test]
    fn anthropic_stream_counts_final_output_tokens_not_increments() {
        let input = format!(
            "{START}event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{}},\"usage\":{{\"output_tokens\":5}}}}\n\n\
event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":7}}}}\n\n\
event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
        );
        let (out, t) = run(&input);
        assert!(!t.failed());
        assert_eq!(t.usage(), Some(Usage::new(10, 7)));
        assert!(out.ends_with("data: [DONE]\n\n"));
        assert!(out.contains("\"total_tokens\":17"));
    }

    #[test]
    fn anthropic_mid_stream_error_event_gives_one_error_event_and_no_done() {
        let input = format!(
            "{START}event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"Hi\"}}}}\n\n\
event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n\
event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
        );
        let (out, t) = run(&input);
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(out.contains("Overloaded"));
        assert!(!out.contains("[DONE]"));
        assert_eq!(t.usage(), Some(Usage::new(10, 1)));
    }

    #[test]
    fn anthropic_malformed_event_fails_the_stream_once() {
        let (out, t) = run(&format!(
            "{START}event: content_block_delta\ndata: {{\"type\":\n\n"
        ));
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(!out.contains("[DONE]"));
    }

    #[test]
    fn anthropic_stream_without_message_stop_is_a_cut_stream() {
        let (out, t) = run(START);
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(!out.contains("[DONE]"));
    }

    #[test]
    fn anthropic_cache_tokens_count_as_input() {
        let body = json!({"id": "m", "type": "message", "role": "assistant", "model": "c",
            "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 50, "output_tokens": 2}});
        let (_, u) = super::super::translate_response(
            ProviderKind::Anthropic,
            "c",
            body.to_string().as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(u, Some(Usage::new(153, 2).with_cached(50)));
    }
}
