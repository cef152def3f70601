//! Wireshark's TCP sequence analysis, rule for rule, so that `tcp.seq`, `tcp.ack`,
//! `tcp.window_size` and every `tcp.analysis.*` field agree with tshark.
//!
//! The rules are those of Wireshark 4.0's `packet-tcp.c` (`tcp_analyze_sequence_number` and
//! the parts of `dissect_tcp` around it), re-expressed here: each direction remembers its base
//! sequence number, the highest sequence number sent (`nextseq`), the last ACK and window it
//! sent, its window-scale shift and the segments it sent that are not yet acknowledged. A new
//! segment is compared with that state, in Wireshark's order:
//!
//! | flag | rule (sequence numbers compared modulo 2³²) |
//! |---|---|
//! | zero window probe | 1 byte at `nextseq` while the peer's window is 0 |
//! | zero window | window 0 on a segment without SYN/FIN/RST |
//! | previous segment not captured | `seq` beyond `nextseq` (not RST) |
//! | keep-alive | 0 or 1 byte at `nextseq - 1` (not SYN/FIN/RST) |
//! | window update | no data, same SEQ/ACK as before, a new non-zero window |
//! | window full | data reaching exactly the peer's last ACK plus its (scaled) window |
//! | keep-alive ACK / zero window probe ACK | a repeated ACK answering one of those |
//! | duplicate ACK | no data, same window, SEQ and ACK as the previous segment |
//! | ACKed unseen segment | ACKs beyond the highest contiguous byte seen from the peer |
//! | spurious retransmission | data entirely below what the peer already acknowledged |
//! | fast retransmission | `seq` below `nextseq`, equal to the peer's ACK after ≥ 2 dup ACKs, within 20 ms |
//! | out-of-order | `seq` below `nextseq` within the iRTT (3 ms before one is known) |
//! | retransmission | any other `seq` below `nextseq` |
//!
//! Wireshark quirks kept on purpose (the oracle shows them): a `nextseq` or `lastack` of 0
//! means "unknown"; relative numbers start at 1 when the SYN was not seen; SYN segments are
//! never scaled; the fast/spurious retransmission flags also print
//! `tcp.analysis.retransmission`; a duplicate ACK prints `tcp.analysis.duplicate_ack` twice
//! (a tree item and an expert item of the same name).

use netsniff_dissectors::proto::tcp;
use netsniff_dissectors::{Cx, Group, Severity, Span, TcpInfo, Value};
use std::fmt::Write as _;

/// Time in nanoseconds since the epoch (or a difference of two such times).
pub type Nanos = i64;

/// Analysis flags of one segment (Wireshark's `TCP_A_*`).
pub mod flag {
    pub const RETRANSMISSION: u16 = 0x0001;
    pub const LOST_PACKET: u16 = 0x0002;
    pub const ACK_LOST_PACKET: u16 = 0x0004;
    pub const KEEP_ALIVE: u16 = 0x0008;
    pub const DUPLICATE_ACK: u16 = 0x0010;
    pub const ZERO_WINDOW: u16 = 0x0020;
    pub const ZERO_WINDOW_PROBE: u16 = 0x0040;
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 0x0080;
    pub const KEEP_ALIVE_ACK: u16 = 0x0100;
    pub const OUT_OF_ORDER: u16 = 0x0200;
    pub const FAST_RETRANSMISSION: u16 = 0x0400;
    pub const WINDOW_UPDATE: u16 = 0x0800;
    pub const WINDOW_FULL: u16 = 0x1000;
    pub const REUSED_PORTS: u16 = 0x2000;
    pub const SPURIOUS_RETRANSMISSION: u16 = 0x4000;
    /// Any kind of retransmission (what `tcp.analysis.retransmission` marks).
    pub const ANY_RETRANSMISSION: u16 =
        RETRANSMISSION | FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION;
}

/// Capacity of a segment list that [`TcpAnalysis::reset`] keeps for the next connection.
const RECYCLED_SEGMENTS: usize = 64;

/// Unacknowledged segments remembered per direction (Wireshark's `TCP_MAX_UNACKED_SEGMENTS`):
/// past it, new segments are not tracked for RTT and bytes in flight, as in Wireshark.
pub const MAX_UNACKED_SEGMENTS: usize = 10_000;
/// A retransmission this soon after the second duplicate ACK is a fast retransmission.
const FAST_RETRANSMISSION_WINDOW: u64 = 20_000_000;
/// Out-of-order threshold while the handshake RTT is unknown (Wireshark's 3 ms).
const DEFAULT_OOO_THRESHOLD: u64 = 3_000_000;
/// SACK blocks remembered for bytes in flight (Wireshark keeps blocks 1..4 of an array of 4,
/// so at most 3).
const MAX_SACK_RANGES: usize = 4;

/// `tcp.completeness` bits.
pub mod completeness {
    pub const SYN_SENT: u8 = 1;
    pub const SYN_ACK: u8 = 2;
    pub const ACK: u8 = 4;
    pub const DATA: u8 = 8;
    pub const FIN: u8 = 16;
    pub const RST: u8 = 32;
}

fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}
fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u64,
    seq: u32,
    nextseq: u32,
    ts: Nanos,
}

/// What one direction of a connection has sent, as the analysis remembers it.
#[derive(Debug, Clone)]
pub struct DirAnalysis {
    base_seq_set: bool,
    /// The sequence number relative numbers count from.
    pub base_seq: u32,
    /// Window-scale shift: -1 unknown, -2 not used, 0–14 from the handshake.
    pub win_scale: i8,
    /// The last raw window sent (`u32::MAX` before the first segment).
    window: u32,
    is_first_ack: bool,
    valid_bif: bool,
    push_bytes_sent: u32,
    push_set_last: bool,
    closing_initiator: bool,
    nextseq: u32,
    nextseq_frame: u64,
    nextseq_time: Nanos,
    maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: Nanos,
    lastnondupack: u64,
    dupacknum: i32,
    /// Oldest first.
    segments: Vec<Unacked>,
    num_sack_ranges: usize,
    sack: [(u32, u32); MAX_SACK_RANGES],
    lastsegmentflags: u16,
}

impl Default for DirAnalysis {
    fn default() -> Self {
        DirAnalysis {
            base_seq_set: false,
            base_seq: 0,
            win_scale: -1,
            window: u32::MAX,
            is_first_ack: false,
            valid_bif: true,
            push_bytes_sent: 0,
            push_set_last: false,
            closing_initiator: false,
            nextseq: 0,
            nextseq_frame: 0,
            nextseq_time: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_time: 0,
            lastnondupack: 0,
            dupacknum: 0,
            segments: Vec::new(),
            num_sack_ranges: 0,
            sack: [(0, 0); MAX_SACK_RANGES],
            lastsegmentflags: 0,
        }
    }
}

impl DirAnalysis {
    /// A SYN/ACK with another initial sequence number than this side started with: the
    /// ports were reused, and the new number is the base. Returns whether that happened.
    fn rebase_on_syn_ack(&mut self, t: &TcpInfo) -> bool {
        let rebased = t.flags & (TcpInfo::SYN | TcpInfo::ACK) == TcpInfo::SYN | TcpInfo::ACK
            && self.base_seq_set
            && t.seq != self.base_seq;
        if rebased {
            self.base_seq = t.seq;
        }
        rebased
    }

    /// Whether a base sequence number was set (a segment was seen from this side, or an ACK
    /// for it).
    pub fn has_base(&self) -> bool {
        self.base_seq_set
    }

    /// Bytes of heap held (for the memory estimate).
    pub fn heap_bytes(&self) -> usize {
        self.segments.capacity() * std::mem::size_of::<Unacked>()
    }
}

/// What the analysis found for one segment (Wireshark's per-frame `tcp_acked`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ta {
    /// Whether Wireshark would have created its per-frame record (it prints the
    /// `tcp.analysis` tree only then).
    pub exists: bool,
    pub flags: u16,
    pub dupack_num: u32,
    pub dupack_frame: u64,
    /// The frame whose segment this one acknowledges.
    pub frame_acked: u64,
    pub ack_rtt: Nanos,
    pub bytes_in_flight: u32,
    pub push_bytes_sent: u32,
    pub rto: Nanos,
    pub rto_frame: u64,
}

impl Ta {
    fn set(&mut self, f: u16) {
        self.exists = true;
        self.flags |= f;
    }
}

/// A segment as the analysis reads it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub tcp: &'a TcpInfo,
    /// `None` when the IP header claims less than the TCP header (Wireshark then skips the
    /// analysis and shows raw numbers).
    pub seglen: Option<u32>,
    pub frame: u64,
    pub now: Nanos,
    /// Whether a field of the `tcp` layer can reach an output. Only those fields read the list
    /// of unacknowledged segments (`tcp.analysis.ack_rtt`, `acks_frame`, `bytes_in_flight`,
    /// `push_bytes_sent`, the retransmission's RTO); the flags (retransmissions, duplicate
    /// ACKs, …) never do, so without these fields the list is not kept at all.
    pub tcp_fields_wanted: bool,
}

/// Everything the analysis says about one segment: the fields the flow engine emits into the
/// `tcp` layer and the Info column.
#[derive(Debug, Clone, Copy, Default)]
pub struct SegmentFacts {
    pub ta: Ta,
    /// Relative sequence number (raw without a seglen).
    pub seq: u32,
    /// Relative acknowledgement number when ACK is set, raw otherwise.
    pub ack: u32,
    /// Relative next sequence number (SYN and FIN count one).
    pub nxtseq: Option<u32>,
    /// The window, scaled.
    pub window: u32,
    /// `tcp.window_size_scalefactor` (absent on SYN segments).
    pub scalefactor: Option<i32>,
    /// `tcp.completeness` as it stood before this segment.
    pub completeness: u8,
    /// Since the first frame of the stream.
    pub time_relative: Nanos,
    /// Since the previous frame of the stream.
    pub time_delta: Nanos,
    /// The handshake RTT, once known.
    pub initial_rtt: Nanos,
    /// The peer's base sequence number, for relative SACK edges.
    pub peer_base: u32,
}

/// Wireshark's TCP analysis state of one connection (one `tcp.stream`).
#[derive(Debug, Clone)]
pub struct TcpAnalysis {
    /// Per side, indexed by [`crate::flow::key::Side::index`].
    pub dirs: [DirAnalysis; 2],
    ts_first: Nanos,
    ts_prev: Nanos,
    ts_mru_syn: Nanos,
    /// The handshake RTT (0 until known).
    pub ts_first_rtt: Nanos,
    /// The server port from the SYN or SYN/ACK (0 unknown).
    pub server_port: u16,
    pub completeness: u8,
}

/// What a pure SYN on an existing conversation means (Wireshark's port-reuse check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynCheck {
    /// Not a pure SYN, or the first one: carry on.
    Ordinary,
    /// A SYN with a new initial sequence number: a new connection (`tcp.stream`) begins.
    NewConnection,
    /// The SYN again, with the same sequence number: a retransmission.
    SameSyn,
}

/// [`TcpAnalysis::syn_check`] given the sending side's base sequence number.
pub fn syn_check_base(base: Option<u32>, t: &TcpInfo) -> SynCheck {
    let Some(base) = base else {
        return SynCheck::Ordinary;
    };
    if t.flags & (TcpInfo::SYN | TcpInfo::ACK) != TcpInfo::SYN {
        SynCheck::Ordinary
    } else if t.seq != base {
        SynCheck::NewConnection
    } else {
        SynCheck::SameSyn
    }
}

fn split(dirs: &mut [DirAnalysis; 2], side: usize) -> (&mut DirAnalysis, &mut DirAnalysis) {
    let [a, b] = dirs;
    if side == 0 {
        (a, b)
    } else {
        (b, a)
    }
}

/// The base sequence numbers a segment sets where they are not known yet: its sender's (the
/// SYN's number, else one before its first byte) and, from its ACK, the receiver's.
fn set_bases(f: &mut DirAnalysis, r: &mut DirAnalysis, t: &TcpInfo) {
    if !f.base_seq_set {
        f.base_seq = if t.has(TcpInfo::SYN) {
            t.seq
        } else {
            t.seq.wrapping_sub(1)
        };
        f.base_seq_set = true;
    }
    if !r.base_seq_set && t.has(TcpInfo::ACK) {
        r.base_seq = t.ack.wrapping_sub(1);
        r.base_seq_set = true;
    }
}

impl TcpAnalysis {
    /// A new connection whose first frame is at `now`.
    pub fn new(now: Nanos) -> TcpAnalysis {
        TcpAnalysis {
            dirs: [DirAnalysis::default(), DirAnalysis::default()],
            ts_first: now,
            ts_prev: now,
            ts_mru_syn: 0,
            ts_first_rtt: 0,
            server_port: 0,
            completeness: 0,
        }
    }

    /// Makes this `TcpAnalysis::new(now)` (for a new connection), keeping each direction's
    /// emptied list of unacknowledged segments unless it grew large.
    pub fn reset(&mut self, now: Nanos) {
        let kept = self.dirs.each_mut().map(|d| {
            let mut s = std::mem::take(&mut d.segments);
            s.clear();
            s
        });
        *self = TcpAnalysis::new(now);
        for (d, s) in self.dirs.iter_mut().zip(kept) {
            if s.capacity() <= RECYCLED_SEGMENTS {
                d.segments = s;
            }
        }
    }

    /// A connection that left the flow table and came back at `now`: the analysis starts
    /// afresh but keeps each side's base sequence number (so relative numbers continue) and
    /// the completeness reached.
    pub fn resumed(now: Nanos, bases: [Option<u32>; 2], completeness: u8) -> TcpAnalysis {
        let mut a = TcpAnalysis::new(now);
        for (d, base) in a.dirs.iter_mut().zip(bases) {
            if let Some(b) = base {
                d.base_seq = b;
                d.base_seq_set = true;
            }
        }
        a.completeness = completeness;
        a
    }

    /// Each side's base sequence number, where one was set.
    pub fn bases(&self) -> [Option<u32>; 2] {
        let [a, b] = &self.dirs;
        [
            a.base_seq_set.then_some(a.base_seq),
            b.base_seq_set.then_some(b.base_seq),
        ]
    }

    /// Classifies a segment from `side` before it is processed: a pure SYN whose sequence
    /// number differs from the one that direction started with opens a new connection.
    pub fn syn_check(&self, side: usize, t: &TcpInfo) -> SynCheck {
        let Some(d) = self.dirs.get(side) else {
            return SynCheck::Ordinary;
        };
        syn_check_base(d.base_seq_set.then_some(d.base_seq), t)
    }

    /// What [`TcpAnalysis::process`] keeps of a segment when no output shows the analysis:
    /// each side's base sequence number (the port-reuse check and the tombstones need it) and
    /// the conversation's completeness (a tombstone keeps it), by the same rules; nothing
    /// else. A fraction of the work: no sequence, window or acknowledgement tracking.
    pub fn track_bases(
        &mut self,
        side: usize,
        t: &TcpInfo,
        seglen: Option<u32>,
        new_conversation: bool,
        check: SynCheck,
    ) {
        let side = side.min(1);
        if check == SynCheck::NewConnection {
            self.restart_completeness();
        }
        self.dirs[side].rebase_on_syn_ack(t);
        if seglen.is_some() {
            let (f, r) = split(&mut self.dirs, side);
            set_bases(f, r, t);
        }
        self.advance_completeness(t, seglen, new_conversation);
    }

    /// Wireshark starts the conversation of a SYN on a reused 4-tuple with the SYN counted.
    fn restart_completeness(&mut self) {
        self.completeness = completeness::SYN_SENT;
    }

    /// Moves `tcp.completeness` forward with a segment (after it was shown).
    fn advance_completeness(&mut self, t: &TcpInfo, seglen: Option<u32>, new_conversation: bool) {
        let syn_ack = t.flags & (TcpInfo::SYN | TcpInfo::ACK);
        let data = seglen.unwrap_or(0) > 0;
        let mut c = self.completeness;
        if new_conversation {
            if syn_ack == TcpInfo::SYN {
                c |= completeness::SYN_SENT;
                if data {
                    c |= completeness::DATA;
                }
            }
        } else {
            if syn_ack == TcpInfo::SYN | TcpInfo::ACK {
                c |= completeness::SYN_ACK;
            }
            if syn_ack == TcpInfo::ACK {
                c |= if data {
                    completeness::DATA
                } else {
                    completeness::ACK
                };
            }
            if t.flags & (TcpInfo::FIN | TcpInfo::ACK) == TcpInfo::FIN | TcpInfo::ACK {
                c |= completeness::FIN;
            }
            if t.has(TcpInfo::RST) {
                c |= completeness::RST;
            }
        }
        self.completeness = c;
    }

    /// Analyses one segment from `side` (0 or 1) and returns what to show. `new_conversation`
    /// is true for the first segment of a conversation never seen before; `reused` for the
    /// SYN that opened a new connection on a reused 4-tuple.
    pub fn process(
        &mut self,
        side: usize,
        seg: &Segment<'_>,
        new_conversation: bool,
        check: SynCheck,
    ) -> SegmentFacts {
        let side = side.min(1);
        let t = seg.tcp;
        let mut ta = Ta::default();
        let syn_ack = t.flags & (TcpInfo::SYN | TcpInfo::ACK);
        match check {
            SynCheck::NewConnection => {
                self.restart_completeness();
                ta.set(flag::REUSED_PORTS);
            }
            SynCheck::SameSyn => {
                // A RST may carry SEQ = the ACK received (RFC 793 §3.4); restore nextseq so
                // the retransmitted SYN does not confuse what follows.
                let d = &mut self.dirs[side];
                d.nextseq = d.maxseqtobeacked;
                // Wireshark creates the frame's analysis record here: its tree shows the
                // (maybe empty) SEQ/ACK analysis on such a SYN.
                ta.exists = true;
            }
            SynCheck::Ordinary => {}
        }
        if self.dirs[side].rebase_on_syn_ack(t) {
            ta.set(flag::REUSED_PORTS);
        }
        let shown_completeness = self.completeness;
        self.dirs[side].num_sack_ranges = 0;

        let time_relative = seg.now - self.ts_first;
        let time_delta = seg.now - self.ts_prev;
        self.ts_prev = seg.now;

        let mut seq = t.seq;
        let mut ack = t.ack;
        let mut window = u32::from(t.window);
        let mut nxtseq = None;
        if let Some(seglen) = seg.seglen {
            self.analyze(side, seg, seglen, &mut ta);
            let (f, r) = split(&mut self.dirs, side);
            seq = seq.wrapping_sub(f.base_seq);
            if t.has(TcpInfo::ACK) {
                ack = ack.wrapping_sub(r.base_seq);
            }
            if !t.has(TcpInfo::SYN) && f.win_scale >= 0 {
                window <<= f.win_scale;
            }
            let mut n = seq.wrapping_add(seglen);
            if t.flags & (TcpInfo::SYN | TcpInfo::FIN) != 0 {
                n = n.wrapping_add(1);
            }
            nxtseq = Some(n);
        }

        // Conversation completeness moves forward after it was shown.
        self.advance_completeness(t, seg.seglen, new_conversation);

        let scalefactor = if t.has(TcpInfo::SYN) {
            None
        } else {
            Some(match self.dirs[side].win_scale {
                s if s >= 0 => 1i32 << s,
                s => i32::from(s),
            })
        };

        if t.has(TcpInfo::SYN) {
            if t.has(TcpInfo::ACK) {
                self.server_port = t.src_port;
            } else {
                self.server_port = t.dst_port;
                self.ts_mru_syn = seg.now;
            }
            self.dirs[side].is_first_ack = true;
        }
        if t.has(TcpInfo::FIN) {
            let other_closing = self.dirs[1 - side].closing_initiator;
            if !other_closing {
                self.dirs[side].closing_initiator = true;
            }
        }
        if syn_ack == TcpInfo::ACK {
            if self.ts_mru_syn != 0 && self.ts_first_rtt == 0 {
                self.ts_first_rtt = seg.now - self.ts_mru_syn;
            }
            self.dirs[side].is_first_ack = false;
        }

        // Options: the window scale (any segment may carry it; Wireshark honours it) and the
        // SACK blocks the next bytes-in-flight computation of the peer subtracts.
        if let Some(shift) = t.wscale {
            self.dirs[side].win_scale = shift.min(tcp::MAX_WSCALE) as i8;
        }
        let peer_base = self.dirs[1 - side].base_seq;
        {
            let d = &mut self.dirs[side];
            let mut n = 0;
            for (l, r) in t.sack_blocks() {
                n += 1;
                if n < MAX_SACK_RANGES {
                    d.num_sack_ranges = n;
                    if let Some(slot) = d.sack.get_mut(n) {
                        *slot = (l.wrapping_sub(peer_base), r.wrapping_sub(peer_base));
                    }
                }
            }
        }

        if t.has(TcpInfo::SYN) {
            self.verify_window_scaling(side, t.has(TcpInfo::ACK));
        }

        SegmentFacts {
            ta,
            seq,
            ack,
            nxtseq,
            window,
            scalefactor,
            completeness: shown_completeness,
            time_relative,
            time_delta,
            initial_rtt: self.ts_first_rtt,
            peer_base,
        }
    }

    /// After a SYN or SYN/ACK: if either side did not offer window scaling, neither uses it.
    fn verify_window_scaling(&mut self, side: usize, is_synack: bool) {
        let (f, r) = split(&mut self.dirs, side);
        if f.win_scale == -1 {
            f.win_scale = -2;
            r.win_scale = -2;
        } else if is_synack && r.win_scale == -2 {
            f.win_scale = -2;
        }
    }

    fn analyze(&mut self, side: usize, seg: &Segment<'_>, seglen: u32, ta: &mut Ta) {
        let t = seg.tcp;
        let (seq, ack, flags, frame, now) = (t.seq, t.ack, t.flags, seg.frame, seg.now);
        let window = u32::from(t.window);
        let first_rtt = self.ts_first_rtt;
        let (f, r) = split(&mut self.dirs, side);
        let sfr = flags & (TcpInfo::SYN | TcpInfo::FIN | TcpInfo::RST) != 0;
        let has = |m: u16| flags & m != 0;

        set_bases(f, r, t);
        if has(TcpInfo::ACK) {
            r.valid_bif = true;
        }

        'fwd: {
            if seglen == 1 && seq == f.nextseq && r.window == 0 {
                ta.set(flag::ZERO_WINDOW_PROBE);
                break 'fwd;
            }
            if window == 0 && !sfr {
                ta.set(flag::ZERO_WINDOW);
            }
            if f.nextseq != 0 && gt(seq, f.nextseq) && !has(TcpInfo::RST) {
                ta.set(flag::LOST_PACKET);
                f.valid_bif = false;
            }
            if seglen <= 1 && seq == f.nextseq.wrapping_sub(1) && !sfr {
                ta.set(flag::KEEP_ALIVE);
            }
            let same_seq_ack = seq == f.nextseq && ack == f.lastack;
            if seglen == 0 && window != 0 && window != f.window && same_seq_ack && !sfr {
                ta.set(flag::WINDOW_UPDATE);
            }
            if seglen > 0 && r.win_scale != -1 && !sfr {
                let shift = if r.is_first_ack || r.win_scale == -2 {
                    0
                } else {
                    r.win_scale as u32
                };
                let edge = r
                    .lastack
                    .wrapping_add(r.window.checked_shl(shift).unwrap_or(0));
                if seq.wrapping_add(seglen) == edge {
                    ta.set(flag::WINDOW_FULL);
                }
            }
            if seglen == 0
                && window != 0
                && window == f.window
                && same_seq_ack
                && r.lastsegmentflags & flag::KEEP_ALIVE != 0
                && !sfr
            {
                ta.set(flag::KEEP_ALIVE_ACK);
                break 'fwd;
            }
            if seglen == 0
                && window == 0
                && window == f.window
                && same_seq_ack
                && r.lastsegmentflags & flag::ZERO_WINDOW_PROBE != 0
                && !sfr
            {
                ta.set(flag::ZERO_WINDOW_PROBE_ACK);
                break 'fwd;
            }
            if seglen == 0 && window != 0 && window == f.window && same_seq_ack && !sfr {
                f.dupacknum = if f.dupacknum == -1 {
                    1
                } else {
                    f.dupacknum.saturating_add(1)
                };
                ta.set(flag::DUPLICATE_ACK);
                ta.dupack_num = u32::try_from(f.dupacknum).unwrap_or(0);
                ta.dupack_frame = f.lastnondupack;
            }
        }

        if ack != f.lastack {
            f.lastnondupack = frame;
            f.dupacknum = 0;
        }

        if r.maxseqtobeacked != 0 && gt(ack, r.maxseqtobeacked) && has(TcpInfo::ACK) {
            ta.exists = true;
            // Wireshark 4.0's test (sequence order); later versions compare the other way.
            if lt(r.maxseqtobeacked, r.nextseq) {
                r.maxseqtobeacked = r.nextseq;
                ta.flags |= flag::ACK_LOST_PACKET;
            } else {
                if r.dupacknum == 0 {
                    ta.flags |= flag::ACK_LOST_PACKET;
                }
                r.dupacknum = -1;
            }
        }

        'retrans: {
            if !(seglen > 0 || has(TcpInfo::SYN | TcpInfo::FIN)) {
                break 'retrans;
            }
            let mut seq_not_advanced = f.nextseq != 0 && lt(seq, f.nextseq);
            if ta.exists && ta.flags & flag::KEEP_ALIVE != 0 {
                break 'retrans;
            }
            if seglen > 1 && f.nextseq.wrapping_sub(1) == seq {
                seq_not_advanced = false;
            }
            if seglen > 0 && r.lastack != 0 && le(seq.wrapping_add(seglen), r.lastack) {
                ta.set(flag::SPURIOUS_RETRANSMISSION);
                break 'retrans;
            }
            let since_dupack = (now.wrapping_sub(r.lastack_time)) as u64;
            if seq_not_advanced
                // Wireshark's counter is unsigned: the -1 an ACKed unseen segment leaves
                // counts as "at least two" here.
                && r.dupacknum as u32 >= 2
                && r.lastack == seq
                && since_dupack < FAST_RETRANSMISSION_WINDOW
            {
                ta.set(flag::FAST_RETRANSMISSION);
                break 'retrans;
            }
            let since_nextseq = (now.wrapping_sub(f.nextseq_time)) as u64;
            let ooo_threshold = if first_rtt == 0 {
                DEFAULT_OOO_THRESHOLD
            } else {
                first_rtt as u64
            };
            let syn_fin = u32::from(has(TcpInfo::SYN | TcpInfo::FIN));
            if seq_not_advanced
                && since_nextseq < ooo_threshold
                && f.nextseq != seq.wrapping_add(seglen).wrapping_add(syn_fin)
            {
                ta.set(flag::OUT_OF_ORDER);
                break 'retrans;
            }
            if seq_not_advanced {
                ta.set(flag::RETRANSMISSION);
                ta.rto = now - f.nextseq_time;
                ta.rto_frame = f.nextseq_frame;
                if let Some(oldest) = f.segments.first() {
                    ta.rto = now - oldest.ts;
                    ta.rto_frame = oldest.frame;
                }
            }
        }

        let mut nextseq = seq.wrapping_add(seglen);
        let sends = seglen > 0 || has(TcpInfo::SYN | TcpInfo::FIN);
        if sends && has(TcpInfo::SYN | TcpInfo::FIN) {
            nextseq = nextseq.wrapping_add(1);
        }
        if sends && seg.tcp_fields_wanted && f.segments.len() < MAX_UNACKED_SEGMENTS {
            f.segments.push(Unacked {
                frame,
                seq,
                nextseq,
                ts: now,
            });
        }
        let zwp = ta.exists && ta.flags & flag::ZERO_WINDOW_PROBE != 0;
        if (gt(nextseq, f.nextseq) || f.nextseq == 0) && !zwp {
            f.nextseq = nextseq;
            f.nextseq_frame = frame;
            f.nextseq_time = now;
        }
        if (seq == f.maxseqtobeacked || f.maxseqtobeacked == 0) && !zwp {
            f.maxseqtobeacked = f.nextseq;
        }
        f.window = window;
        f.lastack = ack;
        f.lastack_time = now;
        f.lastsegmentflags = if ta.exists { ta.flags } else { 0 };

        // Segments of the peer this ACK covers: remember the RTT of an exact match, trim a
        // partially acknowledged one, drop the rest. Wireshark walks newest first, so an
        // exact match on several keeps the oldest: the first one met here, where one pass
        // oldest first drops them all at once (removing one at a time moved the rest each
        // time). Each segment's fate depends on it alone, so the order changes nothing else,
        // and the list keeps its capacity either way.
        let mut exact: Option<(u64, Nanos)> = None;
        r.segments.retain_mut(|u| {
            if ack == u.nextseq {
                exact.get_or_insert((u.frame, u.ts));
                false
            } else if gt(ack, u.seq) && le(ack, u.nextseq) {
                u.seq = ack;
                true
            } else {
                gt(u.nextseq, ack)
            }
        });
        if let Some((frame_acked, sent)) = exact {
            ta.exists = true;
            ta.frame_acked = frame_acked;
            ta.ack_rtt = now - sent;
        }

        // Bytes in flight, from the payloads of the segments not yet acknowledged (none are
        // kept when no `tcp` field is wanted).
        let newest = f.segments.last().copied();
        if let (true, Some(newest), true) = (seglen != 0, newest, f.valid_bif) {
            let in_flight = bytes_in_flight(f, r, newest);
            if in_flight > 0 && in_flight < 2_000_000_000 {
                ta.exists = true;
                ta.bytes_in_flight = in_flight;
                if has(TcpInfo::SYN | TcpInfo::FIN) {
                    ta.bytes_in_flight -= 1;
                }
            }
            let psh = has(TcpInfo::PSH);
            if psh && !f.push_set_last {
                f.push_bytes_sent = f.push_bytes_sent.wrapping_add(seglen);
                f.push_set_last = true;
            } else if psh {
                f.push_bytes_sent = seglen;
            } else if f.push_set_last {
                f.push_bytes_sent = seglen;
                f.push_set_last = false;
            } else {
                f.push_bytes_sent = f.push_bytes_sent.wrapping_add(seglen);
            }
            ta.exists = true;
            ta.push_bytes_sent = f.push_bytes_sent;
        }
    }
}

/// The bytes `f` sent and the peer `r` has not acknowledged (nor SACKed); `newest` is the
/// last segment of `f`.
fn bytes_in_flight(f: &DirAnalysis, r: &DirAnalysis, newest: Unacked) -> u32 {
    let base = f.base_seq;
    let mut first = newest.seq.wrapping_sub(base);
    let mut last = newest.nextseq.wrapping_sub(base);
    for u in &f.segments {
        last = last.max(u.nextseq.wrapping_sub(base));
        first = first.min(u.seq.wrapping_sub(base));
    }
    let delivered = r
        .sack
        .iter()
        .skip(1)
        .take(r.num_sack_ranges)
        .fold(0u32, |acc, (l, rr)| acc.wrapping_add(rr.wrapping_sub(*l)));
    last.wrapping_sub(first).wrapping_sub(delivered)
}

/// Appends tshark's `[TCP Retransmission] `-style notes to `out`, the Info column before the
/// rest of its text. Inlined: most segments have no note, and the test is all they cost.
#[inline]
pub fn write_info_prefixes(ta: &Ta, out: &mut String) {
    if has_info_prefixes(ta) {
        write_notes(ta, out);
    }
}

/// Whether [`write_info_prefixes`] may write anything.
#[inline]
pub fn has_info_prefixes(ta: &Ta) -> bool {
    ta.exists && ta.flags != 0
}

fn write_notes(ta: &Ta, out: &mut String) {
    let f = ta.flags;
    // In the order tshark adds them; each is prepended, so the last added shows first.
    let order: [(u16, &str); 15] = [
        (flag::REUSED_PORTS, "[TCP Port numbers reused] "),
        (flag::RETRANSMISSION, "[TCP Retransmission] "),
        (flag::FAST_RETRANSMISSION, "[TCP Fast Retransmission] "),
        (
            flag::SPURIOUS_RETRANSMISSION,
            "[TCP Spurious Retransmission] ",
        ),
        (flag::OUT_OF_ORDER, "[TCP Out-Of-Order] "),
        (flag::LOST_PACKET, "[TCP Previous segment not captured] "),
        (flag::ACK_LOST_PACKET, "[TCP ACKed unseen segment] "),
        (flag::WINDOW_UPDATE, "[TCP Window Update] "),
        (flag::WINDOW_FULL, "[TCP Window Full] "),
        (flag::KEEP_ALIVE, "[TCP Keep-Alive] "),
        (flag::KEEP_ALIVE_ACK, "[TCP Keep-Alive ACK] "),
        (flag::DUPLICATE_ACK, ""),
        (flag::ZERO_WINDOW_PROBE, "[TCP ZeroWindowProbe] "),
        (flag::ZERO_WINDOW, "[TCP ZeroWindow] "),
        (flag::ZERO_WINDOW_PROBE_ACK, "[TCP ZeroWindowProbeAck] "),
    ];
    for (bit, text) in order.iter().rev() {
        if f & bit == 0 {
            continue;
        }
        if *bit == flag::DUPLICATE_ACK {
            if ta.dupack_num != 0 {
                let _ = write!(out, "[TCP Dup ACK {}#{}] ", ta.dupack_frame, ta.dupack_num);
            }
        } else {
            out.push_str(text);
        }
    }
}

fn rel_time(ns: Nanos) -> Value<'static> {
    Value::Time {
        secs: ns.div_euclid(1_000_000_000),
        nanos: u32::try_from(ns.rem_euclid(1_000_000_000)).unwrap_or(0),
    }
}

/// Relative time as a field value (seconds and nanoseconds).
pub fn time_value(ns: Nanos) -> Value<'static> {
    rel_time(ns)
}

/// Emits the flow engine's fields into the (already re-entered) `tcp` layer; the sinks that
/// draw the tree merge them into tshark's order (the protocol's field list). `hdr_at` is where
/// the TCP header starts in the frame (the relative numbers are shown at the raw ones' bytes).
pub fn emit_fields(
    cx: &mut Cx<'_>,
    stream: u64,
    t: &TcpInfo,
    facts: &SegmentFacts,
    hdr_at: usize,
    payload: Option<(&[u8], usize)>,
) {
    let g = Span::GENERATED;
    let u = |v: u64| Value::U(v);
    let acked = t.has(TcpInfo::ACK);
    cx.append(|s| {
        let _ = write!(s, ", Seq: {}", facts.seq);
        if acked {
            let _ = write!(s, ", Ack: {}", facts.ack);
        }
        let _ = write!(s, ", Len: {}", t.seg_len);
    });
    cx.field(&tcp::STREAM, g, u(stream));
    cx.field(&tcp::COMPLETENESS, g, u(u64::from(facts.completeness)));
    let seq = facts.seq;
    cx.field_shown(
        &tcp::SEQ,
        Span::new(hdr_at + 4, 4),
        u(u64::from(seq)),
        |s| {
            let _ = write!(s, "{seq}    (relative sequence number)");
        },
    );
    if let Some(n) = facts.nxtseq {
        cx.field_shown(&tcp::NXTSEQ, g, u(u64::from(n)), |s| {
            let _ = write!(s, "{n}    (relative sequence number)");
        });
    }
    let ack = facts.ack;
    cx.field_shown(
        &tcp::ACK,
        Span::new(hdr_at + 8, 4),
        u(u64::from(ack)),
        |s| {
            let _ = write!(s, "{ack}");
            if acked {
                s.push_str("    (relative ack number)");
            }
        },
    );
    cx.field(&tcp::WINDOW_SIZE, g, u(u64::from(facts.window)));
    if let Some(f) = facts.scalefactor {
        cx.field_shown(
            &tcp::WINDOW_SIZE_SCALEFACTOR,
            g,
            Value::I(i64::from(f)),
            |s| {
                let _ = write!(s, "{f}");
                match f {
                    -1 => s.push_str(" (unknown)"),
                    -2 => s.push_str(" (no window scaling used)"),
                    _ => {}
                }
            },
        );
    }
    cx.sink.label(g, "Timestamps");
    cx.sink.open();
    cx.field(&tcp::TIME_RELATIVE, g, rel_time(facts.time_relative));
    cx.field(&tcp::TIME_DELTA, g, rel_time(facts.time_delta));
    cx.sink.close();
    let ta = &facts.ta;
    if ta.exists {
        cx.field(&tcp::ANALYSIS, g, Value::None);
        cx.sink.open();
        if ta.frame_acked != 0 {
            cx.field(&tcp::ANALYSIS_ACKS_FRAME, g, u(ta.frame_acked));
            if ta.ack_rtt != 0 {
                cx.field(&tcp::ANALYSIS_ACK_RTT, g, rel_time(ta.ack_rtt));
            }
        }
        if facts.initial_rtt != 0 {
            cx.field(&tcp::ANALYSIS_INITIAL_RTT, g, rel_time(facts.initial_rtt));
        }
        if ta.bytes_in_flight != 0 {
            cx.field(
                &tcp::ANALYSIS_BYTES_IN_FLIGHT,
                g,
                u(u64::from(ta.bytes_in_flight)),
            );
            cx.field(
                &tcp::ANALYSIS_PUSH_BYTES_SENT,
                g,
                u(u64::from(ta.push_bytes_sent)),
            );
        }
        if ta.flags != 0 {
            emit_flags(cx, ta);
        }
        cx.sink.close();
    }
    if let Some((bytes, at)) = payload {
        if !bytes.is_empty() {
            // The label counts the segment's bytes, also those a snap length cut off.
            let n = bytes.len().max(t.seg_len as usize);
            cx.field_line(
                &tcp::PAYLOAD,
                Span::new(at, bytes.len()),
                Value::Bytes(bytes),
                |s| {
                    let _ = write!(s, "TCP payload ({n} byte{})", if n == 1 { "" } else { "s" });
                },
            );
        }
    }
}

fn emit_flags(cx: &mut Cx<'_>, ta: &Ta) {
    let g = Span::GENERATED;
    let f = ta.flags;
    let has = |m: u16| f & m != 0;
    cx.field(&tcp::ANALYSIS_FLAGS, g, Value::None);
    cx.sink.open();
    let mark = |cx: &mut Cx<'_>, def| cx.field(def, g, Value::None);
    if has(flag::REUSED_PORTS) {
        mark(cx, &tcp::ANALYSIS_REUSED_PORTS);
    }
    if has(flag::RETRANSMISSION) {
        mark(cx, &tcp::ANALYSIS_RETRANSMISSION);
        if ta.rto != 0 {
            cx.field(&tcp::ANALYSIS_RTO, g, rel_time(ta.rto));
            cx.field(&tcp::ANALYSIS_RTO_FRAME, g, Value::U(ta.rto_frame));
        }
    }
    if has(flag::FAST_RETRANSMISSION) {
        mark(cx, &tcp::ANALYSIS_FAST_RETRANSMISSION);
        mark(cx, &tcp::ANALYSIS_RETRANSMISSION);
    }
    if has(flag::SPURIOUS_RETRANSMISSION) {
        mark(cx, &tcp::ANALYSIS_SPURIOUS_RETRANSMISSION);
        mark(cx, &tcp::ANALYSIS_RETRANSMISSION);
    }
    if has(flag::OUT_OF_ORDER) {
        mark(cx, &tcp::ANALYSIS_OUT_OF_ORDER);
    }
    if has(flag::LOST_PACKET) {
        mark(cx, &tcp::ANALYSIS_LOST_SEGMENT);
    }
    if has(flag::ACK_LOST_PACKET) {
        mark(cx, &tcp::ANALYSIS_ACK_LOST_SEGMENT);
    }
    if has(flag::WINDOW_UPDATE) {
        mark(cx, &tcp::ANALYSIS_WINDOW_UPDATE);
    }
    if has(flag::WINDOW_FULL) {
        mark(cx, &tcp::ANALYSIS_WINDOW_FULL);
    }
    if has(flag::KEEP_ALIVE) {
        mark(cx, &tcp::ANALYSIS_KEEP_ALIVE);
    }
    if has(flag::KEEP_ALIVE_ACK) {
        mark(cx, &tcp::ANALYSIS_KEEP_ALIVE_ACK);
    }
    if ta.dupack_num != 0 {
        if has(flag::DUPLICATE_ACK) {
            mark(cx, &tcp::ANALYSIS_DUPLICATE_ACK);
        }
        cx.sink.close();
        cx.field(
            &tcp::ANALYSIS_DUPLICATE_ACK_NUM,
            g,
            Value::U(u64::from(ta.dupack_num)),
        );
        cx.field(
            &tcp::ANALYSIS_DUPLICATE_ACK_FRAME,
            g,
            Value::U(ta.dupack_frame),
        );
        // The expert item of the same name, under the frame it duplicates, as tshark adds it.
        cx.sink.open();
        let n = ta.dupack_num;
        cx.expert_as(
            &tcp::ANALYSIS_DUPLICATE_ACK,
            g,
            Severity::Note,
            Group::Sequence,
            |s| {
                let _ = write!(s, "Duplicate ACK (#{n})");
            },
        );
        cx.sink.close();
        cx.sink.open();
    }
    if has(flag::ZERO_WINDOW_PROBE) {
        mark(cx, &tcp::ANALYSIS_ZERO_WINDOW_PROBE);
    }
    if has(flag::ZERO_WINDOW) {
        mark(cx, &tcp::ANALYSIS_ZERO_WINDOW);
    }
    if has(flag::ZERO_WINDOW_PROBE_ACK) {
        mark(cx, &tcp::ANALYSIS_ZERO_WINDOW_PROBE_ACK);
    }
    cx.sink.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reset analysis is a new one (only the segment lists' capacity is kept).
    #[test]
    fn reset_is_new() {
        let mut a = TcpAnalysis::new(5);
        let mut step = |side, flags, seq, ack, len, frame| {
            let t = TcpInfo {
                flags,
                seq,
                ack,
                window: 100,
                wscale: Some(7),
                ..TcpInfo::default()
            };
            let seg = Segment {
                tcp: &t,
                seglen: Some(len),
                frame,
                now: 10 + frame as Nanos,
                tcp_fields_wanted: true,
            };
            a.process(side, &seg, frame == 1, SynCheck::Ordinary);
        };
        step(0, TcpInfo::SYN, 1000, 0, 0, 1);
        step(1, TcpInfo::SYN | TcpInfo::ACK, 5000, 1001, 0, 2);
        step(0, TcpInfo::ACK, 1001, 5001, 100, 3);
        step(0, TcpInfo::ACK, 1001, 5001, 100, 4);
        let fresh = format!("{:?}", TcpAnalysis::new(42));
        assert_ne!(format!("{a:?}"), fresh);
        a.reset(42);
        assert_eq!(format!("{a:?}"), fresh);
    }

    /// Without `tcp` fields no unacknowledged segment is kept, and every flag and number
    /// the rest of the engine reads comes out as with them: through a handshake, duplicate
    /// ACKs, a fast and a spurious retransmission, a lost segment and the late one (out of
    /// order, then a retransmission), a zero window and a keep-alive.
    #[test]
    fn without_tcp_fields_the_flags_are_the_same() {
        let (mut full, mut lite) = (TcpAnalysis::new(1), TcpAnalysis::new(1));
        let (a, s) = (TcpInfo::ACK, TcpInfo::SYN);
        // side, flags, seq, ack, window, payload length, time
        let steps: &[(usize, u16, u32, u32, u16, u32, Nanos)] = &[
            (0, s, 1000, 0, 100, 0, 1),
            (1, s | a, 5000, 1001, 100, 0, 2),
            (0, a, 1001, 5001, 100, 0, 3),
            (0, a, 1001, 5001, 100, 100, 4),
            (0, a, 1101, 5001, 100, 100, 5),
            (0, a, 1201, 5001, 100, 100, 6),
            (1, a, 5001, 1101, 100, 0, 7),
            (1, a, 5001, 1101, 100, 0, 8),
            (1, a, 5001, 1101, 100, 0, 9),
            (0, a, 1101, 5001, 100, 100, 10),
            (0, a, 1001, 5001, 100, 100, 11),
            (0, a, 1401, 5001, 100, 100, 12),
            (0, a, 1301, 5001, 100, 100, 13),
            (0, a, 1301, 5001, 100, 100, 5_000_000_000),
            (1, a, 5001, 1501, 0, 0, 5_000_000_001),
            (0, a, 1500, 5001, 100, 1, 5_000_000_002),
            (1, a, 5001, 1501, 100, 0, 5_000_000_003),
        ];
        let mut seen = 0;
        for (n, &(side, flags, seq, ack, window, len, now)) in steps.iter().enumerate() {
            let t = TcpInfo {
                flags,
                seq,
                ack,
                window,
                wscale: (flags & s != 0).then_some(2),
                ..TcpInfo::default()
            };
            let facts = |a: &mut TcpAnalysis, wanted| {
                let check = a.syn_check(side, &t);
                let seg = Segment {
                    tcp: &t,
                    seglen: Some(len),
                    frame: n as u64 + 1,
                    now,
                    tcp_fields_wanted: wanted,
                };
                a.process(side, &seg, n == 0, check)
            };
            let (f, l) = (facts(&mut full, true), facts(&mut lite, false));
            assert_eq!(f.ta.flags, l.ta.flags, "step {n}");
            let numbers = |x: &SegmentFacts| (x.seq, x.ack, x.nxtseq, x.window, x.initial_rtt);
            assert_eq!(numbers(&f), numbers(&l), "step {n}");
            assert!(lite.dirs.iter().all(|d| d.segments.capacity() == 0));
            seen |= f.ta.flags;
        }
        let all = flag::DUPLICATE_ACK
            | flag::FAST_RETRANSMISSION
            | flag::SPURIOUS_RETRANSMISSION
            | flag::LOST_PACKET
            | flag::OUT_OF_ORDER
            | flag::RETRANSMISSION
            | flag::ZERO_WINDOW
            | flag::KEEP_ALIVE;
        assert_eq!(seen & all, all, "flags met: {seen:#x}");
    }

    /// `track_bases` keeps the base sequence numbers and completeness `process` keeps, through
    /// a capture begun mid-stream, a SYN/ACK with another initial number, a SYN reusing the
    /// 4-tuple, a segment whose IP header claims less than its TCP header, FIN and RST.
    #[test]
    fn tracking_bases_keeps_what_the_analysis_keeps() {
        let (mut full, mut lite) = (TcpAnalysis::new(1), TcpAnalysis::new(1));
        let (a, s, f, r) = (TcpInfo::ACK, TcpInfo::SYN, TcpInfo::FIN, TcpInfo::RST);
        let steps: &[(usize, u16, u32, u32, Option<u32>)] = &[
            (0, a, 700, 9000, Some(10)),
            (1, a, 9000, 710, Some(0)),
            (1, s | a, 4000, 711, Some(0)),
            (0, a | f, 710, 4001, Some(0)),
            (0, s, 100, 0, Some(0)),
            (0, s, 100, 0, Some(0)),
            (1, s | a, 800, 101, Some(0)),
            (0, a, 101, 801, None),
            (0, a, 101, 801, Some(5)),
            (1, r, 801, 0, Some(0)),
        ];
        for (n, &(side, flags, seq, ack, seglen)) in steps.iter().enumerate() {
            let t = TcpInfo {
                flags,
                seq,
                ack,
                window: 100,
                ..TcpInfo::default()
            };
            let check = full.syn_check(side, &t);
            assert_eq!(check, lite.syn_check(side, &t), "step {n}");
            let seg = Segment {
                tcp: &t,
                seglen,
                frame: n as u64 + 1,
                now: 10 + n as Nanos,
                tcp_fields_wanted: true,
            };
            full.process(side, &seg, n == 0, check);
            lite.track_bases(side, &t, seglen, n == 0, check);
            assert_eq!(full.bases(), lite.bases(), "step {n}");
            assert_eq!(full.completeness, lite.completeness, "step {n}");
        }
        // Side 1 was rebased by each SYN/ACK; side 0 keeps the base of its first segment (the
        // flow engine gives a new connection a new analysis).
        assert_eq!(full.bases(), [Some(699), Some(800)]);
    }
}
