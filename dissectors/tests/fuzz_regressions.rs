//! Inputs found by the fuzz targets of `dissectors/fuzz/`, one named test each, replayed through
//! the very harness the targets run (`tests/harness/mod.rs`: `frame` dissects a frame under
//! every link type with every field wanted and formatted; `stream` drives a stream parser whole
//! and cut; `hpack` decodes header blocks whole and in fragments). A new crash goes here as
//! `crash_<target>_<what>` with its bytes inline and a note on what was wrong.
//!
//! Runs so far: `frame`, 241 s, 1.1 M executions from the bundled captures' frames (coverage
//! 2863 edges) on 2026-11-28: no crash. Until one is found, the tests below pin the harness
//! itself and the shapes fuzzers reach first (empty and truncated frames under every link
//! type).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "test code: a panic here is a failed test"
)]

mod harness;

use harness::{frame as replay, link_types};

/// An Ethernet/IPv4/TCP SYN with options (tcp-handshake.pcap's first frame).
#[rustfmt::skip]
const SYN: &[u8] = &[
    0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0,  0x08, 0x00,           // eth: dst, src, IPv4
    0x45, 0, 0, 60,  0xe0, 0x99, 0x40, 0,  64, 6, 0x5c, 0x20,    // ip: ver/ihl .. checksum
    127, 0, 0, 1,  127, 0, 0, 1,                                 // ip: src, dst
    0x9e, 0x9e, 0x1b, 0x58,  0x93, 0x7e, 0x2e, 0xb7,  0, 0, 0, 0, // tcp: ports, seq, ack
    0xa0, 0x02, 0xff, 0xd7,  0xfe, 0x30, 0, 0,                   // tcp: off/flags, win, sum, urg
    2, 4, 0xff, 0xd7,  4, 2,  8, 10, 0xe9, 0x9b, 0x81, 0xe1, 0, 0, 0, 0,  1,  3, 3, 10, // options
];

#[test]
fn empty_and_one_byte_inputs() {
    assert_eq!(replay(&[]), 0);
    for pick in 0..=255u8 {
        replay(&[pick]);
    }
}

#[test]
fn every_link_type_every_truncation() {
    for pick in 0..link_types().len() as u8 {
        for end in 0..=SYN.len() {
            let mut input = vec![pick];
            input.extend_from_slice(&SYN[..end]);
            replay(&input);
        }
    }
    // The whole frame under Ethernet emits the frame layer and every header.
    let eth = link_types().iter().position(|&l| l == 1).unwrap() as u8;
    let mut input = vec![eth];
    input.extend_from_slice(SYN);
    assert!(replay(&input) > 30);
}

#[test]
fn every_byte_flipped() {
    let eth = link_types().iter().position(|&l| l == 1).unwrap() as u8;
    for at in 0..SYN.len() {
        for v in [0x00, 0x0f, 0x80, 0xff] {
            let mut input = vec![eth];
            input.extend_from_slice(SYN);
            input[1 + at] = v;
            replay(&input);
        }
    }
}

/// A `stream` input for dissector `pick`: both directions, cut at `cuts` (offsets in each
/// direction, alternating client, server).
fn stream_input(pick: u8, client: &[u8], server: &[u8], cuts: &[u16]) -> Vec<u8> {
    let total = client.len() + server.len();
    // The direction change in 256ths, rounded up so that the client's bytes all go first.
    let split = (client.len() * 256).div_ceil(total.max(1)).min(255) as u8;
    let mut v = vec![pick, 0, split, cuts.len() as u8];
    for c in cuts {
        v.extend_from_slice(&c.to_le_bytes());
    }
    v.extend_from_slice(client);
    v.extend_from_slice(server);
    v
}

fn stream_index(name: &str) -> u8 {
    netsniff_dissectors::proto::STREAM
        .iter()
        .position(|s| s.proto().name == name)
        .unwrap() as u8
}

#[test]
fn stream_http_split_at_every_byte() {
    let req = b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n";
    let pick = stream_index("http");
    for c in 1..req.len() as u16 {
        harness::stream(&stream_input(pick, req, resp, &[c, c % resp.len() as u16]));
    }
    let input = stream_input(pick, req, resp, &[]);
    let parsed = harness::parse_stream_input(&input).unwrap();
    assert_eq!(parsed.to_server, req);
    let d = harness::drive(&parsed, false);
    assert!(d
        .sink
        .lines
        .iter()
        .any(|l| l.starts_with("http.request.method=GET")));
}

#[test]
fn stream_every_dissector_on_empty_and_short_inputs() {
    for pick in 0..netsniff_dissectors::proto::STREAM.len() as u8 {
        for flags in [0u8, 1] {
            harness::stream(&[pick, flags, 128, 0]);
            harness::stream(&[pick, flags, 128, 1, 1, 0, 0x16, 3, 1, 0, 5]);
        }
    }
}

#[test]
fn hpack_block_whole_and_cut() {
    // RFC 7541 C.4.1: a request with Huffman-coded strings.
    let block: &[u8] = &[
        0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90,
        0xf4, 0xff,
    ];
    for c in 0..block.len() as u16 {
        let mut input = vec![0u8, 1, 255];
        input.extend_from_slice(&c.to_le_bytes());
        input.extend_from_slice(block);
        harness::hpack(&input);
    }
}
