//! TLS handshake messages (RFC 8446 §4, RFC 5246 §7.4): reassembly across records, dissection,
//! and the `tls.handshake.*` fields.
//!
//! A record may hold several messages, and a message may span records (large certificate
//! chains, post-quantum key shares). [`HsBuf`] keeps the fragments of one message per direction
//! — the one owning copy on the TLS path, capped at [`MAX_HANDSHAKE_LEN`] — and a whole message
//! is then dissected as if it had come in one record.
//!
//! Each whole message goes to `tls-parser` (ClientHello, ServerHello, Certificate,
//! CertificateRequest, the ECDH/DH parameters of a ServerKeyExchange); its results are checked
//! against the lengths the message declares, since its nom parsers silently drop a vector entry
//! that overruns its list. Extensions are walked here, one TLV at a time, because their fields
//! need byte positions and every inner length is checked against the extension's own: a length
//! that overruns is a malformed message, a shorter one leaves trailing data (an expert note).
//! Certificates' subject, issuer and extensions come from `x509-parser`.

use super::ja::{self, ClientFacts, ServerFacts};
use super::record::version;
use super::state::Event;
use super::*;
use crate::proto::bytes::{be16, slice, u8_at};
use tls_parser::{TlsCipherKx, TlsCipherSuiteID};
use super::x509::{distinguished_names, x509_certificate};


/// The longest handshake message reassembled across records. Certificate chains with
/// post-quantum signatures reach tens of KiB; RFC 8446 allows 2^24 - 1 but nothing real comes
/// near, and this bounds what one direction of one connection can hold.
pub const MAX_HANDSHAKE_LEN: usize = 1 << 17;

/// The message header: type (1), length (3).
pub const HEADER_LEN: usize = 4;

/// The random value of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
#[rustfmt::skip]
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Handshake message types (IANA "TLS HandshakeType").
pub mod kind {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const END_OF_EARLY_DATA: u8 = 5;
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
    pub const CERTIFICATE_STATUS: u8 = 22;
    pub const KEY_UPDATE: u8 = 24;
}

/// Extension types used here (IANA "TLS ExtensionType Values").
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const PADDING: u16 = 21;
    pub const RECORD_SIZE_LIMIT: u16 = 28;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const EARLY_DATA: u16 = 42;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const COOKIE: u16 = 44;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const CERTIFICATE_AUTHORITIES: u16 = 47;
    pub const SIGNATURE_ALGORITHMS_CERT: u16 = 50;
    pub const KEY_SHARE: u16 = 51;
    /// key_share before TLS 1.3 draft 23 moved it to 51.
    pub const KEY_SHARE_OLD: u16 = 40;
    /// Encrypted SNI (draft-ietf-tls-esni before ECH).
    pub const ENCRYPTED_SERVER_NAME: u16 = 0xffce;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
    pub const QUIC_TRANSPORT_PARAMETERS: u16 = 57;
}

/// Value names, as Wireshark shows them in `-V`.
pub mod names {
    use super::super::record::version::is_grease;

    pub fn handshake_type(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "Hello Request",
            1 => "Client Hello",
            2 => "Server Hello",
            3 => "Hello Verify Request",
            4 => "New Session Ticket",
            5 => "End of Early Data",
            6 => "Hello Retry Request",
            8 => "Encrypted Extensions",
            11 => "Certificate",
            12 => "Server Key Exchange",
            13 => "Certificate Request",
            14 => "Server Hello Done",
            15 => "Certificate Verify",
            16 => "Client Key Exchange",
            20 => "Finished",
            21 => "Client Certificate URL",
            22 => "Certificate Status",
            23 => "Supplemental Data",
            24 => "Key Update",
            25 => "Compressed Certificate",
            67 => "Encrypted Extensions",
            254 => "Message Hash",
            _ => return None,
        })
    }

    /// The IANA name of a cipher suite (tls-parser's table).
    pub fn cipher_suite(v: u64) -> Option<&'static str> {
        let id = u16::try_from(v).ok()?;
        if is_grease(id) {
            return Some("Reserved (GREASE)");
        }
        tls_parser::TlsCipherSuiteID(id)
            .get_ciphersuite()
            .map(|c| c.name)
    }

    pub fn compression(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "null",
            1 => "DEFLATE",
            64 => "LZS",
            _ => return None,
        })
    }

    pub fn extension(v: u64) -> Option<&'static str> {
        let t = u16::try_from(v).ok()?;
        if is_grease(t) {
            return Some("Reserved (GREASE)");
        }
        Some(match t {
            0 => "server_name",
            1 => "max_fragment_length",
            2 => "client_certificate_url",
            3 => "trusted_ca_keys",
            4 => "truncated_hmac",
            5 => "status_request",
            6 => "user_mapping",
            7 => "client_authz",
            8 => "server_authz",
            9 => "cert_type",
            10 => "supported_groups",
            11 => "ec_point_formats",
            12 => "srp",
            13 => "signature_algorithms",
            14 => "use_srtp",
            15 => "heartbeat",
            16 => "application_layer_protocol_negotiation",
            17 => "status_request_v2",
            18 => "signed_certificate_timestamp",
            19 => "client_certificate_type",
            20 => "server_certificate_type",
            21 => "padding",
            22 => "encrypt_then_mac",
            23 => "extended_master_secret",
            24 => "token_binding",
            25 => "cached_info",
            27 => "compress_certificate",
            28 => "record_size_limit",
            34 => "delegated_credentials",
            35 => "session_ticket",
            40 => "Reserved (key_share)",
            41 => "pre_shared_key",
            42 => "early_data",
            43 => "supported_versions",
            44 => "cookie",
            45 => "psk_key_exchange_modes",
            47 => "certificate_authorities",
            48 => "oid_filters",
            49 => "post_handshake_auth",
            50 => "signature_algorithms_cert",
            51 => "key_share",
            52 => "transparency_info",
            53 => "connection_id (deprecated)",
            54 => "connection_id",
            55 => "external_id_hash",
            56 => "external_session_id",
            57 => "quic_transport_parameters",
            58 => "ticket_request",
            59 => "dnssec_chain",
            13172 => "next_protocol_negotiation",
            17513 => "application_settings",
            0xfe0d => "encrypted_client_hello",
            0xffce => "encrypted_server_name",
            0xff01 => "renegotiation_info",
            _ => return None,
        })
    }

    pub fn sni_type(v: u64) -> Option<&'static str> {
        (v == 0).then_some("host_name")
    }

    /// Supported groups / key-share groups (IANA "TLS Supported Groups").
    pub fn group(v: u64) -> Option<&'static str> {
        let g = u16::try_from(v).ok()?;
        if is_grease(g) {
            return Some("Reserved (GREASE)");
        }
        Some(match g {
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            29 => "x25519",
            30 => "x448",
            256 => "ffdhe2048",
            257 => "ffdhe3072",
            258 => "ffdhe4096",
            259 => "ffdhe6144",
            260 => "ffdhe8192",
            0x0200 => "MLKEM512",
            0x0201 => "MLKEM768",
            0x0202 => "MLKEM1024",
            0x11eb => "SecP256r1MLKEM768",
            0x11ec => "X25519MLKEM768",
            0x11ed => "SecP384r1MLKEM1024",
            0x6399 => "X25519Kyber768Draft00",
            _ => return None,
        })
    }

    pub fn ec_point_format(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "uncompressed",
            1 => "ansiX962_compressed_prime",
            2 => "ansiX962_compressed_char2",
            _ => return None,
        })
    }

    /// Signature schemes (RFC 8446 §4.2.3) and TLS 1.2 hash/signature pairs.
    pub fn signature_scheme(v: u64) -> Option<&'static str> {
        let s = u16::try_from(v).ok()?;
        if is_grease(s) {
            return Some("Reserved (GREASE)");
        }
        Some(match s {
            0x0201 => "rsa_pkcs1_sha1",
            0x0202 => "SHA1 DSA",
            0x0203 => "ecdsa_sha1",
            0x0301 => "SHA224 RSA",
            0x0302 => "SHA224 DSA",
            0x0303 => "SHA224 ECDSA",
            0x0401 => "rsa_pkcs1_sha256",
            0x0402 => "SHA256 DSA",
            0x0403 => "ecdsa_secp256r1_sha256",
            0x0501 => "rsa_pkcs1_sha384",
            0x0502 => "SHA384 DSA",
            0x0503 => "ecdsa_secp384r1_sha384",
            0x0601 => "rsa_pkcs1_sha512",
            0x0602 => "SHA512 DSA",
            0x0603 => "ecdsa_secp521r1_sha512",
            0x0804 => "rsa_pss_rsae_sha256",
            0x0805 => "rsa_pss_rsae_sha384",
            0x0806 => "rsa_pss_rsae_sha512",
            0x0807 => "ed25519",
            0x0808 => "ed448",
            0x0809 => "rsa_pss_pss_sha256",
            0x080a => "rsa_pss_pss_sha384",
            0x080b => "rsa_pss_pss_sha512",
            0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
            0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
            0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
            0x0904 => "mldsa44",
            0x0905 => "mldsa65",
            0x0906 => "mldsa87",
            _ => return None,
        })
    }

    /// The hash half of a TLS 1.2 SignatureAndHashAlgorithm (RFC 5246 §7.4.1.4.1).
    pub fn hash_algorithm(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "None",
            1 => "MD5",
            2 => "SHA1",
            3 => "SHA224",
            4 => "SHA256",
            5 => "SHA384",
            6 => "SHA512",
            _ => return None,
        })
    }

    /// The signature half of a TLS 1.2 SignatureAndHashAlgorithm.
    pub fn signature_algorithm(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "Anonymous",
            1 => "RSA",
            2 => "DSA",
            3 => "ECDSA",
            4 => "SM2",
            _ => return None,
        })
    }

    pub fn psk_ke_mode(v: u64) -> Option<&'static str> {
        Some(match v {
            0 => "PSK-only key establishment (psk_ke)",
            1 => "PSK with (EC)DHE key establishment (psk_dhe_ke)",
            _ => return None,
        })
    }

    pub fn client_cert_type(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "RSA Sign",
            2 => "DSS Sign",
            3 => "RSA Fixed DH",
            4 => "DSS Fixed DH",
            64 => "ECDSA Sign",
            65 => "RSA Fixed ECDH",
            66 => "ECDSA Fixed ECDH",
            _ => return None,
        })
    }

    pub fn curve_type(v: u64) -> Option<&'static str> {
        Some(match v {
            1 => "explicit_prime",
            2 => "explicit_char2",
            3 => "named_curve",
            _ => return None,
        })
    }

    /// The CHOICE of an X.509 Name (only `rdnSequence` exists).
    pub fn rdn_choice(v: u64) -> Option<&'static str> {
        (v == 0).then_some("rdnSequence")
    }
}

/// A cursor over a message body: every read is checked, none can panic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rd<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Rd<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Rd { buf, pos: 0 }
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| u8_at(s, 0))
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| be16(s, 0))
    }
    pub fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|s| usize::from(u8_at(s, 0)) << 16 | usize::from(be16(s, 1)))
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from(be16(s, 0)) << 16 | u32::from(be16(s, 2)))
    }
}

/// Where a message's bytes lie in the buffer spans refer to: `None` for a message reassembled
/// from several records (its fields are shown without a byte range).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(Option<usize>);

impl At {
    pub(crate) fn span(self, rel: usize, len: usize) -> Span {
        match self.0 {
            Some(b) => Span::new(b.saturating_add(rel), len),
            None => Span::GENERATED,
        }
    }
    pub(crate) fn add(self, n: usize) -> At {
        At(self.0.map(|b| b.saturating_add(n)))
    }
}

/// Where `inner` starts inside `outer` (both from the same buffer; 0 if not).
pub(crate) fn pos_of(outer: &[u8], inner: &[u8]) -> usize {
    let d = (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize);
    if d <= outer.len() {
        d
    } else {
        0
    }
}

pub(crate) fn malformed(at: usize, reason: &'static str) -> Malformed {
    Malformed::new(&PROTO, at, reason)
}

/// The usual complaint about a length field that claims more than its container holds.
const LENGTHS_DISAGREE: &str = "extension length disagrees with its contents";

/// The fragments of one handshake message that spans records, for one direction.
#[derive(Debug, Default)]
pub struct HsBuf {
    buf: Vec<u8>,
    active: bool,
    /// Messages refused for exceeding [`MAX_HANDSHAKE_LEN`].
    pub over_cap: u64,
}

impl HsBuf {
    /// Drops a message in progress (after a gap, or when the stream loses sync).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.active = false;
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    /// The whole message's length, once its header is here.
    fn total(&self) -> Option<usize> {
        (self.buf.len() >= HEADER_LEN).then(|| {
            HEADER_LEN + (usize::from(u8_at(&self.buf, 1)) << 16 | usize::from(be16(&self.buf, 2)))
        })
    }

    fn check_cap(&mut self) -> Result<(), Malformed> {
        match self.total() {
            Some(total) if total > MAX_HANDSHAKE_LEN => {
                self.over_cap += 1;
                self.clear();
                Err(malformed(1, "handshake message longer than the reassembly cap").len_from("tls.handshake.length"))
            }
            _ => Ok(()),
        }
    }

    /// Starts a message with its first fragment.
    fn start(&mut self, frag: &[u8]) -> Result<(), Malformed> {
        self.buf.clear();
        self.buf.extend_from_slice(frag);
        self.active = true;
        self.check_cap()
    }

    /// Adds what the message still needs from `body`: the bytes used, and whether the message
    /// is now whole.
    fn extend(&mut self, body: &[u8]) -> Result<(usize, bool), Malformed> {
        let mut used = 0;
        if self.buf.len() < HEADER_LEN {
            let n = (HEADER_LEN - self.buf.len()).min(body.len());
            self.buf.extend_from_slice(slice(body, 0, n));
            used = n;
            self.check_cap()?;
        }
        let Some(total) = self.total() else {
            return Ok((used, false));
        };
        let n = total.saturating_sub(self.buf.len()).min(body.len() - used);
        self.buf.extend_from_slice(slice(body, used, used + n));
        used += n;
        Ok((used, self.buf.len() >= total))
    }
}

/// The whole message at the start of `buf`, if it is all there.
fn whole_message(buf: &[u8]) -> Option<&[u8]> {
    let mut r = Rd::new(buf);
    r.u8()?;
    let len = r.u24()?;
    buf.get(..HEADER_LEN + len)
}

/// Wireshark's `is_encrypted_handshake_message`: whether a handshake record without keys is
/// ciphertext rather than messages. Records under 16 bytes are plaintext (ciphertext carries at
/// least a 16-byte MAC or tag); an explicit GCM nonce of zero, a ChangeCipherSpec in an earlier
/// frame of this direction, an unknown message type or a length of 64 KiB or more mean ciphertext.
fn looks_encrypted(body: &[u8], maybe: bool, ccs_seen: bool) -> bool {
    if body.len() < 16 {
        return false;
    }
    if maybe && (body.get(..5) == Some(&[0u8; 5][..]) || ccs_seen) {
        return true;
    }
    let t = u8_at(body, 0);
    let len = usize::from(u8_at(body, 1)) << 16 | usize::from(be16(body, 2));
    names::handshake_type(t.into()).is_none() || len >= 0x1_0000
}

/// What Wireshark's record item says a handshake record holds (`Client Hello`, `Multiple
/// Handshake Messages`, `Encrypted Handshake Message`), decided as [`dissect_record_body`]
/// decides; `None` for what its label rules are not known for (a message cut at the record's
/// end). `ccs_before`: a ChangeCipherSpec came in an earlier frame of this direction.
pub(crate) fn record_label(body: &[u8], ccs_before: bool) -> Option<&'static str> {
    if looks_encrypted(body, true, ccs_before) {
        return Some("Encrypted Handshake Message");
    }
    let first = whole_message(body)?;
    if first.len() < body.len() {
        return Some("Multiple Handshake Messages");
    }
    Some(message_name(first).unwrap_or("Encrypted Handshake Message"))
}

/// A whole message's name as Wireshark labels it (`Hello Retry Request` for a ServerHello with
/// that random); `None` for an unknown type.
fn message_name(msg: &[u8]) -> Option<&'static str> {
    let t = u8_at(msg, 0);
    let name = names::handshake_type(t.into())?;
    let body = slice(msg, HEADER_LEN, msg.len());
    if t == kind::SERVER_HELLO && body.get(2..34) == Some(&HRR_RANDOM[..]) {
        return Some("Hello Retry Request");
    }
    Some(name)
}

/// Dissects the body of one handshake record: continues a message begun in an earlier record,
/// then dissects each whole message and keeps a message cut at the end for the next record.
pub(crate) fn dissect_record_body(
    body: &[u8],
    base: usize,
    hs: &mut HsBuf,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let at = At(Some(base));
    let mut pos = 0;
    let mut first = true;
    if hs.is_active() {
        let (used, complete) = hs.extend(body)?;
        e.field(&HANDSHAKE, at.span(0, used), Value::None);
        if !complete {
            return Ok(());
        }
        pos = used;
        let msg = std::mem::take(&mut hs.buf);
        hs.active = false;
        let r = dissect_message(&msg, At(None), false, sess, dir, e);
        // Keep the allocation for the next message that spans records.
        hs.buf = msg;
        hs.buf.clear();
        r?;
        first = false;
    } else {
        let ccs_frame = sess.ccs_frame.get(dir.index()).copied().flatten();
        if looks_encrypted(body, true, ccs_frame.is_some_and(|f| f < e.frame)) {
            encrypted_handshake(e, at.span(0, body.len()));
            e.info("Encrypted Handshake Message");
            sess.advance(Event::EncryptedHandshake, dir, e);
            return Ok(());
        }
    }
    while pos < body.len() {
        let rest = slice(body, pos, body.len());
        match whole_message(rest) {
            Some(msg) => {
                dissect_message(msg, at.add(pos), first, sess, dir, e)?;
                pos += msg.len();
                first = false;
            }
            None if !first && sess.ccs_frame.get(dir.index()).is_some_and(Option::is_some) => {
                // After ChangeCipherSpec a plaintext message is only seen under a NULL or stream
                // cipher: what follows it in the record is its MAC, not another message.
                e.text(at.span(pos, rest.len()), "Undecoded trailing data is present");
                return Ok(());
            }
            None => {
                // A message that continues in the next record.
                let t = u8_at(rest, 0);
                e.field(&HANDSHAKE, at.span(pos, rest.len()), Value::None);
                if first {
                    e.info_args(format_args!(
                        "[{} Fragment]",
                        names::handshake_type(t.into()).unwrap_or("Encrypted Handshake Message")
                    ));
                }
                return hs.start(rest);
            }
        }
    }
    Ok(())
}

/// Dissects whole messages back to back (QUIC CRYPTO data); returns the bytes consumed.
pub(crate) fn dissect_messages(
    bytes: &[u8],
    base: usize,
    sess: &mut Session,
    e: &mut Emit<'_, '_>,
) -> Result<usize, Malformed> {
    let at = At(Some(base));
    if looks_encrypted(bytes, false, false) {
        encrypted_handshake(e, at.span(0, bytes.len()));
        return Ok(bytes.len());
    }
    let mut pos = 0;
    while let Some(msg) = whole_message(slice(bytes, pos, bytes.len())) {
        let r = dissect_message(msg, at.add(pos), pos == 0, sess, Direction::ToServer, e);
        r.map_err(|mut m| {
            m.at += pos;
            m
        })?;
        pos += msg.len();
    }
    Ok(pos)
}

/// Dissects one whole message (header included).
fn dissect_message(
    msg: &[u8],
    at: At,
    first: bool,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let t = u8_at(msg, 0);
    let len = msg.len().saturating_sub(HEADER_LEN);
    let body = slice(msg, HEADER_LEN, msg.len());
    let Some(name) = message_name(msg) else {
        // Wireshark reports an unknown type only as the first message of a record.
        if first {
            encrypted_handshake(e, at.span(0, msg.len()));
            e.info("Encrypted Handshake Message");
        }
        return Ok(());
    };
    let hrr = name == "Hello Retry Request";
    e.field_line(&HANDSHAKE, at.span(0, msg.len()), Value::None, |t| {
        let _ = write!(t, "Handshake Protocol: {name}");
    });
    e.open();
    e.field(&HS_TYPE, at.span(0, 1), Value::U(t.into()));
    e.field(&HS_LENGTH, at.span(1, 3), Value::U(len as u64));
    if t != kind::CLIENT_HELLO {
        e.info(name);
    }
    let b = at.add(HEADER_LEN);
    let r = match t {
        kind::CLIENT_HELLO => client_hello(body, b, sess, dir, e),
        kind::SERVER_HELLO => server_hello(body, b, hrr, sess, dir, e),
        kind::NEW_SESSION_TICKET => new_session_ticket(body, b, sess, dir, e),
        kind::ENCRYPTED_EXTENSIONS => {
            let mut r = Rd::new(body);
            match r.u16().and_then(|n| r.take(n.into())) {
                Some(exts) => {
                    e.field(&HS_EXTENSIONS_LENGTH, b.span(0, 2), Value::U(exts.len() as u64));
                    let mut seen = Seen::default();
                    let r = extensions(exts, b.add(2), Hello::EncryptedExtensions, &mut seen, e);
                    if let Some(alpn) = seen.facts.alpn_first {
                        sess.alpn_app = super::app_by_alpn(alpn);
                    }
                    r
                }
                None => Err(malformed(HEADER_LEN, "extensions length exceeds the message")),
            }
        }
        kind::CERTIFICATE => certificate(body, b, sess, dir, e),
        kind::SERVER_KEY_EXCHANGE => server_key_exchange(body, b, sess, dir, e),
        kind::CERTIFICATE_REQUEST => certificate_request(body, b, sess, dir, e),
        kind::SERVER_HELLO_DONE => {
            event(sess, Event::ServerHelloDone, dir, e);
            Ok(())
        }
        kind::CERTIFICATE_VERIFY => certificate_verify(body, b, sess, dir, e),
        kind::CLIENT_KEY_EXCHANGE => client_key_exchange(body, b, sess, dir, e),
        kind::FINISHED => {
            e.field(&VERIFY_DATA, b.span(0, body.len()), Value::None);
            event(sess, Event::OtherHandshake, dir, e);
            Ok(())
        }
        kind::CERTIFICATE_STATUS => {
            // An OCSP response (status type 1): Wireshark's OCSP dissector, and what it carries.
            let mut r = Rd::new(body);
            if let (Some(1), Some(resp)) = (r.u8(), r.u24().and_then(|n| r.take(n))) {
                super::x509::ocsp_response(resp, b.add(4), e);
            }
            event(sess, Event::CertificateStatus, dir, e);
            Ok(())
        }
        kind::KEY_UPDATE => match body {
            [req] => {
                e.field(&KEY_UPDATE_REQUEST, b.span(0, 1), Value::U((*req).into()));
                Ok(())
            }
            _ => Err(malformed(HEADER_LEN, "KeyUpdate is not one byte")),
        },
        _ => {
            event(sess, Event::OtherHandshake, dir, e);
            Ok(())
        }
    };
    e.close();
    r
}

/// The handshake item of ciphertext Wireshark cannot read.
fn encrypted_handshake(e: &mut Emit<'_, '_>, span: Span) {
    e.field_line(&HANDSHAKE, span, Value::None, |t| {
        t.push_str("Handshake Protocol: Encrypted Handshake Message")
    });
}

/// Advances the state machine (not for QUIC, which has no records to follow).
fn event(sess: &mut Session, ev: Event, dir: Direction, e: &mut Emit<'_, '_>) {
    if !sess.quic {
        sess.advance(ev, dir, e);
    }
}

/// The kind of message an extension block belongs to: the same type number means different
/// contents in a ClientHello and a ServerHello (supported_versions, key_share, pre_shared_key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hello {
    Client,
    Server,
    Retry,
    EncryptedExtensions,
    NewSessionTicket,
    CertificateRequest,
    Certificate,
}

/// What the extension walk collected.
#[derive(Debug, Default)]
struct Seen<'m> {
    facts: ClientFacts<'m>,
    selected_version: Option<u16>,
    early_data: bool,
}

/// Walks an extension block, emitting each extension's type, length and contents.
fn extensions<'m>(
    exts: &'m [u8],
    at: At,
    hello: Hello,
    seen: &mut Seen<'m>,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let mut r = Rd::new(exts);
    while !r.is_empty() {
        let start = r.pos();
        let (Some(t), Some(len)) = (r.u16(), r.u16()) else {
            return Err(malformed(start, "extension header truncated"));
        };
        let Some(data) = r.take(len.into()) else {
            return Err(malformed(start + 2, "extension length exceeds the extensions block")
                .len_from("tls.handshake.extension.len"));
        };
        let drawn = e.label(
            at.span(start, 4 + data.len()),
            format_args!("Extension: {} (len={len})", ExtName(t)),
        );
        e.field(&EXT_TYPE, at.span(start, 2), Value::U(t.into()));
        e.field(&EXT_LEN, at.span(start + 2, 2), Value::U(len.into()));
        let res = extension(t, data, at.add(start + 4), hello, seen, e);
        e.close_label(drawn);
        // The extension's own length still frames the next one: note the fault and go on,
        // as Wireshark does.
        if let Err(mut m) = res {
            m.at += start + 4;
            e.malformed_note(m, at.span(start, 4 + data.len()));
        }
    }
    Ok(())
}

/// An extension type as Wireshark names it in an item's text.
struct ExtName(u16);

impl std::fmt::Display for ExtName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match names::extension(self.0.into()) {
            Some(n) => f.write_str(n),
            None => write!(f, "Unknown type {}", self.0),
        }
    }
}

/// A named group as Wireshark names it in an item's text.
struct GroupName(u16);

impl std::fmt::Display for GroupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match names::group(self.0.into()) {
            Some(n) => f.write_str(n),
            None => write!(f, "Unknown ({})", self.0),
        }
    }
}

/// `n` and `one`, with an `s` when `n` is not 1 (Wireshark's `plurality`).
fn counted(t: &mut String, label: &str, n: usize, one: &str) {
    let _ = write!(t, "{label} ({n} {one}{})", if n == 1 { "" } else { "s" });
}

/// A vector with a one- or two-byte length prefix that must fit the extension; `elem` is the
/// entry size the length must be a multiple of. Trailing bytes after it are an expert note.
fn vector<'m>(
    data: &'m [u8],
    prefix: usize,
    elem: usize,
    at: At,
    e: &mut Emit<'_, '_>,
) -> Result<&'m [u8], Malformed> {
    let mut r = Rd::new(data);
    let len = match prefix {
        1 => r.u8().map(usize::from),
        _ => r.u16().map(usize::from),
    }
    .ok_or(malformed(0, LENGTHS_DISAGREE))?;
    let list = r.take(len).ok_or(malformed(0, LENGTHS_DISAGREE))?;
    if elem > 1 && len % elem != 0 {
        return Err(malformed(0, LENGTHS_DISAGREE));
    }
    if !r.is_empty() {
        e.text(at.span(r.pos(), r.remaining()), "Undecoded trailing data is present");
    }
    Ok(list)
}

/// Emits a list of signature schemes with their hash/signature halves.
pub(crate) fn signature_schemes(list: &[u8], at: At, e: &mut Emit<'_, '_>) {
    for (i, pair) in list.chunks_exact(2).enumerate() {
        let v = be16(pair, 0);
        e.field(&SIG_HASH_ALG, at.span(2 * i, 2), Value::U(v.into()));
        e.open();
        e.field(&SIG_HASH_HASH, at.span(2 * i, 1), Value::U((v >> 8).into()));
        e.field(&SIG_HASH_SIG, at.span(2 * i + 1, 1), Value::U((v & 0xff).into()));
        e.close();
    }
}

/// One extension's contents (`data` is exactly the extension's `len` bytes).
fn extension<'m>(
    t: u16,
    data: &'m [u8],
    at: At,
    hello: Hello,
    seen: &mut Seen<'m>,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let bad = || malformed(0, LENGTHS_DISAGREE);
    let u = |v: usize| Value::U(v as u64);
    match t {
        ext::SERVER_NAME => {
            seen.facts.sni = true;
            if data.is_empty() {
                // A server acknowledges SNI with an empty extension (RFC 6066 §3).
                return Ok(());
            }
            let list = vector(data, 2, 1, at, e)?;
            let drawn = e.label(at.span(0, data.len()), format_args!("Server Name Indication extension"));
            e.field(&SNI_LIST_LEN, at.span(0, 2), u(list.len()));
            let mut r = Rd::new(list);
            let entries = (|| {
                while !r.is_empty() {
                    let p = r.pos() + 2;
                    let name_type = r.u8().ok_or_else(bad)?;
                    let name = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                    e.field(&SNI_TYPE, at.span(p, 1), Value::U(name_type.into()));
                    e.field(&SNI_LEN, at.span(p + 1, 2), u(name.len()));
                    e.field(&SNI, at.span(p + 3, name.len()), Value::Text(name));
                }
                Ok(())
            })();
            e.close_label(drawn);
            entries?;
        }
        ext::SUPPORTED_GROUPS => {
            let list = vector(data, 2, 2, at, e)?;
            seen.facts.groups = list;
            e.field(&GROUPS_LENGTH, at.span(0, 2), u(list.len()));
            e.field_line(&GROUPS, at.span(2, list.len()), Value::None, |t| {
                counted(t, "Supported Groups", list.len() / 2, "group")
            });
            e.open();
            for (i, g) in list.chunks_exact(2).enumerate() {
                e.field(&GROUP, at.span(2 + 2 * i, 2), Value::U(be16(g, 0).into()));
            }
            e.close();
        }
        ext::EC_POINT_FORMATS => {
            let list = vector(data, 1, 1, at, e)?;
            seen.facts.point_formats = list;
            e.field(&EC_POINT_FORMATS_LENGTH, at.span(0, 1), u(list.len()));
            e.field_line(&EC_POINT_FORMATS, at.span(1, list.len()), Value::None, |t| {
                let _ = write!(t, "Elliptic curves point formats ({})", list.len());
            });
            e.open();
            for (i, f) in list.iter().enumerate() {
                e.field(&EC_POINT_FORMAT, at.span(1 + i, 1), Value::U((*f).into()));
            }
            e.close();
        }
        ext::SIGNATURE_ALGORITHMS | ext::SIGNATURE_ALGORITHMS_CERT => {
            let list = vector(data, 2, 2, at, e)?;
            if t == ext::SIGNATURE_ALGORITHMS {
                seen.facts.sig_algs = list;
            }
            e.field(&SIG_HASH_ALG_LEN, at.span(0, 2), u(list.len()));
            e.field_line(&SIG_HASH_ALGS, at.span(2, list.len()), Value::None, |t| {
                counted(t, "Signature Hash Algorithms", list.len() / 2, "algorithm")
            });
            e.open();
            signature_schemes(list, at.add(2), e);
            e.close();
        }
        ext::ALPN => {
            let list = vector(data, 2, 1, at, e)?;
            e.field(&ALPN_LEN, at.span(0, 2), u(list.len()));
            e.field(&ALPN_LIST, at.span(2, list.len()), Value::None);
            e.open();
            let mut r = Rd::new(list);
            while !r.is_empty() {
                let p = r.pos() + 2;
                let name = r.u8().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                if seen.facts.alpn_first.is_none() {
                    seen.facts.alpn_first = Some(name);
                }
                e.field(&ALPN_STR_LEN, at.span(p, 1), u(name.len()));
                e.field(&ALPN_STR, at.span(p + 1, name.len()), Value::Text(name));
            }
            e.close();
        }
        ext::PADDING => {
            e.field(&PADDING_DATA, at.span(0, data.len()), Value::Bytes(data));
        }
        ext::SUPPORTED_VERSIONS => match hello {
            Hello::Client => {
                let list = vector(data, 1, 2, at, e)?;
                seen.facts.versions = list;
                e.field(&SUPPORTED_VERSIONS_LEN, at.span(0, 1), u(list.len()));
                for (i, v) in list.chunks_exact(2).enumerate() {
                    e.field(&SUPPORTED_VERSION, at.span(1 + 2 * i, 2), Value::U(be16(v, 0).into()));
                }
            }
            _ => {
                let [hi, lo] = data else {
                    return Err(bad());
                };
                let v = u16::from_be_bytes([*hi, *lo]);
                seen.selected_version = Some(v);
                e.field(&SUPPORTED_VERSION, at.span(0, 2), Value::U(v.into()));
            }
        },
        ext::PSK_KEY_EXCHANGE_MODES => {
            let list = vector(data, 1, 1, at, e)?;
            e.field(&PSK_KE_MODES_LENGTH, at.span(0, 1), u(list.len()));
            for (i, m) in list.iter().enumerate() {
                e.field(&PSK_KE_MODE, at.span(1 + i, 1), Value::U((*m).into()));
            }
        }
        ext::KEY_SHARE | ext::KEY_SHARE_OLD => match hello {
            Hello::Client => {
                let list = vector(data, 2, 1, at, e)?;
                let drawn = e.label(at.span(0, data.len()), format_args!("Key Share extension"));
                e.field(&KEY_SHARE_CLIENT_LENGTH, at.span(0, 2), u(list.len()));
                let mut r = Rd::new(list);
                let mut ok = Some(());
                while ok.is_some() && !r.is_empty() {
                    let p = r.pos() + 2;
                    ok = key_share_entry(&mut r, at.add(p), e);
                }
                e.close_label(drawn);
                ok.ok_or_else(bad)?;
            }
            Hello::Retry => {
                let [hi, lo] = data else {
                    return Err(bad());
                };
                let g = u16::from_be_bytes([*hi, *lo]);
                let drawn = e.label(at.span(0, data.len()), format_args!("Key Share extension"));
                e.field(&KEY_SHARE_SELECTED_GROUP, at.span(0, 2), Value::U(g.into()));
                e.close_label(drawn);
            }
            _ => {
                let mut r = Rd::new(data);
                let drawn = e.label(at.span(0, data.len()), format_args!("Key Share extension"));
                let ok = key_share_entry(&mut r, at, e);
                e.close_label(drawn);
                ok.ok_or_else(bad)?;
                if !r.is_empty() {
                    return Err(bad());
                }
            }
        },
        ext::PRE_SHARED_KEY => match hello {
            Hello::Client => {
                let mut r = Rd::new(data);
                let ids = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                e.field(&PSK_IDENTITIES_LENGTH, at.span(0, 2), u(ids.len()));
                let mut ri = Rd::new(ids);
                while !ri.is_empty() {
                    let p = ri.pos() + 2;
                    let id = ri.u16().and_then(|n| ri.take(n.into())).ok_or_else(bad)?;
                    let age = ri.u32().ok_or_else(bad)?;
                    e.field(&PSK_IDENTITY_LENGTH, at.span(p, 2), u(id.len()));
                    e.field(&PSK_IDENTITY, at.span(p + 2, id.len()), Value::Bytes(id));
                    e.field(&PSK_TICKET_AGE, at.span(p + 2 + id.len(), 4), Value::U(age.into()));
                }
                let p = r.pos();
                let binders = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                e.field(&PSK_BINDERS_LEN, at.span(p, 2), u(binders.len()));
                e.field(&PSK_BINDERS, at.span(p + 2, binders.len()), Value::None);
            }
            _ => {
                let [hi, lo] = data else {
                    return Err(bad());
                };
                e.field(&PSK_SELECTED, at.span(0, 2), Value::U(u16::from_be_bytes([*hi, *lo]).into()));
            }
        },
        ext::EARLY_DATA => {
            seen.early_data = true;
            if hello == Hello::NewSessionTicket {
                let mut r = Rd::new(data);
                let max = r.u32().filter(|_| r.is_empty()).ok_or_else(bad)?;
                e.field(&MAX_EARLY_DATA_SIZE, at.span(0, 4), Value::U(max.into()));
            }
        }
        ext::COOKIE => {
            let cookie = vector(data, 2, 1, at, e)?;
            e.field(&COOKIE_LEN, at.span(0, 2), u(cookie.len()));
            e.field(&COOKIE, at.span(2, cookie.len()), Value::Bytes(cookie));
        }
        ext::RECORD_SIZE_LIMIT => {
            let [hi, lo] = data else {
                return Err(bad());
            };
            e.field(&RECORD_SIZE_LIMIT, at.span(0, 2), Value::U(u16::from_be_bytes([*hi, *lo]).into()));
        }
        ext::STATUS_REQUEST => {
            if hello == Hello::Client && !data.is_empty() {
                let mut r = Rd::new(data);
                let st = r.u8().ok_or_else(bad)?;
                e.field(&STATUS_REQUEST_TYPE, at.span(0, 1), Value::U(st.into()));
                if st == 1 {
                    let ids = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                    e.field(&STATUS_REQUEST_RESPONDER_IDS_LEN, at.span(1, 2), u(ids.len()));
                    let p = r.pos();
                    let exts = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
                    e.field(&STATUS_REQUEST_EXTS_LEN, at.span(p, 2), u(exts.len()));
                }
            }
        }
        ext::RENEGOTIATION_INFO => {
            let info = vector(data, 1, 1, at, e)?;
            let drawn = e.label(at.span(0, data.len()), format_args!("Renegotiation Info extension"));
            e.field(&RENEG_INFO_LEN, at.span(0, 1), u(info.len()));
            if !info.is_empty() {
                e.field(&RENEG_INFO, at.span(1, info.len()), Value::Bytes(info));
            }
            e.close_label(drawn);
        }
        ext::ENCRYPTED_SERVER_NAME if hello == Hello::Client => {
            let mut r = Rd::new(data);
            let suite = r.u16().ok_or_else(bad)?;
            e.field(&ESNI_SUITE, at.span(0, 2), Value::U(suite.into()));
            key_share_entry(&mut r, at.add(2), e).ok_or_else(bad)?;
            let p = r.pos();
            let digest = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
            e.field(&ESNI_RECORD_DIGEST_LENGTH, at.span(p, 2), u(digest.len()));
            e.field(&ESNI_RECORD_DIGEST, at.span(p + 2, digest.len()), Value::Bytes(digest));
            let p = r.pos();
            let sni = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
            e.field(&ESNI_ENCRYPTED_SNI_LENGTH, at.span(p, 2), u(sni.len()));
            e.field(&ESNI_ENCRYPTED_SNI, at.span(p + 2, sni.len()), Value::Bytes(sni));
        }
        ext::CERTIFICATE_AUTHORITIES => {
            let list = vector(data, 2, 1, at, e)?;
            distinguished_names(list, at.add(2), e)?;
        }
        ext::QUIC_TRANSPORT_PARAMETERS => quic_transport_parameters(data, at, e),
        _ => {
            // Wireshark shows the bytes of extensions it does not know (and of GREASE ones).
            if names::extension(t.into()).is_none_or(|_| version::is_grease(t))
                && !data.is_empty()
            {
                e.field(&EXT_DATA, at.span(0, data.len()), Value::Bytes(data));
            }
        }
    }
    Ok(())
}

/// A QUIC variable-length integer (RFC 9000 §16).
fn varint(r: &mut Rd<'_>) -> Option<u64> {
    let first = r.u8()?;
    let extra = (1usize << (first >> 6)) - 1;
    let mut v = u64::from(first & 0x3f);
    for _ in 0..extra {
        v = (v << 8) | u64::from(r.u8()?);
    }
    Some(v)
}

/// Wireshark's name of a QUIC transport parameter (RFC 9000 §18.2, RFC 9368, RFC 9221).
fn quic_parameter_name(t: u64) -> &'static str {
    match t {
        0x00 => "original_destination_connection_id",
        0x01 => "max_idle_timeout",
        0x02 => "stateless_reset_token",
        0x03 => "max_udp_payload_size",
        0x04 => "initial_max_data",
        0x05 => "initial_max_stream_data_bidi_local",
        0x06 => "initial_max_stream_data_bidi_remote",
        0x07 => "initial_max_stream_data_uni",
        0x08 => "initial_max_streams_bidi",
        0x09 => "initial_max_streams_uni",
        0x0a => "ack_delay_exponent",
        0x0b => "max_ack_delay",
        0x0c => "disable_active_migration",
        0x0d => "preferred_address",
        0x0e => "active_connection_id_limit",
        0x0f => "initial_source_connection_id",
        0x10 => "retry_source_connection_id",
        0x11 => "version_information",
        0x20 => "max_datagram_frame_size",
        _ => "Unknown",
    }
}

/// The quic_transport_parameters extension (RFC 9001 §8.2) as tshark's tree shows it: each
/// parameter's type, length and value, and what the value means. Trees only: the items carry
/// no fields `-T fields` is asked for.
fn quic_transport_parameters(data: &[u8], at: At, e: &mut Emit<'_, '_>) {
    if !e.on() || !e.cx.wants_text() {
        return;
    }
    let mut r = Rd::new(data);
    while !r.is_empty() {
        let start = r.pos();
        let (Some(t), Some(len)) = (varint(&mut r), varint(&mut r)) else {
            return;
        };
        let hdr = r.pos() - start;
        let Some(value) = usize::try_from(len).ok().and_then(|n| r.take(n)) else {
            return;
        };
        let name = quic_parameter_name(t);
        let number = {
            let mut v = Rd::new(value);
            varint(&mut v).filter(|_| v.is_empty())
        };
        let span = at.span(start, hdr + value.len());
        let drawn = e.label(span, format_args!("Parameter: {name} (len={len}){}", ParamSuffix(t, number)));
        let mut t_text = String::new();
        let _ = write!(t_text, "Type: {name} (0x{t:02x})");
        e.cx.sink.label(span, &t_text);
        e.cx.sink.label(span, &format!("Length: {len}"));
        let mut hex = Vec::with_capacity(2 * value.len());
        crate::field::write_hex_bytes(value, &mut hex);
        e.cx.sink.label(span, &format!("Value: {}", String::from_utf8_lossy(&hex)));
        match (t, number) {
            (0x01 | 0x03..=0x0b | 0x20, Some(v)) => e.cx.sink.label(span, &format!("{name}: {v}")),
            (0x0e, Some(v)) => e.cx.sink.label(span, &format!("Active Connection ID Limit: {v}")),
            (0x0f, _) => e.cx.sink.label(span, &format!("Initial Source Connection ID: {}", String::from_utf8_lossy(&hex))),
            (0x10, _) => e.cx.sink.label(span, &format!("Retry Source Connection ID: {}", String::from_utf8_lossy(&hex))),
            (0x00, _) => e.cx.sink.label(span, &format!("original_destination_connection_id: {}", String::from_utf8_lossy(&hex))),
            (0x11, _) => {
                for (i, v) in value.chunks_exact(4).enumerate() {
                    let v = <[u8; 4]>::try_from(v).map_or(0, u32::from_be_bytes);
                    let mut line = String::from(if i == 0 { "Chosen Version: " } else { "Other Version: " });
                    if !crate::proto::quic::write_version(v, &mut line) {
                        let _ = write!(line, "0x{v:08x}");
                    }
                    e.cx.sink.label(span, &line);
                }
            }
            _ => {}
        }
        e.close_label(drawn);
    }
}

/// What tshark appends to a parameter's line: the value of the numeric ones it prints
/// (`max_idle_timeout … 60000 ms`).
struct ParamSuffix(u64, Option<u64>);

impl std::fmt::Display for ParamSuffix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0, self.1) {
            (0x01, Some(v)) => write!(f, " {v} ms"),
            (0x03..=0x09 | 0x0b | 0x0e | 0x20, Some(v)) => write!(f, " {v}"),
            _ => Ok(()),
        }
    }
}

/// One KeyShareEntry: group, key-exchange length and bytes.
fn key_share_entry(r: &mut Rd<'_>, at: At, e: &mut Emit<'_, '_>) -> Option<()> {
    let group = r.u16()?;
    let kx = r.u16().and_then(|n| r.take(n.into()))?;
    let drawn = e.label(
        at.span(0, 4 + kx.len()),
        format_args!(
            "Key Share Entry: Group: {}, Key Exchange length: {}",
            GroupName(group),
            kx.len()
        ),
    );
    e.field(&KEY_SHARE_GROUP, at.span(0, 2), Value::U(group.into()));
    e.field(&KEY_SHARE_KX_LENGTH, at.span(2, 2), Value::U(kx.len() as u64));
    e.field(&KEY_SHARE_KX, at.span(4, kx.len()), Value::Bytes(kx));
    e.close_label(drawn);
    Some(())
}

/// The parts every hello has after the version: random and session id.
/// `time_tree`: the random is shown split into GMT Unix Time and Random Bytes, as Wireshark
/// does unless the session is TLS 1.3 (whose random has no time in it).
fn random_and_session_id(random: &[u8], sid: Option<&[u8]>, time_tree: bool, at: At, e: &mut Emit<'_, '_>) {
    e.field(&HS_RANDOM, at.span(2, 32), Value::Bytes(random));
    if time_tree {
        let secs = u32::from_be_bytes([u8_at(random, 0), u8_at(random, 1), u8_at(random, 2), u8_at(random, 3)]);
        e.open();
        e.field(&HS_RANDOM_TIME, at.span(2, 4), Value::Time { secs: secs.into(), nanos: 0 });
        e.field(&HS_RANDOM_BYTES, at.span(6, 28), Value::Bytes(slice(random, 4, random.len())));
        e.close();
    }
    let sid = sid.unwrap_or(&[]);
    e.field(&HS_SESSION_ID_LENGTH, at.span(34, 1), Value::U(sid.len() as u64));
    if !sid.is_empty() {
        e.field(&HS_SESSION_ID, at.span(35, sid.len()), Value::Bytes(sid));
    }
}

/// The extension block at the end of a hello, as tls-parser returned it: `rest` is what it left
/// after, which must be nothing (an extension length it could not honour makes it drop the
/// block silently).
fn hello_extensions<'m>(
    body: &'m [u8],
    ext: Option<&'m [u8]>,
    rest: &[u8],
    at: At,
    hello: Hello,
    seen: &mut Seen<'m>,
    e: &mut Emit<'_, '_>,
) -> Result<&'m [u8], Malformed> {
    let Some(exts) = ext else {
        if !rest.is_empty() {
            return Err(malformed(pos_of(body, rest), "extensions length exceeds the message")
                .len_from("tls.handshake.extensions_length"));
        }
        return Ok(&[]);
    };
    let p = pos_of(body, exts);
    e.field(&HS_EXTENSIONS_LENGTH, at.span(p.saturating_sub(2), 2), Value::U(exts.len() as u64));
    if !rest.is_empty() {
        e.text(at.span(pos_of(body, rest), rest.len()), "Undecoded trailing data is present");
    }
    extensions(exts, at.add(p), hello, seen, e)?;
    Ok(exts)
}

fn client_hello(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let Ok((rest, ch)) = tls_parser::parse_tls_handshake_client_hello(body) else {
        e.info("Client Hello");
        return Err(malformed(HEADER_LEN, "ClientHello truncated or malformed"));
    };
    let sid_len = ch.session_id.map_or(0, <[u8]>::len);
    let cipher_at = 35 + sid_len;
    let ciphers = slice(body, cipher_at + 2, cipher_at + 2 + 2 * ch.ciphers.len());
    let comp_at = cipher_at + 2 + ciphers.len();

    e.field(&HS_VERSION, at.span(0, 2), Value::U(ch.version.0.into()));
    let time_tree = sess.version != Some(version::TLS13);
    random_and_session_id(ch.random, ch.session_id, time_tree, at, e);
    e.field(&HS_CIPHER_SUITES_LENGTH, at.span(cipher_at, 2), Value::U(ciphers.len() as u64));
    e.field_line(&HS_CIPHERSUITES, at.span(cipher_at + 2, ciphers.len()), Value::None, |t| {
        counted(t, "Cipher Suites", ch.ciphers.len(), "suite")
    });
    e.open();
    for (i, c) in ch.ciphers.iter().enumerate() {
        e.field(&HS_CIPHERSUITE, at.span(cipher_at + 2 + 2 * i, 2), Value::U(c.0.into()));
    }
    e.close();
    e.field(&HS_COMP_METHODS_LENGTH, at.span(comp_at, 1), Value::U(ch.comp.len() as u64));
    e.field_line(&HS_COMP_METHODS, at.span(comp_at + 1, ch.comp.len()), Value::None, |t| {
        counted(t, "Compression Methods", ch.comp.len(), "method")
    });
    e.open();
    for (i, c) in ch.comp.iter().enumerate() {
        e.field(&HS_COMP_METHOD, at.span(comp_at + 1 + i, 1), Value::U(c.0.into()));
    }
    e.close();

    let mut seen = Seen::default();
    let exts = match hello_extensions(body, ch.ext, rest, at, Hello::Client, &mut seen, e) {
        Ok(x) => x,
        Err(m) => {
            e.info("Client Hello");
            return Err(m);
        }
    };
    // tshark 4.0 shows no server name here (4.2 added "(SNI=…)").
    e.info("Client Hello");
    // Fingerprints cost hashing and formatting: only when an output may show them.
    let (ja3, ja4) = (
        e.wants_field(&JA3_FULL) || e.wants_field(&JA3),
        e.wants_field(&JA4) || e.wants_field(&JA4_R),
    );
    if ja3 || ja4 {
        let facts = ClientFacts {
            version: ch.version.0,
            ciphers,
            extensions: exts,
            ..seen.facts
        };
        if ja3 {
            let full = ja::ja3_full(&facts);
            e.field(&JA3_FULL, Span::GENERATED, Value::Str(&full));
            e.field(&JA3, Span::GENERATED, Value::Str(&ja::md5_hex(&full)));
        }
        if ja4 {
            let (ja4, ja4_r) = ja::ja4(&facts, sess.quic);
            e.field(&JA4, Span::GENERATED, Value::Str(&ja4));
            e.field(&JA4_R, Span::GENERATED, Value::Str(&ja4_r));
        }
    }
    // Early data can only be TLS 1.3: Wireshark settles the session version on it.
    if seen.early_data && !sess.quic {
        sess.version = Some(version::TLS13);
    }
    event(sess, Event::ClientHello, dir, e);
    Ok(())
}

/// A ServerHello's fixed part, from tls-parser or (TLS 1.3 drafts before 22, which had no
/// session id or compression) read here.
struct ServerHelloParts<'m> {
    version: u16,
    random: &'m [u8],
    session_id: Option<&'m [u8]>,
    cipher: u16,
    compression: Option<u8>,
    ext: Option<&'m [u8]>,
    rest: &'m [u8],
}

fn parse_server_hello(body: &[u8]) -> Option<ServerHelloParts<'_>> {
    let mut r = Rd::new(body);
    let v = r.u16()?;
    // TLS 1.3 drafts before 22 (and early stacks that sent 0x0304 there) had no session id or
    // compression method.
    if (0x7f00..0x7f16).contains(&v) || v == version::TLS13 {
        let random = r.take(32)?;
        let cipher = r.u16()?;
        let ext = if r.is_empty() {
            None
        } else {
            Some(r.u16().and_then(|n| r.take(n.into()))?)
        };
        return Some(ServerHelloParts {
            version: v,
            random,
            session_id: None,
            cipher,
            compression: None,
            ext,
            rest: slice(body, r.pos(), body.len()),
        });
    }
    let (rest, sh) = tls_parser::parse_tls_handshake_server_hello(body).ok()?;
    Some(ServerHelloParts {
        version: sh.version.0,
        random: sh.random,
        session_id: sh.session_id,
        cipher: sh.cipher.0,
        compression: Some(sh.compression.0),
        ext: sh.ext,
        rest,
    })
}

/// The version a ServerHello's supported_versions extension selects (Wireshark reads it before
/// the rest of the message).
fn selected_version(exts: Option<&[u8]>) -> Option<u16> {
    let mut r = Rd::new(exts?);
    while !r.is_empty() {
        let t = r.u16()?;
        let data = r.u16().and_then(|n| r.take(n.into()))?;
        if t == ext::SUPPORTED_VERSIONS {
            if let [hi, lo] = data {
                return Some(u16::from_be_bytes([*hi, *lo]));
            }
        }
    }
    None
}

fn server_hello(
    body: &[u8],
    at: At,
    hrr: bool,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let Some(sh) = parse_server_hello(body) else {
        return Err(malformed(HEADER_LEN, "ServerHello truncated or malformed"));
    };
    e.field(&HS_VERSION, at.span(0, 2), Value::U(sh.version.into()));
    match sh.compression {
        Some(comp) => {
            let chosen = selected_version(sh.ext).unwrap_or(sh.version);
            random_and_session_id(sh.random, sh.session_id, chosen != version::TLS13, at, e);
            let sid_len = sh.session_id.map_or(0, <[u8]>::len);
            e.field(&HS_CIPHERSUITE, at.span(35 + sid_len, 2), Value::U(sh.cipher.into()));
            e.field(&HS_COMP_METHOD, at.span(37 + sid_len, 1), Value::U(comp.into()));
        }
        None => {
            e.field(&HS_RANDOM, at.span(2, 32), Value::Bytes(sh.random));
            e.field(&HS_CIPHERSUITE, at.span(34, 2), Value::U(sh.cipher.into()));
        }
    }
    let mut seen = Seen::default();
    let hello = if hrr { Hello::Retry } else { Hello::Server };
    let exts = hello_extensions(body, sh.ext, sh.rest, at, hello, &mut seen, e)?;
    if let Some(alpn) = seen.facts.alpn_first {
        sess.alpn_app = super::app_by_alpn(alpn);
    }
    if e.wants_field(&JA3S_FULL) || e.wants_field(&JA3S) {
        let full = ja::ja3s_full(&ServerFacts {
            version: sh.version,
            cipher: sh.cipher,
            extensions: exts,
        });
        e.field(&JA3S_FULL, Span::GENERATED, Value::Str(&full));
        e.field(&JA3S, Span::GENERATED, Value::Str(&ja::md5_hex(&full)));
    }
    // The negotiated version: supported_versions for TLS 1.3, else the legacy field.
    let v = version::session(seen.selected_version.unwrap_or(sh.version));
    if !sess.quic {
        if v.is_some() {
            sess.version = v;
        }
        sess.cipher = Some(sh.cipher);
        if let Some(v) = sess.version {
            e.set_protocol(version::short_name(v));
        }
    }
    let ev = match (hrr, v) {
        (true, _) => Event::HelloRetryRequest,
        (false, Some(version::TLS13)) => Event::ServerHello13,
        (false, _) => Event::ServerHello,
    };
    event(sess, ev, dir, e);
    Ok(())
}

fn new_session_ticket(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    // tls-parser's NewSessionTicket is TLS 1.2's and keeps the ticket's length prefix inside
    // the ticket, so both forms are read here.
    let bad = || malformed(HEADER_LEN, "NewSessionTicket truncated");
    let mut r = Rd::new(body);
    let lifetime = r.u32().ok_or_else(bad)?;
    e.field(&TICKET_LIFETIME_HINT, at.span(0, 4), Value::U(lifetime.into()));
    let tls13 = sess.is_tls13();
    if tls13 {
        let age_add = r.u32().ok_or_else(bad)?;
        e.field(&TICKET_AGE_ADD, at.span(4, 4), Value::U(age_add.into()));
        let nonce = r.u8().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
        e.field(&TICKET_NONCE_LENGTH, at.span(8, 1), Value::U(nonce.len() as u64));
        e.field(&TICKET_NONCE, at.span(9, nonce.len()), Value::Bytes(nonce));
    }
    let p = r.pos();
    let ticket = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
    e.field(&TICKET_LENGTH, at.span(p, 2), Value::U(ticket.len() as u64));
    e.field(&TICKET, at.span(p + 2, ticket.len()), Value::Bytes(ticket));
    if tls13 {
        let p = r.pos();
        let exts = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
        e.field(&HS_EXTENSIONS_LENGTH, at.span(p, 2), Value::U(exts.len() as u64));
        extensions(exts, at.add(p + 2), Hello::NewSessionTicket, &mut Seen::default(), e)?;
    }
    event(sess, Event::NewSessionTicket, dir, e);
    Ok(())
}

fn certificate(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let bad = |p: usize| malformed(HEADER_LEN + p, "certificate list lengths disagree");
    if sess.is_tls13() {
        // TLS 1.3 (RFC 8446 §4.4.2): request context, then entries with their own extensions;
        // tls-parser only reads TLS 1.2's form.
        let mut r = Rd::new(body);
        let ctx = r.u8().and_then(|n| r.take(n.into())).ok_or(bad(0))?;
        e.field(&CERT_REQUEST_CONTEXT_LENGTH, at.span(0, 1), Value::U(ctx.len() as u64));
        if !ctx.is_empty() {
            e.field(&CERT_REQUEST_CONTEXT, at.span(1, ctx.len()), Value::Bytes(ctx));
        }
        let p = r.pos();
        let list = r.u24().and_then(|n| r.take(n)).ok_or(bad(p))?;
        e.field(&CERTIFICATES_LENGTH, at.span(p, 3), Value::U(list.len() as u64));
        if !list.is_empty() {
            e.field_line(&CERTIFICATES, at.span(p + 3, list.len()), Value::None, |t| {
                let _ = write!(t, "Certificates ({} bytes)", list.len());
            });
        }
        e.open();
        let mut rl = Rd::new(list);
        while !rl.is_empty() {
            let q = p + 3 + rl.pos();
            let cert = rl.u24().and_then(|n| rl.take(n)).ok_or(bad(q))?;
            one_certificate(cert, at.add(q), e);
            let x = rl.pos();
            let exts = rl.u16().and_then(|n| rl.take(n.into())).ok_or(bad(q))?;
            e.field(&HS_EXTENSIONS_LENGTH, at.span(p + 3 + x, 2), Value::U(exts.len() as u64));
            extensions(exts, at.add(p + 5 + x), Hello::Certificate, &mut Seen::default(), e)?;
        }
        e.close();
    } else {
        let Ok((_, tls_parser::TlsMessageHandshake::Certificate(c))) =
            tls_parser::parse_tls_handshake_msg_certificate(body)
        else {
            return Err(bad(0));
        };
        let mut r = Rd::new(body);
        let list_len = r.u24().ok_or(bad(0))?;
        // tls-parser drops a certificate that overruns the list: check every byte is accounted.
        let sum: usize = c.cert_chain.iter().map(|x| 3 + x.data.len()).sum();
        if list_len + 3 != body.len() || sum != list_len {
            return Err(bad(0).len_from("tls.handshake.certificates_length"));
        }
        e.field(&CERTIFICATES_LENGTH, at.span(0, 3), Value::U(list_len as u64));
        if list_len > 0 {
            e.field_line(&CERTIFICATES, at.span(3, list_len), Value::None, |t| {
                let _ = write!(t, "Certificates ({list_len} bytes)");
            });
        }
        e.open();
        for cert in &c.cert_chain {
            let q = pos_of(body, cert.data).saturating_sub(3);
            one_certificate(cert.data, at.add(q), e);
        }
        e.close();
    }
    event(sess, Event::Certificate, dir, e);
    Ok(())
}

/// One certificate: its length and bytes, then the X.509 parts (`at` is at the length field).
fn one_certificate(der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    e.field(&CERTIFICATE_LENGTH, at.span(0, 3), Value::U(der.len() as u64));
    e.field(&CERTIFICATE, at.span(3, der.len()), Value::Bytes(der));
    e.open();
    x509_certificate(der, at.add(3), e);
    e.close();
}

fn certificate_request(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let bad = || malformed(HEADER_LEN, "CertificateRequest lengths disagree");
    if sess.is_tls13() {
        // TLS 1.3 (RFC 8446 §4.3.2): request context and extensions.
        let mut r = Rd::new(body);
        let ctx = r.u8().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
        e.field(&CERT_REQUEST_CONTEXT_LENGTH, at.span(0, 1), Value::U(ctx.len() as u64));
        if !ctx.is_empty() {
            e.field(&CERT_REQUEST_CONTEXT, at.span(1, ctx.len()), Value::Bytes(ctx));
        }
        let p = r.pos();
        let exts = r.u16().and_then(|n| r.take(n.into())).ok_or_else(bad)?;
        e.field(&HS_EXTENSIONS_LENGTH, at.span(p, 2), Value::U(exts.len() as u64));
        extensions(exts, at.add(p + 2), Hello::CertificateRequest, &mut Seen::default(), e)?;
    } else {
        let Ok((rest, req)) = tls_parser::parse_tls_handshake_certificaterequest(body) else {
            return Err(bad());
        };
        let n = req.cert_types.len();
        e.field(&CERT_TYPES_COUNT, at.span(0, 1), Value::U(n as u64));
        e.field_line(&CERT_TYPES, at.span(1, n), Value::None, |t| counted(t, "Certificate types", n, "type"));
        e.open();
        for (i, t) in req.cert_types.iter().enumerate() {
            e.field(&CERT_TYPE, at.span(1 + i, 1), Value::U((*t).into()));
        }
        e.close();
        let mut p = 1 + n;
        if let Some(algs) = &req.sig_hash_algs {
            let len = 2 * algs.len();
            if usize::from(be16(body, p)) != len {
                return Err(bad());
            }
            e.field(&SIG_HASH_ALG_LEN, at.span(p, 2), Value::U(len as u64));
            e.field_line(&SIG_HASH_ALGS, at.span(p + 2, len), Value::None, |t| {
                counted(t, "Signature Hash Algorithms", algs.len(), "algorithm")
            });
            e.open();
            signature_schemes(slice(body, p + 2, p + 2 + len), at.add(p + 2), e);
            e.close();
            p += 2 + len;
        }
        // tls-parser drops a name that overruns the list: every byte must be accounted for.
        let dn_len = usize::from(be16(body, p));
        let sum: usize = req.unparsed_ca.iter().map(|d| 2 + d.len()).sum();
        if sum != dn_len || p + 2 + dn_len + rest.len() != body.len() {
            return Err(bad().len_from("tls.handshake.dnames_len"));
        }
        e.field(&DNAMES_LEN, at.span(p, 2), Value::U(dn_len as u64));
        distinguished_names(slice(body, p + 2, p + 2 + dn_len), at.add(p + 2), e)?;
        if !rest.is_empty() {
            e.text(at.span(body.len() - rest.len(), rest.len()), "Undecoded trailing data is present");
        }
    }
    event(sess, Event::CertificateRequest, dir, e);
    Ok(())
}

/// The key exchange of the selected cipher suite (tls-parser's table).
fn key_exchange(sess: &Session) -> Option<TlsCipherKx> {
    sess.cipher
        .and_then(|c| TlsCipherSuiteID(c).get_ciphersuite())
        .map(|c| c.kx)
}

/// A TLS 1.2 `DigitallySigned`: algorithm (TLS 1.2 only), length, signature.
fn digitally_signed(
    r: &mut Rd<'_>,
    at: At,
    with_alg: bool,
    len_def: &'static FieldDef,
    sig_def: &'static FieldDef,
    e: &mut Emit<'_, '_>,
) -> Option<()> {
    if with_alg {
        let p = r.pos();
        let alg = r.take(2)?;
        signature_schemes(alg, at.add(p), e);
    }
    let p = r.pos();
    let sig = r.u16().and_then(|n| r.take(n.into()))?;
    e.field(len_def, at.span(p, 2), Value::U(sig.len() as u64));
    e.field(sig_def, at.span(p + 2, sig.len()), Value::Bytes(sig));
    Some(())
}

fn server_key_exchange(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let bad = || malformed(HEADER_LEN, "ServerKeyExchange truncated");
    let tls12 = sess.version.is_some_and(|v| v >= version::TLS12);
    let kx = key_exchange(sess);
    // The parameters sit under an item named for the key exchange, as in tshark's tree.
    let title = match kx {
        Some(TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh) => Some("EC Diffie-Hellman Server Params"),
        Some(TlsCipherKx::Dhe | TlsCipherKx::Dh) => Some("Diffie-Hellman Server Params"),
        _ => None,
    };
    let drawn = title.is_some_and(|t| e.label(at.span(0, body.len()), format_args!("{t}")));
    let shown = server_kx_params(body, at, kx, tls12, e);
    e.close_label(drawn);
    shown.ok_or_else(bad)?;
    event(sess, Event::ServerKeyExchange, dir, e);
    Ok(())
}

/// A ServerKeyExchange's parameters and signature; `None` when they do not parse.
fn server_kx_params(body: &[u8], at: At, kx: Option<TlsCipherKx>, tls12: bool, e: &mut Emit<'_, '_>) -> Option<()> {
    let rest = match kx {
        Some(TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh) => {
            let (rest, p) = tls_parser::parse_ecdh_params(body).ok()?;
            e.field(&SERVER_CURVE_TYPE, at.span(0, 1), Value::U(p.curve_params.curve_type.0.into()));
            if let tls_parser::ECParametersContent::NamedGroup(g) = p.curve_params.params_content {
                e.field(&SERVER_NAMED_CURVE, at.span(1, 2), Value::U(g.0.into()));
            }
            let point = p.public.point;
            let q = pos_of(body, point);
            e.field(&SERVER_POINT_LEN, at.span(q.saturating_sub(1), 1), Value::U(point.len() as u64));
            e.field(&SERVER_POINT, at.span(q, point.len()), Value::Bytes(point));
            rest
        }
        Some(TlsCipherKx::Dhe | TlsCipherKx::Dh) => {
            let (rest, p) = tls_parser::parse_dh_params(body).ok()?;
            for (len_def, def, v) in [(&P_LEN, &P, p.dh_p), (&G_LEN, &G, p.dh_g), (&YS_LEN, &YS, p.dh_ys)] {
                let q = pos_of(body, v);
                e.field(len_def, at.span(q.saturating_sub(2), 2), Value::U(v.len() as u64));
                e.field(def, at.span(q, v.len()), Value::Bytes(v));
            }
            rest
        }
        // RSA export, PSK, SRP …: the parameters are shown as the bytes they are.
        _ => &[],
    };
    if !rest.is_empty() {
        let p = pos_of(body, rest);
        let mut r = Rd::new(body);
        r.take(p);
        digitally_signed(&mut r, at, tls12, &SIG_LEN, &SIG, e)?;
    }
    Some(())
}

fn client_key_exchange(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let bad = || malformed(HEADER_LEN, "ClientKeyExchange lengths disagree");
    let mut r = Rd::new(body);
    let kx = key_exchange(sess);
    let title = match kx {
        Some(TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh) => Some("EC Diffie-Hellman Client Params"),
        Some(TlsCipherKx::Dhe | TlsCipherKx::Dh) => Some("Diffie-Hellman Client Params"),
        Some(TlsCipherKx::Rsa) => Some("RSA Encrypted PreMaster Secret"),
        _ => None,
    };
    let drawn = title.is_some_and(|t| e.label(at.span(0, body.len()), format_args!("{t}")));
    let shown = client_kx_params(&mut r, at, kx, e);
    e.close_label(drawn);
    shown.ok_or_else(bad)?;
    event(sess, Event::ClientKeyExchange, dir, e);
    Ok(())
}

/// A ClientKeyExchange's public value; `None` when its length disagrees.
fn client_kx_params(r: &mut Rd<'_>, at: At, kx: Option<TlsCipherKx>, e: &mut Emit<'_, '_>) -> Option<()> {
    match kx {
        Some(TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh) => {
            let point = r.u8().and_then(|n| r.take(n.into()))?;
            e.field(&CLIENT_POINT_LEN, at.span(0, 1), Value::U(point.len() as u64));
            e.field(&CLIENT_POINT, at.span(1, point.len()), Value::Bytes(point));
        }
        Some(TlsCipherKx::Dhe | TlsCipherKx::Dh) => {
            let yc = r.u16().and_then(|n| r.take(n.into()))?;
            e.field(&YC_LEN, at.span(0, 2), Value::U(yc.len() as u64));
            e.field(&YC, at.span(2, yc.len()), Value::Bytes(yc));
        }
        Some(TlsCipherKx::Rsa) => {
            let epms = r.u16().and_then(|n| r.take(n.into()))?;
            e.field(&EPMS_LEN, at.span(0, 2), Value::U(epms.len() as u64));
            e.field(&EPMS, at.span(2, epms.len()), Value::Bytes(epms));
        }
        _ => {}
    }
    Some(())
}

fn certificate_verify(
    body: &[u8],
    at: At,
    sess: &mut Session,
    dir: Direction,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    let with_alg = sess.version.is_none_or(|v| v >= version::TLS12);
    let mut r = Rd::new(body);
    digitally_signed(&mut r, at, with_alg, &CERT_VERIFY_SIG_LEN, &CERT_VERIFY_SIG, e)
        .ok_or(malformed(HEADER_LEN, "CertificateVerify truncated"))?;
    event(sess, Event::CertificateVerify, dir, e);
    Ok(())
}
