//! Embeddings (`POST /v1/embeddings`, `POST /api/v1/proxy/embeddings`).
//!
//! Request: OpenAI's embeddings body (`model`, `input` as a string, an array
//! of strings, or token ids; `dimensions`, `encoding_format`, `user`) plus
//! the proxy-only `identity`, `tier`, `identityToken`. [`parse`] validates
//! it before any I/O and measures the input for the reservation (⌈chars /
//! 4⌉, or the exact count of token ids). An embedding has no output, so the
//! budget reserves no output tokens.
//!
//! Providers: OpenAI-compatible ones get the body as is at `{base}/embeddings`
//! and their answer passes through; `usage.prompt_tokens` is counted.
//! Gemini gets `models/{model}:batchEmbedContents` (one request per input)
//! and its `embeddings[].values` come back as OpenAI's `list` of
//! `embedding` objects (floats, or base64 little-endian float32 with
//! `encoding_format: "base64"`, which the OpenAI SDKs ask for). Gemini
//! reports no token count for embeddings: the input estimate is what is
//! counted, and what the answer's `usage` says. Anthropic has no embeddings
//! API: a 400.

use serde_json::{json, Map, Value};

use super::{endpoint, google, malformed_response, ProviderKind, UpstreamRequest, Usage};
use crate::budget::OutputBudget;
use crate::proxy_request::{ProxyRequest, PROXY_ONLY_FIELDS};
use crate::values::{Identity, ModelId, TierName};
use crate::ApiError;

/// The most inputs one request may carry (OpenAI's bound).
pub const MAX_INPUTS: usize = 2048;

fn bad(field: &str, msg: &str) -> ApiError {
    ApiError::invalid_field(field, msg)
}

fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

/// The input's size in characters (token ids count 4 characters each, so
/// the estimate is their exact number).
fn input_chars(input: Option<&Value>) -> Result<u64, ApiError> {
    let msg = "input must be a non-empty string, an array of strings, or token ids";
    let is_ids = |v: &Value| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_u64))
    };
    match input {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.chars().count() as u64),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_INPUTS => {
            let mut chars = 0u64;
            for item in items {
                let n = match item {
                    Value::String(s) if !s.is_empty() => s.chars().count() as u64,
                    Value::Number(n) if n.is_u64() => 4,
                    v if is_ids(v) => v.as_array().map_or(0, |a| a.len() as u64 * 4),
                    _ => return Err(bad("input", msg)),
                };
                chars = chars.saturating_add(n);
            }
            Ok(chars)
        }
        _ => Err(bad("input", msg)),
    }
}

/// Parses and validates an embeddings body into the typed proxy request
/// (never a stream; `prompt_chars` is the input's size).
pub fn parse(body: Value) -> Result<ProxyRequest<Map<String, Value>>, ApiError> {
    let Value::Object(mut obj) = body else {
        return Err(ApiError::invalid_body("The body must be a JSON object"));
    };
    let identity = optional_string(&obj, "identity")?
        .map(|i| Identity::parse("identity", &i))
        .transpose()?;
    let tier = optional_string(&obj, "tier")?
        .map(|t| TierName::parse("tier", &t))
        .transpose()?;
    let identity_token = optional_string(&obj, "identityToken")?;
    let model = match obj.get("model") {
        Some(Value::String(m)) => ModelId::parse("model", m)?.into_string(),
        _ => return Err(bad("model", "model is required")),
    };
    let prompt_chars = input_chars(obj.get("input"))?;
    match obj.get("encoding_format") {
        None | Some(Value::Null) => {}
        Some(Value::String(f)) if f == "float" || f == "base64" => {}
        Some(_) => {
            return Err(bad(
                "encoding_format",
                "encoding_format must be 'float' or 'base64'",
            ))
        }
    }
    match obj.get("dimensions") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64().is_some_and(|n| n > 0) => {}
        Some(_) => return Err(bad("dimensions", "dimensions must be a positive integer")),
    }
    for f in PROXY_ONLY_FIELDS {
        obj.remove(f);
    }
    Ok(ProxyRequest {
        identity,
        tier,
        identity_token,
        model,
        stream: false,
        prompt_chars,
        forward: obj,
    })
}

/// An embedding generates nothing: no output tokens are reserved.
pub const NO_OUTPUT: OutputBudget = OutputBudget {
    max_output: Some(0),
    choices: 1,
};

/// Builds the provider's embeddings request.
pub fn build_request(
    kind: ProviderKind,
    base_url: &str,
    api_key: &str,
    body: Map<String, Value>,
) -> Result<UpstreamRequest, ApiError> {
    let base = base_url.trim().trim_end_matches('/');
    let asked = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (url, mut headers, model, body) = match kind {
        ProviderKind::Openai | ProviderKind::Xai | ProviderKind::Other => (
            endpoint(base, "/embeddings"),
            vec![("authorization".to_string(), format!("Bearer {api_key}"))],
            asked,
            Value::Object(body),
        ),
        ProviderKind::Google => {
            let model = google::canonical_model(&asked)?.to_string();
            let dims = body.get("dimensions").cloned();
            let texts: Vec<&str> = match body.get("input") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let count = body
                .get("input")
                .and_then(Value::as_array)
                .map_or(1, Vec::len);
            if texts.len() != count {
                return Err(bad(
                    "input",
                    "Gemini embeds text only: send strings, not token ids",
                ));
            }
            let requests: Vec<Value> = texts
                .iter()
                .map(|t| {
                    let mut r = json!({"model": format!("models/{model}"), "content": {"parts": [{"text": t}]}});
                    if let (Some(d), Some(o)) = (&dims, r.as_object_mut()) {
                        o.insert("outputDimensionality".into(), d.clone());
                    }
                    r
                })
                .collect();
            let path = base.split_once('?').map_or(base, |(p, _)| p);
            (
                format!("{path}/models/{model}:batchEmbedContents"),
                vec![("x-goog-api-key".to_string(), api_key.to_string())],
                model,
                json!({"requests": requests}),
            )
        }
        ProviderKind::Anthropic => {
            return Err(ApiError::invalid_body(
                "Anthropic has no embeddings API; use an OpenAI-compatible or Gemini project for embeddings",
            ))
        }
    };
    headers.push(("content-type".to_string(), "application/json".to_string()));
    let body = serde_json::to_vec(&body).map_err(|_| ApiError::internal())?;
    Ok(UpstreamRequest {
        url,
        headers,
        body,
        model,
        budget: NO_OUTPUT,
    })
}

/// The usage of an OpenAI-format embeddings answer (`prompt_tokens`).
pub fn native_usage(body: &[u8]) -> Option<Usage> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let u = v.get("usage")?;
    let count = u.get("prompt_tokens").or_else(|| u.get("total_tokens"))?;
    match super::token(count) {
        Some(input) => Some(Usage::new(input, 0).flag_if(super::out_of_range(count))),
        None => super::out_of_range(count).then(Usage::flagged_without_counts),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                let idx = ((n >> shift) & 63) as usize;
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Gemini's `batchEmbedContents` answer → OpenAI's embeddings `list`.
/// `estimate` is the counted input (Gemini reports none).
pub fn translate_google(
    model: &str,
    body: &[u8],
    base64_output: bool,
    estimate: u64,
) -> Result<Value, ApiError> {
    let kind = ProviderKind::Google;
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| malformed_response(kind, "the provider's answer is not valid JSON"))?;
    let embeddings = v
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed_response(kind, "no embeddings"))?;
    let mut data = Vec::with_capacity(embeddings.len());
    for (index, e) in embeddings.iter().enumerate() {
        let values = e
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed_response(kind, "an embedding has no values"))?;
        let embedding = if base64_output {
            let mut bytes = Vec::with_capacity(values.len() * 4);
            for x in values {
                let f = x.as_f64().unwrap_or(0.0) as f32;
                bytes.extend_from_slice(&f.to_le_bytes());
            }
            Value::from(base64(&bytes))
        } else {
            Value::Array(values.clone())
        };
        data.push(json!({"object": "embedding", "index": index, "embedding": embedding}));
    }
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": estimate, "total_tokens": estimate},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<ProxyRequest<Map<String, Value>>, ApiError>) -> String {
        r.err()
            .and_then(|e| e.field().map(String::from))
            .unwrap_or_default()
    }

    #[test]
    fn inputs_are_measured_and_proxy_fields_removed() {
        let r = parse(json!({"model": "e", "input": ["abcd", "efgh"], "identity": "u"}));
        assert!(r.as_ref().is_ok_and(|r| r.prompt_chars == 8
            && !r.forward.contains_key("identity")
            && !r.stream));
        let r = parse(json!({"model": "e", "input": [1, 2, 3]}));
        assert!(r.is_ok_and(|r| r.prompt_chars == 12));
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field(parse(json!({"input": "x"}))), "model");
        assert_eq!(field(parse(json!({"model": "e", "input": ""}))), "input");
        assert_eq!(field(parse(json!({"model": "e", "input": [{}]}))), "input");
        assert_eq!(field(parse(json!({"model": "e"}))), "input");
        assert_eq!(
            field(parse(
                json!({"model": "e", "input": "x", "encoding_format": "hex"})
            )),
            "encoding_format"
        );
        assert_eq!(
            field(parse(json!({"model": "e", "input": "x", "dimensions": 0}))),
            "dimensions"
        );
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn gemini_gets_one_request_per_input_and_anthropic_a_400() {
        let r = build_request(
            ProviderKind::Google,
            "https://g/v1beta",
            "k",
            obj(
                json!({"model": "models/text-embedding-004", "input": ["a", "b"], "dimensions": 8}),
            ),
        );
        let r = r.ok();
        assert_eq!(
            r.as_ref().map(|r| r.url.as_str()),
            Some("https://g/v1beta/models/text-embedding-004:batchEmbedContents")
        );
        let body: Value = r
            .and_then(|r| serde_json::from_slice(&r.body).ok())
            .unwrap_or_default();
        assert_eq!(body["requests"][1]["content"]["parts"][0]["text"], "b");
        assert_eq!(body["requests"][0]["outputDimensionality"], 8);
        assert!(build_request(
            ProviderKind::Anthropic,
            "https://a/v1",
            "k",
            obj(json!({"model": "m", "input": "x"}))
        )
        .is_err());
    }

    #[test]
    fn gemini_values_become_floats_or_base64_float32() {
        let body = br#"{"embeddings":[{"values":[1.0,-2.5]}]}"#;
        let v = translate_google("e", body, false, 3).unwrap_or_default();
        assert_eq!(v["data"][0]["embedding"], json!([1.0, -2.5]));
        assert_eq!(v["usage"]["prompt_tokens"], 3);
        let v = translate_google("e", body, true, 3).unwrap_or_default();
        // 1.0f32 = 00 00 80 3f, -2.5f32 = 00 00 20 c0
        assert_eq!(v["data"][0]["embedding"], "AACAPwAAIMA=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn openai_usage_is_prompt_tokens() {
        let u = native_usage(br#"{"data":[],"usage":{"prompt_tokens":7,"total_tokens":7}}"#);
        assert_eq!(u.map(|u| u.total()), Some(7));
    }
}
