//! Golden tests of the app-facing dialects: every provider's recorded
//! answers and streams (the fixtures under `tests/fixtures/<provider>/`)
//! answered as the Responses API (`tests/fixtures/responses/`) and as
//! Anthropic's Messages format (`tests/fixtures/messages/`), plus native
//! OpenAI Responses streams watched for usage. Streams must not depend on
//! how the bytes were chunked, and the usage must be the provider's.
//! `UPDATE_GOLDEN=1 cargo test -p shared --test dialects` rewrites the
//! expected files (review the diff before committing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{manifest, read, usage_of, CREATED, PROVIDERS};
use shared::providers::dialect::{from_completion, AnswerStream, Dialect};
use shared::providers::{translate_response, ProviderKind, Usage};
use std::path::PathBuf;

fn folder(dialect: Dialect) -> PathBuf {
    let name = match dialect {
        Dialect::Responses => "responses",
        Dialect::Messages => "messages",
        _ => "chat",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden(dialect: Dialect, file: &str, got: &[u8]) {
    let path = folder(dialect).join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(&expected),
        "{}",
        path.display()
    );
}

struct Run {
    output: Vec<u8>,
    usage: Option<Usage>,
    failed: bool,
}

fn run(dialect: Dialect, kind: ProviderKind, model: &str, chunks: &[&[u8]]) -> Run {
    let id = format!("{}test", dialect.id_prefix());
    let mut s = AnswerStream::new(dialect, kind, model, &id, CREATED);
    let mut output = Vec::new();
    for c in chunks {
        output.extend(s.push(c));
    }
    output.extend(s.finish_with(|_| None));
    Run {
        output,
        usage: s.usage(),
        failed: s.failed(),
    }
}

fn translated_dialects() -> [Dialect; 2] {
    [Dialect::Responses, Dialect::Messages]
}

#[test]
fn every_provider_answer_becomes_a_response_and_a_message() {
    for kind in PROVIDERS {
        let m = manifest(kind);
        for case in m.cases.iter().filter(|c| c["type"] == "response") {
            let name = case["name"].as_str().unwrap();
            let body = read(kind, &format!("{name}.json"));
            let (completion, usage) = translate_response(kind, &m.model, &body, CREATED).unwrap();
            assert_eq!(usage, usage_of(&case["usage"]));
            for dialect in translated_dialects() {
                if dialect.native_for(kind) {
                    continue;
                }
                let id = format!("{}test", dialect.id_prefix());
                let got = from_completion(dialect, completion.clone(), &id, CREATED);
                let u = usage.unwrap();
                let (input, output) = (
                    &got["usage"]["input_tokens"],
                    &got["usage"]["output_tokens"],
                );
                assert_eq!(input.as_u64(), Some(u.input_tokens), "{kind:?}/{name}");
                assert_eq!(output.as_u64(), Some(u.output_tokens), "{kind:?}/{name}");
                let mut text = serde_json::to_string_pretty(&got).unwrap();
                text.push('\n');
                golden(
                    dialect,
                    &format!("{}_{name}.expected.json", kind.as_str()),
                    text.as_bytes(),
                );
            }
        }
    }
}

#[test]
fn every_provider_stream_is_re_encoded_whatever_the_chunking() {
    for kind in PROVIDERS {
        let m = manifest(kind);
        for case in m.cases.iter().filter(|c| c["type"] == "stream") {
            let name = case["name"].as_str().unwrap();
            let input = read(kind, &format!("{name}.sse"));
            for dialect in translated_dialects() {
                if dialect.native_for(kind) {
                    continue;
                }
                let whole = run(dialect, kind, &m.model, &[&input]);
                assert_eq!(whole.usage, usage_of(&case["usage"]), "{kind:?}/{name}");
                assert_eq!(whole.failed, case["failed"] == true, "{kind:?}/{name}");
                let text = String::from_utf8_lossy(&whole.output);
                let last_event = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("event: "))
                    .next_back()
                    .unwrap_or_default()
                    .to_string();
                let expected_end: &[&str] = match (dialect, whole.failed) {
                    (_, true) => &["error"],
                    (Dialect::Responses, false) => &["response.completed", "response.incomplete"],
                    _ => &["message_stop"],
                };
                assert!(
                    expected_end.contains(&last_event.as_str()),
                    "{kind:?}/{name} {dialect:?}: ends with {last_event}"
                );
                golden(
                    dialect,
                    &format!("{}_{name}.expected.sse", kind.as_str()),
                    &whole.output,
                );
                // Byte by byte gives the same bytes.
                let bytes: Vec<&[u8]> = input.chunks(1).collect();
                let split = run(dialect, kind, &m.model, &bytes);
                assert_eq!(
                    split.output, whole.output,
                    "{kind:?}/{name} {dialect:?} chunked"
                );
            }
        }
    }
}

#[test]
fn native_openai_responses_streams_pass_through_with_their_usage() {
    let dir = folder(Dialect::Responses);
    for (file, usage, failed) in [
        ("native_stream.sse", Some((11, 4)), false),
        ("native_stream_cut.sse", None, true),
    ] {
        let input = std::fs::read(dir.join(file)).unwrap();
        let bytes: Vec<&[u8]> = input.chunks(7).collect();
        let r = run(Dialect::Responses, ProviderKind::Openai, "gpt", &bytes);
        assert!(
            r.output.starts_with(&input),
            "{file}: passed through unchanged"
        );
        assert_eq!(r.usage, usage.map(|(i, o)| Usage::new(i, o)), "{file}");
        assert_eq!(r.failed, failed, "{file}");
        let tail = r.output.get(input.len()..).unwrap_or_default();
        assert_eq!(
            tail.is_empty(),
            !failed,
            "{file}: an error event only when cut"
        );
    }
}

#[test]
fn native_anthropic_streams_pass_through_for_messages() {
    let kind = ProviderKind::Anthropic;
    let m = manifest(kind);
    for case in m.cases.iter().filter(|c| c["type"] == "stream") {
        let name = case["name"].as_str().unwrap();
        let input = read(kind, &format!("{name}.sse"));
        let r = run(Dialect::Messages, kind, &m.model, &[&input]);
        assert!(r.output.starts_with(&input), "{name}: passed through");
        assert_eq!(r.usage, usage_of(&case["usage"]), "{name}");
        assert_eq!(r.failed, case["failed"] == true, "{name}");
    }
}
