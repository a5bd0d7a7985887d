//! Google Gemini (`generateContent` / `streamGenerateContent?alt=sse`).
//!
//! Request: the model goes in the URL; messages become `contents` with roles
//! user/model (consecutive same-role contents merged), system messages
//! `systemInstruction`, sampling fields `generationConfig`, tools
//! `functionDeclarations`, assistant tool calls `functionCall` parts and tool
//! messages `functionResponse` parts (named after the earlier call with the
//! same id), image data URLs `inlineData`.
//!
//! Response: text parts of the first candidate concatenated, `functionCall`
//! parts → `tool_calls` (ids `call_<n>` unless Gemini gives one), finish
//! reasons mapped; usage = prompt (+ tool-use prompt) and candidates
//! (+ thoughts) tokens.
//!
//! Stream: every event is a full GenerateContentResponse carrying the next
//! piece of text; `usageMetadata` is cumulative (the last one wins); a
//! `finishReason` completes the answer; a top-level `error` fails it.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::turns::{walk, Conversation, TurnEncoder};
use super::{
    assistant_message, bad_messages, completion_json, event_json, malformed_response,
    parse_arguments, parse_data_url, stop_list, stream_error_message, tool_call_json, Answer,
    Provider, ProviderKind, Sending, StreamCtx, StreamEvents, Usage,
};
use crate::budget::OutputBudget;
use crate::chat::{ChatMessage, ChatRequest};
use crate::sse::SseEvent;
use crate::ApiError;

/// The endpoint: `{base}/models/{model}:generateContent` or
/// `…:streamGenerateContent?alt=sse`. A base that already names the method
/// (`…/models/x:generateContent`) keeps its model, with the method the
/// request needs.
pub(crate) fn endpoint_url(base: &str, model: &str, stream: bool) -> String {
    let method = if stream {
        ":streamGenerateContent?alt=sse"
    } else {
        ":generateContent"
    };
    let path = base.split_once('?').map_or(base, |(p, _)| p);
    for suffix in [":generateContent", ":streamGenerateContent"] {
        if let Some(prefix) = path.strip_suffix(suffix) {
            return format!("{prefix}{method}");
        }
    }
    format!("{base}/models/{model}{method}")
}

/// The model of a base URL that is already a full endpoint
/// (`…/models/x:generateContent`).
pub(crate) fn pinned_model(base: &str) -> Option<&str> {
    let path = base.split_once('?').map_or(base, |(p, _)| p);
    let head = path
        .strip_suffix(":generateContent")
        .or_else(|| path.strip_suffix(":streamGenerateContent"))?;
    let (_, model) = head.rsplit_once("/models/")?;
    canonical_model(model).ok()
}

/// `models/x` and `x` name the same Gemini model: the id without the
/// prefix, which must be URL-safe (letters, digits, `-`, `_`, `.`).
pub(crate) fn canonical_model(model: &str) -> Result<&str, ApiError> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    let valid = !model.is_empty()
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(model)
    } else {
        Err(ApiError::invalid_field(
            "model",
            "model must be a Gemini model id (letters, digits, '-', '_', '.')",
        ))
    }
}

/// Google's Gemini API.
pub(crate) struct Gemini;

impl Provider for Gemini {
    /// `models/x` and `x` name the same model (same URL).
    fn canonical_model(&self, model: &str) -> Result<String, ApiError> {
        canonical_model(model).map(str::to_string)
    }

    fn pinned_model(&self, base: &str) -> Option<String> {
        pinned_model(base).map(str::to_string)
    }

    fn chat_url(&self, base: &str, model: &str, stream: bool) -> String {
        endpoint_url(base, model, stream)
    }

    fn auth_headers(&self, api_key: &str) -> Vec<(String, String)> {
        vec![("x-goog-api-key".to_string(), api_key.to_string())]
    }

    /// The model is in the URL; a stream is asked for by the URL too.
    fn chat_body(&self, chat: ChatRequest, to: &Sending<'_>) -> Result<Vec<u8>, ApiError> {
        build_body(&chat, &to.budget)
    }

    fn translate_response(&self, model: &str, body: Value, created: i64) -> Answer {
        translate_response(model, body, created)
    }

    fn stream_state(&self) -> Box<dyn StreamEvents> {
        Box::<StreamState>::default()
    }
}

/// The `generateContent` request body (the model is in the URL).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateBody {
    contents: Vec<Turn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Instruction>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
}

#[derive(Serialize)]
struct Turn {
    role: &'static str,
    parts: Vec<Value>,
}

#[derive(Serialize)]
struct Instruction {
    parts: [TextPart; 1],
}

#[derive(Serialize)]
struct TextPart {
    text: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
}

impl GenerationConfig {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_none()
            && self.response_mime_type.is_none()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolSet {
    function_declarations: Vec<Value>,
}

pub(crate) fn build_body(chat: &ChatRequest, budget: &OutputBudget) -> Result<Vec<u8>, ApiError> {
    let mut encoder = Encoder {
        call_names: HashMap::new(),
    };
    let Conversation { system, turns } = walk(&chat.messages, &mut encoder)?;
    let number = |key: &str| chat.field(key).filter(|v| v.is_number()).cloned();
    let format = chat
        .field("response_format")
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str);
    let declarations = declarations(chat.field("tools"))?;
    let (tools, tool_config) = if declarations.is_empty() {
        (Vec::new(), None)
    } else {
        (
            vec![ToolSet {
                function_declarations: declarations,
            }],
            tool_config(chat.field("tool_choice"))?,
        )
    };
    let body = GenerateBody {
        contents: turns
            .into_iter()
            .map(|(role, parts)| Turn { role, parts })
            .collect(),
        system_instruction: (!system.is_empty()).then(|| Instruction {
            parts: [TextPart {
                text: system.join("\n\n"),
            }],
        }),
        generation_config: GenerationConfig {
            temperature: number("temperature"),
            top_p: number("top_p"),
            max_output_tokens: budget.max_output,
            stop_sequences: stop_list(chat.field("stop")),
            response_mime_type: matches!(format, Some("json_object") | Some("json_schema"))
                .then_some("application/json"),
        },
        tools,
        tool_config,
    };
    serde_json::to_vec(&body).map_err(|_| ApiError::internal())
}

/// Gemini's parts; remembers each tool call's name by id, since a
/// `functionResponse` is matched to its call by name.
struct Encoder {
    call_names: HashMap<String, String>,
}

impl TurnEncoder for Encoder {
    const PROVIDER: &'static str = "Gemini";
    const ASSISTANT: &'static str = "model";

    fn text(&self, text: &str) -> Value {
        json!({"text": text})
    }

    fn image(&self, url: &str) -> Result<Value, ApiError> {
        let (mime, data) = parse_data_url(url)
            .ok_or_else(|| bad_messages("Gemini needs images as base64 data: URLs"))?;
        Ok(json!({"inlineData": {"mimeType": mime, "data": data}}))
    }

    fn tool_call(&mut self, id: Option<&str>, name: &str, call: &Value) -> Result<Value, ApiError> {
        if name.is_empty() {
            return Err(bad_messages("tool_calls[] need a function name"));
        }
        if let Some(id) = id {
            self.call_names.insert(id.to_string(), name.to_string());
        }
        let args = parse_arguments(call.pointer("/function/arguments"))?;
        Ok(json!({"functionCall": {"name": name, "args": args}}))
    }

    fn tool_result(&mut self, msg: &ChatMessage) -> Result<Value, ApiError> {
        let by_id = msg
            .str_field("tool_call_id")
            .and_then(|id| self.call_names.get(id))
            .map(String::as_str);
        let name = by_id.or_else(|| msg.str_field("name")).ok_or_else(|| {
            bad_messages("tool message's tool_call_id matches no earlier assistant tool call")
        })?;
        let text = msg.text();
        let response = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(o)) => Value::Object(o),
            _ => json!({"content": text}),
        };
        Ok(json!({"functionResponse": {"name": name, "response": response}}))
    }
}

fn declarations(tools: Option<&Value>) -> Result<Vec<Value>, ApiError> {
    Ok(super::function_tools(tools)?
        .into_iter()
        .map(|tool| {
            let mut d = Map::new();
            d.insert("name".into(), Value::from(tool.name));
            if let Some(desc) = tool.description {
                d.insert("description".into(), Value::from(desc));
            }
            if let Some(p) = tool.parameters {
                d.insert("parameters".into(), p.clone());
            }
            Value::Object(d)
        })
        .collect())
}

fn tool_config(choice: Option<&Value>) -> Result<Option<Value>, ApiError> {
    let invalid = || ApiError::invalid_field("tool_choice", "unsupported tool_choice");
    let config = match choice {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => json!({"mode": "AUTO"}),
            "none" => json!({"mode": "NONE"}),
            "required" => json!({"mode": "ANY"}),
            _ => return Err(invalid()),
        },
        Some(v) => {
            let name = v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            json!({"mode": "ANY", "allowedFunctionNames": [name]})
        }
    };
    Ok(Some(json!({"functionCallingConfig": config})))
}

/// Gemini finish reason → OpenAI finish reason.
pub(crate) fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ => "stop",
    }
}

fn usage_of(meta: &Value) -> Option<Usage> {
    let m = meta.as_object()?;
    let counts = [
        "promptTokenCount",
        "toolUsePromptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
    ];
    let flagged = super::any_out_of_range(meta, &counts);
    if !counts
        .iter()
        .any(|k| m.get(*k).and_then(super::token).is_some())
    {
        return flagged.then(Usage::flagged_without_counts);
    }
    let get = |k: &str| m.get(k).and_then(super::token).unwrap_or(0);
    Some(
        Usage::new(
            get("promptTokenCount").saturating_add(get("toolUsePromptTokenCount")),
            get("candidatesTokenCount").saturating_add(get("thoughtsTokenCount")),
        )
        .with_cached(get("cachedContentTokenCount").min(get("promptTokenCount")))
        .flag_if(flagged),
    )
}

/// The parts of the first candidate that are answer text or function calls
/// (thought summaries are skipped).
fn answer_parts(v: &Value) -> impl Iterator<Item = &Value> {
    v.pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("thought") != Some(&Value::Bool(true)))
}

fn call_id(call: &Value, n: u64) -> String {
    match call.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("call_{n}"),
    }
}

pub(crate) fn translate_response(
    model: &str,
    v: Value,
    created: i64,
) -> Result<(Value, Option<Usage>), ApiError> {
    let kind = ProviderKind::Google;
    if v.get("error").is_some_and(|e| !e.is_null()) {
        let message =
            super::message_in(&v).unwrap_or_else(|| "The provider reported an error".to_string());
        return Err(ApiError::provider_error(kind.as_str(), 502, message));
    }
    if !v.is_object() || (v.get("candidates").is_none() && v.get("promptFeedback").is_none()) {
        return Err(malformed_response(kind, "no candidates"));
    }
    let mut text = String::new();
    let mut calls = Vec::new();
    for part in answer_parts(&v) {
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(call) = part.get("functionCall") {
            let n = u64::try_from(calls.len()).unwrap_or(u64::MAX);
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            let args = call.get("args").cloned().unwrap_or_else(|| json!({}));
            calls.push(tool_call_json(&call_id(call, n), name, &args.to_string()));
        }
    }
    let reason = v
        .pointer("/candidates/0/finishReason")
        .and_then(Value::as_str);
    let finish = if !calls.is_empty() {
        "tool_calls"
    } else if let Some(r) = reason {
        finish_reason(r)
    } else if v.pointer("/promptFeedback/blockReason").is_some() {
        "content_filter"
    } else {
        "stop"
    };
    let usage = v.get("usageMetadata").and_then(usage_of);
    let id = match v.get("responseId").and_then(Value::as_str) {
        Some(id) => format!("chatcmpl-{id}"),
        None => format!("chatcmpl-{created}"),
    };
    let model = v
        .get("modelVersion")
        .and_then(Value::as_str)
        .unwrap_or(model);
    let message = assistant_message(text, calls);
    Ok((
        completion_json(&id, model, created, message, finish, usage),
        usage,
    ))
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    started: bool,
    done: bool,
    tools: u64,
}

impl StreamEvents for StreamState {
    fn on_event(&mut self, ev: &SseEvent, ctx: &mut StreamCtx) -> Result<(), String> {
        if self.done {
            // The answer is complete; a trailing usage-only event is still
            // worth reading, anything else is ignored.
            let usage = event_json(ev)
                .ok()
                .and_then(|v| usage_of(v.get("usageMetadata")?));
            if let Some(u) = usage {
                ctx.usage = Some(u);
            }
            return Ok(());
        }
        let v = match event_json(ev)? {
            // Some servers wrap a response (or an error) in an array.
            Value::Array(mut items) if items.len() == 1 => items.pop().unwrap_or(Value::Null),
            other => other,
        };
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(stream_error_message(&v));
        }
        if !v.is_object() {
            return Err("The provider sent a malformed stream event".to_string());
        }
        if let Some(u) = v.get("usageMetadata").and_then(usage_of) {
            ctx.usage = Some(u);
        }
        if !self.started {
            self.started = true;
            ctx.emit_delta(json!({"role": "assistant", "content": ""}), None);
        }
        for part in answer_parts(&v) {
            if let Some(text) = part.get("text").and_then(Value::as_str) {
                if !text.is_empty() {
                    ctx.count_chars(text);
                    ctx.emit_delta(json!({"content": text}), None);
                }
            } else if let Some(call) = part.get("functionCall") {
                let n = self.tools;
                self.tools += 1;
                let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
                let args = call
                    .get("args")
                    .cloned()
                    .unwrap_or_else(|| json!({}))
                    .to_string();
                ctx.count_chars(&args);
                ctx.emit_delta(
                    json!({"tool_calls": [{"index": n, "id": call_id(call, n), "type": "function",
                        "function": {"name": name, "arguments": args}}]}),
                    None,
                );
            }
        }
        let reason = v
            .pointer("/candidates/0/finishReason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty() && *r != "FINISH_REASON_UNSPECIFIED");
        let blocked =
            v.get("candidates").is_none() && v.pointer("/promptFeedback/blockReason").is_some();
        let finish = match reason {
            Some(_) if self.tools > 0 => Some("tool_calls"),
            Some(r) => Some(finish_reason(r)),
            None if blocked => Some("content_filter"),
            None => None,
        };
        if let Some(finish) = finish {
            ctx.emit_delta(json!({}), Some(finish));
            self.done = true;
            ctx.completed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{
        build_json as build_request, error_message, StreamTranslator, UpstreamRequest,
    };
    use super::*;

    const BASE: &str = "https://generativelanguage.googleapis.com/v1beta";

    fn req(v: Value, stream: bool) -> Result<UpstreamRequest, ApiError> {
        build_request(
            ProviderKind::Google,
            BASE,
            "AIza",
            v.as_object().cloned().unwrap(),
            stream,
        )
    }

    fn build(v: Value) -> Value {
        serde_json::from_slice(&req(v, false).unwrap().body).unwrap()
    }

    #[test]
    fn google_model_goes_in_the_url_not_the_body() {
        let r = req(json!({"model": "gemini-2.0-flash", "messages": []}), false).unwrap();
        assert_eq!(
            r.url,
            format!("{BASE}/models/gemini-2.0-flash:generateContent")
        );
        assert!(r
            .headers
            .contains(&("x-goog-api-key".into(), "AIza".into())));
        assert!(r
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(body.get("model").is_none());
        let r = req(
            json!({"model": "models/gemini-2.0-flash", "messages": []}),
            true,
        )
        .unwrap();
        assert_eq!(
            r.url,
            format!("{BASE}/models/gemini-2.0-flash:streamGenerateContent?alt=sse")
        );
    }

    #[test]
    fn google_full_endpoint_base_url_keeps_its_model_and_gets_the_right_method() {
        let body = json!({"model": "ignored", "messages": []})
            .as_object()
            .cloned()
            .unwrap();
        let full = format!("{BASE}/models/gemini-pro:generateContent");
        let r = build_request(ProviderKind::Google, &full, "k", body.clone(), false).unwrap();
        assert_eq!(r.url, full);
        let r = build_request(ProviderKind::Google, &full, "k", body, true).unwrap();
        assert_eq!(
            r.url,
            format!("{BASE}/models/gemini-pro:streamGenerateContent?alt=sse")
        );
    }

    #[test]
    fn google_model_with_url_characters_is_rejected() {
        for model in ["", "a/b", "x?key=1", "m#f", "../x"] {
            let e = req(json!({"model": model, "messages": []}), false).unwrap_err();
            assert_eq!(e.status(), 400, "{model}");
            assert_eq!(e.field().unwrap_or_default(), "model");
        }
    }

    #[test]
    fn google_system_becomes_system_instruction_and_roles_map_to_user_model() {
        let b = build(json!({"model": "g", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "bye"}]}));
        assert_eq!(
            b["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        assert_eq!(
            b["contents"],
            json!([
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"text": "hello"}]},
                {"role": "user", "parts": [{"text": "bye"}]}
            ])
        );
    }

    #[test]
    fn google_consecutive_same_role_contents_merge() {
        let b = build(json!({"model": "g", "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}));
        assert_eq!(
            b["contents"],
            json!([{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}])
        );
    }

    #[test]
    fn google_generation_config_takes_sampling_limits_and_stops() {
        let b = build(
            json!({"model": "g", "messages": [], "temperature": 0.3, "top_p": 0.8,
            "max_completion_tokens": 100, "stop": "END", "user": "u", "n": 1}),
        );
        assert_eq!(
            b["generationConfig"],
            json!({"temperature": 0.3, "topP": 0.8, "maxOutputTokens": 100, "stopSequences": ["END"]})
        );
        assert!(b.get("user").is_none());
        let b = build(json!({"model": "g", "messages": [], "max_tokens": 7}));
        assert_eq!(b["generationConfig"], json!({"maxOutputTokens": 7}));
        let b = build(json!({"model": "g", "messages": []}));
        assert!(b.get("generationConfig").is_none());
    }

    #[test]
    fn google_tools_calls_and_responses_are_mapped_by_call_id() {
        let b = build(json!({"model": "g", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "{\"temp\":18}"},
            {"role": "tool", "tool_call_id": "call_0", "content": "plain"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}));
        assert_eq!(
            b["contents"],
            json!([
                {"role": "user", "parts": [{"text": "weather?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
                    {"functionResponse": {"name": "get_weather", "response": {"content": "plain"}}}]}
            ])
        );
        assert_eq!(
            b["tools"],
            json!([{"functionDeclarations": [{"name": "get_weather", "description": "d",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}])
        );
        assert_eq!(
            b["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
    }

    #[test]
    fn google_tool_message_with_unknown_call_id_is_a_400() {
        let e = req(
            json!({"model": "g", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
            false,
        )
        .unwrap_err();
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn google_image_data_urls_become_inline_data_and_http_urls_are_rejected() {
        let b = build(
            json!({"model": "g", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]}]}),
        );
        assert_eq!(
            b["contents"][0]["parts"],
            json!([{"text": "what?"}, {"inlineData": {"mimeType": "image/png", "data": "iVBO"}}])
        );
        let e = req(
            json!({"model": "g", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            false,
        )
        .unwrap_err();
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn google_error_body_message_is_extracted() {
        let body = br#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#;
        assert_eq!(
            error_message(ProviderKind::Google, 429, body),
            "Resource has been exhausted"
        );
    }

    fn run(input: &str) -> (String, StreamTranslator) {
        let mut t = StreamTranslator::new(ProviderKind::Google, "g", "id", 1);
        let mut out = t.push(input.as_bytes());
        out.extend(t.finish());
        (String::from_utf8(out).unwrap(), t)
    }

    #[test]
    fn google_mid_stream_error_gives_one_error_event_and_no_done() {
        let input = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"}}]}\r\n\r\n\
data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";
        let (out, t) = run(input);
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(out.contains("The model is overloaded."));
        assert!(!out.contains("[DONE]"));
    }

    #[test]
    fn google_stream_without_finish_reason_is_a_cut_stream() {
        let (out, t) =
            run("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n");
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(!out.contains("[DONE]"));
        assert_eq!(t.output_chars(), 2);
    }

    #[test]
    fn google_malformed_event_fails_once() {
        let (out, t) = run("data: {\"candidates\":[\r\n\r\ndata: {}\r\n\r\n");
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
    }

    #[test]
    fn google_usage_adds_thoughts_to_output() {
        let body = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 10}});
        let (v, u) = super::super::translate_response(
            ProviderKind::Google,
            "g",
            body.to_string().as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(u, Some(Usage::new(4, 12)));
        assert_eq!(v["usage"]["total_tokens"], 16);
    }

    #[test]
    fn google_blocked_prompt_answers_empty_content_filtered_completion() {
        let body = json!({"promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}});
        let (v, u) = super::super::translate_response(
            ProviderKind::Google,
            "g",
            body.to_string().as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
        assert_eq!(v["choices"][0]["message"]["content"], "");
        assert_eq!(u, Some(Usage::new(5, 0)));
        let (out, t) = run(&format!("data: {body}\r\n\r\n"));
        assert!(!t.failed());
        assert!(out.contains("\"finish_reason\":\"content_filter\""));
        assert!(out.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn google_events_after_the_finish_reason_only_update_usage() {
        let input = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n\
data: {\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1}}\r\n\r\n\
data: not json\r\n\r\n";
        let (out, t) = run(input);
        assert!(!t.failed());
        assert_eq!(t.usage(), Some(Usage::new(3, 1)));
        assert!(out.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn google_safety_finish_maps_to_content_filter() {
        assert_eq!(finish_reason("SAFETY"), "content_filter");
        assert_eq!(finish_reason("RECITATION"), "content_filter");
        assert_eq!(finish_reason("MAX_TOKENS"), "length");
        assert_eq!(finish_reason("STOP"), "stop");
    }
}
