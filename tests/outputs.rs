//! The output formats against what tshark prints for the same input: `-T fields` with every
//! `-E` option, JSON and NDJSON, the `-V` frame layer, `-P` column layout, `-z io,phs` and
//! `--list-fields`. Expected texts were taken from tshark 4.0.17 (`tshark -n -r ...`).

mod util;

use util::{capture, root, run, run_on, Pcap};

fn fields(args: &[&str]) -> String {
    let mut all = vec![
        "-c",
        "6",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "vlan.id",
        "-e",
        "dns.a",
    ];
    all.extend_from_slice(args);
    let r = run_on(&capture("dns.pcap"), &all);
    r.ok();
    r.stdout
}

#[test]
fn fields_separator_takes_one_character() {
    eqnice!(
        "1a100a\n2a100a\n3a100a\n4a100a10.10.0.80,10.10.0.2,10.10.0.3\n5a100a\n6a100a10.10.0.2,10.10.0.3\n",
        fields(&["-E", "separator=ab"])
    );
    eqnice!(
        "frame.number\\vlan.id\\dns.a\n1\\100\\\n2\\100\\\n3\\100\\\n4\\100\\10.10.0.80,10.10.0.2,10.10.0.3\n5\\100\\\n6\\100\\10.10.0.2,10.10.0.3\n",
        fields(&["-E", "separator=/x", "-E", "header=y"])
    );
    eqnice!(
        "1 100 \n2 100 \n3 100 \n4 100 10.10.0.80,10.10.0.2,10.10.0.3\n5 100 \n6 100 10.10.0.2,10.10.0.3\n",
        fields(&["-E", "separator=/s"])
    );
}

#[test]
fn fields_aggregator_quote_occurrence_bom() {
    eqnice!(
        "\"1\"\t\"100\"\t\n\"2\"\t\"100\"\t\n\"3\"\t\"100\"\t\n\"4\"\t\"100\"\t\"10.10.0.80 10.10.0.2 10.10.0.3\"\n\"5\"\t\"100\"\t\n\"6\"\t\"100\"\t\"10.10.0.2 10.10.0.3\"\n",
        fields(&["-E", "aggregator=/s", "-E", "quote=d"])
    );
    eqnice!(
        "'1'\t'100'\t\n'2'\t'100'\t\n'3'\t'100'\t\n'4'\t'100'\t'10.10.0.80'\n'5'\t'100'\t\n'6'\t'100'\t'10.10.0.2'\n",
        fields(&["-E", "occurrence=f", "-E", "quote=s"])
    );
    eqnice!(
        "\u{feff}1\t100\t\n2\t100\t\n3\t100\t\n4\t100\t10.10.0.3\n5\t100\t\n6\t100\t10.10.0.3\n",
        fields(&["-E", "occurrence=l", "-E", "bom=y"])
    );
    // netsniff's extension (later tshark versions have it): the Nth occurrence only.
    eqnice!(
        "\t\t\n\t\t\n\t\t\n\t\t10.10.0.2\n\t\t\n\t\t10.10.0.3\n",
        fields(&["-E", "occurrence=2"])
    );
    eqnice!(
        "1\t100\t\n2\t100\t\n3\t100\t\n4\t100\t10.10.0.80;10.10.0.2;10.10.0.3\n5\t100\t\n6\t100\t10.10.0.2;10.10.0.3\n",
        fields(&["-E", "aggregator=;;"])
    );
}

#[test]
fn unknown_field_suggests_nearest_names() {
    let r = run_on(&capture("dns.pcap"), &["-T", "fields", "-e", "tcp.srcprt"]);
    r.fails(2, "unknown field 'tcp.srcprt'; did you mean tcp.srcport");
    let r = run_on(&capture("dns.pcap"), &["-T", "fields", "-e", "zzzz"]);
    r.fails(2, "netsniff --list-fields");
}

#[test]
fn list_fields_names_every_field_once() {
    let r = run(&["--list-fields"]);
    r.ok();
    assert!(r.stdout.contains("P\tFrame\tframe\n"));
    assert!(r.stdout.contains("F\tSource Port\ttcp.srcport\t"));
    assert!(r.stdout.contains("F\tComment\tframe.comment\t"));
    let names: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("F\t"))
        .filter_map(|l| l.split('\t').nth(2))
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "a field listed twice");
    // Every oracle field tshark prints for our protocols of this issue exists.
    for f in [
        "frame.time_epoch",
        "eth.src",
        "ip.ttl",
        "ipv6.hlim",
        "tcp.flags",
        "udp.length",
    ] {
        assert!(names.contains(&f), "{f}");
    }
}

#[test]
fn verbose_frame_layer_as_tshark() {
    let r = run_on(&capture("tcp-handshake.pcap"), &["-V", "-c", "1"]);
    r.ok();
    let expected = "Frame 1: 74 bytes on wire (592 bits), 74 bytes captured (592 bits)
    Encapsulation type: Ethernet (1)
    Arrival Time: Nov 27, 2026 20:37:52.252772000 UTC
    [Time shift for this packet: 0.000000000 seconds]
    Epoch Time: 1795811872.252772000 seconds
    [Time delta from previous captured frame: 0.000000000 seconds]
    [Time delta from previous displayed frame: 0.000000000 seconds]
    [Time since reference or first frame: 0.000000000 seconds]
    Frame Number: 1
    Frame Length: 74 bytes (592 bits)
    Capture Length: 74 bytes (592 bits)
    [Frame is marked: False]
    [Frame is ignored: False]
    [Protocols in frame: eth:ethertype:ip:tcp]
";
    assert!(r.stdout.starts_with(expected), "{}", r.stdout);
    // Every frame ends with an empty line.
    let r = run_on(&capture("tcp-handshake.pcap"), &["-V", "-c", "3"]);
    assert_eq!(r.stdout.matches("\n\nFrame ").count(), 2);
    assert!(r.stdout.ends_with("\n\n"));
}

#[test]
fn json_array_and_ndjson() {
    let r = run_on(&capture("dns.pcap"), &["-T", "json"]);
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let packets = v.as_array().expect("an array");
    assert_eq!(packets.len(), 84);
    let first = &packets[0];
    assert_eq!(first["_index"], "packets-2026-11-27");
    assert_eq!(first["_type"], "doc");
    assert!(first["_score"].is_null());
    let frame = &first["_source"]["layers"]["frame"];
    assert_eq!(frame["frame.number"], "1");
    assert_eq!(frame["frame.protocols"], "eth:ethertype:vlan:ethertype:arp");
    // tshark's layout: two-space indents, `"key": "value"`, one key a line.
    assert!(r.stdout.starts_with("[\n  {\n    \"_index\": \"packets-2026-11-27\",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {\n      \"layers\": {\n        \"frame\": {\n          \"frame.encap_type\": \"1\",\n"));
    assert!(r.stdout.ends_with("    }\n  }\n]\n"));

    let r = run_on(&capture("dns.pcap"), &["-T", "ndjson"]);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 84);
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("one object a line");
        assert!(v["_source"]["layers"]["frame"]["frame.number"].is_string());
    }
    // An empty capture is an empty array.
    let dir = util::scratch("json_empty");
    let path = Pcap::new(1, 65535).write(&dir.join("empty.pcap"));
    let r = run_on(&path, &["-T", "json"]);
    r.ok();
    assert_eq!(r.stdout, "[]\n");
}

#[test]
fn column_fields_as_tshark() {
    // tshark 4.0's column titles, and later versions' names for the same columns.
    let expected = "1\t0.000000\t02:10:00:00:00:01\tff:ff:ff:ff:ff:ff\tARP\t46\tWho has 10.10.0.2? Tell 10.10.0.1\n\
                    2\t0.000276\t02:10:00:00:00:02\t02:10:00:00:00:01\tARP\t46\t10.10.0.2 is at 02:10:00:00:00:02\n\
                    3\t0.000461\t10.10.0.1\t10.10.0.2\tDNS\t104\tStandard query 0x28d1 A host.example.test OPT\n";
    for names in [
        [
            "No.",
            "Time",
            "Source",
            "Destination",
            "Protocol",
            "Length",
            "Info",
        ],
        [
            "number", "cls_time", "def_src", "def_dst", "protocol", "length", "info",
        ],
    ] {
        let mut args = vec!["-c".to_string(), "3".into(), "-T".into(), "fields".into()];
        for n in names {
            args.push("-e".into());
            args.push(format!("_ws.col.{n}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_on(&capture("dns.pcap"), &args);
        r.ok();
        eqnice!(expected, r.stdout);
    }
}

#[test]
fn summary_columns_layout() {
    let dir = util::scratch("summary_columns_layout");
    // Unknown link type: no addresses, still the arrow (tshark's print_columns).
    let path = Pcap::new(147, 65535)
        .record(1_000_000_000, 5, &[1, 2, 3], 3)
        .record(1_000_000_001, 0, &[4], 4)
        .write(&dir.join("user0.pcap"));
    let r = run_on(&path, &["-P"]);
    assert_eq!(r.code, Some(1));
    let lines = r.lines();
    assert_eq!(
        lines[0],
        "    1   0.000000              →              data 3 "
    );
    assert_eq!(
        lines[1],
        "    2   0.999995              →              data 4 "
    );
}

#[test]
fn protocol_hierarchy_as_tshark() {
    // Not yet: sse (tshark 4.0 has no SSE dissector and calls it `media`).
    for name in [
        "dns",
        "fragments",
        "grpc",
        "http1",
        "http2-h2c",
        "ipv6-icmp",
        "mixed-browse",
        "mtls",
        "quic",
        "tcp-handshake",
        "tcp-impairments",
        "tls12",
        "tls13",
        "websocket",
    ] {
        let oracle =
            std::fs::read_to_string(root().join(format!("testdata/oracle/{name}.phs.txt")))
                .unwrap();
        let ext = if name == "mixed-browse" {
            "pcapng"
        } else {
            "pcap"
        };
        let mut args = vec!["-q", "-z", "io,phs"];
        if name == "grpc" {
            args.extend(["-d", "tcp.port==50051,http2"]);
        }
        let r = run_on(&capture(&format!("{name}.{ext}")), &args);
        r.ok();
        eqnice!(oracle, r.stdout);
    }
    // With packets: the statistics come after them.
    let r = run_on(&capture("fragments.pcap"), &["-z", "io,phs", "-c", "2"]);
    r.ok();
    assert!(r.stdout.lines().next().unwrap().starts_with("    1 "));
    assert!(r.stdout.contains("\n===================================================================\nProtocol Hierarchy Statistics\n"));
}

/// `-T fields` without a field that needs the flow engine skips the engine (see
/// `flow::needed_for_fields`): every field frame dissection gives must then print exactly what
/// it prints with the engine running (here forced on by one more column, `tcp.stream`).
#[test]
fn sack_edges_are_fields_too() {
    // Relative SACK and D-SACK edges (the flow engine's) print with -T fields, as tshark's.
    let r = run_on(
        &capture("tcp-impairments.pcap"),
        &[
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.options.sack_le",
            "-e",
            "tcp.options.sack_re",
            "-e",
            "tcp.options.sack.count",
            "-e",
            "tcp.options.sack.dsack_le",
            "-e",
            "tcp.options.sack.dsack_re",
            "-e",
            "tcp.options.sack.dsack",
        ],
    );
    r.ok();
    let lines = r.lines();
    assert_eq!(lines[8], "9\t10137\t11585\t1\t\t\t");
    assert_eq!(lines[10], "11\t7241,10137\t8689,11585\t2\t\t\t");
    assert_eq!(lines[25], "26\t7241\t8689\t1\t7241\t8689\t1");
}

#[test]
fn retransmitted_segments_captured_whole_are_set_aside() {
    // tshark reassembles only segments captured whole (this capture's snap length cuts the
    // full-sized ones); the plain retransmissions among those it notes and does not dissect
    // again. Frames and bytes as tshark 4.0.17 prints them.
    let cap = capture("tcp-impairments.pcap");
    let r = run_on(
        &cap,
        &[
            "-Y",
            "tcp.segment_data",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.segment_data",
        ],
    );
    r.ok();
    let frames: Vec<&str> = r
        .lines()
        .iter()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert_eq!(frames, ["5064", "5606", "5622"]);
    assert_eq!(
        r.lines()[2],
        "5622\tf8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"
    );
    let r = run_on(&cap, &["-V", "-Y", "frame.number == 5064"]);
    r.ok();
    let tail: Vec<&str> = r.lines().iter().rev().take(3).rev().copied().collect();
    assert_eq!(
        tail,
        [
            "    TCP payload (56 bytes)",
            "    Retransmitted TCP segment data (56 bytes)",
            ""
        ]
    );
}

#[test]
fn one_conversation_across_vlans_as_tshark() {
    // A trunk capture sees the same SYN on two VLANs. tshark 4.0 keys conversations by
    // addresses and ports only: one stream, the second copy a retransmission.
    let (link, frames) = util::frames_of("tcp-handshake.pcap", 1);
    let tagged = |vid: u16| {
        let mut f = frames[0][..12].to_vec();
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&vid.to_be_bytes());
        f.extend_from_slice(&frames[0][12..]);
        f
    };
    let (a, b) = (tagged(300), tagged(50));
    let path = Pcap::new(link, 65535)
        .record(1, 0, &a, a.len() as u32)
        .record(1, 16, &b, b.len() as u32)
        .write(&util::scratch("vlans").join("vlans.pcap"));
    let r = run_on(
        &path,
        &[
            "-T",
            "fields",
            "-e",
            "vlan.id",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.analysis.flags",
        ],
    );
    r.ok();
    assert_eq!(r.lines(), ["300\t0\t", "50\t0\t1"]);
}

#[test]
fn tcp_reserved_bits_drawn_as_sent() {
    // Three reserved bits behind one boolean: tshark draws each (here 101), as netsniff must.
    let (link, frames) = util::frames_of("tcp-handshake.pcap", 1);
    let mut syn = frames[0].clone();
    syn[14 + 20 + 12] |= 0x0a;
    let path = Pcap::new(link, 65535)
        .record(1, 0, &syn, syn.len() as u32)
        .write(&util::scratch("reserved").join("reserved.pcap"));
    let r = run_on(&path, &["-V"]);
    r.ok();
    assert!(r.lines().contains(&"    Flags: 0xa02 (SYN, Reserved)"));
    assert!(r
        .lines()
        .contains(&"        101. .... .... = Reserved: Set"));
}

#[test]
fn a_file_keeps_idle_flows_unless_a_timeout_is_given() {
    // The client's data segment again two hours later: tshark, which never forgets a
    // conversation, calls it a retransmission; so does netsniff reading a file, unless
    // --flow-timeout expired the flow meanwhile (its analysis then starts afresh).
    let (link, frames) = util::frames_of("tcp-handshake.pcap", 4);
    let mut pcap = Pcap::new(link, 65535);
    for (i, f) in frames.iter().enumerate() {
        pcap = pcap.record(1000, i as u32, f, f.len() as u32);
    }
    let path = pcap
        .record(8200, 0, &frames[3], frames[3].len() as u32)
        .write(&util::scratch("idle").join("idle.pcap"));
    let flags = |extra: &[&str]| {
        let mut args = vec![
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.analysis.flags",
        ];
        args.extend_from_slice(extra);
        let r = run_on(&path, &args);
        r.ok();
        r.lines().last().map(|l| l.to_string())
    };
    assert_eq!(flags(&[]).as_deref(), Some("0\t1"));
    assert_eq!(flags(&["--flow-timeout", "3600"]).as_deref(), Some("0\t"));
}

#[test]
fn a_header_cut_by_the_snap_length_is_short_not_malformed() {
    // zeek's truncated-header.pcap: a 68-byte capture cuts the SYN inside its options. tshark
    // keeps the options that fit and the segment (stream, completeness, initial RTT later),
    // and ends the frame with its short-frame marker. Expected lines are tshark 4.0.17's.
    let cap = root().join("testdata/peer/zeek/tcp/truncated-header.pcap");
    let r = run_on(
        &cap,
        &[
            "-c",
            "4",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.completeness",
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.analysis.initial_rtt",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.short",
            "-e",
            "_ws.col.Info",
        ],
    );
    r.ok();
    assert_eq!(
        r.lines(),
        [
            "0\t0\t1460\t\t\t[Packet size limited during capture: TCP truncated]\t60827 → 25 [SYN, ECE, CWR] Seq=0 Win=5840 Len=0 MSS=1460 SACK_PERM[Packet size limited during capture]",
            "0\t1\t1460\t\t\t\t25 → 60827 [SYN, ACK] Seq=0 Ack=1 Win=57344 Len=0 MSS=1460",
            "0\t3\t\t0.198754000\t\t\t60827 → 25 [ACK] Seq=1 Ack=1 Win=5840 Len=0",
            "0\t7\t\t0.198754000\t\t\t25 → 60827 [PSH, ACK] Seq=1 Ack=1 Win=58400 Len=84",
        ]
    );
    let r = run_on(&cap, &["-q", "-z", "io,phs"]);
    r.ok();
    assert!(r
        .stdout
        .contains("      _ws.short                          frames:1 bytes:74\n"));
}

#[test]
fn fields_without_the_flow_engine_print_the_same() {
    let skippable: Vec<&str> = netsniff_dissectors::proto::frame_protos()
        .flat_map(|p| p.fields.iter().copied())
        .filter(|f| !netsniff::flow::needed_for_fields(&[f]))
        .map(|f| f.name)
        .collect();
    for (name, skips) in [("ip.src", true), ("frame.len", true), ("tcp.srcport", true)]
        .into_iter()
        .chain([
            ("tcp.stream", false),
            ("tcp.seq", false),
            ("frame.protocols", false),
        ])
        .chain([("tcp.analysis.ack_rtt", false), ("icmp.resp_to", false)])
    {
        assert_eq!(skippable.contains(&name), skips, "{name}");
    }
    same_with_one_more_field(&skippable, "tcp.stream");
}

/// `-T fields` with only fields of frame dissection and of the application parsers skips
/// Wireshark's TCP sequence analysis (see `flow::analysis_needed_for_fields`): they must then
/// print exactly what they print beside a field that needs it.
#[test]
fn fields_without_tcp_analysis_print_the_same() {
    let fields: Vec<&'static netsniff_dissectors::FieldDef> =
        netsniff_dissectors::proto::all_fields()
            .filter(|f| !netsniff::flow::analysis_needed_for_fields(&[f]))
            .collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    for (name, skips) in [
        ("ip.src", true),
        ("dns.qry.name", true),
        ("http.request.uri", true),
        ("http2.header.value", true),
        ("tls.handshake.extensions_server_name", true),
        ("tcp.seq", false),
        ("tcp.stream", false),
        ("tcp.analysis.retransmission", false),
        ("data.data", false),
        ("frame.protocols", false),
    ] {
        assert_eq!(names.contains(&name), skips, "{name}");
    }
    same_with_one_more_field(&names, "tcp.seq");
}

/// Runs `-T fields` with `fields` over every bundled capture and a sample of the peer
/// captures, then again with `extra` appended, and requires the same values.
fn same_with_one_more_field(fields: &[&str], extra: &str) {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("testdata/captures"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    // And a sample of the other projects' captures (malformed packets, odd link types).
    let mut peer = Vec::new();
    let mut dirs = vec![root().join("testdata/peer")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().contains(".pcap") {
                peer.push(p);
            }
        }
    }
    peer.sort();
    files.extend(peer.into_iter().step_by(8));
    files.retain(|p| p.to_string_lossy().contains(".pcap"));
    let mut args = vec!["-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    for file in &files {
        let without = run_on(file, &args);
        without.no_panic();
        let mut forced = args.clone();
        forced.extend(["-e", extra]);
        let with = run_on(file, &forced);
        with.no_panic();
        let with_lines: Vec<&str> = with
            .stdout
            .lines()
            .map(|l| l.rsplit_once('\t').map_or(l, |(rest, _)| rest))
            .collect();
        let without_lines: Vec<&str> = without.stdout.lines().collect();
        assert_eq!(without_lines.len(), with_lines.len(), "{}", file.display());
        if let Some(i) = (0..with_lines.len()).find(|&i| without_lines[i] != with_lines[i]) {
            let columns = |l: &str| l.split('\t').map(str::to_string).collect::<Vec<_>>();
            let (a, b) = (columns(without_lines[i]), columns(with_lines[i]));
            let differ: Vec<String> = (0..a.len().max(b.len()))
                .filter(|&c| a.get(c) != b.get(c))
                .map(|c| format!("{}: {:?} / {:?}", fields[c], a.get(c), b.get(c)))
                .collect();
            panic!("{} frame {}: {differ:?}", file.display(), i + 1);
        }
    }
}

#[test]
fn protocol_columns_as_tshark() {
    // `-e PROTO`: the layer's line of the -V tree when Wireshark's item has text, the
    // protocol's name when it has none, the bytes in hex for `data`; one per layer. Expected
    // values from tshark 4.0.17 (`-T fields -e PROTO`).
    // (capture, extra arguments, the frame, protocols, tshark's line)
    type Case<'a> = (&'a str, &'a [&'a str], &'a str, &'a [&'a str], &'a str);
    let cases: &[Case] = &[
        (
            "http1.pcap",
            &[],
            "frame.number==6",
            &["frame", "eth", "ip", "tcp", "http"],
            "Frame 6: 164 bytes on wire (1312 bits), 164 bytes captured (1312 bits)\t\
             Ethernet II, Src: 02:10:00:00:00:01, Dst: 02:10:00:00:00:02\t\
             Internet Protocol Version 4, Src: 10.10.0.1, Dst: 10.10.0.2\t\
             Transmission Control Protocol, Src Port: 56358, Dst Port: 80, Seq: 1, Ack: 1, Len: 98\t\
             http",
        ),
        ("http1.pcap", &[], "frame.number==1", &["arp"], "Address Resolution Protocol (request)"),
        ("http1.pcap", &[], "frame.number==42", &["data", "http"], "72656365697665640a\thttp"),
        (
            "dns.pcap",
            &[],
            "frame.number==4",
            &["vlan", "udp", "dns"],
            "802.1Q Virtual LAN, PRI: 0, DEI: 0, ID: 100\t\
             User Datagram Protocol, Src Port: 53, Dst Port: 44737\t\
             Domain Name System (response)",
        ),
        (
            "ipv6-icmp.pcap",
            &[],
            "frame.number==5",
            &["icmpv6", "ipv6"],
            "icmpv6\tInternet Protocol Version 6, Src: fe80::10:ff:fe00:1, Dst: ff02::16",
        ),
        (
            "quic.pcap",
            &[],
            "frame.number==5",
            &["tls"],
            "TLSv1.3 Record Layer: Handshake Protocol: Client Hello",
        ),
        (
            "grpc.pcap",
            &["-d", "tcp.port==50051,http2"],
            "frame.number==18",
            &["grpc"],
            "GRPC Message: /netsniff.demo.Greeter/SayHello, Response",
        ),
        // A trailers frame: netsniff's call summary is not a layer tshark has.
        ("grpc.pcap", &["-d", "tcp.port==50051,http2"], "frame.number==40", &["grpc"], ""),
    ];
    for (file, extra, filter, protos, expected) in cases {
        let mut args = extra.to_vec();
        args.extend_from_slice(&["-Y", filter, "-T", "fields"]);
        for p in *protos {
            args.extend_from_slice(&["-e", p]);
        }
        let r = run_on(&capture(file), &args);
        r.ok();
        eqnice!(format!("{expected}\n"), r.stdout);
    }
    // Several layers of one protocol are aggregated as fields are.
    let r = run_on(
        &capture("mixed-browse.pcapng"),
        &[
            "-c",
            "5",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "ip",
            "-E",
            "header=y",
        ],
    );
    r.ok();
    assert!(r.stdout.starts_with("frame.number\tip\n"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("\n4\tInternet Protocol Version 4, Src: 10.10.0.1, Dst: 10.10.0.2\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn time_formats_as_tshark() {
    // -t, frames 2 and 4 of dns.pcap shown (-Y), TZ=KST-9 for the local formats (UTC+9 as a
    // POSIX rule: no time-zone database needed); values from tshark 4.0.17 (`-T fields -e
    // _ws.col.Time`). dd counts from the previous frame shown, d from the previous frame
    // captured.
    let cases = [
        ("r", "0.000276 0.000857"),
        ("a", "05:38:29.015607 05:38:29.016188"),
        (
            "ad",
            "2026-11-28 05:38:29.015607 2026-11-28 05:38:29.016188",
        ),
        ("adoy", "2026/332 05:38:29.015607 2026/332 05:38:29.016188"),
        ("e", "1795811909.015607 1795811909.016188"),
        ("d", "0.000276 0.000396"),
        ("dd", "0.000000 0.000581"),
        ("u", "20:38:29.015607 20:38:29.016188"),
        (
            "ud",
            "2026-11-27 20:38:29.015607 2026-11-27 20:38:29.016188",
        ),
        ("udoy", "2026/331 20:38:29.015607 2026/331 20:38:29.016188"),
    ];
    for (format, expected) in cases {
        for out in [&["-T", "fields", "-e", "_ws.col.Time"][..], &["-P"][..]] {
            let r = util::netsniff()
                .env("TZ", "KST-9")
                .arg("-r")
                .arg(capture("dns.pcap"))
                .args(["-t", format, "-Y", "frame.number in {2, 4}"])
                .args(out)
                .output()
                .expect("run netsniff");
            assert!(r.status.success(), "-t {format}");
            let stdout = String::from_utf8_lossy(&r.stdout);
            let times: Vec<String> = if out[0] == "-P" {
                // The Time column is the second of the summary line; padded to 10.
                stdout
                    .lines()
                    .map(|l| l.get(6..).unwrap_or("").trim_start().to_string())
                    .map(|rest| {
                        let n = expected.split(' ').count() / 2;
                        rest.split(' ').take(n.max(1)).collect::<Vec<_>>().join(" ")
                    })
                    .collect()
            } else {
                stdout.lines().map(str::to_string).collect()
            };
            eqnice!(expected, times.join(" "));
        }
    }
    // A wrong name is a usage error that lists the formats.
    let r = run_on(&capture("dns.pcap"), &["-t", "x"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("r, a, ad, adoy, d, dd, e, u, ud, udoy"),
        "{}",
        r.stderr
    );
}
