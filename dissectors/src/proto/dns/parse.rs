//! The DNS wire format (RFC 1035 §4.1), parsed with nom: the header, the fixed parts of questions
//! and resource records, and the record data of the types netsniff decodes. Every parser here
//! is a `complete` nom parser over a slice already fenced by its length (the message, or a
//! record's RDLENGTH), so `Err` always means "the bytes end too soon or lie".
//!
//! Domain names are read by hand ([`read_name`]): compression pointers (§4.1.4) jump anywhere
//! in the message, which a forward-only combinator cannot express. Loops and over-long names
//! are reported the way Wireshark reports them (a placeholder name, not a malformed message).

use nom::bytes::complete::take;
use nom::multi::length_data;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::{IResult, Parser};

/// The fixed header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// Longest name text kept, in bytes (labels joined by dots). RFC 1035 §2.3.4 allows 255 octets
/// on the wire, which is 253 characters of text; Wireshark shows `<Name too long>` beyond.
pub const MAX_NAME_LEN: usize = 253;

/// Compression pointers followed in one name before it is called a loop. A real name has at
/// most 127 labels, so it never needs more pointers than that; Wireshark's own loop rule (more
/// bytes processed than the message holds) usually fires first.
pub const MAX_POINTERS: usize = 127;

/// What Wireshark shows for the root name, for a name that loops, and for a name too long.
pub const ROOT: &str = "<Root>";
pub const LOOPS: &str = "<Name contains a pointer that loops>";
pub const TOO_LONG: &str = "<Name too long>";

/// The message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u16 {
        (self.flags >> 11) & 0xf
    }
    pub fn rcode(&self) -> u16 {
        self.flags & 0xf
    }
}

/// Parses the 12-byte header.
pub fn header(i: &[u8]) -> IResult<&[u8], Header> {
    let (i, (id, flags, qdcount, ancount, nscount, arcount)) =
        (be_u16, be_u16, be_u16, be_u16, be_u16, be_u16).parse(i)?;
    Ok((
        i,
        Header {
            id,
            flags,
            qdcount,
            ancount,
            nscount,
            arcount,
        },
    ))
}

/// QTYPE and QCLASS after a question's name.
pub fn question_tail(i: &[u8]) -> IResult<&[u8], (u16, u16)> {
    (be_u16, be_u16).parse(i)
}

/// TYPE, CLASS, TTL and RDLENGTH after a record's name, plus the RDATA they fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrFixed<'a> {
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub rdata: &'a [u8],
}

/// Parses a record's fixed part and takes its RDATA (which must be all there).
pub fn rr_fixed(i: &[u8]) -> IResult<&[u8], RrFixed<'_>> {
    let (i, (rtype, class, ttl)) = (be_u16, be_u16, be_u32).parse(i)?;
    let (i, rdata) = length_data(be_u16).parse(i)?;
    Ok((
        i,
        RrFixed {
            rtype,
            class,
            ttl,
            rdata,
        },
    ))
}

/// A `<character-string>` (RFC 1035 §3.3): a length byte and that many bytes.
pub fn character_string(i: &[u8]) -> IResult<&[u8], &[u8]> {
    length_data(be_u8).parse(i)
}

/// SOA's five numbers after its two names: serial, refresh, retry, expire, minimum.
pub fn soa_numbers(i: &[u8]) -> IResult<&[u8], [u32; 5]> {
    let (i, (a, b, c, d, e)) = (be_u32, be_u32, be_u32, be_u32, be_u32).parse(i)?;
    Ok((i, [a, b, c, d, e]))
}

/// SRV's priority, weight and port before its target (RFC 2782).
pub fn srv_numbers(i: &[u8]) -> IResult<&[u8], (u16, u16, u16)> {
    (be_u16, be_u16, be_u16).parse(i)
}

/// A 16-bit number (MX preference, SVCB priority).
pub fn u16_be(i: &[u8]) -> IResult<&[u8], u16> {
    be_u16(i)
}

/// A 4-byte IPv4 address.
pub fn ipv4(i: &[u8]) -> IResult<&[u8], [u8; 4]> {
    let (i, b) = take(4usize)(i)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    Ok((i, a))
}

/// A 16-byte IPv6 address.
pub fn ipv6(i: &[u8]) -> IResult<&[u8], [u8; 16]> {
    let (i, b) = take(16usize)(i)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ok((i, a))
}

/// One window of an NSEC type bitmap: the window number and its bitmap bytes (1 to 32).
pub fn bitmap_window(i: &[u8]) -> IResult<&[u8], (u8, &[u8])> {
    (be_u8, length_data(be_u8)).parse(i)
}

/// NSEC3's fields before its type bitmap (RFC 5155 §3.2): returns the bitmap.
pub fn nsec3_bitmap(i: &[u8]) -> Result<&[u8], nom::Err<nom::error::Error<&[u8]>>> {
    let (i, _) = take(4usize)(i)?;
    let (i, _salt) = length_data(be_u8).parse(i)?;
    let (i, _hash) = length_data(be_u8).parse(i)?;
    Ok(i)
}

/// A key/length/value triple: an EDNS option (RFC 6891 §6.1.2) or an SVCB SvcParam (RFC 9460
/// §2.2) — the same shape.
pub fn key_value(i: &[u8]) -> IResult<&[u8], (u16, &[u8])> {
    (be_u16, length_data(be_u16)).parse(i)
}

/// OPT's fixed part seen through the RR header: the class is the UDP payload size and the TTL
/// packs the extended RCODE, the version and the flags (RFC 6891 §6.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptTtl {
    pub ext_rcode: u8,
    pub version: u8,
    pub z: u16,
}

impl OptTtl {
    pub fn from_ttl(ttl: u32) -> OptTtl {
        let [ext_rcode, version, z1, z2] = ttl.to_be_bytes();
        OptTtl {
            ext_rcode,
            version,
            z: u16::from_be_bytes([z1, z2]),
        }
    }
}

/// What [`read_name`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {
    /// Offset just after the name where it started (after the first pointer, if any).
    pub end: usize,
    pub kind: NameKind,
    /// Bytes of text (labels joined by dots) — Wireshark's "Name Length".
    pub len: usize,
    /// Dots in that text (a dot inside a label counts too, as Wireshark counts).
    pub dots: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Labels were read.
    Labels,
    /// The empty name.
    Root,
    /// A pointer chain that loops.
    Loops,
    /// More than [`MAX_NAME_LEN`] bytes of text.
    TooLong,
}

impl Name {
    /// The placeholder text shown instead of the labels, if any.
    pub fn placeholder(&self) -> Option<&'static str> {
        match self.kind {
            NameKind::Labels => None,
            NameKind::Root => Some(ROOT),
            NameKind::Loops => Some(LOOPS),
            NameKind::TooLong => Some(TOO_LONG),
        }
    }

    /// Wireshark's `[Name Length]` and `[Label Count]`: the text's length and its dots plus
    /// one, both 0 for a one-byte name (as Wireshark computes them).
    pub fn len_and_labels(&self) -> (usize, usize) {
        let (len, dots) = match self.placeholder() {
            Some(p) => (p.len(), 0),
            None => (self.len, self.dots),
        };
        if len > 1 {
            (len, dots + 1)
        } else {
            (0, 0)
        }
    }
}

/// Why a name could not be read (the message is malformed there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The message ends inside the name.
    Truncated { at: usize },
    /// A label type other than a length or a pointer (0x40, 0x80: RFC 6891 §5 obsoleted them).
    BadLabelType { at: usize },
    /// A pointer past the end of the message.
    PointerPastEnd { at: usize },
}

impl NameError {
    pub fn at(&self) -> usize {
        match *self {
            NameError::Truncated { at }
            | NameError::BadLabelType { at }
            | NameError::PointerPastEnd { at } => at,
        }
    }
    pub fn reason(&self) -> &'static str {
        match self {
            NameError::Truncated { .. } => "DNS name runs past the end of the message",
            NameError::BadLabelType { .. } => "DNS label of unknown type",
            NameError::PointerPastEnd { .. } => "DNS compression pointer past the end of the message",
        }
    }
}

/// Reads the name starting at `start` in `msg` (the whole DNS message, pointers being offsets in
/// it), following compression pointers. When `text` is given, the name's raw text (labels joined
/// by `.`, no escaping) is appended to it, up to [`MAX_NAME_LEN`] bytes.
///
/// A loop (a pointer to itself, more bytes processed than the message holds, or more than
/// [`MAX_POINTERS`] pointers) and an over-long name are not errors: Wireshark shows a
/// placeholder and goes on, and so do we ([`Name::placeholder`]).
pub fn read_name(msg: &[u8], start: usize, mut text: Option<&mut Vec<u8>>) -> Result<Name, NameError> {
    let text_start = text.as_deref().map_or(0, Vec::len);
    let mut pos = start;
    let mut end: Option<usize> = None;
    let mut len = 0usize;
    let mut dots = 0usize;
    let mut processed = 0usize;
    let mut pointers = 0usize;
    let mut too_long = false;
    loop {
        let Some(&b) = msg.get(pos) else {
            return Err(NameError::Truncated { at: pos });
        };
        match b & 0xc0 {
            0x00 if b == 0 => {
                let end = end.unwrap_or(pos + 1);
                let kind = if too_long {
                    NameKind::TooLong
                } else if len == 0 {
                    NameKind::Root
                } else {
                    NameKind::Labels
                };
                if kind != NameKind::Labels {
                    if let Some(t) = text.as_deref_mut() {
                        t.truncate(text_start);
                    }
                }
                return Ok(Name {
                    end,
                    kind,
                    len,
                    dots,
                });
            }
            0x00 => {
                let n = usize::from(b);
                let Some(label) = msg.get(pos + 1..pos + 1 + n) else {
                    return Err(NameError::Truncated { at: msg.len() });
                };
                processed += n + 1;
                let add = n + usize::from(len > 0);
                if !too_long && len + add > MAX_NAME_LEN {
                    too_long = true;
                }
                if !too_long {
                    if let Some(t) = text.as_deref_mut() {
                        if len > 0 {
                            t.push(b'.');
                        }
                        t.extend_from_slice(label);
                    }
                    dots += usize::from(len > 0) + label.iter().filter(|&&c| c == b'.').count();
                    len += add;
                }
                pos += 1 + n;
            }
            0xc0 => {
                let Some(&lo) = msg.get(pos + 1) else {
                    return Err(NameError::Truncated { at: pos + 1 });
                };
                let target = usize::from(u16::from_be_bytes([b & 0x3f, lo]));
                if end.is_none() {
                    end = Some(pos + 2);
                }
                processed += 2;
                pointers += 1;
                if target >= msg.len() {
                    return Err(NameError::PointerPastEnd { at: pos });
                }
                if target == pos || processed >= msg.len() || pointers > MAX_POINTERS {
                    if let Some(t) = text.as_deref_mut() {
                        t.truncate(text_start);
                    }
                    return Ok(Name {
                        end: end.unwrap_or(pos + 2),
                        kind: NameKind::Loops,
                        len: 0,
                        dots: 0,
                    });
                }
                pos = target;
            }
            _ => return Err(NameError::BadLabelType { at: pos }),
        }
    }
}

/// Appends a name's raw text as Wireshark displays it (`format_text`, see
/// [`crate::field::write_unicode_text`]).
pub fn format_text(raw: &[u8], out: &mut String) {
    // Nearly every name is printable ASCII: it shows as it is.
    if raw.iter().all(|b| (0x20..0x7f).contains(b)) {
        out.push_str(std::str::from_utf8(raw).unwrap_or_default());
        return;
    }
    let mut shown = Vec::with_capacity(raw.len() + 8);
    crate::field::write_unicode_text(raw, &mut shown);
    out.push_str(&String::from_utf8_lossy(&shown));
}

/// The bytes of `msg` from `at`, or nothing.
pub fn rest(msg: &[u8], at: usize) -> &[u8] {
    msg.get(at..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_at(msg: &[u8], at: usize) -> (Result<Name, NameError>, String) {
        let mut raw = Vec::new();
        let r = read_name(msg, at, Some(&mut raw));
        let mut s = String::new();
        if let Ok(n) = r {
            match n.placeholder() {
                Some(p) => s.push_str(p),
                None => format_text(&raw, &mut s),
            }
        }
        (r, s)
    }

    #[test]
    fn names_and_pointers() {
        #[rustfmt::skip]
        let msg = [
            3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, // 0..13
            3, b'f', b'o', b'o', 0xc0, 4,                                         // 13..19
            0,                                                                    // 19
        ];
        let (r, s) = name_at(&msg, 0);
        assert_eq!(s, "www.example");
        assert_eq!(r.unwrap().end, 13);
        assert_eq!(r.unwrap().len_and_labels(), (11, 2));
        let (r, s) = name_at(&msg, 13);
        assert_eq!(s, "foo.example");
        assert_eq!(r.unwrap().end, 19);
        let (r, s) = name_at(&msg, 19);
        assert_eq!(s, ROOT);
        assert_eq!(r.unwrap().len_and_labels(), (6, 1));
    }

    #[test]
    fn malformed_pointer_loop() {
        let msg = [0u8, 0, 0xc0, 2, 0];
        let (r, s) = name_at(&msg, 2);
        assert_eq!(s, LOOPS);
        assert_eq!(r.unwrap().end, 4);
        // Two pointers pointing at each other.
        let msg = [0xc0u8, 2, 0xc0, 0, 1, 2, 3, 4, 5, 6];
        let (r, s) = name_at(&msg, 0);
        assert_eq!(s, LOOPS);
        assert_eq!(r.unwrap().kind, NameKind::Loops);
    }

    #[test]
    fn malformed_labels() {
        let mut msg = vec![0x40u8];
        msg.extend_from_slice(&[b'a'; 64]);
        msg.push(0);
        assert_eq!(name_at(&msg, 0).0, Err(NameError::BadLabelType { at: 0 }));
        assert_eq!(name_at(&[0x80, 0], 0).0, Err(NameError::BadLabelType { at: 0 }));
        assert!(matches!(name_at(&[5, b'a'], 0).0, Err(NameError::Truncated { .. })));
        assert!(matches!(name_at(&[0xc0], 0).0, Err(NameError::Truncated { .. })));
        assert_eq!(
            name_at(&[1, b'a', 0xc0, 0x30], 0).0,
            Err(NameError::PointerPastEnd { at: 2 })
        );
    }

    #[test]
    fn name_too_long() {
        let mut msg = Vec::new();
        for n in [63u8, 63, 63, 61] {
            msg.push(n);
            msg.extend(std::iter::repeat_n(b'a', usize::from(n)));
        }
        msg.push(0);
        let (r, s) = name_at(&msg, 0);
        assert_eq!(s.len(), 253);
        assert_eq!(r.unwrap().len_and_labels(), (253, 4));
        // One byte more is too long.
        msg[192] = 62;
        msg.insert(193, b'a');
        let (r, s) = name_at(&msg, 0);
        assert_eq!(s, TOO_LONG);
        assert_eq!(r.unwrap().len_and_labels(), (15, 1));
    }

    #[test]
    fn text_as_wireshark_formats_it() {
        let mut s = String::new();
        format_text(b"a b.e\\f\x01\x7f\xff\xc3\xa9\t", &mut s);
        assert_eq!(s, "a b.e\\f\\001\\177\u{fffd}\u{e9}\\t");
        let mut s = String::new();
        format_text(b"ab\xff\xfe\xe2\x82", &mut s);
        assert_eq!(s, "ab\u{fffd}\u{fffd}\u{fffd}");
        let (_, s) = name_at(&[1, b'x', 0], 0);
        assert_eq!(s, "x");
        assert_eq!(read_name(&[1, b'x', 0], 0, None).unwrap().len_and_labels(), (0, 0));
    }

    #[test]
    fn fixed_parts() {
        let (_, h) = header(&[0x12, 0x34, 0x81, 0x83, 0, 1, 0, 2, 0, 3, 0, 4]).unwrap();
        assert_eq!((h.id, h.is_response(), h.opcode(), h.rcode()), (0x1234, true, 0, 3));
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
        assert!(header(&[0; 11]).is_err());
        let rr = [0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 1, 99];
        let (rest, f) = rr_fixed(&rr).unwrap();
        assert_eq!((f.rtype, f.class, f.ttl, f.rdata), (1, 1, 3600, &[10, 0, 0, 1][..]));
        assert_eq!(rest, &[99]);
        assert!(rr_fixed(&rr[..13]).is_err());
        assert_eq!(OptTtl::from_ttl(0x0100_8000), OptTtl { ext_rcode: 1, version: 0, z: 0x8000 });
    }
}
