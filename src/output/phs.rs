//! `-z io,phs`: tshark's protocol hierarchy statistics, printed at the end of the run.
//!
//! Each frame adds its length to every node on its protocol path; children keep the order in
//! which they were first seen, as tshark's do. The path is the frame's `frame.protocols` with
//! what tshark's hierarchy does not show taken out: the `ethertype` pseudo-layer, IPv6
//! extension headers (`ipv6.hopopts`, `ipv6.fraghdr`), and what an ICMP message carries
//! inside its own tree (echo data; the quoted packet of an error, whose trailing payload
//! tshark does count), the ASN.1 layers of a certificate (`x509sat`, `x509ce`, … inside the
//! TLS tree), and `http` where it only hands an upgraded connection to `websocket` or `http2`
//! (it adds no tree item then). A frame that completes a PDU reassembled from several TCP
//! segments gets tshark's `tcp.segments` node where the flow engine opens that layer
//! ([`tcp::SEGMENTS`], not in `frame.protocols`): its span's start is the index in
//! `frame.protocols` before which tshark's item sits (after the reassembled PDU, before the
//! PDUs the rest of the segment holds). tshark builds the hierarchy from the protocol tree,
//! which `frame.protocols` flattens: for HTTP/2, whose every frame is a tree item of its own,
//! and QUIC, whose every coalesced packet is, this sink asks for the `http2`, `grpc`,
//! `protobuf` and `quic` layers (so they emit their fields under `-z io,phs`) and takes the
//! nodes from the order they were opened in; QUIC's `tls` is inside its tree. Other
//! protocols repeated in one segment count once.

use super::{FrameEnd, RunEnd, Sink};
use netsniff_dissectors::proto::{data, grpc, http2, quic, tcp};
use netsniff_dissectors::{FieldDef, FieldSink, Proto, Span, Value};
use std::io::{self, Write};

/// Distinct nodes kept; deeper or newer paths are counted in their deepest kept ancestor
/// (a hierarchy has tens of nodes; a fuzzed file cannot make it grow without bound).
pub const MAX_NODES: usize = 4096;

/// tshark's node for frames that complete a multi-segment TCP PDU.
const SEGMENTS: &str = "tcp.segments";

/// Layers whose every opening (one per HTTP/2 frame, gRPC message or coalesced QUIC packet)
/// is a hierarchy node: `frame.protocols` lists each once.
const H2_LAYERS: [&str; 4] = ["http2", "grpc", "protobuf", "quic"];

/// Most `http2`/`grpc`/`protobuf`/`quic` layers kept for one frame.
const MAX_H2_LAYERS: usize = 64;

const RULE: &str = "===================================================================";

#[derive(Debug)]
struct Node {
    name: &'static str,
    frames: u64,
    bytes: u64,
    children: Vec<usize>,
}

/// Collects the hierarchy and prints it at the end.
pub struct PhsSink<W: Write> {
    out: W,
    /// The `-z` filter's text, for the `Filter:` line (a `FilteredSink` applies it).
    filter: Option<String>,
    nodes: Vec<Node>,
    /// Top-level nodes.
    roots: Vec<usize>,
    /// The current frame completed a reassembled TCP PDU: where in `frame.protocols` tshark's
    /// `tcp.segments` item goes.
    segments: Option<usize>,
    /// The `http2`, `grpc` and `protobuf` layers opened in the current frame, in order.
    h2_seq: Vec<&'static str>,
    /// The current frame was cut by the snapshot length inside a header: tshark's hierarchy
    /// lists its `_ws.short` marker (a tree item `frame.protocols` does not name) last.
    short: bool,
    /// The current frame's hierarchy names (kept between frames for its allocation).
    names: Vec<&'static str>,
    /// The nodes that recent frames' protocol lists counted in (see [`PathCache`]).
    cache: PathCache,
}

/// Entries of the [`PathCache`].
const CACHED_PATHS: usize = 16;

/// A frame's input to [`PhsSink::add`]: its protocol list, `_ws.short` marker, `tcp.segments`
/// position and HTTP/2-family layers.
#[derive(Debug, Clone, Copy)]
struct PathInput<'a> {
    path: &'a [&'static str],
    short: bool,
    segments: Option<usize>,
    h2: &'a [&'static str],
}

/// Whether two name lists are the same names at the same addresses (equal addresses are equal
/// names; the same names at other addresses merely compare unequal). Compared from the end:
/// frames' lists mostly differ in their last, application, layers.
fn same_names(a: &[&'static str], b: &[&'static str]) -> bool {
    a.len() == b.len()
        && a.iter()
            .rev()
            .zip(b.iter().rev())
            .all(|(x, y)| std::ptr::eq(*x, *y))
}

/// One protocol list seen lately: the nodes it counts in, and what frames with it added since
/// those nodes were last brought up to date.
#[derive(Debug)]
struct CachedPath {
    path: Vec<&'static str>,
    short: bool,
    segments: Option<usize>,
    h2: Vec<&'static str>,
    nodes: Vec<usize>,
    /// Frames counted here and not yet in `nodes`.
    frames: u64,
    /// Their bytes.
    bytes: u64,
}

impl CachedPath {
    fn is(&self, input: &PathInput<'_>) -> bool {
        self.short == input.short
            && self.segments == input.segments
            && same_names(&self.path, input.path)
            && same_names(&self.h2, input.h2)
    }

    /// Adds the frames counted here to the nodes.
    fn settle(&mut self, nodes: &mut [Node]) {
        if self.frames == 0 {
            return;
        }
        for &i in &self.nodes {
            if let Some(n) = nodes.get_mut(i) {
                n.frames += self.frames;
                n.bytes += self.bytes;
            }
        }
        self.frames = 0;
        self.bytes = 0;
    }
}

/// Most frames repeat one of a few protocol lists, and walking the hierarchy name by name
/// (filters, string comparisons) for each costs more than the rest of the sink: the last few
/// distinct lists are kept, found by the names' addresses, and a frame with one of them is
/// only counted in its entry (two additions); the entry adds its frames to the nodes when it
/// is replaced and at the end of the run ([`PhsSink::settle`]).
#[derive(Debug, Default)]
struct PathCache {
    entries: Vec<CachedPath>,
    /// The entry replaced next.
    next: usize,
}

impl PathCache {
    fn get_mut(&mut self, input: &PathInput<'_>) -> Option<&mut CachedPath> {
        self.entries.iter_mut().find(|e| e.is(input))
    }

    /// Keeps `input`'s list, counted in `counted`, replacing (and settling) the oldest entry
    /// when full.
    fn put(&mut self, input: &PathInput<'_>, counted: &[usize], nodes: &mut [Node]) {
        if self.entries.len() < CACHED_PATHS {
            self.entries.push(CachedPath {
                path: input.path.to_vec(),
                short: input.short,
                segments: input.segments,
                h2: input.h2.to_vec(),
                nodes: counted.to_vec(),
                frames: 0,
                bytes: 0,
            });
            return;
        }
        if let Some(e) = self.entries.get_mut(self.next) {
            e.settle(nodes);
            e.path.clear();
            e.path.extend_from_slice(input.path);
            e.short = input.short;
            e.segments = input.segments;
            e.h2.clear();
            e.h2.extend_from_slice(input.h2);
            e.nodes.clear();
            e.nodes.extend_from_slice(counted);
        }
        self.next = (self.next + 1) % CACHED_PATHS;
    }
}

impl<W: Write> PhsSink<W> {
    pub fn new(out: W, filter: Option<String>) -> Self {
        PhsSink {
            out,
            filter,
            nodes: Vec::new(),
            roots: Vec::new(),
            segments: None,
            short: false,
            h2_seq: Vec::new(),
            names: Vec::new(),
            cache: PathCache::default(),
        }
    }

    /// Counts a frame of `len` bytes in the nodes `add` would count it in: in its cache entry
    /// when its protocol list was seen lately.
    fn count(&mut self, input: &PathInput<'_>, len: u64) {
        if let Some(hit) = self.cache.get_mut(input) {
            hit.frames += 1;
            hit.bytes += len;
        } else {
            self.count_new(input, len);
        }
    }

    /// Counts a frame whose protocol list is not in the cache, and keeps the list there.
    fn count_new(&mut self, input: &PathInput<'_>, len: u64) {
        let mut counted = Vec::new();
        let complete = if input.short {
            let mut with_short = input.path.to_vec();
            with_short.push(data::SHORT.name);
            self.add(&with_short, input.segments, input.h2, len, &mut counted)
        } else {
            self.add(input.path, input.segments, input.h2, len, &mut counted)
        };
        if complete {
            self.cache.put(input, &counted, &mut self.nodes);
        }
    }

    /// Counts one frame of `len` bytes in node `i`.
    fn count_in(nodes: &mut [Node], i: usize, len: u64) {
        if let Some(n) = nodes.get_mut(i) {
            n.frames += 1;
            n.bytes += len;
        }
    }

    /// Brings every node's counts up to date with the cache's.
    fn settle(&mut self) {
        for e in &mut self.cache.entries {
            e.settle(&mut self.nodes);
        }
    }

    /// The child of `parent` (a root when `None`) named `name`, created if new.
    fn child(&mut self, parent: Option<usize>, name: &'static str) -> Option<usize> {
        let siblings = match parent {
            None => &self.roots,
            Some(p) => &self.nodes.get(p)?.children,
        };
        if let Some(&i) = siblings
            .iter()
            .find(|&&i| self.nodes.get(i).is_some_and(|n| n.name == name))
        {
            return Some(i);
        }
        if self.nodes.len() >= MAX_NODES {
            return None;
        }
        let i = self.nodes.len();
        self.nodes.push(Node {
            name,
            frames: 0,
            bytes: 0,
            children: Vec::new(),
        });
        match parent {
            None => self.roots.push(i),
            Some(p) => self.nodes.get_mut(p)?.children.push(i),
        }
        Some(i)
    }

    /// Adds one frame of `len` bytes with protocol path `path`, with `tcp.segments` before
    /// `path[i]` (or last) when `segments` is `Some(i)`, and the run of `http2`/`grpc`/
    /// `protobuf` names replaced by `h2` (the layers as opened, see [`h2_nodes`]) if any.
    /// Returns whether every node of the path was counted (`false`: [`MAX_NODES`] cut it);
    /// the nodes counted are appended to `counted`.
    fn add(
        &mut self,
        path: &[&'static str],
        segments: Option<usize>,
        h2: &[&'static str],
        len: u64,
        counted: &mut Vec<usize>,
    ) -> bool {
        let mut parent = None;
        let mut pending = segments;
        let names = hierarchy(path).flat_map(|(i, name)| {
            let seg = pending.filter(|&at| at <= i).map(|_| SEGMENTS);
            if seg.is_some() {
                pending = None;
            }
            seg.into_iter().chain(Some(name))
        });
        let mut scratch = std::mem::take(&mut self.names);
        scratch.clear();
        scratch.extend(names);
        let mut names = scratch;
        let is_h2 = |n: &&str| H2_LAYERS.contains(n);
        if let (false, Some(at)) = (h2.is_empty(), names.iter().position(is_h2)) {
            let run = names
                .get(at..)
                .map_or(0, |r| r.iter().take_while(|n| is_h2(n)).count());
            names.splice(at..at + run, h2_nodes(h2));
        }
        let tail = pending.map(|_| SEGMENTS);
        let mut complete = true;
        for name in names.iter().copied().chain(tail) {
            let Some(i) = self.child(parent, name) else {
                complete = false;
                break;
            };
            Self::count_in(&mut self.nodes, i, len);
            counted.push(i);
            parent = Some(i);
        }
        self.names = names;
        complete
    }

    fn write_node(&mut self, i: usize, depth: usize) -> io::Result<()> {
        let Some(n) = self.nodes.get(i) else {
            return Ok(());
        };
        let label = format!("{}{}", "  ".repeat(depth), n.name);
        writeln!(
            self.out,
            "{label:<40} frames:{} bytes:{}",
            n.frames, n.bytes
        )?;
        for c in n.children.clone() {
            self.write_node(c, depth + 1)?;
        }
        Ok(())
    }
}

/// The names of `frame.protocols` that tshark's hierarchy shows, in order, with their index.
fn hierarchy<'a>(path: &'a [&'static str]) -> impl Iterator<Item = (usize, &'static str)> + 'a {
    // The index of the first ICMP layer: what follows is inside its tree, except the payload
    // at the end of a quoted packet (tshark shows it at top level).
    let icmp = path.iter().position(|p| *p == "icmp" || *p == "icmpv6");
    let last = path.len().saturating_sub(1);
    path.iter().enumerate().filter_map(move |(i, &name)| {
        if name == "ethertype" || name.starts_with("ipv6.") || in_certificate(name) {
            return None;
        }
        let next = path.get(i + 1).copied();
        if name == "http" && matches!(next, Some("websocket" | "http2")) {
            return None;
        }
        // QUIC's handshake messages are inside its CRYPTO frames' tree.
        if name == "tls" && i > 0 && path.get(i - 1) == Some(&"quic") {
            return None;
        }
        match icmp {
            Some(at) if i > at => {
                let quoted_payload = i == last && i > at + 1 && name == "data";
                quoted_payload.then_some((i, name))
            }
            _ => Some((i, name)),
        }
    })
}

/// The hierarchy nodes of a frame's `http2`/`grpc`/`protobuf` layers (`seq`, in the order the
/// HTTP/2 parser opened them: one `http2` per HTTP/2 frame, each gRPC message's `grpc` and
/// `protobuf` after its frame's), less netsniff's own gRPC call summary (a `grpc` without
/// `protobuf`, and the `http2` re-opened after it), which tshark does not have.
fn h2_nodes(seq: &[&'static str]) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(seq.len());
    let mut i = 0;
    while let Some(&name) = seq.get(i) {
        let next = seq.get(i + 1).copied();
        match (name, next) {
            ("grpc", Some("protobuf")) => out.push(name),
            ("grpc", Some("http2")) => i += 1,
            ("grpc", _) => {}
            _ => out.push(name),
        }
        i += 1;
    }
    out
}

/// The ASN.1 modules Wireshark dissects certificates with: their items sit inside the TLS
/// tree, so the hierarchy does not show them.
fn in_certificate(name: &str) -> bool {
    ["x509", "pkix", "pkcs"].iter().any(|p| name.starts_with(p))
}

impl<W: Write> FieldSink for PhsSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        std::ptr::eq(proto, &tcp::SEGMENTS)
            || std::ptr::eq(proto, &quic::PROTO)
            || std::ptr::eq(proto, &http2::PROTO)
            || std::ptr::eq(proto, &grpc::PROTO)
            || std::ptr::eq(proto, &grpc::PROTOBUF)
            || std::ptr::eq(proto, &data::SHORT)
    }
    fn layer(&mut self, proto: &'static Proto, span: Span) {
        if H2_LAYERS.contains(&proto.name) && self.h2_seq.len() < MAX_H2_LAYERS {
            self.h2_seq.push(proto.name);
        }
        if std::ptr::eq(proto, &data::SHORT) {
            self.short = true;
        }
        if std::ptr::eq(proto, &tcp::SEGMENTS) && self.segments.is_none() {
            self.segments = Some(span.start as usize);
        }
    }
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for PhsSink<W> {
    fn fields_used(&self) -> Option<Vec<&'static FieldDef>> {
        Some(Vec::new())
    }
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        let path = frame.protocols.as_slice();
        let short = std::mem::take(&mut self.short);
        let segments = self.segments.take();
        let len = u64::from(frame.meta.len);
        // Counting needs `self`: the layers are taken, and their allocation given back.
        let h2 = std::mem::take(&mut self.h2_seq);
        let input = PathInput {
            path,
            short,
            segments,
            h2: &h2,
        };
        self.count(&input, len);
        self.h2_seq = h2;
        self.h2_seq.clear();
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
        self.settle();
        writeln!(
            self.out,
            "\n{RULE}\nProtocol Hierarchy Statistics\nFilter: {}\n",
            self.filter.as_deref().unwrap_or("")
        )?;
        for r in self.roots.clone() {
            self.write_node(r, 0)?;
        }
        writeln!(self.out, "{RULE}")?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(
        s: &mut PhsSink<Vec<u8>>,
        path: &[&'static str],
        segments: Option<usize>,
        h2: &[&'static str],
        len: u64,
    ) {
        let input = PathInput {
            path,
            short: false,
            segments,
            h2,
        };
        s.count(&input, len);
    }

    fn names(path: &[&'static str]) -> Vec<&'static str> {
        hierarchy(path).map(|(_, n)| n).collect()
    }

    #[test]
    fn hidden_layers() {
        assert_eq!(
            names(&["eth", "ethertype", "vlan", "ethertype", "ip", "udp", "dns"]),
            ["eth", "vlan", "ip", "udp", "dns"]
        );
        assert_eq!(
            names(&["eth", "ethertype", "ipv6", "ipv6.fraghdr", "udp", "data"]),
            ["eth", "ipv6", "udp", "data"]
        );
        // Echo data is inside the ICMP tree; a quoted packet's payload is not.
        assert_eq!(
            names(&["eth", "ethertype", "ip", "icmp", "data"]),
            ["eth", "ip", "icmp"]
        );
        assert_eq!(
            names(&["eth", "ethertype", "ip", "icmp", "ip", "udp", "data"]),
            ["eth", "ip", "icmp", "data"]
        );
    }

    #[test]
    fn certificates_and_upgrades_add_no_node() {
        assert_eq!(
            names(&[
                "eth",
                "ip",
                "tcp",
                "tls",
                "x509sat",
                "x509ce",
                "pkix1explicit",
                "tls"
            ]),
            ["eth", "ip", "tcp", "tls", "tls"]
        );
        assert_eq!(
            names(&["eth", "ip", "tcp", "http", "websocket", "data"]),
            ["eth", "ip", "tcp", "websocket", "data"]
        );
        assert_eq!(
            names(&["eth", "ip", "tcp", "http"]),
            ["eth", "ip", "tcp", "http"]
        );
        // QUIC's handshake is inside its CRYPTO frames' tree.
        assert_eq!(
            names(&["eth", "ip", "udp", "quic", "tls"]),
            ["eth", "ip", "udp", "quic"]
        );
    }

    #[test]
    fn http2_nodes_one_per_frame_without_the_call_summary() {
        // Two HTTP/2 frames, a DATA frame's gRPC message, then the call summary (`grpc` and a
        // re-opened `http2`) and one more frame.
        let seq = [
            "http2", "http2", "grpc", "protobuf", "http2", "grpc", "http2", "http2",
        ];
        assert_eq!(
            h2_nodes(&seq),
            ["http2", "http2", "grpc", "protobuf", "http2", "http2"]
        );
        let mut s = PhsSink::new(Vec::new(), None);
        count(
            &mut s,
            &["eth", "ip", "tcp", "http2", "grpc", "protobuf"],
            None,
            &seq,
            10,
        );
        assert_eq!(
            s.nodes.iter().map(|n| n.name).collect::<Vec<_>>(),
            ["eth", "ip", "tcp", "http2", "http2", "grpc", "protobuf", "http2", "http2"]
        );
    }

    #[test]
    fn segments_node_where_the_flow_engine_put_it() {
        let mut s = PhsSink::new(Vec::new(), None);
        // A reassembled TLS record, then one the rest of the segment held.
        count(
            &mut s,
            &["eth", "ip", "tcp", "tls", "x509sat", "tls"],
            Some(5),
            &[],
            10,
        );
        // A reassembled DNS message ending the segment.
        count(&mut s, &["eth", "ip", "tcp", "dns"], Some(4), &[], 20);
        let path = |s: &PhsSink<Vec<u8>>, mut i: usize| {
            let mut names = vec![s.nodes[i].name];
            while let Some(p) = s.nodes.iter().position(|n| n.children.contains(&i)) {
                names.insert(0, s.nodes[p].name);
                i = p;
            }
            names
        };
        let leaves: Vec<_> = (0..s.nodes.len())
            .filter(|&i| s.nodes[i].children.is_empty())
            .map(|i| path(&s, i))
            .collect();
        assert_eq!(
            leaves,
            [
                vec!["eth", "ip", "tcp", "tls", "tcp.segments", "tls"],
                vec!["eth", "ip", "tcp", "dns", "tcp.segments"],
            ]
        );
    }

    #[test]
    fn prints_as_tshark() {
        let mut s = PhsSink::new(Vec::new(), None);
        count(&mut s, &["eth", "ethertype", "arp"], None, &[], 42);
        count(
            &mut s,
            &["eth", "ethertype", "ip", "udp", "dns"],
            None,
            &[],
            100,
        );
        count(&mut s, &["eth", "ethertype", "ip", "tcp"], None, &[], 60);
        count(&mut s, &["eth", "ethertype", "arp"], None, &[], 42);
        let flows = crate::flow::FlowEngine::new(crate::flow::FlowConfig::default());
        s.finish(&RunEnd {
            frames: 4,
            flows: &flows,
        })
        .unwrap();
        let expected = "
===================================================================
Protocol Hierarchy Statistics
Filter: 

eth                                      frames:4 bytes:244
  arp                                    frames:2 bytes:84
  ip                                     frames:2 bytes:160
    udp                                  frames:1 bytes:100
      dns                                frames:1 bytes:100
    tcp                                  frames:1 bytes:60
===================================================================
";
        assert_eq!(String::from_utf8(s.out).unwrap(), expected);
    }

    #[test]
    fn cached_counts_reach_the_nodes() {
        let mut s = PhsSink::new(Vec::new(), None);
        let tcp = ["eth", "ip", "tcp"];
        count(&mut s, &tcp, None, &[], 60);
        count(&mut s, &tcp, None, &[], 40);
        // Enough other lists to replace `tcp`'s entry, which must hand its frames on first.
        for i in 0..CACHED_PATHS + 2 {
            let name: &'static str = Box::leak(format!("p{i}").into_boxed_str());
            count(&mut s, &["eth", "ip", name], None, &[], 1);
        }
        count(&mut s, &tcp, None, &[], 10);
        s.settle();
        let node = |name: &str| s.nodes.iter().find(|n| n.name == name).unwrap();
        assert_eq!((node("tcp").frames, node("tcp").bytes), (3, 110));
        let others = CACHED_PATHS as u64 + 2;
        assert_eq!(
            (node("ip").frames, node("ip").bytes),
            (3 + others, 110 + others)
        );
    }

    #[test]
    fn nodes_are_capped() {
        let mut s = PhsSink::new(Vec::new(), None);
        for i in 0..MAX_NODES + 10 {
            let name: &'static str = Box::leak(format!("p{i}").into_boxed_str());
            count(&mut s, &[name], None, &[], 1);
        }
        assert_eq!(s.nodes.len(), MAX_NODES);
    }
}
