//! QUIC packet headers (RFC 9000 §17, RFC 8999 for the version-independent parts, RFC 9369 §3.2
//! for QUIC v2's long packet types) and variable-length integers (§16), parsed with nom.

use super::crypto::VERSION_2;
use nom::bytes::complete::take;
use nom::multi::length_data;
use nom::number::complete::{be_u32, be_u8};
use nom::{IResult, Parser};

/// Longest connection ID of QUIC v1 and v2 (RFC 9000 §17.2); other versions may use up to 255.
pub const MAX_CID_LEN: usize = 20;
/// The Retry Integrity Tag (RFC 9001 §5.8).
pub const RETRY_TAG_LEN: usize = 16;

/// A variable-length integer (RFC 9000 §16): two high bits give its length.
pub fn varint(i: &[u8]) -> IResult<&[u8], u64> {
    let (_, first) = be_u8(i)?;
    let len = 1usize << (first >> 6);
    let (rest, bytes) = take(len)(i)?;
    let v = bytes
        .iter()
        .enumerate()
        .fold(0u64, |v, (n, b)| (v << 8) | u64::from(if n == 0 { b & 0x3f } else { *b }));
    Ok((rest, v))
}

/// What a long header says it is, whatever the version's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    VersionNegotiation,
}

impl LongType {
    /// The name Wireshark's Info column uses.
    pub fn name(self) -> &'static str {
        match self {
            LongType::Initial => "Initial",
            LongType::ZeroRtt => "0-RTT",
            LongType::Handshake => "Handshake",
            LongType::Retry => "Retry",
            LongType::VersionNegotiation => "Version Negotiation",
        }
    }
}

/// A parsed long header; offsets are relative to the packet's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader<'a> {
    pub first: u8,
    pub version: u32,
    pub kind: LongType,
    /// The two packet-type bits as sent.
    pub type_bits: u8,
    pub dcid: &'a [u8],
    pub dcid_at: usize,
    pub scid: &'a [u8],
    pub scid_at: usize,
    /// Initial: the token and the offset of its length field.
    pub token: Option<(&'a [u8], usize)>,
    /// Initial, 0-RTT, Handshake: the Length field's value and offset.
    pub length: Option<(u64, usize)>,
    /// Where the (protected) packet number starts.
    pub pn_at: usize,
    /// The whole packet's length within the datagram.
    pub packet_len: usize,
    /// The Length field runs past the datagram (the packet is cut to what is there, as tshark
    /// shows it).
    pub truncated: bool,
}

/// Why a header cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderError {
    pub at: usize,
    pub reason: &'static str,
}

fn err(at: usize, reason: &'static str) -> HeaderError {
    HeaderError { at, reason }
}

/// Parses the long header at the start of `packet` (the rest of the datagram).
pub fn long_header(packet: &[u8]) -> Result<LongHeader<'_>, HeaderError> {
    let pos = |rest: &[u8]| packet.len() - rest.len();
    let trunc = |rest: &[u8]| err(packet.len() - rest.len(), "QUIC long header truncated");
    let (i, (first, version)) = first_and_version(packet).map_err(|_| trunc(&[]))?;
    let dcid_at = pos(i) + 1;
    let (i, dcid) = cid(i).map_err(|_| trunc(i))?;
    let scid_at = pos(i) + 1;
    let (i, scid) = cid(i).map_err(|_| trunc(i))?;
    if version != 0 && (dcid.len() > MAX_CID_LEN || scid.len() > MAX_CID_LEN) && is_known(version) {
        return Err(err(dcid_at - 1, "QUIC connection ID longer than 20 bytes"));
    }
    let type_bits = (first >> 4) & 0x03;
    let kind = if version == 0 {
        LongType::VersionNegotiation
    } else if version == VERSION_2 {
        // RFC 9369 §3.2: the types are rotated by one.
        match type_bits {
            1 => LongType::Initial,
            2 => LongType::ZeroRtt,
            3 => LongType::Handshake,
            _ => LongType::Retry,
        }
    } else {
        match type_bits {
            0 => LongType::Initial,
            1 => LongType::ZeroRtt,
            2 => LongType::Handshake,
            _ => LongType::Retry,
        }
    };
    let mut h = LongHeader {
        first,
        version,
        kind,
        type_bits,
        dcid,
        dcid_at,
        scid,
        scid_at,
        token: None,
        length: None,
        pn_at: pos(i),
        packet_len: packet.len(),
        truncated: false,
    };
    match kind {
        LongType::VersionNegotiation | LongType::Retry => return Ok(h),
        LongType::Initial | LongType::ZeroRtt | LongType::Handshake => {}
    }
    let mut i = i;
    if kind == LongType::Initial {
        let at = pos(i);
        let (r, token) = varint_data(i).map_err(|_| trunc(i))?;
        h.token = Some((token, at));
        i = r;
    }
    let at = pos(i);
    let (i, length) = varint(i).map_err(|_| trunc(i))?;
    h.length = Some((length, at));
    h.pn_at = pos(i);
    let end = usize::try_from(length)
        .ok()
        .and_then(|l| h.pn_at.checked_add(l))
        .filter(|&end| end <= packet.len());
    match end {
        Some(end) => h.packet_len = end,
        None => h.truncated = true,
    }
    Ok(h)
}

fn first_and_version(i: &[u8]) -> IResult<&[u8], (u8, u32)> {
    (be_u8, be_u32).parse(i)
}

/// A connection ID with its one-byte length.
fn cid(i: &[u8]) -> IResult<&[u8], &[u8]> {
    length_data(be_u8).parse(i)
}

/// A varint length and that many bytes.
fn varint_data(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, len) = varint(i)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    take(len)(i)
}

/// Versions whose header rules (20-byte connection IDs) we know.
pub fn is_known(version: u32) -> bool {
    version == super::crypto::VERSION_1 || version == VERSION_2
}

/// Whether `data` starts with something that could be a QUIC long header of a known version (or
/// version negotiation): the detection probe.
pub fn looks_like_long_header(data: &[u8]) -> bool {
    match long_header(data) {
        Ok(h) => {
            h.first & 0x40 != 0 && (is_known(h.version) || h.version == 0)
                || h.version & 0x0f0f_0f0f == 0x0a0a_0a0a
        }
        Err(_) => false,
    }
}

/// RFC 9000 Appendix A.3: the full packet number nearest to the next expected one.
pub fn decode_packet_number(largest: Option<u64>, truncated: u32, pn_len: usize) -> u64 {
    let Some(largest) = largest else {
        return u64::from(truncated);
    };
    let bits = 8 * pn_len as u32;
    let expected = largest + 1;
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | u64::from(truncated);
    if candidate + hwin <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected + hwin && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        // RFC 9000 §A.1's examples.
        assert_eq!(varint(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]).unwrap().1, 151_288_809_941_952_652);
        assert_eq!(varint(&[0x9d, 0x7f, 0x3e, 0x7d]).unwrap().1, 494_878_333);
        assert_eq!(varint(&[0x7b, 0xbd]).unwrap().1, 15_293);
        assert_eq!(varint(&[0x25]).unwrap().1, 37);
        assert!(varint(&[0x7b]).is_err());
        assert!(varint(&[]).is_err());
    }

    #[test]
    fn packet_numbers() {
        assert_eq!(decode_packet_number(Some(0xa82f30ea), 0x9b32, 2), 0xa82f9b32);
        assert_eq!(decode_packet_number(None, 7, 1), 7);
        assert_eq!(decode_packet_number(Some(255), 0, 1), 256);
    }

    #[test]
    fn check_len() {
        #[rustfmt::skip]
        let initial = [
            0xc1, 0, 0, 0, 1,          // Initial, v1, 2-byte PN
            2, 0xaa, 0xbb,             // DCID
            1, 0xcc,                   // SCID
            0,                         // no token
            0x40, 4,                   // Length 4 (2-byte varint)
            0, 1, 0xee, 0xff,          // PN + payload
            0x55,                      // next packet
        ];
        let h = long_header(&initial).unwrap();
        assert_eq!(h.kind, LongType::Initial);
        assert_eq!((h.dcid, h.scid), (&[0xaa, 0xbb][..], &[0xcc][..]));
        assert_eq!((h.pn_at, h.packet_len), (13, 17));
        for n in 0..13 {
            assert!(long_header(&initial[..n]).is_err(), "{n}");
        }
        // A Length past the datagram is shown cut, as tshark does.
        for n in 13..17 {
            assert!(long_header(&initial[..n]).unwrap().truncated, "{n}");
        }
        assert!(looks_like_long_header(&initial));
        assert!(!looks_like_long_header(b"GET / HTTP/1.1\r\n"));
    }
}
