//! Dissects arbitrary bytes as a frame of every link type netsniff registers (smoltcp's
//! "print everything" target): every field is wanted and formatted as `-T fields` and `-V`
//! would format it, and the summary columns are filled, so that parsing, field emission and
//! value formatting all run on hostile input. The first input byte picks the link type.
//!
//! `cargo +nightly fuzz run frame` (from `dissectors/fuzz`); seeds: `corpus/frame/`, made from
//! the frames of `testdata/captures` by `seed.sh`. Each crash becomes a named test in
//! `dissectors/tests/fuzz_regressions.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netsniff_dissectors::field::{write_display, write_tshark};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::{self, FRAME};
use netsniff_dissectors::{
    Columns, Cx, FieldDef, FieldSink, FrameMeta, LinkType, PacketInfo, Proto, Span, Table, Value,
};

/// Formats everything it is given, as the output sinks would.
#[derive(Default)]
struct FormatAll {
    text: Vec<u8>,
    display: String,
}

impl FieldSink for FormatAll {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        self.text.clear();
        self.display.clear();
        write_tshark(def, &value, &mut self.text);
        write_display(def, &value, &mut self.display);
    }
    fn text(&mut self, _span: Span, text: &str) {
        self.display.clear();
        self.display.push_str(text);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link_types: Vec<u32> = FRAME
        .iter()
        .flat_map(|d| d.binds().iter())
        .filter(|b| b.0 == Table::LinkType)
        .map(|b| b.1)
        .collect();
    let Some(&lt) = link_types.get(usize::from(pick) % link_types.len().max(1)) else {
        return;
    };
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
    let _ = pi.payload(frame);
});
