//! Protocols, field definitions, values and the sink that receives them.
//!
//! Every protocol declares its fields once, as `static` [`FieldDef`]s under Wireshark's names,
//! and lists them in its [`Proto`]. Dissectors push `(FieldDef, Span, Value)` triples into a
//! [`FieldSink`]; the sink decides what to keep (`-T fields` keeps a few columns, JSON and `-V`
//! keep everything, `-P` asks for nothing). A `FieldDef` is identified by its address, so the
//! same static must be used for every emission of a field.
//!
//! Values are formatted exactly as `tshark -T fields` prints them by [`write_tshark`]; that
//! function is the one place that knows tshark's value formats.

pub use crate::error::Severity;
use std::fmt::Write as _;

/// A protocol as Wireshark names it (`tcp`, "Transmission Control Protocol").
#[derive(Debug)]
pub struct Proto {
    /// Wireshark's filter name: the prefix of every field and the JSON layer key.
    pub name: &'static str,
    /// The long name shown as the `-V` tree root.
    pub long_name: &'static str,
    /// Every field this protocol can emit (including fields another stage emits into this
    /// layer, such as `tcp.stream` from the flow engine).
    pub fields: &'static [&'static FieldDef],
    /// The fields the `-V` tree root shows after the long name, with their short labels
    /// (`Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2`).
    pub summary: &'static [(&'static str, &'static FieldDef)],
}

/// How tshark formats a field's value (Wireshark's field type and display base, merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// FT_NONE / FT_PROTOCOL: a marker; `-T fields` prints `1` when it is present.
    None,
    /// FT_BOOLEAN: `1` or `0`.
    Bool,
    /// An integer shown in decimal (BASE_DEC, FT_FRAMENUM).
    Dec,
    /// An unsigned integer shown as `0x` plus this many zero-padded hex digits (BASE_HEX).
    Hex(u8),
    /// FT_IPv4, dotted quad.
    Ipv4,
    /// FT_IPv6, RFC 5952 text.
    Ipv6,
    /// FT_ETHER, `aa:bb:cc:dd:ee:ff`.
    Ether,
    /// FT_BYTES: lowercase hex without separators.
    Bytes,
    /// FT_BYTES registered with a colon separator (`02:10:00:00:00:01`).
    ColonBytes,
    /// FT_STRING: text, non-printable bytes escaped as tshark does (`\xNN`).
    Str,
    /// FT_ABSOLUTE_TIME shown as seconds since the epoch with nine decimals.
    Epoch,
    /// FT_RELATIVE_TIME: seconds with nine decimals.
    RelTime,
    /// FT_ABSOLUTE_TIME shown as a UTC date, as tshark prints it with `TZ=UTC`:
    /// `Nov 27, 2026 20:38:59.000000000 UTC`.
    AbsTime,
    /// FT_DOUBLE / FT_FLOAT.
    Double,
}

/// Names for the values of an integer field (Wireshark's `value_string`), used by `-V`.
pub type ValueNames = fn(u64) -> Option<&'static str>;

/// One field, declared once as a `static` in its protocol's file.
#[derive(Debug)]
pub struct FieldDef {
    /// Wireshark's field name, e.g. `tcp.srcport`.
    pub name: &'static str,
    /// The label `-V` shows, e.g. `Source Port`.
    pub label: &'static str,
    /// The value format.
    pub kind: Kind,
    /// Names for integer values (`-V` shows `Type: IPv4 (0x0800)`).
    pub names: Option<ValueNames>,
    /// How `-V` draws the field beyond its label and value.
    pub view: View,
    /// Its place in a [`FieldFilter`], worked out from the name when the static is built.
    filter_key: FilterKey,
}

/// `-V` presentation details of a field (Wireshark's bitmask, unit string, true/false strings,
/// hidden items). None of them changes `-T fields` or JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// The bits of a `bits`-bit header word this field occupies: `-V` draws the word with the
    /// field's bits and dots elsewhere (`.1.. .... = Don't fragment: Set`). The value emitted
    /// is the field's own value (already shifted down). `bits == 0`: not a bit field.
    pub mask: u64,
    pub bits: u8,
    /// Appended to the value (` bytes`). Times always show ` seconds`, as in Wireshark.
    pub unit: &'static str,
    /// A boolean's texts for true and false (Wireshark's `true_false_string`). Without them a
    /// bit field shows `Set` / `Not set` and a plain boolean `True` / `False`.
    pub tfs: Option<(&'static str, &'static str)>,
    /// An integer shown in hex and decimal: `0xe099 (57497)` (BASE_HEX_DEC). `-T fields`
    /// prints the hex only, as tshark does.
    pub hex_dec: bool,
    /// Not drawn by `-V` (Wireshark's hidden items: `ip.addr`, `tcp.port`), still in `-T fields`
    /// and JSON.
    pub hidden: bool,
    /// Value names shown alone (`Unverified`), not followed by the number (BASE_NONE).
    pub name_only: bool,
    /// A header length counted in 32-bit words: the value is in bytes, the bits hold a quarter
    /// of it, and `-V` shows `20 bytes (5)`.
    pub words: bool,
    /// Value names after the number: `8 (Echo (ping) request)` (Wireshark formats some
    /// fields so), instead of `Echo (ping) request (8)`.
    pub num_first: bool,
    /// An integer shown in decimal and hex: `21452 (0x53cc)` (BASE_DEC_HEX; the hex digits
    /// follow the field's width, `Kind::Hex`'s or 4).
    pub dec_hex: u8,
    /// A protocol's own item (`ipv6.hopopts`): `-T fields` prints its name, as tshark does.
    pub protocol_item: bool,
    /// What a byte field of no bytes shows (`<none>`; some dissectors say `<MISSING>`).
    pub empty_text: &'static str,
    /// Text Wireshark reads as ASCII (ENC_ASCII): every byte above 0x7f is U+FFFD in the
    /// value, even where the bytes are UTF-8 (HTTP's fields).
    pub ascii: bool,
    /// An expert item (`tcp.connection.syn`): `-V` draws `[Expert Info (Chat/Sequence): …]`,
    /// JSON a `_ws.expert` object. Its message is the label unless the emission gives one.
    pub expert: Option<(Severity, Group)>,
}

/// Wireshark's expert groups (`PI_SEQUENCE` …), in its numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Checksum = 1,
    Sequence = 2,
    ResponseCode = 3,
    RequestCode = 4,
    Undecoded = 5,
    Reassemble = 6,
    Malformed = 7,
    Debug = 8,
    Protocol = 9,
    Security = 10,
    Comments = 11,
    Decryption = 12,
    Assumption = 13,
    Deprecated = 14,
}

impl Group {
    /// The name `-V` shows.
    pub fn name(self) -> &'static str {
        match self {
            Group::Checksum => "Checksum",
            Group::Sequence => "Sequence",
            Group::ResponseCode => "Response",
            Group::RequestCode => "Request",
            Group::Undecoded => "Undecoded",
            Group::Reassemble => "Reassemble",
            Group::Malformed => "Malformed",
            Group::Debug => "Debug",
            Group::Protocol => "Protocol",
            Group::Security => "Security",
            Group::Comments => "Comment",
            Group::Decryption => "Decryption",
            Group::Assumption => "Assumption",
            Group::Deprecated => "Deprecated",
        }
    }

    /// The number JSON shows (`_ws.expert.group`).
    pub fn code(self) -> u32 {
        (self as u32) << 24
    }
}

impl Severity {
    /// The name `-V` shows.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Chat => "Chat",
            Severity::Note => "Note",
            Severity::Warn => "Warning",
            Severity::Error => "Error",
        }
    }

    /// The number JSON shows (`_ws.expert.severity`).
    pub fn code(self) -> u32 {
        match self {
            Severity::Chat => 0x0020_0000,
            Severity::Note => 0x0040_0000,
            Severity::Warn => 0x0060_0000,
            Severity::Error => 0x0080_0000,
        }
    }
}

impl View {
    /// A field drawn as label and value only.
    pub const PLAIN: View = View {
        mask: 0,
        bits: 0,
        unit: "",
        tfs: None,
        hex_dec: false,
        hidden: false,
        name_only: false,
        words: false,
        num_first: false,
        dec_hex: 0,
        ascii: false,
        empty_text: "<none>",
        protocol_item: false,
        expert: None,
    };
}

impl FieldDef {
    /// A field without value names.
    pub const fn new(name: &'static str, label: &'static str, kind: Kind) -> FieldDef {
        FieldDef {
            name,
            label,
            kind,
            names: None,
            view: View::PLAIN,
            filter_key: FilterKey::of_name(name),
        }
    }

    /// A bit field: `mask` within a `bits`-bit word (8, 16, 24 or 32).
    pub const fn bits(mut self, mask: u64, bits: u8) -> FieldDef {
        self.view.mask = mask;
        self.view.bits = bits;
        self
    }

    /// A unit string shown after the value by `-V` (` bytes`).
    pub const fn unit(mut self, unit: &'static str) -> FieldDef {
        self.view.unit = unit;
        self
    }

    /// Texts of a boolean's true and false values.
    pub const fn tfs(mut self, yes: &'static str, no: &'static str) -> FieldDef {
        self.view.tfs = Some((yes, no));
        self
    }

    /// Shown in hex and decimal by `-V`.
    pub const fn hex_dec(mut self) -> FieldDef {
        self.view.hex_dec = true;
        self
    }

    /// A protocol's own item (see [`View::protocol_item`]).
    pub const fn protocol_item(mut self) -> FieldDef {
        self.view.protocol_item = true;
        self
    }

    /// What the field shows when it has no bytes (see [`View::empty_text`]).
    pub const fn empty_text(mut self, text: &'static str) -> FieldDef {
        self.view.empty_text = text;
        self
    }

    /// Read as ASCII (see [`View::ascii`]).
    pub const fn ascii(mut self) -> FieldDef {
        self.view.ascii = true;
        self
    }

    /// Hidden from `-V`.
    pub const fn hidden(mut self) -> FieldDef {
        self.view.hidden = true;
        self
    }

    /// Value names shown without the number (BASE_NONE: `Unverified`, not `Unverified (2)`).
    pub const fn name_only(mut self) -> FieldDef {
        self.view.name_only = true;
        self
    }

    /// A header length in 32-bit words shown as `20 bytes (5)` (see [`View::words`]).
    pub const fn words(mut self) -> FieldDef {
        self.view.words = true;
        self
    }

    /// Value names after the number (`8 (Echo (ping) request)`).
    pub const fn num_first(mut self) -> FieldDef {
        self.view.num_first = true;
        self
    }

    /// Shown in decimal and in hex of `digits` digits: `21452 (0x53cc)`.
    pub const fn dec_hex(mut self, digits: u8) -> FieldDef {
        self.view.dec_hex = digits;
        self
    }

    /// An expert item of this severity and group.
    pub const fn expert(mut self, severity: Severity, group: Group) -> FieldDef {
        self.view.expert = Some((severity, group));
        self
    }

    /// The same field with names for its integer values.
    pub const fn with_names(mut self, names: ValueNames) -> FieldDef {
        self.names = Some(names);
        self
    }

    /// The protocol prefix of the field name (`tcp` for `tcp.analysis.flags`).
    pub fn proto_name(&self) -> &'static str {
        match self.name.find('.') {
            Some(dot) => self.name.get(..dot).unwrap_or(self.name),
            None => self.name,
        }
    }
}

/// A byte range in the buffer a layer was given: the frame for L2–L4, a direction's
/// reassembled stream for application data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Number of bytes.
    pub len: u32,
}

impl Span {
    /// A span from `usize` offsets (saturating: frames are far below 4 GiB).
    pub fn new(start: usize, len: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(u32::MAX),
        }
    }

    /// The span of generated fields (those Wireshark shows in brackets): no bytes, and a start
    /// no frame reaches, so that a field of zero length at offset 0 is not taken for one.
    pub const GENERATED: Span = Span {
        start: u32::MAX,
        len: 0,
    };

    /// Whether this is [`Span::GENERATED`].
    pub fn is_generated(&self) -> bool {
        *self == Span::GENERATED
    }
}

/// A field's value. Borrowed data lives only for the call that receives it: sinks format or
/// copy what they keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// For [`Kind::None`] markers.
    None,
    Bool(bool),
    U(u64),
    I(i64),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    Ether([u8; 6]),
    Bytes(&'a [u8]),
    /// Text that is already valid UTF-8.
    Str(&'a str),
    /// Text off the wire, in no particular encoding; escaped when printed.
    Text(&'a [u8]),
    /// Seconds and nanoseconds (absolute since the epoch, or relative).
    Time {
        secs: i64,
        nanos: u32,
    },
    F(f64),
}

impl Value<'_> {
    /// The integer inside, for value names and filters.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U(v) => Some(v),
            Value::I(v) => u64::try_from(v).ok(),
            Value::Bool(b) => Some(u64::from(b)),
            _ => None,
        }
    }
}

/// What `-V` shows for a field when its [`FieldDef`] alone cannot say (Wireshark's
/// `proto_tree_add_*_format_value`, `proto_tree_add_*_format` and `proto_item_append_text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown<'a> {
    /// The text after `Label: ` (a bit field's picture still comes first).
    Value(&'a str),
    /// The whole line (no label, no bit picture).
    Line(&'a str),
    /// An expert item with this message (whatever the field's own view says).
    Expert(Severity, Group, &'a str),
    /// Not drawn here (Wireshark hides some items in one tree only: `ip.version` in IPv6's).
    Hidden,
}

/// Where a member of a [`FilterBits`] set lives: one of its eight words, and two bits there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FilterKey {
    word: u8,
    mask: u64,
}

impl FilterKey {
    /// The key of a 64-bit hash: the top 3 bits pick the word, two groups of 6 below them
    /// the bits.
    const fn of_hash(h: u64) -> FilterKey {
        FilterKey {
            word: (h >> 61) as u8,
            mask: (1u64 << ((h >> 55) & 63)) | (1u64 << ((h >> 49) & 63)),
        }
    }

    /// A field's key, from its name at compile time (FNV-1a, then Fibonacci hashing to mix
    /// the high bits): checking a field costs no hashing, and the same build of any binary
    /// gets the same answers wherever the linker put the statics.
    #[inline(always)]
    const fn of_name(name: &str) -> FilterKey {
        let mut rest = name.as_bytes();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        while let [b, tail @ ..] = rest {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            rest = tail;
        }
        FilterKey::of_hash(h.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A protocol's key, from its name like a field's. Nearly every protocol asked about is
    /// a `static` named at the call, and the compiler then folds the whole hash into two
    /// constants (a key from the protocol's address, known only at link time, cost a
    /// dozen instructions each of the several times a frame a layer is asked about).
    #[inline(always)]
    const fn of_proto(proto: &Proto) -> FilterKey {
        FilterKey::of_name(proto.name)
    }
}

/// A set as a 512-bit blocked Bloom filter: each member sets the two bits of its
/// [`FilterKey`] in one 64-bit word, so a test is one load and one mask. A clear bit means
/// "not in the set", both bits set "maybe" (with a dozen members about one key in five
/// hundred is a false "maybe"; one bit per member was wrong for one in fifty, enough for a
/// costly unwanted field to be built on every frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FilterBits([u64; 8]);

impl FilterBits {
    const ALL: FilterBits = FilterBits([u64::MAX; 8]);
    const NONE: FilterBits = FilterBits([0; 8]);

    fn insert(&mut self, key: FilterKey) {
        if let Some(w) = self.0.get_mut(usize::from(key.word)) {
            *w |= key.mask;
        }
    }

    #[inline]
    fn may_contain(&self, key: FilterKey) -> bool {
        self.0
            .get(usize::from(key.word))
            .is_some_and(|w| w & key.mask == key.mask)
    }

    fn union(self, other: FilterBits) -> FilterBits {
        let mut u = self;
        for (a, b) in u.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        u
    }
}

/// A quick test of whether a field may be wanted, checked before a field is handed to the
/// sink: `-T fields` asks for a handful of the hundreds of fields dissectors emit, and a call
/// through the sink for each unwanted one cost more than the dissection itself. The wanted
/// fields as a Bloom filter: `false` means "not wanted"; `true` may be another field's (the
/// sink decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldFilter(FilterBits);

impl Default for FieldFilter {
    fn default() -> FieldFilter {
        FieldFilter::ALL
    }
}

impl FieldFilter {
    /// Every field may be wanted.
    pub const ALL: FieldFilter = FieldFilter(FilterBits::ALL);
    /// No field is wanted.
    pub const NONE: FieldFilter = FieldFilter(FilterBits::NONE);

    /// The filter of exactly these fields (and, rarely, others that share their bits).
    pub fn of<'d>(defs: impl IntoIterator<Item = &'d FieldDef>) -> FieldFilter {
        let mut f = FieldFilter::NONE;
        for def in defs {
            f.0.insert(def.filter_key);
        }
        f
    }

    /// The fields either filter may want.
    pub fn union(self, other: FieldFilter) -> FieldFilter {
        FieldFilter(self.0.union(other.0))
    }

    /// Whether `def` may be wanted (`false`: certainly not).
    #[inline]
    pub fn may_want(&self, def: &FieldDef) -> bool {
        self.0.may_contain(def.filter_key)
    }
}

/// The same pre-check for protocols: every dissector asks the sink whether it wants its
/// layer, and most outputs want few (`-z io,phs` a handful, `netsniff flows` none), so a
/// call through the sink for every layer of every frame was 5–6 % of such runs. `false`
/// means "not wanted"; `true` may be another protocol's (the sink decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoFilter(FilterBits);

impl Default for ProtoFilter {
    fn default() -> ProtoFilter {
        ProtoFilter::ALL
    }
}

impl ProtoFilter {
    /// Every protocol may be wanted.
    pub const ALL: ProtoFilter = ProtoFilter(FilterBits::ALL);

    /// The filter of exactly these protocols (and, rarely, others that share their bits).
    pub fn of<'p>(protos: impl IntoIterator<Item = &'p Proto>) -> ProtoFilter {
        let mut f = ProtoFilter(FilterBits::NONE);
        for p in protos {
            f.0.insert(FilterKey::of_proto(p));
        }
        f
    }

    /// Whether `proto` may be wanted (`false`: certainly not).
    #[inline]
    pub fn may_want(&self, proto: &Proto) -> bool {
        self.0.may_contain(FilterKey::of_proto(proto))
    }
}

/// Receives the fields of one frame, layer by layer.
///
/// Calls arrive in dissection order: `layer(eth)`, eth's fields, `layer(ip)`, … A layer may be
/// entered again later in the same frame (the flow engine adds `tcp.stream` to the `tcp` layer
/// after the dissector ran); sinks merge it into the layer of that name.
pub trait FieldSink {
    /// Whether fields of `proto` are wanted at all. Dissectors skip emission when not: this is
    /// the `-P` fast path.
    fn wants(&self, proto: &'static Proto) -> bool;
    /// A protocol layer begins (or is re-entered).
    fn layer(&mut self, proto: &'static Proto, span: Span);
    /// Another layer of the same protocol begins, apart from the ones before it (one per
    /// HTTP/2 frame, per coalesced QUIC packet), where [`FieldSink::layer`] would merge
    /// into the existing one. Sinks without a tree need not tell them apart.
    fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
        self.layer(proto, span);
    }
    /// One field of the current layer.
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>);
    /// The fields that follow, until [`FieldSink::close`], are children of the last field.
    fn open(&mut self) {}
    /// Ends the subtree opened by [`FieldSink::open`].
    fn close(&mut self) {}
    /// A tree line that is not a field: a summary, an expert note, `[Malformed Packet: …]`.
    fn text(&mut self, _span: Span, _text: &str) {}
    /// Whether the sink draws `-V` text. Only then do dissectors build the texts of
    /// [`FieldSink::field_shown`] and [`FieldSink::append`] (they cost a formatting each).
    fn wants_text(&self) -> bool {
        false
    }
    /// One field with the text `-V` shows for it; other sinks see a plain [`FieldSink::field`].
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        _shown: Shown<'_>,
    ) {
        self.field(def, span, value);
    }
    /// A tree item that is not a field (Wireshark's text items: `Timestamps`, `Queries`,
    /// `Answers`); it may be the parent of a subtree. Shown in brackets when `span` is
    /// [`Span::GENERATED`]; JSON uses the text as the key.
    fn label(&mut self, _span: Span, _text: &str) {}
    /// Appends to the current layer's root line (`, Seq: 1, Ack: 1, Len: 14`; Wireshark's
    /// `proto_item_append_text` on the protocol item). Call only when [`FieldSink::wants_text`].
    fn append(&mut self, _text: &str) {}
    /// Replaces the current layer's root line (Wireshark's `proto_item_set_text` on the
    /// protocol item: TLS inside QUIC reads `TLSv1.3 Record Layer: Handshake Protocol: …`).
    /// Call only when [`FieldSink::wants_text`].
    fn retitle(&mut self, _text: &str) {}
    /// Opens the subtree of the current layer's last `def` item again: the items up to
    /// [`FieldSink::close`] go under it (the flow engine's notes under an item a dissector
    /// drew earlier). Sinks without a tree ignore it.
    fn reopen(&mut self, _def: &'static FieldDef) {}
    /// Appends to the line of the item whose subtree is open (Wireshark's
    /// `proto_item_append_text` on a parent: HTTP/2's `Stream: HEADERS, …, GET /`). Call only
    /// when [`FieldSink::wants_text`].
    fn append_open(&mut self, _text: &str) {}
    /// Remembers where the next layer would begin, for [`FieldSink::layer_at_mark`].
    fn mark(&mut self) {}
    /// Begins a layer where [`FieldSink::mark`] was called, before the layers entered since:
    /// TCP's `[N Reassembled TCP Segments …]` item, known only once the application parser
    /// has completed the PDU it draws before. Sinks without a tree ignore it.
    fn layer_at_mark(&mut self, _proto: &'static Proto, _span: Span) {}
    /// Layers entered from now on are drawn inside the current one, until
    /// [`FieldSink::unnest`] (the packet quoted in an ICMP error sits in the ICMP layer).
    fn nest(&mut self) {}
    /// Ends [`FieldSink::nest`].
    fn unnest(&mut self) {}
}

/// A sink that wants nothing (summary lines and the flow table need no fields).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl FieldSink for NullSink {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

/// Appends `value` formatted exactly as `tshark -T fields` prints it.
pub fn write_tshark(def: &FieldDef, value: &Value<'_>, out: &mut Vec<u8>) {
    match (*value, def.kind) {
        // A protocol's own item (Wireshark's FT_PROTOCOL without a text): its name.
        (Value::None, _) if def.view.protocol_item => out.extend_from_slice(def.name.as_bytes()),
        (Value::None, _) => out.push(b'1'),
        (Value::Bool(b), _) => out.push(if b { b'1' } else { b'0' }),
        (Value::U(v), Kind::Hex(width)) => write_hex(v, usize::from(width), out),
        (Value::U(v), _) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        (Value::I(v), _) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        (Value::Ipv4(a), _) => write_ipv4(a, out),
        (Value::Ipv6(a), _) => {
            let _ = write!(VecWriter(out), "{}", std::net::Ipv6Addr::from(a));
        }
        (Value::Ether(m), _) => write_ether(m, out),
        (Value::Bytes(b), Kind::ColonBytes) => write_colon_hex(b, out),
        // An item of no bytes: tshark's -T fields prints what its tree shows (its JSON has "").
        (Value::Bytes([]), _) => out.extend_from_slice(def.view.empty_text.as_bytes()),
        (Value::Bytes(b), _) => write_hex_bytes(b, out),
        (Value::Str(s), _) => write_field_text(&as_read(def, s.as_bytes()), out),
        (Value::Text(t), _) => write_field_text(&as_read(def, t), out),
        (Value::Time { secs, nanos }, Kind::AbsTime) => write_date(secs, nanos, out),
        (Value::Time { secs, nanos }, _) => write_seconds(secs, nanos, out),
        (Value::F(f), _) => {
            let _ = write!(VecWriter(out), "{f}");
        }
    }
}

/// Bytes of a byte field `-V` shows before an ellipsis (Wireshark's label limit).
pub const MAX_SHOWN_BYTES: usize = 36;

/// Appends `value` as `-V` shows it after the label: with its value name where one exists,
/// the true/false text of a boolean, hex and decimal, and the unit.
pub fn write_display(def: &FieldDef, value: &Value<'_>, out: &mut String) {
    let mut raw = Vec::with_capacity(32);
    let view = &def.view;
    match *value {
        Value::None => return,
        Value::Bool(b) => {
            let (yes, no) = match view.tfs {
                Some(tfs) => tfs,
                None if view.bits > 0 => ("Set", "Not set"),
                None => ("True", "False"),
            };
            out.push_str(if b { yes } else { no });
            return;
        }
        // A bit field's hex digits follow its mask's width (`Flags: 0x002`), not its type's.
        Value::U(v) if view.bits > 0 && matches!(def.kind, Kind::Hex(_)) => {
            let width = 64 - (view.mask >> view.mask.trailing_zeros()).leading_zeros();
            write_hex(v, width.div_ceil(4) as usize, &mut raw);
        }
        // Wireshark shows at most 36 bytes of a byte field, then an ellipsis.
        Value::Bytes(b) if b.len() > MAX_SHOWN_BYTES => {
            let shown = Value::Bytes(b.get(..MAX_SHOWN_BYTES).unwrap_or(b));
            write_tshark(def, &shown, &mut raw);
            raw.extend_from_slice("…".as_bytes());
        }
        Value::Bytes([]) => {
            out.push_str(view.empty_text);
            return;
        }
        Value::Str(s) => write_unicode_text(c_string(&as_read(def, s.as_bytes())), &mut raw),
        Value::Text(t) => write_unicode_text(c_string(&as_read(def, t)), &mut raw),
        _ => write_tshark(def, value, &mut raw),
    }
    let raw = String::from_utf8_lossy(&raw);
    match (def.names, value.as_u64()) {
        (Some(names), Some(v)) => match (names(v), view.name_only) {
            (Some(name), true) => out.push_str(name),
            (Some(name), false) if view.num_first => {
                let _ = write!(out, "{raw} ({name})");
            }
            (Some(name), false) => {
                let _ = write!(out, "{name} ({raw})");
            }
            (None, _) if view.num_first => {
                let _ = write!(out, "{raw} (Unknown)");
            }
            (None, _) => {
                let _ = write!(out, "Unknown ({raw})");
            }
        },
        (None, Some(v)) if view.dec_hex > 0 => {
            let _ = write!(
                out,
                "{raw} (0x{v:0width$x})",
                width = usize::from(view.dec_hex)
            );
        }
        (None, Some(v)) if view.words => {
            let _ = write!(out, "{raw} bytes ({})", v / 4);
        }
        (None, Some(v)) if view.hex_dec => {
            let _ = write!(out, "{raw} ({v})");
        }
        _ => out.push_str(&raw),
    }
    out.push_str(view.unit);
    if matches!(def.kind, Kind::Epoch | Kind::RelTime) {
        out.push_str(" seconds");
    }
}

/// Appends the bit picture of a bit field (`.1.. .... `, a trailing `= ` left to the caller):
/// the word's bits in groups of four, the field's own bits shown, the others dots.
pub fn write_bits(def: &FieldDef, value: &Value<'_>, out: &mut String) {
    let (mask, bits) = (def.view.mask, u32::from(def.view.bits.min(64)));
    let Some(mut v) = value.as_u64() else {
        return;
    };
    if def.view.words {
        v /= 4;
    }
    let word = v.checked_shl(mask.trailing_zeros()).unwrap_or(0) & mask;
    for i in (0..bits).rev() {
        let bit = 1u64 << i;
        out.push(if mask & bit == 0 {
            '.'
        } else if word & bit != 0 {
            '1'
        } else {
            '0'
        });
        if i % 4 == 0 && i > 0 {
            out.push(' ');
        }
    }
}

/// Appends tshark's hex dump of `bytes` (`-V` prints one under every `Data` item): lines of
/// `0000  98 99 …   ..`, 16 bytes each. The offsets have as many hex digits as the last
/// byte's offset needs, at least 4 (Wireshark's `print_hex_data_buffer`): a format of tshark's
/// own, which is why no hex-dump crate writes it.
pub fn write_hex_dump(bytes: &[u8], out: &mut String) {
    let last = bytes.len().saturating_sub(1);
    let digits = (usize::BITS - last.leading_zeros()).div_ceil(4).max(4) as usize;
    for (i, row) in bytes.chunks(16).enumerate() {
        let off = i * 16;
        let _ = write!(out, "{off:0digits$x}  ");
        for (j, b) in row.iter().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{b:02x}");
        }
        for _ in row.len()..16 {
            out.push_str("   ");
        }
        out.push_str("   ");
        for b in row {
            out.push(if (0x20..0x7f).contains(b) {
                char::from(*b)
            } else {
                '.'
            });
        }
        out.push('\n');
    }
}

fn write_hex(v: u64, width: usize, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"0x");
    let needed = (64 - v.leading_zeros() as usize).div_ceil(4).max(1);
    let width = width.max(needed);
    for i in (0..width).rev() {
        let nibble = ((v >> (4 * i)) & 0xf) as usize;
        out.push(DIGITS.get(nibble).copied().unwrap_or(b'0'));
    }
}

/// Dotted-quad IPv4 text.
pub fn write_ipv4(a: [u8; 4], out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    for (i, octet) in a.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(buf.format(*octet).as_bytes());
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn write_ether(m: [u8; 6], out: &mut Vec<u8>) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        write_hex_byte(*b, out);
    }
}

fn write_hex_byte(b: u8, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
    out.push(DIGITS.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
}

/// Lowercase hex without separators, as tshark prints FT_BYTES.
pub fn write_hex_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        write_hex_byte(*b, out);
    }
}

/// Lowercase hex bytes separated by colons.
pub fn write_colon_hex(bytes: &[u8], out: &mut Vec<u8>) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        write_hex_byte(*b, out);
    }
}

/// `secs.nnnnnnnnn`, as tshark prints epoch and relative times.
pub fn write_seconds(secs: i64, nanos: u32, out: &mut Vec<u8>) {
    let (secs, nanos) = if secs < 0 && nanos > 0 {
        out.push(b'-');
        ((-secs - 1).unsigned_abs(), 1_000_000_000 - nanos)
    } else {
        if secs < 0 {
            out.push(b'-');
        }
        (secs.unsigned_abs(), nanos)
    };
    out.extend_from_slice(itoa::Buffer::new().format(secs).as_bytes());
    out.push(b'.');
    let frac = itoa::Buffer::new().format(nanos.min(999_999_999)).len();
    out.extend(std::iter::repeat_n(b'0', 9 - frac));
    out.extend_from_slice(
        itoa::Buffer::new()
            .format(nanos.min(999_999_999))
            .as_bytes(),
    );
}

/// `Mon DD, YYYY HH:MM:SS.nnnnnnnnn UTC` (day padded with a space), tshark's absolute time.
pub fn write_date(secs: i64, nanos: u32, out: &mut Vec<u8>) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let tod = secs.rem_euclid(86_400);
    let (year, month, day) = civil(secs);
    let name = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"???");
    let _ = write!(
        VecWriter(out),
        "{name} {day:>2}, {year} {:02}:{:02}:{:02}.{:09} UTC",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60,
        nanos.min(999_999_999)
    );
}

/// `YYYY-MM-DD` (UTC) of a Unix time (tshark's JSON `_index`).
pub fn write_date_iso(secs: i64, out: &mut Vec<u8>) {
    let (year, month, day) = civil(secs);
    let _ = write!(VecWriter(out), "{year:04}-{month:02}-{day:02}");
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time (X.509 validity times as tshark shows them).
pub fn write_datetime_utc(secs: i64, out: &mut String) {
    let (year, month, day) = civil(secs);
    let tod = secs.rem_euclid(86_400);
    let _ = std::fmt::Write::write_fmt(
        out,
        format_args!(
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
            tod / 3600,
            tod % 3600 / 60,
            tod % 60
        ),
    );
}

/// Year, month (1-12) and day of a Unix time, in UTC (Howard Hinnant's `civil_from_days`).
fn civil(secs: i64) -> (i64, i64, i64) {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A string field's bytes as Wireshark reads them: as they are, or with each byte above 0x7f
/// replaced by U+FFFD for a field read as ASCII ([`View::ascii`]).
pub fn as_read<'t>(def: &FieldDef, text: &'t [u8]) -> std::borrow::Cow<'t, [u8]> {
    if !def.view.ascii || text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 8);
    for &b in text {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A string field's text up to its first NUL: Wireshark's strings are C strings.
pub fn c_string(text: &[u8]) -> &[u8] {
    match memchr::memchr(0, text) {
        Some(i) => text.get(..i).unwrap_or(text),
        None => text,
    }
}

/// A string field's value as `tshark -T fields` prints it (tshark 4.0's `print_escaped_bare`):
/// the text up to a NUL, each invalid UTF-8 sequence as U+FFFD, backspace, form feed, LF, CR
/// and tab as `\b \f \n \r \t`, every other character (backslash included) as it is.
pub fn write_field_text(text: &[u8], out: &mut Vec<u8>) {
    let text = c_string(text);
    if text.iter().all(|b| (0x20..0x7f).contains(b)) {
        out.extend_from_slice(text);
        return;
    }
    for chunk in text.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// Text as Wireshark 4.0's `format_text` shows it in trees (string fields, line-based text):
/// printable characters as they are, backslash included; each invalid UTF-8
/// sequence as U+FFFD; ASCII control characters as C escapes (`\a \b \f \n \r \t \v`) or
/// three octal digits (`\000`, `\033`, `\177`); other characters GLib does not print as
/// `\uXXXX` (`\UXXXXXXXX` above the BMP).
pub fn write_unicode_text(text: &[u8], out: &mut Vec<u8>) {
    if text.iter().all(|b| (0x20..0x7f).contains(b)) {
        out.extend_from_slice(text);
        return;
    }
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            let u = u32::from(c);
            if crate::text::printable(c) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            let escape: &[u8] = match c {
                '\u{7}' => b"\\a",
                '\u{8}' => b"\\b",
                '\u{c}' => b"\\f",
                '\n' => b"\\n",
                '\r' => b"\\r",
                '\t' => b"\\t",
                '\u{b}' => b"\\v",
                _ => b"",
            };
            if !escape.is_empty() {
                out.extend_from_slice(escape);
            } else if u < 0x80 {
                let _ = write!(VecWriter(out), "\\{u:03o}");
            } else if u <= 0xffff {
                let _ = write!(VecWriter(out), "\\u{u:04X}");
            } else {
                let _ = write!(VecWriter(out), "\\U{u:08X}");
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every wanted field passes the filter, and with a `-T fields` list's dozen fields
    /// hardly any other field of the registry does (whatever the addresses the linker chose).
    #[test]
    fn field_filter_keeps_the_wanted_and_few_others() {
        let all: Vec<&'static FieldDef> = crate::proto::all_protos()
            .flat_map(|p| p.fields.iter().copied())
            .collect();
        assert!(all.len() > 500, "{}", all.len());
        let mut false_hits = 0;
        let mut asked = 0;
        for start in 0..40 {
            let wanted: Vec<&FieldDef> = all
                .iter()
                .copied()
                .skip(start)
                .step_by(53)
                .take(12)
                .collect();
            let f = FieldFilter::of(wanted.iter().copied());
            for def in &all {
                let is_wanted = wanted.iter().any(|w| std::ptr::eq(*w, *def));
                if is_wanted {
                    assert!(f.may_want(def), "{}", def.name);
                } else {
                    asked += 1;
                    false_hits += usize::from(f.may_want(def));
                }
            }
        }
        // Two bits of one word in eight for 12 members: about 0.2 % expected.
        assert!(false_hits * 100 < asked, "{false_hits} of {asked}");
        assert!(FieldFilter::ALL.may_want(all[0]) && !FieldFilter::NONE.may_want(all[0]));
        let (a, b) = (FieldFilter::of([all[1]]), FieldFilter::of([all[2]]));
        assert!(a.union(b).may_want(all[1]) && a.union(b).may_want(all[2]));
    }

    #[test]
    fn unicode_text_as_wireshark_shows_it() {
        // As tshark 4.0.17 draws these bytes in a line-based text body.
        let mut out = Vec::new();
        write_unicode_text(
            b"A\x01B\x07C\x0bD\x0cE\x1bF\x7fG\x80H\xc3\xa9I\xe9J\\K\tL\rM\x00N\xe2\x80\x8bO\xc2\x85P\n",
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            "A\\001B\\aC\\vD\\fE\\033F\\177G\u{FFFD}H\u{e9}I\u{FFFD}J\\K\\tL\\rM\\000N\\u200BO\\u0085P\\n"
        );
    }

    #[test]
    fn hex_dump_offsets_widen_with_the_data() {
        let mut out = String::new();
        write_hex_dump(b"AB", &mut out);
        assert_eq!(out, format!("0000  41 42{}AB\n", " ".repeat(45)));
        for (len, first) in [
            (0x1_0000, "0000  "),
            (0x1_0001, "00000  "),
            (0x10_0001, "000000  "),
        ] {
            let mut out = String::new();
            write_hex_dump(&vec![0u8; len], &mut out);
            assert!(out.starts_with(first), "{len:#x}: {}", &out[..12]);
        }
    }

    static HEX16: FieldDef = FieldDef::new("x.hex", "Hex", Kind::Hex(4));
    static DEC: FieldDef = FieldDef::new("x.dec", "Dec", Kind::Dec);
    static STR: FieldDef = FieldDef::new("x.str", "Str", Kind::Str);
    static EPOCH: FieldDef = FieldDef::new("x.t", "T", Kind::Epoch);

    fn fmt(def: &FieldDef, v: Value<'_>) -> String {
        let mut out = Vec::new();
        write_tshark(def, &v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn tshark_formats() {
        assert_eq!(fmt(&HEX16, Value::U(0x800)), "0x0800");
        assert_eq!(fmt(&HEX16, Value::U(0x1_0000)), "0x10000");
        assert_eq!(fmt(&DEC, Value::U(65495)), "65495");
        assert_eq!(fmt(&DEC, Value::Ipv4([10, 0, 0, 1])), "10.0.0.1");
        assert_eq!(
            fmt(
                &DEC,
                Value::Ipv6([0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
            ),
            "fd00:10::1"
        );
        assert_eq!(
            fmt(&DEC, Value::Ether([2, 0x10, 0, 0, 0, 0xff])),
            "02:10:00:00:00:ff"
        );
        assert_eq!(fmt(&DEC, Value::Bytes(&[0x11, 0xe4])), "11e4");
        assert_eq!(
            fmt(
                &EPOCH,
                Value::Time {
                    secs: 1795811872,
                    nanos: 252772000
                }
            ),
            "1795811872.252772000"
        );
        assert_eq!(
            fmt(&EPOCH, Value::Time { secs: 0, nanos: 5 }),
            "0.000000005"
        );
        // As tshark 4.0 prints a string: C escapes for \b \f \n \r \t only, a backslash and
        // other control characters as they are, U+FFFD for invalid UTF-8, nothing after a NUL.
        assert_eq!(
            fmt(&STR, Value::Text(b"a\tb\x01\xff\\c\x00d")),
            "a\\tb\u{1}\u{FFFD}\\c"
        );
        let mut shown = String::new();
        write_display(&STR, &Value::Text(b"a\tb\x01\xff\\c\x00d"), &mut shown);
        assert_eq!(shown, "a\\tb\\001\u{FFFD}\\c");
        assert_eq!(fmt(&DEC, Value::None), "1");
        assert_eq!(fmt(&DEC, Value::Bool(false)), "0");
        static ABS: FieldDef = FieldDef::new("x.abs", "Abs", Kind::AbsTime);
        let t = |secs| Value::Time { secs, nanos: 5 };
        assert_eq!(fmt(&ABS, t(1000)), "Jan  1, 1970 00:16:40.000000005 UTC");
        assert_eq!(
            fmt(&ABS, t(1_795_811_939)),
            "Nov 27, 2026 20:38:59.000000005 UTC"
        );
        assert_eq!(
            fmt(&ABS, t(951_782_400)),
            "Feb 29, 2000 00:00:00.000000005 UTC"
        );
    }
}
