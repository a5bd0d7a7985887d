//! The wire format an app speaks on a route, and the streams that answer in
//! it.
//!
//! - [`Dialect::Chat`]: OpenAI chat completions (every provider translated
//!   by [`StreamTranslator`]).
//! - [`Dialect::Responses`]: OpenAI's Responses API. Native for `openai`
//!   projects (the request and the stream pass through unchanged, watched
//!   for usage); translated for the others (chat chunks re-encoded).
//! - [`Dialect::Messages`]: Anthropic's Messages format. Native for
//!   `anthropic` projects; translated for the others.
//!
//! [`AnswerStream`] has the translator's interface (push, finish, usage,
//! failed, output characters), whatever the dialect, so the Worker's
//! settle-after-the-last-byte logic is the same for every route.
//! Invariant: usage is only what the provider reported; a native stream
//! that ends before its completion event gets one error event appended in
//! its own format and counts as failed.

use serde_json::{Map, Value};

use super::{
    endpoint, messages, provider, responses, ProviderKind, StreamTranslator, UpstreamRequest, Usage,
};
use crate::budget::OutputBudget;
use crate::chat::ChatRequest;
use crate::sse::SseParser;
use crate::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Chat,
    Responses,
    Messages,
    /// OpenAI's embeddings (never a stream; native for OpenAI-compatible
    /// providers, translated for Gemini).
    Embeddings,
}

impl Dialect {
    /// The provider speaks this dialect itself: the body is forwarded as is.
    pub fn native_for(self, kind: ProviderKind) -> bool {
        match self {
            Dialect::Chat => false,
            Dialect::Responses => kind == ProviderKind::Openai,
            Dialect::Messages => kind == ProviderKind::Anthropic,
            Dialect::Embeddings => kind.is_openai_compatible(),
        }
    }

    /// The id prefix of an answer in this dialect.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Dialect::Chat | Dialect::Embeddings => "chatcmpl-",
            Dialect::Responses => "resp_",
            Dialect::Messages => "msg_",
        }
    }
}

/// Builds the native request: the app's body (proxy-only fields already
/// removed) to the provider's own endpoint for the dialect. The budget is
/// read from the chat form of the same body (`chat`), so the reservation is
/// sized exactly as for a translated request; Anthropic's required
/// `max_tokens` is written when the app sent none.
pub fn build_native_request(
    kind: ProviderKind,
    dialect: Dialect,
    base_url: &str,
    api_key: &str,
    mut body: Map<String, Value>,
    chat: &ChatRequest,
) -> Result<UpstreamRequest, ApiError> {
    let base = base_url.trim().trim_end_matches('/');
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let budget = OutputBudget::for_provider(kind, chat.requested_output());
    let url = match dialect {
        Dialect::Messages => {
            if let Some(max) = budget.max_output {
                body.insert("max_tokens".into(), Value::from(max));
            }
            endpoint(base, "/messages")
        }
        _ => endpoint(base, "/responses"),
    };
    // The native dialect is the provider's own, so are its auth headers.
    let mut headers = provider(kind).auth_headers(api_key);
    headers.push(("content-type".to_string(), "application/json".to_string()));
    let body = serde_json::to_vec(&Value::Object(body)).map_err(|_| ApiError::internal())?;
    Ok(UpstreamRequest {
        url,
        headers,
        body,
        model,
        budget,
    })
}

/// The usage a native non-stream answer reports.
pub fn native_usage(
    dialect: Dialect,
    kind: ProviderKind,
    model: &str,
    body: &[u8],
) -> Option<Usage> {
    match dialect {
        Dialect::Embeddings => super::embeddings::native_usage(body),
        Dialect::Messages => super::translate_response(kind, model, body, 0)
            .ok()
            .and_then(|(_, u)| u),
        _ => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| responses::native_usage(&v)),
    }
}

/// Translates a chat completion into the dialect's answer.
pub fn from_completion(dialect: Dialect, completion: Value, id: &str, created: i64) -> Value {
    match dialect {
        Dialect::Chat | Dialect::Embeddings => completion,
        Dialect::Responses => responses::from_completion(&completion, id, created),
        Dialect::Messages => messages::from_completion(&completion, id),
    }
}

enum Writer {
    Responses(responses::StreamWriter),
    Messages(messages::StreamWriter),
}

enum Inner {
    Chat(StreamTranslator),
    Translated {
        chat: StreamTranslator,
        parser: SseParser,
        writer: Box<Writer>,
    },
    NativeResponses {
        watcher: responses::NativeWatcher,
        finished: bool,
    },
    /// Anthropic's own stream, watched by its translator (output discarded).
    NativeMessages {
        watcher: StreamTranslator,
        failed: bool,
        finished: bool,
    },
}

/// Provider stream bytes in, the dialect's stream bytes out.
pub struct AnswerStream {
    inner: Inner,
}

const MSG_CUT: &str = "The provider's stream ended before the answer was complete";

impl AnswerStream {
    pub fn new(dialect: Dialect, kind: ProviderKind, model: &str, id: &str, created: i64) -> Self {
        let inner = if dialect.native_for(kind) && dialect != Dialect::Embeddings {
            match dialect {
                Dialect::Messages => Inner::NativeMessages {
                    watcher: StreamTranslator::new(kind, model, id, created),
                    failed: false,
                    finished: false,
                },
                _ => Inner::NativeResponses {
                    watcher: responses::NativeWatcher::default(),
                    finished: false,
                },
            }
        } else {
            let chat = StreamTranslator::new(kind, model, id, created);
            match dialect {
                Dialect::Chat | Dialect::Embeddings => Inner::Chat(chat),
                Dialect::Responses => Inner::Translated {
                    chat,
                    parser: SseParser::new(),
                    writer: Box::new(Writer::Responses(responses::StreamWriter::new(
                        id, model, created,
                    ))),
                },
                Dialect::Messages => Inner::Translated {
                    chat,
                    parser: SseParser::new(),
                    writer: Box::new(Writer::Messages(messages::StreamWriter::new(id, model))),
                },
            }
        };
        Self { inner }
    }

    fn reencode(parser: &mut SseParser, writer: &mut Writer, chat_bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for ev in parser.push(chat_bytes) {
            out.extend(match writer {
                Writer::Responses(w) => w.on_data(&ev.data),
                Writer::Messages(w) => w.on_data(&ev.data),
            });
        }
        out
    }

    /// Feeds provider bytes; returns what to send to the app.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.inner {
            Inner::Chat(t) => t.push(chunk),
            Inner::Translated {
                chat,
                parser,
                writer,
            } => {
                let bytes = chat.push(chunk);
                Self::reencode(parser, writer, &bytes)
            }
            Inner::NativeResponses { watcher, finished } => {
                if *finished {
                    return Vec::new();
                }
                watcher.push(chunk);
                chunk.to_vec()
            }
            Inner::NativeMessages {
                watcher, finished, ..
            } => {
                if *finished {
                    return Vec::new();
                }
                let _ = watcher.push(chunk);
                chunk.to_vec()
            }
        }
    }

    /// The provider body ended (see [`StreamTranslator::finish_with`]).
    pub fn finish_with(&mut self, when_no_usage: impl FnOnce(u64) -> Option<Usage>) -> Vec<u8> {
        match &mut self.inner {
            Inner::Chat(t) => t.finish_with(when_no_usage),
            Inner::Translated {
                chat,
                parser,
                writer,
            } => {
                let bytes = chat.finish_with(when_no_usage);
                let mut out = Self::reencode(parser, writer, &bytes);
                for ev in parser.finish() {
                    out.extend(match writer.as_mut() {
                        Writer::Responses(w) => w.on_data(&ev.data),
                        Writer::Messages(w) => w.on_data(&ev.data),
                    });
                }
                out
            }
            Inner::NativeResponses { watcher, finished } => {
                if std::mem::replace(finished, true) {
                    return Vec::new();
                }
                watcher.finish();
                if watcher.completed || watcher.failed {
                    Vec::new()
                } else {
                    watcher.failed = true;
                    responses::error_event(MSG_CUT)
                }
            }
            Inner::NativeMessages {
                watcher,
                failed,
                finished,
            } => {
                if std::mem::replace(finished, true) {
                    return Vec::new();
                }
                let was_failed = watcher.failed();
                let _ = watcher.finish();
                if watcher.failed() && !was_failed {
                    *failed = true;
                    messages::error_event(MSG_CUT)
                } else {
                    *failed = watcher.failed();
                    Vec::new()
                }
            }
        }
    }

    pub fn usage(&self) -> Option<Usage> {
        match &self.inner {
            Inner::Chat(t) => t.usage(),
            Inner::Translated { chat, .. } => chat.usage(),
            Inner::NativeResponses { watcher, .. } => watcher.usage,
            Inner::NativeMessages { watcher, .. } => watcher.usage(),
        }
    }

    pub fn failed(&self) -> bool {
        match &self.inner {
            Inner::Chat(t) => t.failed(),
            Inner::Translated { chat, .. } => chat.failed(),
            Inner::NativeResponses { watcher, .. } => watcher.failed,
            Inner::NativeMessages {
                watcher, failed, ..
            } => *failed || watcher.failed(),
        }
    }

    pub fn output_chars(&self) -> u64 {
        match &self.inner {
            Inner::Chat(t) => t.output_chars(),
            Inner::Translated { chat, .. } => chat.output_chars(),
            Inner::NativeResponses { watcher, .. } => watcher.output_chars,
            Inner::NativeMessages { watcher, .. } => watcher.output_chars(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_only_where_the_provider_speaks_the_dialect() {
        assert!(Dialect::Responses.native_for(ProviderKind::Openai));
        assert!(!Dialect::Responses.native_for(ProviderKind::Xai));
        assert!(Dialect::Messages.native_for(ProviderKind::Anthropic));
        assert!(!Dialect::Messages.native_for(ProviderKind::Google));
        assert!(!Dialect::Chat.native_for(ProviderKind::Openai));
    }

    #[test]
    fn a_native_anthropic_stream_passes_through_and_yields_usage() {
        let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let mut s = AnswerStream::new(Dialect::Messages, ProviderKind::Anthropic, "m", "msg_1", 1);
        let mut out = s.push(body.as_bytes());
        out.extend(s.finish_with(|_| None));
        assert_eq!(out, body.as_bytes());
        assert!(!s.failed());
        assert_eq!(s.usage(), Some(Usage::new(9, 4)));
    }

    #[test]
    fn a_cut_native_responses_stream_ends_with_an_error_event() {
        let mut s = AnswerStream::new(Dialect::Responses, ProviderKind::Openai, "m", "resp_1", 1);
        let _ = s.push(b"event: response.created\ndata: {\"type\":\"response.created\"}\n\n");
        let tail = s.finish_with(|_| None);
        assert!(String::from_utf8_lossy(&tail).starts_with("event: error"));
        assert!(s.failed());
        assert_eq!(s.usage(), None);
    }

    #[test]
    fn a_translated_gemini_stream_speaks_messages() {
        let body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7}}\r\n\r\n";
        let mut s = AnswerStream::new(Dialect::Messages, ProviderKind::Google, "g", "msg_1", 1);
        let mut out = s.push(body.as_bytes());
        out.extend(s.finish_with(|_| None));
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("event: message_start"));
        assert!(text.contains("\"text_delta\""));
        assert!(text.contains(r#""usage":{"input_tokens":5,"output_tokens":2}"#));
        assert!(text.trim_end().ends_with(r#"{"type":"message_stop"}"#));
        assert_eq!(s.usage().map(|u| u.total()), Some(7));
    }
}
