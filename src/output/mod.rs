//! Outputs ("sinks"), push-style as ripgrep's printers: the pipeline hands each one the fields
//! of a frame as dissection produces them ([`FieldSink`]), then [`Sink::end_frame`], and at the
//! end of the run [`Sink::finish`].
//!
//! Each format is one file: [`summary`] (`-P`, tshark's default columns), [`fields`]
//! (`-T fields`), [`json`] (`-T json|ndjson`), [`verbose`] (`-V`), and the statistics printed at
//! the end: [`conv`] (`-z conv,tcp|udp`, `netsniff flows`), [`phs`] (`-z io,phs`). [`Tee`] feeds
//! several at once (packets plus `-z` statistics).

/// The [`FieldSink`] methods that draw a tree (everything but `wants`, `layer`, `field` and
/// `field_shown`), each passed on to `self.$target`: for sinks that wrap another one.
macro_rules! forward_tree_calls {
    ($target:ident) => {
        fn wants_text(&self) -> bool {
            self.$target.wants_text()
        }
        fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
            self.$target.layer_apart(proto, span);
        }
        fn open(&mut self) {
            self.$target.open();
        }
        fn close(&mut self) {
            self.$target.close();
        }
        fn text(&mut self, span: Span, text: &str) {
            self.$target.text(span, text);
        }
        fn label(&mut self, span: Span, text: &str) {
            self.$target.label(span, text);
        }
        fn append(&mut self, text: &str) {
            self.$target.append(text);
        }
        fn retitle(&mut self, text: &str) {
            self.$target.retitle(text);
        }
        fn reopen(&mut self, def: &'static FieldDef) {
            self.$target.reopen(def);
        }
        fn append_open(&mut self, text: &str) {
            self.$target.append_open(text);
        }
        fn mark(&mut self) {
            self.$target.mark();
        }
        fn layer_at_mark(&mut self, proto: &'static Proto, span: Span) {
            self.$target.layer_at_mark(proto, span);
        }
        fn nest(&mut self) {
            self.$target.nest();
        }
        fn unnest(&mut self) {
            self.$target.unnest();
        }
    };
}

pub mod columns;
pub mod conv;
pub mod display;
pub mod endpoints;
pub mod fields;
pub mod json;
pub mod phs;
pub mod save;
pub mod summary;
pub mod tree;
pub mod verbose;

use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::{
    Columns, FieldDef, FieldSink, FrameMeta, PacketInfo, Proto, Shown, Span, Value,
};
use std::io;

/// `--list-fields`: every protocol (`P`, long name, name) followed by its fields (`F`, label,
/// name, value format, protocol), tab-separated like `tshark -G fields`. A field listed by two
/// protocols is shown once, under the first.
pub fn list_fields(out: &mut dyn io::Write) -> io::Result<()> {
    let mut seen = rustc_hash::FxHashSet::default();
    for p in netsniff_dissectors::proto::all_protos() {
        writeln!(out, "P\t{}\t{}", p.long_name, p.name)?;
        for f in p.fields {
            if seen.insert(f.name) {
                writeln!(
                    out,
                    "F\t{}\t{}\t{}\t{}",
                    f.label,
                    f.name,
                    kind_name(f.kind),
                    p.name
                )?;
            }
        }
    }
    Ok(())
}

/// A value format's name for `--list-fields` (close to Wireshark's FT_ names).
fn kind_name(kind: netsniff_dissectors::Kind) -> String {
    use netsniff_dissectors::Kind;
    match kind {
        Kind::None => "FT_NONE".into(),
        Kind::Bool => "FT_BOOLEAN".into(),
        Kind::Dec => "FT_UINT (decimal)".into(),
        Kind::Hex(digits) => format!("FT_UINT (hex, {digits} digits)"),
        Kind::Ipv4 => "FT_IPv4".into(),
        Kind::Ipv6 => "FT_IPv6".into(),
        Kind::Ether => "FT_ETHER".into(),
        Kind::Bytes => "FT_BYTES".into(),
        Kind::ColonBytes => "FT_BYTES (colons)".into(),
        Kind::Str => "FT_STRING".into(),
        Kind::Epoch => "FT_ABSOLUTE_TIME (epoch)".into(),
        Kind::RelTime => "FT_RELATIVE_TIME".into(),
        Kind::AbsTime => "FT_ABSOLUTE_TIME".into(),
        Kind::Double => "FT_DOUBLE".into(),
    }
}

/// What the pipeline knows about a frame once every stage has run.
pub struct FrameEnd<'a> {
    pub meta: &'a FrameMeta,
    pub pi: &'a PacketInfo,
    pub cols: &'a Columns,
    pub protocols: &'a ProtoStack,
    /// What the output's [`Prerender`] wrote for this frame on the reading thread (empty when
    /// it has none, or it did not run).
    pub pre: &'a [u8],
    /// The frame's bytes as captured: only when an output saves frames (`-Y` with `-w`),
    /// else empty.
    pub raw: &'a [u8],
}

/// Writes the part of a frame's output that depends only on what L2–L4 dissection knows (the
/// capture metadata and the address columns), so that the reading thread can do it.
pub type Prerender = fn(&FrameMeta, &Columns, &mut Vec<u8>);

/// What the pipeline knows at the end of a run.
pub struct RunEnd<'a> {
    /// Frames read (after the capture filter).
    pub frames: u64,
    /// The flow engine, for conversation tables.
    pub flows: &'a crate::flow::FlowEngine,
}

/// An output format.
pub trait Sink: FieldSink {
    /// Whether the summary columns are needed (dissectors skip the Info text otherwise).
    fn wants_columns(&self) -> bool {
        false
    }
    /// Whether this output needs the flow engine (stream numbers, TCP analysis, application
    /// protocols, conversation tables); without it the engine does not run.
    fn needs_flows(&self) -> bool {
        true
    }
    /// The part of this output's per-frame text the reading thread may write (see
    /// [`FrameEnd::pre`]).
    fn prerender(&self) -> Option<Prerender> {
        None
    }
    /// The only fields whose values this output uses, or `None` for any field of a wanted
    /// protocol. The reading thread records no other field for stage two (with
    /// `-T fields -e frame.number` the other frame fields would otherwise be taped, replayed
    /// and looked up for nothing).
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        None
    }
    /// Whether this output looks at frames one by one. The conversation tables and
    /// `netsniff flows` draw only on the flow engine's records at the end: for them the
    /// pipeline neither replays frames nor keeps their protocol lists.
    fn uses_frames(&self) -> bool {
        true
    }
    /// A frame begins; its fields follow.
    fn begin_frame(&mut self, _meta: &FrameMeta) {}
    /// Every stage has run for this frame.
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()>;
    /// The run is over (statistics print here).
    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
        Ok(())
    }
    /// Hands buffered output on now: a live capture calls it when no frame is waiting, so
    /// what was captured shows at once however quiet the interface.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Several sinks fed together.
pub struct Tee {
    sinks: Vec<Box<dyn Sink>>,
}

impl Tee {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Tee {
        Tee { sinks }
    }
}

impl FieldSink for Tee {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.sinks.iter().any(|s| s.wants(proto))
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        for s in &mut self.sinks {
            if s.wants(proto) {
                s.layer(proto, span);
            }
        }
    }
    fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
        for s in &mut self.sinks {
            if s.wants(proto) {
                s.layer_apart(proto, span);
            }
        }
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        for s in &mut self.sinks {
            s.field(def, span, value);
        }
    }
    fn open(&mut self) {
        for s in &mut self.sinks {
            s.open();
        }
    }
    fn close(&mut self) {
        for s in &mut self.sinks {
            s.close();
        }
    }
    fn text(&mut self, span: Span, text: &str) {
        for s in &mut self.sinks {
            s.text(span, text);
        }
    }
    fn wants_text(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_text())
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        for s in &mut self.sinks {
            s.field_shown(def, span, value, shown);
        }
    }
    fn label(&mut self, span: Span, text: &str) {
        for s in &mut self.sinks {
            s.label(span, text);
        }
    }
    fn append(&mut self, text: &str) {
        for s in &mut self.sinks {
            s.append(text);
        }
    }
    fn retitle(&mut self, text: &str) {
        for s in &mut self.sinks {
            s.retitle(text);
        }
    }
    fn mark(&mut self) {
        for s in &mut self.sinks {
            s.mark();
        }
    }
    fn append_open(&mut self, text: &str) {
        for s in &mut self.sinks {
            s.append_open(text);
        }
    }
    fn reopen(&mut self, def: &'static FieldDef) {
        for s in &mut self.sinks {
            s.reopen(def);
        }
    }
    fn layer_at_mark(&mut self, proto: &'static Proto, span: Span) {
        for s in &mut self.sinks {
            s.layer_at_mark(proto, span);
        }
    }
    fn nest(&mut self) {
        for s in &mut self.sinks {
            s.nest();
        }
    }
    fn unnest(&mut self) {
        for s in &mut self.sinks {
            s.unnest();
        }
    }
}

impl Sink for Tee {
    fn wants_columns(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_columns())
    }
    fn needs_flows(&self) -> bool {
        self.sinks.iter().any(|s| s.needs_flows())
    }
    fn prerender(&self) -> Option<Prerender> {
        // At most one packet output is configured; statistics have none.
        self.sinks.iter().find_map(|s| s.prerender())
    }
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        // Every field reaches every sink (see `field`), so the union, and only when each
        // sink names its fields.
        let mut used = Vec::new();
        for s in &self.sinks {
            used.extend(s.fields_used()?);
        }
        Some(used)
    }
    fn uses_frames(&self) -> bool {
        self.sinks.iter().any(|s| s.uses_frames())
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        for s in &mut self.sinks {
            s.begin_frame(meta);
        }
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        for s in &mut self.sinks {
            s.end_frame(frame)?;
        }
        Ok(())
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        for s in &mut self.sinks {
            s.finish(end)?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        for s in &mut self.sinks {
            s.flush()?;
        }
        Ok(())
    }
}

/// Helpers for the sinks' tests.
#[cfg(test)]
pub mod testutil {
    use super::{FrameEnd, Sink};
    use netsniff_dissectors::{Columns, FrameMeta, PacketInfo, ProtoStack};

    /// Ends a frame that carries nothing but what the test fed the sink.
    pub fn end_blank_frame(sink: &mut dyn Sink) {
        let (meta, pi, cols, stack) = (
            FrameMeta::default(),
            PacketInfo::default(),
            Columns::default(),
            ProtoStack::default(),
        );
        sink.end_frame(&FrameEnd {
            meta: &meta,
            pi: &pi,
            cols: &cols,
            protocols: &stack,
            pre: &[],
            raw: &[],
        })
        .expect("a sink writing to memory");
    }
}
