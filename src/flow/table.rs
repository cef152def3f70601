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
//!   most half of [`FlowLimits::max_memory`] (a quarter when summaries are kept; estimated:
//!   entries, analysis state, reassembly and parser buffers). Past either, a flow is evicted
//!   (counted): the least recently active closed TCP connection, else the least recently
//!   active flow. A flow idle for longer than [`FlowLimits::idle_timeout`] (capture time) is
//!   expired.
//! * **What an evicted flow means**: it leaves a tombstone ([`super::tomb`]) with its stream
//!   number, roles and base sequence numbers, so that a later packet of it continues the same
//!   `tcp.stream` / `udp.stream` with the same relative numbers, as in tshark (which never
//!   forgets); only its analysis and parser state start afresh (counted as resumed).
//!   Tombstones use at most the other half of the budget (a quarter with summaries).
//! * **Summaries** of ended flows are kept only for the conversation tables, at most
//!   [`FlowLimits::max_records`] of them and half of the memory cap (the rest are counted, not
//!   listed); a flow coming back continues its summary.

use super::app::App;
use super::key::{FlowKey, Side, L4};
use super::reassembly::Assembler;
use super::tcp_analysis::{completeness, Nanos, TcpAnalysis};
use super::tcp_state::{TcpState, MAX_TRANSITIONS};
use super::throughput::Throughput;
use super::tomb::{Tomb, Tombs};
use hashbrown::HashTable;

/// Live flows kept at most, by default (each costs roughly half a kilobyte before buffers).
pub const DEFAULT_MAX_FLOWS: usize = 1 << 20;
/// Estimated bytes of flow state (entries, analysis, reassembly and parser buffers, and the
/// summaries of ended flows when a conversation table wants them), by default. 32 MiB keeps a
/// whole run under the foundation issue's 64 MB peak (about 1.6x this estimate in RSS, with
/// the read buffer and allocator slack) on files of any size; `--flow-memory` raises it.
pub const DEFAULT_MAX_MEMORY: usize = 32 << 20;
/// The same when a conversation table wants a summary of every flow (`-z conv`, `netsniff
/// flows`): half of it holds the summaries (about 300 000 of them), a quarter the live flows, a
/// quarter the tombstones. Those runs may use 256 MB.
pub const DEFAULT_MAX_MEMORY_WITH_RECORDS: usize = 128 << 20;
/// Idle time after which a flow is expired, by default, on a live capture (capture time).
/// tshark never expires a conversation, and files keep every flow as long as the caps allow
/// (the configuration sets no timeout there); a live capture drops the dead ones in an hour.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 3600;
/// Summaries of ended flows kept for the conversation tables, by default (about 230 bytes
/// each).
pub const DEFAULT_MAX_RECORDS: usize = 1 << 20;
/// Bytes the index from a buried flow's stream to its summary costs per summary, about (four
/// bytes a stream number, for the streams up to the last one buried, in a vector up to twice
/// as large after a doubling): counted with the summaries.
const RECORD_INDEX_COST: usize = 16;

/// The table's caps.
#[derive(Debug, Clone, Copy)]
pub struct FlowLimits {
    pub max_flows: usize,
    pub max_memory: usize,
    pub idle_timeout: Nanos,
    pub max_records: usize,
    /// Keep each flow's history for its summary: the RFC 9293 transitions of both ends and
    /// its throughput over time (`netsniff flows -T json`). About 700 bytes per flow more.
    pub history: bool,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_flows: DEFAULT_MAX_FLOWS,
            max_memory: DEFAULT_MAX_MEMORY,
            idle_timeout: (DEFAULT_IDLE_TIMEOUT_SECS * 1_000_000_000) as Nanos,
            max_records: DEFAULT_MAX_RECORDS,
            history: false,
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
    /// Packets of flows that had left the table (evicted or expired) brought them back: the
    /// same stream number, but their analysis and parser started afresh.
    pub resumed: u64,
    /// Flows that left the table without a tombstone (the tombstone budget was spent): a later
    /// packet of theirs starts a new stream.
    pub forgotten: u64,
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
    /// The side whose FIN came first (tshark's 'This frame initiates the connection closing').
    pub closing_initiator: Option<Side>,
}

/// One live conversation.
#[derive(Debug)]
pub struct Flow {
    pub key: FlowKey,
    /// [`FlowKey::hash64`] of the key (the table's index rehashes with it).
    hash: u64,
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
    /// Payload bytes over time, when [`FlowLimits::history`] asks for it.
    pub throughput: Option<Box<Throughput>>,
    /// Heap bytes counted in the table's estimate at the last update.
    heap: usize,
    prev_lru: u32,
    next_lru: u32,
    /// The activity list the flow is in: closed TCP connections are evicted first.
    closed: bool,
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

    /// Counts `bytes` of transport payload sent by `side` at `now`.
    pub fn count_payload(&mut self, side: Side, now: Nanos, bytes: u64) {
        self.payload[side.index()] += bytes;
        if let Some(t) = self.throughput.as_deref_mut() {
            t.add(side, now, bytes);
        }
    }

    /// Continues the counts of `earlier`, this flow's summary from before it left the table.
    pub fn restore(&mut self, earlier: &FlowSummary) {
        let (a, b) = (self.first_sender, self.first_sender.other());
        self.frames[a.index()] += earlier.frames_ab;
        self.frames[b.index()] += earlier.frames_ba;
        self.bytes[a.index()] += earlier.bytes_ab;
        self.bytes[b.index()] += earlier.bytes_ba;
        self.payload[a.index()] += earlier.payload_ab;
        self.payload[b.index()] += earlier.payload_ba;
        self.first_frame = earlier.first_frame;
        self.start = earlier.start;
        self.start_rel = earlier.start_rel;
        if let Some(t) = self.tcp.as_deref_mut() {
            t.retransmissions += earlier.retransmissions;
        }
        // The series continues from the earlier start (its buckets count from there); the
        // state transitions shown are those of the latest life only.
        if let (Some(t), Some(d)) = (self.throughput.as_deref_mut(), earlier.detail.as_deref()) {
            *t = d.throughput.clone();
        }
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
        tcp + self.app.held_bytes() + self.throughput.as_ref().map_or(0, |_| THROUGHPUT_COST)
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
            detail: self.throughput.as_deref().map(|t| {
                let timeline = |side: Side| -> Vec<(u64, &'static str)> {
                    tcp.map_or_else(Vec::new, |tf| {
                        tf.state.ends[side.index()]
                            .timeline
                            .iter()
                            .map(|&(frame, state)| (frame, state.name()))
                            .collect()
                    })
                };
                Box::new(FlowDetail {
                    client_timeline: timeline(self.client),
                    server_timeline: timeline(self.client.other()),
                    client: self.client,
                    throughput: t.clone(),
                })
            }),
        }
    }
}

/// What `netsniff flows` and `-z conv` show of a flow.
#[derive(Debug, Clone)]
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
    /// Its history, when [`FlowLimits::history`] asked for it.
    pub detail: Option<Box<FlowDetail>>,
}

/// A flow's history: what charts and ladders draw.
#[derive(Debug, Clone)]
pub struct FlowDetail {
    /// `(frame, RFC 9293 state entered)` of the client and of the server (TCP), oldest first.
    pub client_timeline: Vec<(u64, &'static str)>,
    pub server_timeline: Vec<(u64, &'static str)>,
    /// The client's side of the series.
    client: Side,
    /// Payload bytes over time (a flow that comes back after eviction continues it).
    pub throughput: Throughput,
}

impl FlowDetail {
    /// Payload bytes per [`Throughput::width`] from the flow's start, client to server.
    pub fn to_server(&self) -> &[u64] {
        self.throughput.series(self.client)
    }

    /// The same, server to client.
    pub fn to_client(&self) -> &[u64] {
        self.throughput.series(self.client.other())
    }
}

/// Bytes a flow's throughput series costs.
const THROUGHPUT_COST: usize = std::mem::size_of::<Throughput>() + 16;
/// Bytes a summary's history costs at most: the box, both timelines full, both series full
/// and the series itself.
const DETAIL_COST: usize = std::mem::size_of::<FlowDetail>()
    + 2 * MAX_TRANSITIONS * std::mem::size_of::<(u64, &'static str)>()
    + 16;

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

/// The index of [`FlowTable::record_of`] for `l4`'s streams.
fn record_list(l4: L4) -> usize {
    usize::from(l4 == L4::Udp)
}

/// A flow leaving the table, for the engine to finish its parser.
pub struct Retired {
    pub flow: Flow,
}

/// The flows live at the end of the run, out of the table ([`FlowTable::take_all`]).
pub struct LiveFlows {
    slots: Vec<Option<Flow>>,
    /// The slots in the order to take them, when it matters.
    order: Option<Vec<u32>>,
}

impl LiveFlows {
    /// Calls `f` on every flow, in the order taken.
    pub fn for_each(&mut self, mut f: impl FnMut(&mut Flow)) {
        match &self.order {
            Some(order) => {
                for &idx in order {
                    if let Some(flow) = self.slots.get_mut(idx as usize).and_then(Option::as_mut) {
                        f(flow);
                    }
                }
            }
            None => self.slots.iter_mut().flatten().for_each(f),
        }
    }
}

/// The live flows.
#[derive(Debug)]
pub struct FlowTable {
    limits: FlowLimits,
    /// Bytes the live flows may use ([`FlowTable::live_budget`]), read every frame: the
    /// limits do not change.
    live_budget: usize,
    /// Slot of each live flow, by [`FlowKey::hash64`]: four bytes an entry (the keys are in
    /// the slots), so that the index of tens of thousands of flows stays in the CPU caches.
    map: HashTable<u32>,
    slots: Vec<Option<Flow>>,
    free: Vec<u32>,
    /// Activity lists, most recently active first: open flows (index 0) and closed TCP
    /// connections (index 1), which a cap evicts first (their later packets are rarest).
    lru_head: [u32; 2],
    lru_tail: [u32; 2],
    live: usize,
    next_stream: [u64; 2],
    /// Summaries of ended flows.
    records: Vec<FlowSummary>,
    /// Where the summary of a flow that left with a tombstone is in `records` (kept only
    /// with records), so that the flow coming back continues its own counts: by stream
    /// number, TCP's and UDP's apart ([`record_list`]), [`NIL`] where none. Stream numbers
    /// are dense (counted from 0 as flows appear), so a vector serves: a hash map's insert,
    /// one per flow evicted, cost a cache miss each.
    record_of: [Vec<u32>; 2],
    /// What is kept of flows that left (see [`super::tomb`]).
    pub tombs: Tombs,
    /// TCP state of ended connections, reused by new ones (one allocation, and the segment
    /// lists, saved per connection).
    #[expect(clippy::vec_box, reason = "the boxes are the allocations reused")]
    spare_tcp: Vec<Box<TcpFlow>>,
    /// Estimated heap bytes of all live flows.
    heap: usize,
    /// [`FlowTable::records_memory`] as it stands: worked out again wherever the summaries or
    /// their index change, since every frame reads it.
    records_mem: usize,
    pub stats: TableStats,
}

/// Ended connections' TCP states kept for reuse.
const SPARE_TCP: usize = 64;

/// Fixed cost of one live flow in the estimate: its slot, its map entry, and the boxed TCP
/// part (counted in [`Flow::heap_bytes`]).
const FLOW_OVERHEAD: usize =
    std::mem::size_of::<Option<Flow>>() + std::mem::size_of::<(FlowKey, u32)>() + 16;

impl FlowTable {
    pub fn new(limits: FlowLimits) -> FlowTable {
        FlowTable {
            limits,
            live_budget: FlowTable::live_budget(&limits),
            map: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            lru_head: [NIL; 2],
            lru_tail: [NIL; 2],
            live: 0,
            next_stream: [0, 0],
            records: Vec::new(),
            record_of: [Vec::new(), Vec::new()],
            tombs: Tombs::default(),
            spare_tcp: Vec::new(),
            heap: 0,
            records_mem: 0,
            stats: TableStats::default(),
        }
    }

    /// The summaries of ended flows kept.
    pub fn records(&self) -> &[FlowSummary] {
        &self.records
    }

    /// Live flows.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Estimated bytes of flow state now (live flows, kept summaries and tombstones).
    pub fn memory(&self) -> usize {
        self.live_memory() + self.records_mem + self.tombs.memory()
    }

    /// Bytes the tombstones may use: what live flows and summaries leave (a half, or a
    /// quarter when summaries are kept).
    fn tombs_budget(&self) -> usize {
        if self.limits.max_records == 0 {
            self.limits.max_memory / 2
        } else {
            self.limits.max_memory / 4
        }
    }

    pub fn over_memory(&self, incoming: usize) -> bool {
        self.live_memory() + incoming > self.live_budget
    }

    /// Half of the memory cap, a quarter when summaries are kept.
    fn live_budget(limits: &FlowLimits) -> usize {
        if limits.max_records == 0 {
            limits.max_memory / 2
        } else {
            limits.max_memory / 4
        }
    }

    /// The slot of the live flow of `key`, whose [`FlowKey::hash64`] is `hash`.
    pub fn lookup(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.map
            .find(hash, |&i| {
                slots
                    .get(i as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|f| f.key == *key)
            })
            .copied()
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
        hash: u64,
        sender: Side,
        client: Side,
        frame: u64,
        now: Nanos,
        now_rel: Nanos,
        app: App,
        resumed: Option<u64>,
        evicted: &mut Vec<Retired>,
    ) -> u32 {
        while self.live >= self.limits.max_flows.max(1)
            || (self.live > 0 && self.over_memory(FLOW_OVERHEAD + std::mem::size_of::<TcpFlow>()))
        {
            if !self.evict_one(evicted) {
                break;
            }
        }
        let l4 = key.l4;
        let stream = match resumed {
            Some(stream) => {
                self.stats.resumed += 1;
                stream
            }
            None => {
                let counter = &mut self.next_stream[usize::from(l4 == L4::Udp)];
                let stream = *counter;
                *counter += 1;
                match l4 {
                    L4::Tcp => self.stats.tcp_streams += 1,
                    L4::Udp => self.stats.udp_streams += 1,
                }
                stream
            }
        };
        let tcp = (l4 == L4::Tcp).then(|| match self.spare_tcp.pop() {
            Some(mut t) => {
                let mut analysis = std::mem::replace(&mut t.analysis, TcpAnalysis::new(now));
                analysis.reset(now);
                *t = TcpFlow {
                    analysis,
                    asm: [Assembler::new(), Assembler::new()],
                    state: TcpState::new(self.limits.history),
                    retransmissions: 0,
                    closing_initiator: None,
                };
                t
            }
            None => Box::new(TcpFlow {
                analysis: TcpAnalysis::new(now),
                asm: [Assembler::new(), Assembler::new()],
                state: TcpState::new(self.limits.history),
                retransmissions: 0,
                closing_initiator: None,
            }),
        });
        let flow = Flow {
            key,
            hash,
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
            throughput: self.limits.history.then(|| Box::new(Throughput::new(now))),
            heap: 0,
            prev_lru: NIL,
            next_lru: NIL,
            closed: false,
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
        let slots = &self.slots;
        self.map.insert_unique(hash, idx, |&i| {
            slots
                .get(i as usize)
                .and_then(Option::as_ref)
                .map_or(0, |f| f.hash)
        });
        self.link_front(idx);
        self.refresh(idx);
        idx
    }

    /// Marks `idx` as just active (moving it to the closed list once its connection closed)
    /// and updates the memory estimate for it.
    pub fn touch(&mut self, idx: u32) {
        let head = self.lru_head;
        let Some(f) = self.get_mut(idx) else {
            return;
        };
        // What `refresh` does, on the flow at hand (every frame comes here).
        let now = f.heap_bytes();
        let before = std::mem::replace(&mut f.heap, now);
        let closed = f.tcp.as_ref().is_some_and(|t| t.state.is_closed());
        let moves = closed != f.closed || head[usize::from(closed)] != idx;
        self.heap = self.heap.saturating_sub(before) + now;
        if moves {
            self.unlink(idx);
            if let Some(f) = self.get_mut(idx) {
                f.closed = closed;
            }
            self.link_front(idx);
        }
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
        // Growing tombstones briefly hold two tables: that moment counts too.
        let mem =
            self.live_memory() + self.records_mem + self.tombs.memory().max(self.tombs.grow_peak);
        if mem > self.stats.peak_memory {
            self.stats.peak_memory = mem;
        }
    }

    /// Keeps an ended connection's TCP state for a new one (a few at most).
    pub fn recycle_tcp(&mut self, tcp: Box<TcpFlow>) {
        if self.spare_tcp.len() < SPARE_TCP {
            self.spare_tcp.push(tcp);
        }
    }

    /// Removes flow `idx` from the table (it ended, or a new connection replaced it).
    pub fn remove(&mut self, idx: u32) -> Option<Flow> {
        let flow = self.slots.get_mut(idx as usize)?.take()?;
        self.unlink_raw(flow.prev_lru, flow.next_lru, idx, usize::from(flow.closed));
        if let Ok(entry) = self.map.find_entry(flow.hash, |&i| i == idx) {
            entry.remove();
        }
        self.free.push(idx);
        self.live -= 1;
        self.heap = self.heap.saturating_sub(flow.heap);
        Some(flow)
    }

    /// Summaries kept at most: the record cap, and half the memory cap (a quarter is for live
    /// flows, a quarter for tombstones).
    fn records_allowed(&self) -> usize {
        let detail = if self.limits.history { DETAIL_COST } else { 0 };
        let by_memory = self.limits.max_memory
            / 2
            / (std::mem::size_of::<FlowSummary>() + RECORD_INDEX_COST + detail);
        self.limits.max_records.min(by_memory)
    }

    /// Keeps the summary of an ended flow (unless the record caps are reached); returns
    /// whether it was kept.
    pub fn record(&mut self, flow: &Flow) -> bool {
        let allowed = self.records_allowed();
        let len = self.records.len();
        if len >= allowed {
            self.stats.records_dropped += 1;
            return false;
        }
        if len == self.records.capacity() {
            // Grow by half, never past the cap: doubling could overshoot the budget.
            let more = (len / 2).max(1024).min(allowed - len);
            self.records.reserve_exact(more);
        }
        self.records.push(flow.summary());
        self.records_mem = self.records_memory();
        true
    }

    /// The summary kept for stream `stream` of `l4`, taken out of the records (its flow is
    /// back and will be summarised again, with everything).
    pub fn take_record(&mut self, l4: L4, stream: u64) -> Option<FlowSummary> {
        let summary = self.remove_record(l4, stream);
        self.records_mem = self.records_memory();
        summary
    }

    /// Where [`FlowTable::record_of`] keeps stream `stream` of `l4`, if it reaches it.
    fn record_slot(&mut self, l4: L4, stream: u64) -> Option<&mut u32> {
        let list = self.record_of.get_mut(record_list(l4))?;
        list.get_mut(usize::try_from(stream).ok()?)
    }

    fn remove_record(&mut self, l4: L4, stream: u64) -> Option<FlowSummary> {
        let at = std::mem::replace(self.record_slot(l4, stream)?, NIL) as usize;
        if at >= self.records.len() {
            return None;
        }
        let summary = self.records.swap_remove(at);
        if let Some((l4, stream)) = self.records.get(at).map(|m| (m.l4, m.stream)) {
            if let Some(slot) = self.record_slot(l4, stream).filter(|s| **s != NIL) {
                *slot = u32::try_from(at).unwrap_or(NIL);
            }
        }
        Some(summary)
    }

    /// A flow leaves the table (evicted or expired): its summary is kept for the
    /// conversation tables and a tombstone for its return, and the one is found from the
    /// other.
    fn retire(&mut self, flow: &Flow) {
        let recorded = self.record(flow);
        let buried = self.bury(flow);
        if recorded && buried {
            let at = self.records.len().checked_sub(1).map(u32::try_from);
            let list = self.record_of.get_mut(record_list(flow.key.l4));
            // Stream numbers fit in 32 bits (tombstones keep them so).
            let stream = u32::try_from(flow.stream).ok().map(|s| s as usize);
            if let (Some(Ok(at)), Some(list), Some(stream)) = (at, list, stream) {
                if list.len() <= stream {
                    list.resize(stream + 1, NIL);
                }
                if let Some(slot) = list.get_mut(stream) {
                    *slot = at;
                }
                self.records_mem = self.records_memory();
            }
        }
    }

    /// Keeps a tombstone for a flow leaving the table, so that a later packet of it continues
    /// its stream; returns whether it was kept.
    fn bury(&mut self, flow: &Flow) -> bool {
        let (bases, completeness) = flow.tcp.as_ref().map_or(([None; 2], 0), |t| {
            (t.analysis.bases(), t.analysis.completeness)
        });
        let budget = self.tombs_budget();
        let before = self.tombs.dropped;
        match Tomb::new(
            flow.stream,
            flow.client,
            flow.first_sender,
            bases,
            completeness,
        ) {
            Some(t) => self.tombs.put(&flow.key, t, budget),
            None => self.tombs.dropped += 1,
        }
        let forgotten = self.tombs.dropped - before;
        self.stats.forgotten += forgotten;
        forgotten == 0
    }

    /// Estimated bytes of the summaries kept (read through [`FlowTable::records_mem`]).
    fn records_memory(&self) -> usize {
        let detail = if self.limits.history { DETAIL_COST } else { 0 };
        self.records.capacity() * std::mem::size_of::<FlowSummary>()
            + self.records.len() * detail
            + self
                .record_of
                .iter()
                .map(|list| list.capacity() * std::mem::size_of::<u32>())
                .sum::<usize>()
    }

    /// Estimated bytes of the live flows.
    fn live_memory(&self) -> usize {
        self.live * FLOW_OVERHEAD + self.heap
    }

    /// Every live flow leaves the table at once (at the end of the run), its slots moved out
    /// as they are: unlinking each flow, dropping its index entry and moving it out cost over
    /// a tenth of a conversation table's run, all after the last frame. The flows are taken
    /// in slot order (memory order), unless the record cap is about to drop summaries: then in
    /// the order evictions take them (closed connections first, each list oldest activity
    /// first), so that the summaries dropped are those of the most recently active flows.
    pub fn take_all(&mut self) -> LiveFlows {
        let by_activity = self.records.len() + self.live > self.records_allowed();
        let mut order = Vec::new();
        if by_activity {
            order.reserve(self.live);
            for list in [1, 0] {
                let mut idx = self.lru_tail[list];
                // Bounded by the slots too: a broken list must not loop.
                while let Some(flow) = self.get(idx).filter(|_| order.len() < self.slots.len()) {
                    order.push(idx);
                    idx = flow.prev_lru;
                }
            }
        }
        // Room for their summaries at once: growing by halves copies the summaries again.
        let room = self.records_allowed().saturating_sub(self.records.len());
        self.records.reserve_exact(room.min(self.live));
        self.map.clear();
        self.free.clear();
        self.lru_head = [NIL; 2];
        self.lru_tail = [NIL; 2];
        self.live = 0;
        self.heap = 0;
        LiveFlows {
            slots: std::mem::take(&mut self.slots),
            order: by_activity.then_some(order),
        }
    }

    /// Evicts the least recently active closed connection, else the least recently active
    /// flow (for the caps); returns whether there was one.
    pub fn evict_one(&mut self, out: &mut Vec<Retired>) -> bool {
        let [open, closed] = self.lru_tail;
        let idx = if closed != NIL { closed } else { open };
        if idx == NIL {
            return false;
        }
        let Some(flow) = self.remove(idx) else {
            return false;
        };
        self.stats.evicted += 1;
        self.retire(&flow);
        self.release(flow, out);
        true
    }

    /// A flow that left the table goes to the engine when its application parser must still
    /// be ended; else it ends here, its TCP state kept for a new connection. (Most evicted
    /// flows have no parser: handing each over moved it twice more, 400 bytes a time, on
    /// the 1 GB benchmark file where the caps evict two flows of three.)
    fn release(&mut self, flow: Flow, out: &mut Vec<Retired>) {
        if flow.app.needs_end() {
            out.push(Retired { flow });
        } else if let Some(tcp) = flow.tcp {
            self.recycle_tcp(tcp);
        }
    }

    /// Expires flows idle since before `now - idle_timeout` (oldest activity first).
    pub fn expire(&mut self, now: Nanos, out: &mut Vec<Retired>) {
        for list in [1, 0] {
            self.expire_list(list, now, out);
        }
    }

    fn expire_list(&mut self, list: usize, now: Nanos, out: &mut Vec<Retired>) {
        loop {
            let Some(&idx) = self.lru_tail.get(list) else {
                return;
            };
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
            self.retire(&flow);
            self.release(flow, out);
        }
    }

    fn link_front(&mut self, idx: u32) {
        let Some(list) = self.get(idx).map(|f| usize::from(f.closed)) else {
            return;
        };
        let old = self.lru_head[list];
        if let Some(f) = self.get_mut(idx) {
            f.prev_lru = NIL;
            f.next_lru = old;
        }
        if let Some(h) = self.get_mut(old) {
            h.prev_lru = idx;
        }
        self.lru_head[list] = idx;
        if self.lru_tail[list] == NIL {
            self.lru_tail[list] = idx;
        }
    }

    fn unlink(&mut self, idx: u32) {
        let Some(f) = self.get(idx) else {
            return;
        };
        let (p, n, list) = (f.prev_lru, f.next_lru, usize::from(f.closed));
        self.unlink_raw(p, n, idx, list);
    }

    fn unlink_raw(&mut self, p: u32, n: u32, idx: u32, list: usize) {
        let list = list.min(1);
        match self.get_mut(p) {
            Some(pf) => pf.next_lru = n,
            None => {
                if self.lru_head[list] == idx {
                    self.lru_head[list] = n;
                }
            }
        }
        match self.get_mut(n) {
            Some(nf) => nf.prev_lru = p,
            None => {
                if self.lru_tail[list] == idx {
                    self.lru_tail[list] = p;
                }
            }
        }
    }
}

/// `records`, TCP then UDP, each in stream order. Stream numbers are dense (counted from 0 in
/// order of first appearance) and a conversation has one record, so each record is put in
/// its stream's place: a sort of a million records cost a tenth of `netsniff flows`' table
/// time. Numbers too sparse or repeated (not made by the flow engine) are sorted instead.
pub fn in_stream_order(records: &[FlowSummary]) -> Vec<&FlowSummary> {
    let order = |s: &FlowSummary| (s.l4 != L4::Tcp, s.stream);
    let mut slots: [Vec<Option<&FlowSummary>>; 2] = [Vec::new(), Vec::new()];
    let mut placed = 0;
    for r in records {
        let (udp, stream) = order(r);
        let slots = &mut slots[usize::from(udp)];
        let Some(at) = usize::try_from(stream)
            .ok()
            .filter(|&at| at < 2 * records.len())
        else {
            break;
        };
        if slots.len() <= at {
            slots.resize(at + 1, None);
        }
        match slots.get_mut(at) {
            Some(slot @ None) => *slot = Some(r),
            _ => break,
        }
        placed += 1;
    }
    if placed < records.len() {
        let mut all: Vec<&FlowSummary> = records.iter().collect();
        // Keys computed once: comparing summaries in place reads them at random.
        all.sort_by_cached_key(|s| order(s));
        return all;
    }
    let [tcp, udp] = slots;
    tcp.into_iter().chain(udp).flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::key::{Addr, Endpoint};

    fn key(i: u8) -> FlowKey {
        let end = |a: u8, port: u16| Endpoint {
            addr: Addr::V4([10, 0, 0, a]),
            port,
        };
        FlowKey::new(L4::Udp, end(i, 5000), end(200, 53)).0
    }

    /// Creates (and touches) the flow of `key(i)`, first seen in frame `i`.
    fn add_flow(table: &mut FlowTable, i: u8, app: App, out: &mut Vec<Retired>) -> u32 {
        let k = key(i);
        let idx = table.create(
            k,
            k.hash64(),
            Side::Lo,
            Side::Lo,
            u64::from(i),
            0,
            0,
            app,
            None,
            out,
        );
        table.touch(idx);
        idx
    }

    #[test]
    fn the_summaries_estimate_follows_every_change() {
        let limits = FlowLimits {
            max_flows: 2,
            ..FlowLimits::default()
        };
        let mut table = FlowTable::new(limits);
        let mut out = Vec::new();
        let check = |t: &FlowTable| assert_eq!(t.records_mem, t.records_memory());
        for i in 0..6 {
            add_flow(&mut table, i, App::unclaimed(), &mut out);
            check(&table);
        }
        assert_eq!(
            table.records().len(),
            4,
            "evicted flows keep their summaries"
        );
        assert!(table.take_record(L4::Udp, 1).is_some());
        check(&table);
        assert!(table.take_record(L4::Udp, 1).is_none());
        check(&table);
        // The last summary moved into the place of the one taken: it is still found, as are
        // the others; a stream never buried is not.
        assert!(table.take_record(L4::Tcp, 1).is_none());
        assert!(table.take_record(L4::Udp, 9).is_none());
        for stream in [3, 0, 2] {
            let taken = table.take_record(L4::Udp, stream).map(|s| s.stream);
            assert_eq!(taken, Some(stream));
            check(&table);
        }
        assert!(table.records().is_empty());
        table.take_all().for_each(|flow| {
            table.record(flow);
            check(&table);
        });
        assert_eq!(
            table.memory(),
            table.live_memory() + table.records_memory() + table.tombs.memory()
        );
    }

    /// An evicted flow goes back to the engine only when its parser or probe must be ended;
    /// one without is ended by the table (and still counted, summarised and buried).
    #[test]
    fn evicted_flows_go_to_the_engine_only_with_something_to_end() {
        let mut table = FlowTable::new(FlowLimits {
            max_flows: 1,
            ..FlowLimits::default()
        });
        let mut out = Vec::new();
        let apps = [
            App::unclaimed(),
            App::new(
                super::super::app::Verdict::Probe,
                true,
                &mut Default::default(),
            ),
            App::unclaimed(),
        ];
        for (i, app) in (1..).zip(apps) {
            add_flow(&mut table, i, app, &mut out);
        }
        // The first flow (unclaimed) left without being handed over, the second (probing)
        // was handed over; both were counted, summarised and buried.
        assert_eq!(table.stats.evicted, 2);
        assert_eq!(out.len(), 1);
        assert!(out.iter().all(|r| r.flow.app.needs_end()));
        assert_eq!(out[0].flow.key, key(2));
        assert_eq!(table.records().len(), 2);
        assert_eq!(table.tombs.len(), 2);
    }

    /// At the end of the run every live flow is taken once; when the record cap will drop
    /// summaries, the flows least recently active come first (so that theirs are kept).
    #[test]
    fn take_all_takes_every_flow_oldest_first_under_the_record_cap() {
        for max_records in [2, 100] {
            let mut table = FlowTable::new(FlowLimits {
                max_records,
                ..FlowLimits::default()
            });
            let mut idx = Vec::new();
            for i in 1..=5 {
                let at = add_flow(&mut table, i, App::unclaimed(), &mut Vec::new());
                idx.push(at);
            }
            // Activity, oldest first: the third flow, the first, the fifth, the second, the
            // fourth.
            for i in [2, 0, 4, 1, 3] {
                table.touch(idx[i]);
            }
            let streams: Vec<u64> = idx.iter().map(|&i| table.get(i).unwrap().stream).collect();
            let mut taken = Vec::new();
            table.take_all().for_each(|flow| {
                taken.push(flow.stream);
                table.record(flow);
            });
            assert!(table.is_empty());
            assert_eq!(table.iter().count(), 0);
            let kept: Vec<u64> = table.records().iter().map(|r| r.stream).collect();
            if max_records == 2 {
                let by_activity: Vec<u64> = [2, 0, 4, 1, 3].map(|i| streams[i]).to_vec();
                assert_eq!(taken, by_activity);
                assert_eq!(kept, by_activity[..2]);
                assert_eq!(table.stats.records_dropped, 3);
            } else {
                taken.sort_unstable();
                let mut all = streams.clone();
                all.sort_unstable();
                assert_eq!(taken, all);
                assert_eq!(kept.len(), 5);
            }
        }
    }

    /// Records put in their streams' places come out as a sort by (TCP first, stream) puts
    /// them: shuffled, with gaps (the record cap), and with numbers that cannot be placed.
    #[test]
    fn records_in_stream_order_as_sorted() {
        let mut table = FlowTable::new(FlowLimits::default());
        let idx = add_flow(&mut table, 1, App::unclaimed(), &mut Vec::new());
        let one = table.get(idx).expect("the flow").summary();
        let made = |l4: L4, stream: u64| FlowSummary {
            l4,
            stream,
            ..one.clone()
        };
        let mut seed = 7u64;
        let mut shuffled = |mut v: Vec<FlowSummary>| {
            for i in (1..v.len()).rev() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v.swap(i, (seed >> 33) as usize % (i + 1));
            }
            v
        };
        let dense: Vec<FlowSummary> = (0..500)
            .map(|s| made(L4::Tcp, s))
            .chain((0..300).map(|s| made(L4::Udp, s)))
            .collect();
        let gaps: Vec<FlowSummary> = (0..900)
            .filter(|s| s % 7 != 3)
            .map(|s| made(if s % 3 == 0 { L4::Udp } else { L4::Tcp }, s))
            .collect();
        let repeated = vec![
            made(L4::Udp, 2),
            made(L4::Tcp, 5),
            made(L4::Udp, 2),
            made(L4::Tcp, 0),
        ];
        let sparse = vec![made(L4::Tcp, 9), made(L4::Udp, u64::MAX), made(L4::Tcp, 1)];
        for records in [dense, gaps, repeated, sparse, Vec::new()] {
            let records = shuffled(records);
            let got: Vec<(L4, u64)> = in_stream_order(&records)
                .iter()
                .map(|s| (s.l4, s.stream))
                .collect();
            let mut want: Vec<(L4, u64)> = records.iter().map(|s| (s.l4, s.stream)).collect();
            want.sort_by_key(|&(l4, stream)| (l4 != L4::Tcp, stream));
            assert_eq!(got, want);
        }
    }
}
