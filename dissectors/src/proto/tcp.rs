//! TCP headers (RFC 9293) and options: MSS, window scale, SACK-permitted, SACK blocks,
//! timestamps, NOP/EOL (RFC 7323, RFC 2018); other kinds are kept as kind and length.
//!
//! This layer reads one segment. Everything that needs the connection — relative sequence
//! numbers, `tcp.stream`, the scaled window, retransmission analysis, the Info column with
//! relative numbers — is the flow engine's, which emits those fields into this layer and
//! rewrites the Info column with [`write_info`]. The segment's payload goes to the flow engine,
//! never to a dissector table here.
//!
//! Not supported: checksum verification (shown unverified, Wireshark's default), MPTCP and TCP-AO
//! option contents.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Group, Kind, Proto, Severity, Span, Value};
use crate::pinfo::{Columns, Net, PacketInfo, TcpInfo, Transport};
use crate::proto::bytes::{be16, be32, slice, tail, u8_at};
use crate::proto::ip::ipproto;
use std::fmt::Write as _;
use nom::bytes::complete::take;
use nom::number::complete::u8 as byte;
use nom::IResult;

/// The smallest header (data offset 5).
pub const MIN_HEADER_LEN: usize = 20;
/// Window-scale shifts above this are clamped (RFC 7323 §2.3).
pub const MAX_WSCALE: u8 = 14;

/// TCP option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WSCALE: u8 = 3;
    pub const SACK_PERM: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
    pub const MPTCP: u8 = 30;
    pub const TFO: u8 = 34;

    /// Wireshark's name for an option kind.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u8::try_from(v).ok()? {
            EOL => "End of Option List (EOL)",
            NOP => "No-Operation (NOP)",
            MSS => "Maximum Segment Size",
            WSCALE => "Window Scale",
            SACK_PERM => "SACK Permitted",
            SACK => "SACK",
            TIMESTAMPS => "Time Stamp Option",
            MPTCP => "Multipath TCP",
            TFO => "TCP Fast Open Cookie",
            _ => return None,
        })
    }
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFFSET_FLAGS: usize = 12;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
    pub const OPTIONS: usize = 20;
}

/// A view of a TCP header whose header length has been checked against the captured bytes.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    buf: &'a [u8],
}

impl<'a> TcpSegment<'a> {
    /// Checks a data offset of at least 5 words, captured whole.
    pub fn new_checked(buf: &'a [u8]) -> Result<TcpSegment<'a>, Malformed> {
        if buf.len() < MIN_HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated TCP header"));
        }
        let s = TcpSegment { buf };
        if s.header_len() < MIN_HEADER_LEN {
            return Err(Malformed::new(
                &PROTO,
                field::OFFSET_FLAGS,
                "bogus TCP header length (must be at least 20)",
            )
            .len_from("tcp.hdr_len"));
        }
        if s.header_len() > buf.len() {
            return Err(s.options_truncated());
        }
        Ok(s)
    }

    /// Checks only the fixed 20 bytes and a data offset of at least 5 words: the options may
    /// be cut (a snapshot length inside the header). Accessors of the fixed header still hold.
    pub fn new_fixed(buf: &'a [u8]) -> Result<TcpSegment<'a>, Malformed> {
        match TcpSegment::new_checked(buf) {
            Ok(s) => Ok(s),
            Err(_) if buf.len() >= MIN_HEADER_LEN && TcpSegment { buf }.header_len() >= MIN_HEADER_LEN => {
                Ok(TcpSegment { buf })
            }
            Err(m) => Err(m),
        }
    }

    /// The report for a header longer than the bytes captured.
    fn options_truncated(&self) -> Malformed {
        Malformed::new(&PROTO, self.buf.len(), "TCP options truncated").len_from("tcp.hdr_len")
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }
    pub fn seq(&self) -> u32 {
        be32(self.buf, field::SEQ)
    }
    pub fn ack(&self) -> u32 {
        be32(self.buf, field::ACK)
    }
    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(u8_at(self.buf, field::OFFSET_FLAGS) >> 4) * 4
    }
    /// The 12 bits below the data offset: 3 reserved, AE, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN.
    pub fn flags(&self) -> u16 {
        be16(self.buf, field::OFFSET_FLAGS) & 0x0fff
    }
    pub fn window(&self) -> u16 {
        be16(self.buf, field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.buf, field::URGENT)
    }
    /// The options' bytes that were captured (all of them unless the snapshot length cut
    /// the header).
    pub fn options(&self) -> &'a [u8] {
        slice(self.buf, field::OPTIONS, self.header_len().min(self.buf.len()))
    }
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.header_len())
    }
}

/// One TCP option as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOption<'a> {
    pub kind: u8,
    /// The option's bytes after kind and length (empty for EOL and NOP).
    pub data: &'a [u8],
}

/// Why an option list stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionError {
    /// A length byte below 2.
    BadLength,
    /// The option runs past the end of the header.
    PastHeader,
}

/// Parses one option (RFC 9293 §3.1: EOL and NOP are one byte, the rest kind-length-data).
pub fn parse_option(i: &[u8]) -> IResult<&[u8], TcpOption<'_>> {
    let (i, kind) = byte(i)?;
    if kind == kind::EOL || kind == kind::NOP {
        return Ok((i, TcpOption { kind, data: &[] }));
    }
    let (i, len) = byte(i)?;
    if len < 2 {
        return Err(nom::Err::Failure(nom::error::Error::new(
            i,
            nom::error::ErrorKind::LengthValue,
        )));
    }
    let (i, data) = take(usize::from(len) - 2)(i)?;
    Ok((i, TcpOption { kind, data }))
}

/// Iterates the options of a header; stops after EOL, and reports a broken option once.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    /// Offset of `rest` in the option area.
    pub at: usize,
    done: bool,
}

impl<'a> Options<'a> {
    pub fn new(opts: &'a [u8]) -> Options<'a> {
        Options {
            rest: opts,
            at: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    /// The option and its offset in the option area, or why parsing stopped.
    type Item = Result<(usize, TcpOption<'a>), OptionError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        match parse_option(self.rest) {
            Ok((rest, opt)) => {
                let at = self.at;
                self.at += self.rest.len() - rest.len();
                self.rest = rest;
                if opt.kind == kind::EOL {
                    self.done = true;
                }
                Some(Ok((at, opt)))
            }
            Err(nom::Err::Failure(_)) => {
                self.done = true;
                Some(Err(OptionError::BadLength))
            }
            Err(_) => {
                self.done = true;
                Some(Err(OptionError::PastHeader))
            }
        }
    }
}

/// Reads the options the flow engine needs into `info`.
fn read_options(opts: &[u8], info: &mut TcpInfo) {
    // Nearly every segment of a Linux or BSD host carries exactly NOP, NOP, Timestamps: those
    // 12 bytes are read here directly, with the result of the walk below (which costs a few
    // dozen instructions an option, on every TCP frame of every output).
    if let &[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10, v0, v1, v2, v3, e0, e1, e2, e3] = opts {
        info.timestamps = Some((
            u32::from_be_bytes([v0, v1, v2, v3]),
            u32::from_be_bytes([e0, e1, e2, e3]),
        ));
        info.note_option(TcpInfo::OPT_TIMESTAMPS);
        return;
    }
    walk_options(opts, info);
}

/// [`read_options`] for any option list.
fn walk_options(opts: &[u8], info: &mut TcpInfo) {
    for opt in Options::new(opts) {
        let Ok((_, opt)) = opt else { break };
        let tag = match (opt.kind, opt.data) {
            (kind::MSS, &[a, b]) => {
                info.mss = Some(u16::from_be_bytes([a, b]));
                TcpInfo::OPT_MSS
            }
            (kind::WSCALE, &[shift]) => {
                info.wscale = Some(shift);
                TcpInfo::OPT_WSCALE
            }
            (kind::SACK_PERM, []) => {
                info.sack_perm = true;
                TcpInfo::OPT_SACK_PERM
            }
            (kind::TIMESTAMPS, d) if d.len() == 8 => {
                info.timestamps = Some((be32(d, 0), be32(d, 4)));
                TcpInfo::OPT_TIMESTAMPS
            }
            (kind::SACK, d) if d.len() % 8 == 0 => {
                for (slot, block) in info.sack.iter_mut().zip(d.chunks_exact(8)) {
                    *slot = (be32(block, 0), be32(block, 4));
                    info.sack_count += 1;
                }
                TcpInfo::OPT_SACK
            }
            _ => continue,
        };
        info.note_option(tag);
    }
}

/// The TCP dissector.
pub struct Tcp;

impl Dissector for Tcp {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::TCP as u32)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, data.len().min(MIN_HEADER_LEN)));
        if emit {
            // Ports come first so that a quoted segment in an ICMP error still shows them.
            if data.len() >= 4 {
                let (s, d) = (be16(data, 0), be16(data, 2));
                cx.field(&SRCPORT, Span::new(offset, 2), Value::U(u64::from(s)));
                cx.field(&DSTPORT, Span::new(offset + 2, 2), Value::U(u64::from(d)));
                cx.field(&PORT, Span::new(offset, 2), Value::U(u64::from(s)));
                cx.field(&PORT, Span::new(offset + 2, 2), Value::U(u64::from(d)));
            }
        }
        if pi.quoted && data.len() < MIN_HEADER_LEN {
            // Wireshark looks the conversation up only after reading the window (16 bytes in):
            // a shorter quote (RFC 792 asks for 8) names no stream.
            if data.len() >= 16 {
                pi.quoted_transport = Transport::Tcp(TcpInfo {
                    src_port: be16(data, 0),
                    dst_port: be16(data, 2),
                    ..TcpInfo::default()
                });
            }
            // An ICMP error quotes at least 8 bytes: ports and sequence number, which tshark
            // shows (as `tcp.seq`, raw) without calling the cut header malformed.
            if emit && data.len() >= 8 {
                cx.field(&SEQ, Span::new(offset + 4, 4), Value::U(u64::from(be32(data, 4))));
            }
            return Ok(Next::Done);
        }
        let seg = TcpSegment::new_fixed(data)?;
        let cut = seg.header_len() > data.len();
        let claimed = pi.l4_claimed_len.unwrap_or(data.len() as u32);
        let mut info = TcpInfo {
            src_port: seg.src_port(),
            dst_port: seg.dst_port(),
            seq: seg.seq(),
            ack: seg.ack(),
            flags: seg.flags(),
            window: seg.window(),
            urgent: seg.urgent(),
            hdr_len: u8::try_from(seg.header_len()).unwrap_or(u8::MAX),
            seg_len: claimed.saturating_sub(seg.header_len() as u32),
            ..TcpInfo::default()
        };
        read_options(seg.options(), &mut info);
        // Cut by the snapshot length, not by the packet (nor inside an ICMP error).
        let short = cut && !pi.quoted && claimed as usize >= seg.header_len();
        if emit {
            emit_fields(&seg, &info, offset, pi.quoted, !cut || short, cx);
        }
        if cut {
            if !short {
                // tshark shows the fixed header of a segment cut inside its options, then stops.
                return Err(seg.options_truncated());
            }
            // Cut by the snapshot length, not broken: tshark keeps the segment (stream,
            // sequence analysis, the options that fit) and ends the frame with its
            // short-frame marker.
            pi.transport = Transport::Tcp(info);
            pi.payload_start = u32::try_from(offset + data.len()).unwrap_or(u32::MAX);
            pi.payload_len = 0;
            return Err(Malformed::short(&PROTO, data.len(), "TCP"));
        }
        if pi.quoted {
            pi.quoted_transport = Transport::Tcp(info);
            // Inside an ICMP error the payload is shown as data here: no flow takes it.
            let payload = seg.payload();
            return Ok(match payload.is_empty() {
                true => Next::Done,
                false => Next::Dispatch {
                    table: Table::LinkType,
                    key: crate::proto::NOT_DISSECTED,
                    data: payload,
                    offset: offset + seg.header_len(),
                },
            });
        }
        if !pi.quoted {
            pi.transport = Transport::Tcp(info);
            let payload = seg.payload();
            pi.payload_start = u32::try_from(offset + seg.header_len()).unwrap_or(u32::MAX);
            pi.payload_len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            // Under an IP layer the flow engine owns the segment and rewrites the Info column
            // with relative numbers, so the raw text would be thrown away.
            if matches!(pi.net, Net::None) {
                if let Some(out) = cx.info("TCP") {
                    write_info(out, &info, info.seq, info.ack, u64::from(info.window));
                }
            }
        }
        Ok(Next::Done)
    }
}

/// Emits the header's fields. Inside an ICMP error (`quoted`) tshark shows the raw sequence
/// and acknowledgement numbers as `tcp.seq` / `tcp.ack`, no `tcp.len` and no `tcp.seq_raw`,
/// and the window unscaled (`tcp.window_size`, scale factor -1).
fn emit_fields(
    seg: &TcpSegment<'_>,
    info: &TcpInfo,
    offset: usize,
    quoted: bool,
    show_options: bool,
    cx: &mut Cx<'_>,
) {
    let at = |o: usize, len: usize| Span::new(offset + o, len);
    let u = |v: u64| Value::U(v);
    if quoted {
        cx.field(&SEQ, at(4, 4), u(u64::from(info.seq)));
        cx.field(&ACK, at(8, 4), u(u64::from(info.ack)));
    } else {
        cx.field(&LEN, Span::GENERATED, u(u64::from(info.seg_len)));
        cx.field(&SEQ_RAW, at(4, 4), u(u64::from(info.seq)));
    }
    cx.field(&ACK_RAW, at(8, 4), u(u64::from(info.ack)));
    cx.field(&HDR_LEN, at(12, 1), u(seg.header_len() as u64));
    let flags = info.flags;
    cx.field_line(&FLAGS, at(12, 2), u(u64::from(flags)), |t| {
        let _ = write!(t, "Flags: 0x{flags:03x} (");
        flags_names(flags, t);
        t.push(')');
    });
    if cx.wants_any_field(&FLAGS_TREE) {
        emit_flags(flags, info, offset, quoted, cx);
    }
    cx.field(&WINDOW_SIZE_VALUE, at(14, 2), u(u64::from(info.window)));
    if quoted {
        cx.field(&WINDOW_SIZE, Span::GENERATED, u(u64::from(info.window)));
        cx.field(&WINDOW_SIZE_SCALEFACTOR, Span::GENERATED, Value::I(-1));
    }
    cx.field(&CHECKSUM, at(16, 2), u(u64::from(seg.checksum())));
    cx.field(&CHECKSUM_STATUS, Span::GENERATED, u(2));
    cx.field(&URGENT_POINTER, at(18, 2), u(u64::from(seg.urgent())));
    let opts = seg.options();
    // Options cut by the snapshot length: those that fit are shown (tshark stops at the cut).
    if !opts.is_empty() && show_options {
        let base = offset + field::OPTIONS;
        let claimed = seg.header_len().saturating_sub(field::OPTIONS);
        cx.field_shown(&OPTIONS, Span::new(base, opts.len()), Value::Bytes(opts), |t| {
            let _ = write!(t, "({claimed} bytes)");
            for opt in Options::new(opts).flatten() {
                let label = option_item(opt.1.kind).label;
                let _ = write!(t, ", {}", label.strip_prefix("TCP Option - ").unwrap_or(label));
            }
        });
        if !cx.wants_any_field(&OPTIONS_TREE) {
            return;
        }
        cx.sink.open();
        for opt in Options::new(opts) {
            match opt {
                Ok((o, opt)) => {
                    let n = if opt.kind <= kind::NOP { 1 } else { opt.data.len() + 2 };
                    emit_option(opt, slice(opts, o, o + n), base + o, cx);
                }
                Err(OptionError::BadLength) => {
                    cx.sink.text(Span::new(base, opts.len()), "TCP option length is bogus");
                }
                Err(OptionError::PastHeader) => {
                    cx.sink.text(Span::new(base, opts.len()), "TCP option runs past the header");
                }
            }
        }
        cx.sink.close();
    }
}

/// The items under `tcp.flags` ([`emit_flags`] draws nothing else): outputs wanting none of
/// them skip the subtree.
static FLAGS_TREE: [&FieldDef; 15] = [
    &FLAGS_RES,
    &FLAGS_AE,
    &FLAGS_CWR,
    &FLAGS_ECE,
    &FLAGS_URG,
    &FLAGS_ACK,
    &FLAGS_PUSH,
    &FLAGS_RESET,
    &CONNECTION_RST,
    &FLAGS_SYN,
    &CONNECTION_SYN,
    &CONNECTION_SYNACK,
    &FLAGS_FIN,
    &CONNECTION_FIN,
    &FLAGS_STR,
];

/// The subtree under `tcp.flags`: one item per bit, the connection experts, the flags string.
fn emit_flags(flags: u16, info: &TcpInfo, offset: usize, quoted: bool, cx: &mut Cx<'_>) {
    let at = |o: usize, len: usize| Span::new(offset + o, len);
    cx.sink.open();
    let bit = |mask: u16| Value::Bool(flags & mask != 0);
    // Three bits behind one boolean: the tree shows each bit as sent.
    let res = flags & 0xe00;
    cx.field_line(&FLAGS_RES, at(12, 1), Value::Bool(res != 0), |t| {
        for i in (9..12).rev() {
            t.push(if res & (1 << i) != 0 { '1' } else { '0' });
        }
        let set = if res != 0 { "Set" } else { "Not set" };
        let _ = write!(t, ". .... .... = Reserved: {set}");
    });
    cx.field(&FLAGS_AE, at(12, 1), bit(TcpInfo::AE));
    cx.field(&FLAGS_CWR, at(13, 1), bit(TcpInfo::CWR));
    cx.field(&FLAGS_ECE, at(13, 1), bit(TcpInfo::ECE));
    cx.field(&FLAGS_URG, at(13, 1), bit(TcpInfo::URG));
    cx.field(&FLAGS_ACK, at(13, 1), bit(TcpInfo::ACK));
    cx.field(&FLAGS_PUSH, at(13, 1), bit(TcpInfo::PSH));
    cx.field(&FLAGS_RESET, at(13, 1), bit(TcpInfo::RST));
    if !quoted && flags & TcpInfo::RST != 0 {
        cx.sink.open();
        cx.expert(&CONNECTION_RST, at(13, 1), |_| {});
        cx.sink.close();
    }
    cx.field(&FLAGS_SYN, at(13, 1), bit(TcpInfo::SYN));
    if !quoted && flags & TcpInfo::SYN != 0 {
        cx.sink.open();
        let (def, port) = match flags & TcpInfo::ACK != 0 {
            false => (&CONNECTION_SYN, info.dst_port),
            true => (&CONNECTION_SYNACK, info.src_port),
        };
        cx.expert(def, at(13, 1), |t| {
            let _ = write!(t, "{}: server port {port}", def.label);
        });
        cx.sink.close();
    }
    cx.field(&FLAGS_FIN, at(13, 1), bit(TcpInfo::FIN));
    if !quoted && flags & TcpInfo::FIN != 0 {
        cx.sink.open();
        cx.expert(&CONNECTION_FIN, at(13, 1), |_| {});
        cx.sink.close();
    }
    if cx.wants_field(&FLAGS_STR) {
        let mut s = String::with_capacity(36);
        flags_str(flags, &mut s);
        cx.field(&FLAGS_STR, Span::GENERATED, Value::Str(&s));
    }
    cx.sink.close();
}

/// The fields drawn under `tcp.options` ([`emit_option`] draws nothing else but texts about
/// bogus options, which only the tree shows): outputs wanting none of them skip the subtree.
static OPTIONS_TREE: [&FieldDef; 19] = [
    &OPT_EOL,
    &OPT_NOP,
    &OPT_MSS,
    &OPT_WSCALE,
    &SACK_PERM,
    &OPT_SACK,
    &OPT_TIMESTAMP,
    &OPT_TFO,
    &OPT_EXPERIMENTAL,
    &OPT_UNKNOWN,
    &OPTION_KIND,
    &OPTION_LEN,
    &MSS_VAL,
    &WSCALE_SHIFT,
    &WSCALE_MULTIPLIER,
    &TSVAL,
    &TSECR,
    &SACK_COUNT,
    &UNKNOWN_PAYLOAD,
];

/// The protocol item tshark shows for an option kind (its value is the option's bytes).
fn option_item(k: u8) -> &'static FieldDef {
    match k {
        kind::EOL => &OPT_EOL,
        kind::NOP => &OPT_NOP,
        kind::MSS => &OPT_MSS,
        kind::WSCALE => &OPT_WSCALE,
        kind::SACK_PERM => &SACK_PERM,
        kind::SACK => &OPT_SACK,
        kind::TIMESTAMPS => &OPT_TIMESTAMP,
        kind::TFO => &OPT_TFO,
        253 | 254 => &OPT_EXPERIMENTAL,
        _ => &OPT_UNKNOWN,
    }
}

/// Emits one option as tshark's tree has it: an item holding the option's bytes, and under it
/// kind, length and the option's values. SACK edges are relative to the connection's first
/// sequence number in tshark, so they are left to the flow engine (`tcp.options.sack_le`).
fn emit_option(opt: TcpOption<'_>, bytes: &[u8], at: usize, cx: &mut Cx<'_>) {
    let len = bytes.len();
    let span = Span::new(at, len);
    let d = opt.data;
    let item = option_item(opt.kind);
    // `-V` shows the option's values after its name (`TCP Option - Timestamps: TSval 1, TSecr 0`).
    cx.field_line(item, span, Value::Bytes(bytes), |t| {
        t.push_str(item.label);
        match (opt.kind, d) {
            (kind::MSS, &[a, b]) => {
                let _ = write!(t, ": {} bytes", u16::from_be_bytes([a, b]));
            }
            (kind::WSCALE, &[shift]) => {
                let _ = write!(t, ": {shift} (multiply by {})", 1u64 << shift.min(MAX_WSCALE));
            }
            (kind::TIMESTAMPS, d) if d.len() == 8 => {
                let _ = write!(t, ": TSval {}, TSecr {}", be32(d, 0), be32(d, 4));
            }
            (kind::NOP | kind::EOL | kind::SACK_PERM | kind::SACK, _) => {}
            (_, d) if !d.is_empty() => {
                let mut hex = Vec::with_capacity(d.len() * 2);
                crate::field::write_hex_bytes(d, &mut hex);
                let _ = write!(t, ": {}", String::from_utf8_lossy(&hex));
            }
            _ => {}
        }
    });
    cx.sink.open();
    cx.field(&OPTION_KIND, Span::new(at, 1), Value::U(u64::from(opt.kind)));
    if opt.kind > kind::NOP {
        cx.field(&OPTION_LEN, Span::new(at + 1, 1), Value::U(len as u64));
    }
    match (opt.kind, d) {
        (kind::MSS, &[a, b]) => {
            cx.field(&MSS_VAL, Span::new(at + 2, 2), Value::U(u64::from(u16::from_be_bytes([a, b]))));
        }
        (kind::WSCALE, &[shift]) => {
            cx.field(&WSCALE_SHIFT, Span::new(at + 2, 1), Value::U(u64::from(shift)));
            let mult = 1u64 << shift.min(MAX_WSCALE);
            cx.field(&WSCALE_MULTIPLIER, Span::GENERATED, Value::U(mult));
        }
        (kind::TIMESTAMPS, d) if d.len() == 8 => {
            cx.field(&TSVAL, Span::new(at + 2, 4), Value::U(u64::from(be32(d, 0))));
            cx.field(&TSECR, Span::new(at + 6, 4), Value::U(u64::from(be32(d, 4))));
        }
        // In a tree the flow engine adds the count after the relative edges ([`sack_tree`]).
        (kind::SACK, d) if !cx.wants_text() => {
            cx.field(&SACK_COUNT, Span::GENERATED, Value::U((d.len() / 8) as u64));
        }
        (k, d) if std::ptr::eq(option_item(k), &OPT_UNKNOWN) && !d.is_empty() => {
            cx.field(&UNKNOWN_PAYLOAD, Span::new(at + 2, d.len()), Value::Bytes(d));
        }
        _ => {}
    }
    cx.sink.close();
}

/// The names of the set flags, as Wireshark's `tcp_flags_to_str` writes them (`PSH, ACK`).
pub fn flags_names(flags: u16, out: &mut String) {
    const NAMES: [(u16, &str); 9] = [
        (TcpInfo::FIN, "FIN"),
        (TcpInfo::SYN, "SYN"),
        (TcpInfo::RST, "RST"),
        (TcpInfo::PSH, "PSH"),
        (TcpInfo::ACK, "ACK"),
        (TcpInfo::URG, "URG"),
        (TcpInfo::ECE, "ECE"),
        (TcpInfo::CWR, "CWR"),
        (TcpInfo::AE, "AE"),
    ];
    let mut any = false;
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            if any {
                out.push_str(", ");
            }
            out.push_str(name);
            any = true;
        }
    }
    if flags & 0xe00 != 0 {
        if any {
            out.push_str(", ");
        }
        out.push_str("Reserved");
        any = true;
    }
    if !any {
        out.push_str("<None>");
    }
}

/// Wireshark's names of option kinds (`tcp.option_kind`).
fn option_kind_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "End of Option List",
        1 => "No-Operation",
        2 => "Maximum Segment Size",
        3 => "Window Scale",
        4 => "SACK Permitted",
        5 => "SACK",
        6 => "Echo",
        7 => "Echo Reply",
        8 => "Time Stamp Option",
        9 => "Partial Order Connection Permitted",
        10 => "Partial Order Service Profile",
        11 => "CC",
        12 => "CC.NEW",
        13 => "CC.ECHO",
        14 => "TCP Alternate Checksum Request",
        15 => "TCP Alternate Checksum Data",
        16 => "Skeeter",
        17 => "Bubba",
        18 => "Trailer Checksum Option",
        19 => "MD5 Signature Option",
        20 => "SCPS Capabilities",
        21 => "Selective Negative Acknowledgements",
        22 => "Record Boundaries",
        23 => "Corruption experienced",
        24 => "SNAP",
        25 => "Unassigned",
        26 => "TCP Compression Filter",
        27 => "Quick-Start Response",
        28 => "User Timeout Option",
        29 => "The TCP Authentication Option",
        30 => "Multipath TCP",
        34 => "TCP Fast Open Cookie",
        76 => "Riverbed Probe",
        78 => "Riverbed Transparency",
        172 => "Accurate ECN Order 0",
        174 => "Accurate ECN Order 1",
        253 => "RFC3692-style Experiment 1",
        254 => "RFC3692-style Experiment 2",
        _ => return None,
    })
}

/// `tcp.completeness` as Wireshark's `conversation_completeness_fill` names it: the
/// handshake/data/teardown bits seen (1 SYN, 2 SYN+ACK, 4 ACK, 8 data, 16 FIN, 32 RST).
pub fn completeness_name(v: u64) -> Option<&'static str> {
    Some(match v {
        1 => "Incomplete, SYN_SENT",
        3 => "Incomplete, CLIENT_ESTABLISHED",
        7 => "Incomplete, ESTABLISHED",
        15 => "Incomplete, DATA",
        31 | 47 | 63 => "Complete, WITH_DATA",
        23 | 39 | 55 => "Complete, NO_DATA",
        _ => "Incomplete",
    })
}

/// Writes `·······AP···`-style flag text as Wireshark's `tcp.flags.str`.
pub fn flags_str(flags: u16, out: &mut String) {
    const NAMES: [char; 12] = ['R', 'R', 'R', 'A', 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'];
    for (i, c) in NAMES.iter().enumerate() {
        let bit = 11 - i;
        out.push(if flags & (1 << bit) != 0 { *c } else { '·' });
    }
}

/// Writes the Info column as tshark does: `40606 → 7000 [SYN, ACK] Seq=0 Ack=1 Win=65483 Len=0
/// MSS=65495 SACK_PERM TSval=… TSecr=… WS=1024`. `seq`, `ack` and `win` are what the caller
/// shows (relative numbers and the scaled window from the flow engine, raw ones without it).
pub fn write_info(out: &mut String, t: &TcpInfo, seq: u32, ack: u32, win: u64) {
    use crate::text::push_int;
    // Room for the usual text, so that the pieces below never reallocate; the common flag
    // sets are one piece each.
    out.reserve(160);
    push_int(out, t.src_port);
    out.push_str(" → ");
    push_int(out, t.dst_port);
    const SA: u16 = TcpInfo::SYN | TcpInfo::ACK;
    const PA: u16 = TcpInfo::PSH | TcpInfo::ACK;
    const FA: u16 = TcpInfo::FIN | TcpInfo::ACK;
    const RA: u16 = TcpInfo::RST | TcpInfo::ACK;
    const FPA: u16 = TcpInfo::FIN | TcpInfo::PSH | TcpInfo::ACK;
    match t.flags & 0x1ff {
        TcpInfo::ACK => out.push_str(" [ACK] Seq="),
        PA => out.push_str(" [PSH, ACK] Seq="),
        TcpInfo::SYN => out.push_str(" [SYN] Seq="),
        SA => out.push_str(" [SYN, ACK] Seq="),
        FA => out.push_str(" [FIN, ACK] Seq="),
        FPA => out.push_str(" [FIN, PSH, ACK] Seq="),
        TcpInfo::RST => out.push_str(" [RST] Seq="),
        RA => out.push_str(" [RST, ACK] Seq="),
        flags => {
            out.push_str(" [");
            flags_names(flags, out);
            out.push_str("] Seq=");
        }
    }
    push_int(out, seq);
    if t.has(TcpInfo::ACK) {
        out.push_str(" Ack=");
        push_int(out, ack);
    }
    out.push_str(" Win=");
    push_int(out, win);
    // tshark appends the urgent pointer before the length.
    if t.has(TcpInfo::URG) {
        out.push_str(" Urg=");
        push_int(out, t.urgent);
    }
    out.push_str(" Len=");
    push_int(out, t.seg_len);
    // tshark appends each option's summary as it dissects the option: header order.
    for tag in t.options_in_order() {
        match tag {
            TcpInfo::OPT_MSS => {
                out.push_str(" MSS=");
                push_int(out, t.mss.unwrap_or(0));
            }
            TcpInfo::OPT_SACK_PERM => out.push_str(" SACK_PERM"),
            TcpInfo::OPT_SACK => {
                for (l, r) in t.sack_blocks() {
                    out.push_str(" SLE=");
                    push_int(out, *l);
                    out.push_str(" SRE=");
                    push_int(out, *r);
                }
            }
            TcpInfo::OPT_TIMESTAMPS => {
                let (val, ecr) = t.timestamps.unwrap_or((0, 0));
                out.push_str(" TSval=");
                push_int(out, val);
                out.push_str(" TSecr=");
                push_int(out, ecr);
            }
            _ => {
                out.push_str(" WS=");
                push_int(out, 1u64 << t.wscale.unwrap_or(0).min(MAX_WSCALE));
            }
        }
    }
}

/// A segment's Info text kept as the numbers [`write_info`] shows (the header is the frame's
/// [`TcpInfo`]): the flow engine works them out, and the text is written where the column is
/// read, on whichever thread has the time (see [`Columns::tcp_text`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InfoText {
    /// Where the text goes in the Info column: after the analysis's notes, before anything
    /// appended since.
    pub at: u32,
    pub seq: u32,
    pub ack: u32,
    pub window: u32,
    /// The peer's initial sequence number: SACK edges are shown relative to it.
    pub sack_base: u32,
    /// The frame was cut short by its snap length (the note goes after the text).
    pub short: bool,
}

impl InfoText {
    /// Appends the text to `out`.
    pub fn write(&self, t: &TcpInfo, out: &mut String) {
        // The header is copied only to rebase the SACK edges.
        let rebased;
        let shown = if t.sack_count == 0 {
            t
        } else {
            let mut r = *t;
            let n = usize::from(r.sack_count);
            for b in r.sack.iter_mut().take(n) {
                b.0 = b.0.wrapping_sub(self.sack_base);
                b.1 = b.1.wrapping_sub(self.sack_base);
            }
            rebased = r;
            &rebased
        };
        write_info(out, shown, self.seq, self.ack, u64::from(self.window));
        if self.short {
            out.push_str(super::SHORT_INFO);
        }
    }

    /// Puts the text in its place in `info`.
    pub fn insert(&self, t: &TcpInfo, info: &mut String) {
        let at = self.at as usize;
        if info.len() == at {
            self.write(t, info);
        } else if info.is_char_boundary(at) {
            let mut text = String::new();
            self.write(t, &mut text);
            info.insert_str(at, &text);
        }
    }
}

/// Writes the Info text a flow engine left in `cols` for the segment `pi` carries.
pub fn settle_info(cols: &mut Columns, pi: &PacketInfo) {
    if let (Some(text), Transport::Tcp(t)) = (cols.tcp_text.take(), &pi.transport) {
        text.insert(t, &mut cols.info);
    }
}

pub static PROTO: Proto = Proto {
    name: "tcp",
    long_name: "Transmission Control Protocol",
    fields: &[
        &SRCPORT,
        &DSTPORT,
        &PORT,
        &STREAM,
        &COMPLETENESS,
        &LEN,
        &SEQ,
        &SEQ_RAW,
        &NXTSEQ,
        &ACK,
        &ACK_RAW,
        &HDR_LEN,
        &FLAGS,
        &FLAGS_RES,
        &FLAGS_AE,
        &FLAGS_CWR,
        &FLAGS_ECE,
        &FLAGS_URG,
        &FLAGS_ACK,
        &FLAGS_PUSH,
        &FLAGS_RESET,
        &FLAGS_SYN,
        &FLAGS_FIN,
        &FLAGS_STR,
        &WINDOW_SIZE_VALUE,
        &WINDOW_SIZE,
        &WINDOW_SIZE_SCALEFACTOR,
        &CHECKSUM,
        &CHECKSUM_STATUS,
        &URGENT_POINTER,
        &OPTIONS,
        &OPTION_KIND,
        &OPTION_LEN,
        &MSS_VAL,
        &WSCALE_SHIFT,
        &WSCALE_MULTIPLIER,
        &SACK_PERM,
        &OPT_EOL,
        &OPT_NOP,
        &OPT_MSS,
        &OPT_WSCALE,
        &OPT_SACK,
        &SACK_LE,
        &SACK_RE,
        &SACK_COUNT,
        &DSACK_LE,
        &DSACK_RE,
        &DSACK,
        &OPT_TIMESTAMP,
        &OPT_TFO,
        &OPT_EXPERIMENTAL,
        &OPT_UNKNOWN,
        &UNKNOWN_PAYLOAD,
        &TSVAL,
        &TSECR,
        &TIME_RELATIVE,
        &TIME_DELTA,
        &ANALYSIS,
        &ANALYSIS_FLAGS,
        &ANALYSIS_ACKS_FRAME,
        &ANALYSIS_ACK_RTT,
        &ANALYSIS_INITIAL_RTT,
        &ANALYSIS_BYTES_IN_FLIGHT,
        &ANALYSIS_PUSH_BYTES_SENT,
        &ANALYSIS_RETRANSMISSION,
        &ANALYSIS_FAST_RETRANSMISSION,
        &ANALYSIS_SPURIOUS_RETRANSMISSION,
        &ANALYSIS_OUT_OF_ORDER,
        &ANALYSIS_REUSED_PORTS,
        &ANALYSIS_LOST_SEGMENT,
        &ANALYSIS_ACK_LOST_SEGMENT,
        &ANALYSIS_WINDOW_UPDATE,
        &ANALYSIS_WINDOW_FULL,
        &ANALYSIS_KEEP_ALIVE,
        &ANALYSIS_KEEP_ALIVE_ACK,
        &ANALYSIS_DUPLICATE_ACK,
        &ANALYSIS_DUPLICATE_ACK_NUM,
        &ANALYSIS_DUPLICATE_ACK_FRAME,
        &ANALYSIS_ZERO_WINDOW,
        &ANALYSIS_ZERO_WINDOW_PROBE,
        &ANALYSIS_ZERO_WINDOW_PROBE_ACK,
        &ANALYSIS_RTO,
        &ANALYSIS_RTO_FRAME,
        &PAYLOAD,
        &PDU_SIZE,
        &SEGMENT_DATA,
        &CONNECTION_SYN,
        &CONNECTION_SYNACK,
        &CONNECTION_FIN,
        &CONNECTION_FIN_ACTIVE,
        &CONNECTION_FIN_PASSIVE,
        &CONNECTION_RST,
    ],
    // The flow engine appends `, Seq: …, Ack: …, Len: …` (relative numbers).
    summary: &[("Src Port", &SRCPORT), ("Dst Port", &DSTPORT)],
};

/// Not a protocol but tshark's top-level `[N Reassembled TCP Segments …]` item, which
/// `-z io,phs` counts as a node after the protocol of a PDU that spans several segments. The
/// flow engine opens it as a layer (never in `frame.protocols`); only outputs that ask for it
/// by name get it.
pub static SEGMENTS: Proto = Proto {
    name: "tcp.segments",
    long_name: "Reassembled TCP Segments",
    fields: &[&SEGMENT, &SEGMENT_COUNT, &REASSEMBLED_LENGTH, &REASSEMBLED_DATA],
    summary: &[],
};

pub static SRCPORT: FieldDef = FieldDef::new("tcp.srcport", "Source Port", Kind::Dec);
pub static DSTPORT: FieldDef = FieldDef::new("tcp.dstport", "Destination Port", Kind::Dec);
pub static PORT: FieldDef =
    FieldDef::new("tcp.port", "Source or Destination Port", Kind::Dec).hidden();
/// Emitted by the flow engine.
pub static STREAM: FieldDef = FieldDef::new("tcp.stream", "Stream index", Kind::Dec);
pub static LEN: FieldDef = FieldDef::new("tcp.len", "TCP Segment Len", Kind::Dec);
/// Emitted by the flow engine (relative to the first sequence number seen).
pub static SEQ: FieldDef = FieldDef::new("tcp.seq", "Sequence Number", Kind::Dec);
pub static SEQ_RAW: FieldDef = FieldDef::new("tcp.seq_raw", "Sequence Number (raw)", Kind::Dec);
/// Emitted by the flow engine.
pub static NXTSEQ: FieldDef = FieldDef::new("tcp.nxtseq", "Next Sequence Number", Kind::Dec);
/// Emitted by the flow engine (relative).
pub static ACK: FieldDef = FieldDef::new("tcp.ack", "Acknowledgment Number", Kind::Dec);
pub static ACK_RAW: FieldDef =
    FieldDef::new("tcp.ack_raw", "Acknowledgment number (raw)", Kind::Dec);
pub static HDR_LEN: FieldDef = FieldDef::new("tcp.hdr_len", "Header Length", Kind::Dec)
    .bits(0xf0, 8)
    .words();
pub static FLAGS: FieldDef = FieldDef::new("tcp.flags", "Flags", Kind::Hex(4)).bits(0xfff, 16);
pub static FLAGS_RES: FieldDef = FieldDef::new("tcp.flags.res", "Reserved", Kind::Bool).bits(0xe00, 12);
pub static FLAGS_AE: FieldDef = FieldDef::new("tcp.flags.ae", "Accurate ECN", Kind::Bool).bits(0x100, 12);
pub static FLAGS_CWR: FieldDef =
    FieldDef::new("tcp.flags.cwr", "Congestion Window Reduced", Kind::Bool).bits(0x80, 12);
pub static FLAGS_ECE: FieldDef = FieldDef::new("tcp.flags.ece", "ECN-Echo", Kind::Bool).bits(0x40, 12);
pub static FLAGS_URG: FieldDef = FieldDef::new("tcp.flags.urg", "Urgent", Kind::Bool).bits(0x20, 12);
pub static FLAGS_ACK: FieldDef = FieldDef::new("tcp.flags.ack", "Acknowledgment", Kind::Bool).bits(0x10, 12);
pub static FLAGS_PUSH: FieldDef = FieldDef::new("tcp.flags.push", "Push", Kind::Bool).bits(0x8, 12);
pub static FLAGS_RESET: FieldDef = FieldDef::new("tcp.flags.reset", "Reset", Kind::Bool).bits(0x4, 12);
pub static FLAGS_SYN: FieldDef = FieldDef::new("tcp.flags.syn", "Syn", Kind::Bool).bits(0x2, 12);
pub static FLAGS_FIN: FieldDef = FieldDef::new("tcp.flags.fin", "Fin", Kind::Bool).bits(0x1, 12);
pub static FLAGS_STR: FieldDef = FieldDef::new("tcp.flags.str", "TCP Flags", Kind::Str);
pub static WINDOW_SIZE_VALUE: FieldDef =
    FieldDef::new("tcp.window_size_value", "Window", Kind::Dec);
/// Emitted by the flow engine (scaled by the shift from the handshake).
pub static WINDOW_SIZE: FieldDef =
    FieldDef::new("tcp.window_size", "Calculated window size", Kind::Dec);
/// Emitted by the flow engine.
pub static WINDOW_SIZE_SCALEFACTOR: FieldDef = FieldDef::new(
    "tcp.window_size_scalefactor",
    "Window size scaling factor",
    Kind::Dec,
);
pub static CHECKSUM: FieldDef =
    FieldDef::new("tcp.checksum", "Checksum", Kind::Hex(4)).unit(" [unverified]");
pub static CHECKSUM_STATUS: FieldDef =
    FieldDef::new("tcp.checksum.status", "Checksum Status", Kind::Dec)
        .with_names(crate::proto::ip::checksum_status_name)
        .name_only();
pub static URGENT_POINTER: FieldDef =
    FieldDef::new("tcp.urgent_pointer", "Urgent Pointer", Kind::Dec);
pub static OPTIONS: FieldDef = FieldDef::new("tcp.options", "Options", Kind::Bytes);
pub static OPTION_KIND: FieldDef =
    FieldDef::new("tcp.option_kind", "Kind", Kind::Dec).with_names(option_kind_name);
pub static OPTION_LEN: FieldDef = FieldDef::new("tcp.option_len", "Length", Kind::Dec);
pub static MSS_VAL: FieldDef = FieldDef::new("tcp.options.mss_val", "MSS Value", Kind::Dec);
pub static WSCALE_SHIFT: FieldDef =
    FieldDef::new("tcp.options.wscale.shift", "Shift count", Kind::Dec);
pub static WSCALE_MULTIPLIER: FieldDef =
    FieldDef::new("tcp.options.wscale.multiplier", "Multiplier", Kind::Dec);
/// Each option is a protocol item in tshark whose value is the option's bytes.
pub static SACK_PERM: FieldDef =
    FieldDef::new("tcp.options.sack_perm", "TCP Option - SACK permitted", Kind::Bytes);
pub static OPT_EOL: FieldDef = FieldDef::new(
    "tcp.options.eol",
    "TCP Option - End of Option List (EOL)",
    Kind::Bytes,
);
pub static OPT_NOP: FieldDef =
    FieldDef::new("tcp.options.nop", "TCP Option - No-Operation (NOP)", Kind::Bytes);
pub static OPT_MSS: FieldDef =
    FieldDef::new("tcp.options.mss", "TCP Option - Maximum segment size", Kind::Bytes);
pub static OPT_WSCALE: FieldDef =
    FieldDef::new("tcp.options.wscale", "TCP Option - Window scale", Kind::Bytes);
pub static OPT_SACK: FieldDef = FieldDef::new("tcp.options.sack", "TCP Option - SACK", Kind::Bytes);
pub static SACK_COUNT: FieldDef =
    FieldDef::new("tcp.options.sack.count", "TCP SACK Count", Kind::Dec);
/// A SACK block's edges, relative (the flow engine's; see [`sack_tree`]).
pub static SACK_LE: FieldDef = FieldDef::new("tcp.options.sack_le", "TCP SACK Left Edge", Kind::Dec);
pub static SACK_RE: FieldDef = FieldDef::new("tcp.options.sack_re", "TCP SACK Right Edge", Kind::Dec);
pub static DSACK_LE: FieldDef =
    FieldDef::new("tcp.options.sack.dsack_le", "TCP D-SACK Left Edge", Kind::Dec);
pub static DSACK_RE: FieldDef =
    FieldDef::new("tcp.options.sack.dsack_re", "TCP D-SACK Right Edge", Kind::Dec);
/// An item, with Wireshark's expert note under it.
pub static DSACK: FieldDef = FieldDef::new("tcp.options.sack.dsack", "D-SACK Sequence", Kind::None);
pub static OPT_TIMESTAMP: FieldDef =
    FieldDef::new("tcp.options.timestamp", "TCP Option - Timestamps", Kind::Bytes);
pub static OPT_TFO: FieldDef =
    FieldDef::new("tcp.options.tfo", "TCP Option - TCP Fast Open", Kind::Bytes);
pub static OPT_EXPERIMENTAL: FieldDef = FieldDef::new(
    "tcp.options.experimental",
    "TCP Option - Experimental",
    Kind::Bytes,
);
pub static OPT_UNKNOWN: FieldDef =
    FieldDef::new("tcp.options.unknown", "TCP Option - Unknown", Kind::Bytes);
pub static UNKNOWN_PAYLOAD: FieldDef =
    FieldDef::new("tcp.options.unknown.payload", "Payload", Kind::Bytes);
pub static TSVAL: FieldDef =
    FieldDef::new("tcp.options.timestamp.tsval", "Timestamp value", Kind::Dec);
pub static TSECR: FieldDef =
    FieldDef::new("tcp.options.timestamp.tsecr", "Timestamp echo reply", Kind::Dec);

// Emitted by the flow engine (src/flow/tcp_analysis.rs): the connection's view of a segment.
pub static COMPLETENESS: FieldDef =
    FieldDef::new("tcp.completeness", "Conversation completeness", Kind::Dec)
        .with_names(completeness_name);
pub static TIME_RELATIVE: FieldDef = FieldDef::new(
    "tcp.time_relative",
    "Time since first frame in this TCP stream",
    Kind::RelTime,
);
pub static TIME_DELTA: FieldDef = FieldDef::new(
    "tcp.time_delta",
    "Time since previous frame in this TCP stream",
    Kind::RelTime,
);
pub static ANALYSIS: FieldDef = FieldDef::new("tcp.analysis", "SEQ/ACK analysis", Kind::None);
pub static ANALYSIS_FLAGS: FieldDef =
    FieldDef::new("tcp.analysis.flags", "TCP Analysis Flags", Kind::None);
pub static ANALYSIS_ACKS_FRAME: FieldDef = FieldDef::new(
    "tcp.analysis.acks_frame",
    "This is an ACK to the segment in frame",
    Kind::Dec,
);
pub static ANALYSIS_ACK_RTT: FieldDef = FieldDef::new(
    "tcp.analysis.ack_rtt",
    "The RTT to ACK the segment was",
    Kind::RelTime,
);
pub static ANALYSIS_INITIAL_RTT: FieldDef =
    FieldDef::new("tcp.analysis.initial_rtt", "iRTT", Kind::RelTime);
pub static ANALYSIS_BYTES_IN_FLIGHT: FieldDef =
    FieldDef::new("tcp.analysis.bytes_in_flight", "Bytes in flight", Kind::Dec);
pub static ANALYSIS_PUSH_BYTES_SENT: FieldDef = FieldDef::new(
    "tcp.analysis.push_bytes_sent",
    "Bytes sent since last PSH flag",
    Kind::Dec,
);
pub static ANALYSIS_RETRANSMISSION: FieldDef = FieldDef::new(
    "tcp.analysis.retransmission",
    "This frame is a (suspected) retransmission",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_FAST_RETRANSMISSION: FieldDef = FieldDef::new(
    "tcp.analysis.fast_retransmission",
    "This frame is a (suspected) fast retransmission",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_SPURIOUS_RETRANSMISSION: FieldDef = FieldDef::new(
    "tcp.analysis.spurious_retransmission",
    "This frame is a (suspected) spurious retransmission",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_OUT_OF_ORDER: FieldDef = FieldDef::new(
    "tcp.analysis.out_of_order",
    "This frame is a (suspected) out-of-order segment",
    Kind::None,
)
.expert(Severity::Warn, Group::Sequence);
pub static ANALYSIS_REUSED_PORTS: FieldDef = FieldDef::new(
    "tcp.analysis.reused_ports",
    "A new tcp session is started with the same ports as an earlier session in this trace",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_LOST_SEGMENT: FieldDef = FieldDef::new(
    "tcp.analysis.lost_segment",
    "Previous segment(s) not captured (common at capture start)",
    Kind::None,
)
.expert(Severity::Warn, Group::Sequence);
pub static ANALYSIS_ACK_LOST_SEGMENT: FieldDef = FieldDef::new(
    "tcp.analysis.ack_lost_segment",
    "ACKed segment that wasn't captured (common at capture start)",
    Kind::None,
)
.expert(Severity::Warn, Group::Sequence);
pub static ANALYSIS_WINDOW_UPDATE: FieldDef =
    FieldDef::new("tcp.analysis.window_update", "TCP window update", Kind::None)
.expert(Severity::Chat, Group::Sequence);
pub static ANALYSIS_WINDOW_FULL: FieldDef = FieldDef::new(
    "tcp.analysis.window_full",
    "TCP window specified by the receiver is now completely full",
    Kind::None,
)
.expert(Severity::Warn, Group::Sequence);
pub static ANALYSIS_KEEP_ALIVE: FieldDef =
    FieldDef::new("tcp.analysis.keep_alive", "TCP keep-alive segment", Kind::None)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_KEEP_ALIVE_ACK: FieldDef = FieldDef::new(
    "tcp.analysis.keep_alive_ack",
    "ACK to a TCP keep-alive segment",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_DUPLICATE_ACK: FieldDef =
    FieldDef::new("tcp.analysis.duplicate_ack", "This is a TCP duplicate ack", Kind::None);
pub static ANALYSIS_DUPLICATE_ACK_NUM: FieldDef =
    FieldDef::new("tcp.analysis.duplicate_ack_num", "Duplicate ACK #", Kind::Dec);
pub static ANALYSIS_DUPLICATE_ACK_FRAME: FieldDef = FieldDef::new(
    "tcp.analysis.duplicate_ack_frame",
    "Duplicate to the ACK in frame",
    Kind::Dec,
);
pub static ANALYSIS_ZERO_WINDOW: FieldDef =
    FieldDef::new("tcp.analysis.zero_window", "TCP Zero Window segment", Kind::None)
.expert(Severity::Warn, Group::Sequence);
pub static ANALYSIS_ZERO_WINDOW_PROBE: FieldDef =
    FieldDef::new("tcp.analysis.zero_window_probe", "TCP Zero Window Probe", Kind::None)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_ZERO_WINDOW_PROBE_ACK: FieldDef = FieldDef::new(
    "tcp.analysis.zero_window_probe_ack",
    "ACK to a TCP Zero Window Probe",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static ANALYSIS_RTO: FieldDef =
    FieldDef::new("tcp.analysis.rto", "The RTO for this segment was", Kind::RelTime);
pub static ANALYSIS_RTO_FRAME: FieldDef = FieldDef::new(
    "tcp.analysis.rto_frame",
    "RTO based on delta from frame",
    Kind::Dec,
);
pub static PAYLOAD: FieldDef = FieldDef::new("tcp.payload", "TCP payload", Kind::Bytes);
/// The length of one PDU a protocol framed out of the stream (tshark's `tcp_dissect_pdus`
/// adds it to the TCP layer, for DNS, HTTP/2 and WebSocket among ours); see [`pdu_size`].
pub static PDU_SIZE: FieldDef = FieldDef::new("tcp.pdu.size", "PDU Size", Kind::Dec);
/// The bytes of a segment that belong to a PDU spanning segments (the flow engine's, in trees).
pub static SEGMENT_DATA: FieldDef = FieldDef::new("tcp.segment_data", "TCP segment data", Kind::Bytes);
/// The items of the `[N Reassembled TCP Segments …]` tree (the flow engine's).
pub static SEGMENT: FieldDef = FieldDef::new("tcp.segment", "TCP Segment", Kind::Dec);
pub static SEGMENT_COUNT: FieldDef = FieldDef::new("tcp.segment.count", "Segment count", Kind::Dec);
pub static REASSEMBLED_LENGTH: FieldDef =
    FieldDef::new("tcp.reassembled.length", "Reassembled TCP length", Kind::Dec);
pub static REASSEMBLED_DATA: FieldDef =
    FieldDef::new("tcp.reassembled.data", "Reassembled TCP Data", Kind::Bytes);
pub static CONNECTION_SYN: FieldDef = FieldDef::new(
    "tcp.connection.syn",
    "Connection establish request (SYN)",
    Kind::None,
)
.expert(Severity::Chat, Group::Sequence);
pub static CONNECTION_SYNACK: FieldDef = FieldDef::new(
    "tcp.connection.synack",
    "Connection establish acknowledge (SYN+ACK)",
    Kind::None,
)
.expert(Severity::Chat, Group::Sequence);
pub static CONNECTION_FIN: FieldDef =
    FieldDef::new("tcp.connection.fin", "Connection finish (FIN)", Kind::None)
        .expert(Severity::Chat, Group::Sequence);
/// The flow engine's notes on each FIN, under the `[TCP Flags: …]` item (see [`closing`]).
pub static CONNECTION_FIN_ACTIVE: FieldDef = FieldDef::new(
    "tcp.connection.fin_active",
    "This frame initiates the connection closing",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static CONNECTION_FIN_PASSIVE: FieldDef = FieldDef::new(
    "tcp.connection.fin_passive",
    "This frame undergoes the connection closing",
    Kind::None,
)
.expert(Severity::Note, Group::Sequence);
pub static CONNECTION_RST: FieldDef =
    FieldDef::new("tcp.connection.rst", "Connection reset (RST)", Kind::None)
        .expert(Severity::Warn, Group::Sequence);

/// Adds `[PDU Size: len]` to the TCP layer of a tree (`-V`, JSON), as tshark's
/// `tcp_dissect_pdus` does for each PDU of the protocols that frame PDUs with it. Call before
/// the PDU's own layer.
pub fn pdu_size(cx: &mut Cx<'_>, len: usize) {
    if cx.wants(&PROTO) && (cx.wants_text() || cx.wants_field(&PDU_SIZE)) {
        cx.sink.layer(&PROTO, Span::new(0, len));
        cx.field(&PDU_SIZE, Span::GENERATED, Value::U(len as u64));
    }
}

/// tshark's note on a FIN: its side began closing the connection (`active`, the first FIN
/// seen, and that side's later ones) or answers the other side's. Drawn under the
/// `[TCP Flags: …]` item, which the flow engine re-opens (it runs after the TCP dissector).
pub fn closing(cx: &mut Cx<'_>, active: bool, span: Span) {
    let def = if active {
        &CONNECTION_FIN_ACTIVE
    } else {
        &CONNECTION_FIN_PASSIVE
    };
    if !cx.wants_field(def) {
        return;
    }
    cx.sink.reopen(&FLAGS_STR);
    cx.expert(def, span, |_| {});
    cx.sink.close();
}

/// The SACK option's edges as a tree shows them, relative to the peer's first sequence number
/// (the flow engine knows it): the option's line lists the blocks, each edge is an item, then
/// the count, and a first block that reports a duplicate (RFC 2883: below the ACK, or inside
/// the second block) is a D-SACK. `blocks` are relative, `dsack` says the first is one.
/// (The edges are these items' only values: `-T fields tcp.options.sack_le` prints them.)
pub fn sack_tree(cx: &mut Cx<'_>, blocks: &[(u32, u32)], dsack: bool, span: Span) {
    if !cx.wants(&PROTO) {
        return;
    }
    cx.sink.reopen(&OPT_SACK);
    cx.append_open(|t| {
        for (l, r) in blocks {
            let _ = write!(t, " {l}-{r}");
        }
    });
    for (l, r) in blocks {
        cx.field_line(&SACK_LE, span, Value::U(u64::from(*l)), |t| {
            let _ = write!(t, "left edge = {l} (relative)");
        });
        cx.field_line(&SACK_RE, span, Value::U(u64::from(*r)), |t| {
            let _ = write!(t, "right edge = {r} (relative)");
        });
    }
    // Without a tree the dissector gave the count already.
    if cx.wants_text() {
        cx.field(&SACK_COUNT, Span::GENERATED, Value::U(blocks.len() as u64));
    }
    if let (true, Some((l, r))) = (dsack, blocks.first()) {
        cx.field_line(&DSACK_LE, Span::GENERATED, Value::U(u64::from(*l)), |t| {
            let _ = write!(t, "D-SACK Left Edge = {l} (relative)");
        });
        cx.field_line(&DSACK_RE, Span::GENERATED, Value::U(u64::from(*r)), |t| {
            let _ = write!(t, "D-SACK Right Edge = {r} (relative)");
        });
        // A text item holding the expert (tshark's JSON keys it by its text); the field is
        // the expert's.
        cx.sink.label(span, "D-SACK Sequence");
        cx.sink.open();
        cx.expert_as(&DSACK, span, Severity::Warn, Group::Sequence, |_| {});
        cx.sink.close();
    }
    cx.sink.close();
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::tcp::{MutableTcpPacket, TcpFlags};

    fn build(data_offset: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
        let hl = usize::from(data_offset) * 4;
        let mut buf = vec![0u8; 20 + options.len() + payload.len()];
        let mut p = MutableTcpPacket::new(&mut buf).unwrap();
        p.set_source(40606);
        p.set_destination(7000);
        p.set_sequence(2474571959);
        p.set_acknowledgement(7);
        p.set_data_offset(data_offset);
        p.set_flags(TcpFlags::SYN | TcpFlags::ACK);
        p.set_window(65483);
        drop(p);
        buf[20..20 + options.len()].copy_from_slice(options);
        let _ = hl;
        buf[20 + options.len()..].copy_from_slice(payload);
        buf
    }

    fn run(buf: &[u8]) -> (Result<Next<'_>, Malformed>, PacketInfo, String) {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = Tcp.dissect(buf, 34, &mut pi, &mut cx);
        (r, pi, cols.info)
    }

    #[rustfmt::skip]
    const SYN_OPTIONS: [u8; 20] = [
        2, 4, 0xff, 0xd7,                   // MSS 65495
        4, 2,                               // SACK permitted
        8, 10, 0, 0, 0, 1, 0, 0, 0, 0,      // timestamps 1, 0
        1,                                  // NOP
        3, 3, 10,                           // window scale 10
    ];

    /// The shortcut for NOP, NOP, Timestamps reads what the walk of any option list reads.
    #[test]
    fn nop_nop_timestamps_read_as_the_walk_reads_them() {
        let ts = [1, 1, 8, 10, 0x80, 0, 0, 1, 0, 0, 0xff, 2];
        let (mut fast, mut walked) = (TcpInfo::default(), TcpInfo::default());
        read_options(&ts, &mut fast);
        walk_options(&ts, &mut walked);
        assert_eq!(fast, walked);
        assert_eq!(fast.timestamps, Some((0x8000_0001, 0xff02)));
        assert_eq!(fast.options_in_order().collect::<Vec<_>>(), [TcpInfo::OPT_TIMESTAMPS]);
    }

    #[test]
    fn deconstruct() {
        let buf = build(10, &SYN_OPTIONS, b"hi");
        let (r, pi, info) = run(&buf);
        assert!(matches!(r, Ok(Next::Done)));
        let Transport::Tcp(t) = pi.transport else { panic!("no tcp") };
        assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (40606, 7000, 2474571959, 7));
        assert_eq!((t.flags, t.window, t.hdr_len, t.seg_len), (0x012, 65483, 40, 2));
        assert_eq!((t.mss, t.wscale, t.sack_perm, t.timestamps), (Some(65495), Some(10), true, Some((1, 0))));
        assert_eq!((pi.payload_start, pi.payload_len), (74, 2));
        assert_eq!(
            info,
            "40606 → 7000 [SYN, ACK] Seq=2474571959 Ack=7 Win=65483 Len=2 MSS=65495 SACK_PERM TSval=1 TSecr=0 WS=1024"
        );
    }

    #[test]
    fn a_quoted_header_names_its_flow_from_sixteen_bytes() {
        // tshark looks a quoted segment's conversation up after reading its window: an ICMP
        // error quoting 8 bytes (RFC 792) gives no stream, one quoting 16 does.
        let buf = build(5, &[], &[]);
        for (n, named) in [(8, false), (15, false), (16, true)] {
            let (mut pi, mut stack, mut sink) =
                (PacketInfo { quoted: true, ..PacketInfo::default() }, ProtoStack::default(), NullSink);
            let mut cx = Cx::new(&mut sink, None, &mut stack);
            assert!(Tcp.dissect(&buf[..n], 62, &mut pi, &mut cx).is_ok());
            assert_eq!(matches!(pi.quoted_transport, Transport::Tcp(_)), named, "{n} bytes");
        }
    }

    #[test]
    fn check_len() {
        let buf = build(5, &[], &[]);
        for n in 0..20 {
            assert!(TcpSegment::new_checked(&buf[..n]).is_err());
        }
        assert!(TcpSegment::new_checked(&build(4, &[], &[])).is_err());
        // Data offset 15 with only 20 bytes captured.
        assert!(TcpSegment::new_checked(&build(15, &[], &[])).is_err());
    }

    #[test]
    fn malformed_options_are_reported_not_fatal() {
        // A length byte of 0, and an option running past the header.
        for opts in [[8u8, 0, 1, 1], [2, 40, 1, 1], [2, 4, 0, 5], [3, 1, 0, 0]] {
            let buf = build(6, &opts, &[]);
            assert!(run(&buf).0.is_ok(), "{opts:?}");
            let items: Vec<_> = Options::new(&opts).collect();
            assert!(items.len() <= 4);
        }
        assert_eq!(Options::new(&[8, 0]).next(), Some(Err(OptionError::BadLength)));
        assert_eq!(Options::new(&[2, 40, 1]).next(), Some(Err(OptionError::PastHeader)));
    }

    #[test]
    fn sack_blocks() {
        #[rustfmt::skip]
        let opts = [1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40];
        let buf = build(10, &opts, &[]);
        let (_, pi, _) = run(&buf);
        let Transport::Tcp(t) = pi.transport else { panic!("no tcp") };
        assert_eq!(t.sack_blocks(), &[(10, 20), (30, 40)]);
    }

    #[test]
    fn info_column() {
        // Timestamps before SACK (Linux's order) and window scale before MSS: the Info column
        // lists options as they occur, as tshark appends each one's summary.
        #[rustfmt::skip]
        let opts = [
            1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6,    // NOP NOP timestamps 5, 6
            1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20,  // NOP NOP SACK 10-20
            3, 3, 7, 2, 4, 5, 0xb4, 4, 2, 0, 0, 0,  // window scale 7, MSS 1460, SACK permitted, EOL
        ];
        let buf = build(14, &opts, &[]);
        let (_, pi, info) = run(&buf);
        assert!(info.ends_with(" Len=0 TSval=5 TSecr=6 SLE=10 SRE=20 WS=128 MSS=1460 SACK_PERM"), "{info}");
        // A TcpInfo built by hand, without an order, keeps a fixed one.
        let Transport::Tcp(mut t) = pi.transport else { panic!("no tcp") };
        t.opt_order = 0;
        let mut s = String::new();
        write_info(&mut s, &t, 0, 0, 0);
        assert!(s.ends_with(" MSS=1460 SACK_PERM SLE=10 SRE=20 TSval=5 TSecr=6 WS=128"), "{s}");
        // A kind seen twice keeps its first place.
        t.opt_order = 0;
        for tag in [TcpInfo::OPT_SACK, TcpInfo::OPT_MSS, TcpInfo::OPT_SACK] {
            t.note_option(tag);
        }
        assert_eq!(t.options_in_order().take(2).collect::<Vec<_>>(), [TcpInfo::OPT_SACK, TcpInfo::OPT_MSS]);
    }

    #[test]
    fn options_cut_by_snaplen_keep_the_fixed_header() {
        use crate::proto::testutil::Collect;
        let buf = build(10, &SYN_OPTIONS, &[]);
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), Collect::default());
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        // The packet claims the whole header: the capture cut it, the options that fit show.
        pi.l4_claimed_len = Some(40);
        let m = Tcp.dissect(&buf[..30], 34, &mut pi, &mut cx).err();
        assert!(m.is_some_and(|m| m.short));
        assert_eq!(sink.get("tcp.hdr_len"), "40");
        assert_eq!(sink.get("tcp.seq_raw"), "2474571959");
        assert_eq!(sink.get("tcp.options.mss_val"), "65495");
        assert!(matches!(pi.transport, Transport::Tcp(t) if t.mss == Some(65495)));
        // The packet itself is shorter than its header: malformed, no options, no segment.
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), Collect::default());
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        let m = Tcp.dissect(&buf[..30], 34, &mut pi, &mut cx).err();
        assert!(m.is_some_and(|m| !m.short));
        assert_eq!(sink.get("tcp.options"), "");
        assert!(matches!(pi.transport, Transport::None));
    }

    #[test]
    fn flag_text() {
        let mut s = String::new();
        flags_str(0x018, &mut s);
        assert_eq!(s, "·······AP···");
    }

    /// A sink noting every field with the items whose subtrees it is in.
    #[derive(Default)]
    struct Nesting {
        open: Vec<&'static str>,
        last: &'static str,
        seen: Vec<(&'static str, Vec<&'static str>)>,
    }

    impl crate::field::FieldSink for Nesting {
        fn wants(&self, _proto: &'static Proto) -> bool {
            true
        }
        fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
        fn field(&mut self, def: &'static FieldDef, _span: Span, _value: Value<'_>) {
            self.seen.push((def.name, self.open.clone()));
            self.last = def.name;
        }
        fn open(&mut self) {
            self.open.push(self.last);
        }
        fn close(&mut self) {
            self.open.pop();
        }
    }

    /// The flags and options subtrees are skipped when no field of their lists is wanted:
    /// every field drawn in them must be on those lists.
    #[test]
    fn subtree_lists_hold_every_item_drawn_in_them() {
        #[rustfmt::skip]
        let common: &[u8] = &[
            2, 4, 5, 0xb4,                          // MSS
            3, 3, 7,                                // window scale
            4, 2,                                   // SACK permitted
            8, 10, 0, 0, 0, 1, 0, 0, 0, 2,          // timestamps
            5, 10, 0, 0, 0, 1, 0, 0, 0, 2,          // SACK, one block
            1,                                      // NOP
            0, 0,                                   // EOL and padding
        ];
        #[rustfmt::skip]
        let rare: &[u8] = &[
            34, 4, 1, 2,                            // TFO cookie
            253, 4, 1, 2,                           // experimental
            99, 3, 1,                               // unknown
            1,                                      // NOP
        ];
        let mut in_flags = 0;
        let mut in_options = 0;
        for options in [common, rare] {
            for flags in [0xfff, TcpInfo::SYN, TcpInfo::FIN, TcpInfo::RST] {
                let mut buf = build(5 + options.len() as u8 / 4, options, b"x");
                buf[12] = (buf[12] & 0xf0) | ((flags >> 8) as u8 & 0x0f);
                buf[13] = flags as u8;
                let (mut pi, mut stack, mut sink) =
                    (PacketInfo::default(), ProtoStack::default(), Nesting::default());
                let mut cx = Cx::new(&mut sink, None, &mut stack);
                assert!(Tcp.dissect(&buf, 34, &mut pi, &mut cx).is_ok());
                for (name, open) in &sink.seen {
                    if open.contains(&FLAGS.name) {
                        assert!(FLAGS_TREE.iter().any(|d| d.name == *name), "{name} in tcp.flags");
                        in_flags += 1;
                    }
                    if open.contains(&OPTIONS.name) {
                        assert!(OPTIONS_TREE.iter().any(|d| d.name == *name), "{name} in tcp.options");
                        in_options += 1;
                    }
                }
            }
        }
        assert!(in_flags > 40 && in_options > 40, "{in_flags} {in_options}");
    }
}
