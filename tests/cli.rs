//! The command line end to end: bad input (each case of the foundation issue's "Bad input"
//! section), exit statuses, broken pipes, and the options of the output formats.

mod util;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use util::{capture, frames_of, netsniff, run, run_on, Pcap};

/// SHB + IDB (Ethernet) + one EPB per frame, little-endian, microseconds.
fn pcapng(frames: &[Vec<u8>]) -> Vec<u8> {
    let on_first: Vec<(u32, &[u8])> = frames.iter().map(|f| (0, f.as_slice())).collect();
    pcapng_on(&[1], &on_first)
}

/// SHB + one IDB per link type + one EPB per (interface, frame), little-endian,
/// microseconds.
fn pcapng_on(link_types: &[u16], frames: &[(u32, &[u8])]) -> Vec<u8> {
    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&block_type.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }
    let mut f = block(
        0x0A0D_0D0A,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    for lt in link_types {
        let mut idb = lt.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0, 0, 0, 4, 0]);
        f.extend(block(1, &idb));
    }
    for (i, (iface, data)) in frames.iter().enumerate() {
        let mut body = Vec::new();
        for v in [
            *iface,
            0,
            1_000_000 * (i as u32 + 1),
            data.len() as u32,
            data.len() as u32,
        ] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        body.extend_from_slice(data);
        f.extend(block(6, &body));
    }
    f
}

// ---- Bad input: one clear line, earlier frames printed, non-zero exit, never a panic ----

#[test]
fn missing_file() {
    let r = run(&["-r", "/nonexistent/capture.pcap"]);
    r.fails(2, "/nonexistent/capture.pcap: no such file");
    assert_eq!(r.stdout, "");
}

nstest!(permission_denied, |dir| {
    let path = dir.join("secret.pcap");
    std::fs::copy(capture("dns.pcap"), &path).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    // CI runs as root, which may read anything: drop to `nobody` for this one run.
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_netsniff"));
        c
    } else {
        netsniff()
    };
    cmd.arg("-r").arg(&path);
    let r = util::run_with_timeout(cmd, std::time::Duration::from_secs(30));
    r.fails(2, "secret.pcap: permission denied");
});

/// Whether this process runs as root (read from /proc, to need no libc binding).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

nstest!(not_a_capture_file, |dir| {
    let path = dir.join("notes.txt");
    std::fs::write(&path, "these are not packets\n").unwrap();
    run_on(&path, &[]).fails(2, "notes.txt at byte offset 0: not a pcap or pcapng file");
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    run_on(&empty, &[]).fails(2, "empty.pcap: the file is empty");
    run_on(&dir, &[]).fails(2, "is a directory");
});

nstest!(cut_off_in_the_middle_of_a_packet, |dir| {
    let whole = std::fs::read(capture("tcp-handshake.pcap")).unwrap();
    let path = dir.join("cut.pcap");
    std::fs::write(&path, &whole[..1000]).unwrap();
    let r = run_on(&path, &["-T", "fields", "-e", "frame.number"]);
    r.fails(
        2,
        "cut.pcap: packet 6 at byte offset 464: the file ends in the middle of a packet (536 of 682 bytes present)",
    );
    assert_eq!(
        r.lines(),
        ["1", "2", "3", "4", "5"],
        "frames before the cut"
    );
    // The same with the summary output and with JSON, whose closing bracket is still written.
    let r = run_on(&path, &["-P"]);
    assert_eq!(r.lines().len(), 5);
    let r = run_on(&path, &["-T", "json"]);
    assert!(r.stdout.trim_end().ends_with(']'), "{}", r.stdout);
    r.fails(2, "packet 6");
});

nstest!(unsupported_link_type_is_shown_undissected, |dir| {
    // LINKTYPE_USB_LINUX (189): not dissected.
    let path = Pcap::new(189, 65535)
        .record(1, 0, &[1, 2, 3, 4], 4)
        .record(2, 0, &[5, 6], 2)
        .write(&dir.join("usb.pcap"));
    let r = run_on(
        &path,
        &["-T", "fields", "-e", "frame.number", "-e", "data.len"],
    );
    r.fails(
        1,
        "usb.pcap: packet 1 at byte offset 24: link type 189 is not supported",
    );
    assert_eq!(r.lines(), ["1\t4", "2\t2"]);
    // Outputs that only tabulate flows still pass every warning on, once.
    let file = path.to_str().unwrap();
    for args in [
        &["-r", file, "-q", "-z", "conv,tcp"][..],
        &["flows", "-r", file],
    ] {
        let r = run(args);
        r.fails(
            1,
            "usb.pcap: packet 1 at byte offset 24: link type 189 is not supported",
        );
        assert_eq!(r.stderr.matches("not supported").count(), 1, "{args:?}");
    }
});

nstest!(packet_longer_than_snaplen, |dir| {
    let (lt, frames) = frames_of("tcp-handshake.pcap", 2);
    let path = Pcap::new(lt, 60)
        .record(1, 0, &frames[0], frames[0].len() as u32)
        .record(1, 5, &frames[1], frames[1].len() as u32)
        .write(&dir.join("snap.pcap"));
    let r = run_on(&path, &["-T", "fields", "-e", "frame.cap_len"]);
    r.fails(
        1,
        "snap.pcap: packet 1 at byte offset 24: packet of 74 bytes is longer than the file's snapshot length of 60",
    );
    assert_eq!(r.lines(), ["74", "74"]);
});

nstest!(record_bigger_than_any_packet, |dir| {
    let (lt, frames) = frames_of("tcp-handshake.pcap", 1);
    let mut pcap = Pcap::new(lt, 65535).record(1, 0, &frames[0], 74);
    for v in [2u32, 0, 4_000_000, 4_000_000] {
        pcap.bytes.extend_from_slice(&v.to_le_bytes());
    }
    let path = pcap.write(&dir.join("huge.pcap"));
    let r = run_on(&path, &["-T", "fields", "-e", "frame.number"]);
    r.fails(2, "huge.pcap: packet 2 at byte offset 114: packet of 4000000 bytes is bigger than the maximum of 262144");
    assert_eq!(r.lines(), ["1"]);
});

nstest!(pcapng_structural_damage, |dir| {
    let (_, frames) = frames_of("tcp-handshake.pcap", 3);
    let good = pcapng(&frames);
    let path = dir.join("good.pcapng");
    std::fs::write(&path, &good).unwrap();
    let r = run_on(
        &path,
        &[
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.interface_id",
        ],
    );
    r.ok();
    assert_eq!(r.lines(), ["1\t0", "2\t0", "3\t0"]);

    // Third block's trailing length corrupted: two frames, then the error.
    let mut bad = good.clone();
    let last = bad.len() - 4;
    bad[last] = 0x7f;
    let path = dir.join("trailer.pcapng");
    std::fs::write(&path, &bad).unwrap();
    let r = run_on(&path, &["-T", "fields", "-e", "frame.number"]);
    r.fails(2, "trailer.pcapng: packet 3 at byte offset");
    assert!(r.stderr.contains("trailing length"));
    assert_eq!(r.lines(), ["1", "2"]);

    // A packet naming an interface that was never described.
    let mut bad = good.clone();
    let third = good.len() - (frames[2].len().div_ceil(4) * 4 + 32);
    bad[third + 8] = 5;
    let path = dir.join("iface.pcapng");
    std::fs::write(&path, &bad).unwrap();
    run_on(&path, &[]).fails(2, "packet 3 at byte offset");

    // Cut inside the last block.
    let path = dir.join("cut.pcapng");
    std::fs::write(&path, &good[..good.len() - 10]).unwrap();
    let r = run_on(&path, &["-T", "fields", "-e", "frame.number"]);
    r.fails(2, "cut.pcapng: packet 3 at byte offset");
    assert!(r.stderr.contains("ends in the middle of a pcapng block"));
    assert_eq!(r.lines(), ["1", "2"]);

    // A block length that is not a multiple of 4.
    let mut bad = good.clone();
    bad[4] = 29;
    let path = dir.join("len.pcapng");
    std::fs::write(&path, &bad).unwrap();
    run_on(&path, &[]).fails(2, "bad pcapng block length 29");
});

#[test]
fn broken_pipe_exits_zero() {
    // `netsniff ... | head -1`: the reader goes away after one line.
    for args in [&["-V"][..], &["-P"], &["-T", "json"]] {
        let mut child = netsniff()
            .arg("-r")
            .arg(capture("tcp-impairments.pcap"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

#[test]
fn read_from_stdin() {
    let out = netsniff()
        .args(["-r", "-", "-T", "fields", "-e", "frame.number"])
        .stdin(std::fs::File::open(capture("tcp-handshake.pcap")).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1\n2\n"));
}

#[test]
fn count_stops_early() {
    let r = run_on(
        &capture("dns.pcap"),
        &["-c", "3", "-T", "fields", "-e", "frame.number"],
    );
    r.ok();
    assert_eq!(r.lines(), ["1", "2", "3"]);
}

#[test]
fn usage_errors_exit_2() {
    run_on(&capture("dns.pcap"), &["-T", "fields", "-e", "ip.srcc"])
        .fails(2, "unknown field 'ip.srcc'; did you mean ip.src");
    run_on(&capture("dns.pcap"), &["-T", "fields"]).fails(2, "-T fields needs at least one -e");
    run_on(&capture("dns.pcap"), &["-e", "ip.src"]).fails(2, "-e needs -T fields");
    run_on(
        &capture("dns.pcap"),
        &["-T", "fields", "-e", "ip.src", "-E", "quote=x"],
    )
    .fails(2, "quote is d, s or n");
    run_on(&capture("dns.pcap"), &["-f", "tcp port"]).fails(2, "capture filter 'tcp port'");
    // clap's own usage errors also exit 2, without a backtrace.
    let r = run(&["--no-such-option"]);
    assert_eq!(r.code, Some(2));
    r.no_panic();
}

// ---- -r with -w: saving what a capture filter keeps, as tcpdump -r IN -w OUT EXPR ----

/// `-T fields` lines of a few capture-level fields, to compare frames across files.
fn frame_lines(file: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.len",
        "-e",
        "frame.cap_len",
        "-e",
        "tcp.flags",
    ];
    args.extend_from_slice(extra);
    let r = run_on(file, &args);
    r.ok();
    r.lines().into_iter().map(str::to_string).collect()
}

nstest!(read_filter_and_write, |dir| {
    let out = dir.join("syn.pcap");
    let filter = "tcp[tcpflags] & tcp-syn != 0";
    let mut cmd = netsniff();
    cmd.arg("-r")
        .arg(capture("http1.pcap"))
        .arg("-w")
        .arg(&out)
        .arg(filter);
    let r = util::run_with_timeout(cmd, std::time::Duration::from_secs(60));
    r.ok();
    assert_eq!(r.stdout, "", "-w alone prints nothing, as tcpdump -w");
    let saved = frame_lines(&out, &[]);
    let expected = frame_lines(&capture("http1.pcap"), &[filter]);
    assert!(!saved.is_empty());
    assert_eq!(
        saved, expected,
        "the saved frames are those the filter keeps"
    );
    // -P prints and saves, as with a live capture.
    let both = dir.join("both.pcap");
    let r = run_on(
        &capture("http1.pcap"),
        &["-P", "-w", both.to_str().unwrap(), filter],
    );
    r.ok();
    assert_eq!(r.lines().len(), saved.len());
    assert_eq!(frame_lines(&both, &[]), saved);
});

nstest!(write_pcapng_by_extension_with_count, |dir| {
    let out = dir.join("first.pcapng");
    let r = run_on(
        &capture("mixed-browse.pcapng"),
        &["-c", "10", "-w", out.to_str().unwrap()],
    );
    r.ok();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        bytes[..4],
        [0x0a, 0x0d, 0x0d, 0x0a],
        "a pcapng section header"
    );
    let saved = frame_lines(&out, &[]);
    let first: Vec<String> = frame_lines(&capture("mixed-browse.pcapng"), &[])
        .into_iter()
        .take(10)
        .collect();
    assert_eq!(saved, first);
});

nstest!(write_when_nothing_matches_is_a_valid_empty_file, |dir| {
    let out = dir.join("none.pcap");
    run_on(
        &capture("http1.pcap"),
        &["-w", out.to_str().unwrap(), "udp"],
    )
    .ok();
    assert_eq!(
        std::fs::metadata(&out).unwrap().len(),
        24,
        "a pcap header alone"
    );
    assert!(frame_lines(&out, &[]).is_empty());
});

nstest!(write_mixed_link_types_fails_clearly, |dir| {
    // An Ethernet interface and a raw-IP one (link type 101), one frame on each.
    let (_, frames) = frames_of("http1.pcap", 1);
    let eth = &frames[0];
    let file = pcapng_on(&[1, 101], &[(0, eth), (1, &eth[14..])]);
    let input = dir.join("two-links.pcapng");
    std::fs::write(&input, file).unwrap();
    let out = dir.join("out.pcap");
    let r = run_on(&input, &["-w", out.to_str().unwrap()]);
    r.fails(
        2,
        "frame 2 has link type 101 but the file holds link type 1",
    );
    assert_eq!(
        frame_lines(&out, &[]).len(),
        1,
        "the frame before it is kept"
    );
});

nstest!(capture_filter_on_raw_ip_files, |dir| {
    // LINKTYPE_RAW is 101 in files but DLT_RAW (12 on Linux) to libpcap's filter compiler.
    let (_, frames) = frames_of("http1.pcap", 8);
    let mut pcap = Pcap::new(101, 65535);
    for (i, f) in frames.iter().enumerate() {
        pcap = pcap.record(1, i as u32, &f[14..], (f.len() - 14) as u32);
    }
    let input = pcap.write(&dir.join("raw.pcap"));
    // Every TCP frame of http1.pcap is to or from port 80; its ARP frames are not IP.
    let all = run_on(
        &input,
        &["-T", "fields", "-e", "frame.number", "-e", "tcp.port"],
    );
    let tcp_80: Vec<&str> = all
        .ok()
        .lines()
        .into_iter()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, ports)| ports.split(',').any(|p| p == "80"))
        .map(|(number, _)| number)
        .collect();
    let filtered = run_on(
        &input,
        &["-f", "tcp port 80", "-T", "fields", "-e", "frame.number"],
    );
    assert_eq!(
        filtered.ok().lines(),
        tcp_80,
        "the TCP frames, and only they"
    );
    assert!(!tcp_80.is_empty() && tcp_80.len() < frames.len());
});

nstest!(frames_before_a_capture_filter_error_are_output, |dir| {
    // Two Ethernet frames, then one on a raw-IP interface, for which `ether host` does not
    // compile: the filter error comes mid-file.
    let (_, frames) = frames_of("http1.pcap", 1);
    let eth = &frames[0];
    let file = pcapng_on(&[1, 101], &[(0, eth), (0, eth), (1, &eth[14..]), (0, eth)]);
    let input = dir.join("two-links.pcapng");
    std::fs::write(&input, file).unwrap();
    let src: String = eth[6..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let filter = format!("ether host {src}");
    // With the flow engine on its own thread (-P) and without it (L2–L4 fields).
    for args in [vec!["-P"], vec!["-T", "fields", "-e", "frame.number"]] {
        let mut all = vec!["-f", filter.as_str()];
        all.extend(args.iter().copied());
        let r = run_on(&input, &all);
        r.fails(2, "capture filter");
        assert_eq!(
            r.lines().len(),
            2,
            "{args:?}: the two frames before the error"
        );
    }
});
