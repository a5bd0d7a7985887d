//! Incremental Server-Sent Events parser.
//!
//! Algorithm: a line that starts and ends inside one chunk is read in place;
//! the bytes of a line split across chunks are appended to a line buffer
//! until a line terminator (`\n`, `\r\n` or a lone `\r`) arrives. Only
//! complete lines are decoded (lossily, so invalid UTF-8 never fails), which
//! keeps multi-byte characters split across chunks intact because `\r` and
//! `\n` never occur inside a UTF-8 sequence. A `\r` at the very end of a
//! chunk remembers that a `\n` starting the next chunk belongs to the same
//! terminator. Lines are fed to the field rules of the SSE specification:
//! `data:` lines accumulate (joined with `\n`), `event:` names the event,
//! lines starting with `:` are comments, one optional space after the colon
//! is dropped, a blank line dispatches.
//!
//! Invariant: the events produced do not depend on how the input was chunked.
//!
//! Failure modes: a single line longer than [`MAX_LINE_BYTES`] or an event
//! whose data grows beyond [`MAX_EVENT_BYTES`] is discarded (nothing is
//! emitted for it, memory stays bounded) and [`SseParser::overflowed`] turns
//! true so that the caller can fail the stream. Nothing here panics.

/// Longest line kept in memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Largest data payload of one event.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Stateful parser; feed it chunks with [`SseParser::push`], then call
/// [`SseParser::finish`] when the body ends.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a leading `\n` is part of it.
    skip_lf: bool,
    /// The current line is too long and is being skipped up to its end.
    discarding_line: bool,
    /// The current event is too large and is skipped up to the blank line.
    discarding_event: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    overflowed: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// True once a line or an event exceeded the bounds and was dropped.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Feeds raw bytes; returns the events completed by them.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut rest = chunk;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if let Some(b'\n') = rest.first() {
                rest = rest.get(1..).unwrap_or_default();
            }
        }
        while !rest.is_empty() {
            match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(i) => {
                    let line = rest.get(..i).unwrap_or_default();
                    if self.line.is_empty() && !self.discarding_line {
                        // The whole line is in this chunk: read it in place.
                        self.complete_line(line, &mut events);
                    } else {
                        self.append(line);
                        self.end_line(&mut events);
                    }
                    let terminator = rest.get(i).copied();
                    let mut next = i + 1;
                    if terminator == Some(b'\r') {
                        match rest.get(next) {
                            Some(b'\n') => next += 1,
                            Some(_) => {}
                            None => self.skip_lf = true,
                        }
                    }
                    rest = rest.get(next..).unwrap_or_default();
                }
                None => {
                    self.append(rest);
                    rest = &[];
                }
            }
        }
        events
    }

    /// The body ended: a last unterminated line is taken as a line, and an
    /// event still open is dispatched (lenient: providers may omit the final
    /// blank line).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() || self.discarding_line {
            self.end_line(&mut events);
        }
        self.skip_lf = false;
        self.dispatch(&mut events);
        events
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.discarding_line {
            return;
        }
        if self.line.len().saturating_add(bytes.len()) > MAX_LINE_BYTES {
            self.line = Vec::new();
            self.discarding_line = true;
            self.overflowed = true;
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        if self.discarding_line {
            // The oversized line is dropped, and so is the event it belonged to.
            self.discarding_line = false;
            self.discarding_event = true;
            self.line.clear();
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        self.complete_line(&line, events);
        line.clear();
        self.line = line; // keeps its capacity for the next partial line
    }

    /// One whole line (without its terminator): decoded without a copy
    /// when it is valid UTF-8, so a `data:` value is copied once, into the
    /// event.
    fn complete_line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line.len() > MAX_LINE_BYTES {
            // Same outcome as an oversized line that arrived in pieces.
            self.discarding_event = true;
            self.overflowed = true;
            return;
        }
        let text = String::from_utf8_lossy(line);
        self.field(&text);
    }

    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if self.discarding_event {
            return;
        }
        match name {
            "data" => {
                let extra = value.len() + usize::from(self.has_data);
                if self.data.len().saturating_add(extra) > MAX_EVENT_BYTES {
                    self.discarding_event = true;
                    self.overflowed = true;
                    self.data = String::new();
                    self.has_data = false;
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let data = std::mem::take(&mut self.data);
        let had = std::mem::replace(&mut self.has_data, false);
        if std::mem::replace(&mut self.discarding_event, false) {
            return;
        }
        if had {
            events.push(SseEvent { event, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c));
        }
        out.extend(p.finish());
        out
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn lf_crlf_and_lone_cr_terminators_give_the_same_events() {
        let lf = all(&[b"event: a\ndata: 1\n\ndata: 2\n\n"]);
        let crlf = all(&[b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"]);
        let cr = all(&[b"event: a\rdata: 1\r\rdata: 2\r\r"]);
        let expected = vec![ev(Some("a"), "1"), ev(None, "2")];
        assert_eq!(lf, expected);
        assert_eq!(crlf, expected);
        assert_eq!(cr, expected);
    }

    #[test]
    fn crlf_split_between_chunks_is_one_terminator() {
        let got = all(&[b"data: 1\r", b"\n\r", b"\ndata: 2\r\n", b"\r\n"]);
        assert_eq!(got, vec![ev(None, "1"), ev(None, "2")]);
    }

    #[test]
    fn crlf_split_inside_an_event_keeps_its_name_and_data_lines_together() {
        let got = all(&[b"event: a\r", b"\ndata: x\r", b"\ndata: y\r\n\r", b"\n"]);
        assert_eq!(got, vec![ev(Some("a"), "x\ny")]);
    }

    #[test]
    fn multibyte_utf8_split_across_chunks_is_decoded_whole() {
        let text = "data: héllo 世界 🎉\n\n".as_bytes();
        for cut in 0..=text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(all(&[a, b]), vec![ev(None, "héllo 世界 🎉")], "cut {cut}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let got = all(&[b"data: a\xff\xfeb\n\n"]);
        assert_eq!(got, vec![ev(None, "a\u{fffd}\u{fffd}b")]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newline_and_comments_are_ignored() {
        let got = all(&[b": keep-alive\ndata: a\ndata:b\ndata\n\n"]);
        assert_eq!(got, vec![ev(None, "a\nb\n")]);
    }

    #[test]
    fn only_one_space_after_colon_is_dropped() {
        assert_eq!(all(&[b"data:  x\n\n"]), vec![ev(None, " x")]);
    }

    #[test]
    fn blank_line_without_data_dispatches_nothing() {
        assert_eq!(all(&[b"event: ping\n\n\n\n"]), vec![]);
    }

    #[test]
    fn unterminated_last_event_is_dispatched_at_finish() {
        assert_eq!(all(&[b"data: {\"a\":1}"]), vec![ev(None, "{\"a\":1}")]);
    }

    #[test]
    fn oversized_line_is_dropped_and_reported_without_growing() {
        let mut p = SseParser::new();
        let mut out = p.push(b"data: ");
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..20 {
            out.extend(p.push(&block));
        }
        assert!(p.line.len() <= MAX_LINE_BYTES);
        out.extend(p.push(b"\n\ndata: ok\n\n"));
        out.extend(p.finish());
        assert!(p.overflowed());
        assert_eq!(out, vec![ev(None, "ok")]);
    }

    #[test]
    fn oversized_line_within_one_chunk_is_dropped_like_a_split_one() {
        let mut chunk = b"event: big\ndata: ".to_vec();
        chunk.extend(vec![b'x'; MAX_LINE_BYTES + 1]);
        chunk.extend(b"\n\ndata: ok\n\n");
        let mut p = SseParser::new();
        let mut out = p.push(&chunk);
        out.extend(p.finish());
        assert!(p.overflowed());
        assert_eq!(out, vec![ev(None, "ok")]);
    }
}
