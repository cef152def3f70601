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
    /// The current frame's cache key (kept between frames for its allocation).
    key: Vec<usize>,
}

/// Entries of the [`PathCache`].
const CACHED_PATHS: usize = 16;

/// Most frames repeat one of a few protocol lists, and walking the hierarchy name by name
/// (filters, string comparisons) cost more than the rest of the sink: the node indices of the
/// last few distinct lists are kept, keyed by the names' addresses (equal addresses are equal
/// names; a list spelled with other addresses is merely a miss).
#[derive(Debug, Default)]
struct PathCache {
    entries: Vec<(Vec<usize>, Vec<usize>)>,
    /// The entry replaced next.
    next: usize,
}

impl PathCache {
    fn get(&self, key: &[usize]) -> Option<&[usize]> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, nodes)| nodes.as_slice())
    }

    fn put(&mut self, key: &[usize], nodes: &[usize]) {
        if self.entries.len() < CACHED_PATHS {
            self.entries.push((key.to_vec(), nodes.to_vec()));
            return;
        }
        if let Some((k, n)) = self.entries.get_mut(self.next) {
            k.clear();
            k.extend_from_slice(key);
            n.clear();
            n.extend_from_slice(nodes);
        }
        self.next = (self.next + 1) % CACHED_PATHS;
    }
}

/// The words that identify a frame's input to [`PhsSink::add`].
fn path_key(
    key: &mut Vec<usize>,
    path: &[&'static str],
    segments: Option<usize>,
    h2: &[&'static str],
) {
    key.clear();
    key.push(segments.map_or(usize::MAX, |s| s));
    key.push(path.len());
    for names in [path, h2] {
        for name in names {
            key.push(name.as_ptr() as usize);
            key.push(name.len());
        }
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
            key: Vec::new(),
        }
    }

    /// Counts one frame of `len` bytes in node `i`.
    fn count_in(nodes: &mut [Node], i: usize, len: u64) {
        if let Some(n) = nodes.get_mut(i) {
            n.frames += 1;
            n.bytes += len;
        }
    }

    /// Counts a frame in the nodes `add` would count it in, from the cache when its
    /// protocol list was seen lately.
    fn count(
        &mut self,
        path: &[&'static str],
        segments: Option<usize>,
        h2: &[&'static str],
        len: u64,
    ) {
        let mut key = std::mem::take(&mut self.key);
        path_key(&mut key, path, segments, h2);
        if let Some(nodes) = self.cache.get(&key) {
            for &i in nodes {
                Self::count_in(&mut self.nodes, i, len);
            }
        } else {
            let mut counted = Vec::new();
            if self.add(path, segments, h2, len, &mut counted) {
                self.cache.put(&key, &counted);
            }
        }
        self.key = key;
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
        let segments = self.segments.take();
        let path = frame.protocols.as_slice();
        let h2 = std::mem::take(&mut self.h2_seq);
        if std::mem::take(&mut self.short) {
            let mut with_short = path.to_vec();
            with_short.push(data::SHORT.name);
            self.count(&with_short, segments, &h2, u64::from(frame.meta.len));
        } else {
            self.count(path, segments, &h2, u64::from(frame.meta.len));
        }
        // Keep the allocation for the next frame.
        self.h2_seq = h2;
        self.h2_seq.clear();
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
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
        s.count(
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
        s.count(
            &["eth", "ip", "tcp", "tls", "x509sat", "tls"],
            Some(5),
            &[],
            10,
        );
        // A reassembled DNS message ending the segment.
        s.count(&["eth", "ip", "tcp", "dns"], Some(4), &[], 20);
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
        s.count(&["eth", "ethertype", "arp"], None, &[], 42);
        s.count(&["eth", "ethertype", "ip", "udp", "dns"], None, &[], 100);
        s.count(&["eth", "ethertype", "ip", "tcp"], None, &[], 60);
        s.count(&["eth", "ethertype", "arp"], None, &[], 42);
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
    fn nodes_are_capped() {
        let mut s = PhsSink::new(Vec::new(), None);
        for i in 0..MAX_NODES + 10 {
            let name: &'static str = Box::leak(format!("p{i}").into_boxed_str());
            s.count(&[name], None, &[], 1);
        }
        assert_eq!(s.nodes.len(), MAX_NODES);
    }
}
