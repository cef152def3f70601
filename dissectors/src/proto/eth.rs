//! Ethernet II (DIX) framing, IEEE 802.3.
//!
//! A 14-byte header: destination, source, and a type field that is an EtherType when it is
//! 0x0600 or more, and an 802.3 payload length when it is 1500 or less (then LLC follows).
//!
//! What follows the network layer's own length is padding (zero bytes up to the 60-byte
//! minimum frame), a trailer, and — on frames of 64 bytes or more with 4 spare bytes — what
//! Wireshark guesses is the frame check sequence: [`trailer`] shows them as tshark does.
//!
//! Not supported: FCS verification, Ethernet trailer heuristics (F5, VSS-Monitoring …),
//! LLC/SNAP dissection (an 802.3 frame's payload is shown as data), MAC name resolution.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Address, LinkType, PacketInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail};

/// Types up to this value are 802.3 lengths, not EtherTypes (IEEE 802.3 clause 3.2.6).
pub const MAX_8023_LENGTH: u16 = 1500;
/// The shortest frame without its FCS: shorter payloads are padded up to it (IEEE 802.3
/// clause 4.2.3.3).
pub const MIN_FRAME_LEN: usize = 60;
/// Wireshark guesses an FCS at the end of a trailer only in frames at least this long.
pub const MIN_FRAME_LEN_WITH_FCS: usize = 64;
/// The frame check sequence.
pub const FCS_LEN: usize = 4;
/// The Protocol column's name for a frame no upper layer names.
pub const COLUMN_NAME: &str = "Ethernet";

/// EtherType numbers (IEEE registry). Unknown values are kept as numbers.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const RARP: u16 = 0x8035;
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
            RARP => "RARP",
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
            emit_addr(cx, [&DST, &DST_RESOLVED, &DST_OUI], &DST_LG, &DST_IG, at(field::DST), dst);
            emit_addr(cx, [&SRC, &SRC_RESOLVED, &SRC_OUI], &SRC_LG, &SRC_IG, at(field::SRC), src);
            if ty <= MAX_8023_LENGTH {
                cx.field(&LEN, at(field::TYPE), Value::U(u64::from(ty)));
            } else {
                cx.field(&TYPE, at(field::TYPE), Value::U(u64::from(ty)));
            }
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            cols.src = Address::Ether(src);
            cols.dst = Address::Ether(dst);
            cols.protocol = COLUMN_NAME;
        }
        if ty <= MAX_8023_LENGTH {
            // 802.3: the type field is the payload's length (LLC, not dissected here); what
            // follows it is padding or trailer.
            if !pi.quoted {
                pi.net_len = Some(u32::from(ty));
            }
            return Ok(Next::Dispatch {
                table: Table::LinkType,
                key: crate::proto::NOT_DISSECTED,
                data: slice(frame.payload(), 0, usize::from(ty)),
                offset: offset + field::HEADER_LEN,
            });
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
    [def, resolved, oui]: [&'static FieldDef; 3],
    lg: &'static FieldDef,
    ig: &'static FieldDef,
    span: Span,
    mac: [u8; 6],
) {
    // The hidden `_resolved` and `.oui` items are what JSON shows of name resolution, which
    // stays off: the address itself, and its first three bytes as a number.
    let oui_value = Value::U(u64::from(mac[0]) << 16 | u64::from(mac[1]) << 8 | u64::from(mac[2]));
    cx.field(def, span, Value::Ether(mac));
    cx.sink.open();
    cx.field(resolved, span, Value::Ether(mac));
    cx.field(oui, span, oui_value);
    cx.field(&ADDR, span, Value::Ether(mac));
    cx.field(&ADDR_RESOLVED, span, Value::Ether(mac));
    cx.field(&ADDR_OUI, span, oui_value);
    let (l, i) = (mac[0] & 0x02 != 0, mac[0] & 0x01 != 0);
    cx.field(lg, span, Value::Bool(l));
    cx.field(&LG, span, Value::Bool(l));
    cx.field(ig, span, Value::Bool(i));
    cx.field(&IG, span, Value::Bool(i));
    cx.sink.close();
}

/// Whether `proto` is a link layer whose payload may be followed by padding and a trailer.
pub fn has_trailer(proto: &'static Proto) -> bool {
    std::ptr::eq(proto, &PROTO)
        || std::ptr::eq(proto, &crate::proto::vlan::PROTO)
        || std::ptr::eq(proto, &crate::proto::sll::PROTO)
}

/// Emits what follows the network layer in a link payload, into `owner`'s layer, as
/// Wireshark's `add_ethernet_trailer` does: `eth.padding` (all-zero bytes up to the 60-byte
/// minimum, in frames of at least 60 bytes), then for Ethernet itself a guessed `eth.fcs` (the
/// last 4 bytes, in frames of at least 64 bytes), then the rest as `eth.trailer` /
/// `vlan.trailer` / `sll.trailer`.
///
/// `payload` is the captured link payload, starting at frame offset `at`; `net_len` is the
/// network layer's own length and `frame_len` the frame's length on the wire.
pub fn trailer(
    owner: &'static Proto,
    payload: &[u8],
    at: usize,
    net_len: u32,
    frame_len: usize,
    cx: &mut Cx<'_>,
) {
    let net_len = net_len as usize;
    let reported = frame_len.saturating_sub(at);
    if net_len >= reported || !cx.wants(owner) {
        return;
    }
    let mut rest = tail(payload, net_len);
    let mut rest_at = at + net_len;
    let mut rest_reported = reported - net_len;
    cx.sink.layer(owner, Span::new(rest_at, rest.len()));
    let before = frame_len - rest_reported;
    if frame_len >= MIN_FRAME_LEN && before < MIN_FRAME_LEN {
        let pad = MIN_FRAME_LEN - before;
        if let Some(zeros) = rest.get(..pad).filter(|p| p.iter().all(|b| *b == 0)) {
            cx.field(&PADDING, Span::new(rest_at, pad), Value::Bytes(zeros));
            rest = tail(rest, pad);
            rest_at += pad;
            rest_reported -= pad;
        }
    }
    let mut fcs = None;
    if std::ptr::eq(owner, &PROTO) && frame_len >= MIN_FRAME_LEN_WITH_FCS && rest_reported >= FCS_LEN {
        rest_reported -= FCS_LEN;
        if rest.len() > rest_reported {
            fcs = rest.get(rest_reported..).filter(|f| f.len() == FCS_LEN).map(|f| be32(f, 0));
            rest = slice(rest, 0, rest_reported);
        }
    }
    if !rest.is_empty() {
        let def = if std::ptr::eq(owner, &crate::proto::vlan::PROTO) {
            &crate::proto::vlan::TRAILER
        } else if std::ptr::eq(owner, &crate::proto::sll::PROTO) {
            &crate::proto::sll::TRAILER
        } else {
            &TRAILER
        };
        cx.field(def, Span::new(rest_at, rest.len()), Value::Bytes(rest));
    }
    if let Some(fcs) = fcs {
        let span = Span::new(rest_at + rest.len(), FCS_LEN);
        cx.field(&FCS, span, Value::U(u64::from(fcs)));
        cx.field(&FCS_STATUS, Span::GENERATED, Value::U(2));
    }
}

pub static PROTO: Proto = Proto {
    name: "eth",
    long_name: "Ethernet II",
    fields: &[
        &DST, &DST_RESOLVED, &DST_OUI, &DST_LG, &DST_IG, &SRC, &SRC_RESOLVED, &SRC_OUI, &SRC_LG,
        &SRC_IG, &ADDR, &ADDR_RESOLVED, &ADDR_OUI, &LG, &IG, &TYPE, &LEN, &PADDING, &TRAILER,
        &FCS, &FCS_STATUS,
    ],
    summary: &[("Src", &SRC), ("Dst", &DST)],
};

pub static DST: FieldDef = FieldDef::new("eth.dst", "Destination", Kind::Ether);
pub static DST_LG: FieldDef = FieldDef::new("eth.dst.lg", "LG bit", Kind::Bool).bits(0x20000, 24).tfs("Locally administered address (this is NOT the factory default)", "Globally unique address (factory default)");
pub static DST_IG: FieldDef = FieldDef::new("eth.dst.ig", "IG bit", Kind::Bool).bits(0x10000, 24).tfs("Group address (multicast/broadcast)", "Individual address (unicast)");
pub static SRC: FieldDef = FieldDef::new("eth.src", "Source", Kind::Ether);
pub static SRC_LG: FieldDef = FieldDef::new("eth.src.lg", "LG bit", Kind::Bool).bits(0x20000, 24).tfs("Locally administered address (this is NOT the factory default)", "Globally unique address (factory default)");
pub static SRC_IG: FieldDef = FieldDef::new("eth.src.ig", "IG bit", Kind::Bool).bits(0x10000, 24).tfs("Group address (multicast/broadcast)", "Individual address (unicast)");
pub static ADDR: FieldDef = FieldDef::new("eth.addr", "Address", Kind::Ether);
pub static DST_RESOLVED: FieldDef =
    FieldDef::new("eth.dst_resolved", "Destination (resolved)", Kind::Ether).hidden();
pub static DST_OUI: FieldDef = FieldDef::new("eth.dst.oui", "Destination OUI", Kind::Dec).hidden();
pub static SRC_RESOLVED: FieldDef =
    FieldDef::new("eth.src_resolved", "Source (resolved)", Kind::Ether).hidden();
pub static SRC_OUI: FieldDef = FieldDef::new("eth.src.oui", "Source OUI", Kind::Dec).hidden();
pub static ADDR_RESOLVED: FieldDef =
    FieldDef::new("eth.addr_resolved", "Address (resolved)", Kind::Ether).hidden();
pub static ADDR_OUI: FieldDef = FieldDef::new("eth.addr.oui", "Address OUI", Kind::Dec).hidden();
/// Either address's LG bit (tshark adds it beside `eth.dst.lg` / `eth.src.lg`).
pub static LG: FieldDef = FieldDef::new("eth.lg", "LG bit", Kind::Bool).hidden().bits(0x20000, 24).tfs("Locally administered address (this is NOT the factory default)", "Globally unique address (factory default)");
pub static IG: FieldDef = FieldDef::new("eth.ig", "IG bit", Kind::Bool).hidden().bits(0x10000, 24).tfs("Group address (multicast/broadcast)", "Individual address (unicast)");
pub static TYPE: FieldDef =
    FieldDef::new("eth.type", "Type", Kind::Hex(4)).with_names(ethertype::name);
pub static LEN: FieldDef = FieldDef::new("eth.len", "Length", Kind::Dec);
pub static PADDING: FieldDef = FieldDef::new("eth.padding", "Padding", Kind::Bytes);
pub static TRAILER: FieldDef = FieldDef::new("eth.trailer", "Trailer", Kind::Bytes);
pub static FCS: FieldDef = FieldDef::new("eth.fcs", "Frame check sequence", Kind::Hex(8));
/// Always 2, "Unverified" (Wireshark does not check the FCS by default).
pub static FCS_STATUS: FieldDef = FieldDef::new("eth.fcs.status", "FCS Status", Kind::Dec);

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
        let buf = build(46, &[0; 50]);
        match Eth.dissect(&buf, 0, &mut pi, &mut cx) {
            Ok(Next::Dispatch { table, key, data, .. }) => {
                assert_eq!((table, key, data.len()), (Table::LinkType, crate::proto::NOT_DISSECTED, 46));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(pi.net_len, Some(46));
        assert_eq!(stack.as_slice(), &["eth", "ethertype", "eth"]);
    }
}
