//! BSD loopback encapsulation: link type NULL (0), a 4-byte address family in the capturing
//! host's byte order, and LOOP (108, OpenBSD), the same in network byte order. Wireshark
//! names both protocol `null`.
//!
//! NULL's byte order is unknown to the reader, so it is guessed as tshark does: read little
//! endian (the common host order); a value with bits in the upper half is either a family
//! written big-endian (swapped back) or, from old Linux libpcap, an EtherType in the upper
//! two bytes (`null.type`). Families 2 (IPv4) and 24, 28, 30 (IPv6 on NetBSD/OpenBSD,
//! FreeBSD, Darwin) are dissected; others are shown as data.
//!
//! Not supported: PPP-in-HDLC (a 0xff03 header), OSI and IPX families.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{LinkType, PacketInfo};
use crate::proto::bytes::{array, tail};
use crate::proto::eth::{ethertype, MAX_8023_LENGTH};

/// The family (or type) header.
pub const HEADER_LEN: usize = 4;

/// BSD address families (`sys/socket.h` of each system).
pub mod family {
    pub const INET: u32 = 2;
    pub const INET6_BSD: u32 = 24;
    pub const INET6_FREEBSD: u32 = 28;
    pub const INET6_DARWIN: u32 = 30;

    /// Wireshark's name for a family.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match v {
            2 => "IP",
            7 => "OSI",
            16 => "Appletalk",
            23 => "Netware IPX/SPX",
            24 | 28 | 30 => "IPv6",
            _ => return None,
        })
    }

    /// The EtherType a family's payload is dissected as.
    pub fn ethertype(v: u32) -> Option<u16> {
        match v {
            INET => Some(super::ethertype::IPV4),
            INET6_BSD | INET6_FREEBSD | INET6_DARWIN => Some(super::ethertype::IPV6),
            _ => None,
        }
    }
}

/// What the 4-byte header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// An address family.
    Family(u32),
    /// An EtherType (old Linux loopback captures).
    EtherType(u16),
}

/// Reads a NULL header (host byte order, guessed).
pub fn read_null(buf: &[u8]) -> Result<Header, Malformed> {
    let raw: [u8; 4] = checked(buf)?;
    let mut v = u32::from_le_bytes(raw);
    if v & 0xffff_0000 != 0 {
        if v & 0xff00_0000 == 0 && v & 0x00ff_0000 < 0x0006_0000 {
            // A 16-bit family in the upper half, in the capturing host's order.
            v >>= 16;
        } else {
            // Written in the other byte order.
            v = v.swap_bytes();
        }
    }
    Ok(classify(v))
}

/// A value above the 802.3 length range is an EtherType, as Wireshark decides.
fn classify(v: u32) -> Header {
    match u16::try_from(v) {
        Ok(t) if t > MAX_8023_LENGTH => Header::EtherType(t),
        _ => Header::Family(v),
    }
}

/// Reads a LOOP header (network byte order).
pub fn read_loop(buf: &[u8]) -> Result<u32, Malformed> {
    checked(buf).map(u32::from_be_bytes)
}

fn checked(buf: &[u8]) -> Result<[u8; 4], Malformed> {
    if buf.len() < HEADER_LEN {
        return Err(Malformed::new(&PROTO, buf.len(), "truncated loopback header"));
    }
    Ok(array(buf, 0))
}

/// Dispatches the payload after a family: IPv4/IPv6, or data.
fn after_family(fam: u32, data: &[u8], offset: usize) -> Next<'_> {
    let payload = tail(data, HEADER_LEN);
    match family::ethertype(fam) {
        Some(t) => Next::Dispatch {
            table: Table::EtherType,
            key: u32::from(t),
            data: payload,
            offset: offset + HEADER_LEN,
        },
        None => Next::Dispatch {
            table: Table::LinkType,
            key: crate::proto::NOT_DISSECTED,
            data: payload,
            offset: offset + HEADER_LEN,
        },
    }
}

/// The NULL (link type 0) dissector.
pub struct Null;

impl Dissector for Null {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::LinkType, LinkType::NULL.0)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        _pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, HEADER_LEN.min(data.len())));
        if let Some(info) = cx.info("Null") {
            info.clear();
        }
        let h = read_null(data)?;
        let span = Span::new(offset, HEADER_LEN);
        match h {
            Header::Family(f) => {
                if emit {
                    cx.field(&FAMILY, span, Value::U(u64::from(f)));
                }
                Ok(after_family(f, data, offset))
            }
            Header::EtherType(t) => {
                if emit {
                    cx.field(&TYPE, span, Value::U(u64::from(t)));
                }
                // Wireshark calls the EtherType table directly: no `ethertype` layer.
                Ok(Next::Dispatch {
                    table: Table::EtherType,
                    key: u32::from(t),
                    data: tail(data, HEADER_LEN),
                    offset: offset + HEADER_LEN,
                })
            }
        }
    }
}

/// The LOOP (link type 108) dissector.
pub struct Loop;

impl Dissector for Loop {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::LinkType, LinkType::LOOP.0)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        _pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, HEADER_LEN.min(data.len())));
        if let Some(info) = cx.info("Null") {
            info.clear();
        }
        let f = read_loop(data)?;
        if emit {
            cx.field(&FAMILY, Span::new(offset, HEADER_LEN), Value::U(u64::from(f)));
        }
        Ok(after_family(f, data, offset))
    }
}

pub static PROTO: Proto = Proto {
    name: "null",
    long_name: "Null/Loopback",
    fields: &[&TYPE, &FAMILY],
    summary: &[],
};

pub static TYPE: FieldDef =
    FieldDef::new("null.type", "Type", Kind::Hex(4)).with_names(ethertype::name);
pub static FAMILY: FieldDef =
    FieldDef::new("null.family", "Family", Kind::Dec).with_names(family::name);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;

    fn run<'a>(d: &dyn Dissector, buf: &'a [u8]) -> Result<Next<'a>, Malformed> {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        d.dissect(buf, 0, &mut pi, &mut cx)
    }

    fn key(r: Result<Next<'_>, Malformed>) -> Option<(Table, u32)> {
        match r {
            Ok(Next::Dispatch { table, key, .. }) => Some((table, key)),
            _ => None,
        }
    }

    #[test]
    fn deconstruct() {
        assert_eq!(read_null(&2u32.to_le_bytes()).ok(), Some(Header::Family(2)));
        assert_eq!(read_null(&24u32.to_be_bytes()).ok(), Some(Header::Family(24)));
        assert_eq!(read_null(&[0, 0, 8, 0]).ok(), Some(Header::EtherType(0x0800)));
        assert_eq!(read_null(&[0, 0, 2, 0]).ok(), Some(Header::Family(2)));
        assert_eq!(read_loop(&2u32.to_be_bytes()).ok(), Some(2));
    }

    #[test]
    fn check_len() {
        for n in 0..HEADER_LEN {
            assert!(read_null(&[0, 0, 0, 2][..n]).is_err());
            assert!(run(&Loop, &[0, 0, 0, 2][..n]).is_err());
        }
    }

    #[test]
    fn truncated_at_every_byte() {
        let buf = [2, 0, 0, 0, 0x45, 0];
        for n in 0..buf.len() {
            assert_eq!(run(&Null, &buf[..n]).is_ok(), n >= HEADER_LEN);
        }
    }

    #[test]
    fn families_dispatch() {
        let ip = (Table::EtherType, 0x0800);
        let ip6 = (Table::EtherType, 0x86dd);
        assert_eq!(key(run(&Null, &[2, 0, 0, 0])), Some(ip));
        for f in [24u32, 28, 30] {
            assert_eq!(key(run(&Null, &f.to_le_bytes())), Some(ip6));
            assert_eq!(key(run(&Loop, &f.to_be_bytes())), Some(ip6));
        }
        assert_eq!(key(run(&Null, &[0, 0, 0x86, 0xdd])), Some(ip6));
    }

    #[test]
    fn unknown_values_kept() {
        let data = (Table::LinkType, crate::proto::NOT_DISSECTED);
        assert_eq!(key(run(&Null, &7u32.to_le_bytes())), Some(data));
        // LOOP is big-endian: a little-endian 2 is family 0x02000000, shown as data.
        assert_eq!(key(run(&Loop, &2u32.to_le_bytes())), Some(data));
    }
}
