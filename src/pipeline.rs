//! Frames in batches, so that the stages of a file's run can work side by side on two
//! threads, in capture order: reading and L2–L4 dissection (stage one), the flow engine
//! (stage two) and the outputs (stage three).
//!
//! Stage one ([`Reader`]) reads frames, applies the capture filter, dissects each frame from
//! its link layer to its transport (with IP defragmentation) and appends the result to a
//! [`Batch`]: the frame's bytes, its [`PacketInfo`], its columns, the protocols found, and a
//! [`Tape`] of every field event the outputs asked for. Stage two runs the flow engine on each
//! frame of the batch ([`Batch::run_flows`]), recording what it emits on the same tape and
//! filling in the columns and protocols. Stage three ([`Batch::output_frame`]) replays both
//! recordings into the real sink and ends the frame: the sink sees exactly the calls, in
//! exactly the order, that one thread would have made. Because stage two only records, the
//! run can put it on a thread of its own when it is the longest stage (application parsers),
//! or beside the outputs when reading is (`run::run_threaded`).
//!
//! Batches go back to stage one once used, so that their buffers are reused and memory stays
//! bounded by [`BATCHES_IN_FLIGHT`] (or [`READ_AHEAD_BATCHES`]) batches of at most
//! [`MAX_BATCH_FRAMES`] frames and [`MAX_BATCH_BYTES`] bytes of frame data.

use crate::dissect::Dissect;
use crate::flow::app::ClaimedPorts;
use crate::flow::key::Keyed;
use crate::output::{Prerender, Sink};
use crate::source::file::sub_time;
use crate::source::write::FileSaver;
use crate::source::{Source, SourceError};
use anyhow::Result;
use netsniff_dissectors::pinfo::{ProtoStack, Transport};
use netsniff_dissectors::proto::{frame, tcp};
use netsniff_dissectors::{
    Columns, Cx, FieldDef, FieldFilter, FieldSink, FrameMeta, Group, LinkType, PacketInfo, Proto,
    ProtoFilter, Severity, Shown, Span, Value,
};

/// Frames per batch at most: enough that the hand-over between threads costs nothing per
/// frame, few enough that a batch stays in the CPU caches.
pub const MAX_BATCH_FRAMES: usize = 512;
/// The same for outputs that draw trees (`-V`, JSON): their batches carry every frame's tree
/// on the tape, some kilobytes each.
pub const MAX_TREE_BATCH_FRAMES: usize = 128;
/// Payload bytes per batch at most (a batch closes once it holds this many; a larger
/// payload makes a batch of its own).
pub const MAX_BATCH_BYTES: usize = 512 * 1024;
/// A tape arena larger than this is shrunk when its batch is reused.
const MAX_KEPT_ARENA: usize = 8 * MAX_BATCH_BYTES;
/// Batches in flight at most: between the reading thread and the other, and back.
pub const BATCHES_IN_FLIGHT: usize = 4;
/// The same when the reading thread works beside the flow engine and the outputs, which
/// then neither parse applications nor hold their fields (`-z conv`, `netsniff flows`, L2–L4
/// fields): the two stages are about as long, each batch's share varying, so that with two
/// batches queued either thread waited for the other an eighth of the time. Their batches
/// are small; with more in flight the longer stages of `-P` or application fields only
/// spill out of the caches.
pub const READ_AHEAD_BATCHES: usize = 8;

/// Which protocols the outputs want fields of, asked once of the sink before the run (the
/// sinks' answers depend on the protocol only), so that stage one can answer without it.
#[derive(Debug, Clone, Default)]
pub struct Wants {
    all: bool,
    /// Whether the outputs draw `-V` / JSON text (the sink's `wants_text`). Only those draw a
    /// tree (`-V`, JSON, `-T fields` with a protocol column, which draws one aside): without
    /// text, the tape leaves out the calls that only shape a tree (`open`, `close`, `text`
    /// …), every other output ignoring them. In `-T fields` runs they were over half of the
    /// calls recorded and replayed.
    text: bool,
    /// Addresses of the wanted protocols (when not `all`).
    protos: AddrSet,
    /// Whether the outputs want tshark's reassembly item ([`tcp::SEGMENTS`], which the flow
    /// engine opens as a layer but no field list names).
    segments: bool,
    /// Addresses of the only fields recorded (`None`: every field of a wanted protocol).
    fields: Option<AddrSet>,
    /// The same fields as a quick pre-check for the dissectors' `Cx`.
    filter: FieldFilter,
    /// The same for the wanted protocols.
    proto_filter: ProtoFilter,
}

fn addr(p: &'static Proto) -> usize {
    p as *const Proto as usize
}

fn field_addr(f: &'static FieldDef) -> usize {
    f as *const FieldDef as usize
}

impl Wants {
    /// The answers of `sink` for every registered protocol, and the fields it uses.
    pub fn of(sink: &dyn Sink) -> Wants {
        let all_protos: Vec<&'static Proto> = netsniff_dissectors::proto::all_protos().collect();
        let wanted: Vec<&'static Proto> = all_protos
            .iter()
            .copied()
            .filter(|p| sink.wants(p))
            .collect();
        let protos: Vec<usize> = wanted.iter().map(|p| addr(p)).collect();
        let used = sink.fields_used();
        let all = wanted.len() == all_protos.len();
        let segments = sink.wants(&tcp::SEGMENTS);
        // Exactly the protocols `wants` answers yes for (and a few sharing their bits).
        let proto_filter = if all {
            ProtoFilter::ALL
        } else {
            ProtoFilter::of(wanted.into_iter().chain(segments.then_some(&tcp::SEGMENTS)))
        };
        Wants {
            all,
            text: sink.wants_text(),
            protos: AddrSet::of(&protos),
            segments,
            filter: field_filter(used.as_deref()),
            proto_filter,
            fields: used
                .map(|used| AddrSet::of(&used.into_iter().map(field_addr).collect::<Vec<_>>())),
        }
    }

    /// The pre-check of the fields recorded.
    pub fn filter(&self) -> FieldFilter {
        self.filter
    }

    #[inline]
    pub fn wants(&self, proto: &'static Proto) -> bool {
        if std::ptr::eq(proto, &tcp::SEGMENTS) {
            return self.segments;
        }
        self.all || self.protos.contains(addr(proto))
    }

    /// Whether field `def` of protocol `proto` is recorded.
    pub fn records(&self, proto: &'static Proto, def: &'static FieldDef) -> bool {
        self.wants(proto) && self.field(def)
    }

    /// Whether field `def` (of a wanted protocol) is recorded.
    #[inline]
    fn field(&self, def: &'static FieldDef) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|used| used.contains(field_addr(def)))
    }
}

/// A set of static addresses (protocols, fields) asked about several times per frame: open
/// addressing in a table at most a quarter full, so that a lookup is a multiply and one or
/// two compares (a scan of the list cost 5 % of a `-z io,phs` run's instructions).
#[derive(Debug, Clone, Default)]
struct AddrSet {
    /// Zero for an empty slot (no static lives at address zero).
    slots: Box<[usize]>,
    /// Bits of the hash kept: the table has `1 << bits` slots.
    bits: u32,
}

impl AddrSet {
    fn of(addrs: &[usize]) -> AddrSet {
        let bits = (addrs.len() * 4)
            .max(16)
            .next_power_of_two()
            .trailing_zeros();
        let mut set = AddrSet {
            slots: vec![0; 1 << bits].into_boxed_slice(),
            bits,
        };
        for &a in addrs {
            let mask = set.slots.len() - 1;
            let mut at = set.home(a);
            while let Some(slot) = set.slots.get_mut(at) {
                if *slot == 0 || *slot == a {
                    *slot = a;
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        set
    }

    #[inline]
    fn home(&self, a: usize) -> usize {
        ((a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    #[inline]
    fn contains(&self, a: usize) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(a);
        // The table is never full: an empty slot ends every probe.
        while let Some(&slot) = self.slots.get(at) {
            if slot == a {
                return true;
            }
            if slot == 0 {
                return false;
            }
            at = (at + 1) & mask;
        }
        false
    }
}

/// The [`FieldFilter`] of an output's [`Sink::fields_used`] answer (`None`: every field).
pub fn field_filter(used: Option<&[&'static FieldDef]>) -> FieldFilter {
    used.map_or(FieldFilter::ALL, |used| {
        FieldFilter::of(used.iter().copied())
    })
}

/// A field value as the tape keeps it: borrowed bytes become ranges of the tape's arenas.
#[derive(Debug, Clone, Copy)]
enum Val {
    None,
    Bool(bool),
    U(u64),
    I(i64),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    Ether([u8; 6]),
    Bytes(u32, u32),
    Str(u32, u32),
    Text(u32, u32),
    Time { secs: i64, nanos: u32 },
    F(f64),
}

/// One call a dissector made on its sink.
#[derive(Debug, Clone, Copy)]
enum Event {
    Layer(&'static Proto, Span),
    Field(&'static FieldDef, Span, Val),
    Open,
    Close,
    /// A text line: a range of the text arena.
    Text(Span, u32, u32),
    /// A field with its `-V` text (a range of the text arena).
    Shown(&'static FieldDef, Span, Val, ShownKind, u32, u32),
    /// A text item (a range of the text arena).
    Label(Span, u32, u32),
    /// Text appended to the layer's root line.
    Append(u32, u32),
    Retitle(u32, u32),
    Nest,
    Unnest,
    LayerApart(&'static Proto, Span),
    Reopen(&'static FieldDef),
    AppendOpen(u32, u32),
    Mark,
    LayerAtMark(&'static Proto, Span),
}

/// Which [`Shown`] a recorded text is.
#[derive(Debug, Clone, Copy)]
enum ShownKind {
    Value,
    Line,
    Expert(Severity, Group),
    Hidden,
}

/// A recording [`FieldSink`]: what stage-one dissection emits, kept for stage two to replay.
#[derive(Debug, Default)]
pub struct Tape {
    wants: Wants,
    events: Vec<Event>,
    bytes: Vec<u8>,
    text: String,
}

/// Where `s` went in `arena` (offsets saturate far beyond any batch).
fn keep_bytes(arena: &mut Vec<u8>, s: &[u8]) -> (u32, u32) {
    let at = u32::try_from(arena.len()).unwrap_or(u32::MAX);
    arena.extend_from_slice(s);
    (at, u32::try_from(s.len()).unwrap_or(u32::MAX))
}

fn keep_text(arena: &mut String, s: &str) -> (u32, u32) {
    let at = u32::try_from(arena.len()).unwrap_or(u32::MAX);
    arena.push_str(s);
    (at, u32::try_from(s.len()).unwrap_or(u32::MAX))
}

impl Tape {
    /// A tape recording what an output with these wants asks for (the display filter keeps a
    /// frame's calls on one until the frame is judged).
    pub fn new(wants: Wants) -> Tape {
        Tape {
            wants,
            ..Tape::default()
        }
    }

    /// A dissection context that records on this tape, with the outputs' pre-checks (the
    /// tape is lent the outputs' answers, see [`Batch::swap_wants`]).
    fn cx<'a>(&'a mut self, cols: Option<&'a mut Columns>, stack: &'a mut ProtoStack) -> Cx<'a> {
        let (filter, protos) = (self.wants.filter, self.wants.proto_filter);
        Cx::new(self, cols, stack)
            .with_filter(filter)
            .with_protos(protos)
    }

    /// Plays every recorded event into `sink`.
    pub fn replay_all(&self, sink: &mut dyn FieldSink) {
        let end = u32::try_from(self.events.len()).unwrap_or(u32::MAX);
        self.replay((0, end), sink);
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.bytes.clear();
        self.text.clear();
        // A batch whose frames completed large application messages (a body, a certificate
        // chain) leaves large arenas behind; give such memory back rather than keep it in
        // every batch in flight.
        if self.bytes.capacity() > MAX_KEPT_ARENA {
            self.bytes.shrink_to(MAX_BATCH_BYTES);
        }
        if self.text.capacity() > MAX_KEPT_ARENA {
            self.text.shrink_to(MAX_BATCH_BYTES);
        }
    }

    fn bytes_at(&self, at: u32, len: u32) -> &[u8] {
        let at = at as usize;
        self.bytes.get(at..at + len as usize).unwrap_or(&[])
    }

    fn text_at(&self, at: u32, len: u32) -> &str {
        let at = at as usize;
        self.text.get(at..at + len as usize).unwrap_or("")
    }

    /// Plays events `range` into `sink`.
    fn replay(&self, range: (u32, u32), sink: &mut dyn FieldSink) {
        let events = self
            .events
            .get(range.0 as usize..range.1 as usize)
            .unwrap_or(&[]);
        for e in events {
            match *e {
                Event::Layer(p, span) => sink.layer(p, span),
                Event::Field(def, span, v) => sink.field(def, span, self.value(v)),
                Event::Shown(def, span, v, kind, at, len) => {
                    let text = self.text_at(at, len);
                    let shown = match kind {
                        ShownKind::Value => Shown::Value(text),
                        ShownKind::Line => Shown::Line(text),
                        ShownKind::Expert(s, g) => Shown::Expert(s, g, text),
                        ShownKind::Hidden => Shown::Hidden,
                    };
                    sink.field_shown(def, span, self.value(v), shown);
                }
                Event::Open => sink.open(),
                Event::Close => sink.close(),
                Event::Text(span, at, len) => sink.text(span, self.text_at(at, len)),
                Event::Label(span, at, len) => sink.label(span, self.text_at(at, len)),
                Event::Append(at, len) => sink.append(self.text_at(at, len)),
                Event::Retitle(at, len) => sink.retitle(self.text_at(at, len)),
                Event::Nest => sink.nest(),
                Event::Unnest => sink.unnest(),
                Event::LayerApart(p, span) => sink.layer_apart(p, span),
                Event::Reopen(def) => sink.reopen(def),
                Event::AppendOpen(at, len) => sink.append_open(self.text_at(at, len)),
                Event::Mark => sink.mark(),
                Event::LayerAtMark(p, span) => sink.layer_at_mark(p, span),
            }
        }
    }

    fn value(&self, v: Val) -> Value<'_> {
        match v {
            Val::None => Value::None,
            Val::Bool(b) => Value::Bool(b),
            Val::U(u) => Value::U(u),
            Val::I(i) => Value::I(i),
            Val::Ipv4(a) => Value::Ipv4(a),
            Val::Ipv6(a) => Value::Ipv6(a),
            Val::Ether(a) => Value::Ether(a),
            Val::Bytes(at, len) => Value::Bytes(self.bytes_at(at, len)),
            Val::Str(at, len) => Value::Str(self.text_at(at, len)),
            Val::Text(at, len) => Value::Text(self.bytes_at(at, len)),
            Val::Time { secs, nanos } => Value::Time { secs, nanos },
            Val::F(f) => Value::F(f),
        }
    }

    fn keep(&mut self, value: Value<'_>) -> Val {
        match value {
            Value::None => Val::None,
            Value::Bool(b) => Val::Bool(b),
            Value::U(u) => Val::U(u),
            Value::I(i) => Val::I(i),
            Value::Ipv4(a) => Val::Ipv4(a),
            Value::Ipv6(a) => Val::Ipv6(a),
            Value::Ether(a) => Val::Ether(a),
            Value::Bytes(b) => {
                let (at, len) = keep_bytes(&mut self.bytes, b);
                Val::Bytes(at, len)
            }
            Value::Str(s) => {
                let (at, len) = keep_text(&mut self.text, s);
                Val::Str(at, len)
            }
            Value::Text(t) => {
                let (at, len) = keep_bytes(&mut self.bytes, t);
                Val::Text(at, len)
            }
            Value::Time { secs, nanos } => Val::Time { secs, nanos },
            Value::F(f) => Val::F(f),
        }
    }

    fn mark(&self) -> u32 {
        u32::try_from(self.events.len()).unwrap_or(u32::MAX)
    }
}

impl Tape {
    /// Records a call that only shapes a tree, when some output draws one (see
    /// `Wants::text`).
    #[inline]
    fn shape(&mut self, event: Event) {
        if self.wants.text {
            self.events.push(event);
        }
    }

    /// [`Tape::shape`] for a call with text, which is then kept in the tape's text arena.
    #[inline]
    fn shape_text(&mut self, text: &str, event: impl FnOnce(u32, u32) -> Event) {
        if self.wants.text {
            let (at, len) = keep_text(&mut self.text, text);
            self.events.push(event(at, len));
        }
    }
}

impl FieldSink for Tape {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.wants.wants(proto)
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        self.events.push(Event::Layer(proto, span));
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if !self.wants.field(def) {
            return;
        }
        let v = self.keep(value);
        self.events.push(Event::Field(def, span, v));
    }
    fn wants_text(&self) -> bool {
        self.wants.text
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        if !self.wants.field(def) {
            return;
        }
        let v = self.keep(value);
        let (kind, text) = match shown {
            Shown::Value(t) => (ShownKind::Value, t),
            Shown::Line(t) => (ShownKind::Line, t),
            Shown::Expert(s, g, t) => (ShownKind::Expert(s, g), t),
            Shown::Hidden => (ShownKind::Hidden, ""),
        };
        let (at, len) = keep_text(&mut self.text, text);
        self.events.push(Event::Shown(def, span, v, kind, at, len));
    }
    fn label(&mut self, span: Span, text: &str) {
        self.shape_text(text, |at, len| Event::Label(span, at, len));
    }
    fn append(&mut self, text: &str) {
        self.shape_text(text, Event::Append);
    }
    fn retitle(&mut self, text: &str) {
        self.shape_text(text, Event::Retitle);
    }
    fn nest(&mut self) {
        self.shape(Event::Nest);
    }
    fn unnest(&mut self) {
        self.shape(Event::Unnest);
    }
    fn open(&mut self) {
        self.shape(Event::Open);
    }
    fn close(&mut self) {
        self.shape(Event::Close);
    }
    fn text(&mut self, span: Span, text: &str) {
        self.shape_text(text, |at, len| Event::Text(span, at, len));
    }
    fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
        self.events.push(Event::LayerApart(proto, span));
    }
    fn reopen(&mut self, def: &'static FieldDef) {
        self.shape(Event::Reopen(def));
    }
    fn append_open(&mut self, text: &str) {
        self.shape_text(text, Event::AppendOpen);
    }
    fn mark(&mut self) {
        self.events.push(Event::Mark);
    }
    fn layer_at_mark(&mut self, proto: &'static Proto, span: Span) {
        self.events.push(Event::LayerAtMark(proto, span));
    }
}

/// Where a frame's transport payload is in [`Batch::data`].
#[derive(Debug, Clone, Copy, Default)]
struct Payload {
    start: u32,
    len: u32,
}

/// One dissected frame of a batch.
#[derive(Debug, Clone, Copy, Default)]
struct FrameRec {
    meta: FrameMeta,
    pi: PacketInfo,
    /// Its flow key, when the flow engine runs.
    keyed: Option<Keyed>,
    payload: Payload,
    /// The frame's bytes as captured in [`Batch::raw`] (kept only for an output that saves).
    raw: Payload,
    /// Its protocols in [`Batch::protos`].
    protos: (u32, u32),
    /// Its events in the tape: stage one's, then the flow engine's.
    events: (u32, u32),
    flow_events: (u32, u32),
    /// What the output's prerender wrote, in [`Batch::pre`].
    pre: (u32, u32),
}

/// Frames dissected by stage one, for stage two.
#[derive(Debug, Default)]
pub struct Batch {
    /// The frames: the first `used` (the records are kept between uses and overwritten in
    /// place: a `FrameRec` is about 500 bytes, and building one aside to push it cost a copy
    /// per frame).
    frames: Vec<FrameRec>,
    used: usize,
    /// Columns of each frame (kept across uses: their text buffers are reused).
    cols: Vec<Columns>,
    /// The frames' transport payloads.
    data: Vec<u8>,
    /// The frames' bytes as captured, when [`Reader::keep_frames`] asks for them.
    raw: Vec<u8>,
    protos: Vec<&'static str>,
    /// Output text written on the reading thread (see `output::Prerender`).
    pre: Vec<u8>,
    tape: Tape,
    /// Source warnings, each after the frame (index) it followed.
    warnings: Vec<(usize, SourceError)>,
    /// Whether the flow engine left some frame's TCP Info text to the outputs' stage
    /// ([`Columns::tcp_text`]): only then does that stage look at the columns before the
    /// outputs (a look at each frame's columns in runs without any cost 5 % of `-T fields`).
    tcp_texts_left: bool,
    /// The source ended (cleanly or with this error) after this batch.
    pub end: Option<Option<SourceError>>,
}

impl Batch {
    fn clear(&mut self) {
        self.used = 0;
        self.data.clear();
        self.raw.clear();
        self.protos.clear();
        self.pre.clear();
        self.tape.clear();
        self.warnings.clear();
        self.tcp_texts_left = false;
        self.end = None;
    }

    /// Frames in the batch.
    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
}

/// A capture filter as stage one calls it: whether a frame of this link type passes.
pub type FilterFn = Box<dyn FnMut(LinkType, &[u8]) -> Result<bool> + Send>;

/// Stage one: the source, the capture filter and L2–L4 dissection.
pub struct Reader {
    pub source: Box<dyn Source + Send>,
    pub filter: Option<FilterFn>,
    pub count: Option<u64>,
    pub want_cols: bool,
    pub wants: Wants,
    pub prerender: Option<Prerender>,
    /// Work out each frame's flow key (for the flow engine in stage two).
    pub flow_keys: bool,
    /// `-w` with `-r`: where the frames that pass the capture filter are saved.
    pub saver: Option<FileSaver>,
    /// Keep each frame's bytes for stage two (an output saves the frames a display filter
    /// passes).
    pub keep_frames: bool,
    /// Keep each frame's protocols for the later stages (only the outputs read them, and
    /// not every output does: see `Sink::uses_frames`).
    pub keep_protocols: bool,
    /// Which transport payloads are kept for stage two: see [`KeptPayloads`].
    pub payloads: KeptPayloads,
    dissect: Dissect,
    frames: u64,
    prev_time: Option<(i64, u32)>,
    stack: ProtoStack,
    done: bool,
}

/// Which frames' transport payloads the flow engine looks at (copying the others cost the
/// reading thread of `netsniff flows` a sixth of its time on the benchmark file, for nothing).
#[derive(Debug, Clone)]
pub enum KeptPayloads {
    /// Every frame's: parsers run, or an output shows payload.
    All,
    /// Only those of flows whose protocol their ports do not name: protocols are only
    /// detected (`netsniff flows`), and a port's protocol needs no look at the bytes.
    Unclaimed(ClaimedPorts),
    /// None: no output names a protocol above the transport (`-q -z conv,…` alone).
    None,
}

impl KeptPayloads {
    fn keeps(&self, pi: &PacketInfo) -> bool {
        match (self, &pi.transport) {
            (KeptPayloads::All, _) => true,
            (KeptPayloads::None, _) => false,
            (KeptPayloads::Unclaimed(ports), Transport::Tcp(t)) => {
                !ports.either(true, t.src_port, t.dst_port)
            }
            (KeptPayloads::Unclaimed(ports), Transport::Udp(u)) => {
                !ports.either(false, u.src_port, u.dst_port)
            }
            (KeptPayloads::Unclaimed(_), Transport::None) => true,
        }
    }
}

impl Reader {
    pub fn new(
        source: Box<dyn Source + Send>,
        filter: Option<FilterFn>,
        count: Option<u64>,
        want_cols: bool,
        wants: Wants,
        prerender: Option<Prerender>,
    ) -> Reader {
        Reader {
            source,
            filter,
            count,
            want_cols,
            wants,
            prerender,
            flow_keys: false,
            saver: None,
            keep_frames: false,
            keep_protocols: true,
            payloads: KeptPayloads::All,
            dissect: Dissect::new(),
            frames: 0,
            prev_time: None,
            stack: ProtoStack::default(),
            done: false,
        }
    }

    /// Frames per batch for this run's outputs.
    pub fn batch_frames(&self) -> usize {
        if self.wants.text {
            MAX_TREE_BATCH_FRAMES
        } else {
            MAX_BATCH_FRAMES
        }
    }

    /// Whether the source has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fills `batch` with up to `max_frames` frames (fewer when the source ends, would block,
    /// or the batch's byte budget is reached). A capture-filter error is returned as is.
    pub fn fill(&mut self, batch: &mut Batch, max_frames: usize) -> Result<()> {
        batch.clear();
        batch.swap_wants(&mut self.wants);
        let result = self.fill_inner(batch, max_frames);
        batch.swap_wants(&mut self.wants);
        result
    }

    fn fill_inner(&mut self, batch: &mut Batch, max_frames: usize) -> Result<()> {
        while batch.used < max_frames && !self.done {
            if self.count.is_some_and(|c| self.frames >= c) {
                self.done = true;
                batch.end = Some(None);
                break;
            }
            if !batch.is_empty() && self.source.would_block() {
                break;
            }
            // The frame is used where the source returned it (moving it out cost 30
            // instructions a frame).
            let next = self.source.next();
            let frame = match next {
                Ok(Some(ref frame)) => frame,
                Ok(None) => {
                    self.done = true;
                    batch.end = Some(None);
                    break;
                }
                Err(e) => {
                    self.done = true;
                    batch.end = Some(Some(e));
                    break;
                }
            };
            if let Some(f) = self.filter.as_mut() {
                if !f(frame.meta.link_type, frame.data)? {
                    // The delta is to the previous frame read, shown or not.
                    if !frame.meta.no_timestamp {
                        self.prev_time = Some((frame.meta.secs, frame.meta.nanos));
                    }
                    continue;
                }
            }
            let index = batch.used;
            if batch.cols.len() <= index {
                batch.cols.push(Columns::default());
            }
            if batch.frames.len() <= index {
                batch.frames.push(FrameRec::default());
            }
            let (Some(cols), Some(rec)) = (batch.cols.get_mut(index), batch.frames.get_mut(index))
            else {
                continue;
            };
            // The frame's metadata goes straight to its record (it is the largest part of a
            // frame, and a copy aside cost a copy per frame).
            rec.meta = frame.meta;
            let (data, comments, interface) = (frame.data, frame.comments, frame.interface);
            let FrameRec { meta, pi, .. } = rec;
            if !meta.no_timestamp {
                let (ps, pn) = self
                    .prev_time
                    .replace((meta.secs, meta.nanos))
                    .unwrap_or((meta.secs, meta.nanos));
                (meta.delta_secs, meta.delta_nanos) = sub_time(meta.secs, meta.nanos, ps, pn);
            }
            self.frames += 1;
            if let Some(saver) = self.saver.as_mut() {
                saver.save(
                    meta.number,
                    meta.link_type,
                    meta.secs,
                    meta.nanos,
                    data,
                    meta.len,
                )?;
            }
            cols.clear();
            self.stack.clear();
            *pi = PacketInfo::default();
            let events_start = batch.tape.mark();
            let payload = {
                let mut cx = batch
                    .tape
                    .cx(self.want_cols.then_some(cols), &mut self.stack);
                if !comments.is_empty() {
                    let (items, n) = comments.to_array();
                    frame::emit_comments(items.get(..n).unwrap_or(&[]), &mut cx);
                }
                // Stage two needs only the transport payload (of the frame, or of a datagram
                // this frame completed): that is all that is copied.
                let payload = self.dissect.frame(meta, interface, data, pi, &mut cx);
                if self.payloads.keeps(pi) {
                    let (start, len) = keep_bytes(&mut batch.data, payload);
                    Payload { start, len }
                } else {
                    Payload::default()
                }
            };
            let raw = if self.keep_frames {
                let (start, len) = keep_bytes(&mut batch.raw, data);
                Payload { start, len }
            } else {
                Payload::default()
            };
            let pre_start = u32::try_from(batch.pre.len()).unwrap_or(u32::MAX);
            if let (Some(render), Some(cols)) = (self.prerender, batch.cols.get(index)) {
                render(meta, cols, &mut batch.pre);
            }
            let pre_end = u32::try_from(batch.pre.len()).unwrap_or(u32::MAX);
            let protos_start = u32::try_from(batch.protos.len()).unwrap_or(u32::MAX);
            if self.keep_protocols {
                batch.protos.extend_from_slice(self.stack.as_slice());
            }
            rec.keyed = if self.flow_keys {
                Keyed::of(&rec.pi)
            } else {
                None
            };
            rec.payload = payload;
            rec.raw = raw;
            rec.protos = (
                protos_start,
                u32::try_from(batch.protos.len()).unwrap_or(u32::MAX),
            );
            rec.events = (events_start, batch.tape.mark());
            rec.flow_events = (0, 0);
            rec.pre = (pre_start, pre_end);
            batch.used += 1;
            if self.source.has_warnings() {
                for w in self.source.take_warnings() {
                    batch.warnings.push((index, w));
                }
            }
            if batch.data.len() + batch.raw.len() >= MAX_BATCH_BYTES {
                break;
            }
        }
        if self.done {
            for w in self.source.take_warnings() {
                batch.warnings.push((batch.used, w));
            }
        }
        Ok(())
    }
}

/// Loads the protocols `range` of `protos` into `stack`.
fn load_stack(protos: &[&'static str], range: (u32, u32), stack: &mut ProtoStack) {
    stack.clear();
    for name in protos
        .get(range.0 as usize..range.1 as usize)
        .unwrap_or(&[])
    {
        stack.push(name);
    }
}

/// One frame of a batch as the flow engine sees it.
pub struct FlowFrame<'b> {
    pub meta: &'b FrameMeta,
    pub pi: &'b PacketInfo,
    pub keyed: Option<Keyed>,
    pub payload: &'b [u8],
}

/// One frame of a batch as the outputs see it, once every stage has run.
pub struct OutputFrame<'b> {
    pub meta: &'b FrameMeta,
    pub pi: &'b PacketInfo,
    pub cols: &'b Columns,
    /// The frame's bytes as captured (empty unless [`Reader::keep_frames`]).
    pub raw: &'b [u8],
    /// Output text written on the reading thread.
    pub pre: &'b [u8],
}

impl Batch {
    /// Exchanges the tape's answers to `wants` with `wants` (a stage that records on the
    /// tape lends it the outputs' answers while it holds the batch).
    pub fn swap_wants(&mut self, wants: &mut Wants) {
        std::mem::swap(&mut self.tape.wants, wants);
    }

    /// Runs stage two on frame `i`: `flows` gets the frame and a [`Cx`] that records on the
    /// batch's tape (lent the outputs' answers with [`Batch::swap_wants`]), the frame's
    /// columns (when `want_cols`) and its protocols so far (loaded into `stack`). What it
    /// records, and the protocols it ends with when `keep_protocols`, are kept for the
    /// outputs. Returns `false` past the end.
    pub fn run_flows(
        &mut self,
        i: usize,
        want_cols: bool,
        keep_protocols: bool,
        stack: &mut ProtoStack,
        flows: impl FnOnce(FlowFrame<'_>, &mut Cx<'_>),
    ) -> bool {
        let Some(rec) = self.frames.get_mut(i).filter(|_| i < self.used) else {
            return false;
        };
        load_stack(&self.protos, rec.protos, stack);
        let payload = self
            .data
            .get(rec.payload.start as usize..(rec.payload.start + rec.payload.len) as usize)
            .unwrap_or(&[]);
        let start = self.tape.mark();
        {
            let cols = self.cols.get_mut(i).filter(|_| want_cols);
            let mut cx = self.tape.cx(cols, stack);
            let frame = FlowFrame {
                meta: &rec.meta,
                pi: &rec.pi,
                keyed: rec.keyed,
                payload,
            };
            flows(frame, &mut cx);
        }
        if want_cols {
            self.tcp_texts_left |= self.cols.get(i).is_some_and(|c| c.tcp_text.is_some());
        }
        rec.flow_events = (start, self.tape.mark());
        // Protocols are only ever pushed: a list as long as the one loaded is that list, kept
        // where it is (most frames: a segment that completes no application message).
        let loaded = rec.protos.1.saturating_sub(rec.protos.0) as usize;
        if !keep_protocols || stack.as_slice().len() == loaded {
            return true;
        }
        let protos_start = u32::try_from(self.protos.len()).unwrap_or(u32::MAX);
        self.protos.extend_from_slice(stack.as_slice());
        rec.protos = (
            protos_start,
            u32::try_from(self.protos.len()).unwrap_or(u32::MAX),
        );
        true
    }

    /// Frame `i` for the outputs: replays what stages one and two recorded into `sink`,
    /// loads the frame's protocols into `stack` and writes the Info text the flow engine left
    /// to this stage. Returns the frame, or `None` past the end.
    pub fn output_frame(
        &mut self,
        i: usize,
        sink: &mut dyn FieldSink,
        stack: &mut ProtoStack,
    ) -> Option<OutputFrame<'_>> {
        let rec = self.frames.get(i).filter(|_| i < self.used)?;
        if self.tcp_texts_left {
            if let Some(cols) = self.cols.get_mut(i) {
                tcp::settle_info(cols, &rec.pi);
            }
        }
        self.tape.replay(rec.events, sink);
        self.tape.replay(rec.flow_events, sink);
        load_stack(&self.protos, rec.protos, stack);
        Some(OutputFrame {
            meta: &rec.meta,
            pi: &rec.pi,
            raw: self
                .raw
                .get(rec.raw.start as usize..(rec.raw.start + rec.raw.len) as usize)
                .unwrap_or(&[]),
            pre: self
                .pre
                .get(rec.pre.0 as usize..rec.pre.1 as usize)
                .unwrap_or(&[]),
            cols: self.cols.get(i)?,
        })
    }

    /// The capture metadata of frame `i`.
    pub fn meta(&self, i: usize) -> Option<&FrameMeta> {
        self.frames
            .get(i)
            .filter(|_| i < self.used)
            .map(|r| &r.meta)
    }

    /// Every source warning of the batch, in the order they arose.
    pub fn warnings(&self) -> impl Iterator<Item = &SourceError> {
        self.warnings.iter().map(|(_, w)| w)
    }

    /// The source warnings that arose after frame `i` and before the next one (`i` = the
    /// number of frames: those after the last).
    pub fn warnings_after(&self, i: usize) -> impl Iterator<Item = &SourceError> {
        self.warnings
            .iter()
            .filter(move |(at, _)| *at == i)
            .map(|(_, w)| w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Protocol and Info columns of every frame of the capture at `path`, run through
    /// the stages as a file's run does, with the flow engine writing each TCP segment's text
    /// itself or leaving it to the outputs' stage.
    fn info_columns(path: &std::path::Path, defer: bool) -> Vec<(&'static str, String)> {
        use crate::flow::{FlowConfig, FlowEngine};
        use crate::source::file::FileSource;
        let Ok(source) = FileSource::open(path) else {
            return Vec::new();
        };
        let wants = Wants::default();
        let mut reader = Reader::new(Box::new(source), None, None, true, wants.clone(), None);
        let mut flows = FlowEngine::new(FlowConfig::default());
        flows.defer_tcp_info = defer;
        let (mut batch, mut stack, mut columns) =
            (Batch::default(), ProtoStack::default(), Vec::new());
        let mut sink = Tape::new(wants.clone());
        while !reader.is_done() {
            if reader.fill(&mut batch, 64).is_err() {
                break;
            }
            let mut lent = wants.clone();
            batch.swap_wants(&mut lent);
            for i in 0..batch.len() {
                batch.run_flows(i, true, true, &mut stack, |f, cx| {
                    let keyed = f.keyed.or_else(|| Keyed::of(f.pi));
                    flows.process_keyed(f.meta, f.pi, keyed, f.payload, cx);
                });
            }
            batch.swap_wants(&mut lent);
            for i in 0..batch.len() {
                if let Some(f) = batch.output_frame(i, &mut sink, &mut stack) {
                    assert!(f.cols.tcp_text.is_none());
                    columns.push((f.cols.protocol, f.cols.info.clone()));
                }
            }
        }
        columns
    }

    /// A TCP segment's Info text left to the outputs' stage (when the flow engine's thread is
    /// the busier) comes out as the engine writes it: after the analysis's notes, before
    /// what an application appended, and not at all where an application rewrote the column.
    #[test]
    fn tcp_info_left_to_the_outputs_is_the_text_written_at_once() {
        fn captures(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let name = path.to_string_lossy();
                if path.is_dir() {
                    captures(&path, out);
                } else if [".pcap", ".pcapng", ".cap"]
                    .iter()
                    .any(|e| name.ends_with(e))
                {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut files = Vec::new();
        captures(&root.join("captures"), &mut files);
        captures(&root.join("peer"), &mut files);
        files.sort();
        let (mut frames, mut tcp_texts) = (0, 0);
        for path in &files {
            let written = info_columns(path, false);
            let left = info_columns(path, true);
            assert_eq!(written, left, "{}", path.display());
            frames += written.len();
            tcp_texts += written
                .iter()
                .filter(|(_, info)| info.contains(" Seq="))
                .count();
        }
        eprintln!(
            "{} captures, {frames} frames, {tcp_texts} TCP texts",
            files.len()
        );
        assert!(files.len() > 1000, "{} captures", files.len());
        assert!(
            tcp_texts > 10_000,
            "{tcp_texts} TCP texts in {frames} frames"
        );
    }

    /// The set answers as the list does, for members, for addresses colliding on a slot and
    /// for non-members, at every size up to far past a table's first growth.
    #[test]
    fn addr_set_answers_as_the_list_does() {
        let protos: Vec<usize> = netsniff_dissectors::proto::all_protos().map(addr).collect();
        for n in 0..=protos.len() {
            let members = protos.get(..n).unwrap_or(&[]);
            let set = AddrSet::of(members);
            for &p in &protos {
                assert_eq!(set.contains(p), members.contains(&p), "{n} members");
            }
            // Neighbouring addresses hash elsewhere or probe past the members.
            for &p in members {
                assert!(!set.contains(p + 1));
            }
        }
        assert!(!AddrSet::default().contains(addr(&tcp::PROTO)));
        let many: Vec<usize> = (1..=1000).map(|i| i * 8).collect();
        let set = AddrSet::of(&many);
        assert!((1..=1000).all(|i| set.contains(i * 8)));
        assert!((1001..=2000).all(|i| !set.contains(i * 8)));
    }

    /// Without text the tape leaves out the calls that only shape a tree; with text it keeps
    /// every call.
    #[test]
    fn tape_keeps_tree_calls_only_for_outputs_with_text() {
        for text in [false, true] {
            let mut tape = Tape::new(Wants {
                text,
                ..Wants::default()
            });
            tape.layer(&tcp::PROTO, Span::new(0, 20));
            tape.open();
            tape.text(Span::new(0, 1), "x");
            tape.label(Span::GENERATED, "y");
            tape.close();
            FieldSink::mark(&mut tape); // (not the inherent `mark`, the tape's position)
            tape.layer_at_mark(&tcp::SEGMENTS, Span::GENERATED);
            assert_eq!(tape.events.len(), if text { 7 } else { 3 }, "{text}");
        }
    }

    /// An output wanting the protocols of a list (and tshark's reassembly item or not).
    struct Wanting(Vec<&'static Proto>, bool);

    impl FieldSink for Wanting {
        fn wants(&self, proto: &'static Proto) -> bool {
            self.0.iter().any(|p| std::ptr::eq(*p, proto))
                || (self.1 && std::ptr::eq(proto, &tcp::SEGMENTS))
        }
        fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
        fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
    }

    impl Sink for Wanting {
        fn end_frame(&mut self, _frame: &crate::output::FrameEnd<'_>) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The protocol pre-check never hides a protocol the output wants, and hides most of the
    /// others: the recording tape answers exactly as the output does.
    #[test]
    fn proto_filter_keeps_every_wanted_protocol() {
        let all: Vec<&'static Proto> = netsniff_dissectors::proto::all_protos().collect();
        for (n, segments) in [
            (0, false),
            (1, true),
            (5, false),
            (20, true),
            (all.len(), false),
        ] {
            let sink = Wanting(all.iter().copied().step_by(3).take(n).collect(), segments);
            let wants = Wants::of(&sink);
            let mut hidden = 0;
            for p in all.iter().copied().chain([&tcp::SEGMENTS]) {
                let tape = Tape::new(wants.clone());
                assert_eq!(tape.wants(p), sink.wants(p), "{}", p.name);
                if sink.wants(p) {
                    assert!(wants.proto_filter.may_want(p), "{}", p.name);
                } else if !wants.proto_filter.may_want(p) {
                    hidden += 1;
                }
            }
            if n < 10 {
                assert!(hidden * 10 >= all.len() * 8, "{n}: only {hidden} hidden");
            }
        }
    }
}
