//! Tests of the TLS stream parser as a whole: the oracle captures fed through a minimal flow
//! driver (the flow engine's contract, in order, no loss), split-at-every-byte, malformed
//! streams, the Info column, and the QUIC entry point.

use super::*;
use crate::field::{write_tshark, FieldSink, Kind};
use crate::pinfo::{Columns, PacketInfo, ProtoStack, Transport};
use crate::proto::testkit::read_capture;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// A sink that keeps every field as tshark's `-T fields` text.

#[derive(Default)]
struct Recorder {
    fields: BTreeMap<&'static str, Vec<String>>,
    texts: Vec<String>,
}

impl FieldSink for Recorder {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let mut out = Vec::new();
        write_tshark(def, &value, &mut out);
        self.fields
            .entry(def.name)
            .or_default()
            .push(String::from_utf8_lossy(&out).into_owned());
    }
    fn text(&mut self, _span: Span, text: &str) {
        self.texts.push(text.to_string());
    }
}

impl Recorder {
    fn get(&self, name: &str) -> String {
        self.fields.get(name).map(|v| v.join(",")).unwrap_or_default()
    }
}

/// What one frame (or one call) produced.
#[derive(Default)]
struct Out {
    rec: Recorder,
    protocols: Vec<&'static str>,
    info: String,
    protocol: &'static str,
}

/// Feeds `chunks` of one direction to `p` the way the flow engine does: the unconsumed tail is
/// kept and the parser is called again only once `needed` more bytes are there.
struct Feeder {
    buf: Vec<u8>,
    offset: u64,
    need: usize,
}

impl Feeder {
    fn new() -> Self {
        Feeder {
            buf: Vec::new(),
            offset: 0,
            need: 0,
        }
    }

    fn push(&mut self, p: &mut TlsParser, dir: Direction, bytes: &[u8], frame: u64, out: &mut Out) {
        self.buf.extend_from_slice(bytes);
        if self.buf.is_empty() || self.buf.len() < self.need {
            return;
        }
        let mut stack = ProtoStack::default();
        let mut cols = Columns::default();
        let mut cx = Cx::new(&mut out.rec, Some(&mut cols), &mut stack);
        let mut scx = StreamCx {
            cx: &mut cx,
            frame,
            secs: 0,
            nanos: 0,
            stream_offset: self.offset,
            stream: 0,
            tcp: true,
            ports: [0, 0],
            ordinal: 0,
        };
        let len = self.buf.len();
        match p.data(dir, &self.buf, &mut scx) {
            Progress::Done => {
                self.offset += len as u64;
                self.buf.clear();
                self.need = 0;
            }
            Progress::NeedMore { consumed, needed } => {
                // The contract: `needed` more bytes beyond the unconsumed tail.
                assert!(consumed <= len && needed >= 1, "contract");
                self.offset += consumed as u64;
                self.buf.drain(..consumed);
                self.need = self.buf.len() + needed;
            }
            other => panic!("unexpected {other:?}"),
        }
        out.protocols.extend_from_slice(stack.as_slice());
        if !cols.info.is_empty() {
            out.info.push_str(&cols.info);
            out.protocol = cols.protocol;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the oracle captures: `testkit::read_capture`.

/// One direction of one TCP connection: in-order delivery by sequence number.
struct TcpDir {
    next_seq: Option<u32>,
    feeder: Feeder,
}

/// Runs every TLS connection (TCP port 443) of a capture through the parser; per frame number,
/// what it produced.
fn run_capture(name: &str) -> BTreeMap<u64, Out> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    let frames = read_capture(&root.join(name));
    let mut flows: BTreeMap<u16, (TlsParser, TcpDir, TcpDir)> = BTreeMap::new();
    let mut outs = BTreeMap::new();
    for (meta, bytes) in &frames {
        let (mut pi, mut stack, mut sink) =
            (PacketInfo::default(), ProtoStack::default(), crate::NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        crate::proto::dissect_frame(meta, bytes, &mut pi, &mut cx);
        let Transport::Tcp(tcp) = pi.transport else {
            continue;
        };
        let (client_port, dir) = match (tcp.src_port, tcp.dst_port) {
            (_, 443) => (tcp.src_port, Direction::ToServer),
            (443, _) => (tcp.dst_port, Direction::ToClient),
            _ => continue,
        };
        let flow = flows.entry(client_port).or_insert_with(|| {
            let d = || TcpDir {
                next_seq: None,
                feeder: Feeder::new(),
            };
            (TlsParser::default(), d(), d())
        });
        let (parser, c, s) = flow;
        let td = if dir == Direction::ToServer { c } else { s };
        let mut payload = pi.payload(bytes);
        if tcp.has(crate::TcpInfo::SYN) {
            td.next_seq = Some(tcp.seq.wrapping_add(1));
        }
        if payload.is_empty() {
            continue;
        }
        let mut seq = tcp.seq;
        let next = *td.next_seq.get_or_insert(seq);
        // Drop what was already delivered (retransmissions).
        let behind = next.wrapping_sub(seq) as usize;
        if behind < (1 << 30) {
            payload = payload.get(behind..).unwrap_or(&[]);
            seq = next;
        }
        assert_eq!(seq, next, "{name}: frame {} leaves a hole", meta.number);
        td.next_seq = Some(seq.wrapping_add(payload.len() as u32));
        if payload.is_empty() {
            continue;
        }
        let mut out = Out::default();
        td.feeder.push(parser, dir, payload, meta.number, &mut out);
        outs.insert(meta.number, out);
    }
    outs
}

/// The oracle rows of a capture: frame number → field → value.
fn oracle(name: &str) -> BTreeMap<u64, BTreeMap<String, String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/oracle")
        .join(format!("{name}.tsv"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            (row["frame.number"].parse().unwrap(), row)
        })
        .collect()
}

const ORACLE_FIELDS: &[&str] = &[
    "tls.record.content_type",
    "tls.record.version",
    "tls.handshake.type",
    "tls.handshake.version",
    "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.ciphersuite",
];

/// Compares our fields and `frame.protocols` (after `tcp`) with tshark's on every TLS frame.
fn agree(capture: &str, oracle_name: &str) {
    let ours = run_capture(capture);
    let want = oracle(oracle_name);
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (n, row) in &want {
        let protocols = &row["frame.protocols"];
        let Some(after_tcp) = protocols.split_once(":tcp") else {
            continue;
        };
        let out = ours.get(n);
        let our_protocols = out.map(|o| o.protocols.join(":")).unwrap_or_default();
        let want_protocols = after_tcp.1.trim_start_matches(':');
        if want_protocols != our_protocols {
            mismatches.push(format!("{n} frame.protocols: {want_protocols:?} vs {our_protocols:?}"));
        }
        for f in ORACLE_FIELDS {
            checked += 1;
            let theirs = &row[*f];
            let mine = out.map(|o| o.rec.get(f)).unwrap_or_default();
            if *theirs != mine {
                mismatches.push(format!("{n} {f}: {theirs:?} vs {mine:?}"));
            }
        }
    }
    assert!(checked > 0);
    assert!(mismatches.is_empty(), "{capture}:\n{}", mismatches.join("\n"));
}

#[test]
fn oracle_tls12() {
    agree("tls12.pcap", "tls12");
}

#[test]
fn oracle_tls13() {
    agree("tls13.pcap", "tls13");
}

#[test]
fn oracle_mtls() {
    agree("mtls.pcap", "mtls");
}

#[test]
fn oracle_mixed_browse() {
    agree("mixed-browse.pcapng", "mixed-browse");
}

#[test]
fn fingerprints_match_tshark() {
    let ours = run_capture("tls12.pcap");
    let ch = &ours[&6].rec;
    assert_eq!(ch.get("tls.handshake.ja3"), "87b9bfc7da97115ed2276737b09f8d74");
    assert_eq!(
        ch.get("tls.handshake.ja3_full"),
        "771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-\
         49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-16-22-23-13,29-23-30-25-24,0-1-2"
    );
    assert_eq!(ours[&8].rec.get("tls.handshake.ja3s"), "f9fcb52580329fb6a9b61d7542087b90");
    let ours = run_capture("tls13.pcap");
    assert_eq!(ours[&4].rec.get("tls.handshake.ja3"), "89dfc51e72bdcb94e4ba4622588002b1");
    assert_eq!(ours[&6].rec.get("tls.handshake.ja3s"), "15af977ce25de452b96affa2addb1036");
    assert!(ours[&4].rec.get("tls.handshake.ja4").starts_with("t13d0412h1_"));
}

#[test]
fn certificates_subject_and_issuer() {
    let ours = run_capture("mtls.pcap");
    // tshark: x509sat.uTF8String of frame 8 (server certificate, then CertificateRequest's CA).
    assert_eq!(
        ours[&8].rec.get("x509sat.uTF8String"),
        "netsniff test,netsniff test CA,secure.example.test,netsniff test,netsniff test CA"
    );
    assert_eq!(ours[&13].rec.get("tls.handshake.certificate_length"), "824,843");
    assert_eq!(ours[&8].rec.get("tls.handshake.cert_type"), "1,2,64");
    assert_eq!(ours[&8].rec.get("tls.handshake.dname_len"), "53");
    assert_eq!(ours[&8].rec.get("tls.handshake.server_named_curve"), "0x001d");
    assert_eq!(ours[&13].rec.get("tls.handshake.client_cert_vrfy.sig_len"), "256");
}

#[test]
fn info_column() {
    let ours = run_capture("tls12.pcap");
    assert_eq!(ours[&6].info, "Client Hello");
    assert_eq!(ours[&6].protocol, "TLSv1");
    assert_eq!(
        ours[&8].info,
        "Server Hello, Certificate, Server Key Exchange, Server Hello Done"
    );
    assert_eq!(ours[&8].protocol, "TLSv1.2");
    assert_eq!(
        ours[&10].info,
        "Client Key Exchange, Change Cipher Spec, Encrypted Handshake Message"
    );
    assert_eq!(ours[&14].info, "Encrypted Alert");
    let ours = run_capture("tls13.pcap");
    assert_eq!(
        ours[&6].info,
        "Server Hello, Change Cipher Spec, Application Data, Application Data, Application Data"
    );
    assert_eq!(ours[&6].protocol, "TLSv1.3");
    let ours = run_capture("mtls.pcap");
    // The first segment of a record: the layer, and TCP's note as tshark shows it.
    assert_eq!(ours[&12].info, "[TCP segment of a reassembled PDU]");
    assert_eq!(ours[&12].protocol, "TCP");
    assert_eq!(ours[&12].protocols, ["tls"]);
    assert_eq!(ours[&29].info, "Application Data, Application Data");
}

// ---------------------------------------------------------------------------------------------
// Synthetic messages.

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut v = t.to_be_bytes().to_vec();
    v.extend(vec16(data));
    v
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

fn records(ct: u8, payload: &[u8], max: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for chunk in payload.chunks(max) {
        v.extend_from_slice(&[ct, 3, 3]);
        v.extend(vec16(chunk));
    }
    v
}

/// A post-quantum ClientHello: X25519MLKEM768 key share (1216 bytes) + x25519, SNI, ALPN.
fn pq_client_hello(extensions_extra: &[u8]) -> Vec<u8> {
    let mut exts = Vec::new();
    let name = b"pq.example.test";
    exts.extend(ext(0, &vec16(&[&[0u8][..], &vec16(name)].concat())));
    exts.extend(ext(10, &vec16(&[0x11, 0xec, 0x00, 0x1d])));
    exts.extend(ext(13, &vec16(&[0x04, 0x03, 0x08, 0x04])));
    exts.extend(ext(16, &vec16(b"\x02h2\x08http/1.1")));
    exts.extend(ext(43, &[4, 0x03, 0x04, 0x03, 0x03]));
    exts.extend(ext(45, &[1, 1]));
    let mut ks = Vec::new();
    ks.extend_from_slice(&[0x11, 0xec]);
    ks.extend(vec16(&[0x5a; 1216]));
    ks.extend_from_slice(&[0x00, 0x1d]);
    ks.extend(vec16(&[0x77; 32]));
    exts.extend(ext(51, &vec16(&ks)));
    exts.extend_from_slice(extensions_extra);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(32);
    body.extend_from_slice(&[0x22; 32]);
    body.extend(vec16(&[0x13, 0x01, 0x13, 0x02, 0x0a, 0x0a]));
    body.extend_from_slice(&[1, 0]);
    body.extend(vec16(&exts));
    handshake(handshake::kind::CLIENT_HELLO, &body)
}

/// Everything the parser emitted for `chunks` of one direction, as sorted "field=value" lines
/// (frame attribution aside), plus the protocols and Info per call.
fn feed(chunks: &[&[u8]]) -> (Vec<String>, Vec<Out>) {
    let mut p = TlsParser::default();
    let mut f = Feeder::new();
    let mut outs = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let mut out = Out::default();
        f.push(&mut p, Direction::ToServer, c, i as u64 + 1, &mut out);
        outs.push(out);
    }
    let mut all: Vec<String> = outs
        .iter()
        .flat_map(|o| {
            o.rec
                .fields
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}")))
        })
        .collect();
    all.sort();
    (all, outs)
}

fn is_malformed(outs: &[Out]) -> bool {
    outs.iter().any(|o| o.protocols.contains(&"_ws.malformed"))
}

#[test]
fn split_at_every_byte() {
    // A post-quantum ClientHello in records of 512 bytes (a message spanning records), then a
    // ChangeCipherSpec: every split point must give the same fields as one chunk.
    let ch = pq_client_hello(&[]);
    let mut stream = records(22, &ch, 512);
    stream.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    let (whole, outs) = feed(&[&stream]);
    assert!(!is_malformed(&outs));
    assert!(whole.contains(&"tls.handshake.extensions_server_name=pq.example.test".to_string()));
    assert!(whole.contains(&"tls.handshake.extensions_key_share_group=4588".to_string()));
    assert!(whole.iter().any(|f| f.starts_with("tls.handshake.ja4=t13d0207h2_")));
    for k in 1..stream.len() {
        let (split, outs) = feed(&[&stream[..k], &stream[k..]]);
        assert!(!is_malformed(&outs), "split {k}");
        // A split inside a record header or body only moves fields between frames; the one
        // extra `tls.handshake` is the marker of a fragment shown in the first frame.
        let strip = |v: &[String]| -> Vec<String> {
            v.iter().filter(|f| !f.starts_with("tls.handshake=")).cloned().collect()
        };
        assert_eq!(strip(&split), strip(&whole), "split at {k}");
    }
}

#[test]
fn split_client_hello_over_two_segments() {
    // The PQ ClientHello in one record, over two TCP segments: the first frame shows only the
    // `tls` layer, the second the whole message.
    let stream = records(22, &pq_client_hello(&[]), 1 << 14);
    let (_, outs) = feed(&[&stream[..1000], &stream[1000..]]);
    assert_eq!(outs[0].protocols, ["tls"]);
    assert!(outs[0].rec.fields.is_empty());
    assert_eq!(outs[0].info, "[TCP segment of a reassembled PDU]");
    assert_eq!(outs[1].protocols, ["tls"]);
    assert_eq!(outs[1].info, "Client Hello");
    assert_eq!(outs[1].rec.get("tls.handshake.type"), "1");
}

#[test]
fn several_records_in_one_segment_and_reassembled_first() {
    let mut first = records(22, &pq_client_hello(&[]), 1 << 14);
    first.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    first.extend_from_slice(&[23, 3, 3, 0, 2, 0xaa, 0xbb]);
    // Cut inside the first record: the second frame completes it (a layer of its own) and
    // holds two more records (a second layer).
    let (_, outs) = feed(&[&first[..100], &first[100..]]);
    assert_eq!(outs[1].protocols, ["tls", "tls"]);
    assert_eq!(outs[1].rec.get("tls.record.content_type"), "22,20,23");
    assert_eq!(
        outs[1].info,
        "Client Hello, Change Cipher Spec, Application Data"
    );
}

#[test]
fn malformed_extension_lengths_disagree() {
    // An extension claiming more bytes than the extensions block holds.
    let mut bad = ext(0xff02, &[1, 2, 3]);
    bad[3] = 200;
    let stream = records(22, &pq_client_hello(&bad), 1 << 14);
    let (_, outs) = feed(&[&stream]);
    assert!(is_malformed(&outs));
    // The fields before the bad extension are kept.
    assert_eq!(outs[0].rec.get("tls.handshake.extensions_server_name"), "pq.example.test");
    // An SNI list length that disagrees with its extension.
    let mut ch = pq_client_hello(&[]);
    let sni_list = ch.windows(2).position(|w| w == [0x00, 0x12]).unwrap();
    ch[sni_list + 1] = 0x40;
    let (_, outs) = feed(&[&records(22, &ch, 1 << 14)]);
    assert!(is_malformed(&outs));
    // The extensions block length itself overrunning the message.
    let mut ch = pq_client_hello(&[]);
    let at = 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
    ch[at] = 0xff;
    let (_, outs) = feed(&[&records(22, &ch, 1 << 14)]);
    assert!(is_malformed(&outs));
}

#[test]
fn malformed_record_over_cap() {
    // A record one byte over 2^14 + 2048 is framed (Wireshark waits for it too) and flagged;
    // the record after it is dissected normally.
    let mut stream = vec![23, 3, 3];
    stream.extend_from_slice(&(record::MAX_RECORD_LEN as u16 + 1).to_be_bytes());
    stream.resize(stream.len() + record::MAX_RECORD_LEN + 1, 0x55);
    let (_, outs) = feed(&[&stream[..1448], &stream[1448..], &[23, 3, 3, 0, 1, 0]]);
    assert!(!is_malformed(&outs[..1]));
    assert!(is_malformed(&outs[1..2]));
    assert_eq!(outs[1].rec.get("tls.record.length"), "18433");
    assert_eq!(outs[2].rec.get("tls.record.content_type"), "23");
    // Garbage resynchronises on the next segment that starts a record.
    let (_, outs) = feed(&[&[0x99; 40], &[20, 3, 3, 0, 1, 1]]);
    assert_eq!(outs[0].info, "Continuation Data");
    assert_eq!(outs[1].rec.get("tls.record.content_type"), "20");
}

#[test]
fn malformed_handshake_over_cap() {
    // A Certificate message declaring 2^20 bytes after a ServerHelloDone (a first message that
    // large would be taken for ciphertext, as Wireshark does), sent in full-size records.
    let mut msg = vec![handshake::kind::SERVER_HELLO_DONE, 0, 0, 0];
    msg.extend_from_slice(&[handshake::kind::CERTIFICATE, 0x10, 0, 0]);
    msg.extend_from_slice(&[0; 20000]);
    let stream = records(22, &msg, 1 << 14);
    let (_, outs) = feed(&[&stream]);
    assert!(is_malformed(&outs));
    assert!(outs[0].info.contains("handshake message longer than the reassembly cap"));
}

#[test]
fn truncated_at_every_byte() {
    // QUIC entry point: any prefix of a ClientHello is incomplete, never an error or a panic.
    let ch = pq_client_hello(&[]);
    for n in 0..ch.len() {
        let mut rec = Recorder::default();
        let mut stack = ProtoStack::default();
        let mut cx = Cx::new(&mut rec, None, &mut stack);
        assert_eq!(dissect_handshake_messages(&ch[..n], 0, &mut cx).ok(), Some(0), "{n}");
    }
    // Garbage of every length does not panic either.
    for n in 0..300 {
        let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        let _ = feed(&[&junk]);
        let mut rec = Recorder::default();
        let mut stack = ProtoStack::default();
        let mut cx = Cx::new(&mut rec, None, &mut stack);
        let _ = dissect_handshake_messages(&junk, 0, &mut cx);
    }
}

#[test]
fn quic_handshake_messages() {
    let ch = pq_client_hello(&[]);
    let mut two = ch.clone();
    two.extend_from_slice(&ch[..10]);
    let mut rec = Recorder::default();
    let mut stack = ProtoStack::default();
    let mut cx = Cx::new(&mut rec, None, &mut stack);
    assert_eq!(dissect_handshake_messages(&two, 100, &mut cx).ok(), Some(ch.len()));
    assert_eq!(stack.as_slice(), ["tls"]);
    assert_eq!(rec.get("tls.handshake.type"), "1");
    assert_eq!(rec.get("tls.handshake.extensions_alpn_str"), "h2,http/1.1");
    assert!(rec.get("tls.handshake.ja4").starts_with("q13d0207h2_"));
    assert_eq!(rec.get("tls.handshake.ciphersuite"), "0x1301,0x1302,0x0a0a");
}

#[test]
fn fields_have_wireshark_types() {
    // A few types that decide value formats.
    assert_eq!(RECORD_VERSION.kind, Kind::Hex(4));
    assert_eq!(KEY_SHARE_GROUP.kind, Kind::Dec);
    assert_eq!(GROUP.kind, Kind::Hex(4));
    let names: std::collections::HashSet<_> = FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(names.len(), FIELDS.len(), "duplicate field names");
}

#[test]
fn record_header_split_is_one_pdu() {
    // A record header cut after two bytes: tshark reassembles it with the whole next segment
    // and dissects that as one PDU (one `tls` layer), unlike a record cut inside its body.
    let mut stream = vec![23, 3, 3, 0, 2, 0xaa, 0xbb];
    stream.extend_from_slice(&[23, 3, 3, 0, 1, 0xcc, 20, 3, 3, 0, 1, 1]);
    let (_, outs) = feed(&[&stream[..9], &stream[9..]]);
    assert_eq!(outs[0].protocols, ["tls"]);
    assert_eq!(outs[1].protocols, ["tls"]);
    assert_eq!(outs[1].rec.get("tls.record.content_type"), "23,20");
    let (_, outs) = feed(&[&stream[..12], &stream[12..]]);
    assert_eq!(outs[1].protocols, ["tls", "tls"]);
}

#[test]
fn printable_start_is_not_tls() {
    let (_, outs) = feed(&[b"HELO example.test\r\n"]);
    assert_eq!(outs[0].protocols, ["data"]);
    assert!(outs[0].info.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The `-V` texts Wireshark sets on record items.

#[test]
fn record_labels_name_what_the_record_holds() {
    use handshake::record_label;
    // A ServerHelloDone (type 14, empty body) alone, then followed by a second message.
    let done = [14u8, 0, 0, 0];
    assert_eq!(record_label(&done, false), Some("Server Hello Done"));
    let two = [14u8, 0, 0, 0, 14, 0, 0, 0];
    assert_eq!(record_label(&two, false), Some("Multiple Handshake Messages"));
    // Sixteen bytes or more of an unknown type are ciphertext; after a ChangeCipherSpec in an
    // earlier frame any record of that size is.
    let noise = [0xeeu8; 32];
    assert_eq!(record_label(&noise, false), Some("Encrypted Handshake Message"));
    let mut finished = vec![20u8, 0, 0, 12];
    finished.extend([7u8; 12]);
    assert_eq!(record_label(&finished, false), Some("Finished"));
    assert_eq!(record_label(&finished, true), Some("Encrypted Handshake Message"));
    // A message cut at the record's end: Wireshark's fragment labels are not claimed.
    assert_eq!(record_label(&[1u8, 0, 1, 0, 3, 3], false), None);
}

#[test]
fn application_data_is_named_by_alpn_then_by_port() {
    let mut s = Session {
        ports: [443, 51234],
        ..Session::default()
    };
    assert_eq!(s.app_proto(), Some("Hypertext Transfer Protocol"));
    s.alpn_app = app_by_alpn(b"h2");
    assert_eq!(s.app_proto(), Some("HyperText Transfer Protocol 2"));
    let other = Session {
        ports: [8443, 51234],
        alpn_app: app_by_alpn(b"spdy/3"),
        ..Session::default()
    };
    assert_eq!(other.app_proto(), None);
    // The lower port is tried first, as tshark's TCP tries it.
    let both = Session {
        ports: [995, 443],
        ..Session::default()
    };
    assert_eq!(both.app_proto(), Some("Hypertext Transfer Protocol"));
}
