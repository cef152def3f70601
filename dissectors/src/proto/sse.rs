//! Server-Sent Events (WHATWG HTML §9.2 "Server-sent events"): the body of a
//! `text/event-stream` HTTP response, split into events.
//!
//! tshark 4.0 has no SSE dissector (it shows the body as `media`); this layer is netsniff's own,
//! under `sse.*` names. It is emitted where tshark shows the body — on the frame that completes the
//! HTTP response — so the frames and `http.*` fields tshark shows are unchanged.
//!
//! Each event is an `sse.message` (its number in the response) with children `sse.event` (the
//! type, when given), `sse.data` (one per `data:` line; a client joins them with `\n`), `sse.id`
//! and `sse.retry`; `sse.comment` is a `:` line. Lines end with CRLF, LF or CR; a line without a
//! colon is a field with an empty value; one space after the colon is not part of the value.
//!
//! Not supported: a BOM at the start of the stream is kept in the first line.

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};

/// A body made of more pieces than this (HTTP chunks) is read up to here; the rest is counted
/// by the caller. Each piece costs 24 bytes of stack.
pub const MAX_PARTS: usize = 256;
/// Events shown per response; later ones are counted in a note (a stream can be endless).
pub const MAX_EVENTS: usize = 4096;

pub static PROTO: Proto = Proto {
    name: "sse",
    long_name: "Server-Sent Events",
    fields: &[&MESSAGE, &EVENT, &DATA, &ID, &RETRY, &COMMENT, &FIELD],
    summary: &[],
};

pub static MESSAGE: FieldDef = FieldDef::new("sse.message", "Event", Kind::Dec);
pub static EVENT: FieldDef = FieldDef::new("sse.event", "Event type", Kind::Str);
pub static DATA: FieldDef = FieldDef::new("sse.data", "Data", Kind::Str);
pub static ID: FieldDef = FieldDef::new("sse.id", "Last event ID", Kind::Str);
pub static RETRY: FieldDef = FieldDef::new("sse.retry", "Reconnection time (ms)", Kind::Dec);
pub static COMMENT: FieldDef = FieldDef::new("sse.comment", "Comment", Kind::Str);
/// A field name the standard does not define (ignored by clients).
pub static FIELD: FieldDef = FieldDef::new("sse.field", "Unknown field", Kind::Str);

/// One line of the stream: its bytes (without the line ending) and stream offset. A line that
/// straddles two pieces is copied into `owned`.
struct LineReader<'p, 'a> {
    parts: &'p [(&'a [u8], u64)],
    part: usize,
    pos: usize,
    owned: Vec<u8>,
    /// The previous line ended with CR: a LF starting the next piece belongs to it.
    after_cr: bool,
}

enum Line<'a> {
    Borrowed(&'a [u8], u64),
    /// A line copied into the reader's buffer, starting at this offset.
    Owned(u64),
}

impl<'p, 'a> LineReader<'p, 'a> {
    /// The next complete line; `None` at the end (an unterminated last line is dropped, as a
    /// client would until more bytes arrive).
    fn next(&mut self) -> Option<Line<'a>> {
        self.owned.clear();
        let mut start_at: Option<u64> = None;
        loop {
            let (piece, at) = *self.parts.get(self.part)?;
            let rest = piece.get(self.pos..).unwrap_or(&[]);
            if self.after_cr {
                self.after_cr = false;
                if rest.first() == Some(&b'\n') {
                    self.pos += 1;
                    continue;
                }
            }
            if rest.is_empty() {
                self.part += 1;
                self.pos = 0;
                continue;
            }
            let line_at = at + self.pos as u64;
            match memchr::memchr2(b'\n', b'\r', rest) {
                Some(i) => {
                    let line = rest.get(..i).unwrap_or(&[]);
                    let cr = rest.get(i) == Some(&b'\r');
                    self.pos += i + 1;
                    if cr {
                        if rest.get(i + 1) == Some(&b'\n') {
                            self.pos += 1;
                        } else if i + 1 == rest.len() {
                            self.after_cr = true;
                        }
                    }
                    return Some(match start_at {
                        None => Line::Borrowed(line, line_at),
                        Some(s) => {
                            self.owned.extend_from_slice(line);
                            Line::Owned(s)
                        }
                    });
                }
                None => {
                    start_at.get_or_insert(line_at);
                    self.owned.extend_from_slice(rest);
                    self.part += 1;
                    self.pos = 0;
                }
            }
        }
    }
}

/// Emits the `sse` layer for an event-stream body given as pieces (the data of each HTTP chunk,
/// or the whole body) with their stream offsets.
pub fn emit(parts: &[(&[u8], u64)], cx: &mut Cx<'_>) {
    let start = parts.first().map_or(0, |p| p.1);
    let end = parts.last().map_or(start, |p| p.1 + p.0.len() as u64);
    let span = Span::new(start as usize, end.saturating_sub(start) as usize);
    if !cx.layer(&PROTO, span) {
        return;
    }
    let mut lines = LineReader {
        parts,
        part: 0,
        pos: 0,
        owned: Vec::new(),
        after_cr: false,
    };
    let mut events = 0usize;
    let mut in_event = false;
    let mut dropped = 0usize;
    while let Some(line) = lines.next() {
        let (text, at): (&[u8], u64) = match line {
            Line::Borrowed(t, at) => (t, at),
            Line::Owned(at) => (&lines.owned, at),
        };
        if text.is_empty() {
            // A blank line dispatches the event.
            if in_event {
                cx.sink.close();
                in_event = false;
            }
            continue;
        }
        if events >= MAX_EVENTS && !in_event {
            dropped += 1;
            continue;
        }
        let (name, value, value_off) = match memchr::memchr(b':', text) {
            Some(0) => {
                let v = text.get(1..).unwrap_or(&[]);
                let (v, o) = strip_space(v, 1);
                cx.field(
                    &COMMENT,
                    Span::new((at + o as u64) as usize, v.len()),
                    Value::Text(v),
                );
                continue;
            }
            Some(c) => {
                let v = text.get(c + 1..).unwrap_or(&[]);
                let (v, o) = strip_space(v, c + 1);
                (text.get(..c).unwrap_or(&[]), v, o)
            }
            None => (text, &[][..], text.len()),
        };
        if !in_event {
            events += 1;
            cx.field(
                &MESSAGE,
                Span::new(at as usize, text.len()),
                Value::U(events as u64),
            );
            cx.sink.open();
            in_event = true;
        }
        let vspan = Span::new((at + value_off as u64) as usize, value.len());
        match name {
            b"event" => cx.field(&EVENT, vspan, Value::Text(value)),
            b"data" => cx.field(&DATA, vspan, Value::Text(value)),
            b"id" => cx.field(&ID, vspan, Value::Text(value)),
            b"retry" => match parse_retry(value) {
                Some(ms) => cx.field(&RETRY, vspan, Value::U(ms)),
                // A retry that is not all digits is ignored by clients; show it as unknown.
                None => cx.field(
                    &FIELD,
                    Span::new(at as usize, text.len()),
                    Value::Text(text),
                ),
            },
            _ => cx.field(
                &FIELD,
                Span::new(at as usize, text.len()),
                Value::Text(text),
            ),
        }
    }
    if in_event {
        cx.sink.close();
    }
    if dropped > 0 {
        let note = format!("{dropped} lines after MAX_EVENTS events not shown");
        cx.sink.text(Span::GENERATED, &note);
    }
}

/// Drops one leading space (the only whitespace the standard strips); returns the value and its
/// offset in the line.
fn strip_space(v: &[u8], off: usize) -> (&[u8], usize) {
    match v.strip_prefix(b" ") {
        Some(s) => (s, off + 1),
        None => (v, off),
    }
}

fn parse_retry(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinfo::ProtoStack;
    use crate::proto::testkit::Rec;

    fn events(parts: &[(&[u8], u64)]) -> Vec<(&'static str, String)> {
        let mut rec = Rec::default();
        let mut stack = ProtoStack::default();
        let mut cx = Cx::new(&mut rec, None, &mut stack);
        emit(parts, &mut cx);
        rec.fields
    }

    const STREAM: &[u8] = b"retry: 3000\n\nid: 0\nevent: tick\ndata: {\"a\":1}\n\n: keep\r\n\r\ndata: one\rdata: two\n\n";

    #[test]
    fn deconstruct() {
        let f = events(&[(STREAM, 100)]);
        let names: Vec<_> = f.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            names,
            [
                "sse.message=1",
                "sse.retry=3000",
                "sse.message=2",
                "sse.id=0",
                "sse.event=tick",
                "sse.data={\"a\":1}",
                "sse.comment=keep",
                "sse.message=3",
                "sse.data=one",
                "sse.data=two",
            ]
        );
    }

    #[test]
    fn split_at_every_byte() {
        let whole = events(&[(STREAM, 0)]);
        for i in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(i);
            assert_eq!(events(&[(a, 0), (b, i as u64)]), whole, "split at {i}");
        }
    }

    #[test]
    fn malformed_retry_and_unknown_fields() {
        let f = events(&[(b"retry: 1x\nfoo\n\n", 0)]);
        assert_eq!(f[1], ("sse.field", "retry: 1x".to_string()));
        assert_eq!(f[2], ("sse.field", "foo".to_string()));
    }
}
