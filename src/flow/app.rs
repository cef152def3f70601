//! Application protocols over flows: which protocol a flow speaks, and the driver that feeds
//! its [`StreamParser`] (the equivalent of Suricata's `AppLayerHandleTCPData`).
//!
//! # For protocol authors: what the driver guarantees
//!
//! Write a [`StreamDissector`] (in `dissectors/src/proto/NAME.rs`, one line in the `stream`
//! part of the `protocols!` registry) and its [`StreamParser`]. The flow engine then does the
//! rest:
//!
//! **Detection**, once per flow, first match wins (tshark's order):
//! 1. a `-d tcp.port==P,NAME` / `udp.port==P,NAME` rule for the server port (from the SYN),
//!    then the lower port, then the higher one;
//! 2. your [`StreamDissector::binds`] (`Bind(Table::TcpPort, 80)`), same port order;
//! 3. otherwise every dissector's [`StreamDissector::probe`] over the first bytes of the first
//!    direction that sends any (up to [`MAX_PROBE_DEPTH`] bytes for TCP; up to
//!    [`MAX_PROBE_DATAGRAMS`] datagrams for UDP). `Probe::NeedMore` waits for more bytes;
//!    `Probe::No` from every dissector (or the depth reached) means no protocol: the payload
//!    shows as `data`, as in tshark.
//!
//! One parser per flow ([`StreamDissector::start`]) serves both directions; `dir` says which
//! (`ToServer` is from the side that sent the SYN, or from the higher port when the handshake
//! was not captured).
//!
//! **TCP**: [`StreamParser::data`] receives each direction's bytes in stream order, exactly once:
//! retransmissions and overlaps removed, out-of-order segments put back in order (see
//! `reassembly.rs`). A call may hold part of a segment, one segment, or many (a PDU split at
//! any byte, or many PDUs in one segment, are both normal). Answer with [`Progress`]:
//! * `Done`: everything given was used.
//! * `NeedMore { consumed, needed }`: the first `consumed` bytes were used; the engine keeps the
//!   rest (the tail) and calls again with the tail plus new bytes once at least `needed` bytes
//!   *beyond the tail* arrived (a 9-byte frame header of which 5 bytes are here is
//!   `needed: 4`) — or once more when the direction ends. `consumed ≤ len`, `needed ≥ 1`
//!   (debug builds assert it; release builds count a violation and stop the flow's parser).
//!   A `needed` larger than the tail is also read as Suricata's count (the size from
//!   `consumed`): the engine calls once the tail reaches it, never later than the bytes are
//!   complete (a parser counting beyond the tail may be called early and asks again). Never
//!   buffer stream bytes yourself.
//! * `Switch { proto, consumed }`: from byte `consumed` on, the stream is `proto` (HTTP
//!   `Upgrade` → `websocket` or `http2`): the engine starts that protocol's parser and hands
//!   it the rest. Unknown names stop parsing.
//! * `Fatal(m)`: the stream cannot be parsed further; the frame gets `_ws.malformed` and the
//!   flow's later payload shows as `data`.
//!
//! [`StreamParser::gap`] tells you `len` bytes were never captured (a packet the capture
//! lost, or a segment cut by the snapshot length): resynchronise or stop decoding. The tail
//! you asked to keep is dropped at a gap. [`StreamParser::end`] is called once per direction:
//! at its FIN, at a RST (both directions), at the end of the capture, or when the flow is
//! evicted; at the end of the capture and at eviction `cx` belongs to no frame (fields go
//! nowhere).
//!
//! **UDP**: one call to `data` per datagram, in capture order; `NeedMore` is meaningless there
//! and treated as `Done`.
//!
//! **Attribution**: `data` runs while the frame that delivered the bytes is being dissected,
//! and [`StreamCx::cx`] is that frame's context: what you emit belongs to the frame holding the
//! last byte of your PDU, as Wireshark does. Open your layer with `cx.layer(&PROTO, span)`
//! (it records your protocol in `frame.protocols`); spans are offsets in this direction's
//! stream (`StreamCx::stream_offset` is the offset of the first byte you were given). Write
//! the Info column through `cx.info("PROTO")`. A frame whose bytes all went into an
//! incomplete PDU gets tshark's `[TCP segment of a reassembled PDU]` note.
//!
//! **Limits**: a parser asking to keep more than [`MAX_TAIL`] bytes gets a gap instead (count
//! in the run summary); skip large bodies by consuming them rather than asking for them whole.

use super::reassembly::Chunk;
use crate::cli::config::DecodeAs;
use netsniff_dissectors::proto::{self, data, tcp};
use netsniff_dissectors::{
    Cx, Direction, Probe, Progress, Span, StreamCx, StreamDissector, StreamParser, Table, Value,
};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;

/// Bytes of each TCP direction probed before concluding no protocol matches.
pub const MAX_PROBE_DEPTH: usize = 4096;
/// UDP datagrams probed before concluding no protocol matches.
pub const MAX_PROBE_DATAGRAMS: u32 = 4;
/// Unconsumed bytes kept for a parser per direction (a PDU larger than this is not buffered
/// whole: the parser gets a gap).
pub const MAX_TAIL: usize = 1 << 20;

/// Capacity an empty tail keeps (so a run of large PDUs does not reallocate for each); a
/// larger buffer is freed once empty.
const RETAINED_TAIL_CAPACITY: usize = 256 * 1024;
/// Makes room in `tail` for `more` bytes, and for the whole of what the parser awaits
/// (`need` bytes in all, as far as a tail may hold): a PDU arriving in many segments is then
/// buffered in one allocation (growing by doubling, it was copied again at each step).
fn reserve_awaited(tail: &mut Vec<u8>, need: usize, more: usize) {
    let len = tail.len();
    let room = need.min(MAX_TAIL + 1).max(len + more);
    tail.reserve_exact(room - len);
}

/// Frames a tail's reassembly item lists at most; past it the item is not drawn.
const MAX_TAIL_FRAMES: usize = 8192;
/// tshark's longest item label (its `[N Reassembled TCP Segments …]` line is cut there).
const ITEM_LABEL_MAX: usize = 239;

/// Whether the output shows TCP's reassembly items (`TCP segment data`, `[N Reassembled TCP
/// Segments …]`): trees draw them, and `-T fields` may ask for their fields.
pub fn reassembly_items_wanted(cx: &Cx<'_>) -> bool {
    (cx.wants_text() && cx.wants(&tcp::PROTO))
        || [
            &tcp::SEGMENT_DATA,
            &tcp::SEGMENT,
            &tcp::SEGMENT_COUNT,
            &tcp::REASSEMBLED_LENGTH,
            &tcp::REASSEMBLED_DATA,
        ]
        .into_iter()
        .any(|f| cx.wants_field(f))
}

/// `TCP segment data (N bytes)` in the TCP layer: bytes of this segment that belong to a PDU
/// spanning segments.
pub fn segment_data(cx: &mut Cx<'_>, bytes: &[u8]) {
    segment_data_labelled(cx, "", bytes);
}

/// `Retransmitted TCP segment data (N bytes)`: tshark's reassembly sets aside the payload of a
/// retransmission it may reassemble (one captured whole) instead of dissecting it again.
pub fn retransmitted_segment_data(cx: &mut Cx<'_>, bytes: &[u8]) {
    segment_data_labelled(cx, "Retransmitted ", bytes);
}

fn segment_data_labelled(cx: &mut Cx<'_>, label: &str, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    cx.sink.layer(&tcp::PROTO, Span::new(0, n));
    cx.field_line(
        &tcp::SEGMENT_DATA,
        Span::new(0, n),
        Value::Bytes(bytes),
        |t| {
            let _ = write!(
                t,
                "{label}TCP segment data ({n} byte{})",
                if n == 1 { "" } else { "s" }
            );
        },
    );
}

/// tshark's `[N Reassembled TCP Segments (M bytes): #a(x), …]` item, before the layers of
/// the PDU `pdu` that `frames` (frame, bytes) carried.
fn reassembled(cx: &mut Cx<'_>, frames: &[(u64, usize)], pdu: &[u8]) {
    cx.sink
        .layer_at_mark(&tcp::SEGMENTS, Span::new(0, pdu.len()));
    cx.retitle(|t| {
        let _ = write!(
            t,
            "[{} Reassembled TCP Segments ({} bytes): ",
            frames.len(),
            pdu.len()
        );
        let pieces = frames.iter().map(|&(f, n)| (f, n as u64));
        netsniff_dissectors::text::push_frame_list(t, pieces, ITEM_LABEL_MAX + 1);
        // The label is cut, not marked; the `[` before it does not count.
        netsniff_dissectors::text::cut_label(t, ITEM_LABEL_MAX + 1);
        t.push(']');
    });
    let mut from = 0u64;
    for &(f, n) in frames {
        cx.field_line(&tcp::SEGMENT, Span::GENERATED, Value::U(f), |t| {
            netsniff_dissectors::text::push_frame_piece(t, f, from, n as u64);
        });
        from += n as u64;
    }
    cx.field(
        &tcp::SEGMENT_COUNT,
        Span::GENERATED,
        Value::U(frames.len() as u64),
    );
    cx.field(
        &tcp::REASSEMBLED_LENGTH,
        Span::GENERATED,
        Value::U(pdu.len() as u64),
    );
    cx.field(&tcp::REASSEMBLED_DATA, Span::GENERATED, Value::Bytes(pdu));
}

/// TCP ports Wireshark binds to a dissector netsniff does not have. tshark's dissector on
/// these ports holds the payload waiting for a PDU, so tshark shows neither `data` nor a
/// protocol; netsniff shows the same.
pub const FOREIGN_TCP_PORTS: &[(u16, &str)] = &[(7000, "gryphon")];

/// Which protocol goes with which port, and the probes: the stream half of the registry, plus
/// the user's `-d` rules.
pub struct Registry {
    /// Whether parsers run; when no output shows application fields (`-q -z conv,tcp`,
    /// `netsniff flows`) detection alone names each flow's protocol.
    pub parse: bool,
    /// Whether protocols are detected at all: not when no output names them (`-q -z
    /// conv,tcp` alone), every flow then being unclaimed and no payload looked at.
    pub detect: bool,
    decode_as: Vec<DecodeAs>,
    ports: FxHashMap<(Table, u16), &'static dyn StreamDissector>,
    all: &'static [&'static dyn StreamDissector],
}

/// What detection decided for a flow, before any byte was seen.
#[derive(Clone, Copy)]
pub enum Verdict {
    /// This protocol, by port or `-d` rule.
    Proto(&'static dyn StreamDissector),
    /// A port tshark gives to a dissector netsniff does not have.
    Foreign,
    /// Probe the first bytes.
    Probe,
    /// Nothing: no output names the flow's protocol ([`Registry::detect`]).
    Nothing,
}

impl Registry {
    /// The registry of `netsniff_dissectors::proto::STREAM` with the `-d` rules.
    pub fn new(decode_as: Vec<DecodeAs>) -> Registry {
        Registry::with(proto::STREAM, decode_as)
    }

    /// A registry over the given dissectors (tests use their own).
    pub fn with(
        all: &'static [&'static dyn StreamDissector],
        decode_as: Vec<DecodeAs>,
    ) -> Registry {
        let mut ports = FxHashMap::default();
        for d in all {
            for b in d.binds() {
                if matches!(b.0, Table::TcpPort | Table::UdpPort) {
                    let port = u16::try_from(b.1).unwrap_or(0);
                    ports.entry((b.0, port)).or_insert(*d);
                }
            }
        }
        Registry {
            parse: true,
            detect: true,
            decode_as,
            ports,
            all,
        }
    }

    /// The same registry, detecting protocols without running their parsers.
    pub fn detect_only(mut self) -> Registry {
        self.parse = false;
        self
    }

    /// The same registry, neither detecting nor parsing.
    pub fn detect_nothing(mut self) -> Registry {
        self.parse = false;
        self.detect = false;
        self
    }

    /// The stream dissector named `name` (for `Switch`).
    pub fn by_name(&self, name: &str) -> Option<&'static dyn StreamDissector> {
        self.all.iter().copied().find(|d| d.proto().name == name)
    }

    /// Detection by port: `-d` rules, then binds, each over the server port, the lower port
    /// and the higher port (tshark's `decode_tcp_ports` order).
    pub fn by_port(&self, table: Table, server: Option<u16>, a: u16, b: u16) -> Verdict {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let order = [server, Some(lo), Some(hi)];
        let ports = || order.into_iter().flatten().filter(|p| *p != 0);
        ports()
            .find_map(|port| self.rule(table, port))
            .or_else(|| ports().find_map(|port| self.bind(table, port)))
            .unwrap_or(Verdict::Probe)
    }

    /// The protocol a `-d` rule gives `port`.
    fn rule(&self, table: Table, port: u16) -> Option<Verdict> {
        let rule = self
            .decode_as
            .iter()
            .find(|r| r.table == table && r.port == port)?;
        self.by_name(rule.proto).map(Verdict::Proto)
    }

    /// The protocol (or foreign dissector) bound to `port`.
    fn bind(&self, table: Table, port: u16) -> Option<Verdict> {
        if let Some(d) = self.ports.get(&(table, port)) {
            return Some(Verdict::Proto(*d));
        }
        let foreign = table == Table::TcpPort && FOREIGN_TCP_PORTS.iter().any(|(p, _)| *p == port);
        foreign.then_some(Verdict::Foreign)
    }

    /// The ports whose flows [`Registry::by_port`] never leaves to the probes.
    pub fn claimed_ports(&self) -> ClaimedPorts {
        let mut claimed = ClaimedPorts {
            bits: [vec![0; 1024], vec![0; 1024]],
        };
        let rules = self.decode_as.iter().map(|r| (r.table, r.port));
        let binds = self.ports.keys().copied();
        let foreign = FOREIGN_TCP_PORTS.iter().map(|(p, _)| (Table::TcpPort, *p));
        for (table, port) in rules.chain(binds).chain(foreign) {
            let t = match table {
                Table::TcpPort => 0,
                Table::UdpPort => 1,
                _ => continue,
            };
            // A rule naming a protocol netsniff lacks claims nothing (nor does port 0).
            let named = port != 0
                && self
                    .rule(table, port)
                    .or_else(|| self.bind(table, port))
                    .is_some();
            if let (true, Some(word)) = (named, claimed.bits[t].get_mut(usize::from(port / 64))) {
                *word |= 1 << (port % 64);
            }
        }
        claimed
    }
}

/// One bit a TCP and a UDP port: whether a flow on it gets its protocol from the port alone
/// (a `-d` rule, a bind, a foreign dissector), so that detection never looks at its bytes.
/// The reader asks it of every frame when protocols are only detected (`netsniff flows`).
#[derive(Debug, Clone)]
pub struct ClaimedPorts {
    /// TCP, then UDP: 1024 words of 64 ports.
    bits: [Vec<u64>; 2],
}

impl ClaimedPorts {
    /// Whether either port of a TCP (`tcp`) or UDP flow is claimed.
    pub fn either(&self, tcp: bool, a: u16, b: u16) -> bool {
        let words = &self.bits[usize::from(!tcp)];
        let has = |p: u16| {
            words
                .get(usize::from(p / 64))
                .is_some_and(|w| w & (1 << (p % 64)) != 0)
        };
        has(a) || has(b)
    }
}

/// The frame being processed, as parsers see it.
#[derive(Debug, Clone, Copy)]
pub struct FrameCtx {
    pub frame: u64,
    pub secs: i64,
    pub nanos: u32,
    pub stream: u64,
    pub tcp: bool,
    /// The flow's two ports (lower endpoint first).
    pub ports: [u16; 2],
}

/// Protocols [`AppStats::ordinals`] counts flows of.
pub const MAX_ORDINALS: usize = 16;

impl AppStats {
    /// The next flow number of protocol `proto` (0 for its first flow).
    fn next_ordinal(&mut self, proto: &'static str) -> u64 {
        for slot in &mut self.ordinals {
            match slot {
                (Some(p), n) if *p == proto => {
                    *n += 1;
                    return *n - 1;
                }
                (None, _) => {
                    *slot = (Some(proto), 1);
                    return 0;
                }
                _ => {}
            }
        }
        0
    }
}

/// Counters of the driver, reported in the run summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct AppStats {
    /// Parsers that returned `Fatal`.
    pub fatal: u64,
    /// `Progress` values that broke the contract.
    pub contract_violations: u64,
    /// Flows each protocol's parser has parsed (the first [`MAX_ORDINALS`] protocols), for
    /// [`StreamCx::ordinal`].
    pub ordinals: [(Option<&'static str>, u64); MAX_ORDINALS],
    /// Tails dropped because a parser wanted more than [`MAX_TAIL`] bytes kept.
    pub tail_overflows: u64,
    /// `Switch` to a protocol netsniff does not have.
    pub unknown_switch: u64,
}

enum Stage {
    /// Looking at the first bytes (TCP) or datagrams (UDP).
    Probing { bufs: [Vec<u8>; 2], datagrams: u32 },
    /// A protocol parses the flow.
    Parsing(Box<dyn StreamParser>),
    /// No protocol: payload shows as data.
    Unclaimed,
    /// tshark gives this flow to a dissector netsniff lacks: payload shows as nothing.
    Foreign,
    /// The parser gave up: later payload shows as data.
    Failed,
    /// The protocol is known, but no output needs it parsed.
    Detected,
}

/// Parsers of ended flows, recycled for new flows of their protocol (see
/// [`StreamParser::recycle`]).
#[derive(Default)]
pub struct ParserPool {
    free: Vec<(&'static netsniff_dissectors::Proto, Box<dyn StreamParser>)>,
}

/// Parsers a [`ParserPool`] keeps at most (together).
const POOLED_PARSERS: usize = 64;

impl ParserPool {
    /// A recycled parser of `proto`, if one is kept.
    fn take(
        &mut self,
        proto: &'static netsniff_dissectors::Proto,
    ) -> Option<Box<dyn StreamParser>> {
        let at = self
            .free
            .iter()
            .rposition(|(p, _)| std::ptr::eq(*p, proto))?;
        Some(self.free.swap_remove(at).1)
    }

    /// Keeps `parser` for a later flow, if it can be recycled and there is room.
    fn put(&mut self, mut parser: Box<dyn StreamParser>) {
        if self.free.len() < POOLED_PARSERS {
            if let Some(proto) = parser.recycle() {
                self.free.push((proto, parser));
            }
        }
    }
}

/// The application layer of one flow.
pub struct App {
    stage: Stage,
    /// The protocol parsing the flow (after a `Switch`, the new one).
    pub proto: Option<&'static str>,
    /// Per direction (index [`Direction::index`]): bytes the parser has not consumed yet.
    tail: [Vec<u8>; 2],
    /// Stream offset of the first byte of `tail`.
    tail_at: [u64; 2],
    /// Call the parser again once the tail holds this many bytes.
    need: [usize; 2],
    /// For trees (`-V`, JSON) only: the frames whose bytes the tail holds, and how many of
    /// each, for tshark's `[N Reassembled TCP Segments …]` item (`None` past the cap).
    tail_frames: [Option<Vec<(u64, usize)>>; 2],
    /// This flow's number among its protocol's flows (set when its parser first runs).
    ordinal: Option<u64>,
    ended: [bool; 2],
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("proto", &self.proto).finish()
    }
}

/// What feeding one frame's bytes produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fed {
    /// Bytes handed to a parser.
    pub bytes: u64,
}

impl App {
    /// The application layer of a new flow, as decided by ports (`parse`: whether its parser
    /// runs, or the protocol is only named).
    pub fn new(verdict: Verdict, parse: bool, pool: &mut ParserPool) -> App {
        let (stage, proto) = match verdict {
            Verdict::Proto(d) if !parse => (Stage::Detected, Some(d.proto().name)),
            Verdict::Proto(d) => {
                let parser = pool.take(d.proto()).unwrap_or_else(|| d.start());
                (Stage::Parsing(parser), Some(d.proto().name))
            }
            Verdict::Foreign => (Stage::Foreign, None),
            Verdict::Nothing => (Stage::Unclaimed, None),
            Verdict::Probe => (
                Stage::Probing {
                    bufs: [Vec::new(), Vec::new()],
                    datagrams: 0,
                },
                None,
            ),
        };
        App {
            stage,
            proto,
            tail: [Vec::new(), Vec::new()],
            tail_at: [0, 0],
            need: [0, 0],
            tail_frames: [Some(Vec::new()), Some(Vec::new())],
            ordinal: None,
            ended: [false, false],
        }
    }

    /// A flow that no protocol will ever claim (probing disabled or nothing to probe with).
    pub fn unclaimed() -> App {
        App::new(Verdict::Nothing, false, &mut ParserPool::default())
    }

    /// Gives the flow's parser (once the flow ended) back to `pool`.
    pub fn recycle(&mut self, pool: &mut ParserPool) {
        if let Stage::Parsing(parser) = std::mem::replace(&mut self.stage, Stage::Failed) {
            pool.put(parser);
        }
    }

    /// Whether a protocol owns the payload (so it is not shown as `data`).
    pub fn claims(&self) -> bool {
        matches!(self.stage, Stage::Parsing(_) | Stage::Detected)
    }

    /// Whether tshark gives the payload to a dissector netsniff lacks.
    pub fn is_foreign(&self) -> bool {
        matches!(self.stage, Stage::Foreign)
    }

    /// Whether ending the flow has work to do: a parser to end, or bytes held for one or for
    /// a probe. (A protocol only detected has neither: `netsniff flows` names protocols
    /// without parsing them.)
    pub fn needs_end(&self) -> bool {
        self.wants_bytes()
    }

    /// Whether reassembled bytes are still wanted.
    pub fn wants_bytes(&self) -> bool {
        matches!(self.stage, Stage::Parsing(_) | Stage::Probing { .. })
    }

    /// Bytes held for parsers and probes (for the memory estimate).
    pub fn held_bytes(&self) -> usize {
        let probe = match &self.stage {
            Stage::Probing { bufs, .. } => bufs.iter().map(Vec::capacity).sum(),
            // The parser's own state (its heap, if any, is the parser's to bound).
            Stage::Parsing(p) => std::mem::size_of_val(&**p),
            _ => 0,
        };
        probe + self.tail.iter().map(Vec::capacity).sum::<usize>()
    }

    /// Feeds one in-order chunk of a TCP direction. `at` is the stream offset of its first
    /// byte.
    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    pub fn tcp_chunk(
        &mut self,
        reg: &Registry,
        dir: Direction,
        chunk: Chunk<'_>,
        at: u64,
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) -> Fed {
        let d = dir.index();
        match chunk {
            Chunk::Gap(len) => {
                match &mut self.stage {
                    Stage::Parsing(p) => p.gap(dir, len),
                    Stage::Probing { .. } => self.stage = Stage::Unclaimed,
                    _ => {}
                }
                if let Some(t) = self.tail.get_mut(d) {
                    t.clear();
                }
                if let Some(frames) = self.tail_frames.get_mut(d) {
                    *frames = Some(Vec::new());
                }
                self.need[d] = 0;
                Fed::default()
            }
            Chunk::Data(bytes) => {
                if let Stage::Probing { bufs, .. } = &mut self.stage {
                    let Some(buf) = bufs.get_mut(d) else {
                        return Fed::default();
                    };
                    if buf.is_empty() {
                        self.tail_at[d] = at;
                    }
                    let room = MAX_PROBE_DEPTH.saturating_sub(buf.len());
                    buf.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
                    let overflow = bytes.len() > room;
                    match probe_all(reg, dir, buf) {
                        Probe::Yes => {}
                        Probe::NeedMore if !overflow && buf.len() < MAX_PROBE_DEPTH => {
                            return Fed::default();
                        }
                        _ => {
                            self.stage = Stage::Unclaimed;
                            return Fed::default();
                        }
                    }
                    return self.start_after_probe(reg, dir, bytes, room, f, cx, stats);
                }
                self.feed(reg, dir, bytes, at, f, cx, stats)
            }
        }
    }

    /// A probe said yes on direction `dir`: start the parser and give it what was buffered
    /// (this direction first), then the part of `bytes` the probe buffer could not hold.
    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    fn start_after_probe(
        &mut self,
        reg: &Registry,
        dir: Direction,
        bytes: &[u8],
        used: usize,
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) -> Fed {
        let Stage::Probing { bufs, .. } = &mut self.stage else {
            return Fed::default();
        };
        let d = dir.index();
        let mine = std::mem::take(&mut bufs[d]);
        let theirs = std::mem::take(&mut bufs[1 - d]);
        let Some(found) = reg
            .all
            .iter()
            .copied()
            .find(|s| s.probe(dir, &mine) == Probe::Yes)
        else {
            self.stage = Stage::Unclaimed;
            return Fed::default();
        };
        self.proto = Some(found.proto().name);
        if !reg.parse {
            self.stage = Stage::Detected;
            return Fed::default();
        }
        self.stage = Stage::Parsing(found.start());
        let (at_mine, at_theirs) = (self.tail_at[d], self.tail_at[1 - d]);
        let mut fed = self.feed(reg, dir, &mine, at_mine, f, cx, stats);
        if !theirs.is_empty() {
            let other = dir.reverse();
            fed.bytes += self
                .feed(reg, other, &theirs, at_theirs, f, cx, stats)
                .bytes;
        }
        let rest = bytes.get(used.min(bytes.len())..).unwrap_or(&[]);
        if !rest.is_empty() {
            let at = at_mine + mine.len() as u64;
            fed.bytes += self.feed(reg, dir, rest, at, f, cx, stats).bytes;
        }
        fed
    }

    /// Hands `bytes` (at stream offset `at`) to the parser, with the tail kept from before.
    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    fn feed(
        &mut self,
        reg: &Registry,
        dir: Direction,
        bytes: &[u8],
        at: u64,
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) -> Fed {
        let d = dir.index();
        if !matches!(self.stage, Stage::Parsing(_)) || bytes.is_empty() {
            return Fed::default();
        }
        let fed = Fed {
            bytes: bytes.len() as u64,
        };
        // Trees show which bytes of which frames make up a PDU that spans segments.
        let tree = reassembly_items_wanted(cx);
        let mut tail = std::mem::take(&mut self.tail[d]);
        if tail.is_empty() {
            self.tail_at[d] = at;
            if let Some(k) = self.run(reg, dir, bytes, f, cx, stats) {
                let rest = bytes.get(k..).unwrap_or(&[]);
                reserve_awaited(&mut tail, self.need[d], rest.len());
                tail.extend_from_slice(rest);
                if tree && !rest.is_empty() {
                    segment_data(cx, rest);
                    self.tail_frames[d] = Some(vec![(f.frame, rest.len())]);
                }
            }
        } else {
            let held = tail.len();
            reserve_awaited(&mut tail, self.need[d], bytes.len());
            tail.extend_from_slice(bytes);
            if tree && tail.len() < self.need[d] {
                segment_data(cx, bytes);
                self.held_from(d, f.frame, bytes.len());
            }
            if tail.len() < self.need[d] {
                if tail.len() > MAX_TAIL {
                    stats.tail_overflows += 1;
                    let dropped = tail.len() as u64;
                    tail.clear();
                    self.tail_frames[d] = Some(Vec::new());
                    self.need[d] = 0;
                    self.tail_at[d] += dropped;
                    if let Stage::Parsing(p) = &mut self.stage {
                        p.gap(dir, dropped);
                    }
                }
                self.tail[d] = tail;
                return fed;
            }
            let layers_before = cx.protocols.as_slice().len();
            let target = self.need[d];
            if tree {
                cx.sink.mark();
            }
            let kept = self.run(reg, dir, &tail, f, cx, stats);
            if tree {
                let consumed = kept.unwrap_or(tail.len()).min(tail.len());
                let completed = cx.protocols.as_slice().len() > layers_before;
                self.reassembly_items(d, f.frame, &tail, held, target, consumed, completed, cx);
            }
            match kept {
                // Keep the buffer (and its capacity): only the unconsumed rest moves.
                Some(k) => drop(tail.drain(..k.min(tail.len()))),
                None => tail.clear(),
            }
            // A PDU begun by bytes kept from before ended here: tshark adds its reassembly
            // item (`tcp.segments` in `-z io,phs`) after that PDU's layers, before those of
            // the PDUs the rest of the segment holds (the next layer of the same protocol).
            let added = cx.protocols.as_slice().get(layers_before..).unwrap_or(&[]);
            if let Some(first) = added.first() {
                if cx.wants(&tcp::SEGMENTS) {
                    let next = added.iter().skip(1).position(|p| p == first);
                    let at = layers_before + next.map_or(added.len(), |i| i + 1);
                    cx.sink.layer(&tcp::SEGMENTS, Span::new(at, 0));
                }
            }
        }
        if tail.is_empty() && tail.capacity() > RETAINED_TAIL_CAPACITY {
            tail = Vec::new();
        }
        self.tail[d] = tail;
        fed
    }

    /// Notes that the tail of direction `d` got `n` bytes of `frame` (for trees).
    fn held_from(&mut self, d: usize, frame: u64, n: usize) {
        let Some(Some(frames)) = self.tail_frames.get_mut(d) else {
            return;
        };
        if let Some((f, len)) = frames.last_mut().filter(|(f, _)| *f == frame) {
            let _ = f;
            *len += n;
        } else if frames.len() < MAX_TAIL_FRAMES {
            frames.push((frame, n));
        } else if let Some(slot) = self.tail_frames.get_mut(d) {
            *slot = None;
        }
    }

    /// After the parser ran on a tail that held bytes of earlier frames (`held` of them, the
    /// rest this frame's): tshark's items for what was reassembled. When a PDU completed
    /// (`completed`: the parser added layers), this frame's share of it as `TCP segment data`,
    /// and before the PDU's layers `[N Reassembled TCP Segments (M bytes): #a(x), …]`; then
    /// what stays held as the start of the next PDU. The PDU ends where the parser asked the
    /// tail to reach (`target`) when that lies in what it consumed, else where it stopped.
    #[expect(
        clippy::too_many_arguments,
        reason = "the tail's state before and after the parser ran"
    )]
    fn reassembly_items(
        &mut self,
        d: usize,
        frame: u64,
        tail: &[u8],
        held: usize,
        target: usize,
        consumed: usize,
        completed: bool,
        cx: &mut Cx<'_>,
    ) {
        let new = tail.get(held..).unwrap_or(&[]);
        if !completed {
            // Still incomplete (the parser wanted more than it said): all of it is held.
            segment_data(cx, new);
            self.held_from(d, frame, new.len());
            return;
        }
        let end = if target > held + 1 && target < consumed {
            target
        } else {
            consumed
        };
        let mine = end.saturating_sub(held).min(new.len());
        segment_data(cx, new.get(..mine).unwrap_or(&[]));
        self.held_from(d, frame, mine);
        if let Some(Some(frames)) = self.tail_frames.get(d) {
            reassembled(cx, frames, tail.get(..end).unwrap_or(&[]));
        }
        let rest = tail.get(consumed..).unwrap_or(&[]);
        self.tail_frames[d] = Some(Vec::new());
        if !rest.is_empty() {
            segment_data(cx, rest);
            self.held_from(d, frame, rest.len());
        }
    }

    /// Calls the parser on `buf` (which starts at `tail_at[dir]`) until it consumed all it
    /// can; returns where in `buf` the rest to keep starts, if any.
    fn run(
        &mut self,
        reg: &Registry,
        dir: Direction,
        buf: &[u8],
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) -> Option<usize> {
        let d = dir.index();
        let whole = buf.len();
        let mut buf = buf;
        self.need[d] = 0;
        if self.ordinal.is_none() {
            self.ordinal = self.proto.map(|p| stats.next_ordinal(p));
        }
        loop {
            let Stage::Parsing(parser) = &mut self.stage else {
                return None;
            };
            let mut scx = StreamCx {
                cx: &mut *cx,
                frame: f.frame,
                secs: f.secs,
                nanos: f.nanos,
                stream_offset: self.tail_at[d],
                stream: f.stream,
                tcp: f.tcp,
                ports: f.ports,
                ordinal: self.ordinal.unwrap_or(0),
            };
            let progress = parser.data(dir, buf, &mut scx);
            let len = buf.len();
            match progress {
                Progress::Done => {
                    self.tail_at[d] += len as u64;
                    return None;
                }
                Progress::NeedMore { consumed, needed } => {
                    let ok = consumed <= len && needed >= 1;
                    debug_assert!(
                        ok,
                        "StreamParser broke the NeedMore contract: consumed {consumed}, \
                         needed {needed}, given {len}"
                    );
                    if !ok {
                        stats.contract_violations += 1;
                        self.stage = Stage::Failed;
                        return None;
                    }
                    if !f.tcp {
                        // One datagram per call: nothing to keep.
                        return None;
                    }
                    let rest = buf.get(consumed..).unwrap_or(&[]);
                    self.tail_at[d] += consumed as u64;
                    // `needed` counts bytes beyond the tail; one larger than the tail may be
                    // Suricata's size-from-`consumed`, so the smaller target is taken: never
                    // call later than the bytes are complete.
                    self.need[d] = if needed > rest.len() {
                        needed
                    } else {
                        rest.len().saturating_add(needed)
                    };
                    if rest.len() > MAX_TAIL {
                        stats.tail_overflows += 1;
                        self.tail_at[d] += rest.len() as u64;
                        self.need[d] = 0;
                        if let Stage::Parsing(p) = &mut self.stage {
                            p.gap(dir, rest.len() as u64);
                        }
                        return None;
                    }
                    return Some(whole - rest.len());
                }
                Progress::Switch { proto, consumed } => {
                    debug_assert!(consumed <= len, "StreamParser switched past its input");
                    if consumed > len {
                        stats.contract_violations += 1;
                        self.stage = Stage::Failed;
                        return None;
                    }
                    let Some(next) = reg.by_name(proto) else {
                        stats.unknown_switch += 1;
                        self.stage = Stage::Failed;
                        return None;
                    };
                    self.stage = Stage::Parsing(next.start());
                    self.proto = Some(next.proto().name);
                    self.tail_at[d] += consumed as u64;
                    buf = buf.get(consumed..).unwrap_or(&[]);
                    if buf.is_empty() {
                        return None;
                    }
                }
                Progress::Fatal(m) => {
                    stats.fatal += 1;
                    self.stage = Stage::Failed;
                    malformed(m, cx);
                    return None;
                }
            }
        }
    }

    /// Probes or parses one UDP datagram.
    pub fn udp_datagram(
        &mut self,
        reg: &Registry,
        dir: Direction,
        datagram: &[u8],
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) {
        if let Stage::Probing { datagrams, .. } = &mut self.stage {
            *datagrams += 1;
            let tried = *datagrams;
            let found = reg
                .all
                .iter()
                .copied()
                .find(|s| s.probe(dir, datagram) == Probe::Yes);
            match found {
                Some(s) if !reg.parse => {
                    self.stage = Stage::Detected;
                    self.proto = Some(s.proto().name);
                    return;
                }
                Some(s) => {
                    self.stage = Stage::Parsing(s.start());
                    self.proto = Some(s.proto().name);
                }
                None if tried >= MAX_PROBE_DATAGRAMS => {
                    self.stage = Stage::Unclaimed;
                    return;
                }
                None => return,
            }
        }
        if datagram.is_empty() {
            return;
        }
        self.tail_at[dir.index()] = 0;
        self.run(reg, dir, datagram, f, cx, stats);
    }

    /// Direction `dir` ended: the parser gets the tail it kept (once more) and `end`.
    pub fn end(
        &mut self,
        reg: &Registry,
        dir: Direction,
        f: &FrameCtx,
        cx: &mut Cx<'_>,
        stats: &mut AppStats,
    ) {
        let d = dir.index();
        if self.ended[d] {
            return;
        }
        self.ended[d] = true;
        let tail = std::mem::take(&mut self.tail[d]);
        if !tail.is_empty() {
            self.run(reg, dir, &tail, f, cx, stats);
        }
        self.need[d] = 0;
        if let Stage::Parsing(p) = &mut self.stage {
            let mut scx = StreamCx {
                cx,
                frame: f.frame,
                secs: f.secs,
                nanos: f.nanos,
                stream_offset: self.tail_at[d],
                stream: f.stream,
                tcp: f.tcp,
                ports: f.ports,
                ordinal: self.ordinal.unwrap_or(0),
            };
            p.end(dir, &mut scx);
        }
    }
}

/// The verdict of every probe on `buf`: `Yes` if one says yes, `NeedMore` if one may still.
fn probe_all(reg: &Registry, dir: Direction, buf: &[u8]) -> Probe {
    let mut verdict = Probe::No;
    for d in reg.all {
        match d.probe(dir, buf) {
            Probe::Yes => return Probe::Yes,
            Probe::NeedMore => verdict = Probe::NeedMore,
            Probe::No => {}
        }
    }
    verdict
}

/// Marks the frame malformed where a parser gave up, as the dissect stage does for layers.
fn malformed(m: netsniff_dissectors::Malformed, cx: &mut Cx<'_>) {
    cx.protocols.push("_ws.malformed");
    if cx.wants(&data::MALFORMED) {
        cx.sink.layer(&data::MALFORMED, Span::GENERATED);
        cx.field(
            &data::MALFORMED_REASON,
            Span::GENERATED,
            Value::Str(m.reason),
        );
    }
    if let Some(cols) = cx.cols.as_deref_mut() {
        use std::fmt::Write as _;
        let _ = write!(cols.info, " {m}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port is claimed exactly when detection by port never probes a flow on it, whichever
    /// side the server is: with `-d` rules (one naming a protocol netsniff does not have,
    /// which claims nothing) over binds, and the foreign port.
    #[test]
    fn claimed_ports_are_the_ports_detection_never_probes() {
        let rule = |table, port, proto| DecodeAs { table, port, proto };
        let reg = Registry::new(vec![
            rule(Table::TcpPort, 8080, "http"),
            rule(Table::TcpPort, 9999, "no-such-protocol"),
            rule(Table::UdpPort, 4433, "quic"),
            rule(Table::TcpPort, 443, "no-such-protocol"),
        ]);
        let claimed = reg.claimed_ports();
        let unbound = 40_000;
        for (tcp, table) in [(true, Table::TcpPort), (false, Table::UdpPort)] {
            assert!(matches!(
                reg.by_port(table, None, unbound, unbound),
                Verdict::Probe
            ));
            for port in 0..=u16::MAX {
                for server in [None, Some(port), Some(unbound)] {
                    let probed =
                        matches!(reg.by_port(table, server, port, unbound), Verdict::Probe);
                    assert_eq!(
                        claimed.either(tcp, port, unbound),
                        !probed,
                        "{table:?} {port}"
                    );
                    assert_eq!(claimed.either(tcp, unbound, port), !probed);
                }
            }
        }
        for (tcp, port) in [(true, 8080), (true, 443), (true, 7000), (false, 4433)] {
            assert!(claimed.either(tcp, port, unbound), "{port}");
        }
        assert!(!claimed.either(true, 9999, unbound));
        assert!(!claimed.either(true, 0, 0));
    }
}
