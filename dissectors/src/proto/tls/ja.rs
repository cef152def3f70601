//! Client and server fingerprints: JA3 and JA4 of a ClientHello, JA3S of a ServerHello.
//!
//! * JA3 (Salesforce): `version,ciphers,extensions,groups,point_formats` in decimal, values
//!   joined by `-`, GREASE values (RFC 8701) left out; the fingerprint is the MD5 of that string.
//!   JA3S is `version,cipher,extensions` of the ServerHello. Wireshark's
//!   `tls.handshake.ja3_full` / `ja3` / `ja3s_full` / `ja3s` show the same strings.
//! * JA4 (FoxIO, `technical_details/JA4.md`): `t13d1516h2_<ciphers>_<extensions>`: transport,
//!   highest offered version, SNI or not, cipher and extension counts, first and last character
//!   of the first ALPN value; then the first 12 hex digits of the SHA-256 of the sorted cipher
//!   list, and of the sorted extension list (without SNI and ALPN) plus `_` and the signature
//!   algorithms in their order. `ja4_r` is the same with the lists in clear.
//!
//! Everything is computed from slices of the (already validated) ClientHello: nothing is copied
//! until the strings themselves are built, and only when the fields are wanted.

use crate::proto::bytes::{be16, u8_at};
use crate::proto::tls::record::version::is_grease;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use std::fmt::Write as _;

/// What the fingerprints need from a ClientHello: slices of its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientFacts<'m> {
    /// `legacy_version` of the ClientHello.
    pub version: u16,
    /// The cipher-suite list (two bytes each).
    pub ciphers: &'m [u8],
    /// The whole extension block (type, length, data …), already checked to be well formed.
    pub extensions: &'m [u8],
    /// supported_groups entries (two bytes each).
    pub groups: &'m [u8],
    /// ec_point_formats entries (one byte each).
    pub point_formats: &'m [u8],
    /// signature_algorithms entries (two bytes each).
    pub sig_algs: &'m [u8],
    /// supported_versions entries (two bytes each).
    pub versions: &'m [u8],
    /// The first ALPN protocol name, if the extension had one.
    pub alpn_first: Option<&'m [u8]>,
    /// Whether a server_name extension is present.
    pub sni: bool,
}

/// What JA3S needs from a ServerHello.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerFacts<'m> {
    pub version: u16,
    pub cipher: u16,
    /// The extension block, already checked.
    pub extensions: &'m [u8],
}

/// The two-byte values of a list, in order.
fn u16s(list: &[u8]) -> impl Iterator<Item = u16> + '_ {
    list.chunks_exact(2).map(|c| be16(c, 0))
}

/// The extension types of a checked extension block, in order.
pub fn extension_types(mut exts: &[u8]) -> impl Iterator<Item = u16> + '_ {
    std::iter::from_fn(move || {
        if exts.len() < 4 {
            return None;
        }
        let t = be16(exts, 0);
        let len = usize::from(be16(exts, 2));
        exts = exts.get(4 + len..).unwrap_or(&[]);
        Some(t)
    })
}

fn join_dec(out: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.filter(|v| !is_grease(*v)).enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{v}");
    }
}

/// Wireshark's `tls.handshake.ja3_full`.
pub fn ja3_full(c: &ClientFacts<'_>) -> String {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{},", c.version);
    join_dec(&mut s, u16s(c.ciphers));
    s.push(',');
    join_dec(&mut s, extension_types(c.extensions));
    s.push(',');
    join_dec(&mut s, u16s(c.groups));
    s.push(',');
    join_dec(&mut s, c.point_formats.iter().map(|&p| u16::from(p)));
    s
}

/// Wireshark's `tls.handshake.ja3s_full`.
pub fn ja3s_full(s: &ServerFacts<'_>) -> String {
    let mut out = String::with_capacity(64);
    let _ = write!(out, "{},{},", s.version, s.cipher);
    join_dec(&mut out, extension_types(s.extensions));
    out
}

/// Lowercase hex MD5 of `text` (the JA3 / JA3S fingerprint).
pub fn md5_hex(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The first 12 hex digits of the SHA-256 of `text`.
fn sha256_12(text: &str) -> String {
    let mut h = hex(&Sha256::digest(text.as_bytes()));
    h.truncate(12);
    h
}

/// JA4's two-character version code.
fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4's ALPN characters: first and last of the first value, or of its hex form when either end
/// is not alphanumeric; `00` without a value.
fn alpn_code(alpn: Option<&[u8]>) -> [char; 2] {
    let Some(v) = alpn.filter(|v| !v.is_empty()) else {
        return ['0', '0'];
    };
    let (first, last) = (u8_at(v, 0), u8_at(v, v.len() - 1));
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        return [char::from(first), char::from(last)];
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let nibble = |n: u8| char::from(DIGITS.get(usize::from(n & 0xf)).copied().unwrap_or(b'0'));
    [nibble(first >> 4), nibble(last)]
}

fn join_hex(values: &[u16]) -> String {
    let mut s = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// JA4 and JA4_r of a ClientHello; `quic` selects the `q` transport letter over `t`.
pub fn ja4(c: &ClientFacts<'_>, quic: bool) -> (String, String) {
    let mut ciphers: Vec<u16> = u16s(c.ciphers).filter(|v| !is_grease(*v)).collect();
    let all_exts: Vec<u16> = extension_types(c.extensions)
        .filter(|v| !is_grease(*v))
        .collect();
    let version = u16s(c.versions)
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(c.version);
    let alpn = alpn_code(c.alpn_first);
    let a = format!(
        "{}{}{}{:02}{:02}{}{}",
        if quic { 'q' } else { 't' },
        version_code(version),
        if c.sni { 'd' } else { 'i' },
        ciphers.len().min(99),
        all_exts.len().min(99),
        alpn[0],
        alpn[1],
    );
    ciphers.sort_unstable();
    let mut exts: Vec<u16> = all_exts
        .into_iter()
        .filter(|&t| t != 0x0000 && t != 0x0010)
        .collect();
    exts.sort_unstable();
    let sig_algs: Vec<u16> = u16s(c.sig_algs).filter(|v| !is_grease(*v)).collect();

    let cipher_list = join_hex(&ciphers);
    let mut ext_list = join_hex(&exts);
    if !sig_algs.is_empty() {
        ext_list.push('_');
        ext_list.push_str(&join_hex(&sig_algs));
    }
    let b = if ciphers.is_empty() {
        "000000000000".to_string()
    } else {
        sha256_12(&cipher_list)
    };
    let c_hash = if exts.is_empty() {
        "000000000000".to_string()
    } else {
        sha256_12(&ext_list)
    };
    let ja4 = format!("{a}_{b}_{c_hash}");
    let ja4_r = format!("{a}_{cipher_list}_{ext_list}");
    (ja4, ja4_r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn ext_block(types: &[u16]) -> Vec<u8> {
        types
            .iter()
            .flat_map(|t| [t.to_be_bytes(), [0, 0]].concat())
            .collect()
    }

    /// The worked example of the JA4 specification.
    #[test]
    fn ja4_spec_example() {
        let ciphers = be(&[
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ]);
        let exts = ext_block(&[
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ]);
        let sig = be(&[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]);
        let versions = be(&[0x0a0a, 0x0304, 0x0303]);
        let c = ClientFacts {
            version: 0x0303,
            ciphers: &ciphers,
            extensions: &exts,
            sig_algs: &sig,
            versions: &versions,
            alpn_first: Some(b"h2"),
            sni: true,
            ..ClientFacts::default()
        };
        let (ja4, ja4_r) = ja4(&c, false);
        assert_eq!(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert!(ja4_r.starts_with("t13d1516h2_002f,0035,009c,009d,1301"));
        assert!(ja4_r.ends_with("4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"));
    }

    #[test]
    fn ja4_empty_lists() {
        let c = ClientFacts {
            version: 0x0303,
            ..ClientFacts::default()
        };
        assert_eq!(ja4(&c, true).0, "q12i000000_000000000000_000000000000");
    }

    #[test]
    fn alpn_codes() {
        assert_eq!(alpn_code(Some(b"http/1.1")), ['h', '1']);
        assert_eq!(alpn_code(Some(b"h")), ['h', 'h']);
        assert_eq!(alpn_code(Some(&[0xab])), ['a', 'b']);
        assert_eq!(alpn_code(Some(&[0x30, 0xab, 0xcd, 0x31])), ['0', '1']);
        assert_eq!(alpn_code(Some(&[0x30, 0x31, 0xab, 0xcd])), ['3', 'd']);
        assert_eq!(alpn_code(Some(b"")), ['0', '0']);
        assert_eq!(alpn_code(None), ['0', '0']);
    }

    /// tls12.pcap frame 6, as tshark 4.0 prints it.
    #[test]
    fn ja3_matches_tshark() {
        let ciphers = be(&[0xc02c, 0x1a1a, 0x00ff]);
        let exts = ext_block(&[0x0000, 0x000b, 0x2a2a, 0x000a]);
        let groups = be(&[0x001d, 0x0017]);
        let c = ClientFacts {
            version: 0x0303,
            ciphers: &ciphers,
            extensions: &exts,
            groups: &groups,
            point_formats: &[0, 1, 2],
            ..ClientFacts::default()
        };
        assert_eq!(ja3_full(&c), "771,49196-255,0-11-10,29-23,0-1-2");
        let s = ServerFacts {
            version: 0x0303,
            cipher: 52392,
            extensions: &ext_block(&[0xff01, 0, 11, 16, 23]),
        };
        let full = ja3s_full(&s);
        assert_eq!(full, "771,52392,65281-0-11-16-23");
        assert_eq!(md5_hex(&full), "f9fcb52580329fb6a9b61d7542087b90");
    }
}
