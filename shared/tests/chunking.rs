//! Chunking invariance (guarantee G8): every stream fixture, split at every
//! byte offset into two chunks and into many pseudo-random chunkings
//! (including one-byte chunks and empty chunks), gives exactly the output,
//! usage, failure flag and character count of the one-chunk run.
//!
//! The chunker is a deterministic xorshift generator (fixed seeds), so a
//! failure names a reproducible seed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{manifest, read, run_stream, stream_cases, StreamRun, PROVIDERS};
use shared::providers::ProviderKind;
use shared::sse::SseParser;

struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Cuts `input` into pieces of random sizes (biased towards small pieces,
/// with an occasional empty chunk).
fn random_chunks(input: &[u8], rng: &mut XorShift) -> Vec<Vec<u8>> {
    let max = [1, 2, 3, 7, 16, 64, 512][rng.below(7)];
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        if rng.below(20) == 0 {
            chunks.push(Vec::new());
        }
        let n = (1 + rng.below(max)).min(rest.len());
        let (head, tail) = rest.split_at(n);
        chunks.push(head.to_vec());
        rest = tail;
    }
    chunks
}

fn assert_same(kind: ProviderKind, name: &str, how: &str, whole: &StreamRun, got: &StreamRun) {
    assert!(
        got.output == whole.output,
        "{kind:?}/{name} {how}: output differs\nwhole:\n{}\ngot:\n{}",
        String::from_utf8_lossy(&whole.output),
        String::from_utf8_lossy(&got.output)
    );
    assert_eq!(got.usage, whole.usage, "{kind:?}/{name} {how}: usage");
    assert_eq!(got.failed, whole.failed, "{kind:?}/{name} {how}: failed");
    assert_eq!(
        got.output_chars, whole.output_chars,
        "{kind:?}/{name} {how}: output chars"
    );
}

fn each_stream(mut f: impl FnMut(ProviderKind, &str, &str, &[u8])) {
    for kind in PROVIDERS {
        let model = manifest(kind).model;
        for name in stream_cases(kind) {
            let input = read(kind, &format!("{name}.sse"));
            f(kind, &model, &name, &input);
        }
    }
}

#[test]
fn stream_output_is_identical_when_split_at_every_byte_offset() {
    each_stream(|kind, model, name, input| {
        let whole = run_stream(kind, model, [input]);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            let got = run_stream(kind, model, [a, b]);
            assert_same(kind, name, &format!("cut at {cut}"), &whole, &got);
        }
    });
}

#[test]
fn stream_output_is_identical_under_random_chunkings() {
    each_stream(|kind, model, name, input| {
        let whole = run_stream(kind, model, [input]);
        for seed in 0..300u64 {
            let mut rng = XorShift::new(seed);
            let chunks = random_chunks(input, &mut rng);
            let got = run_stream(kind, model, chunks.iter().map(Vec::as_slice));
            assert_same(kind, name, &format!("seed {seed}"), &whole, &got);
        }
    });
}

#[test]
fn stream_output_is_identical_when_fed_one_byte_at_a_time() {
    each_stream(|kind, model, name, input| {
        let whole = run_stream(kind, model, [input]);
        let got = run_stream(kind, model, input.chunks(1));
        assert_same(kind, name, "byte by byte", &whole, &got);
    });
}

#[test]
fn sse_events_are_identical_under_random_chunkings() {
    each_stream(|kind, _, name, input| {
        let parse = |chunks: &mut dyn Iterator<Item = &[u8]>| {
            let mut p = SseParser::new();
            let mut events = Vec::new();
            for c in chunks {
                events.extend(p.push(c));
            }
            events.extend(p.finish());
            events
        };
        let whole = parse(&mut std::iter::once(input));
        assert!(!whole.is_empty(), "{kind:?}/{name}: no events");
        for seed in 0..100u64 {
            let mut rng = XorShift::new(seed ^ 0xABCD);
            let chunks = random_chunks(input, &mut rng);
            let got = parse(&mut chunks.iter().map(Vec::as_slice));
            assert_eq!(got, whole, "{kind:?}/{name} seed {seed}");
        }
    });
}

/// Corrupted streams (random byte flips, truncations) never panic and always
/// end per the contract: `[DONE]` without error, or exactly one error event
/// and no `[DONE]`.
#[test]
fn corrupted_streams_end_with_done_or_exactly_one_error_event() {
    each_stream(|kind, model, name, input| {
        for seed in 0..200u64 {
            let mut rng = XorShift::new(seed ^ 0x5EED);
            let mut bytes = input.to_vec();
            for _ in 0..rng.below(4) {
                let at = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(at) {
                    *b = u8::try_from(rng.below(256)).unwrap();
                }
            }
            if rng.below(3) == 0 {
                bytes.truncate(rng.below(bytes.len() + 1));
            }
            let chunks = random_chunks(&bytes, &mut rng);
            let run = run_stream(kind, model, chunks.iter().map(Vec::as_slice));
            let text = String::from_utf8(run.output).unwrap();
            let errors = text.matches("\"type\":\"provider_error\"").count();
            let done = text.matches("data: [DONE]\n\n").count();
            let how = format!("{kind:?}/{name} seed {seed}");
            if run.failed {
                assert_eq!((errors, done), (1, 0), "{how}:\n{text}");
            } else {
                assert_eq!(done, 1, "{how}:\n{text}");
                assert!(text.ends_with("data: [DONE]\n\n"), "{how}");
            }
        }
    });
}
