//! Raw IP (link type 101): no link header; the IP version nibble tells IPv4 from IPv6, as
//! Wireshark's `raw` dissector decides. (Link types 228 and 229, IPv4 and IPv6 only, go to
//! the IP dissectors directly and have no `raw` layer.)
//!
//! Not supported: the PPP-in-HDLC (0xff03) and Cisco HDLC framings tshark also recognises
//! here; their frames are shown as data.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{Proto, Span};
use crate::pinfo::{LinkType, PacketInfo};
use crate::proto::eth::ethertype;

/// tshark reads two bytes before it decides (it looks for a 0xff03 PPP header first).
pub const MIN_LEN: usize = 2;

/// The raw IP dissector.
pub struct Raw;

impl Dissector for Raw {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        // 12 and 14 are the raw-IP values some systems' libpcap wrote before LINKTYPE_RAW
        // (101) existed; Wireshark reads both as raw IP.
        &[
            Bind(Table::LinkType, LinkType::RAW.0),
            Bind(Table::LinkType, 12),
            Bind(Table::LinkType, 14),
        ]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        _pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        if cx.layer(&PROTO, Span::new(offset, 0)) {
            cx.sink.text(Span::new(offset, 0), "No link information available");
        }
        if data.len() < MIN_LEN {
            return Err(Malformed::new(&PROTO, data.len(), "truncated raw IP packet"));
        }
        let next = |table, key| Next::Dispatch {
            table,
            key,
            data,
            offset,
        };
        Ok(match data.first().map(|b| b >> 4) {
            Some(4) if !data.starts_with(&[0xff, 0x03]) => {
                next(Table::EtherType, u32::from(ethertype::IPV4))
            }
            Some(6) => next(Table::EtherType, u32::from(ethertype::IPV6)),
            _ => next(Table::LinkType, crate::proto::NOT_DISSECTED),
        })
    }
}

pub static PROTO: Proto = Proto {
    name: "raw",
    long_name: "Raw packet data",
    fields: &[],
    summary: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;

    fn key(buf: &[u8]) -> Option<(Table, u32)> {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        match Raw.dissect(buf, 0, &mut pi, &mut cx) {
            Ok(Next::Dispatch { table, key, .. }) => Some((table, key)),
            _ => None,
        }
    }

    #[test]
    fn deconstruct() {
        assert_eq!(key(&[0x45, 0]), Some((Table::EtherType, 0x0800)));
        assert_eq!(key(&[0x60, 0]), Some((Table::EtherType, 0x86dd)));
    }

    #[test]
    fn check_len() {
        assert_eq!(key(&[]), None);
        assert_eq!(key(&[0x45]), None);
    }

    #[test]
    fn unknown_values_kept() {
        let data = Some((Table::LinkType, crate::proto::NOT_DISSECTED));
        assert_eq!(key(&[0x55, 0]), data);
        assert_eq!(key(&[0xff, 0x03, 0, 0x21]), data);
    }
}
