//! HTTP/2 (RFC 9113) over a reassembled TCP stream: the connection preface, every frame type
//! with its flags and stream id, HPACK header blocks decoded per direction ([`hpack`]), streams
//! tracked with their state, and gRPC calls recognised by their content type
//! ([`crate::proto::grpc`]).
//!
//! Output follows tshark 4.0: one `http2` layer per packet in `frame.protocols`, every frame's
//! fields in order (`http2.type`, `http2.streamid`, `http2.flags`, `http2.length`, each header
//! field's `http2.header.name` / `http2.header.value` in the frame whose fragment holds it),
//! and the Info column `Magic, SETTINGS[0], HEADERS[1]: GET /, DATA[1] (text/plain)`. A frame
//! is reported in the packet that completes it. Bodies are not buffered: DATA payloads are
//! counted and, for gRPC, split into messages as they pass.
//!
//! Detection: the client preface (`PRI * HTTP/2.0…`) by [`Http2::probe`], `-d tcp.port==N,http2`,
//! or the HTTP/1 parser's switch after `101 Switching Protocols` with `Upgrade: h2c` (stream 1
//! then carries the upgraded request's response). A direction whose first bytes are not the
//! client preface (client) or a SETTINGS frame (server) started before the capture: its HPACK
//! table is unknown, and blocks that need an unseen entry are reported as not decodable.
//!
//! Malformed (reported, then parsing goes on at the next frame, whose position the length
//! gives): padding longer than the payload, frames larger than the receiver's
//! SETTINGS_MAX_FRAME_SIZE, fixed-size frames of the wrong size, CONTINUATION without an open
//! header block, frames interleaved in a header block, HPACK errors.
//!
//! Not supported: request bodies' media dissection beyond naming `data-text-lines` / `json`
//! as tshark does, decompression, ALTSVC/ORIGIN/PRIORITY_UPDATE payload fields, gRPC messages
//! inside DATA frames larger than [`MAX_BUFFERED_FRAME`] (counted, not shown).

pub mod frame;
pub mod hpack;

use crate::dissector::{Bind, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser};
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::proto::bytes::{slice, tail, u8_at};
use crate::proto::{data, grpc, http};
use frame::{flags, FrameHeader, FrameType, Padded, Priority, HEADER_LEN, PREFACE};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

/// Frames up to this payload length are handed over whole (the flow engine keeps the bytes
/// until then); longer ones (legal once a peer raises SETTINGS_MAX_FRAME_SIZE, up to 16 MiB)
/// are streamed through without their payload being parsed.
pub const MAX_BUFFERED_FRAME: usize = 65_536;
/// Streams tracked per connection; beyond it the oldest closed stream (else the lowest id) is
/// forgotten (counted in [`Http2Parser::streams_dropped`]). Servers default to 100–250
/// concurrent streams.
pub const MAX_STREAMS: usize = 1024;
/// Body bytes held per connection, all streams together, for the frame that ends each body
/// (tshark shows it reassembled there). A body that does not fit is not shown reassembled.
pub const MAX_HELD_BODIES: usize = 1 << 20;
/// DATA frames listed per body in its `Body fragments` item; a body of more is not shown
/// reassembled.
const MAX_BODY_PIECES: usize = 4096;
/// SETTINGS frames awaiting their ACK, per direction (peers send one or two).
const MAX_PENDING_SETTINGS: usize = 16;
/// Bytes of a request's `:path` kept for naming its gRPC call.
const MAX_PATH: usize = 1024;
/// Header lines reported per fragment (Wireshark's MAX_HTTP2_HEADER_LINES); the rest are
/// still decoded, to keep the table in step.
pub const MAX_HEADER_LINES: usize = 200;

/// The HTTP/2 stream protocol.
pub struct Http2;

impl StreamDissector for Http2 {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    /// No port: like Wireshark, HTTP/2 is found by its preface, by `-d`, or by an HTTP/1
    /// Upgrade.
    fn binds(&self) -> &'static [Bind] {
        &[]
    }

    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        let n = data.len().min(PREFACE.len());
        if data.get(..n) != PREFACE.get(..n) {
            Probe::No
        } else if n < PREFACE.len() {
            Probe::NeedMore
        } else {
            Probe::Yes
        }
    }

    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(Http2Parser::default())
    }
}

/// What a stream's body is, from its `content-type` (Wireshark's media-type table, for the
/// types tshark dissects in our captures' world).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Media {
    #[default]
    None,
    Grpc,
    /// `data-text-lines`, with the media type it shows in the Info column.
    TextLines(&'static str),
    Json(&'static str),
    Other,
}

/// Media types Wireshark's `data-text-lines` registers.
static TEXT_LINES: &[&str] = &[
    "text/plain",
    "text/richtext",
    "text/enriched",
    "text/parameters",
    "text/html",
    "text/xml-external-parsed-entity",
    "text/css",
    "application/xml-external-parsed-entity",
    "text/javascript",
    "application/x-javascript",
    "application/x-tia-p25-issi",
    "application/x-tia-p25-sndcp",
    "application/x-ns-proxy-autoconfig",
    "text/vnd.sun.j2me.app-descriptor",
    "application/vnd.poc.refer-to",
    "application/vnd.drm.message",
    "application/x-wms-logplaystats",
    "application/x-rtsp-udp-packetpair",
];

/// Media types Wireshark's `json` registers.
static JSON: &[&str] = &[
    "application/json",
    "application/json-rpc",
    "application/jsonrequest",
    "application/dds-web+json",
    "application/vnd.oma.lwm2m+json",
];

impl Media {
    /// From a `content-type` value: the media type lowercased, up to `;` or white space.
    fn of(content_type: &[u8]) -> Media {
        let end = content_type
            .iter()
            .position(|&b| b == b';' || b.is_ascii_whitespace())
            .unwrap_or(content_type.len());
        let mt = slice(content_type, 0, end);
        let eq = |s: &&&str| s.as_bytes().eq_ignore_ascii_case(mt);
        let mut lower = [0u8; 64];
        if mt.len() <= lower.len() {
            for (d, s) in lower.iter_mut().zip(mt) {
                *d = s.to_ascii_lowercase();
            }
            if grpc::is_grpc(slice(&lower, 0, mt.len())) {
                return Media::Grpc;
            }
        }
        if let Some(s) = TEXT_LINES.iter().find(eq) {
            Media::TextLines(s)
        } else if let Some(s) = JSON.iter().find(eq) {
            Media::Json(s)
        } else {
            Media::Other
        }
    }
}

/// A value per direction.
#[derive(Debug, Default)]
struct Both<T> {
    to_server: T,
    to_client: T,
}

impl<T> Both<T> {
    fn of(&mut self, dir: Direction) -> &mut T {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }
}

/// One direction of one stream.
#[derive(Debug, Default)]
struct Side {
    /// A HEADERS with `:method` or `:status` was seen (Wireshark reassembles the body then).
    initiated: bool,
    media: Media,
    /// DATA payload bytes (padding excluded).
    body: u64,
    /// The body so far, when it is shown reassembled at its end: held when its media type
    /// is dissected or an output shows the bytes, within [`MAX_HELD_BODIES`].
    held: Vec<u8>,
    /// (frame, bytes) of each DATA frame of the body.
    pieces: Vec<(u64, u32)>,
    /// The body outgrew what is held: not shown reassembled.
    overflow: bool,
    ended: bool,
    reader: grpc::MessageReader,
}

/// The state of a stream (RFC 9113 §5.1), as both endpoints see it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    Idle,
    /// Promised by a PUSH_PROMISE, not yet opened by the server's HEADERS.
    Reserved,
    Open,
    /// One side sent END_STREAM: the direction that finished.
    HalfClosed(Direction),
    Closed,
}

impl StreamState {
    pub fn name(self) -> &'static str {
        match self {
            StreamState::Idle => "idle",
            StreamState::Reserved => "reserved",
            StreamState::Open => "open",
            StreamState::HalfClosed(Direction::ToServer) => "half-closed (client done)",
            StreamState::HalfClosed(Direction::ToClient) => "half-closed (server done)",
            StreamState::Closed => "closed",
        }
    }
}

/// A gRPC call on a stream.
#[derive(Debug, Default)]
struct GrpcCall {
    path: Vec<u8>,
    status: Option<u64>,
    message: Vec<u8>,
    reported: bool,
}

#[derive(Debug, Default)]
struct Stream {
    /// Client to server, server to client.
    sides: Both<Side>,
    opened: bool,
    reserved: bool,
    reset: bool,
    grpc: Option<Box<GrpcCall>>,
}

impl Stream {
    fn state(&self) -> StreamState {
        let (c, s) = (self.sides.to_server.ended, self.sides.to_client.ended);
        match (self.reset, c, s) {
            (true, _, _) | (_, true, true) => StreamState::Closed,
            (_, true, false) => StreamState::HalfClosed(Direction::ToServer),
            (_, false, true) => StreamState::HalfClosed(Direction::ToClient),
            _ if self.opened => StreamState::Open,
            _ if self.reserved => StreamState::Reserved,
            _ => StreamState::Idle,
        }
    }
}

/// A header block awaiting CONTINUATION frames.
#[derive(Debug, Clone, Copy)]
struct Block {
    stream: u32,
    /// From a PUSH_PROMISE (its fields do not describe the stream's own messages).
    push: bool,
    /// Not decoded (its first fragment was too large to hold).
    skip: bool,
}

/// A frame too large to hold, streamed through.
#[derive(Debug, Clone, Copy)]
struct Passing {
    header: FrameHeader,
    /// Stream offset of its header.
    at: u64,
    /// Payload bytes seen so far.
    done: u32,
    oversize: bool,
    pad: Option<u8>,
}

/// One direction of the connection.
#[derive(Debug)]
struct Dir {
    seen: bool,
    hpack: hpack::Decoder,
    /// The largest frame this direction may send: the receiver's SETTINGS_MAX_FRAME_SIZE.
    max_frame: u32,
    block: Option<Block>,
    passing: Option<Passing>,
    /// A capture gap made frame boundaries unknown: the rest of the direction is ignored.
    lost: bool,
    /// SETTINGS_HEADER_TABLE_SIZE of SETTINGS this direction sent that await the peer's ACK.
    settings: VecDeque<Option<(u32, u32)>>,
    /// Stream offset of the frame last left incomplete (`NeedMore`): a call that starts there
    /// again continues it rather than beginning it.
    declined_at: Option<u64>,
}

impl Default for Dir {
    fn default() -> Self {
        Dir {
            seen: false,
            hpack: hpack::Decoder::new(),
            max_frame: frame::DEFAULT_MAX_FRAME_SIZE,
            block: None,
            passing: None,
            lost: false,
            settings: VecDeque::new(),
            declined_at: None,
        }
    }
}

/// Per-packet emission state: the first PDU of a packet opens the layer and clears the Info
/// column, later ones append.
#[derive(Debug, Default)]
struct Packet {
    frame: Option<u64>,
    emit: bool,
    /// The last PDU of this packet was a gRPC message (tshark's Protocol column then reads
    /// `GRPC`, and `GRPCHTTP2` once another HTTP/2 frame follows).
    grpc_last: bool,
}

/// Facts gathered from one header block, and reusable buffers.
#[derive(Debug, Default)]
struct Work {
    method: Option<Vec<u8>>,
    path: Option<Vec<u8>>,
    status: Option<Vec<u8>>,
    status_seen: bool,
    content_type: Option<Vec<u8>>,
    grpc_status: Option<u64>,
    grpc_message: Option<Vec<u8>>,
    pair_shown: bool,
    /// Per fragment.
    count: u32,
    length: u64,
    lines: usize,
    text: String,
    unescaped: Vec<u8>,
    /// A block's items held for a tree (see `header_block`), kept for their capacity.
    held: Vec<Held>,
}

/// One item of a header block, held until the block is decoded.
#[derive(Debug)]
enum Held {
    Size(u32, (usize, usize)),
    Field(Vec<u8>, Vec<u8>, hpack::Repr, u32, (usize, usize)),
}

/// A dynamic table size update of a header block.
fn size_update(c: &mut crate::Cx<'_>, size: u32, encoded: (usize, usize), at: u64) {
    let sp = span(at + encoded.0 as u64, encoded.1);
    c.field(&HEADER_TABLE_SIZE_UPDATE, sp, Value::None);
    c.sink.open();
    c.field(&HEADER_TABLE_SIZE, sp, Value::U(u64::from(size)));
    c.sink.close();
}

impl Work {
    fn reset_block(&mut self) {
        for v in [
            &mut self.method,
            &mut self.path,
            &mut self.status,
            &mut self.content_type,
            &mut self.grpc_message,
        ] {
            if let Some(b) = v.as_mut() {
                b.clear();
            }
            *v = None;
        }
        self.grpc_status = None;
        self.pair_shown = false;
        self.status_seen = false;
    }
}

/// One HTTP/2 connection's parser.
#[derive(Debug, Default)]
pub struct Http2Parser {
    dirs: Both<Dir>,
    streams: HashMap<u32, Stream>,
    pkt: Packet,
    work: Work,
    /// Streams forgotten because of [`MAX_STREAMS`].
    pub streams_dropped: u64,
    /// gRPC messages inside DATA frames too large to hold, counted but not shown.
    pub grpc_unshown: u64,
    /// Bytes in the streams' `Side::held`.
    held_bodies: usize,
}

impl StreamParser for Http2Parser {
    fn data(&mut self, dir: Direction, bytes: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        let mut pos = 0usize;
        loop {
            if self.dirs.of(dir).lost {
                return Progress::Done;
            }
            let at = cx.stream_offset + pos as u64;
            if self.dirs.of(dir).passing.is_some() {
                pos += self.pass(dir, tail(bytes, pos), at, cx);
                if self.dirs.of(dir).passing.is_some() {
                    return Progress::Done;
                }
                continue;
            }
            let rest = tail(bytes, pos);
            if rest.is_empty() {
                return Progress::Done;
            }
            // The preface may come first (RFC 9113 §3.4); Wireshark accepts it anywhere.
            let n = rest.len().min(PREFACE.len());
            if rest.get(..n) == PREFACE.get(..n) {
                if n < PREFACE.len() {
                    return Progress::NeedMore {
                        consumed: pos,
                        needed: PREFACE.len() - n,
                    };
                }
                self.first_bytes(dir, true);
                self.magic(at, cx);
                pos += PREFACE.len();
                continue;
            }
            let Some(h) = FrameHeader::parse(rest) else {
                self.only_begins_pdu(dir, pos, cx);
                return Progress::NeedMore {
                    consumed: pos,
                    needed: HEADER_LEN - rest.len(),
                };
            };
            self.first_bytes(
                dir,
                dir == Direction::ToClient && h.ftype == FrameType::SETTINGS && !h.has(flags::ACK),
            );
            let total = h.total_len();
            let oversize = h.length > self.dirs.of(dir).max_frame;
            if let Some(payload) = rest.get(HEADER_LEN..total) {
                self.frame(dir, h, payload, at, oversize, cx);
                pos += total;
                continue;
            }
            if oversize || h.length as usize > MAX_BUFFERED_FRAME {
                let pad = if h.has(flags::PADDED) && h.paddable() {
                    rest.get(HEADER_LEN).copied()
                } else {
                    None
                };
                self.dirs.of(dir).passing = Some(Passing {
                    header: h,
                    at,
                    done: 0,
                    oversize,
                    pad,
                });
                pos += HEADER_LEN;
                continue;
            }
            self.only_begins_pdu(dir, pos, cx);
            return Progress::NeedMore {
                consumed: pos,
                needed: total - rest.len(),
            };
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) {
        if let Some(p) = self.dirs.of(dir).passing.as_mut() {
            let left = u64::from(p.header.length - p.done);
            if len < left && p.header.ftype == FrameType::DATA {
                // Inside a DATA payload: the framing survives; only body bytes are lost.
                p.done += len as u32;
                if let Some(s) = self.streams.get_mut(&p.header.stream_id) {
                    s.sides.of(dir).reader = grpc::MessageReader::default();
                }
                return;
            }
        }
        // Frame boundaries are lost, and with them what the lost header blocks inserted.
        let dir_state = &mut self.dirs.of(dir);
        dir_state.lost = true;
        dir_state.passing = None;
        dir_state.block = None;
        dir_state.hpack.lose_sync();
    }
}

impl Http2Parser {
    /// The bytes given (from `pos` on) only begin an HTTP/2 frame: when nothing was shown for
    /// this packet yet, tshark's HTTP/2 dissector has cleared the Info column, and TCP then
    /// writes its "[TCP segment of a reassembled PDU]" note there alone, under Protocol `TCP`.
    /// (A frame that only continues one, given again with more bytes, keeps TCP's Info.)
    fn only_begins_pdu(&mut self, dir: Direction, pos: usize, cx: &mut StreamCx<'_, '_>) {
        let at = cx.stream_offset + pos as u64;
        let again = self.dirs.of(dir).declined_at.replace(at) == Some(at);
        if !again && pos == 0 && self.pkt.frame != Some(cx.frame) {
            let _ = cx.cx.info("TCP");
        }
    }

    /// The first bytes of a direction decide whether its start was captured.
    fn first_bytes(&mut self, dir: Direction, start: bool) {
        let dir = self.dirs.of(dir);
        if dir.seen {
            return;
        }
        dir.seen = true;
        if !start {
            dir.hpack = hpack::Decoder::mid_connection();
            dir.max_frame = frame::MAX_MAX_FRAME_SIZE;
        }
    }

    /// The stream's entry, created on first use (dropping the oldest beyond the cap).
    fn stream(&mut self, id: u32) -> &mut Stream {
        if !self.streams.contains_key(&id) && self.streams.len() >= MAX_STREAMS {
            let victim = self
                .streams
                .iter()
                .filter(|(_, s)| s.state() == StreamState::Closed)
                .map(|(&k, _)| k)
                .min()
                .or_else(|| self.streams.keys().copied().min());
            if let Some(v) = victim {
                if let Some(gone) = self.streams.remove(&v) {
                    let held = gone.sides.to_server.held.len() + gone.sides.to_client.held.len();
                    self.held_bodies = self.held_bodies.saturating_sub(held);
                }
                self.streams_dropped += 1;
            }
        }
        self.streams.entry(id).or_default()
    }

    /// The state of stream `id` (idle when unknown).
    pub fn stream_state(&self, id: u32) -> StreamState {
        self.streams
            .get(&id)
            .map_or(StreamState::Idle, Stream::state)
    }

    /// Starts one HTTP/2 PDU of the current packet: opens the layer and the Info item.
    fn begin(&mut self, span: Span, cx: &mut StreamCx<'_, '_>) {
        if self.pkt.frame != Some(cx.frame) {
            self.pkt.frame = Some(cx.frame);
            self.pkt.grpc_last = false;
            self.pkt.emit = cx.cx.layer(&PROTO, span);
            let _ = cx.cx.info("HTTP2");
        } else {
            if self.pkt.emit {
                // Each HTTP/2 frame is a tree of its own.
                cx.cx.sink.layer_apart(&PROTO, span);
            }
            if self.pkt.grpc_last {
                self.pkt.grpc_last = false;
                if let Some(cols) = cx.cx.cols.as_deref_mut() {
                    cols.protocol = "GRPCHTTP2";
                }
            }
            if let Some(cols) = cx.cx.cols.as_deref_mut() {
                if !cols.info.is_empty() {
                    cols.info.push_str(", ");
                }
            }
        }
    }

    fn magic(&mut self, at: u64, cx: &mut StreamCx<'_, '_>) {
        let span = span(at, PREFACE.len());
        crate::proto::tcp::pdu_size(cx.cx, PREFACE.len());
        self.begin(span, cx);
        if self.pkt.emit {
            // The frame's items sit under `Stream: …`, as in tshark's tree (the subtree ends
            // with the layer).
            cx.cx
                .field_shown(&STREAM, span, Value::None, |t| t.push_str("Magic"));
            cx.cx.sink.open();
            cx.cx.field(&MAGIC, span, Value::Text(PREFACE));
        }
        info(cx, format_args!("Magic"));
    }

    /// Streams a frame too large to hold; returns the bytes used.
    fn pass(&mut self, dir: Direction, bytes: &[u8], at: u64, cx: &mut StreamCx<'_, '_>) -> usize {
        let Some(mut p) = self.dirs.of(dir).passing else {
            return 0;
        };
        let left = (p.header.length - p.done) as usize;
        let take = left.min(bytes.len());
        if p.header.ftype == FrameType::DATA && take > 0 {
            if p.done == 0 && p.header.has(flags::PADDED) {
                p.pad = bytes.first().copied();
            }
            let body_start = usize::from(p.pad.is_some());
            let body_end = (p.header.length as usize).saturating_sub(usize::from(p.pad.unwrap_or(0)));
            let from = (p.done as usize).max(body_start);
            let to = (p.done as usize + take).min(body_end);
            if from < to {
                let chunk = slice(bytes, from - p.done as usize, to - p.done as usize);
                let s = self.stream(p.header.stream_id);
                let side = &mut s.sides.of(dir);
                side.body += chunk.len() as u64;
                if side.media == Media::Grpc {
                    let mut n = 0;
                    side.reader.feed(chunk, |_| n += 1);
                    self.grpc_unshown += n;
                }
            }
        }
        p.done += take as u32;
        self.dirs.of(dir).passing = Some(p);
        if p.done < p.header.length {
            return take;
        }
        self.dirs.of(dir).passing = None;
        let _ = at;
        self.frame_header(dir, p.header, p.at, cx);
        if p.oversize {
            self.malformed(p.at, "frame larger than SETTINGS_MAX_FRAME_SIZE", cx);
        }
        match p.header.ftype {
            FrameType::HEADERS | FrameType::PUSH_PROMISE | FrameType::CONTINUATION => {
                // Its header block was not read: whatever it inserted is unknown.
                let dir_state = &mut self.dirs.of(dir);
                dir_state.hpack.lose_sync();
                dir_state.block = if p.header.has(flags::END_HEADERS) {
                    None
                } else {
                    Some(Block {
                        stream: p.header.stream_id,
                        push: p.header.ftype == FrameType::PUSH_PROMISE,
                        skip: true,
                    })
                };
                note(cx, p.at, "header block too large to hold: not decoded");
            }
            FrameType::DATA if p.header.has(flags::END_STREAM) => {
                self.end_stream(dir, p.header.stream_id, cx, None);
            }
            _ => {}
        }
        take
    }

    /// The flags a frame type defines, high bit first, with the names tshark lists after the
/// Flags value (`Flags: 0x25, Priority, End Headers, End Stream`).
fn flag_names(t: FrameType) -> &'static [(u8, &'static str)] {
    match t {
        FrameType::DATA => &[(flags::PADDED, "Padded"), (flags::END_STREAM, "End Stream")],
        FrameType::HEADERS => &[
            (flags::PRIORITY, "Priority"),
            (flags::PADDED, "Padded"),
            (flags::END_HEADERS, "End Headers"),
            (flags::END_STREAM, "End Stream"),
        ],
        FrameType::PUSH_PROMISE => &[(flags::PADDED, "Padded"), (flags::END_HEADERS, "End Headers")],
        FrameType::CONTINUATION => &[(flags::END_HEADERS, "End Headers")],
        FrameType::SETTINGS | FrameType::PING => &[(flags::ACK, "ACK")],
        _ => &[],
    }
}

/// The fields every frame has, and its Info item.
    fn frame_header(&mut self, dir: Direction, h: FrameHeader, at: u64, cx: &mut StreamCx<'_, '_>) {
        let _ = dir;
        crate::proto::tcp::pdu_size(cx.cx, h.total_len());
        self.begin(span(at, h.total_len()), cx);
        if self.pkt.emit {
            let c = &mut *cx.cx;
            let b = |o: u64, n: usize| span(at + o, n);
            // The frame's items sit under `Stream: SETTINGS, Stream ID: 0, Length 12`, as in
            // tshark's tree (the subtree ends with the layer).
            c.field_shown(&STREAM, span(at, h.total_len()), Value::None, |t| {
                match h.ftype.name() {
                    Some(name) => t.push_str(name),
                    None => {
                        let _ = write!(t, "Unknown type ({})", h.ftype.0);
                    }
                }
                let _ = write!(t, ", Stream ID: {}, Length {}", h.stream_id, h.length);
            });
            c.sink.open();
            c.field(&LENGTH, b(0, 3), Value::U(u64::from(h.length)));
            c.field(&TYPE, b(3, 1), Value::U(u64::from(h.ftype.0)));
            c.field_shown(&FLAGS, b(4, 1), Value::U(u64::from(h.flags)), |t| {
                let _ = write!(t, "0x{:02x}", h.flags);
                for (mask, name) in Self::flag_names(h.ftype) {
                    if h.flags & mask != 0 {
                        let _ = write!(t, ", {name}");
                    }
                }
            });
            c.sink.open();
            let fl = |c: &mut crate::Cx<'_>, def: &'static FieldDef, mask: u8| {
                if def.kind == Kind::Bool {
                    c.field(def, b(4, 1), Value::Bool(h.flags & mask != 0));
                } else {
                    // Masked fields hold the value shifted down, as Wireshark stores them. The bits
            // are listed from the high one down, as in tshark's tree.
                    let v = (h.flags & mask) >> mask.trailing_zeros();
                    c.field(def, b(4, 1), Value::U(u64::from(v)));
                }
            };
            match h.ftype {
                FrameType::DATA => {
                    fl(c, &FLAG_UNUSED_DATA, 0xf6);
                    fl(c, &FLAG_PADDED, flags::PADDED);
                    fl(c, &FLAG_END_STREAM, flags::END_STREAM);
                }
                FrameType::HEADERS => {
                    fl(c, &FLAG_UNUSED_HEADERS, 0xd2);
                    fl(c, &FLAG_PRIORITY, flags::PRIORITY);
                    fl(c, &FLAG_PADDED, flags::PADDED);
                    fl(c, &FLAG_EH, flags::END_HEADERS);
                    fl(c, &FLAG_END_STREAM, flags::END_STREAM);
                }
                FrameType::SETTINGS => {
                    fl(c, &FLAG_UNUSED_SETTINGS, 0xfe);
                    fl(c, &FLAG_ACK_SETTINGS, flags::ACK);
                }
                FrameType::PUSH_PROMISE => {
                    fl(c, &FLAG_UNUSED_PUSH_PROMISE, 0xf3);
                    fl(c, &FLAG_PADDED, flags::PADDED);
                    fl(c, &FLAG_EH, flags::END_HEADERS);
                }
                FrameType::CONTINUATION => {
                    fl(c, &FLAG_UNUSED_CONTINUATION, 0xfb);
                    fl(c, &FLAG_EH, flags::END_HEADERS);
                }
                FrameType::PING => {
                    fl(c, &FLAG_UNUSED_PING, 0xfe);
                    fl(c, &FLAG_ACK_PING, flags::ACK);
                }
                _ => fl(c, &FLAG_UNUSED, 0xff),
            }
            c.sink.close();
            c.field(&R, b(5, 4), Value::U(u64::from(h.reserved)));
            c.field(&STREAMID, b(5, 4), Value::U(u64::from(h.stream_id)));
        }
        match h.ftype.name() {
            Some(name) => info(cx, format_args!("{name}[{}]", h.stream_id)),
            None => info(
                cx,
                format_args!("Unknown type ({})[{}]", h.ftype.0, h.stream_id),
            ),
        }
    }

    /// Records a malformed frame: `_ws.malformed` in `frame.protocols`, the reason, and the
    /// Info column's `[Malformed Packet]`. Parsing goes on at the next frame.
    fn malformed(&mut self, at: u64, reason: &'static str, cx: &mut StreamCx<'_, '_>) {
        cx.cx.protocols.push("_ws.malformed");
        if cx.cx.wants(&data::MALFORMED) {
            cx.cx.sink.layer(&data::MALFORMED, span(at, 0));
            cx.cx
                .sink
                .field(&data::MALFORMED_REASON, Span::GENERATED, Value::Str(reason));
        }
        if let Some(cols) = cx.cx.cols.as_deref_mut() {
            let _ = write!(cols.info, " [Malformed Packet: HTTP2: {reason}]");
        }
        // Re-enter the layer so fields that follow belong to HTTP/2 again.
        if self.pkt.emit {
            cx.cx.sink.layer(&PROTO, span(at, 0));
        }
    }

    /// One whole frame: `payload` follows the header at stream offset `at`.
    fn frame(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        at: u64,
        oversize: bool,
        cx: &mut StreamCx<'_, '_>,
    ) {
        let p_at = at + HEADER_LEN as u64;
        self.frame_header(dir, h, at, cx);
        if oversize {
            self.malformed(at, "frame larger than SETTINGS_MAX_FRAME_SIZE", cx);
        }
        // RFC 9113 §6.10: nothing may interleave a header block.
        if let Some(b) = self.dirs.of(dir).block {
            if h.ftype != FrameType::CONTINUATION || h.stream_id != b.stream {
                self.dirs.of(dir).block = None;
                self.dirs.of(dir).hpack.lose_sync();
                self.malformed(at, "frame interleaved in a header block", cx);
            }
        }
        if let Some(n) = frame::fixed_len(h.ftype) {
            if payload.len() != n {
                self.malformed(at, "frame length wrong for its type", cx);
                return;
            }
        }
        let emit = self.pkt.emit;
        match h.ftype {
            FrameType::DATA => {
                let Some(p) = Padded::split(payload, h.has(flags::PADDED), 0) else {
                    self.malformed(at, "padding longer than the frame", cx);
                    return;
                };
                if emit {
                    self.pad_fields(p, p_at, cx);
                }
                self.data_frame(dir, h, p, p_at, cx);
            }
            FrameType::HEADERS => {
                let prio = h.has(flags::PRIORITY);
                let Some(p) = Padded::split(payload, h.has(flags::PADDED), if prio { 5 } else { 0 })
                else {
                    self.malformed(at, "padding longer than the frame", cx);
                    return;
                };
                if emit {
                    self.pad_fields(p, p_at, cx);
                    if prio {
                        let o = usize::from(p.pad_len.is_some());
                        prio_fields(Priority::read(payload, o), p_at + o as u64, cx);
                    }
                    cx.cx.field(&HEADERS, span(p_at + p.body_at as u64, p.body.len()), Value::Bytes(p.body));
                }
                let s = self.stream(h.stream_id);
                s.opened = true;
                self.work.reset_block();
                self.header_block(dir, h, p.body, p_at + p.body_at as u64, false, cx);
                if emit && !p.padding.is_empty() {
                    let o = p_at + (payload.len() - p.padding.len()) as u64;
                    cx.cx.field(&HEADERS_PADDING, span(o, p.padding.len()), Value::Bytes(p.padding));
                }
                if h.has(flags::END_STREAM) {
                    self.end_stream(dir, h.stream_id, cx, None);
                }
            }
            FrameType::PRIORITY => {
                if emit {
                    prio_fields(Priority::read(payload, 0), p_at, cx);
                }
            }
            FrameType::RST_STREAM => {
                if emit {
                    let code = crate::proto::bytes::be32(payload, 0);
                    cx.cx.field(&RST_STREAM_ERROR, span(p_at, 4), Value::U(u64::from(code)));
                }
                self.stream(h.stream_id).reset = true;
            }
            FrameType::SETTINGS => self.settings(dir, h, payload, p_at, cx),
            FrameType::PUSH_PROMISE => {
                let Some(p) = Padded::split(payload, h.has(flags::PADDED), 4) else {
                    self.malformed(at, "padding longer than the frame", cx);
                    return;
                };
                let o = usize::from(p.pad_len.is_some());
                let (r, promised) = frame::u31(payload, o);
                if emit {
                    self.pad_fields(p, p_at, cx);
                    let sp = span(p_at + o as u64, 4);
                    cx.cx.field(&PUSH_PROMISE_R, sp, Value::U(u64::from(r)));
                    cx.cx.field(&PUSH_PROMISE_ID, sp, Value::U(u64::from(promised)));
                    cx.cx.field(&PUSH_PROMISE_HEADER, span(p_at + p.body_at as u64, p.body.len()), Value::Bytes(p.body));
                }
                self.stream(promised).reserved = true;
                self.work.reset_block();
                self.header_block(dir, h, p.body, p_at + p.body_at as u64, true, cx);
                if emit && !p.padding.is_empty() {
                    let o = p_at + (payload.len() - p.padding.len()) as u64;
                    cx.cx.field(&PUSH_PROMISE_PADDING, span(o, p.padding.len()), Value::Bytes(p.padding));
                }
            }
            FrameType::PING => {
                if emit {
                    let def = if h.has(flags::ACK) { &PONG } else { &PING };
                    cx.cx.field(def, span(p_at, 8), Value::Bytes(payload));
                }
            }
            FrameType::GOAWAY => {
                if payload.len() < 8 {
                    self.malformed(at, "GOAWAY shorter than 8 bytes", cx);
                    return;
                }
                if emit {
                    let (r, last) = frame::u31(payload, 0);
                    let code = crate::proto::bytes::be32(payload, 4);
                    cx.cx.field(&GOAWAY_R, span(p_at, 4), Value::U(u64::from(r)));
                    cx.cx.field(&GOAWAY_LAST_STREAM_ID, span(p_at, 4), Value::U(u64::from(last)));
                    cx.cx.field(&GOAWAY_ERROR, span(p_at + 4, 4), Value::U(u64::from(code)));
                    let extra = tail(payload, 8);
                    if !extra.is_empty() {
                        cx.cx.field(&GOAWAY_ADDATA, span(p_at + 8, extra.len()), Value::Bytes(extra));
                    }
                }
            }
            FrameType::WINDOW_UPDATE => {
                if emit {
                    let (r, inc) = frame::u31(payload, 0);
                    cx.cx.field(&WINDOW_UPDATE_R, span(p_at, 4), Value::U(u64::from(r)));
                    cx.cx.field(&WINDOW_UPDATE_INCREMENT, span(p_at, 4), Value::U(u64::from(inc)));
                }
            }
            FrameType::CONTINUATION => {
                let Some(b) = self.dirs.of(dir).block.filter(|b| b.stream == h.stream_id) else {
                    self.malformed(at, "CONTINUATION without HEADERS", cx);
                    return;
                };
                if emit {
                    let v = ascii(payload, &mut self.work.text);
                    cx.cx.field(&CONTINUATION_HEADER, span(p_at, payload.len()), v);
                }
                if b.skip {
                    if h.has(flags::END_HEADERS) {
                        self.dirs.of(dir).block = None;
                    }
                    note(cx, at, "header block not decoded");
                    return;
                }
                let mut hh = h;
                if b.push {
                    hh.ftype = FrameType::PUSH_PROMISE;
                }
                self.header_block(dir, hh, payload, p_at, b.push, cx);
            }
            FrameType::ALTSVC
            | FrameType::BLOCKED
            | FrameType::ORIGIN
            | FrameType::PRIORITY_UPDATE => {}
            _ => {
                if emit {
                    cx.cx.field(&UNKNOWN, span(p_at, payload.len()), Value::Bytes(payload));
                }
            }
        }
    }

    fn pad_fields(&mut self, p: Padded<'_>, p_at: u64, cx: &mut StreamCx<'_, '_>) {
        if let Some(n) = p.pad_len {
            cx.cx.field(&PADDING, span(p_at, 1), Value::U(u64::from(n)));
        }
        // Without the PADDED flag the length is implied: tshark shows it generated.
        let sp = if p.pad_len.is_some() { span(p_at, 1) } else { Span::GENERATED };
        cx.cx.field(&PAD_LENGTH, sp, Value::U(u64::from(p.pad_len.unwrap_or(0))));
    }

    fn settings(&mut self, dir: Direction, h: FrameHeader, payload: &[u8], p_at: u64, cx: &mut StreamCx<'_, '_>) {
        if payload.len() % 6 != 0 {
            self.malformed(p_at - HEADER_LEN as u64, "SETTINGS length not a multiple of 6", cx);
            return;
        }
        if h.has(flags::ACK) {
            // The peer's pending SETTINGS take effect for this direction's encoder.
            if let Some(Some((min, last))) = self.dirs.of(dir.reverse()).settings.pop_front() {
                if min < last {
                    self.dirs.of(dir).hpack.settings_table_size(min);
                }
                self.dirs.of(dir).hpack.settings_table_size(last);
            }
            return;
        }
        let mut table: Option<(u32, u32)> = None;
        for (o, s) in frame::settings(payload) {
            if self.pkt.emit {
                setting_items(cx.cx, p_at + o as u64, s);
            }
            match s.id {
                frame::settings::HEADER_TABLE_SIZE => {
                    let min = table.map_or(s.value, |(m, _)| m.min(s.value));
                    table = Some((min, s.value));
                }
                frame::settings::MAX_FRAME_SIZE
                    if (frame::DEFAULT_MAX_FRAME_SIZE..=frame::MAX_MAX_FRAME_SIZE)
                        .contains(&s.value) =>
                {
                    // What this side accepts bounds what the other side sends.
                    self.dirs.of(dir.reverse()).max_frame = s.value;
                }
                _ => {}
            }
        }
        let q = &mut self.dirs.of(dir).settings;
        if q.len() >= MAX_PENDING_SETTINGS {
            q.pop_front();
        }
        q.push_back(table);
    }

    /// Decodes one fragment of a header block and reports its fields. `push`: the block of a
    /// PUSH_PROMISE (its fields describe the promised request, not this stream's messages).
    fn header_block(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        fragment: &[u8],
        at: u64,
        push: bool,
        cx: &mut StreamCx<'_, '_>,
    ) {
        let end = h.has(flags::END_HEADERS);
        self.dirs.of(dir).block = (!end).then_some(Block {
            stream: h.stream_id,
            push,
            skip: false,
        });
        let emit = self.pkt.emit;
        let Http2Parser { dirs, work, .. } = self;
        work.count = 0;
        work.length = 0;
        work.lines = 0;
        let c = &mut *cx.cx;
        // A tree shows the block's length and count before its fields: they are held (copied)
        // until the block is decoded. Other outputs take them as they come.
        let tree = emit && c.wants_text();
        // The request's full URI (a tree item, and a field `-T fields` may ask for).
        let want_uri = tree || (emit && c.wants_field(&FULL_URI));
        let mut held = std::mem::take(&mut work.held);
        held.clear();
        let mut authority: Option<Vec<u8>> = None;
        let mut scheme: Option<Vec<u8>> = None;
        let result = dirs.of(dir).hpack.decode(fragment, end, &mut |ev| match ev {
            hpack::Event::SizeUpdate { size, encoded } => {
                work.count += 1;
                if tree {
                    held.push(Held::Size(size, encoded));
                } else if emit {
                    size_update(c, size, encoded, at);
                }
            }
            hpack::Event::Field(f) => {
                work.count += 1;
                work.length += 8 + f.name.len() as u64 + f.value.len() as u64;
                work.lines += 1;
                if emit && work.lines <= MAX_HEADER_LINES {
                    if tree {
                        held.push(Held::Field(f.name.to_vec(), f.value.to_vec(), f.repr, f.index, f.encoded));
                    } else {
                        header_field(c, &f, at, work);
                    }
                }
                if want_uri {
                    match f.name {
                        b":authority" => authority = Some(f.value.to_vec()),
                        b"host" if authority.is_none() => authority = Some(f.value.to_vec()),
                        b":scheme" => scheme = Some(f.value.to_vec()),
                        _ => {}
                    }
                }
                gather(work, &f);
            }
        });
        if emit && work.count > 0 {
            c.field(&HEADER_LENGTH, Span::GENERATED, Value::U(work.length));
            c.field(&HEADER_COUNT, Span::GENERATED, Value::U(u64::from(work.count)));
        }
        for h in held.drain(..) {
            match h {
                Held::Size(size, encoded) => size_update(c, size, encoded, at),
                Held::Field(name, value, repr, index, encoded) => {
                    let f = hpack::Field {
                        name: &name,
                        value: &value,
                        repr,
                        index,
                        encoded,
                    };
                    header_field(c, &f, at, work);
                }
            }
        }
        work.held = held;
        if want_uri && !push {
            // tshark's `Stream:` line names the request or the response, and a request's
            // full URI follows its fields.
            if let (Some(m), Some(p)) = (&work.method, &work.path) {
                c.append_open(|t| {
                    t.push_str(", ");
                    push_lossy(t, m);
                    t.push(' ');
                    push_lossy(t, p);
                });
                if let (Some(s), Some(a)) = (&scheme, &authority) {
                    let mut uri = s.clone();
                    uri.extend_from_slice(b"://");
                    uri.extend_from_slice(a);
                    uri.extend_from_slice(p);
                    c.field(&FULL_URI, Span::GENERATED, Value::Text(&uri));
                }
            } else if let Some(st) = &work.status {
                let code = std::str::from_utf8(st).ok().and_then(|s| s.parse::<u64>().ok());
                c.append_open(|t| {
                    t.push_str(", ");
                    push_lossy(t, st);
                    let name = crate::proto::http::fields::status_name(code.unwrap_or(0));
                    let _ = write!(t, " {}", name.unwrap_or("Unknown"));
                });
            }
        }
        if let Err(e) = result {
            if e.is_malformed() {
                self.malformed(at, e.reason(), cx);
            } else {
                note(cx, at, e.reason());
            }
        }
        // tshark's Info: `HEADERS[1]: GET /path`, `HEADERS[1]: 200 OK`.
        let w = &mut self.work;
        if !w.pair_shown {
            if let (Some(m), Some(p)) = (&w.method, &w.path) {
                w.pair_shown = true;
                if let Some(cols) = cx.cx.cols.as_deref_mut() {
                    cols.info.push_str(": ");
                    push_lossy(&mut cols.info, m);
                    cols.info.push(' ');
                    push_lossy(&mut cols.info, p);
                }
            }
        }
        if let Some(st) = w.status.take() {
            if let Some(cols) = cx.cx.cols.as_deref_mut() {
                cols.info.push_str(": ");
                push_lossy(&mut cols.info, &st);
                let code = std::str::from_utf8(&st).ok().and_then(|s| s.parse::<u64>().ok());
                let _ = write!(cols.info, " {}", crate::proto::http::fields::status_name(code.unwrap_or(0)).unwrap_or("Unknown"));
            }
        }
        if !push {
            self.apply_block(dir, h.stream_id);
        }
    }

    /// Stream bookkeeping from a block's facts (Wireshark's `populate_http_header_tracking`).
    fn apply_block(&mut self, dir: Direction, id: u32) {
        let method = self.work.method.is_some();
        let status = self.work.status_seen;
        let media = self.work.content_type.as_deref().map(Media::of);
        // Only a request's path names a call (one small copy per request block).
        let path = if dir == Direction::ToServer {
            self.work.path.clone()
        } else {
            None
        };
        let grpc_status = self.work.grpc_status;
        let grpc_message = self.work.grpc_message.take();
        let s = self.stream(id);
        let side = &mut s.sides.of(dir);
        if method || status {
            side.initiated = true;
        }
        if let Some(m) = media {
            if side.media == Media::None {
                side.media = m;
            }
        }
        if dir == Direction::ToServer && side.media == Media::Grpc && s.grpc.is_none() {
            let mut call = GrpcCall::default();
            if let Some(p) = path {
                call.path = p;
                call.path.truncate(MAX_PATH);
            }
            s.grpc = Some(Box::new(call));
        }
        if let Some(call) = s.grpc.as_mut() {
            if dir == Direction::ToClient {
                if grpc_status.is_some() {
                    call.status = grpc_status;
                }
                if let Some(m) = grpc_message {
                    call.message = m;
                    call.message.truncate(MAX_PATH);
                }
            }
        }
    }

    fn data_frame(&mut self, dir: Direction, h: FrameHeader, p: Padded<'_>, p_at: u64, cx: &mut StreamCx<'_, '_>) {
        let emit = self.pkt.emit;
        let body_at = p_at + p.body_at as u64;
        // Whether the body's bytes are wanted at its end: its media type is dissected, or an
        // output shows them.
        let keep_bytes = cx.cx.wants_text() || cx.cx.wants_field(&DATA_DATA);
        let mut held_bodies = self.held_bodies;
        let s = self.stream(h.stream_id);
        let side = &mut s.sides.of(dir);
        let before = side.body;
        side.body += p.body.len() as u64;
        let media = side.media;
        let ends = h.has(flags::END_STREAM);
        // tshark reassembles the body of a request or response (not gRPC's, which its own
        // dissector reads message by message) and shows it on the frame that ends it.
        let reassembling = side.initiated && media != Media::Grpc;
        if reassembling && !side.overflow && (before > 0 || !ends) {
            let hold = keep_bytes || matches!(media, Media::Json(_) | Media::TextLines(_));
            if side.pieces.len() >= MAX_BODY_PIECES
                || (hold && held_bodies + p.body.len() > MAX_HELD_BODIES)
            {
                side.overflow = true;
                held_bodies = held_bodies.saturating_sub(side.held.len());
                side.held = Vec::new();
                side.pieces = Vec::new();
            } else if !p.body.is_empty() {
                // An empty DATA frame (often the one that ends the stream) is no fragment.
                side.pieces.push((cx.frame, u32::try_from(p.body.len()).unwrap_or(u32::MAX)));
                if hold {
                    side.held.extend_from_slice(p.body);
                    held_bodies += p.body.len();
                }
            }
        }
        // http2.data.data is this frame's payload, except where tshark shows the reassembled
        // body instead (the END_STREAM frame of a body spread over several frames).
        let reassembled = reassembling && ends && before > 0;
        if emit && reassembling && !ends && !p.body.is_empty() {
            cx.cx.append_open(|t| t.push_str(" (partial entity body)"));
        }
        if emit && !reassembled {
            // A body a dissector reads (gRPC here) is 'DATA payload (N bytes)' in tshark's tree.
            let n = p.body.len();
            if media == Media::Grpc {
                cx.cx.field_line(&DATA_DATA, span(body_at, n), Value::Bytes(p.body), |t| {
                    let _ = write!(t, "DATA payload ({n} bytes)");
                });
            } else {
                cx.cx.field(&DATA_DATA, span(body_at, n), Value::Bytes(p.body));
            }
        }
        if emit && !p.padding.is_empty() {
            let o = body_at + p.body.len() as u64;
            cx.cx.field(&DATA_PADDING, span(o, p.padding.len()), Value::Bytes(p.padding));
        }
        let mut reader = side.reader;
        self.held_bodies = held_bodies;
        if media == Media::Grpc {
            // The call's path, for the trees' titles (a copy, for trees only).
            let path = if cx.cx.wants_text() {
                self.stream(h.stream_id).grpc.as_ref().map(|c| c.path.clone())
            } else {
                None
            };
            let call = path.as_deref().map(|p| (p, dir == Direction::ToServer));
            let pkt = &mut self.pkt;
            reader.feed(p.body, |grpc::Piece::Message { header, body }| {
                let body = body.map(|(s, n)| (slice(p.body, s, s + n), body_at + s as u64));
                grpc_message(cx, pkt, header, body, call);
            });
            self.stream(h.stream_id).sides.of(dir).reader = reader;
        }
        if !ends {
            return;
        }
        if !reassembled {
            self.end_stream(dir, h.stream_id, cx, Some((p.body, body_at)));
            return;
        }
        let side = &mut self.stream(h.stream_id).sides.of(dir);
        let held = std::mem::take(&mut side.held);
        let pieces = std::mem::take(&mut side.pieces);
        let shown = !side.overflow && held.len() as u64 == side.body;
        self.held_bodies = self.held_bodies.saturating_sub(held.len());
        if !shown {
            self.end_stream(dir, h.stream_id, cx, None);
            return;
        }
        if emit {
            body_fragments(cx.cx, &pieces, &held);
            // The reassembled body is a buffer of its own: its items' offsets are in it.
            cx.cx.field(&DATA_DATA, Span::new(0, held.len()), Value::Bytes(&held));
        }
        self.end_stream(dir, h.stream_id, cx, Some((&held, 0)));
    }

    /// A side sent END_STREAM: the body is complete (tshark dissects it by media type now) and
    /// a gRPC call ends with the server's.
    /// `body`: the whole body and its offset, when the frame that ends the stream carried all
    /// of it (the lines of a text body are drawn then).
    fn end_stream(&mut self, dir: Direction, id: u32, cx: &mut StreamCx<'_, '_>, body: Option<(&[u8], u64)>) {
        let s = self.stream(id);
        let side = &mut s.sides.of(dir);
        if side.ended {
            return;
        }
        side.ended = true;
        if side.initiated && side.body > 0 {
            match side.media {
                Media::TextLines(mt) => {
                    // tshark draws the body's layer inside the HTTP/2 tree, after the frame's
                    // `Stream:` subtree (which ends here).
                    cx.cx.sink.close();
                    cx.cx.sink.nest();
                    let drawn = cx.cx.layer(&http::body::TEXT_LINES, Span::GENERATED);
                    if let (true, Some((b, at))) = (drawn, body) {
                        let at = usize::try_from(at).unwrap_or(usize::MAX);
                        http::body::text_lines(b, at, Some(mt.as_bytes()), cx.cx);
                    }
                    cx.cx.sink.unnest();
                    if let Some(cols) = cx.cx.cols.as_deref_mut() {
                        let _ = write!(cols.info, " ({mt})");
                    }
                }
                Media::Json(mt) => {
                    cx.cx.sink.close();
                    cx.cx.sink.nest();
                    match body {
                        Some((b, at)) => {
                            let at = usize::try_from(at).unwrap_or(usize::MAX);
                            crate::proto::json::dissect(b, at, Some(mt.as_bytes()), cx.cx);
                        }
                        None => {
                            if cx.cx.layer(&http::body::JSON, Span::GENERATED) {
                                cx.cx.retitle(|t| {
                                    let _ = write!(t, "{}: {mt}", http::body::JSON.long_name);
                                });
                            }
                        }
                    }
                    cx.cx.sink.unnest();
                    if let Some(cols) = cx.cx.cols.as_deref_mut() {
                        let _ = write!(cols.info, ", JavaScript Object Notation ({mt})");
                        cols.protocol = "HTTP2/JSON";
                    }
                }
                _ => {}
            }
        }
        if dir != Direction::ToClient {
            return;
        }
        let requests = s.sides.to_server.reader.messages;
        let responses = s.sides.to_client.reader.messages;
        let Some(call) = s.grpc.as_mut() else {
            return;
        };
        if call.reported {
            return;
        }
        call.reported = true;
        // netsniff's own summary of the call, in the grpc layer of the sink only: tshark adds no
        // `grpc` to frame.protocols for a trailers frame, and neither do we.
        let shape = grpc::CallShape::from_counts(requests, responses);
        if cx.cx.wants(&grpc::PROTO) {
            let c = &mut *cx.cx;
            c.sink.layer(&grpc::PROTO, Span::GENERATED);
            if let Some((service, method)) = grpc::service_method(&call.path) {
                c.field(&grpc::SERVICE, Span::GENERATED, Value::Text(service));
                c.field(&grpc::METHOD, Span::GENERATED, Value::Text(method));
            }
            c.field(&grpc::CALL_TYPE, Span::GENERATED, Value::Str(shape.name()));
            if let Some(st) = call.status {
                c.field(&grpc::STATUS, Span::GENERATED, Value::U(st));
            }
            c.field(&grpc::MESSAGE, Span::GENERATED, Value::Text(&call.message));
            if self.pkt.emit {
                c.sink.layer(&PROTO, Span::GENERATED);
            }
        }
    }
}

/// A span on the stream (offsets beyond 4 GiB saturate, as `Span` does).
fn span(at: u64, len: usize) -> Span {
    Span::new(usize::try_from(at).unwrap_or(usize::MAX), len)
}

/// Appends to the Info column, when columns are shown.
fn info(cx: &mut StreamCx<'_, '_>, args: std::fmt::Arguments<'_>) {
    if let Some(cols) = cx.cx.cols.as_deref_mut() {
        let _ = cols.info.write_fmt(args);
    }
}

/// An expert note (not malformed: the peer did nothing wrong, we lack context).
fn note(cx: &mut StreamCx<'_, '_>, at: u64, what: &str) {
    if cx.cx.wants(&PROTO) {
        cx.cx.sink.text(span(at, 0), what);
    }
}

/// Bytes as tshark shows an ENC_ASCII string: bytes above 0x7f become U+FFFD.
fn ascii<'b>(b: &'b [u8], buf: &'b mut String) -> Value<'b> {
    if b.is_ascii() {
        return Value::Text(b);
    }
    buf.clear();
    buf.extend(b.iter().map(|&c| if c < 0x80 { char::from(c) } else { '\u{fffd}' }));
    Value::Str(buf)
}

fn push_lossy(out: &mut String, b: &[u8]) {
    out.extend(b.iter().map(|&c| if c < 0x80 { char::from(c) } else { '\u{fffd}' }));
}

/// `%XX` unescaping as GLib's `g_uri_unescape_string` does: `None` for a `%` not followed by
/// two hex digits, or one that decodes to NUL.
fn uri_unescape<'b>(b: &'b [u8], buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    if !b.contains(&b'%') {
        return Some(b);
    }
    buf.clear();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |o: usize| char::from(u8_at(b, i + o)).to_digit(16);
            let (Some(hi), Some(lo)) = (hex(1), hex(2)) else {
                return None;
            };
            if b.len() < i + 3 {
                return None;
            }
            let v = (hi * 16 + lo) as u8;
            if v == 0 {
                return None;
            }
            buf.push(v);
            i += 3;
        } else {
            buf.push(c);
            i += 1;
        }
    }
    Some(buf)
}

fn prio_fields(p: Priority, at: u64, cx: &mut StreamCx<'_, '_>) {
    let c = &mut *cx.cx;
    c.field(&EXCLUSIVE, span(at, 4), Value::Bool(p.exclusive));
    c.field(&STREAM_DEPENDENCY, span(at, 4), Value::U(u64::from(p.dependency)));
    c.field(&WEIGHT, span(at + 4, 1), Value::U(u64::from(p.weight)));
    c.field(&WEIGHT_REAL, Span::GENERATED, Value::U(u64::from(p.weight) + 1));
}

/// One header field's subtree, as Wireshark's `inflate_http2_header_block` shows it.
fn header_field(c: &mut crate::Cx<'_>, f: &hpack::Field<'_>, at: u64, w: &mut Work) {
    let sp = span(at + f.encoded.0 as u64, f.encoded.1);
    // `Header: :method: GET`, its parts beneath (decoded from the block: not generated).
    c.field_shown(&HEADER, sp, Value::None, |t| {
        push_lossy(t, f.name);
        t.push_str(": ");
        push_lossy(t, f.value);
        // A status is shown with its reason phrase.
        if f.name == b":status" {
            let code = std::str::from_utf8(f.value).ok().and_then(|s| s.parse::<u64>().ok());
            if let Some(name) = code.and_then(crate::proto::http::fields::status_name) {
                let _ = write!(t, " {name}");
            }
        }
    });
    c.sink.open();
    c.field(&HEADER_NAME_LENGTH, sp, Value::U(f.name.len() as u64));
    let v = ascii(f.name, &mut w.text);
    c.field(&HEADER_NAME, sp, v);
    c.field(&HEADER_VALUE_LENGTH, sp, Value::U(f.value.len() as u64));
    let v = ascii(f.value, &mut w.text);
    c.field(&HEADER_VALUE, sp, v);
    if let Ok(i) = NAMED.binary_search_by(|(n, _)| (*n).cmp(f.name)) {
        if let Some((_, def)) = NAMED.get(i) {
            if def.kind == Kind::Str {
                let v = ascii(f.value, &mut w.text);
                c.field(def, sp, v);
            } else if let Some(n) = decimal(f.value) {
                c.field(def, sp, Value::U(n));
            }
        }
    }
    if let Some(u) = uri_unescape(f.value, &mut w.unescaped) {
        c.field(&HEADER_UNESCAPED, Span::GENERATED, Value::Text(u));
    }
    c.field(&HEADER_REPR, span(at + f.encoded.0 as u64, 1), Value::Str(f.repr.name()));
    if f.repr.has_index() {
        c.field(&HEADER_INDEX, span(at + f.encoded.0 as u64, 1), Value::U(u64::from(f.index)));
    }
    c.sink.close();
}

/// A decimal number as `ws_strtou64` accepts it (digits only).
fn decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Keeps what the stream bookkeeping and the Info column need from a field.
fn gather(w: &mut Work, f: &hpack::Field<'_>) {
    let keep = |slot: &mut Option<Vec<u8>>, v: &[u8]| {
        let b = slot.get_or_insert_with(Vec::new);
        b.clear();
        b.extend_from_slice(slice(v, 0, MAX_PATH));
    };
    match f.name {
        b":method" => keep(&mut w.method, f.value),
        b":path" => keep(&mut w.path, f.value),
        b":status" => {
            keep(&mut w.status, f.value);
            w.status_seen = true;
        }
        b"content-type" if w.content_type.is_none() => keep(&mut w.content_type, f.value),
        b"grpc-status" => w.grpc_status = decimal(f.value),
        b"grpc-message" => keep(&mut w.grpc_message, f.value),
        _ => {}
    }
}

/// One gRPC message completed in this packet: the `grpc` and `protobuf` layers. `body` is the
/// message bytes and their stream offset when they lie in this DATA frame.
/// `call`: the call's `:path` and whether this message is a request (for the trees' titles).
fn grpc_message(
    cx: &mut StreamCx<'_, '_>,
    pkt: &mut Packet,
    header: grpc::MessageHeader,
    body: Option<(&[u8], u64)>,
    call: Option<(&[u8], bool)>,
) {
    let at = body.map_or(0, |(_, o)| o.saturating_sub(grpc::PREFIX_LEN as u64));
    let len = grpc::PREFIX_LEN + header.length as usize;
    let sp = span(at, len);
    if cx.cx.layer(&grpc::PROTO, sp) {
        let c = &mut *cx.cx;
        if let Some((path, request)) = call {
            c.retitle(|t| {
                t.push_str("GRPC Message: ");
                push_lossy(t, path);
                t.push_str(if request { ", Request" } else { ", Response" });
            });
        }
        let h = span(at, 1);
        c.field(&grpc::FRAME_TYPE, h, Value::U(u64::from(header.flags >> 7)));
        c.field(&grpc::COMPRESSED_FLAG, h, Value::U(u64::from(header.flags & 1)));
        c.field(&grpc::MESSAGE_LENGTH, span(at + 1, 4), Value::U(u64::from(header.length)));
        if let Some((b, o)) = body {
            c.field_shown(&grpc::MESSAGE_DATA, span(o, b.len()), Value::Bytes(b), |t| {
                let _ = write!(t, "{} bytes", b.len());
            });
        }
    }
    if cx.cx.layer(&grpc::PROTOBUF, sp) {
        if let Some((path, request)) = call {
            cx.cx.retitle(|t| {
                t.push_str("Protocol Buffers: ");
                push_lossy(t, path);
                t.push_str(if request { ",request" } else { ",response" });
            });
        }
        // Compressed messages are not read.
        if let (Some((b, o)), 0) = (body, header.flags & 1) {
            grpc::protobuf_tree(cx.cx, b, usize::try_from(o).unwrap_or(usize::MAX));
        }
    }
    if let Some(cols) = cx.cx.cols.as_deref_mut() {
        cols.info.push_str(" (GRPC) (PROTOBUF)");
        cols.protocol = "GRPC";
    }
    pkt.grpc_last = true;
}

pub static PROTO: Proto = Proto {
    name: "http2",
    long_name: "HyperText Transfer Protocol 2",
    fields: FIELDS,
    summary: &[],
};

static FIELDS: &[&FieldDef] = &[
    &STREAM, &LENGTH, &TYPE, &R, &STREAMID, &MAGIC, &UNKNOWN, &FLAGS, &FLAG_END_STREAM,
    &FLAG_EH, &FLAG_PADDED, &FLAG_PRIORITY, &FLAG_ACK_SETTINGS, &FLAG_ACK_PING, &FLAG_UNUSED,
    &FLAG_UNUSED_SETTINGS, &FLAG_UNUSED_PING, &FLAG_UNUSED_CONTINUATION,
    &FLAG_UNUSED_PUSH_PROMISE, &FLAG_UNUSED_DATA, &FLAG_UNUSED_HEADERS, &PADDING, &PAD_LENGTH,
    &EXCLUSIVE, &STREAM_DEPENDENCY, &WEIGHT, &WEIGHT_REAL, &DATA_DATA, &DATA_PADDING,
    &BODY_FRAGMENTS, &BODY_FRAGMENT, &BODY_FRAGMENT_COUNT, &BODY_REASSEMBLED_LENGTH,
    &BODY_REASSEMBLED_DATA,
    &HEADERS, &HEADERS_PADDING, &HEADER, &HEADER_LENGTH, &HEADER_COUNT, &FULL_URI, &HEADER_NAME_LENGTH,
    &HEADER_NAME, &HEADER_VALUE_LENGTH, &HEADER_VALUE, &HEADER_UNESCAPED, &HEADER_REPR,
    &HEADER_INDEX, &HEADER_TABLE_SIZE_UPDATE, &HEADER_TABLE_SIZE, &RST_STREAM_ERROR,
    &SETTINGS, &SETTINGS_ID, &SETTINGS_HEADER_TABLE_SIZE, &SETTINGS_ENABLE_PUSH,
    &SETTINGS_MAX_CONCURRENT_STREAMS, &SETTINGS_INITIAL_WINDOW_SIZE, &SETTINGS_MAX_FRAME_SIZE,
    &SETTINGS_MAX_HEADER_LIST_SIZE, &SETTINGS_EXTENDED_CONNECT, &SETTINGS_UNKNOWN,
    &PUSH_PROMISE_R, &PUSH_PROMISE_ID, &PUSH_PROMISE_HEADER, &PUSH_PROMISE_PADDING, &PING,
    &PONG, &GOAWAY_R, &GOAWAY_LAST_STREAM_ID, &GOAWAY_ERROR, &GOAWAY_ADDATA,
    &WINDOW_UPDATE_R, &WINDOW_UPDATE_INCREMENT, &CONTINUATION_HEADER,
    &H_AUTHORITY, &H_STATUS, &H_PATH, &H_METHOD, &H_SCHEME, &H_ACCEPT, &H_ACCEPT_CHARSET,
    &H_ACCEPT_ENCODING, &H_ACCEPT_LANGUAGE, &H_ACCEPT_RANGES, &H_ACCESS_CONTROL_ALLOW_ORIGIN,
    &H_AGE, &H_ALLOW, &H_AUTHORIZATION, &H_CACHE_CONTROL, &H_CONTENT_DISPOSITION,
    &H_CONTENT_ENCODING, &H_CONTENT_LANGUAGE, &H_CONTENT_LENGTH, &H_CONTENT_LOCATION,
    &H_CONTENT_RANGE, &H_CONTENT_TYPE, &H_COOKIE, &H_DATE, &H_ETAG, &H_EXPECT, &H_EXPIRES,
    &H_FROM, &H_IF_MATCH, &H_IF_MODIFIED_SINCE, &H_IF_NONE_MATCH, &H_IF_RANGE,
    &H_IF_UNMODIFIED_SINCE, &H_LAST_MODIFIED, &H_LINK, &H_LOCATION, &H_MAX_FORWARDS,
    &H_PROXY_AUTHENTICATE, &H_PROXY_AUTHORIZATION, &H_RANGE, &H_REFERER, &H_REFRESH,
    &H_RETRY_AFTER, &H_SERVER, &H_SET_COOKIE, &H_STRICT_TRANSPORT_SECURITY, &H_USER_AGENT,
    &H_VARY, &H_VIA, &H_WWW_AUTHENTICATE,
];

pub static STREAM: FieldDef = FieldDef::new("http2.stream", "Stream", Kind::None);
pub static LENGTH: FieldDef = FieldDef::new("http2.length", "Length", Kind::Dec);
pub static TYPE: FieldDef =
    FieldDef::new("http2.type", "Type", Kind::Dec).with_names(FrameType::value_name);
pub static R: FieldDef = FieldDef::new("http2.r", "Reserved", Kind::Hex(8)).bits(0x80000000, 32);
pub static STREAMID: FieldDef = FieldDef::new("http2.streamid", "Stream Identifier", Kind::Dec).bits(0x7fffffff, 32);
pub static MAGIC: FieldDef = FieldDef::new("http2.magic", "Magic", Kind::Str);
pub static UNKNOWN: FieldDef = FieldDef::new("http2.unknown", "Unknown", Kind::Bytes);
pub static FLAGS: FieldDef = FieldDef::new("http2.flags", "Flags", Kind::Hex(2));
// Wireshark's HTTP/2 booleans say True / False (they have no true/false strings).
pub static FLAG_END_STREAM: FieldDef = FieldDef::new("http2.flags.end_stream", "End Stream", Kind::Bool)
    .bits(0x1, 8)
    .tfs("True", "False");
pub static FLAG_EH: FieldDef = FieldDef::new("http2.flags.eh", "End Headers", Kind::Bool)
    .bits(0x4, 8)
    .tfs("True", "False");
pub static FLAG_PADDED: FieldDef = FieldDef::new("http2.flags.padded", "Padded", Kind::Bool)
    .bits(0x8, 8)
    .tfs("True", "False");
pub static FLAG_PRIORITY: FieldDef = FieldDef::new("http2.flags.priority", "Priority", Kind::Bool)
    .bits(0x20, 8)
    .tfs("True", "False");
pub static FLAG_ACK_SETTINGS: FieldDef = FieldDef::new("http2.flags.ack.settings", "ACK", Kind::Bool)
    .bits(0x1, 8)
    .tfs("True", "False");
pub static FLAG_ACK_PING: FieldDef = FieldDef::new("http2.flags.ack.ping", "ACK", Kind::Bool)
    .bits(0x1, 8)
    .tfs("True", "False");
pub static FLAG_UNUSED: FieldDef = FieldDef::new("http2.flags.unused", "Unused", Kind::Hex(2)).bits(0xff, 8);
pub static FLAG_UNUSED_SETTINGS: FieldDef =
    FieldDef::new("http2.flags.unused_settings", "Unused", Kind::Hex(2)).bits(0xfe, 8);
pub static FLAG_UNUSED_PING: FieldDef =
    FieldDef::new("http2.flags.unused_ping", "Unused", Kind::Hex(2)).bits(0xfe, 8);
pub static FLAG_UNUSED_CONTINUATION: FieldDef =
    FieldDef::new("http2.flags.unused_continuation", "Unused", Kind::Hex(2)).bits(0xfb, 8);
pub static FLAG_UNUSED_PUSH_PROMISE: FieldDef =
    FieldDef::new("http2.flags.unused_push_promise", "Unused", Kind::Hex(2)).bits(0xf3, 8);
pub static FLAG_UNUSED_DATA: FieldDef =
    FieldDef::new("http2.flags.unused_data", "Unused", Kind::Hex(2)).bits(0xf6, 8);
pub static FLAG_UNUSED_HEADERS: FieldDef =
    FieldDef::new("http2.flags.unused_headers", "Unused", Kind::Hex(2)).bits(0xd2, 8);
pub static PADDING: FieldDef = FieldDef::new("http2.padding", "Pad Length", Kind::Hex(2));
pub static PAD_LENGTH: FieldDef = FieldDef::new("http2.pad_length", "Pad Length", Kind::Dec);
pub static EXCLUSIVE: FieldDef = FieldDef::new("http2.exclusive", "Exclusive", Kind::Bool)
    .bits(0x80000000, 32)
    .tfs("True", "False");
pub static STREAM_DEPENDENCY: FieldDef =
    FieldDef::new("http2.stream_dependency", "Stream Dependency", Kind::Dec).bits(0x7fffffff, 32);
pub static WEIGHT: FieldDef = FieldDef::new("http2.headers.weight", "Weight", Kind::Dec);
pub static WEIGHT_REAL: FieldDef =
    FieldDef::new("http2.headers.weight_real", "Weight real", Kind::Dec);
pub static DATA_DATA: FieldDef =
    FieldDef::new("http2.data.data", "Data", Kind::Bytes).empty_text("<MISSING>");
pub static BODY_FRAGMENTS: FieldDef = FieldDef::new("http2.body.fragments", "Body fragments", Kind::None);
pub static BODY_FRAGMENT: FieldDef = FieldDef::new("http2.body.fragment", "Body fragment", Kind::Dec);
pub static BODY_FRAGMENT_COUNT: FieldDef =
    FieldDef::new("http2.body.fragment.count", "Body fragment count", Kind::Dec);
pub static BODY_REASSEMBLED_LENGTH: FieldDef =
    FieldDef::new("http2.body.reassembled.length", "Reassembled body length", Kind::Dec);
pub static BODY_REASSEMBLED_DATA: FieldDef =
    FieldDef::new("http2.body.reassembled.data", "Reassembled body data", Kind::Bytes);

/// The items of one setting at offset `at`: `Settings - Max concurrent streams : 100` with
/// its identifier and value beneath.
fn setting_items(c: &mut crate::Cx<'_>, at: u64, s: frame::Setting) {
    c.field_line(&SETTINGS, span(at, 6), Value::None, |t| {
        match frame::settings::name(u64::from(s.id)) {
            Some(n) => {
                let _ = write!(t, "Settings - {n} : {}", s.value);
            }
            None => {
                let _ = write!(t, "Settings - Unknown ({}) : {}", s.id, s.value);
            }
        }
    });
    c.sink.open();
    c.field(&SETTINGS_ID, span(at, 2), Value::U(u64::from(s.id)));
    let def = match s.id {
        frame::settings::HEADER_TABLE_SIZE => &SETTINGS_HEADER_TABLE_SIZE,
        frame::settings::ENABLE_PUSH => &SETTINGS_ENABLE_PUSH,
        frame::settings::MAX_CONCURRENT_STREAMS => &SETTINGS_MAX_CONCURRENT_STREAMS,
        frame::settings::INITIAL_WINDOW_SIZE => &SETTINGS_INITIAL_WINDOW_SIZE,
        frame::settings::MAX_FRAME_SIZE => &SETTINGS_MAX_FRAME_SIZE,
        frame::settings::MAX_HEADER_LIST_SIZE => &SETTINGS_MAX_HEADER_LIST_SIZE,
        frame::settings::ENABLE_CONNECT_PROTOCOL => &SETTINGS_EXTENDED_CONNECT,
        _ => &SETTINGS_UNKNOWN,
    };
    c.field(def, span(at + 2, 4), Value::U(u64::from(s.value)));
    c.sink.close();
}

/// The settings an HTTP/1.1 `HTTP2-Settings` header carries (RFC 9113 §3.2.1: a SETTINGS
/// payload in base64url), drawn under the header as tshark draws them. Their offsets are in
/// the decoded payload, a buffer of its own.
pub fn upgrade_settings_items(value: &[u8], c: &mut crate::Cx<'_>) {
    use base64::engine::{general_purpose::GeneralPurposeConfig, DecodePaddingMode, GeneralPurpose};
    use base64::Engine as _;
    const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    // A SETTINGS payload within one frame's default size at most.
    if value.len() > 4 * frame::DEFAULT_MAX_FRAME_SIZE as usize / 3 + 4 {
        return;
    }
    let Ok(payload) = URL_SAFE_ANY_PADDING.decode(value) else {
        return;
    };
    if payload.len() % 6 != 0 || payload.is_empty() {
        return;
    }
    c.sink.open();
    for (o, s) in frame::settings(&payload) {
        setting_items(c, o as u64, s);
    }
    c.sink.close();
}

/// tshark's `[N Body fragments (M bytes): #a(x), …]` item of a body reassembled from the DATA
/// frames `pieces` (frame, bytes).
fn body_fragments(cx: &mut crate::Cx<'_>, pieces: &[(u64, u32)], body: &[u8]) {
    let n = pieces.len();
    cx.field_line(&BODY_FRAGMENTS, Span::GENERATED, Value::None, |t| {
        let _ = write!(
            t,
            "{n} Body fragment{} ({} byte{}): ",
            if n == 1 { "" } else { "s" },
            body.len(),
            if body.len() == 1 { "" } else { "s" }
        );
        // Cut, not marked, at Wireshark's longest label, as TCP's reassembly item is.
        const LABEL_MAX: usize = 239;
        let list = pieces.iter().map(|&(f, b)| (f, u64::from(b)));
        crate::text::push_frame_list(t, list, LABEL_MAX);
        crate::text::cut_label(t, LABEL_MAX);
    });
    cx.sink.open();
    let mut from = 0u64;
    for &(f, b) in pieces {
        cx.field_line(&BODY_FRAGMENT, Span::GENERATED, Value::U(f), |t| {
            crate::text::push_frame_piece(t, f, from, u64::from(b));
        });
        from += u64::from(b);
    }
    cx.field(&BODY_FRAGMENT_COUNT, Span::GENERATED, Value::U(n as u64));
    cx.field(&BODY_REASSEMBLED_LENGTH, Span::GENERATED, Value::U(body.len() as u64));
    cx.field(&BODY_REASSEMBLED_DATA, Span::GENERATED, Value::Bytes(body));
    cx.sink.close();
}
pub static DATA_PADDING: FieldDef = FieldDef::new("http2.data.padding", "Padding", Kind::Bytes);
pub static HEADERS: FieldDef =
    FieldDef::new("http2.headers", "Header Block Fragment", Kind::Bytes);
pub static HEADERS_PADDING: FieldDef =
    FieldDef::new("http2.headers.padding", "Padding", Kind::Bytes);
pub static HEADER: FieldDef = FieldDef::new("http2.header", "Header", Kind::None);
pub static HEADER_LENGTH: FieldDef =
    FieldDef::new("http2.header.length", "Header Length", Kind::Dec);
pub static HEADER_COUNT: FieldDef = FieldDef::new("http2.header.count", "Header Count", Kind::Dec);
pub static FULL_URI: FieldDef =
    FieldDef::new("http2.request.full_uri", "Full request URI", Kind::Str);
pub static HEADER_NAME_LENGTH: FieldDef =
    FieldDef::new("http2.header.name.length", "Name Length", Kind::Dec);
pub static HEADER_NAME: FieldDef = FieldDef::new("http2.header.name", "Name", Kind::Str);
pub static HEADER_VALUE_LENGTH: FieldDef =
    FieldDef::new("http2.header.value.length", "Value Length", Kind::Dec);
pub static HEADER_VALUE: FieldDef = FieldDef::new("http2.header.value", "Value", Kind::Str);
pub static HEADER_UNESCAPED: FieldDef =
    FieldDef::new("http2.header.unescaped", "Unescaped", Kind::Str);
pub static HEADER_REPR: FieldDef =
    FieldDef::new("http2.header.repr", "Representation", Kind::Str);
pub static HEADER_INDEX: FieldDef = FieldDef::new("http2.header.index", "Index", Kind::Dec);
pub static HEADER_TABLE_SIZE_UPDATE: FieldDef = FieldDef::new(
    "http2.header_table_size_update",
    "Header table size update",
    Kind::None,
);
pub static HEADER_TABLE_SIZE: FieldDef = FieldDef::new(
    "http2.header_table_size_update.header_table_size",
    "Header table size",
    Kind::Dec,
);
pub static RST_STREAM_ERROR: FieldDef =
    FieldDef::new("http2.rst_stream.error", "Error", Kind::Dec).with_names(frame::error_name);
pub static SETTINGS: FieldDef = FieldDef::new("http2.settings", "Settings", Kind::None);
pub static SETTINGS_ID: FieldDef =
    FieldDef::new("http2.settings.id", "Settings Identifier", Kind::Dec)
        .with_names(frame::settings::name);
pub static SETTINGS_HEADER_TABLE_SIZE: FieldDef = FieldDef::new(
    "http2.settings.header_table_size",
    "Header table size",
    Kind::Dec,
);
pub static SETTINGS_ENABLE_PUSH: FieldDef =
    FieldDef::new("http2.settings.enable_push", "Enable PUSH", Kind::Dec);
pub static SETTINGS_MAX_CONCURRENT_STREAMS: FieldDef = FieldDef::new(
    "http2.settings.max_concurrent_streams",
    "Max concurrent streams",
    Kind::Dec,
);
pub static SETTINGS_INITIAL_WINDOW_SIZE: FieldDef = FieldDef::new(
    "http2.settings.initial_window_size",
    "Initial Windows Size",
    Kind::Dec,
);
pub static SETTINGS_MAX_FRAME_SIZE: FieldDef =
    FieldDef::new("http2.settings.max_frame_size", "Max frame size", Kind::Dec);
pub static SETTINGS_MAX_HEADER_LIST_SIZE: FieldDef = FieldDef::new(
    "http2.settings.max_header_list_size",
    "Max header list size",
    Kind::Dec,
);
pub static SETTINGS_EXTENDED_CONNECT: FieldDef = FieldDef::new(
    "http2.settings.extended_connect",
    "Extended CONNECT",
    Kind::Dec,
);
pub static SETTINGS_UNKNOWN: FieldDef =
    FieldDef::new("http2.settings.unknown", "Unknown Settings", Kind::Dec);
pub static PUSH_PROMISE_R: FieldDef =
    FieldDef::new("http2.push_promise.r", "Reserved", Kind::Hex(8)).bits(0x80000000, 32);
pub static PUSH_PROMISE_ID: FieldDef = FieldDef::new(
    "http2.push_promise.promised_stream_id",
    "Promised-Stream-ID",
    Kind::Dec,
).bits(0x7fffffff, 32);
pub static PUSH_PROMISE_HEADER: FieldDef = FieldDef::new(
    "http2.push_promise.header",
    "Header Block Fragment",
    Kind::Bytes,
);
pub static PUSH_PROMISE_PADDING: FieldDef =
    FieldDef::new("http2.push_promise.padding", "Padding", Kind::Bytes);
pub static PING: FieldDef = FieldDef::new("http2.ping", "Ping", Kind::Bytes);
pub static PONG: FieldDef = FieldDef::new("http2.pong", "Pong", Kind::Bytes);
pub static GOAWAY_R: FieldDef = FieldDef::new("http2.goway.r", "Reserved", Kind::Hex(8)).bits(0x80000000, 32);
pub static GOAWAY_LAST_STREAM_ID: FieldDef = FieldDef::new(
    "http2.goaway.last_stream_id",
    "Last-Stream-ID",
    Kind::Dec,
).bits(0x7fffffff, 32);
pub static GOAWAY_ERROR: FieldDef =
    FieldDef::new("http2.goaway.error", "Error", Kind::Dec).with_names(frame::error_name);
pub static GOAWAY_ADDATA: FieldDef =
    FieldDef::new("http2.goaway.addata", "Additional Debug Data", Kind::Bytes);
pub static WINDOW_UPDATE_R: FieldDef =
    FieldDef::new("http2.window_update.r", "Reserved", Kind::Hex(8)).bits(0x80000000, 32);
pub static WINDOW_UPDATE_INCREMENT: FieldDef = FieldDef::new(
    "http2.window_update.window_size_increment",
    "Window Size Increment",
    Kind::Dec,
).bits(0x7fffffff, 32);
pub static CONTINUATION_HEADER: FieldDef = FieldDef::new(
    "http2.continuation.header",
    "Continuation Header",
    Kind::Str,
);

static H_AUTHORITY: FieldDef = FieldDef::new("http2.headers.authority", ":authority", Kind::Str);
static H_STATUS: FieldDef = FieldDef::new("http2.headers.status", ":status", Kind::Dec);
static H_PATH: FieldDef = FieldDef::new("http2.headers.path", ":path", Kind::Str);
static H_METHOD: FieldDef = FieldDef::new("http2.headers.method", ":method", Kind::Str);
static H_SCHEME: FieldDef = FieldDef::new("http2.headers.scheme", ":scheme", Kind::Str);
static H_ACCEPT: FieldDef = FieldDef::new("http2.headers.accept", "accept", Kind::Str);
static H_ACCEPT_CHARSET: FieldDef = FieldDef::new("http2.headers.accept_charset", "accept-charset", Kind::Str);
static H_ACCEPT_ENCODING: FieldDef = FieldDef::new("http2.headers.accept_encoding", "accept-encoding", Kind::Str);
static H_ACCEPT_LANGUAGE: FieldDef = FieldDef::new("http2.headers.accept_language", "accept-language", Kind::Str);
static H_ACCEPT_RANGES: FieldDef = FieldDef::new("http2.headers.accept_ranges", "accept-ranges", Kind::Str);
static H_ACCESS_CONTROL_ALLOW_ORIGIN: FieldDef = FieldDef::new("http2.headers.access_control_allow_origin", "access-control-allow-origin", Kind::Str);
static H_AGE: FieldDef = FieldDef::new("http2.headers.age", "age", Kind::Dec);
static H_ALLOW: FieldDef = FieldDef::new("http2.headers.allow", "allow", Kind::Str);
static H_AUTHORIZATION: FieldDef = FieldDef::new("http2.headers.authorization", "authorization", Kind::Str);
static H_CACHE_CONTROL: FieldDef = FieldDef::new("http2.headers.cache_control", "cache-control", Kind::Str);
static H_CONTENT_DISPOSITION: FieldDef = FieldDef::new("http2.headers.content_disposition", "content-disposition", Kind::Str);
static H_CONTENT_ENCODING: FieldDef = FieldDef::new("http2.headers.content_encoding", "content-encoding", Kind::Str);
static H_CONTENT_LANGUAGE: FieldDef = FieldDef::new("http2.headers.content_language", "content-language", Kind::Str);
static H_CONTENT_LENGTH: FieldDef = FieldDef::new("http2.headers.content_length", "content-length", Kind::Dec);
static H_CONTENT_LOCATION: FieldDef = FieldDef::new("http2.headers.content_location", "content-location", Kind::Str);
static H_CONTENT_RANGE: FieldDef = FieldDef::new("http2.headers.content_range", "content-range", Kind::Str);
static H_CONTENT_TYPE: FieldDef = FieldDef::new("http2.headers.content_type", "content-type", Kind::Str);
static H_COOKIE: FieldDef = FieldDef::new("http2.headers.cookie", "cookie", Kind::Str);
static H_DATE: FieldDef = FieldDef::new("http2.headers.date", "date", Kind::Str);
static H_ETAG: FieldDef = FieldDef::new("http2.headers.etag", "etag", Kind::Str);
static H_EXPECT: FieldDef = FieldDef::new("http2.headers.expect", "expect", Kind::Str);
static H_EXPIRES: FieldDef = FieldDef::new("http2.headers.expires", "expires", Kind::Str);
static H_FROM: FieldDef = FieldDef::new("http2.headers.from", "from", Kind::Str);
static H_IF_MATCH: FieldDef = FieldDef::new("http2.headers.if_match", "if-match", Kind::Str);
static H_IF_MODIFIED_SINCE: FieldDef = FieldDef::new("http2.headers.if_modified_since", "if-modified-since", Kind::Str);
static H_IF_NONE_MATCH: FieldDef = FieldDef::new("http2.headers.if_none_match", "if-none-match", Kind::Str);
static H_IF_RANGE: FieldDef = FieldDef::new("http2.headers.if_range", "if-range", Kind::Str);
static H_IF_UNMODIFIED_SINCE: FieldDef = FieldDef::new("http2.headers.if_unmodified_since", "if-unmodified-since", Kind::Str);
static H_LAST_MODIFIED: FieldDef = FieldDef::new("http2.headers.last_modified", "last-modified", Kind::Str);
static H_LINK: FieldDef = FieldDef::new("http2.headers.link", "link", Kind::Str);
static H_LOCATION: FieldDef = FieldDef::new("http2.headers.location", "location", Kind::Str);
static H_MAX_FORWARDS: FieldDef = FieldDef::new("http2.headers.max_forwards", "max-forwards", Kind::Dec);
static H_PROXY_AUTHENTICATE: FieldDef = FieldDef::new("http2.headers.proxy_authenticate", "proxy-authenticate", Kind::Str);
static H_PROXY_AUTHORIZATION: FieldDef = FieldDef::new("http2.headers.proxy_authorization", "proxy-authorization", Kind::Str);
static H_RANGE: FieldDef = FieldDef::new("http2.headers.range", "range", Kind::Str);
static H_REFERER: FieldDef = FieldDef::new("http2.headers.referer", "referer", Kind::Str);
static H_REFRESH: FieldDef = FieldDef::new("http2.headers.refresh", "refresh", Kind::Str);
static H_RETRY_AFTER: FieldDef = FieldDef::new("http2.headers.retry_after", "retry-after", Kind::Str);
static H_SERVER: FieldDef = FieldDef::new("http2.headers.server", "server", Kind::Str);
static H_SET_COOKIE: FieldDef = FieldDef::new("http2.headers.set_cookie", "set-cookie", Kind::Str);
static H_STRICT_TRANSPORT_SECURITY: FieldDef = FieldDef::new("http2.headers.strict_transport_security", "strict-transport-security", Kind::Str);
static H_USER_AGENT: FieldDef = FieldDef::new("http2.headers.user_agent", "user-agent", Kind::Str);
static H_VARY: FieldDef = FieldDef::new("http2.headers.vary", "vary", Kind::Str);
static H_VIA: FieldDef = FieldDef::new("http2.headers.via", "via", Kind::Str);
static H_WWW_AUTHENTICATE: FieldDef = FieldDef::new("http2.headers.www_authenticate", "www-authenticate", Kind::Str);

/// Header names Wireshark gives their own field (`http2.headers.*`), sorted.
static NAMED: &[(&[u8], &FieldDef)] = &[
    (b":authority", &H_AUTHORITY),
    (b":method", &H_METHOD),
    (b":path", &H_PATH),
    (b":scheme", &H_SCHEME),
    (b":status", &H_STATUS),
    (b"accept", &H_ACCEPT),
    (b"accept-charset", &H_ACCEPT_CHARSET),
    (b"accept-encoding", &H_ACCEPT_ENCODING),
    (b"accept-language", &H_ACCEPT_LANGUAGE),
    (b"accept-ranges", &H_ACCEPT_RANGES),
    (b"access-control-allow-origin", &H_ACCESS_CONTROL_ALLOW_ORIGIN),
    (b"age", &H_AGE),
    (b"allow", &H_ALLOW),
    (b"authorization", &H_AUTHORIZATION),
    (b"cache-control", &H_CACHE_CONTROL),
    (b"content-disposition", &H_CONTENT_DISPOSITION),
    (b"content-encoding", &H_CONTENT_ENCODING),
    (b"content-language", &H_CONTENT_LANGUAGE),
    (b"content-length", &H_CONTENT_LENGTH),
    (b"content-location", &H_CONTENT_LOCATION),
    (b"content-range", &H_CONTENT_RANGE),
    (b"content-type", &H_CONTENT_TYPE),
    (b"cookie", &H_COOKIE),
    (b"date", &H_DATE),
    (b"etag", &H_ETAG),
    (b"expect", &H_EXPECT),
    (b"expires", &H_EXPIRES),
    (b"from", &H_FROM),
    (b"if-match", &H_IF_MATCH),
    (b"if-modified-since", &H_IF_MODIFIED_SINCE),
    (b"if-none-match", &H_IF_NONE_MATCH),
    (b"if-range", &H_IF_RANGE),
    (b"if-unmodified-since", &H_IF_UNMODIFIED_SINCE),
    (b"last-modified", &H_LAST_MODIFIED),
    (b"link", &H_LINK),
    (b"location", &H_LOCATION),
    (b"max-forwards", &H_MAX_FORWARDS),
    (b"proxy-authenticate", &H_PROXY_AUTHENTICATE),
    (b"proxy-authorization", &H_PROXY_AUTHORIZATION),
    (b"range", &H_RANGE),
    (b"referer", &H_REFERER),
    (b"refresh", &H_REFRESH),
    (b"retry-after", &H_RETRY_AFTER),
    (b"server", &H_SERVER),
    (b"set-cookie", &H_SET_COOKIE),
    (b"strict-transport-security", &H_STRICT_TRANSPORT_SECURITY),
    (b"user-agent", &H_USER_AGENT),
    (b"vary", &H_VARY),
    (b"via", &H_VIA),
    (b"www-authenticate", &H_WWW_AUTHENTICATE),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{write_tshark, FieldSink};
    use crate::pinfo::ProtoStack;
    use crate::{Columns, Cx};

    /// Every field as `name=value` (tshark's format), plus notes, in order.
    #[derive(Default)]
    struct Rec(Vec<String>);

    impl FieldSink for Rec {
        fn wants(&self, _proto: &'static Proto) -> bool {
            true
        }
        fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
        fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
            let mut out = Vec::new();
            write_tshark(def, &value, &mut out);
            self.0.push(format!("{}={}", def.name, String::from_utf8_lossy(&out)));
        }
        fn text(&mut self, _span: Span, text: &str) {
            self.0.push(format!("note={text}"));
        }
    }

    /// What one packet produced.
    #[derive(Debug, Default, Clone, PartialEq)]
    struct Out {
        fields: Vec<String>,
        protocols: Vec<&'static str>,
        info: String,
    }

    impl Out {
        fn values(&self, name: &str) -> Vec<&str> {
            self.fields
                .iter()
                .filter_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .collect()
        }
    }

    /// Feeds packets as the flow engine does (keeping the unconsumed tail), one direction each.
    struct Driver {
        parser: Http2Parser,
        tail: [Vec<u8>; 2],
        offset: [u64; 2],
        frame: u64,
    }

    impl Driver {
        fn new() -> Driver {
            Driver {
                parser: Http2Parser::default(),
                tail: Default::default(),
                offset: [0; 2],
                frame: 0,
            }
        }

        fn feed(&mut self, dir: Direction, bytes: &[u8]) -> Out {
            self.frame += 1;
            let d = dir.index();
            self.tail[d].extend_from_slice(bytes);
            let (mut sink, mut stack, mut cols) = (Rec::default(), ProtoStack::default(), Columns::default());
            let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
            let mut scx = StreamCx {
                cx: &mut cx,
                frame: self.frame,
                secs: 0,
                nanos: 0,
                stream_offset: self.offset[d],
                stream: 0,
                tcp: true,
                ports: [0, 0],
                ordinal: 0,
            };
            let buf = std::mem::take(&mut self.tail[d]);
            let used = match self.parser.data(dir, &buf, &mut scx) {
                Progress::Done => buf.len(),
                Progress::NeedMore { consumed, needed } => {
                    assert!(consumed <= buf.len() && needed > 0);
                    consumed
                }
                p => panic!("{p:?}"),
            };
            self.tail[d] = buf[used..].to_vec();
            self.offset[d] += used as u64;
            Out {
                fields: sink.0,
                protocols: stack.as_slice().to_vec(),
                info: cols.info,
            }
        }
    }

    fn frame(t: u8, fl: u8, id: u32, payload: &[u8]) -> Vec<u8> {
        let n = payload.len() as u32;
        let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, t, fl];
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    const S: Direction = Direction::ToServer;
    const C: Direction = Direction::ToClient;

    /// Preface, SETTINGS, and a GET with :method GET, :scheme http, :path /, :authority a.
    fn client_start() -> Vec<u8> {
        let mut b = PREFACE.to_vec();
        b.extend(frame(4, 0, 0, &[0, 3, 0, 0, 0, 100]));
        b.extend(frame(1, 0x05, 1, &[0x82, 0x86, 0x84, 0x41, 0x01, b'a']));
        b
    }

    #[test]
    fn deconstruct() {
        let mut d = Driver::new();
        let o = d.feed(S, &client_start());
        assert_eq!(o.protocols, ["http2"]);
        assert_eq!(o.values("http2.type"), ["4", "1"]);
        assert_eq!(o.values("http2.streamid"), ["0", "1"]);
        assert_eq!(o.values("http2.flags"), ["0x00", "0x05"]);
        assert_eq!(o.values("http2.length"), ["6", "6"]);
        assert_eq!(o.values("http2.magic"), ["PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"]);
        assert_eq!(o.values("http2.settings.max_concurrent_streams"), ["100"]);
        assert_eq!(o.values("http2.header.name"), [":method", ":scheme", ":path", ":authority"]);
        assert_eq!(o.values("http2.header.value"), ["GET", "http", "/", "a"]);
        assert_eq!(o.values("http2.header.index"), ["2", "6", "4", "1"]);
        assert_eq!(o.values("http2.header.count"), ["4"]);
        assert_eq!(o.info, "Magic, SETTINGS[0], HEADERS[1]: GET /");
        assert_eq!(d.parser.stream_state(1), StreamState::HalfClosed(S));
        // The response: SETTINGS, then :status 200 and a text body.
        let mut b = frame(4, 0, 0, &[]);
        b.extend(frame(1, 0x04, 1, &[0x88, 0x5f, 0x0a, b't', b'e', b'x', b't', b'/', b'p', b'l', b'a', b'i', b'n']));
        b.extend(frame(0, 0x01, 1, b"hello"));
        let o = d.feed(C, &b);
        assert_eq!(o.info, "SETTINGS[0], HEADERS[1]: 200 OK, DATA[1] (text/plain)");
        assert_eq!(o.protocols, ["http2", "data-text-lines"]);
        assert_eq!(o.values("http2.headers.status"), ["200"]);
        assert_eq!(o.values("http2.data.data"), ["68656c6c6f"]);
        assert_eq!(d.parser.stream_state(1), StreamState::Closed);
    }

    #[test]
    fn body_over_several_frames_is_reassembled_and_dissected_at_its_end() {
        let json_response = |d: &mut Driver| {
            let mut b = frame(4, 0, 0, &[]);
            let mut h = vec![0x88, 0x5f, 0x10];
            h.extend_from_slice(b"application/json");
            b.extend(frame(1, 0x04, 1, &h));
            d.feed(C, &b)
        };
        for (parts, valid) in [([&br#"{"a":"#[..], b"[1,2]}"], true), ([&br#"{"a""#[..], b"}"], false)] {
            let mut d = Driver::new();
            d.feed(S, &client_start());
            json_response(&mut d);
            let o = d.feed(C, &frame(0, 0, 1, parts[0]));
            assert_eq!(o.protocols, ["http2"]);
            let o = d.feed(C, &frame(0, 0x01, 1, parts[1]));
            let body = [parts[0], parts[1]].concat();
            let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(o.values("http2.body.fragment.count"), ["2"]);
            assert_eq!(o.values("http2.body.reassembled.length"), [body.len().to_string()]);
            assert_eq!(o.values("http2.data.data"), [hex]);
            if valid {
                assert_eq!(o.protocols, ["http2", "json"]);
                assert_eq!(o.values("json.path_with_value"), ["/a/[]:1", "/a/[]:2"]);
            } else {
                assert_eq!(o.protocols, ["http2", "json", "data-text-lines"]);
                assert!(o.values("json.member").is_empty());
            }
            assert_eq!(d.parser.held_bodies, 0);
        }
    }

    #[test]
    fn check_len() {
        // A probe needs the whole preface; a prefix asks for more.
        assert_eq!(Http2.probe(S, &PREFACE[..10]), Probe::NeedMore);
        assert_eq!(Http2.probe(S, PREFACE), Probe::Yes);
        assert_eq!(Http2.probe(S, b"GET / HTTP/1.1\r\n"), Probe::No);
        assert_eq!(Http2.probe(S, b""), Probe::NeedMore);
    }

    /// The whole exchange fed in one packet, then split in two at every byte: the fields of the
    /// two packets together equal those of the one.
    #[test]
    fn split_at_every_byte() {
        let mut b = client_start();
        b.extend(frame(0, 0x08, 1, &[2, b'x', 0, 0]));
        b.extend(frame(8, 0, 0, &[0, 0, 1, 0]));
        let whole = Driver::new().feed(S, &b);
        for cut in 0..=b.len() {
            let mut d = Driver::new();
            let one = d.feed(S, &b[..cut]);
            let two = d.feed(S, &b[cut..]);
            let mut fields = one.fields.clone();
            fields.extend(two.fields.clone());
            assert_eq!(fields, whole.fields, "cut at {cut}");
        }
    }

    #[test]
    fn truncated_at_every_byte() {
        let b = client_start();
        for cut in 0..b.len() {
            let mut d = Driver::new();
            let o = d.feed(S, &b[..cut]);
            // Only whole frames are reported.
            let frames = o.values("http2.stream").len();
            let expect = [24, 24 + 15, b.len()].iter().filter(|&&n| n <= cut).count();
            assert_eq!(frames, expect, "cut at {cut}");
        }
    }

    #[test]
    fn info_column() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        let mut b = frame(6, 0, 0, &[0; 8]);
        b.extend(frame(3, 0, 1, &[0, 0, 0, 8]));
        b.extend(frame(7, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0]));
        b.extend(frame(0x42, 0, 3, b"?"));
        let o = d.feed(S, &b);
        assert_eq!(o.info, "PING[0], RST_STREAM[1], GOAWAY[0], Unknown type (66)[3]");
        assert_eq!(o.values("http2.rst_stream.error"), ["8"]);
        assert_eq!(o.values("http2.unknown"), ["3f"]);
    }

    fn malformed(o: &Out) -> bool {
        o.protocols.contains(&"_ws.malformed")
    }

    #[test]
    fn malformed_bad_padding() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        // Pad length 4 in a 4-byte payload, then a good frame.
        let mut b = frame(0, 0x08, 1, &[4, 0, 0, 0]);
        b.extend(frame(8, 0, 0, &[0, 0, 0, 1]));
        let o = d.feed(S, &b);
        assert!(malformed(&o));
        assert_eq!(o.values("http2.type"), ["0", "8"]);
        let o = d.feed(S, &frame(1, 0x0c, 3, &[9, 0x82]));
        assert!(malformed(&o));
    }

    #[test]
    fn malformed_oversize_frame() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        // 16385 bytes: one more than the default SETTINGS_MAX_FRAME_SIZE, fed in pieces.
        let b = frame(0, 0, 1, &vec![7; 16_385]);
        let o1 = d.feed(S, &b[..1000]);
        assert!(o1.fields.is_empty());
        let mut rest = b[1000..].to_vec();
        rest.extend(frame(8, 0, 0, &[0, 0, 0, 1]));
        let o = d.feed(S, &rest);
        assert!(malformed(&o));
        assert_eq!(o.values("http2.type"), ["0", "8"]);
        assert_eq!(o.values("http2.length"), ["16385", "4"]);
        // Once the server allows larger frames, the same frame is fine.
        let mut d = Driver::new();
        d.feed(S, &client_start());
        d.feed(C, &frame(4, 0, 0, &[0, 5, 0, 1, 0, 0]));
        let o = d.feed(S, &b);
        assert!(!malformed(&o));
    }

    #[test]
    fn malformed_continuation_without_headers() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        let o = d.feed(S, &frame(9, 0x04, 3, &[0x82]));
        assert!(malformed(&o));
        assert_eq!(o.values("http2.type"), ["9"]);
        assert!(o.values("http2.header.name").is_empty());
        // A HEADERS + CONTINUATION pair decodes across both, each field in its frame.
        let o = d.feed(S, &frame(1, 0x01, 5, &[0x82, 0x86]));
        assert_eq!(o.values("http2.header.name"), [":method", ":scheme"]);
        let o = d.feed(S, &frame(9, 0x04, 5, &[0x84, 0x41, 0x01, b'a']));
        assert!(!malformed(&o));
        assert_eq!(o.values("http2.header.name"), [":path", ":authority"]);
        assert_eq!(o.info, "CONTINUATION[5]: GET /");
    }

    #[test]
    fn malformed_frame_interleaved_in_header_block() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        let mut b = frame(1, 0, 5, &[0x82]);
        b.extend(frame(8, 0, 0, &[0, 0, 0, 1]));
        let o = d.feed(S, &b);
        assert!(malformed(&o));
    }

    #[test]
    fn malformed_hpack_index_past_table() {
        let mut d = Driver::new();
        let mut b = PREFACE.to_vec();
        b.extend(frame(1, 0x05, 1, &[0x82, 0xbe]));
        let o = d.feed(S, &b);
        assert!(malformed(&o));
        assert_eq!(o.values("http2.header.name"), [":method"]);
        assert!(o.info.contains("index past the header table"));
    }

    #[test]
    fn malformed_fixed_length() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        let o = d.feed(S, &frame(8, 0, 0, &[0, 0, 1]));
        assert!(malformed(&o));
        let o = d.feed(S, &frame(4, 0, 0, &[0, 3, 0]));
        assert!(malformed(&o));
    }

    #[test]
    fn mid_connection_blocks_are_not_decodable() {
        let mut d = Driver::new();
        // No preface: the capture started mid-connection. Index 62 is an unseen entry.
        let o = d.feed(S, &frame(1, 0x05, 7, &[0x82, 0xbe]));
        assert!(!malformed(&o));
        assert!(o.fields.iter().any(|f| f.contains("not seen in this capture")));
        // A block of static entries still decodes.
        let o = d.feed(S, &frame(1, 0x05, 9, &[0x82, 0x86, 0x84]));
        assert_eq!(o.values("http2.header.value"), ["GET", "http", "/"]);
    }

    #[test]
    fn gap_outside_data_stops_the_direction() {
        let mut d = Driver::new();
        d.feed(S, &client_start());
        d.parser.gap(S, 10);
        let o = d.feed(S, &frame(8, 0, 0, &[0, 0, 0, 1]));
        assert!(o.fields.is_empty());
        // The other direction goes on.
        let o = d.feed(C, &frame(4, 0, 0, &[]));
        assert_eq!(o.values("http2.type"), ["4"]);
    }

    #[test]
    fn grpc_call() {
        let mut d = Driver::new();
        let mut b = PREFACE.to_vec();
        // POST /pkg.Svc/Do, content-type application/grpc (literal, indexed name 31).
        let mut block = vec![0x83, 0x86, 0x44, 0x0b];
        block.extend_from_slice(b"/pkg.Svc/Do");
        block.extend_from_slice(&[0x5f, 0x10]);
        block.extend_from_slice(b"application/grpc");
        b.extend(frame(1, 0x04, 1, &block));
        b.extend(frame(0, 0x01, 1, &[0, 0, 0, 0, 2, 0x08, 0x01]));
        let o = d.feed(S, &b);
        assert_eq!(o.protocols, ["http2", "grpc", "protobuf"]);
        assert_eq!(o.values("grpc.message_length"), ["2"]);
        assert_eq!(o.values("grpc.message_data"), ["0801"]);
        assert!(o.info.ends_with("DATA[1] (GRPC) (PROTOBUF)"));
        // Response: headers, two messages split across DATA frames and packets, trailers.
        let mut block = vec![0x88, 0x5f, 0x10];
        block.extend_from_slice(b"application/grpc");
        let mut r = frame(4, 0, 0, &[]);
        r.extend(frame(1, 0x04, 1, &block));
        r.extend(frame(0, 0, 1, &[0, 0, 0, 0, 1, 0xaa, 0, 0]));
        let o = d.feed(C, &r);
        assert_eq!(o.values("grpc.message_length"), ["1"]);
        let mut r = frame(0, 0, 1, &[0, 0, 3, 1, 2, 3]);
        let mut trailers = vec![0x40, 0x0b];
        trailers.extend_from_slice(b"grpc-status");
        trailers.extend_from_slice(&[0x01, b'0']);
        r.extend(frame(1, 0x05, 1, &trailers));
        let o = d.feed(C, &r);
        assert_eq!(o.values("grpc.message_length"), ["3"]);
        assert_eq!(o.values("grpc.message_data"), ["010203"]);
        assert_eq!(o.values("grpc.service"), ["pkg.Svc"]);
        assert_eq!(o.values("grpc.method"), ["Do"]);
        assert_eq!(o.values("grpc.call_type"), ["server streaming"]);
        assert_eq!(o.values("grpc.status"), ["0"]);
        assert_eq!(d.parser.stream_state(1), StreamState::Closed);
    }

    /// Property: random bytes after a valid start never panic and keep the contract.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let mut d = Driver::new();
            if round % 2 == 0 {
                d.feed(S, &client_start());
            }
            for _ in 0..20 {
                let n = (next() % 200) as usize;
                let mut b: Vec<u8> = (0..n).map(|_| next() as u8).collect();
                // Plausible frame headers most of the time.
                if b.len() >= 9 && next() % 4 != 0 {
                    b[0] = 0;
                    b[1] = 0;
                    b[2] = (next() % 40) as u8;
                    b[3] = (next() % 11) as u8;
                }
                let dir = if next() % 2 == 0 { S } else { C };
                d.feed(dir, &b);
                if next() % 50 == 0 {
                    d.parser.gap(dir, next() % 100);
                }
            }
        }
    }
}
