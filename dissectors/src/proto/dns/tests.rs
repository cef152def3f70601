//! Unit tests of the DNS dissector: messages built field by field, fed as UDP datagrams or as a
//! TCP stream through a miniature flow engine that honours `NeedMore`.

use super::*;
use crate::proto::testkit::{Rec, Shown as Frame};
use crate::pinfo::{Columns, ProtoStack};

/// A flow: a parser plus the bytes the flow engine keeps for each direction.
struct Flow {
    parser: DnsParser,
    tcp: bool,
    kept: [Vec<u8>; 2],
    offset: [u64; 2],
    frame: u64,
}

impl Flow {
    fn new(tcp: bool) -> Flow {
        Flow {
            parser: DnsParser::default(),
            tcp,
            kept: [Vec::new(), Vec::new()],
            offset: [0, 0],
            frame: 0,
        }
    }

    /// One frame carrying `bytes` in direction `dir`, at `secs` seconds.
    fn frame(&mut self, dir: Direction, bytes: &[u8], secs: i64) -> Frame {
        self.frame += 1;
        let (mut rec, mut cols, mut stack) = (Rec::default(), Columns::default(), ProtoStack::default());
        cols.info.push_str("TCP or UDP info");
        let d = dir.index();
        {
            let mut cx = Cx::new(&mut rec, Some(&mut cols), &mut stack);
            let mut scx = StreamCx {
                cx: &mut cx,
                frame: self.frame,
                secs,
                nanos: 0,
                stream_offset: self.offset[d],
                stream: 0,
                tcp: self.tcp,
                ports: [0, 0],
                ordinal: 0,
            };
            if self.tcp {
                self.kept[d].extend_from_slice(bytes);
                let buf = std::mem::take(&mut self.kept[d]);
                match self.parser.data(dir, &buf, &mut scx) {
                    Progress::Done => {
                        self.offset[d] += buf.len() as u64;
                    }
                    Progress::NeedMore { consumed, needed } => {
                        assert!(consumed <= buf.len() && consumed + needed > buf.len());
                        self.offset[d] += consumed as u64;
                        self.kept[d] = buf[consumed..].to_vec();
                    }
                    p => panic!("unexpected {p:?}"),
                }
            } else {
                assert!(matches!(self.parser.data(dir, bytes, &mut scx), Progress::Done));
                self.offset[d] += bytes.len() as u64;
            }
        }
        Frame {
            fields: rec.fields,
            info: cols.info,
            protocols: stack.as_slice().to_vec(),
        }
    }
}

fn udp(msg: &[u8]) -> Frame {
    Flow::new(false).frame(Direction::ToServer, msg, 0)
}

// ---- message builders ----

fn name(labels: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
    out
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = vec![];
    for v in [id, flags, counts[0], counts[1], counts[2], counts[3]] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

fn question(n: &[u8], qtype: u16) -> Vec<u8> {
    let mut out = n.to_vec();
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

fn rr(n: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut out = n.to_vec();
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

/// A pointer to the question name at offset 12.
const QNAME: [u8; 2] = [0xc0, 0x0c];

fn opt(options: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8, 0, 41, 0x04, 0xd0, 0, 0, 0, 0];
    out.extend_from_slice(&(options.len() as u16).to_be_bytes());
    out.extend_from_slice(options);
    out
}

fn query(id: u16, labels: &[&str], qtype: u16) -> Vec<u8> {
    let mut m = header(id, 0x0120, [1, 0, 0, 1]);
    m.extend(question(&name(labels), qtype));
    m.extend(opt(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]));
    m
}

/// A response to `www.example.test A` with a CNAME, two A, an NS, an MX-less additional and OPT.
fn response(id: u16) -> Vec<u8> {
    let mut m = header(id, 0x8580, [1, 3, 1, 2]);
    m.extend(question(&name(&["www", "example", "test"]), 1));
    m.extend(rr(&QNAME, 5, 600, &name(&["edge", "cdn", "example", "test"])));
    // edge.cdn.example.test is at 12 + 22 + 12 = 46 (after the CNAME record's fixed part).
    m.extend(rr(&[0xc0, 46], 1, 60, &[10, 10, 0, 81]));
    m.extend(rr(&[0xc0, 46], 1, 60, &[10, 10, 0, 82]));
    m.extend(rr(&[0xc0, 16], 2, 86400, &name(&["ns1", "example", "test"])));
    m.extend(rr(&[0xc0, 16], 28, 3600, &[0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]));
    m.extend(opt(&[]));
    m
}

fn tcp_framed(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

// ---- tests ----

#[test]
fn type_table_is_sorted() {
    assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    let mut s = String::new();
    push_type(65, &mut s);
    push_type(999, &mut s);
    assert_eq!(s, "HTTPSUnknown (999)");
}

#[test]
fn deconstruct() {
    let f = udp(&response(0x1a2b));
    assert!(!f.malformed(), "{f:?}");
    assert_eq!(f.protocols, ["dns"]);
    assert_eq!(f.one("dns.id"), "0x1a2b");
    assert_eq!(f.one("dns.flags"), "0x8580");
    assert_eq!(f.one("dns.flags.response"), "1");
    assert_eq!(f.one("dns.flags.rcode"), "0");
    assert_eq!(f.one("dns.flags.recavail"), "1");
    assert_eq!(f.one("dns.count.answers"), "3");
    assert_eq!(f.one("dns.qry.name"), "www.example.test");
    assert_eq!(f.one("dns.qry.name.len"), "16");
    assert_eq!(f.one("dns.count.labels"), "3");
    assert_eq!(f.one("dns.qry.type"), "1");
    assert_eq!(f.one("dns.qry.class"), "0x0001");
    assert_eq!(f.get("dns.cname"), ["edge.cdn.example.test"]);
    assert_eq!(f.get("dns.a"), ["10.10.0.81", "10.10.0.82"]);
    assert_eq!(f.get("dns.ns"), ["ns1.example.test"]);
    assert_eq!(f.get("dns.aaaa"), ["fd00:10::80"]);
    // OPT has no TTL of its own.
    assert_eq!(f.get("dns.resp.ttl"), ["600", "60", "60", "86400", "3600"]);
    assert_eq!(
        f.get("dns.resp.name"),
        ["www.example.test", "edge.cdn.example.test", "edge.cdn.example.test", "example.test", "example.test", "<Root>"]
    );
    assert_eq!(f.one("dns.rr.udp_payload_size"), "1232");
    assert_eq!(f.one("dns.unsolicited"), "1");
}

#[test]
fn record_types() {
    let mut m = header(7, 0x8400, [1, 6, 0, 0]);
    m.extend(question(&name(&["_sip", "_tcp", "ex"]), 33));
    let mut soa = name(&["ns1", "ex"]);
    soa.extend(name(&["host", "ex"]));
    for v in [2024060101u32, 7200, 3600, 1209600, 300] {
        soa.extend_from_slice(&v.to_be_bytes());
    }
    m.extend(rr(&QNAME, 6, 1, &soa));
    let mut mx = 10u16.to_be_bytes().to_vec();
    mx.extend(name(&["mail", "ex"]));
    m.extend(rr(&QNAME, 15, 1, &mx));
    m.extend(rr(&QNAME, 16, 1, b"\x03abc\x00\x03d\te"));
    let mut srv = vec![0, 10, 0, 60, 0x13, 0xc4];
    srv.extend(name(&["sip", "ex"]));
    m.extend(rr(&QNAME, 33, 1, &srv));
    m.extend(rr(&QNAME, 12, 1, &name(&["host", "ex"])));
    m.extend(rr(&QNAME, 257, 1, b"\x00\x05issueca"));
    let f = udp(&m);
    assert!(!f.malformed(), "{f:?}");
    assert_eq!(f.one("dns.soa.mname"), "ns1.ex");
    assert_eq!(f.one("dns.soa.rname"), "host.ex");
    assert_eq!(f.one("dns.soa.serial_number"), "2024060101");
    assert_eq!(f.one("dns.soa.minimum_ttl"), "300");
    assert_eq!(f.get("dns.mx.preference"), ["10"]);
    assert_eq!(f.get("dns.mx.mail_exchange"), ["mail.ex"]);
    assert_eq!(f.get("dns.txt"), ["abc", "", "d\\te"]);
    assert_eq!(f.get("dns.txt.length"), ["3", "0", "3"]);
    assert_eq!(f.get("dns.srv.port"), ["5060"]);
    assert_eq!(f.get("dns.srv.target"), ["sip.ex"]);
    assert_eq!(f.get("dns.srv.service"), ["_sip"]);
    assert_eq!(f.get("dns.srv.proto"), ["_tcp"]);
    assert_eq!(f.get("dns.srv.name"), ["ex"]);
    assert_eq!(f.get("dns.ptr.domain_name"), ["host.ex"]);
    // CAA is a type Wireshark decodes (and we do not): no raw data is shown for it.
    assert!(f.get("dns.data").is_empty());
    assert_eq!(
        f.info,
        "Standard query response 0x0007 SRV _sip._tcp.ex SOA ns1.ex MX 10 mail.ex TXT SRV 10 60 5060 sip.ex PTR host.ex CAA"
    );
}

#[test]
fn unknown_values_kept() {
    // An HTTPS question (which dns-parser rejects) and an answer of an unassigned type.
    let mut m = header(9, 0x8180, [1, 2, 0, 0]);
    m.extend(question(&name(&["x", "test"]), 65));
    m.extend(rr(&QNAME, 65, 60, b"\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x04\x00\x04\x01\x02\x03\x04"));
    m.extend(rr(&QNAME, 999, 60, &[1, 2]));
    let f = udp(&m);
    assert!(!f.malformed(), "{f:?}");
    assert_eq!(f.one("dns.svcb.svcpriority"), "1");
    assert_eq!(f.one("dns.svcb.targetname"), "<Root>");
    assert_eq!(f.get("dns.svcb.svcparam.key"), ["1", "4"]);
    assert_eq!(f.get("dns.svcb.svcparam.alpn"), ["h2"]);
    assert_eq!(f.get("dns.svcb.svcparam.ipv4hint.ip"), ["1.2.3.4"]);
    assert_eq!(f.get("dns.resp.type"), ["65", "999"]);
    assert_eq!(f.get("dns.data"), ["0102"]);
    assert_eq!(f.info, "Standard query response 0x0009 HTTPS x.test HTTPS Unknown (999)");
}

#[test]
fn info_column() {
    let f = udp(&query(0x28d1, &["host", "example", "test"], 1));
    assert_eq!(f.info, "Standard query 0x28d1 A host.example.test OPT");
    assert_eq!(f.one("dns.opt.cookie.client"), "0102030405060708");
    let f = udp(&response(0x1a2b));
    assert_eq!(
        f.info,
        "Standard query response 0x1a2b A www.example.test CNAME edge.cdn.example.test A 10.10.0.81 A 10.10.0.82 NS ns1.example.test AAAA fd00:10::80 OPT"
    );
    let mut m = header(0x18ec, 0x8183, [1, 0, 0, 0]);
    m.extend(question(&name(&["nosuchname", "test"]), 28));
    assert_eq!(udp(&m).info, "Standard query response 0x18ec No such name AAAA nosuchname.test");
    let mut m = header(7, 0x2800, [1, 0, 0, 0]);
    m.extend(question(&name(&["x"]), 6));
    let f = udp(&m);
    assert_eq!(f.info, "Dynamic update 0x0007 SOA x");
    assert_eq!(f.one("dns.count.zones"), "1");
    assert_eq!(f.one("dns.qry.name.len"), "0");
}

#[test]
fn matching_and_retransmissions() {
    let mut flow = Flow::new(false);
    let q = query(0x1234, &["a", "test"], 1);
    let mut r = header(0x1234, 0x8180, [1, 0, 0, 0]);
    r.extend(question(&name(&["a", "test"]), 1));
    assert!(flow.frame(Direction::ToServer, &q, 10).fields.iter().all(|(n, _)| !n.contains("retrans")));
    let again = flow.frame(Direction::ToServer, &q, 12);
    assert_eq!(again.one("dns.retransmission"), "1");
    assert_eq!(again.one("dns.retransmit_request_in"), "1");
    let resp = flow.frame(Direction::ToClient, &r, 13);
    assert_eq!(resp.one("dns.response_to"), "1");
    assert_eq!(resp.one("dns.time"), "3.000000000");
    let dup = flow.frame(Direction::ToClient, &r, 14);
    assert_eq!(dup.one("dns.retransmit_response_in"), "3");
    assert!(dup.get("dns.response_to").is_empty());
    // A later query with the same ID after the answer is a new transaction.
    let new = flow.frame(Direction::ToServer, &q, 15);
    assert!(new.get("dns.retransmission").is_empty());
    assert_eq!(flow.frame(Direction::ToClient, &r, 16).one("dns.response_to"), "5");
}

#[test]
fn check_len() {
    for n in 0..HEADER_LEN {
        let f = udp(&response(1)[..n]);
        assert!(f.malformed(), "{n}");
        assert_eq!(f.protocols, ["dns", "_ws.malformed"]);
    }
}

#[test]
fn truncated_at_every_byte() {
    let full = response(5);
    for n in 0..full.len() {
        let f = udp(&full[..n]);
        assert!(f.malformed(), "cut at {n}: {f:?}");
        assert!(f.get("dns.response_to").is_empty());
    }
    assert!(!udp(&full).malformed());
}

#[test]
fn malformed_pointer_loop_is_a_placeholder() {
    let mut m = header(1, 0x0100, [1, 0, 0, 0]);
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    let f = udp(&m);
    assert!(!f.malformed());
    assert_eq!(f.one("dns.qry.name"), "<Name contains a pointer that loops>");
    assert_eq!(f.one("dns.qry.name.len"), "36");
    assert_eq!(f.info, "Standard query 0x0001 A <Name contains a pointer that loops>");
}

#[test]
fn malformed_label_over_63() {
    let mut m = header(1, 0x0100, [1, 0, 0, 0]);
    m.push(64);
    m.extend_from_slice(&[b'a'; 64]);
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    let f = udp(&m);
    assert!(f.malformed());
    assert_eq!(f.info, "Standard query 0x0001 [Malformed Packet: dns: DNS label of unknown type at byte 12]");
}

#[test]
fn malformed_counts_and_lengths() {
    // Two questions claimed, one present.
    let mut m = header(1, 0x8180, [2, 0, 0, 0]);
    m.extend(question(&name(&["x", "test"]), 1));
    assert!(udp(&m).malformed());
    // An A record whose RDLENGTH is 3.
    let mut m = header(1, 0x8180, [1, 1, 0, 0]);
    m.extend(question(&name(&["x", "test"]), 1));
    m.extend(rr(&QNAME, 1, 60, &[1, 2, 3]));
    let f = udp(&m);
    assert!(f.malformed());
    assert!(f.info.starts_with("Standard query response 0x0001 A x.test A ["), "{}", f.info);
    // RDLENGTH past the end.
    let mut m = header(1, 0x8180, [1, 1, 0, 0]);
    m.extend(question(&name(&["x", "test"]), 1));
    let mut r = rr(&QNAME, 1, 60, &[1, 2, 3, 4]);
    r.truncate(r.len() - 1);
    m.extend(r);
    assert!(udp(&m).malformed());
    // A pointer past the end, and a TXT string longer than its record.
    let mut m = header(1, 0x0100, [1, 0, 0, 0]);
    m.extend_from_slice(&[2, b'a', b'b', 0xc0, 0x30, 0, 1, 0, 1]);
    assert!(udp(&m).malformed());
    let mut m = header(1, 0x8180, [1, 1, 0, 0]);
    m.extend(question(&name(&["x"]), 16));
    m.extend(rr(&QNAME, 16, 60, b"\x05ab"));
    assert!(udp(&m).malformed());
    // Trailing bytes are not an error.
    let mut m = response(1);
    m.extend_from_slice(b"junk");
    assert!(!udp(&m).malformed());
}

#[test]
fn tcp_several_messages_per_segment() {
    let mut flow = Flow::new(true);
    let q1 = query(1, &["a", "test"], 1);
    let q2 = query(2, &["b", "test"], 28);
    let f = flow.frame(Direction::ToServer, &tcp_framed(&[q1.clone(), q2.clone()]), 0);
    // tshark: one `dns` layer and the Info of the last message.
    assert_eq!(f.protocols, ["dns"]);
    assert_eq!(f.get("dns.id"), ["0x0001", "0x0002"]);
    assert_eq!(f.get("dns.length"), [q1.len().to_string(), q2.len().to_string()]);
    assert_eq!(f.info, "Standard query 0x0002 AAAA b.test OPT");
}

#[test]
fn tcp_reassembled_then_more() {
    let mut flow = Flow::new(true);
    flow.frame(Direction::ToServer, &tcp_framed(&[query(1, &["a"], 1), query(5, &["b"], 1)]), 0);
    let (r1, r5) = (response(1), response(5));
    let stream = tcp_framed(&[r1.clone(), r5.clone()]);
    let a = flow.frame(Direction::ToClient, &stream[..1], 1);
    assert!(a.protocols.is_empty() && a.fields.is_empty());
    assert_eq!(a.info, "TCP or UDP info");
    let b = flow.frame(Direction::ToClient, &stream[1..20], 1);
    assert!(b.protocols.is_empty());
    let c = flow.frame(Direction::ToClient, &stream[20..], 1);
    assert_eq!(c.protocols, ["dns", "dns"]);
    assert_eq!(c.get("dns.response_to"), ["1", "1"]);
    let one = udp(&r1).info;
    let five = udp(&r5).info;
    assert_eq!(c.info, format!("{one}{five}"));
}

#[test]
fn split_at_every_byte() {
    let msgs = [query(1, &["a", "test"], 1), response(1), query(0x77, &["x"], 65)];
    let stream = tcp_framed(&msgs);
    // Frame numbers differ with the split; everything else must not.
    let strip = |f: Vec<(&'static str, String)>| -> Vec<(&'static str, String)> {
        f.into_iter().filter(|(n, _)| *n != "dns.response_to").collect()
    };
    let whole = {
        let mut flow = Flow::new(true);
        strip(flow.frame(Direction::ToServer, &stream, 0).fields)
    };
    assert_eq!(whole.iter().filter(|(n, _)| *n == "dns.id").count(), 3);
    for cut in 0..=stream.len() {
        let mut flow = Flow::new(true);
        let mut fields = flow.frame(Direction::ToServer, &stream[..cut], 0).fields;
        fields.extend(flow.frame(Direction::ToServer, &stream[cut..], 0).fields);
        assert_eq!(strip(fields), whole, "split at {cut}");
    }
}

#[test]
fn gap_stops_the_direction() {
    let mut flow = Flow::new(true);
    let stream = tcp_framed(&[query(1, &["a"], 1)]);
    flow.frame(Direction::ToServer, &stream[..5], 0);
    flow.parser.gap(Direction::ToServer, 100);
    flow.kept[0].clear();
    let f = flow.frame(Direction::ToServer, &stream, 0);
    assert!(f.fields.is_empty());
}

#[test]
fn probe() {
    let q = query(1, &["a", "test"], 1);
    assert_eq!(Dns.probe(Direction::ToServer, &q), Probe::Yes);
    assert_eq!(Dns.probe(Direction::ToServer, &tcp_framed(std::slice::from_ref(&q))), Probe::Yes);
    assert_eq!(Dns.probe(Direction::ToServer, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Probe::No);
    let tls = [0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3, 0x5e, 0x11, 0x7a, 0x42, 0x9d, 0, 0, 0, 0];
    assert_eq!(Dns.probe(Direction::ToServer, &tls), Probe::No);
    assert_eq!(Dns.probe(Direction::ToServer, &[0]), Probe::NeedMore);
    // A NetBIOS name query (port 137) is not DNS.
    let nbns = query(0x84e7, &["CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], 0x20);
    assert_eq!(Dns.probe(Direction::ToServer, &nbns), Probe::No);
}

#[test]
fn empty_rdata_and_type_bitmaps() {
    // A dynamic update deletes an RRset with empty RDATA: nothing to decode, not malformed.
    let mut m = header(3, 0x2800, [1, 0, 1, 0]);
    m.extend(question(&name(&["ex"]), 6));
    m.extend(rr(&QNAME, 28, 0, &[]));
    let f = udp(&m);
    assert!(!f.malformed());
    assert_eq!(f.info, "Dynamic update 0x0003 SOA ex AAAA");
    assert_eq!(f.one("dns.count.updates"), "1");
    // NSEC: the next name, then a bitmap with A (1), NS (2) and RRSIG (46).
    let mut nsec = name(&["next", "ex"]);
    nsec.extend_from_slice(&[0, 6, 0x60, 0, 0, 0, 0, 0x02]);
    let mut m = header(4, 0x8180, [1, 1, 0, 0]);
    m.extend(question(&name(&["ex"]), 47));
    m.extend(rr(&QNAME, 47, 60, &nsec));
    let f = udp(&m);
    assert!(!f.malformed(), "{f:?}");
    assert_eq!(f.get("dns.resp.type"), ["47", "1", "2", "46"]);
    assert_eq!(f.info, "Standard query response 0x0004 NSEC ex NSEC next.ex");
}

#[test]
fn malformed_short_header_shows_what_it_has() {
    let m = header(0x309f, 0x122c, [7, 8, 9, 10]);
    let f = udp(&m[..9]);
    assert!(f.malformed());
    assert_eq!(f.one("dns.id"), "0x309f");
    assert_eq!(f.one("dns.count.answers"), "8");
    assert!(f.get("dns.count.auth_rr").is_empty());
    assert!(f.info.starts_with("Server status request 0x309f ["), "{}", f.info);
}

#[test]
fn malformed_edns_option_overrun() {
    let mut m = header(5, 0x8180, [1, 0, 0, 1]);
    m.extend(question(&name(&["ex"]), 1));
    // RDLENGTH 1 holds no whole option; Wireshark shows the code and length read past it.
    m.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 1, 0, 0xc0, 0x0c, 0, 1]);
    let f = udp(&m);
    assert!(f.malformed());
    assert_eq!(f.one("dns.opt.code"), "192");
    assert_eq!(f.one("dns.opt.len"), "3072");
}

/// A recycled parser shows a flow exactly as a new one does: no transaction, text or framing
/// state survives `recycle` (the flow engine hands it to the next DNS flow).
#[test]
fn recycled_parser_is_new() {
    let q = query(0x1234, &["a", "test"], 1);
    let r = response(0x1234);
    let script = |flow: &mut Flow| -> Vec<Frame> {
        vec![
            flow.frame(Direction::ToServer, &q, 10),
            flow.frame(Direction::ToServer, &q, 11),
            flow.frame(Direction::ToClient, &r, 12),
        ]
    };
    let expected = script(&mut Flow::new(false));
    // A TCP flow left with an unanswered query, half a message held, and grown buffers.
    let mut used = Flow::new(true);
    used.frame = 100;
    used.frame(Direction::ToServer, &tcp_framed(&[q.clone(), q.clone()]), 9);
    let half = tcp_framed(&[query(0x1234, &["b", "test"], 28)]);
    used.frame(Direction::ToServer, &half[..half.len() / 2], 9);
    let proto = used.parser.recycle();
    assert!(proto.is_some_and(|p| std::ptr::eq(p, &PROTO)));
    let mut again = Flow::new(false);
    again.parser = used.parser;
    assert_eq!(script(&mut again), expected);
}

#[test]
fn durations_as_wireshark_writes_them() {
    let text = |secs| {
        let mut s = String::new();
        write_duration(secs, &mut s);
        s
    };
    assert_eq!(text(0), "0 seconds");
    assert_eq!(text(3600), "1 hour");
    assert_eq!(text(86_400), "1 day");
    assert_eq!(text(90_061), "1 day, 1 hour, 1 minute, 1 second");
    assert_eq!(text(300), "5 minutes");
    assert_eq!(text(172_810), "2 days, 10 seconds");
}
