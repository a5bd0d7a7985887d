//! Loading of the golden fixtures under `tests/fixtures/<provider>/`.
//!
//! Each provider folder has a `cases.json` manifest naming its cases: the
//! provider's raw wire bytes are in `<name>.json` (answers, error bodies) or
//! `<name>.sse` (streams); the expected OpenAI-format output is in
//! `<name>.expected.json` / `<name>.expected.sse`. The manifest holds the
//! hand-checked usage, failure flag and output character count.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::Value;
use shared::providers::{ProviderKind, StreamTranslator, Usage};

pub const PROVIDERS: [ProviderKind; 3] = [
    ProviderKind::Openai,
    ProviderKind::Anthropic,
    ProviderKind::Google,
];
pub const STREAM_ID: &str = "chatcmpl-test";
pub const CREATED: i64 = 1_733_000_000;

pub fn dir(kind: ProviderKind) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind.as_str())
}

pub fn read(kind: ProviderKind, file: &str) -> Vec<u8> {
    let path = dir(kind).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct Manifest {
    pub model: String,
    pub cases: Vec<Value>,
}

pub fn manifest(kind: ProviderKind) -> Manifest {
    let v: Value = serde_json::from_slice(&read(kind, "cases.json")).unwrap();
    Manifest {
        model: v["model"].as_str().unwrap().to_string(),
        cases: v["cases"].as_array().unwrap().clone(),
    }
}

pub fn usage_of(v: &Value) -> Option<Usage> {
    if v.is_null() {
        return None;
    }
    Some(serde_json::from_value(v.clone()).unwrap())
}

/// Names of the stream cases of a provider.
pub fn stream_cases(kind: ProviderKind) -> Vec<String> {
    manifest(kind)
        .cases
        .iter()
        .filter(|c| c["type"] == "stream")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

pub struct StreamRun {
    pub output: Vec<u8>,
    pub usage: Option<Usage>,
    pub failed: bool,
    pub output_chars: u64,
}

/// Feeds `chunks` to a fresh translator, then finishes it.
pub fn run_stream<'a>(
    kind: ProviderKind,
    model: &str,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> StreamRun {
    let mut t = StreamTranslator::new(kind, model, STREAM_ID, CREATED);
    let mut output = Vec::new();
    for c in chunks {
        output.extend(t.push(c));
    }
    output.extend(t.finish());
    assert!(t.finish().is_empty(), "finish() must be idempotent");
    StreamRun {
        output,
        usage: t.usage(),
        failed: t.failed(),
        output_chars: t.output_chars(),
    }
}

/// The events of an OpenAI-format SSE body: `data:` payloads, JSON-parsed
/// when they are JSON (`[DONE]` stays a string). Panics on anything that is
/// not a `data: …` event terminated by a blank line.
pub fn events(body: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(body).expect("output is UTF-8");
    assert!(
        text.is_empty() || text.ends_with("\n\n"),
        "output must end with a blank line: {text:?}"
    );
    text.split_terminator("\n\n")
        .map(|event| {
            let data: Vec<&str> = event
                .split('\n')
                .map(|line| {
                    line.strip_prefix("data: ")
                        .unwrap_or_else(|| panic!("not a data line: {line:?}"))
                })
                .collect();
            let data = data.join("\n");
            serde_json::from_str(&data).unwrap_or(Value::String(data))
        })
        .collect()
}
