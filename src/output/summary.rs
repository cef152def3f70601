//! `-P`: one line per frame with tshark's default columns: number, time since the first frame,
//! source, destination, protocol, length, info.

use super::{FrameEnd, Sink};
use netsniff_dissectors::{Address, FieldDef, FieldSink, Proto, Span, Value};
use std::io::{self, Write};

/// Prints summary lines to `out`.
pub struct SummarySink<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> SummarySink<W> {
    pub fn new(out: W) -> Self {
        SummarySink {
            out,
            line: Vec::with_capacity(256),
        }
    }
}

impl<W: Write> FieldSink for SummarySink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for SummarySink<W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn wants_columns(&self) -> bool {
        true
    }

    fn end_frame(&mut self, f: &FrameEnd<'_>) -> io::Result<()> {
        self.line.clear();
        write_line(&mut self.line, f);
        self.out.write_all(&self.line)
    }

    fn finish(&mut self, _end: &super::RunEnd<'_>) -> io::Result<()> {
        self.out.flush()
    }
}

/// Formats one summary line (with its newline) as tshark prints it.
pub fn write_line(line: &mut Vec<u8>, f: &FrameEnd<'_>) {
    let m = f.meta;
    pad_left(line, itoa::Buffer::new().format(m.number).as_bytes(), 5);
    line.push(b' ');
    let mut t = Vec::with_capacity(24);
    write_time(&mut t, m.rel_secs, m.rel_nanos, m.ts_digits);
    pad_left(line, &t, 10);
    line.push(b' ');
    let (src, dst) = (f.cols.src, f.cols.dst);
    if src != Address::None || dst != Address::None {
        let s = src.to_string();
        let d = dst.to_string();
        pad_left(line, s.as_bytes(), 12);
        line.extend_from_slice(" → ".as_bytes());
        line.extend_from_slice(d.as_bytes());
        line.extend(std::iter::repeat_n(b' ', 12usize.saturating_sub(d.len())));
        line.push(b' ');
    }
    let proto = if f.cols.protocol.is_empty() {
        f.protocols.last().unwrap_or("")
    } else {
        f.cols.protocol
    };
    line.extend_from_slice(proto.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(m.len).as_bytes());
    line.push(b' ');
    line.extend_from_slice(f.cols.info.as_bytes());
    line.push(b'\n');
}

fn pad_left(line: &mut Vec<u8>, text: &[u8], width: usize) {
    line.extend(std::iter::repeat_n(b' ', width.saturating_sub(text.len())));
    line.extend_from_slice(text);
}

/// `secs.fraction` with `digits` decimals (truncated, as the capture's precision allows).
pub fn write_time(out: &mut Vec<u8>, secs: i64, nanos: u32, digits: u8) {
    out.extend_from_slice(itoa::Buffer::new().format(secs).as_bytes());
    let digits = u32::from(digits.clamp(1, 9));
    out.push(b'.');
    let frac = nanos / 10u32.pow(9 - digits);
    let s = itoa::Buffer::new().format(frac).to_string();
    out.extend(std::iter::repeat_n(
        b'0',
        (digits as usize).saturating_sub(s.len()),
    ));
    out.extend_from_slice(s.as_bytes());
}
