//! The one walk over the typed chat messages ([`ChatMessage`]) for the translated
//! providers (Anthropic, Gemini): system and developer messages are
//! collected as system text, the others become alternating turns
//! (consecutive same-role messages merged, empty ones skipped). Each
//! provider says how a text, an image, a tool call and a tool result are
//! written in its wire format ([`TurnEncoder`]); the walk, the content-part
//! rules and their errors are the same for all.

use serde_json::Value;

use super::bad_messages;
use crate::chat::{ChatMessage, Content, Role};
use crate::ApiError;

/// How one provider writes the pieces of a turn.
pub(crate) trait TurnEncoder {
    /// The provider's name in "not supported for …" errors.
    const PROVIDER: &'static str;
    /// The provider's role for assistant turns (`assistant` or `model`).
    const ASSISTANT: &'static str;
    /// A non-empty text.
    fn text(&self, text: &str) -> Value;
    /// An `image_url` content part's URL.
    fn image(&self, url: &str) -> Result<Value, ApiError>;
    /// One assistant tool call (`id` and `name` as sent, possibly empty).
    fn tool_call(&mut self, id: Option<&str>, name: &str, call: &Value) -> Result<Value, ApiError>;
    /// A `tool` message.
    fn tool_result(&mut self, msg: &ChatMessage) -> Result<Value, ApiError>;
}

/// The walk's result: system text and provider turns.
pub(crate) struct Conversation {
    pub system: Vec<String>,
    pub turns: Vec<(&'static str, Vec<Value>)>,
}

/// Walks the typed messages with the provider's encoder.
pub(crate) fn walk<E: TurnEncoder>(
    messages: &[ChatMessage],
    enc: &mut E,
) -> Result<Conversation, ApiError> {
    let mut out = Conversation {
        system: Vec::new(),
        turns: Vec::new(),
    };
    for msg in messages {
        let (turn_role, blocks) = match msg.role {
            Role::System | Role::Developer => {
                let text = msg.text();
                if !text.is_empty() {
                    out.system.push(text);
                }
                continue;
            }
            Role::User => ("user", user_content(msg.content.as_ref(), enc)?),
            Role::Assistant => (E::ASSISTANT, assistant_content(msg, enc)?),
            Role::Tool => ("user", vec![enc.tool_result(msg)?]),
        };
        push_turn(&mut out.turns, turn_role, blocks);
    }
    Ok(out)
}

/// Appends a message's blocks to the last turn when it has the same role
/// (Anthropic and Gemini both require alternating roles); empty messages
/// are skipped.
fn push_turn(turns: &mut Vec<(&'static str, Vec<Value>)>, role: &'static str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some((last, existing)) if *last == role => existing.extend(blocks),
        _ => turns.push((role, blocks)),
    }
}

fn text<E: TurnEncoder>(enc: &E, text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| enc.text(text))
}

fn user_content<E: TurnEncoder>(
    content: Option<&Content>,
    enc: &E,
) -> Result<Vec<Value>, ApiError> {
    match content {
        None | Some(Content::Null) => Ok(Vec::new()),
        Some(Content::Text(s)) => Ok(text(enc, s).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let t = part.get("text").and_then(Value::as_str).unwrap_or_default();
                        blocks.extend(text(enc, t));
                    }
                    Some("image_url") => {
                        let url = part
                            .get("image_url")
                            .and_then(|i| i.get("url").or(Some(i)))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        blocks.push(enc.image(url)?);
                    }
                    other => {
                        return Err(bad_messages(format!(
                            "content part type '{}' is not supported for {}",
                            other.unwrap_or("(none)"),
                            E::PROVIDER
                        )))
                    }
                }
            }
            Ok(blocks)
        }
    }
}

fn assistant_content<E: TurnEncoder>(
    msg: &ChatMessage,
    enc: &mut E,
) -> Result<Vec<Value>, ApiError> {
    let mut blocks: Vec<Value> = text(enc, &msg.text()).into_iter().collect();
    for call in msg.tool_calls() {
        let id = call.get("id").and_then(Value::as_str);
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        blocks.push(enc.tool_call(id, name, call)?);
    }
    Ok(blocks)
}
