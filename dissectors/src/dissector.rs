//! The two dissector traits and the context they write into.
//!
//! * [`Dissector`] handles one layer of one frame (Ethernet, IPv4, TCP …): it reads its header,
//!   records facts in [`PacketInfo`], emits fields, and names the table and key that choose the
//!   next layer ([`Next`]), as Wireshark's dissector tables do.
//! * [`StreamDissector`] / [`StreamParser`] handle application protocols fed by the flow engine:
//!   one direction's reassembled bytes for TCP, one datagram at a time for UDP. A parser never
//!   buffers TCP data itself: it says how much it consumed and how much more it needs
//!   ([`Progress`]), and the flow engine keeps the rest (Suricata's app-layer contract).

use crate::error::Malformed;
use crate::field::{
    FieldDef, FieldFilter, FieldSink, Group, Proto, ProtoFilter, Severity, Shown, Span, Value,
};
use crate::pinfo::{Columns, PacketInfo, ProtoStack};

/// Wireshark's dissector tables: what a [`Bind`] key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Capture link type (`LINKTYPE_*`).
    LinkType,
    /// Ethernet type / SLL protocol (`ethertype`).
    EtherType,
    /// IPv4 protocol / IPv6 next header (`ip.proto`).
    IpProto,
    /// TCP port (`tcp.port`), for application protocols.
    TcpPort,
    /// UDP port (`udp.port`), for application protocols.
    UdpPort,
}

impl Table {
    /// The name tshark's `-d` option uses for this table.
    pub fn name(self) -> &'static str {
        match self {
            Table::LinkType => "wtap_encap",
            Table::EtherType => "ethertype",
            Table::IpProto => "ip.proto",
            Table::TcpPort => "tcp.port",
            Table::UdpPort => "udp.port",
        }
    }
}

/// A registration: "dissect what `table` dispatches with `key`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bind(pub Table, pub u32);

/// What follows a layer.
#[derive(Debug, Clone, Copy)]
pub enum Next<'a> {
    /// Nothing more to dissect in this frame (or the flow engine takes over).
    Done,
    /// Dispatch `data` through `table` with `key`. `offset` is where `data` starts in the frame.
    Dispatch {
        table: Table,
        key: u32,
        data: &'a [u8],
        offset: usize,
    },
}

/// Where dissectors write: the field sink, the summary columns (when shown) and the protocol
/// list of the frame.
pub struct Cx<'a> {
    pub sink: &'a mut dyn FieldSink,
    /// `None` when no output shows columns (the fields and JSON paths skip the info text).
    pub cols: Option<&'a mut Columns>,
    pub protocols: &'a mut ProtoStack,
    /// The fields the sink may want: others are not handed to it at all.
    filter: FieldFilter,
    /// The protocols the sink may want: it is not asked about others.
    protos: ProtoFilter,
    /// The sink's [`FieldSink::wants_text`], asked once.
    text: bool,
}

impl<'a> Cx<'a> {
    pub fn new(
        sink: &'a mut dyn FieldSink,
        cols: Option<&'a mut Columns>,
        protocols: &'a mut ProtoStack,
    ) -> Cx<'a> {
        let text = sink.wants_text();
        Cx {
            sink,
            cols,
            protocols,
            filter: FieldFilter::ALL,
            protos: ProtoFilter::ALL,
            text,
        }
    }

    /// Hands the sink only fields `filter` may want (the pipeline knows, from the outputs,
    /// which fields they use; the sink must ignore every field outside `filter`).
    pub fn with_filter(mut self, filter: FieldFilter) -> Cx<'a> {
        self.filter = filter;
        self
    }

    /// Asks the sink about only the protocols `protos` may want (the pipeline knows, from the
    /// outputs, which they are; the sink must want none outside `protos`).
    pub fn with_protos(mut self, protos: ProtoFilter) -> Cx<'a> {
        self.protos = protos;
        self
    }

    /// Whether fields of `proto` are wanted.
    #[inline]
    pub fn wants(&self, proto: &'static Proto) -> bool {
        self.protos.may_want(proto) && self.sink.wants(proto)
    }

    /// Whether the outputs' protocol filter ([`Cx::with_protos`]) leaves `proto` possibly
    /// wanted, without asking the sink: `false` means [`Cx::wants`] is false too. For a
    /// shortcut that needs several protocols unwanted on every frame: a constant mask test
    /// each, where asking the sink costs a call per protocol, asked again by the dissectors
    /// when the shortcut declines.
    #[inline(always)]
    pub fn may_want(&self, proto: &'static Proto) -> bool {
        self.protos.may_want(proto)
    }

    /// Begins `proto`'s layer: records it in `frame.protocols` and, when its fields are wanted,
    /// opens it in the sink. Returns whether fields are wanted.
    #[inline]
    pub fn layer(&mut self, proto: &'static Proto, span: Span) -> bool {
        self.protocols.push(proto.name);
        if self.wants(proto) {
            self.sink.layer(proto, span);
            true
        } else {
            false
        }
    }

    /// Whether the sink may want field `def`: a dissector asks before it builds a costly value
    /// (a text) for it. [`Cx::field`] asks again.
    #[inline]
    pub fn wants_field(&self, def: &'static FieldDef) -> bool {
        self.filter.may_want(def)
    }

    /// Whether the sink may want any of `defs`: a dissector asks before a subtree all of whose
    /// items are among them, and skips the whole subtree (its parsing, its items and the
    /// sink's `open` and `close`) when none may be. Outputs that draw the tree want every field
    /// and so always get it; outputs that name their fields ignore the tree's shape.
    #[inline]
    pub fn wants_any_field(&self, defs: &[&'static FieldDef]) -> bool {
        defs.iter().any(|def| self.filter.may_want(def))
    }

    /// Emits one field (call only when [`Cx::layer`] returned true).
    #[inline]
    pub fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if self.filter.may_want(def) {
            self.sink.field(def, span, value);
        }
    }

    /// Emits one field whose value `value` builds only when the field may be wanted: for a
    /// layer whose fields are mostly unwanted on every frame (the frame layer in `-T fields`
    /// runs), building each value before [`Cx::field`]'s check cost as much as the check.
    #[inline(always)]
    pub fn field_built<'v>(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: impl FnOnce() -> Value<'v>,
    ) {
        if self.filter.may_want(def) {
            self.sink.field(def, span, value());
        }
    }

    /// Whether the output draws `-V` text: only then are the closures of
    /// [`Cx::field_shown`], [`Cx::field_line`] and [`Cx::append`] run.
    #[inline]
    pub fn wants_text(&self) -> bool {
        self.text
    }

    /// Emits one field whose `-V` value text `show` writes (after `Label: `); other outputs
    /// get the plain field and the closure is not run.
    #[inline]
    pub fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        show: impl FnOnce(&mut String),
    ) {
        self.field_with_text(def, span, value, show, |t| Shown::Value(t));
    }

    /// Emits one field whose whole `-V` line `show` writes.
    #[inline]
    pub fn field_line(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        show: impl FnOnce(&mut String),
    ) {
        self.field_with_text(def, span, value, show, |t| Shown::Line(t));
    }

    /// The field with the text `show` writes, as `kind` of text, when the sink draws text;
    /// the plain field (without running `show`) otherwise.
    #[inline]
    fn field_with_text(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        show: impl FnOnce(&mut String),
        kind: for<'t> fn(&'t str) -> Shown<'t>,
    ) {
        if !self.filter.may_want(def) {
            return;
        }
        if self.text {
            let mut text = String::with_capacity(48);
            show(&mut text);
            self.sink.field_shown(def, span, value, kind(&text));
        } else {
            self.sink.field(def, span, value);
        }
    }

    /// Emits an expert item (a field declared with `.expert(…)`) whose message `show` writes;
    /// without a message the field's label is the message.
    #[inline]
    pub fn expert(&mut self, def: &'static FieldDef, span: Span, show: impl FnOnce(&mut String)) {
        let (severity, group) = def.view.expert.unwrap_or((Severity::Note, Group::Protocol));
        self.expert_as(def, span, severity, group, show);
    }

    /// Emits `def` as an expert item of this severity and group (for a field Wireshark also
    /// adds as a plain item, such as `tcp.analysis.duplicate_ack`).
    #[inline]
    pub fn expert_as(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        severity: Severity,
        group: Group,
        show: impl FnOnce(&mut String),
    ) {
        if !self.filter.may_want(def) {
            return;
        }
        if self.text {
            let mut text = String::with_capacity(48);
            show(&mut text);
            if text.is_empty() {
                text.push_str(def.label);
            }
            let shown = Shown::Expert(severity, group, &text);
            self.sink.field_shown(def, span, Value::None, shown);
        } else {
            self.sink.field(def, span, Value::None);
        }
    }

    /// Emits a field `-V` does not draw here (other outputs get it as usual).
    #[inline]
    pub fn field_hidden(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if self.filter.may_want(def) {
            self.sink.field_shown(def, span, value, Shown::Hidden);
        }
    }

    /// Appends to the current layer's `-V` root line, when `-V` is drawn.
    #[inline]
    pub fn append(&mut self, show: impl FnOnce(&mut String)) {
        self.with_text(show, |sink, t| sink.append(t));
    }

    /// Appends to the `-V` line of the item whose subtree is open, when `-V` is drawn.
    #[inline]
    pub fn append_open(&mut self, show: impl FnOnce(&mut String)) {
        self.with_text(show, |sink, t| sink.append_open(t));
    }

    /// Replaces the current layer's `-V` root line, when `-V` is drawn.
    #[inline]
    pub fn retitle(&mut self, show: impl FnOnce(&mut String)) {
        self.with_text(show, |sink, t| sink.retitle(t));
    }

    /// A tree item that is not a field, opened as the parent of what follows up to
    /// [`Cx::close_label`], when `-V` or JSON is drawn; returns whether it was.
    #[inline]
    pub fn open_label(&mut self, span: Span, text: std::fmt::Arguments<'_>) -> bool {
        self.with_text(
            |t| {
                let _ = std::fmt::Write::write_fmt(t, text);
            },
            |sink, t| {
                sink.label(span, t);
                sink.open();
            },
        );
        self.text
    }

    /// Closes what [`Cx::open_label`] opened (`drawn` is what it returned).
    #[inline]
    pub fn close_label(&mut self, drawn: bool) {
        if drawn {
            self.sink.close();
        }
    }

    /// Builds the text `show` writes and hands it to `give`, only when text is drawn.
    #[inline]
    fn with_text(
        &mut self,
        show: impl FnOnce(&mut String),
        give: impl FnOnce(&mut dyn FieldSink, &str),
    ) {
        if self.text {
            let mut text = String::with_capacity(64);
            show(&mut text);
            give(&mut *self.sink, &text);
        }
    }

    /// Sets the Protocol column and returns the cleared Info column to write into, when the
    /// output shows columns.
    #[inline]
    pub fn info(&mut self, protocol: &'static str) -> Option<&mut String> {
        let cols = self.cols.as_deref_mut()?;
        cols.protocol = protocol;
        cols.info.clear();
        cols.rewrites = cols.rewrites.wrapping_add(1);
        Some(&mut cols.info)
    }

    /// Whether columns are being filled.
    #[inline]
    pub fn shows_columns(&self) -> bool {
        self.cols.is_some()
    }
}

/// One layer of one frame.
pub trait Dissector: Sync {
    fn proto(&self) -> &'static Proto;
    /// The dissector-table entries this layer registers under.
    fn binds(&self) -> &'static [Bind];
    /// Dissects `data` (which starts at `offset` in the frame): fills `pi`, emits fields and
    /// columns, and returns what follows. A broken header is `Err(Malformed)`.
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed>;
}

/// The direction of a stream's bytes relative to the connection's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server (the side that sent the SYN, or the lower-numbered well-known guess).
    ToServer,
    /// Server to client.
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    /// 0 for client to server, 1 for server to client: an index for per-direction state.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// A probe's verdict on the first bytes of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Yes,
    No,
    /// Too few bytes to tell.
    NeedMore,
}

/// A stream parser's answer to [`StreamParser::data`].
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Every byte given was consumed.
    Done,
    /// `consumed` bytes were used; the engine keeps the rest (the tail) and calls again once at
    /// least `needed` more bytes than the tail exist (or once more when the direction ends).
    /// `consumed` must not exceed the length given and `needed` must be at least 1
    /// (`consumed + needed` may be less than the length: a 1909-byte frame whose first 1448
    /// bytes are given asks for `needed: 461`).
    ///
    /// A `needed` larger than the tail is also accepted as Suricata's count (the whole size
    /// from `consumed`): the engine then calls again once the tail reaches `needed`, which is
    /// never later than the bytes are complete — a parser counting beyond the tail may be
    /// called early and simply asks again.
    NeedMore { consumed: usize, needed: usize },
    /// The protocol changes after `consumed` bytes (HTTP Upgrade to WebSocket or h2c).
    Switch {
        proto: &'static str,
        consumed: usize,
    },
    /// The stream cannot be parsed further; the flow's application layer is marked failed.
    Fatal(Malformed),
}

/// What a stream parser writes into: the current frame's context plus stream facts.
pub struct StreamCx<'c, 'a> {
    pub cx: &'c mut Cx<'a>,
    /// The frame being processed (it completes whatever PDU is emitted now).
    pub frame: u64,
    /// Its capture time.
    pub secs: i64,
    pub nanos: u32,
    /// Offset in this direction's stream of the first byte given to `data`.
    pub stream_offset: u64,
    /// The flow's stream number (`tcp.stream` / `udp.stream`).
    pub stream: u64,
    /// True for a TCP byte stream, false for UDP datagrams (one per `data` call).
    pub tcp: bool,
    /// The flow's two ports, lower endpoint first (0 when unknown): what tshark's `match_uint`
    /// tells a dissector, such as TLS choosing the protocol its application data carries.
    pub ports: [u16; 2],
    /// The flow's place among the flows its protocol's parser has parsed, from 0 (QUIC's
    /// connection number).
    pub ordinal: u64,
}

/// An application protocol: detection and a parser factory.
pub trait StreamDissector: Sync {
    fn proto(&self) -> &'static Proto;
    /// Well-known ports (`Bind(Table::TcpPort, 80)`).
    fn binds(&self) -> &'static [Bind];
    /// Whether the first bytes of a direction look like this protocol.
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe;
    /// A parser for one new flow.
    fn start(&self) -> Box<dyn StreamParser>;
}

/// One flow's application-layer parser (both directions).
pub trait StreamParser: Send {
    /// New contiguous bytes of direction `dir` (for UDP: one whole datagram).
    fn data(&mut self, dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress;
    /// `len` bytes of direction `dir` were never captured: resynchronise or stop decoding.
    fn gap(&mut self, _dir: Direction, _len: u64) {}
    /// Direction `dir` ended (FIN, RST, or end of capture).
    fn end(&mut self, _dir: Direction, _cx: &mut StreamCx<'_, '_>) {}
    /// After its flow ended: becomes exactly what its dissector's `start` gives, keeping only
    /// its (emptied, small) buffers, and names that protocol; `None` (the default) when it
    /// cannot, and it is dropped. The flow engine hands recycled parsers to new flows of the
    /// same protocol: a capture of many short flows (DNS over UDP: one per query) otherwise
    /// allocates and frees a parser and its buffers for each.
    fn recycle(&mut self) -> Option<&'static Proto> {
        None
    }
}
