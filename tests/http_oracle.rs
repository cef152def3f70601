//! HTTP/1, WebSocket and SSE end to end: the real binary on the real captures, compared with
//! tshark's oracle (`testdata/oracle/NAME.tsv`) for every `http.*` and `websocket.*` field of
//! the oracle list and for `frame.protocols` up to the application protocol, and with tshark's
//! Info column on the frames HTTP and WebSocket write.

use std::path::Path;
use std::process::Command;

const FIELDS: &[&str] = &[
    "frame.protocols",
    "http.request.method",
    "http.request.uri",
    "http.request.version",
    "http.host",
    "http.user_agent",
    "http.response.code",
    "http.content_type",
    "http.content_length",
    "websocket.opcode",
    "websocket.fin",
    "websocket.mask",
];

const CAPTURES: &[&str] = &[
    "http1.pcap",
    "ipv6-icmp.pcap",
    "websocket.pcap",
    "sse.pcapng",
    "http2-h2c.pcap",
];

fn testdata(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

fn netsniff(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netsniff"))
        .args(args)
        .output()
        .expect("netsniff runs");
    assert!(out.status.success(), "netsniff {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `frame.protocols` as the oracle compares it: up to the first application protocol.
fn cut_protocols(v: &str) -> String {
    let mut out = Vec::new();
    for p in v.split(':') {
        if p == "ethertype" {
            continue;
        }
        out.push(p);
        if ["http", "websocket", "http2", "data", "icmpv6", "arp"].contains(&p) {
            break;
        }
    }
    out.join(":")
}

#[test]
fn fields_agree_with_tshark() {
    for cap in CAPTURES {
        let name = cap.rsplit_once('.').map_or(*cap, |(n, _)| n);
        let oracle = std::fs::read_to_string(testdata(&format!("oracle/{name}.tsv")))
            .expect("oracle present");
        let mut lines = oracle.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        let cols: Vec<usize> = FIELDS
            .iter()
            .map(|f| header.iter().position(|h| h == f).expect("field in oracle"))
            .collect();
        let mut args = vec![
            "-r",
            cap,
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ];
        let path = testdata(&format!("captures/{cap}"));
        let path = path.to_str().expect("path");
        args[1] = path;
        for f in FIELDS {
            args.push("-e");
            args.push(f);
        }
        let ours = netsniff(&args);
        let ours: Vec<&str> = ours.lines().collect();
        let theirs: Vec<&str> = lines.collect();
        assert_eq!(ours.len(), theirs.len(), "{cap}: frame count");
        let mut bad = Vec::new();
        for (n, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let o: Vec<&str> = o.split('\t').collect();
            let t: Vec<&str> = t.split('\t').collect();
            for (i, f) in FIELDS.iter().enumerate() {
                let (mut a, mut b) = (
                    t.get(cols[i]).copied().unwrap_or("").to_string(),
                    o.get(i).copied().unwrap_or("").to_string(),
                );
                if *f == "frame.protocols" {
                    // Lower layers are other areas' (ICMPv6 here); compare from TCP on.
                    if !a.contains(":tcp") {
                        continue;
                    }
                    a = cut_protocols(&a);
                    b = cut_protocols(&b);
                }
                if a != b {
                    bad.push(format!(
                        "{cap} #{}: {f}: tshark {a:?}, netsniff {b:?}",
                        n + 1
                    ));
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

#[test]
fn info_column_agrees_with_tshark() {
    // (capture, frame, tshark's Protocol and Info columns)
    let cases: &[(&str, usize, &str, &str)] = &[
        ("http1.pcap", 6, "HTTP", "GET /index.html HTTP/1.0 "),
        ("http1.pcap", 8, "HTTP", "HTTP/1.1 200 OK  (text/html)"),
        ("http1.pcap", 32, "HTTP", "HTTP/1.1 200 OK  (text/plain)"),
        (
            "http1.pcap",
            40,
            "HTTP",
            "POST /post HTTP/1.1  (application/x-www-form-urlencoded)",
        ),
        ("http1.pcap", 42, "HTTP", "HTTP/1.1 200 OK "),
        ("http1.pcap", 297, "HTTP", "HTTP/1.1 200 OK "),
        (
            "http1.pcap",
            307,
            "HTTP",
            "HTTP/1.1 404 Not Found  (text/html)",
        ),
        (
            "websocket.pcap",
            6,
            "HTTP",
            "HTTP/1.1 101 Switching Protocols ",
        ),
        ("websocket.pcap", 8, "WebSocket", "WebSocket Text [FIN] "),
        (
            "websocket.pcap",
            10,
            "WebSocket",
            "WebSocket Text [FIN] [MASKED]",
        ),
        (
            "websocket.pcap",
            30,
            "WebSocket",
            "WebSocket Connection Close [FIN] [MASKED]",
        ),
        (
            "sse.pcapng",
            25,
            "HTTP",
            "HTTP/1.1 200 OK  (text/event-stream)",
        ),
        ("http2-h2c.pcap", 61, "HTTP", "HTTP/1.1 101  "),
        // A message still incomplete: its first line, then TCP's note (once when the length is
        // known; on every segment of a chunked body, as tshark asks for one more each time).
        (
            "http1.pcap",
            52,
            "TCP",
            "HTTP/1.1 200 OK  [TCP segment of a reassembled PDU]",
        ),
        (
            "sse.pcapng",
            10,
            "TCP",
            "HTTP/1.1 200 OK  [TCP segment of a reassembled PDU]",
        ),
    ];
    for (cap, frame, proto, info) in cases {
        let path = testdata(&format!("captures/{cap}"));
        // The summary line: number, time, source → destination, protocol, length, info.
        let out = netsniff(&["-r", path.to_str().expect("path")]);
        let line = out.lines().nth(frame - 1).expect("frame present");
        let mut words = line.split_whitespace();
        let proto_col = words.nth(5).expect("protocol column");
        assert_eq!(proto_col, *proto, "{cap} #{frame}: {line}");
        let len_col = words.next().expect("length column");
        let at = line
            .find(&format!(" {proto_col} {len_col} "))
            .expect("columns")
            + proto_col.len()
            + len_col.len()
            + 3;
        assert_eq!(&line[at..], *info, "{cap} #{frame}");
    }
}

#[test]
fn sse_events_on_the_completing_frame() {
    let path = testdata("captures/sse.pcapng");
    let out = netsniff(&[
        "-r",
        path.to_str().expect("path"),
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
        "-e",
        "sse.message",
        "-e",
        "sse.event",
        "-e",
        "sse.id",
        "-e",
        "sse.retry",
    ]);
    let shown: Vec<(usize, &str)> = out
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    assert_eq!(
        shown,
        [(
            24,
            "1,2,3,4,5,6,7\ttick,update,tick,update,tick\t0,1,2,3,4\t3000"
        )]
    );
}
