//! The bodies of the fuzz targets (`dissectors/fuzz/fuzz_targets/*.rs` include this file with
//! `#[path]`), shared with `tests/fuzz_regressions.rs` so that every crash input replays
//! through exactly the code that found it.
//!
//! * [`frame`]: arbitrary bytes as a frame of a link type picked by the first byte.
//! * [`stream`]: bytes fed to one `StreamDissector`'s parser by a minimal driver that honours
//!   the `Progress` contract as the flow engine does, once whole and once cut at fuzzer-chosen
//!   points; both runs must emit the same fields (Suricata's separator harness).
//! * [`hpack`]: one header block decoded whole and in fragments; both must yield the same
//!   fields and the same error.

#![allow(dead_code, reason = "each including crate uses a subset")]
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "harness code: a panic is a finding"
)]

use netsniff_dissectors::field::{write_display, write_tshark};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::http2::hpack::{Decoder, Event as HpackEvent};
use netsniff_dissectors::proto::{self, FRAME, STREAM};
use netsniff_dissectors::{
    Columns, Cx, Direction, FieldDef, FieldSink, FrameMeta, LinkType, PacketInfo, Progress, Proto,
    Shown, Span, StreamCx, StreamParser, Table, Value,
};

/// Formats everything it is given as the outputs would (`-T fields`, `-V` with its texts),
/// and optionally records it as lines (`layer`, `name=value@span`, …) for comparison.
#[derive(Default)]
pub struct FormatAll {
    pub record: bool,
    pub lines: Vec<String>,
    pub fields: usize,
    text: Vec<u8>,
    display: String,
}

impl FormatAll {
    fn note(&mut self, line: String) {
        if self.record {
            self.lines.push(line);
        }
    }
}

impl FieldSink for FormatAll {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn wants_text(&self) -> bool {
        true
    }
    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.note(format!("layer {}", proto.name));
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        self.text.clear();
        self.display.clear();
        write_tshark(def, &value, &mut self.text);
        write_display(def, &value, &mut self.display);
        self.fields += 1;
        if self.record {
            let v = String::from_utf8_lossy(&self.text).into_owned();
            self.note(format!("{}={v}@{}+{}", def.name, span.start, span.len));
        }
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        self.field(def, span, value);
        if let Shown::Value(t) | Shown::Line(t) | Shown::Expert(_, _, t) = shown {
            self.note(format!("  shown {t}"));
        }
    }
    fn open(&mut self) {
        self.note("{".into());
    }
    fn close(&mut self) {
        self.note("}".into());
    }
    fn text(&mut self, _span: Span, text: &str) {
        self.note(format!("text {text}"));
    }
    fn label(&mut self, _span: Span, text: &str) {
        self.note(format!("label {text}"));
    }
    fn append(&mut self, text: &str) {
        self.note(format!("append {text}"));
    }
}

/// The link types a frame can be dissected as.
pub fn link_types() -> Vec<u32> {
    FRAME
        .iter()
        .flat_map(|d| d.binds().iter())
        .filter(|b| b.0 == Table::LinkType)
        .map(|b| b.1)
        .collect()
}

/// The `frame` target: the first byte picks the link type. Returns the fields emitted.
pub fn frame(data: &[u8]) -> usize {
    let Some((&pick, frame)) = data.split_first() else {
        return 0;
    };
    let lts = link_types();
    let lt = lts[usize::from(pick) % lts.len()];
    let meta = FrameMeta {
        number: 1,
        len: frame.len() as u32,
        cap_len: frame.len() as u32,
        link_type: LinkType(lt),
        ts_digits: 6,
        ..FrameMeta::default()
    };
    let (mut pi, mut stack, mut sink, mut cols) = (
        PacketInfo::default(),
        ProtoStack::default(),
        FormatAll::default(),
        Columns::default(),
    );
    let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
    proto::dissect_frame(&meta, frame, &mut pi, &mut cx);
    proto::frame::emit_protocols(&mut cx);
    let _ = pi.payload(frame);
    sink.fields
}

/// Bytes one direction may hold back at most (the flow engine's `MAX_TAIL` is larger; a
/// fuzz input is small, so this never binds).
const MAX_TAIL: usize = 1 << 20;

/// A minimal flow engine for one connection: keeps each direction's unconsumed tail and calls
/// the parser again once `needed` more bytes exist, switches protocols, stops on `Fatal`.
pub struct Driver {
    parser: Option<Box<dyn StreamParser>>,
    tail: [Vec<u8>; 2],
    need: [usize; 2],
    /// Stream offset of the tail's first byte, per direction.
    at: [u64; 2],
    tcp: bool,
    pub sink: FormatAll,
    pub switched: Vec<&'static str>,
}

impl Driver {
    pub fn new(pick: usize, tcp: bool) -> Driver {
        let d = STREAM[pick % STREAM.len()];
        Driver {
            parser: Some(d.start()),
            tail: [Vec::new(), Vec::new()],
            need: [0, 0],
            at: [0, 0],
            tcp,
            sink: FormatAll {
                record: true,
                ..FormatAll::default()
            },
            switched: Vec::new(),
        }
    }

    /// New bytes of direction `dir` (a TCP chunk, or one UDP datagram).
    pub fn data(&mut self, dir: Direction, bytes: &[u8]) {
        let d = dir.index();
        if self.parser.is_none() || bytes.is_empty() {
            return;
        }
        if !self.tcp {
            let at = self.at[d];
            self.run(dir, bytes.to_vec(), at);
            self.at[d] += bytes.len() as u64;
            return;
        }
        let mut buf = std::mem::take(&mut self.tail[d]);
        buf.extend_from_slice(bytes);
        if buf.len() < self.need[d] {
            self.tail[d] = buf;
            return;
        }
        let at = self.at[d];
        let kept = self.run(dir, buf, at);
        self.tail[d] = kept;
    }

    /// Runs the parser over `buf` (stream offset `at`) until it has consumed what it can;
    /// returns the bytes to keep.
    fn run(&mut self, dir: Direction, buf: Vec<u8>, at: u64) -> Vec<u8> {
        let d = dir.index();
        let mut start = 0usize;
        let mut at = at;
        self.need[d] = 0;
        loop {
            let Some(parser) = self.parser.as_mut() else {
                return Vec::new();
            };
            let rest = &buf[start..];
            let (mut stack, mut cols) = (ProtoStack::default(), Columns::default());
            let mut cx = Cx::new(&mut self.sink, Some(&mut cols), &mut stack);
            let mut scx = StreamCx {
                cx: &mut cx,
                frame: 1,
                secs: 0,
                nanos: 0,
                stream_offset: at,
                stream: 0,
                tcp: self.tcp,
                ports: [0, 0],
                ordinal: 0,
            };
            let progress = parser.data(dir, rest, &mut scx);
            let len = rest.len();
            match progress {
                Progress::Done => {
                    self.at[d] = at + len as u64;
                    return Vec::new();
                }
                Progress::NeedMore { consumed, needed } => {
                    assert!(
                        consumed <= len && needed >= 1,
                        "NeedMore contract broken: consumed {consumed}, needed {needed}, given {len}"
                    );
                    if !self.tcp {
                        self.at[d] = at + len as u64;
                        return Vec::new();
                    }
                    let kept = rest[consumed..].to_vec();
                    self.at[d] = at + consumed as u64;
                    // The flow engine's rule: a `needed` beyond the tail may be a total size.
                    self.need[d] = if needed > kept.len() {
                        needed
                    } else {
                        kept.len().saturating_add(needed)
                    };
                    if kept.len() > MAX_TAIL {
                        self.at[d] += kept.len() as u64;
                        self.need[d] = 0;
                        parser.gap(dir, kept.len() as u64);
                        return Vec::new();
                    }
                    return kept;
                }
                Progress::Switch { proto, consumed } => {
                    assert!(consumed <= len, "Switch past the input: {consumed} > {len}");
                    let Some(next) = STREAM.iter().find(|s| s.proto().name == proto) else {
                        self.parser = None;
                        return Vec::new();
                    };
                    self.switched.push(proto);
                    self.parser = Some(next.start());
                    start += consumed;
                    at += consumed as u64;
                    if start >= buf.len() {
                        self.at[d] = at;
                        return Vec::new();
                    }
                }
                Progress::Fatal(_) => {
                    self.parser = None;
                    return Vec::new();
                }
            }
        }
    }

    /// Both directions end (the tails are offered once more, as at a FIN).
    pub fn end(&mut self) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let d = dir.index();
            let tail = std::mem::take(&mut self.tail[d]);
            if !tail.is_empty() && self.parser.is_some() {
                self.need[d] = 0;
                let at = self.at[d];
                let _ = self.run(dir, tail, at);
            }
            if let Some(p) = self.parser.as_mut() {
                let (mut stack, mut cols) = (ProtoStack::default(), Columns::default());
                let mut cx = Cx::new(&mut self.sink, Some(&mut cols), &mut stack);
                let mut scx = StreamCx {
                    cx: &mut cx,
                    frame: 1,
                    secs: 0,
                    nanos: 0,
                    stream_offset: self.at[d],
                    stream: 0,
                    ports: [0, 0],
                    ordinal: 0,
                    tcp: self.tcp,
                };
                p.end(dir, &mut scx);
            }
        }
    }
}

/// Reads a little-endian u16 from `data` at `at`, if there.
fn u16_at(data: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
    ])))
}

/// A stream input: which dissector, where the direction changes, and the cut points.
pub struct StreamInput<'a> {
    pub pick: usize,
    pub tcp: bool,
    /// The client's bytes, then the server's.
    pub to_server: &'a [u8],
    pub to_client: &'a [u8],
    /// Cut points (offsets into each direction's bytes, sorted, deduplicated).
    pub cuts: [Vec<usize>; 2],
}

/// Layout: `pick`, `flags` (bit 0: UDP datagrams, always for a UDP-only protocol), `split` (the direction change, in 256ths of
/// the payload), `n` cut points as `u16` LE (taken modulo each direction's length, half for
/// each direction), then the payload.
pub fn parse_stream_input(data: &[u8]) -> Option<StreamInput<'_>> {
    let (&pick, rest) = data.split_first()?;
    let (&flags, rest) = rest.split_first()?;
    let (&split, rest) = rest.split_first()?;
    let (&n, rest) = rest.split_first()?;
    let n = usize::from(n % 32);
    let mut raw = Vec::with_capacity(n);
    for i in 0..n {
        raw.push(u16_at(rest, 2 * i)?);
    }
    let payload = rest.get(2 * n..)?;
    let at = payload.len() * usize::from(split) / 256;
    let (to_server, to_client) = payload.split_at(at);
    let mut cuts = [Vec::new(), Vec::new()];
    for (i, c) in raw.into_iter().enumerate() {
        let (side, len) = if i % 2 == 0 {
            (0, to_server.len())
        } else {
            (1, to_client.len())
        };
        if len > 1 {
            cuts[side].push(1 + c % (len - 1));
        }
    }
    for c in &mut cuts {
        c.sort_unstable();
        c.dedup();
    }
    // A protocol bound to UDP ports only (QUIC) always gets datagrams.
    let binds = STREAM[usize::from(pick) % STREAM.len()].binds();
    let udp_only = !binds.is_empty() && binds.iter().all(|b| b.0 == Table::UdpPort);
    Some(StreamInput {
        pick: usize::from(pick),
        tcp: flags & 1 == 0 && !udp_only,
        to_server,
        to_client,
        cuts,
    })
}

/// Pieces of `bytes` cut at `cuts`.
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for &c in cuts {
        if c > start && c < bytes.len() {
            out.push(&bytes[start..c]);
            start = c;
        }
    }
    out.push(&bytes[start..]);
    out
}

/// Feeds one direction, then the other, to a fresh driver; pieces cut at `cuts` when given.
pub fn drive(input: &StreamInput<'_>, cut: bool) -> Driver {
    let mut d = Driver::new(input.pick, input.tcp);
    for (dir, bytes, cuts) in [
        (Direction::ToServer, input.to_server, &input.cuts[0]),
        (Direction::ToClient, input.to_client, &input.cuts[1]),
    ] {
        let no_cuts = Vec::new();
        let cuts = if cut { cuts } else { &no_cuts };
        for piece in pieces(bytes, cuts) {
            d.data(dir, piece);
        }
    }
    d.end();
    d
}

/// What a run emitted, with what legitimately depends on where the bytes were cut taken out:
/// bytes a parser shows as `data` in the frame that carried them (Wireshark's continuation
/// data) are joined into one run of bytes, without lengths or spans, and layer entries (one
/// per frame that carried something) are left out: field names carry their protocol.
pub fn normalized(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut data = String::new();
    for l in lines {
        if l.starts_with("layer ") || l.starts_with("data.len=") {
            continue;
        }
        if let Some(v) = l.strip_prefix("data.data=") {
            data.push_str(v.split('@').next().unwrap_or(""));
            continue;
        }
        if !data.is_empty() {
            out.push(format!("data {}", std::mem::take(&mut data)));
        }
        out.push(l.clone());
    }
    if !data.is_empty() {
        out.push(format!("data {data}"));
    }
    out
}

/// The `stream` target. Over TCP the cut run must emit exactly what the whole run emits; over
/// UDP each piece is a datagram and only the absence of panics is checked.
pub fn stream(data: &[u8]) {
    let Some(input) = parse_stream_input(data) else {
        return;
    };
    let cut = drive(&input, true);
    if !input.tcp {
        return;
    }
    let whole = drive(&input, false);
    let (w, c) = (normalized(&whole.sink.lines), normalized(&cut.sink.lines));
    if w != c {
        let first = w
            .iter()
            .zip(&c)
            .position(|(a, b)| a != b)
            .unwrap_or(w.len().min(c.len()));
        panic!(
            "{}: cut at {:?} emits differently from whole (first difference at line {first}):\n\
             whole: {:?}\ncut:   {:?}",
            STREAM[input.pick % STREAM.len()].proto().name,
            input.cuts,
            w.get(first.saturating_sub(2)..(first + 3).min(w.len())),
            c.get(first.saturating_sub(2)..(first + 3).min(c.len())),
        );
    }
}

/// What a decoder yields for a block, as comparable text.
fn hpack_run(dec: &mut Decoder, block: &[u8], cuts: &[usize], out: &mut Vec<String>) {
    let parts = pieces(block, cuts);
    let last = parts.len().saturating_sub(1);
    for (i, p) in parts.iter().enumerate() {
        let r = dec.decode(p, i == last, &mut |e| match e {
            HpackEvent::Field(f) => out.push(format!(
                "{:?}: {:?} ({}, {})",
                String::from_utf8_lossy(f.name),
                String::from_utf8_lossy(f.value),
                f.repr.name(),
                f.index
            )),
            HpackEvent::SizeUpdate { size, .. } => out.push(format!("size {size}")),
        });
        if let Err(e) = r {
            out.push(format!("error {}", e.reason()));
            return;
        }
    }
}

/// The `hpack` target: `flags` (bit 0: a mid-connection decoder; bit 1: a SETTINGS table size
/// follows as `u16`), `n` cut points as `u16` LE, then two header blocks split at the byte
/// `split` (in 256ths). Each block is decoded whole by one decoder and in fragments by another;
/// the fields, errors and table sizes must agree.
pub fn hpack(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (settings, rest) = if flags & 2 != 0 {
        let Some(s) = u16_at(rest, 0) else {
            return;
        };
        (Some(s as u32), rest.get(2..).unwrap_or(&[]))
    } else {
        (None, rest)
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let Some((&split, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(n % 16);
    let mut cuts = Vec::with_capacity(n);
    for i in 0..n {
        let Some(c) = u16_at(rest, 2 * i) else {
            return;
        };
        cuts.push(c);
    }
    let Some(blocks) = rest.get(2 * n..) else {
        return;
    };
    let (a, b) = blocks.split_at(blocks.len() * usize::from(split) / 256);
    let new = || {
        let mut d = if flags & 1 != 0 {
            Decoder::mid_connection()
        } else {
            Decoder::new()
        };
        if let Some(s) = settings {
            d.settings_table_size(s);
        }
        d
    };
    let (mut whole, mut cut) = (new(), new());
    for block in [a, b] {
        let mut cuts_here: Vec<usize> = cuts
            .iter()
            .filter(|_| block.len() > 1)
            .map(|c| 1 + c % (block.len().max(2) - 1))
            .collect();
        cuts_here.sort_unstable();
        cuts_here.dedup();
        let (mut w, mut c) = (Vec::new(), Vec::new());
        hpack_run(&mut whole, block, &[], &mut w);
        hpack_run(&mut cut, block, &cuts_here, &mut c);
        assert_eq!(
            w, c,
            "HPACK block decoded differently when cut at {cuts_here:?}"
        );
        assert_eq!(
            whole.table_size(),
            cut.table_size(),
            "dynamic table size differs"
        );
    }
}
