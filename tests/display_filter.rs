//! `-Y`: the frames a display filter shows, against what tshark 4.0.17 shows for the same
//! filter on the same capture (`tshark -r FILE -Y FILTER -T fields -e frame.number`).

mod util;

use util::{capture, run_on};

/// The frame numbers netsniff shows for `filter` on `file` (extra arguments before it).
fn shown(file: &str, extra: &[&str], filter: &str) -> String {
    let mut args = extra.to_vec();
    args.extend_from_slice(&["-Y", filter, "-T", "fields", "-e", "frame.number"]);
    let r = run_on(&capture(file), &args);
    r.ok();
    r.lines().join(" ")
}

#[test]
fn relations_as_tshark_reads_them() {
    assert_eq!(
        shown("http1.pcap", &[], "tcp.flags.syn==1"),
        "3 4 13 14 27 28 37 38 47 48 302 303"
    );
    assert_eq!(
        shown("http1.pcap", &[], "http.request.method == \"GET\""),
        "6 16 20 22 30 50 305"
    );
    // A relation needs its field: ARP frames 1 and 2 have no ip.src.
    assert!(shown("http1.pcap", &[], "ip.src != 10.10.0.1").starts_with("4 7 8 10 12 14 17"));
    assert!(shown("http1.pcap", &[], "!(ip.src == 10.10.0.1)").starts_with("1 2 4 7 8 10"));
}

#[test]
fn matches_and_value_names() {
    // Case-insensitive, as Wireshark 4.0's matches.
    assert_eq!(
        shown("http1.pcap", &[], "http.host matches \"EXAMPLE\""),
        "6 16 20 22 30 40 50 305"
    );
    assert_eq!(
        shown("dns.pcap", &[], "dns.qry.type == \"AAAA (IPv6 Address)\""),
        shown("dns.pcap", &[], "dns.qry.type == 28")
    );
    assert_eq!(
        shown("dns.pcap", &[], "ip.proto == UDP"),
        shown("dns.pcap", &[], "udp")
    );
}

#[test]
fn protocols_are_their_layers() {
    assert_eq!(
        shown("http1.pcap", &[], "http"),
        "6 8 16 18 20 21 22 23 30 32 40 42 50 297 305 307"
    );
    // After the h2c upgrade HTTP hands the stream to HTTP/2 and draws nothing itself.
    assert_eq!(shown("http2-h2c.pcap", &[], "http"), "59 61");
}

#[test]
fn displayed_delta_counts_from_the_previous_frame_shown() {
    let r = run_on(
        &capture("dns.pcap"),
        &[
            "-Y",
            "dns.flags.response == 1 && dns.a",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_delta_displayed",
        ],
    );
    r.ok();
    assert_eq!(
        r.lines()[..4],
        [
            "4\t0.000000000",
            "6\t0.130509000",
            "8\t0.139071000",
            "10\t0.140244000"
        ]
    );
}

#[test]
fn every_output_and_statistics() {
    // -P and -V show only the matching frames; -z counts every frame, as tshark's does.
    let r = run_on(&capture("http1.pcap"), &["-Y", "http.request", "-P"]);
    r.ok();
    assert_eq!(r.lines().len(), 8);
    assert!(r.lines().iter().all(|l| l.contains("HTTP")), "{}", r.stdout);
    let r = run_on(&capture("http1.pcap"), &["-Y", "http.request", "-V"]);
    r.ok();
    assert_eq!(r.stdout.matches("\nFrame ").count() + 1, 8);
    let r = run_on(&capture("dns.pcap"), &["-Y", "dns", "-q", "-z", "io,phs"]);
    r.ok();
    assert!(
        r.stdout.contains("arp"),
        "statistics see every frame: {}",
        r.stdout
    );
}

#[test]
fn bad_filters_are_one_clear_line() {
    let r = run_on(&capture("http1.pcap"), &["-Y", "ip.srcc == 10.0.0.1"]);
    r.fails(2, "did you mean ip.src");
    let r = run_on(&capture("http1.pcap"), &["-Y", "eth.src[0:3] == 02:10:00"]);
    r.fails(2, "slices");
    let r = util::run(&["-i", "lo", "-Y", "tcp", "-w", "/tmp/never-written.pcap"]);
    r.fails(2, "-Y cannot select what a live capture saves");
}

nstest!(saves_what_it_displays, |dir| {
    // tshark -r FILE -Y FILTER -w OUT saves the displayed frames: so does netsniff.
    let out = dir.join("requests.pcap");
    let r = run_on(
        &capture("http1.pcap"),
        &["-Y", "http.request", "-w", out.to_str().unwrap()],
    );
    r.ok();
    assert_eq!(r.stdout, "");
    let saved = run_on(
        &out,
        &[
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "http.request.uri",
        ],
    );
    saved.ok();
    let shown = run_on(
        &capture("http1.pcap"),
        &[
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "http.request.uri",
        ],
    );
    assert_eq!(saved.lines().len(), 8);
    assert_eq!(saved.stdout, shown.stdout);
});

#[test]
fn a_filter_every_frame_passes_changes_no_output() {
    // Through -Y every frame's calls are recorded and replayed: the trees must come out as
    // drawn directly, reassembly items (placed before the layers they carry) included.
    for file in [
        "sse.pcapng",
        "http1.pcap",
        "mixed-browse.pcapng",
        "websocket.pcap",
    ] {
        for out in [&["-V"][..], &["-T", "json"][..], &["-P"][..]] {
            let direct = run_on(&capture(file), out);
            direct.ok();
            let mut args = out.to_vec();
            args.extend_from_slice(&["-Y", "frame"]);
            let filtered = run_on(&capture(file), &args);
            filtered.ok();
            assert!(
                direct.stdout == filtered.stdout,
                "{file} {out:?}: -Y frame changed the output"
            );
        }
    }
}
