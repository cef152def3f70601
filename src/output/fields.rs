//! `-T fields`: the values of the named fields, one line per frame, formatted exactly as
//! `tshark -T fields` prints them (with `-E` header, separator, occurrence, aggregator, quote).

use super::columns;
use super::summary::Column as SummaryColumn;
use super::{FrameEnd, Sink};
use crate::cli::config::{FieldsOptions, Occurrence};
use netsniff_dissectors::field::write_tshark;
use netsniff_dissectors::{proto, FieldDef, FieldSink, Proto, Span, Value};
use rustc_hash::FxHashMap;
use std::io::{self, Write};

struct Column {
    /// The values so far, joined by the aggregator.
    text: Vec<u8>,
    /// Occurrences seen in this frame.
    seen: u32,
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
    /// Protocols with a requested field in their field list.
    wanted: Vec<&'static Proto>,
    options: FieldsOptions,
    /// The columns showing a summary column (`_ws.col.Info`), and which.
    summary_columns: Vec<(usize, SummaryColumn)>,
    header_done: bool,
    line: Vec<u8>,
}

fn key(def: &FieldDef) -> usize {
    def as *const FieldDef as usize
}

impl<W: Write> FieldsSink<W> {
    pub fn new(out: W, fields: &[&'static FieldDef], options: FieldsOptions) -> Self {
        let mut by_field: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (i, f) in fields.iter().enumerate() {
            by_field.entry(key(f)).or_default().push(i);
        }
        let wanted = proto::all_protos()
            .filter(|p| p.fields.iter().any(|f| by_field.contains_key(&key(f))))
            .collect();
        FieldsSink {
            out,
            defs: fields.to_vec(),
            names: fields.iter().map(|f| f.name).collect(),
            columns: fields
                .iter()
                .map(|_| Column {
                    text: Vec::new(),
                    seen: 0,
                })
                .collect(),
            by_field,
            wanted,
            options,
            summary_columns: fields
                .iter()
                .enumerate()
                .filter_map(|(i, f)| columns::column_of(f).map(|c| (i, c)))
                .collect(),
            header_done: false,
            line: Vec::with_capacity(512),
        }
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
        let Some(cols) = self.by_field.get(&key(def)) else {
            return;
        };
        for &i in cols {
            let Some(col) = self.columns.get_mut(i) else {
                continue;
            };
            col.seen += 1;
            match self.options.occurrence {
                Occurrence::First if col.seen > 1 => continue,
                Occurrence::Nth(n) if col.seen != n => continue,
                Occurrence::Last | Occurrence::First | Occurrence::Nth(_) => col.text.clear(),
                Occurrence::All => {
                    if col.seen > 1 {
                        col.text
                            .extend_from_slice(self.options.aggregator.as_bytes());
                    }
                }
            }
            write_tshark(def, &value, &mut col.text);
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
        if !self.header_done {
            self.write_header()?;
        }
        for &(i, c) in &self.summary_columns {
            if let Some(col) = self.columns.get_mut(i) {
                col.text.clear();
                super::summary::column_text(c, frame, &mut col.text);
                col.seen = 1;
            }
        }
        self.line.clear();
        for (i, col) in self.columns.iter_mut().enumerate() {
            if i > 0 {
                self.line
                    .extend_from_slice(self.options.separator.as_bytes());
            }
            if col.seen > 0 && !col.text.is_empty() {
                let mut q = [0u8; 4];
                let quote = self
                    .options
                    .quote
                    .map(|c| c.encode_utf8(&mut q).as_bytes().to_vec());
                if let Some(q) = &quote {
                    self.line.extend_from_slice(q);
                }
                self.line.extend_from_slice(&col.text);
                if let Some(q) = &quote {
                    self.line.extend_from_slice(q);
                }
            }
            col.text.clear();
            col.seen = 0;
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        if !self.header_done {
            self.write_header()?;
        }
        self.out.flush()
    }
}
