//! Property-based fuzzing (stable toolchain) of everything that reads bytes
//! an app or a provider sends: the proxy request parser, the SSE parser,
//! each provider's stream translator and response translator.
//!
//! Properties: no input panics (a panic aborts the whole WASM instance, G9);
//! the SSE parser and every stream translator give the same output however
//! the bytes are chunked (G8); a usage is never more than
//! `MAX_REPORTED_TOKENS` per count. The case count is bounded by
//! `PROPTEST_CASES` (default 256 per property here); CI sets it for a
//! bounded run. Findings are kept as named regression tests at the bottom.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{json, Value};
use shared::providers::{
    translate_response, ProviderKind, StreamTranslator, Usage, MAX_REPORTED_TOKENS,
};
use shared::proxy_request;
use shared::sse::SseParser;

const KINDS: [ProviderKind; 5] = [
    ProviderKind::Openai,
    ProviderKind::Xai,
    ProviderKind::Other,
    ProviderKind::Anthropic,
    ProviderKind::Google,
];

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, biased towards the shapes the parsers look at.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_]{0,12}".prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("model".to_string()),
            Just("messages".to_string()),
            Just("role".to_string()),
            Just("content".to_string()),
            Just("identity".to_string()),
            Just("tier".to_string()),
            Just("max_tokens".to_string()),
            Just("stream".to_string()),
            Just("usage".to_string()),
            Just("prompt_tokens".to_string()),
            Just("completion_tokens".to_string()),
            Just("choices".to_string()),
            Just("delta".to_string()),
            Just("type".to_string()),
            Just("tools".to_string()),
            "[a-z_]{1,10}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// SSE-like bytes: lines from a small alphabet of fields and JSON payloads,
/// with LF / CRLF / CR endings, so the parsers get past their first checks.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        json_value().prop_map(|v| format!("data: {v}")),
        Just("data: [DONE]".to_string()),
        "event: [a-z_]{0,16}",
        Just(String::new()),
        ":[ -~]{0,10}",
        "[ -~]{0,30}",
        Just(r#"data: {"type":"message_start","message":{"usage":{}}}"#.to_string()),
        Just(r#"data: {"choices":[{"delta":{"content":"x"}}],"usage":{}}"#.to_string()),
    ];
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    prop::collection::vec((line, ending), 0..24).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(l, e)| format!("{l}{e}").into_bytes())
            .collect()
    })
}

/// Cut points for re-chunking a byte string.
fn cuts() -> impl Strategy<Value = Vec<prop::sample::Index>> {
    prop::collection::vec(any::<prop::sample::Index>(), 0..12)
}

fn chunked<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    if bytes.is_empty() {
        return vec![bytes];
    }
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

fn sse_run(chunks: &[&[u8]]) -> Vec<shared::sse::SseEvent> {
    let mut p = SseParser::new();
    let mut out: Vec<_> = chunks.iter().flat_map(|c| p.push(c)).collect();
    out.extend(p.finish());
    out
}

fn translate_run(kind: ProviderKind, chunks: &[&[u8]]) -> (Vec<u8>, Option<(u64, u64)>, bool) {
    let mut t = StreamTranslator::new(kind, "m", "chatcmpl-fuzz", 1);
    let mut out = Vec::new();
    for c in chunks {
        out.extend(t.push(c));
    }
    out.extend(t.finish());
    let usage = t.usage().map(|u| (u.input_tokens, u.output_tokens));
    (out, usage, t.failed())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_request_parser_never_panics(v in json_value(), stream in any::<bool>()) {
        let _ = proxy_request::parse(v, stream);
    }

    #[test]
    fn the_request_parser_never_panics_on_a_chat_shaped_body(
        messages in json_value(), extra in json_value(), stream in any::<bool>(),
    ) {
        let mut body = json!({"model": "m", "identity": "u", "messages": messages});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            for (k, v) in e {
                b.insert(k, v);
            }
        }
        let _ = proxy_request::parse(body, stream);
    }

    #[test]
    fn sse_events_do_not_depend_on_chunking(bytes in sse_bytes(), cuts in cuts()) {
        let whole = sse_run(&[&bytes]);
        let split = sse_run(&chunked(&bytes, &cuts));
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn sse_parser_never_panics_on_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), cuts in cuts()) {
        let _ = sse_run(&chunked(&bytes, &cuts));
    }

    #[test]
    fn stream_translators_do_not_depend_on_chunking(bytes in sse_bytes(), cuts in cuts()) {
        for kind in KINDS {
            let whole = translate_run(kind, &[&bytes]);
            let split = translate_run(kind, &chunked(&bytes, &cuts));
            prop_assert_eq!(&whole, &split, "{:?}", kind);
            if let Some((i, o)) = whole.1 {
                prop_assert!(i <= MAX_REPORTED_TOKENS * 3 && o <= MAX_REPORTED_TOKENS * 2, "{:?}: {} {}", kind, i, o);
            }
        }
    }

    #[test]
    fn stream_translators_never_panic_on_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), cuts in cuts()) {
        for kind in KINDS {
            let _ = translate_run(kind, &chunked(&bytes, &cuts));
        }
    }

    #[test]
    fn response_translators_never_panic(v in json_value()) {
        let body = v.to_string();
        for kind in KINDS {
            if let Ok((_, Some(u))) = translate_response(kind, "m", body.as_bytes(), 1) {
                prop_assert!(u.input_tokens <= MAX_REPORTED_TOKENS * 3);
                prop_assert!(u.output_tokens <= MAX_REPORTED_TOKENS * 2);
            }
        }
    }
}

// ---- regression tests for what the fault matrix and fuzzing found -------

fn response_usage(kind: ProviderKind, body: Value) -> Option<(u64, u64)> {
    let (_, u) = translate_response(kind, "m", body.to_string().as_bytes(), 1).unwrap();
    u.map(|u| (u.input_tokens, u.output_tokens))
}

#[test]
fn an_empty_usage_object_is_no_usage_not_zero_tokens() {
    let openai = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": {}});
    assert_eq!(response_usage(ProviderKind::Openai, openai.clone()), None);
    // …and the app is not handed a usage the contract does not allow.
    let (answer, _) =
        translate_response(ProviderKind::Openai, "m", openai.to_string().as_bytes(), 1).unwrap();
    assert!(answer.get("usage").is_none(), "{answer}");
    let anthropic =
        json!({"type": "message", "content": [{"type": "text", "text": "hi"}], "usage": {}});
    assert_eq!(response_usage(ProviderKind::Anthropic, anthropic), None);
    let google = json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}], "usageMetadata": {}});
    assert_eq!(response_usage(ProviderKind::Google, google), None);
    let stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{}}\n\ndata: [DONE]\n\n";
    let (out, usage, _) = translate_run(ProviderKind::Openai, &[stream]);
    assert_eq!(usage, None);
    assert!(!String::from_utf8_lossy(&out).contains("\"usage\":{}"));
    let anthropic_stream = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    assert_eq!(
        translate_run(ProviderKind::Anthropic, &[anthropic_stream]).1,
        None
    );
}

#[test]
fn negative_or_absurd_counts_are_absent_or_clamped() {
    // Every count out of range: no count to use (counted at the reservation), flagged.
    let negative = json!({"choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": -3}});
    let (answer, u) = translate_response(
        ProviderKind::Openai,
        "m",
        negative.to_string().as_bytes(),
        1,
    )
    .unwrap();
    assert_eq!(u.map(|u| (u.total(), u.flagged)), Some((0, true)));
    assert!(
        answer.get("usage").is_none(),
        "the app is not shown negative counts: {answer}"
    );
    // A negative count is ignored, the valid one kept; flagged, and shown as counted.
    let half = json!({"choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": 7}});
    let (answer, u) =
        translate_response(ProviderKind::Openai, "m", half.to_string().as_bytes(), 1).unwrap();
    assert_eq!(u, Some(Usage::new(0, 7).flag_if(true)));
    assert_eq!(answer["usage"]["prompt_tokens"], 0);
    let absurd = json!({"choices": [], "usage": {"prompt_tokens": 1_000_000_000_000u64, "completion_tokens": 7}});
    assert_eq!(
        response_usage(ProviderKind::Openai, absurd),
        Some((MAX_REPORTED_TOKENS, 7))
    );
    let anthropic = json!({"type": "message", "content": [], "usage": {"input_tokens": u64::MAX, "output_tokens": u64::MAX}});
    assert_eq!(
        response_usage(ProviderKind::Anthropic, anthropic),
        Some((MAX_REPORTED_TOKENS, MAX_REPORTED_TOKENS))
    );
    // Every provider flags what it clamps; an in-range usage is never flagged.
    let flagged = |kind, body: Value| {
        translate_response(kind, "m", body.to_string().as_bytes(), 1)
            .unwrap()
            .1
            .map(|u| u.flagged)
    };
    let google = json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": -1}});
    assert_eq!(flagged(ProviderKind::Google, google), Some(true));
    let anthropic = json!({"type": "message", "content": [], "usage": {"input_tokens": 3.5, "output_tokens": 2}});
    assert_eq!(flagged(ProviderKind::Anthropic, anthropic), Some(true));
    let fine = json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}});
    assert_eq!(flagged(ProviderKind::Openai, fine), Some(false));
    let stream = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":-4}}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    // An OpenAI stream's usage chunk is shown as counted, never with a negative count.
    let openai_stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":7}}\n\ndata: [DONE]\n\n";
    let (out, usage, _) = translate_run(ProviderKind::Openai, &[openai_stream]);
    assert_eq!(usage, Some((0, 7)));
    assert!(!String::from_utf8_lossy(&out).contains("-5"));
    let mut t = StreamTranslator::new(ProviderKind::Anthropic, "m", "chatcmpl-fuzz", 1);
    let _ = t.push(stream);
    let _ = t.finish();
    assert_eq!(t.usage().map(|u| u.flagged), Some(true));
}

#[test]
fn native_responses_and_embeddings_usage_are_clamped_and_flagged_too() {
    use shared::providers::{embeddings, responses};
    let huge = json!({"usage": {"input_tokens": 1_000_000_000_000u64, "output_tokens": 3}});
    let u = responses::native_usage(&huge).unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.flagged),
        (MAX_REPORTED_TOKENS, 3, true)
    );
    let negative = json!({"usage": {"input_tokens": -1, "output_tokens": -2}});
    let u = responses::native_usage(&negative).unwrap();
    assert_eq!((u.total(), u.flagged), (0, true));
    assert!(
        !responses::native_usage(&json!({"usage": {"input_tokens": 4, "output_tokens": 2}}))
            .unwrap()
            .flagged
    );
    let e = embeddings::native_usage(br#"{"usage": {"prompt_tokens": 99999999999}}"#).unwrap();
    assert_eq!((e.input_tokens, e.flagged), (MAX_REPORTED_TOKENS, true));
    let e = embeddings::native_usage(br#"{"usage": {"prompt_tokens": -3}}"#).unwrap();
    assert_eq!((e.total(), e.flagged), (0, true));
    assert_eq!(
        embeddings::native_usage(br#"{"usage": {"prompt_tokens": 12}}"#),
        Some(Usage::new(12, 0))
    );
}
