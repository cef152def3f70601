//! HTTP/2 framing (RFC 9113 §4, §6): the connection preface, the 9-byte frame header and the
//! payload layout of every frame type. Pure parsing: no state, no emission.
//!
//! Views check their length once ([`FrameHeader::parse`], [`Padded::split`]); accessors after
//! that cannot fail. Unknown frame types are kept with their raw payload (RFC 9113 §4.1: they
//! must be ignored, so a sniffer shows them).

use crate::proto::bytes::{be16, be32, slice, tail, u8_at};

/// The client connection preface (RFC 9113 §3.4), shown by Wireshark as `Magic`.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The frame header.
pub const HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE before the peer says otherwise (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest value SETTINGS_MAX_FRAME_SIZE may take (2^24 - 1).
pub const MAX_MAX_FRAME_SIZE: u32 = 16_777_215;

/// Frame types (IANA "HTTP/2 Frame Type"); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameType(pub u8);

impl FrameType {
    pub const DATA: FrameType = FrameType(0);
    pub const HEADERS: FrameType = FrameType(1);
    pub const PRIORITY: FrameType = FrameType(2);
    pub const RST_STREAM: FrameType = FrameType(3);
    pub const SETTINGS: FrameType = FrameType(4);
    pub const PUSH_PROMISE: FrameType = FrameType(5);
    pub const PING: FrameType = FrameType(6);
    pub const GOAWAY: FrameType = FrameType(7);
    pub const WINDOW_UPDATE: FrameType = FrameType(8);
    pub const CONTINUATION: FrameType = FrameType(9);
    pub const ALTSVC: FrameType = FrameType(10);
    pub const BLOCKED: FrameType = FrameType(11);
    pub const ORIGIN: FrameType = FrameType(12);
    pub const PRIORITY_UPDATE: FrameType = FrameType(16);

    /// Wireshark's name (`http2_type_vals`), used in the Info column.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FrameType::DATA => "DATA",
            FrameType::HEADERS => "HEADERS",
            FrameType::PRIORITY => "PRIORITY",
            FrameType::RST_STREAM => "RST_STREAM",
            FrameType::SETTINGS => "SETTINGS",
            FrameType::PUSH_PROMISE => "PUSH_PROMISE",
            FrameType::PING => "PING",
            FrameType::GOAWAY => "GOAWAY",
            FrameType::WINDOW_UPDATE => "WINDOW_UPDATE",
            FrameType::CONTINUATION => "CONTINUATION",
            FrameType::ALTSVC => "ALTSVC",
            FrameType::BLOCKED => "BLOCKED",
            FrameType::ORIGIN => "ORIGIN",
            FrameType::PRIORITY_UPDATE => "PRIORITY_UPDATE",
            _ => return None,
        })
    }

    /// Value names for `http2.type`.
    pub fn value_name(v: u64) -> Option<&'static str> {
        FrameType(u8::try_from(v).ok()?).name()
    }
}

/// Frame flags (RFC 9113 §6).
pub mod flags {
    pub const END_STREAM: u8 = 0x01;
    /// SETTINGS and PING.
    pub const ACK: u8 = 0x01;
    pub const END_HEADERS: u8 = 0x04;
    pub const PADDED: u8 = 0x08;
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441).
pub mod settings {
    pub const HEADER_TABLE_SIZE: u16 = 1;
    pub const ENABLE_PUSH: u16 = 2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 3;
    pub const INITIAL_WINDOW_SIZE: u16 = 4;
    pub const MAX_FRAME_SIZE: u16 = 5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 6;
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 8;

    /// Wireshark's names (`http2_settings_vals`).
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u16::try_from(v).ok()? {
            HEADER_TABLE_SIZE => "Header table size",
            ENABLE_PUSH => "Enable PUSH",
            MAX_CONCURRENT_STREAMS => "Max concurrent streams",
            INITIAL_WINDOW_SIZE => "Initial Windows size",
            MAX_FRAME_SIZE => "Max frame size",
            MAX_HEADER_LIST_SIZE => "Max header list size",
            ENABLE_CONNECT_PROTOCOL => "Extended CONNECT",
            _ => return None,
        })
    }
}

/// Error codes (RFC 9113 §7), for RST_STREAM and GOAWAY.
pub fn error_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => return None,
    })
}

mod field {
    pub const LENGTH: usize = 0;
    pub const TYPE: usize = 3;
    pub const FLAGS: usize = 4;
    pub const STREAM_ID: usize = 5;
}

/// The 9-byte frame header (RFC 9113 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    pub ftype: FrameType,
    pub flags: u8,
    /// The reserved bit before the stream identifier.
    pub reserved: bool,
    /// 31 bits.
    pub stream_id: u32,
}

impl FrameHeader {
    /// The header at the start of `b`, or `None` when fewer than 9 bytes are there.
    pub fn parse(b: &[u8]) -> Option<FrameHeader> {
        if b.len() < HEADER_LEN {
            return None;
        }
        let word = be32(b, field::STREAM_ID);
        Some(FrameHeader {
            length: (u32::from(u8_at(b, field::LENGTH)) << 16)
                | u32::from(be16(b, field::LENGTH + 1)),
            ftype: FrameType(u8_at(b, field::TYPE)),
            flags: u8_at(b, field::FLAGS),
            reserved: word & 0x8000_0000 != 0,
            stream_id: word & 0x7fff_ffff,
        })
    }

    /// Header plus payload.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.length as usize
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Whether this type may carry the PADDED flag.
    pub fn paddable(&self) -> bool {
        matches!(
            self.ftype,
            FrameType::DATA | FrameType::HEADERS | FrameType::PUSH_PROMISE
        )
    }
}

/// A payload split by its PADDED flag (RFC 9113 §6.1): pad length, content, padding.
#[derive(Debug, Clone, Copy)]
pub struct Padded<'a> {
    /// `Some` when the PADDED flag is set.
    pub pad_len: Option<u8>,
    /// Offset of `body` in the payload.
    pub body_at: usize,
    pub body: &'a [u8],
    pub padding: &'a [u8],
}

impl<'a> Padded<'a> {
    /// Splits `payload`; `None` when the padding does not fit (a connection error, §6.1).
    /// `fixed` is the length of the fields between the pad length and the content
    /// (5 for a prioritised HEADERS, 4 for PUSH_PROMISE).
    pub fn split(payload: &'a [u8], padded: bool, fixed: usize) -> Option<Padded<'a>> {
        let (pad_len, start) = if padded {
            (Some(*payload.first()?), 1)
        } else {
            (None, 0)
        };
        let pad = usize::from(pad_len.unwrap_or(0));
        let body_at = start + fixed;
        let end = payload.len().checked_sub(pad)?;
        if end < body_at {
            return None;
        }
        Some(Padded {
            pad_len,
            body_at,
            body: slice(payload, body_at, end),
            padding: tail(payload, end),
        })
    }
}

/// The priority fields of HEADERS (with PRIORITY) and of PRIORITY frames (RFC 9113 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    pub exclusive: bool,
    pub dependency: u32,
    /// As sent (the weight is this plus one).
    pub weight: u8,
}

impl Priority {
    /// From the 5 bytes at `at` of `b` (checked by the caller).
    pub fn read(b: &[u8], at: usize) -> Priority {
        let word = be32(b, at);
        Priority {
            exclusive: word & 0x8000_0000 != 0,
            dependency: word & 0x7fff_ffff,
            weight: u8_at(b, at + 4),
        }
    }
}

/// One SETTINGS parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub id: u16,
    pub value: u32,
}

/// The parameters of a SETTINGS payload (whole 6-byte entries only).
pub fn settings(payload: &[u8]) -> impl Iterator<Item = (usize, Setting)> + '_ {
    payload.chunks_exact(6).enumerate().map(|(i, c)| {
        (
            i * 6,
            Setting {
                id: be16(c, 0),
                value: be32(c, 2),
            },
        )
    })
}

/// The payload length a frame type requires, where it fixes one (RFC 9113 §6).
pub fn fixed_len(t: FrameType) -> Option<usize> {
    match t {
        FrameType::PRIORITY => Some(5),
        FrameType::RST_STREAM | FrameType::WINDOW_UPDATE => Some(4),
        FrameType::PING => Some(8),
        _ => None,
    }
}

/// A 31-bit value after a reserved bit (stream ids, window increments).
pub fn u31(b: &[u8], at: usize) -> (bool, u32) {
    let w = be32(b, at);
    (w & 0x8000_0000 != 0, w & 0x7fff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deconstruct() {
        // HEADERS, 0x25 (END_HEADERS | PRIORITY | END_STREAM), stream 13, length 48.
        let b = [0, 0, 48, 1, 0x25, 0x80, 0, 0, 13];
        let h = FrameHeader::parse(&b).unwrap();
        assert_eq!(h.length, 48);
        assert_eq!(h.ftype, FrameType::HEADERS);
        assert_eq!(h.flags, 0x25);
        assert!(h.reserved);
        assert_eq!(h.stream_id, 13);
        assert_eq!(h.total_len(), 57);
        assert!(h.has(flags::END_HEADERS) && h.has(flags::PRIORITY));
    }

    #[test]
    fn check_len() {
        for n in 0..HEADER_LEN {
            assert!(FrameHeader::parse(&[0; 9][..n]).is_none());
        }
    }

    #[test]
    fn padding() {
        let p = [2, b'a', b'b', 0, 0];
        let s = Padded::split(&p, true, 0).unwrap();
        assert_eq!((s.pad_len, s.body, s.padding), (Some(2), &b"ab"[..], &[0, 0][..]));
        // Padding as long as the payload, or longer: malformed.
        assert!(Padded::split(&[4, 0, 0, 0], true, 0).is_none());
        assert!(Padded::split(&[], true, 0).is_none());
        assert!(Padded::split(&[0, 1, 2], true, 5).is_none());
        let s = Padded::split(b"xy", false, 0).unwrap();
        assert_eq!((s.pad_len, s.body, s.padding.len()), (None, &b"xy"[..], 0));
    }

    #[test]
    fn settings_entries() {
        let p = [0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0, 9];
        let v: Vec<_> = settings(&p).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1], (6, Setting { id: 4, value: 65536 }));
    }
}
