//! `-z io,phs`: tshark's protocol hierarchy statistics, printed at the end of the run.
//!
//! Each frame adds its length to every node on its protocol path; children keep the order in
//! which they were first seen, as tshark's do. The path is the frame's `frame.protocols` with
//! what tshark's hierarchy does not show taken out: the `ethertype` pseudo-layer, IPv6
//! extension headers (`ipv6.hopopts`, `ipv6.fraghdr`), and what an ICMP message carries
//! inside its own tree (echo data; the quoted packet of an error, whose trailing payload
//! tshark does count). A frame that completes a PDU reassembled from several TCP segments
//! gets tshark's `tcp.segments` node last, when the flow engine opens a layer of a protocol
//! named `tcp.segments` in it (with `cx.sink.layer`, as it is not in `frame.protocols`).
//! tshark builds the hierarchy from the protocol tree, which `frame.protocols` flattens:
//! protocols repeated in one frame (several HTTP/2 frames) count once here.

use super::{FrameEnd, RunEnd, Sink};
use netsniff_dissectors::{FieldDef, FieldSink, Proto, Span, Value};
use std::io::{self, Write};

/// Distinct nodes kept; deeper or newer paths are counted in their deepest kept ancestor
/// (a hierarchy has tens of nodes; a fuzzed file cannot make it grow without bound).
pub const MAX_NODES: usize = 4096;

/// tshark's node for frames that complete a multi-segment TCP PDU.
const SEGMENTS: &str = "tcp.segments";

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
    nodes: Vec<Node>,
    /// Top-level nodes.
    roots: Vec<usize>,
    /// The current frame completed a reassembled TCP PDU.
    segments: bool,
}

impl<W: Write> PhsSink<W> {
    pub fn new(out: W) -> Self {
        PhsSink {
            out,
            nodes: Vec::new(),
            roots: Vec::new(),
            segments: false,
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

    /// Adds one frame of `len` bytes with protocol path `path`, then `last` if given.
    fn add(&mut self, path: &[&'static str], last: Option<&'static str>, len: u64) {
        let mut parent = None;
        for name in hierarchy(path).chain(last) {
            let Some(i) = self.child(parent, name) else {
                return;
            };
            if let Some(n) = self.nodes.get_mut(i) {
                n.frames += 1;
                n.bytes += len;
            }
            parent = Some(i);
        }
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

/// The names of `frame.protocols` that tshark's hierarchy shows, in order.
fn hierarchy<'a>(path: &'a [&'static str]) -> impl Iterator<Item = &'static str> + 'a {
    // The index of the first ICMP layer: what follows is inside its tree, except the payload
    // at the end of a quoted packet (tshark shows it at top level).
    let icmp = path.iter().position(|p| *p == "icmp" || *p == "icmpv6");
    let last = path.len().saturating_sub(1);
    path.iter().enumerate().filter_map(move |(i, &name)| {
        if name == "ethertype" || name.starts_with("ipv6.") {
            return None;
        }
        match icmp {
            Some(at) if i > at => {
                let quoted_payload = i == last && i > at + 1 && name == "data";
                quoted_payload.then_some(name)
            }
            _ => Some(name),
        }
    })
}

impl<W: Write> FieldSink for PhsSink<W> {
    fn wants(&self, proto: &'static Proto) -> bool {
        proto.name == SEGMENTS
    }
    fn layer(&mut self, proto: &'static Proto, _span: Span) {
        self.segments |= proto.name == SEGMENTS;
    }
    fn field(&mut self, _def: &'static FieldDef, _span: Span, _value: Value<'_>) {}
}

impl<W: Write> Sink for PhsSink<W> {
    fn end_frame(&mut self, frame: &FrameEnd<'_>) -> io::Result<()> {
        let last = std::mem::take(&mut self.segments).then_some(SEGMENTS);
        self.add(frame.protocols.as_slice(), last, u64::from(frame.meta.len));
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> io::Result<()> {
        writeln!(
            self.out,
            "\n{RULE}\nProtocol Hierarchy Statistics\nFilter: \n"
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
        hierarchy(path).collect()
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
    fn prints_as_tshark() {
        let mut s = PhsSink::new(Vec::new());
        s.add(&["eth", "ethertype", "arp"], None, 42);
        s.add(&["eth", "ethertype", "ip", "udp", "dns"], None, 100);
        s.add(&["eth", "ethertype", "ip", "tcp"], None, 60);
        s.add(&["eth", "ethertype", "arp"], None, 42);
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
        let mut s = PhsSink::new(Vec::new());
        for i in 0..MAX_NODES + 10 {
            let name: &'static str = Box::leak(format!("p{i}").into_boxed_str());
            s.add(&[name], None, 1);
        }
        assert_eq!(s.nodes.len(), MAX_NODES);
    }
}
