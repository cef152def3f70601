//! The flow engine: sees every frame once, in capture order, after L2–L4 dissection, and knows
//! what each TCP and UDP conversation is doing.
//!
//! Per frame ([`FlowEngine::process`]):
//! 1. find or create the conversation ([`table`]: `tcp.stream` / `udp.stream` numbering as
//!    Wireshark's, roles, caps, eviction);
//! 2. for TCP, run Wireshark's sequence analysis ([`tcp_analysis`]: relative numbers, scaled
//!    window, `tcp.analysis.*`) and the per-endpoint RFC 9293 state machine ([`tcp_state`]),
//!    emit those fields into the `tcp` layer and rewrite the TCP Info column with relative
//!    numbers;
//! 3. put the payload in stream order ([`reassembly`]) and hand it to the flow's application
//!    parser ([`app`], which also documents the contract for protocol authors); payload no
//!    protocol claims becomes a `data` layer, exactly where tshark shows one.
//!
//! At the end of the run, [`FlowEngine::finish`] ends every parser; the conversation
//! summaries ([`FlowEngine::summaries`]) feed `netsniff flows` and `-z conv,tcp|udp`.
//!
//! Memory is bounded by the caps in [`table::FlowLimits`], [`reassembly`] and [`app`]; what
//! they drop is counted in [`FlowStats`].

pub mod app;
pub mod echo;
pub mod key;
pub mod reassembly;
pub mod table;
pub mod tcp_analysis;
pub mod tcp_state;
pub mod throughput;
pub mod tomb;

use crate::pipeline::KeptPayloads;
use app::{App, AppStats, FrameCtx, ParserPool, Registry, Verdict};
use key::{FlowKey, Keyed, Side, L4};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::{data, frame, icmp, icmpv6, tcp, udp};
use netsniff_dissectors::{
    Cx, Direction, Echo, FieldDef, FrameMeta, NullSink, PacketInfo, Span, Table, TcpInfo,
    Transport, UdpInfo, Value,
};
use reassembly::Chunk;
use table::{in_stream_order, Flow, FlowTable, Retired, TableStats};
pub use table::{FlowLimits, FlowSummary};
use tcp_analysis::{flag, Nanos, Segment, SegmentFacts, SynCheck};
use tomb::Tomb;

/// The fields the engine adds to layers that frame dissection made (besides every
/// `tcp.analysis.*` field): relative numbers, stream numbers, times, echo pairs.
static ADDED_TO_FRAME_LAYERS: &[&FieldDef] = &[
    &frame::PROTOCOLS,
    &tcp::STREAM,
    &tcp::SEQ,
    &tcp::ACK,
    &tcp::NXTSEQ,
    &tcp::WINDOW_SIZE,
    &tcp::WINDOW_SIZE_SCALEFACTOR,
    &tcp::TIME_RELATIVE,
    &tcp::TIME_DELTA,
    &tcp::PAYLOAD,
    &tcp::PDU_SIZE,
    &tcp::SEGMENT_DATA,
    &tcp::SEGMENT,
    &tcp::SEGMENT_COUNT,
    &tcp::REASSEMBLED_LENGTH,
    &tcp::REASSEMBLED_DATA,
    &tcp::COMPLETENESS,
    &tcp::CONNECTION_FIN_ACTIVE,
    &tcp::CONNECTION_FIN_PASSIVE,
    // Relative to the peer's initial sequence number, which only the flow engine knows.
    &tcp::SACK_LE,
    &tcp::SACK_RE,
    &tcp::DSACK_LE,
    &tcp::DSACK_RE,
    &tcp::DSACK,
    &udp::STREAM,
    &udp::TIME_RELATIVE,
    &udp::TIME_DELTA,
    &udp::PAYLOAD,
    &icmp::RESP_TO,
    &icmp::RESPTIME,
    &icmpv6::RESP_TO,
    &icmpv6::RESPTIME,
];

/// Whether an output of exactly these fields needs the flow engine: when every one is a field
/// frame dissection gives on its own (`ip.src`, `tcp.srcport`, `frame.len` …), the engine,
/// reassembly and application parsers are skipped, as tcpdump skips what it does not print.
/// `tests/outputs.rs` holds that skipping changes no value of any such field.
pub fn needed_for_fields(fields: &[&'static FieldDef]) -> bool {
    fields.iter().any(|def| !frame_dissection_field(def))
}

/// Whether an output of exactly these fields needs Wireshark's sequence analysis of each TCP
/// segment. Reassembly and the application parsers do not use it; the `tcp` fields, the Info
/// column, `data` (not dissected from retransmissions) and `frame.protocols` do. So it is
/// not needed when each field is one that frame dissection gives or an application parser
/// finds in the reassembled streams. (`tests/outputs.rs` holds that skipping it changes no
/// value of such fields.)
pub fn analysis_needed_for_fields(fields: &[&'static FieldDef]) -> bool {
    fields.iter().any(|&def| {
        let same = |f: &&FieldDef| std::ptr::eq(*f, def);
        let stream_field =
            netsniff_dissectors::proto::stream_protos().any(|p| p.fields.iter().any(same));
        !frame_dissection_field(def) && !stream_field
    })
}

fn frame_dissection_field(def: &'static FieldDef) -> bool {
    let same = |f: &&FieldDef| std::ptr::eq(*f, def);
    netsniff_dissectors::proto::frame_protos().any(|p| p.fields.iter().any(same))
        && !ADDED_TO_FRAME_LAYERS.iter().any(same)
        && !def.name.starts_with("tcp.analysis")
}

/// How often (capture time) idle flows are looked for.
const EXPIRE_INTERVAL: Nanos = 1_000_000_000;

/// Settings of the flow engine.
#[derive(Debug, Clone)]
pub struct FlowConfig {
    /// `-d` rules.
    pub decode_as: Vec<crate::cli::config::DecodeAs>,
    pub limits: FlowLimits,
    /// Run application parsers (`false` when no output shows their fields: the protocols
    /// are then only detected).
    pub parse_apps: bool,
    /// Detect application protocols (`false` when no output names them: payloads are then
    /// never looked at, and need not be kept).
    pub detect_apps: bool,
    /// Run Wireshark's TCP sequence analysis on every segment (`false` when no output shows
    /// what it finds: see [`analysis_needed_for_fields`]).
    pub tcp_analysis: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            decode_as: Vec::new(),
            limits: FlowLimits::default(),
            parse_apps: true,
            detect_apps: true,
            tcp_analysis: true,
        }
    }
}

/// What the engine dropped, expired or could not parse: reported in the run summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlowStats {
    pub table: TableStats,
    pub app: AppStats,
    /// Stream bytes never captured (gaps handed to parsers).
    pub gap_bytes: u64,
    /// Overlapping retransmissions whose bytes differed from the first copy.
    pub overlap_conflicts: u64,
    /// Echo requests forgotten unanswered because of [`echo::MAX_PENDING_ECHOES`].
    pub echo_dropped: u64,
}

/// The flow table and everything built on it.
pub struct FlowEngine {
    table: FlowTable,
    reg: Registry,
    /// ICMP/ICMPv6 echo requests waiting for their reply.
    echo: echo::EchoTable,
    app_stats: AppStats,
    gap_bytes: u64,
    overlap_conflicts: u64,
    retired: Vec<Retired>,
    last_expire: Nanos,
    last_frame: u64,
    last_time: (i64, u32),
    finished: bool,
    /// The protocol list of the context flows are ended in, outside any frame.
    end_stack: ProtoStack,
    /// Parsers of ended flows, for new ones.
    parsers: ParserPool,
    /// See [`FlowConfig::tcp_analysis`].
    tcp_analysis: bool,
    /// Leave each TCP segment's Info text as numbers in its columns (see
    /// [`netsniff_dissectors::Columns::tcp_text`]) for the outputs' thread to write, when this
    /// thread is the busier one.
    pub defer_tcp_info: bool,
}

impl std::fmt::Debug for FlowEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowEngine")
            .field("flows", &self.table.len())
            .finish()
    }
}

fn nanos(secs: i64, ns: u32) -> Nanos {
    secs.saturating_mul(1_000_000_000)
        .saturating_add(i64::from(ns))
}

/// The client of a new flow: the SYN's sender, the SYN/ACK's receiver, else the higher port
/// (servers listen on low, well-known ports), else the first sender.
fn client_of(side: Side, flags: Option<u16>, sport: u16, dport: u16) -> Side {
    match flags.map(|f| f & (TcpInfo::SYN | TcpInfo::ACK)) {
        Some(f) if f == TcpInfo::SYN => side,
        Some(f) if f == TcpInfo::SYN | TcpInfo::ACK => side.other(),
        _ if sport < dport => side.other(),
        _ => side,
    }
}

impl FlowEngine {
    pub fn new(config: FlowConfig) -> FlowEngine {
        let reg = Registry::new(config.decode_as);
        let reg = if config.parse_apps {
            reg
        } else if config.detect_apps {
            reg.detect_only()
        } else {
            reg.detect_nothing()
        };
        let mut engine = FlowEngine::with_registry(config.limits, reg);
        engine.tcp_analysis = config.tcp_analysis;
        engine
    }

    /// The transport payloads this engine looks at, for the reader to keep.
    pub fn kept_payloads(&self) -> KeptPayloads {
        if self.reg.parse {
            KeptPayloads::All
        } else if self.reg.detect {
            KeptPayloads::Unclaimed(self.reg.claimed_ports())
        } else {
            KeptPayloads::None
        }
    }

    /// An engine with its own protocol registry (tests plug in their parsers).
    pub fn with_registry(limits: FlowLimits, reg: Registry) -> FlowEngine {
        FlowEngine {
            table: FlowTable::new(limits),
            reg,
            echo: echo::EchoTable::default(),
            app_stats: AppStats::default(),
            gap_bytes: 0,
            overlap_conflicts: 0,
            retired: Vec::new(),
            last_expire: 0,
            last_frame: 0,
            last_time: (0, 0),
            finished: false,
            end_stack: ProtoStack::default(),
            parsers: ParserPool::default(),
            tcp_analysis: true,
            defer_tcp_info: false,
        }
    }

    /// Processes one dissected frame; `payload` is its captured transport payload.
    pub fn process(&mut self, meta: &FrameMeta, pi: &PacketInfo, payload: &[u8], cx: &mut Cx<'_>) {
        self.process_keyed(meta, pi, Keyed::of(pi), payload, cx);
    }

    /// [`FlowEngine::process`] with the frame's key worked out already (`Keyed::of(pi)`).
    pub fn process_keyed(
        &mut self,
        meta: &FrameMeta,
        pi: &PacketInfo,
        keyed: Option<Keyed>,
        payload: &[u8],
        cx: &mut Cx<'_>,
    ) {
        if let Some(e) = pi.echo {
            self.echo(meta, pi, &e, cx);
        }
        // Checked here first: working out a key copies the (large) quoted header.
        if !matches!(pi.quoted_transport, Transport::None) {
            if let Some((key, side)) = FlowKey::of_quoted(pi) {
                self.quoted(meta, pi, Keyed::new(key, side), cx);
            }
        }
        let Some(keyed) = keyed else {
            return;
        };
        let now = nanos(meta.secs, meta.nanos);
        let now_rel = nanos(meta.rel_secs, meta.rel_nanos);
        self.last_frame = meta.number;
        self.last_time = (meta.secs, meta.nanos);
        if now - self.last_expire >= EXPIRE_INTERVAL || now < self.last_expire {
            self.last_expire = now;
            self.table.expire(now, &mut self.retired);
        }
        match &pi.transport {
            Transport::Tcp(t) => self.tcp(meta, pi, t, keyed, payload, cx, now, now_rel),
            Transport::Udp(u) => self.udp(meta, pi, u, keyed, payload, cx, now, now_rel),
            Transport::None => {}
        }
        if !self.retired.is_empty() {
            self.retire_all();
        }
    }

    /// An ICMP or ICMPv6 echo: a request waits for its reply; a reply that finds its request
    /// shows it (`icmp.resp_to`, `icmp.resptime`, "(request in N)" in the Info column).
    fn echo(&mut self, meta: &FrameMeta, pi: &PacketInfo, e: &Echo, cx: &mut Cx<'_>) {
        let Some(m) = self
            .echo
            .process(e, pi.inner_net, meta.number, meta.secs, meta.nanos)
        else {
            return;
        };
        let (proto, resp_to, resptime) = if e.v6 {
            (&icmpv6::PROTO, &icmpv6::RESP_TO, &icmpv6::RESPTIME)
        } else {
            (&icmp::PROTO, &icmp::RESP_TO, &icmp::RESPTIME)
        };
        if cx.wants(proto) {
            cx.sink.layer(proto, Span::GENERATED);
            cx.field(resp_to, Span::GENERATED, Value::U(m.request));
            // `-V` shows three decimals (`0.010 ms`), -T fields the shortest form.
            cx.field_shown(resptime, Span::GENERATED, Value::F(m.ms), |t| {
                let _ = std::fmt::Write::write_fmt(t, format_args!("{:.3} ms", m.ms));
            });
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            cols.info.push_str(" (request in ");
            cols.info.push_str(itoa::Buffer::new().format(m.request));
            cols.info.push(')');
        }
    }

    /// A TCP or UDP header quoted in an ICMP error: tshark finds (or creates) its conversation
    /// and shows its stream number, nothing more; the frame does not count in the flow.
    fn quoted(&mut self, meta: &FrameMeta, pi: &PacketInfo, keyed: Keyed, cx: &mut Cx<'_>) {
        let Keyed { key, side, hash } = keyed;
        let (table, proto, def, sport, dport) = match pi.quoted_transport {
            Transport::Tcp(t) => (
                Table::TcpPort,
                &tcp::PROTO,
                &tcp::STREAM,
                t.src_port,
                t.dst_port,
            ),
            Transport::Udp(u) => (
                Table::UdpPort,
                &udp::PROTO,
                &udp::STREAM,
                u.src_port,
                u.dst_port,
            ),
            Transport::None => return,
        };
        let idx = match self.table.lookup(&key, hash) {
            Some(i) => i,
            None => {
                let now = nanos(meta.secs, meta.nanos);
                let now_rel = nanos(meta.rel_secs, meta.rel_nanos);
                let tomb = self.table.tombs.take(&key);
                let client =
                    tomb.map_or_else(|| client_of(side, None, sport, dport), |t| t.client());
                let verdict = self.verdict(table, None, sport, dport);
                let app = App::new(verdict, self.reg.parse, &mut self.parsers);
                let idx = self.table.create(
                    key,
                    hash,
                    side,
                    client,
                    meta.number,
                    now,
                    now_rel,
                    app,
                    tomb.map(|t| u64::from(t.stream)),
                    &mut self.retired,
                );
                if let Some(t) = tomb {
                    self.revive(idx, &t, now);
                }
                idx
            }
        };
        let Some(stream) = self.table.get(idx).map(|f| f.stream) else {
            return;
        };
        if cx.wants(proto) {
            cx.sink.layer(proto, Span::GENERATED);
            cx.field(def, Span::GENERATED, Value::U(stream));
        }
    }

    fn verdict(&self, table: Table, server: Option<u16>, sport: u16, dport: u16) -> Verdict {
        if !self.reg.detect {
            return Verdict::Nothing;
        }
        self.reg.by_port(table, server, sport, dport)
    }

    /// Gives flow `idx`, just created for a flow that had left the table, what its tombstone
    /// kept (roles, base sequence numbers, completeness) and, when conversation summaries are
    /// kept, the counts of its earlier life.
    fn revive(&mut self, idx: u32, tomb: &Tomb, now: Nanos) {
        let Some(l4) = self.table.get(idx).map(|f| f.key.l4) else {
            return;
        };
        let record = self.table.take_record(l4, u64::from(tomb.stream));
        let Some(flow) = self.table.get_mut(idx) else {
            return;
        };
        flow.first_sender = tomb.first_sender();
        if let Some(tf) = flow.tcp.as_deref_mut() {
            tf.analysis = tcp_analysis::TcpAnalysis::resumed(now, tomb.bases(), tomb.completeness);
        }
        if let Some(r) = record {
            flow.restore(&r);
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    fn tcp(
        &mut self,
        meta: &FrameMeta,
        pi: &PacketInfo,
        t: &TcpInfo,
        keyed: Keyed,
        payload: &[u8],
        cx: &mut Cx<'_>,
        now: Nanos,
        now_rel: Nanos,
    ) {
        let Keyed { key, side, hash } = keyed;
        let frame = meta.number;
        let existing = self.table.lookup(&key, hash);
        // A flow that left the table (evicted, expired) is looked up among the tombstones.
        let tomb = match existing {
            Some(_) => None,
            None => self.table.tombs.take(&key),
        };
        let check = match (existing.and_then(|i| self.table.get(i)), tomb) {
            (Some(f), _) => f.tcp.as_ref().map_or(SynCheck::Ordinary, |tf| {
                tf.analysis.syn_check(side.index(), t)
            }),
            (None, Some(tomb)) => tcp_analysis::syn_check_base(tomb.base_of(side), t),
            (None, None) => SynCheck::Ordinary,
        };
        let new_conversation = existing.is_none() && tomb.is_none();
        // A pure SYN with a new initial sequence number starts a new stream; otherwise a
        // tombstone's flow comes back with its stream number.
        let revived = tomb.filter(|_| check != SynCheck::NewConnection);
        let idx = match existing {
            Some(i) if check != SynCheck::NewConnection => i,
            _ => {
                if let Some(old) = existing.and_then(|i| self.table.remove(i)) {
                    self.table.record(&old);
                    self.retired.push(Retired { flow: old });
                }
                let client = revived.map_or_else(
                    || client_of(side, Some(t.flags), t.src_port, t.dst_port),
                    |t| t.client(),
                );
                let server_port = match t.flags & (TcpInfo::SYN | TcpInfo::ACK) {
                    f if f == TcpInfo::SYN => Some(t.dst_port),
                    f if f == TcpInfo::SYN | TcpInfo::ACK => Some(t.src_port),
                    _ => None,
                };
                let verdict = self.verdict(Table::TcpPort, server_port, t.src_port, t.dst_port);
                let app = App::new(verdict, self.reg.parse, &mut self.parsers);
                let idx = self.table.create(
                    key,
                    hash,
                    side,
                    client,
                    frame,
                    now,
                    now_rel,
                    app,
                    revived.map(|t| u64::from(t.stream)),
                    &mut self.retired,
                );
                if let Some(t) = revived {
                    self.revive(idx, &t, now);
                }
                idx
            }
        };
        let FlowEngine {
            table,
            reg,
            app_stats,
            gap_bytes,
            overlap_conflicts,
            tcp_analysis,
            defer_tcp_info,
            ..
        } = self;
        let Some(flow) = table.get_mut(idx) else {
            return;
        };
        flow.count_frame(side, meta, now, now_rel);
        flow.count_payload(side, now, u64::from(t.seg_len));
        flow.last = now;
        let seglen = match pi.l4_claimed_len {
            Some(c) if c < u32::from(t.hdr_len) => None,
            _ => Some(t.seg_len),
        };
        let stream = flow.stream;
        let dir = flow.dir_of(side);
        let Flow { tcp: tf, app, .. } = flow;
        let Some(tf) = tf.as_deref_mut() else {
            return;
        };
        let facts = if *tcp_analysis {
            tf.analysis.process(
                side.index(),
                &Segment {
                    tcp: t,
                    seglen,
                    frame,
                    now,
                    // Shown only among the `tcp` layer's fields (`emit_fields` below).
                    tcp_fields_wanted: cx.wants(&tcp::PROTO),
                },
                new_conversation,
                check,
            )
        } else {
            // No output shows a fact of the analysis (nor the `data` it withholds from
            // retransmissions): the default facts below reach no output.
            tf.analysis
                .track_bases(side.index(), t, seglen, new_conversation, check);
            SegmentFacts::default()
        };
        if facts.ta.flags & flag::ANY_RETRANSMISSION != 0 {
            tf.retransmissions += 1;
        }
        tf.state.segment(side, t, seglen.unwrap_or(0), frame);
        // Every FIN says whether its side began closing the connection or answers the other.
        let fin_active = t
            .has(TcpInfo::FIN)
            .then(|| *tf.closing_initiator.get_or_insert(side) == side);

        let rst = t.has(TcpInfo::RST);
        let hdr_len = usize::from(t.hdr_len);
        let payload_at = pi.payload_start as usize;
        if cx.wants(&tcp::PROTO) {
            let span = Span::new(payload_at.saturating_sub(hdr_len), hdr_len);
            cx.sink.layer(&tcp::PROTO, span);
            let shown = (!rst && !payload.is_empty()).then_some((payload, payload_at));
            let hdr_at = payload_at.saturating_sub(hdr_len);
            tcp_analysis::emit_fields(cx, stream, t, &facts, hdr_at, shown);
            if let Some(active) = fin_active {
                tcp::closing(cx, active, Span::new(hdr_at + 13, 1));
            }
            let sack = t.sack_blocks();
            let sack_wanted = cx.wants_text()
                || [
                    &tcp::SACK_LE,
                    &tcp::SACK_RE,
                    &tcp::DSACK_LE,
                    &tcp::DSACK_RE,
                    &tcp::DSACK,
                ]
                .into_iter()
                .any(|f| cx.wants_field(f));
            if !sack.is_empty() && sack_wanted {
                let base = facts.peer_base;
                let mut rel = [(0u32, 0u32); 4];
                for (slot, (l, r)) in rel.iter_mut().zip(sack) {
                    *slot = (l.wrapping_sub(base), r.wrapping_sub(base));
                }
                let rel = rel.get(..sack.len().min(4)).unwrap_or(&[]);
                // RFC 2883: a first block at or below the ACK, or inside the second block.
                let dsack = sack.first().is_some_and(|&(l, r)| {
                    let below = (t.ack.wrapping_sub(r) as i32) >= 0;
                    let inside = sack.get(1).is_some_and(|&(l2, r2)| {
                        (l.wrapping_sub(l2) as i32) >= 0 && (r2.wrapping_sub(r) as i32) >= 0
                    });
                    t.has(TcpInfo::ACK) && (below || inside)
                });
                tcp::sack_tree(cx, rel, dsack, Span::new(hdr_at + 20, 0));
            }
        }
        // The analysis's Info prefixes (`[TCP Retransmission] ` …) only go into the Info
        // column (written straight into it: `info` hands it over cleared). The segment's own
        // text follows them; when an application may rewrite the column (a quarter of the
        // segments of the benchmark file), it is written only once the application has not.
        let tcp_text = cx.info("TCP").map(|out| {
            tcp_analysis::write_info_prefixes(&facts.ta, out);
            tcp::InfoText {
                at: u32::try_from(out.len()).unwrap_or(u32::MAX),
                seq: facts.seq,
                ack: facts.ack,
                window: facts.window,
                sack_base: facts.peer_base,
                short: pi.malformed.is_some_and(|m| m.short),
            }
        });
        let rewrites_before = cx.cols.as_deref().map_or(0, |c| c.rewrites);

        // Reassembly and the application layer.
        let protocols_before = cx.protocols.as_slice().len();
        let mut fed = 0u64;
        if app.wants_bytes() {
            let fctx = FrameCtx {
                frame,
                secs: meta.secs,
                nanos: meta.nanos,
                stream,
                tcp: true,
                ports: [key.lo.port, key.hi.port],
            };
            let [lo, hi] = &mut tf.asm;
            let (mine, theirs) = if side == Side::Lo { (lo, hi) } else { (hi, lo) };
            let gaps_before = mine.gap_bytes + theirs.gap_bytes;
            let conflicts_before = mine.conflicts + theirs.conflicts;
            if !rst {
                if t.has(TcpInfo::SYN) {
                    mine.syn(t.seq);
                }
                let seq0 = t.seq.wrapping_add(u32::from(t.has(TcpInfo::SYN)));
                let claimed = seglen.unwrap_or(payload.len() as u32);
                let fin = t.has(TcpInfo::FIN);
                if !mine.ignores(payload, claimed, fin) {
                    let mut at = mine.offset();
                    mine.segment(seq0, payload, claimed, fin, &mut |c| {
                        let len = chunk_len(&c);
                        fed += app.tcp_chunk(reg, dir, c, at, &fctx, cx, app_stats).bytes;
                        at += len;
                    });
                }
                if mine.is_finished() {
                    app.end(reg, dir, &fctx, cx, app_stats);
                }
                if t.has(TcpInfo::ACK) {
                    let back = dir.reverse();
                    if theirs.unseen_acked_to(t.ack).is_some() {
                        let mut at = theirs.offset();
                        theirs.acked(t.ack, &mut |c| {
                            let len = chunk_len(&c);
                            fed += app.tcp_chunk(reg, back, c, at, &fctx, cx, app_stats).bytes;
                            at += len;
                        });
                    }
                    if theirs.is_finished() {
                        app.end(reg, back, &fctx, cx, app_stats);
                    }
                }
            } else {
                // A reset ends both directions: what is held comes out with its holes.
                for (asm, d) in [(mine, dir), (theirs, dir.reverse())] {
                    let mut at = asm.offset();
                    asm.finish(&mut |c| {
                        let len = chunk_len(&c);
                        fed += app.tcp_chunk(reg, d, c, at, &fctx, cx, app_stats).bytes;
                        at += len;
                    });
                    app.end(reg, d, &fctx, cx, app_stats);
                }
            }
            let [lo, hi] = &tf.asm;
            *gap_bytes += (lo.gap_bytes + hi.gap_bytes).saturating_sub(gaps_before);
            *overlap_conflicts += (lo.conflicts + hi.conflicts).saturating_sub(conflicts_before);
        }
        let app_emitted = cx.protocols.as_slice().len() > protocols_before;
        let mut suffix = false;
        if !payload.is_empty() && !rst {
            let skipped = facts.ta.flags & (flag::RETRANSMISSION | flag::OUT_OF_ORDER) != 0;
            // tshark reassembles only segments captured whole; such a (plain) retransmission
            // it sets aside with a note, whatever the port's protocol.
            let captured_whole = seglen.is_some_and(|n| n as usize == payload.len());
            if facts.ta.flags & flag::RETRANSMISSION != 0
                && captured_whole
                && app::reassembly_items_wanted(cx)
            {
                app::retransmitted_segment_data(cx, payload);
            }
            if app.claims() {
                suffix = fed > 0 && !app_emitted;
            } else if app.is_foreign() {
                suffix = !skipped;
                // tshark's dissector there asked TCP to hold the bytes for a PDU.
                if !skipped && app::reassembly_items_wanted(cx) {
                    app::segment_data(cx, payload);
                }
            } else if !skipped && !app_emitted {
                data::dissect(payload, payload_at, cx);
            }
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            let reprefix = app_emitted && tcp_analysis::has_info_prefixes(&facts.ta);
            // The segment's own text, unless an application rewrote the column (what one
            // appended, a note, goes after it). The outputs' thread may write it, when the
            // column is not touched again here.
            if let Some(text) = tcp_text {
                if cols.rewrites == rewrites_before && cols.protocol == "TCP" {
                    if *defer_tcp_info && !suffix && !reprefix {
                        cols.tcp_text = Some(text);
                    } else {
                        text.insert(t, &mut cols.info);
                    }
                }
            }
            if reprefix {
                // The application rewrote the Info column: the notes go back in front.
                let mut prefix = String::new();
                tcp_analysis::write_info_prefixes(&facts.ta, &mut prefix);
                if !prefix.is_empty() && !cols.info.starts_with(&prefix) {
                    cols.info.insert_str(0, &prefix);
                }
            }
            if suffix {
                // tshark's col_append_sep_str: no separator in an empty column (a parser that
                // cleared it, as HTTP/2 does on a frame that only begins a PDU).
                if !cols.info.is_empty() {
                    cols.info.push(' ');
                }
                cols.info.push_str("[TCP segment of a reassembled PDU]");
            }
        }
        self.table.touch(idx);
        self.enforce_memory();
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    fn udp(
        &mut self,
        meta: &FrameMeta,
        pi: &PacketInfo,
        u: &UdpInfo,
        keyed: Keyed,
        payload: &[u8],
        cx: &mut Cx<'_>,
        now: Nanos,
        now_rel: Nanos,
    ) {
        let Keyed { key, side, hash } = keyed;
        let frame = meta.number;
        let idx = match self.table.lookup(&key, hash) {
            Some(i) => i,
            None => {
                let tomb = self.table.tombs.take(&key);
                let client = tomb.map_or_else(
                    || client_of(side, None, u.src_port, u.dst_port),
                    |t| t.client(),
                );
                let verdict = self.verdict(Table::UdpPort, None, u.src_port, u.dst_port);
                let app = App::new(verdict, self.reg.parse, &mut self.parsers);
                let idx = self.table.create(
                    key,
                    hash,
                    side,
                    client,
                    frame,
                    now,
                    now_rel,
                    app,
                    tomb.map(|t| u64::from(t.stream)),
                    &mut self.retired,
                );
                if let Some(t) = tomb {
                    self.revive(idx, &t, now);
                }
                idx
            }
        };
        let FlowEngine {
            table,
            reg,
            app_stats,
            ..
        } = self;
        let Some(flow) = table.get_mut(idx) else {
            return;
        };
        flow.count_frame(side, meta, now, now_rel);
        flow.count_payload(side, now, u64::from(u.length.saturating_sub(8)));
        let (first, prev) = (flow.start, flow.prev);
        flow.last = now;
        flow.prev = now;
        let payload_at = pi.payload_start as usize;
        if cx.wants(&udp::PROTO) {
            cx.sink
                .layer(&udp::PROTO, Span::new(payload_at.saturating_sub(8), 8));
            let g = Span::GENERATED;
            cx.field(&udp::STREAM, g, Value::U(flow.stream));
            cx.sink.label(g, "Timestamps");
            cx.sink.open();
            cx.field(
                &udp::TIME_RELATIVE,
                g,
                tcp_analysis::time_value(now - first),
            );
            cx.field(&udp::TIME_DELTA, g, tcp_analysis::time_value(now - prev));
            cx.sink.close();
            udp::payload_item(cx, payload_at, payload);
        }
        let dir = flow.dir_of(side);
        let fctx = FrameCtx {
            frame,
            secs: meta.secs,
            nanos: meta.nanos,
            stream: flow.stream,
            tcp: false,
            ports: [key.lo.port, key.hi.port],
        };
        let protocols_before = cx.protocols.as_slice().len();
        if flow.app.wants_bytes() {
            flow.app
                .udp_datagram(reg, dir, payload, &fctx, cx, app_stats);
        }
        let app_emitted = cx.protocols.as_slice().len() > protocols_before;
        if !flow.app.claims() && !app_emitted && !payload.is_empty() {
            data::dissect(payload, payload_at, cx);
        }
        self.table.touch(idx);
        self.enforce_memory();
    }

    /// Evicts least recently active flows while the estimate exceeds the memory cap.
    fn enforce_memory(&mut self) {
        while self.table.over_memory(0) && self.table.len() > 1 {
            if !self.table.evict_one(&mut self.retired) {
                break;
            }
        }
        self.table.note_peak();
    }

    /// Ends the parsers of flows that left the table (evicted, expired, replaced).
    fn retire_all(&mut self) {
        // The list is handed back emptied, its capacity kept: taken and dropped, it was
        // allocated again for each frame that retired a flow.
        let mut retired = std::mem::take(&mut self.retired);
        for r in retired.drain(..) {
            self.end_flow(r.flow);
        }
        if self.retired.is_empty() {
            self.retired = retired;
        }
    }

    /// Flushes a flow's held bytes and ends its parser, outside any frame.
    fn end_flow(&mut self, mut flow: Flow) {
        self.end_app(&mut flow);
        if let Some(tcp) = flow.tcp.take() {
            self.table.recycle_tcp(tcp);
        }
    }

    /// Flushes a flow's held bytes and ends its parser (then recycled).
    fn end_app(&mut self, flow: &mut Flow) {
        if !flow.app.needs_end() {
            return;
        }
        let mut sink = NullSink;
        // Protocols parsers push outside a frame go nowhere; the list is reused (it is large).
        let stack = &mut self.end_stack;
        stack.clear();
        let mut cx = Cx::new(&mut sink, None, stack);
        let fctx = FrameCtx {
            frame: self.last_frame,
            secs: self.last_time.0,
            nanos: self.last_time.1,
            stream: flow.stream,
            tcp: flow.tcp.is_some(),
            ports: [flow.key.lo.port, flow.key.hi.port],
        };
        let client = flow.client;
        let Flow { tcp: tf, app, .. } = flow;
        let (reg, stats) = (&self.reg, &mut self.app_stats);
        if let Some(tf) = tf.as_deref_mut() {
            for side in [client, client.other()] {
                let d = if side == client {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let Some(asm) = tf.asm.get_mut(side.index()) else {
                    continue;
                };
                let mut at = asm.offset();
                asm.finish(&mut |c| {
                    let len = chunk_len(&c);
                    app.tcp_chunk(reg, d, c, at, &fctx, &mut cx, stats);
                    at += len;
                });
            }
        }
        for d in [Direction::ToServer, Direction::ToClient] {
            app.end(reg, d, &fctx, &mut cx, stats);
        }
        app.recycle(&mut self.parsers);
    }

    /// The end of the run: every parser gets its `end`, and every live flow's summary is kept.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.table.take_all().for_each(|flow| {
            self.table.record(flow);
            self.end_app(flow);
        });
        self.retire_all();
    }

    /// The conversations kept, TCP then UDP, each in stream order, without copying them.
    /// After [`FlowEngine::finish`] this is every conversation (minus those the record cap
    /// dropped); before it, only the ended ones.
    pub fn conversations(&self) -> Vec<&FlowSummary> {
        in_stream_order(self.table.records())
    }

    /// The same conversations in no particular order.
    pub fn conversations_unordered(&self) -> &[FlowSummary] {
        self.table.records()
    }

    /// Every conversation seen (ended and live), TCP then UDP, each in stream order.
    pub fn summaries(&self) -> Vec<FlowSummary> {
        let mut all: Vec<FlowSummary> = self.table.records().to_vec();
        all.extend(self.table.iter().map(Flow::summary));
        all.sort_by_key(|s| (s.l4 != L4::Tcp, s.stream));
        all
    }

    /// Counters for the run summary.
    pub fn stats(&self) -> FlowStats {
        FlowStats {
            table: self.table.stats,
            app: self.app_stats,
            gap_bytes: self.gap_bytes,
            overlap_conflicts: self.overlap_conflicts,
            echo_dropped: self.echo.dropped,
        }
    }

    /// Live flows now.
    pub fn live_flows(&self) -> usize {
        self.table.len()
    }

    /// Estimated bytes of flow state now.
    pub fn memory(&self) -> usize {
        self.table.memory()
    }
}

fn chunk_len(c: &Chunk<'_>) -> u64 {
    match c {
        Chunk::Data(d) => d.len() as u64,
        Chunk::Gap(n) => *n,
    }
}
