//! ICMP for IPv4 (RFC 792; RFC 1191 next-hop MTU; RFC 1256 router discovery; RFC 950 address
//! masks).
//!
//! The checksum is verified, as tshark does by default, over the whole message when it was
//! captured whole. Echo messages show their identifier and sequence number both ways round,
//! a timestamp guessed from the first 8 data bytes (within a day of the capture time, as
//! tshark guesses), and the rest as data. Error messages (unreachable, source quench,
//! redirect, time exceeded, parameter problem) quote the offending packet: it is dissected
//! with [`crate::proto::dissect_quoted`], so its IP/UDP/TCP layers emit fields (`ip.src`
//! reads "outer,inner") without replacing the outer packet's facts.
//!
//! Echo requests and replies are paired across frames by the flow engine (dissectors keep no
//! state): this layer records the echo header in [`PacketInfo::echo`], and the engine adds
//! `icmp.resp_to`, `icmp.resptime` and the Info column's "(request in N)" to replies, as tshark
//! does in one pass. `icmp.resp_in` (on requests) needs a second pass, so it is declared but, as
//! in `tshark` without `-2`, never shown.
//!
//! Not supported: RFC 4884 extension objects and MPLS extensions, Mobile IP advertisement
//! extensions.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Echo, PacketInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail, u8_at};
use crate::proto::eth::ethertype;
use crate::proto::ip::ipproto;
use std::fmt::Write as _;

/// Type, code and checksum.
pub const MIN_LEN: usize = 4;
/// Type, code, checksum and the 4-byte rest of header.
pub const HEADER_LEN: usize = 8;
/// A timestamp in echo data is believed only within this many seconds of the capture time
/// (tshark's rule).
pub const TIMESTAMP_WINDOW: i64 = 86_400;

/// ICMP types (IANA "ICMP Type Numbers").
pub mod ty {
    pub const ECHO_REPLY: u8 = 0;
    pub const UNREACH: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ALT_HOST: u8 = 6;
    pub const ECHO: u8 = 8;
    pub const ROUTER_ADVERT: u8 = 9;
    pub const ROUTER_SOLICIT: u8 = 10;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
    pub const TSTAMP: u8 = 13;
    pub const TSTAMP_REPLY: u8 = 14;
    pub const IREQ: u8 = 15;
    pub const IREQ_REPLY: u8 = 16;
    pub const MASK_REQ: u8 = 17;
    pub const MASK_REPLY: u8 = 18;
    pub const PHOTURIS: u8 = 40;

    /// Wireshark's name for a type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "Echo (ping) reply",
            1 | 2 | 7 => "Reserved",
            3 => "Destination unreachable",
            4 => "Source quench (flow control)",
            5 => "Redirect",
            6 => "Alternate host address",
            8 => "Echo (ping) request",
            9 => "Router advertisement",
            10 => "Router solicitation",
            11 => "Time-to-live exceeded",
            12 => "Parameter problem",
            13 => "Timestamp request",
            14 => "Timestamp reply",
            15 => "Information request",
            16 => "Information reply",
            17 => "Address mask request",
            18 => "Address mask reply",
            19 => "Reserved (for security)",
            20..=29 => "Reserved (for robustness experiment)",
            30 => "Traceroute",
            31 => "Datagram Conversion Error",
            32 => "Mobile Host Redirect",
            33 => "IPv6 Where-Are-You",
            34 => "IPv6 I-Am-Here",
            35 => "Mobile Registration Request",
            36 => "Mobile Registration Reply",
            37 => "Domain Name Request",
            38 => "Domain Name Reply",
            39 => "SKIP",
            40 => "Photuris",
            41 => "Experimental mobility protocols",
            42 => "Extended Echo request",
            43 => "Extended Echo reply",
            _ => return None,
        })
    }
}

/// The name of `code` for message type `t`, for the types whose codes have names.
fn code_name(t: u8, code: u8) -> Option<&'static str> {
    Some(match (t, code) {
        (ty::UNREACH, 0) => "Network unreachable",
        (ty::UNREACH, 1) => "Host unreachable",
        (ty::UNREACH, 2) => "Protocol unreachable",
        (ty::UNREACH, 3) => "Port unreachable",
        (ty::UNREACH, 4) => "Fragmentation needed",
        (ty::UNREACH, 5) => "Source route failed",
        (ty::UNREACH, 6) => "Destination network unknown",
        (ty::UNREACH, 7) => "Destination host unknown",
        (ty::UNREACH, 8) => "Source host isolated",
        (ty::UNREACH, 9) => "Network administratively prohibited",
        (ty::UNREACH, 10) => "Host administratively prohibited",
        (ty::UNREACH, 11) => "Network unreachable for TOS",
        (ty::UNREACH, 12) => "Host unreachable for TOS",
        (ty::UNREACH, 13) => "Communication administratively filtered",
        (ty::UNREACH, 14) => "Host precedence violation",
        (ty::UNREACH, 15) => "Precedence cutoff in effect",
        (ty::REDIRECT, 0) => "Redirect for network",
        (ty::REDIRECT, 1) => "Redirect for host",
        (ty::REDIRECT, 2) => "Redirect for TOS and network",
        (ty::REDIRECT, 3) => "Redirect for TOS and host",
        (ty::ALT_HOST, 0) => "Alternate address for host",
        (ty::ROUTER_ADVERT, 0) => "Normal router advertisement",
        (ty::ROUTER_ADVERT, 16) => "Does not route common traffic",
        (ty::TIME_EXCEEDED, 0) => "Time to live exceeded in transit",
        (ty::TIME_EXCEEDED, 1) => "Fragment reassembly time exceeded",
        (ty::PARAM_PROBLEM, 0) => "Pointer indicates the error",
        (ty::PARAM_PROBLEM, 1) => "Required option missing",
        (ty::PARAM_PROBLEM, 2) => "Bad length",
        (ty::PHOTURIS, 0) => "Bad SPI",
        (ty::PHOTURIS, 1) => "Authentication Failed",
        (ty::PHOTURIS, 2) => "Decompression Failed",
        (ty::PHOTURIS, 3) => "Decryption Failed",
        (ty::PHOTURIS, 4) => "Need Authentication",
        (ty::PHOTURIS, 5) => "Need Authorization",
        _ => return None,
    })
}

/// Whether type `t` has named codes (tshark then shows "Unknown code: N" for the others).
fn has_codes(t: u8) -> bool {
    matches!(
        t,
        ty::UNREACH
            | ty::REDIRECT
            | ty::ALT_HOST
            | ty::ROUTER_ADVERT
            | ty::TIME_EXCEEDED
            | ty::PARAM_PROBLEM
            | ty::PHOTURIS
    )
}

/// Whether type `t` quotes the packet that caused it.
pub fn is_error(t: u8) -> bool {
    matches!(
        t,
        ty::UNREACH | ty::SOURCE_QUENCH | ty::REDIRECT | ty::TIME_EXCEEDED | ty::PARAM_PROBLEM
    )
}

/// The Internet checksum (RFC 1071) of `data`, seeded with `sum`: 0 when `data` carries a
/// correct checksum.
pub fn internet_checksum(data: &[u8], mut sum: u64) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(be16(c, 0));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A view of an ICMP message whose first 4 bytes have been checked.
#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> IcmpPacket<'a> {
    /// Checks type, code and checksum are present.
    pub fn new_checked(buf: &'a [u8]) -> Result<IcmpPacket<'a>, Malformed> {
        if buf.len() < MIN_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated ICMP header"));
        }
        Ok(IcmpPacket { buf })
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
    /// The identifier of echo, timestamp, information and mask messages.
    pub fn ident(&self) -> u16 {
        be16(self.buf, 4)
    }
    pub fn seq(&self) -> u16 {
        be16(self.buf, 6)
    }
    /// What follows the 8-byte header.
    pub fn body(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

/// tshark's guess of a `struct timeval` at the start of echo data: seconds and microseconds,
/// big-endian or little-endian, believed when within a day of the capture time.
pub fn guess_timestamp(data: &[u8], frame_secs: i64) -> Option<(i64, u32)> {
    if data.len() < 8 {
        return None;
    }
    let near = |s: u32| (i64::from(s) - frame_secs).abs() <= TIMESTAMP_WINDOW;
    let (be_s, be_us) = (be32(data, 0), be32(data, 4));
    if near(be_s) && be_us < 1_000_000 {
        return Some((i64::from(be_s), be_us * 1000));
    }
    let le = |at: usize| u32::from_le_bytes(array(data, at));
    let (le_s, le_us) = (le(0), le(4));
    if near(le_s) && le_us < 1_000_000 {
        return Some((i64::from(le_s), le_us * 1000));
    }
    None
}

/// The ICMP dissector.
pub struct Icmp;

impl Dissector for Icmp {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::ICMP as u32)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, data.len()));
        if !pi.quoted {
            if let Some(info) = cx.info("ICMP") {
                info.clear();
            }
        }
        let p = IcmpPacket::new_checked(data)?;
        let (t, code) = (p.msg_type(), p.code());
        let claimed = pi.l4_claimed_len.map_or(data.len(), |c| c as usize);
        let status = if pi.quoted || data.len() < claimed {
            2
        } else {
            match internet_checksum(slice(data, 0, claimed), 0) {
                0 => 1,
                _ => 0,
            }
        };
        let at = |o: usize, n: usize| Span::new(offset + o, n);
        let u = |v: u64| Value::U(v);
        if emit {
            cx.field(&TYPE, at(0, 1), u(u64::from(t)));
            // `Code: 3 (Port unreachable)`: the number first, where tshark names the code.
            cx.field_shown(&CODE, at(1, 1), u(u64::from(code)), |s| {
                let _ = write!(s, "{code}");
                if let Some(name) = code_name(t, code) {
                    let _ = write!(s, " ({name})");
                }
            });
            let sum = p.checksum();
            cx.field_shown(&CHECKSUM, at(2, 2), u(u64::from(sum)), |s| {
                let _ = write!(s, "0x{sum:04x} {}", checksum_note(status));
            });
            cx.field(&CHECKSUM_STATUS, Span::GENERATED, u(status));
        }
        if !pi.quoted {
            if let Some(info) = cx.info("ICMP") {
                write_info(info, t, code);
            }
        }
        let needs = |n: usize| -> Result<(), Malformed> {
            match data.len() >= n {
                true => Ok(()),
                false => Err(Malformed::new(&PROTO, data.len(), "truncated ICMP message")),
            }
        };
        match t {
            ty::ECHO | ty::ECHO_REPLY | ty::TSTAMP | ty::TSTAMP_REPLY | ty::IREQ
            | ty::IREQ_REPLY | ty::MASK_REQ | ty::MASK_REPLY => {
                needs(HEADER_LEN)?;
                let (id, seq) = (p.ident(), p.seq());
                if emit {
                    cx.field(&IDENT, at(4, 2), u(u64::from(id)));
                    cx.field(&IDENT_LE, at(4, 2), u(u64::from(id.swap_bytes())));
                    cx.field(&SEQ, at(6, 2), u(u64::from(seq)));
                    cx.field(&SEQ_LE, at(6, 2), u(u64::from(seq.swap_bytes())));
                }
                if !pi.quoted {
                    if let Some(cols) = cx.cols.as_deref_mut() {
                        let _ = write!(
                            cols.info,
                            " id=0x{id:04x}, seq={seq}/{}, ttl={}",
                            seq.swap_bytes(),
                            pi.ttl
                        );
                    }
                    if t == ty::ECHO || t == ty::ECHO_REPLY {
                        pi.echo = Some(Echo {
                            v6: false,
                            reply: t == ty::ECHO_REPLY,
                            id,
                            seq,
                            checksum: p.checksum(),
                        });
                    }
                }
            }
            ty::UNREACH if code == 4 => {
                needs(HEADER_LEN)?;
                if emit {
                    cx.field(&UNUSED, at(4, 2), Value::Bytes(slice(data, 4, 6)));
                    cx.field(&MTU, at(6, 2), u(u64::from(be16(data, 6))));
                }
            }
            ty::UNREACH | ty::TIME_EXCEEDED => {
                needs(HEADER_LEN)?;
                if emit {
                    cx.field(&UNUSED, at(4, 4), Value::Bytes(slice(data, 4, 8)));
                }
            }
            ty::PARAM_PROBLEM => {
                needs(HEADER_LEN)?;
                if emit {
                    cx.field(&POINTER, at(4, 1), u(u64::from(u8_at(data, 4))));
                    cx.field(&UNUSED, at(5, 3), Value::Bytes(slice(data, 5, 8)));
                }
            }
            ty::REDIRECT => {
                needs(HEADER_LEN)?;
                if emit {
                    cx.field(&REDIR_GW, at(4, 4), Value::Ipv4(array(data, 4)));
                }
            }
            ty::ROUTER_ADVERT => {
                needs(HEADER_LEN)?;
                let (n, size) = (usize::from(u8_at(data, 4)), usize::from(u8_at(data, 5)));
                if emit {
                    cx.field(&NUM_ADDRS, at(4, 1), u(n as u64));
                    cx.field(&ADDR_ENTRY_SIZE, at(5, 1), u(size as u64));
                    cx.field(&LIFETIME, at(6, 2), u(u64::from(be16(data, 6))));
                    // Entries of `size` 32-bit words: address and preference level.
                    let step = (size * 4).max(8);
                    for i in 0..n {
                        let o = HEADER_LEN + i * step;
                        if data.len() < o + 8 {
                            break;
                        }
                        cx.field(&ROUTER_ADDRESS, at(o, 4), Value::Ipv4(array(data, o)));
                        cx.field(&PREF_LEVEL, at(o + 4, 4), u(u64::from(be32(data, o + 4))));
                    }
                }
            }
            _ => {}
        }
        let body = p.body();
        let body_at = offset + HEADER_LEN;
        match t {
            ty::ECHO | ty::ECHO_REPLY => {
                let mut rest = body;
                let mut rest_at = body_at;
                if let Some((secs, nanos)) = guess_timestamp(body, pi.frame_time.0) {
                    if emit {
                        let span = Span::new(body_at, 8);
                        cx.field(&DATA_TIME, span, Value::Time { secs, nanos });
                        let (fs, fn_) = pi.frame_time;
                        let (ds, dn) = sub_time(fs, fn_, secs, nanos);
                        let rel = Value::Time { secs: ds, nanos: dn };
                        cx.field(&DATA_TIME_RELATIVE, Span::GENERATED, rel);
                    }
                    rest = tail(body, 8);
                    rest_at += 8;
                }
                // The echo data sits inside the ICMP tree, as tshark draws it.
                cx.sink.nest();
                crate::proto::data::dissect(rest, rest_at, cx);
                cx.sink.unnest();
                Ok(Next::Done)
            }
            ty::TSTAMP | ty::TSTAMP_REPLY => {
                if emit && body.len() >= 12 {
                    cx.field(&ORIGINATE_TS, at(8, 4), u(u64::from(be32(body, 0))));
                    cx.field(&RECEIVE_TS, at(12, 4), u(u64::from(be32(body, 4))));
                    cx.field(&TRANSMIT_TS, at(16, 4), u(u64::from(be32(body, 8))));
                }
                Ok(Next::Done)
            }
            ty::MASK_REQ | ty::MASK_REPLY => {
                if emit && body.len() >= 4 {
                    cx.field(&ADDRESS_MASK, at(8, 4), Value::Ipv4(array(body, 0)));
                }
                Ok(Next::Done)
            }
            t if is_error(t) => {
                // One level of quoting: an error quoted inside an error shows its header only,
                // so a packet of nested errors cannot recurse without bound.
                if !body.is_empty() && !pi.quoted {
                    let quoted = Next::Dispatch {
                        table: Table::EtherType,
                        key: u32::from(ethertype::IPV4),
                        data: body,
                        offset: body_at,
                    };
                    crate::proto::dissect_quoted(quoted, pi, cx);
                }
                Ok(Next::Done)
            }
            _ => Ok(Next::Done),
        }
    }
}

/// What `-V` adds after a checksum of this status (`[correct]`, `[incorrect, …]`).
pub fn checksum_note(status: u64) -> &'static str {
    match status {
        0 => "[incorrect]",
        1 => "[correct]",
        _ => "[unverified]",
    }
}

/// `a - b` for (seconds, nanoseconds) pairs.
fn sub_time(a_s: i64, a_n: u32, b_s: i64, b_n: u32) -> (i64, u32) {
    let total = (i128::from(a_s) * 1_000_000_000 + i128::from(a_n))
        - (i128::from(b_s) * 1_000_000_000 + i128::from(b_n));
    let secs = total.div_euclid(1_000_000_000);
    let nanos = total.rem_euclid(1_000_000_000);
    (
        i64::try_from(secs).unwrap_or(0),
        u32::try_from(nanos).unwrap_or(0),
    )
}

/// The Info column's type and code: `Destination unreachable (Port unreachable)`, the type
/// padded to 20 columns as tshark pads it (`Echo (ping) request  id=…` follows).
pub fn write_info(out: &mut String, t: u8, code: u8) {
    let mut name = ty::name(u64::from(t)).unwrap_or("Unknown ICMP (obsolete or malformed?)");
    if t == ty::ROUTER_ADVERT && (code == 0 || code == 16) {
        name = "Mobile IP Advertisement";
    }
    let _ = write!(out, "{name:<20}");
    if has_codes(t) {
        match code_name(t, code) {
            Some(c) => {
                let _ = write!(out, " ({c})");
            }
            None => {
                let _ = write!(out, " (Unknown code: {code})");
            }
        }
    }
}

fn type_name(v: u64) -> Option<&'static str> {
    ty::name(v)
}

pub static PROTO: Proto = Proto {
    name: "icmp",
    long_name: "Internet Control Message Protocol",
    fields: &[
        &TYPE,
        &CODE,
        &CHECKSUM,
        &CHECKSUM_STATUS,
        &IDENT,
        &IDENT_LE,
        &SEQ,
        &SEQ_LE,
        &RESP_IN,
        &RESP_TO,
        &RESPTIME,
        &DATA_TIME,
        &DATA_TIME_RELATIVE,
        &UNUSED,
        &MTU,
        &POINTER,
        &REDIR_GW,
        &NUM_ADDRS,
        &ADDR_ENTRY_SIZE,
        &LIFETIME,
        &ROUTER_ADDRESS,
        &PREF_LEVEL,
        &ORIGINATE_TS,
        &RECEIVE_TS,
        &TRANSMIT_TS,
        &ADDRESS_MASK,
    ],
    summary: &[],
};

pub static TYPE: FieldDef = FieldDef::new("icmp.type", "Type", Kind::Dec)
    .with_names(type_name)
    .num_first();
pub static CODE: FieldDef = FieldDef::new("icmp.code", "Code", Kind::Dec);
pub static CHECKSUM: FieldDef = FieldDef::new("icmp.checksum", "Checksum", Kind::Hex(4));
pub static CHECKSUM_STATUS: FieldDef =
    FieldDef::new("icmp.checksum.status", "Checksum Status", Kind::Dec)
        .with_names(crate::proto::ip::checksum_status_name)
        .name_only();
pub static IDENT: FieldDef =
    FieldDef::new("icmp.ident", "Identifier (BE)", Kind::Dec).dec_hex(4);
pub static IDENT_LE: FieldDef =
    FieldDef::new("icmp.ident_le", "Identifier (LE)", Kind::Dec).dec_hex(4);
pub static SEQ: FieldDef = FieldDef::new("icmp.seq", "Sequence Number (BE)", Kind::Dec).dec_hex(4);
pub static SEQ_LE: FieldDef =
    FieldDef::new("icmp.seq_le", "Sequence Number (LE)", Kind::Dec).dec_hex(4);
/// The reply to this request: set by tshark's second pass only (`-2`), so never shown here.
pub static RESP_IN: FieldDef = FieldDef::new("icmp.resp_in", "Response frame", Kind::Dec);
/// The request this reply answers (the flow engine's pairing).
pub static RESP_TO: FieldDef = FieldDef::new("icmp.resp_to", "Request frame", Kind::Dec);
/// Milliseconds from the request to this reply.
pub static RESPTIME: FieldDef =
    FieldDef::new("icmp.resptime", "Response time", Kind::Double).unit(" ms");
pub static DATA_TIME: FieldDef =
    FieldDef::new("icmp.data_time", "Timestamp from icmp data", Kind::AbsTime);
pub static DATA_TIME_RELATIVE: FieldDef = FieldDef::new(
    "icmp.data_time_relative",
    "Timestamp from icmp data (relative)",
    Kind::RelTime,
);
pub static UNUSED: FieldDef = FieldDef::new("icmp.unused", "Unused", Kind::Bytes);
pub static MTU: FieldDef = FieldDef::new("icmp.mtu", "MTU of next hop", Kind::Dec);
pub static POINTER: FieldDef = FieldDef::new("icmp.pointer", "Pointer", Kind::Dec);
pub static REDIR_GW: FieldDef = FieldDef::new("icmp.redir_gw", "Gateway address", Kind::Ipv4);
pub static NUM_ADDRS: FieldDef =
    FieldDef::new("icmp.num_addrs", "Number of addresses", Kind::Dec);
pub static ADDR_ENTRY_SIZE: FieldDef =
    FieldDef::new("icmp.addr_entry_size", "Address entry size", Kind::Dec);
pub static LIFETIME: FieldDef = FieldDef::new("icmp.lifetime", "Lifetime", Kind::Dec);
pub static ROUTER_ADDRESS: FieldDef =
    FieldDef::new("icmp.router_address", "Router address", Kind::Ipv4);
pub static PREF_LEVEL: FieldDef = FieldDef::new("icmp.pref_level", "Preference level", Kind::Dec);
pub static ORIGINATE_TS: FieldDef =
    FieldDef::new("icmp.originate_timestamp", "Originate timestamp", Kind::Dec);
pub static RECEIVE_TS: FieldDef =
    FieldDef::new("icmp.receive_timestamp", "Receive timestamp", Kind::Dec);
pub static TRANSMIT_TS: FieldDef =
    FieldDef::new("icmp.transmit_timestamp", "Transmit timestamp", Kind::Dec);
pub static ADDRESS_MASK: FieldDef =
    FieldDef::new("icmp.address_mask", "Address Mask", Kind::Ipv4);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use crate::proto::testutil::Collect;
    use pnet_packet::icmp::{checksum, IcmpCode, IcmpPacket as PnetIcmp, IcmpType, MutableIcmpPacket};

    fn build(t: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; HEADER_LEN + body.len()];
        let mut p = MutableIcmpPacket::new(&mut buf).unwrap();
        p.set_icmp_type(IcmpType(t));
        p.set_icmp_code(IcmpCode(code));
        drop(p);
        buf[4..8].copy_from_slice(&rest);
        buf[8..].copy_from_slice(body);
        let sum = checksum(&PnetIcmp::new(&buf).unwrap());
        buf[2..4].copy_from_slice(&sum.to_be_bytes());
        buf
    }

    fn run<'a>(buf: &'a [u8], pi: &mut PacketInfo) -> (Result<Next<'a>, Malformed>, Collect, String) {
        let (mut stack, mut sink) = (ProtoStack::default(), Collect::default());
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = Icmp.dissect(buf, 34, pi, &mut cx);
        (r, sink, cols.info)
    }

    #[test]
    fn deconstruct() {
        let mut data = 1_795_811_939u32.to_le_bytes().to_vec();
        data.extend_from_slice(&[0, 0, 0, 0, 0x9a, 0x36]);
        let buf = build(8, 0, [0x53, 0xcc, 0, 1], &data);
        let mut pi = PacketInfo { ttl: 64, frame_time: (1_795_811_939, 276_315_000), ..PacketInfo::default() };
        let (r, sink, info) = run(&buf, &mut pi);
        assert_eq!(info, "Echo (ping) request  id=0x53cc, seq=1/256, ttl=64");
        assert_eq!(sink.get("icmp.checksum.status"), "1");
        assert_eq!((sink.get("icmp.ident"), sink.get("icmp.ident_le")), ("21452".into(), "52307".into()));
        assert_eq!((sink.get("icmp.seq"), sink.get("icmp.seq_le")), ("1".into(), "256".into()));
        assert_eq!(sink.get("icmp.data_time"), "Nov 27, 2026 20:38:59.000000000 UTC");
        assert_eq!(sink.get("icmp.data_time_relative"), "0.276315000");
        // The echo data is a data layer inside ICMP's tree, not a next layer.
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!((sink.get("data.data"), sink.get("data.len")), ("9a36".into(), "2".into()));
    }

    #[test]
    fn check_len() {
        let buf = build(8, 0, [0, 1, 0, 2], &[]);
        for n in 0..MIN_LEN {
            assert!(IcmpPacket::new_checked(&buf[..n]).is_err());
        }
        assert!(IcmpPacket::new_checked(&buf[..4]).is_ok());
    }

    #[test]
    fn truncated_at_every_byte() {
        let buf = build(8, 0, [0, 1, 0, 2], b"abcdefgh");
        for n in 0..buf.len() {
            let mut pi = PacketInfo::default();
            let (r, ..) = run(&buf[..n], &mut pi);
            assert_eq!(r.is_ok(), n >= HEADER_LEN, "{n}");
        }
    }

    #[test]
    fn malformed_checksum_is_shown_not_rejected() {
        let mut buf = build(0, 0, [0, 1, 0, 2], b"abc");
        buf[2] ^= 0xff;
        let mut pi = PacketInfo::default();
        let (r, sink, _) = run(&buf, &mut pi);
        assert!(r.is_ok());
        assert_eq!(sink.get("icmp.checksum.status"), "0");
        // Captured short of the claimed length: not verifiable.
        let mut pi = PacketInfo { l4_claimed_len: Some(100), ..PacketInfo::default() };
        assert_eq!(run(&buf, &mut pi).1.get("icmp.checksum.status"), "2");
    }

    #[test]
    fn errors_quote_the_offending_packet() {
        #[rustfmt::skip]
        let quoted = [
            0x45, 0, 0, 34, 0x4a, 0x56, 0x40, 0, 64, 17, 0xdc, 0x5e, 10, 10, 0, 1, 10, 10, 0, 2,
            0xc0, 0x3c, 0x82, 0x9a, 0, 14, 0, 0, b'p', b'r', b'o', b'b', b'e', b'\n',
        ];
        let buf = build(3, 3, [0; 4], &quoted);
        let mut pi = PacketInfo {
            net: crate::pinfo::Net::V4 { src: [10, 10, 0, 2], dst: [10, 10, 0, 1] },
            ..PacketInfo::default()
        };
        let (r, sink, info) = run(&buf, &mut pi);
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!(info, "Destination unreachable (Port unreachable)");
        assert_eq!(sink.get("icmp.unused"), "00000000");
        assert_eq!(sink.get("ip.src"), "10.10.0.1");
        assert_eq!(sink.get("udp.dstport"), "33434");
        assert_eq!(sink.get("data.data"), "70726f62650a");
        // The outer packet's facts are untouched; the quoted flag is restored.
        assert_eq!(pi.net, crate::pinfo::Net::V4 { src: [10, 10, 0, 2], dst: [10, 10, 0, 1] });
        assert!(!pi.quoted && pi.malformed.is_none());
        assert_eq!(pi.transport, crate::pinfo::Transport::None);
        // A quote cut anywhere is never a malformed frame.
        for n in 0..quoted.len() {
            let buf = build(11, 0, [0; 4], &quoted[..n]);
            let mut pi = PacketInfo::default();
            assert!(run(&buf, &mut pi).0.is_ok());
            assert!(pi.malformed.is_none());
        }
    }

    #[test]
    fn nested_errors_are_quoted_once() {
        // An error quoting an IPv4 packet that carries an error that quotes another …
        let mut inner = build(3, 1, [0; 4], &[]);
        for _ in 0..2000 {
            let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
            let total = (20 + inner.len()) as u16;
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&inner);
            inner = build(11, 0, [0; 4], &ip);
            if inner.len() > 60_000 {
                break;
            }
        }
        let mut pi = PacketInfo::default();
        let (r, sink, _) = run(&inner, &mut pi);
        assert!(r.is_ok());
        assert_eq!(sink.get("icmp.type"), "11,11");
        assert!(!pi.quoted);
    }

    #[test]
    fn info_column() {
        let info = |t, c, rest: [u8; 4]| {
            let buf = build(t, c, rest, &[]);
            let mut pi = PacketInfo { ttl: 63, ..PacketInfo::default() };
            run(&buf, &mut pi).2
        };
        assert_eq!(info(0, 0, [0x53, 0xcc, 0, 1]), "Echo (ping) reply    id=0x53cc, seq=1/256, ttl=63");
        assert_eq!(info(3, 4, [0, 0, 5, 0x78]), "Destination unreachable (Fragmentation needed)");
        assert_eq!(info(11, 0, [0; 4]), "Time-to-live exceeded (Time to live exceeded in transit)");
        assert_eq!(info(5, 1, [10, 0, 0, 1]), "Redirect             (Redirect for host)");
        assert_eq!(info(3, 99, [0; 4]), "Destination unreachable (Unknown code: 99)");
        assert_eq!(info(200, 5, [0; 4]), "Unknown ICMP (obsolete or malformed?)");
        assert_eq!(info(9, 0, [0, 2, 0, 0]), "Mobile IP Advertisement (Normal router advertisement)");
    }

    #[test]
    fn unknown_values_kept() {
        let buf = build(200, 5, *b"abcd", b"zz");
        let mut pi = PacketInfo::default();
        let (r, sink, _) = run(&buf, &mut pi);
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!((sink.get("icmp.type"), sink.get("icmp.code")), ("200".into(), "5".into()));
    }

    #[test]
    fn timestamp_guess() {
        assert_eq!(guess_timestamp(&[0; 7], 0), None);
        let be = [0, 0, 0x03, 0xe8, 0, 0, 0, 5];
        assert_eq!(guess_timestamp(&be, 1000), Some((1000, 5000)));
        assert_eq!(guess_timestamp(&be, 1000 + 2 * TIMESTAMP_WINDOW), None);
        let _ = NullSink;
    }
}
