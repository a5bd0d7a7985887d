//! OpenAI's Responses API as an app-facing shape (`POST /v1/responses`).
//!
//! Request: [`to_chat`] maps a Responses body onto the one typed chat
//! request every provider translator takes: `instructions` → a system
//! message, `input` (a string, or message / `function_call` /
//! `function_call_output` items) → messages, `max_output_tokens` →
//! `max_tokens`, flat function tools → chat tools. What it cannot map is
//! named in [`ChatForm::unsupported`]; a translated request with any is a
//! 400, a native one (OpenAI projects, forwarded as is) only uses the
//! mapping to estimate the prompt and size the reservation.
//!
//! Response: [`from_completion`] turns a `chat.completion` into a
//! `response` object (`output` items, `usage` with `input_tokens` and
//! `output_tokens`); [`native_usage`] reads an OpenAI `response`'s usage.
//!
//! Stream: [`StreamWriter`] turns the chat chunk stream into Responses
//! events (`response.created` … `response.output_text.delta` …
//! `response.completed` with usage), event by event; [`NativeWatcher`]
//! reads an OpenAI Responses stream passed through unchanged for its usage
//! and completion. Neither keeps anything after the answer ends.
//!
//! Server-side conversation state (`previous_response_id`, `store: true`)
//! is reported by [`ChatForm::stateful`]: only OpenAI keeps it (in its own
//! storage); for any other provider the route answers 400.

use serde_json::{json, Map, Value};

use super::Usage;
use crate::sse::{SseEvent, SseParser};

/// A Responses body mapped to the chat shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatForm {
    pub body: Map<String, Value>,
    /// The first field or item kind that has no chat equivalent.
    pub unsupported: Option<String>,
    /// `previous_response_id` or `store: true` was sent.
    pub stateful: bool,
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// A Responses message `content` → chat content (string or parts).
fn content_of(content: Option<&Value>, unsupported: &mut Option<String>) -> Value {
    match content {
        Some(Value::String(s)) => Value::from(s.clone()),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => {
                        let t = p.get("text").and_then(Value::as_str).unwrap_or_default();
                        out.push(text_part(t));
                    }
                    Some("input_image") => {
                        let url = p
                            .get("image_url")
                            .and_then(|u| u.get("url").or(Some(u)))
                            .and_then(Value::as_str);
                        match url {
                            Some(u) => {
                                out.push(json!({"type": "image_url", "image_url": {"url": u}}))
                            }
                            None => {
                                unsupported
                                    .get_or_insert_with(|| "input[].content[].file_id".into());
                            }
                        }
                    }
                    other => {
                        unsupported.get_or_insert_with(|| {
                            format!("input[].content[] of type '{}'", other.unwrap_or("(none)"))
                        });
                    }
                }
            }
            Value::Array(out)
        }
        _ => Value::from(""),
    }
}

/// Maps a Responses request body to the chat shape (see the module docs).
pub fn to_chat(body: &Map<String, Value>) -> ChatForm {
    let mut unsupported: Option<String> = None;
    let mut messages: Vec<Value> = Vec::new();
    if let Some(Value::String(i)) = body.get("instructions") {
        messages.push(json!({"role": "system", "content": i}));
    }
    match body.get("input") {
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => {
            for item in items {
                let kind = item
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("message");
                match kind {
                    "message" => {
                        let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                        let content = content_of(item.get("content"), &mut unsupported);
                        messages.push(json!({"role": role, "content": content}));
                    }
                    "function_call" => {
                        let call = json!({
                            "id": item.get("call_id").cloned().unwrap_or(Value::Null),
                            "type": "function",
                            "function": {
                                "name": item.get("name").cloned().unwrap_or(Value::Null),
                                "arguments": item.get("arguments").cloned().unwrap_or(Value::from("")),
                            },
                        });
                        let merged = messages.last_mut().and_then(|m| {
                            (m.get("role").and_then(Value::as_str) == Some("assistant"))
                                .then(|| m.as_object_mut())
                                .flatten()
                        });
                        match merged {
                            Some(m) => {
                                let calls = m.entry("tool_calls").or_insert_with(|| json!([]));
                                if let Some(a) = calls.as_array_mut() {
                                    a.push(call);
                                }
                            }
                            None => messages.push(
                                json!({"role": "assistant", "content": null, "tool_calls": [call]}),
                            ),
                        }
                    }
                    "function_call_output" => {
                        let output = match item.get("output") {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => String::new(),
                        };
                        messages.push(json!({
                            "role": "tool",
                            "tool_call_id": item.get("call_id").cloned().unwrap_or(Value::Null),
                            "content": output,
                        }));
                    }
                    // Reasoning items carry no text a provider could take.
                    "reasoning" => {}
                    other => {
                        unsupported
                            .get_or_insert_with(|| format!("input[] item of type '{other}'"));
                    }
                }
            }
        }
        _ => {}
    }
    // Only kinds with no chat form (say item references): the native path
    // still forwards it, so the chat form keeps one empty turn to validate.
    if unsupported.is_some() && !messages.iter().any(|m| m["role"] != "system") {
        messages.push(json!({"role": "user", "content": ""}));
    }
    let mut out = Map::new();
    if let Some(m) = body.get("model") {
        out.insert("model".into(), m.clone());
    }
    out.insert("messages".into(), Value::Array(messages));
    if let Some(v) = body.get("max_output_tokens").filter(|v| !v.is_null()) {
        out.insert("max_tokens".into(), v.clone());
    }
    for key in [
        "temperature",
        "top_p",
        "user",
        "stream",
        "parallel_tool_calls",
        "identity",
        "tier",
        "identityToken",
    ] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(Value::Array(tools)) = body.get("tools") {
        let mut chat_tools = Vec::new();
        for t in tools {
            if t.get("type").and_then(Value::as_str) == Some("function") {
                let mut f = Map::new();
                for k in ["name", "description", "parameters"] {
                    if let Some(v) = t.get(k).filter(|v| !v.is_null()) {
                        f.insert(k.into(), v.clone());
                    }
                }
                chat_tools.push(json!({"type": "function", "function": f}));
            } else {
                unsupported.get_or_insert_with(|| "tools[] other than function tools".into());
            }
        }
        if !chat_tools.is_empty() {
            out.insert("tools".into(), Value::Array(chat_tools));
        }
    }
    match body.get("tool_choice") {
        Some(Value::String(s)) => {
            out.insert("tool_choice".into(), Value::from(s.clone()));
        }
        Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("function") => {
            out.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": o.get("name").cloned().unwrap_or(Value::Null)}}),
            );
        }
        _ => {}
    }
    // Structured output: `text.format` is chat's `response_format`.
    match body.get("text").and_then(|t| t.get("format")) {
        Some(f) if f.get("type").and_then(Value::as_str) == Some("json_schema") => {
            let mut schema = Map::new();
            for k in ["name", "description", "schema", "strict"] {
                if let Some(v) = f.get(k).filter(|v| !v.is_null()) {
                    schema.insert(k.into(), v.clone());
                }
            }
            out.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": schema}),
            );
        }
        Some(f) if f.get("type").and_then(Value::as_str) == Some("json_object") => {
            out.insert("response_format".into(), json!({"type": "json_object"}));
        }
        _ => {}
    }
    let stateful = body
        .get("previous_response_id")
        .is_some_and(|v| !v.is_null())
        || body.get("store") == Some(&Value::Bool(true));
    ChatForm {
        body: out,
        unsupported,
        stateful,
    }
}

/// Responses `usage`.
pub fn usage_json(u: Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_input_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u.total(),
    })
}

/// The usage an OpenAI `response` object reports.
pub fn native_usage(response: &Value) -> Option<Usage> {
    let u = response.get("usage")?.as_object()?;
    let flagged =
        super::any_out_of_range(response.get("usage")?, &["input_tokens", "output_tokens"]);
    let input = u.get("input_tokens").and_then(super::token);
    let output = u.get("output_tokens").and_then(super::token);
    if input.is_none() && output.is_none() {
        return flagged.then(Usage::flagged_without_counts);
    }
    let input = input.unwrap_or(0);
    let cached = u
        .get("input_tokens_details")
        .and_then(|d| d.get("cached_tokens"))
        .and_then(super::token)
        .unwrap_or(0)
        .min(input);
    Some(
        Usage::new(input, output.unwrap_or(0))
            .with_cached(cached)
            .flag_if(flagged),
    )
}

fn response_shell(id: &str, model: &str, created: i64, status: &str) -> Map<String, Value> {
    let v = json!({
        "id": id,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": model,
        "output": [],
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "store": false,
        "temperature": null,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": null,
        "metadata": {},
        "usage": null,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

fn function_item(id: &str, call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({
        "type": "function_call",
        "id": id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    })
}

/// A `chat.completion` (as the translators produce it) → a `response`.
pub fn from_completion(completion: &Value, id: &str, created: i64) -> Value {
    let model = completion
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let choice = completion.pointer("/choices/0");
    let finish = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
        .unwrap_or("stop");
    let status = if finish == "length" {
        "incomplete"
    } else {
        "completed"
    };
    let mut resp = response_shell(id, model, created, status);
    if finish == "length" {
        resp.insert(
            "incomplete_details".into(),
            json!({"reason": "max_output_tokens"}),
        );
    }
    let mut output = Vec::new();
    let message = choice.and_then(|c| c.get("message"));
    if let Some(text) = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        output.push(message_item(&format!("msg_{id}"), text, "completed"));
    }
    let calls = message
        .and_then(|m| m.get("tool_calls"))
        .and_then(Value::as_array);
    for (i, call) in calls.into_iter().flatten().enumerate() {
        let call_id = call.get("id").and_then(Value::as_str).unwrap_or_default();
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        output.push(function_item(
            &format!("fc_{id}_{i}"),
            call_id,
            name,
            args,
            "completed",
        ));
    }
    resp.insert("output".into(), Value::Array(output));
    if let Some(u) = completion.get("usage").and_then(super::openai::usage_of) {
        resp.insert("usage".into(), usage_json(u));
    }
    Value::Object(resp)
}

/// Writes one named SSE event.
pub(crate) fn write_event(out: &mut Vec<u8>, name: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(data.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

struct OpenCall {
    item_id: String,
    call_id: String,
    name: String,
    arguments: String,
    output_index: usize,
}

/// Chat chunks (`data:` payloads, `[DONE]`, or an error event) → Responses
/// events. The text and arguments seen are kept only until the answer ends
/// (the closing events repeat them, as OpenAI's do).
pub struct StreamWriter {
    id: String,
    model: String,
    created: i64,
    seq: u64,
    started: bool,
    text: Option<(String, usize)>,
    calls: Vec<OpenCall>,
    done_items: Vec<Value>,
    next_index: usize,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl StreamWriter {
    pub fn new(id: &str, model: &str, created: i64) -> Self {
        Self {
            id: id.to_string(),
            model: model.to_string(),
            created,
            seq: 0,
            started: false,
            text: None,
            calls: Vec::new(),
            done_items: Vec::new(),
            next_index: 0,
            finish: None,
            usage: None,
        }
    }

    fn emit(&mut self, out: &mut Vec<u8>, name: &str, mut data: Value) {
        if let Some(o) = data.as_object_mut() {
            o.insert("type".into(), Value::from(name));
            o.insert("sequence_number".into(), Value::from(self.seq));
        }
        self.seq += 1;
        write_event(out, name, &data);
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let shell = Value::Object(response_shell(
            &self.id,
            &self.model,
            self.created,
            "in_progress",
        ));
        self.emit(out, "response.created", json!({"response": shell}));
        self.emit(out, "response.in_progress", json!({"response": shell}));
    }

    fn msg_id(&self) -> String {
        format!("msg_{}", self.id)
    }

    fn close_text(&mut self, out: &mut Vec<u8>) {
        if let Some((text, index)) = self.text.take() {
            let item_id = self.msg_id();
            self.emit(
                out,
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}),
            );
            self.emit(
                out,
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": index, "content_index": 0,
                       "part": {"type": "output_text", "text": text, "annotations": []}}),
            );
            let item = message_item(&item_id, &text, "completed");
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": index, "item": item}),
            );
            self.done_items.push(item);
        }
    }

    fn close_calls(&mut self, out: &mut Vec<u8>) {
        for c in std::mem::take(&mut self.calls) {
            self.emit(
                out,
                "response.function_call_arguments.done",
                json!({"item_id": c.item_id, "output_index": c.output_index, "arguments": c.arguments}),
            );
            let item = function_item(&c.item_id, &c.call_id, &c.name, &c.arguments, "completed");
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": c.output_index, "item": item}),
            );
            self.done_items.push(item);
        }
    }

    fn on_text(&mut self, out: &mut Vec<u8>, delta: &str) {
        if self.text.is_none() {
            let index = self.next_index;
            self.next_index += 1;
            self.text = Some((String::new(), index));
            let item_id = self.msg_id();
            let mut item = message_item(&item_id, "", "in_progress");
            if let Some(o) = item.as_object_mut() {
                o.insert("content".into(), json!([]));
            }
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": index, "item": item}),
            );
            self.emit(
                out,
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": index, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
        }
        let index = match self.text.as_mut() {
            Some((text, index)) => {
                text.push_str(delta);
                *index
            }
            None => 0,
        };
        let item_id = self.msg_id();
        self.emit(
            out,
            "response.output_text.delta",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": delta, "logprobs": []}),
        );
    }

    fn on_tool_call(&mut self, out: &mut Vec<u8>, call: &Value) {
        let slot = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        if let Some(id) = call.get("id").and_then(Value::as_str) {
            let name = call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let output_index = self.next_index;
            self.next_index += 1;
            let item_id = format!("fc_{}_{slot}", self.id);
            let item = function_item(&item_id, id, &name, "", "in_progress");
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            );
            self.calls.push(OpenCall {
                item_id,
                call_id: id.to_string(),
                name,
                arguments: String::new(),
                output_index,
            });
        }
        let delta = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if delta.is_empty() {
            return;
        }
        let target = self
            .calls
            .iter_mut()
            .find(|c| c.item_id == format!("fc_{}_{slot}", self.id));
        if let Some(c) = target {
            c.arguments.push_str(delta);
            let data =
                json!({"item_id": c.item_id, "output_index": c.output_index, "delta": delta});
            self.emit(out, "response.function_call_arguments.delta", data);
        }
    }

    /// Handles one chat event's data; returns the Responses bytes.
    pub fn on_data(&mut self, data: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if data == "[DONE]" {
            self.start(&mut out);
            self.close_text(&mut out);
            self.close_calls(&mut out);
            let status = if self.finish.as_deref() == Some("length") {
                "incomplete"
            } else {
                "completed"
            };
            let mut resp = response_shell(&self.id, &self.model, self.created, status);
            if status == "incomplete" {
                resp.insert(
                    "incomplete_details".into(),
                    json!({"reason": "max_output_tokens"}),
                );
            }
            resp.insert(
                "output".into(),
                Value::Array(std::mem::take(&mut self.done_items)),
            );
            if let Some(u) = self.usage {
                resp.insert("usage".into(), usage_json(u));
            }
            let name = if status == "incomplete" {
                "response.incomplete"
            } else {
                "response.completed"
            };
            self.emit(&mut out, name, json!({"response": resp}));
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
            self.emit(
                &mut out,
                "error",
                json!({"code": "provider_error", "message": message, "param": null}),
            );
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
            self.on_text(&mut out, text);
        }
        if let Some(calls) = delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Value::as_array)
        {
            for c in calls {
                self.on_tool_call(&mut out, c);
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

/// Watches an OpenAI Responses stream passed through unchanged: its usage
/// (from `response.completed` / `response.incomplete`), whether it
/// completed, failed, and how many characters of output it carried.
#[derive(Default)]
pub struct NativeWatcher {
    parser: SseParser,
    pub usage: Option<Usage>,
    pub completed: bool,
    pub failed: bool,
    pub output_chars: u64,
}

impl NativeWatcher {
    pub fn push(&mut self, chunk: &[u8]) {
        let events = self.parser.push(chunk);
        self.handle(&events);
    }

    pub fn finish(&mut self) {
        let events = self.parser.finish();
        self.handle(&events);
    }

    fn handle(&mut self, events: &[SseEvent]) {
        for ev in events {
            let Ok(v) = serde_json::from_str::<Value>(&ev.data) else {
                continue;
            };
            let kind = v
                .get("type")
                .and_then(Value::as_str)
                .or(ev.event.as_deref())
                .unwrap_or_default();
            match kind {
                "response.output_text.delta" => {
                    let n = v
                        .get("delta")
                        .and_then(Value::as_str)
                        .map_or(0, |d| d.chars().count() as u64);
                    self.output_chars = self.output_chars.saturating_add(n);
                }
                "response.completed" | "response.incomplete" => {
                    self.usage = v.get("response").and_then(native_usage);
                    self.completed = true;
                }
                "response.failed" | "error" => {
                    self.usage = v.get("response").and_then(native_usage);
                    self.failed = true;
                }
                _ => {}
            }
        }
    }
}

/// The error event closing a Responses stream that broke.
pub fn error_event(message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_event(
        &mut out,
        "error",
        &json!({"type": "error", "code": "provider_error", "message": message, "param": null}),
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
    fn a_string_input_with_instructions_becomes_system_and_user_messages() {
        let f = to_chat(&obj(json!({"model": "m", "instructions": "Be brief",
            "input": "Hi", "max_output_tokens": 50, "stream": true})));
        assert_eq!(
            f.body["messages"],
            json!([{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}])
        );
        assert_eq!(f.body["max_tokens"], 50);
        assert_eq!(f.body["stream"], true);
        assert!(f.unsupported.is_none() && !f.stateful);
    }

    #[test]
    fn items_map_to_messages_tool_calls_and_tool_results() {
        let f = to_chat(&obj(json!({"model": "m", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
            {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            {"type": "reasoning", "summary": []}
        ], "tools": [{"type": "function", "name": "w", "parameters": {"type": "object"}}]})));
        let m = &f.body["messages"];
        assert_eq!(m[0]["content"][0]["text"], "Weather?");
        assert_eq!(m[1]["tool_calls"][0]["function"]["name"], "w");
        assert_eq!(m[2]["role"], "tool");
        assert_eq!(f.body["tools"][0]["function"]["name"], "w");
        assert!(f.unsupported.is_none());
    }

    #[test]
    fn built_in_tools_and_state_are_reported() {
        let f = to_chat(&obj(json!({"model": "m", "input": "x",
            "tools": [{"type": "web_search"}], "previous_response_id": "resp_1"})));
        assert!(f.unsupported.is_some());
        assert!(f.stateful);
        assert!(to_chat(&obj(json!({"input": "x", "store": true}))).stateful);
        assert!(!to_chat(&obj(json!({"input": "x", "store": false}))).stateful);
        let refs = to_chat(&obj(
            json!({"input": [{"type": "item_reference", "id": "msg_1"}]}),
        ));
        assert!(refs.unsupported.is_some());
        assert_eq!(
            refs.body["messages"],
            json!([{"role": "user", "content": ""}])
        );
    }

    #[test]
    fn structured_output_becomes_response_format() {
        let f = to_chat(&obj(json!({"model": "m", "input": "x", "text": {"format":
            {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}}})));
        assert_eq!(f.body["response_format"]["type"], "json_schema");
        assert_eq!(f.body["response_format"]["json_schema"]["name"], "w");
        let f = to_chat(&obj(
            json!({"input": "x", "text": {"format": {"type": "json_object"}}}),
        ));
        assert_eq!(f.body["response_format"], json!({"type": "json_object"}));
    }

    #[test]
    fn a_completion_becomes_a_response_with_usage() {
        let c = json!({"model": "m", "choices": [{"message": {"role": "assistant", "content": "Hi"},
            "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}});
        let r = from_completion(&c, "resp_1", 5);
        assert_eq!(r["object"], "response");
        assert_eq!(r["output"][0]["content"][0]["text"], "Hi");
        assert_eq!(r["usage"]["input_tokens"], 3);
        assert_eq!(r["usage"]["output_tokens"], 2);
        assert_eq!(r["status"], "completed");
    }

    #[test]
    fn chat_chunks_become_responses_events_ending_with_usage() {
        let mut w = StreamWriter::new("resp_1", "m", 1);
        let mut out = Vec::new();
        out.extend(w.on_data(r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#));
        out.extend(w.on_data(r#"{"choices":[{"delta":{"content":"Hel"}}]}"#));
        out.extend(w.on_data(r#"{"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}"#));
        out.extend(
            w.on_data(r#"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}"#),
        );
        out.extend(w.on_data("[DONE]"));
        let text = String::from_utf8_lossy(&out);
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(names.first().copied(), Some("response.created"));
        assert_eq!(
            names
                .iter()
                .filter(|n| **n == "response.output_text.delta")
                .count(),
            2
        );
        assert_eq!(names.last().copied(), Some("response.completed"));
        let last = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .next_back()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .unwrap_or_default();
        assert_eq!(last["response"]["usage"]["input_tokens"], 4);
        assert_eq!(last["response"]["output"][0]["content"][0]["text"], "Hello");
    }

    #[test]
    fn the_native_watcher_reads_usage_from_any_chunking() {
        let body = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hé\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":7,\"output_tokens\":3}}}\n\n";
        for cut in 0..body.len() {
            if !body.is_char_boundary(cut) {
                continue;
            }
            let mut w = NativeWatcher::default();
            let (a, b) = body.split_at(cut);
            w.push(a.as_bytes());
            w.push(b.as_bytes());
            w.finish();
            assert!(w.completed && !w.failed);
            assert_eq!(w.usage, Some(Usage::new(7, 3)));
            assert_eq!(w.output_chars, 2);
        }
    }
}
