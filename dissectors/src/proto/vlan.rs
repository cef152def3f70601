//! IEEE 802.1Q VLAN tags (EtherTypes 0x8100 and the pre-standard QinQ 0x9100) and IEEE 802.1ad
//! service tags (0x88a8), which Wireshark dissects as two protocols: `vlan` and `ieee8021ad`.
//!
//! A tag is 4 bytes after the EtherType that announced it: the TCI (priority, drop-eligible
//! indicator, VLAN id) and the next type/length field. Tags nest (QinQ): each one dispatches
//! the next EtherType, so `frame.protocols` reads `eth:ethertype:ieee8021ad:ethertype:vlan:…`.
//!
//! The first two VLAN ids seen go to [`PacketInfo::vlan`], outermost first: flows are keyed on
//! them. A type field of 1500 or less is an 802.3 length (LLC follows, not dissected here).
//!
//! Not supported: VLAN name resolution (`vlan.id_name`), LLC/SNAP and IPX payloads.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::PacketInfo;
use crate::proto::bytes::{be16, tail};
use crate::proto::eth::{ethertype, MAX_8023_LENGTH};
use std::fmt::Write as _;

/// A tag: TCI plus the next type field.
pub const TAG_LEN: usize = 4;

mod field {
    pub const TCI: usize = 0;
    pub const TYPE: usize = 2;
}

/// A view of one 4-byte tag whose length has been checked.
#[derive(Debug, Clone, Copy)]
pub struct VlanTag<'a> {
    buf: &'a [u8],
}

impl<'a> VlanTag<'a> {
    /// Checks that `buf` holds a whole tag (`proto` names the layer in the report).
    pub fn new_checked(buf: &'a [u8], proto: &'static Proto) -> Result<VlanTag<'a>, Malformed> {
        if buf.len() < TAG_LEN {
            return Err(Malformed::new(proto, buf.len(), "truncated VLAN tag"));
        }
        Ok(VlanTag { buf })
    }

    /// The tag control information: priority (3 bits), DEI (1), VLAN id (12).
    pub fn tci(&self) -> u16 {
        be16(self.buf, field::TCI)
    }

    /// Priority code point (IEEE 802.1p), 0–7.
    pub fn priority(&self) -> u16 {
        self.tci() >> 13
    }

    /// Drop eligible indicator (formerly CFI).
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// The 12-bit VLAN identifier.
    pub fn id(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// The next EtherType, or an 802.3 length when 1500 or less.
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, field::TYPE)
    }

    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, TAG_LEN)
    }
}

/// Records the VLAN id in the first free slot of `pi.vlan` (outermost first).
fn record_vlan(pi: &mut PacketInfo, id: u16) {
    if pi.quoted {
        return;
    }
    if let Some(slot) = pi.vlan.iter_mut().find(|v| **v == 0) {
        *slot = id;
    }
}

/// The 802.1Q dissector (`vlan`).
pub struct Vlan;

impl Dissector for Vlan {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[
            Bind(Table::EtherType, ethertype::VLAN as u32),
            Bind(Table::EtherType, ethertype::QINQ_OLD as u32),
        ]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, TAG_LEN.min(data.len())));
        if let Some(info) = cx.info("VLAN") {
            info.clear();
        }
        let tag = VlanTag::new_checked(data, &PROTO)?;
        record_vlan(pi, tag.id());
        if let Some(info) = cx.info("VLAN") {
            let _ = write!(
                info,
                "PRI: {}  DEI: {}  ID: {}",
                tag.priority(),
                u8::from(tag.dei()),
                tag.id()
            );
        }
        let ty = tag.ethertype();
        if emit {
            let tci = Span::new(offset, 2);
            cx.field(&PRIORITY, tci, Value::U(u64::from(tag.priority())));
            cx.field(&DEI, tci, Value::Bool(tag.dei()));
            cx.field(&ID, tci, Value::U(u64::from(tag.id())));
            let at = Span::new(offset + field::TYPE, 2);
            if ty <= MAX_8023_LENGTH {
                cx.field(&LEN, at, Value::U(u64::from(ty)));
            } else {
                cx.field(&ETYPE, at, Value::U(u64::from(ty)));
            }
        }
        if ty <= MAX_8023_LENGTH && !pi.quoted {
            pi.net_len = Some(u32::from(ty));
        }
        Ok(next(ty, tag.payload(), offset + TAG_LEN, cx))
    }
}

/// What follows a tag: the next EtherType, or for an 802.3 length the LLC payload, shown as
/// data (its bytes past the length are the tag's trailer, as for Ethernet).
fn next<'a>(ty: u16, payload: &'a [u8], offset: usize, cx: &mut Cx<'_>) -> Next<'a> {
    if ty <= MAX_8023_LENGTH {
        return Next::Dispatch {
            table: Table::LinkType,
            key: crate::proto::NOT_DISSECTED,
            data: crate::proto::bytes::slice(payload, 0, usize::from(ty)),
            offset,
        };
    }
    cx.protocols.push("ethertype");
    Next::Dispatch {
        table: Table::EtherType,
        key: u32::from(ty),
        data: payload,
        offset,
    }
}

/// The 802.1ad service-tag dissector (`ieee8021ad`, EtherType 0x88a8).
pub struct Ieee8021ad;

impl Dissector for Ieee8021ad {
    fn proto(&self) -> &'static Proto {
        &AD_PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::EtherType, ethertype::QINQ as u32)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&AD_PROTO, Span::new(offset, TAG_LEN.min(data.len())));
        if let Some(info) = cx.info("IEEE 802.1ad") {
            info.clear();
        }
        let tag = VlanTag::new_checked(data, &AD_PROTO)?;
        record_vlan(pi, tag.id());
        if let Some(info) = cx.info("IEEE 802.1ad") {
            let _ = write!(
                info,
                "PRI: {}  DEI: {}  ID: {}",
                tag.priority(),
                u8::from(tag.dei()),
                tag.id()
            );
        }
        let ty = tag.ethertype();
        if emit {
            let tci = Span::new(offset, 2);
            cx.field(&AD_PRIORITY, tci, Value::U(u64::from(tag.priority())));
            cx.field(&AD_DEI, tci, Value::U(u64::from(tag.dei())));
            cx.field(&AD_ID, tci, Value::U(u64::from(tag.id())));
            cx.field(
                &AH_ETYPE,
                Span::new(offset + field::TYPE, 2),
                Value::U(u64::from(ty)),
            );
        }
        Ok(next(ty, tag.payload(), offset + TAG_LEN, cx))
    }
}

fn priority_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Best Effort (default)",
        1 => "Background",
        2 => "Excellent Effort",
        3 => "Critical Applications",
        4 => "Video, < 100ms latency and jitter",
        5 => "Voice, < 10ms latency and jitter",
        6 => "Internetwork Control",
        7 => "Network Control",
        _ => return None,
    })
}

pub static PROTO: Proto = Proto {
    name: "vlan",
    long_name: "802.1Q Virtual LAN",
    fields: &[&PRIORITY, &DEI, &ID, &ETYPE, &LEN, &TRAILER],
    summary: &[("PRI", &PRIORITY), ("DEI", &DEI), ("ID", &ID)],
};

pub static PRIORITY: FieldDef =
    FieldDef::new("vlan.priority", "Priority", Kind::Dec).with_names(priority_name).bits(0xe000, 16);
pub static DEI: FieldDef = FieldDef::new("vlan.dei", "DEI", Kind::Bool).bits(0x1000, 16).tfs("Eligible", "Ineligible");
pub static ID: FieldDef = FieldDef::new("vlan.id", "ID", Kind::Dec).bits(0xfff, 16);
pub static ETYPE: FieldDef =
    FieldDef::new("vlan.etype", "Type", Kind::Hex(4)).with_names(ethertype::name);
pub static LEN: FieldDef = FieldDef::new("vlan.len", "Length", Kind::Dec);
/// Bytes after the payload the tag carried (emitted by the registry's trailer step).
pub static TRAILER: FieldDef = FieldDef::new("vlan.trailer", "Trailer", Kind::Bytes);

pub static AD_PROTO: Proto = Proto {
    name: "ieee8021ad",
    long_name: "IEEE 802.1ad",
    fields: &[&AD_PRIORITY, &AD_DEI, &AD_ID, &AH_ETYPE],
    summary: &[("ID", &AD_ID)],
};

pub static AD_PRIORITY: FieldDef =
    FieldDef::new("ieee8021ad.priority", "Priority", Kind::Dec).with_names(priority_name).bits(0xe000, 16);
/// FT_UINT16 in Wireshark (not a boolean), so it prints as 0 or 1.
pub static AD_DEI: FieldDef = FieldDef::new("ieee8021ad.dei", "DEI", Kind::Dec).bits(0x1000, 16);
pub static AD_ID: FieldDef = FieldDef::new("ieee8021ad.id", "ID", Kind::Dec).bits(0xfff, 16);
/// Wireshark shows the 802.1ad tag's type with the 802.1ah dissector's field.
pub static AH_ETYPE: FieldDef =
    FieldDef::new("ieee8021ah.etype", "Type", Kind::Hex(4)).with_names(ethertype::name);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::vlan::{ClassOfService, MutableVlanPacket};

    fn build(pri: u8, dei: u8, id: u16, ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; TAG_LEN + payload.len()];
        let mut p = MutableVlanPacket::new(&mut buf).unwrap();
        p.set_priority_code_point(ClassOfService::new(pri));
        p.set_drop_eligible_indicator(dei);
        p.set_vlan_identifier(id);
        p.set_ethertype(pnet_packet::ethernet::EtherType(ty));
        p.set_payload(payload);
        buf
    }

    fn run<'a>(
        d: &dyn Dissector,
        buf: &'a [u8],
        pi: &mut PacketInfo,
    ) -> (Result<Next<'a>, Malformed>, String, Vec<&'static str>) {
        let (mut stack, mut sink) = (ProtoStack::default(), NullSink);
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = d.dissect(buf, 14, pi, &mut cx);
        (r, cols.info, stack.as_slice().to_vec())
    }

    #[test]
    fn deconstruct() {
        let buf = build(5, 1, 100, 0x0800, &[0x45, 0]);
        let tag = VlanTag::new_checked(&buf, &PROTO).unwrap();
        assert_eq!((tag.priority(), tag.dei(), tag.id()), (5, true, 100));
        assert_eq!(tag.ethertype(), 0x0800);
        assert_eq!(tag.payload(), &[0x45, 0]);
    }

    #[test]
    fn check_len() {
        let buf = build(0, 0, 100, 0x0800, &[]);
        for n in 0..TAG_LEN {
            assert!(VlanTag::new_checked(&buf[..n], &PROTO).is_err());
        }
        assert!(VlanTag::new_checked(&buf, &PROTO).is_ok());
    }

    #[test]
    fn truncated_at_every_byte() {
        let buf = build(0, 0, 100, 0x0800, &[1, 2]);
        for n in 0..buf.len() {
            let mut pi = PacketInfo::default();
            let (r, _, stack) = run(&Vlan, &buf[..n], &mut pi);
            assert_eq!(r.is_ok(), n >= TAG_LEN, "{n}");
            assert_eq!(stack.first(), Some(&"vlan"));
        }
    }

    #[test]
    fn qinq_records_both_ids_outermost_first() {
        let inner = build(0, 0, 101, 0x0800, &[0x45]);
        let outer = build(1, 0, 100, 0x8100, &inner);
        let mut pi = PacketInfo::default();
        let (r, info, stack) = run(&Ieee8021ad, &outer, &mut pi);
        assert_eq!(info, "PRI: 1  DEI: 0  ID: 100");
        assert_eq!(stack, ["ieee8021ad", "ethertype"]);
        let Ok(Next::Dispatch { table, key, data, offset }) = r else {
            panic!("no dispatch")
        };
        assert_eq!((table, key, offset), (Table::EtherType, 0x8100, 18));
        let (r, _, _) = run(&Vlan, data, &mut pi);
        assert!(matches!(r, Ok(Next::Dispatch { key: 0x0800, .. })));
        assert_eq!(pi.vlan, [100, 101]);
        // A third tag has no slot left; it is still dissected.
        let (r, _, _) = run(&Vlan, &inner, &mut pi);
        assert!(r.is_ok());
        assert_eq!(pi.vlan, [100, 101]);
    }

    #[test]
    fn length_field_stops_at_llc() {
        let buf = build(0, 0, 7, 46, &[0xaa; 46]);
        let mut pi = PacketInfo::default();
        let (r, _, stack) = run(&Vlan, &buf, &mut pi);
        let Ok(Next::Dispatch { table, data, .. }) = r else { panic!("no dispatch") };
        assert_eq!((table, data.len()), (Table::LinkType, 46));
        assert_eq!(stack, ["vlan"]);
        assert_eq!(pi.net_len, Some(46));
    }

    #[test]
    fn quoted_tags_leave_packet_info_alone() {
        let buf = build(0, 0, 9, 0x0800, &[]);
        let mut pi = PacketInfo { quoted: true, ..PacketInfo::default() };
        let _ = run(&Vlan, &buf, &mut pi);
        assert_eq!(pi.vlan, [0, 0]);
    }

    #[test]
    fn info_column() {
        let buf = build(5, 0, 100, 0x0800, &[]);
        let mut pi = PacketInfo::default();
        assert_eq!(run(&Vlan, &buf, &mut pi).1, "PRI: 5  DEI: 0  ID: 100");
    }
}
