//! The display filter (`-Y`) in front of the packet outputs: a frame's calls are kept on a
//! tape until the frame ends, then played to the output when the filter passes, dropped when
//! not. Statistics (`-z`) and `netsniff flows` see every frame, as tshark's do; the flow
//! engine sees every frame too, so streams, sequence analysis and reassembly are those of
//! the whole capture.

use super::{FrameEnd, Prerender, RunEnd, Sink};
use crate::display_filter::{DisplayFilter, FrameValues};
use crate::pipeline::{Tape, Wants};
use netsniff_dissectors::proto::frame;
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Shown, Span, Value};
use std::io;

/// An output that shows only the frames a display filter passes.
pub struct FilteredSink {
    inner: Box<dyn Sink>,
    filter: DisplayFilter,
    /// The calls of the current frame the output asked for.
    tape: Tape,
    values: FrameValues,
    /// Capture time of the last frame shown (`frame.time_delta_displayed` counts from it).
    last_shown: Option<(i64, u32)>,
    /// Capture time of the current frame.
    now: (i64, u32),
}

impl FilteredSink {
    pub fn new(inner: Box<dyn Sink>, filter: DisplayFilter) -> FilteredSink {
        FilteredSink {
            tape: Tape::new(Wants::of(&*inner)),
            inner,
            filter,
            values: FrameValues::default(),
            last_shown: None,
            now: (0, 0),
        }
    }
}

impl FieldSink for FilteredSink {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.inner.wants(proto) || self.filter.protos().iter().any(|p| std::ptr::eq(*p, proto))
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        self.filter.note_layer(&mut self.values, proto);
        if self.inner.wants(proto) {
            self.tape.layer(proto, span);
        }
    }
    fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
        self.filter.note_layer(&mut self.values, proto);
        if self.inner.wants(proto) {
            self.tape.layer_apart(proto, span);
        }
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        self.filter.note(&mut self.values, def, &value);
        self.tape.field(def, span, value);
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        self.filter.note(&mut self.values, def, &value);
        self.tape.field_shown(def, span, value, shown);
    }
    fn wants_text(&self) -> bool {
        self.inner.wants_text()
    }
    fn open(&mut self) {
        self.tape.open();
    }
    fn close(&mut self) {
        self.tape.close();
    }
    fn text(&mut self, span: Span, text: &str) {
        self.tape.text(span, text);
    }
    fn label(&mut self, span: Span, text: &str) {
        self.tape.label(span, text);
    }
    fn append(&mut self, text: &str) {
        self.tape.append(text);
    }
    fn retitle(&mut self, text: &str) {
        self.tape.retitle(text);
    }
    fn reopen(&mut self, def: &'static FieldDef) {
        self.tape.reopen(def);
    }
    fn append_open(&mut self, text: &str) {
        self.tape.append_open(text);
    }
    fn mark(&mut self) {
        self.tape.mark();
    }
    fn layer_at_mark(&mut self, proto: &'static Proto, span: Span) {
        self.filter.note_layer(&mut self.values, proto);
        // Its callers place this layer (tshark's reassembly item) whatever `wants` says, and
        // what they add next belongs to it: the inner sink gets it as it would unfiltered.
        self.tape.layer_at_mark(proto, span);
    }
    fn nest(&mut self) {
        self.tape.nest();
    }
    fn unnest(&mut self) {
        self.tape.unnest();
    }
}

impl Sink for FilteredSink {
    fn wants_columns(&self) -> bool {
        self.inner.wants_columns()
    }
    fn needs_flows(&self) -> bool {
        // Application protocols (`-Y http`) and stream fields (`-Y "tcp.stream == 3"`) are
        // known only with the flow engine.
        self.inner.needs_flows()
            || crate::flow::needed_for_fields(self.filter.fields())
            || self
                .filter
                .protos()
                .iter()
                .any(|p| !netsniff_dissectors::proto::frame_protos().any(|f| std::ptr::eq(f, *p)))
    }
    fn prerender(&self) -> Option<Prerender> {
        self.inner.prerender()
    }
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        self.inner.fields_used().map(|mut used| {
            for def in self.filter.fields() {
                if !used.iter().any(|u| std::ptr::eq(*u, *def)) {
                    used.push(def);
                }
            }
            used
        })
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.tape.clear();
        self.values.clear();
        self.now = (meta.secs, meta.nanos);
    }
    fn end_frame(&mut self, end: &FrameEnd<'_>) -> io::Result<()> {
        if !self.filter.matches(&self.values, end.protocols.as_slice()) {
            return Ok(());
        }
        // tshark counts the displayed delta from the previous frame shown.
        let (secs, nanos) = self.now;
        let (ps, pn) = self.last_shown.replace(self.now).unwrap_or(self.now);
        let delta = crate::source::file::sub_time(secs, nanos, ps, pn);
        self.inner.begin_frame(end.meta);
        self.tape.replay_all(&mut DisplayedDelta {
            inner: &mut *self.inner,
            delta,
        });
        self.inner.end_frame(end)
    }
    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        self.inner.finish(end)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Plays a frame into the output with `frame.time_delta_displayed` counted from the
/// previous frame shown.
struct DisplayedDelta<'a> {
    inner: &'a mut dyn Sink,
    delta: (i64, u32),
}

impl DisplayedDelta<'_> {
    fn value<'v>(&self, def: &'static FieldDef, value: Value<'v>) -> Value<'v> {
        if std::ptr::eq(def, &frame::TIME_DELTA_DISPLAYED) {
            Value::Time {
                secs: self.delta.0,
                nanos: self.delta.1,
            }
        } else {
            value
        }
    }
}

impl FieldSink for DisplayedDelta<'_> {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.inner.wants(proto)
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        self.inner.layer(proto, span);
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        let value = self.value(def, value);
        self.inner.field(def, span, value);
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        let value = self.value(def, value);
        self.inner.field_shown(def, span, value, shown);
    }
    forward_tree_calls!(inner);
}
