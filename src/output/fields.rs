//! `-T fields`: the values of the named fields, one line per frame, formatted exactly as
//! `tshark -T fields` prints them (with `-E` header, separator, occurrence, aggregator, quote).

use super::columns;
use super::summary::Column as SummaryColumn;
use super::verbose::VerboseSink;
use super::{FrameEnd, Sink};
use crate::cli::config::{FieldColumn, FieldsOptions, Occurrence};
use netsniff_dissectors::field::{write_field_text, write_tshark};
use netsniff_dissectors::{proto, FieldDef, FieldSink, FrameMeta, Proto, Shown, Span, Value};
use rustc_hash::FxHashMap;
use std::io::{self, Write};

struct Column {
    /// The values so far, joined by the aggregator.
    text: Vec<u8>,
    /// Occurrences seen in this frame.
    seen: u32,
}

impl Column {
    /// Adds one occurrence, written by `write`, as `-E occurrence` and `aggregator` say.
    fn add(&mut self, options: &FieldsOptions, write: impl FnOnce(&mut Vec<u8>)) {
        self.seen += 1;
        match options.occurrence {
            Occurrence::First if self.seen > 1 => return,
            Occurrence::Nth(n) if self.seen != n => return,
            Occurrence::Last | Occurrence::First | Occurrence::Nth(_) => self.text.clear(),
            Occurrence::All => {
                if self.seen > 1 {
                    self.text.extend_from_slice(options.aggregator.as_bytes());
                }
            }
        }
        write(&mut self.text);
    }
}

/// Prints the requested fields.
pub struct FieldsSink<W: Write> {
    out: W,
    /// The requested fields, in column order.
    defs: Vec<&'static FieldDef>,
    names: Vec<&'static str>,
    columns: Vec<Column>,
    /// Field address → the columns showing it (a field may be asked for twice).
    by_field: FxHashMap<usize, Vec<usize>>,
    /// Each column's field address (0 for a protocol column), and whether no other column
    /// shows that field: what [`FieldsSink::field`] checks its guess against.
    column_fields: Vec<(usize, bool)>,
    /// Column (or [`FieldsSink::frame_start`]) → the column of the field that came next last
    /// time. Frames repeat the order of their fields, so the guess from the column filled
    /// last is nearly always right, and a compare is cheaper than a hash lookup.
    next_column: Vec<usize>,
    /// The column filled last in this frame (or [`FieldsSink::frame_start`]).
    last_column: usize,
    /// Protocols with a requested field in their field list.
    wanted: Vec<&'static Proto>,
    options: FieldsOptions,
    /// The columns showing a summary column (`_ws.col.Info`), and which.
    summary_columns: Vec<(usize, SummaryColumn)>,
    /// `_ws.col.Time`'s format and state.
    time: super::summary::TimeColumn,
    /// The columns showing a protocol (`-e ip`), and which.
    proto_columns: Vec<(usize, &'static Proto)>,
    layer_values: Vec<String>,
    header_done: bool,
    line: Vec<u8>,
    /// `-E quote`'s character as UTF-8 (empty without one).
    quote: Vec<u8>,
}

/// Appends `bytes` to `line`: a one-byte separator is pushed, not handed to the copy routine
/// (whose call costs more than the byte, once per column of every line).
fn append(line: &mut Vec<u8>, bytes: &[u8]) {
    match bytes {
        [b] => line.push(*b),
        _ => line.extend_from_slice(bytes),
    }
}

fn key(def: &FieldDef) -> usize {
    def as *const FieldDef as usize
}

impl<W: Write> FieldsSink<W> {
    pub fn new(out: W, columns: &[FieldColumn], options: FieldsOptions) -> Self {
        let mut by_field: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        let mut defs = Vec::new();
        let mut proto_columns = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            match *c {
                FieldColumn::Field(f) => {
                    by_field.entry(key(f)).or_default().push(i);
                    defs.push(f);
                }
                FieldColumn::Proto(p) => proto_columns.push((i, p)),
            }
        }
        let time = super::summary::TimeColumn::new(options.time);
        let wanted = proto::all_protos()
            .filter(|p| p.fields.iter().any(|f| by_field.contains_key(&key(f))))
            .collect();
        let column_fields: Vec<(usize, bool)> = columns
            .iter()
            .map(|c| match c {
                FieldColumn::Field(f) => (
                    key(f),
                    by_field.get(&key(f)).is_some_and(|cols| cols.len() == 1),
                ),
                FieldColumn::Proto(_) => (0, false),
            })
            .collect();
        // Every guess starts as the frame start, whose field address (0) is no field's.
        let frame_start = columns.len();
        let mut utf8 = [0u8; 4];
        let quote = options
            .quote
            .map_or(Vec::new(), |c| c.encode_utf8(&mut utf8).as_bytes().to_vec());
        FieldsSink {
            out,
            names: columns
                .iter()
                .map(|c| match c {
                    FieldColumn::Field(f) => f.name,
                    FieldColumn::Proto(p) => p.name,
                })
                .collect(),
            columns: columns
                .iter()
                .map(|_| Column {
                    text: Vec::new(),
                    seen: 0,
                })
                .collect(),
            by_field,
            column_fields,
            next_column: vec![frame_start; frame_start + 1],
            last_column: frame_start,
            quote,
            wanted,
            options,
            summary_columns: columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    FieldColumn::Field(f) => columns::column_of(f).map(|c| (i, c)),
                    FieldColumn::Proto(_) => None,
                })
                .collect(),
            proto_columns,
            layer_values: Vec::new(),
            time,
            defs,
            header_done: false,
            line: Vec::with_capacity(512),
        }
    }

    /// The `last_column` of a frame no field has filled yet.
    fn frame_start(&self) -> usize {
        self.columns.len()
    }

    fn write_header(&mut self) -> io::Result<()> {
        self.header_done = true;
        if self.options.bom {
            self.out.write_all("\u{feff}".as_bytes())?;
        }
        if self.options.header {
            let line = self.names.join(&self.options.separator);
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl<W: Write> FieldSink for FieldsSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.wanted.iter().any(|p| std::ptr::eq(*p, proto))
    }

    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}

    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let addr = key(def);
        let guess = self.next_column.get(self.last_column).copied();
        let guessed = guess.filter(|&g| self.column_fields.get(g) == Some(&(addr, true)));
        let i = match guessed {
            Some(i) => i,
            None => {
                let Some(cols) = self.by_field.get(&addr) else {
                    return;
                };
                let [i] = *cols.as_slice() else {
                    // A field asked for twice: every column of it, unguessed.
                    for &i in cols {
                        if let Some(col) = self.columns.get_mut(i) {
                            col.add(&self.options, |text| write_tshark(def, &value, text));
                        }
                    }
                    return;
                };
                // Learn the order: in the next frame, this field is guessed after the last.
                if let Some(next) = self.next_column.get_mut(self.last_column) {
                    *next = i;
                }
                i
            }
        };
        self.last_column = i;
        if let Some(col) = self.columns.get_mut(i) {
            col.add(&self.options, |text| write_tshark(def, &value, text));
        }
    }
}

impl<W: Write> Sink for FieldsSink<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(self.defs.clone())
    }
    fn needs_flows(&self) -> bool {
        crate::flow::needed_for_fields(&self.defs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn wants_columns(&self) -> bool {
        !self.summary_columns.is_empty()
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        self.write_frame(frame, None)
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        if !self.header_done {
            self.write_header()?;
        }
        self.out.flush()
    }
}

impl<W: Write> FieldsSink<W> {
    /// Writes the frame's line; the protocol columns' values come from `tree`.
    fn write_frame(
        &mut self,
        frame: &FrameEnd<'_>,
        tree: Option<&VerboseSink<io::Sink>>,
    ) -> io::Result<()> {
        if !self.header_done {
            self.write_header()?;
        }
        for &(i, c) in &self.summary_columns {
            if let Some(col) = self.columns.get_mut(i) {
                col.text.clear();
                super::summary::column_text(c, frame, &mut self.time, &mut col.text);
                col.seen = 1;
            }
        }
        if let Some(tree) = tree {
            for &(i, proto) in &self.proto_columns {
                self.layer_values.clear();
                tree.layer_values(proto, &mut self.layer_values);
                if let Some(col) = self.columns.get_mut(i) {
                    for v in &self.layer_values {
                        col.add(&self.options, |text| write_field_text(v.as_bytes(), text));
                    }
                }
            }
        }
        self.last_column = self.frame_start();
        self.line.clear();
        let separator = self.options.separator.as_bytes();
        for (i, col) in self.columns.iter_mut().enumerate() {
            if i > 0 {
                append(&mut self.line, separator);
            }
            if col.seen > 0 && !col.text.is_empty() {
                if !self.quote.is_empty() {
                    append(&mut self.line, &self.quote);
                }
                self.line.extend_from_slice(&col.text);
                if !self.quote.is_empty() {
                    append(&mut self.line, &self.quote);
                }
            }
            col.text.clear();
            col.seen = 0;
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

/// `-T fields` with protocol columns (`-e ip`): the fields, and the frame's `-V` tree whose
/// layer lines those columns print. Every call reaches the tree; fields reach both.
pub struct FieldsWithLayers<W: Write> {
    fields: FieldsSink<W>,
    tree: VerboseSink<io::Sink>,
}

/// The sink for `-T fields` with these columns.
pub fn fields_sink<W: Write + 'static>(
    out: W,
    columns: &[FieldColumn],
    options: FieldsOptions,
) -> Box<dyn Sink> {
    let fields = FieldsSink::new(out, columns, options);
    if fields.proto_columns.is_empty() {
        Box::new(fields)
    } else {
        Box::new(FieldsWithLayers {
            fields,
            tree: VerboseSink::new(io::sink()),
        })
    }
}

impl<W: Write> FieldSink for FieldsWithLayers<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        self.tree.wants(proto) || self.fields.wants(proto)
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        self.tree.layer(proto, span);
    }
    fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        self.fields.field(def, span, value);
        self.tree.field(def, span, value);
    }
    fn field_shown(
        &mut self,
        def: &'static FieldDef,
        span: Span,
        value: Value<'_>,
        shown: Shown<'_>,
    ) {
        self.fields.field(def, span, value);
        self.tree.field_shown(def, span, value, shown);
    }
    // The tree draws; the fields want none of it. (The tree's wants_text is true.)
    forward_tree_calls!(tree);
}

impl<W: Write> Sink for FieldsWithLayers<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        // A layer's line is made of its fields: the tree needs them all.
        None
    }
    fn needs_flows(&self) -> bool {
        // Application layers, and TCP's relative numbers in its line, need the flow engine.
        true
    }
    fn wants_columns(&self) -> bool {
        self.fields.wants_columns()
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.tree.begin_frame(meta);
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        self.fields.write_frame(frame, Some(&self.tree))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.fields.flush()
    }
    fn finish(&mut self, end: &super::RunEnd<'_>) -> io::Result<()> {
        self.fields.finish(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::testutil::end_blank_frame;
    use netsniff_dissectors::Kind;

    static A: FieldDef = FieldDef::new("p.a", "A", Kind::Dec);
    static B: FieldDef = FieldDef::new("p.b", "B", Kind::Dec);
    static C: FieldDef = FieldDef::new("p.c", "C", Kind::Dec);

    #[test]
    fn columns_whatever_order_the_fields_come_in() {
        // `A` twice, and frames whose fields come in other orders than the last frame's.
        let columns = [
            FieldColumn::Field(&B),
            FieldColumn::Field(&A),
            FieldColumn::Field(&C),
            FieldColumn::Field(&A),
        ];
        let mut sink = FieldsSink::new(Vec::new(), &columns, FieldsOptions::default());
        let frames: [&[(&'static FieldDef, u64)]; 4] = [
            &[(&A, 1), (&B, 2), (&C, 3)],
            &[(&A, 4), (&B, 5), (&C, 6)],
            &[(&C, 7), (&B, 8), (&B, 9)],
            &[(&B, 10), (&A, 11), (&C, 12), (&A, 13)],
        ];
        for fields in frames {
            for &(def, v) in fields {
                sink.field(def, Span::GENERATED, Value::U(v));
            }
            end_blank_frame(&mut sink);
        }
        assert_eq!(
            String::from_utf8(sink.out).unwrap(),
            "2\t1\t3\t1\n5\t4\t6\t4\n8,9\t\t7\t\n10\t11,13\t12\t11,13\n"
        );
    }

    #[test]
    fn one_byte_and_longer_separators_and_quotes() {
        let columns = [FieldColumn::Field(&A), FieldColumn::Field(&B)];
        for (separator, quote, expected) in [
            (",", None, "1,2\n"),
            ("é", Some('"'), "\"1\"é\"2\"\n"),
            ("\t", Some('é'), "é1é\té2é\n"),
        ] {
            let options = FieldsOptions {
                separator: separator.into(),
                quote,
                ..FieldsOptions::default()
            };
            let mut sink = FieldsSink::new(Vec::new(), &columns, options);
            sink.field(&A, Span::GENERATED, Value::U(1));
            sink.field(&B, Span::GENERATED, Value::U(2));
            end_blank_frame(&mut sink);
            assert_eq!(String::from_utf8(sink.out).unwrap(), expected);
        }
    }
}
