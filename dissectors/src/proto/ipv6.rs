//! IPv6 (RFC 8200) and its extension headers, each a layer of its own as in Wireshark:
//! hop-by-hop options (`ipv6.hopopts`), routing (`ipv6.routing`), fragment (`ipv6.fraghdr`),
//! destination options (`ipv6.dstopts`) and the authentication header (`ah`, RFC 4302, which
//! also follows IPv4).
//!
//! Every extension header is bound to its number in the `ip.proto` table, so the chain is
//! walked by the registry: each header narrows the transport's claimed length
//! ([`PacketInfo::l4_claimed_len`]) and names the next header. A fragment (non-zero offset or
//! M set) stops here with [`PacketInfo::fragment`] set: the pipeline reassembles and dissects
//! the transport of the whole datagram from the frame that completes it, as Wireshark does.
//!
//! Payload length 0 means a jumbogram (RFC 2675) when the hop-by-hop header carries a Jumbo
//! Payload option of at least 65536; otherwise, as tshark does, the payload is taken to be
//! empty (a TSO capture), so the next layer is malformed.
//!
//! The extension headers' fields go into the `ipv6` layer (tshark's JSON nests them there);
//! `ah` is a layer of its own.
//!
//! Not supported: address decodings (SLAAC MAC, 6to4, Teredo, ISATAP fields), RPL, segment and
//! compact routing header contents (shown as `ipv6.routing.unknown_data`), option contents
//! beyond Pad1/PadN, router alert, jumbo payload and tunnel encapsulation limit.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Address, FragInfo, LinkType, Net, PacketInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail, u8_at};
use crate::proto::eth::ethertype;
use crate::proto::ip::{self, ipproto};
use std::fmt::Write as _;

/// The fixed header.
pub const HEADER_LEN: usize = 40;
/// The smallest payload length a Jumbo Payload option may announce (RFC 2675 §2).
pub const MIN_JUMBO_LEN: u32 = 65_536;

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PLEN: usize = 4;
    pub const NXT: usize = 6;
    pub const HLIM: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// Hop-by-hop and destination option types (IANA "Destination Options and Hop-by-Hop Options").
pub mod opt {
    pub const PAD1: u8 = 0x00;
    pub const PADN: u8 = 0x01;
    pub const TEL: u8 = 0x04;
    pub const ROUTER_ALERT: u8 = 0x05;
    pub const JUMBO: u8 = 0xc2;

    /// Wireshark's name for an option type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            0x00 => "Pad1",
            0x01 => "PadN",
            0x04 => "Tunnel Encapsulation Limit",
            0x05 => "Router Alert",
            0x07 => "CALIPSO",
            0x08 => "SMF_DPD",
            0x0f => "Performance and Diagnostic Metrics",
            0x26 => "Quick-Start",
            0x63 => "RPL Option",
            0x6d => "MPL Option",
            0x8b => "ILNP Nonce",
            0x8c => "Line-Identification Option",
            0xc2 => "Jumbo Payload",
            0xc9 => "Home Address",
            0xee => "IP_DFF",
            0x1e | 0x3e | 0x5e | 0x7e | 0x9e | 0xbe | 0xde | 0xfe => "Experimental",
            _ => return None,
        })
    }
}

/// A view of an IPv6 fixed header whose 40 bytes and version have been checked.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Ipv6Packet<'a> {
    /// Checks a whole fixed header of version 6.
    pub fn new_checked(buf: &'a [u8]) -> Result<Ipv6Packet<'a>, Malformed> {
        if buf.len() < HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "IPv6 header must be exactly 40 bytes")
                .len_from("ipv6.plen"));
        }
        let p = Ipv6Packet { buf };
        if p.version() != 6 {
            return Err(Malformed::new(&PROTO, 0, "Bogus IPv6 version"));
        }
        Ok(p)
    }

    pub fn version(&self) -> u8 {
        u8_at(self.buf, field::VER_TC_FLOW) >> 4
    }
    /// The traffic class (DSCP and ECN).
    pub fn tclass(&self) -> u8 {
        ((be16(self.buf, field::VER_TC_FLOW) >> 4) & 0xff) as u8
    }
    /// The 20-bit flow label.
    pub fn flow(&self) -> u32 {
        be32(self.buf, field::VER_TC_FLOW) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, field::PLEN)
    }
    pub fn next_header(&self) -> u8 {
        u8_at(self.buf, field::NXT)
    }
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.buf, field::HLIM)
    }
    pub fn src(&self) -> [u8; 16] {
        array(self.buf, field::SRC)
    }
    pub fn dst(&self) -> [u8; 16] {
        array(self.buf, field::DST)
    }

    /// The Jumbo Payload length, when the payload length is 0 and a hop-by-hop header starts
    /// with (after padding) a valid Jumbo Payload option (RFC 2675).
    pub fn jumbo_len(&self) -> Option<u32> {
        if self.payload_len() != 0 || self.next_header() != ipproto::HOPOPTS {
            return None;
        }
        let hbh = tail(self.buf, HEADER_LEN);
        let len = (usize::from(u8_at(hbh, 1)) + 1) * 8;
        let mut opts = slice(hbh, 2, len);
        while let Some(&ty) = opts.first() {
            if ty == opt::PAD1 {
                opts = tail(opts, 1);
                continue;
            }
            let olen = usize::from(u8_at(opts, 1));
            if ty == opt::JUMBO && olen == 4 && opts.len() >= 6 {
                let v = be32(opts, 2);
                return (v >= MIN_JUMBO_LEN).then_some(v);
            }
            opts = tail(opts, 2 + olen);
        }
        None
    }

    /// The payload's length as the header claims it (jumbo or payload length field).
    pub fn claimed_payload_len(&self) -> usize {
        match self.jumbo_len() {
            Some(j) => j as usize,
            None => usize::from(self.payload_len()),
        }
    }

    /// The captured payload, cut at the claimed length. Payload length 0 without a jumbo
    /// option is an empty payload, as tshark takes it.
    pub fn payload(&self) -> &'a [u8] {
        slice(self.buf, HEADER_LEN, HEADER_LEN + self.claimed_payload_len())
    }
}

/// The IPv6 dissector.
pub struct Ipv6;

impl Dissector for Ipv6 {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[
            Bind(Table::EtherType, ethertype::IPV6 as u32),
            Bind(Table::IpProto, ipproto::IPV6 as u32),
            Bind(Table::LinkType, LinkType::IPV6.0),
        ]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        if let Some(v) = data.first().map(|b| b >> 4).filter(|v| *v != 6) {
            // tshark's IPv6 dissector rejects the packet (it is shown as data, with no ipv6
            // layer in `frame.protocols`) after adding `ip.version`.
            if cx.wants(&PROTO) {
                cx.sink.layer(&PROTO, Span::new(offset, 1));
                cx.field(&ip::VERSION, Span::new(offset, 1), Value::U(u64::from(v)));
            }
            if let Some(info) = cx.info("0x86dd") {
                info.push_str("IPv6");
            }
            return Ok(Next::Dispatch {
                table: Table::LinkType,
                key: crate::proto::NOT_DISSECTED,
                data,
                offset,
            });
        }
        let emit = cx.layer(&PROTO, Span::new(offset, data.len().min(HEADER_LEN)));
        if emit {
            emit_fixed(data, offset, cx);
        }
        if !pi.quoted {
            if let Some(info) = cx.info("IPv6") {
                info.clear();
            }
        }
        let ip = Ipv6Packet::new_checked(data)?;
        let (src, dst) = (ip.src(), ip.dst());
        let payload = ip.payload();
        let claimed = ip.claimed_payload_len();
        pi.inner_net = Net::V6 { src, dst };
        if !pi.quoted {
            pi.net = Net::V6 { src, dst };
            pi.ttl = ip.hop_limit();
            pi.ip_proto = ip.next_header();
            if pi.net_len.is_none() {
                // The first network layer after the link owns the length (not a tunnel's).
                pi.net_len = u32::try_from(HEADER_LEN + claimed).ok();
            }
            if let Some(cols) = cx.cols.as_deref_mut() {
                cols.src = Address::Ipv6(src);
                cols.dst = Address::Ipv6(dst);
            }
        }
        pi.l4_claimed_len = Some(pi.claimed_within_frame(claimed, offset + HEADER_LEN));
        Ok(Next::Dispatch {
            table: Table::IpProto,
            key: u32::from(ip.next_header()),
            data: payload,
            offset: offset + HEADER_LEN,
        })
    }
}

/// Emits the fixed header's fields that were captured (tshark shows those of a cut header).
fn emit_fixed(d: &[u8], offset: usize, cx: &mut Cx<'_>) {
    let has = |end: usize| d.len() >= end;
    let at = |o: usize, n: usize| Span::new(offset + o, n);
    let u = |v: u64| Value::U(v);
    if !has(1) {
        return;
    }
    let version = u64::from(u8_at(d, 0) >> 4);
    cx.field(&VERSION, at(0, 1), u(version));
    cx.field_hidden(&ip::VERSION, at(0, 1), u(version));
    if has(4) {
        let w = be32(d, 0);
        let tc = (w >> 20) & 0xff;
        cx.field_shown(&TCLASS, at(0, 2), u(u64::from(tc)), |t| {
            ip::write_ds(u8::try_from(tc).unwrap_or(0), t);
        });
        cx.sink.open();
        cx.field(&TCLASS_DSCP, at(0, 2), u(u64::from(tc >> 2)));
        cx.field(&TCLASS_ECN, at(0, 2), u(u64::from(tc & 3)));
        cx.sink.close();
        cx.field(&FLOW, at(1, 3), u(u64::from(w & 0x000f_ffff)));
    }
    if has(6) {
        cx.field(&PLEN, at(field::PLEN, 2), u(u64::from(be16(d, field::PLEN))));
    }
    if has(7) {
        cx.field(&NXT, at(field::NXT, 1), u(u64::from(u8_at(d, field::NXT))));
    }
    if has(8) {
        cx.field(&HLIM, at(field::HLIM, 1), u(u64::from(u8_at(d, field::HLIM))));
    }
    for (o, def, host) in [(field::SRC, &SRC, &SRC_HOST), (field::DST, &DST, &DST_HOST)] {
        if !has(o + 16) {
            return;
        }
        let a: [u8; 16] = array(d, o);
        cx.field(def, at(o, 16), Value::Ipv6(a));
        cx.field(&ADDR, at(o, 16), Value::Ipv6(a));
        // Without name resolution the host name is the address text.
        if cx.wants_field(host) || cx.wants_field(&HOST) {
            let text = std::net::Ipv6Addr::from(a).to_string();
            cx.field(host, at(o, 16), Value::Str(&text));
            cx.field(&HOST, at(o, 16), Value::Str(&text));
        }
    }
}

/// One extension header: its layer name for `frame.protocols`, its length and next header.
struct ExtHeader<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> ExtHeader<'a> {
    /// Checks a header of `len` bytes (at least 2) captured whole.
    fn checked(
        buf: &'a [u8],
        len: usize,
        proto: &'static Proto,
    ) -> Result<ExtHeader<'a>, Malformed> {
        if buf.len() < len.max(2) {
            return Err(
                Malformed::new(proto, buf.len(), "truncated IPv6 extension header")
                    .len_from("ipv6.plen"),
            );
        }
        Ok(ExtHeader { buf, len })
    }

    fn next_header(&self) -> u8 {
        u8_at(self.buf, 0)
    }

    fn body(&self) -> &'a [u8] {
        slice(self.buf, 0, self.len)
    }

    fn rest(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

/// Which extension header a dissector handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    HopOpts,
    Routing,
    DstOpts,
}

impl Ext {
    fn proto(self) -> &'static Proto {
        match self {
            Ext::HopOpts => &HOPOPTS_PROTO,
            Ext::Routing => &ROUTING_PROTO,
            Ext::DstOpts => &DSTOPTS_PROTO,
        }
    }
}

/// Dissects a hop-by-hop, routing or destination options header (length in 8-octet units,
/// not counting the first 8 octets).
fn dissect_ext<'a>(
    ext: Ext,
    data: &'a [u8],
    offset: usize,
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
) -> Result<Next<'a>, Malformed> {
    let proto = ext.proto();
    cx.protocols.push(proto.name);
    let emit = cx.wants(&PROTO);
    let len = (usize::from(u8_at(data, 1)) + 1) * 8;
    let h = ExtHeader::checked(data, len, proto)?;
    let nxt = h.next_header();
    if ext != Ext::Routing {
        // An option running past its header is tshark's exception in the header's layer.
        if let Err(at) = check_options(slice(h.body(), 2, len)) {
            return Err(Malformed::new(proto, 2 + at, "IPv6 option length is bogus")
                .len_from("ipv6.opt.length"));
        }
    }
    if emit {
        cx.sink.layer(&PROTO, Span::new(offset, len));
        let (f_proto, f_nxt, f_len, f_len_oct) = match ext {
            Ext::HopOpts => (&HOPOPTS, &HOPOPTS_NXT, &HOPOPTS_LEN, &HOPOPTS_LEN_OCT),
            Ext::Routing => (&ROUTING, &ROUTING_NXT, &ROUTING_LEN, &ROUTING_LEN_OCT),
            Ext::DstOpts => (&DSTOPTS, &DSTOPTS_NXT, &DSTOPTS_LEN, &DSTOPTS_LEN_OCT),
        };
        let at = |o: usize, n: usize| Span::new(offset + o, n);
        cx.field(f_proto, at(0, len), Value::None);
        cx.sink.open();
        cx.field(f_nxt, at(0, 1), Value::U(u64::from(nxt)));
        cx.field(f_len, at(1, 1), Value::U(u64::from(u8_at(data, 1))));
        cx.field(f_len_oct, Span::GENERATED, Value::U(len as u64));
        match ext {
            Ext::Routing => emit_routing(h.body(), offset, cx),
            Ext::HopOpts | Ext::DstOpts => emit_options(slice(h.body(), 2, len), offset + 2, cx),
        }
        cx.sink.close();
    }
    if let Some(cols) = cx.cols.as_deref_mut().filter(|_| !pi.quoted) {
        // Appended: tshark lists the headers when no later layer rewrites the column.
        cols.protocol = "IPv6";
        let info = &mut cols.info;
        if !info.is_empty() {
            info.push_str(" , ");
        }
        info.push_str(match ext {
            Ext::HopOpts => "IPv6 hop-by-hop options",
            Ext::Routing => "IPv6 routing",
            Ext::DstOpts => "IPv6 destination options",
        });
    }
    Ok(next_after(nxt, h.len, h.rest(), offset, pi))
}

/// Narrows the claimed transport length past an extension header of `len` bytes and names the
/// next header.
fn next_after<'a>(
    nxt: u8,
    len: usize,
    rest: &'a [u8],
    offset: usize,
    pi: &mut PacketInfo,
) -> Next<'a> {
    if let Some(claimed) = pi.l4_claimed_len.as_mut() {
        *claimed = claimed.saturating_sub(u32::try_from(len).unwrap_or(u32::MAX));
    }
    if !pi.quoted {
        pi.ip_proto = nxt;
    }
    Next::Dispatch {
        table: Table::IpProto,
        key: u32::from(nxt),
        data: rest,
        offset: offset + len,
    }
}

/// Checks that every option fits in the option area; the error is the broken option's offset.
fn check_options(mut opts: &[u8]) -> Result<(), usize> {
    let mut at = 0;
    while let Some(&ty) = opts.first() {
        let len = match ty {
            opt::PAD1 => 1,
            _ => 2 + usize::from(u8_at(opts, 1)),
        };
        if opts.len() < len {
            return Err(at);
        }
        opts = tail(opts, len);
        at += len;
    }
    Ok(())
}

/// Walks hop-by-hop / destination options (RFC 8200 §4.2): Pad1 is one byte, the rest
/// type-length-value. The caller checked that they fit ([`check_options`]).
fn emit_options(mut opts: &[u8], mut at: usize, cx: &mut Cx<'_>) {
    while let Some(&ty) = opts.first() {
        let span1 = Span::new(at, 1);
        if ty == opt::PAD1 {
            cx.field_line(&OPT, span1, Value::None, |t| t.push_str("Pad1"));
            cx.sink.open();
            cx.field(&OPT_TYPE, span1, Value::U(u64::from(ty)));
            cx.field(&OPT_PAD1, span1, Value::None);
            cx.sink.close();
            opts = tail(opts, 1);
            at += 1;
            continue;
        }
        let len = usize::from(u8_at(opts, 1));
        if opts.len() < 2 + len {
            cx.sink.text(Span::new(at, opts.len()), "IPv6 option length is bogus");
            return;
        }
        let value = slice(opts, 2, 2 + len);
        cx.field_line(&OPT, Span::new(at, 2 + len), Value::None, |t| {
            t.push_str(opt::name(u64::from(ty)).unwrap_or("Unknown IPv6 Option"));
        });
        cx.sink.open();
        cx.field(&OPT_TYPE, span1, Value::U(u64::from(ty)));
        cx.sink.open();
        cx.field(&OPT_TYPE_ACTION, span1, Value::U(u64::from(ty >> 6)));
        cx.field(&OPT_TYPE_CHANGE, span1, Value::Bool(ty & 0x20 != 0));
        cx.field(&OPT_TYPE_REST, span1, Value::U(u64::from(ty & 0x1f)));
        cx.sink.close();
        cx.field(&OPT_LENGTH, Span::new(at + 1, 1), Value::U(len as u64));
        let vspan = Span::new(at + 2, len);
        match (ty, value) {
            (opt::PADN, v) => cx.field(&OPT_PADN, vspan, Value::Bytes(v)),
            (opt::ROUTER_ALERT, v) if v.len() == 2 => {
                cx.field(&OPT_ROUTER_ALERT, vspan, Value::U(u64::from(be16(v, 0))));
            }
            (opt::JUMBO, v) if v.len() == 4 => {
                cx.field(&OPT_JUMBO, vspan, Value::U(u64::from(be32(v, 0))));
            }
            (opt::TEL, [v]) => cx.field(&OPT_TEL, vspan, Value::U(u64::from(*v))),
            (t, v) if t & 0x1f == 0x1e => cx.field(&OPT_EXPERIMENTAL, vspan, Value::Bytes(v)),
            (_, v) => cx.field(&OPT_UNKNOWN, vspan, Value::Bytes(v)),
        }
        cx.sink.close();
        opts = tail(opts, 2 + len);
        at += 2 + len;
    }
}

/// The routing header's type, segments left and type 0 / type 2 addresses.
fn emit_routing(h: &[u8], offset: usize, cx: &mut Cx<'_>) {
    let at = |o: usize, n: usize| Span::new(offset + o, n);
    let ty = u8_at(h, 2);
    cx.field(&ROUTING_TYPE, at(2, 1), Value::U(u64::from(ty)));
    cx.field(&ROUTING_SEGLEFT, at(3, 1), Value::U(u64::from(u8_at(h, 3))));
    match ty {
        0 => {
            cx.field(&ROUTING_SRC_RESERVED, at(4, 4), Value::Bytes(slice(h, 4, 8)));
            let mut o = 8;
            while o + 16 <= h.len() {
                cx.field(&ROUTING_SRC_ADDR, at(o, 16), Value::Ipv6(array(h, o)));
                o += 16;
            }
        }
        2 if h.len() >= 24 => {
            cx.field(&ROUTING_MIPV6_RESERVED, at(4, 4), Value::Bytes(slice(h, 4, 8)));
            cx.field(&ROUTING_MIPV6_HOME, at(8, 16), Value::Ipv6(array(h, 8)));
        }
        _ => {
            let data = slice(h, 4, h.len());
            if !data.is_empty() {
                cx.field(&ROUTING_UNKNOWN_DATA, at(4, data.len()), Value::Bytes(data));
            }
        }
    }
}

/// The hop-by-hop options header (next header 0).
pub struct HopOpts;

impl Dissector for HopOpts {
    fn proto(&self) -> &'static Proto {
        &HOPOPTS_PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::HOPOPTS as u32)]
    }
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        dissect_ext(Ext::HopOpts, data, offset, pi, cx)
    }
}

/// The routing header (next header 43).
pub struct Routing;

impl Dissector for Routing {
    fn proto(&self) -> &'static Proto {
        &ROUTING_PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::ROUTING as u32)]
    }
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        dissect_ext(Ext::Routing, data, offset, pi, cx)
    }
}

/// The destination options header (next header 60).
pub struct DstOpts;

impl Dissector for DstOpts {
    fn proto(&self) -> &'static Proto {
        &DSTOPTS_PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::DSTOPTS as u32)]
    }
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        dissect_ext(Ext::DstOpts, data, offset, pi, cx)
    }
}

/// The fragment header (next header 44, RFC 8200 §4.5): 8 bytes.
pub struct FragHdr;

/// The fragment header's size.
pub const FRAGHDR_LEN: usize = 8;

impl Dissector for FragHdr {
    fn proto(&self) -> &'static Proto {
        &FRAGHDR_PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::FRAGMENT as u32)]
    }
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        cx.protocols.push(FRAGHDR_PROTO.name);
        let h = ExtHeader::checked(data, FRAGHDR_LEN, &FRAGHDR_PROTO)?;
        let nxt = h.next_header();
        let off_m = be16(data, 2);
        let (frag_off, more, ident) = (off_m >> 3, off_m & 1 != 0, be32(data, 4));
        if cx.wants(&PROTO) {
            cx.sink.layer(&PROTO, Span::new(offset, FRAGHDR_LEN));
            let at = |o: usize, n: usize| Span::new(offset + o, n);
            cx.field(&FRAGHDR, at(0, FRAGHDR_LEN), Value::None);
            cx.sink.open();
            cx.field(&FRAGHDR_NXT, at(0, 1), Value::U(u64::from(nxt)));
            cx.field(&FRAGHDR_RESERVED_OCTET, at(1, 1), Value::U(u64::from(u8_at(data, 1))));
            // -V adds the offset in bytes (`Offset: 181 (1448 bytes)`).
            cx.field_shown(&FRAGHDR_OFFSET, at(2, 2), Value::U(u64::from(frag_off)), |t| {
                let _ = write!(t, "{frag_off} ({} bytes)", u32::from(frag_off) * 8);
            });
            cx.field(&FRAGHDR_RESERVED_BITS, at(2, 2), Value::U(u64::from((off_m >> 1) & 3)));
            cx.field(&FRAGHDR_MORE, at(2, 2), Value::Bool(more));
            cx.field(&FRAGHDR_IDENT, at(4, 4), Value::U(u64::from(ident)));
            cx.sink.close();
        }
        if frag_off == 0 && !more {
            // An atomic fragment (RFC 6946): the payload is whole.
            return Ok(next_after(nxt, FRAGHDR_LEN, h.rest(), offset, pi));
        }
        if let Some(claimed) = pi.l4_claimed_len.as_mut() {
            *claimed = claimed.saturating_sub(FRAGHDR_LEN as u32);
        }
        let rest = h.rest();
        // As for IPv4: only a fragment captured whole is reassembled; otherwise a first
        // fragment's payload is dissected as it stands.
        let whole = pi.l4_claimed_len.is_some_and(|c| rest.len() >= c as usize);
        if frag_off == 0 && !whole {
            return Ok(next_after(nxt, FRAGHDR_LEN, rest, offset, pi));
        }
        if !pi.quoted && whole {
            pi.ip_proto = nxt;
            pi.fragment = Some(FragInfo {
                id: ident,
                offset: u32::from(frag_off) * 8,
                more,
                proto: nxt,
                data_start: u32::try_from(offset + FRAGHDR_LEN).unwrap_or(u32::MAX),
                data_len: u32::try_from(rest.len()).unwrap_or(u32::MAX),
                claimed_len: pi.l4_claimed_len.unwrap_or(0),
            });
            if let Some(info) = cx.info("IPv6") {
                let _ = write!(
                    info,
                    "IPv6 fragment (off={} more={} ident=0x{ident:08x} nxt={nxt})",
                    u32::from(frag_off) * 8,
                    if more { "y" } else { "n" },
                );
            }
            // The defragmenter takes over.
            return Ok(Next::Done);
        }
        // A later fragment not reassembled (quoted in an ICMP error, or cut short): data.
        Ok(Next::Dispatch {
            table: Table::LinkType,
            key: crate::proto::NOT_DISSECTED,
            data: rest,
            offset: offset + FRAGHDR_LEN,
        })
    }
}

/// The authentication header (IP protocol 51, RFC 4302): length in 4-octet units minus 2.
pub struct Ah;

impl Dissector for Ah {
    fn proto(&self) -> &'static Proto {
        &AH_PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::AH as u32)]
    }
    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let len = (usize::from(u8_at(data, 1)) + 2) * 4;
        let emit = cx.layer(&AH_PROTO, Span::new(offset, len.min(data.len())));
        if data.len() < 12 {
            return Err(Malformed::new(&AH_PROTO, data.len(), "truncated AH header"));
        }
        let h = ExtHeader::checked(data, len.max(12), &AH_PROTO)?;
        let nxt = h.next_header();
        if emit {
            let at = |o: usize, n: usize| Span::new(offset + o, n);
            cx.field(&AH_NEXT_HEADER, at(0, 1), Value::U(u64::from(nxt)));
            cx.field(&AH_LENGTH, at(1, 1), Value::U(u64::from(u8_at(data, 1))));
            cx.field(&AH_RESERVED, at(2, 2), Value::Bytes(slice(data, 2, 4)));
            cx.field(&AH_SPI, at(4, 4), Value::U(u64::from(be32(data, 4))));
            cx.field(&AH_SEQUENCE, at(8, 4), Value::U(u64::from(be32(data, 8))));
            let icv = slice(data, 12, len);
            cx.field(&AH_ICV, at(12, icv.len()), Value::Bytes(icv));
        }
        Ok(next_after(nxt, len.max(12), h.rest(), offset, pi))
    }
}

pub static PROTO: Proto = Proto {
    name: "ipv6",
    long_name: "Internet Protocol Version 6",
    fields: &[
        &VERSION,
        &ip::VERSION,
        &TCLASS,
        &TCLASS_DSCP,
        &TCLASS_ECN,
        &FLOW,
        &PLEN,
        &NXT,
        &HLIM,
        &SRC,
        &ADDR,
        &SRC_HOST,
        &HOST,
        &DST,
        &DST_HOST,
        &HOPOPTS,
        &HOPOPTS_NXT,
        &HOPOPTS_LEN,
        &HOPOPTS_LEN_OCT,
        &ROUTING,
        &ROUTING_NXT,
        &ROUTING_LEN,
        &ROUTING_LEN_OCT,
        &ROUTING_TYPE,
        &ROUTING_SEGLEFT,
        &ROUTING_SRC_RESERVED,
        &ROUTING_SRC_ADDR,
        &ROUTING_MIPV6_RESERVED,
        &ROUTING_MIPV6_HOME,
        &ROUTING_UNKNOWN_DATA,
        &DSTOPTS,
        &DSTOPTS_NXT,
        &DSTOPTS_LEN,
        &DSTOPTS_LEN_OCT,
        &FRAGHDR,
        &FRAGHDR_NXT,
        &FRAGHDR_RESERVED_OCTET,
        &FRAGHDR_OFFSET,
        &FRAGHDR_RESERVED_BITS,
        &FRAGHDR_MORE,
        &FRAGHDR_IDENT,
        &OPT,
        &OPT_TYPE,
        &OPT_TYPE_ACTION,
        &OPT_TYPE_CHANGE,
        &OPT_TYPE_REST,
        &OPT_LENGTH,
        &OPT_PAD1,
        &OPT_PADN,
        &OPT_ROUTER_ALERT,
        &OPT_JUMBO,
        &OPT_TEL,
        &OPT_EXPERIMENTAL,
        &OPT_UNKNOWN,
        &FRAGMENTS,
        &FRAGMENT,
        &FRAGMENT_COUNT,
        &REASSEMBLED_LENGTH,
        &REASSEMBLED_DATA,
    ],
    summary: &[("Src", &SRC), ("Dst", &DST)],
};

/// The extension headers' protocols: they name layers in `frame.protocols`; their fields are
/// listed (and emitted) in the `ipv6` layer.
pub static HOPOPTS_PROTO: Proto = Proto {
    name: "ipv6.hopopts",
    long_name: "IPv6 Hop-by-Hop Option",
    fields: &[],
    summary: &[],
};
pub static ROUTING_PROTO: Proto = Proto {
    name: "ipv6.routing",
    long_name: "Routing Header for IPv6",
    fields: &[],
    summary: &[],
};
pub static FRAGHDR_PROTO: Proto = Proto {
    name: "ipv6.fraghdr",
    long_name: "Fragment Header for IPv6",
    fields: &[],
    summary: &[],
};
pub static DSTOPTS_PROTO: Proto = Proto {
    name: "ipv6.dstopts",
    long_name: "Destination Options for IPv6",
    fields: &[],
    summary: &[],
};

pub static AH_PROTO: Proto = Proto {
    name: "ah",
    long_name: "Authentication Header",
    fields: &[
        &AH_NEXT_HEADER,
        &AH_LENGTH,
        &AH_RESERVED,
        &AH_SPI,
        &AH_SEQUENCE,
        &AH_ICV,
    ],
    summary: &[],
};

pub static VERSION: FieldDef = FieldDef::new("ipv6.version", "Version", Kind::Dec).bits(0xf0, 8);
pub static TCLASS: FieldDef = FieldDef::new("ipv6.tclass", "Traffic Class", Kind::Hex(8)).bits(0xff00000, 32);
pub static TCLASS_DSCP: FieldDef = FieldDef::new(
    "ipv6.tclass.dscp",
    "Differentiated Services Codepoint",
    Kind::Dec,
)
.bits(0xfc00000, 32)
.with_names(ip::dscp_name);
pub static TCLASS_ECN: FieldDef = FieldDef::new(
    "ipv6.tclass.ecn",
    "Explicit Congestion Notification",
    Kind::Dec,
)
.bits(0x300000, 32)
.with_names(ip::ecn_name);
pub static FLOW: FieldDef = FieldDef::new("ipv6.flow", "Flow Label", Kind::Hex(6)).bits(0xfffff, 24);
pub static PLEN: FieldDef = FieldDef::new("ipv6.plen", "Payload Length", Kind::Dec);
pub static NXT: FieldDef =
    FieldDef::new("ipv6.nxt", "Next Header", Kind::Dec).with_names(ipproto::name);
pub static HLIM: FieldDef = FieldDef::new("ipv6.hlim", "Hop Limit", Kind::Dec);
pub static SRC: FieldDef = FieldDef::new("ipv6.src", "Source Address", Kind::Ipv6);
pub static DST: FieldDef = FieldDef::new("ipv6.dst", "Destination Address", Kind::Ipv6);
pub static ADDR: FieldDef =
    FieldDef::new("ipv6.addr", "Source or Destination Address", Kind::Ipv6).hidden();
pub static SRC_HOST: FieldDef =
    FieldDef::new("ipv6.src_host", "Source Host", Kind::Str).hidden();
pub static DST_HOST: FieldDef =
    FieldDef::new("ipv6.dst_host", "Destination Host", Kind::Str).hidden();
pub static HOST: FieldDef =
    FieldDef::new("ipv6.host", "Source or Destination Host", Kind::Str).hidden();

pub static HOPOPTS: FieldDef =
    FieldDef::new("ipv6.hopopts", "IPv6 Hop-by-Hop Option", Kind::None).protocol_item();
pub static HOPOPTS_NXT: FieldDef =
    FieldDef::new("ipv6.hopopts.nxt", "Next Header", Kind::Dec).with_names(ipproto::name);
pub static HOPOPTS_LEN: FieldDef = FieldDef::new("ipv6.hopopts.len", "Length", Kind::Dec);
pub static HOPOPTS_LEN_OCT: FieldDef =
    FieldDef::new("ipv6.hopopts.len_oct", "Length", Kind::Dec).unit(" bytes");
pub static ROUTING: FieldDef =
    FieldDef::new("ipv6.routing", "Routing Header for IPv6", Kind::None).protocol_item();
pub static ROUTING_NXT: FieldDef =
    FieldDef::new("ipv6.routing.nxt", "Next Header", Kind::Dec).with_names(ipproto::name);
pub static ROUTING_LEN: FieldDef = FieldDef::new("ipv6.routing.len", "Length", Kind::Dec);
pub static ROUTING_LEN_OCT: FieldDef =
    FieldDef::new("ipv6.routing.len_oct", "Length", Kind::Dec).unit(" bytes");
pub static ROUTING_TYPE: FieldDef = FieldDef::new("ipv6.routing.type", "Type", Kind::Dec);
pub static ROUTING_SEGLEFT: FieldDef =
    FieldDef::new("ipv6.routing.segleft", "Segments Left", Kind::Dec);
pub static ROUTING_SRC_RESERVED: FieldDef =
    FieldDef::new("ipv6.routing.src.reserved", "Reserved", Kind::Bytes);
pub static ROUTING_SRC_ADDR: FieldDef =
    FieldDef::new("ipv6.routing.src.addr", "Address", Kind::Ipv6);
pub static ROUTING_MIPV6_RESERVED: FieldDef =
    FieldDef::new("ipv6.routing.mipv6.reserved", "Reserved", Kind::Bytes);
pub static ROUTING_MIPV6_HOME: FieldDef =
    FieldDef::new("ipv6.routing.mipv6.home_address", "Home Address", Kind::Ipv6);
pub static ROUTING_UNKNOWN_DATA: FieldDef =
    FieldDef::new("ipv6.routing.unknown_data", "Type-Specific Data", Kind::Bytes);
pub static DSTOPTS: FieldDef =
    FieldDef::new("ipv6.dstopts", "Destination Options for IPv6", Kind::None).protocol_item();
pub static DSTOPTS_NXT: FieldDef =
    FieldDef::new("ipv6.dstopts.nxt", "Next Header", Kind::Dec).with_names(ipproto::name);
pub static DSTOPTS_LEN: FieldDef = FieldDef::new("ipv6.dstopts.len", "Length", Kind::Dec);
pub static DSTOPTS_LEN_OCT: FieldDef =
    FieldDef::new("ipv6.dstopts.len_oct", "Length", Kind::Dec).unit(" bytes");
pub static FRAGHDR: FieldDef =
    FieldDef::new("ipv6.fraghdr", "Fragment Header for IPv6", Kind::None).protocol_item();
pub static FRAGHDR_NXT: FieldDef =
    FieldDef::new("ipv6.fraghdr.nxt", "Next header", Kind::Dec).with_names(ipproto::name);
pub static FRAGHDR_RESERVED_OCTET: FieldDef =
    FieldDef::new("ipv6.fraghdr.reserved_octet", "Reserved octet", Kind::Hex(2));
pub static FRAGHDR_OFFSET: FieldDef = FieldDef::new("ipv6.fraghdr.offset", "Offset", Kind::Dec).bits(0xfff8, 16);
pub static FRAGHDR_RESERVED_BITS: FieldDef =
    FieldDef::new("ipv6.fraghdr.reserved_bits", "Reserved bits", Kind::Dec).bits(0x6, 16);
pub static FRAGHDR_MORE: FieldDef =
    FieldDef::new("ipv6.fraghdr.more", "More Fragments", Kind::Bool).bits(0x1, 16).tfs("Yes", "No");
pub static FRAGHDR_IDENT: FieldDef =
    FieldDef::new("ipv6.fraghdr.ident", "Identification", Kind::Hex(8));
pub static OPT: FieldDef = FieldDef::new("ipv6.opt", "IPv6 Option", Kind::None);
pub static OPT_TYPE: FieldDef =
    FieldDef::new("ipv6.opt.type", "Type", Kind::Hex(2)).with_names(opt::name);
pub static OPT_TYPE_ACTION: FieldDef =
    FieldDef::new("ipv6.opt.type.action", "Action", Kind::Dec)
        .bits(0xc0, 8)
        .with_names(opt_action_name);
pub static OPT_TYPE_CHANGE: FieldDef =
    FieldDef::new("ipv6.opt.type.change", "May Change", Kind::Bool).bits(0x20, 8).tfs("Yes", "No");
pub static OPT_TYPE_REST: FieldDef =
    FieldDef::new("ipv6.opt.type.rest", "Low-Order Bits", Kind::Hex(2)).bits(0x1f, 8);
pub static OPT_LENGTH: FieldDef = FieldDef::new("ipv6.opt.length", "Length", Kind::Dec);
pub static OPT_PAD1: FieldDef = FieldDef::new("ipv6.opt.pad1", "Pad1", Kind::None);
pub static OPT_PADN: FieldDef = FieldDef::new("ipv6.opt.padn", "PadN", Kind::Bytes);
pub static OPT_ROUTER_ALERT: FieldDef =
    FieldDef::new("ipv6.opt.router_alert", "Router Alert", Kind::Dec)
        .with_names(router_alert_name);
pub static OPT_JUMBO: FieldDef = FieldDef::new("ipv6.opt.jumbo", "Payload Length", Kind::Dec);
pub static OPT_TEL: FieldDef =
    FieldDef::new("ipv6.opt.tel", "Tunnel Encapsulation Limit", Kind::Dec);
pub static OPT_EXPERIMENTAL: FieldDef =
    FieldDef::new("ipv6.opt.experimental", "Experimental Option", Kind::Bytes);
pub static OPT_UNKNOWN: FieldDef =
    FieldDef::new("ipv6.opt.unknown", "Unknown Option Payload", Kind::Bytes);

/// Wireshark's names of an option type's two action bits (RFC 8200 §4.2).
fn opt_action_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Skip and continue",
        1 => "Discard",
        2 => "Discard and send ICMP Parameter Problem",
        3 => "Discard and send ICMP if not multicast",
        _ => return None,
    })
}

/// Router Alert values (RFC 2711).
fn router_alert_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "MLD",
        1 => "RSVP",
        2 => "Active Networks",
        _ => return None,
    })
}

pub static AH_NEXT_HEADER: FieldDef =
    FieldDef::new("ah.next_header", "Next header", Kind::Dec).with_names(ipproto::name);
pub static AH_LENGTH: FieldDef = FieldDef::new("ah.length", "Length", Kind::Dec);
pub static AH_RESERVED: FieldDef = FieldDef::new("ah.reserved", "Reserved", Kind::Bytes);
pub static AH_SPI: FieldDef = FieldDef::new("ah.spi", "AH SPI", Kind::Hex(8));
pub static AH_SEQUENCE: FieldDef = FieldDef::new("ah.sequence", "AH Sequence", Kind::Dec);
pub static AH_ICV: FieldDef = FieldDef::new("ah.icv", "AH ICV", Kind::Bytes);

/// The items of a reassembled datagram's `[N IPv6 Fragments …]` tree (see
/// [`ip::fragments_tree`]).
pub static FRAGMENTS: FieldDef = FieldDef::new("ipv6.fragments", "IPv6 Fragments", Kind::None);
pub static FRAGMENT: FieldDef = FieldDef::new("ipv6.fragment", "IPv6 Fragment", Kind::Dec);
pub static FRAGMENT_COUNT: FieldDef = FieldDef::new("ipv6.fragment.count", "Fragment count", Kind::Dec);
pub static REASSEMBLED_LENGTH: FieldDef =
    FieldDef::new("ipv6.reassembled.length", "Reassembled IPv6 length", Kind::Dec);
pub static REASSEMBLED_DATA: FieldDef =
    FieldDef::new("ipv6.reassembled.data", "Reassembled IPv6 data", Kind::Bytes);

pub static FRAGMENT_DEFS: ip::FragmentDefs = ip::FragmentDefs {
    proto: &PROTO,
    version: "IPv6",
    fragments: &FRAGMENTS,
    fragment: &FRAGMENT,
    count: &FRAGMENT_COUNT,
    length: &REASSEMBLED_LENGTH,
    data: &REASSEMBLED_DATA,
};


#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use crate::proto::dissect_from;
    use pnet_packet::ip::IpNextHeaderProtocol;
    use pnet_packet::ipv6::MutableIpv6Packet;

    const A1: [u8; 16] = [0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const A2: [u8; 16] = [0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn build(nxt: u8, plen: u16, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; HEADER_LEN + payload.len()];
        let mut p = MutableIpv6Packet::new(&mut buf).unwrap();
        p.set_version(6);
        p.set_traffic_class(0);
        p.set_flow_label(0xde30f);
        p.set_payload_length(plen);
        p.set_next_header(IpNextHeaderProtocol(nxt));
        p.set_hop_limit(64);
        p.set_source(A1.into());
        p.set_destination(A2.into());
        drop(p);
        // Not `set_payload`: pnet asserts the payload fits the length field.
        buf[HEADER_LEN..].copy_from_slice(payload);
        buf
    }

    /// Runs the whole chain from the IPv6 header: returns PacketInfo and frame.protocols.
    fn walk(buf: &[u8]) -> (PacketInfo, Vec<&'static str>, String) {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let next = Next::Dispatch {
            table: Table::EtherType,
            key: 0x86dd,
            data: buf,
            offset: 14,
        };
        dissect_from(next, &mut pi, &mut cx);
        (pi, stack.as_slice().to_vec(), cols.info)
    }

    #[rustfmt::skip]
    const UDP: [u8; 9] = [0x13, 0x88, 0x23, 0x28, 0, 9, 0, 0, b'x'];

    #[test]
    fn deconstruct() {
        let buf = build(17, 9, &UDP);
        let ip = Ipv6Packet::new_checked(&buf).unwrap();
        assert_eq!((ip.version(), ip.tclass(), ip.flow()), (6, 0, 0xde30f));
        assert_eq!((ip.payload_len(), ip.next_header(), ip.hop_limit()), (9, 17, 64));
        assert_eq!((ip.src(), ip.dst()), (A1, A2));
        assert_eq!(ip.payload(), &UDP);
        let (pi, stack, _) = walk(&buf);
        assert_eq!(stack, ["ipv6", "udp"]);
        assert_eq!(pi.net, Net::V6 { src: A1, dst: A2 });
        assert_eq!((pi.ip_proto, pi.net_len, pi.l4_claimed_len), (17, Some(49), Some(9)));
    }

    #[test]
    fn check_len() {
        let buf = build(17, 9, &UDP);
        for n in 0..HEADER_LEN {
            assert!(Ipv6Packet::new_checked(&buf[..n]).is_err());
        }
        let mut v4 = buf.clone();
        v4[0] = 0x45;
        assert!(Ipv6Packet::new_checked(&v4).is_err());
        // A version-4 packet under EtherType 0x86dd is data, as tshark shows it.
        assert_eq!(walk(&v4).1, ["data"]);
    }

    #[test]
    fn truncated_at_every_byte() {
        let hbh = [17, 0, 5, 2, 0, 0, 1, 0];
        let mut payload = hbh.to_vec();
        payload.extend_from_slice(&UDP);
        let buf = build(0, payload.len() as u16, &payload);
        for n in 0..buf.len() {
            let (pi, stack, _) = walk(&buf[..n]);
            assert_eq!(stack.first(), Some(&"ipv6"), "{n}");
            assert_eq!(pi.malformed.is_some(), n < buf.len() - 1, "{n}");
        }
    }

    #[test]
    fn extension_headers_are_walked() {
        #[rustfmt::skip]
        let chain = [
            60, 0, 5, 2, 0, 0, 1, 0,                    // hop-by-hop: router alert, PadN
            51, 0, 4, 1, 3, 0, 0, 0,                    // destination options: TEL 3, Pad1 ×3
            17, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 7,     // AH: SPI 0x1000, seq 7 ...
            0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, // ... ICV
        ];
        let mut payload = chain.to_vec();
        payload.extend_from_slice(&UDP);
        let buf = build(0, payload.len() as u16, &payload);
        let (pi, stack, _) = walk(&buf);
        assert_eq!(stack, ["ipv6", "ipv6.hopopts", "ipv6.dstopts", "ah", "udp"]);
        assert_eq!((pi.ip_proto, pi.l4_claimed_len), (17, Some(9)));
        assert!(pi.malformed.is_none());
    }

    #[test]
    fn fragments_are_flagged_and_atomic_ones_dissected() {
        let frag = |off_m: u16| {
            let mut p = vec![17, 0];
            p.extend_from_slice(&off_m.to_be_bytes());
            p.extend_from_slice(&0xc1e1_36fdu32.to_be_bytes());
            p.extend_from_slice(&UDP);
            build(44, p.len() as u16, &p)
        };
        let (pi, stack, info) = walk(&frag((181 << 3) | 1));
        assert_eq!(stack, ["ipv6", "ipv6.fraghdr"]);
        let f = pi.fragment.unwrap();
        assert_eq!((f.id, f.offset, f.more, f.proto), (0xc1e1_36fd, 1448, true, 17));
        assert_eq!((f.data_start, f.data_len, f.claimed_len), (62, 9, 9));
        assert_eq!(info, "IPv6 fragment (off=1448 more=y ident=0xc1e136fd nxt=17)");
        let (pi, stack, _) = walk(&frag(0));
        assert_eq!(stack, ["ipv6", "ipv6.fraghdr", "udp"]);
        assert!(pi.fragment.is_none());
    }

    #[test]
    fn a_tunnelled_packet_keeps_the_outer_length() {
        // IPv4 in IPv6, the IPv4 total length shorter than the IPv6 payload: the link's
        // trailer is measured from the outer header.
        #[rustfmt::skip]
        let inner = [
            0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 47, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0xee, 0xee,
        ];
        let buf = build(4, inner.len() as u16, &inner);
        let (pi, stack, _) = walk(&buf);
        assert_eq!(stack, ["ipv6", "ip"]);
        assert_eq!(pi.net_len, Some(40 + 22));
    }

    #[test]
    fn malformed_extension_header_past_payload() {
        // Hop-by-hop header claiming 32 bytes with 8 present.
        let buf = build(0, 8, &[17, 3, 0, 0, 0, 0, 0, 0]);
        let (pi, stack, _) = walk(&buf);
        assert_eq!(stack, ["ipv6", "ipv6.hopopts"]);
        assert_eq!(pi.malformed.map(|m| m.proto.name), Some("ipv6.hopopts"));
    }

    #[test]
    fn zero_payload_length_is_empty_unless_jumbo() {
        let (pi, stack, _) = walk(&build(17, 0, &UDP));
        assert_eq!(stack, ["ipv6", "udp"]);
        assert!(pi.malformed.is_some());
        assert_eq!(pi.net_len, Some(40));
        // A jumbogram: payload length 0, hop-by-hop Jumbo Payload 70000.
        let mut p = vec![17, 0, 0xc2, 4];
        p.extend_from_slice(&70_000u32.to_be_bytes());
        p.extend_from_slice(&UDP);
        let buf = build(0, 0, &p);
        let ip = Ipv6Packet::new_checked(&buf).unwrap();
        assert_eq!(ip.jumbo_len(), Some(70_000));
        assert_eq!(ip.payload().len(), p.len());
        let (pi, stack, _) = walk(&buf);
        assert_eq!(stack, ["ipv6", "ipv6.hopopts", "udp"]);
        assert_eq!(pi.l4_claimed_len, Some(70_000 - 8));
        // A jumbo option below 65536 is not a jumbogram.
        let mut small = p.clone();
        small[4..8].copy_from_slice(&100u32.to_be_bytes());
        assert_eq!(Ipv6Packet::new_checked(&build(0, 0, &small)).unwrap().jumbo_len(), None);
    }

    #[test]
    fn a_payload_length_past_the_frame_claims_only_what_the_frame_reports() {
        let buf = build(17, 4000, &UDP);
        let mut pi = PacketInfo { frame_len: 14 + 40 + 9, ..PacketInfo::default() };
        let (mut stack, mut sink) = (ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        assert!(Ipv6.dissect(&buf, 14, &mut pi, &mut cx).is_ok());
        assert_eq!(pi.l4_claimed_len, Some(9));
    }

    #[test]
    fn malformed_option_past_the_header() {
        // PadN claiming 9 bytes inside an 8-byte header: tshark's exception in the header.
        let mut p = vec![17, 0, 1, 9, 0, 0, 0, 0];
        p.extend_from_slice(&UDP);
        let (pi, stack, _) = walk(&build(0, p.len() as u16, &p));
        assert_eq!(stack, ["ipv6", "ipv6.hopopts"]);
        assert_eq!(pi.malformed.map(|m| m.proto.name), Some("ipv6.hopopts"));
    }

    #[test]
    fn options_fields() {
        use crate::proto::testutil::Collect;
        let mut p = vec![17, 0, 5, 2, 0, 0, 1, 0];
        p.extend_from_slice(&UDP);
        let buf = build(0, p.len() as u16, &p);
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), Collect::default());
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        let next = Next::Dispatch { table: Table::EtherType, key: 0x86dd, data: &buf, offset: 14 };
        dissect_from(next, &mut pi, &mut cx);
        assert_eq!(sink.get("ip.version"), "6");
        assert_eq!(sink.get("ipv6.flow"), "0x0de30f");
        assert_eq!(sink.get("ipv6.tclass"), "0x00000000");
        assert_eq!(sink.get("ipv6.nxt"), "0");
        assert_eq!(sink.get("ipv6.hopopts.nxt"), "17");
        assert_eq!(sink.get("ipv6.hopopts.len_oct"), "8");
        assert_eq!(sink.get("ipv6.opt.type"), "0x05,0x01");
        assert_eq!(sink.get("ipv6.opt.router_alert"), "0");
        assert_eq!(sink.get("ipv6.opt.padn"), "<none>");
        assert_eq!(sink.get("ipv6.src_host"), "fd00:10::1");
    }
}
