//! `-V`: the layer tree of each frame, as `tshark -V` shows it: a root line per protocol
//! (long name plus its summary fields), then `Label: value` lines, subtrees indented.

use super::{FrameEnd, Sink};
use netsniff_dissectors::field::{write_display, write_tshark};
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Span, Value};
use std::io::{self, Write};

struct Layer {
    proto: &'static Proto,
    lines: Vec<String>,
    /// First value of each of `proto.summary`'s fields.
    summary: Vec<Option<String>>,
}

/// Prints the tree.
pub struct VerboseSink<W: Write> {
    out: W,
    meta: FrameMeta,
    layers: Vec<Layer>,
    current: Option<usize>,
    depth: usize,
}

impl<W: Write> VerboseSink<W> {
    pub fn new(out: W) -> Self {
        VerboseSink {
            out,
            meta: FrameMeta::default(),
            layers: Vec::new(),
            current: None,
            depth: 1,
        }
    }

    fn push_line(&mut self, line: String) {
        let depth = self.depth;
        if let Some(layer) = self.current.and_then(|i| self.layers.get_mut(i)) {
            layer.lines.push(format!("{}{line}", "    ".repeat(depth)));
        }
    }
}

impl<W: Write> FieldSink for VerboseSink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }

    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.depth = 1;
        if let Some(i) = self
            .layers
            .iter()
            .position(|l| std::ptr::eq(l.proto, proto))
        {
            self.current = Some(i);
            return;
        }
        self.layers.push(Layer {
            proto,
            lines: Vec::new(),
            summary: vec![None; proto.summary.len()],
        });
        self.current = Some(self.layers.len() - 1);
    }

    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        if let Some(layer) = self.current.and_then(|i| self.layers.get_mut(i)) {
            for (slot, (_, f)) in layer.summary.iter_mut().zip(layer.proto.summary) {
                if slot.is_none() && std::ptr::eq(*f, def) {
                    let mut raw = Vec::new();
                    write_tshark(def, &value, &mut raw);
                    *slot = Some(String::from_utf8_lossy(&raw).into_owned());
                }
            }
        }
        let mut text = String::with_capacity(64);
        text.push_str(def.label);
        if value != Value::None {
            text.push_str(": ");
            write_display(def, &value, &mut text);
        }
        self.push_line(text);
    }

    fn open(&mut self) {
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1).max(1);
    }

    fn text(&mut self, _span: Span, text: &str) {
        self.push_line(format!("[{text}]"));
    }
}

impl<W: Write> Sink for VerboseSink<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.meta = *meta;
        self.layers.clear();
        self.current = None;
        self.depth = 1;
    }

    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        let m = self.meta;
        let mut out = String::with_capacity(2048);
        for layer in &self.layers {
            if layer.proto.name == "frame" {
                out.push_str(&format!(
                    "Frame {}: {} bytes on wire ({} bits), {} bytes captured ({} bits)",
                    m.number,
                    m.len,
                    u64::from(m.len) * 8,
                    m.cap_len,
                    u64::from(m.cap_len) * 8
                ));
            } else {
                out.push_str(layer.proto.long_name);
                for ((label, _), value) in layer.proto.summary.iter().zip(&layer.summary) {
                    if let Some(v) = value {
                        out.push_str(&format!(", {label}: {v}"));
                    }
                }
            }
            out.push('\n');
            for line in &layer.lines {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push('\n');
        self.out.write_all(out.as_bytes())
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        self.out.flush()
    }
}
