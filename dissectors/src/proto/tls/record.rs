//! The TLS record layer (RFC 8446 §5, RFC 5246 §6.2): framing records out of one direction's
//! reassembled byte stream, and the numbers that appear in a record header.
//!
//! [`frame`] looks at the bytes at the start of a buffer and says whether a whole record is there,
//! how many more bytes one needs, or that the bytes cannot be a record. It never copies: a
//! [`Record`] borrows its body from the buffer it was framed from.

use crate::proto::bytes::{be16, slice, u8_at};

/// The record header: content type (1), legacy version (2), length (2).
pub const HEADER_LEN: usize = 5;

/// The longest record body TLS allows: 2^14 bytes of plaintext plus 2048 of expansion
/// (RFC 5246 §6.2.3, the largest any TLS version allows; Wireshark uses the same bound). A
/// longer record is still framed (its length field is 16 bits, so at most 64 KiB wait for it, as
/// in Wireshark) and then marked malformed.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// Record content types (IANA "TLS ContentType").
pub mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
    pub const TLS12_CID: u8 = 25;

    /// Wireshark's name for a content type.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u8::try_from(v).ok()? {
            CHANGE_CIPHER_SPEC => "Change Cipher Spec",
            ALERT => "Alert",
            HANDSHAKE => "Handshake",
            APPLICATION_DATA => "Application Data",
            HEARTBEAT => "Heartbeat",
            TLS12_CID => "Connection ID",
            _ => return None,
        })
    }

    /// Whether `t` is a content type a record can carry (Wireshark's `ssl_is_valid_content_type`).
    pub fn is_valid(t: u8) -> bool {
        (CHANGE_CIPHER_SPEC..=TLS12_CID).contains(&t)
    }
}

/// Protocol versions as they appear on the wire.
pub mod version {
    pub const SSL2: u16 = 0x0002;
    pub const SSL3: u16 = 0x0300;
    pub const TLS10: u16 = 0x0301;
    pub const TLS11: u16 = 0x0302;
    pub const TLS12: u16 = 0x0303;
    pub const TLS13: u16 = 0x0304;

    /// Wireshark's long name (`Version: TLS 1.2 (0x0303)`).
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u16::try_from(v).ok()? {
            SSL2 => "SSL 2.0",
            SSL3 => "SSL 3.0",
            TLS10 => "TLS 1.0",
            TLS11 => "TLS 1.1",
            TLS12 => "TLS 1.2",
            TLS13 => "TLS 1.3",
            v if is_grease(v) => "Reserved (GREASE)",
            0x7f00..=0x7fff => "TLS 1.3 (draft)",
            0xfeff => "DTLS 1.0",
            0xfefd => "DTLS 1.2",
            0xfefc => "DTLS 1.3",
            _ => return None,
        })
    }

    /// The Protocol column's short name (Wireshark's `ssl_version_short_names`); `SSL` for a
    /// version it does not know.
    pub fn short_name(v: u16) -> &'static str {
        match v {
            SSL2 => "SSLv2",
            SSL3 => "SSLv3",
            TLS10 => "TLSv1",
            TLS11 => "TLSv1.1",
            TLS12 => "TLSv1.2",
            TLS13 => "TLSv1.3",
            _ => "SSL",
        }
    }

    /// The version a session runs, as Wireshark's `tls_try_get_version` decides it: TLS 1.3
    /// drafts (`0x7fNN`) and Facebook's fizz drafts (`0xfb17`, `0xfb1a`) are TLS 1.3; a value
    /// that is no SSL/TLS version settles nothing (`None`).
    pub fn session(v: u16) -> Option<u16> {
        match v {
            0x7f00..=0x7fff | 0xfb17 | 0xfb1a => Some(TLS13),
            SSL3 | TLS10 | TLS11 | TLS12 | TLS13 => Some(v),
            _ => None,
        }
    }

    /// GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
    pub fn is_grease(v: u16) -> bool {
        v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
    }
}

/// Alert levels and descriptions (RFC 8446 §6).
pub mod alert {
    /// Wireshark's name for an alert level.
    pub fn level_name(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "Warning",
            2 => "Fatal",
            _ => return None,
        })
    }

    /// Wireshark's name for an alert description.
    pub fn desc_name(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "Close Notify",
            10 => "Unexpected Message",
            20 => "Bad Record MAC",
            21 => "Decryption Failed",
            22 => "Record Overflow",
            30 => "Decompression Failure",
            40 => "Handshake Failure",
            41 => "No Certificate",
            42 => "Bad Certificate",
            43 => "Unsupported Certificate",
            44 => "Certificate Revoked",
            45 => "Certificate Expired",
            46 => "Certificate Unknown",
            47 => "Illegal Parameter",
            48 => "Unknown CA",
            49 => "Access Denied",
            50 => "Decode Error",
            51 => "Decrypt Error",
            60 => "Export Restriction",
            70 => "Protocol Version",
            71 => "Insufficient Security",
            80 => "Internal Error",
            86 => "Inappropriate Fallback",
            90 => "User Canceled",
            100 => "No Renegotiation",
            109 => "Missing Extension",
            110 => "Unsupported Extension",
            111 => "Certificate Unobtainable",
            112 => "Unrecognized Name",
            113 => "Bad Certificate Status Response",
            114 => "Bad Certificate Hash Value",
            115 => "Unknown PSK Identity",
            116 => "Certificate Required",
            120 => "No application Protocol",
            _ => return None,
        })
    }
}

/// One framed record, borrowing from the buffer it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub content_type: u8,
    pub version: u16,
    /// The body (`length` bytes after the header).
    pub body: &'a [u8],
}

impl Record<'_> {
    /// Header plus body.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }

    /// The body is longer than any TLS version allows ([`MAX_RECORD_LEN`]).
    pub fn oversized(&self) -> bool {
        self.body.len() > MAX_RECORD_LEN
    }
}

/// What the bytes at the start of a buffer hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A whole record.
    Record(Record<'a>),
    /// The start of a record: this many more bytes complete it (or its header).
    Partial { needed: usize },
    /// The first byte is not a content type: not a record boundary.
    BadContentType(u8),
    /// An SSL 2.0-compatible ClientHello (RFC 5246 appendix E.2): the message after its
    /// two-byte record header.
    Sslv2ClientHello(&'a [u8]),
}

/// Frames the record at the start of `buf`.
pub fn frame(buf: &[u8]) -> Framed<'_> {
    // Wireshark's `ssl_is_v2_client_hello`: a two-byte SSLv2 header with the high bit set and
    // a length under 256, then message type 1.
    if buf.first() == Some(&0x80) {
        if buf.len() < 3 {
            return Framed::Partial {
                needed: 3 - buf.len(),
            };
        }
        if u8_at(buf, 2) == 1 {
            let total = 2 + usize::from(u8_at(buf, 1));
            return match buf.get(2..total) {
                Some(msg) => Framed::Sslv2ClientHello(msg),
                None => Framed::Partial {
                    needed: total - buf.len(),
                },
            };
        }
    }
    if buf.len() < HEADER_LEN {
        // A partial header whose first byte is already wrong is no record either.
        if let Some(&t) = buf.first() {
            if !content::is_valid(t) {
                return Framed::BadContentType(t);
            }
        }
        return Framed::Partial {
            needed: HEADER_LEN - buf.len(),
        };
    }
    let content_type = u8_at(buf, 0);
    if !content::is_valid(content_type) {
        return Framed::BadContentType(content_type);
    }
    let len = usize::from(be16(buf, 3));
    let total = HEADER_LEN + len;
    if buf.len() < total {
        return Framed::Partial {
            needed: total - buf.len(),
        };
    }
    Framed::Record(Record {
        content_type,
        version: be16(buf, 1),
        body: slice(buf, HEADER_LEN, total),
    })
}

/// Whether `buf` starts like a TLS record: Wireshark's heuristic (`is_sslv3_or_tls`): a handshake
/// or application-data record of SSL 3.0 to TLS 1.2 with a sane, non-zero length.
/// `None` when fewer than five bytes are there to tell.
pub fn looks_like_record(buf: &[u8]) -> Option<bool> {
    if buf.first() == Some(&0x80) {
        return looks_like_sslv2_client_hello(buf);
    }
    if buf.len() < HEADER_LEN {
        let ok = match buf {
            [] => true,
            [t] => matches!(*t, content::HANDSHAKE | content::APPLICATION_DATA),
            [t, major, ..] => {
                matches!(*t, content::HANDSHAKE | content::APPLICATION_DATA) && *major == 3
            }
        };
        return if ok { None } else { Some(false) };
    }
    let t = u8_at(buf, 0);
    let v = be16(buf, 1);
    let len = usize::from(be16(buf, 3));
    Some(
        matches!(t, content::HANDSHAKE | content::APPLICATION_DATA)
            && (version::SSL3..=version::TLS12).contains(&v)
            && len != 0
            && len < MAX_RECORD_LEN,
    )
}

/// Whether `buf` starts with a record header of any content type and an SSL 3.0-TLS 1.3
/// version: where a stream that lost sync may pick up again (Wireshark tries every new segment
/// this way). `None` when fewer than three bytes are there to tell.
pub fn looks_like_boundary(buf: &[u8]) -> Option<bool> {
    match buf {
        [t, ..] if !content::is_valid(*t) => Some(*t == 0x80 && buf.len() >= 3 && u8_at(buf, 2) == 1),
        [_, major, _, ..] => Some(*major == 3),
        _ => None,
    }
}

/// Wireshark's `is_sslv2_clienthello`: a short SSLv2 header, message type 1, a non-empty
/// cipher-spec list of 3-byte entries, a session id of 0 or 16 bytes and a 32-byte challenge.
fn looks_like_sslv2_client_hello(buf: &[u8]) -> Option<bool> {
    if buf.len() < 46 {
        return None;
    }
    let spec_len = be16(buf, 5);
    let sid_len = be16(buf, 7);
    Some(
        u8_at(buf, 2) == 1
            && spec_len != 0
            && spec_len % 3 == 0
            && (sid_len == 0 || sid_len == 16)
            && be16(buf, 9) == 32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const CCS: [u8; 6] = [
        0x14,       // content type: change_cipher_spec
        0x03, 0x03, // version: TLS 1.2
        0x00, 0x01, // length
        0x01,       // body
    ];

    #[test]
    fn deconstruct() {
        let Framed::Record(r) = frame(&CCS) else {
            panic!("not a record")
        };
        assert_eq!(r.content_type, content::CHANGE_CIPHER_SPEC);
        assert_eq!(r.version, version::TLS12);
        assert_eq!(r.body, &[1]);
        assert_eq!(r.total_len(), 6);
    }

    #[test]
    fn check_len() {
        for n in 0..CCS.len() {
            assert_eq!(
                frame(&CCS[..n]),
                Framed::Partial {
                    needed: if n < 5 { 5 - n } else { 6 - n }
                },
                "{n}"
            );
        }
    }

    #[test]
    fn malformed_record_over_cap() {
        // 2^14 + 2048 is the largest body; a longer one is framed and flagged.
        let mut rec = vec![0x17, 0x03, 0x03, 0, 0];
        rec[3..5].copy_from_slice(&u16::try_from(MAX_RECORD_LEN + 1).unwrap().to_be_bytes());
        assert_eq!(frame(&rec), Framed::Partial { needed: MAX_RECORD_LEN + 1 });
        rec.resize(HEADER_LEN + MAX_RECORD_LEN + 1, 0);
        let Framed::Record(r) = frame(&rec) else {
            panic!("not framed")
        };
        assert!(r.oversized());
    }

    #[test]
    fn boundaries() {
        assert_eq!(looks_like_boundary(&[0x14, 0x03, 0x03, 0, 1]), Some(true));
        assert_eq!(looks_like_boundary(&[0x14, 0x03]), None);
        assert_eq!(looks_like_boundary(&[0x14, 0x04, 0x03]), Some(false));
        assert_eq!(looks_like_boundary(b"GET"), Some(false));
    }

    #[test]
    fn sslv2_client_hello() {
        let hello = [0x80, 4, 1, 3, 1, 0];
        assert_eq!(frame(&hello), Framed::Sslv2ClientHello(&[1, 3, 1, 0]));
        assert_eq!(frame(&hello[..4]), Framed::Partial { needed: 2 });
        assert_eq!(frame(&[0x80, 4, 2]), Framed::BadContentType(0x80));
    }

    #[test]
    fn malformed_content_type() {
        assert_eq!(frame(b"GET / HTTP/1.1"), Framed::BadContentType(b'G'));
        assert_eq!(frame(b"G"), Framed::BadContentType(b'G'));
    }

    #[test]
    fn heuristic() {
        assert_eq!(looks_like_record(&[0x16, 0x03, 0x01, 0x02, 0x00]), Some(true));
        assert_eq!(looks_like_record(&[0x16, 0x03]), None);
        assert_eq!(looks_like_record(&[0x16, 0x04]), Some(false));
        assert_eq!(looks_like_record(b"GET /"), Some(false));
        assert_eq!(looks_like_record(&[0x16, 0x03, 0x01, 0x00, 0x00]), Some(false));
        assert_eq!(looks_like_record(&CCS), Some(false));
    }

    #[test]
    fn session_versions() {
        assert_eq!(version::session(0x7f1c), Some(version::TLS13));
        assert_eq!(version::session(0xfb1a), Some(version::TLS13));
        assert_eq!(version::session(0x0303), Some(version::TLS12));
        assert_eq!(version::session(0x1234), None);
    }

    #[test]
    fn unknown_values_kept() {
        assert_eq!(version::short_name(0x0305), "SSL");
        assert!(version::is_grease(0x1a1a));
        assert!(!version::is_grease(0x1a2a));
        assert_eq!(content::name(99), None);
    }
}
