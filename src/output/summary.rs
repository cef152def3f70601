//! `-P`: one line per frame with tshark's default columns: number, time since the first frame,
//! source, destination, protocol, length, info.

use super::{FrameEnd, Sink};
use crate::cli::args::TimeFormat;
use chrono::{Local, TimeZone, Utc};
use netsniff_dissectors::{
    text, Address, Columns, FieldDef, FieldSink, FrameMeta, LinkType, Proto, Span, Value,
};
use std::io::{self, Write};

/// Prints summary lines to `out`.
pub struct SummarySink<W: Write> {
    out: W,
    line: Vec<u8>,
    time: TimeColumn,
}

impl<W: Write> SummarySink<W> {
    pub fn new(out: W, time: TimeFormat) -> Self {
        SummarySink {
            out,
            line: Vec::with_capacity(256),
            time: TimeColumn::new(time),
        }
    }
}

/// The Time column in the format `-t` names. It sees the frames shown, in order: the time
/// since the previous one shown (`-t dd`) is its state.
#[derive(Debug, Clone)]
pub struct TimeColumn {
    format: TimeFormat,
    /// The frame written last (its number and capture time), and the one shown before it.
    last: Option<(u64, (i64, u32))>,
    before_last: Option<(i64, u32)>,
}

impl TimeColumn {
    pub fn new(format: TimeFormat) -> TimeColumn {
        TimeColumn {
            format,
            last: None,
            before_last: None,
        }
    }

    /// Appends frame `m`'s time (the same text however often it is asked for one frame).
    fn write(&mut self, m: &FrameMeta, out: &mut Text) {
        if m.no_timestamp {
            return;
        }
        let now = (m.secs, m.nanos);
        if self.last.is_none_or(|(n, _)| n != m.number) {
            self.before_last = self.last.map(|(_, t)| t);
            self.last = Some((m.number, now));
        }
        let digits = m.ts_digits;
        match self.format {
            TimeFormat::Relative => write_time(out, m.rel_secs, m.rel_nanos, digits),
            TimeFormat::Delta => write_time(out, m.delta_secs, m.delta_nanos, digits),
            TimeFormat::DeltaDisplayed => {
                let (ps, pn) = self.before_last.unwrap_or(now);
                let ns = (i128::from(now.0) - i128::from(ps)) * 1_000_000_000 + i128::from(now.1)
                    - i128::from(pn);
                let s = i64::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(0);
                let n = u32::try_from(ns.rem_euclid(1_000_000_000)).unwrap_or(0);
                write_time(out, s, n, digits);
            }
            TimeFormat::Epoch => write_time(out, m.secs, m.nanos, digits),
            TimeFormat::Absolute | TimeFormat::AbsoluteDate | TimeFormat::AbsoluteDoy => {
                if let chrono::LocalResult::Single(t) = Local.timestamp_opt(m.secs, m.nanos) {
                    write_clock(out, &t, self.format, m.nanos, digits);
                }
            }
            TimeFormat::Utc | TimeFormat::UtcDate | TimeFormat::UtcDoy => {
                if let chrono::LocalResult::Single(t) = Utc.timestamp_opt(m.secs, m.nanos) {
                    write_clock(out, &t, self.format, m.nanos, digits);
                }
            }
        }
    }
}

/// `HH:MM:SS.fraction`, after `YYYY-MM-DD ` or `YYYY/DDD ` for the formats with a date.
fn write_clock<Tz: chrono::TimeZone>(
    out: &mut Text,
    t: &chrono::DateTime<Tz>,
    format: TimeFormat,
    nanos: u32,
    digits: u8,
) {
    use chrono::{Datelike, Timelike};
    let text = match format {
        TimeFormat::AbsoluteDate | TimeFormat::UtcDate => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        TimeFormat::AbsoluteDoy | TimeFormat::UtcDoy => format!(
            "{:04}/{:03} {:02}:{:02}:{:02}",
            t.year(),
            t.ordinal(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        _ => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
    };
    out.push(text.as_bytes());
    write_fraction(out, nanos, digits);
}

impl<W: Write> FieldSink for SummarySink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for SummarySink<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(Vec::new())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn wants_columns(&self) -> bool {
        true
    }

    fn prerender(&self) -> Option<super::Prerender> {
        // The reading thread writes the default Time column; other formats are written here.
        (self.time.format == TimeFormat::Relative).then_some(write_prefix as super::Prerender)
    }

    fn end_frame(&mut self, f: &FrameEnd<'_>) -> io::Result<()> {
        self.line.clear();
        write_line(&mut self.line, f, &mut self.time);
        self.out.write_all(&self.line)
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        self.out.flush()
    }
}

/// Formats one summary line (with its newline) as tshark prints it: `No.` right-aligned in 5,
/// `Time` right-aligned in 10, `Source` right-aligned in 12, an arrow, `Destination` left-aligned
/// in 12, then `Protocol`, `Length` and `Info` unpadded (tshark's `print_columns`). The arrow is
/// printed even when both addresses are empty, as tshark does.
pub fn write_line(line: &mut Vec<u8>, f: &FrameEnd<'_>, time: &mut TimeColumn) {
    let m = f.meta;
    if f.pre.is_empty() {
        write_prefix_timed(m, f.cols, time, line);
    } else {
        line.extend_from_slice(f.pre);
    }
    let (proto, info) = protocol_and_info(f);
    line.extend_from_slice(proto.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(m.len).as_bytes());
    line.push(b' ');
    line.extend_from_slice(info.as_bytes());
    line.push(b'\n');
}

/// One of the summary line's columns (see [`super::columns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Number,
    Time,
    Source,
    Destination,
    Protocol,
    Length,
    Info,
}

/// The Protocol and Info columns of a frame, as the summary line shows them.
fn protocol_and_info<'f>(f: &'f FrameEnd<'_>) -> (&'f str, &'f str) {
    if f.meta.link_type == LinkType::PCAPNG_CUSTOM {
        ("PCAPNG", "Custom Block")
    } else if f.cols.protocol.is_empty() {
        (f.protocols.last().unwrap_or(""), f.cols.info.as_str())
    } else {
        (f.cols.protocol, f.cols.info.as_str())
    }
}

/// Appends column `col` of frame `f`, unpadded, as `-T fields -e _ws.col.…` prints it.
pub fn column_text(col: Column, f: &FrameEnd<'_>, time: &mut TimeColumn, out: &mut Vec<u8>) {
    let m = f.meta;
    let mut t = Text::new();
    match col {
        Column::Number => t.push(itoa::Buffer::new().format(m.number).as_bytes()),
        Column::Time => time.write(m, &mut t),
        Column::Source => write_address(&mut t, f.cols.src),
        Column::Destination => write_address(&mut t, f.cols.dst),
        Column::Length => t.push(itoa::Buffer::new().format(m.len).as_bytes()),
        Column::Protocol => {
            out.extend_from_slice(protocol_and_info(f).0.as_bytes());
            return;
        }
        Column::Info => {
            let info = protocol_and_info(f).1;
            netsniff_dissectors::field::write_field_text(info.as_bytes(), out);
            return;
        }
    }
    out.extend_from_slice(t.as_bytes());
}

/// The columns up to the destination (with the space after it): number, time, source, arrow,
/// destination. They depend only on the capture and L2–L3, so the reading thread writes them
/// (see [`super::Prerender`]).
pub fn write_prefix(m: &FrameMeta, cols: &Columns, line: &mut Vec<u8>) {
    let mut t = Text::new();
    if !m.no_timestamp {
        write_time(&mut t, m.rel_secs, m.rel_nanos, m.ts_digits);
    }
    write_prefix_with_time(m, cols, &t, line);
}

/// [`write_prefix`] with the Time column in `time`'s format.
fn write_prefix_timed(m: &FrameMeta, cols: &Columns, time: &mut TimeColumn, line: &mut Vec<u8>) {
    let mut t = Text::new();
    time.write(m, &mut t);
    write_prefix_with_time(m, cols, &t, line);
}

fn write_prefix_with_time(m: &FrameMeta, cols: &Columns, t: &Text, line: &mut Vec<u8>) {
    let mut number = Text::new();
    number.push_uint(m.number);
    push_right(line, &number, 5);
    line.push(b' ');
    push_right(line, t, 10);
    line.push(b' ');
    let mut a = Text::new();
    write_address(&mut a, cols.src);
    push_right(line, &a, 12);
    line.extend_from_slice(" → ".as_bytes());
    let mut a = Text::new();
    write_address(&mut a, cols.dst);
    push_block(line, &a.buf, a.len);
    push_spaces(line, 12usize.saturating_sub(a.len));
    line.push(b' ');
}

/// Appends `t` right-aligned in `width` columns.
fn push_right(line: &mut Vec<u8>, t: &Text, width: usize) {
    push_spaces(line, width.saturating_sub(t.len));
    push_block(line, &t.buf, t.len);
}

/// Appends `n` spaces.
fn push_spaces(line: &mut Vec<u8>, n: usize) {
    const SPACES: &[u8; 16] = b"                ";
    if n <= SPACES.len() {
        push_block(line, SPACES, n);
    } else {
        line.resize(line.len() + n, b' ');
    }
}

/// Appends the first `len` bytes of `block` by appending the whole block and cutting the rest
/// off again: a copy of a size known when compiling is a few moves, where one of `len` bytes
/// is a `memcpy` call (and these pieces are short: a column, some padding).
fn push_block<const M: usize>(line: &mut Vec<u8>, block: &[u8; M], len: usize) {
    let end = line.len() + len.min(M);
    line.extend_from_slice(block);
    line.truncate(end);
}

/// The capacity of one column's [`Text`] (the longest is an IPv6 address or a time).
const COLUMN_CAP: usize = 64;

/// A small stack buffer for one column's text; longer text is cut.
struct Text {
    buf: [u8; COLUMN_CAP],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text {
            buf: [0; COLUMN_CAP],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(self.buf.len());
        if let (Some(dst), Some(src)) =
            (self.buf.get_mut(self.len..end), bytes.get(..end - self.len))
        {
            dst.copy_from_slice(src);
        }
        self.len = end;
    }

    fn push_byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Appends the decimal text of `v`.
    fn push_uint(&mut self, v: u64) {
        self.push_digits(v, text::decimal_len(v));
    }

    /// Appends the last `n` decimal digits of `v`, with leading zeros up to `n` (nothing if
    /// they do not fit).
    fn push_digits(&mut self, v: u64, n: usize) {
        if let Some(slots) = self.buf.get_mut(self.len..self.len + n) {
            text::write_decimal(slots, v);
            self.len += n;
        }
    }
}

impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

fn write_address(out: &mut Text, addr: Address) {
    match addr {
        Address::None => {}
        Address::Ipv4(a) => {
            // Written in place, into the 16 bytes after the text so far.
            let room = out.buf.get_mut(out.len..out.len + 16);
            if let Some(room) = room.and_then(|r| <&mut [u8; 16]>::try_from(r).ok()) {
                out.len += text::ipv4_bytes(a, room);
            }
        }
        other => {
            let _ = std::fmt::Write::write_fmt(out, format_args!("{other}"));
        }
    }
}

/// `secs.fraction` with `digits` decimals (truncated, as the capture's precision allows). A
/// negative time is written as tshark does: sign, then the magnitude (`-1.250000`).
fn write_time(out: &mut Text, secs: i64, nanos: u32, digits: u8) {
    let (secs, nanos) = if secs < 0 && nanos > 0 {
        out.push(b"-");
        ((-(secs + 1)).unsigned_abs(), 1_000_000_000 - nanos)
    } else {
        if secs < 0 {
            out.push(b"-");
        }
        (secs.unsigned_abs(), nanos)
    };
    out.push_uint(secs);
    write_fraction(out, nanos, digits);
}

/// `.` and the first `digits` decimals of `nanos` (truncated).
fn write_fraction(out: &mut Text, nanos: u32, digits: u8) {
    /// `10^(9 - digits)`: what dividing by leaves the first `digits` of nine decimals.
    const DROP: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let digits = usize::from(digits.clamp(1, 9));
    out.push_byte(b'.');
    let frac = nanos.min(999_999_999) / DROP.get(digits).copied().unwrap_or(1);
    out.push_digits(u64::from(frac), digits);
}
