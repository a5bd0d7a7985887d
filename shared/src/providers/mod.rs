//! Provider translation: apps speak OpenAI chat-completions; the proxy talks
//! to the project's provider in its own format and answers in OpenAI format.
//!
//! Invariants of the request path: the app's body is parsed and validated
//! once into a typed [`ChatRequest`] ([`crate::proxy_request::parse`]); each
//! wire format is one [`Provider`] implementation (OpenAI-compatible for
//! OpenAI, xAI and other URLs; Anthropic; Gemini) that owns its endpoint URL,
//! auth headers, request body, answer and stream translation and error
//! reading; and [`provider`] is the one place a [`ProviderKind`] is mapped to
//! its implementation. Nothing here matches on the kind for chat otherwise.
//! [`turns`] is the one walk over the typed messages for the translating
//! providers.
//!
//! Stream invariants: the stream output depends only on the bytes received,
//! never on how they were chunked; a stream either ends with `data: [DONE]`
//! (normal completion) or with exactly one contract error event
//! `{"error":{"message","type":"provider_error"}}` and no `[DONE]`; usage is
//! only what the provider reported (exact), `None` when it reported none.
//!
//! Failure modes: a malformed provider body or event, a provider error event
//! or a stream cut before its completion marker are reported, never panicked
//! on; no code here indexes or slices in a way that can panic.

pub mod anthropic;
pub mod dialect;
pub mod embeddings;
pub mod google;
pub mod messages;
pub mod openai;
pub mod responses;
mod turns;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::budget::{OutputBudget, RequestedOutput};
use crate::chat::ChatRequest;
use crate::sse::{SseEvent, SseParser};
use crate::ApiError;

/// The provider behind a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Google,
    Xai,
    Other,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Google => "google",
            Self::Xai => "xai",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "openai" => Some(Self::Openai),
            "anthropic" => Some(Self::Anthropic),
            "google" => Some(Self::Google),
            "xai" => Some(Self::Xai),
            "other" => Some(Self::Other),
            _ => None,
        }
    }

    /// The API root used when the project sets no `baseUrl` (docs/API.md,
    /// "Projects").
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Openai => Some("https://api.openai.com/v1"),
            Self::Anthropic => Some("https://api.anthropic.com/v1"),
            Self::Google => Some("https://generativelanguage.googleapis.com/v1beta"),
            Self::Xai => Some("https://api.x.ai/v1"),
            Self::Other => None,
        }
    }

    /// Speaks OpenAI chat-completions natively (openai, xai, other).
    pub fn is_openai_compatible(self) -> bool {
        matches!(self, Self::Openai | Self::Xai | Self::Other)
    }
}

/// One OpenAI function tool of a request, as every translator needs it.
pub(crate) struct FunctionTool<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    /// The JSON schema, when it is an object.
    pub parameters: Option<&'a Value>,
}

/// Reads the OpenAI `tools` array: function tools only (other kinds are
/// skipped), each with a non-empty name (else 400 naming `tools`).
pub(crate) fn function_tools(tools: Option<&Value>) -> Result<Vec<FunctionTool<'_>>, ApiError> {
    let mut out = Vec::new();
    for tool in tools.and_then(Value::as_array).into_iter().flatten() {
        let kind = tool
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        if kind != "function" {
            continue;
        }
        let Some(f) = tool.get("function") else {
            return Err(ApiError::invalid_field(
                "tools",
                "tools[].function.name is required",
            ));
        };
        let name = f
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::invalid_field("tools", "tools[].function.name is required"))?;
        out.push(FunctionTool {
            name,
            description: f.get("description").and_then(Value::as_str),
            parameters: f.get("parameters").filter(|p| p.is_object()),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The canonical model id: what is counted, matched by caps and rules,
    /// reported to analytics and put in the URL.
    pub model: String,
    /// The output budget written into `body` (and reserved).
    pub budget: OutputBudget,
}

/// What a request body is built for, besides the app's chat request.
pub(crate) struct Sending<'a> {
    /// The canonical model id.
    pub model: &'a str,
    pub stream: bool,
    /// The output ceiling and choices (written into the body where the
    /// provider needs them).
    pub budget: OutputBudget,
}

/// A translated non-stream answer: the OpenAI `chat.completion` and the
/// usage the provider reported.
pub(crate) type Answer = Result<(Value, Option<Usage>), ApiError>;

/// One provider wire format: how a chat request is sent to it and how its
/// answers, streams and errors are read.
pub(crate) trait Provider: Sync {
    /// The one spelling of a model id for the provider (what is counted,
    /// matched by caps and rules and put in the URL). By default the id as
    /// given (an OpenAI-compatible id may contain `/`).
    fn canonical_model(&self, model: &str) -> Result<String, ApiError> {
        Ok(model.to_string())
    }

    /// The model an endpoint base URL names and so pins, if any.
    fn pinned_model(&self, _base: &str) -> Option<String> {
        None
    }

    /// The output ceiling sent and the choices generated for what the app
    /// asked ([`crate::budget`]). By default: the requested ceiling (or
    /// the provider's own) and one choice (`n` is not forwarded).
    fn output_budget(&self, requested: RequestedOutput) -> OutputBudget {
        OutputBudget {
            max_output: requested.max_tokens,
            choices: 1,
        }
    }

    /// The chat endpoint under `base` (no trailing `/`).
    fn chat_url(&self, base: &str, model: &str, stream: bool) -> String;

    /// The headers carrying the provider key.
    fn auth_headers(&self, api_key: &str) -> Vec<(String, String)>;

    /// The request body: the typed chat request in this wire format, as
    /// `to` says (canonical model, stream or not, output ceiling).
    fn chat_body(&self, chat: ChatRequest, to: &Sending<'_>) -> Result<Vec<u8>, ApiError>;

    /// A 2xx non-stream answer (parsed JSON) → OpenAI `chat.completion` and
    /// the usage it reports.
    fn translate_response(&self, model: &str, body: Value, created: i64) -> Answer;

    /// The usage of an answer that goes to the app as it came, without
    /// being translated (see [`verbatim_usage`]); `None`: translate it.
    fn verbatim_usage(&self, _body: &[u8]) -> Option<Option<Usage>> {
        None
    }

    /// A fresh stream state for one answer.
    fn stream_state(&self) -> Box<dyn StreamEvents>;

    /// Best-effort public message out of an error body; the fallback is
    /// `provider answered <status>`. Never longer than ~500 characters.
    /// Every supported provider uses one of the shapes [`message_in`] reads.
    fn error_message(&self, status: u16, body: &[u8]) -> String {
        let found = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| message_in(&v));
        match found {
            Some(m) => truncate_chars(m.trim(), MAX_MESSAGE_CHARS),
            None => format!("provider answered {status}"),
        }
    }
}

/// The implementation of each provider kind: the one dispatch point.
pub(crate) fn provider(kind: ProviderKind) -> &'static dyn Provider {
    match kind {
        ProviderKind::Openai => &openai::OpenAiCompatible(ProviderKind::Openai),
        ProviderKind::Xai => &openai::OpenAiCompatible(ProviderKind::Xai),
        ProviderKind::Other => &openai::OpenAiCompatible(ProviderKind::Other),
        ProviderKind::Anthropic => &anthropic::Anthropic,
        ProviderKind::Google => &google::Gemini,
    }
}

/// Builds the provider request from the typed chat request. `stream` says
/// whether to ask for a stream. The model is canonicalised and the output
/// budget computed here, once; both travel with the request so the caller
/// reserves exactly what is sent.
pub fn build_request(
    kind: ProviderKind,
    base_url: &str,
    api_key: &str,
    chat: ChatRequest,
    stream: bool,
) -> Result<UpstreamRequest, ApiError> {
    let p = provider(kind);
    let base = base_url.trim().trim_end_matches('/');
    let model = match p.pinned_model(base) {
        Some(pinned) => pinned,
        None => p.canonical_model(&chat.model)?,
    };
    let budget = p.output_budget(chat.requested_output());
    let url = p.chat_url(base, &model, stream);
    let mut headers = p.auth_headers(api_key);
    headers.push(("content-type".to_string(), "application/json".to_string()));
    let to = Sending {
        model: &model,
        stream,
        budget,
    };
    let body = p.chat_body(chat, &to)?;
    Ok(UpstreamRequest {
        url,
        headers,
        body,
        model,
        budget,
    })
}

/// [`build_request`] from a JSON body, for the wire-format tests. Those
/// build bodies with no messages (which the app-facing parse refuses), so
/// an empty `messages` is typed as an empty list here.
#[cfg(test)]
pub(crate) fn build_json(
    kind: ProviderKind,
    base_url: &str,
    api_key: &str,
    mut body: Map<String, Value>,
    stream: bool,
) -> Result<UpstreamRequest, ApiError> {
    let empty = body.get("messages") == Some(&json!([]));
    if empty {
        body.insert("messages".into(), json!([{"role": "user", "content": ""}]));
    }
    let mut chat = ChatRequest::from_object(body)?;
    if empty {
        chat.messages.clear();
    }
    build_request(kind, base_url, api_key, chat, stream)
}

/// `{base}{path}` unless the base already ends with the path.
pub(crate) fn endpoint(base: &str, path: &str) -> String {
    if base.ends_with(path) {
        base.to_string()
    } else {
        format!("{base}{path}")
    }
}

/// Tokens as the provider reported them.
///
/// `flagged`: the provider's usage had a count out of range (negative,
/// fractional, or above [`MAX_REPORTED_TOKENS`]). Such a count is never
/// trusted as it stands — above the range it is clamped, otherwise it is
/// ignored — and the answer is counted like one whose usage is incomplete
/// (at least its reservation, [`crate::settlement::counted_usage`]); the
/// owner sees the number of such answers in analytics (`usageFlagged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Every input token, cached ones included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The part of `input_tokens` read from the provider's prompt cache,
    /// where the provider reports it (priced at the cached-input price).
    #[serde(default)]
    pub cached_input_tokens: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flagged: bool,
}

/// The most tokens one count in a provider's usage may claim. More is a
/// provider bug (or a hostile base URL) and is clamped to this, so one
/// answer cannot exhaust a token cap by a wild number.
pub const MAX_REPORTED_TOKENS: u64 = 10_000_000;

/// One token count of a provider's usage: a non-negative integer, clamped
/// to [`MAX_REPORTED_TOKENS`]. Anything else (negative, fractional, a
/// string, null) is absent, never 0: a usage with no valid count is no usage
/// at all, and the request is counted at its estimate instead.
pub(crate) fn token(v: &Value) -> Option<u64> {
    v.as_u64().map(|n| n.min(MAX_REPORTED_TOKENS))
}

/// A count the provider sent that [`token`] does not take as it stands:
/// a number that is negative, fractional or above [`MAX_REPORTED_TOKENS`].
/// (A missing count, a string or null is simply absent, not flagged.)
pub(crate) fn out_of_range(v: &Value) -> bool {
    v.is_number() && v.as_u64().is_none_or(|n| n > MAX_REPORTED_TOKENS)
}

/// Whether any of `keys` in the usage object `u` is [`out_of_range`].
pub(crate) fn any_out_of_range(u: &Value, keys: &[&str]) -> bool {
    keys.iter().any(|k| u.get(*k).is_some_and(out_of_range))
}

impl Usage {
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            cached_input_tokens: 0,
            flagged: false,
        }
    }

    /// This usage with `cached` of its input tokens read from the prompt cache.
    pub const fn with_cached(self, cached: u64) -> Self {
        Usage {
            cached_input_tokens: cached,
            ..self
        }
    }

    /// This usage, flagged when `flagged` (never unflags).
    pub fn flag_if(self, flagged: bool) -> Self {
        Usage {
            flagged: self.flagged || flagged,
            ..self
        }
    }

    /// What the app may be shown: nothing for a usage with no count to
    /// show (every count out of range).
    pub fn reportable(self) -> Option<Usage> {
        (!self.flagged || self.total() > 0).then_some(self)
    }

    /// A usage whose every count was out of range: no count to use (the
    /// answer is counted at its reservation), but flagged for the owner.
    pub const fn flagged_without_counts() -> Self {
        Usage {
            input_tokens: 0,
            output_tokens: 0,
            cached_input_tokens: 0,
            flagged: true,
        }
    }

    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// OpenAI's `usage` object.
    pub fn to_openai_json(&self) -> Value {
        json!({
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.total(),
        })
    }
}

/// Translates a 2xx non-stream provider body into an OpenAI
/// `chat.completion` object and the usage it reports.
pub fn translate_response(
    kind: ProviderKind,
    model: &str,
    body: &[u8],
    created: i64,
) -> Result<(Value, Option<Usage>), ApiError> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|_| malformed_response(kind, "the provider's answer is not valid JSON"))?;
    provider(kind).translate_response(model, parsed, created)
}

/// An answer the app can get as the provider sent it (its own wire format
/// is OpenAI's and the translation would change nothing): its usage, read
/// without building the document. The caller appends the `ratelimit`
/// member with [`openai::with_last_member`]. `None`: use
/// [`translate_response`].
pub fn verbatim_usage(kind: ProviderKind, body: &[u8]) -> Option<Option<Usage>> {
    provider(kind).verbatim_usage(body)
}

pub(crate) fn malformed_response(kind: ProviderKind, what: &str) -> ApiError {
    ApiError::provider_error(
        kind.as_str(),
        502,
        format!("Malformed provider answer: {what}"),
    )
}

/// Longest provider message passed on to the app.
const MAX_MESSAGE_CHARS: usize = 500;

/// Best-effort public message out of a provider error body
/// ([`Provider::error_message`]).
pub fn error_message(kind: ProviderKind, status: u16, body: &[u8]) -> String {
    provider(kind).error_message(status, body)
}

/// The message of an error value: `{"error":{"message"}}` (OpenAI, Google,
/// Anthropic's `{"type":"error","error":{...}}`), `{"error":"text"}`,
/// `{"message":"text"}`, or the first element of an array of those.
pub(crate) fn message_in(v: &Value) -> Option<String> {
    let non_empty = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    };
    match v {
        Value::Array(items) => items.first().and_then(message_in),
        Value::Object(o) => match o.get("error") {
            Some(Value::Object(e)) => e.get("message").and_then(Value::as_str).and_then(non_empty),
            Some(Value::String(s)) => non_empty(s),
            _ => o.get("message").and_then(Value::as_str).and_then(non_empty),
        },
        _ => None,
    }
}

pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the request translators.

/// `data:<media type>;base64,<data>` → (media type, data).
pub(crate) fn parse_data_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media = meta.strip_suffix(";base64")?;
    let media = if media.is_empty() { "image/png" } else { media };
    Some((media.to_string(), data.to_string()))
}

pub(crate) fn bad_messages(message: impl Into<String>) -> ApiError {
    ApiError::invalid_field("messages", message)
}

/// OpenAI `stop`: a string or an array of strings.
pub(crate) fn stop_list(stop: Option<&Value>) -> Option<Vec<Value>> {
    match stop {
        Some(Value::String(s)) => Some(vec![Value::from(s.clone())]),
        Some(Value::Array(items)) => {
            let list: Vec<Value> = items
                .iter()
                .filter(|v| v.as_str().is_some())
                .cloned()
                .collect();
            (!list.is_empty()).then_some(list)
        }
        _ => None,
    }
}

/// A tool call's `arguments` JSON string parsed to an object (`""` → `{}`).
pub(crate) fn parse_arguments(arguments: Option<&Value>) -> Result<Value, ApiError> {
    match arguments {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(o)) => Ok(Value::Object(o.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(json!({})),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => Ok(Value::Object(o)),
            _ => Err(bad_messages(
                "tool_calls[].function.arguments must be a JSON object string",
            )),
        },
        Some(_) => Err(bad_messages(
            "tool_calls[].function.arguments must be a JSON object string",
        )),
    }
}

/// A `chat.completion` object.
pub(crate) fn completion_json(
    id: &str,
    model: &str,
    created: i64,
    message: Value,
    finish_reason: &str,
    usage: Option<Usage>,
) -> Value {
    let mut v = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason,
        }],
    });
    if let (Some(u), Some(o)) = (usage.and_then(Usage::reportable), v.as_object_mut()) {
        o.insert("usage".into(), u.to_openai_json());
    }
    v
}

/// An assistant message with optional tool calls (content `null` when there
/// are tool calls and no text, as OpenAI does).
pub(crate) fn assistant_message(text: String, tool_calls: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("role".into(), Value::from("assistant"));
    if tool_calls.is_empty() {
        m.insert("content".into(), Value::from(text));
    } else {
        let content = if text.is_empty() {
            Value::Null
        } else {
            Value::from(text)
        };
        m.insert("content".into(), content);
        m.insert("tool_calls".into(), Value::Array(tool_calls));
    }
    Value::Object(m)
}

pub(crate) fn tool_call_json(id: &str, name: &str, arguments: &str) -> Value {
    json!({
        "id": id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    })
}

// ---------------------------------------------------------------------------
// Streams.

/// What a provider's stream state writes into while handling events.
pub(crate) struct StreamCtx {
    id: String,
    model: String,
    created: i64,
    out: Vec<u8>,
    pub(crate) usage: Option<Usage>,
    /// The provider's completion marker was seen.
    pub(crate) completed: bool,
    pub(crate) output_chars: u64,
}

impl StreamCtx {
    /// Writes one `data: …\n\n` event; multi-line data keeps one `data:`
    /// line per line so a client rebuilds it identically.
    pub(crate) fn emit_data(&mut self, data: &str) {
        for line in data.split('\n') {
            self.out.extend_from_slice(b"data: ");
            self.out.extend_from_slice(line.as_bytes());
            self.out.push(b'\n');
        }
        self.out.push(b'\n');
    }

    pub(crate) fn emit_json(&mut self, v: &Value) {
        let text = v.to_string();
        self.emit_data(&text);
    }

    /// A `chat.completion.chunk` with one choice.
    pub(crate) fn emit_delta(&mut self, delta: Value, finish_reason: Option<&str>) {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "finish_reason": finish_reason,
            }],
        });
        self.emit_json(&chunk);
    }

    /// The usage chunk (`choices: []`) OpenAI sends last with include_usage.
    pub(crate) fn emit_usage_chunk(&mut self, usage: Usage) {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage.to_openai_json(),
        });
        self.emit_json(&chunk);
    }

    pub(crate) fn count_chars(&mut self, s: &str) {
        let n = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
        self.output_chars = self.output_chars.saturating_add(n);
    }
}

/// One provider's stream state: turns its events into OpenAI chunks in
/// [`StreamCtx`].
pub(crate) trait StreamEvents: Send {
    /// Handles one provider event; `Err` is the public failure message.
    fn on_event(&mut self, ev: &SseEvent, ctx: &mut StreamCtx) -> Result<(), String>;

    /// The provider sends its own usage chunk (OpenAI-compatible ones), so
    /// none is added at the end when it reported usage.
    fn sends_usage_chunk(&self) -> bool {
        false
    }
}

/// Stateful stream translator: raw provider SSE bytes in (any chunking),
/// OpenAI SSE bytes out.
pub struct StreamTranslator {
    parser: SseParser,
    state: Box<dyn StreamEvents>,
    ctx: StreamCtx,
    failed: bool,
    finished: bool,
}

const MSG_MALFORMED: &str = "The provider sent a malformed stream event";
const MSG_TOO_LARGE: &str = "The provider sent a stream event that is too large";
const MSG_CUT: &str = "The provider's stream ended before the answer was complete";

impl StreamTranslator {
    pub fn new(kind: ProviderKind, model: &str, id: &str, created: i64) -> Self {
        Self {
            parser: SseParser::new(),
            state: provider(kind).stream_state(),
            ctx: StreamCtx {
                id: id.to_string(),
                model: model.to_string(),
                created,
                out: Vec::new(),
                usage: None,
                completed: false,
                output_chars: 0,
            },
            failed: false,
            finished: false,
        }
    }

    /// Feeds provider bytes; returns OpenAI SSE bytes ready to send (maybe
    /// none). Returns nothing once the stream failed or finished.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.failed || self.finished {
            return Vec::new();
        }
        let events = self.parser.push(chunk);
        self.handle(events);
        std::mem::take(&mut self.ctx.out)
    }

    /// The provider body ended. Ends a completed stream with the usage chunk
    /// (where the translator makes one) and `data: [DONE]`; otherwise emits
    /// one error event and no `[DONE]`. Idempotent.
    pub fn finish(&mut self) -> Vec<u8> {
        self.finish_with(|_| None)
    }

    /// Like [`finish`](Self::finish), but a completed stream whose provider
    /// reported no usage still ends with a usage chunk: the one
    /// `when_no_usage(output_chars)` gives (what the proxy counts), so the
    /// last chunk carries usage whatever the provider sent.
    pub fn finish_with(&mut self, when_no_usage: impl FnOnce(u64) -> Option<Usage>) -> Vec<u8> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        if self.failed {
            return std::mem::take(&mut self.ctx.out);
        }
        let events = self.parser.finish();
        self.handle(events);
        if !self.failed {
            if self.ctx.completed {
                match self.ctx.usage {
                    // OpenAI-compatible providers sent their own usage chunk.
                    Some(_) if self.state.sends_usage_chunk() => {}
                    Some(u) => self.ctx.emit_usage_chunk(u),
                    None => {
                        if let Some(u) = when_no_usage(self.ctx.output_chars) {
                            self.ctx.emit_usage_chunk(u);
                        }
                    }
                }
                self.ctx.out.extend_from_slice(b"data: [DONE]\n\n");
            } else {
                self.fail(MSG_CUT);
            }
        }
        std::mem::take(&mut self.ctx.out)
    }

    /// Exact provider-reported usage, once known.
    pub fn usage(&self) -> Option<Usage> {
        self.ctx.usage
    }

    /// A provider error event, a malformed event or a cut stream happened.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Characters of content and tool-argument deltas seen so far.
    pub fn output_chars(&self) -> u64 {
        self.ctx.output_chars
    }

    fn handle(&mut self, events: Vec<SseEvent>) {
        for ev in &events {
            if self.failed {
                return;
            }
            if let Err(message) = self.state.on_event(ev, &mut self.ctx) {
                self.fail(&message);
            }
        }
        if !self.failed && self.parser.overflowed() {
            self.fail(MSG_TOO_LARGE);
        }
    }

    fn fail(&mut self, message: &str) {
        if self.failed {
            return;
        }
        self.failed = true;
        let event = json!({
            "error": {
                "message": truncate_chars(message, MAX_MESSAGE_CHARS),
                "type": "provider_error",
            }
        });
        self.ctx.emit_json(&event);
    }
}

/// Parses an event's data as JSON, or the malformed-event failure.
pub(crate) fn event_json(ev: &SseEvent) -> Result<Value, String> {
    serde_json::from_str::<Value>(&ev.data).map_err(|_| MSG_MALFORMED.to_string())
}

/// The public message of a provider error event.
pub(crate) fn stream_error_message(v: &Value) -> String {
    message_in(v).unwrap_or_else(|| "The provider reported an error mid-stream".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_stream_without_provider_usage_ends_with_the_counted_usage() {
        let mut t = StreamTranslator::new(ProviderKind::Openai, "m", "chatcmpl-1", 1);
        let body = b"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        let mut out = t.push(body);
        out.extend(t.finish_with(|chars| Some(Usage::new(3, chars))));
        let text = String::from_utf8_lossy(&out);
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.last().copied(), Some("data: [DONE]"));
        let usage_event = events
            .get(events.len().wrapping_sub(2))
            .copied()
            .unwrap_or_default();
        let v: Value =
            serde_json::from_str(usage_event.trim_start_matches("data: ")).unwrap_or_default();
        assert_eq!(v["usage"]["prompt_tokens"], 3);
        assert_eq!(v["usage"]["completion_tokens"], 5);
        assert_eq!(v["usage"]["total_tokens"], 8);
        assert_eq!(t.usage(), None);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in [
            ProviderKind::Openai,
            ProviderKind::Anthropic,
            ProviderKind::Google,
            ProviderKind::Xai,
            ProviderKind::Other,
        ] {
            assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProviderKind::parse("OpenAI"), None);
        assert_eq!(ProviderKind::Other.default_base_url(), None);
        assert!(ProviderKind::Xai.is_openai_compatible());
        assert!(!ProviderKind::Google.is_openai_compatible());
    }

    #[test]
    fn error_message_reads_each_provider_shape() {
        let openai = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#;
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let google = br#"[{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}]"#;
        assert_eq!(
            error_message(ProviderKind::Openai, 401, openai),
            "Incorrect API key"
        );
        assert_eq!(
            error_message(ProviderKind::Anthropic, 529, anthropic),
            "Overloaded"
        );
        assert_eq!(
            error_message(ProviderKind::Google, 400, google),
            "API key not valid"
        );
    }

    #[test]
    fn error_message_falls_back_to_the_status_for_non_json_bodies() {
        let html = b"<html><body>502 Bad Gateway</body></html>";
        assert_eq!(
            error_message(ProviderKind::Other, 502, html),
            "provider answered 502"
        );
        assert_eq!(
            error_message(ProviderKind::Openai, 500, br#"{"error":{"message":""}}"#),
            "provider answered 500"
        );
    }

    #[test]
    fn error_message_is_capped_at_500_chars_on_a_char_boundary() {
        let long = "é".repeat(2000);
        let body = json!({"error": {"message": long}}).to_string();
        let m = error_message(ProviderKind::Openai, 400, body.as_bytes());
        assert!(m.chars().count() <= 501);
        assert!(m.starts_with("éé"));
    }

    #[test]
    fn endpoint_is_appended_once() {
        assert_eq!(
            endpoint("https://a/v1", "/messages"),
            "https://a/v1/messages"
        );
        assert_eq!(
            endpoint("https://a/v1/messages", "/messages"),
            "https://a/v1/messages"
        );
    }

    #[test]
    fn data_urls_split_into_media_type_and_data() {
        assert_eq!(
            parse_data_url("data:image/jpeg;base64,AAAA"),
            Some(("image/jpeg".to_string(), "AAAA".to_string()))
        );
        assert_eq!(parse_data_url("data:image/png,rawnotbase64"), None);
        assert_eq!(parse_data_url("https://x/y.png"), None);
    }
}
