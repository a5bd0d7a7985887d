//! OpenAI-compatible providers (OpenAI, xAI, any compatible URL).
//!
//! Request: the app's body is forwarded as is; when streaming,
//! `stream_options.include_usage` is forced on so the last chunk carries the
//! exact usage. Response: passed through, usage read from `usage`. Stream:
//! every upstream event's data is re-emitted verbatim (line endings
//! normalised); `[DONE]` marks completion and is re-emitted at finish; an
//! upstream `{"error":…}` event or non-JSON data fails the stream.

use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    endpoint, event_json, malformed_response, stream_error_message, Answer, Provider, ProviderKind,
    Sending, StreamCtx, StreamEvents, Usage,
};
use crate::budget::{OutputBudget, RequestedOutput};
use crate::chat::ChatRequest;
use crate::sse::SseEvent;
use crate::ApiError;

/// OpenAI's wire format, spoken by OpenAI, xAI and any compatible URL.
pub(crate) struct OpenAiCompatible(pub(crate) ProviderKind);

impl Provider for OpenAiCompatible {
    /// `n` is forwarded: every choice is reserved for.
    fn output_budget(&self, requested: RequestedOutput) -> OutputBudget {
        OutputBudget {
            max_output: requested.max_tokens,
            choices: requested.choices,
        }
    }

    fn chat_url(&self, base: &str, _model: &str, _stream: bool) -> String {
        endpoint(base, "/chat/completions")
    }

    fn auth_headers(&self, api_key: &str) -> Vec<(String, String)> {
        vec![("authorization".to_string(), format!("Bearer {api_key}"))]
    }

    /// The app's `max_tokens` / `max_completion_tokens` / `n` are forwarded
    /// as sent: they are the budget.
    fn chat_body(&self, chat: ChatRequest, to: &Sending<'_>) -> Result<Vec<u8>, ApiError> {
        build_body(chat, to.stream)
    }

    fn translate_response(&self, _model: &str, body: Value, _created: i64) -> Answer {
        translate_response(self.0, body)
    }

    fn stream_state(&self) -> Box<dyn StreamEvents> {
        Box::<StreamState>::default()
    }

    fn verbatim_usage(&self, body: &[u8]) -> Option<Option<Usage>> {
        verbatim_usage(body)
    }
}

/// The body sent upstream: the app's fields, with `stream` set and usage
/// requested on streams (`stream_options` removed otherwise, since OpenAI
/// rejects it on non-stream requests).
pub(crate) fn build_body(mut chat: ChatRequest, stream: bool) -> Result<Vec<u8>, ApiError> {
    if stream {
        chat.stream = Some(true);
        let mut options = match chat.extra.remove("stream_options") {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        options.insert("include_usage".into(), Value::Bool(true));
        chat.extra
            .insert("stream_options".into(), Value::Object(options));
    } else {
        chat.stream = None;
        chat.extra.remove("stream_options");
    }
    serde_json::to_vec(&chat).map_err(|_| ApiError::internal())
}

/// Usage out of an OpenAI `usage` object.
/// `{}` or counts that are not non-negative integers are no usage (the
/// request is then counted at its estimate), never 0 tokens.
pub(crate) fn usage_of(v: &Value) -> Option<Usage> {
    let u = v.as_object()?;
    let keys = ["prompt_tokens", "completion_tokens", "total_tokens"];
    let flagged = super::any_out_of_range(v, &keys);
    let prompt = u.get("prompt_tokens").and_then(super::token);
    let completion = u.get("completion_tokens").and_then(super::token);
    let total = u.get("total_tokens").and_then(super::token);
    if prompt.is_none() && completion.is_none() && total.is_none() {
        return flagged.then(Usage::flagged_without_counts);
    }
    let input = prompt.unwrap_or(0);
    let output = match completion {
        Some(n) => n,
        None => total.map_or(0, |t| t.saturating_sub(input)),
    };
    let cached = u
        .get("prompt_tokens_details")
        .and_then(|d| d.get("cached_tokens"))
        .and_then(super::token)
        .unwrap_or(0)
        .min(input);
    Some(
        Usage::new(input, output)
            .with_cached(cached)
            .flag_if(flagged),
    )
}

pub(crate) fn translate_response(
    kind: ProviderKind,
    body: Value,
) -> Result<(Value, Option<Usage>), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(malformed_response(kind, "expected a JSON object"));
    };
    if !obj.contains_key("choices") {
        if obj.get("error").is_some_and(|e| !e.is_null()) {
            let message = super::message_in(&body)
                .unwrap_or_else(|| "The provider reported an error".to_string());
            return Err(ApiError::provider_error(kind.as_str(), 502, message));
        }
        return Err(malformed_response(kind, "no choices"));
    }
    let usage = obj.get("usage").and_then(usage_of);
    let mut body = body;
    if let Some(o) = body.as_object_mut() {
        match usage.and_then(Usage::reportable) {
            // `usage: {}` or counts that are not counts: the app gets no
            // usage rather than one the contract does not allow.
            None => {
                o.remove("usage");
            }
            // Out-of-range counts: the app sees them as they are counted.
            Some(u) if u.flagged => {
                o.insert("usage".into(), u.to_openai_json());
            }
            Some(_) => {}
        }
    }
    Ok((body, usage))
}

/// A key that was present, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// What [`verbatim_usage`] reads of a completion; every other member is
/// skipped without being built.
#[derive(Deserialize)]
struct CompletionHead {
    #[serde(default)]
    choices: Present,
    /// `Some(Value::Null)` for `"usage": null` (which the translation drops).
    #[serde(default, deserialize_with = "present_value")]
    usage: Option<Value>,
    #[serde(default)]
    ratelimit: Present,
}

fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The usage of a completion that [`translate_response`] would hand back
/// unchanged (a JSON object with `choices`, its `usage` absent or valid
/// and in range, no `ratelimit` member of its own), read without building
/// the document: such an answer goes to the app byte for byte, with the
/// `ratelimit` member appended ([`with_last_member`]). `None`: the answer
/// needs the translation (an error, a malformed or repaired usage, …).
pub fn verbatim_usage(body: &[u8]) -> Option<Option<Usage>> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let head: CompletionHead = serde_json::from_slice(body).ok()?;
    if !head.choices.0 || head.ratelimit.0 {
        return None;
    }
    match head.usage {
        None => Some(None),
        Some(raw) => {
            let usage = usage_of(&raw)?;
            (!usage.flagged).then_some(Some(usage))
        }
    }
}

/// A JSON object's text with `"key": value` added as its last member.
/// `object` must be one JSON object (as [`verbatim_usage`] checked).
pub fn with_last_member(object: &[u8], key: &str, value: &Value) -> Option<Vec<u8>> {
    let end = object.iter().rposition(|b| !b.is_ascii_whitespace())?;
    if object[end] != b'}' {
        return None;
    }
    let before = object[..end]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())?;
    let empty = object[before] == b'{';
    let key = serde_json::to_vec(key).ok()?;
    let value = serde_json::to_vec(value).ok()?;
    let mut out = Vec::with_capacity(end + key.len() + value.len() + 3);
    out.extend_from_slice(&object[..end]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(&key);
    out.push(b':');
    out.extend_from_slice(&value);
    out.push(b'}');
    Some(out)
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    done: bool,
}

impl StreamEvents for StreamState {
    fn sends_usage_chunk(&self) -> bool {
        true
    }

    fn on_event(&mut self, ev: &SseEvent, ctx: &mut StreamCtx) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        if ev.data.trim() == "[DONE]" {
            self.done = true;
            ctx.completed = true;
            return Ok(());
        }
        let v = event_json(ev)?;
        let is_error_event = ev.event.as_deref() == Some("error");
        if is_error_event || v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(stream_error_message(&v));
        }
        let raw_usage = v.get("usage").filter(|u| !u.is_null());
        let usage = raw_usage.and_then(usage_of);
        if let Some(u) = usage {
            ctx.usage = Some(u);
        }
        let choices = v.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            let Some(delta) = choice.get("delta") else {
                continue;
            };
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                ctx.count_chars(text);
            }
            let calls = delta.get("tool_calls").and_then(Value::as_array);
            for call in calls.into_iter().flatten() {
                let args = call.pointer("/function/arguments").and_then(Value::as_str);
                if let Some(args) = args {
                    ctx.count_chars(args);
                }
            }
        }
        let shown = usage.and_then(Usage::reportable);
        if raw_usage.is_some() && shown.is_none_or(|u| u.flagged) {
            // An unusable usage (`{}`, every count out of range) is sent as
            // `null`, one with a count out of range as it is counted; the
            // usage chunk at the end then carries what is counted.
            let mut v = v;
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "usage".into(),
                    shown.map_or(Value::Null, |u| u.to_openai_json()),
                );
            }
            ctx.emit_data(&v.to_string());
        } else {
            ctx.emit_data(&ev.data);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{build_json as build_request, StreamTranslator};
    use super::*;
    use serde_json::json;

    fn usage_json(input: u64, output: u64) -> Value {
        json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output})
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn sent(req: &super::super::UpstreamRequest) -> Value {
        serde_json::from_slice(&req.body).unwrap()
    }

    #[test]
    fn openai_request_is_forwarded_with_all_fields_and_bearer_key() {
        let b = body(
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2, "user": "u1", "response_format": {"type": "json_object"}}),
        );
        let req = build_request(
            ProviderKind::Openai,
            "https://api.openai.com/v1/",
            "sk-x",
            b.clone(),
            false,
        )
        .unwrap();
        assert_eq!(req.url, "https://api.openai.com/v1/chat/completions");
        assert!(req
            .headers
            .contains(&("authorization".into(), "Bearer sk-x".into())));
        assert!(req
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        assert_eq!(sent(&req), Value::Object(b));
    }

    #[test]
    fn openai_full_endpoint_base_url_is_kept_as_is() {
        let req = build_request(
            ProviderKind::Other,
            "http://localhost:8080/v1/chat/completions",
            "k",
            body(json!({"model": "m", "messages": []})),
            false,
        )
        .unwrap();
        assert_eq!(req.url, "http://localhost:8080/v1/chat/completions");
    }

    #[test]
    fn openai_stream_request_forces_include_usage_and_keeps_other_options() {
        let b = body(json!({"model": "m", "messages": [],
            "stream_options": {"include_usage": false, "x": 1}}));
        let req = build_request(ProviderKind::Xai, "https://api.x.ai/v1", "k", b, true).unwrap();
        let v = sent(&req);
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"], json!({"include_usage": true, "x": 1}));
    }

    #[test]
    fn openai_non_stream_request_drops_stream_options() {
        let b = body(json!({"model": "m", "messages": [], "stream": true,
            "stream_options": {"include_usage": true}}));
        let v = sent(&build_request(ProviderKind::Openai, "https://a/v1", "k", b, false).unwrap());
        assert!(v.get("stream").is_none());
        assert!(v.get("stream_options").is_none());
    }

    #[test]
    fn openai_response_passes_through_with_usage() {
        let raw = json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [],
            "usage": usage_json(3, 4)});
        let (v, u) = super::super::translate_response(
            ProviderKind::Openai,
            "m",
            raw.to_string().as_bytes(),
            0,
        )
        .unwrap();
        assert_eq!(v, raw);
        assert_eq!(u, Some(Usage::new(3, 4)));
    }

    #[test]
    fn openai_response_that_is_not_json_is_a_502_provider_error() {
        let e =
            super::super::translate_response(ProviderKind::Openai, "m", b"<html>", 0).unwrap_err();
        assert_eq!(e.status(), 502);
        assert_eq!(e.code(), "provider_error");
        assert_eq!(e.to_json()["provider"], "openai");
    }

    fn run(input: &[u8]) -> (String, StreamTranslator) {
        let mut t = StreamTranslator::new(ProviderKind::Openai, "m", "id", 1);
        let mut out = t.push(input);
        out.extend(t.finish());
        (String::from_utf8(out).unwrap(), t)
    }

    #[test]
    fn openai_mid_stream_error_gives_one_error_event_and_no_done() {
        let input = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"error\":{\"message\":\"server overloaded\",\"type\":\"server_error\"}}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"more\"}}]}\n\ndata: [DONE]\n\n";
        let (out, mut t) = run(input);
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(out.contains("server overloaded"));
        assert!(out.contains("provider_error"));
        assert!(!out.contains("[DONE]"));
        assert!(!out.contains("more"));
        assert!(t.push(b"data: {}\n\n").is_empty());
        assert!(t.finish().is_empty());
    }

    #[test]
    fn openai_non_json_event_fails_the_stream_as_malformed() {
        let (out, t) = run(b"data: {\"choices\":[]}\n\ndata: not json\n\ndata: [DONE]\n\n");
        assert!(t.failed());
        assert!(out.contains("malformed"));
        assert!(!out.contains("[DONE]"));
        assert_eq!(out.matches("\"error\"").count(), 1);
    }

    #[test]
    fn openai_stream_cut_before_done_fails_once_at_finish() {
        let (out, t) =
            run(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abc\"}}]}\n\n");
        assert!(t.failed());
        assert_eq!(out.matches("\"error\"").count(), 1);
        assert!(!out.contains("[DONE]"));
        assert_eq!(t.output_chars(), 3);
    }

    /// The answer the app gets on the verbatim path, as a document.
    fn verbatim(body: &str) -> Option<(Value, Option<Usage>)> {
        let usage = verbatim_usage(body.as_bytes())?;
        let out = with_last_member(body.as_bytes(), "ratelimit", &json!({"tier": "free"}))?;
        Some((serde_json::from_slice(&out).ok()?, usage))
    }

    /// The answer the translation gives, with the member added the same way.
    fn translated(body: &str) -> (Value, Option<Usage>) {
        let parsed: Value = serde_json::from_str(body).unwrap_or_default();
        let (mut v, usage) = translate_response(ProviderKind::Openai, parsed).unwrap_or_default();
        if let Value::Object(o) = &mut v {
            o.insert("ratelimit".into(), json!({"tier": "free"}));
        }
        (v, usage)
    }

    #[test]
    fn verbatim_answers_equal_the_translation() {
        for body in [
            r#"{"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}}"#,
            "  {\"choices\": [], \"model\": \"m\"}\n",
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}"#,
        ] {
            let got = verbatim(body);
            assert!(got.is_some(), "{body} should pass verbatim");
            assert_eq!(got, Some(translated(body)), "{body}");
        }
    }

    #[test]
    fn answers_the_translation_changes_are_not_verbatim() {
        for body in [
            r#"{"choices":[],"usage":{}}"#,
            r#"{"choices":[],"usage":null}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":2}}"#,
            r#"{"choices":[],"ratelimit":null}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}"#,
            r#"{"error":{"message":"no"}}"#,
            r#"{"id":"x"}"#,
            r#"[{"choices":[]}]"#,
            r#"{"choices":[]"#,
            "",
        ] {
            assert_eq!(verbatim_usage(body.as_bytes()), None, "{body}");
        }
    }

    #[test]
    fn the_member_goes_last_in_any_object() {
        let add = |o: &str| {
            with_last_member(o.as_bytes(), "k", &json!([1]))
                .map(|b| String::from_utf8(b).unwrap_or_default())
        };
        assert_eq!(add("{}").as_deref(), Some(r#"{"k":[1]}"#));
        assert_eq!(add("{ }\n").as_deref(), Some(r#"{ "k":[1]}"#));
        assert_eq!(add(r#"{"a":1}"#).as_deref(), Some(r#"{"a":1,"k":[1]}"#));
        assert_eq!(add("[1]"), None);
    }
}
