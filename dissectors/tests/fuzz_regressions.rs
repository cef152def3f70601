//! Inputs found by the fuzz targets of `dissectors/fuzz/`, one named test each, replayed through
//! the same harness as `fuzz_targets/frame.rs` (every link type, every field wanted and
//! formatted, columns filled). A new crash goes here as `crash_<target>_<what>` with its bytes
//! inline and a note on what was wrong.
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

use netsniff_dissectors::field::{write_display, write_tshark};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::{self, FRAME};
use netsniff_dissectors::{
    Columns, Cx, FieldDef, FieldSink, FrameMeta, LinkType, PacketInfo, Proto, Span, Table, Value,
};

#[derive(Default)]
struct FormatAll {
    fields: usize,
}

impl FieldSink for FormatAll {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let (mut text, mut display) = (Vec::new(), String::new());
        write_tshark(def, &value, &mut text);
        write_display(def, &value, &mut display);
        self.fields += 1;
    }
}

fn link_types() -> Vec<u32> {
    FRAME
        .iter()
        .flat_map(|d| d.binds().iter())
        .filter(|b| b.0 == Table::LinkType)
        .map(|b| b.1)
        .collect()
}

/// The fuzz target's body: the first byte picks the link type.
fn replay(data: &[u8]) -> usize {
    let Some((&pick, frame)) = data.split_first() else {
        return 0;
    };
    let lts = link_types();
    let lt = lts[usize::from(pick) % lts.len()];
    let meta = FrameMeta {
        number: 1,
        len: frame.len() as u32,
        cap_len: frame.len() as u32,
        link_type: LinkType(lt),
        ts_digits: 6,
        ..FrameMeta::default()
    };
    let (mut pi, mut stack, mut sink, mut cols) = (
        PacketInfo::default(),
        ProtoStack::default(),
        FormatAll::default(),
        Columns::default(),
    );
    let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
    proto::dissect_frame(&meta, frame, &mut pi, &mut cx);
    proto::frame::emit_protocols(&mut cx);
    sink.fields
}

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
