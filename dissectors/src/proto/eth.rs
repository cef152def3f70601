//! Ethernet II (DIX) framing, IEEE 802.3.
//!
//! A 14-byte header: destination, source, and a type field that is an EtherType when it is
//! 0x0600 or more, and an 802.3 payload length when it is 1500 or less (then LLC follows).
//!
//! Not supported: the frame check sequence (captures on Linux never include it), LLC/SNAP
//! dissection (802.3 frames end at the Ethernet layer), MAC name resolution.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Address, LinkType, PacketInfo};
use crate::proto::bytes::{array, be16, tail};

/// Types up to this value are 802.3 lengths, not EtherTypes (IEEE 802.3 clause 3.2.6).
pub const MAX_8023_LENGTH: u16 = 1500;

/// EtherType numbers (IEEE registry). Unknown values are kept as numbers.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD: u16 = 0x9100;

    /// Wireshark's name for an EtherType.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u16::try_from(v).ok()? {
            IPV4 => "IPv4",
            ARP => "ARP",
            VLAN => "802.1Q Virtual LAN",
            IPV6 => "IPv6",
            QINQ => "802.1ad Provider Bridge (Q-in-Q)",
            QINQ_OLD => "QinQ: old non-standard 802.1ad",
            0x8035 => "RARP",
            0x8863 => "PPPoE Discovery",
            0x8864 => "PPPoE Session",
            0x8847 => "MPLS label switched packet",
            0x88cc => "802.1 Link Layer Discovery Protocol (LLDP)",
            0x888e => "802.1X Authentication",
            _ => return None,
        })
    }
}

mod field {
    use std::ops::Range;
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const TYPE: Range<usize> = 12..14;
    pub const HEADER_LEN: usize = 14;
}

/// A view of an Ethernet header whose length has been checked.
#[derive(Debug, Clone, Copy)]
pub struct EthFrame<'a> {
    buf: &'a [u8],
}

impl<'a> EthFrame<'a> {
    /// Checks that `buf` holds a whole header.
    pub fn new_checked(buf: &'a [u8]) -> Result<EthFrame<'a>, Malformed> {
        if buf.len() < field::HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "frame shorter than Ethernet header"));
        }
        Ok(EthFrame { buf })
    }

    pub fn dst(&self) -> [u8; 6] {
        array(self.buf, field::DST.start)
    }

    pub fn src(&self) -> [u8; 6] {
        array(self.buf, field::SRC.start)
    }

    /// The type/length field.
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, field::TYPE.start)
    }

    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, field::HEADER_LEN)
    }
}

/// The Ethernet dissector.
pub struct Eth;

impl Dissector for Eth {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::LinkType, LinkType::ETHERNET.0)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let frame = EthFrame::new_checked(data)?;
        let (dst, src, ty) = (frame.dst(), frame.src(), frame.ethertype());
        if !pi.quoted {
            pi.l2_src = Some(src);
            pi.l2_dst = Some(dst);
        }
        if cx.layer(&PROTO, Span::new(offset, field::HEADER_LEN)) {
            let at = |r: std::ops::Range<usize>| Span::new(offset + r.start, r.len());
            emit_addr(cx, &DST, &DST_LG, &DST_IG, at(field::DST), dst);
            emit_addr(cx, &SRC, &SRC_LG, &SRC_IG, at(field::SRC), src);
            if ty <= MAX_8023_LENGTH {
                cx.field(&LEN, at(field::TYPE), Value::U(u64::from(ty)));
            } else {
                cx.field(&TYPE, at(field::TYPE), Value::U(u64::from(ty)));
            }
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            cols.src = Address::Ether(src);
            cols.dst = Address::Ether(dst);
            cols.protocol = "Ethernet";
        }
        if ty <= MAX_8023_LENGTH {
            // 802.3 with LLC: not dissected further.
            return Ok(Next::Done);
        }
        cx.protocols.push("ethertype");
        Ok(Next::Dispatch {
            table: Table::EtherType,
            key: u32::from(ty),
            data: frame.payload(),
            offset: offset + field::HEADER_LEN,
        })
    }
}

/// Emits an address with its LG/IG bits and the `eth.addr` alias, as Wireshark's tree has them.
fn emit_addr(
    cx: &mut Cx<'_>,
    def: &'static FieldDef,
    lg: &'static FieldDef,
    ig: &'static FieldDef,
    span: Span,
    mac: [u8; 6],
) {
    cx.field(def, span, Value::Ether(mac));
    cx.sink.open();
    cx.field(&ADDR, span, Value::Ether(mac));
    cx.field(lg, span, Value::Bool(mac[0] & 0x02 != 0));
    cx.field(ig, span, Value::Bool(mac[0] & 0x01 != 0));
    cx.sink.close();
}

pub static PROTO: Proto = Proto {
    name: "eth",
    long_name: "Ethernet II",
    fields: &[
        &DST, &DST_LG, &DST_IG, &SRC, &SRC_LG, &SRC_IG, &ADDR, &TYPE, &LEN,
    ],
    summary: &[("Src", &SRC), ("Dst", &DST)],
};

pub static DST: FieldDef = FieldDef::new("eth.dst", "Destination", Kind::Ether);
pub static DST_LG: FieldDef = FieldDef::new("eth.dst.lg", "LG bit", Kind::Bool);
pub static DST_IG: FieldDef = FieldDef::new("eth.dst.ig", "IG bit", Kind::Bool);
pub static SRC: FieldDef = FieldDef::new("eth.src", "Source", Kind::Ether);
pub static SRC_LG: FieldDef = FieldDef::new("eth.src.lg", "LG bit", Kind::Bool);
pub static SRC_IG: FieldDef = FieldDef::new("eth.src.ig", "IG bit", Kind::Bool);
pub static ADDR: FieldDef = FieldDef::new("eth.addr", "Address", Kind::Ether);
pub static TYPE: FieldDef =
    FieldDef::new("eth.type", "Type", Kind::Hex(4)).with_names(ethertype::name);
pub static LEN: FieldDef = FieldDef::new("eth.len", "Length", Kind::Dec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
    use pnet_base::MacAddr;

    fn build(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 14 + payload.len()];
        if let Some(mut p) = MutableEthernetPacket::new(&mut buf) {
            p.set_destination(MacAddr::new(0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
            p.set_source(MacAddr::new(2, 0x10, 0, 0, 0, 1));
            p.set_ethertype(pnet_packet::ethernet::EtherType(ty));
            p.set_payload(payload);
        }
        buf
    }

    #[test]
    fn deconstruct() {
        let buf = build(EtherTypes::Ipv4.0, &[0x45, 0]);
        let f = EthFrame::new_checked(&buf).unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(f.dst(), [0xff; 6]);
        assert_eq!(f.src(), [2, 0x10, 0, 0, 0, 1]);
        assert_eq!(f.ethertype(), 0x0800);
        assert_eq!(f.payload(), &[0x45, 0]);
    }

    #[test]
    fn check_len() {
        for n in 0..14 {
            assert!(EthFrame::new_checked(&[0u8; 14][..n]).is_err());
        }
        assert!(EthFrame::new_checked(&[0u8; 14]).is_ok());
    }

    #[test]
    fn dispatches_on_ethertype_and_stops_on_8023_length() {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        let buf = build(0x86dd, &[1, 2, 3]);
        match Eth.dissect(&buf, 0, &mut pi, &mut cx) {
            Ok(Next::Dispatch { table, key, data, offset }) => {
                assert_eq!((table, key, data, offset), (Table::EtherType, 0x86dd, &[1u8, 2, 3][..], 14));
            }
            other => panic!("unexpected {other:?}"),
        }
        let buf = build(46, &[0; 46]);
        assert!(matches!(Eth.dissect(&buf, 0, &mut pi, &mut cx), Ok(Next::Done)));
        assert_eq!(stack.as_slice(), &["eth", "ethertype", "eth"]);
    }
}
