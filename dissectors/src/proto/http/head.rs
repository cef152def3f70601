//! Message heads: the start line and header fields, parsed by `httparse` (zero-copy), plus the
//! facts the framing and the pairing need (Content-Length, Transfer-Encoding, Content-Type,
//! Upgrade, the WebSocket handshake keys).
//!
//! Everything here borrows from the bytes of one head; nothing is copied.

use crate::proto::bytes::{slice, tail};

/// Header fields beyond this many make the head malformed (httparse needs a fixed array; real
/// clients send a few dozen at most).
pub const MAX_HEADERS: usize = 128;
/// Room first given to a request's header fields; [`MAX_HEADERS`] only when they do not fit.
const FEW_HEADERS: usize = 32;

/// Room for the header fields of one head, which httparse wants from its caller.
///
/// Filling 128 empty headers (4 KiB) cost more than parsing most heads, so nothing is filled
/// up front: a response's parser writes into uninitialised room, and a request's (httparse's
/// `parse_headers`, which wants initialised room) gets [`FEW_HEADERS`] first.
pub struct Storage<'a> {
    uninit: [std::mem::MaybeUninit<httparse::Header<'a>>; MAX_HEADERS],
    few: Option<[httparse::Header<'a>; FEW_HEADERS]>,
    all: Option<[httparse::Header<'a>; MAX_HEADERS]>,
}

impl Default for Storage<'_> {
    fn default() -> Self {
        Storage {
            uninit: [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS],
            few: None,
            all: None,
        }
    }
}

/// What the start line says.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    Request {
        method: &'a [u8],
        uri: &'a [u8],
        /// `HTTP/1.x` as written.
        version: &'a [u8],
    },
    Response {
        version: &'a [u8],
        code: u16,
        /// The reason phrase as written (may be empty).
        phrase: &'a [u8],
    },
}

/// One header line: `name: value` and where the whole line (with its CRLF) lies in the head.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// Offset of the value in the head.
    pub value_at: usize,
    /// The line with its line ending.
    pub line: &'a [u8],
    pub line_at: usize,
}

/// A complete head.
#[derive(Debug)]
pub struct Head<'h, 'a> {
    /// The head's bytes, from the start line to the empty line included.
    pub bytes: &'a [u8],
    /// The start line without its line ending.
    pub first_line: &'a [u8],
    pub start: Start<'a>,
    headers: &'h [httparse::Header<'a>],
}

/// Why a head could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadError {
    /// Offset in the buffer where the problem lies (the start of the offending line).
    pub at: usize,
    pub reason: &'static str,
}

/// The outcome of parsing the start of a buffer as a head.
#[derive(Debug)]
pub enum Parsed<T> {
    Complete(T),
    /// The empty line that ends the head has not arrived yet.
    Partial,
}

/// Whether `buf` begins like an HTTP/1 message: a status line (`HTTP/1.`), a request line with a
/// method token, or too few bytes to tell (`None`).
pub fn looks_like_start(buf: &[u8]) -> Option<bool> {
    const STATUS: &[u8] = b"HTTP/1.";
    if buf.len() < STATUS.len() && STATUS.starts_with(buf) {
        return None;
    }
    if buf.starts_with(STATUS) {
        return Some(true);
    }
    let mut pending = false;
    for m in METHODS {
        let len = m.len();
        if buf.len() > len {
            if buf.starts_with(m) && matches!(buf.get(len), Some(b' ' | b'\r' | b'\n')) {
                return Some(true);
            }
        } else if m.starts_with(buf) {
            pending = true;
        }
    }
    if pending {
        None
    } else {
        Some(false)
    }
}

/// Request methods recognised at the start of a stream or a message (RFC 9110 §9 plus the
/// WebDAV methods Wireshark knows). Another token is shown as a continuation, as tshark does.
pub const METHODS: &[&[u8]] = &[
    b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"CONNECT", b"TRACE", b"PATCH",
    b"PROPFIND", b"PROPPATCH", b"MKCOL", b"COPY", b"MOVE", b"LOCK", b"UNLOCK", b"SEARCH",
    b"REPORT", b"MKACTIVITY", b"CHECKOUT", b"CHECKIN", b"UNCHECKOUT", b"MERGE", b"LABEL",
    b"UPDATE", b"MKWORKSPACE", b"VERSION-CONTROL", b"BASELINE-CONTROL", b"M-SEARCH", b"NOTIFY",
    b"SUBSCRIBE", b"UNSUBSCRIBE", b"POLL", b"BCOPY", b"BMOVE", b"BDELETE", b"BPROPFIND",
    b"BPROPPATCH", b"CCM_POST", b"RPC_CONNECT", b"RPC_IN_DATA", b"RPC_OUT_DATA", b"PURGE",
];

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

fn line_end(buf: &[u8], from: usize) -> usize {
    match memchr::memchr(b'\n', crate::proto::bytes::tail(buf, from)) {
        Some(i) => from + i + 1,
        None => buf.len(),
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Maps httparse's error to a reason and the start of the line it concerns.
fn error_at(buf: &[u8], e: httparse::Error) -> HeadError {
    // httparse does not say where it stopped: find the first header line that does not parse
    // as `token ":"`, which is what HeaderName means in practice.
    let reason = match e {
        httparse::Error::HeaderName => "header line without a colon or with a bad name",
        httparse::Error::HeaderValue => "invalid byte in a header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid request method",
        httparse::Error::TooManyHeaders => "more header lines than MAX_HEADERS",
        httparse::Error::Version => "invalid HTTP version",
    };
    let mut at = 0;
    if matches!(e, httparse::Error::HeaderName | httparse::Error::HeaderValue) {
        let mut pos = line_end(buf, 0);
        while pos < buf.len() {
            let end = line_end(buf, pos);
            let line = trim_cr(slice(buf, pos, end));
            let name_ok = line.iter().position(|&b| b == b':').is_some_and(|c| {
                c > 0
                    && line
                        .get(..c)
                        .is_some_and(|n| n.iter().all(|&b| is_token(b)))
            });
            if !name_ok || line.iter().any(|&b| b < 0x20 && b != b'\t') {
                at = pos;
                break;
            }
            pos = end;
        }
    }
    HeadError { at, reason }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses the head at the start of `buf` into `storage`.
///
/// The start line is read by hand, as leniently as tshark (any version text, a missing URI or
/// reason phrase, a status line httparse refuses); the header fields are httparse's. A status
/// line httparse accepts goes through `parse_response` so obs-folded header lines are allowed,
/// as servers still send them.
pub fn parse<'h, 'a>(
    buf: &'a [u8],
    storage: &'h mut Storage<'a>,
) -> Result<Parsed<Head<'h, 'a>>, HeadError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        return Ok(Parsed::Partial);
    };
    let first_end = nl + 1;
    let first_line = trim_cr(slice(buf, 0, first_end));
    let start = start_line(first_line)?;
    let clean_status = match start {
        Start::Response { version, code, .. } => {
            version.len() == 8
                && version.get(7).is_some_and(u8::is_ascii_digit)
                && (100..1000).contains(&code)
                && first_line.get(8) == Some(&b' ')
        }
        Start::Request { .. } => false,
    };
    let (len, headers): (usize, &'h [httparse::Header<'a>]) = if clean_status {
        let mut config = httparse::ParserConfig::default();
        config
            .allow_obsolete_multiline_headers_in_responses(true)
            .allow_multiple_spaces_in_response_status_delimiters(true);
        let mut resp = httparse::Response::new(&mut []);
        match config.parse_response_with_uninit_headers(&mut resp, buf, &mut storage.uninit) {
            Ok(httparse::Status::Complete(n)) => (n, resp.headers),
            Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
            Err(e) => return Err(error_at(buf, e)),
        }
    } else {
        let fields = tail(buf, first_end);
        let few = storage.few.insert([httparse::EMPTY_HEADER; FEW_HEADERS]);
        let parsed = match httparse::parse_headers(fields, few) {
            Err(httparse::Error::TooManyHeaders) => {
                let all = storage.all.insert([httparse::EMPTY_HEADER; MAX_HEADERS]);
                httparse::parse_headers(fields, all)
            }
            parsed => parsed,
        };
        match parsed {
            Ok(httparse::Status::Complete((n, h))) => (first_end + n, h),
            Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
            Err(e) => return Err(error_at(buf, e)),
        }
    };
    Ok(Parsed::Complete(Head {
        bytes: slice(buf, 0, len),
        first_line,
        start,
        headers,
    }))
}

/// The start line: `HTTP/x.y NNN phrase`, or `METHOD target version` where the target and the
/// version may be missing (tshark shows what is there).
fn start_line(line: &[u8]) -> Result<Start<'_>, HeadError> {
    let bad = |reason| HeadError { at: 0, reason };
    let mut parts = line.splitn(2, |&b| b == b' ');
    let first = parts.next().unwrap_or(&[]);
    let rest = parts.next().unwrap_or(&[]);
    if first.starts_with(b"HTTP/") {
        let rest = trim_spaces(rest);
        let code = rest.get(..3).unwrap_or(&[]);
        if code.len() != 3
            || !code.iter().all(u8::is_ascii_digit)
            || rest.get(3).is_some_and(|&b| b != b' ')
        {
            return Err(bad("invalid status code"));
        }
        let code = code
            .iter()
            .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        let phrase = rest.get(4..).unwrap_or(&[]);
        return Ok(Start::Response {
            version: first,
            code,
            phrase,
        });
    }
    if first.is_empty() || !first.iter().all(|&b| is_token(b)) {
        return Err(bad("invalid request method"));
    }
    let rest = trim_spaces(rest);
    let (uri, version) = match rest.iter().position(|&b| b == b' ') {
        Some(sp) => (
            rest.get(..sp).unwrap_or(&[]),
            trim_spaces(rest.get(sp..).unwrap_or(&[])),
        ),
        None => (rest, &[][..]),
    };
    if uri.iter().chain(version).any(|&b| b < 0x20 || b == 0x7f) {
        return Err(bad("control character in the request line"));
    }
    Ok(Start::Request {
        method: first,
        uri,
        version,
    })
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    let b = b.get(start..).unwrap_or(&[]);
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    b.get(..end).unwrap_or(&[])
}

impl<'a> Head<'_, 'a> {
    /// The header lines, in order.
    pub fn lines(&self) -> impl Iterator<Item = Line<'a>> + '_ {
        let buf = self.bytes;
        self.headers.iter().map(move |h| {
            let line_at = offset_in(buf, h.name.as_bytes());
            let value_at = offset_in(buf, h.value);
            let end = line_end(buf, value_at + h.value.len());
            Line {
                name: h.name.as_bytes(),
                value: h.value,
                value_at,
                line: slice(buf, line_at, end),
                line_at,
            }
        })
    }

    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The framing and pairing facts of this head.
    pub fn facts(&self) -> Facts<'a> {
        let mut f = Facts::default();
        for h in self.headers {
            let n = h.name.as_bytes();
            let value = h.value;
            // The name's length rules out most header lines before any case-insensitive
            // compare (this runs on every message, whatever the output).
            match n.len() {
                14 if n.eq_ignore_ascii_case(b"content-length") => {
                    let line_at = offset_in(self.bytes, n);
                    // As tshark: a value that is not a length is ignored (the message then has
                    // no declared length); of several, the first counts.
                    match parse_content_length(value) {
                        Some(len) if f.content_length.is_none() => f.content_length = Some(len),
                        Some(len) if f.content_length != Some(len) => {
                            f.length_note = Some((line_at, "Content-Length headers disagree"));
                        }
                        Some(_) => {}
                        None => {
                            f.length_note = Some((line_at, "Content-Length is not a number"));
                        }
                    }
                }
                14 if n.eq_ignore_ascii_case(b"http2-settings") => f.http2_settings = true,
                17 if n.eq_ignore_ascii_case(b"transfer-encoding") => {
                    // As tshark: any `chunked` coding frames the body (RFC 9112 §6.3 wants it
                    // last; a request where it is not is an attack tshark still decodes as
                    // chunked).
                    f.chunked |= value
                        .split(|&b| b == b',')
                        .any(|c| trim_ows(c).eq_ignore_ascii_case(b"chunked"));
                    f.transfer_encoding = true;
                }
                12 if f.content_type.is_none() && n.eq_ignore_ascii_case(b"content-type") => {
                    f.content_type = Some(value);
                }
                16 if n.eq_ignore_ascii_case(b"content-encoding") => {
                    f.content_encoded = !trim_ows(value).eq_ignore_ascii_case(b"identity");
                    f.content_encoding = Some(trim_ows(value));
                }
                7 if n.eq_ignore_ascii_case(b"upgrade") => f.upgrade = Some(value),
                4 if f.host.is_none() && n.eq_ignore_ascii_case(b"host") => f.host = Some(value),
                17 if n.eq_ignore_ascii_case(b"sec-websocket-key") => f.ws_key = Some(value),
                20 if n.eq_ignore_ascii_case(b"sec-websocket-accept") => {
                    f.ws_accept = Some((value, offset_in(self.bytes, value)));
                }
                _ => {}
            }
        }
        f
    }
}

/// Framing and pairing facts read from the headers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Facts<'a> {
    pub content_length: Option<u64>,
    /// Transfer-Encoding ends with `chunked`.
    pub chunked: bool,
    /// A Transfer-Encoding header is present.
    pub transfer_encoding: bool,
    pub content_type: Option<&'a [u8]>,
    /// A Content-Encoding other than identity: the body bytes are not the entity.
    pub content_encoded: bool,
    /// The Content-Encoding value (the last one), trimmed.
    pub content_encoding: Option<&'a [u8]>,
    pub upgrade: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub ws_key: Option<&'a [u8]>,
    /// The accept value and its offset in the head.
    pub ws_accept: Option<(&'a [u8], usize)>,
    /// A Content-Length that was ignored, and why (offset of its line in the head).
    pub length_note: Option<(usize, &'static str)>,
    /// An HTTP2-Settings header is present (its items are shown whatever the field list).
    pub http2_settings: bool,
}

/// Optional whitespace trimmed from both ends (RFC 9110 §5.6.3).
pub fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    let b = b.get(start..).unwrap_or(&[]);
    let end = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |i| i + 1);
    b.get(..end).unwrap_or(&[])
}

/// A Content-Length value: decimal digits (a repeated list of one value is accepted, RFC 9110
/// §8.6); `None` when it is not a number or does not fit in 63 bits.
pub fn parse_content_length(v: &[u8]) -> Option<u64> {
    // Nearly every value is plain digits that fit: read them without splitting a list.
    if (1..=18).contains(&v.len()) && v.iter().all(u8::is_ascii_digit) {
        return Some(v.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0')));
    }
    let mut result = None;
    for part in v.split(|&b| b == b',') {
        let part = trim_ows(part);
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Leading zeros are allowed (and used to smuggle); 18 significant digits fit in u64.
        let zeros = part.iter().take_while(|&&d| d == b'0').count();
        let part = part.get(zeros..).unwrap_or(&[]);
        if part.len() > 18 {
            return None;
        }
        let n = part
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
        if result.is_some_and(|r| r != n) {
            return None;
        }
        result = Some(n);
    }
    result
}

/// The media type of a Content-Type value, lowercased into `out`, without parameters
/// (`Text/HTML; charset=utf-8` → `text/html`). Returns the written prefix of `out`; a type longer
/// than `out` is cut (no registered type is that long).
pub fn media_type<'o>(content_type: &[u8], out: &'o mut [u8; 64]) -> &'o [u8] {
    let bare = content_type
        .split(|&b| b == b';')
        .next()
        .map(trim_ows)
        .unwrap_or(&[]);
    let n = bare.len().min(out.len());
    for (o, b) in out.iter_mut().zip(bare.iter()) {
        *o = b.to_ascii_lowercase();
    }
    out.get(..n).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage<'a>() -> Storage<'a> {
        Storage::default()
    }

    #[test]
    fn deconstruct_request() {
        let buf = b"GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t/1\r\n\r\nBODY";
        let mut st = storage();
        let Ok(Parsed::Complete(h)) = parse(buf, &mut st) else {
            panic!("not parsed")
        };
        assert_eq!(h.bytes.len(), buf.len() - 4);
        assert_eq!(h.first_line, b"GET /a?b=1 HTTP/1.1");
        let Start::Request { method, uri, version } = h.start else {
            panic!()
        };
        assert_eq!((method, uri, version), (&b"GET"[..], &b"/a?b=1"[..], &b"HTTP/1.1"[..]));
        let lines: Vec<_> = h.lines().collect();
        assert_eq!(lines[0].line, b"Host: x.test\r\n");
        assert_eq!(lines[0].line_at, 21);
        assert_eq!(lines[1].value, b"t/1");
        assert_eq!(&buf[lines[1].value_at..lines[1].value_at + 3], b"t/1");
    }

    #[test]
    fn deconstruct_response() {
        let buf = b"HTTP/1.1 101 \r\nUpgrade: h2c\r\n\r\n";
        let mut st = storage();
        let Ok(Parsed::Complete(h)) = parse(buf, &mut st) else {
            panic!("not parsed")
        };
        let Start::Response { version, code, phrase } = h.start else {
            panic!()
        };
        assert_eq!((version, code, phrase), (&b"HTTP/1.1"[..], 101, &b""[..]));
        assert_eq!(h.facts().upgrade, Some(&b"h2c"[..]));
    }

    #[test]
    fn malformed_line_without_colon() {
        let buf = b"GET / HTTP/1.1\r\nHost: x\r\nBadLine\r\n\r\n";
        let mut st = storage();
        let e = parse(buf, &mut st).unwrap_err();
        assert_eq!(e.at, 25);
    }

    #[test]
    fn request_header_counts() {
        let head = |n: usize| {
            let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
            for i in 0..n {
                buf.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
            }
            buf.extend_from_slice(b"\r\n");
            buf
        };
        // Past the first room given (FEW_HEADERS), up to MAX_HEADERS, and one more.
        for n in [FEW_HEADERS - 1, FEW_HEADERS, FEW_HEADERS + 1, MAX_HEADERS] {
            let buf = head(n);
            let mut st = storage();
            let Ok(Parsed::Complete(h)) = parse(&buf, &mut st) else {
                panic!("{n} headers not parsed")
            };
            assert_eq!(h.lines().count(), n);
            assert_eq!(h.bytes.len(), buf.len());
        }
        let buf = head(MAX_HEADERS + 1);
        let mut st = storage();
        let e = parse(&buf, &mut st).unwrap_err();
        assert_eq!(e.reason, "more header lines than MAX_HEADERS");
        // An unfinished head with more than FEW_HEADERS lines is waited for.
        let buf = head(FEW_HEADERS + 5);
        let mut st = storage();
        assert!(matches!(parse(&buf[..buf.len() - 2], &mut st), Ok(Parsed::Partial)));
    }

    #[test]
    fn content_length_forms() {
        assert_eq!(parse_content_length(b"42"), Some(42));
        assert_eq!(parse_content_length(b"42, 42"), Some(42));
        assert_eq!(parse_content_length(b"42, 43"), None);
        assert_eq!(parse_content_length(b"-1"), None);
        assert_eq!(parse_content_length(b"99999999999999999999"), None);
        assert_eq!(parse_content_length(b"00000000000000000000000000000050"), Some(50));
        assert_eq!(parse_content_length(b"000"), Some(0));
    }

    #[test]
    fn probe_starts() {
        assert_eq!(looks_like_start(b"GET / HTTP/1.1"), Some(true));
        assert_eq!(looks_like_start(b"HTTP/1.1 200"), Some(true));
        assert_eq!(looks_like_start(b"GE"), None);
        assert_eq!(looks_like_start(b"HTTP/2"), Some(false));
        assert_eq!(looks_like_start(b"\x16\x03\x01"), Some(false));
        assert_eq!(looks_like_start(b"GETX /"), Some(false));
    }

    #[test]
    fn media_types() {
        let mut out = [0u8; 64];
        assert_eq!(media_type(b"Text/HTML; charset=utf-8", &mut out), b"text/html");
    }
}
