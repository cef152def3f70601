//! `-V`: the layer tree of each frame, as `tshark -V` shows it: a root line per protocol
//! (long name, its summary fields, and what the dissectors appended), then `Label: value`
//! lines, subtrees indented by four spaces, generated items in brackets, hidden items left out.

use super::tree::{truncate_label, Item, Node, Tree};
use super::{FrameEnd, Sink};
use netsniff_dissectors::field::{write_bits, write_display, write_hex_dump, write_tshark};
use netsniff_dissectors::proto::{data, frame, grpc, tcp};
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Shown, Span, Value};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What a field node keeps: its line (without indentation), `None` when hidden.
type Line = Option<String>;

/// Prints the tree.
pub struct VerboseSink<W: Write> {
    out: W,
    meta: FrameMeta,
    tree: Tree<Line>,
    /// The first value of each summary field of each layer: (layer node, values).
    summaries: Vec<(usize, Vec<Option<String>>)>,
    /// The bytes of each `data` layer (layer node, bytes): tshark prints them as a hex dump.
    data: Vec<(usize, Vec<u8>)>,
    text: String,
}

impl<W: Write> VerboseSink<W> {
    pub fn new(out: W) -> Self {
        VerboseSink {
            out,
            meta: FrameMeta::default(),
            tree: Tree::default(),
            summaries: Vec::new(),
            data: Vec::new(),
            text: String::with_capacity(4096),
        }
    }

    /// Keeps `value` if it is one of the current layer's summary fields, not yet seen.
    fn note_summary(&mut self, def: &'static FieldDef, value: &Value<'_>) {
        let Some(proto) = self.tree.current_proto() else {
            return;
        };
        let Some(i) = proto
            .summary
            .iter()
            .position(|(_, f)| std::ptr::eq(*f, def))
        else {
            return;
        };
        let Some(layer) = self.tree.current_layer_id() else {
            return;
        };
        let slots = match self.summaries.iter().position(|(l, _)| *l == layer) {
            Some(k) => &mut self.summaries[k].1,
            None => {
                self.summaries
                    .push((layer, vec![None; proto.summary.len()]));
                match self.summaries.last_mut() {
                    Some(s) => &mut s.1,
                    None => return,
                }
            }
        };
        if let Some(slot @ None) = slots.get_mut(i) {
            let mut raw = Vec::new();
            write_tshark(def, value, &mut raw);
            *slot = Some(String::from_utf8_lossy(&raw).into_owned());
        }
    }

    fn add(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Option<Shown<'_>>,
    ) {
        self.note_summary(def, &value);
        if let (true, Value::Bytes(b)) = (std::ptr::eq(def, &data::DATA), value) {
            if let Some(layer) = self.tree.current_layer_id() {
                self.data.push((layer, b.to_vec()));
            }
        }
        if def.view.hidden || shown == Some(Shown::Hidden) {
            self.tree.push(Item::Field { def, data: None });
            return;
        }
        let expert = match shown {
            Some(Shown::Expert(sev, grp, msg)) => Some((sev, grp, msg)),
            Some(Shown::Value(m) | Shown::Line(m)) => def.view.expert.map(|(s, g)| (s, g, m)),
            Some(Shown::Hidden) => None,
            None => def.view.expert.map(|(s, g)| (s, g, def.label)),
        };
        if let Some((severity, group, msg)) = expert {
            let (sev, grp) = (severity.name(), group.name());
            self.tree.push(Item::Field {
                def,
                data: Some(format!("[Expert Info ({sev}/{grp}): {msg}]")),
            });
            self.tree.open();
            for text in [
                msg.to_string(),
                format!("Severity level: {sev}"),
                format!("Group: {grp}"),
            ] {
                self.tree.push(Item::Label {
                    text,
                    generated: true,
                });
            }
            self.tree.close();
            return;
        }
        let line = line(def, span, &value, shown);
        self.tree.push(Item::Field {
            def,
            data: Some(line),
        });
    }

    /// The root line of layer node `id` (its title, or its long name with the summary fields
    /// and what the dissectors appended). `data` is followed by its hex dump when `dump` is set
    /// (as `-V` draws it).
    fn root_line(&self, id: usize, dump: bool, out: &mut String) {
        let Some(Node {
            item:
                Item::Layer {
                    proto,
                    appended,
                    title,
                },
            ..
        }) = self.tree.node(id)
        else {
            return;
        };
        if let Some(title) = title {
            out.push_str(title);
            return;
        }
        if std::ptr::eq(*proto, &data::PROTO) {
            // `Data (62 bytes)`, a blank line and the bytes in hex, as tshark -V.
            let bytes = self.data.iter().find(|(l, _)| *l == id).map(|(_, b)| b);
            let n = bytes.map_or(0, Vec::len);
            let _ = write!(out, "Data ({n} byte{})", if n == 1 { "" } else { "s" });
            if let (Some(bytes), true) = (bytes, dump) {
                out.push_str("\n\n");
                write_hex_dump(bytes, out);
                out.pop();
            }
        } else if std::ptr::eq(*proto, &frame::PROTO) {
            let m = &self.meta;
            let _ = write!(
                out,
                "Frame {}: {} bytes on wire ({} bits), {} bytes captured ({} bits)",
                m.number,
                m.len,
                u64::from(m.len) * 8,
                m.cap_len,
                u64::from(m.cap_len) * 8
            );
        } else {
            out.push_str(proto.long_name);
            if let Some((_, values)) = self.summaries.iter().find(|(l, _)| *l == id) {
                for ((label, _), v) in proto.summary.iter().zip(values) {
                    if let Some(v) = v {
                        let _ = write!(out, ", {label}: {v}");
                    }
                }
            }
        }
        out.push_str(appended);
    }

    /// What `tshark -T fields -e PROTO` prints for each `proto` layer of the frame, in tree
    /// order: the layer's root line; the protocol's name for the protocols whose Wireshark
    /// item has no text of its own; the bytes in hex for `data`.
    pub fn layer_values(&self, proto: &'static Proto, out: &mut Vec<String>) {
        let mut stack: Vec<usize> = self.tree.roots().iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            let Some(node) = self.tree.node(id) else {
                continue;
            };
            if let Item::Layer {
                proto: p, title, ..
            } = &node.item
            {
                if std::ptr::eq(*p, proto) && !is_call_summary(&self.tree, node) {
                    let mut value = String::new();
                    if std::ptr::eq(proto, &data::PROTO) {
                        if let Some((_, bytes)) = self.data.iter().find(|(l, _)| *l == id) {
                            let _ = bytes.iter().try_for_each(|b| write!(value, "{b:02x}"));
                        }
                    } else if title.is_none() && NAME_ONLY.contains(&proto.name) {
                        value.push_str(proto.name);
                    } else {
                        self.root_line(id, false, &mut value);
                    }
                    out.push(value);
                }
            }
            stack.extend(node.children.iter().rev().copied());
        }
    }

    fn render(&mut self, id: usize, depth: usize) {
        let Some(Node { item, children }) = self.tree.node(id) else {
            return;
        };
        let pad = "    ".repeat(depth);
        match item {
            Item::Layer { .. } => {
                self.text.push_str(&pad);
                let mut line = std::mem::take(&mut self.text);
                self.root_line(id, true, &mut line);
                self.text = line;
            }
            Item::Field { data: None, .. } => return,
            Item::Field {
                data: Some(line), ..
            } => {
                self.text.push_str(&pad);
                self.text.push_str(line);
            }
            Item::Label { text, generated } => {
                self.text.push_str(&pad);
                let mut label = text.clone();
                truncate_label(&mut label, 0, 0);
                if *generated {
                    let _ = write!(self.text, "[{label}]");
                } else {
                    self.text.push_str(&label);
                }
            }
            Item::Note(text) => {
                self.text.push_str(&pad);
                let _ = write!(self.text, "[{text}]");
            }
        }
        self.text.push('\n');
        let children = children.clone();
        for c in children {
            self.render(c, depth + 1);
        }
    }
}

/// Protocols whose Wireshark item is added without text of its own: `-e PROTO` prints their
/// name (tshark prints an item's text when it has one, its protocol's name otherwise), unless
/// the layer was retitled (TLS inside QUIC: `TLSv1.3 Record Layer: …`).
const NAME_ONLY: &[&str] = &[
    "icmp",
    "icmpv6",
    "tls",
    "http",
    "http2",
    "websocket",
    "quic",
    "sse",
];

/// Whether `node` is a layer of netsniff's own gRPC call summary alone (drawn on a trailers
/// frame, where tshark has no `grpc`): its items are the summary's fields only.
fn is_call_summary(tree: &Tree<Line>, node: &Node<Line>) -> bool {
    const SUMMARY: [&FieldDef; 5] = [
        &grpc::SERVICE,
        &grpc::METHOD,
        &grpc::CALL_TYPE,
        &grpc::STATUS,
        &grpc::MESSAGE,
    ];
    matches!(node.item, Item::Layer { proto, .. } if std::ptr::eq(proto, &grpc::PROTO))
        && node.children.iter().all(|&c| {
            matches!(tree.node(c), Some(Node { item: Item::Field { def, .. }, .. })
                if SUMMARY.iter().any(|s| std::ptr::eq(*s, *def)))
        })
}

/// A field's line as tshark draws it.
fn line(def: &FieldDef, span: Span, value: &Value<'_>, shown: Option<Shown<'_>>) -> String {
    let mut text = String::with_capacity(64);
    let generated = span.is_generated();
    if generated {
        text.push('[');
    }
    let mut name_end = text.len();
    if let Some(Shown::Line(l) | Shown::Expert(_, _, l)) = shown {
        text.push_str(l);
    } else {
        if def.view.bits > 0 {
            write_bits(def, value, &mut text);
            text.push_str(" = ");
        }
        text.push_str(def.label);
        name_end = text.len();
        match shown {
            Some(Shown::Value(v)) => {
                text.push_str(": ");
                text.push_str(v);
            }
            _ if *value != Value::None => {
                text.push_str(": ");
                write_display(def, value, &mut text);
            }
            _ => {}
        }
        // Wireshark adds the length in bits to the frame's two lengths.
        if std::ptr::eq(def, &frame::LEN) || std::ptr::eq(def, &frame::CAP_LEN) {
            if let Some(v) = value.as_u64() {
                let _ = write!(text, " ({} bits)", v.saturating_mul(8));
            }
        }
    }
    truncate_label(&mut text, usize::from(generated), name_end);
    if generated {
        text.push(']');
    }
    text
}

impl<W: Write> FieldSink for VerboseSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        // tshark's reassembly item (`[N Reassembled TCP Segments …]`) is not drawn yet.
        !std::ptr::eq(proto, &tcp::SEGMENTS)
    }

    fn wants_text(&self) -> bool {
        true
    }

    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer(proto);
    }

    fn layer_apart(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer_apart(proto);
    }

    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        self.add(def, span, value, None);
    }

    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        self.add(def, span, value, Some(shown));
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

    fn append(&mut self, text: &str) {
        self.tree.append(text);
    }

    fn retitle(&mut self, text: &str) {
        self.tree.retitle(text);
    }

    fn mark(&mut self) {
        self.tree.mark();
    }

    fn reopen(&mut self, def: &'static FieldDef) {
        self.tree.reopen(def);
    }

    fn append_open(&mut self, text: &str) {
        if let Some(Item::Field {
            data: Some(line), ..
        }) = self.tree.open_item_mut()
        {
            line.push_str(text);
        }
    }

    fn layer_at_mark(&mut self, proto: &'static Proto, _span: Span) {
        self.tree.layer_at_mark(proto);
    }

    fn nest(&mut self) {
        self.tree.nest();
    }

    fn unnest(&mut self) {
        self.tree.unnest();
    }
}

impl<W: Write> Sink for VerboseSink<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.meta = *meta;
        self.tree.clear();
        self.summaries.clear();
        self.data.clear();
    }

    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        self.text.clear();
        let roots = self.tree.roots().to_vec();
        for id in roots {
            self.render(id, 0);
        }
        self.text.push('\n');
        self.out.write_all(self.text.as_bytes())
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        self.out.flush()
    }
}
