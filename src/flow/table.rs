//! The flow table: one entry per live conversation, stream numbering, roles, caps and
//! eviction, and the summaries of flows that ended.
//!
//! * **Numbering** is Wireshark's: `tcp.stream` and `udp.stream` count conversations in order
//!   of first appearance, from 0, separately for TCP and UDP. A pure SYN whose sequence number
//!   differs from the SYN that started the conversation on that 4-tuple starts a new stream
//!   (see `tcp_analysis::SynCheck`); the old flow is retired.
//! * **Roles**: the sender of a pure SYN is the client, the sender of a SYN/ACK the server;
//!   without a handshake, the endpoint with the higher port is the client (servers listen on
//!   well-known, lower ports), and with equal ports the first sender.
//! * **Bounded memory**: at most [`FlowLimits::max_flows`] live flows, and live flows use at
//!   most half of [`FlowLimits::max_memory`] (estimated: entries, analysis state, reassembly
//!   and parser buffers); past either, the least recently active flow is evicted (counted). A flow idle for longer than
//!   [`FlowLimits::idle_timeout`] (capture time) is expired. Summaries of ended flows are kept
//!   for the conversation tables, at most [`FlowLimits::max_records`] of them and at most the
//!   other half of the memory cap (the rest are counted, not listed).

use super::app::App;
use super::key::{FlowKey, Side, L4};
use super::reassembly::Assembler;
use super::tcp_analysis::{completeness, Nanos, TcpAnalysis};
use super::tcp_state::TcpState;
use rustc_hash::FxHashMap;

/// Live flows kept at most, by default (each costs roughly half a kilobyte before buffers).
pub const DEFAULT_MAX_FLOWS: usize = 1 << 20;
/// Estimated bytes of flow state (entries, analysis, reassembly and parser buffers, and the
/// summaries of ended flows when a conversation table wants them), by default. 32 MiB keeps a
/// whole run under the foundation issue's 64 MB peak (about 1.6x this estimate in RSS, with
/// the read buffer and allocator slack) on files of any size; `--flow-memory` raises it.
pub const DEFAULT_MAX_MEMORY: usize = 32 << 20;
/// Idle time after which a flow is expired, by default (capture time). tshark never expires a
/// conversation; an hour keeps its numbering on files while bounding live captures.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 3600;
/// Summaries of ended flows kept for the conversation tables, by default (about 120 bytes
/// each).
pub const DEFAULT_MAX_RECORDS: usize = 1 << 20;

/// The table's caps.
#[derive(Debug, Clone, Copy)]
pub struct FlowLimits {
    pub max_flows: usize,
    pub max_memory: usize,
    pub idle_timeout: Nanos,
    pub max_records: usize,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_flows: DEFAULT_MAX_FLOWS,
            max_memory: DEFAULT_MAX_MEMORY,
            idle_timeout: (DEFAULT_IDLE_TIMEOUT_SECS * 1_000_000_000) as Nanos,
            max_records: DEFAULT_MAX_RECORDS,
        }
    }
}

/// What the table dropped or expired, reported in the run summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct TableStats {
    pub tcp_streams: u64,
    pub udp_streams: u64,
    /// Flows evicted because a cap was reached.
    pub evicted: u64,
    /// Flows expired after the idle timeout.
    pub expired: u64,
    /// Ended flows whose summary was not kept (record cap).
    pub records_dropped: u64,
    /// Largest estimate of flow-state memory seen.
    pub peak_memory: usize,
}

/// The TCP part of a flow.
#[derive(Debug)]
pub struct TcpFlow {
    pub analysis: TcpAnalysis,
    /// Per side (index [`Side::index`]).
    pub asm: [Assembler; 2],
    pub state: TcpState,
    /// Segments flagged as any kind of retransmission.
    pub retransmissions: u64,
}

/// One live conversation.
#[derive(Debug)]
pub struct Flow {
    pub key: FlowKey,
    /// `tcp.stream` / `udp.stream`.
    pub stream: u64,
    pub client: Side,
    /// The side of the first frame (tshark's conversation tables call it address A).
    pub first_sender: Side,
    pub first_frame: u64,
    /// Absolute time of the first frame.
    pub start: Nanos,
    /// Time of the first frame relative to the capture's first frame.
    pub start_rel: Nanos,
    pub last: Nanos,
    /// Time of the previous frame (for `udp.time_delta`).
    pub prev: Nanos,
    /// Frames and frame bytes sent by each side (index [`Side::index`]).
    pub frames: [u64; 2],
    pub bytes: [u64; 2],
    /// Transport payload bytes sent by each side (as the IP header claims them).
    pub payload: [u64; 2],
    pub tcp: Option<Box<TcpFlow>>,
    pub app: App,
    /// Heap bytes counted in the table's estimate at the last update.
    heap: usize,
    prev_lru: u32,
    next_lru: u32,
}

impl Flow {
    /// The side sending in direction `to_server`.
    pub fn side_of(&self, dir: netsniff_dissectors::Direction) -> Side {
        match dir {
            netsniff_dissectors::Direction::ToServer => self.client,
            netsniff_dissectors::Direction::ToClient => self.client.other(),
        }
    }

    /// The direction of bytes sent by `side`.
    pub fn dir_of(&self, side: Side) -> netsniff_dissectors::Direction {
        if side == self.client {
            netsniff_dissectors::Direction::ToServer
        } else {
            netsniff_dissectors::Direction::ToClient
        }
    }

    /// Counts a frame sent by `side` (not one quoted in an ICMP error). The first one counted
    /// starts the conversation as tshark's tables show it.
    pub fn count_frame(
        &mut self,
        side: Side,
        meta: &netsniff_dissectors::FrameMeta,
        now: Nanos,
        now_rel: Nanos,
    ) {
        if self.frames == [0, 0] {
            self.first_sender = side;
            self.first_frame = meta.number;
            self.start = now;
            self.start_rel = now_rel;
        }
        self.frames[side.index()] += 1;
        self.bytes[side.index()] += u64::from(meta.len);
    }

    /// Heap bytes held by this flow (buffers, segment lists).
    pub fn heap_bytes(&self) -> usize {
        let tcp = self.tcp.as_ref().map_or(0, |t| {
            std::mem::size_of::<TcpFlow>()
                + t.asm.iter().map(Assembler::held_bytes).sum::<usize>()
                + t.analysis
                    .dirs
                    .iter()
                    .map(|d| d.heap_bytes())
                    .sum::<usize>()
                + t.state.heap_bytes()
        });
        tcp + self.app.held_bytes()
    }

    /// Its summary.
    pub fn summary(&self) -> FlowSummary {
        let (a, b) = (self.first_sender, self.first_sender.other());
        let tcp = self.tcp.as_deref();
        FlowSummary {
            l4: self.key.l4,
            stream: self.stream,
            a: self.key.endpoint(a),
            b: self.key.endpoint(b),
            client_is_a: self.client == a,
            frames_ab: self.frames[a.index()],
            bytes_ab: self.bytes[a.index()],
            frames_ba: self.frames[b.index()],
            bytes_ba: self.bytes[b.index()],
            payload_ab: self.payload[a.index()],
            payload_ba: self.payload[b.index()],
            client_state: tcp.map(|t| t.state.ends[self.client.index()].state.name()),
            server_state: tcp.map(|t| t.state.ends[self.client.other().index()].state.name()),
            first_frame: self.first_frame,
            start: self.start,
            start_rel: self.start_rel,
            duration: self.last - self.start,
            state: tcp.map(|t| t.state.conn_state(self.client)),
            // Wireshark's iRTT, when the handshake had a SYN/ACK (a RST answering the SYN
            // also sets the iRTT, but no handshake happened).
            handshake_rtt: tcp.and_then(|t| {
                let a = &t.analysis;
                (a.ts_first_rtt != 0 && a.completeness & completeness::SYN_ACK != 0)
                    .then_some(a.ts_first_rtt)
            }),
            retransmissions: tcp.map_or(0, |t| t.retransmissions),
            app: self.app.proto,
        }
    }
}

/// What `netsniff flows` and `-z conv` show of a flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowSummary {
    pub l4: L4,
    pub stream: u64,
    /// The sender of the first frame.
    pub a: super::key::Endpoint,
    pub b: super::key::Endpoint,
    /// Whether `a` is the client.
    pub client_is_a: bool,
    pub frames_ab: u64,
    pub bytes_ab: u64,
    pub frames_ba: u64,
    pub bytes_ba: u64,
    /// Transport payload bytes A→B and B→A.
    pub payload_ab: u64,
    pub payload_ba: u64,
    /// Final RFC 9293 states of client and server (TCP only).
    pub client_state: Option<&'static str>,
    pub server_state: Option<&'static str>,
    pub first_frame: u64,
    pub start: Nanos,
    pub start_rel: Nanos,
    pub duration: Nanos,
    /// Zeek's `conn_state` (TCP only).
    pub state: Option<&'static str>,
    pub handshake_rtt: Option<Nanos>,
    pub retransmissions: u64,
    /// The application protocol that parsed the flow.
    pub app: Option<&'static str>,
}

impl FlowSummary {
    /// (client, server) endpoints.
    pub fn roles(&self) -> (super::key::Endpoint, super::key::Endpoint) {
        if self.client_is_a {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        }
    }
}

const NIL: u32 = u32::MAX;

/// A flow leaving the table, for the engine to finish its parser.
pub struct Retired {
    pub flow: Flow,
}

/// The live flows.
#[derive(Debug)]
pub struct FlowTable {
    pub limits: FlowLimits,
    map: FxHashMap<FlowKey, u32>,
    slots: Vec<Option<Flow>>,
    free: Vec<u32>,
    /// Most recently active first.
    lru_head: u32,
    lru_tail: u32,
    live: usize,
    next_stream: [u64; 2],
    /// Summaries of ended flows.
    pub records: Vec<FlowSummary>,
    /// Estimated heap bytes of all live flows.
    heap: usize,
    pub stats: TableStats,
}

/// Fixed cost of one live flow in the estimate: its slot, its map entry, and the boxed TCP
/// part (counted in [`Flow::heap_bytes`]).
const FLOW_OVERHEAD: usize =
    std::mem::size_of::<Option<Flow>>() + std::mem::size_of::<(FlowKey, u32)>() + 16;

impl FlowTable {
    pub fn new(limits: FlowLimits) -> FlowTable {
        FlowTable {
            limits,
            map: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            lru_head: NIL,
            lru_tail: NIL,
            live: 0,
            next_stream: [0, 0],
            records: Vec::new(),
            heap: 0,
            stats: TableStats::default(),
        }
    }

    /// Live flows.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Estimated bytes of flow state now (live flows and kept summaries).
    pub fn memory(&self) -> usize {
        self.live_memory() + self.records_memory()
    }

    /// Whether live flows exceed their half of the memory cap. The halves are fixed: memory
    /// freed by evicted flows comes back in small pieces that the summaries' one growing
    /// array cannot reuse, so letting either side borrow the other's half would let the
    /// process outgrow the cap.
    pub fn over_memory(&self, incoming: usize) -> bool {
        self.live_memory() + incoming > self.limits.max_memory / 2
    }

    pub fn lookup(&self, key: &FlowKey) -> Option<u32> {
        self.map.get(key).copied()
    }

    pub fn get(&self, idx: u32) -> Option<&Flow> {
        self.slots.get(idx as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, idx: u32) -> Option<&mut Flow> {
        self.slots.get_mut(idx as usize).and_then(Option::as_mut)
    }

    /// Every live flow.
    pub fn iter(&self) -> impl Iterator<Item = &Flow> {
        self.slots.iter().filter_map(Option::as_ref)
    }

    /// Creates a flow for `key`, first seen from `sender` at `now`; returns its index and any
    /// flows evicted to make room (the caller ends their parsers).
    #[expect(
        clippy::too_many_arguments,
        reason = "the frame, the flow and the stage's state travel together"
    )]
    pub fn create(
        &mut self,
        key: FlowKey,
        sender: Side,
        client: Side,
        frame: u64,
        now: Nanos,
        now_rel: Nanos,
        app: App,
        evicted: &mut Vec<Retired>,
    ) -> u32 {
        while self.live >= self.limits.max_flows.max(1)
            || (self.live > 0 && self.over_memory(FLOW_OVERHEAD + std::mem::size_of::<TcpFlow>()))
        {
            match self.evict_lru() {
                Some(r) => evicted.push(r),
                None => break,
            }
        }
        let l4 = key.l4;
        let counter = &mut self.next_stream[usize::from(l4 == L4::Udp)];
        let stream = *counter;
        *counter += 1;
        match l4 {
            L4::Tcp => self.stats.tcp_streams += 1,
            L4::Udp => self.stats.udp_streams += 1,
        }
        let tcp = (l4 == L4::Tcp).then(|| {
            Box::new(TcpFlow {
                analysis: TcpAnalysis::new(now),
                asm: [Assembler::new(), Assembler::new()],
                state: TcpState::default(),
                retransmissions: 0,
            })
        });
        let flow = Flow {
            key,
            stream,
            client,
            first_sender: sender,
            first_frame: frame,
            start: now,
            start_rel: now_rel,
            last: now,
            prev: now,
            frames: [0, 0],
            bytes: [0, 0],
            payload: [0, 0],
            tcp,
            app,
            heap: 0,
            prev_lru: NIL,
            next_lru: NIL,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                if let Some(slot) = self.slots.get_mut(i as usize) {
                    *slot = Some(flow);
                }
                i
            }
            None => {
                self.slots.push(Some(flow));
                u32::try_from(self.slots.len() - 1).unwrap_or(NIL)
            }
        };
        self.live += 1;
        self.map.insert(key, idx);
        self.link_front(idx);
        self.refresh(idx);
        idx
    }

    /// Marks `idx` as just active and updates the memory estimate for it.
    pub fn touch(&mut self, idx: u32) {
        if self.lru_head != idx {
            self.unlink(idx);
            self.link_front(idx);
        }
        self.refresh(idx);
    }

    /// Re-reads the heap size of flow `idx` into the estimate.
    pub fn refresh(&mut self, idx: u32) {
        let Some(f) = self.get_mut(idx) else {
            return;
        };
        let now = f.heap_bytes();
        let before = std::mem::replace(&mut f.heap, now);
        self.heap = self.heap.saturating_sub(before) + now;
    }

    /// Notes the current estimate in the peak (call once the caps were enforced).
    pub fn note_peak(&mut self) {
        let mem = self.memory();
        if mem > self.stats.peak_memory {
            self.stats.peak_memory = mem;
        }
    }

    /// Removes flow `idx` from the table (it ended, or a new connection replaced it).
    pub fn remove(&mut self, idx: u32) -> Option<Flow> {
        let flow = self.slots.get_mut(idx as usize)?.take()?;
        self.unlink_raw(flow.prev_lru, flow.next_lru, idx);
        if self.map.get(&flow.key) == Some(&idx) {
            self.map.remove(&flow.key);
        }
        self.free.push(idx);
        self.live -= 1;
        self.heap = self.heap.saturating_sub(flow.heap);
        Some(flow)
    }

    /// Summaries kept at most: the record cap, and half the memory cap (the other half is
    /// for live flows).
    fn records_allowed(&self) -> usize {
        let by_memory = self.limits.max_memory / 2 / std::mem::size_of::<FlowSummary>();
        self.limits.max_records.min(by_memory)
    }

    /// Keeps the summary of an ended flow (unless the record caps are reached).
    pub fn record(&mut self, flow: &Flow) {
        let allowed = self.records_allowed();
        let len = self.records.len();
        if len >= allowed {
            self.stats.records_dropped += 1;
            return;
        }
        if len == self.records.capacity() {
            // Grow by half, never past the cap: doubling could overshoot the budget.
            let more = (len / 2).max(1024).min(allowed - len);
            self.records.reserve_exact(more);
        }
        self.records.push(flow.summary());
    }

    /// Estimated bytes of the summaries kept.
    fn records_memory(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<FlowSummary>()
    }

    /// Estimated bytes of the live flows.
    fn live_memory(&self) -> usize {
        self.live * FLOW_OVERHEAD + self.heap
    }

    /// Evicts the least recently active flow (for the memory cap).
    pub fn evict_one(&mut self, out: &mut Vec<Retired>) {
        if let Some(r) = self.evict_lru() {
            out.push(r);
        }
    }

    /// Removes every live flow (the end of the run), oldest activity first.
    pub fn drain(&mut self) -> Vec<Flow> {
        let mut out = Vec::with_capacity(self.live);
        while self.lru_tail != NIL {
            let idx = self.lru_tail;
            match self.remove(idx) {
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }

    fn evict_lru(&mut self) -> Option<Retired> {
        let idx = self.lru_tail;
        if idx == NIL {
            return None;
        }
        let flow = self.remove(idx)?;
        self.stats.evicted += 1;
        self.record(&flow);
        Some(Retired { flow })
    }

    /// Expires flows idle since before `now - idle_timeout` (oldest activity first).
    pub fn expire(&mut self, now: Nanos, out: &mut Vec<Retired>) {
        loop {
            let idx = self.lru_tail;
            let Some(f) = self.get(idx) else {
                return;
            };
            if now - f.last <= self.limits.idle_timeout {
                return;
            }
            let Some(flow) = self.remove(idx) else {
                return;
            };
            self.stats.expired += 1;
            self.record(&flow);
            out.push(Retired { flow });
        }
    }

    fn link_front(&mut self, idx: u32) {
        let old = self.lru_head;
        if let Some(f) = self.get_mut(idx) {
            f.prev_lru = NIL;
            f.next_lru = old;
        }
        if let Some(h) = self.get_mut(old) {
            h.prev_lru = idx;
        }
        self.lru_head = idx;
        if self.lru_tail == NIL {
            self.lru_tail = idx;
        }
    }

    fn unlink(&mut self, idx: u32) {
        let Some(f) = self.get(idx) else {
            return;
        };
        let (p, n) = (f.prev_lru, f.next_lru);
        self.unlink_raw(p, n, idx);
    }

    fn unlink_raw(&mut self, p: u32, n: u32, idx: u32) {
        match self.get_mut(p) {
            Some(pf) => pf.next_lru = n,
            None => {
                if self.lru_head == idx {
                    self.lru_head = n;
                }
            }
        }
        match self.get_mut(n) {
            Some(nf) => nf.prev_lru = p,
            None => {
                if self.lru_tail == idx {
                    self.lru_tail = p;
                }
            }
        }
    }
}
