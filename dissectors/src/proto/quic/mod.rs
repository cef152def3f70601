//! QUIC (RFC 9000, 9001; v2 per RFC 9369) over UDP: long and short headers of every packet of
//! a datagram (coalesced packets, RFC 9000 §12.2), Version Negotiation and Retry, and the
//! Initial packets decrypted — their keys come from the client's Destination Connection ID
//! (RFC 9001 §5.2), so no secrets are needed. Their frames are shown, and the CRYPTO frames are
//! reassembled by offset across packets and datagrams (a large ClientHello spans two) and handed
//! to the TLS dissector ([`crate::proto::tls::dissect_handshake_messages`]), which emits the
//! `tls.handshake.*` fields as tshark shows them.
//!
//! Handshake, 0-RTT and 1-RTT packets need TLS secrets: only their headers are shown. A short
//! header does not say how long its Destination Connection ID is; it is the one the peer chose
//! in its long headers (tracked per flow), or not shown when those were not seen.
//!
//! Info column as tshark: one packet's text per datagram, the last one's (`Initial,
//! DCID=…, SCID=…, PKN: 0, CRYPTO, PADDING` / `Handshake, DCID=…` / `Protected Payload (KP0),
//! DCID=…`).
//!
//! Not supported: decryption with a key log, Retry integrity verification, gQUIC, QUIC
//! versions other than 1 and 2 beyond their invariant header (RFC 8999).

pub mod crypto;
pub mod header;

use crate::dissector::{Bind, Cx, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser, Table};
use crate::error::Malformed;
use crate::field::{FieldDef, Group, Kind, Proto, Severity, Span, Value};
use crate::proto::dns::malformed_pdu;
use crate::proto::tls;
use crypto::InitialKeys;
use header::{LongHeader, LongType};
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Caps

/// CRYPTO bytes kept per direction for the Initial packet number space: a ClientHello with
/// post-quantum key shares is under 2 KiB, and RFC 9000 §7.5 lets endpoints cap this buffer at
/// 4 KiB; 64 KiB leaves room for anything real. Bytes beyond are dropped and counted.
pub const MAX_CRYPTO_BYTES: usize = 64 * 1024;

/// Out-of-order CRYPTO fragments held per direction until the gap before them is filled.
pub const MAX_PENDING_FRAGMENTS: usize = 64;

/// QUIC packets dissected in one datagram (coalescing rarely gives more than 3).
pub const MAX_PACKETS_PER_DATAGRAM: usize = 16;

/// Frames shown per decrypted packet (a 1200-byte Initial holds at most a few hundred).
pub const MAX_FRAMES: usize = 1024;

/// The QUIC port usually found (HTTP/3).
pub const PORT: u16 = 443;

// ---------------------------------------------------------------------------------------------
// The dissector

/// The QUIC stream dissector (UDP 443, and any UDP flow that starts with a long header).
pub struct Quic;

impl StreamDissector for Quic {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::UdpPort, PORT as u32)]
    }

    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if header::looks_like_long_header(data) {
            Probe::Yes
        } else {
            Probe::No
        }
    }

    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(QuicParser::default())
    }
}

/// CRYPTO stream data of one direction's Initial packet number space.
#[derive(Debug, Default)]
struct CryptoStream {
    /// Bytes from stream offset 0, contiguous.
    data: Vec<u8>,
    /// Bytes of `data` already handed to TLS as whole messages.
    done: usize,
    /// Fragments beyond `data`'s end: (offset, bytes).
    pending: Vec<(u64, Vec<u8>)>,
    /// Bytes dropped by [`MAX_CRYPTO_BYTES`] or [`MAX_PENDING_FRAGMENTS`].
    dropped: u64,
    /// TLS found a broken message: nothing more is handed over.
    failed: bool,
    /// A message is partly there (tshark's multi-segment PDU): its fragments are collected
    /// without showing TLS until it completes.
    msp: bool,
}

impl CryptoStream {
    /// Adds one CRYPTO frame's data at `offset`.
    fn add(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset.saturating_add(bytes.len() as u64);
        if end > MAX_CRYPTO_BYTES as u64 {
            self.dropped += bytes.len() as u64;
            return;
        }
        let have = self.data.len() as u64;
        if offset > have {
            if self.pending.len() >= MAX_PENDING_FRAGMENTS {
                self.dropped += bytes.len() as u64;
            } else {
                self.pending.push((offset, bytes.to_vec()));
            }
            return;
        }
        self.append(offset, bytes);
        // Fragments that became contiguous.
        while let Some(i) = self
            .pending
            .iter()
            .position(|(o, _)| *o <= self.data.len() as u64)
        {
            let (o, b) = self.pending.swap_remove(i);
            self.append(o, &b);
        }
    }

    fn append(&mut self, offset: u64, bytes: &[u8]) {
        let skip = usize::try_from((self.data.len() as u64).saturating_sub(offset)).unwrap_or(usize::MAX);
        if let Some(new) = bytes.get(skip..) {
            self.data.extend_from_slice(new);
        }
    }

    /// The length of the handshake message at `at` when all of it is there.
    fn message_len_at(&self, at: usize) -> Option<usize> {
        let rest = self.data.get(at..)?;
        let &[_, a, b, c, ..] = rest else {
            return None;
        };
        let len = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        (rest.len() >= len).then_some(len)
    }


}

/// One flow's QUIC parser.
#[derive(Debug, Default)]
pub struct QuicParser {
    /// The direction of the client (whose Initial decrypted with the client keys).
    client: Option<Direction>,
    /// Initial keys, with the version and client DCID they were derived for.
    keys: Option<(u32, Vec<u8>, InitialKeys)>,
    /// The Source Connection ID each direction announced (the peer's short-header DCID).
    scid: [Option<Vec<u8>>; 2],
    /// Largest Initial packet number seen per direction.
    largest_pn: [Option<u64>; 2],
    crypto: [CryptoStream; 2],
    /// Decryption scratch (reused).
    buf: Vec<u8>,
    info: String,
    /// Initial packets that failed to decrypt.
    pub undecrypted: u64,
    /// A 1-RTT (short header) packet was seen.
    short_seen: bool,
}

impl StreamParser for QuicParser {
    fn data(&mut self, dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        let base = usize::try_from(cx.stream_offset).unwrap_or(0);
        let emit = cx.cx.layer(&PROTO, Span::new(base, data.len()));
        let mut w = Datagram {
            dir,
            base,
            emit,
            first_dcid: None,
            numbered: false,
        };
        let mut at = 0;
        let mut result = Ok(());
        for n in 0..MAX_PACKETS_PER_DATAGRAM {
            let Some(packet) = data.get(at..).filter(|p| !p.is_empty()) else {
                break;
            };
            if n > 0 && !self.coalesced(packet, &w) {
                if emit {
                    // tshark shows the padding as one more QUIC item of the datagram.
                    let span = Span::new(base + at, packet.len());
                    cx.cx.sink.layer_apart(&PROTO, span);
                    cx.cx.expert_as(&COALESCED_PADDING, span, Severity::Note, Group::Protocol, |_| {});
                }
                break;
            }
            if n > 0 && emit {
                // Each coalesced packet is a tree of its own.
                cx.cx.sink.layer_apart(&PROTO, Span::new(base + at, packet.len()));
            }
            match self.packet(packet, at, &mut w, cx) {
                Ok(len) => at += len,
                Err(m) => {
                    result = Err(m);
                    break;
                }
            }
        }
        if let Some(cols) = cx.cx.cols.as_deref_mut() {
            cols.protocol = "QUIC";
            cols.info.clear();
            cols.info.push_str(&self.info);
        }
        if let Err(m) = result {
            malformed_pdu(m, base, cx.cx);
        }
        Progress::Done
    }
}

/// Facts about the datagram being dissected.
struct Datagram<'a> {
    dir: Direction,
    /// Offset of the datagram's first byte (for spans).
    base: usize,
    emit: bool,
    /// The first packet's Destination Connection ID: coalesced packets must repeat it.
    first_dcid: Option<&'a [u8]>,
    /// The connection number was given (-T fields has it once a datagram, as tshark's).
    numbered: bool,
}

impl QuicParser {
    /// Whether the bytes after a packet are another packet (RFC 9000 §12.2: same DCID) rather
    /// than padding.
    fn coalesced(&self, rest: &[u8], w: &Datagram<'_>) -> bool {
        let Some(&first) = rest.first() else {
            return false;
        };
        if first & 0x40 == 0 {
            return false;
        }
        if first & 0x80 == 0 {
            // A short header: its DCID must be the one the peer announced.
            let peer = self.scid.get(w.dir.reverse().index()).and_then(|c| c.as_deref());
            return match (peer, w.first_dcid) {
                (Some(cid), Some(first)) => cid == first && rest.get(1..1 + cid.len()) == Some(cid),
                _ => false,
            };
        }
        match header::long_header(rest) {
            Ok(h) => w.first_dcid.is_none_or(|d| d == h.dcid),
            Err(_) => false,
        }
    }

    /// Dissects one packet at `at` in the datagram; returns its length.
    fn packet<'d>(
        &mut self,
        packet: &'d [u8],
        at: usize,
        w: &mut Datagram<'d>,
        cx: &mut StreamCx<'_, '_>,
    ) -> Result<usize, Malformed> {
        let first = packet.first().copied().unwrap_or(0);
        if first & 0x80 == 0 {
            return Ok(self.short(packet, at, w, cx));
        }
        let h = header::long_header(packet)
            .map_err(|e| Malformed::new(&PROTO, at + e.at, e.reason))?;
        if w.first_dcid.is_none() {
            w.first_dcid = Some(h.dcid);
        }
        let d = w.dir.index();
        if h.kind != LongType::VersionNegotiation {
            if let Some(slot) = self.scid.get_mut(d) {
                if slot.as_deref() != Some(h.scid) {
                    *slot = Some(h.scid.to_vec());
                }
            }
        }
        let (emit, sp) = (w.emit, |o: usize, l: usize| Span::new(w.base + at + o, l));
        let field = |cx: &mut StreamCx<'_, '_>, def: &'static FieldDef, span: Span, v: Value<'_>| {
            if emit {
                cx.cx.field(def, span, v);
            }
        };
        self.info.clear();
        self.info.push_str(h.kind.name());
        // Empty connection IDs are left out, as tshark does.
        for (label, cid) in [(", DCID=", h.dcid), (", SCID=", h.scid)] {
            if !cid.is_empty() {
                self.info.push_str(label);
                hex(cid, &mut self.info);
            }
        }
        // Decrypt Initial packets first: the protected header bits are shown unprotected.
        let plain = if h.kind == LongType::Initial && !h.truncated {
            self.decrypt(packet, &h, w.dir)
        } else {
            None
        };
        if emit {
            connection_item(cx, std::mem::replace(&mut w.numbered, true));
        }
        field(cx, &PACKET_LENGTH, Span::GENERATED, Value::U(h.packet_len as u64));
        field(cx, &HEADER_FORM, sp(0, 1), Value::U(1));
        field(cx, &FIXED_BIT, sp(0, 1), Value::Bool(first & 0x40 != 0));
        // tshark 4.0 shows QUIC v2's rotated types under another field.
        if h.kind != LongType::VersionNegotiation && h.version != crypto::VERSION_2 {
            field(cx, &LONG_PACKET_TYPE, sp(0, 1), Value::U(u64::from(h.type_bits)));
        }
        if let Some((ref p, _, _)) = plain {
            field(cx, &LONG_RESERVED, sp(0, 1), Value::U(u64::from((p.first >> 2) & 3)));
            field(cx, &PACKET_NUMBER_LENGTH, sp(0, 1), Value::U(u64::from(p.first & 3)));
        }
        if emit {
            let version = h.version;
            cx.cx.field_shown(&VERSION, sp(1, 4), Value::U(u64::from(version)), |t| {
                if !write_version(version, t) {
                    let _ = write!(t, "0x{version:08x}");
                }
            });
        }
        field(cx, &DCIL, sp(h.dcid_at - 1, 1), Value::U(h.dcid.len() as u64));
        if !h.dcid.is_empty() {
            field(cx, &DCID, sp(h.dcid_at, h.dcid.len()), Value::Bytes(h.dcid));
        }
        field(cx, &SCIL, sp(h.scid_at - 1, 1), Value::U(h.scid.len() as u64));
        if !h.scid.is_empty() {
            field(cx, &SCID, sp(h.scid_at, h.scid.len()), Value::Bytes(h.scid));
        }
        match h.kind {
            LongType::VersionNegotiation => {
                let list = packet.get(h.pn_at..).unwrap_or(&[]);
                for (i, v) in list.chunks_exact(4).enumerate() {
                    let v = crate::proto::bytes::be32(v, 0);
                    field(cx, &SUPPORTED_VERSION, sp(h.pn_at + 4 * i, 4), Value::U(u64::from(v)));
                }
                return Ok(packet.len());
            }
            LongType::Retry => {
                let rest = packet.get(h.pn_at..).unwrap_or(&[]);
                let Some(tag_at) = rest.len().checked_sub(header::RETRY_TAG_LEN) else {
                    return Err(Malformed::new(&PROTO, at + packet.len(), "QUIC Retry shorter than its integrity tag"));
                };
                let (token, tag) = rest.split_at(tag_at);
                field(cx, &RETRY_TOKEN, sp(h.pn_at, token.len()), Value::Bytes(token));
                field(cx, &RETRY_INTEGRITY_TAG, sp(h.pn_at + tag_at, tag.len()), Value::Bytes(tag));
                return Ok(packet.len());
            }
            _ => {}
        }
        if let Some((token, len_at)) = h.token {
            field(cx, &TOKEN_LENGTH, sp(len_at, 1), Value::U(token.len() as u64));
            if !token.is_empty() {
                field(cx, &TOKEN, sp(len_at + 1, token.len()), Value::Bytes(token));
            }
        }
        if let Some((length, len_at)) = h.length {
            field(cx, &LENGTH, sp(len_at, 1), Value::U(length));
        }
        let Some((p, pn, plain_len)) = plain else {
            match h.kind {
                LongType::ZeroRtt | LongType::Handshake => no_secrets(true, emit, cx),
                _ => field(cx, &DECRYPTION_FAILED, Span::GENERATED, Value::None),
            }
            let rest = packet.get(h.pn_at..h.packet_len).unwrap_or(&[]);
            field(cx, &REMAINING_PAYLOAD, sp(h.pn_at, rest.len()), Value::Bytes(rest));
            return Ok(h.packet_len);
        };
        field(cx, &PACKET_NUMBER, sp(h.pn_at, p.pn_len), Value::U(pn));
        let payload_at = h.pn_at + p.pn_len;
        let protected = packet.get(payload_at..h.packet_len).unwrap_or(&[]);
        field(cx, &PAYLOAD, sp(payload_at, protected.len()), Value::Bytes(protected));
        let _ = write!(self.info, ", PKN: {pn}");
        let plain = std::mem::take(&mut self.buf);
        let frames = plain.get(payload_at..payload_at + plain_len).unwrap_or(&[]);
        let r = self.frames(frames, w.base + at + payload_at, w, cx);
        self.buf = plain;
        r?;
        Ok(h.packet_len)
    }

    /// Header protection removal and decryption of an Initial packet into `self.buf`;
    /// returns the unprotected facts, the full packet number and the plaintext length.
    ///
    /// The keys come from the DCID of the client's first Initial (or of its first Initial after
    /// a Retry, RFC 9001 §5.2); later client Initials carry the server's chosen DCID but keep the
    /// keys. So the current keys are tried first, and keys from this packet's DCID second.
    fn decrypt(&mut self, packet: &[u8], h: &LongHeader<'_>, dir: Direction) -> Option<(crypto::Unprotected, u64, usize)> {
        let client_side = self.client.is_none_or(|c| c == dir);
        if matches!(&self.keys, Some((v, _, _)) if *v == h.version) {
            if let Some(r) = self.try_open(packet, h, dir, client_side) {
                return Some(r);
            }
        }
        let same = self.keys.as_ref().is_some_and(|(v, d, _)| *v == h.version && d == h.dcid);
        if !client_side || same {
            self.undecrypted += 1;
            return None;
        }
        // Unknown versions have no Initial keys: not a decryption failure.
        let keys = InitialKeys::new(h.version, h.dcid)?;
        let old = self.keys.replace((h.version, h.dcid.to_vec(), keys));
        if let Some(r) = self.try_open(packet, h, dir, client_side) {
            return Some(r);
        }
        if old.is_some() {
            self.keys = old;
        }
        self.undecrypted += 1;
        None
    }

    /// One decryption attempt with the current keys of `dir`'s side.
    fn try_open(&mut self, packet: &[u8], h: &LongHeader<'_>, dir: Direction, client_side: bool) -> Option<(crypto::Unprotected, u64, usize)> {
        let (_, _, keys) = self.keys.as_ref()?;
        let k = if client_side { &keys.client } else { &keys.server };
        let packet = packet.get(..h.packet_len)?;
        let p = k.unprotect(packet, h.pn_at)?;
        let d = dir.index();
        let pn = header::decode_packet_number(self.largest_pn.get(d).copied().flatten(), p.pn, p.pn_len);
        self.buf.clear();
        self.buf.extend_from_slice(packet);
        if let Some(b) = self.buf.first_mut() {
            *b = p.first;
        }
        let pn_bytes = p.pn.to_be_bytes();
        for i in 0..p.pn_len {
            if let (Some(dst), Some(src)) = (self.buf.get_mut(h.pn_at + i), pn_bytes.get(4 - p.pn_len + i)) {
                *dst = *src;
            }
        }
        let len = k.open(&mut self.buf, h.pn_at + p.pn_len, pn)?;
        if self.client.is_none() {
            self.client = Some(dir);
        }
        if let Some(l) = self.largest_pn.get_mut(d) {
            *l = Some(l.map_or(pn, |x| x.max(pn)));
        }
        Some((p, pn, len))
    }

    /// A short-header (1-RTT) packet: the header bits and DCID, the rest protected.
    fn short(&mut self, packet: &[u8], at: usize, w: &mut Datagram<'_>, cx: &mut StreamCx<'_, '_>) -> usize {
        let first = packet.first().copied().unwrap_or(0);
        let peer = self
            .scid
            .get(w.dir.reverse().index())
            .and_then(|c| c.as_deref())
            .filter(|cid| packet.get(1..1 + cid.len()) == Some(*cid));
        self.info.clear();
        // The key phase bit is header-protected: without 1-RTT keys tshark shows phase 0.
        self.info.push_str("Protected Payload (KP0)");
        // A zero-length connection ID shows nothing, as in tshark.
        if let Some(cid) = peer.filter(|c| !c.is_empty()) {
            self.info.push_str(", DCID=");
            hex(cid, &mut self.info);
        }
        if w.emit {
            let sp = |o: usize, l: usize| Span::new(w.base + at + o, l);
            connection_item(cx, std::mem::replace(&mut w.numbered, true));
            let cx = &mut *cx.cx;
            cx.field(&PACKET_LENGTH, Span::GENERATED, Value::U(packet.len() as u64));
            match peer.filter(|c| !c.is_empty()) {
                Some(cid) => cx.field_line(&SHORT, sp(0, 1), Value::None, |t| {
                    t.push_str(SHORT.label);
                    t.push_str(" DCID=");
                    hex(cid, t);
                }),
                None => cx.field(&SHORT, sp(0, 1), Value::None),
            }
            cx.sink.open();
            cx.field(&HEADER_FORM, sp(0, 1), Value::U(0));
            cx.field(&FIXED_BIT, sp(0, 1), Value::Bool(first & 0x40 != 0));
            cx.field(&SPIN_BIT, sp(0, 1), Value::Bool(first & 0x20 != 0));
            if let Some(cid) = peer {
                cx.field(&DCID, sp(1, cid.len()), Value::Bytes(cid));
            }
            cx.sink.close();
        }
        let first = !std::mem::replace(&mut self.short_seen, true);
        no_secrets(first, w.emit, cx);
        if w.emit {
            let sp = |o: usize, l: usize| Span::new(w.base + at + o, l);
            let cx = &mut *cx.cx;
            let cid_len = peer.map_or(0, <[u8]>::len);
            let rest = packet.get(1 + cid_len..).unwrap_or(&[]);
            cx.field(&REMAINING_PAYLOAD, sp(1 + cid_len, rest.len()), Value::Bytes(rest));
        }
        packet.len()
    }

    /// The frames of a decrypted packet (RFC 9000 §19); `base` is the span offset of `data`.
    fn frames(&mut self, data: &[u8], base: usize, w: &Datagram<'_>, cx: &mut StreamCx<'_, '_>) -> Result<(), Malformed> {
        let emit = w.emit;
        let mut rest = data;
        for _ in 0..MAX_FRAMES {
            let Some(&b) = rest.first() else {
                break;
            };
            let f_at = base + (data.len() - rest.len());
            let bad = |r: &[u8]| Malformed::new(&PROTO, base + (data.len() - r.len()), "QUIC frame truncated");
            if b == 0 {
                let n = rest.iter().take_while(|&&x| x == 0).count();
                if emit {
                    cx.cx.field(&FRAME, Span::new(f_at, n), Value::None);
                    cx.cx.sink.open();
                    cx.cx.field(&FRAME_TYPE, Span::new(f_at, 1), Value::U(0));
                    cx.cx.field(&PADDING_LENGTH, Span::GENERATED, Value::U(n as u64));
                    cx.cx.sink.close();
                }
                self.info.push_str(", PADDING");
                rest = rest.get(n..).unwrap_or(&[]);
                continue;
            }
            let (r, ftype) = header::varint(rest).map_err(|_| bad(rest))?;
            let name = frame_name(ftype);
            let mut vals: [(Option<&'static FieldDef>, u64); 8] = [(None, 0); 8];
            let mut nv = 0;
            let mut push = |def: &'static FieldDef, v: u64| {
                if let Some(slot) = vals.get_mut(nv) {
                    *slot = (Some(def), v);
                    nv += 1;
                }
            };
            let mut r = r;
            let var = |r: &mut &[u8]| -> Result<u64, Malformed> {
                let (n, v) = header::varint(r).map_err(|_| bad(r))?;
                *r = n;
                Ok(v)
            };
            let mut crypto: Option<(u64, &[u8])> = None;
            match ftype {
                0x01 | 0x1e => {}
                0x02 | 0x03 => {
                    push(&ACK_LARGEST, var(&mut r)?);
                    push(&ACK_DELAY, var(&mut r)?);
                    let count = var(&mut r)?;
                    push(&ACK_RANGE_COUNT, count);
                    push(&ACK_FIRST_RANGE, var(&mut r)?);
                    for _ in 0..count.min(MAX_FRAMES as u64) {
                        var(&mut r)?;
                        var(&mut r)?;
                    }
                    if ftype == 0x03 {
                        push(&ACK_ECT0, var(&mut r)?);
                        push(&ACK_ECT1, var(&mut r)?);
                        push(&ACK_ECN_CE, var(&mut r)?);
                    }
                }
                0x04 => {
                    for _ in 0..3 {
                        var(&mut r)?;
                    }
                }
                0x05 | 0x11 | 0x15 => {
                    var(&mut r)?;
                    var(&mut r)?;
                }
                0x06 => {
                    let off = var(&mut r)?;
                    let len = var(&mut r)?;
                    push(&CRYPTO_OFFSET, off);
                    push(&CRYPTO_LENGTH, len);
                    let n = usize::try_from(len).unwrap_or(usize::MAX);
                    let bytes = r.get(..n).ok_or_else(|| bad(r))?;
                    r = r.get(n..).unwrap_or(&[]);
                    crypto = Some((off, bytes));
                }
                0x07 => {
                    let len = usize::try_from(var(&mut r)?).unwrap_or(usize::MAX);
                    r = r.get(len..).ok_or_else(|| bad(r))?;
                }
                0x08..=0x0f => {
                    var(&mut r)?;
                    if ftype & 0x04 != 0 {
                        var(&mut r)?;
                    }
                    if ftype & 0x02 != 0 {
                        let len = usize::try_from(var(&mut r)?).unwrap_or(usize::MAX);
                        r = r.get(len..).ok_or_else(|| bad(r))?;
                    } else {
                        r = &[];
                    }
                }
                0x10 | 0x12 | 0x13 | 0x14 | 0x16 | 0x17 | 0x19 => {
                    var(&mut r)?;
                }
                0x18 => {
                    var(&mut r)?;
                    var(&mut r)?;
                    let len = usize::from(*r.first().ok_or_else(|| bad(r))?);
                    r = r.get(1 + len + 16..).ok_or_else(|| bad(r))?;
                }
                0x1a | 0x1b => {
                    r = r.get(8..).ok_or_else(|| bad(r))?;
                }
                0x1c | 0x1d => {
                    push(&CC_ERROR_CODE, var(&mut r)?);
                    if ftype == 0x1c {
                        push(&CC_FRAME_TYPE, var(&mut r)?);
                    }
                    let len = var(&mut r)?;
                    push(&CC_REASON_LENGTH, len);
                    let n = usize::try_from(len).unwrap_or(usize::MAX);
                    r = r.get(n..).ok_or_else(|| bad(r))?;
                }
                0x30 => r = &[],
                0x31 => {
                    let len = usize::try_from(var(&mut r)?).unwrap_or(usize::MAX);
                    r = r.get(len..).ok_or_else(|| bad(r))?;
                }
                _ => {
                    // An unknown frame type: its length cannot be known, stop here.
                    let _ = write!(self.info, ", Unknown ({ftype:#x})");
                    break;
                }
            }
            let f_len = rest.len() - r.len();
            if emit {
                let c = &mut *cx.cx;
                frame_item(c, ftype, Span::new(f_at, f_len));
                for (def, v) in vals.iter().take(nv) {
                    if let Some(def) = def {
                        c.field(def, Span::new(f_at, f_len), Value::U(*v));
                    }
                }
                if crypto.is_some() {
                    c.field(&CRYPTO_DATA, Span::new(f_at, f_len), Value::None);
                }
            }
            let _ = write!(self.info, ", {name}");
            if let Some((off, bytes)) = crypto {
                // tshark draws the TLS the CRYPTO data completes inside the CRYPTO frame.
                if emit {
                    cx.cx.sink.nest();
                }
                self.crypto_data(off, bytes, f_at + f_len - bytes.len(), w.dir, cx);
                if emit {
                    cx.cx.sink.unnest();
                }
            }
            if emit {
                cx.cx.sink.close();
            }
            rest = r;
        }
        Ok(())
    }

    /// Adds CRYPTO data to the direction's stream and hands whole handshake messages to TLS.
    ///
    /// `frame.protocols` follows tshark's reassembly: the CRYPTO frame that makes the start of
    /// a message contiguous hands TLS what is contiguous then — whole messages are dissected,
    /// and a fragment of at least a handshake header shows as a `tls` layer of its own ("Client
    /// Hello (fragment)"); later fragments only extend the message until it completes, and the
    /// completed message is dissected in a `tls` layer of its own.
    fn crypto_data(&mut self, off: u64, bytes: &[u8], at: usize, dir: Direction, cx: &mut StreamCx<'_, '_>) {
        let Some(stream) = self.crypto.get_mut(dir.index()) else {
            return;
        };
        if stream.failed {
            return;
        }
        let contiguous_before = stream.data.len();
        stream.add(off, bytes);
        if stream.data.len() == contiguous_before {
            return;
        }
        // Every whole message from `done` on, in one call (one `tls` layer).
        let mut n = 0;
        while let Some(len) = stream.message_len_at(stream.done + n) {
            n += len;
        }
        if n > 0 {
            let chunk = stream.data.get(stream.done..stream.done + n).unwrap_or(&[]);
            let span_at = at.saturating_sub(usize::try_from(off.saturating_sub(stream.done as u64)).unwrap_or(0));
            match tls::dissect_handshake_messages(chunk, span_at, cx.cx) {
                Ok(done) if done > 0 => stream.done += done,
                _ => {
                    stream.failed = true;
                    return;
                }
            }
            stream.msp = stream.data.len() > stream.done;
            return;
        }
        if !stream.msp {
            // The first part of a message: tshark's TLS shows it as a fragment once it can read
            // the 4-byte handshake header, and only when no later CRYPTO data waits beyond a
            // gap (observed on Chromium's shuffled CRYPTO frames).
            stream.msp = true;
            if stream.data.len() - stream.done >= 4 && stream.pending.is_empty() && cx.cx.layer(&tls::PROTO, Span::new(at, bytes.len())) {
                cx.cx.sink.text(Span::new(at, bytes.len()), "Handshake message (fragment)");
            }
        }
    }
}

/// Lowercase hex of a connection ID.
/// `QUIC Connection information` over `[Connection Number: N]`, at the top of a datagram's
/// first packet's tree: the flow's number among the capture's QUIC flows (tshark numbers connections; one
/// flow is one connection here).
fn connection_item(cx: &mut StreamCx<'_, '_>, again: bool) {
    // Once a datagram: coalesced packets after the first have none.
    if again {
        return;
    }
    let drawn = cx.cx.open_label(Span::new(0, 0), format_args!("QUIC Connection information"));
    cx.cx.field(&CONNECTION_NUMBER, Span::GENERATED, Value::U(cx.ordinal));
    cx.cx.close_label(drawn);
}

/// tshark's expert on a packet it cannot decrypt without TLS secrets: on every 0-RTT and
/// Handshake packet (it tries their keys each time), and on the connection's first 1-RTT packet
/// only (after that it stops trying); `first` says whether this is that one.
fn no_secrets(first: bool, emit: bool, cx: &mut StreamCx<'_, '_>) {
    if first && emit {
        cx.cx.expert_as(&DECRYPTION_FAILED, Span::GENERATED, Severity::Warn, Group::Decryption, |t| {
            t.push_str("Failed to create decryption context: Secrets are not available")
        });
    }
}

fn hex(b: &[u8], out: &mut String) {
    for x in b {
        let _ = write!(out, "{x:02x}");
    }
}

/// Wireshark's frame type names.
fn frame_name(t: u64) -> &'static str {
    match t {
        0x00 => "PADDING",
        0x01 => "PING",
        0x02 | 0x03 => "ACK",
        0x04 => "RESET_STREAM",
        0x05 => "STOP_SENDING",
        0x06 => "CRYPTO",
        0x07 => "NEW_TOKEN",
        0x08..=0x0f => "STREAM",
        0x10 => "MAX_DATA",
        0x11 => "MAX_STREAM_DATA",
        0x12 => "MAX_STREAMS (BIDI)",
        0x13 => "MAX_STREAMS (UNI)",
        0x14 => "DATA_BLOCKED",
        0x15 => "STREAM_DATA_BLOCKED",
        0x16 => "STREAMS_BLOCKED (BIDI)",
        0x17 => "STREAMS_BLOCKED (UNI)",
        0x18 => "NEW_CONNECTION_ID",
        0x19 => "RETIRE_CONNECTION_ID",
        0x1a => "PATH_CHALLENGE",
        0x1b => "PATH_RESPONSE",
        0x1c => "CONNECTION_CLOSE (Transport)",
        0x1d => "CONNECTION_CLOSE (Application)",
        0x1e => "HANDSHAKE_DONE",
        0x30 | 0x31 => "DATAGRAM",
        _ => "Unknown",
    }
}

fn header_form_names(v: u64) -> Option<&'static str> {
    match v {
        0 => Some("Short Header"),
        1 => Some("Long Header"),
        _ => None,
    }
}

fn pn_length_names(v: u64) -> Option<&'static str> {
    ["1 bytes", "2 bytes", "3 bytes", "4 bytes"]
        .get(usize::try_from(v).ok()?)
        .copied()
}

/// `-V`'s text of a version: `1 (0x00000001)`, `draft-29 (0xff00001d)`; `None` for others.
pub(crate) fn write_version(v: u32, t: &mut String) -> bool {
    match v {
        1 => t.push('1'),
        crypto::VERSION_2 => t.push('2'),
        0xff00_0000..=0xff00_00ff => {
            let _ = write!(t, "draft-{}", v & 0xff);
        }
        _ => return false,
    }
    let _ = write!(t, " (0x{v:08x})");
    true
}

/// The frame item (`CRYPTO`) and its type (`CRYPTO (0x0000000000000006)`), as tshark draws
/// them; the subtree that follows is the frame's.
fn frame_item(c: &mut Cx<'_>, ftype: u64, span: Span) {
    c.field_line(&FRAME, span, Value::None, |t| t.push_str(frame_name(ftype)));
    c.sink.open();
    c.field_shown(&FRAME_TYPE, Span::new(span.start as usize, 1), Value::U(ftype), |t| {
        let _ = write!(t, "{} (0x{ftype:016x})", frame_name(ftype));
    });
}

fn frame_names(v: u64) -> Option<&'static str> {
    Some(frame_name(v)).filter(|n| *n != "Unknown")
}

fn long_type_names(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Initial",
        1 => "0-RTT",
        2 => "Handshake",
        3 => "Retry",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Fields

pub static PROTO: Proto = Proto {
    name: "quic",
    long_name: "QUIC IETF",
    fields: &[
        &CONNECTION_NUMBER, &PACKET_LENGTH, &HEADER_FORM, &FIXED_BIT, &LONG_PACKET_TYPE, &LONG_RESERVED,
        &PACKET_NUMBER_LENGTH, &VERSION, &DCIL, &DCID, &SCIL, &SCID, &TOKEN_LENGTH, &TOKEN,
        &LENGTH, &PACKET_NUMBER, &PAYLOAD, &SUPPORTED_VERSION, &RETRY_TOKEN,
        &RETRY_INTEGRITY_TAG, &SHORT, &SPIN_BIT, &DECRYPTION_FAILED, &COALESCED_PADDING, &REMAINING_PAYLOAD, &FRAME,
        &FRAME_TYPE, &PADDING_LENGTH, &ACK_LARGEST, &ACK_DELAY, &ACK_RANGE_COUNT,
        &ACK_FIRST_RANGE, &ACK_ECT0, &ACK_ECT1, &ACK_ECN_CE, &CRYPTO_OFFSET, &CRYPTO_LENGTH,
        &CRYPTO_DATA, &CC_ERROR_CODE, &CC_FRAME_TYPE, &CC_REASON_LENGTH,
    ],
    summary: &[],
};

macro_rules! fields {
    ($($id:ident = $name:literal, $label:literal, $kind:expr $(, $names:expr)? $(=> $(.$view:ident($($arg:expr),*))+)?;)*) => {
        $(pub static $id: FieldDef = FieldDef::new($name, $label, $kind) $(.with_names($names))?$($(.$view($($arg),*))+)?;)*
    };
}

fields! {
    PACKET_LENGTH = "quic.packet_length", "Packet Length", Kind::Dec;
    HEADER_FORM = "quic.header_form", "Header Form", Kind::Dec, header_form_names => .bits(0x80, 8);
    FIXED_BIT = "quic.fixed_bit", "Fixed Bit", Kind::Bool => .bits(0x40, 8).tfs("True", "False");
    LONG_PACKET_TYPE = "quic.long.packet_type", "Packet Type", Kind::Dec, long_type_names => .bits(0x30, 8);
    LONG_RESERVED = "quic.long.reserved", "Reserved", Kind::Dec => .bits(0xc, 8);
    PACKET_NUMBER_LENGTH = "quic.packet_number_length", "Packet Number Length", Kind::Dec, pn_length_names => .bits(0x3, 8);
    VERSION = "quic.version", "Version", Kind::Hex(8);
    CONNECTION_NUMBER = "quic.connection.number", "Connection Number", Kind::Dec;
    DCIL = "quic.dcil", "Destination Connection ID Length", Kind::Dec;
    DCID = "quic.dcid", "Destination Connection ID", Kind::Bytes;
    SCIL = "quic.scil", "Source Connection ID Length", Kind::Dec;
    SCID = "quic.scid", "Source Connection ID", Kind::Bytes;
    TOKEN_LENGTH = "quic.token_length", "Token Length", Kind::Dec;
    TOKEN = "quic.token", "Token", Kind::Bytes;
    LENGTH = "quic.length", "Length", Kind::Dec;
    PACKET_NUMBER = "quic.packet_number", "Packet Number", Kind::Dec;
    PAYLOAD = "quic.payload", "Payload", Kind::Bytes;
    SUPPORTED_VERSION = "quic.supported_version", "Supported Version", Kind::Hex(8);
    RETRY_TOKEN = "quic.retry_token", "Retry Token", Kind::Bytes;
    RETRY_INTEGRITY_TAG = "quic.retry_integrity_tag", "Retry Integrity Tag", Kind::Bytes;
    SHORT = "quic.short", "QUIC Short Header", Kind::None;
    SPIN_BIT = "quic.spin_bit", "Spin Bit", Kind::Bool => .bits(0x20, 8).tfs("True", "False");
    DECRYPTION_FAILED = "quic.decryption_failed", "Decryption failed", Kind::None;
    COALESCED_PADDING = "quic.coalesced_padding_data", "(Random) padding data appended to the datagram", Kind::None;
    REMAINING_PAYLOAD = "quic.remaining_payload", "Remaining Payload", Kind::Bytes;
    FRAME = "quic.frame", "Frame", Kind::None;
    FRAME_TYPE = "quic.frame_type", "Frame Type", Kind::Dec, frame_names;
    PADDING_LENGTH = "quic.padding_length", "Padding Length", Kind::Dec;
    ACK_LARGEST = "quic.ack.largest_acknowledged", "Largest Acknowledged", Kind::Dec;
    ACK_DELAY = "quic.ack.ack_delay", "ACK Delay", Kind::Dec;
    ACK_RANGE_COUNT = "quic.ack.ack_range_count", "ACK Range Count", Kind::Dec;
    ACK_FIRST_RANGE = "quic.ack.first_ack_range", "First ACK Range", Kind::Dec;
    ACK_ECT0 = "quic.ack.ect0_count", "ECT(0) Count", Kind::Dec;
    ACK_ECT1 = "quic.ack.ect1_count", "ECT(1) Count", Kind::Dec;
    ACK_ECN_CE = "quic.ack.ecn_ce_count", "ECN-CE Count", Kind::Dec;
    CRYPTO_OFFSET = "quic.crypto.offset", "Offset", Kind::Dec;
    CRYPTO_LENGTH = "quic.crypto.length", "Length", Kind::Dec;
    CRYPTO_DATA = "quic.crypto.crypto_data", "Crypto Data", Kind::None;
    CC_ERROR_CODE = "quic.cc.error_code", "Error code", Kind::Dec;
    CC_FRAME_TYPE = "quic.cc.frame_type", "Frame Type", Kind::Dec;
    CC_REASON_LENGTH = "quic.cc.reason_phrase.length", "Reason phrase Length", Kind::Dec;
}

#[cfg(test)]
mod tests;
