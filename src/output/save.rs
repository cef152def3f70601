//! `-w` behind a display filter (`-r FILE -Y FILTER -w OUT`, as tshark saves what it
//! displays): every frame that reaches this output is written, as read.

use super::{FrameEnd, RunEnd, Sink};
use crate::source::write::FileSaver;
use netsniff_dissectors::{FieldDef, FieldSink, Proto, Span, Value};
use std::io;

/// Saves the frames it is given (their bytes come with [`FrameEnd::raw`]).
pub struct SaveSink {
    saver: Option<FileSaver>,
}

impl SaveSink {
    pub fn new(saver: FileSaver) -> SaveSink {
        SaveSink { saver: Some(saver) }
    }
}

impl FieldSink for SaveSink {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl Sink for SaveSink {
    fn needs_flows(&self) -> bool {
        false
    }
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(Vec::new())
    }
    fn end_frame(&mut self, end: &FrameEnd<'_>) -> io::Result<()> {
        let Some(saver) = self.saver.as_mut() else {
            return Ok(());
        };
        let m = end.meta;
        saver
            .save(m.number, m.link_type, m.secs, m.nanos, end.raw, m.len)
            .map_err(|e| io::Error::other(format!("{e:#}")))
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
        match self.saver.take() {
            Some(saver) => saver
                .finish()
                .map(|_| ())
                .map_err(|e| io::Error::other(format!("{e:#}"))),
            None => Ok(()),
        }
    }
}
