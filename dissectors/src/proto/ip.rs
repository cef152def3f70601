//! IPv4 (RFC 791), with options walked and fragments flagged for the pipeline's defragmenter.
//!
//! A fragment (MF set or a non-zero offset) stops dissection at this layer: the pipeline
//! collects fragments and dissects the transport of the reassembled datagram from the frame
//! that completes it, as Wireshark does with `ip.defragment` on.
//!
//! Not supported: checksum verification (shown as unverified, Wireshark's default), option
//! contents beyond type and length, name resolution.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Address, FragInfo, Net, PacketInfo};
use crate::proto::bytes::{array, be16, slice, u8_at};
use crate::proto::eth::ethertype;
use std::fmt::Write as _;

/// The smallest header (IHL = 5).
pub const MIN_HEADER_LEN: usize = 20;

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), shared with IPv6.
pub mod ipproto {
    pub const HOPOPTS: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IGMP: u8 = 2;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NONE: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const SCTP: u8 = 132;

    /// Wireshark's name for an IP protocol number.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u8::try_from(v).ok()? {
            HOPOPTS => "IPv6 Hop-by-Hop Option",
            ICMP => "ICMP",
            IGMP => "IGMP",
            IPIP => "IPIP",
            TCP => "TCP",
            UDP => "UDP",
            IPV6 => "IPv6",
            ROUTING => "Routing Header for IPv6",
            FRAGMENT => "Fragment Header for IPv6",
            GRE => "Generic Routing Encapsulation",
            ESP => "Encap Security Payload",
            AH => "Authentication Header",
            ICMPV6 => "ICMPv6",
            NONE => "IPv6 No Next Header",
            DSTOPTS => "Destination Options for IPv6",
            SCTP => "SCTP",
            _ => return None,
        })
    }
}

mod field {
    pub const VER_IHL: usize = 0;
    pub const DSFIELD: usize = 1;
    pub const LEN: usize = 2;
    pub const ID: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTO: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
    pub const OPTIONS: usize = 20;
}

/// A view of an IPv4 header whose version and lengths have been checked.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Ipv4Packet<'a> {
    /// Checks version 4, a header length of at least 20 bytes that was captured whole, and a
    /// total length not shorter than the header (0 is accepted: TSO captures carry it).
    pub fn new_checked(buf: &'a [u8]) -> Result<Ipv4Packet<'a>, Malformed> {
        if buf.len() < MIN_HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated IPv4 header"));
        }
        let p = Ipv4Packet { buf };
        if p.version() != 4 {
            return Err(Malformed::new(&PROTO, 0, "bogus IPv4 version"));
        }
        if p.header_len() < MIN_HEADER_LEN {
            return Err(
                Malformed::new(&PROTO, 0, "bogus IPv4 header length").len_from("ip.hdr_len")
            );
        }
        if p.header_len() > buf.len() {
            return Err(
                Malformed::new(&PROTO, buf.len(), "IPv4 options truncated").len_from("ip.hdr_len")
            );
        }
        if p.total_len() != 0 && usize::from(p.total_len()) < p.header_len() {
            return Err(
                Malformed::new(&PROTO, field::LEN, "total length shorter than header")
                    .len_from("ip.len"),
            );
        }
        Ok(p)
    }

    pub fn version(&self) -> u8 {
        u8_at(self.buf, field::VER_IHL) >> 4
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(u8_at(self.buf, field::VER_IHL) & 0x0f) * 4
    }

    pub fn dsfield(&self) -> u8 {
        u8_at(self.buf, field::DSFIELD)
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buf, field::LEN)
    }

    pub fn ident(&self) -> u16 {
        be16(self.buf, field::ID)
    }

    /// The three flag bits (reserved, DF, MF) as the high bits of a byte, as Wireshark shows.
    pub fn flags(&self) -> u8 {
        u8_at(self.buf, field::FLAGS_FRAG) >> 5
    }

    pub fn dont_frag(&self) -> bool {
        self.flags() & 0b010 != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flags() & 0b001 != 0
    }

    /// Fragment offset in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buf, field::FLAGS_FRAG) & 0x1fff
    }

    pub fn ttl(&self) -> u8 {
        u8_at(self.buf, field::TTL)
    }

    pub fn protocol(&self) -> u8 {
        u8_at(self.buf, field::PROTO)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }

    pub fn src(&self) -> [u8; 4] {
        array(self.buf, field::SRC)
    }

    pub fn dst(&self) -> [u8; 4] {
        array(self.buf, field::DST)
    }

    pub fn options(&self) -> &'a [u8] {
        slice(self.buf, field::OPTIONS, self.header_len())
    }

    /// The captured payload, cut at the total length (Ethernet padding is not payload).
    pub fn payload(&self) -> &'a [u8] {
        let end = match self.total_len() {
            0 => self.buf.len(),
            n => usize::from(n),
        };
        slice(self.buf, self.header_len(), end)
    }

    /// Payload length as the header claims it (the captured part may be shorter).
    pub fn claimed_payload_len(&self) -> usize {
        match self.total_len() {
            0 => self.buf.len().saturating_sub(self.header_len()),
            n => usize::from(n).saturating_sub(self.header_len()),
        }
    }
}

/// The IPv4 dissector.
pub struct Ip;

impl Dissector for Ip {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[
            Bind(Table::EtherType, ethertype::IPV4 as u32),
            Bind(Table::IpProto, ipproto::IPIP as u32),
            Bind(Table::LinkType, crate::pinfo::LinkType::IPV4.0),
        ]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        if cx.wants(&PROTO) {
            // Wireshark emits the version before it checks anything else.
            cx.protocols.push(PROTO.name);
            cx.sink.layer(&PROTO, Span::new(offset, data.len().min(MIN_HEADER_LEN)));
            if let Some(&b) = data.first() {
                cx.field(&VERSION, Span::new(offset, 1), Value::U(u64::from(b >> 4)));
            }
        } else {
            cx.protocols.push(PROTO.name);
        }
        match data.first().map(|b| b >> 4) {
            // tshark's `ip` dissector hands a version-6 packet to IPv6 (`ip:ipv6`).
            Some(6) => {
                return Ok(Next::Dispatch {
                    table: Table::EtherType,
                    key: u32::from(ethertype::IPV6),
                    data,
                    offset,
                })
            }
            // Another version ends the frame here, without a malformed mark.
            Some(v) if v != 4 => {
                if let Some(info) = cx.info("IPv4") {
                    let _ = write!(info, "Bogus IPv4 version ({v}, must be 4)");
                }
                return Ok(Next::Done);
            }
            _ => {}
        }
        let ip = match Ipv4Packet::new_checked(data) {
            Ok(ip) => ip,
            Err(m) => {
                // tshark shows the fields of a cut header that were captured (an ICMP error
                // quoting 10 bytes still shows ip.len, ip.id, ip.ttl, ip.proto).
                if cx.wants(&PROTO) && data.len() < MIN_HEADER_LEN {
                    emit_partial(data, offset, cx);
                }
                return Err(m);
            }
        };
        let (src, dst, proto) = (ip.src(), ip.dst(), ip.protocol());
        pi.inner_net = Net::V4 { src, dst };
        if cx.wants(&PROTO) {
            // A total length of 0 (TSO) is shown as the length the frame reports, as tshark.
            let shown_len = match ip.total_len() {
                0 if pi.quoted || pi.frame_len == 0 => data.len(),
                0 => (pi.frame_len as usize).saturating_sub(offset),
                n => usize::from(n),
            };
            emit_fields(&ip, shown_len, offset, cx);
        }
        let fragmented = ip.more_frags() || ip.frag_offset() != 0;
        let payload = ip.payload();
        let payload_offset = offset + ip.header_len();
        // tshark reassembles a fragment only when its data was captured whole (and the total
        // length is real); otherwise a first fragment's payload is dissected as it stands and
        // a later one is shown as data.
        let whole = ip.total_len() != 0 && payload.len() >= ip.claimed_payload_len();
        let reassemble = fragmented && whole && !pi.quoted;
        if !pi.quoted {
            if ip.total_len() != 0 {
                // The first network layer after the link owns the length (not a tunnel's).
                pi.net_len.get_or_insert(u32::from(ip.total_len()));
            }
            pi.net = Net::V4 { src, dst };
            pi.ttl = ip.ttl();
            pi.ip_proto = proto;
            if reassemble {
                pi.fragment = Some(FragInfo {
                    id: u32::from(ip.ident()),
                    offset: u32::from(ip.frag_offset()) * 8,
                    more: ip.more_frags(),
                    proto,
                    data_start: u32::try_from(payload_offset).unwrap_or(u32::MAX),
                    data_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
                    claimed_len: u32::try_from(ip.claimed_payload_len()).unwrap_or(u32::MAX),
                });
            }
            if let Some(cols) = cx.cols.as_deref_mut() {
                cols.src = Address::Ipv4(src);
                cols.dst = Address::Ipv4(dst);
            }
        }
        if fragmented && (whole || ip.frag_offset() != 0) {
            if !pi.quoted {
                if let Some(info) = cx.info("IPv4") {
                    let name = ipproto::name(u64::from(proto)).unwrap_or("Unknown");
                    let _ = write!(
                        info,
                        "Fragmented IP protocol (proto={name} {proto}, off={}, ID={:04x})",
                        u32::from(ip.frag_offset()) * 8,
                        ip.ident()
                    );
                }
            }
            if reassemble {
                // The pipeline's defragmenter takes over.
                return Ok(Next::Done);
            }
            return Ok(Next::Dispatch {
                table: Table::LinkType,
                key: crate::proto::NOT_DISSECTED,
                data: payload,
                offset: payload_offset,
            });
        }
        pi.l4_claimed_len = Some(pi.claimed_within_frame(ip.claimed_payload_len(), payload_offset));
        Ok(Next::Dispatch {
            table: Table::IpProto,
            key: u32::from(proto),
            data: payload,
            offset: payload_offset,
        })
    }
}

fn emit_fields(ip: &Ipv4Packet<'_>, shown_len: usize, offset: usize, cx: &mut Cx<'_>) {
    let at = |o: usize, len: usize| Span::new(offset + o, len);
    let u = |v: u64| Value::U(v);
    cx.field(&HDR_LEN, at(0, 1), u(ip.header_len() as u64));
    emit_dsfield(ip.dsfield(), at(1, 1), cx);
    cx.field(&LEN, at(2, 2), u(shown_len as u64));
    cx.field(&ID, at(4, 2), u(u64::from(ip.ident())));
    emit_flags(ip.flags(), at(6, 1), cx);
    // -V shows the offset in bytes, -T fields the field's value (eighths).
    let frag = ip.frag_offset();
    cx.field_shown(&FRAG_OFFSET, at(6, 2), u(u64::from(frag)), |t| {
        let _ = write!(t, "{}", u32::from(frag) * 8);
    });
    cx.field(&TTL, at(8, 1), u(u64::from(ip.ttl())));
    cx.field(&PROTO_FIELD, at(9, 1), u(u64::from(ip.protocol())));
    cx.field(&CHECKSUM, at(10, 2), u(u64::from(ip.checksum())));
    cx.field(&CHECKSUM_STATUS, Span::GENERATED, u(CHECKSUM_UNVERIFIED));
    for (o, def, host) in [(12, &SRC, &SRC_HOST), (16, &DST, &DST_HOST)] {
        emit_address(array::<4>(ip.buf, o), def, host, at(o, 4), cx);
    }
    emit_options(ip.options(), offset + field::OPTIONS, cx);
}

/// `0x00 (DSCP: CS0, ECN: Not-ECT)`: how `-V` shows a DS field or IPv6 traffic class.
pub(crate) fn write_ds(ds: u8, t: &mut String) {
    let _ = write!(t, "0x{ds:02x} (DSCP: ");
    match dscp_short(ds >> 2) {
        Some(n) => t.push_str(n),
        None => {
            let _ = write!(t, "Unknown ({})", ds >> 2);
        }
    }
    let ecn = ["Not-ECT", "ECT(1)", "ECT(0)", "CE"];
    let _ = write!(t, ", ECN: {})", ecn.get(usize::from(ds & 3)).unwrap_or(&""));
}

/// The DS field and its two parts; `-V` shows `0x00 (DSCP: CS0, ECN: Not-ECT)`.
fn emit_dsfield(ds: u8, span: Span, cx: &mut Cx<'_>) {
    cx.field_shown(&DSFIELD, span, Value::U(u64::from(ds)), |t| write_ds(ds, t));
    // Outputs wanting neither part skip the subtree (see `Cx::wants_any_field`).
    if !cx.wants_any_field(&[&DSFIELD_DSCP, &DSFIELD_ECN]) {
        return;
    }
    cx.sink.open();
    cx.field(&DSFIELD_DSCP, span, Value::U(u64::from(ds >> 2)));
    cx.field(&DSFIELD_ECN, span, Value::U(u64::from(ds & 3)));
    cx.sink.close();
}

/// The three flag bits (shifted down: 0x2 is DF). `-V` shows `0x2, Don't fragment`: the
/// labels of the set bits, as Wireshark's bitmask items do.
fn emit_flags(flags: u8, span: Span, cx: &mut Cx<'_>) {
    cx.field_shown(&FLAGS, span, Value::U(u64::from(flags)), |t| {
        let _ = write!(t, "0x{flags:x}");
        for (bit, def) in [(0b100, &FLAGS_RB), (0b010, &FLAGS_DF), (0b001, &FLAGS_MF)] {
            if flags & bit != 0 {
                let _ = write!(t, ", {}", def.label);
            }
        }
    });
    if !cx.wants_any_field(&[&FLAGS_RB, &FLAGS_DF, &FLAGS_MF]) {
        return;
    }
    cx.sink.open();
    cx.field(&FLAGS_RB, span, Value::Bool(flags & 0b100 != 0));
    cx.field(&FLAGS_DF, span, Value::Bool(flags & 0b010 != 0));
    cx.field(&FLAGS_MF, span, Value::Bool(flags & 0b001 != 0));
    cx.sink.close();
}

/// Wireshark's short DSCP names (`dscp_short_vals`).
pub(crate) fn dscp_short(v: u8) -> Option<&'static str> {
    Some(match v {
        0 => "CS0",
        1 => "LE",
        8 => "CS1",
        10 => "AF11",
        12 => "AF12",
        14 => "AF13",
        16 => "CS2",
        18 => "AF21",
        20 => "AF22",
        22 => "AF23",
        24 => "CS3",
        26 => "AF31",
        28 => "AF32",
        30 => "AF33",
        32 => "CS4",
        34 => "AF41",
        36 => "AF42",
        38 => "AF43",
        40 => "CS5",
        44 => "VA",
        46 => "EF",
        48 => "CS6",
        56 => "CS7",
        _ => return None,
    })
}

/// Wireshark's DSCP names (`dscp_vals`).
pub(crate) fn dscp_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Default",
        1 => "Lower Effort",
        8 => "Class Selector 1",
        10 => "Assured Forwarding 11",
        12 => "Assured Forwarding 12",
        14 => "Assured Forwarding 13",
        16 => "Class Selector 2",
        18 => "Assured Forwarding 21",
        20 => "Assured Forwarding 22",
        22 => "Assured Forwarding 23",
        24 => "Class Selector 3",
        26 => "Assured Forwarding 31",
        28 => "Assured Forwarding 32",
        30 => "Assured Forwarding 33",
        32 => "Class Selector 4",
        34 => "Assured Forwarding 41",
        36 => "Assured Forwarding 42",
        38 => "Assured Forwarding 43",
        40 => "Class Selector 5",
        44 => "Voice Admit",
        46 => "Expedited Forwarding",
        48 => "Class Selector 6",
        56 => "Class Selector 7",
        _ => return None,
    })
}

/// Wireshark's ECN names (`ecn_vals`).
pub(crate) fn ecn_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Not ECN-Capable Transport",
        1 => "ECN-Capable Transport codepoint '01'",
        2 => "ECN-Capable Transport codepoint '10'",
        3 => "Congestion Experienced",
        _ => return None,
    })
}

/// The fixed-header fields of a header cut short, each when its bytes were captured.
fn emit_partial(d: &[u8], offset: usize, cx: &mut Cx<'_>) {
    let at = |o: usize, len: usize| Span::new(offset + o, len);
    let u = |v: u64| Value::U(v);
    let has = |end: usize| d.len() >= end;
    if has(1) {
        cx.field(&HDR_LEN, at(0, 1), u(u64::from(u8_at(d, 0) & 0x0f) * 4));
    }
    if has(2) {
        emit_dsfield(u8_at(d, 1), at(1, 1), cx);
    }
    if has(4) {
        cx.field(&LEN, at(2, 2), u(u64::from(be16(d, 2))));
    }
    if has(6) {
        cx.field(&ID, at(4, 2), u(u64::from(be16(d, 4))));
    }
    if has(7) {
        emit_flags(u8_at(d, 6) >> 5, at(6, 1), cx);
    }
    if has(8) {
        cx.field(&FRAG_OFFSET, at(6, 2), u(u64::from(be16(d, 6) & 0x1fff)));
    }
    if has(9) {
        cx.field(&TTL, at(8, 1), u(u64::from(u8_at(d, 8))));
    }
    if has(10) {
        cx.field(&PROTO_FIELD, at(9, 1), u(u64::from(u8_at(d, 9))));
    }
    if has(12) {
        cx.field(&CHECKSUM, at(10, 2), u(u64::from(be16(d, 10))));
        cx.field(&CHECKSUM_STATUS, Span::GENERATED, u(CHECKSUM_UNVERIFIED));
    }
    for (o, def, host) in [(12, &SRC, &SRC_HOST), (16, &DST, &DST_HOST)] {
        if !has(o + 4) {
            return;
        }
        emit_address(array::<4>(d, o), def, host, at(o, 4), cx);
    }
}

/// One address: its field (`ip.src` / `ip.dst`), `ip.addr`, and the host names, which are the
/// address text without name resolution (built only when an output may show them).
fn emit_address(
    a: [u8; 4],
    def: &'static FieldDef,
    host: &'static FieldDef,
    span: Span,
    cx: &mut Cx<'_>,
) {
    cx.field(def, span, Value::Ipv4(a));
    cx.field(&ADDR, span, Value::Ipv4(a));
    if cx.wants_field(host) || cx.wants_field(&HOST) {
        let mut text = Vec::with_capacity(15);
        crate::field::write_ipv4(a, &mut text);
        let text = String::from_utf8_lossy(&text);
        cx.field(host, span, Value::Str(&text));
        cx.field(&HOST, span, Value::Str(&text));
    }
}

/// Walks the option list (RFC 791 §3.1): EOL and NOP are one byte, the rest type-length-value.
fn emit_options(mut opts: &[u8], mut at: usize, cx: &mut Cx<'_>) {
    while let Some(&kind) = opts.first() {
        let len = match kind {
            0 => opts.len(), // End of Option List: the rest is padding.
            1 => 1,
            _ => usize::from(u8_at(opts, 1)),
        };
        if kind > 1 && (len < 2 || len > opts.len()) {
            cx.sink.text(Span::new(at, opts.len()), "IPv4 option length is bogus");
            return;
        }
        cx.field(&OPT_TYPE, Span::new(at, 1), Value::U(u64::from(kind)));
        if kind > 1 {
            cx.field(&OPT_LEN, Span::new(at + 1, 1), Value::U(len as u64));
        }
        if kind == 0 {
            return;
        }
        opts = slice(opts, len, opts.len());
        at += len;
    }
}

/// `ip.checksum.status` value for "Unverified" (Wireshark does not check by default).
pub const CHECKSUM_UNVERIFIED: u64 = 2;

/// Names of Wireshark's checksum statuses (`*.checksum.status`).
pub fn checksum_status_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Bad",
        1 => "Good",
        2 => "Unverified",
        3 => "Not present",
        4 => "Illegal",
        _ => return None,
    })
}

pub static PROTO: Proto = Proto {
    name: "ip",
    long_name: "Internet Protocol Version 4",
    fields: &[
        &VERSION,
        &HDR_LEN,
        &DSFIELD,
        &DSFIELD_DSCP,
        &DSFIELD_ECN,
        &LEN,
        &ID,
        &FLAGS,
        &FLAGS_RB,
        &FLAGS_DF,
        &FLAGS_MF,
        &FRAG_OFFSET,
        &TTL,
        &PROTO_FIELD,
        &CHECKSUM,
        &CHECKSUM_STATUS,
        &SRC,
        &DST,
        &ADDR,
        &SRC_HOST,
        &DST_HOST,
        &HOST,
        &OPT_TYPE,
        &OPT_LEN,
        &FRAGMENTS,
        &FRAGMENT,
        &FRAGMENT_COUNT,
        &REASSEMBLED_LENGTH,
        &REASSEMBLED_DATA,
    ],
    summary: &[("Src", &SRC), ("Dst", &DST)],
};

/// The items of a reassembled datagram's `[N IPv4 Fragments …]` tree (the pipeline's
/// defragmenter draws it; see [`fragments_tree`]).
/// FT_BYTES in Wireshark (the datagram), where IPv6's is FT_NONE.
pub static FRAGMENTS: FieldDef = FieldDef::new("ip.fragments", "IPv4 Fragments", Kind::Bytes);
pub static FRAGMENT: FieldDef = FieldDef::new("ip.fragment", "IPv4 Fragment", Kind::Dec);
pub static FRAGMENT_COUNT: FieldDef = FieldDef::new("ip.fragment.count", "Fragment count", Kind::Dec);
pub static REASSEMBLED_LENGTH: FieldDef =
    FieldDef::new("ip.reassembled.length", "Reassembled IPv4 length", Kind::Dec);
pub static REASSEMBLED_DATA: FieldDef =
    FieldDef::new("ip.reassembled.data", "Reassembled IPv4 data", Kind::Bytes);

/// One IP version's fragment-tree fields.
pub struct FragmentDefs {
    pub proto: &'static Proto,
    /// `IPv4` / `IPv6`, as the texts name it.
    pub version: &'static str,
    pub fragments: &'static FieldDef,
    pub fragment: &'static FieldDef,
    pub count: &'static FieldDef,
    pub length: &'static FieldDef,
    pub data: &'static FieldDef,
}

pub static FRAGMENT_DEFS: FragmentDefs = FragmentDefs {
    proto: &PROTO,
    version: "IPv4",
    fragments: &FRAGMENTS,
    fragment: &FRAGMENT,
    count: &FRAGMENT_COUNT,
    length: &REASSEMBLED_LENGTH,
    data: &REASSEMBLED_DATA,
};

/// A reassembled datagram's tree at the end of its IP layer, as tshark draws it:
/// `[3 IPv4 Fragments (4008 bytes): #3(1480), …]` over each fragment's frame and byte range,
/// the count, and the datagram's length and bytes. `frags` are (frame, offset, length) in
/// offset order.
pub fn fragments_tree(cx: &mut Cx<'_>, defs: &FragmentDefs, frags: &[(u64, u32, u32)], datagram: &[u8]) {
    if !cx.wants(defs.proto) {
        return;
    }
    let g = Span::GENERATED;
    cx.sink.layer(defs.proto, Span::new(0, datagram.len()));
    let value = match defs.fragments.kind {
        crate::field::Kind::Bytes => Value::Bytes(datagram),
        _ => Value::None,
    };
    cx.field_line(defs.fragments, g, value, |t| {
        let _ = write!(t, "{} {} Fragments ({} bytes): ", frags.len(), defs.version, datagram.len());
        let pieces = frags.iter().map(|&(f, _, n)| (f, u64::from(n)));
        crate::text::push_frame_list(t, pieces, usize::MAX);
    });
    cx.sink.open();
    for &(f, off, n) in frags {
        cx.field_line(defs.fragment, g, Value::U(f), |t| {
            crate::text::push_frame_piece(t, f, u64::from(off), u64::from(n));
        });
    }
    cx.field(defs.count, g, Value::U(frags.len() as u64));
    cx.field(defs.length, g, Value::U(datagram.len() as u64));
    cx.field(defs.data, g, Value::Bytes(datagram));
    cx.sink.close();
}

pub static VERSION: FieldDef = FieldDef::new("ip.version", "Version", Kind::Dec).bits(0xf0, 8);
pub static HDR_LEN: FieldDef = FieldDef::new("ip.hdr_len", "Header Length", Kind::Dec)
    .bits(0x0f, 8)
    .words();
pub static DSFIELD: FieldDef =
    FieldDef::new("ip.dsfield", "Differentiated Services Field", Kind::Hex(2));
pub static DSFIELD_DSCP: FieldDef = FieldDef::new(
    "ip.dsfield.dscp",
    "Differentiated Services Codepoint",
    Kind::Dec,
)
.bits(0xfc, 8)
.with_names(dscp_name);
pub static DSFIELD_ECN: FieldDef = FieldDef::new(
    "ip.dsfield.ecn",
    "Explicit Congestion Notification",
    Kind::Dec,
)
.bits(0x3, 8)
.with_names(ecn_name);
pub static LEN: FieldDef = FieldDef::new("ip.len", "Total Length", Kind::Dec);
pub static ID: FieldDef = FieldDef::new("ip.id", "Identification", Kind::Hex(4)).hex_dec();
pub static FLAGS: FieldDef = FieldDef::new("ip.flags", "Flags", Kind::Hex(2)).bits(0xe0, 8);
pub static FLAGS_RB: FieldDef = FieldDef::new("ip.flags.rb", "Reserved bit", Kind::Bool).bits(0x80, 8);
pub static FLAGS_DF: FieldDef = FieldDef::new("ip.flags.df", "Don't fragment", Kind::Bool).bits(0x40, 8);
pub static FLAGS_MF: FieldDef = FieldDef::new("ip.flags.mf", "More fragments", Kind::Bool).bits(0x20, 8);
pub static FRAG_OFFSET: FieldDef =
    FieldDef::new("ip.frag_offset", "Fragment Offset", Kind::Dec).bits(0x1fff, 16);
pub static TTL: FieldDef = FieldDef::new("ip.ttl", "Time to Live", Kind::Dec);
pub static PROTO_FIELD: FieldDef =
    FieldDef::new("ip.proto", "Protocol", Kind::Dec).with_names(ipproto::name);
pub static CHECKSUM: FieldDef =
    FieldDef::new("ip.checksum", "Header Checksum", Kind::Hex(4)).unit(" [validation disabled]");
pub static CHECKSUM_STATUS: FieldDef =
    FieldDef::new("ip.checksum.status", "Header checksum status", Kind::Dec)
        .with_names(checksum_status_name)
        .name_only();
pub static SRC: FieldDef = FieldDef::new("ip.src", "Source Address", Kind::Ipv4);
pub static DST: FieldDef = FieldDef::new("ip.dst", "Destination Address", Kind::Ipv4);
pub static ADDR: FieldDef =
    FieldDef::new("ip.addr", "Source or Destination Address", Kind::Ipv4).hidden();
pub static SRC_HOST: FieldDef = FieldDef::new("ip.src_host", "Source Host", Kind::Str).hidden();
pub static DST_HOST: FieldDef =
    FieldDef::new("ip.dst_host", "Destination Host", Kind::Str).hidden();
pub static HOST: FieldDef =
    FieldDef::new("ip.host", "Source or Destination Host", Kind::Str).hidden();
pub static OPT_TYPE: FieldDef = FieldDef::new("ip.opt.type", "Type", Kind::Dec);
pub static OPT_LEN: FieldDef = FieldDef::new("ip.opt.len", "Length", Kind::Dec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::ip::IpNextHeaderProtocols;
    use pnet_packet::ipv4::MutableIpv4Packet;

    fn build(total_len: u16, ihl: u8, payload: &[u8], frag: (u8, u16)) -> Vec<u8> {
        let hl = usize::from(ihl) * 4;
        let mut buf = vec![0u8; hl.max(20) + payload.len()];
        let mut p = MutableIpv4Packet::new(&mut buf).unwrap();
        p.set_version(4);
        p.set_header_length(ihl);
        p.set_total_length(total_len);
        p.set_identification(0x24ac);
        p.set_flags(frag.0);
        p.set_fragment_offset(frag.1);
        p.set_ttl(64);
        p.set_next_level_protocol(IpNextHeaderProtocols::Udp);
        p.set_source([10, 10, 0, 1].into());
        p.set_destination([10, 10, 0, 2].into());
        drop(p);
        buf[hl.max(20)..].copy_from_slice(payload);
        buf
    }

    fn run(buf: &[u8]) -> (Result<Next<'_>, Malformed>, PacketInfo) {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        (Ip.dissect(buf, 14, &mut pi, &mut cx), pi)
    }

    #[test]
    fn deconstruct() {
        let buf = build(24, 5, &[1, 2, 3, 4, 0, 0], (2, 0));
        let ip = Ipv4Packet::new_checked(&buf).unwrap();
        assert_eq!((ip.version(), ip.header_len(), ip.total_len()), (4, 20, 24));
        assert_eq!((ip.ident(), ip.ttl(), ip.protocol()), (0x24ac, 64, 17));
        assert!(ip.dont_frag() && !ip.more_frags());
        assert_eq!(ip.src(), [10, 10, 0, 1]);
        // Ethernet padding after the total length is not payload.
        assert_eq!(ip.payload(), &[1, 2, 3, 4]);
    }

    #[test]
    fn check_len() {
        let buf = build(20, 5, &[], (0, 0));
        for n in 0..20 {
            assert!(Ipv4Packet::new_checked(&buf[..n]).is_err());
        }
        // Header length below 20, or options past the captured bytes, or total < header.
        assert!(Ipv4Packet::new_checked(&build(20, 4, &[], (0, 0))).is_err());
        assert!(Ipv4Packet::new_checked(&build(24, 6, &[], (0, 0))[..22]).is_err());
        assert!(Ipv4Packet::new_checked(&build(19, 5, &[], (0, 0))).is_err());
        let mut v6 = build(20, 5, &[], (0, 0));
        v6[0] = 0x65;
        assert!(Ipv4Packet::new_checked(&v6).is_err());
    }

    #[test]
    fn dispatches_payload_with_frame_offset() {
        let buf = build(28, 5, &[9; 8], (0, 0));
        let (next, pi) = run(&buf);
        match next.unwrap() {
            Next::Dispatch { table, key, data, offset } => {
                assert_eq!((table, key, data.len(), offset), (Table::IpProto, 17, 8, 34));
            }
            Next::Done => panic!("expected dispatch"),
        }
        assert_eq!(pi.net, Net::V4 { src: [10, 10, 0, 1], dst: [10, 10, 0, 2] });
        assert!(pi.fragment.is_none());
    }

    #[test]
    fn fragments_are_flagged_not_dissected() {
        let buf = build(28, 5, &[9; 8], (1, 185));
        let (next, pi) = run(&buf);
        assert!(matches!(next, Ok(Next::Done)));
        let f = pi.fragment.unwrap();
        assert_eq!((f.id, f.offset, f.more, f.proto, f.data_len), (0x24ac, 1480, true, 17, 8));
    }

    #[test]
    fn fragments_cut_short_are_not_reassembled() {
        // A first fragment whose data was not all captured: its payload is dissected.
        let buf = build(28, 5, &[9; 8], (1, 0));
        let (next, pi) = run(&buf[..24]);
        assert!(matches!(next, Ok(Next::Dispatch { table: Table::IpProto, key: 17, .. })));
        assert!(pi.fragment.is_none());
        // A later one is data.
        let buf = build(28, 5, &[9; 8], (0, 185));
        let (next, pi) = run(&buf[..24]);
        assert!(matches!(next, Ok(Next::Dispatch { table: Table::LinkType, .. })));
        assert!(pi.fragment.is_none());
    }

    #[test]
    fn zero_total_length_shows_the_frame_length() {
        use crate::proto::testutil::Collect;
        let buf = build(0, 5, &[9; 8], (2, 0));
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), Collect::default());
        pi.frame_len = 14 + 28;
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        assert!(Ip.dissect(&buf, 14, &mut pi, &mut cx).is_ok());
        assert_eq!(sink.get("ip.len"), "28");
        assert_eq!(sink.get("ip.flags"), "0x02");
    }

    #[test]
    fn a_total_length_past_the_frame_claims_only_what_the_frame_reports() {
        // tshark's transport length is its tvb's reported length: the IP datagram's, cut to
        // the frame on the wire (a SYN-ACK claiming 4148 bytes in a 66-byte frame has none).
        let buf = build(4148, 5, &[0; 32], (2, 0));
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        pi.frame_len = 14 + 52;
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        assert!(Ip.dissect(&buf, 14, &mut pi, &mut cx).is_ok());
        assert_eq!(pi.l4_claimed_len, Some(32));
        // A frame cut by the snap length still reports its full length.
        let buf = build(1500, 5, &[0; 32], (2, 0));
        pi = PacketInfo::default();
        pi.frame_len = 14 + 1500;
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        assert!(Ip.dissect(&buf, 14, &mut pi, &mut cx).is_ok());
        assert_eq!(pi.l4_claimed_len, Some(1480));
    }

    #[test]
    fn malformed_options_do_not_stop_dissection() {
        // IHL 6 with an option claiming 40 bytes.
        let mut buf = build(24, 6, &[], (0, 0));
        buf[20] = 0x44;
        buf[21] = 40;
        assert!(run(&buf).0.is_ok());
    }
}
