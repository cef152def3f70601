//! Address statistics in tshark's layouts: `-z conv,eth|ip|ipv6` (one row per pair of
//! addresses) and `-z endpoints,eth|ip|ipv6|tcp|udp` (one row per address, or address and
//! port).
//!
//! tshark's rules, reproduced: every Ethernet, IPv4 or IPv6 header of a frame counts the
//! frame's length once (a tunnel's inner header too), a conversation's A is the sender of its
//! first frame, an endpoint is added when first seen as a source and then as a destination,
//! and rows are sorted by frames, most first, ties in order of first appearance. TCP and UDP
//! endpoints come from the flow engine's conversations (the ones `-z conv,tcp` lists).

use super::conv::{format_size, to_sec, write_heading, RULE};
use super::{FrameEnd, RunEnd, Sink};
use crate::flow::key::{Endpoint, L4};
use crate::flow::tcp_analysis::Nanos;
use netsniff_dissectors::pinfo::Net;
use netsniff_dissectors::proto::{eth, icmp, icmpv6, ip, ipv6};
use netsniff_dissectors::text::push_int;
use netsniff_dissectors::{FieldDef, FieldSink, FrameMeta, Proto, Span, Value};
use rustc_hash::FxHashMap;
use std::io::{self, Write};

/// Rows kept at most: a capture of more distinct addresses counts the rest as dropped (said on
/// stderr) rather than growing without bound.
pub const MAX_ROWS: usize = 1 << 20;

/// The address layer a table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrLayer {
    Eth,
    Ipv4,
    Ipv6,
}

impl AddrLayer {
    /// tshark's name for the layer in the table's title.
    fn title(self) -> &'static str {
        match self {
            AddrLayer::Eth => "Ethernet",
            AddrLayer::Ipv4 => "IPv4",
            AddrLayer::Ipv6 => "IPv6",
        }
    }

    fn proto(self) -> &'static Proto {
        match self {
            AddrLayer::Eth => &eth::PROTO,
            AddrLayer::Ipv4 => &ip::PROTO,
            AddrLayer::Ipv6 => &ipv6::PROTO,
        }
    }

    fn fields(self) -> (&'static FieldDef, &'static FieldDef) {
        match self {
            AddrLayer::Eth => (&eth::SRC, &eth::DST),
            AddrLayer::Ipv4 => (&ip::SRC, &ip::DST),
            AddrLayer::Ipv6 => (&ipv6::SRC, &ipv6::DST),
        }
    }
}

/// What `-z endpoints` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    Addr(AddrLayer),
    Port(L4),
}

/// An address as tshark prints it in these tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Address {
    Eth([u8; 6]),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Address {
    fn of(value: &Value<'_>) -> Option<Address> {
        match *value {
            Value::Ether(a) => Some(Address::Eth(a)),
            Value::Ipv4(a) => Some(Address::V4(a)),
            Value::Ipv6(a) => Some(Address::V6(a)),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Address::Eth(a) => a
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            Address::V4(a) => std::net::Ipv4Addr::from(*a).to_string(),
            Address::V6(a) => std::net::Ipv6Addr::from(*a).to_string(),
        }
    }
}

/// Counters of one row, in the order rows first appeared.
#[derive(Debug, Default, Clone)]
struct Counts {
    tx_frames: u64,
    tx_bytes: u64,
    rx_frames: u64,
    rx_bytes: u64,
    /// Conversations: first and last frame's time since the first frame.
    start: Nanos,
    stop: Nanos,
    /// Conversations: whether A (the first frame's sender) is the key's second address.
    a_is_hi: bool,
}

/// Rows keyed by `K`, remembered in order of first appearance.
struct Rows<K> {
    index: FxHashMap<K, usize>,
    rows: Vec<(K, Counts)>,
    dropped: u64,
}

impl<K: std::hash::Hash + Eq + Copy> Rows<K> {
    fn new() -> Self {
        Rows {
            index: FxHashMap::default(),
            rows: Vec::new(),
            dropped: 0,
        }
    }

    /// The row of `key`, added (with `start` as its first time) if new and there is room.
    fn row(&mut self, key: K, start: Nanos) -> Option<&mut Counts> {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None if self.rows.len() >= MAX_ROWS => {
                self.dropped += 1;
                return None;
            }
            None => {
                self.index.insert(key, self.rows.len());
                self.rows.push((
                    key,
                    Counts {
                        start,
                        stop: start,
                        ..Counts::default()
                    },
                ));
                self.rows.len() - 1
            }
        };
        self.rows.get_mut(i).map(|(_, c)| c)
    }

    /// The rows by total frames, most first; ties in order of first appearance.
    fn sorted(&self) -> Vec<&(K, Counts)> {
        let mut rows: Vec<&(K, Counts)> = self
            .rows
            .iter()
            .filter(|(_, c)| c.tx_frames + c.rx_frames > 0)
            .collect();
        rows.sort_by_key(|(_, c)| std::cmp::Reverse(c.tx_frames + c.rx_frames));
        rows
    }
}

/// The layers a table of `layer` listens to: its own, and ICMP's (to skip quoted headers).
fn wanted(layer: AddrLayer, proto: &'static Proto) -> bool {
    std::ptr::eq(proto, layer.proto())
        || std::ptr::eq(proto, &icmp::PROTO)
        || std::ptr::eq(proto, &icmpv6::PROTO)
}

/// `-z conv,eth|ip|ipv6`.
pub struct AddrConvSink<W: Write> {
    out: W,
    layer: AddrLayer,
    /// The `-z` filter's text, for the `Filter:` line (a `FilteredSink` applies it).
    filter: Option<String>,
    /// Keyed by the pair, smaller address first; A is the first frame's source.
    rows: Rows<(Address, Address)>,
    pending: Pending,
}

/// `-z endpoints,…`.
pub struct EndpointsSink<W: Write> {
    out: W,
    kind: EndpointKind,
    /// The `-z` filter's text, for the `Filter:` line (a `FilteredSink` applies it).
    filter: Option<String>,
    rows: Rows<Address>,
    pending: Pending,
}

/// The frame's source/destination pairs of the counted layer, as its fields arrive.
#[derive(Default)]
struct Pending {
    /// Inside an ICMP message: the headers it quotes are not counted (tshark's taps skip
    /// them).
    in_icmp: bool,
    src: Option<Address>,
    dst: Option<Address>,
    pairs: Vec<(Address, Address)>,
    len: u64,
    rel: Nanos,
}

impl Pending {
    /// Notes a source or destination field; a header's pair is complete when both came
    /// (Ethernet sends the destination first, IP the source).
    fn field(&mut self, layer: AddrLayer, def: &'static FieldDef, value: &Value<'_>) {
        let (src_def, dst_def) = layer.fields();
        if self.in_icmp {
            return;
        }
        if std::ptr::eq(def, src_def) {
            self.src = Address::of(value);
        } else if std::ptr::eq(def, dst_def) {
            self.dst = Address::of(value);
        } else {
            return;
        }
        if let (Some(src), Some(dst)) = (self.src, self.dst) {
            self.pairs.push((src, dst));
            (self.src, self.dst) = (None, None);
        }
    }

    fn layer(&mut self, proto: &'static Proto) {
        if std::ptr::eq(proto, &icmp::PROTO) || std::ptr::eq(proto, &icmpv6::PROTO) {
            self.in_icmp = true;
        }
    }

    /// The pairs to count once the frame is dissected: an IPv6 fragment held for reassembly
    /// is not counted (tshark's IPv6 tap runs when the datagram is whole; IPv4's runs for
    /// every fragment).
    fn finish(&mut self, layer: AddrLayer, frame: &FrameEnd<'_>) {
        if layer == AddrLayer::Ipv6
            && frame.pi.fragment.is_some()
            && matches!(frame.pi.net, Net::V6 { .. })
        {
            self.pairs.pop();
        }
    }

    fn begin(&mut self, meta: &FrameMeta) {
        (self.src, self.dst) = (None, None);
        self.in_icmp = false;
        self.pairs.clear();
        self.len = u64::from(meta.len);
        self.rel = meta.rel_secs * 1_000_000_000 + i64::from(meta.rel_nanos);
    }
}

impl<W: Write> AddrConvSink<W> {
    pub fn new(out: W, layer: AddrLayer, filter: Option<String>) -> Self {
        AddrConvSink {
            out,
            layer,
            filter,
            rows: Rows::new(),
            pending: Pending::default(),
        }
    }
}

impl<W: Write> EndpointsSink<W> {
    pub fn new(out: W, kind: EndpointKind, filter: Option<String>) -> Self {
        EndpointsSink {
            out,
            kind,
            filter,
            rows: Rows::new(),
            pending: Pending::default(),
        }
    }
}

impl<W: Write> FieldSink for AddrConvSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        wanted(self.layer, proto)
    }
    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.pending.layer(proto);
    }
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        self.pending.field(self.layer, def, &value);
    }
}

impl<W: Write> FieldSink for EndpointsSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        matches!(self.kind, EndpointKind::Addr(l) if wanted(l, proto))
    }
    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.pending.layer(proto);
    }
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        if let EndpointKind::Addr(layer) = self.kind {
            self.pending.field(layer, def, &value);
        }
    }
}

impl<W: Write> Sink for AddrConvSink<W> {
    fn needs_flows(&self) -> bool {
        false
    }
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        let (src, dst) = self.layer.fields();
        Some(vec![src, dst])
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.pending.begin(meta);
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        self.pending.finish(self.layer, frame);
        let (len, rel) = (self.pending.len, self.pending.rel);
        for &(src, dst) in &self.pending.pairs {
            let key = if src <= dst { (src, dst) } else { (dst, src) };
            let Some(c) = self.rows.row(key, rel) else {
                continue;
            };
            if c.tx_frames + c.rx_frames == 0 {
                c.a_is_hi = src != key.0;
            }
            let from_a = if c.a_is_hi {
                src == key.1
            } else {
                src == key.0
            };
            if from_a {
                c.tx_frames += 1;
                c.tx_bytes += len;
            } else {
                c.rx_frames += 1;
                c.rx_bytes += len;
            }
            c.start = c.start.min(rel);
            c.stop = c.stop.max(rel);
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
        let out = &mut self.out;
        let title = format!("{} Conversations", self.layer.title());
        write_heading(out, &title, self.filter.as_deref())?;
        writeln!(
            out,
            "{:47}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |",
            ""
        )?;
        writeln!(
            out,
            "{:47}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |",
            ""
        )?;
        for ((x, y), c) in self.rows.sorted() {
            let (a, b) = if c.a_is_hi { (*y, *x) } else { (*x, *y) };
            // tshark prints doubles: the start, and the stop minus the start.
            let start = to_sec(c.start);
            writeln!(
                out,
                "{:<20} <-> {:<20}  {:>6} {:<9}  {:>6} {:<9}  {:>6} {:<9}  {:>14.9}   {:>12.4}",
                a.text(),
                b.text(),
                c.rx_frames,
                format_size(c.rx_bytes),
                c.tx_frames,
                format_size(c.tx_bytes),
                c.tx_frames + c.rx_frames,
                format_size(c.tx_bytes + c.rx_bytes),
                start,
                to_sec(c.stop) - start,
            )?;
        }
        writeln!(out, "{RULE}")?;
        warn_dropped(self.rows.dropped);
        out.flush()
    }
}

impl<W: Write> Sink for EndpointsSink<W> {
    fn needs_flows(&self) -> bool {
        matches!(self.kind, EndpointKind::Port(_))
    }
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(match self.kind {
            EndpointKind::Addr(layer) => {
                let (src, dst) = layer.fields();
                vec![src, dst]
            }
            EndpointKind::Port(_) => Vec::new(),
        })
    }
    fn begin_frame(&mut self, meta: &FrameMeta) {
        self.pending.begin(meta);
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        if let EndpointKind::Addr(layer) = self.kind {
            self.pending.finish(layer, frame);
        }
        let len = self.pending.len;
        for &(src, dst) in &self.pending.pairs {
            count(&mut self.rows, src, true, 1, len);
            count(&mut self.rows, dst, false, 1, len);
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let out = &mut self.out;
        let (title, ports) = match self.kind {
            EndpointKind::Addr(layer) => (layer.title(), None),
            EndpointKind::Port(L4::Tcp) => ("TCP", Some(L4::Tcp)),
            EndpointKind::Port(L4::Udp) => ("UDP", Some(L4::Udp)),
        };
        write_heading(out, &format!("{title} Endpoints"), self.filter.as_deref())?;
        writeln!(
            out,
            "                       |  {}Packets  | |  Bytes  | | Tx Packets | | Tx Bytes | | Rx Packets | | Rx Bytes |",
            if ports.is_some() { "Port  ||  " } else { "" }
        )?;
        if let Some(l4) = ports {
            write_port_rows(out, l4, end)?;
        } else {
            for (addr, c) in self.rows.sorted() {
                let mut line = format!("{:<20}", addr.text());
                push_counts(&mut line, 6, c);
                writeln!(out, "{line}")?;
            }
            warn_dropped(self.rows.dropped);
        }
        writeln!(out, "{RULE}")?;
        out.flush()
    }
}

/// Counts `frames` frames of `bytes` bytes sent (`tx`) or received by `key`.
fn count<K: std::hash::Hash + Eq + Copy>(
    rows: &mut Rows<K>,
    key: K,
    tx: bool,
    frames: u64,
    bytes: u64,
) {
    if let Some(c) = rows.row(key, 0) {
        if tx {
            c.tx_frames += frames;
            c.tx_bytes += bytes;
        } else {
            c.rx_frames += frames;
            c.rx_bytes += bytes;
        }
    }
}

/// TCP or UDP endpoints from the conversations: in order of each conversation's first frame,
/// its first sender then the other side, as tshark meets them.
fn write_port_rows(out: &mut dyn Write, l4: L4, end: &RunEnd<'_>) -> io::Result<()> {
    let mut flows: Vec<_> = end
        .flows
        .conversations()
        .into_iter()
        .filter(|f| f.l4 == l4 && f.frames_ab + f.frames_ba > 0)
        .collect();
    flows.sort_by_key(|f| f.first_frame);
    let mut rows: Rows<Endpoint> = Rows::new();
    for f in flows {
        count(&mut rows, f.a, true, f.frames_ab, f.bytes_ab);
        count(&mut rows, f.a, false, f.frames_ba, f.bytes_ba);
        count(&mut rows, f.b, true, f.frames_ba, f.bytes_ba);
        count(&mut rows, f.b, false, f.frames_ab, f.bytes_ab);
    }
    for (e, c) in rows.sorted() {
        let mut line = format!("{:<20}      {:>5}", e.addr.to_string(), e.port);
        push_counts(&mut line, 5, c);
        writeln!(out, "{line}")?;
    }
    warn_dropped(rows.dropped);
    Ok(())
}

/// The counters of an endpoint row, as tshark's `%6 %9 %6 %9 %6 %9` columns with their gaps
/// (`first_gap` spaces before the first).
fn push_counts(line: &mut String, first_gap: usize, c: &Counts) {
    let cells: [(usize, usize, u64); 6] = [
        (first_gap, 6, c.tx_frames + c.rx_frames),
        (5, 9, c.tx_bytes + c.rx_bytes),
        (5, 6, c.tx_frames),
        (7, 9, c.tx_bytes),
        (6, 6, c.rx_frames),
        (7, 9, c.rx_bytes),
    ];
    for (gap, width, n) in cells {
        let mut digits = String::new();
        push_int(&mut digits, n);
        line.extend(std::iter::repeat_n(
            ' ',
            gap + width.saturating_sub(digits.len()),
        ));
        line.push_str(&digits);
    }
    line.push_str("   ");
}

fn warn_dropped(dropped: u64) {
    if dropped > 0 {
        eprintln!(
            "netsniff: the statistics table is full ({MAX_ROWS} rows): {dropped} more addresses not counted"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sort_by_frames_then_first_seen_and_stop_at_the_cap() {
        let mut rows: Rows<u32> = Rows::new();
        for (key, frames) in [(7, 1), (3, 2), (9, 1), (5, 2)] {
            count(&mut rows, key, true, frames, 10);
        }
        let order: Vec<u32> = rows.sorted().iter().map(|(k, _)| *k).collect();
        assert_eq!(order, [3, 5, 7, 9]);
        for key in 0..MAX_ROWS as u32 + 10 {
            count(&mut rows, key, false, 1, 1);
        }
        assert_eq!(rows.rows.len(), MAX_ROWS);
        assert_eq!(rows.dropped, 10);
    }

    #[test]
    fn endpoint_columns_as_tshark_pads_them() {
        let c = Counts {
            tx_frames: 45,
            tx_bytes: 3858,
            rx_frames: 35,
            rx_bytes: 7687,
            ..Counts::default()
        };
        let mut line = format!("{:<20}", "10.10.0.1");
        push_counts(&mut line, 6, &c);
        assert_eq!(
            line,
            "10.10.0.1                     80         11545         45            3858          35            7687   "
        );
    }
}
