//! ICMPv6 (RFC 4443) with neighbour discovery (RFC 4861: router and neighbour solicitation
//! and advertisement, redirect, and their options), multicast listener discovery (RFC 2710
//! MLDv1, RFC 3810 MLDv2) and the RDNSS option (RFC 8106).
//!
//! The checksum is verified over the IPv6 pseudo-header ([`PacketInfo::inner_net`]) when the
//! message was captured whole, as tshark does by default. Error messages quote the offending
//! packet, dissected with [`crate::proto::dissect_quoted`] like ICMP's.
//!
//! Echo requests and replies are paired by the flow engine, as for ICMP: this layer records
//! the echo header in [`PacketInfo::echo`], and the engine adds `icmpv6.resp_to`,
//! `icmpv6.resptime` and "(request in N)" to replies (`icmpv6.resp_in` needs tshark's second
//! pass and is never shown, as in `tshark` without `-2`).
//!
//! Not supported: router renumbering, node information, RPL, mobile IPv6 and SEND messages
//! and options (shown as type and length).

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{write_ether, FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Echo, Net, PacketInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail, u8_at};
use crate::proto::eth::ethertype;
use crate::proto::icmp::internet_checksum;
use crate::proto::ip::ipproto;
use std::fmt::Write as _;

/// Type, code and checksum.
pub const MIN_LEN: usize = 4;
/// Options walked in one message: more are not shown (a 64 KiB message holds at most 8192
/// 8-byte options; this bounds the work on hostile input well above real use).
pub const MAX_OPTIONS: usize = 256;

/// ICMPv6 types (IANA "ICMPv6 Parameters").
pub mod ty {
    pub const UNREACH: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const MLD_QUERY: u8 = 130;
    pub const MLD_REPORT: u8 = 131;
    pub const MLD_DONE: u8 = 132;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    pub const MLDV2_REPORT: u8 = 143;

    /// Wireshark's name for a type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "Destination Unreachable",
            2 => "Packet Too Big",
            3 => "Time Exceeded",
            4 => "Parameter Problem",
            100 | 101 | 200 | 201 => "Private experimentation",
            127 => "Reserved for expansion of ICMPv6 error messages",
            128 => "Echo (ping) request",
            129 => "Echo (ping) reply",
            130 => "Multicast Listener Query",
            131 => "Multicast Listener Report",
            132 => "Multicast Listener Done",
            133 => "Router Solicitation",
            134 => "Router Advertisement",
            135 => "Neighbor Solicitation",
            136 => "Neighbor Advertisement",
            137 => "Redirect",
            138 => "Router Renumbering",
            139 => "ICMP Node Information Query",
            140 => "ICMP Node Information Response",
            141 => "Inverse Neighbor Discovery Solicitation Message",
            142 => "Inverse Neighbor Discovery Advertisement Message",
            143 => "Multicast Listener Report Message v2",
            144 => "Home Agent Address Discovery Request Message",
            145 => "Home Agent Address Discovery Reply Message",
            146 => "Mobile Prefix Solicitation",
            147 => "Mobile Prefix Advertisement",
            148 => "Certification Path Solicitation Message",
            149 => "Certification Path Advertisement Message",
            150 => "Experimental Mobility Protocols",
            151 => "Multicast Router Advertisement",
            152 => "Multicast Router Solicitation",
            153 => "Multicast Router Termination",
            154 => "FMIPv6 Messages",
            155 => "RPL Control Message",
            156 => "ILNPv6 Locator Update Message",
            157 => "Duplicate Address Request",
            158 => "Duplicate Address Confirmation",
            159 => "MPL Control Message",
            160 => "Extended Echo request",
            161 => "Extended Echo reply",
            255 => "Reserved for expansion of ICMPv6 informational messages",
            _ => return None,
        })
    }
}

/// The Info column's code text for the error types, as tshark writes it.
fn code_text(t: u8, code: u8, out: &mut String) {
    let name = match (t, code) {
        (ty::UNREACH, 0) => "no route to destination",
        (ty::UNREACH, 1) => "Administratively prohibited",
        (ty::UNREACH, 2) => "Beyond scope of source address",
        (ty::UNREACH, 3) => "Address unreachable",
        (ty::UNREACH, 4) => "Port unreachable",
        (ty::UNREACH, 5) => "Source address failed ingress/egress policy",
        (ty::UNREACH, 6) => "Reject route to destination",
        (ty::UNREACH, 7) => "Error in Source Routing Header",
        (ty::UNREACH, _) => "Unknown",
        (ty::TIME_EXCEEDED, 0) => "hop limit exceeded in transit",
        (ty::TIME_EXCEEDED, 1) => "fragment reassembly time exceeded",
        (ty::PARAM_PROBLEM, 0) => "erroneous header field encountered",
        (ty::PARAM_PROBLEM, 1) => "unrecognized Next Header type encountered",
        (ty::PARAM_PROBLEM, 2) => "unrecognized IPv6 option encountered",
        (ty::PARAM_PROBLEM, 3) => "IPv6 First Fragment has incomplete IPv6 Header Chain",
        (ty::TIME_EXCEEDED | ty::PARAM_PROBLEM, c) => {
            let _ = write!(out, " (Unknown ({c}))");
            return;
        }
        _ => return,
    };
    let _ = write!(out, " ({name})");
}

/// Neighbour discovery option types (IANA "IPv6 Neighbor Discovery Option Formats").
pub mod opt {
    pub const SRC_LINKADDR: u8 = 1;
    pub const TARGET_LINKADDR: u8 = 2;
    pub const PREFIX: u8 = 3;
    pub const REDIRECTED: u8 = 4;
    pub const MTU: u8 = 5;
    pub const NONCE: u8 = 14;
    pub const RDNSS: u8 = 25;

    /// Wireshark's name for an option type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "Source link-layer address",
            2 => "Target link-layer address",
            3 => "Prefix information",
            4 => "Redirected header",
            5 => "MTU",
            6 => "NBMA Shortcut Limit Option",
            7 => "Advertisement Interval",
            8 => "Home Agent Information",
            11 => "CGA",
            12 => "RSA Signature",
            13 => "Timestamp",
            14 => "Nonce",
            24 => "Route Information",
            25 => "Recursive DNS Server",
            31 => "DNS Search List",
            37 => "Captive-Portal",
            38 => "PREF64 Option",
            _ => return None,
        })
    }
}

/// A view of an ICMPv6 message whose first 4 bytes have been checked.
#[derive(Debug, Clone, Copy)]
pub struct Icmpv6Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Icmpv6Packet<'a> {
    /// Checks type, code and checksum are present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Icmpv6Packet<'a>, Malformed> {
        if buf.len() < MIN_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated ICMPv6 header"));
        }
        Ok(Icmpv6Packet { buf })
    }
    pub fn msg_type(&self) -> u8 {
        u8_at(self.buf, 0)
    }
    pub fn code(&self) -> u8 {
        u8_at(self.buf, 1)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 2)
    }
}

/// The checksum over the IPv6 pseudo-header (RFC 8200 §8.1) and `msg`: 0 when correct.
pub fn checksum_v6(src: &[u8; 16], dst: &[u8; 16], msg: &[u8]) -> u16 {
    let mut sum = 0u64;
    for a in [src, dst] {
        for pair in a.chunks_exact(2) {
            sum += u64::from(be16(pair, 0));
        }
    }
    let len = msg.len() as u64;
    sum += (len >> 16) + (len & 0xffff) + u64::from(ipproto::ICMPV6);
    internet_checksum(msg, sum)
}

/// The ICMPv6 dissector.
pub struct Icmpv6;

impl Dissector for Icmpv6 {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::ICMPV6 as u32)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, data.len()));
        let info_on = !pi.quoted && cx.shows_columns();
        if info_on {
            let _ = cx.info("ICMPv6");
        }
        let p = Icmpv6Packet::new_checked(data)?;
        let (t, code) = (p.msg_type(), p.code());
        let claimed = pi.l4_claimed_len.map_or(data.len(), |c| c as usize);
        let status = match pi.inner_net {
            Net::V6 { src, dst } if !pi.quoted && data.len() >= claimed => {
                match checksum_v6(&src, &dst, slice(data, 0, claimed)) {
                    0 => 1,
                    _ => 0,
                }
            }
            _ => 2,
        };
        let at = |o: usize, n: usize| Span::new(offset + o, n);
        let u = |v: u64| Value::U(v);
        if emit {
            cx.field(&TYPE, at(0, 1), u(u64::from(t)));
            // `Code: 3 (Port unreachable)`: the number first, where tshark names the code.
            cx.field_shown(&CODE, at(1, 1), u(u64::from(code)), |s| {
                let _ = write!(s, "{code}");
                code_text(t, code, s);
            });
            let sum = p.checksum();
            cx.field_shown(&CHECKSUM, at(2, 2), u(u64::from(sum)), |s| {
                let _ = write!(s, "0x{sum:04x} {}", crate::proto::icmp::checksum_note(status));
            });
            cx.field(&CHECKSUM_STATUS, Span::GENERATED, u(status));
        }
        let mut info = String::new();
        if info_on {
            match ty::name(u64::from(t)) {
                Some(n) => info.push_str(n),
                None => {
                    let _ = write!(info, "Unknown ({t})");
                }
            }
            code_text(t, code, &mut info);
        }
        let needs = |n: usize| -> Result<(), Malformed> {
            match data.len() >= n {
                true => Ok(()),
                false => Err(Malformed::new(&PROTO, data.len(), "truncated ICMPv6 message")),
            }
        };
        // Writes the Info column so far, also before a malformed return.
        macro_rules! check {
            ($n:expr) => {
                if let Err(m) = needs($n) {
                    set_info(cx, info_on, &info);
                    return Err(m);
                }
            };
        }
        let mut options_at = None;
        match t {
            ty::UNREACH | ty::TIME_EXCEEDED | ty::PACKET_TOO_BIG | ty::PARAM_PROBLEM => {
                check!(8);
                if emit {
                    match t {
                        ty::PACKET_TOO_BIG => cx.field(&MTU, at(4, 4), u(u64::from(be32(data, 4)))),
                        ty::PARAM_PROBLEM => {
                            cx.field(&POINTER, at(4, 4), u(u64::from(be32(data, 4))));
                        }
                        _ => cx.field(&RESERVED, at(4, 4), Value::Bytes(slice(data, 4, 8))),
                    }
                }
                set_info(cx, info_on, &info);
                let quoted = tail(data, 8);
                // One level of quoting, as for ICMP: nested errors cannot recurse without bound.
                if !quoted.is_empty() && !pi.quoted {
                    let q = Next::Dispatch {
                        table: Table::EtherType,
                        key: u32::from(ethertype::IPV6),
                        data: quoted,
                        offset: offset + 8,
                    };
                    crate::proto::dissect_quoted(q, pi, cx);
                }
                return Ok(Next::Done);
            }
            ty::ECHO_REQUEST | ty::ECHO_REPLY => {
                check!(8);
                let (id, seq) = (be16(data, 4), be16(data, 6));
                if emit {
                    cx.field(&ECHO_IDENTIFIER, at(4, 2), u(u64::from(id)));
                    cx.field(&ECHO_SEQUENCE, at(6, 2), u(u64::from(seq)));
                }
                if info_on {
                    let _ = write!(info, " id=0x{id:04x}, seq={seq}, hop limit={}", pi.ttl);
                }
                if !pi.quoted {
                    pi.echo = Some(Echo {
                        v6: true,
                        reply: t == ty::ECHO_REPLY,
                        id,
                        seq,
                        checksum: p.checksum(),
                    });
                }
                // The echo data sits inside the ICMPv6 tree, as tshark draws it.
                let rest = tail(data, 8);
                cx.sink.nest();
                crate::proto::data::dissect(rest, offset + 8, cx);
                cx.sink.unnest();
            }
            ty::MLD_QUERY | ty::MLD_REPORT | ty::MLD_DONE => {
                check!(24);
                let v2 = t == ty::MLD_QUERY && data.len() >= 28;
                if emit {
                    let delay = u(u64::from(be16(data, 4)));
                    match v2 {
                        true => cx.field(&MLD_MAX_RESPONSE_CODE, at(4, 2), delay),
                        false => cx.field(&MLD_MAX_RESPONSE_DELAY, at(4, 2), delay),
                    }
                    cx.field(&RESERVED, at(6, 2), Value::Bytes(slice(data, 6, 8)));
                    cx.field(&MLD_MULTICAST_ADDRESS, at(8, 16), Value::Ipv6(array(data, 8)));
                    if v2 {
                        emit_mldv2_query(data, offset, cx);
                    }
                }
            }
            ty::MLDV2_REPORT => {
                check!(8);
                let n = be16(data, 6);
                if emit {
                    cx.field(&RESERVED, at(4, 2), Value::Bytes(slice(data, 4, 6)));
                    cx.field(&MLDR_NB_MCAST_RECORDS, at(6, 2), u(u64::from(n)));
                    emit_mldv2_records(data, offset, n, cx);
                }
            }
            ty::ROUTER_SOLICIT => {
                check!(8);
                if emit {
                    cx.field(&RESERVED, at(4, 4), Value::Bytes(slice(data, 4, 8)));
                }
                options_at = Some(8);
            }
            ty::ROUTER_ADVERT => {
                check!(16);
                if emit {
                    let flags = u8_at(data, 5);
                    let bit = |m: u8| Value::Bool(flags & m != 0);
                    cx.field(&RA_CUR_HOP_LIMIT, at(4, 1), u(u64::from(u8_at(data, 4))));
                    cx.field(&RA_FLAG, at(5, 1), u(u64::from(flags)));
                    cx.sink.open();
                    cx.field(&RA_FLAG_M, at(5, 1), bit(0x80));
                    cx.field(&RA_FLAG_O, at(5, 1), bit(0x40));
                    cx.field(&RA_FLAG_H, at(5, 1), bit(0x20));
                    cx.field(&RA_FLAG_PRF, at(5, 1), u(u64::from((flags >> 3) & 3)));
                    cx.field(&RA_FLAG_P, at(5, 1), bit(0x04));
                    cx.field(&RA_FLAG_RSV, at(5, 1), u(u64::from(flags & 3)));
                    cx.sink.close();
                    cx.field(&RA_ROUTER_LIFETIME, at(6, 2), u(u64::from(be16(data, 6))));
                    cx.field(&RA_REACHABLE_TIME, at(8, 4), u(u64::from(be32(data, 8))));
                    cx.field(&RA_RETRANS_TIMER, at(12, 4), u(u64::from(be32(data, 12))));
                }
                options_at = Some(16);
            }
            ty::NEIGHBOR_SOLICIT => {
                check!(24);
                let target: [u8; 16] = array(data, 8);
                if emit {
                    cx.field(&RESERVED, at(4, 4), Value::Bytes(slice(data, 4, 8)));
                    cx.field(&NS_TARGET, at(8, 16), Value::Ipv6(target));
                }
                if info_on {
                    let _ = write!(info, " for {}", std::net::Ipv6Addr::from(target));
                }
                options_at = Some(24);
            }
            ty::NEIGHBOR_ADVERT => {
                check!(24);
                let flags = be32(data, 4);
                let target: [u8; 16] = array(data, 8);
                if emit {
                    let bit = |m: u32| Value::Bool(flags & m != 0);
                    cx.field_shown(&NA_FLAG, at(4, 4), u(u64::from(flags)), |s| {
                        let _ = write!(s, "0x{flags:08x}");
                        let named = [
                            (0x8000_0000, &NA_FLAG_R),
                            (0x4000_0000, &NA_FLAG_S),
                            (0x2000_0000, &NA_FLAG_O),
                        ];
                        for (m, def) in named {
                            if flags & m != 0 {
                                let _ = write!(s, ", {}", def.label);
                            }
                        }
                    });
                    cx.sink.open();
                    cx.field(&NA_FLAG_R, at(4, 4), bit(0x8000_0000));
                    cx.field(&NA_FLAG_S, at(4, 4), bit(0x4000_0000));
                    cx.field(&NA_FLAG_O, at(4, 4), bit(0x2000_0000));
                    cx.field(&NA_FLAG_RSV, at(4, 4), u(u64::from(flags & 0x1fff_ffff)));
                    cx.sink.close();
                    cx.field(&NA_TARGET, at(8, 16), Value::Ipv6(target));
                }
                if info_on {
                    let names = [(0x8000_0000, "rtr"), (0x4000_0000, "sol"), (0x2000_0000, "ovr")];
                    let set: Vec<&str> = names
                        .iter()
                        .filter(|(m, _)| flags & m != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    let flags_text = if set.is_empty() {
                        "none".to_string()
                    } else {
                        set.join(", ")
                    };
                    let _ = write!(info, " {} ({flags_text})", std::net::Ipv6Addr::from(target));
                }
                options_at = Some(24);
            }
            ty::REDIRECT => {
                check!(40);
                if emit {
                    cx.field(&RESERVED, at(4, 4), Value::Bytes(slice(data, 4, 8)));
                    cx.field(&RD_TARGET, at(8, 16), Value::Ipv6(array(data, 8)));
                    cx.field(&RD_DESTINATION, at(24, 16), Value::Ipv6(array(data, 24)));
                }
                options_at = Some(40);
            }
            _ => {}
        }
        if let Some(o) = options_at {
            walk_options(tail(data, o), offset + o, emit, &mut info, info_on, pi, cx);
        }
        set_info(cx, info_on, &info);
        Ok(Next::Done)
    }
}

/// Writes `info` as the Info column (Protocol "ICMPv6").
fn set_info(cx: &mut Cx<'_>, on: bool, info: &str) {
    if on {
        if let Some(out) = cx.info("ICMPv6") {
            out.push_str(info);
        }
    }
}

/// MLDv2 query fields after the multicast address (RFC 3810 §5.1).
fn emit_mldv2_query(data: &[u8], offset: usize, cx: &mut Cx<'_>) {
    let at = |o: usize, n: usize| Span::new(offset + o, n);
    let flags = u8_at(data, 24);
    cx.field(&MLD_FLAG, at(24, 1), Value::U(u64::from(flags)));
    cx.sink.open();
    cx.field(&MLD_FLAG_S, at(24, 1), Value::Bool(flags & 0x08 != 0));
    cx.field(&MLD_FLAG_QRV, at(24, 1), Value::U(u64::from(flags & 0x07)));
    cx.field(&MLD_FLAG_RESERVED, at(24, 1), Value::U(u64::from(flags >> 4)));
    cx.sink.close();
    cx.field(&MLD_QQI, at(25, 1), Value::U(u64::from(u8_at(data, 25))));
    let n = be16(data, 26);
    cx.field(&MLD_NB_SOURCES, at(26, 2), Value::U(u64::from(n)));
    for i in 0..usize::from(n) {
        let o = 28 + 16 * i;
        if data.len() < o + 16 {
            break;
        }
        cx.field(&MLD_SOURCE_ADDRESS, at(o, 16), Value::Ipv6(array(data, o)));
    }
}

/// MLDv2 report records (RFC 3810 §5.2).
fn emit_mldv2_records(data: &[u8], offset: usize, n: u16, cx: &mut Cx<'_>) {
    let at = |o: usize, len: usize| Span::new(offset + o, len);
    let mut o = 8;
    for _ in 0..n {
        if data.len() < o + 20 {
            return;
        }
        let aux_len = usize::from(u8_at(data, o + 1)) * 4;
        let nsrc = usize::from(be16(data, o + 2));
        let len = 20 + 16 * nsrc + aux_len;
        let (rtype, maddr) = (u8_at(data, o), std::net::Ipv6Addr::from(array::<16>(data, o + 4)));
        cx.field_line(&MLDR_MAR, at(o, len), Value::None, |s| {
            let name = mar_record_type_name(u64::from(rtype)).unwrap_or("Unknown");
            let _ = write!(s, "Multicast Address Record {name}: {maddr}");
        });
        cx.sink.open();
        cx.field(&MLDR_MAR_RECORD_TYPE, at(o, 1), Value::U(u64::from(u8_at(data, o))));
        cx.field(&MLDR_MAR_AUX_DATA_LEN, at(o + 1, 1), Value::U(u64::from(u8_at(data, o + 1))));
        cx.field(&MLDR_MAR_NB_SOURCES, at(o + 2, 2), Value::U(nsrc as u64));
        cx.field(&MLDR_MAR_MULTICAST_ADDRESS, at(o + 4, 16), Value::Ipv6(array(data, o + 4)));
        for i in 0..nsrc {
            let s = o + 20 + 16 * i;
            if data.len() < s + 16 {
                break;
            }
            cx.field(&MLDR_MAR_SOURCE_ADDRESS, at(s, 16), Value::Ipv6(array(data, s)));
        }
        let aux = slice(data, o + 20 + 16 * nsrc, o + len);
        if !aux.is_empty() {
            cx.field(&MLDR_MAR_AUX_DATA, at(o + 20 + 16 * nsrc, aux.len()), Value::Bytes(aux));
        }
        cx.sink.close();
        o += len;
    }
}

/// Walks neighbour discovery options (RFC 4861 §4.6): type, length in 8-octet units, value.
/// A zero length stops the walk with a note (tshark's expert), as does an option past the end.
fn walk_options(
    mut opts: &[u8],
    mut at: usize,
    emit: bool,
    info: &mut String,
    info_on: bool,
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
) {
    for _ in 0..MAX_OPTIONS {
        let Some(&ty) = opts.first() else { return };
        let units = usize::from(u8_at(opts, 1));
        let len = units * 8;
        let span = |o: usize, n: usize| Span::new(at + o, n);
        if emit {
            let optspan = span(0, len.clamp(2, opts.len().max(2)));
            cx.field_line(&OPT, optspan, Value::None, |s| {
                let name = opt::name(u64::from(ty)).unwrap_or("Unknown");
                let _ = write!(s, "ICMPv6 Option ({name}");
                if matches!(ty, opt::SRC_LINKADDR | opt::TARGET_LINKADDR) && len == 8 && opts.len() >= 8 {
                    let mut raw = Vec::with_capacity(18);
                    write_ether(array(opts, 2), &mut raw);
                    let _ = write!(s, " : {}", String::from_utf8_lossy(&raw));
                }
                s.push(')');
            });
            cx.sink.open();
            cx.field(&OPT_TYPE, span(0, 1), Value::U(u64::from(ty)));
            if opts.len() >= 2 {
                cx.field_shown(&OPT_LENGTH, span(1, 1), Value::U(units as u64), |s| {
                    let _ = write!(s, "{units} ({len} bytes)");
                });
            }
        }
        if len == 0 || opts.len() < len {
            if emit {
                let why = match len {
                    0 => "Invalid option length (Zero)",
                    _ => "Option runs past the end of the message",
                };
                cx.sink.text(Span::new(at, opts.len()), why);
                cx.sink.close();
            }
            return;
        }
        let v = slice(opts, 2, len);
        match ty {
            opt::SRC_LINKADDR | opt::TARGET_LINKADDR => {
                // Ethernet addresses fill the 6 bytes after type and length.
                let addr = if len == 8 { slice(v, 0, 6) } else { v };
                if emit {
                    let named = match ty {
                        opt::SRC_LINKADDR => &OPT_SRC_LINKADDR,
                        _ => &OPT_TARGET_LINKADDR,
                    };
                    cx.field(&OPT_LINKADDR, span(2, addr.len()), Value::Bytes(addr));
                    cx.field(named, span(2, addr.len()), Value::Bytes(addr));
                }
                if info_on {
                    info.push_str(if ty == opt::SRC_LINKADDR { " from " } else { " is at " });
                    let mut raw = Vec::with_capacity(18);
                    match addr.len() {
                        6 => write_ether(array(addr, 0), &mut raw),
                        _ => crate::field::write_colon_hex(addr, &mut raw),
                    }
                    info.push_str(&String::from_utf8_lossy(&raw));
                }
            }
            opt::PREFIX if len == 32 && emit => {
                let flags = u8_at(v, 1);
                let bit = |m: u8| Value::Bool(flags & m != 0);
                cx.field(&OPT_PREFIX_LENGTH, span(2, 1), Value::U(u64::from(u8_at(v, 0))));
                cx.field(&OPT_PREFIX_FLAG, span(3, 1), Value::U(u64::from(flags)));
                cx.sink.open();
                cx.field(&OPT_PREFIX_FLAG_L, span(3, 1), bit(0x80));
                cx.field(&OPT_PREFIX_FLAG_A, span(3, 1), bit(0x40));
                cx.field(&OPT_PREFIX_FLAG_R, span(3, 1), bit(0x20));
                cx.field(&OPT_PREFIX_FLAG_RESERVED, span(3, 1), Value::U(u64::from(flags & 0x1f)));
                cx.sink.close();
                cx.field(&OPT_PREFIX_VALID, span(4, 4), Value::U(u64::from(be32(v, 2))));
                cx.field(&OPT_PREFIX_PREFERRED, span(8, 4), Value::U(u64::from(be32(v, 6))));
                cx.field(&OPT_RESERVED, span(12, 4), Value::None);
                cx.field(&OPT_PREFIX, span(16, 16), Value::Ipv6(array(v, 14)));
            }
            opt::MTU if len == 8 && emit => {
                cx.field(&OPT_RESERVED, span(2, 2), Value::None);
                cx.field(&OPT_MTU, span(4, 4), Value::U(u64::from(be32(v, 2))));
            }
            opt::NONCE if emit => cx.field(&OPT_NONCE, span(2, v.len()), Value::Bytes(v)),
            opt::RDNSS if len >= 8 && emit => {
                cx.field(&OPT_RESERVED, span(2, 2), Value::None);
                cx.field(&OPT_RDNSS_LIFETIME, span(4, 4), Value::U(u64::from(be32(v, 2))));
                let mut o = 6;
                while o + 16 <= v.len() {
                    cx.field(&OPT_RDNSS, span(2 + o, 16), Value::Ipv6(array(v, o)));
                    o += 16;
                }
            }
            opt::REDIRECTED if len >= 8 => {
                if emit {
                    cx.field(&OPT_RESERVED, span(2, 6), Value::None);
                }
                let packet = slice(v, 6, v.len());
                if !packet.is_empty() && !pi.quoted {
                    if emit {
                        cx.field(&OPT_REDIRECTED_PACKET, span(8, packet.len()), Value::None);
                    }
                    let q = Next::Dispatch {
                        table: Table::EtherType,
                        key: u32::from(ethertype::IPV6),
                        data: packet,
                        offset: at + 8,
                    };
                    crate::proto::dissect_quoted(q, pi, cx);
                }
            }
            _ => {}
        }
        if emit {
            cx.sink.close();
        }
        opts = tail(opts, len);
        at += len;
    }
}

fn type_name(v: u64) -> Option<&'static str> {
    ty::name(v)
}

pub static PROTO: Proto = Proto {
    name: "icmpv6",
    long_name: "Internet Control Message Protocol v6",
    fields: &[
        &TYPE,
        &CODE,
        &CHECKSUM,
        &CHECKSUM_STATUS,
        &RESERVED,
        &MTU,
        &POINTER,
        &ECHO_IDENTIFIER,
        &ECHO_SEQUENCE,
        &RESP_IN,
        &RESP_TO,
        &RESPTIME,
        &MLD_MAX_RESPONSE_DELAY,
        &MLD_MAX_RESPONSE_CODE,
        &MLD_MULTICAST_ADDRESS,
        &MLD_FLAG,
        &MLD_FLAG_S,
        &MLD_FLAG_QRV,
        &MLD_FLAG_RESERVED,
        &MLD_QQI,
        &MLD_NB_SOURCES,
        &MLD_SOURCE_ADDRESS,
        &MLDR_NB_MCAST_RECORDS,
        &MLDR_MAR,
        &MLDR_MAR_RECORD_TYPE,
        &MLDR_MAR_AUX_DATA_LEN,
        &MLDR_MAR_NB_SOURCES,
        &MLDR_MAR_MULTICAST_ADDRESS,
        &MLDR_MAR_SOURCE_ADDRESS,
        &MLDR_MAR_AUX_DATA,
        &RA_CUR_HOP_LIMIT,
        &RA_FLAG,
        &RA_FLAG_M,
        &RA_FLAG_O,
        &RA_FLAG_H,
        &RA_FLAG_PRF,
        &RA_FLAG_P,
        &RA_FLAG_RSV,
        &RA_ROUTER_LIFETIME,
        &RA_REACHABLE_TIME,
        &RA_RETRANS_TIMER,
        &NS_TARGET,
        &NA_FLAG,
        &NA_FLAG_R,
        &NA_FLAG_S,
        &NA_FLAG_O,
        &NA_FLAG_RSV,
        &NA_TARGET,
        &RD_TARGET,
        &RD_DESTINATION,
        &OPT,
        &OPT_TYPE,
        &OPT_LENGTH,
        &OPT_RESERVED,
        &OPT_LINKADDR,
        &OPT_SRC_LINKADDR,
        &OPT_TARGET_LINKADDR,
        &OPT_PREFIX_LENGTH,
        &OPT_PREFIX_FLAG,
        &OPT_PREFIX_FLAG_L,
        &OPT_PREFIX_FLAG_A,
        &OPT_PREFIX_FLAG_R,
        &OPT_PREFIX_FLAG_RESERVED,
        &OPT_PREFIX_VALID,
        &OPT_PREFIX_PREFERRED,
        &OPT_PREFIX,
        &OPT_MTU,
        &OPT_NONCE,
        &OPT_RDNSS_LIFETIME,
        &OPT_RDNSS,
        &OPT_REDIRECTED_PACKET,
    ],
    summary: &[],
};

pub static TYPE: FieldDef = FieldDef::new("icmpv6.type", "Type", Kind::Dec).with_names(type_name);
pub static CODE: FieldDef = FieldDef::new("icmpv6.code", "Code", Kind::Dec);
pub static CHECKSUM: FieldDef = FieldDef::new("icmpv6.checksum", "Checksum", Kind::Hex(4));
pub static CHECKSUM_STATUS: FieldDef =
    FieldDef::new("icmpv6.checksum.status", "Checksum Status", Kind::Dec)
        .with_names(crate::proto::ip::checksum_status_name)
        .name_only();
pub static RESERVED: FieldDef = FieldDef::new("icmpv6.reserved", "Reserved", Kind::Bytes);
pub static MTU: FieldDef = FieldDef::new("icmpv6.mtu", "MTU", Kind::Dec);
pub static POINTER: FieldDef = FieldDef::new("icmpv6.pointer", "Pointer", Kind::Dec);
pub static ECHO_IDENTIFIER: FieldDef =
    FieldDef::new("icmpv6.echo.identifier", "Identifier", Kind::Hex(4));
pub static ECHO_SEQUENCE: FieldDef =
    FieldDef::new("icmpv6.echo.sequence_number", "Sequence", Kind::Dec);
/// The reply to this request: set by tshark's second pass only (`-2`), so never shown here.
pub static RESP_IN: FieldDef = FieldDef::new("icmpv6.resp_in", "Response In", Kind::Dec);
/// The request this reply answers (the flow engine's pairing).
pub static RESP_TO: FieldDef = FieldDef::new("icmpv6.resp_to", "Response To", Kind::Dec);
/// Milliseconds from the request to this reply.
pub static RESPTIME: FieldDef =
    FieldDef::new("icmpv6.resptime", "Response Time", Kind::Double).unit(" ms");
pub static MLD_MAX_RESPONSE_DELAY: FieldDef = FieldDef::new(
    "icmpv6.mld.maximum_response_delay",
    "Maximum Response Delay [ms]",
    Kind::Dec,
);
pub static MLD_MAX_RESPONSE_CODE: FieldDef = FieldDef::new(
    "icmpv6.mld.maximum_response_code",
    "Maximum Response Code",
    Kind::Dec,
);
pub static MLD_MULTICAST_ADDRESS: FieldDef =
    FieldDef::new("icmpv6.mld.multicast_address", "Multicast Address", Kind::Ipv6);
pub static MLD_FLAG: FieldDef = FieldDef::new("icmpv6.mld.flag", "Flag", Kind::Hex(2));
pub static MLD_FLAG_S: FieldDef =
    FieldDef::new("icmpv6.mld.flag.s", "Suppress Router-Side Processing", Kind::Bool).bits(0x8, 8);
pub static MLD_FLAG_QRV: FieldDef =
    FieldDef::new("icmpv6.mld.flag.qrv", "QRV (Querier's Robustness Variable)", Kind::Dec).bits(0x7, 8);
pub static MLD_FLAG_RESERVED: FieldDef =
    FieldDef::new("icmpv6.mld.flag.reserved", "Reserved", Kind::Dec).bits(0xf0, 8);
pub static MLD_QQI: FieldDef =
    FieldDef::new("icmpv6.mld.qqi", "QQIC (Querier's Query Interval Code)", Kind::Dec);
pub static MLD_NB_SOURCES: FieldDef =
    FieldDef::new("icmpv6.mld.nb_sources", "Number of Sources", Kind::Dec);
pub static MLD_SOURCE_ADDRESS: FieldDef =
    FieldDef::new("icmpv6.mld.source_address", "Source Address", Kind::Ipv6);
pub static MLDR_NB_MCAST_RECORDS: FieldDef = FieldDef::new(
    "icmpv6.mldr.nb_mcast_records",
    "Number of Multicast Address Records",
    Kind::Dec,
);
pub static MLDR_MAR: FieldDef =
    FieldDef::new("icmpv6.mldr.mar", "Multicast Address Record", Kind::None);
pub static MLDR_MAR_RECORD_TYPE: FieldDef =
    FieldDef::new("icmpv6.mldr.mar.record_type", "Record Type", Kind::Dec)
        .with_names(mar_record_type_name);

/// MLDv2 record types (RFC 3810 §5.2.12).
fn mar_record_type_name(v: u64) -> Option<&'static str> {
    Some(match v {
        1 => "Mode is include",
        2 => "Mode is exclude",
        3 => "Changed to include",
        4 => "Changed to exclude",
        5 => "Allow new sources",
        6 => "Block old sources",
        _ => return None,
    })
}
pub static MLDR_MAR_AUX_DATA_LEN: FieldDef =
    FieldDef::new("icmpv6.mldr.mar.aux_data_len", "Aux Data Len", Kind::Dec);
pub static MLDR_MAR_NB_SOURCES: FieldDef =
    FieldDef::new("icmpv6.mldr.mar.nb_sources", "Number of Sources", Kind::Dec);
pub static MLDR_MAR_MULTICAST_ADDRESS: FieldDef = FieldDef::new(
    "icmpv6.mldr.mar.multicast_address",
    "Multicast Address",
    Kind::Ipv6,
);
pub static MLDR_MAR_SOURCE_ADDRESS: FieldDef =
    FieldDef::new("icmpv6.mldr.mar.source_address", "Source Address", Kind::Ipv6);
pub static MLDR_MAR_AUX_DATA: FieldDef =
    FieldDef::new("icmpv6.mldr.mar.auxiliary_data", "Aux Data", Kind::Bytes);
pub static RA_CUR_HOP_LIMIT: FieldDef =
    FieldDef::new("icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", Kind::Dec);
pub static RA_FLAG: FieldDef = FieldDef::new("icmpv6.nd.ra.flag", "Flags", Kind::Hex(2));
pub static RA_FLAG_M: FieldDef =
    FieldDef::new("icmpv6.nd.ra.flag.m", "Managed address configuration", Kind::Bool).bits(0x80, 8);
pub static RA_FLAG_O: FieldDef =
    FieldDef::new("icmpv6.nd.ra.flag.o", "Other configuration", Kind::Bool).bits(0x40, 8);
pub static RA_FLAG_H: FieldDef = FieldDef::new("icmpv6.nd.ra.flag.h", "Home Agent", Kind::Bool).bits(0x20, 8);
pub static RA_FLAG_PRF: FieldDef =
    FieldDef::new("icmpv6.nd.ra.flag.prf", "Prf (Default Router Preference)", Kind::Dec).bits(0x18, 8);
pub static RA_FLAG_P: FieldDef = FieldDef::new("icmpv6.nd.ra.flag.p", "Proxy", Kind::Bool).bits(0x4, 8);
pub static RA_FLAG_RSV: FieldDef = FieldDef::new("icmpv6.nd.ra.flag.rsv", "Reserved", Kind::Dec).bits(0x3, 8);
pub static RA_ROUTER_LIFETIME: FieldDef =
    FieldDef::new("icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", Kind::Dec);
pub static RA_REACHABLE_TIME: FieldDef =
    FieldDef::new("icmpv6.nd.ra.reachable_time", "Reachable time (ms)", Kind::Dec);
pub static RA_RETRANS_TIMER: FieldDef =
    FieldDef::new("icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", Kind::Dec);
pub static NS_TARGET: FieldDef =
    FieldDef::new("icmpv6.nd.ns.target_address", "Target Address", Kind::Ipv6);
pub static NA_FLAG: FieldDef = FieldDef::new("icmpv6.nd.na.flag", "Flags", Kind::Hex(8));
pub static NA_FLAG_R: FieldDef = FieldDef::new("icmpv6.nd.na.flag.r", "Router", Kind::Bool).bits(0x80000000, 32);
pub static NA_FLAG_S: FieldDef = FieldDef::new("icmpv6.nd.na.flag.s", "Solicited", Kind::Bool).bits(0x40000000, 32);
pub static NA_FLAG_O: FieldDef = FieldDef::new("icmpv6.nd.na.flag.o", "Override", Kind::Bool).bits(0x20000000, 32);
pub static NA_FLAG_RSV: FieldDef = FieldDef::new("icmpv6.nd.na.flag.rsv", "Reserved", Kind::Dec).bits(0x1fffffff, 32);
pub static NA_TARGET: FieldDef =
    FieldDef::new("icmpv6.nd.na.target_address", "Target Address", Kind::Ipv6);
pub static RD_TARGET: FieldDef =
    FieldDef::new("icmpv6.nd.rd.target_address", "Target Address", Kind::Ipv6);
/// Wireshark 4.0's name for the redirect's destination address (sic: `rd.na`).
pub static RD_DESTINATION: FieldDef = FieldDef::new(
    "icmpv6.rd.na.destination_address",
    "Destination Address",
    Kind::Ipv6,
);
pub static OPT: FieldDef = FieldDef::new("icmpv6.opt", "ICMPv6 Option", Kind::None);
pub static OPT_TYPE: FieldDef =
    FieldDef::new("icmpv6.opt.type", "Type", Kind::Dec).with_names(opt::name);
pub static OPT_LENGTH: FieldDef = FieldDef::new("icmpv6.opt.length", "Length", Kind::Dec);
pub static OPT_RESERVED: FieldDef = FieldDef::new("icmpv6.opt.reserved", "Reserved", Kind::None);
pub static OPT_LINKADDR: FieldDef =
    FieldDef::new("icmpv6.opt.linkaddr", "Link-layer address", Kind::ColonBytes);
pub static OPT_SRC_LINKADDR: FieldDef = FieldDef::new(
    "icmpv6.opt.src_linkaddr",
    "Source Link-layer address",
    Kind::ColonBytes,
)
.hidden();
pub static OPT_TARGET_LINKADDR: FieldDef = FieldDef::new(
    "icmpv6.opt.target_linkaddr",
    "Target Link-layer address",
    Kind::ColonBytes,
)
.hidden();
pub static OPT_PREFIX_LENGTH: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.length", "Prefix Length", Kind::Dec);
pub static OPT_PREFIX_FLAG: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.flag", "Flag", Kind::Hex(2));
pub static OPT_PREFIX_FLAG_L: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.flag.l", "On-link flag(L)", Kind::Bool).bits(0x80, 8);
pub static OPT_PREFIX_FLAG_A: FieldDef = FieldDef::new(
    "icmpv6.opt.prefix.flag.a",
    "Autonomous address-configuration flag(A)",
    Kind::Bool,
).bits(0x40, 8);
pub static OPT_PREFIX_FLAG_R: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.flag.r", "Router address flag(R)", Kind::Bool).bits(0x20, 8);
pub static OPT_PREFIX_FLAG_RESERVED: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.flag.reserved", "Reserved", Kind::Dec).bits(0x1f, 8);
pub static OPT_PREFIX_VALID: FieldDef =
    FieldDef::new("icmpv6.opt.prefix.valid_lifetime", "Valid Lifetime", Kind::Dec);
pub static OPT_PREFIX_PREFERRED: FieldDef = FieldDef::new(
    "icmpv6.opt.prefix.preferred_lifetime",
    "Preferred Lifetime",
    Kind::Dec,
);
pub static OPT_PREFIX: FieldDef = FieldDef::new("icmpv6.opt.prefix", "Prefix", Kind::Ipv6);
pub static OPT_MTU: FieldDef = FieldDef::new("icmpv6.opt.mtu", "MTU", Kind::Dec);
pub static OPT_NONCE: FieldDef = FieldDef::new("icmpv6.opt.nonce", "Nonce", Kind::ColonBytes);
pub static OPT_RDNSS_LIFETIME: FieldDef =
    FieldDef::new("icmpv6.opt.rdnss.lifetime", "Lifetime", Kind::Dec);
pub static OPT_RDNSS: FieldDef =
    FieldDef::new("icmpv6.opt.rdnss", "Recursive DNS Servers", Kind::Ipv6);
pub static OPT_REDIRECTED_PACKET: FieldDef =
    FieldDef::new("icmpv6.opt.redirected_packet", "Redirected Packet", Kind::None);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinfo::ProtoStack;
    use crate::proto::testutil::Collect;

    const A1: [u8; 16] = [0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const A2: [u8; 16] = [0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    /// An ICMPv6 message with a correct checksum for A1 → A2, built with pnet's helper.
    fn build(t: u8, code: u8, body: &[u8]) -> Vec<u8> {
        use pnet_packet::icmpv6::{checksum, Icmpv6Code, Icmpv6Packet as P, Icmpv6Type, MutableIcmpv6Packet};
        let mut buf = vec![0u8; 4 + body.len()];
        let mut p = MutableIcmpv6Packet::new(&mut buf).unwrap();
        p.set_icmpv6_type(Icmpv6Type(t));
        p.set_icmpv6_code(Icmpv6Code(code));
        p.set_payload(body);
        drop(p);
        let sum = checksum(&P::new(&buf).unwrap(), &A1.into(), &A2.into());
        buf[2..4].copy_from_slice(&sum.to_be_bytes());
        buf
    }

    fn run(buf: &[u8]) -> (Result<Next<'_>, Malformed>, Collect, String, PacketInfo) {
        let (mut stack, mut sink) = (ProtoStack::default(), Collect::default());
        let mut pi = PacketInfo {
            inner_net: Net::V6 { src: A1, dst: A2 },
            net: Net::V6 { src: A1, dst: A2 },
            ttl: 64,
            l4_claimed_len: Some(buf.len() as u32),
            ..PacketInfo::default()
        };
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = Icmpv6.dissect(buf, 54, &mut pi, &mut cx);
        (r, sink, cols.info, pi)
    }

    const MAC1: [u8; 6] = [2, 0x10, 0, 0, 0, 1];

    fn with(head: &[u8], tail: &[&[u8]]) -> Vec<u8> {
        let mut v = head.to_vec();
        for t in tail {
            v.extend_from_slice(t);
        }
        v
    }

    #[test]
    fn deconstruct() {
        let body = with(&[0, 0, 0, 0], &[&A2, &[1, 1], &MAC1]);
        let buf = build(135, 0, &body);
        let (r, sink, info, _) = run(&buf);
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!(info, "Neighbor Solicitation for fd00:10::2 from 02:10:00:00:00:01");
        assert_eq!(sink.get("icmpv6.checksum.status"), "1");
        assert_eq!(sink.get("icmpv6.reserved"), "00000000");
        assert_eq!(sink.get("icmpv6.nd.ns.target_address"), "fd00:10::2");
        assert_eq!(sink.get("icmpv6.opt.linkaddr"), "02:10:00:00:00:01");
        assert_eq!(sink.get("icmpv6.opt.src_linkaddr"), "02:10:00:00:00:01");
    }

    #[test]
    fn check_len() {
        let buf = build(128, 0, &[0x53, 0xdb, 0, 1]);
        for n in 0..MIN_LEN {
            assert!(Icmpv6Packet::new_checked(&buf[..n]).is_err());
        }
        assert!(Icmpv6Packet::new_checked(&buf).is_ok());
    }

    #[test]
    fn truncated_at_every_byte() {
        let body = with(&[0x60, 0, 0, 0], &[&A2, &[2, 1], &MAC1]);
        let buf = build(136, 0, &body);
        for n in 0..buf.len() {
            let (r, ..) = run(&buf[..n]);
            assert_eq!(r.is_ok(), n >= 24, "{n}");
        }
    }

    #[test]
    fn info_column() {
        let na = build(136, 0, &with(&[0x60, 0, 0, 0], &[&A2, &[2, 1], &MAC1]));
        assert_eq!(run(&na).2, "Neighbor Advertisement fd00:10::2 (sol, ovr) is at 02:10:00:00:00:01");
        let na = build(136, 0, &with(&[0, 0, 0, 0], &[&A2]));
        assert_eq!(run(&na).2, "Neighbor Advertisement fd00:10::2 (none)");
        let echo = build(128, 0, &[0x53, 0xdb, 0, 1, b'x']);
        let (r, sink, info, _) = run(&echo);
        assert_eq!(info, "Echo (ping) request id=0x53db, seq=1, hop limit=64");
        assert_eq!(sink.get("icmpv6.echo.identifier"), "0x53db");
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!(sink.get("data.data"), "78");
        let rs = build(133, 0, &with(&[0, 0, 0, 0], &[&[1, 1], &MAC1]));
        assert_eq!(run(&rs).2, "Router Solicitation from 02:10:00:00:00:01");
        let mld = build(143, 0, &with(&[0, 0, 0, 1, 4, 0, 0, 0], &[&A2]));
        let (_, sink, info, _) = run(&mld);
        assert_eq!(info, "Multicast Listener Report Message v2");
        assert_eq!(sink.get("icmpv6.mldr.mar.record_type"), "4");
        assert_eq!(sink.get("icmpv6.mldr.mar.multicast_address"), "fd00:10::2");
        assert_eq!(run(&build(3, 2, &[0; 4])).2, "Time Exceeded (Unknown (2))");
        assert_eq!(run(&build(1, 8, &[0; 4])).2, "Destination Unreachable (Unknown)");
        assert_eq!(run(&build(250, 3, &[0; 4])).2, "Unknown (250)");
    }

    #[test]
    fn errors_quote_the_offending_packet() {
        #[rustfmt::skip]
        let quoted = with(
            &[0x60, 0x0d, 0xd8, 0xe7, 0, 15, 17, 64],
            &[&A1, &A2, &[0xd4, 0x2e, 0x82, 0x9a, 0, 15, 0x5f, 0xd7], b"probe6\n"],
        );
        let buf = build(1, 4, &with(&[0, 0, 0, 0], &[&quoted]));
        let (r, sink, info, pi) = run(&buf);
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!(info, "Destination Unreachable (Port unreachable)");
        assert_eq!(sink.get("ipv6.src"), "fd00:10::1");
        assert_eq!(sink.get("udp.srcport"), "54318");
        assert_eq!(sink.get("data.len"), "7");
        assert!(!pi.quoted && pi.malformed.is_none());
        assert_eq!(pi.net, Net::V6 { src: A1, dst: A2 });
    }

    #[test]
    fn malformed_option_lengths_stop_the_walk() {
        let zero = build(135, 0, &with(&[0, 0, 0, 0], &[&A2, &[1, 0, 1, 2, 3, 4, 5, 6]]));
        let (r, sink, info, _) = run(&zero);
        assert!(r.is_ok());
        assert_eq!(info, "Neighbor Solicitation for fd00:10::2");
        assert_eq!(sink.texts, ["Invalid option length (Zero)"]);
        let past = build(135, 0, &with(&[0, 0, 0, 0], &[&A2, &[1, 9, 1, 2]]));
        assert!(run(&past).0.is_ok());
    }

    #[test]
    fn unknown_values_kept() {
        let mut buf = build(200, 9, &[1, 2, 3, 4]);
        buf[2] ^= 1;
        let (r, sink, ..) = run(&buf);
        assert!(r.is_ok());
        assert_eq!(sink.get("icmpv6.type"), "200");
        assert_eq!(sink.get("icmpv6.checksum.status"), "0");
    }
}
