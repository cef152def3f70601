//! QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3 for QUIC v2): keys derived from
//! the client's first Destination Connection ID, header protection removal and AES-128-GCM
//! decryption. Everything cryptographic is `ring`'s; this file only follows the RFCs' recipes.

use ring::aead::{self, quic as hp, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;

/// QUIC v1's Initial salt (RFC 9001 §5.2).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// QUIC v2's Initial salt (RFC 9369 §3.3.1).
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];

/// The QUIC versions whose Initial packets we can decrypt.
pub const VERSION_1: u32 = 0x0000_0001;
pub const VERSION_2: u32 = 0x6b33_43cf;

/// Bytes of ciphertext sampled for header protection (RFC 9001 §5.4.2).
pub const SAMPLE_LEN: usize = 16;
/// The AEAD tag after the ciphertext.
pub const TAG_LEN: usize = 16;

/// An output length for ring's HKDF-Expand.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out`.
fn expand_label(prk: &hkdf::Prk, label: &[u8], out: &mut [u8]) -> bool {
    let Ok(len) = u16::try_from(out.len()) else {
        return false;
    };
    let Ok(label_len) = u8::try_from(6 + label.len()) else {
        return false;
    };
    let len = len.to_be_bytes();
    let info: [&[u8]; 5] = [&len, &[label_len], b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .is_ok()
}

/// One direction's Initial keys.
pub struct Keys {
    aead: LessSafeKey,
    iv: [u8; 12],
    hp: hp::HeaderProtectionKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys")
    }
}

/// The client's and the server's Initial keys of one connection.
#[derive(Debug)]
pub struct InitialKeys {
    pub client: Keys,
    pub server: Keys,
}

impl InitialKeys {
    /// Derives both directions' keys from the client's Destination Connection ID, for QUIC v1
    /// or v2; `None` for another version.
    pub fn new(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        let (salt, labels): (&[u8], [&[u8]; 3]) = match version {
            VERSION_1 => (&SALT_V1, [b"quic key", b"quic iv", b"quic hp"]),
            VERSION_2 => (&SALT_V2, [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"]),
            _ => return None,
        };
        let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(dcid);
        let side = |label: &[u8]| -> Option<Keys> {
            let mut secret = [0u8; 32];
            if !expand_label(&initial, label, &mut secret) {
                return None;
            }
            let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
            let (mut key, mut iv, mut hpk) = ([0u8; 16], [0u8; 12], [0u8; 16]);
            if !(expand_label(&prk, labels[0], &mut key)
                && expand_label(&prk, labels[1], &mut iv)
                && expand_label(&prk, labels[2], &mut hpk))
            {
                return None;
            }
            Some(Keys {
                aead: LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &key).ok()?),
                iv,
                hp: hp::HeaderProtectionKey::new(&hp::AES_128, &hpk).ok()?,
            })
        };
        Some(InitialKeys {
            client: side(b"client in")?,
            server: side(b"server in")?,
        })
    }
}

/// A packet whose header protection was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unprotected {
    /// The first byte with its protected bits restored.
    pub first: u8,
    /// Packet number length in bytes (1 to 4).
    pub pn_len: usize,
    /// The truncated packet number as sent.
    pub pn: u32,
}

impl Keys {
    /// Removes header protection (RFC 9001 §5.4): `packet` is the whole packet (header and
    /// payload), `pn_at` the offset of its packet number.
    pub fn unprotect(&self, packet: &[u8], pn_at: usize) -> Option<Unprotected> {
        let sample = packet.get(pn_at + 4..pn_at + 4 + SAMPLE_LEN)?;
        let mask = self.hp.new_mask(sample).ok()?;
        let [m0, m1, m2, m3, m4] = mask;
        let b0 = *packet.first()?;
        // Long headers protect the low 4 bits, short headers the low 5 (RFC 9001 §5.4.1).
        let first = if b0 & 0x80 != 0 { b0 ^ (m0 & 0x0f) } else { b0 ^ (m0 & 0x1f) };
        let pn_len = usize::from(first & 0x03) + 1;
        let mut pn = 0u32;
        for (i, m) in [m1, m2, m3, m4].iter().take(pn_len).enumerate() {
            pn = (pn << 8) | u32::from(packet.get(pn_at + i)? ^ m);
        }
        Some(Unprotected { first, pn_len, pn })
    }

    /// Decrypts a packet in place: `buf` holds the header with its protection removed (first
    /// byte and packet number rewritten) followed by the payload and tag; `payload_at` is where
    /// the ciphertext starts. Returns the plaintext's length (it starts at `payload_at`).
    pub fn open(&self, buf: &mut [u8], payload_at: usize, pn: u64) -> Option<usize> {
        let mut nonce = self.iv;
        for (n, p) in nonce.iter_mut().rev().zip(pn.to_be_bytes().iter().rev()) {
            *n ^= p;
        }
        if payload_at > buf.len() {
            return None;
        }
        let (header, payload) = buf.split_at_mut(payload_at);
        let plain = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&*header),
                payload,
            )
            .ok()?;
        Some(plain.len())
    }
}

#[cfg(test)]
impl Keys {
    /// Protects a packet as a sender would (tests build Initial packets with it): `packet` is
    /// the header with its unprotected packet number at `pn_at` (`pn_len` bytes) followed by
    /// the plaintext payload; the tag is appended and header protection applied.
    pub fn seal(&self, packet: &mut Vec<u8>, pn_at: usize, pn_len: usize, pn: u64) {
        let mut nonce = self.iv;
        for (n, p) in nonce.iter_mut().rev().zip(pn.to_be_bytes().iter().rev()) {
            *n ^= p;
        }
        let payload_at = pn_at + pn_len;
        let mut payload = packet.split_off(payload_at);
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&packet[..]),
                &mut payload,
            )
            .unwrap();
        packet.extend_from_slice(&payload);
        let sample = packet[pn_at + 4..pn_at + 4 + SAMPLE_LEN].to_vec();
        let mask = self.hp.new_mask(&sample).unwrap();
        packet[0] ^= mask[0] & if packet[0] & 0x80 != 0 { 0x0f } else { 0x1f };
        for i in 0..pn_len {
            packet[pn_at + i] ^= mask[1 + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9001 Appendix A.2: the client Initial's header protection sample and mask.
    #[test]
    fn rfc9001_client_initial_keys() {
        let keys = InitialKeys::new(VERSION_1, &hex("8394c8f03e515708")).unwrap();
        let sample = hex("d1b1c98dd7689fb8ec11d242b123dc9b");
        let mask = keys.client.hp.new_mask(&sample).unwrap();
        assert_eq!(mask, [0x43, 0x7b, 0x9a, 0xec, 0x36]);
        assert_eq!(keys.client.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(keys.server.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
    }

    /// RFC 9369 Appendix A.1: QUIC v2 client keys.
    #[test]
    fn rfc9369_client_initial_keys() {
        let keys = InitialKeys::new(VERSION_2, &hex("8394c8f03e515708")).unwrap();
        assert_eq!(keys.client.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert!(InitialKeys::new(0xff00_001d, &[1, 2]).is_none());
    }
}

