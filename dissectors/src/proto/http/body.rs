//! Message bodies: chunked transfer coding (RFC 9112 §7.1) and the media-type layers Wireshark
//! hands bodies to (`data-text-lines`, `json`, `urlencoded-form`, `media`, `data`).

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use std::fmt::Write as _;
use crate::proto::bytes::{slice, tail};

/// A chunk-size line (size, extensions, CRLF) or a trailer line longer than this is malformed:
/// no sane peer sends kilobytes of chunk extensions.
pub const MAX_CHUNK_LINE: usize = 4096;

/// One step of a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A data chunk: the size line at `line` (length `line_len`, CRLF included), `size` bytes
    /// of data at `data`, then a 2-byte boundary.
    Chunk {
        line: usize,
        line_len: usize,
        size: u64,
        data: usize,
    },
    /// The last chunk (`0`) at `line`, then trailer lines from `trailers` to `end`, the last
    /// being the empty line. `end` is the length of the whole chunked body.
    Last {
        line: usize,
        line_len: usize,
        trailers: usize,
        end: usize,
    },
}

/// Why a chunked body stops: more bytes are needed, or it is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// At least this many more bytes are needed.
    Need(u64),
    Bad { at: usize, reason: &'static str },
}

fn find_line(buf: &[u8], from: usize) -> Result<usize, Stop> {
    let rest = tail(buf, from);
    match memchr::memchr(b'\n', rest) {
        Some(i) if i < MAX_CHUNK_LINE => Ok(from + i + 1),
        Some(_) => Err(Stop::Bad {
            at: from,
            reason: "chunk line longer than MAX_CHUNK_LINE",
        }),
        None if rest.len() >= MAX_CHUNK_LINE => Err(Stop::Bad {
            at: from,
            reason: "chunk line longer than MAX_CHUNK_LINE",
        }),
        None => Err(Stop::Need(1)),
    }
}

/// The chunk size at the start of a size line: hex digits, then optional whitespace and
/// extensions (`;name=value`).
fn chunk_size(line: &[u8], at: usize) -> Result<u64, Stop> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let bad = |reason| Stop::Bad { at, reason };
    if digits == 0 {
        return Err(bad("chunk size is not hexadecimal"));
    }
    if digits > 15 {
        return Err(bad("chunk size too large"));
    }
    let rest = tail(line, digits);
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    if !rest.is_empty() && !matches!(rest.first(), Some(b';' | b' ' | b'\t')) {
        return Err(bad("junk after the chunk size"));
    }
    Ok(line.iter().take(digits).fold(0u64, |acc, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b.wrapping_sub(b'A').wrapping_add(10),
        };
        (acc << 4) | u64::from(d)
    }))
}

/// The steps of a chunked body from its start, up to its last chunk or what does not parse.
pub fn steps(buf: &[u8]) -> impl Iterator<Item = Step> + '_ {
    let mut pos = Some(0);
    std::iter::from_fn(move || {
        let step = next(buf, pos?).ok()?;
        pos = (!matches!(step, Step::Last { .. })).then(|| step.end());
        Some(step)
    })
}

/// The data of each chunk of a chunked body, with its offset in `buf`.
pub fn chunk_data(buf: &[u8]) -> impl Iterator<Item = (usize, &[u8])> + '_ {
    steps(buf).filter_map(move |step| match step {
        Step::Chunk { size, data, .. } => {
            let n = usize::try_from(size).unwrap_or(usize::MAX);
            Some((data, slice(buf, data, data.saturating_add(n))))
        }
        Step::Last { .. } => None,
    })
}

/// The chunk starting at `pos` of a chunked body `buf`.
pub fn next(buf: &[u8], pos: usize) -> Result<Step, Stop> {
    let line_end = find_line(buf, pos)?;
    let size = chunk_size(slice(buf, pos, line_end), pos)?;
    let line_len = line_end - pos;
    if size == 0 {
        // Trailer section: header lines up to an empty line.
        let mut at = line_end;
        loop {
            let end = find_line(buf, at)?;
            let line = slice(buf, at, end);
            if line == b"\r\n" || line == b"\n" {
                return Ok(Step::Last {
                    line: pos,
                    line_len,
                    trailers: line_end,
                    end,
                });
            }
            if !line.contains(&b':') {
                return Err(Stop::Bad {
                    at,
                    reason: "trailer line without a colon",
                });
            }
            at = end;
        }
    }
    let have = buf.len().saturating_sub(line_end) as u64;
    let want = size.saturating_add(2);
    if have < want {
        return Err(Stop::Need(want - have));
    }
    let boundary = line_end + usize::try_from(size).unwrap_or(usize::MAX);
    if slice(buf, boundary, boundary + 2) != b"\r\n" {
        return Err(Stop::Bad {
            at: boundary,
            reason: "chunk data not followed by CRLF",
        });
    }
    Ok(Step::Chunk {
        line: pos,
        line_len,
        size,
        data: line_end,
    })
}

impl Step {
    /// Where the next step starts.
    pub fn end(&self) -> usize {
        match *self {
            Step::Chunk { data, size, .. } => {
                data.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)) + 2
            }
            Step::Last { end, .. } => end,
        }
    }
}

/// The length of the complete chunked body at the start of `buf`.
pub fn complete_len(buf: &[u8]) -> Result<usize, Stop> {
    let mut pos = 0;
    loop {
        let step = next(buf, pos)?;
        pos = step.end();
        if let Step::Last { end, .. } = step {
            return Ok(end);
        }
    }
}

/// A streaming decoder of a chunked body whose bytes are consumed as they arrive (bodies too big
/// to hold until the message completes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// At a size line.
    Line,
    /// Inside chunk data plus its CRLF: this many bytes left.
    Data(u64),
    /// In the trailer section.
    Trailers,
}

/// Advances a streaming chunked decoder over `buf`: returns the bytes consumed and whether the
/// body ended.
pub fn skip(state: &mut Skip, buf: &[u8]) -> Result<(usize, bool), Stop> {
    let mut pos = 0;
    loop {
        match *state {
            Skip::Data(left) => {
                let avail = (buf.len() - pos) as u64;
                if avail < left {
                    *state = Skip::Data(left - avail);
                    return Ok((buf.len(), false));
                }
                pos += usize::try_from(left).unwrap_or(usize::MAX);
                *state = Skip::Line;
            }
            Skip::Line => {
                let end = match find_line(buf, pos) {
                    Ok(e) => e,
                    Err(Stop::Need(_)) => return Ok((pos, false)),
                    Err(e) => return Err(e),
                };
                let size = chunk_size(slice(buf, pos, end), pos)?;
                pos = end;
                *state = if size == 0 {
                    Skip::Trailers
                } else {
                    Skip::Data(size.saturating_add(2))
                };
            }
            Skip::Trailers => {
                let end = match find_line(buf, pos) {
                    Ok(e) => e,
                    Err(Stop::Need(_)) => return Ok((pos, false)),
                    Err(e) => return Err(e),
                };
                let line = slice(buf, pos, end);
                pos = end;
                if line == b"\r\n" || line == b"\n" {
                    return Ok((pos, true));
                }
            }
        }
    }
}

/// The most a content-encoded body is decoded to; a bigger one is not shown decoded.
pub const MAX_DECODED: usize = 4 * 1024 * 1024;

/// A gzip or deflate body decoded (RFC 9110 §8.4.1), as tshark decodes it for its tree and
/// `http.file_data`; `None` for another coding, bytes that do not decode, or more than
/// [`MAX_DECODED`] bytes of output.
pub fn decode(coding: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let limit = MAX_DECODED as u64 + 1;
    let mut out = Vec::new();
    let read = if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
        flate2::read::GzDecoder::new(body).take(limit).read_to_end(&mut out)
    } else if coding.eq_ignore_ascii_case(b"deflate") {
        // zlib-wrapped as the RFC says; some servers send raw deflate.
        match flate2::read::ZlibDecoder::new(body).take(limit).read_to_end(&mut out) {
            Ok(n) => Ok(n),
            Err(_) => {
                out.clear();
                flate2::read::DeflateDecoder::new(body).take(limit).read_to_end(&mut out)
            }
        }
    } else {
        return None;
    };
    (read.is_ok() && out.len() <= MAX_DECODED).then_some(out)
}

/// Draws a `data-text-lines` layer's `-V` tree (Wireshark's packet-text-media.c): the root
/// line `Line-based text data: text/html (2 lines)` and one item per line, its terminator
/// included and escaped as Wireshark shows UTF-8 text. `at` is the span offset of `text`.
pub fn text_lines(text: &[u8], at: usize, media: Option<&[u8]>, cx: &mut Cx<'_>) {
    if !cx.wants_text() {
        return;
    }
    let mut lines = 0usize;
    let mut pos = 0;
    let mut item = Vec::new();
    while pos < text.len() {
        // A line ends with CRLF, LF or a CR alone (Wireshark's tvb_find_line_end).
        let end = match memchr::memchr2(b'\n', b'\r', tail(text, pos)) {
            None => text.len(),
            Some(i) if text.get(pos + i) == Some(&b'\r') && text.get(pos + i + 1) == Some(&b'\n') => {
                pos + i + 2
            }
            Some(i) => pos + i + 1,
        };
        item.clear();
        crate::field::write_unicode_text(slice(text, pos, end), &mut item);
        cx.sink.label(Span::new(at + pos, end - pos), &String::from_utf8_lossy(&item));
        lines += 1;
        pos = end;
    }
    cx.retitle(|t| {
        t.push_str(TEXT_LINES.long_name);
        if let Some(m) = media {
            let _ = write!(t, ": {}", String::from_utf8_lossy(m));
        }
        let _ = write!(t, " ({lines} lines)");
    });
}

/// Line-based text (Wireshark's `data-text-lines`).
pub static TEXT_LINES: Proto = Proto {
    name: "data-text-lines",
    long_name: "Line-based text data",
    fields: &[],
    summary: &[],
};
/// JSON bodies (their dissector is [`crate::proto::json`]).
pub use crate::proto::json::PROTO as JSON;
/// HTML form bodies.
pub static URLENCODED: Proto = Proto {
    name: "urlencoded-form",
    long_name: "HTML Form URL Encoded",
    fields: &[&FORM_KEY, &FORM_VALUE],
    summary: &[],
};
pub static FORM_KEY: FieldDef = FieldDef::new("urlencoded-form.key", "Key", Kind::Str);
pub static FORM_VALUE: FieldDef = FieldDef::new("urlencoded-form.value", "Value", Kind::Str);

/// An HTML form body's items, as Wireshark 4.0 reads them (packet-http-urlencoded.c): a key
/// runs to `=`, its value to `&`, `+` is a space and `%XX` a byte; a `%` without two hex
/// digits ends the reading (the item drawn so far stays). Call with the `urlencoded-form`
/// layer open; `at` is the span offset of `body`.
pub fn form_items(body: &[u8], at: usize, media: &[u8], cx: &mut Cx<'_>) {
    cx.retitle(|t| {
        t.push_str(URLENCODED.long_name);
        t.push_str(": ");
        t.push_str(&String::from_utf8_lossy(media));
    });
    // Items at most, for a hostile body of `&&&…` (each is a few tree nodes).
    const MAX_ITEMS: usize = 4096;
    let mut offset = 0;
    for _ in 0..MAX_ITEMS {
        if offset >= body.len() {
            break;
        }
        let key = form_text(body, offset, b'=');
        let value = key.as_ref().and_then(|(_, end)| form_text(body, end + 1, b'&'));
        let end = value.as_ref().or(key.as_ref()).map_or(offset, |(_, e)| *e);
        let mut label = String::from("Form item");
        if let Some((k, _)) = &key {
            push_quoted(&mut label, ": ", k);
        }
        if let Some((v, _)) = &value {
            push_quoted(&mut label, " = ", v);
        }
        // Wireshark appends the key and value to the item, silently cut at its longest label.
        crate::text::cut_label(&mut label, 239);
        cx.sink.label(Span::new(at + offset, end.saturating_sub(offset)), &label);
        cx.sink.open();
        if let Some((k, k_end)) = &key {
            cx.field(&FORM_KEY, Span::new(at + offset, k_end - offset), Value::Text(k));
            if let Some((v, v_end)) = &value {
                let v_at = k_end + 1;
                cx.field(&FORM_VALUE, Span::new(at + v_at, v_end.saturating_sub(v_at)), Value::Text(v));
            }
        }
        cx.sink.close();
        match value {
            Some((_, v_end)) => offset = v_end + 1,
            None => break,
        }
    }
}

/// `sep` and `text` in quotes, as Wireshark's tree shows it.
fn push_quoted(label: &mut String, sep: &str, text: &[u8]) {
    let mut shown = Vec::with_capacity(text.len());
    crate::field::write_unicode_text(text, &mut shown);
    label.push_str(sep);
    label.push('"');
    label.push_str(&String::from_utf8_lossy(&shown));
    label.push('"');
}

/// The decoded text from `from` up to `stop` (or the end), and where it ended; `None` for a
/// `%` not followed by two hex digits.
fn form_text(body: &[u8], from: usize, stop: u8) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = from;
    while let Some(&b) = body.get(i) {
        match b {
            _ if b == stop => return Some((out, i)),
            b'%' => {
                let hex = |j: usize| body.get(j).and_then(|c| char::from(*c).to_digit(16));
                let (hi, lo) = (hex(i + 1)?, hex(i + 2)?);
                out.push((hi << 4 | lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some((out, i.max(from)))
}
/// XML bodies (not dissected further).
pub static XML: Proto = Proto {
    name: "xml",
    long_name: "eXtensible Markup Language",
    fields: &[],
    summary: &[],
};
/// A body of a media type no dissector handles.
pub static MEDIA: Proto = Proto {
    name: "media",
    long_name: "Media Type",
    fields: &[],
    summary: &[],
};

/// How Wireshark shows a body of media type `mt` (lowercase, no parameters): the layer, and
/// whether the Info column gets ` (type)` (`None`: a `data` layer and no suffix).
pub fn body_proto(mt: &[u8]) -> Option<&'static Proto> {
    Some(match mt {
        b"" | b"application/octet-stream" => return None,
        b"text/plain" | b"text/html" | b"text/css" | b"text/richtext" | b"text/enriched"
        | b"text/parameters" | b"text/javascript" | b"application/x-javascript"
        | b"text/vnd.sun.j2me.app-descriptor" | b"application/x-ns-proxy-autoconfig" => {
            &TEXT_LINES
        }
        b"application/json" | b"application/json-rpc" | b"application/jsonrequest"
        | b"application/problem+json" | b"application/x-ndjson" | b"application/vnd.api+json" => {
            &JSON
        }
        b"application/x-www-form-urlencoded" => &URLENCODED,
        b"text/xml" | b"application/xml" | b"application/soap+xml" => &XML,
        _ => &MEDIA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &[u8]) -> (Vec<String>, Vec<String>) {
        let mut rec = crate::proto::testkit::Rec::default();
        let mut stack = crate::pinfo::ProtoStack::default();
        let mut cx = Cx::new(&mut rec, None, &mut stack);
        form_items(body, 0, b"application/x-www-form-urlencoded", &mut cx);
        let fields = rec.fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (fields, rec.texts)
    }

    #[test]
    fn form_items_as_wireshark_reads_them() {
        // As tshark 4.0.17 shows these bodies.
        let (f, _) = form(b"a=1&b=hello+world&c=%41%42%zz&d&=e&f=");
        assert_eq!(
            f,
            [
                "urlencoded-form.key=a",
                "urlencoded-form.value=1",
                "urlencoded-form.key=b",
                "urlencoded-form.value=hello world",
                "urlencoded-form.key=c",
            ]
        );
        let (f, _) = form(b"k=v&&k2=v2&");
        assert_eq!(
            f,
            [
                "urlencoded-form.key=k",
                "urlencoded-form.value=v",
                "urlencoded-form.key=&k2",
                "urlencoded-form.value=v2",
            ]
        );
        // A body without `=`: one key, an empty value.
        let (f, _) = form(b"ppp");
        assert_eq!(f, ["urlencoded-form.key=ppp", "urlencoded-form.value="]);
        // Hostile: many empty items stop at the cap, no panic.
        let (f, _) = form(&b"=&".repeat(10_000));
        assert_eq!(f.len(), 2 * 4096);
    }

    #[test]
    fn chunked_complete_and_partial() {
        let body = b"3;ext=1\r\nabc\r\n0\r\nX-T: y\r\n\r\n";
        assert_eq!(complete_len(body), Ok(body.len()));
        for n in 0..body.len() {
            assert!(matches!(complete_len(&body[..n]), Err(Stop::Need(_))), "{n}");
        }
        assert_eq!(
            next(body, 0),
            Ok(Step::Chunk { line: 0, line_len: 9, size: 3, data: 9 })
        );
    }

    #[test]
    fn malformed_chunks() {
        assert!(matches!(complete_len(b"zz\r\n"), Err(Stop::Bad { .. })));
        assert!(matches!(complete_len(b"3\r\nabcX\r\n"), Err(Stop::Bad { at: 6, .. })));
        assert!(matches!(complete_len(b"0\r\nnocolon\r\n\r\n"), Err(Stop::Bad { .. })));
        assert!(matches!(
            complete_len(b"ffffffffffffffffff\r\n"),
            Err(Stop::Bad { .. })
        ));
        let long = vec![b'1'; MAX_CHUNK_LINE + 1];
        assert!(matches!(complete_len(&long), Err(Stop::Bad { .. })));
    }

    #[test]
    fn skip_matches_complete_len_at_every_split() {
        let body = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\nNEXT";
        let total = complete_len(body).unwrap();
        for split in 0..body.len() {
            let mut st = Skip::Line;
            let (a, done_a) = skip(&mut st, &body[..split]).unwrap();
            let (consumed, done) = if done_a {
                (a, true)
            } else {
                let (b, d) = skip(&mut st, &body[a..]).unwrap();
                (a + b, d)
            };
            assert!(done, "split {split}");
            assert_eq!(consumed, total, "split {split}");
        }
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    #[test]
    fn gzip_and_deflate_bodies_decode_within_the_cap() {
        assert_eq!(decode(b"gzip", &gzip(b"line 1\nline 2\n")).as_deref(), Some(&b"line 1\nline 2\n"[..]));
        assert_eq!(decode(b"X-GZIP", &gzip(b"x")).as_deref(), Some(&b"x"[..]));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = z.write_all(b"zlib");
        assert_eq!(decode(b"deflate", &z.finish().unwrap_or_default()).as_deref(), Some(&b"zlib"[..]));
        // Not a coding netsniff decodes, not gzip at all, and a bomb past the cap: not decoded.
        assert_eq!(decode(b"br", b"abc"), None);
        assert_eq!(decode(b"gzip", b"not gzip"), None);
        assert_eq!(decode(b"gzip", &gzip(&vec![0u8; MAX_DECODED + 1])), None);
    }
}
