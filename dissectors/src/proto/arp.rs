//! ARP and RARP (RFC 826, RFC 903): an 8-byte header with hardware and protocol types and
//! sizes and an opcode, then sender and target addresses of those sizes.
//!
//! Ethernet/IPv4 addresses are shown as MAC and IPv4 fields; any other sizes as bytes, as
//! Wireshark does. Gratuitous requests and replies, probes (RFC 5227) and announcements are
//! flagged. The message's own length ends the packet: what follows is the link layer's padding
//! or trailer ([`PacketInfo::net_len`]).
//!
//! Not supported (they need state across frames or are other protocols): duplicate-address and
//! request-storm detection, ATM ARP (hardware type 19) and AX.25 ARP (3) layouts, which are
//! shown with the generic byte fields.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{write_colon_hex, write_ether, write_ipv4, FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::PacketInfo;
use crate::proto::bytes::{array, be16, slice, u8_at};
use crate::proto::eth::ethertype;
use std::fmt::Write as _;

/// The fixed part before the addresses.
pub const HEADER_LEN: usize = 8;

/// Hardware types (IANA "Hardware Types").
pub mod hrd {
    pub const ETHER: u16 = 1;
    pub const IEEE802: u16 = 6;

    /// Wireshark's name for a hardware type (the common ones).
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "NET/ROM pseudo",
            1 => "Ethernet",
            2 => "Experimental Ethernet",
            3 => "AX.25",
            4 => "ProNET",
            5 => "Chaos",
            6 => "IEEE 802",
            7 => "ARCNET",
            8 => "Hyperchannel",
            11 => "LocalTalk",
            15 => "Frame Relay DLCI",
            16 => "ATM",
            18 => "Fibre Channel",
            19 => "ATM (RFC 2225)",
            20 => "Serial Line",
            24 => "IEEE 1394.1995",
            32 => "InfiniBand",
            _ => return None,
        })
    }
}

/// Opcodes (IANA "Operation Codes").
pub mod op {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
    pub const RREQUEST: u16 = 3;
    pub const RREPLY: u16 = 4;
    pub const DRARP_REQUEST: u16 = 5;
    pub const DRARP_REPLY: u16 = 6;
    pub const DRARP_ERROR: u16 = 7;
    pub const IREQUEST: u16 = 8;
    pub const IREPLY: u16 = 9;

    /// Wireshark's name for an opcode.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "request",
            2 => "reply",
            3 => "reverse request",
            4 => "reverse reply",
            5 => "drarp request",
            6 => "drarp reply",
            7 => "drarp error",
            8 => "inverse request",
            9 => "inverse reply",
            10 => "arp nak",
            11 => "mars request",
            12 => "mars multi",
            13 => "mars mserv",
            14 => "mars join",
            15 => "mars leave",
            16 => "mars nak",
            17 => "mars unserv",
            18 => "mars sjoin",
            19 => "mars sleave",
            20 => "mars grouplist request",
            21 => "mars grouplist reply",
            22 => "mars redirect map",
            23 => "mapos unarp",
            24 => "experimental 1",
            25 => "experimental 2",
            _ => return None,
        })
    }
}

mod field {
    pub const HRD: usize = 0;
    pub const PRO: usize = 2;
    pub const HLN: usize = 4;
    pub const PLN: usize = 5;
    pub const OP: usize = 6;
}

/// A view of an ARP message whose whole length (header and four addresses) has been checked.
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// Checks the 8-byte header and the four addresses its sizes announce.
    pub fn new_checked(buf: &'a [u8]) -> Result<ArpPacket<'a>, Malformed> {
        if buf.len() < HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated ARP header"));
        }
        let p = ArpPacket { buf };
        if buf.len() < p.total_len() {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated ARP addresses")
                .len_from("arp.hw.size"));
        }
        Ok(p)
    }

    pub fn hrd(&self) -> u16 {
        be16(self.buf, field::HRD)
    }
    pub fn pro(&self) -> u16 {
        be16(self.buf, field::PRO)
    }
    pub fn hln(&self) -> usize {
        usize::from(u8_at(self.buf, field::HLN))
    }
    pub fn pln(&self) -> usize {
        usize::from(u8_at(self.buf, field::PLN))
    }
    pub fn op(&self) -> u16 {
        be16(self.buf, field::OP)
    }

    /// Header plus two hardware and two protocol addresses.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + 2 * self.hln() + 2 * self.pln()
    }

    fn sha_at(&self) -> usize {
        HEADER_LEN
    }
    fn spa_at(&self) -> usize {
        HEADER_LEN + self.hln()
    }
    fn tha_at(&self) -> usize {
        self.spa_at() + self.pln()
    }
    fn tpa_at(&self) -> usize {
        self.tha_at() + self.hln()
    }

    pub fn sha(&self) -> &'a [u8] {
        slice(self.buf, self.sha_at(), self.spa_at())
    }
    pub fn spa(&self) -> &'a [u8] {
        slice(self.buf, self.spa_at(), self.tha_at())
    }
    pub fn tha(&self) -> &'a [u8] {
        slice(self.buf, self.tha_at(), self.tpa_at())
    }
    pub fn tpa(&self) -> &'a [u8] {
        slice(self.buf, self.tpa_at(), self.total_len())
    }

    /// Ethernet (or IEEE 802) hardware with 6-byte addresses.
    pub fn hw_is_ether(&self) -> bool {
        matches!(self.hrd(), hrd::ETHER | hrd::IEEE802) && self.hln() == 6
    }

    /// IPv4 protocol addresses (EtherType 0x0800, or AX.25's PID 0xcc, 4 bytes).
    pub fn pro_is_ipv4(&self) -> bool {
        matches!(self.pro(), ethertype::IPV4 | 0xcc) && self.pln() == 4
    }

    /// A request or reply whose sender and target protocol addresses are the same.
    pub fn is_gratuitous(&self) -> bool {
        matches!(self.op(), op::REQUEST | op::REPLY) && self.spa() == self.tpa()
    }

    /// A gratuitous request with an all-zero target hardware address (RFC 5227 §2.3).
    pub fn is_announcement(&self) -> bool {
        self.is_gratuitous() && self.op() == op::REQUEST && zero6(self.buf, self.tha_at())
    }

    /// A request from 0.0.0.0 with an all-zero target hardware address (RFC 5227 §2.1.1).
    pub fn is_probe(&self) -> bool {
        !self.is_gratuitous()
            && self.op() == op::REQUEST
            && zero6(self.buf, self.tha_at())
            && array::<4>(self.buf, self.spa_at()) == [0; 4]
    }
}

/// Whether the 6 bytes at `at` are all zero (Wireshark compares 6 bytes whatever the size).
fn zero6(buf: &[u8], at: usize) -> bool {
    array::<6>(buf, at) == [0; 6]
}

/// The ARP dissector.
pub struct Arp;

impl Dissector for Arp {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[
            Bind(Table::EtherType, ethertype::ARP as u32),
            Bind(Table::EtherType, ethertype::RARP as u32),
        ]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, data.len().min(HEADER_LEN)));
        if let Some(info) = cx.info("ARP") {
            info.clear();
        }
        let p = ArpPacket::new_checked(data)?;
        if !pi.quoted {
            pi.net_len
                .get_or_insert(u32::try_from(p.total_len()).unwrap_or(u32::MAX));
        }
        if let Some(info) = cx.info(protocol_column(p.op())) {
            write_info(info, &p);
        }
        if emit {
            cx.append(|s| {
                let what = if p.is_probe() {
                    "ARP Probe"
                } else if p.is_announcement() {
                    "ARP Announcement"
                } else {
                    match (p.op(), p.is_gratuitous()) {
                        (1, false) => "request",
                        (2, false) => "reply",
                        (1, true) => "request/gratuitous ARP",
                        (2, true) => "reply/gratuitous ARP",
                        _ => "",
                    }
                };
                if !what.is_empty() {
                    s.push_str(" (");
                    s.push_str(what);
                    s.push(')');
                }
            });
            emit_fields(&p, offset, cx);
        }
        Ok(Next::Done)
    }
}

fn emit_fields(p: &ArpPacket<'_>, offset: usize, cx: &mut Cx<'_>) {
    let at = |o: usize, n: usize| Span::new(offset + o, n);
    let u = |v: usize| Value::U(v as u64);
    cx.field(&HW_TYPE, at(field::HRD, 2), u(usize::from(p.hrd())));
    cx.field(&PROTO_TYPE, at(field::PRO, 2), u(usize::from(p.pro())));
    cx.field(&HW_SIZE, at(field::HLN, 1), u(p.hln()));
    cx.field(&PROTO_SIZE, at(field::PLN, 1), u(p.pln()));
    cx.field(&OPCODE, at(field::OP, 2), u(usize::from(p.op())));
    if p.is_gratuitous() {
        cx.field(&ISGRATUITOUS, Span::GENERATED, Value::Bool(true));
    }
    if p.is_probe() {
        cx.field(&ISPROBE, Span::GENERATED, Value::Bool(true));
    }
    if p.is_announcement() {
        cx.field(&ISANNOUNCEMENT, Span::GENERATED, Value::Bool(true));
    }
    let (hln, pln) = (p.hln(), p.pln());
    let hw = |cx: &mut Cx<'_>, mac: &'static FieldDef, raw: &'static FieldDef, o: usize, a: &[u8]| {
        if hln == 0 {
            return;
        }
        if p.hw_is_ether() {
            cx.field(mac, at(o, hln), Value::Ether(array(a, 0)));
        } else {
            cx.field(raw, at(o, hln), Value::Bytes(a));
        }
    };
    let pa = |cx: &mut Cx<'_>, v4: &'static FieldDef, raw: &'static FieldDef, o: usize, a: &[u8]| {
        if pln == 0 {
            return;
        }
        if p.pro_is_ipv4() {
            cx.field(v4, at(o, pln), Value::Ipv4(array(a, 0)));
        } else {
            cx.field(raw, at(o, pln), Value::Bytes(a));
        }
    };
    hw(cx, &SRC_HW_MAC, &SRC_HW, p.sha_at(), p.sha());
    pa(cx, &SRC_PROTO_IPV4, &SRC_PROTO, p.spa_at(), p.spa());
    hw(cx, &DST_HW_MAC, &DST_HW, p.tha_at(), p.tha());
    if p.op() == op::DRARP_ERROR {
        if pln != 0 {
            let status = u64::from(u8_at(p.buf, p.tpa_at()));
            cx.field(&DRARP_ERROR_STATUS, at(p.tpa_at(), 1), Value::U(status));
        }
    } else {
        pa(cx, &DST_PROTO_IPV4, &DST_PROTO, p.tpa_at(), p.tpa());
    }
}

/// The Protocol column for an opcode.
fn protocol_column(opcode: u16) -> &'static str {
    match opcode {
        op::RREQUEST | op::RREPLY => "RARP",
        op::DRARP_REQUEST | op::DRARP_REPLY | op::DRARP_ERROR => "DRARP",
        op::IREQUEST | op::IREPLY => "Inverse ARP",
        11..=22 => "MARS",
        23 => "MAPOS",
        _ => "ARP",
    }
}

/// A hardware address as Wireshark's `tvb_arphrdaddr_to_str` shows it.
fn write_hw(p: &ArpPacket<'_>, a: &[u8], out: &mut String) {
    let mut raw = Vec::with_capacity(24);
    if p.hw_is_ether() {
        write_ether(array(a, 0), &mut raw);
    } else if a.is_empty() {
        raw.extend_from_slice(b"<No address>");
    } else {
        write_colon_hex(a, &mut raw);
    }
    out.push_str(&String::from_utf8_lossy(&raw));
}

/// A protocol address as Wireshark's `tvb_arpproaddr_to_str` shows it.
fn write_pa(p: &ArpPacket<'_>, a: &[u8], out: &mut String) {
    let mut raw = Vec::with_capacity(24);
    if p.pro_is_ipv4() {
        write_ipv4(array(a, 0), &mut raw);
    } else if a.is_empty() {
        raw.extend_from_slice(b"<No address>");
    } else {
        write_colon_hex(a, &mut raw);
    }
    out.push_str(&String::from_utf8_lossy(&raw));
}

/// The Info column: `Who has 10.10.0.2? Tell 10.10.0.1`, `10.10.0.2 is at 02:10:00:00:00:02`.
pub fn write_info(out: &mut String, p: &ArpPacket<'_>) {
    let (sha, spa, tha, tpa) = (p.sha(), p.spa(), p.tha(), p.tpa());
    match p.op() {
        op::REQUEST if p.is_announcement() => {
            out.push_str("ARP Announcement for ");
            write_pa(p, tpa, out);
        }
        op::REQUEST if p.is_gratuitous() => {
            out.push_str("Gratuitous ARP for ");
            write_pa(p, tpa, out);
            out.push_str(" (Request)");
        }
        op::REQUEST if p.is_probe() => {
            out.push_str("Who has ");
            write_pa(p, tpa, out);
            out.push_str("? (ARP Probe)");
        }
        op::REQUEST => {
            out.push_str("Who has ");
            write_pa(p, tpa, out);
            out.push_str("? Tell ");
            write_pa(p, spa, out);
        }
        op::REPLY if p.is_gratuitous() => {
            out.push_str("Gratuitous ARP for ");
            write_pa(p, spa, out);
            out.push_str(" (Reply)");
        }
        op::REPLY => {
            write_pa(p, spa, out);
            out.push_str(" is at ");
            write_hw(p, sha, out);
        }
        op::RREQUEST | op::IREQUEST | op::DRARP_REQUEST => {
            out.push_str("Who is ");
            write_hw(p, tha, out);
            out.push_str("? Tell ");
            write_hw(p, sha, out);
        }
        op::RREPLY | op::DRARP_REPLY => {
            write_hw(p, tha, out);
            out.push_str(" is at ");
            write_pa(p, tpa, out);
        }
        op::DRARP_ERROR => out.push_str("DRARP Error"),
        op::IREPLY => {
            write_hw(p, sha, out);
            out.push_str(" is at ");
            write_pa(p, spa, out);
        }
        24 | 25 => {
            let n = p.op() - 23;
            let _ = write!(out, "Experimental {n} ( opcode {} )", p.op());
        }
        0 | 65535 => {
            let _ = write!(out, "Reserved opcode {}", p.op());
        }
        other => {
            let _ = write!(out, "Unknown ARP opcode 0x{other:04x}");
        }
    }
}

pub static PROTO: Proto = Proto {
    name: "arp",
    long_name: "Address Resolution Protocol",
    fields: &[
        &HW_TYPE,
        &PROTO_TYPE,
        &HW_SIZE,
        &PROTO_SIZE,
        &OPCODE,
        &ISGRATUITOUS,
        &ISPROBE,
        &ISANNOUNCEMENT,
        &SRC_HW,
        &SRC_HW_MAC,
        &SRC_PROTO,
        &SRC_PROTO_IPV4,
        &DST_HW,
        &DST_HW_MAC,
        &DST_PROTO,
        &DST_PROTO_IPV4,
        &DRARP_ERROR_STATUS,
    ],
    summary: &[],
};

pub static HW_TYPE: FieldDef =
    FieldDef::new("arp.hw.type", "Hardware type", Kind::Dec).with_names(hrd::name);
pub static PROTO_TYPE: FieldDef =
    FieldDef::new("arp.proto.type", "Protocol type", Kind::Hex(4)).with_names(ethertype::name);
pub static HW_SIZE: FieldDef = FieldDef::new("arp.hw.size", "Hardware size", Kind::Dec);
pub static PROTO_SIZE: FieldDef = FieldDef::new("arp.proto.size", "Protocol size", Kind::Dec);
pub static OPCODE: FieldDef = FieldDef::new("arp.opcode", "Opcode", Kind::Dec).with_names(op::name);
pub static ISGRATUITOUS: FieldDef = FieldDef::new("arp.isgratuitous", "Is gratuitous", Kind::Bool);
pub static ISPROBE: FieldDef = FieldDef::new("arp.isprobe", "Is probe", Kind::Bool);
pub static ISANNOUNCEMENT: FieldDef =
    FieldDef::new("arp.isannouncement", "Is announcement", Kind::Bool);
pub static SRC_HW: FieldDef = FieldDef::new("arp.src.hw", "Sender hardware address", Kind::Bytes);
pub static SRC_HW_MAC: FieldDef =
    FieldDef::new("arp.src.hw_mac", "Sender MAC address", Kind::Ether);
pub static SRC_PROTO: FieldDef =
    FieldDef::new("arp.src.proto", "Sender protocol address", Kind::Bytes);
pub static SRC_PROTO_IPV4: FieldDef =
    FieldDef::new("arp.src.proto_ipv4", "Sender IP address", Kind::Ipv4);
pub static DST_HW: FieldDef = FieldDef::new("arp.dst.hw", "Target hardware address", Kind::Bytes);
pub static DST_HW_MAC: FieldDef =
    FieldDef::new("arp.dst.hw_mac", "Target MAC address", Kind::Ether);
pub static DST_PROTO: FieldDef =
    FieldDef::new("arp.dst.proto", "Target protocol address", Kind::Bytes);
pub static DST_PROTO_IPV4: FieldDef =
    FieldDef::new("arp.dst.proto_ipv4", "Target IP address", Kind::Ipv4);
pub static DRARP_ERROR_STATUS: FieldDef =
    FieldDef::new("arp.dst.drarp_error_status", "DRARP error status", Kind::Dec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_base::MacAddr;
    use pnet_packet::arp::{ArpHardwareTypes, ArpOperation, MutableArpPacket};
    use pnet_packet::ethernet::EtherTypes;

    fn build(opcode: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
        let mut buf = vec![0u8; 28];
        let mut p = MutableArpPacket::new(&mut buf).unwrap();
        p.set_hardware_type(ArpHardwareTypes::Ethernet);
        p.set_protocol_type(EtherTypes::Ipv4);
        p.set_hw_addr_len(6);
        p.set_proto_addr_len(4);
        p.set_operation(ArpOperation::new(opcode));
        p.set_sender_hw_addr(MacAddr::from(sha));
        p.set_sender_proto_addr(spa.into());
        p.set_target_hw_addr(MacAddr::from(tha));
        p.set_target_proto_addr(tpa.into());
        buf
    }

    const MAC1: [u8; 6] = [2, 0x10, 0, 0, 0, 1];
    const MAC2: [u8; 6] = [2, 0x10, 0, 0, 0, 2];

    fn run(buf: &[u8]) -> (Result<Next<'_>, Malformed>, PacketInfo, String, &'static str) {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = Arp.dissect(buf, 14, &mut pi, &mut cx);
        (r, pi, cols.info, cols.protocol)
    }

    #[test]
    fn deconstruct() {
        let buf = build(1, MAC1, [10, 10, 0, 1], [0; 6], [10, 10, 0, 2]);
        let p = ArpPacket::new_checked(&buf).unwrap();
        assert_eq!((p.hrd(), p.pro(), p.hln(), p.pln(), p.op()), (1, 0x0800, 6, 4, 1));
        assert_eq!((p.sha(), p.spa()), (&MAC1[..], &[10, 10, 0, 1][..]));
        assert_eq!((p.tha(), p.tpa()), (&[0u8; 6][..], &[10, 10, 0, 2][..]));
        assert!(p.hw_is_ether() && p.pro_is_ipv4());
        assert!(!p.is_gratuitous() && !p.is_probe() && !p.is_announcement());
    }

    #[test]
    fn check_len() {
        let buf = build(1, MAC1, [10, 10, 0, 1], [0; 6], [10, 10, 0, 2]);
        for n in 0..28 {
            assert!(ArpPacket::new_checked(&buf[..n]).is_err(), "{n}");
        }
        // Padding after the message is not part of it.
        let mut padded = buf.clone();
        padded.extend_from_slice(&[0; 18]);
        let (r, pi, ..) = run(&padded);
        assert!(r.is_ok());
        assert_eq!(pi.net_len, Some(28));
    }

    #[test]
    fn truncated_at_every_byte() {
        let buf = build(2, MAC2, [10, 10, 0, 2], MAC1, [10, 10, 0, 1]);
        for n in 0..buf.len() {
            let (r, _, _, proto) = run(&buf[..n]);
            assert!(r.is_err());
            assert_eq!(proto, "ARP");
        }
    }

    #[test]
    fn info_column() {
        let req = build(1, MAC1, [10, 10, 0, 1], [0; 6], [10, 10, 0, 2]);
        assert_eq!(run(&req).2, "Who has 10.10.0.2? Tell 10.10.0.1");
        let rep = build(2, MAC2, [10, 10, 0, 2], MAC1, [10, 10, 0, 1]);
        assert_eq!(run(&rep).2, "10.10.0.2 is at 02:10:00:00:00:02");
        let probe = build(1, MAC1, [0; 4], [0; 6], [10, 10, 0, 9]);
        assert_eq!(run(&probe).2, "Who has 10.10.0.9? (ARP Probe)");
        let ann = build(1, MAC1, [10, 10, 0, 9], [0; 6], [10, 10, 0, 9]);
        assert_eq!(run(&ann).2, "ARP Announcement for 10.10.0.9");
        let grat = build(1, MAC1, [10, 10, 0, 9], [0xff; 6], [10, 10, 0, 9]);
        assert_eq!(run(&grat).2, "Gratuitous ARP for 10.10.0.9 (Request)");
        let grat = build(2, MAC1, [10, 10, 0, 9], [0xff; 6], [10, 10, 0, 9]);
        assert_eq!(run(&grat).2, "Gratuitous ARP for 10.10.0.9 (Reply)");
        let rarp = build(3, MAC1, [0; 4], MAC1, [0; 4]);
        let (_, _, info, proto) = run(&rarp);
        assert_eq!((info.as_str(), proto), ("Who is 02:10:00:00:00:01? Tell 02:10:00:00:00:01", "RARP"));
        let odd = build(300, MAC1, [0; 4], MAC1, [0; 4]);
        assert_eq!(run(&odd).2, "Unknown ARP opcode 0x012c");
    }

    #[test]
    fn unknown_values_kept() {
        // Hardware size 8, protocol size 2: generic byte addresses, shown with colons.
        #[rustfmt::skip]
        let buf = [
            0x00, 0x20, 0x12, 0x34, 8, 2, 0x00, 0x02,
            1, 2, 3, 4, 5, 6, 7, 8,   0xaa, 0xbb,
            0, 0, 0, 0, 0, 0, 0, 0,   0xcc, 0xdd,
        ];
        let p = ArpPacket::new_checked(&buf).unwrap();
        assert!(!p.hw_is_ether() && !p.pro_is_ipv4());
        assert_eq!(run(&buf).2, "aa:bb is at 01:02:03:04:05:06:07:08");
    }
}
