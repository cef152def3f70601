//! `-T json` (one array, as tshark prints it) and `-T ndjson` (one compact object per line):
//! layers keyed by protocol, values by Wireshark field name, a field's subtree under
//! `NAME_tree` right after it. As tshark does by default, a field that occurs several times in
//! a layer is written several times under the same key (tshark's `--no-duplicate-keys` would
//! make arrays; JSON parsers keep the last value, tools such as `jq --stream` see them all).
//!
//! A frame's layers are collected as a small tree (a layer may be re-entered: the flow engine
//! adds `tcp.stream` after the TCP dissector ran), then written out once the frame ends. The
//! tree's buffers are reused from frame to frame.

use super::{FrameEnd, Sink};
use netsniff_dissectors::field::{write_colon_hex, write_date_iso, write_tshark};
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Span, Value};
use std::io::{self, Write};

/// One key of an object: a field's text, or a subtree (an object of its own).
enum Entry {
    Field {
        key: &'static str,
        value: String,
    },
    Tree {
        key: String,
        entries: Vec<Entry>,
    },
    /// An expert note (`sink.text`): written as `_ws.expert.message`.
    Note(String),
}

/// Prints JSON.
pub struct JsonSink<W: Write> {
    out: W,
    ndjson: bool,
    /// The layers of the current frame, in first-seen order.
    layers: Vec<(&'static str, Vec<Entry>)>,
    /// Index of the current layer in `layers`.
    current: Option<usize>,
    /// Open subtrees of the current layer: their keys and entries so far.
    stack: Vec<(String, Vec<Entry>)>,
    last_field: Option<&'static str>,
    frames: u64,
    meta: FrameMeta,
    text: Vec<u8>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, ndjson: bool) -> Self {
        JsonSink {
            out,
            ndjson,
            layers: Vec::new(),
            current: None,
            stack: Vec::new(),
            last_field: None,
            frames: 0,
            meta: FrameMeta::default(),
            text: Vec::with_capacity(64),
        }
    }

    /// Closes every open subtree into the current layer.
    fn close_all(&mut self) {
        while !self.stack.is_empty() {
            self.close();
        }
    }

    /// Where entries go now: the innermost open subtree, else the current layer.
    fn target(&mut self) -> Option<&mut Vec<Entry>> {
        if let Some((_, entries)) = self.stack.last_mut() {
            return Some(entries);
        }
        let i = self.current?;
        self.layers.get_mut(i).map(|(_, entries)| entries)
    }
}

impl<W: Write> FieldSink for JsonSink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }

    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.close_all();
        self.last_field = None;
        if let Some(i) = self.layers.iter().position(|(n, _)| *n == proto.name) {
            self.current = Some(i);
            return;
        }
        self.layers.push((proto.name, Vec::new()));
        self.current = Some(self.layers.len() - 1);
    }

    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        self.text.clear();
        // tshark writes FT_NONE items as empty strings in JSON (`-T fields` prints `1`).
        // and, in the full tree, byte fields with colons (`-T fields` and `-e` print them bare).
        match value {
            Value::None => {}
            Value::Bytes(b) => write_colon_hex(b, &mut self.text),
            _ => write_tshark(def, &value, &mut self.text),
        }
        let value = String::from_utf8_lossy(&self.text).into_owned();
        if let Some(entries) = self.target() {
            entries.push(Entry::Field {
                key: def.name,
                value,
            });
        }
        self.last_field = Some(def.name);
    }

    fn open(&mut self) {
        let key = format!("{}_tree", self.last_field.unwrap_or("text"));
        self.stack.push((key, Vec::new()));
    }

    fn close(&mut self) {
        if let Some((key, entries)) = self.stack.pop() {
            if let Some(parent) = self.target() {
                parent.push(Entry::Tree { key, entries });
            }
        }
    }

    fn text(&mut self, _span: Span, text: &str) {
        if let Some(entries) = self.target() {
            entries.push(Entry::Note(text.to_string()));
        }
    }
}

/// Writes `s` as a JSON string (quotes and escapes).
fn string<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(io::Error::other)
}

/// Writes the entries of one object, one key per line at `indent` (pretty) or compactly.
fn entries<W: Write>(out: &mut W, items: &[Entry], indent: Option<usize>) -> io::Result<()> {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if let Some(n) = indent {
            out.write_all(b"\n")?;
            pad(out, n)?;
        }
        let sep: &[u8] = if indent.is_some() { b": " } else { b":" };
        match e {
            Entry::Field { key, value } => {
                string(out, key)?;
                out.write_all(sep)?;
                string(out, value)?;
            }
            Entry::Note(text) => {
                string(out, "_ws.expert.message")?;
                out.write_all(sep)?;
                string(out, text)?;
            }
            Entry::Tree { key, entries: sub } => {
                string(out, key)?;
                out.write_all(sep)?;
                object(out, sub, indent.map(|n| n + 2))?;
            }
        }
    }
    Ok(())
}

/// Writes `{ entries }`; `indent` is the indentation of the entries (pretty) or `None`.
fn object<W: Write>(out: &mut W, items: &[Entry], indent: Option<usize>) -> io::Result<()> {
    out.write_all(b"{")?;
    entries(out, items, indent)?;
    if let Some(n) = indent {
        if !items.is_empty() {
            out.write_all(b"\n")?;
            pad(out, n.saturating_sub(2))?;
        }
    }
    out.write_all(b"}")
}

fn pad<W: Write>(out: &mut W, n: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = &[b' '; 64];
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.write_all(SPACES.get(..k).unwrap_or(&[]))?;
        left -= k;
    }
    Ok(())
}

impl<W: Write> Sink for JsonSink<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.layers.clear();
        self.stack.clear();
        self.current = None;
        self.last_field = None;
        self.meta = *meta;
    }

    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        self.close_all();
        let mut date = Vec::with_capacity(10);
        write_date_iso(self.meta.secs, &mut date);
        let index = format!("packets-{}", String::from_utf8_lossy(&date));
        let pretty = !self.ndjson;
        let out = &mut self.out;
        if pretty {
            out.write_all(if self.frames == 0 { b"[\n" } else { b",\n" })?;
            out.write_all(b"  {\n    \"_index\": ")?;
            string(out, &index)?;
            out.write_all(
                b",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {\n      \"layers\": {",
            )?;
        } else {
            out.write_all(b"{\"_index\":")?;
            string(out, &index)?;
            out.write_all(b",\"_type\":\"doc\",\"_score\":null,\"_source\":{\"layers\":{")?;
        }
        for (i, (name, items)) in self.layers.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            if pretty {
                out.write_all(b"\n        ")?;
            }
            string(out, name)?;
            out.write_all(if pretty { b": " } else { b":" })?;
            object(out, items, pretty.then_some(10))?;
        }
        if pretty {
            out.write_all(b"\n      }\n    }\n  }")?;
        } else {
            out.write_all(b"}}}\n")?;
        }
        self.frames += 1;
        Ok(())
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        if !self.ndjson {
            if self.frames == 0 {
                self.out.write_all(b"[")?;
            } else {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"]\n")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsniff_dissectors::Kind;

    static P: Proto = Proto {
        name: "p",
        long_name: "P",
        fields: &[],
        summary: &[],
    };
    static A: FieldDef = FieldDef::new("p.a", "A", Kind::Dec);
    static B: FieldDef = FieldDef::new("p.b", "B", Kind::Hex(2));

    fn frame(sink: &mut JsonSink<Vec<u8>>) {
        sink.begin_frame(&FrameMeta::default());
        sink.layer(&P, Span::GENERATED);
        sink.field(&A, Span::GENERATED, Value::U(1));
        sink.field(&A, Span::GENERATED, Value::U(2));
        sink.field(&B, Span::GENERATED, Value::U(3));
        sink.open();
        sink.field(&A, Span::GENERATED, Value::U(4));
        sink.close();
        sink.text(Span::GENERATED, "note \"quoted\"");
    }

    fn end(sink: &mut JsonSink<Vec<u8>>) {
        let (meta, pi, cols, stack) = (
            FrameMeta::default(),
            netsniff_dissectors::PacketInfo::default(),
            netsniff_dissectors::Columns::default(),
            netsniff_dissectors::ProtoStack::default(),
        );
        sink.end_frame(&FrameEnd {
            meta: &meta,
            pi: &pi,
            cols: &cols,
            protocols: &stack,
            pre: &[],
        })
        .unwrap();
    }

    #[test]
    fn ndjson_keeps_duplicate_keys_in_order() {
        let mut sink = JsonSink::new(Vec::new(), true);
        frame(&mut sink);
        end(&mut sink);
        assert_eq!(
            String::from_utf8(sink.out).unwrap(),
            "{\"_index\":\"packets-1970-01-01\",\"_type\":\"doc\",\"_score\":null,\"_source\":{\"layers\":{\"p\":{\"p.a\":\"1\",\"p.a\":\"2\",\"p.b\":\"0x03\",\"p.b_tree\":{\"p.a\":\"4\"},\"_ws.expert.message\":\"note \\\"quoted\\\"\"}}}}\n"
        );
    }

    #[test]
    fn pretty_array_as_tshark_indents_it() {
        let mut sink = JsonSink::new(Vec::new(), false);
        frame(&mut sink);
        end(&mut sink);
        sink.begin_frame(&FrameMeta::default());
        end(&mut sink);
        let flows = crate::flow::FlowEngine::new(crate::flow::FlowConfig::default());
        sink.finish(&super::super::RunEnd {
            frames: 2,
            flows: &flows,
        })
        .unwrap();
        let text = String::from_utf8(sink.out).unwrap();
        let expected = r#"[
  {
    "_index": "packets-1970-01-01",
    "_type": "doc",
    "_score": null,
    "_source": {
      "layers": {
        "p": {
          "p.a": "1",
          "p.a": "2",
          "p.b": "0x03",
          "p.b_tree": {
            "p.a": "4"
          },
          "_ws.expert.message": "note \"quoted\""
        }
      }
    }
  },
  {
    "_index": "packets-1970-01-01",
    "_type": "doc",
    "_score": null,
    "_source": {
      "layers": {
      }
    }
  }
]
"#;
        assert_eq!(text, expected);
    }
}
