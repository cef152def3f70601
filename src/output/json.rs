//! `-T json` (one array, as tshark prints it) and `-T ndjson` (one compact object per line):
//! layers keyed by protocol, values by Wireshark field name, a field's subtree under
//! `NAME_tree` right after it. As tshark does by default, a field that occurs several times in
//! a layer is written several times under the same key (tshark's `--no-duplicate-keys` would
//! make arrays; JSON parsers keep the last value, tools such as `jq --stream` see them all).
//!
//! A frame's layers are collected as a small tree (a layer may be re-entered: the flow engine
//! adds `tcp.stream` after the TCP dissector ran), then written out once the frame ends. The
//! tree's buffers are reused from frame to frame.

use super::tree::{Item, Node, Tree};
use super::{FrameEnd, Sink};
use netsniff_dissectors::field::{
    as_read, c_string, write_colon_hex, write_date_iso, write_tshark,
};
use netsniff_dissectors::proto::tcp;
use netsniff_dissectors::{
    FieldDef, FieldSink, FrameMeta, Group, Proto, Severity, Shown, Span, Value,
};
use std::io::{self, Write};

/// What a field node keeps: its value text (`None`: FT_NONE, no value), or an expert item.
enum Data {
    Value(Option<String>),
    Expert(Severity, Group, String),
}

/// Prints JSON.
pub struct JsonSink<W: Write> {
    out: W,
    ndjson: bool,
    /// The frame's tree; a field keeps its JSON value text (`None`: FT_NONE, no value).
    tree: Tree<Data>,
    frames: u64,
    meta: FrameMeta,
    text: Vec<u8>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, ndjson: bool) -> Self {
        JsonSink {
            out,
            ndjson,
            tree: Tree::default(),
            frames: 0,
            meta: FrameMeta::default(),
            text: Vec::with_capacity(64),
        }
    }
}

impl<W: Write> FieldSink for JsonSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        // tshark's reassembly item (`[N Reassembled TCP Segments …]`) is not drawn yet.
        !std::ptr::eq(proto, &tcp::SEGMENTS)
    }

    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer(proto);
    }

    fn layer_apart(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer_apart(proto);
    }

    fn mark(&mut self) {
        self.tree.mark();
    }

    fn reopen(&mut self, def: &'static FieldDef) {
        self.tree.reopen(def);
    }

    fn layer_at_mark(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer_at_mark(proto);
    }

    fn wants_text(&self) -> bool {
        // For expert messages; the other `-V` texts are ignored.
        true
    }

    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        let expert = match shown {
            Shown::Expert(s, g, m) => Some((s, g, m)),
            Shown::Value(m) | Shown::Line(m) => def.view.expert.map(|(s, g)| (s, g, m)),
            Shown::Hidden => None,
        };
        match expert {
            Some((s, g, m)) => self.tree.push(Item::Field {
                def,
                data: Data::Expert(s, g, m.to_string()),
            }),
            None => self.field(def, span, value),
        }
    }

    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        self.text.clear();
        if let Some((s, g)) = def.view.expert {
            self.tree.push(Item::Field {
                def,
                data: Data::Expert(s, g, def.label.to_string()),
            });
            return;
        }
        // tshark writes FT_NONE items as empty strings (or their subtree) in JSON (`-T fields`
        // prints `1`), and, in the full tree, byte fields with colons (`-T fields` and `-e`
        // print them bare).
        let data = match value {
            Value::None => None,
            Value::Bytes(b) => {
                write_colon_hex(b, &mut self.text);
                Some(String::from_utf8_lossy(&self.text).into_owned())
            }
            // Strings as they are (JSON escapes them), where `-T fields` escapes CR, LF, tab
            // and backslash: tshark's JSON has `Host: h\r\n` as the line with its CR LF.
            Value::Str(s) => Some(string_value(def, s.as_bytes())),
            Value::Text(t) => Some(string_value(def, t)),
            _ => {
                write_tshark(def, &value, &mut self.text);
                Some(String::from_utf8_lossy(&self.text).into_owned())
            }
        };
        self.tree.push(Item::Field {
            def,
            data: Data::Value(data),
        });
    }

    // Titles and appended texts matter for a layer without items, written as its label.
    fn append(&mut self, text: &str) {
        self.tree.append(text);
    }

    fn retitle(&mut self, text: &str) {
        self.tree.retitle(text);
    }

    fn open(&mut self) {
        self.tree.open();
    }

    fn close(&mut self) {
        self.tree.close();
    }

    fn text(&mut self, _span: Span, text: &str) {
        self.tree.push(Item::Note(text.to_string()));
    }

    fn label(&mut self, span: Span, text: &str) {
        self.tree.push(Item::Label {
            text: text.to_string(),
            generated: span.is_generated(),
        });
    }

    fn nest(&mut self) {
        self.tree.nest();
    }

    fn unnest(&mut self) {
        self.tree.unnest();
    }
}

/// Writes `s` as a JSON string (quotes and escapes).
fn string<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(io::Error::other)
}

/// Writes the children of a node as one object's keys, one per line at `indent` (pretty) or
/// compactly, as tshark's `write_json_proto_node_list` does: a field with a value and
/// children is `key: value` then `key_tree: {…}`; without a value (FT_NONE, text items) the
/// children are `key: {…}`; an item with neither is `key: ""`.
fn object<T: Write>(
    out: &mut T,
    tree: &Tree<Data>,
    children: &[usize],
    indent: Option<usize>,
) -> io::Result<()> {
    out.write_all(b"{")?;
    let sep: &[u8] = if indent.is_some() { b": " } else { b":" };
    let mut first = true;
    let key = |out: &mut T, k: &str, first: &mut bool| key_at(out, k, first, indent, sep);
    let inner = indent.map(|n| n + 2);
    for id in children {
        let Some(Node {
            item,
            children: sub,
        }) = tree.node(*id)
        else {
            continue;
        };
        match item {
            // A layer without items is its label (tshark writes a protocol node's text then).
            Item::Layer {
                proto,
                appended,
                title,
            } if sub.is_empty() => {
                key(out, proto.name, &mut first)?;
                match title {
                    Some(t) => string(out, t)?,
                    None => string(out, &format!("{}{appended}", proto.long_name))?,
                }
            }
            Item::Layer { proto, .. } => {
                key(out, proto.name, &mut first)?;
                object(out, tree, sub, inner)?;
            }
            Item::Field {
                def,
                data: Data::Expert(severity, group, msg),
            } => {
                key(out, "_ws.expert", &mut first)?;
                out.write_all(b"{")?;
                let mut f = true;
                key_at(out, def.name, &mut f, inner, sep)?;
                string(out, "")?;
                key_at(out, "_ws.expert.message", &mut f, inner, sep)?;
                string(out, msg)?;
                key_at(out, "_ws.expert.severity", &mut f, inner, sep)?;
                string(out, &severity.code().to_string())?;
                key_at(out, "_ws.expert.group", &mut f, inner, sep)?;
                string(out, &group.code().to_string())?;
                if let Some(n) = inner {
                    out.write_all(b"\n")?;
                    pad(out, n.saturating_sub(2))?;
                }
                out.write_all(b"}")?;
            }
            Item::Field {
                def,
                data: Data::Value(data),
            } => match (data, sub.is_empty()) {
                (Some(v), true) => {
                    key(out, def.name, &mut first)?;
                    string(out, v)?;
                }
                (Some(v), false) => {
                    key(out, def.name, &mut first)?;
                    string(out, v)?;
                    key(out, &format!("{}_tree", def.name), &mut first)?;
                    object(out, tree, sub, inner)?;
                }
                (None, true) => {
                    key(out, def.name, &mut first)?;
                    string(out, "")?;
                }
                (None, false) => {
                    key(out, def.name, &mut first)?;
                    object(out, tree, sub, inner)?;
                }
            },
            Item::Label { text, .. } => {
                // The label as tshark's JSON has it: cut as its tree cuts it.
                let mut label = text.clone();
                super::tree::truncate_label(&mut label, 0, 0);
                key(out, &label, &mut first)?;
                if sub.is_empty() {
                    string(out, "")?;
                } else {
                    object(out, tree, sub, inner)?;
                }
            }
            Item::Note(text) => {
                key(out, "_ws.expert.message", &mut first)?;
                string(out, text)?;
                if !sub.is_empty() {
                    key(out, "_ws.expert.message_tree", &mut first)?;
                    object(out, tree, sub, inner)?;
                }
            }
        }
    }
    // An empty object too is split over two lines (tshark's json_dumper).
    if let Some(n) = indent {
        out.write_all(b"\n")?;
        pad(out, n.saturating_sub(2))?;
    }
    out.write_all(b"}")
}

/// Writes `,` (unless first), the newline and indentation (pretty), and `"k": `.
fn key_at<W: Write>(
    out: &mut W,
    k: &str,
    first: &mut bool,
    indent: Option<usize>,
    sep: &[u8],
) -> io::Result<()> {
    if !*first {
        out.write_all(b",")?;
    }
    *first = false;
    if let Some(n) = indent {
        out.write_all(b"\n")?;
        pad(out, n)?;
    }
    string(out, k)?;
    out.write_all(sep)
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
        self.tree.clear();
        self.meta = *meta;
    }

    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
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
                b",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {\n      \"layers\": ",
            )?;
        } else {
            out.write_all(b"{\"_index\":")?;
            string(out, &index)?;
            out.write_all(b",\"_type\":\"doc\",\"_score\":null,\"_source\":{\"layers\":")?;
        }
        let roots = self.tree.roots().to_vec();
        object(out, &self.tree, &roots, pretty.then_some(8))?;
        if pretty {
            out.write_all(b"\n    }\n  }")?;
        } else {
            out.write_all(b"}}\n")?;
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

/// A string field's value as tshark's JSON has it: the text as Wireshark read it, up to a NUL.
fn string_value(def: &FieldDef, text: &[u8]) -> String {
    String::from_utf8_lossy(c_string(&as_read(def, text))).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::end_blank_frame;
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

    #[test]
    fn ndjson_keeps_duplicate_keys_in_order() {
        let mut sink = JsonSink::new(Vec::new(), true);
        frame(&mut sink);
        end_blank_frame(&mut sink);
        assert_eq!(
            String::from_utf8(sink.out).unwrap(),
            "{\"_index\":\"packets-1970-01-01\",\"_type\":\"doc\",\"_score\":null,\"_source\":{\"layers\":{\"p\":{\"p.a\":\"1\",\"p.a\":\"2\",\"p.b\":\"0x03\",\"p.b_tree\":{\"p.a\":\"4\"},\"_ws.expert.message\":\"note \\\"quoted\\\"\"}}}}\n"
        );
    }

    #[test]
    fn pretty_array_as_tshark_indents_it() {
        let mut sink = JsonSink::new(Vec::new(), false);
        frame(&mut sink);
        end_blank_frame(&mut sink);
        sink.begin_frame(&FrameMeta::default());
        end_blank_frame(&mut sink);
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
