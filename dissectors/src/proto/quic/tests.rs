//! Unit tests of the QUIC dissector: real datagrams from `testdata/captures/quic.pcap` (aioquic,
//! QUIC v1), and Initial packets built and protected here to split a ClientHello anywhere.

use super::*;
use crate::proto::testkit::{Rec, Shown as Frame};
use crate::dissector::Cx;
use crate::pinfo::{Columns, ProtoStack};

static CAPTURE: &[u8] = include_bytes!("../../../../testdata/captures/quic.pcap");

/// The UDP payloads of the capture (classic pcap, Ethernet, IPv4), in order, with the
/// direction (to port 443 = client to server).
fn datagrams() -> Vec<(Direction, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= CAPTURE.len() {
        let caplen = u32::from_le_bytes(CAPTURE[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &CAPTURE[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        if frame[12..14] != [8, 0] || frame[23] != 17 {
            continue;
        }
        let ihl = usize::from(frame[14] & 0xf) * 4;
        let udp = &frame[14 + ihl..];
        let dport = u16::from_be_bytes([udp[2], udp[3]]);
        let dir = if dport == 443 { Direction::ToServer } else { Direction::ToClient };
        out.push((dir, udp[8..].to_vec()));
    }
    out
}

fn feed(parser: &mut QuicParser, dir: Direction, datagram: &[u8]) -> Frame {
    let (mut rec, mut cols, mut stack) = (Rec::default(), Columns::default(), ProtoStack::default());
    {
        let mut cx = Cx::new(&mut rec, Some(&mut cols), &mut stack);
        let mut scx = StreamCx {
            cx: &mut cx,
            frame: 1,
            secs: 0,
            nanos: 0,
            stream_offset: 0,
            stream: 0,
            tcp: false,
            ports: [0, 0],
            ordinal: 0,
        };
        assert!(matches!(parser.data(dir, datagram, &mut scx), Progress::Done));
    }
    Frame {
        fields: rec.fields,
        info: cols.info,
        protocols: stack.as_slice().to_vec(),
    }
}

#[test]
fn deconstruct() {
    let d = datagrams();
    let mut p = QuicParser::default();
    let f = feed(&mut p, d[0].0, &d[0].1);
    assert_eq!(f.protocols, ["quic", "tls"]);
    assert_eq!(f.get("quic.long.packet_type"), ["0"]);
    assert_eq!(f.get("quic.version"), ["0x00000001"]);
    assert_eq!(f.get("quic.dcid"), ["1da8edc34e98831c"]);
    assert_eq!(f.get("quic.scid"), ["6d70c2b05ed6b95d"]);
    assert_eq!(f.get("quic.packet_number"), ["0"]);
    assert_eq!(f.get("quic.length"), ["500"]);
    assert_eq!(f.get("quic.crypto.length"), ["478"]);
    assert_eq!(f.get("tls.handshake.type"), ["1"]);
    assert_eq!(f.get("tls.handshake.extensions_server_name"), ["quic.example.test"]);
    assert_eq!(f.get("tls.handshake.extensions_alpn_str"), ["h3"]);
    assert_eq!(p.client, Some(Direction::ToServer));
}

#[test]
fn info_column() {
    let d = datagrams();
    let mut p = QuicParser::default();
    let infos: Vec<String> = d.iter().take(8).map(|(dir, g)| feed(&mut p, *dir, g).info).collect();
    assert_eq!(infos[0], "Initial, DCID=1da8edc34e98831c, SCID=6d70c2b05ed6b95d, PKN: 0, CRYPTO");
    // Coalesced packets: the last one's text, as tshark.
    assert_eq!(infos[1], "Handshake, DCID=6d70c2b05ed6b95d, SCID=d788fdf95b4d8355");
    assert_eq!(infos[3], "Protected Payload (KP0), DCID=6d70c2b05ed6b95d");
}

#[test]
fn coalesced_packets_and_short_headers() {
    let d = datagrams();
    let mut p = QuicParser::default();
    let frames: Vec<Frame> = d.iter().take(8).map(|(dir, g)| feed(&mut p, *dir, g)).collect();
    // The server's Initial (ServerHello, decrypted) and Handshake in one datagram.
    assert_eq!(frames[1].get("quic.long.packet_type"), ["0", "2"]);
    assert_eq!(frames[1].get("tls.handshake.type"), ["2"]);
    assert_eq!(frames[1].get("tls.handshake.ciphersuite"), ["0x1302"]);
    assert_eq!(frames[1].protocols, ["quic", "tls"]);
    // The client's second Initial uses the server's DCID and still decrypts.
    assert_eq!(frames[2].get("quic.packet_number"), ["1"]);
    assert_eq!(frames[2].get("quic.frame_type"), ["2"]);
    // Handshake + 1-RTT: the short header's DCID is the client's SCID.
    assert_eq!(frames[3].get("quic.dcid"), ["6d70c2b05ed6b95d", "6d70c2b05ed6b95d"]);
    assert_eq!(frames[3].protocols, ["quic"]);
    assert_eq!(p.undecrypted, 0);
}

#[test]
fn truncated_at_every_byte() {
    let d = datagrams();
    let g = &d[0].1;
    for n in 0..g.len() {
        let f = feed(&mut QuicParser::default(), Direction::ToServer, &g[..n]);
        if n > 0 && n < 26 {
            assert!(f.protocols.contains(&"_ws.malformed"), "cut at {n}");
        }
        // Cut inside the packet: the header is shown, nothing decrypts.
        if (26..526).contains(&n) {
            assert!(f.get("tls.handshake.type").is_empty());
            assert_eq!(f.get("quic.dcid"), ["1da8edc34e98831c"]);
        }
    }
}

#[test]
fn malformed_connection_id_too_long() {
    let mut g = vec![0xc0, 0, 0, 0, 1, 21];
    g.extend_from_slice(&[7; 21]);
    g.extend_from_slice(&[0, 0, 1, 0]);
    let f = feed(&mut QuicParser::default(), Direction::ToServer, &g);
    assert!(f.protocols.contains(&"_ws.malformed"));
}

#[test]
fn version_negotiation_and_retry() {
    let mut vn = vec![0x80, 0, 0, 0, 0, 2, 0xaa, 0xbb, 1, 0xcc];
    vn.extend_from_slice(&[0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf]);
    let f = feed(&mut QuicParser::default(), Direction::ToClient, &vn);
    assert_eq!(f.info, "Version Negotiation, DCID=aabb, SCID=cc");
    assert_eq!(f.get("quic.supported_version"), ["0x00000001", "0x6b3343cf"]);
    assert!(f.get("quic.long.packet_type").is_empty());
    let mut retry = vec![0xf0, 0, 0, 0, 1, 1, 0xcc, 2, 0xdd, 0xee];
    retry.extend_from_slice(b"token");
    retry.extend_from_slice(&[9; 16]);
    let f = feed(&mut QuicParser::default(), Direction::ToClient, &retry);
    assert_eq!(f.info, "Retry, DCID=cc, SCID=ddee");
    assert_eq!(f.get("quic.retry_token"), ["746f6b656e"]);
    assert_eq!(f.get("quic.long.packet_type"), ["3"]);
}

/// The ClientHello of the capture's first Initial, decrypted.
fn client_hello() -> Vec<u8> {
    let d = datagrams();
    let g = &d[0].1;
    let h = header::long_header(g).unwrap();
    let keys = InitialKeys::new(h.version, h.dcid).unwrap();
    let p = keys.client.unprotect(g, h.pn_at).unwrap();
    let mut buf = g[..h.packet_len].to_vec();
    buf[0] = p.first;
    buf[h.pn_at..h.pn_at + p.pn_len].copy_from_slice(&p.pn.to_be_bytes()[4 - p.pn_len..]);
    let n = keys.client.open(&mut buf, h.pn_at + p.pn_len, 0).unwrap();
    let plain = &buf[h.pn_at + p.pn_len..h.pn_at + p.pn_len + n];
    // CRYPTO frame: type, offset 0, two-byte length.
    assert_eq!(plain[..2], [6, 0]);
    let len = usize::from(u16::from_be_bytes([plain[2], plain[3]]) & 0x3fff);
    plain[4..4 + len].to_vec()
}

/// A protected client Initial carrying CRYPTO(`offset`, `data`), padded to 1200 bytes.
fn initial(keys: &InitialKeys, dcid: &[u8], pn: u8, offset: usize, data: &[u8]) -> Vec<u8> {
    let mut payload = vec![6u8];
    payload.extend_from_slice(&(0x4000u16 | offset as u16).to_be_bytes());
    payload.extend_from_slice(&(0x4000u16 | data.len() as u16).to_be_bytes());
    payload.extend_from_slice(data);
    payload.resize(1100, 0);
    let mut pkt = vec![0xc0, 0, 0, 0, 1, dcid.len() as u8];
    pkt.extend_from_slice(dcid);
    pkt.extend_from_slice(&[1, 0x5c, 0]);
    let length = 1 + payload.len() + crypto::TAG_LEN;
    pkt.extend_from_slice(&(0x4000u16 | length as u16).to_be_bytes());
    let pn_at = pkt.len();
    pkt.push(pn);
    pkt.extend_from_slice(&payload);
    keys.client.seal(&mut pkt, pn_at, 1, u64::from(pn));
    pkt
}

#[test]
fn split_at_every_byte() {
    let ch = client_hello();
    let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    let keys = InitialKeys::new(crypto::VERSION_1, &dcid).unwrap();
    let whole = feed(&mut QuicParser::default(), Direction::ToServer, &initial(&keys, &dcid, 0, 0, &ch));
    let tls_of = |f: &Frame| -> Vec<(&'static str, String)> {
        f.fields.iter().filter(|(n, _)| n.starts_with("tls.")).cloned().collect()
    };
    let want = tls_of(&whole);
    assert!(want.iter().any(|(n, v)| *n == "tls.handshake.extensions_server_name" && v == "quic.example.test"));
    for cut in 1..ch.len() {
        let mut p = QuicParser::default();
        let a = feed(&mut p, Direction::ToServer, &initial(&keys, &dcid, 0, 0, &ch[..cut]));
        let b = feed(&mut p, Direction::ToServer, &initial(&keys, &dcid, 1, cut, &ch[cut..]));
        assert!(tls_of(&a).is_empty(), "cut {cut}");
        assert_eq!(tls_of(&b), want, "cut {cut}");
        // tshark: a fragment with a readable handshake header shows `tls`, the completion too.
        assert_eq!(a.protocols.len(), if cut >= 4 { 2 } else { 1 }, "cut {cut}");
        assert_eq!(b.protocols, ["quic", "tls"], "cut {cut}");
        // Out of order: the second half first.
        let mut p = QuicParser::default();
        let b = feed(&mut p, Direction::ToServer, &initial(&keys, &dcid, 0, cut, &ch[cut..]));
        let a = feed(&mut p, Direction::ToServer, &initial(&keys, &dcid, 1, 0, &ch[..cut]));
        assert!(tls_of(&b).is_empty());
        assert_eq!(tls_of(&a), want, "cut {cut} reversed");
    }
}

#[test]
fn crypto_stream_caps() {
    let mut s = CryptoStream::default();
    s.add(MAX_CRYPTO_BYTES as u64, &[1]);
    assert_eq!(s.dropped, 1);
    for i in 0..=MAX_PENDING_FRAGMENTS as u64 {
        s.add(100 + 10 * i, &[2]);
    }
    assert_eq!(s.pending.len(), MAX_PENDING_FRAGMENTS);
    assert_eq!(s.dropped, 2);
    s.add(0, &[0; 100]);
    assert_eq!(s.data.len(), 101);
}
