//! Conversation tables: `-z conv,tcp` / `-z conv,udp` in tshark's layout, and the table of
//! `netsniff flows` (text or JSON). Both print at the end of the run, from the flow engine's
//! summaries; neither wants any field.
//!
//! tshark's layout, reproduced byte for byte: address A is the sender of the conversation's
//! first frame; `<-` counts frames B→A and `->` frames A→B; bytes are frame lengths, shown as
//! tshark's `format_size` does (`872 bytes`, `4949 kB`, SI prefixes, truncated); rows are
//! sorted by total frames, most first, ties in order of first appearance; the relative start
//! has nine decimals and the duration four. With several `-z` options, tshark prints the last
//! one's table first; so does netsniff.

use super::{FrameEnd, RunEnd, Sink};
use crate::cli::args::FlowSort;
use crate::flow::key::{Addr, Endpoint, L4};
use crate::flow::tcp_analysis::Nanos;
use crate::flow::{FlowStats, FlowSummary};
use netsniff_dissectors::text::{decimal_len, ipv4_bytes, push_int, write_decimal};
use netsniff_dissectors::{FieldDef, FieldSink, Proto, Span, Value};
use serde_json::json;
use std::io::{self, Write};

pub const RULE: &str =
    "================================================================================";

/// tshark's `format_size` with SI prefixes and the "bytes" unit: below 10 000, `N bytes`;
/// above, the count of the largest prefix that leaves at least 10 units, truncated.
pub fn format_size(n: u64) -> String {
    let mut text = String::new();
    push_size(&mut text, n);
    text
}

/// Appends [`format_size`]'s text.
fn push_size(out: &mut String, n: u64) {
    const PREFIXES: [(u64, &str); 5] = [
        (1_000_000_000_000_000, " PB"),
        (1_000_000_000_000, " TB"),
        (1_000_000_000, " GB"),
        (1_000_000, " MB"),
        (1_000, " kB"),
    ];
    for (power, unit) in PREFIXES {
        if n >= power.saturating_mul(10) {
            push_int(out, n / power);
            out.push_str(unit);
            return;
        }
    }
    push_int(out, n);
    out.push_str(" bytes");
}

/// Seconds with `digits` decimals from nanoseconds (rounded half up, as printf does for
/// these values).
fn seconds(ns: Nanos, digits: u32) -> String {
    let mut s = String::new();
    write_seconds(&mut s, ns, digits);
    s
}

/// [`seconds`], appended to `out`.
fn write_seconds(out: &mut String, ns: Nanos, digits: u32) {
    if ns < 0 {
        out.push('-');
    }
    push_units(out, rounded_units(ns, digits), digits);
}

/// `|ns|` in units of 10^-digits seconds (digits ≤ 9), rounded half up.
fn rounded_units(ns: Nanos, digits: u32) -> u64 {
    let scale = 10u64.pow(9 - digits.min(9));
    (ns.unsigned_abs() + scale / 2) / scale
}

/// The length of what [`write_seconds`] writes.
fn seconds_len(ns: Nanos, digits: u32) -> usize {
    let units = rounded_units(ns, digits);
    let one = 10u64.pow(digits.min(9));
    usize::from(ns < 0)
        + decimal_len(units / one)
        + if digits > 0 { 1 + digits as usize } else { 0 }
}

/// Writes `format!("{v:>width$.digits$}")` (digits ≤ 9) without float formatting's exact
/// algorithm, which cost 1 200 instructions a number, most of a conversation row. `v` scaled
/// by 10^digits is rounded in f64: the product's rounding error is at most half an ulp of it,
/// so unless it lies within that of a rounding tie (x.5), it rounds to the integer the exact
/// decimal expansion does. Values near a tie, negative, or too large for that are formatted
/// as before.
fn push_fixed(out: &mut String, v: f64, digits: u32, width: usize) {
    let one = 10u64.pow(digits.min(9));
    let scaled = v * one as f64;
    let fraction = scaled - scaled.floor();
    // Twice the product's worst error: a margin either side of the tie.
    let margin = scaled * f64::EPSILON;
    if !(v >= 0.0 && scaled < (1u64 << 50) as f64 && (fraction - 0.5).abs() > margin) {
        // Formatting into a String cannot fail.
        let _ = std::fmt::Write::write_fmt(
            out,
            format_args!("{v:>width$.digits$}", digits = digits as usize),
        );
        return;
    }
    let units = scaled.round() as u64;
    let len = decimal_len(units / one) + if digits > 0 { 1 + digits as usize } else { 0 };
    push_spaces(out, width.saturating_sub(len));
    push_units(out, units, digits);
}

/// Writes `units` of 10^-digits (digits ≤ 9) as a decimal with `digits` places.
fn push_units(out: &mut String, units: u64, digits: u32) {
    /// The most leading zeros a fraction needs (nine digits at most).
    const ZEROS: &str = "000000000";
    let one = 10u64.pow(digits.min(9));
    push_int(out, units / one);
    if digits > 0 {
        out.push('.');
        let mut buf = itoa::Buffer::new();
        let fraction = buf.format(units % one);
        let zeros = (digits as usize).saturating_sub(fraction.len());
        out.push_str(ZEROS.get(..zeros).unwrap_or(ZEROS));
        out.push_str(fraction);
    }
}

/// Seconds as Wireshark's `nstime_to_sec` computes them.
pub fn to_sec(ns: Nanos) -> f64 {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    secs as f64 + nanos as f64 / 1e9
}

/// The first lines of a tshark statistics table: the rule, `TITLE`, and its filter (tshark's
/// `<No Filter>` without one).
pub fn write_heading(out: &mut dyn Write, title: &str, filter: Option<&str>) -> io::Result<()> {
    writeln!(out, "{RULE}")?;
    writeln!(out, "{title}")?;
    writeln!(out, "Filter:{}", filter.unwrap_or("<No Filter>"))
}

/// Writes one `-z conv` table (`l4`) for `flows` (in any order: the rows are sorted on a key
/// that tells every conversation apart).
pub fn write_conv_table(out: &mut dyn Write, l4: L4, flows: &[FlowSummary]) -> io::Result<()> {
    let title = match l4 {
        L4::Tcp => "TCP",
        L4::Udp => "UDP",
    };
    write_heading(out, &format!("{title} Conversations"), None)?;
    writeln!(
        out,
        "{:59}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |",
        ""
    )?;
    writeln!(
        out,
        "{:59}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |",
        ""
    )?;
    // A conversation only ever quoted in ICMP errors has no frame of its own: tshark does
    // not list it.
    let mut rows: Vec<&FlowSummary> = flows
        .iter()
        .filter(|f| f.l4 == l4 && f.frames_ab + f.frames_ba > 0)
        .collect();
    // Most frames first; ties in order of first appearance, then of stream (the summaries
    // come in no order, and putting them in stream order first cost a tenth of the table).
    sort_by_key_once(&mut rows, |f| {
        (
            std::cmp::Reverse(f.frames_ab + f.frames_ba),
            f.first_frame,
            f.stream,
        )
    });
    write_rows(out, &rows, |_: &mut (), line, f| {
        let total = f.frames_ab + f.frames_ba;
        // tshark prints doubles: the start, and the stop minus the start.
        let start = to_sec(f.start_rel);
        let duration = to_sec(f.start_rel + f.duration) - start;
        for (e, sep) in [(f.a, " <-> "), (f.b, "  ")] {
            let at = line.len();
            e.push_text(line);
            push_spaces(line, 26usize.saturating_sub(line.len() - at));
            line.push_str(sep);
        }
        let sizes = [
            (f.frames_ba, f.bytes_ba),
            (f.frames_ab, f.bytes_ab),
            (total, f.bytes_ab + f.bytes_ba),
        ];
        for (frames, bytes) in sizes {
            push_spaces(line, 6usize.saturating_sub(decimal_len(frames)));
            push_int(line, frames);
            line.push(' ');
            let at = line.len();
            push_size(line, bytes);
            push_spaces(line, 9usize.saturating_sub(line.len() - at));
            line.push_str("  ");
        }
        push_fixed(line, start, 9, 14);
        line.push_str("   ");
        push_fixed(line, duration, 4, 12);
        line.push('\n');
    })?;
    writeln!(out, "{RULE}")
}

/// Reports what the flow engine's caps dropped on stderr, when they dropped anything (the
/// tshark layouts on stdout stay untouched).
pub fn warn_caps(stats: &FlowStats) {
    if let Some(line) = caps_line(stats) {
        eprintln!("netsniff: {line}");
    }
}

/// One line on what the caps dropped, or `None` when nothing was.
pub fn caps_line(stats: &FlowStats) -> Option<String> {
    let t = &stats.table;
    let a = &stats.app;
    if t.evicted == 0
        && t.records_dropped == 0
        && t.forgotten == 0
        && a.tail_overflows == 0
        && a.contract_violations == 0
        && stats.echo_dropped == 0
    {
        return None;
    }
    let mut line = format!(
        "flow caps reached: {} flows evicted, {} resumed after leaving the table, \
         {} forgotten (tombstone cap), {} conversations not listed (record cap), \
         {} parser buffers dropped, {} parser contract violations",
        t.evicted,
        t.resumed,
        t.forgotten,
        t.records_dropped,
        a.tail_overflows,
        a.contract_violations
    );
    if stats.echo_dropped > 0 {
        line.push_str(&format!(
            ", {} echo requests forgotten unanswered",
            stats.echo_dropped
        ));
    }
    Some(line)
}

/// `-z conv,tcp` or `-z conv,udp`.
pub struct ConvSink<W: Write> {
    out: W,
    l4: L4,
}

impl<W: Write> ConvSink<W> {
    pub fn new(out: W, l4: L4) -> Self {
        ConvSink { out, l4 }
    }
}

impl<W: Write> FieldSink for ConvSink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for ConvSink<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(Vec::new())
    }
    fn uses_frames(&self) -> bool {
        false
    }
    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        write_conv_table(&mut self.out, self.l4, end.flows.conversations_unordered())?;
        self.out.flush()
    }
}

/// `netsniff flows`: one row per conversation.
pub struct FlowsSink<W: Write> {
    out: W,
    sort: FlowSort,
    json: bool,
}

impl<W: Write> FlowsSink<W> {
    pub fn new(out: W, sort: FlowSort, json: bool) -> Self {
        FlowsSink { out, sort, json }
    }
}

impl<W: Write> FieldSink for FlowsSink<W> {
    fn wants(&self, _proto: &'static Proto) -> bool {
        false
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for FlowsSink<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(Vec::new())
    }
    fn uses_frames(&self) -> bool {
        false
    }
    fn end_frame(&mut self, _frame: &FrameEnd<'_>) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let mut flows = end.flows.conversations();
        // Conversations only ever quoted in ICMP errors have no frame of their own.
        flows.retain(|f| f.frames_ab + f.frames_ba > 0);
        sort_flows(&mut flows, self.sort);
        let stats = end.flows.stats();
        if self.json {
            write_flows_json(&mut self.out, &flows, &stats, end.frames)?;
        } else {
            write_flows_text(&mut self.out, &flows, &stats, end.frames)?;
        }
        self.out.flush()
    }
}

/// Orders rows for `--sort`: by start ascending, by bytes, packets or duration descending
/// (ties by protocol and stream).
pub fn sort_flows(flows: &mut [&FlowSummary], sort: FlowSort) {
    use std::cmp::Reverse;
    let tie = |f: &&FlowSummary| (f.l4 != L4::Tcp, f.stream);
    match sort {
        FlowSort::Start => sort_by_key_once(flows, |f| (f.start, f.first_frame)),
        FlowSort::Bytes => sort_by_key_once(flows, |f| (Reverse(f.bytes_ab + f.bytes_ba), tie(f))),
        FlowSort::Packets => {
            sort_by_key_once(flows, |f| (Reverse(f.frames_ab + f.frames_ba), tie(f)))
        }
        FlowSort::Duration => sort_by_key_once(flows, |f| (Reverse(f.duration), tie(f))),
    }
}

/// A stable sort of `rows` by `key`, computed once per row: comparing summaries in place
/// reads them at random, a cache miss per comparison in a table of a million. (Stable, as
/// `sort_by_cached_key` is in effect; `netsniff flows` gives its rows in stream order, TCP
/// then UDP, two runs already in start order that a stable sort merges in one pass.)
fn sort_by_key_once<K: Ord>(rows: &mut [&FlowSummary], key: impl Fn(&&FlowSummary) -> K) {
    let mut keyed: Vec<(K, &FlowSummary)> = rows.iter().map(|f| (key(f), *f)).collect();
    keyed.sort_by(|x, y| x.0.cmp(&y.0));
    for (row, (_, f)) in rows.iter_mut().zip(keyed) {
        *row = f;
    }
}

/// Client→server and server→client (frames, bytes, payload bytes).
fn by_role(f: &FlowSummary) -> ([u64; 3], [u64; 3]) {
    let ab = [f.frames_ab, f.bytes_ab, f.payload_ab];
    let ba = [f.frames_ba, f.bytes_ba, f.payload_ba];
    if f.client_is_a {
        (ab, ba)
    } else {
        (ba, ab)
    }
}

/// The cells of one row of the text table, written one after the other with the text
/// helpers: what [`lay_out_row`] must write in place (its tests compare the two).
#[cfg(test)]
#[derive(Default)]
struct Cells {
    text: String,
    ends: [usize; 14],
}

#[cfg(test)]
impl Cells {
    fn fill(&mut self, f: &FlowSummary) {
        let (client, server) = f.roles();
        let (up, down) = by_role(f);
        self.text.clear();
        let t = &mut self.text;
        let mut ends = [0; 14];
        let mut cell = 0;
        let mut end = |t: &String| {
            if let Some(e) = ends.get_mut(cell) {
                *e = t.len();
            }
            cell += 1;
        };
        t.push_str(f.l4.name());
        end(t);
        push_int(t, f.stream);
        end(t);
        client.push_text(t);
        end(t);
        server.push_text(t);
        end(t);
        for n in [up[0], up[1], down[0], down[1]] {
            push_int(t, n);
            end(t);
        }
        write_seconds(t, f.start_rel, 6);
        end(t);
        write_seconds(t, f.duration, 6);
        end(t);
        t.push_str(f.state.unwrap_or("-"));
        end(t);
        match f.handshake_rtt {
            Some(r) => write_seconds(t, r, 6),
            None => t.push('-'),
        }
        end(t);
        if f.l4 == L4::Tcp {
            push_int(t, f.retransmissions);
        } else {
            t.push('-');
        }
        end(t);
        t.push_str(f.app.unwrap_or("-"));
        end(t);
        self.ends = ends;
    }

    /// Cell `i` of the row last filled.
    fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or("")
    }
}

/// The byte lengths of the cells of `f`'s row, counted rather than written: the widths pass
/// of a table of a million flows, and where [`lay_out_row`] puts each cell (`scratch` for
/// IPv6 addresses).
fn cell_lengths(f: &FlowSummary, scratch: &mut String) -> [usize; 14] {
    let (client, server) = f.roles();
    let (up, down) = by_role(f);
    let mut endpoint_len = |e: Endpoint| {
        let addr = match e.addr {
            Addr::V4(a) => a.iter().map(|&o| decimal_len(u64::from(o))).sum::<usize>() + 3,
            Addr::V6(_) => {
                scratch.clear();
                e.addr.push_text(scratch);
                scratch.len()
            }
        };
        addr + 1 + decimal_len(u64::from(e.port))
    };
    [
        f.l4.name().len(),
        decimal_len(f.stream),
        endpoint_len(client),
        endpoint_len(server),
        decimal_len(up[0]),
        decimal_len(up[1]),
        decimal_len(down[0]),
        decimal_len(down[1]),
        seconds_len(f.start_rel, 6),
        seconds_len(f.duration, 6),
        f.state.unwrap_or("-").len(),
        f.handshake_rtt.map_or(1, |r| seconds_len(r, 6)),
        match f.l4 {
            L4::Tcp => decimal_len(f.retransmissions),
            _ => 1,
        },
        f.app.unwrap_or("-").len(),
    ]
}

/// The text table's columns.
const FLOWS_HEADER: [&str; 14] = [
    "PROTO", "STREAM", "CLIENT", "SERVER", "PKTS>", "BYTES>", "PKTS<", "BYTES<", "START",
    "DURATION", "STATE", "HS-RTT", "RETRANS", "APP",
];

/// Which columns are aligned left (text); the others, numbers, are aligned right.
const ROW_LEFT: [bool; 14] = [
    true, false, true, true, false, false, false, false, false, false, true, false, false, true,
];

/// Rows [`write_rows`] formats at a time on one thread (a few hundred KiB of text).
const ROWS_PER_BLOCK: usize = 2048;

/// Two passes over the flows (widths, then rows), so a large table is never held as text;
/// each on two threads (the rows with [`write_rows`]).
fn write_flows_text(
    out: &mut dyn Write,
    flows: &[&FlowSummary],
    stats: &FlowStats,
    frames: u64,
) -> io::Result<()> {
    let (first, second) = flows.split_at(flows.len() / 2);
    let widths = std::thread::scope(|scope| {
        let other = scope.spawn(|| column_widths(second));
        let mine = column_widths(first);
        let theirs = joined(other);
        std::array::from_fn(|i| mine[i].max(theirs[i]))
    });
    let mut header = String::new();
    push_row(&mut header, &widths, FLOWS_HEADER);
    out.write_all(header.as_bytes())?;
    // Each thread's line and scratch text.
    write_rows(
        out,
        flows,
        |(row, scratch): &mut (Vec<u8>, String), line, f| {
            lay_out_row(row, &widths, f, scratch);
            push_laid_out(line, row);
        },
    )?;
    let t = &stats.table;
    writeln!(
        out,
        "# {} frames; {} TCP and {} UDP conversations; {} evicted (caps), {} expired (idle), \
         {} resumed, {} forgotten (tombstone cap), {} not listed (record cap); \
         peak flow state {} bytes; {} stream bytes never captured",
        frames,
        t.tcp_streams,
        t.udp_streams,
        t.evicted,
        t.expired,
        t.resumed,
        t.forgotten,
        t.records_dropped,
        t.peak_memory,
        stats.gap_bytes
    )
}

/// What a scoped thread returned (its panic goes on here).
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The widest cell of each column of these rows, headers included.
fn column_widths(flows: &[&FlowSummary]) -> [usize; 14] {
    let mut widths = FLOWS_HEADER.map(str::len);
    // Every cell is ASCII: widths are byte lengths.
    let mut scratch = String::new();
    for f in flows {
        for (w, len) in widths.iter_mut().zip(cell_lengths(f, &mut scratch)) {
            *w = (*w).max(len);
        }
    }
    widths
}

/// Writes a line per row, in order, each appended to a block of text by `line` (with state
/// of its own per thread). Tables are written after the last frame, when the flow engine's
/// thread is idle: the rows are formatted in blocks of [`ROWS_PER_BLOCK`] that two threads
/// take turns at, this one writing them all (at most three blocks of text are held).
fn write_rows<R: Sync, S: Default>(
    out: &mut dyn Write,
    rows: &[R],
    line: impl Fn(&mut S, &mut String, &R) + Sync,
) -> io::Result<()> {
    let blocks: Vec<&[R]> = rows.chunks(ROWS_PER_BLOCK).collect();
    let format = |state: &mut S, text: &mut String, block: &[R]| {
        text.clear();
        for r in block {
            line(state, text, r);
        }
    };
    std::thread::scope(|scope| {
        // The other thread formats the odd blocks, this one the even ones.
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(1);
        let odd: Vec<&[R]> = blocks.iter().skip(1).step_by(2).copied().collect();
        let format = &format;
        let other = scope.spawn(move || {
            let mut state = S::default();
            let mut size = 0;
            for block in odd {
                // Sized as the last block: growing the text copied it a dozen times.
                let mut text = String::with_capacity(size);
                format(&mut state, &mut text, block);
                size = text.len();
                if tx.send(text).is_err() {
                    return;
                }
            }
        });
        let (mut state, mut text) = (S::default(), String::new());
        let mut written = Ok(());
        for block in blocks.iter().step_by(2) {
            format(&mut state, &mut text, block);
            written = out.write_all(text.as_bytes());
            if let (Ok(()), Ok(theirs)) = (&written, rx.recv()) {
                written = out.write_all(theirs.as_bytes());
            }
            if written.is_err() {
                break;
            }
        }
        drop(rx);
        joined(other);
        written
    })
}

/// Where each cell of a row starts, for cells of `lens` bytes in columns of `widths`: text
/// aligned left, numbers right, two spaces between columns, the last one not padded. Also
/// where the row ends.
fn cell_starts(widths: &[usize; 14], lens: &[usize; 14]) -> ([usize; 14], usize) {
    let mut starts = [0; 14];
    let (mut at, mut end) = (0, 0);
    for (i, start) in starts.iter_mut().enumerate() {
        let len = lens.get(i).copied().unwrap_or(0);
        let width = widths.get(i).map_or(len, |w| len.max(*w));
        let left = ROW_LEFT.get(i).copied().unwrap_or(true) || i + 1 == lens.len();
        *start = if left { at } else { at + width - len };
        end = *start + len;
        at += width + 2;
    }
    (starts, end)
}

/// Appends the line laid out in `row`, and its end.
fn push_laid_out(line: &mut String, row: &[u8]) {
    // Cells are whole strings, so the line is valid UTF-8 (all ASCII, in fact).
    match std::str::from_utf8(row) {
        Ok(text) => line.push_str(text),
        Err(_) => line.push_str(&String::from_utf8_lossy(row)),
    }
    line.push('\n');
}

/// One line of the table (the header): the cells laid out as [`cell_starts`] places them.
fn push_row(line: &mut String, widths: &[usize; 14], cells: [&str; 14]) {
    let (starts, end) = cell_starts(widths, &cells.map(str::len));
    let mut row = vec![b' '; end];
    for (start, cell) in starts.into_iter().zip(cells) {
        put_str(&mut row, start..start + cell.len(), cell);
    }
    push_laid_out(line, &row);
}

/// Lays out the text row of `f` in `row`: filled with spaces, then each cell written in place
/// where [`cell_starts`] puts it, by the lengths [`cell_lengths`] counts (formatting the
/// cells one after the other and then copying them into the line cost three times as much).
fn lay_out_row(row: &mut Vec<u8>, widths: &[usize; 14], f: &FlowSummary, scratch: &mut String) {
    let lens = cell_lengths(f, scratch);
    let (starts, end) = cell_starts(widths, &lens);
    row.clear();
    row.resize(end, b' ');
    let mut cells = starts.iter().zip(lens).map(|(&s, len)| s..s + len);
    let mut next = move || cells.next().unwrap_or(0..0);
    let (client, server) = f.roles();
    let (up, down) = by_role(f);
    put_str(row, next(), f.l4.name());
    put_int(row, next(), f.stream);
    put_endpoint(row, next(), client, scratch);
    put_endpoint(row, next(), server, scratch);
    for n in [up[0], up[1], down[0], down[1]] {
        put_int(row, next(), n);
    }
    put_seconds(row, next(), f.start_rel);
    put_seconds(row, next(), f.duration);
    put_str(row, next(), f.state.unwrap_or("-"));
    match f.handshake_rtt {
        Some(r) => put_seconds(row, next(), r),
        None => put_str(row, next(), "-"),
    }
    match f.l4 {
        L4::Tcp => put_int(row, next(), f.retransmissions),
        _ => put_str(row, next(), "-"),
    }
    put_str(row, next(), f.app.unwrap_or("-"));
}

/// Writes `text` into `row[cell]` (the cell's length is the text's).
fn put_str(row: &mut [u8], cell: std::ops::Range<usize>, text: &str) {
    put_bytes(row, cell, text.as_bytes());
}

/// Writes `bytes` into `row[cell]` (the cell's length is theirs).
fn put_bytes(row: &mut [u8], cell: std::ops::Range<usize>, bytes: &[u8]) {
    if let Some(slot) = row.get_mut(cell).filter(|s| s.len() == bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

/// Writes `n` into `row[cell]`, sized by [`decimal_len`].
fn put_int(row: &mut [u8], cell: std::ops::Range<usize>, n: u64) {
    if let Some(slot) = row.get_mut(cell) {
        write_decimal(slot, n);
    }
}

/// Writes `e` (`addr:port`) into `row[cell]`.
fn put_endpoint(row: &mut [u8], cell: std::ops::Range<usize>, e: Endpoint, scratch: &mut String) {
    let port_len = decimal_len(u64::from(e.port));
    let Some(colon) = cell.end.checked_sub(port_len + 1) else {
        return;
    };
    match e.addr {
        Addr::V4(a) => {
            let mut text = [0u8; 16];
            let n = ipv4_bytes(a, &mut text);
            put_bytes(row, cell.start..colon, text.get(..n).unwrap_or(&[]));
        }
        Addr::V6(_) => {
            scratch.clear();
            e.addr.push_text(scratch);
            put_str(row, cell.start..colon, scratch);
        }
    }
    put_str(row, colon..colon + 1, ":");
    put_int(row, colon + 1..cell.end, u64::from(e.port));
}

/// Writes [`write_seconds`]'s text with six decimals into `row[cell]`, sized by
/// [`seconds_len`].
fn put_seconds(row: &mut [u8], cell: std::ops::Range<usize>, ns: Nanos) {
    const DIGITS: usize = 6;
    let units = rounded_units(ns, DIGITS as u32);
    let Some(dot) = cell.end.checked_sub(DIGITS + 1) else {
        return;
    };
    let mut int_start = cell.start;
    if ns < 0 {
        put_str(row, cell.start..cell.start + 1, "-");
        int_start += 1;
    }
    put_int(row, int_start..dot, units / 1_000_000);
    put_str(row, dot..dot + 1, ".");
    put_int(row, dot + 1..cell.end, units % 1_000_000);
}

/// Appends `n` spaces.
fn push_spaces(line: &mut String, n: usize) {
    const SPACES: &str = "                                        ";
    match SPACES.get(..n) {
        Some(s) => line.push_str(s),
        None => line.extend(std::iter::repeat_n(' ', n)),
    }
}

/// The JSON object of one flow.
fn flow_json(f: &FlowSummary) -> serde_json::Value {
    let (client, server) = f.roles();
    let (up, down) = by_role(f);
    let mut row = json!({
        "proto": f.l4.name(),
        "stream": f.stream,
        "client": {"addr": client.addr.to_string(), "port": client.port},
        "server": {"addr": server.addr.to_string(), "port": server.port},
        "packets_to_server": up[0],
        "bytes_to_server": up[1],
        "payload_to_server": up[2],
        "packets_to_client": down[0],
        "bytes_to_client": down[1],
        "payload_to_client": down[2],
        "start": seconds(f.start, 9),
        "start_relative": seconds(f.start_rel, 9),
        "duration": seconds(f.duration, 9),
        "app": f.app,
    });
    if f.l4 == L4::Tcp {
        if let Some(obj) = row.as_object_mut() {
            obj.insert("state".into(), json!(f.state));
            obj.insert("client_state".into(), json!(f.client_state));
            obj.insert("server_state".into(), json!(f.server_state));
            obj.insert(
                "handshake_rtt".into(),
                json!(f.handshake_rtt.map(|r| seconds(r, 9))),
            );
            obj.insert("retransmissions".into(), json!(f.retransmissions));
        }
    }
    if let (Some(d), Some(obj)) = (f.detail.as_deref(), row.as_object_mut()) {
        if f.l4 == L4::Tcp {
            let timeline = |t: &[(u64, &str)]| -> Vec<serde_json::Value> {
                t.iter()
                    .map(|(frame, state)| json!({"frame": frame, "state": state}))
                    .collect()
            };
            obj.insert(
                "timeline".into(),
                json!({
                    "client": timeline(&d.client_timeline),
                    "server": timeline(&d.server_timeline),
                }),
            );
        }
        obj.insert(
            "throughput".into(),
            json!({
                "interval": seconds(d.throughput.width(), 9),
                "payload_to_server": d.to_server(),
                "payload_to_client": d.to_client(),
            }),
        );
    }
    row
}

/// `{"flows": [...], "summary": {...}}`, written one flow at a time (a table of a million
/// flows is never built as one JSON tree).
fn write_flows_json(
    out: &mut dyn Write,
    flows: &[&FlowSummary],
    stats: &FlowStats,
    frames: u64,
) -> io::Result<()> {
    out.write_all(b"{\n  \"flows\": [")?;
    for (i, f) in flows.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *out, &flow_json(f)).map_err(io::Error::other)?;
    }
    let t = &stats.table;
    let a = &stats.app;
    let summary = json!({
        "frames": frames,
        "tcp_conversations": t.tcp_streams,
        "udp_conversations": t.udp_streams,
        "evicted": t.evicted,
        "expired": t.expired,
        "resumed": t.resumed,
        "forgotten": t.forgotten,
        "records_dropped": t.records_dropped,
        "peak_flow_state_bytes": t.peak_memory,
        "gap_bytes": stats.gap_bytes,
        "overlap_conflicts": stats.overlap_conflicts,
        "parser_fatal": a.fatal,
        "parser_buffers_dropped": a.tail_overflows,
        "parser_contract_violations": a.contract_violations,
    });
    out.write_all(b"\n  ],\n  \"summary\": ")?;
    serde_json::to_writer(&mut *out, &summary).map_err(io::Error::other)?;
    out.write_all(b"\n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point writer agrees with `format!` on times as conversations have them, on
    /// values at and beside rounding ties, on large and negative ones.
    #[test]
    fn fixed_point_as_format_writes_it() {
        let mut values: Vec<f64> = vec![0.0, 0.5, 1.0, 0.00005, 0.00015, 2.5e-5, 1e-9, 5e-10];
        let mut seed = 1u64;
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (seed >> 20) as i64 % 5_000_000_000_000;
            let d = (seed >> 40) as i64 % 10_000_000;
            values.push(to_sec(a));
            values.push(to_sec(a + d) - to_sec(a));
            // Exact ties at four places, and their neighbours.
            let tie = (d as f64 + 0.5) / 1e4;
            values.extend([
                tie,
                f64::from_bits(tie.to_bits() + 1),
                f64::from_bits(tie.to_bits() - 1),
            ]);
        }
        values.extend([-0.25, -1e-9, 1e15, 3e17, f64::MAX, f64::INFINITY, f64::NAN]);
        let mut got = String::new();
        for v in values {
            for (digits, width) in [(9, 14), (4, 12), (0, 3)] {
                got.clear();
                push_fixed(&mut got, v, digits, width);
                assert_eq!(
                    got,
                    format!("{v:>width$.digits$}", digits = digits as usize),
                    "{v:e}"
                );
            }
        }
    }

    #[test]
    fn sizes_as_tshark() {
        assert_eq!(format_size(0), "0 bytes");
        assert_eq!(format_size(9999), "9999 bytes");
        assert_eq!(format_size(10_000), "10 kB");
        assert_eq!(format_size(4_949_999), "4949 kB");
        assert_eq!(format_size(9_999_999), "9999 kB");
        assert_eq!(format_size(10_000_000), "10 MB");
        assert_eq!(format_size(25_000_000_000), "25 GB");
    }

    /// The widths pass counts exactly what the text helpers write, cell by cell, and a row
    /// laid out in place is those cells aligned as `push_row` aligns them (padded or not).
    #[test]
    fn rows_laid_out_in_place_are_the_cells_aligned() {
        let v4 = |a: [u8; 4], port| Endpoint {
            addr: Addr::V4(a),
            port,
        };
        let v6 = |last: u8, port| {
            let mut a = [0u8; 16];
            a[0] = 0xfd;
            a[15] = last;
            Endpoint {
                addr: Addr::V6(a),
                port,
            }
        };
        let endpoints = [
            (v4([10, 0, 0, 1], 80), v4([192, 168, 100, 255], 65535)),
            (v4([0, 9, 10, 99], 0), v4([100, 1, 255, 7], 9)),
            (v6(1, 443), v6(0xab, 1)),
        ];
        let numbers = [0u64, 9, 10, 99, 100, 12_345, 1 << 40, u64::MAX];
        let times = [
            0i64,
            1,
            499,
            500,
            999_999,
            1_000_000_000,
            86_400_123_456_789,
            -1,
            -1_500,
        ];
        let mut scratch = String::new();
        let mut cells = Cells::default();
        let mut row = Vec::new();
        let mut checked = 0;
        for (i, &(a, b)) in endpoints.iter().enumerate() {
            for (j, &n) in numbers.iter().enumerate() {
                let t = times[(i + j) % times.len()];
                let f = FlowSummary {
                    l4: if j % 2 == 0 { L4::Tcp } else { L4::Udp },
                    stream: n,
                    a,
                    b,
                    client_is_a: j % 3 == 0,
                    frames_ab: n,
                    bytes_ab: numbers[(j + 1) % numbers.len()],
                    frames_ba: numbers[(j + 2) % numbers.len()],
                    bytes_ba: numbers[(j + 3) % numbers.len()],
                    payload_ab: 0,
                    payload_ba: 0,
                    client_state: None,
                    server_state: None,
                    first_frame: 1,
                    start: t,
                    start_rel: t,
                    duration: times[(i + j + 1) % times.len()],
                    state: (j % 2 == 0).then_some("RSTOS0"),
                    handshake_rtt: (j % 4 != 1).then_some(times[j % times.len()]),
                    retransmissions: n,
                    app: (j % 3 != 2).then_some("http2"),
                    detail: None,
                };
                cells.fill(&f);
                let written: Vec<usize> = (0..14).map(|c| cells.get(c).len()).collect();
                assert_eq!(cell_lengths(&f, &mut scratch).to_vec(), written, "{f:?}");
                for pad in [0, 1, 7] {
                    let widths: [usize; 14] = std::array::from_fn(|c| written[c] + pad * (c % 3));
                    let mut want = String::new();
                    let cells_text = std::array::from_fn(|c| cells.get(c));
                    push_row(&mut want, &widths, cells_text);
                    lay_out_row(&mut row, &widths, &f, &mut scratch);
                    let got = String::from_utf8(row.clone()).unwrap() + "\n";
                    assert_eq!(got, want, "{f:?}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, endpoints.len() * numbers.len());
    }

    /// A table of several blocks on the two threads comes out whole and in order, aligned by
    /// its widest cell wherever that row is.
    #[test]
    fn long_tables_are_written_in_order() {
        let rows = ROWS_PER_BLOCK * 3 + 5;
        let flows: Vec<FlowSummary> = (0..rows as u64)
            .map(|n| FlowSummary {
                l4: L4::Udp,
                stream: n,
                a: Endpoint {
                    addr: Addr::V4([10, 0, 0, 1]),
                    port: 53,
                },
                b: Endpoint {
                    addr: Addr::V4([10, 0, 0, 2]),
                    port: 40_000,
                },
                client_is_a: false,
                frames_ab: 1,
                // The widest cell is in the last block.
                bytes_ab: if n + 1 == rows as u64 {
                    123_456_789
                } else {
                    80
                },
                frames_ba: 1,
                bytes_ba: 90,
                payload_ab: 0,
                payload_ba: 0,
                client_state: None,
                server_state: None,
                first_frame: n + 1,
                start: 0,
                start_rel: 0,
                duration: 0,
                state: None,
                handshake_rtt: None,
                retransmissions: 0,
                app: Some("dns"),
                detail: None,
            })
            .collect();
        let refs: Vec<&FlowSummary> = flows.iter().collect();
        let mut out = Vec::new();
        write_flows_text(&mut out, &refs, &FlowStats::default(), 7).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), rows + 2);
        assert!(lines[0].starts_with("PROTO  STREAM"), "{}", lines[0]);
        let width = lines[1].len();
        for (n, line) in lines[1..=rows].iter().enumerate() {
            let stream: Vec<&str> = line.split_whitespace().take(2).collect();
            assert_eq!(stream, ["udp", n.to_string().as_str()], "{line}");
            assert_eq!(line.len(), width, "{line}");
        }
        assert!(lines[rows].contains("  123456789  "), "{}", lines[rows]);
        assert!(lines[rows + 1].starts_with("# 7 frames;"));
    }

    #[test]
    fn seconds_round() {
        assert_eq!(seconds(392_485_000, 9), "0.392485000");
        assert_eq!(seconds(3_128_849_999, 4), "3.1288");
        assert_eq!(seconds(3_128_850_000, 4), "3.1289");
        assert_eq!(seconds(0, 4), "0.0000");
    }
}
