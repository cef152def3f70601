//! `netsniff flows` and `-z conv,tcp|udp` on every capture of `testdata/`, against tshark's
//! conversation tables in `testdata/oracle/NAME.conv.txt` (`tshark -q -z conv,tcp -z conv,udp`).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_netsniff");

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Every capture with a conversation oracle: (name, path, extra tshark options).
fn captures() -> Vec<(String, PathBuf, Vec<String>)> {
    let dir = testdata().join("captures");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let oracle = testdata().join("oracle").join(format!("{name}.conv.txt"));
        if !oracle.exists() {
            continue;
        }
        let args = std::fs::read_to_string(
            testdata()
                .join("oracle")
                .join(format!("{name}.tshark-args")),
        )
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
        out.push((name, path, args));
    }
    out.sort();
    assert!(out.len() >= 10, "testdata captures missing: {out:?}");
    out
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run netsniff");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "netsniff {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn conv_tables_match_tshark_byte_for_byte() {
    for (name, path, args) in captures() {
        let mut cmd: Vec<&str> = vec!["-r", path.to_str().unwrap()];
        cmd.extend(args.iter().map(String::as_str));
        cmd.extend(["-q", "-z", "conv,tcp", "-z", "conv,udp"]);
        let ours = run(&cmd);
        let theirs =
            std::fs::read_to_string(testdata().join("oracle").join(format!("{name}.conv.txt")))
                .unwrap();
        assert_eq!(
            ours, theirs,
            "{name}: -q -z conv,tcp -z conv,udp differs from tshark"
        );
    }
}

#[test]
fn address_and_endpoint_tables_match_tshark_byte_for_byte() {
    // testdata/oracle/NAME.endpoints.txt: tshark -q with these -z options, in this order
    // (tshark prints the last one's table first, and so does netsniff).
    const TABLES: [&str; 8] = [
        "conv,eth",
        "conv,ip",
        "conv,ipv6",
        "endpoints,eth",
        "endpoints,ip",
        "endpoints,ipv6",
        "endpoints,tcp",
        "endpoints,udp",
    ];
    for (name, path, args) in captures() {
        let mut cmd: Vec<&str> = vec!["-r", path.to_str().unwrap(), "-q"];
        cmd.extend(args.iter().map(String::as_str));
        for t in TABLES {
            cmd.extend(["-z", t]);
        }
        let ours = run(&cmd);
        let theirs = std::fs::read_to_string(
            testdata()
                .join("oracle")
                .join(format!("{name}.endpoints.txt")),
        )
        .unwrap();
        assert_eq!(ours, theirs, "{name}: address tables differ from tshark");
    }
}

#[test]
fn statistics_with_a_filter_count_the_frames_it_passes() {
    // tshark's -z KIND,LAYER,FILTER: the table counts the frames the display filter passes
    // and names the filter. testdata/oracle/http1.filtered-stats.txt is tshark 4.0.17's output.
    let path = testdata().join("captures").join("http1.pcap");
    let ours = run(&[
        "-r",
        path.to_str().unwrap(),
        "-q",
        "-z",
        "conv,ip,tcp.len > 0",
        "-z",
        "endpoints,eth,http.request",
        "-z",
        "io,phs,http || arp",
    ]);
    let theirs =
        std::fs::read_to_string(testdata().join("oracle").join("http1.filtered-stats.txt"))
            .unwrap();
    assert_eq!(ours, theirs);
    // The TCP and UDP tables come from whole conversations: a filter there is refused.
    let out = Command::new(BIN)
        .args(["-r", path.to_str().unwrap(), "-q", "-z", "conv,tcp,http"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not by the TCP and UDP tables"));
    // A bad filter is named with its option.
    let out = Command::new(BIN)
        .args([
            "-r",
            path.to_str().unwrap(),
            "-q",
            "-z",
            "conv,ip,ip.src ==",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("netsniff: -z conv,ip \"ip.src ==\": "),
        "{stderr}"
    );
}

/// One row of tshark's table: (A, B, frames B→A, bytes B→A, frames A→B, bytes A→B); bytes
/// as tshark prints them (`872 bytes`, `4949 kB`).
type Row = (String, String, u64, String, u64, String);

fn tshark_rows(name: &str, title: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(testdata().join("oracle").join(format!("{name}.conv.txt")))
        .unwrap();
    let mut rows = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.ends_with("Conversations") {
            inside = line.starts_with(title);
            continue;
        }
        if !inside || !line.contains("<->") {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        // A <-> B frames size unit frames size unit ...
        rows.push((
            t[0].to_string(),
            t[2].to_string(),
            t[3].parse().unwrap(),
            format!("{} {}", t[4], t[5]),
            t[6].parse().unwrap(),
            format!("{} {}", t[7], t[8]),
        ));
    }
    rows
}

/// tshark's `format_size` (as `src/output/conv.rs`), kept apart so the test does not trust
/// the code it checks.
fn size(n: u64) -> String {
    for (power, p) in [(1_000_000_000u64, "G"), (1_000_000, "M"), (1_000, "k")] {
        if n >= power * 10 {
            return format!("{} {p}B", n / power);
        }
    }
    format!("{n} bytes")
}

#[test]
fn netsniff_flows_agrees_with_tshark_conversations() {
    for (name, path, args) in captures() {
        let mut cmd: Vec<&str> = vec!["flows", "-r", path.to_str().unwrap(), "-T", "json"];
        let decode: Vec<String> = args;
        for pair in decode.chunks(2) {
            if pair.first().map(String::as_str) == Some("-d") {
                cmd.push("-d");
                cmd.push(pair.get(1).unwrap().as_str());
            }
        }
        let doc: serde_json::Value = serde_json::from_str(&run(&cmd)).expect("flows JSON");
        let flows = doc["flows"].as_array().expect("flows array");
        for (proto, title) in [("tcp", "TCP"), ("udp", "UDP")] {
            let want = tshark_rows(&name, title);
            let ours: Vec<&serde_json::Value> =
                flows.iter().filter(|f| f["proto"] == proto).collect();
            assert_eq!(ours.len(), want.len(), "{name}: {proto} conversations");
            for (a, b, frames_ba, bytes_ba, frames_ab, bytes_ab) in want {
                let ep = |v: &serde_json::Value| {
                    format!("{}:{}", v["addr"].as_str().unwrap(), v["port"])
                };
                let row = ours
                    .iter()
                    .find(|f| {
                        let (c, s) = (ep(&f["client"]), ep(&f["server"]));
                        (c == a && s == b) || (c == b && s == a)
                    })
                    .unwrap_or_else(|| panic!("{name}: no {proto} flow {a} <-> {b}"));
                let a_is_client = ep(&row["client"]) == a;
                let get = |k: &str| row[k].as_u64().unwrap();
                let (fab, bab, fba, bba) = if a_is_client {
                    (
                        get("packets_to_server"),
                        get("bytes_to_server"),
                        get("packets_to_client"),
                        get("bytes_to_client"),
                    )
                } else {
                    (
                        get("packets_to_client"),
                        get("bytes_to_client"),
                        get("packets_to_server"),
                        get("bytes_to_server"),
                    )
                };
                assert_eq!(
                    (fab, fba),
                    (frames_ab, frames_ba),
                    "{name}: {a} <-> {b} frames"
                );
                assert_eq!(
                    (size(bab), size(bba)),
                    (bytes_ab, bytes_ba),
                    "{name}: {a} <-> {b} bytes"
                );
            }
        }
        let summary = &doc["summary"];
        assert_eq!(summary["evicted"], 0, "{name}");
    }
}

/// The conversation of a frame of the oracle, both ends sorted, and the protocol tshark
/// dissected first above its transport (empty when none).
fn oracle_conversations(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(testdata().join("oracle").join(format!("{name}.tsv")))
        .expect("oracle");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect(n);
    let (protocols, ip_src, ip_dst, ip6_src, ip6_dst) = (
        col("frame.protocols"),
        col("ip.src"),
        col("ip.dst"),
        col("ipv6.src"),
        col("ipv6.dst"),
    );
    let mut out = Vec::new();
    for line in lines {
        let v: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| v.get(i).copied().unwrap_or("");
        let layers: Vec<&str> = get(protocols).split(':').collect();
        // Quoted packets (in ICMP errors) belong to no conversation.
        if layers.iter().any(|l| l.starts_with("icmp")) {
            continue;
        }
        let Some(at) = layers.iter().position(|l| *l == "tcp" || *l == "udp") else {
            continue;
        };
        let l4 = layers[at];
        let (sport, dport) = (
            get(col(&format!("{l4}.srcport"))),
            get(col(&format!("{l4}.dstport"))),
        );
        let (src, dst) = if get(ip_src).is_empty() {
            (get(ip6_src), get(ip6_dst))
        } else {
            (get(ip_src), get(ip_dst))
        };
        let mut ends = [format!("{src}:{sport}"), format!("{dst}:{dport}")];
        ends.sort();
        let above = layers.get(at + 1).copied().unwrap_or("");
        out.push((format!("{l4} {} {}", ends[0], ends[1]), above.to_string()));
    }
    out
}

/// `netsniff flows` names a flow's protocol by detection alone (ports, then a look at the
/// first bytes), without parsing, and keeps the payloads only of flows whose ports name no
/// protocol: what it names must be what tshark dissects in that conversation, on every
/// capture (ports bound, flows of no protocol, and a capture tshark was given a `-d` rule
/// for, with that rule and without it: HTTP/2 on port 50051 found by its preface).
#[test]
fn flows_name_the_protocol_tshark_dissects() {
    use std::collections::{BTreeMap, BTreeSet};
    let ours: BTreeSet<&str> = netsniff_dissectors::proto::STREAM
        .iter()
        .map(|d| d.proto().name)
        .collect();
    let mut probed = 0;
    for (name, path, args) in captures() {
        let mut dissected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, above) in oracle_conversations(&name) {
            let apps = dissected.entry(key).or_default();
            if ours.contains(above.as_str()) && apps.iter().all(String::is_empty) {
                apps.clear();
                apps.insert(above);
            } else if apps.is_empty() {
                apps.insert(String::new());
            }
        }
        let mut cmd: Vec<&str> = vec!["flows", "-r", path.to_str().unwrap(), "-T", "json"];
        let rules = cmd.len();
        for pair in args.chunks(2) {
            if pair.first().map(String::as_str) == Some("-d") {
                cmd.push("-d");
                cmd.push(pair.get(1).unwrap().as_str());
            }
        }
        let without_rules = (cmd.len() > rules).then(|| cmd[..rules].to_vec());
        probed += usize::from(without_rules.is_some());
        for cmd in std::iter::once(cmd.clone()).chain(without_rules) {
            let doc: serde_json::Value = serde_json::from_str(&run(&cmd)).expect("flows JSON");
            let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for f in doc["flows"].as_array().expect("flows array") {
                let ep = |v: &serde_json::Value| {
                    format!("{}:{}", v["addr"].as_str().unwrap(), v["port"])
                };
                let mut ends = [ep(&f["client"]), ep(&f["server"])];
                ends.sort();
                let key = format!("{} {} {}", f["proto"].as_str().unwrap(), ends[0], ends[1]);
                let app = f["app"].as_str().unwrap_or("").to_string();
                named.entry(key).or_default().insert(app);
            }
            assert_eq!(named, dissected, "{cmd:?}");
        }
    }
    assert!(
        probed > 0,
        "no capture whose protocol is found by its bytes"
    );
}

/// Writes a pcap of Ethernet/IPv4/UDP datagrams `(source port, destination port, payload)`
/// between 10.0.0.1 (the first port's) and 10.0.0.2, a millisecond apart.
fn write_udp_exchange(path: &Path, datagrams: &[(u16, u16, &[u8])]) {
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    for (i, &(sport, dport, payload)) in datagrams.iter().enumerate() {
        let (src, dst) = if i % 2 == 0 { (1, 2) } else { (2, 1) };
        let mut frame = vec![0u8; 42];
        frame[12] = 0x08; // IPv4
        frame[14] = 0x45;
        frame[16..18].copy_from_slice(&(28 + payload.len() as u16).to_be_bytes());
        frame[22] = 64; // TTL
        frame[23] = 17; // UDP
        frame[26..30].copy_from_slice(&[10, 0, 0, src]);
        frame[30..34].copy_from_slice(&[10, 0, 0, dst]);
        frame[34..36].copy_from_slice(&sport.to_be_bytes());
        frame[36..38].copy_from_slice(&dport.to_be_bytes());
        frame[38..40].copy_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        frame.extend_from_slice(payload);
        let len = frame.len() as u32;
        for v in [1_700_000_000, i as u32 * 1000, len, len] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        file.extend_from_slice(&frame);
    }
    std::fs::write(path, file).unwrap();
}

/// A UDP flow on a port no protocol is bound to is named by what its first datagram holds:
/// the reader keeps the payloads of such flows for detection (and only theirs).
#[test]
fn flows_find_a_udp_protocol_by_its_bytes() {
    let query: &[u8] =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let answer: &[u8] = b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22";
    let dir = std::env::temp_dir().join(format!("netsniff-flows-udp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dns-8053.pcap");
    write_udp_exchange(
        &path,
        &[
            (40_000, 8053, query),
            (8053, 40_000, answer),
            (40_001, 8054, b"not a protocol"),
        ],
    );
    let doc: serde_json::Value =
        serde_json::from_str(&run(&["flows", "-r", path.to_str().unwrap(), "-T", "json"]))
            .expect("flows JSON");
    let apps: Vec<(u64, serde_json::Value)> = doc["flows"]
        .as_array()
        .expect("flows array")
        .iter()
        .map(|f| (f["server"]["port"].as_u64().unwrap(), f["app"].clone()))
        .collect();
    assert_eq!(
        apps,
        [
            (8053, serde_json::json!("dns")),
            (8054, serde_json::Value::Null)
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flows_json_has_each_ends_transitions_and_throughput_over_time() {
    let path = testdata().join("captures/http1.pcap");
    let out = run(&["flows", "-r", path.to_str().unwrap(), "-T", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("flows JSON");
    let flows = doc["flows"].as_array().expect("flows");
    assert_eq!(flows.len(), 6);
    let states = |v: &serde_json::Value| -> Vec<(u64, String)> {
        v.as_array()
            .expect("timeline")
            .iter()
            .map(|t| {
                (
                    t["frame"].as_u64().unwrap(),
                    t["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let owned = |v: &[(u64, &str)]| -> Vec<(u64, String)> {
        v.iter().map(|(f, s)| (*f, s.to_string())).collect()
    };
    // Stream 0: handshake in frames 3-5, the server closes first (FIN in 10), the client's
    // FIN in 11 and the last ACK in 12.
    let first = &flows[0];
    assert_eq!(
        states(&first["timeline"]["client"]),
        owned(&[
            (3, "SYN-SENT"),
            (4, "ESTABLISHED"),
            (10, "CLOSE-WAIT"),
            (11, "LAST-ACK"),
            (12, "CLOSED")
        ])
    );
    assert_eq!(
        states(&first["timeline"]["server"]),
        owned(&[
            (4, "SYN-RECEIVED"),
            (5, "ESTABLISHED"),
            (10, "FIN-WAIT-1"),
            (11, "FIN-WAIT-2"),
            (11, "TIME-WAIT")
        ])
    );
    for f in flows {
        let t = &f["throughput"];
        let interval: f64 = t["interval"].as_str().unwrap().parse().unwrap();
        let duration: f64 = f["duration"].as_str().unwrap().parse().unwrap();
        for (series, total) in [
            ("payload_to_server", "payload_to_server"),
            ("payload_to_client", "payload_to_client"),
        ] {
            let buckets: Vec<u64> = t[series]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap())
                .collect();
            // Every payload byte is in exactly one bucket; the buckets cover the flow.
            assert_eq!(
                buckets.iter().sum::<u64>(),
                f[total].as_u64().unwrap(),
                "{series} of {f}"
            );
            assert!(buckets.len() <= 32);
            assert!(interval * 32.0 > duration, "{f}");
        }
    }
    // The 200 KB response of stream 4 spreads over many buckets.
    let big = &flows[4]["throughput"]["payload_to_client"];
    assert!(
        big.as_array()
            .unwrap()
            .iter()
            .filter(|b| b.as_u64() > Some(0))
            .count()
            > 10
    );
}

#[test]
fn flows_text_sorts_and_reports_caps() {
    let path = testdata().join("captures").join("tcp-handshake.pcap");
    let p = path.to_str().unwrap();
    let text = run(&["flows", "-r", p]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROTO  STREAM  CLIENT"), "{text}");
    assert!(
        lines[1].contains("127.0.0.1:40606") && lines[1].contains(" SF "),
        "{text}"
    );
    assert!(lines[2].contains(" REJ "), "{text}");
    assert!(lines[3].contains(" RSTR "), "{text}");
    assert!(
        lines[4].starts_with("# 20 frames; 3 TCP and 0 UDP conversations; 0 evicted"),
        "{text}"
    );
    let by_bytes = run(&["flows", "-r", p, "--sort", "bytes"]);
    let order: Vec<&str> = by_bytes
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(order, ["0", "2", "1"]);
    // A cap of one live flow evicts the other two and says so.
    let capped = run(&["flows", "-r", p, "--max-flows", "1"]);
    assert!(capped.contains("; 2 evicted (caps)"), "{capped}");
    assert_eq!(
        capped.lines().count(),
        5,
        "evicted flows are still listed: {capped}"
    );
    // -c reads only the first packets, as with -r: the first connection is 10 frames.
    let first = run(&["flows", "-r", p, "-c", "10"]);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), 3, "{first}");
    assert!(
        lines[1].contains("127.0.0.1:40606") && lines[1].contains(" SF "),
        "{first}"
    );
    assert!(
        lines[2].starts_with("# 10 frames; 1 TCP and 0 UDP"),
        "{first}"
    );
}

/// Writes a classic pcap of `n` SYNs, each from a different address and port (no handshake
/// ever completes).
fn write_syn_flood(path: &Path, n: u32) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // pcap header: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, Ethernet.
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes()).unwrap();
    out.write_all(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ])
    .unwrap();
    let mut frame = [0u8; 54];
    frame[12] = 0x08; // IPv4
    frame[14] = 0x45;
    frame[17] = 40; // total length
    frame[22] = 64; // TTL
    frame[23] = 6; // TCP
    frame[30..34].copy_from_slice(&[10, 99, 0, 1]); // destination
    frame[36..38].copy_from_slice(&80u16.to_be_bytes());
    frame[46] = 0x50; // data offset 5
    frame[47] = 0x02; // SYN
    frame[48..50].copy_from_slice(&1024u16.to_be_bytes());
    for i in 0..n {
        let src = 0x0a00_0000u32 | (i >> 6);
        frame[26..30].copy_from_slice(&src.to_be_bytes());
        let port = 1024 + (i & 63) as u16;
        frame[34..36].copy_from_slice(&port.to_be_bytes());
        frame[38..42].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
        let (secs, usecs) = (1_700_000_000 + i / 100_000, (i % 100_000) * 10);
        for v in [secs, usecs, 54, 54] {
            out.write_all(&v.to_le_bytes()).unwrap();
        }
        out.write_all(&frame).unwrap();
    }
    out.flush().unwrap();
}

/// Runs netsniff and samples its peak resident set (VmHWM) until it exits.
fn run_measured(args: &[&str]) -> (String, u64) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn netsniff");
    let status_path = format!("/proc/{}/status", child.id());
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut { stdout }, &mut s).unwrap();
        s
    });
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kib: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak_kib = peak_kib.max(kib);
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    (reader.join().unwrap(), peak_kib * 1024)
}

/// A million frames take a while unoptimised: this runs with `cargo test --release` (the
/// project's test command) and is skipped in debug builds.
#[test]
#[cfg_attr(debug_assertions, ignore = "run with --release")]
fn million_syns_stay_under_the_memory_cap() {
    const SYNS: u32 = 1_000_000;
    const CAP_MIB: u64 = 48;
    let path = std::env::temp_dir().join(format!("netsniff-syn-flood-{}.pcap", std::process::id()));
    write_syn_flood(&path, SYNS);
    let cap = CAP_MIB.to_string();
    let (out, peak_rss) = run_measured(&[
        "flows",
        "-r",
        path.to_str().unwrap(),
        "-T",
        "json",
        "--flow-memory",
        &cap,
    ]);
    let _ = std::fs::remove_file(&path);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("flows JSON");
    let s = &doc["summary"];
    let listed = doc["flows"].as_array().unwrap().len() as u64;
    let (evicted, dropped) = (
        s["evicted"].as_u64().unwrap(),
        s["records_dropped"].as_u64().unwrap(),
    );
    eprintln!(
        "1M SYNs, --flow-memory {CAP_MIB}: peak flow state {} bytes, peak RSS {} MiB, \
         evicted {evicted}, listed {listed}, not listed {dropped}",
        s["peak_flow_state_bytes"],
        peak_rss >> 20
    );
    assert_eq!(s["tcp_conversations"], u64::from(SYNS));
    // The engine's own estimate stays under the cap…
    assert!(
        s["peak_flow_state_bytes"].as_u64().unwrap() <= CAP_MIB << 20,
        "{s}"
    );
    // …and so does the process, give or take its fixed costs (binary, I/O buffers, allocator).
    assert!(
        peak_rss < (CAP_MIB + 40) << 20,
        "peak RSS {peak_rss} bytes: {s}"
    );
    // What the cap cost is reported: flows were evicted, and the ones not listed are counted.
    assert!(evicted > 0, "{s}");
    assert_eq!(listed + dropped, u64::from(SYNS), "{s}");
    // No SYN's flow comes back; the tombstones past their budget are counted.
    assert_eq!(s["resumed"], 0, "{s}");
    assert!(s["forgotten"].as_u64().unwrap() > 0, "{s}");
}
