//! UDP (RFC 768). The reference dissector: the smallest complete example of the file layout
//! every protocol follows (doc, caps, `mod field`, view, dissector, `FIELDS`, tests).
//!
//! The datagram's payload goes to the flow engine, which hands it to an application protocol
//! (DNS, QUIC) or shows it as data.
//!
//! Not supported: checksum verification (shown unverified, Wireshark's default), UDP-Lite.

use crate::dissector::{Bind, Cx, Dissector, Next, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{Net, PacketInfo, Transport, UdpInfo};
use crate::proto::bytes::{be16, slice};
use crate::proto::ip::ipproto;
use std::fmt::Write as _;

/// The fixed header.
pub const HEADER_LEN: usize = 8;
/// The Protocol column's name for a datagram no application claims.
pub const COLUMN_NAME: &str = "UDP";

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// A view of a UDP header whose 8 bytes have been checked.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    buf: &'a [u8],
}

impl<'a> UdpDatagram<'a> {
    /// Checks a whole header and a length field of at least 8 (0 is RFC 2675's jumbogram
    /// marker and is accepted).
    pub fn new_checked(buf: &'a [u8]) -> Result<UdpDatagram<'a>, Malformed> {
        if buf.len() < HEADER_LEN {
            return Err(Malformed::new(&PROTO, buf.len(), "truncated UDP header"));
        }
        let d = UdpDatagram { buf };
        if d.length() != 0 && usize::from(d.length()) < HEADER_LEN {
            return Err(Malformed::new(&PROTO, field::LENGTH, "bogus UDP length (must be at least 8)")
                .len_from("udp.length"));
        }
        Ok(d)
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }
    pub fn length(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
    /// The captured payload, cut at the length field.
    pub fn payload(&self) -> &'a [u8] {
        let end = match self.length() {
            0 => self.buf.len(),
            n => usize::from(n),
        };
        slice(self.buf, HEADER_LEN, end)
    }
}

/// `udp.checksum.status`: 2 "Unverified" (tshark does not verify by default), 3 "Not present"
/// for a zero checksum over IPv4 or inside an ICMP error, 4 "Illegal" for a zero checksum over
/// IPv6 (RFC 8200 §8.1).
fn checksum_status(d: &UdpDatagram<'_>, pi: &PacketInfo) -> u64 {
    match (d.checksum(), pi.inner_net) {
        (0, Net::V6 { .. }) if !pi.quoted => 4,
        (0, _) => 3,
        _ => 2,
    }
}

/// The UDP dissector.
pub struct Udp;

impl Dissector for Udp {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::IpProto, ipproto::UDP as u32)]
    }

    fn dissect<'a>(
        &self,
        data: &'a [u8],
        offset: usize,
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> Result<Next<'a>, Malformed> {
        let emit = cx.layer(&PROTO, Span::new(offset, HEADER_LEN.min(data.len())));
        let d = UdpDatagram::new_checked(data)?;
        let (src, dst, len) = (d.src_port(), d.dst_port(), d.length());
        if emit {
            let at = |o: usize| Span::new(offset + o, 2);
            let u = |v: u16| Value::U(u64::from(v));
            cx.field(&SRCPORT, at(field::SRC_PORT), u(src));
            cx.field(&DSTPORT, at(field::DST_PORT), u(dst));
            cx.field(&PORT, at(field::SRC_PORT), u(src));
            cx.field(&PORT, at(field::DST_PORT), u(dst));
            cx.field(&LENGTH, at(field::LENGTH), u(len));
            let (sum, status) = (d.checksum(), checksum_status(&d, pi));
            cx.field_shown(&CHECKSUM, at(field::CHECKSUM), u(sum), |t| {
                let note = match status {
                    3 => "[zero-value ignored]",
                    4 => "[illegal]",
                    _ => "[unverified]",
                };
                let _ = write!(t, "0x{sum:04x} {note}");
            });
            cx.field(&CHECKSUM_STATUS, Span::GENERATED, Value::U(status));
        }
        if pi.quoted {
            pi.quoted_transport = Transport::Udp(UdpInfo {
                src_port: src,
                dst_port: dst,
                length: len,
            });
            // Inside an ICMP error the payload is shown as data (outside the quote, where
            // tshark draws it): no flow takes it.
            let payload = d.payload();
            payload_item(cx, offset + HEADER_LEN, payload);
            return Ok(match payload.is_empty() {
                true => Next::Done,
                false => Next::Dispatch {
                    table: Table::LinkType,
                    key: crate::proto::NOT_DISSECTED,
                    data: payload,
                    offset: offset + HEADER_LEN,
                },
            });
        }
        {
            let payload = d.payload();
            pi.transport = Transport::Udp(UdpInfo {
                src_port: src,
                dst_port: dst,
                length: len,
            });
            pi.payload_start = u32::try_from(offset + HEADER_LEN).unwrap_or(u32::MAX);
            pi.payload_len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            if let Some(info) = cx.info(COLUMN_NAME) {
                write_info(info, src, dst, len);
            }
        }
        Ok(Next::Done)
    }
}

/// Writes the Info column, `{src} → {dst} Len={n}` (`length` is the header's), without the
/// formatting machinery (a fifth of a UDP frame's instructions with `-P`).
pub(crate) fn write_info(info: &mut String, src: u16, dst: u16, length: u16) {
    use crate::text::push_int;
    push_int(info, src);
    info.push_str(" → ");
    push_int(info, dst);
    info.push_str(" Len=");
    push_int(info, length.saturating_sub(HEADER_LEN as u16));
}

pub static PROTO: Proto = Proto {
    name: "udp",
    long_name: "User Datagram Protocol",
    fields: &[
        &SRCPORT,
        &DSTPORT,
        &PORT,
        &LENGTH,
        &CHECKSUM,
        &CHECKSUM_STATUS,
        &STREAM,
        &TIME_RELATIVE,
        &TIME_DELTA,
        &PAYLOAD,
    ],
    summary: &[("Src Port", &SRCPORT), ("Dst Port", &DSTPORT)],
};

pub static SRCPORT: FieldDef = FieldDef::new("udp.srcport", "Source Port", Kind::Dec);
pub static DSTPORT: FieldDef = FieldDef::new("udp.dstport", "Destination Port", Kind::Dec);
pub static PORT: FieldDef =
    FieldDef::new("udp.port", "Source or Destination Port", Kind::Dec).hidden();
pub static LENGTH: FieldDef = FieldDef::new("udp.length", "Length", Kind::Dec);
pub static CHECKSUM: FieldDef = FieldDef::new("udp.checksum", "Checksum", Kind::Hex(4));
pub static CHECKSUM_STATUS: FieldDef =
    FieldDef::new("udp.checksum.status", "Checksum Status", Kind::Dec)
        .with_names(crate::proto::ip::checksum_status_name)
        .name_only();
/// Emitted by the flow engine.
pub static STREAM: FieldDef = FieldDef::new("udp.stream", "Stream index", Kind::Dec);
/// Emitted by the flow engine.
pub static TIME_RELATIVE: FieldDef =
    FieldDef::new("udp.time_relative", "Time since first frame", Kind::RelTime);
/// Emitted by the flow engine.
pub static TIME_DELTA: FieldDef =
    FieldDef::new("udp.time_delta", "Time since previous frame", Kind::RelTime);
/// Emitted by the flow engine.
pub static PAYLOAD: FieldDef = FieldDef::new("udp.payload", "UDP payload", Kind::Bytes);

/// `UDP payload (N bytes)`, for a payload at offset `at` (none for an empty one).
pub fn payload_item(cx: &mut Cx<'_>, at: usize, payload: &[u8]) {
    if payload.is_empty() || !cx.wants_field(&PAYLOAD) {
        return;
    }
    let n = payload.len();
    cx.field_line(&PAYLOAD, Span::new(at, n), Value::Bytes(payload), |s| {
        s.push_str("UDP payload (");
        s.push_str(itoa::Buffer::new().format(n));
        s.push_str(if n == 1 { " byte)" } else { " bytes)" });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::NullSink;
    use crate::pinfo::ProtoStack;
    use pnet_packet::udp::MutableUdpPacket;

    fn build(length: u16, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 8 + payload.len()];
        let mut p = MutableUdpPacket::new(&mut buf).unwrap();
        p.set_source(45461);
        p.set_destination(9000);
        p.set_length(length);
        p.set_payload(payload);
        buf
    }

    fn run(buf: &[u8]) -> (Result<Next<'_>, Malformed>, PacketInfo, String) {
        let (mut pi, mut stack, mut sink) = (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cols = crate::Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let r = Udp.dissect(buf, 34, &mut pi, &mut cx);
        (r, pi, cols.info)
    }

    #[test]
    fn deconstruct() {
        let buf = build(12, &[1, 2, 3, 4, 0xee]);
        let (r, pi, info) = run(&buf);
        assert!(matches!(r, Ok(Next::Done)));
        assert_eq!(
            pi.transport,
            Transport::Udp(UdpInfo { src_port: 45461, dst_port: 9000, length: 12 })
        );
        // The byte after the length field is not payload.
        assert_eq!((pi.payload_start, pi.payload_len), (42, 4));
        assert_eq!(info, "45461 → 9000 Len=4");
    }

    #[test]
    fn check_len() {
        for n in 0..8 {
            assert!(UdpDatagram::new_checked(&build(8, &[])[..n]).is_err());
        }
        assert!(UdpDatagram::new_checked(&build(7, &[])).is_err());
        assert!(UdpDatagram::new_checked(&build(0, &[1])).is_ok());
    }

    #[test]
    fn length_beyond_capture_keeps_what_was_captured() {
        let buf = build(3008, &[7; 10]);
        let (r, pi, _) = run(&buf);
        assert!(r.is_ok());
        assert_eq!(pi.payload_len, 10);
    }
}
