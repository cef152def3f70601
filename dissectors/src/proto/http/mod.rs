//! HTTP/1.0 and HTTP/1.1 (RFC 9110, RFC 9112) over a reassembled TCP stream.
//!
//! Heads (start line and header fields) are parsed by `httparse`; bodies and framing are ours:
//! Content-Length, chunked transfer coding with trailers, and bodies delimited by the end of the
//! connection. Keep-alive and pipelining pair responses with requests in order (`http.request_in`,
//! `http.time`); HEAD, 1xx, 204 and 304 responses have no body.
//!
//! As in Wireshark, a message is attributed to the frame that completes it: the parser asks the
//! flow engine to hold a message until its last byte arrives (up to [`MAX_HELD`]), then emits its
//! head, its body and the body's layer (`data-text-lines`, `json`, `media`, `data` …, chosen by
//! media type; `text/event-stream` bodies become [`sse`](crate::proto::sse) events). Bigger
//! bodies, and bodies delimited by the connection's end, are streamed instead: the head is kept
//! (a copy of at most [`MAX_HEAD_LEN`] bytes), the body is consumed as it arrives, and the message
//! is emitted when the body ends (its bytes are then not shown).
//!
//! `Upgrade: websocket` hands the stream to `websocket` after the 101 response
//! (`Progress::Switch`); the handshake is checked (Sec-WebSocket-Accept must be
//! base64(SHA-1(key + GUID)), RFC 6455 §4.2.2). After `Upgrade: h2c` and its 101, or from the
//! HTTP/2 connection preface (prior knowledge on an HTTP port), the bytes go to an `http2` parser
//! run inside this one: HTTP stays the conversation's protocol, so frames show `http:http2` as in
//! tshark (an `http2` parser started by a switch could not know it). After a successful CONNECT
//! the tunnel is handed to `tls`.
//!
//! Malformed: a header line without a colon (or with a bad name), a head longer than
//! [`MAX_HEAD_LEN`], a bad Content-Length or chunk size — the stream's application layer stops
//! there. Bytes that do not start like an HTTP message at a message boundary (a capture that
//! begins mid-body, data after a gap) are shown as `Continuation`, as tshark does.
//!
//! Not supported: content decoding (gzip bodies are shown as they travel), `http.response_in`
//! (it names a later frame: tshark shows it only in two-pass mode), multipart bodies.

pub mod body;
pub mod fields;
pub mod head;

pub use fields::PROTO;

use crate::dissector::{Bind, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser};
use crate::error::Malformed;
use crate::field::{Proto, Span, Value};
use crate::proto::bytes::{slice, tail};
use crate::proto::{data, sse};
use fields::*;
use head::{Facts, Head, Parsed, Start};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// A head (start line and header fields) longer than this is malformed: it is longer than any
/// server accepts (nginx's large_client_header_buffers default is 4 × 8 KiB; Apache's 8 KiB
/// a line).
pub const MAX_HEAD_LEN: usize = 64 * 1024;
/// Messages up to this size are held whole by the flow engine until complete, so the body is
/// shown with the message; bigger bodies are streamed (attributed the same way, but their bytes
/// are not shown). Half the flow engine's tail cap (1 MiB), so a held message never overflows it.
pub const MAX_HELD: usize = 512 * 1024;
/// Requests awaiting a response, per connection (pipelining depth). Past this the oldest is
/// forgotten and counted in `HttpParser::unpaired`.
pub const MAX_PENDING: usize = 64;
/// The longest `Sec-WebSocket-Key` kept for the handshake check (a real key is 24 characters).
pub const MAX_WS_KEY: usize = 64;
/// Full URIs longer than this are not kept for `http.response_for.uri` (the field is then
/// absent); 8 KiB is the common server limit on a request line.
pub const MAX_URI_KEPT: usize = 8192;
/// URI buffers kept for reuse, so pairing allocates nothing in steady state.
const SPARE_URIS: usize = 8;

/// TCP ports Wireshark gives HTTP by default (its `http.tcp.port` range).
static BINDS: &[Bind] = &[
    Bind(crate::dissector::Table::TcpPort, 80),
    Bind(crate::dissector::Table::TcpPort, 3128),
    Bind(crate::dissector::Table::TcpPort, 3132),
    Bind(crate::dissector::Table::TcpPort, 5985),
    Bind(crate::dissector::Table::TcpPort, 8080),
    Bind(crate::dissector::Table::TcpPort, 8088),
    Bind(crate::dissector::Table::TcpPort, 11371),
    Bind(crate::dissector::Table::TcpPort, 1900),
    Bind(crate::dissector::Table::TcpPort, 2869),
    Bind(crate::dissector::Table::TcpPort, 2710),
];

/// The HTTP/2 connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// RFC 6455 §1.3.
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The HTTP/1 stream protocol.
pub struct Http;

impl StreamDissector for Http {
    fn proto(&self) -> &'static crate::field::Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        BINDS
    }

    /// tshark's HTTP heuristic (on by default for TCP): the stream's first line starts with
    /// `HTTP/1.` or ends with `HTTP/1.x` (case-insensitive). A bare `GET\n` on another port is
    /// not HTTP to tshark, and its payload stays `data`.
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        const TOKEN: &[u8] = b"HTTP/1.";
        let Some(nl) = data.iter().position(|&b| b == b'\n') else {
            return if data.len() < MAX_HEAD_LEN {
                Probe::NeedMore
            } else {
                Probe::No
            };
        };
        let line = slice(data, 0, nl);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let starts = line.len() >= TOKEN.len() && slice(line, 0, TOKEN.len()).eq_ignore_ascii_case(TOKEN);
        let ends = line.len() > 8
            && slice(line, line.len() - 8, line.len() - 1).eq_ignore_ascii_case(TOKEN);
        // tshark rejects a line of exactly 8 bytes.
        if (starts || ends) && line.len() != 8 {
            Probe::Yes
        } else {
            Probe::No
        }
    }

    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(HttpParser::default())
    }
}

/// What a request asked to upgrade to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Upgrade {
    #[default]
    None,
    WebSocket,
    H2c,
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    info: ReqInfo,
    /// Its full URI (`http.response_for.uri` on the response); empty when unknown or longer
    /// than [`MAX_URI_KEPT`].
    uri: Vec<u8>,
}

/// What a response needs of its request.
#[derive(Debug, Clone, Copy)]
struct ReqInfo {
    frame: u64,
    secs: i64,
    nanos: u32,
    /// The request before it (`http.prev_request_in` on the response).
    prev_request: Option<u64>,
    head_method: bool,
    connect: bool,
    ws_key: [u8; MAX_WS_KEY],
    ws_key_len: u8,
}

/// How a body being streamed ends.
#[derive(Debug, Clone, Copy)]
enum Streamed {
    Length(u64),
    Chunked(body::Skip),
    UntilClose,
}

/// Per-direction state.
#[derive(Debug, Default)]
struct Dir {
    /// A body being streamed (the head is in `saved`).
    streaming: Option<Streamed>,
    /// The head of the message whose body is streaming: the one copy this parser makes.
    saved: Vec<u8>,
    /// Stream offset of `saved[0]`.
    saved_at: u64,
    /// Body bytes streamed so far.
    streamed: u64,
    /// Stream offset of the held message whose first line the Info column already showed:
    /// tshark shows it once when the length is known (it then waits for the exact rest), so
    /// an early call by the engine must not show it again.
    announced: Option<u64>,
}

/// One connection's HTTP/1 state.
#[derive(Default)]
pub struct HttpParser {
    /// The HTTP/2 parser of a connection that moved to HTTP/2 (h2c upgrade, or the preface on
    /// an HTTP port). HTTP stays the conversation's protocol, as in Wireshark, so the frames
    /// show `http:http2`.
    inner: Option<Box<dyn StreamParser>>,
    /// Client to server, server to client.
    dirs: (Dir, Dir),
    pending: VecDeque<Pending>,
    requests: u32,
    responses: u32,
    prev_request: Option<u64>,
    prev_response: Option<u64>,
    /// The frame whose Info column this parser last wrote (later PDUs in it append).
    info_frame: Option<u64>,
    /// Requests forgotten because [`MAX_PENDING`] were waiting.
    pub unpaired: u64,
    /// Scratch for `http.request.full_uri`.
    scratch: Vec<u8>,
    /// URI buffers of answered requests, for reuse.
    spare_uris: Vec<Vec<u8>>,
}

/// A message's body, as far as it is shown.
#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    None,
    /// Content-Length or connection-delimited bytes, held.
    Plain(&'a [u8]),
    /// A chunked body, held, with its framing.
    Chunked(&'a [u8]),
    /// Streamed past: only its length is known.
    Skipped(u64),
}

/// What a complete message leads to.
enum After {
    Continue,
    Switch(&'static str),
}

fn malformed(at: usize, reason: &'static str) -> Progress {
    Progress::Fatal(Malformed::new(&PROTO, at, reason))
}

/// A head line as tshark's tree shows it: CR and LF as `\r` and `\n`, other bytes as ASCII.
fn push_shown_line(out: &mut String, line: &[u8]) {
    // The tree shows a line's bytes as UTF-8 (its fields read them as ASCII).
    let mut shown = Vec::with_capacity(line.len() + 4);
    crate::field::write_unicode_text(line, &mut shown);
    out.push_str(&String::from_utf8_lossy(&shown));
}

fn contains_token(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',')
        .any(|t| head::trim_ows(t).eq_ignore_ascii_case(token))
}

/// `base64(SHA-1(key + GUID))` (RFC 6455 §4.2.2 step 5.4).
pub fn websocket_accept(key: &[u8]) -> [u8; 28] {
    use base64::Engine as _;
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(key);
    h.update(WS_GUID);
    let digest = h.finalize();
    let mut out = [0u8; 28];
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(digest, &mut out);
    out
}

/// Buffer capacity a recycled parser keeps at most (bigger ones are dropped with it).
const RECYCLED_CAPACITY: usize = 4096;

impl StreamParser for HttpParser {
    fn recycle(&mut self) -> Option<&'static Proto> {
        if self.inner.is_some() {
            return None;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut spare_uris = std::mem::take(&mut self.spare_uris);
        let mut pending = std::mem::take(&mut self.pending);
        for p in pending.drain(..) {
            if spare_uris.len() < SPARE_URIS {
                spare_uris.push(p.uri);
            }
        }
        let big = |v: &Vec<u8>| v.capacity() > RECYCLED_CAPACITY;
        if big(&scratch) || spare_uris.iter().any(big) || pending.capacity() > MAX_PENDING {
            return None;
        }
        scratch.clear();
        for u in &mut spare_uris {
            u.clear();
        }
        *self = HttpParser {
            scratch,
            spare_uris,
            pending,
            ..HttpParser::default()
        };
        Some(&PROTO)
    }

    fn data(&mut self, dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        if self.inner.is_some() {
            return self.delegate(dir, data, 0, cx);
        }
        let mut pos = 0usize;
        let mut emitted = false;
        loop {
            if self.side(dir).streaming.is_some() {
                match self.stream_body(dir, tail(data, pos), cx) {
                    Ok((used, done)) => {
                        pos += used;
                        if !done {
                            return Progress::Done;
                        }
                        emitted = true;
                        continue;
                    }
                    Err(body::Stop::Bad { at, reason }) => return malformed(pos + at, reason),
                    Err(body::Stop::Need(_)) => return Progress::Done,
                }
            }
            let rest = tail(data, pos);
            if rest.is_empty() {
                return Progress::Done;
            }
            // Extra CRLFs between messages (after a POST body) are skipped, as RFC 9112 §2.2
            // allows.
            if rest.first() == Some(&b'\r') || rest.first() == Some(&b'\n') {
                let n = rest
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                pos += n;
                continue;
            }
            if rest.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(rest) {
                return Progress::NeedMore {
                    consumed: pos,
                    needed: H2_PREFACE.len() - rest.len(),
                };
            }
            if rest.starts_with(H2_PREFACE) {
                return self.start_http2(dir, data, pos, cx);
            }
            match head::looks_like_start(rest) {
                None => {
                    return Progress::NeedMore {
                        consumed: pos,
                        needed: 1,
                    }
                }
                Some(false) => {
                    self.continuation(rest, cx.stream_offset + pos as u64, cx);
                    return Progress::Done;
                }
                Some(true) => {}
            }
            match self.message(dir, rest, pos, cx, &mut emitted) {
                Step::Consumed(n, After::Continue) => pos += n,
                Step::Consumed(n, After::Switch(HTTP2)) => {
                    return self.start_http2(dir, data, pos + n, cx);
                }
                Step::Consumed(n, After::Switch(proto)) => {
                    return Progress::Switch {
                        proto,
                        consumed: pos + n,
                    }
                }
                Step::Wait(more) => {
                    // `needed` counts the bytes missing beyond the held tail.
                    return Progress::NeedMore {
                        consumed: pos,
                        needed: more,
                    };
                }
                Step::Stop(p) => return p,
            }
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) {
        if let Some(inner) = self.inner.as_mut() {
            inner.gap(dir, len);
            return;
        }
        let d = self.side(dir);
        match d.streaming {
            // Body bytes were lost: the framing still tells where the message ends.
            Some(Streamed::Length(left)) if len < left => {
                d.streaming = Some(Streamed::Length(left - len));
                d.streamed += len;
            }
            Some(Streamed::UntilClose) => d.streamed += len,
            _ => {
                // Lost our place: the next bytes are probed as a new message.
                d.streaming = None;
            }
        }
    }

    fn end(&mut self, dir: Direction, cx: &mut StreamCx<'_, '_>) {
        if let Some(inner) = self.inner.as_mut() {
            inner.end(dir, cx);
            return;
        }
        // A body delimited by the connection's end is complete now (tshark shows it on the
        // frame with the FIN). Other unfinished messages are not shown, as in tshark.
        if let Some(Streamed::UntilClose) = self.side(dir).streaming {
            let len = self.side(dir).streamed;
            self.finish_streamed(dir, len, cx);
        }
        self.side(dir).streaming = None;
    }
}

/// What [`HttpParser::message`] did.
enum Step {
    Consumed(usize, After),
    Wait(usize),
    Stop(Progress),
}

/// The HTTP/2 protocol's name in the registry.
const HTTP2: &str = "http2";

impl HttpParser {
    /// The connection speaks HTTP/2 from byte `pos` of `data` on: start its parser inside this
    /// one (or, in a build without HTTP/2, let the flow engine decide).
    fn start_http2(
        &mut self,
        dir: Direction,
        data: &[u8],
        pos: usize,
        cx: &mut StreamCx<'_, '_>,
    ) -> Progress {
        match crate::proto::stream_dissector(HTTP2) {
            Some(h2) => {
                self.inner = Some(h2.start());
                self.delegate(dir, data, pos, cx)
            }
            None => Progress::Switch {
                proto: HTTP2,
                consumed: pos,
            },
        }
    }

    /// Feeds `data[pos..]` to the HTTP/2 parser. `http` is put before what it shows in
    /// `frame.protocols` (and taken back when it shows nothing), as tshark does.
    fn delegate(
        &mut self,
        dir: Direction,
        data: &[u8],
        pos: usize,
        cx: &mut StreamCx<'_, '_>,
    ) -> Progress {
        let Some(inner) = self.inner.as_mut() else {
            return Progress::Done;
        };
        let before = *cx.cx.protocols;
        let pushed = before.last() != Some(PROTO.name);
        if pushed {
            cx.cx.protocols.push(PROTO.name);
        }
        let offset = cx.stream_offset;
        cx.stream_offset = offset + pos as u64;
        let progress = inner.data(dir, tail(data, pos), cx);
        cx.stream_offset = offset;
        if pushed && cx.cx.protocols.as_slice().len() == before.as_slice().len() + 1 {
            *cx.cx.protocols = before;
        }
        match progress {
            Progress::Done => Progress::Done,
            Progress::NeedMore { consumed, needed } => Progress::NeedMore {
                consumed: pos + consumed,
                needed,
            },
            Progress::Switch { proto, consumed } => Progress::Switch {
                proto,
                consumed: pos + consumed,
            },
            Progress::Fatal(mut m) => {
                m.at += pos;
                Progress::Fatal(m)
            }
        }
    }

    fn side(&mut self, dir: Direction) -> &mut Dir {
        match dir {
            Direction::ToServer => &mut self.dirs.0,
            Direction::ToClient => &mut self.dirs.1,
        }
    }

    /// Parses the message at the start of `rest` (which is at `pos` in the data given).
    fn message(
        &mut self,
        dir: Direction,
        rest: &[u8],
        pos: usize,
        cx: &mut StreamCx<'_, '_>,
        emitted: &mut bool,
    ) -> Step {
        let mut storage = head::Storage::default();
        let head = match head::parse(rest, &mut storage) {
            Ok(Parsed::Complete(h)) => h,
            Ok(Parsed::Partial) => {
                if rest.len() > MAX_HEAD_LEN {
                    return Step::Stop(malformed(pos, "head longer than MAX_HEAD_LEN"));
                }
                if !*emitted {
                    if let Some(nl) = memchr::memchr(b'\n', rest) {
                        self.in_progress_info(slice(rest, 0, nl), cx);
                    }
                }
                return Step::Wait(1);
            }
            Err(e) => {
                self.broken(rest, e.at, cx);
                return Step::Stop(malformed(pos + e.at, e.reason));
            }
        };
        if head.bytes.len() > MAX_HEAD_LEN {
            return Step::Stop(malformed(pos, "head longer than MAX_HEAD_LEN"));
        }
        let facts = head.facts();
        let head_len = head.bytes.len();
        let base = cx.stream_offset + pos as u64;
        let framing = self.framing(&head, &facts);
        let (body, msg_len) = match framing {
            Framing::None => (Body::None, head_len),
            Framing::Length(n) => {
                let total = (head_len as u64).saturating_add(n);
                if total <= rest.len() as u64 {
                    let end = head_len + n as usize;
                    (Body::Plain(slice(rest, head_len, end)), end)
                } else if total <= MAX_HELD as u64 {
                    if !*emitted && self.side(dir).announced != Some(base) {
                        self.in_progress_info(head.first_line, cx);
                        self.side(dir).announced = Some(base);
                    }
                    return Step::Wait((total - rest.len() as u64) as usize);
                } else {
                    return self.start_streaming(dir, &head, Streamed::Length(n), rest, pos, cx);
                }
            }
            Framing::Chunked => match body::complete_len(tail(rest, head_len)) {
                Ok(n) => (
                    Body::Chunked(slice(rest, head_len, head_len + n)),
                    head_len + n,
                ),
                Err(body::Stop::Need(k)) => {
                    if rest.len() < MAX_HELD {
                        if !*emitted {
                            self.in_progress_info(head.first_line, cx);
                        }
                        // Past MAX_HELD the next call streams the body instead.
                        let k = usize::try_from(k).unwrap_or(usize::MAX).max(1);
                        return Step::Wait(k.min(MAX_HELD - rest.len()));
                    }
                    return self.start_streaming(
                        dir,
                        &head,
                        Streamed::Chunked(body::Skip::Line),
                        rest,
                        pos,
                        cx,
                    );
                }
                Err(body::Stop::Bad { at, reason }) => {
                    // The head is fine: show it (as tshark does), then stop at the bad chunk.
                    *emitted = true;
                    let _ = self.emit(&head, &facts, Body::None, base, head_len + at, cx);
                    return Step::Stop(malformed(pos + head_len + at, reason));
                }
            },
            Framing::UntilClose => {
                return self.start_streaming(dir, &head, Streamed::UntilClose, rest, pos, cx);
            }
        };
        *emitted = true;
        let after = self.emit(&head, &facts, body, base, msg_len, cx);
        Step::Consumed(msg_len, after)
    }

    /// How the body of this message is delimited (RFC 9112 §6.3).
    fn framing(&self, head: &Head<'_, '_>, facts: &Facts<'_>) -> Framing {
        if let Start::Response { code, .. } = head.start {
            let req = self.pending.front().map(|p| &p.info);
            let no_body = (100..200).contains(&code)
                || code == 204
                || code == 304
                || req.is_some_and(|r| r.head_method)
                || (req.is_some_and(|r| r.connect) && (200..300).contains(&code));
            if no_body {
                return Framing::None;
            }
        }
        if facts.chunked {
            Framing::Chunked
        } else if let Some(n) = facts.content_length {
            Framing::Length(n)
        } else if matches!(head.start, Start::Response { .. }) {
            // A response with Transfer-Encoding but not chunked, or with neither header, runs
            // to the end of the connection.
            Framing::UntilClose
        } else {
            Framing::None
        }
    }

    /// Keeps the head and streams the body that follows it.
    fn start_streaming(
        &mut self,
        dir: Direction,
        head: &Head<'_, '_>,
        how: Streamed,
        rest: &[u8],
        pos: usize,
        cx: &mut StreamCx<'_, '_>,
    ) -> Step {
        let head_len = head.bytes.len();
        let d = self.side(dir);
        d.saved.clear();
        d.saved.extend_from_slice(head.bytes);
        d.saved_at = cx.stream_offset + pos as u64;
        d.streamed = 0;
        d.streaming = Some(how);
        let _ = rest;
        Step::Consumed(head_len, After::Continue)
    }

    /// Consumes streamed body bytes; emits the message when its body ends. Returns the bytes
    /// used and whether the message ended.
    fn stream_body(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        cx: &mut StreamCx<'_, '_>,
    ) -> Result<(usize, bool), body::Stop> {
        let d = self.side(dir);
        let (used, done) = match d.streaming {
            Some(Streamed::Length(left)) => {
                let n = left.min(bytes.len() as u64);
                let left = left - n;
                d.streaming = Some(Streamed::Length(left));
                (n as usize, left == 0)
            }
            Some(Streamed::Chunked(mut st)) => {
                let r = body::skip(&mut st, bytes)?;
                d.streaming = Some(Streamed::Chunked(st));
                r
            }
            Some(Streamed::UntilClose) => (bytes.len(), false),
            None => (0, true),
        };
        d.streamed += used as u64;
        if done {
            let len = d.streamed;
            self.finish_streamed(dir, len, cx);
            self.side(dir).streaming = None;
        }
        Ok((used, done))
    }

    /// Emits a streamed message from its saved head.
    fn finish_streamed(&mut self, dir: Direction, body_len: u64, cx: &mut StreamCx<'_, '_>) {
        let saved = std::mem::take(&mut self.side(dir).saved);
        let base = self.side(dir).saved_at;
        let mut storage = head::Storage::default();
        if let Ok(Parsed::Complete(head)) = head::parse(&saved, &mut storage) {
            let facts = head.facts();
            let len = head.bytes.len().saturating_add(body_len as usize);
            // A switch cannot follow a streamed body (101 and CONNECT have none).
            let _ = self.emit(&head, &facts, Body::Skipped(body_len), base, len, cx);
        }
        self.side(dir).saved = saved;
    }

    /// Writes the Info column of a frame that holds an unfinished message, as tshark does
    /// before TCP appends "[TCP segment of a reassembled PDU]".
    fn in_progress_info(&mut self, first_line: &[u8], cx: &mut StreamCx<'_, '_>) {
        let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
        if let Some(info) = cx.cx.info("TCP") {
            info.push_str(&String::from_utf8_lossy(first_line));
            info.push(' ');
        }
        self.info_frame = Some(cx.frame);
    }

    /// The Info column to append to for this frame (cleared on the frame's first PDU).
    fn info<'c>(&mut self, cx: &'c mut StreamCx<'_, '_>, protocol: &'static str) -> Option<&'c mut String> {
        if self.info_frame == Some(cx.frame) {
            let cols = cx.cx.cols.as_deref_mut()?;
            cols.protocol = protocol;
            Some(&mut cols.info)
        } else {
            self.info_frame = Some(cx.frame);
            cx.cx.info(protocol)
        }
    }

    /// Bytes that do not start an HTTP message: shown as a continuation with a data layer.
    fn continuation(&mut self, rest: &[u8], at: u64, cx: &mut StreamCx<'_, '_>) {
        let span = Span::new(at as usize, rest.len());
        cx.cx.layer(&PROTO, span);
        if let Some(info) = self.info(cx, "HTTP") {
            info.push_str("Continuation");
        }
        data::dissect(rest, at as usize, cx.cx);
    }

    /// A head that cannot be parsed: the layer is shown with what the start line says.
    fn broken(&mut self, rest: &[u8], at: usize, cx: &mut StreamCx<'_, '_>) {
        let span = Span::new(cx.stream_offset as usize, at);
        cx.cx.layer(&PROTO, span);
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = slice(rest, 0, end);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(info) = self.info(cx, "HTTP") {
            info.push_str(&String::from_utf8_lossy(line));
            info.push(' ');
        }
    }

    /// Emits one complete message: the `http` layer, its fields, its body layer; pairs it;
    /// and says whether the stream switches protocol after it.
    fn emit(
        &mut self,
        head: &Head<'_, '_>,
        facts: &Facts<'_>,
        body: Body<'_>,
        base: u64,
        msg_len: usize,
        cx: &mut StreamCx<'_, '_>,
    ) -> After {
        let at = |o: usize, len: usize| Span::new(base as usize + o, len);
        let want = cx.cx.layer(&PROTO, at(0, msg_len));
        let mut media_buf = [0u8; 64];
        let media = facts
            .content_type
            .map(|ct| head::media_type(ct, &mut media_buf))
            .unwrap_or(&[]);
        let body_len = match body {
            Body::None => 0,
            Body::Plain(b) => b.len() as u64,
            Body::Chunked(raw) => chunked_data_len(raw),
            Body::Skipped(n) => n,
        };
        let body_proto = if body_len > 0 {
            if media == b"text/event-stream" {
                Some(Some(&sse::PROTO))
            } else {
                Some(body::body_proto(media))
            }
        } else {
            None
        };
        // Info: the start line, then what the body's dissector appends.
        let is_json = matches!(body_proto, Some(Some(p)) if std::ptr::eq(p, &body::JSON));
        let col_proto = if is_json { "HTTP/JSON" } else { "HTTP" };
        if let Some(info) = self.info(cx, col_proto) {
            info.push_str(&String::from_utf8_lossy(head.first_line));
            info.push(' ');
            match body_proto {
                Some(Some(_)) if is_json => {
                    let _ = write!(
                        info,
                        ", JavaScript Object Notation ({})",
                        String::from_utf8_lossy(media)
                    );
                }
                Some(Some(_)) => {
                    let _ = write!(info, " ({})", String::from_utf8_lossy(media));
                }
                _ => {}
            }
        }

        let (is_request, line_field) = match head.start {
            Start::Request { .. } => (true, &REQUEST_LINE),
            Start::Response { .. } => (false, &RESPONSE_LINE),
        };
        // tshark's tree: the start line as an item (`GET / HTTP/1.1\r\n`) with a Chat note
        // and its parts beneath, each header line as its field (`Host: h\r\n`), then `\r\n`.
        let text = want && cx.cx.wants_text();
        if want {
            let first = Span::new(base as usize, head.first_line.len());
            if text {
                let mut line = String::new();
                let ending = head.bytes.get(head.first_line.len()..).unwrap_or(&[]);
                let ending = if ending.starts_with(b"\r\n") { &b"\r\n"[..] } else { &b"\n"[..] };
                push_shown_line(&mut line, head.first_line);
                push_shown_line(&mut line, ending);
                cx.cx.sink.label(first, &line);
                cx.cx.sink.open();
                cx.cx.expert(&CHAT, first, |t| t.push_str(&line));
            } else {
                // Without a tree the note is a plain field (`-T fields -e http.chat` prints 1).
                cx.cx.expert(&CHAT, first, |_| {});
            }
            match head.start {
                Start::Request {
                    method,
                    uri,
                    version,
                } => {
                    cx.cx.field(&REQUEST_METHOD, first, Value::Text(method));
                    cx.cx.field(&REQUEST_URI, first, Value::Text(uri));
                    cx.cx.field(&REQUEST_VERSION, first, Value::Text(version));
                }
                Start::Response {
                    version,
                    code,
                    phrase,
                } => {
                    cx.cx.field(&RESPONSE_VERSION, first, Value::Text(version));
                    cx.cx.field(&RESPONSE_CODE, first, Value::U(u64::from(code)));
                    if let Some(desc) = status_name(u64::from(code)) {
                        cx.cx.field(&RESPONSE_CODE_DESC, Span::GENERATED, Value::Str(desc));
                    }
                    // An empty reason phrase is no item in tshark's tree.
                    if !phrase.is_empty() {
                        cx.cx.field(&RESPONSE_PHRASE, first, Value::Text(phrase));
                    }
                }
            }
            if text {
                cx.cx.sink.close();
            }
            // Without a tree the header lines give only fields (and HTTP2-Settings' items):
            // when the output may want none of them, the lines are not walked at all.
            let lines_shown = text
                || facts.http2_settings
                || cx.cx.wants_field(line_field)
                || cx.cx.wants_field(&CONTENT_LENGTH)
                || header_fields().any(|f| cx.cx.wants_field(f));
            if lines_shown {
                for line in head.lines() {
                    let vspan = at(line.value_at, line.value.len());
                    let lspan = at(line.line_at, line.line.len());
                    match header_field(line.name) {
                        Some(f) => {
                            cx.cx.field_line(f, vspan, Value::Text(line.value), |t| {
                                push_shown_line(t, line.line);
                            });
                            if std::ptr::eq(f, &CONTENT_LENGTH_HEADER) {
                                if let Some(n) = head::parse_content_length(line.value) {
                                    cx.cx.sink.open();
                                    cx.cx.field(&CONTENT_LENGTH, Span::GENERATED, Value::U(n));
                                    cx.cx.sink.close();
                                }
                            } else if std::ptr::eq(f, &HTTP2_SETTINGS) {
                                crate::proto::http2::upgrade_settings_items(line.value, cx.cx);
                            }
                        }
                        None if text => {
                            let mut shown = String::new();
                            push_shown_line(&mut shown, line.line);
                            cx.cx.sink.label(lspan, &shown);
                        }
                        None => {}
                    }
                    cx.cx.field_hidden(line_field, lspan, Value::Text(line.line));
                }
            }
            if text {
                let end = head.bytes.len();
                let blank = if head.bytes.ends_with(b"\r\n") { "\\r\\n" } else { "\\n" };
                cx.cx.sink.label(at(end.saturating_sub(2), 2), blank);
            }
        }

        if let Some((at_line, note)) = facts.length_note {
            cx.cx.sink.text(at(at_line, 0), note);
        }

        // Pairing.
        let mut after = After::Continue;
        match head.start {
            Start::Request { method, uri, .. } => {
                self.requests = self.requests.saturating_add(1);
                // The full URI is built only for an output that may show it, now or as the
                // response's `http.response_for.uri` (the field list is the same for the whole
                // run; an empty kept URI is no field).
                let show_full = want && cx.cx.wants_field(&FULL_URI);
                let keep = cx.cx.wants_field(&RESPONSE_FOR_URI);
                let mut kept = if keep {
                    self.spare_uris.pop().unwrap_or_default()
                } else {
                    Vec::new()
                };
                kept.clear();
                if show_full || keep {
                    if let Some(full) = self.full_uri(uri, facts.host, method) {
                        if show_full {
                            cx.cx.field(&FULL_URI, Span::GENERATED, Value::Text(full));
                        }
                        if keep && full.len() <= MAX_URI_KEPT {
                            kept.extend_from_slice(full);
                        }
                    }
                }
                if want {
                    cx.cx.field_hidden(&REQUEST, Span::GENERATED, Value::Bool(true));
                    let (n, of) = (self.requests, self.requests);
                    cx.cx.field_line(&REQUEST_NUMBER, Span::GENERATED, Value::U(u64::from(n)), |t| {
                        let _ = write!(t, "HTTP request {n}/{of}");
                    });
                    if let Some(prev) = self.prev_request {
                        cx.cx.field(&PREV_REQUEST_IN, Span::GENERATED, Value::U(prev));
                    }
                }
                let mut p = ReqInfo {
                    frame: cx.frame,
                    secs: cx.secs,
                    nanos: cx.nanos,
                    prev_request: self.prev_request,
                    head_method: method == b"HEAD",
                    connect: method == b"CONNECT",
                    ws_key: [0; MAX_WS_KEY],
                    ws_key_len: 0,
                };
                if let Some(key) = facts.ws_key {
                    let n = key.len().min(MAX_WS_KEY);
                    if let (Some(dst), Some(src)) = (p.ws_key.get_mut(..n), key.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    p.ws_key_len = n as u8;
                }
                if self.pending.len() >= MAX_PENDING {
                    if let Some(old) = self.pending.pop_front() {
                        self.recycle(old.uri);
                    }
                    self.unpaired += 1;
                }
                self.pending.push_back(Pending { info: p, uri: kept });
                self.prev_request = Some(cx.frame);
            }
            Start::Response { code, .. } => {
                self.responses = self.responses.saturating_add(1);
                // An interim (1xx) response leaves the request waiting for its final one,
                // except 101, after which the connection is no longer HTTP/1.
                let interim = (100..200).contains(&code) && code != 101;
                let popped = if interim {
                    None
                } else {
                    self.pending.pop_front()
                };
                let req = match &popped {
                    Some(p) => Some(p.info),
                    None if interim => self.pending.front().map(|p| p.info),
                    None => None,
                };
                if want {
                    cx.cx.field_hidden(&RESPONSE, Span::GENERATED, Value::Bool(true));
                    let (n, of) = (self.responses, self.requests.max(self.responses));
                    cx.cx.field_line(&RESPONSE_NUMBER, Span::GENERATED, Value::U(u64::from(n)), |t| {
                        let _ = write!(t, "HTTP response {n}/{of}");
                    });
                    if let Some(r) = req {
                        let (s, n) = elapsed(r.secs, r.nanos, cx.secs, cx.nanos);
                        cx.cx
                            .field(&TIME, Span::GENERATED, Value::Time { secs: s, nanos: n });
                        if let Some(prev) = r.prev_request {
                            cx.cx.field(&PREV_REQUEST_IN, Span::GENERATED, Value::U(prev));
                        }
                    }
                    if let Some(prev) = self.prev_response {
                        cx.cx.field(&PREV_RESPONSE_IN, Span::GENERATED, Value::U(prev));
                    }
                    if let Some(r) = req {
                        cx.cx.field(&REQUEST_IN, Span::GENERATED, Value::U(r.frame));
                    }
                    let uri = match &popped {
                        Some(p) => Some(&p.uri),
                        None if interim => self.pending.front().map(|p| &p.uri),
                        None => None,
                    };
                    if let Some(uri) = uri.filter(|u| !u.is_empty()) {
                        cx.cx
                            .field(&RESPONSE_FOR_URI, Span::GENERATED, Value::Text(uri));
                    }
                }
                if let Some(p) = popped {
                    self.recycle(p.uri);
                }
                self.prev_response = Some(cx.frame);
                let upgrade = facts.upgrade.map_or(Upgrade::None, |u| {
                    if contains_token(u, b"websocket") {
                        Upgrade::WebSocket
                    } else if contains_token(u, b"h2c") {
                        Upgrade::H2c
                    } else {
                        Upgrade::None
                    }
                });
                if code == 101 && upgrade == Upgrade::WebSocket {
                    self.check_accept(req.as_ref(), facts, base, cx);
                    after = After::Switch(crate::proto::websocket::PROTO.name);
                } else if code == 101 && upgrade == Upgrade::H2c {
                    after = After::Switch(HTTP2);
                } else if req.is_some_and(|r| r.connect) && (200..300).contains(&code) {
                    after = After::Switch("tls");
                }
            }
        }

        // The body.
        // A JSON body is parsed whatever the output (what does not parse is `data-text-lines`
        // in frame.protocols), so its entity is needed de-chunked and decoded.
        let decoded = if want {
            self.emit_body_fields(body, head.bytes.len(), facts, base, is_json, cx)
        } else if is_json {
            entity(body, facts)
        } else {
            None
        };
        if let Some(bp) = body_proto {
            let body_at = base as usize + head.bytes.len();
            let span = Span::new(body_at, usize::try_from(body_len).unwrap_or(usize::MAX));
            match (bp, body) {
                (Some(p), Body::Plain(b)) if std::ptr::eq(p, &sse::PROTO) => {
                    sse::emit(&[(b, body_at as u64)], cx.cx);
                }
                (Some(p), Body::Chunked(raw)) if std::ptr::eq(p, &sse::PROTO) => {
                    emit_sse_chunked(raw, body_at as u64, cx);
                }
                (Some(p), Body::Skipped(_)) if std::ptr::eq(p, &sse::PROTO) => {
                    cx.cx.layer(&body::MEDIA, span);
                }
                (Some(p), Body::Plain(b))
                    if std::ptr::eq(p, &body::TEXT_LINES) && !facts.content_encoded =>
                {
                    if cx.cx.layer(p, span) {
                        body::text_lines(b, body_at, Some(media), cx.cx);
                    }
                }
                (Some(p), _) if std::ptr::eq(p, &body::TEXT_LINES) && decoded.is_some() => {
                    if let (true, Some(d)) = (cx.cx.layer(p, span), &decoded) {
                        body::text_lines(d, body_at, Some(media), cx.cx);
                    }
                }
                (Some(p), Body::Plain(b)) if std::ptr::eq(p, &body::JSON) && !facts.content_encoded => {
                    crate::proto::json::dissect(b, body_at, Some(media), cx.cx);
                }
                (Some(p), _) if std::ptr::eq(p, &body::JSON) && decoded.is_some() => {
                    if let Some(d) = &decoded {
                        crate::proto::json::dissect(d, body_at, Some(media), cx.cx);
                    }
                }
                (Some(p), Body::Plain(b))
                    if std::ptr::eq(p, &body::URLENCODED) && !facts.content_encoded =>
                {
                    if cx.cx.layer(p, span) {
                        body::form_items(b, body_at, media, cx.cx);
                    }
                }
                (Some(p), _) => {
                    cx.cx.layer(p, span);
                }
                (None, Body::Plain(b)) => data::dissect(b, body_at, cx.cx),
                (None, _) => {
                    if cx.cx.layer(&data::PROTO, span) {
                        cx.cx.field(&data::LEN, Span::GENERATED, Value::U(body_len));
                    }
                }
            }
        }
        let _ = is_request;
        after
    }

    /// Returns the decoded entity of a content-encoded body when an output shows it, and the
    /// de-chunked or decoded entity when `need_entity`.
    fn emit_body_fields(
        &mut self,
        body: Body<'_>,
        head_len: usize,
        facts: &Facts<'_>,
        base: u64,
        need_entity: bool,
        cx: &mut StreamCx<'_, '_>,
    ) -> Option<Vec<u8>> {
        let body_at = base as usize + head_len;
        // A gzip/deflate body is decoded for trees and for http.file_data (tshark decodes it).
        let decode = facts.content_encoded
            && facts.content_encoding.is_some()
            && (need_entity || cx.cx.wants_text() || cx.cx.wants_field(&FILE_DATA));
        let mut entity: Option<&[u8]> = None;
        let mut chunks = Vec::new();
        match body {
            Body::Chunked(raw) => {
                // Trees draw tshark's `HTTP chunked response` with an item per chunk, and the
                // de-chunked body's `File Data`.
                let tree = cx.cx.open_label(Span::new(body_at, raw.len()), format_args!("HTTP chunked response"));
                let want_data = (!facts.content_encoded
                    && (need_entity || cx.cx.wants_field(&FILE_DATA)))
                    || decode;
                let mut data = Vec::new();
                for step in body::steps(raw) {
                    match step {
                        body::Step::Chunk {
                            line,
                            line_len,
                            size,
                            data: d,
                        } => {
                            let n = usize::try_from(size).unwrap_or(usize::MAX);
                            let chunk_span = Span::new(body_at + line, step.end() - line);
                            let drawn = cx.cx.open_label(chunk_span, format_args!("Data chunk ({size} octets)"));
                            cx.cx.field_shown(
                                &CHUNK_SIZE,
                                Span::new(body_at + line, line_len),
                                Value::U(size),
                                |t| {
                                    let _ = write!(t, "{size} octets");
                                },
                            );
                            cx.cx.field(
                                &CHUNK_DATA,
                                Span::new(body_at + d, n),
                                Value::Bytes(slice(raw, d, d + n)),
                            );
                            cx.cx.field(
                                &CHUNK_BOUNDARY,
                                Span::new(body_at + d + n, 2),
                                Value::Bytes(b"\r\n"),
                            );
                            cx.cx.close_label(drawn);
                            if want_data {
                                data.extend_from_slice(slice(raw, d, d + n));
                            }
                        }
                        body::Step::Last {
                            line,
                            line_len,
                            trailers,
                            end,
                        } => {
                            let drawn = cx
                                .cx
                                .open_label(Span::new(body_at + line, end - line), format_args!("End of chunked encoding"));
                            cx.cx.field_shown(
                                &CHUNK_SIZE,
                                Span::new(body_at + line, line_len),
                                Value::U(0),
                                |t| t.push_str("0 octets"),
                            );
                            let mut t = trailers;
                            while t < end {
                                let e = memchr::memchr(b'\n', slice(raw, t, end))
                                    .map_or(end, |i| t + i + 1);
                                let l = slice(raw, t, e);
                                if l != b"\r\n" && l != b"\n" {
                                    let l = l.strip_suffix(b"\n").unwrap_or(l);
                                    let l = l.strip_suffix(b"\r").unwrap_or(l);
                                    cx.cx.field(
                                        &TRAILER_PART,
                                        Span::new(body_at + t, l.len()),
                                        Value::Text(l),
                                    );
                                }
                                t = e;
                            }
                            cx.cx.close_label(drawn);
                            if drawn {
                                cx.cx.sink.label(Span::new(body_at + end.saturating_sub(2), 2), "\\r\\n");
                            }
                        }
                    }
                }
                cx.cx.close_label(tree);
                if decode {
                    chunks = data;
                } else {
                    if want_data && !data.is_empty() {
                        let n = data.len();
                        cx.cx.field_shown(&FILE_DATA, Span::new(body_at, raw.len()), Value::Text(&data), |t| {
                            let _ = write!(t, "{n} bytes");
                        });
                    }
                    if need_entity && !facts.content_encoded {
                        return Some(data);
                    }
                }
            }
            Body::Plain(b) if decode => entity = Some(b),
            // `-V` says how long any body is that is not content-encoded; `-T fields` prints it
            // as text read as ASCII (up to a NUL), as tshark does.
            Body::Plain(b) if !b.is_empty() && !facts.content_encoded => {
                cx.cx.field_shown(&FILE_DATA, Span::new(body_at, b.len()), Value::Text(b), |t| {
                    let _ = write!(t, "{} bytes", b.len());
                });
            }
            _ => {}
        }
        if !decode {
            return None;
        }
        let encoded = entity.unwrap_or(&chunks);
        let coding = facts.content_encoding.unwrap_or(&[]);
        let decoded = body::decode(coding, encoded)?;
        let span = Span::new(body_at, encoded.len());
        if cx.cx.wants_text() {
            let text = format!(
                "Content-encoded entity body ({}): {} bytes -> {} bytes",
                String::from_utf8_lossy(coding),
                encoded.len(),
                decoded.len()
            );
            cx.cx.sink.label(span, &text);
        }
        let n = decoded.len();
        cx.cx.field_shown(&FILE_DATA, span, Value::Text(&decoded), |t| {
            let _ = write!(t, "{n} bytes");
        });
        Some(decoded)
    }

    fn recycle(&mut self, uri: Vec<u8>) {
        if self.spare_uris.len() < SPARE_URIS {
            self.spare_uris.push(uri);
        }
    }

    /// `http://host/uri` for an origin-form target; the target itself in absolute form.
    fn full_uri(&mut self, uri: &[u8], host: Option<&[u8]>, method: &[u8]) -> Option<&[u8]> {
        if method == b"CONNECT" {
            return None;
        }
        self.scratch.clear();
        if uri.starts_with(b"/") {
            let host = host?;
            self.scratch.reserve(7 + host.len() + uri.len());
            self.scratch.extend_from_slice(b"http://");
            self.scratch.extend_from_slice(host);
            self.scratch.extend_from_slice(uri);
        } else if uri.len() > 7 && uri.get(..7).is_some_and(|s| s.eq_ignore_ascii_case(b"http://")) {
            self.scratch.extend_from_slice(uri);
        } else {
            return None;
        }
        Some(&self.scratch)
    }

    /// Flags a 101 whose Sec-WebSocket-Accept does not answer the request's key.
    fn check_accept(
        &mut self,
        req: Option<&ReqInfo>,
        facts: &Facts<'_>,
        base: u64,
        cx: &mut StreamCx<'_, '_>,
    ) {
        let Some(req) = req else { return };
        let key = slice(&req.ws_key, 0, usize::from(req.ws_key_len));
        if key.is_empty() {
            return;
        }
        let expected = websocket_accept(key);
        let ok = facts
            .ws_accept
            .is_some_and(|(got, _)| head::trim_ows(got) == expected);
        if ok {
            return;
        }
        let span = facts.ws_accept.map_or(Span::GENERATED, |(v, at)| {
            Span::new(base as usize + at, v.len())
        });
        let mut note = String::from("Sec-WebSocket-Accept does not match Sec-WebSocket-Key (expected ");
        note.push_str(&String::from_utf8_lossy(&expected));
        note.push(')');
        cx.cx.sink.text(span, &note);
        if let Some(info) = self.info(cx, "HTTP") {
            info.push_str("[bad Sec-WebSocket-Accept] ");
        }
    }
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The entity of a chunked or content-encoded body: de-chunked, then decoded (`None` for a
/// plain body, whose bytes are the entity, and when decoding fails).
fn entity(body: Body<'_>, facts: &Facts<'_>) -> Option<Vec<u8>> {
    let dechunked;
    let encoded = match body {
        Body::Chunked(raw) => {
            dechunked = body::chunk_data(raw).flat_map(|(_, d)| d.iter().copied()).collect::<Vec<u8>>();
            if !facts.content_encoded {
                return Some(dechunked);
            }
            &dechunked[..]
        }
        Body::Plain(b) if facts.content_encoded => b,
        _ => return None,
    };
    body::decode(facts.content_encoding?, encoded)
}

/// The data bytes of a complete chunked body (framing excluded).
fn chunked_data_len(raw: &[u8]) -> u64 {
    body::chunk_data(raw).map(|(_, d)| d.len() as u64).sum()
}

/// Emits the SSE events of a chunked body: the chunks' data, with their stream offsets.
fn emit_sse_chunked(raw: &[u8], at: u64, cx: &mut StreamCx<'_, '_>) {
    let mut parts: [(&[u8], u64); sse::MAX_PARTS] = [(&[], 0); sse::MAX_PARTS];
    let mut n = 0;
    for ((d, data), slot) in body::chunk_data(raw).zip(parts.iter_mut()) {
        *slot = (data, at + d as u64);
        n += 1;
    }
    sse::emit(parts.get(..n).unwrap_or(&[]), cx.cx);
}

/// The time from (s0, n0) to (s1, n1), never negative.
fn elapsed(s0: i64, n0: u32, s1: i64, n1: u32) -> (i64, u32) {
    let t0 = i128::from(s0) * 1_000_000_000 + i128::from(n0);
    let t1 = i128::from(s1) * 1_000_000_000 + i128::from(n1);
    let d = (t1 - t0).max(0);
    (
        i64::try_from(d / 1_000_000_000).unwrap_or(i64::MAX),
        u32::try_from(d % 1_000_000_000).unwrap_or(0),
    )
}


#[cfg(test)]
mod tests;
