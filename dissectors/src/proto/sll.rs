//! Linux "cooked" capture headers: SLL (link type 113, 16 bytes) and SLL2 (link type 276,
//! 20 bytes), which `tcpdump -i any` writes. Wireshark names both protocol `sll`.
//!
//! The header carries the packet type (to us, broadcast, sent by us …), the ARPHRD link-layer
//! address type, up to 8 bytes of source address and a protocol: an EtherType when above 1536,
//! otherwise a Linux-internal protocol number (`sll.ltype`: 802.2 LLC, CAN …) that is not
//! dissected further. SLL2 adds the interface index.
//!
//! Not supported: Netlink and GRE payloads beyond their protocol field (a GRE header type
//! still dispatches its EtherType), the Linux-internal protocols.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Address, LinkType, PacketInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail, u8_at};
use crate::proto::eth::ethertype;

/// The SLL (v1) header.
pub const SLL_HEADER_LEN: usize = 16;
/// The SLL2 header.
pub const SLL2_HEADER_LEN: usize = 20;
/// Protocol values up to this are Linux-internal protocol numbers, not EtherTypes (Linux's own
/// rule, "yes, 1536", in `if_ether.h` terms `ETH_P_802_3_MIN`).
pub const MAX_LINUX_PROTOCOL: u16 = 1536;
/// The address field's size: longer link-layer addresses are cut.
pub const ADDR_FIELD_LEN: usize = 8;

/// ARPHRD link-layer address types that change how the header is read.
pub mod hatype {
    pub const ETHER: u16 = 1;
    pub const LOOPBACK: u16 = 772;
    pub const IPGRE: u16 = 778;
    pub const NETLINK: u16 = 824;

    /// Wireshark's name for an ARPHRD value.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "Ethernet",
            6 => "IEEE 802",
            24 => "IEEE 1394",
            512 => "PPP",
            768 => "IP over IP",
            769 => "IPv6 over IPv6",
            772 => "Loopback",
            776 => "IPv6 over IPv4",
            778 => "IP over GRE",
            801 => "IEEE 802.11",
            803 => "IEEE 802.11 + radiotap header",
            804 => "IEEE 802.15.4",
            824 => "Netlink",
            65534 => "None",
            65535 => "Void",
            _ => return None,
        })
    }
}

/// `sll.pkttype` values (`PACKET_*` in `linux/if_packet.h`).
pub mod pkttype {
    pub const OUTGOING: u16 = 4;

    /// Wireshark's name for a packet type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "Unicast to us",
            1 => "Broadcast",
            2 => "Multicast",
            3 => "Unicast to another host",
            4 => "Sent by us",
            _ => return None,
        })
    }
}

/// Linux-internal protocol numbers (`sll.ltype`).
fn ltype_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0x0001 => "Raw 802.3",
        0x0003 => "All",
        0x0004 => "802.2 LLC",
        0x0005 => "SNAP",
        0x0007 => "PPP-HDLC",
        0x000c => "CAN",
        0x000d => "CAN FD",
        0x0010 => "IrDA",
        0x0011 => "ISI",
        0x0016 => "IEEE 802.15.4",
        0x00f5 => "Phonet",
        0x00f6 => "CAIF",
        _ => return None,
    })
}

/// Where the fields of each header version are.
#[derive(Debug, Clone, Copy)]
struct Layout {
    header_len: usize,
    pkttype: usize,
    /// Whether the packet type is one byte (SLL2) or two (SLL).
    pkttype_u8: bool,
    hatype: usize,
    halen: usize,
    halen_u8: bool,
    addr: usize,
    protocol: usize,
    ifindex: Option<usize>,
}

const SLL: Layout = Layout {
    header_len: SLL_HEADER_LEN,
    pkttype: 0,
    pkttype_u8: false,
    hatype: 2,
    halen: 4,
    halen_u8: false,
    addr: 6,
    protocol: 14,
    ifindex: None,
};

const SLL2: Layout = Layout {
    header_len: SLL2_HEADER_LEN,
    protocol: 0,
    ifindex: Some(4),
    hatype: 8,
    pkttype: 10,
    pkttype_u8: true,
    halen: 11,
    halen_u8: true,
    addr: 12,
};

/// A view of an SLL or SLL2 header whose length has been checked.
#[derive(Debug, Clone, Copy)]
pub struct SllHeader<'a> {
    buf: &'a [u8],
    layout: Layout,
}

impl<'a> SllHeader<'a> {
    /// Checks a whole SLL (v1) header.
    pub fn new_v1(buf: &'a [u8]) -> Result<SllHeader<'a>, Malformed> {
        SllHeader::checked(buf, SLL)
    }

    /// Checks a whole SLL2 header.
    pub fn new_v2(buf: &'a [u8]) -> Result<SllHeader<'a>, Malformed> {
        SllHeader::checked(buf, SLL2)
    }

    fn checked(buf: &'a [u8], layout: Layout) -> Result<SllHeader<'a>, Malformed> {
        if buf.len() < layout.header_len {
            return Err(Malformed::new(
                &PROTO,
                buf.len(),
                "truncated Linux cooked header",
            ));
        }
        Ok(SllHeader { buf, layout })
    }

    pub fn header_len(&self) -> usize {
        self.layout.header_len
    }

    pub fn pkttype(&self) -> u16 {
        match self.layout.pkttype_u8 {
            true => u16::from(u8_at(self.buf, self.layout.pkttype)),
            false => be16(self.buf, self.layout.pkttype),
        }
    }

    pub fn hatype(&self) -> u16 {
        be16(self.buf, self.layout.hatype)
    }

    /// The link-layer address length as sent (may exceed the 8-byte field).
    pub fn halen(&self) -> u16 {
        match self.layout.halen_u8 {
            true => u16::from(u8_at(self.buf, self.layout.halen)),
            false => be16(self.buf, self.layout.halen),
        }
    }

    /// The whole 8-byte address field.
    pub fn addr_field(&self) -> &'a [u8] {
        slice(
            self.buf,
            self.layout.addr,
            self.layout.addr + ADDR_FIELD_LEN,
        )
    }

    pub fn protocol(&self) -> u16 {
        be16(self.buf, self.layout.protocol)
    }

    /// SLL2's interface index.
    pub fn ifindex(&self) -> Option<u32> {
        self.layout.ifindex.map(|at| be32(self.buf, at))
    }

    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.layout.header_len)
    }
}

/// The SLL (v1) dissector.
pub struct Sll;

impl Dissector for Sll {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::LinkType, LinkType::LINUX_SLL.0)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        dissect(false, data, offset, pi, cx)
    }
}

/// The SLL2 dissector.
pub struct Sll2;

impl Dissector for Sll2 {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::LinkType, LinkType::LINUX_SLL2.0)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        dissect(true, data, offset, pi, cx)
    }
}

fn dissect<'a>(
    v2: bool,
    data: &'a [u8],
    offset: usize,
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
) -> Result<Next<'a>, Malformed> {
        let want = if v2 { SLL2_HEADER_LEN } else { SLL_HEADER_LEN };
        let emit = cx.layer(&PROTO, Span::new(offset, want.min(data.len())));
        if emit {
            // One protocol (`sll.*` fields) for both versions; tshark's tree says which.
            cx.append(|t| t.push_str(if v2 { " v2" } else { " v1" }));
        }
        if let Some(info) = cx.info("SLL") {
            info.clear();
        }
        let h = match v2 {
            true => SllHeader::new_v2(data)?,
            false => SllHeader::new_v1(data)?,
        };
        let (proto, hatype, halen) = (h.protocol(), h.hatype(), h.halen());
        let addr_len = usize::from(halen).min(ADDR_FIELD_LEN);
        let addr = h.addr_field();
        if !pi.quoted && halen == 6 {
            pi.l2_src = Some(array(addr, 0));
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            cols.src = match halen {
                4 => Address::Ipv4(array(addr, 0)),
                6 => Address::Ether(array(addr, 0)),
                _ => Address::None,
            };
            cols.info.push_str(pkttype::name(u64::from(h.pkttype())).unwrap_or("Unknown"));
        }
        if emit {
            let l = h.layout;
            let at = |o: usize, n: usize| Span::new(offset + o, n);
            let proto_field = protocol_field(proto, hatype);
            if v2 {
                cx.field(proto_field, at(l.protocol, 2), Value::U(u64::from(proto)));
                let ifindex = u64::from(h.ifindex().unwrap_or(0));
                cx.field(&IFINDEX, at(l.ifindex.unwrap_or(4), 4), Value::U(ifindex));
                cx.field(&HATYPE, at(l.hatype, 2), Value::U(u64::from(hatype)));
                cx.field(&PKTTYPE, at(l.pkttype, 1), Value::U(u64::from(h.pkttype())));
                cx.field(&HALEN, at(l.halen, 1), Value::U(u64::from(halen)));
            } else {
                cx.field(&PKTTYPE, at(l.pkttype, 2), Value::U(u64::from(h.pkttype())));
                cx.field(&HATYPE, at(l.hatype, 2), Value::U(u64::from(hatype)));
                cx.field(&HALEN, at(l.halen, 2), Value::U(u64::from(halen)));
            }
            let addr_span = at(l.addr, addr_len);
            match halen {
                0 => {}
                4 => cx.field(&SRC_IPV4, addr_span, Value::Ipv4(array(addr, 0))),
                6 => cx.field(&SRC_ETH, addr_span, Value::Ether(array(addr, 0))),
                _ => cx.field(&SRC_OTHER, addr_span, Value::Bytes(slice(addr, 0, addr_len))),
            }
            if addr_len < ADDR_FIELD_LEN {
                let unused = slice(addr, addr_len, ADDR_FIELD_LEN);
                cx.field(
                    &UNUSED,
                    at(l.addr + addr_len, unused.len()),
                    Value::Bytes(unused),
                );
            }
            if !v2 {
                cx.field(proto_field, at(l.protocol, 2), Value::U(u64::from(proto)));
            }
        }
        let payload_offset = offset + h.header_len();
        if proto <= MAX_LINUX_PROTOCOL || hatype == hatype::NETLINK {
            return Ok(Next::Dispatch {
                table: Table::LinkType,
                key: NOT_DISSECTED,
                data: h.payload(),
                offset: payload_offset,
            });
        }
        if hatype != hatype::IPGRE {
            cx.protocols.push("ethertype");
        }
        Ok(Next::Dispatch {
            table: Table::EtherType,
            key: u32::from(proto),
            data: h.payload(),
            offset: payload_offset,
        })
}

/// A link-type key no dissector registers: the payload is shown as data.
const NOT_DISSECTED: u32 = u32::MAX;

/// Which field names the protocol value: a Linux protocol number, a GRE protocol type, or an
/// EtherType.
fn protocol_field(proto: u16, hatype: u16) -> &'static FieldDef {
    if proto <= MAX_LINUX_PROTOCOL {
        &LTYPE
    } else if hatype == hatype::IPGRE {
        &GRETYPE
    } else {
        &ETYPE
    }
}

pub static PROTO: Proto = Proto {
    name: "sll",
    long_name: "Linux cooked capture",
    fields: &[
        &PKTTYPE, &HATYPE, &HALEN, &SRC_ETH, &SRC_IPV4, &SRC_OTHER, &UNUSED, &LTYPE, &GRETYPE,
        &ETYPE, &TRAILER, &IFINDEX,
    ],
    summary: &[],
};

pub static PKTTYPE: FieldDef =
    FieldDef::new("sll.pkttype", "Packet type", Kind::Dec).with_names(pkttype::name);
pub static HATYPE: FieldDef =
    FieldDef::new("sll.hatype", "Link-layer address type", Kind::Dec).with_names(hatype::name);
pub static HALEN: FieldDef = FieldDef::new("sll.halen", "Link-layer address length", Kind::Dec);
pub static SRC_ETH: FieldDef = FieldDef::new("sll.src.eth", "Source", Kind::Ether);
pub static SRC_IPV4: FieldDef = FieldDef::new("sll.src.ipv4", "Source", Kind::Ipv4);
pub static SRC_OTHER: FieldDef = FieldDef::new("sll.src.other", "Source", Kind::Bytes);
pub static UNUSED: FieldDef = FieldDef::new("sll.unused", "Unused", Kind::Bytes);
pub static LTYPE: FieldDef =
    FieldDef::new("sll.ltype", "Protocol", Kind::Hex(4)).with_names(ltype_name);
pub static GRETYPE: FieldDef =
    FieldDef::new("sll.gretype", "Protocol", Kind::Hex(4)).with_names(ethertype::name);
pub static ETYPE: FieldDef =
    FieldDef::new("sll.etype", "Protocol", Kind::Hex(4)).with_names(ethertype::name);
/// Bytes after the payload (emitted by the registry's trailer step).
pub static TRAILER: FieldDef = FieldDef::new("sll.trailer", "Trailer", Kind::Bytes);
pub static IFINDEX: FieldDef = FieldDef::new("sll.ifindex", "Interface index", Kind::Dec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::sll2::MutableSLL2Packet;

    #[rustfmt::skip]
    const SLL1: [u8; 18] = [
        0x00, 0x04,                                     // packet type: sent by us
        0x00, 0x01,                                     // ARPHRD_ETHER
        0x00, 0x06,                                     // address length
        0x02, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // address + 2 unused bytes
        0x08, 0x00,                                     // IPv4
        0x45, 0x00,                                     // payload
    ];

    fn sll2(protocol: u16, halen: u8, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; SLL2_HEADER_LEN + payload.len()];
        let mut p = MutableSLL2Packet::new(&mut buf).unwrap();
        p.set_protocol_type(pnet_packet::ethernet::EtherType(protocol));
        p.set_interface_index(2);
        p.set_arphrd_type(1);
        p.set_packet_type(2);
        p.set_link_layer_address_length(halen);
        p.set_link_layer_address(&[2, 0x10, 0, 0, 0, 2, 0, 0]);
        p.set_payload(payload);
        buf
    }

    fn run(
        lt: LinkType,
        buf: &[u8],
    ) -> (Result<Next<'_>, Malformed>, PacketInfo, crate::Columns, Vec<&'static str>) {
        let (mut stack, mut sink) = (ProtoStack::default(), NullSink);
        let mut pi = PacketInfo::default();
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = match lt {
            LinkType::LINUX_SLL2 => Sll2.dissect(buf, 0, &mut pi, &mut cx),
            _ => Sll.dissect(buf, 0, &mut pi, &mut cx),
        };
        (r, pi, cols, stack.as_slice().to_vec())
    }

    #[test]
    fn deconstruct() {
        let h = SllHeader::new_v1(&SLL1).unwrap();
        assert_eq!((h.pkttype(), h.hatype(), h.halen(), h.protocol()), (4, 1, 6, 0x0800));
        assert_eq!(h.payload(), &[0x45, 0]);
        let buf = sll2(0x86dd, 6, &[0x60]);
        let h = SllHeader::new_v2(&buf).unwrap();
        assert_eq!((h.pkttype(), h.hatype(), h.halen(), h.protocol()), (2, 1, 6, 0x86dd));
        assert_eq!((h.ifindex(), h.payload()), (Some(2), &[0x60][..]));
    }

    #[test]
    fn check_len() {
        for n in 0..SLL_HEADER_LEN {
            assert!(SllHeader::new_v1(&SLL1[..n]).is_err());
        }
        let buf = sll2(0x0800, 6, &[]);
        for n in 0..SLL2_HEADER_LEN {
            assert!(SllHeader::new_v2(&buf[..n]).is_err());
        }
    }

    #[test]
    fn truncated_at_every_byte() {
        let buf = sll2(0x0800, 6, &[0x45]);
        for n in 0..buf.len() {
            let (r, ..) = run(LinkType::LINUX_SLL2, &buf[..n]);
            assert_eq!(r.is_ok(), n >= SLL2_HEADER_LEN);
        }
    }

    #[test]
    fn dispatches_ethertype_and_records_source() {
        let (r, pi, cols, stack) = run(LinkType::LINUX_SLL, &SLL1);
        let Ok(Next::Dispatch { table, key, offset, .. }) = r else { panic!("no dispatch") };
        assert_eq!((table, key, offset), (Table::EtherType, 0x0800, 16));
        assert_eq!(pi.l2_src, Some([2, 0x10, 0, 0, 0, 1]));
        assert_eq!(cols.src, Address::Ether([2, 0x10, 0, 0, 0, 1]));
        assert_eq!(cols.info, "Sent by us");
        assert_eq!(stack, ["sll", "ethertype"]);
    }

    #[test]
    fn linux_protocols_are_not_ethertypes() {
        // 0x0004 is 802.2 LLC, a Linux protocol number: shown as data.
        let buf = sll2(0x0004, 6, &[0x42, 0x42, 3]);
        let (r, _, _, stack) = run(LinkType::LINUX_SLL2, &buf);
        assert!(matches!(r, Ok(Next::Dispatch { table: Table::LinkType, key: NOT_DISSECTED, .. })));
        assert_eq!(stack, ["sll"]);
    }

    #[test]
    fn unknown_values_kept() {
        // An 11-byte address is cut to the 8-byte field; no unused bytes remain.
        let buf = sll2(0x0800, 11, &[]);
        let (r, ..) = run(LinkType::LINUX_SLL2, &buf);
        assert!(r.is_ok());
        let h = SllHeader::new_v2(&buf).unwrap();
        assert_eq!(h.halen(), 11);
        assert_eq!(h.addr_field().len(), 8);
    }
}
