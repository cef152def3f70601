//! Outputs ("sinks"), push-style as ripgrep's printers: the pipeline hands each one the fields
//! of a frame as dissection produces them ([`FieldSink`]), then [`Sink::end_frame`], and at the
//! end of the run [`Sink::finish`].
//!
//! Each format is one file: [`summary`] (`-P`, tshark's default columns), [`fields`]
//! (`-T fields`), [`json`] (`-T json|ndjson`), [`verbose`] (`-V`). [`Tee`] feeds several at once
//! (packets plus `-z` statistics).

pub mod conv;
pub mod fields;
pub mod json;
pub mod summary;
pub mod verbose;

use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::{
    Columns, FieldDef, FieldSink, FrameMeta, PacketInfo, Proto, Span, Value,
};
use std::io;

/// What the pipeline knows about a frame once every stage has run.
pub struct FrameEnd<'a> {
    pub meta: &'a FrameMeta,
    pub pi: &'a PacketInfo,
    pub cols: &'a Columns,
    pub protocols: &'a ProtoStack,
}

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
}

impl Sink for Tee {
    fn wants_columns(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_columns())
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
