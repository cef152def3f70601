//! DNS cross-check: every DNS message of the corpus (our captures and the permissively
//! licensed peer captures under `testdata/peer/`) is parsed by netsniff's dissector and by the
//! `dns-parser` crate; wherever `dns-parser` accepts a message, both must agree on the header,
//! the questions and every record's data. `dns-parser` rejects whole messages with types it does
//! not know (HTTPS, SVCB, CAA …, tailhook/dns-parser#46): those are exactly the messages our
//! own dissector exists for, and they must at least not be malformed for us when tshark
//! accepts them (checked elsewhere, against the oracle).
//!
//! Messages are cut out of the captures here with a deliberately small decoder (Ethernet with
//! 802.1Q, BSD null, raw IP; IPv4 without fragments, IPv6 without extension headers; UDP and
//! in-order TCP on port 53), independent of the pipeline under test.

use netsniff::source::file::FileSource;
use netsniff_dissectors::field::FieldSink;
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::dns::DnsParser;
use netsniff_dissectors::{
    Cx, Direction, FieldDef, LinkType, Proto, Span, StreamCx, StreamParser, Value,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One field as emitted: name, and value (raw bytes for text, tshark's text otherwise).
#[derive(Default)]
struct Rec {
    fields: Vec<(&'static str, Vec<u8>)>,
    malformed: bool,
}

impl FieldSink for Rec {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        if proto.name == "_ws.malformed" {
            self.malformed = true;
        }
    }
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let v = match value {
            Value::Text(t) => t.to_vec(),
            Value::Str(s) => s.as_bytes().to_vec(),
            v => {
                let mut out = Vec::new();
                netsniff_dissectors::field::write_tshark(def, &v, &mut out);
                out
            }
        };
        self.fields.push((def.name, v));
    }
}

impl Rec {
    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }
}

/// Our dissection of one message (as a UDP datagram).
fn ours(msg: &[u8]) -> Rec {
    let mut rec = Rec::default();
    let mut stack = ProtoStack::default();
    {
        let mut cx = Cx::new(&mut rec, None, &mut stack);
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
        let mut parser = DnsParser::default();
        parser.data(Direction::ToServer, msg, &mut scx);
    }
    rec
}

/// `dns-parser`'s name text, in Wireshark's spelling of the root.
fn name_text(n: &dns_parser::Name<'_>) -> String {
    let s = n.to_string();
    if s.is_empty() {
        "<Root>".to_string()
    } else {
        s
    }
}

/// Compares one message; returns a description of the first disagreement.
fn compare(msg: &[u8]) -> Result<bool, String> {
    // dns-parser panics on some inputs (non-UTF-8 names in Display, rcode > 15): a panic is a
    // rejection too.
    let theirs = std::panic::catch_unwind(|| {
        let p = dns_parser::Packet::parse(msg).ok()?;
        let mut facts: HashMap<&'static str, Vec<String>> = HashMap::new();
        let h = &p.header;
        facts.insert("dns.id", vec![format!("0x{:04x}", h.id)]);
        facts.insert(
            "dns.flags.response",
            vec![if h.query { "0" } else { "1" }.into()],
        );
        if !h.query {
            let rc: u8 = h.response_code.into();
            facts.insert("dns.flags.rcode", vec![rc.to_string()]);
        }
        facts.insert(
            "dns.qry.name",
            p.questions.iter().map(|q| name_text(&q.qname)).collect(),
        );
        facts.insert(
            "dns.qry.type",
            p.questions
                .iter()
                .map(|q| (q.qtype as u16).to_string())
                .collect(),
        );
        let mut add = |k: &'static str, v: String| facts.entry(k).or_default().push(v);
        for rr in p.answers.iter().chain(&p.nameservers).chain(&p.additional) {
            add("dns.resp.ttl", rr.ttl.to_string());
            use dns_parser::RData;
            match &rr.data {
                RData::A(a) => add("dns.a", a.0.to_string()),
                RData::AAAA(a) => add("dns.aaaa", a.0.to_string()),
                RData::CNAME(n) => add("dns.cname", name_text(&n.0)),
                RData::NS(n) => add("dns.ns", name_text(&n.0)),
                RData::PTR(n) => add("dns.ptr.domain_name", name_text(&n.0)),
                RData::MX(m) => {
                    add("dns.mx.preference", m.preference.to_string());
                    add("dns.mx.mail_exchange", name_text(&m.exchange));
                }
                RData::SOA(s) => {
                    add("dns.soa.mname", name_text(&s.primary_ns));
                    add("dns.soa.rname", name_text(&s.mailbox));
                    add("dns.soa.serial_number", s.serial.to_string());
                    add("dns.soa.minimum_ttl", s.minimum_ttl.to_string());
                }
                RData::SRV(s) => {
                    add("dns.srv.port", s.port.to_string());
                    add("dns.srv.target", name_text(&s.target));
                }
                RData::TXT(t) => {
                    for s in t.iter() {
                        add("dns.txt", String::from_utf8_lossy(s).into_owned());
                    }
                }
                RData::Unknown(_) => {}
            }
        }
        Some(facts)
    });
    let Ok(Some(facts)) = theirs else {
        return Ok(false);
    };
    let rec = ours(msg);
    if rec.malformed {
        // dns-parser does not look inside EDNS options; tshark (the reference) and netsniff
        // reject options that overrun their record.
        let last = rec.fields.iter().rev().find(|(n, _)| n.starts_with("dns."));
        if last.is_some_and(|(n, _)| n.starts_with("dns.opt")) {
            return Ok(false);
        }
        return Err("dns-parser accepts it, netsniff calls it malformed".into());
    }
    let mut keys: Vec<_> = facts.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let want = &facts[k];
        let mut got = rec.all(k);
        if k == "dns.resp.ttl" {
            // dns-parser reads a TTL with the top bit set as 0 (RFC 2181 §8); tshark shows it.
            for t in &mut got {
                if t.parse::<u64>().is_ok_and(|v| v >= 1 << 31) {
                    *t = "0".into();
                }
            }
        }
        // Names with bytes Wireshark escapes cannot be compared with dns-parser's raw text.
        if want
            .iter()
            .any(|v| v.chars().any(|c| c.is_control() || c == '\\'))
        {
            continue;
        }
        if &got != want {
            return Err(format!("{k}: dns-parser {want:?}, netsniff {got:?}"));
        }
    }
    Ok(true)
}

/// An IP packet's protocol, source, destination and payload.
type IpPayload<'a> = (u8, Vec<u8>, Vec<u8>, &'a [u8]);

/// IP payload of a frame.
fn ip_payload(link: LinkType, frame: &[u8]) -> Option<IpPayload<'_>> {
    let mut p = match link {
        LinkType::ETHERNET => {
            let mut at = 12;
            let mut et = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
            while et == 0x8100 || et == 0x88a8 {
                at += 4;
                et = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
            }
            frame.get(at + 2..)?
        }
        LinkType::NULL | LinkType::LOOP => frame.get(4..)?,
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => frame,
        _ => return None,
    };
    match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p.first()? & 0xf) * 4;
            let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
            let frag = u16::from_be_bytes([*p.get(6)?, *p.get(7)?]);
            if frag & 0x3fff != 0 {
                return None;
            }
            let proto = *p.get(9)?;
            let (src, dst) = (p.get(12..16)?.to_vec(), p.get(16..20)?.to_vec());
            p = p.get(ihl..total.min(p.len()))?;
            Some((proto, src, dst, p))
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
            let proto = *p.get(6)?;
            let (src, dst) = (p.get(8..24)?.to_vec(), p.get(24..40)?.to_vec());
            p = p.get(40..(40 + len).min(p.len()))?;
            Some((proto, src, dst, p))
        }
        _ => None,
    }
}

#[derive(Default)]
struct TcpDir {
    next: Option<u32>,
    buf: Vec<u8>,
}

/// Every DNS message of one capture.
fn messages(path: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(mut src) = FileSource::open(path) else {
        return out;
    };
    let mut tcp: HashMap<(Vec<u8>, Vec<u8>, u16, u16), TcpDir> = HashMap::new();
    while let Ok(Some(frame)) = src.next() {
        if frame.meta.cap_len != frame.meta.len {
            continue;
        }
        let Some((proto, s, d, l4)) = ip_payload(frame.meta.link_type, frame.data) else {
            continue;
        };
        let port = |at: usize| l4.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let (Some(sp), Some(dp)) = (port(0), port(2)) else {
            continue;
        };
        if sp != 53 && dp != 53 {
            continue;
        }
        match proto {
            17 => {
                if let Some(m) = l4.get(8..) {
                    out.push(m.to_vec());
                }
            }
            6 => {
                let Some(hl) = l4.get(12).map(|b| usize::from(b >> 4) * 4) else {
                    continue;
                };
                let seq = u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]);
                let syn = l4.get(13).is_some_and(|f| f & 2 != 0);
                let data = l4.get(hl..).unwrap_or(&[]);
                let dir = tcp.entry((s, d, sp, dp)).or_default();
                if syn {
                    dir.next = Some(seq.wrapping_add(1));
                    continue;
                }
                if data.is_empty() || dir.next.is_some_and(|n| n != seq) {
                    continue;
                }
                dir.next = Some(seq.wrapping_add(data.len() as u32));
                dir.buf.extend_from_slice(data);
                while dir.buf.len() >= 2 {
                    let len = usize::from(u16::from_be_bytes([dir.buf[0], dir.buf[1]]));
                    if dir.buf.len() < 2 + len {
                        break;
                    }
                    out.push(dir.buf[2..2 + len].to_vec());
                    dir.buf.drain(..2 + len);
                }
            }
            _ => {}
        }
    }
    out
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = vec![
        root.join("captures/dns.pcap"),
        root.join("captures/mixed-browse.pcapng"),
    ];
    // The DNS files of the peer corpus (MANIFEST-dns.tsv); testdata/peer also holds the
    // robustness corpus, whose malformed files dns-parser and tshark judge differently.
    let manifest = std::fs::read_to_string(root.join("peer/MANIFEST-dns.tsv")).unwrap_or_default();
    for line in manifest.lines().skip(1) {
        if let Some(file) = line.split('\t').next().filter(|f| !f.is_empty()) {
            files.push(root.join("peer").join(file));
        }
    }
    files.sort();
    files.dedup();
    files
}

#[test]
fn agrees_with_dns_parser_wherever_it_parses() {
    let (mut total, mut compared, mut failures) = (0usize, 0usize, Vec::new());
    for path in corpus() {
        for msg in messages(&path) {
            total += 1;
            match compare(&msg) {
                Ok(true) => compared += 1,
                Ok(false) => {}
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    eprintln!("{total} DNS messages, {compared} accepted by dns-parser and compared");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The corpus must really be there: our own capture alone has 54 messages.
    assert!(
        total > 500 && compared > 400,
        "{total} messages, {compared} compared"
    );
}

#[test]
fn never_panics_and_rejects_less_than_dns_parser() {
    // Messages dns-parser rejects that we decode: HTTPS/SVCB questions, unknown record types.
    let mut ours_only = 0;
    for path in corpus() {
        for msg in messages(&path) {
            let rec = ours(&msg);
            let theirs = std::panic::catch_unwind(|| dns_parser::Packet::parse(&msg).is_ok());
            if !rec.malformed && !matches!(theirs, Ok(true)) {
                ours_only += 1;
            }
        }
    }
    assert!(
        ours_only > 0,
        "the corpus has messages only netsniff decodes"
    );
}
