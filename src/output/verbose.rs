//! `-V`: the layer tree of each frame, as `tshark -V` shows it: a root line per protocol
//! (long name plus its summary fields), then `Label: value` lines, subtrees indented.

use super::{FrameEnd, Sink};
use netsniff_dissectors::field::{write_bits, write_display, write_tshark};
use netsniff_dissectors::proto::frame;
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Span, Value};
use std::fmt::Write as _;
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
    /// Whether the last field was hidden (its subtree, if one opens, is hidden too).
    last_hidden: bool,
    /// For each open subtree: whether its parent field was hidden.
    hidden_depth: Vec<bool>,
}

impl<W: Write> VerboseSink<W> {
    pub fn new(out: W) -> Self {
        VerboseSink {
            out,
            meta: FrameMeta::default(),
            layers: Vec::new(),
            current: None,
            depth: 1,
            last_hidden: false,
            hidden_depth: Vec::new(),
        }
    }

    fn push_hidden(&mut self) {
        self.last_hidden = true;
    }

    fn push_line(&mut self, line: String) {
        self.last_hidden = false;
        if self.hidden_depth.iter().any(|h| *h) {
            return; // inside the subtree of a hidden field
        }
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
        self.last_hidden = false;
        self.hidden_depth.clear();
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

    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if let Some(layer) = self.current.and_then(|i| self.layers.get_mut(i)) {
            for (slot, (_, f)) in layer.summary.iter_mut().zip(layer.proto.summary) {
                if slot.is_none() && std::ptr::eq(*f, def) {
                    let mut raw = Vec::new();
                    write_tshark(def, &value, &mut raw);
                    *slot = Some(String::from_utf8_lossy(&raw).into_owned());
                }
            }
        }
        if def.view.hidden {
            // Still counted as the parent of a subtree that may follow.
            self.push_hidden();
            return;
        }
        let mut text = String::with_capacity(64);
        let generated = span.is_generated();
        if generated {
            text.push('[');
        }
        if def.view.bits > 0 {
            write_bits(def, &value, &mut text);
            text.push_str(" = ");
        }
        text.push_str(def.label);
        if value != Value::None {
            text.push_str(": ");
            write_display(def, &value, &mut text);
        }
        // Wireshark adds the length in bits to the frame's two lengths.
        if std::ptr::eq(def, &frame::LEN) || std::ptr::eq(def, &frame::CAP_LEN) {
            if let Some(v) = value.as_u64() {
                let _ = write!(text, " ({} bits)", v.saturating_mul(8));
            }
        }
        if generated {
            text.push(']');
        }
        self.push_line(text);
    }

    fn open(&mut self) {
        self.depth += 1;
        self.hidden_depth.push(self.last_hidden);
        self.last_hidden = false;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1).max(1);
        self.last_hidden = false;
        self.hidden_depth.pop();
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
        self.last_hidden = false;
        self.hidden_depth.clear();
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
