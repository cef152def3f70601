//! The HTTP/2 parser against tshark's oracle on the real captures, without the flow engine: a
//! minimal test-only pcap reader and in-order TCP reassembly feed `Http2Parser` as the flow
//! engine does (contiguous bytes per direction, the unconsumed tail kept on `NeedMore`), and
//! the `http2.*` fields of every frame are compared with `testdata/oracle/NAME.tsv`.

// Test code: a failed read or a short capture should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use netsniff_dissectors::field::write_tshark;
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::http2::Http2Parser;
use netsniff_dissectors::{
    Columns, Cx, Direction, FieldDef, FieldSink, Progress, Proto, Span, StreamCx, StreamParser,
    Value,
};
use std::collections::HashMap;

const FIELDS: &[&str] = &[
    "http2.type",
    "http2.streamid",
    "http2.flags",
    "http2.length",
    "http2.header.name",
    "http2.header.value",
];

/// Keeps the tshark-formatted values of `FIELDS`.
#[derive(Default)]
struct Rec {
    values: HashMap<&'static str, Vec<String>>,
}

impl FieldSink for Rec {
    fn wants(&self, proto: &'static Proto) -> bool {
        proto.name == "http2"
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        if FIELDS.contains(&def.name) {
            let mut out = Vec::new();
            write_tshark(def, &value, &mut out);
            self.values
                .entry(def.name)
                .or_default()
                .push(String::from_utf8_lossy(&out).into_owned());
        }
    }
}

struct Packet {
    number: u64,
    /// (src ip, src port, dst ip, dst port)
    key: ([u8; 4], u16, [u8; 4], u16),
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

/// Classic pcap, Ethernet or Linux SLL2, IPv4/TCP only (what the two captures hold).
fn read_pcap(path: &str) -> Vec<Packet> {
    let b = std::fs::read(path).unwrap();
    let le = b[0] == 0xd4;
    let u32_at = |o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let link = u32_at(20);
    let mut out = Vec::new();
    let mut pos = 24;
    let mut number = 0;
    while pos + 16 <= b.len() {
        let caplen = u32_at(pos + 8) as usize;
        let f = &b[pos + 16..pos + 16 + caplen];
        pos += 16 + caplen;
        number += 1;
        let (ethertype, ip) = match link {
            1 => (u16::from_be_bytes([f[12], f[13]]), 14),
            276 => (u16::from_be_bytes([f[0], f[1]]), 20),
            _ => panic!("link type {link}"),
        };
        if ethertype != 0x0800 || f[ip + 9] != 6 {
            continue;
        }
        let ihl = usize::from(f[ip] & 0xf) * 4;
        let total = usize::from(u16::from_be_bytes([f[ip + 2], f[ip + 3]]));
        let t = ip + ihl;
        let doff = usize::from(f[t + 12] >> 4) * 4;
        let src: [u8; 4] = f[ip + 12..ip + 16].try_into().unwrap();
        let dst: [u8; 4] = f[ip + 16..ip + 20].try_into().unwrap();
        out.push(Packet {
            number,
            key: (
                src,
                u16::from_be_bytes([f[t], f[t + 1]]),
                dst,
                u16::from_be_bytes([f[t + 2], f[t + 3]]),
            ),
            seq: u32::from_be_bytes(f[t + 4..t + 8].try_into().unwrap()),
            syn: f[t + 13] & 2 != 0,
            payload: f[t + doff..ip + total].to_vec(),
        });
    }
    out
}

#[derive(Default)]
struct DirBuf {
    next_seq: Option<u32>,
    buf: Vec<u8>,
    offset: u64,
    /// HTTP/1 bytes before the switch to HTTP/2 (h2c Upgrade) are skipped by this driver.
    http1: Option<bool>,
}

/// An IPv4 address and port.
type Endpoint = ([u8; 4], u16);

struct Conn {
    parser: Http2Parser,
    dirs: [DirBuf; 2],
    client: Endpoint,
}

/// Runs the parser over a capture; returns each frame's values of `FIELDS`, aggregated
/// tshark's way (`occurrence=a`, `aggregator=,`).
fn run(path: &str, http2_port: u16) -> HashMap<u64, Vec<String>> {
    let mut conns: HashMap<(Endpoint, Endpoint), Conn> = HashMap::new();
    let mut result = HashMap::new();
    for p in read_pcap(path) {
        let (s, sp, d, dp) = p.key;
        if sp != http2_port && dp != http2_port {
            continue;
        }
        let (client, server) = if dp == http2_port {
            ((s, sp), (d, dp))
        } else {
            ((d, dp), (s, sp))
        };
        let conn = conns.entry((client, server)).or_insert_with(|| Conn {
            parser: Http2Parser::default(),
            dirs: Default::default(),
            client,
        });
        let dir = if (s, sp) == conn.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let db = &mut conn.dirs[dir.index()];
        if p.syn {
            db.next_seq = Some(p.seq.wrapping_add(1));
            continue;
        }
        let Some(next) = db.next_seq else { continue };
        if p.payload.is_empty() || p.seq != next {
            continue;
        }
        db.next_seq = Some(next.wrapping_add(p.payload.len() as u32));
        db.buf.extend_from_slice(&p.payload);
        if db.http1.is_none() && db.buf.len() >= 4 {
            db.http1 = Some(db.buf.starts_with(b"GET ") || db.buf.starts_with(b"HTTP"));
        }
        if db.http1 == Some(true) {
            let Some(end) = db.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            db.buf.drain(..end + 4);
            db.offset += (end + 4) as u64;
            db.http1 = Some(false);
        }
        let mut sink = Rec::default();
        let mut stack = ProtoStack::default();
        let mut cols = Columns::default();
        let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
        let mut scx = StreamCx {
            cx: &mut cx,
            frame: p.number,
            secs: 0,
            nanos: 0,
            stream_offset: db.offset,
            stream: 0,
            tcp: true,
            ports: [0, 0],
            ordinal: 0,
        };
        let consumed = match conn.parser.data(dir, &db.buf, &mut scx) {
            Progress::Done => db.buf.len(),
            Progress::NeedMore { consumed, needed } => {
                assert!(
                    consumed <= db.buf.len() && needed > 0,
                    "frame {} {consumed} {needed} {}",
                    p.number,
                    db.buf.len()
                );
                consumed
            }
            other => panic!("frame {}: {other:?}", p.number),
        };
        db.buf.drain(..consumed);
        db.offset += consumed as u64;
        let cells = FIELDS
            .iter()
            .map(|f| sink.values.get(f).map(|v| v.join(",")).unwrap_or_default())
            .collect::<Vec<_>>();
        if cells.iter().any(|c| !c.is_empty()) {
            result.insert(p.number, cells);
        }
    }
    result
}

/// Compares with the oracle: returns (agreeing cells, counted cells) per field, printing
/// mismatches.
fn compare(name: &str, port: u16) -> Vec<(usize, usize)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata");
    let ours = run(&format!("{root}/captures/{name}.pcap"), port);
    let oracle = std::fs::read_to_string(format!("{root}/oracle/{name}.tsv")).unwrap();
    let mut lines = oracle.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let idx: Vec<usize> = FIELDS
        .iter()
        .map(|f| header.iter().position(|h| h == f).unwrap())
        .collect();
    let mut stats = vec![(0, 0); FIELDS.len()];
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let number: u64 = cols[0].parse().unwrap();
        let empty = vec![String::new(); FIELDS.len()];
        let mine = ours.get(&number).unwrap_or(&empty);
        for (i, &c) in idx.iter().enumerate() {
            let want = cols.get(c).copied().unwrap_or("");
            if want.is_empty() && mine[i].is_empty() {
                continue;
            }
            stats[i].1 += 1;
            if want == mine[i] {
                stats[i].0 += 1;
            } else {
                eprintln!(
                    "{name} frame {number} {}:\n  want {want}\n  got  {}",
                    FIELDS[i], mine[i]
                );
            }
        }
    }
    stats
}

fn assert_all_agree(name: &str, port: u16) {
    let stats = compare(name, port);
    for (f, (ok, n)) in FIELDS.iter().zip(&stats) {
        eprintln!("{name} {f}: {ok}/{n}");
    }
    assert!(stats.iter().all(|(ok, n)| ok == n && *n > 0), "{stats:?}");
}

#[test]
fn oracle_http2_h2c() {
    assert_all_agree("http2-h2c", 80);
}

#[test]
fn oracle_grpc() {
    assert_all_agree("grpc", 50051);
}
