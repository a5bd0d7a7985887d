//! Golden tests: every fixture of every provider goes through the
//! translators and must produce the expected OpenAI-format output, usage and
//! failure flag. `UPDATE_GOLDEN=1 cargo test -p shared --test fixtures`
//! rewrites the `*.expected.*` files (review the diff before committing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{events, manifest, read, run_stream, usage_of, CREATED, PROVIDERS};
use serde_json::Value;
use shared::providers::{error_message, translate_response, ProviderKind};

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

fn write(kind: ProviderKind, file: &str, bytes: &[u8]) {
    std::fs::write(common::dir(kind).join(file), bytes).unwrap();
}

fn check_response(kind: ProviderKind, model: &str, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let body = read(kind, &format!("{name}.json"));
    let (got, usage) = translate_response(kind, model, &body, CREATED)
        .unwrap_or_else(|e| panic!("{kind:?}/{name}: {e}"));
    let expected_file = format!("{name}.expected.json");
    if updating() {
        let mut text = serde_json::to_string_pretty(&got).unwrap();
        text.push('\n');
        write(kind, &expected_file, text.as_bytes());
    }
    let expected: Value = serde_json::from_slice(&read(kind, &expected_file)).unwrap();
    assert_eq!(got, expected, "{kind:?}/{name}: translated answer");
    assert_eq!(usage, usage_of(&case["usage"]), "{kind:?}/{name}: usage");
    assert_eq!(got["object"], "chat.completion", "{kind:?}/{name}");
    let u = &got["usage"];
    assert_eq!(
        u["total_tokens"].as_u64(),
        usage.map(|u| u.total()),
        "{kind:?}/{name}: usage object"
    );
}

fn check_stream(kind: ProviderKind, model: &str, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let input = read(kind, &format!("{name}.sse"));
    let run = run_stream(kind, model, [input.as_slice()]);
    let expected_file = format!("{name}.expected.sse");
    if updating() {
        write(kind, &expected_file, &run.output);
    }
    let got = events(&run.output);
    let expected = events(&read(kind, &expected_file));
    assert_eq!(got, expected, "{kind:?}/{name}: translated events");
    assert_eq!(
        run.usage,
        usage_of(&case["usage"]),
        "{kind:?}/{name}: usage"
    );
    assert_eq!(
        run.failed,
        case["failed"] == true,
        "{kind:?}/{name}: failed"
    );
    assert_eq!(
        Some(run.output_chars),
        case["output_chars"].as_u64(),
        "{kind:?}/{name}: output chars"
    );

    // The contract's ending, whatever the provider.
    let done = Value::String("[DONE]".into());
    let errors: Vec<&Value> = got.iter().filter(|e| e.get("error").is_some()).collect();
    if run.failed {
        assert!(
            !got.contains(&done),
            "{kind:?}/{name}: [DONE] after failure"
        );
        assert_eq!(errors.len(), 1, "{kind:?}/{name}: one error event");
        assert_eq!(got.last(), errors.first().copied(), "{kind:?}/{name}");
        assert_eq!(errors[0]["error"]["type"], "provider_error");
        assert!(errors[0]["error"]["message"].as_str().is_some());
    } else {
        assert!(errors.is_empty(), "{kind:?}/{name}: unexpected error");
        assert_eq!(got.last(), Some(&done), "{kind:?}/{name}: ends with [DONE]");
        assert_eq!(got.iter().filter(|e| **e == done).count(), 1);
        for chunk in got.iter().filter(|e| e.is_object()) {
            assert_eq!(chunk["object"], "chat.completion.chunk", "{kind:?}/{name}");
        }
        if kind != ProviderKind::Openai {
            check_usage_chunk(kind, name, &got, run.usage);
        }
    }
}

/// Translated streams carry the usage in a last `choices: []` chunk, just
/// before `[DONE]`, exactly when usage is known.
fn check_usage_chunk(
    kind: ProviderKind,
    name: &str,
    got: &[Value],
    usage: Option<shared::providers::Usage>,
) {
    let with_usage: Vec<&Value> = got.iter().filter(|e| e.get("usage").is_some()).collect();
    match usage {
        Some(u) => {
            assert_eq!(with_usage.len(), 1, "{kind:?}/{name}: one usage chunk");
            let chunk = with_usage[0];
            assert_eq!(Some(chunk), got.iter().rev().nth(1), "{kind:?}/{name}");
            assert_eq!(chunk["choices"], serde_json::json!([]));
            assert_eq!(chunk["usage"]["prompt_tokens"], u.input_tokens);
            assert_eq!(chunk["usage"]["completion_tokens"], u.output_tokens);
            assert_eq!(chunk["usage"]["total_tokens"], u.total());
        }
        None => assert!(with_usage.is_empty(), "{kind:?}/{name}: invented usage"),
    }
}

fn check_error(kind: ProviderKind, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let body = read(kind, &format!("{name}.json"));
    let status = u16::try_from(case["status"].as_u64().unwrap()).unwrap();
    assert_eq!(
        error_message(kind, status, &body),
        case["message"].as_str().unwrap(),
        "{kind:?}/{name}"
    );
    // An error body is not an answer: translating it is a 502, never a panic.
    let err = translate_response(kind, "m", &body, CREATED).unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(err.code(), "provider_error");
}

fn run_provider(kind: ProviderKind) {
    let m = manifest(kind);
    assert!(m.cases.len() >= 7, "{kind:?}: fixtures missing");
    for case in &m.cases {
        match case["type"].as_str().unwrap() {
            "response" => check_response(kind, &m.model, case),
            "stream" => check_stream(kind, &m.model, case),
            "error" => check_error(kind, case),
            other => panic!("unknown case type {other}"),
        }
    }
}

#[test]
fn openai_fixtures_translate_to_their_golden_output() {
    run_provider(ProviderKind::Openai);
}

#[test]
fn anthropic_fixtures_translate_to_their_golden_output() {
    run_provider(ProviderKind::Anthropic);
}

#[test]
fn google_fixtures_translate_to_their_golden_output() {
    run_provider(ProviderKind::Google);
}

#[test]
fn every_provider_has_the_required_fixture_kinds() {
    for kind in PROVIDERS {
        let names: Vec<String> = manifest(kind)
            .cases
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        for required in [
            "answer",
            "stream",
            "tool_use",
            "tool_use_stream",
            "error",
            "stream_no_usage",
            "utf8_stream",
            "stream_error",
        ] {
            assert!(
                names.iter().any(|n| n == required),
                "{kind:?} lacks {required}"
            );
        }
    }
}

#[test]
fn openai_stream_is_re_emitted_verbatim() {
    let input = read(ProviderKind::Openai, "stream.sse");
    let run = run_stream(ProviderKind::Openai, "gpt-4o-mini", [input.as_slice()]);
    assert_eq!(run.output, input);
}

#[test]
fn google_crlf_stream_comes_out_with_lf_only() {
    let input = read(ProviderKind::Google, "stream.sse");
    assert!(
        input.windows(2).any(|w| w == b"\r\n"),
        "fixture must use CRLF"
    );
    let run = run_stream(ProviderKind::Google, "gemini-2.0-flash", [input.as_slice()]);
    assert!(!run.output.contains(&b'\r'));
}
