//! THE registry: one line per protocol, and the dispatcher that walks a frame through it.
//!
//! `frame` layers implement [`Dissector`] (one header of one frame); `stream` protocols
//! implement [`StreamDissector`] (fed reassembled bytes by the flow engine). Adding a protocol
//! is its file plus one line below.

use crate::dissector::{Bind, Cx, Dissector, Next, StreamDissector, Table};
use crate::field::{FieldDef, Proto, Span, Value};
use crate::pinfo::{FrameMeta, PacketInfo};
use std::fmt::Write as _;

macro_rules! protocols {
    (frame { $($fm:ident: $($fty:ident)|+,)* } stream { $($sm:ident: $sty:ident,)* }) => {
        $(pub mod $fm;)*
        $(pub mod $sm;)*
        /// Every per-frame layer dissector (a file may hold several: `sll: Sll | Sll2`).
        pub static FRAME: &[&dyn Dissector] = &[$($(&$fm::$fty),+),*];
        /// Every application protocol fed by the flow engine.
        pub static STREAM: &[&dyn StreamDissector] = &[$(&$sm::$sty),*];
    };
}

pub mod bytes;
pub mod data;
mod fastpath;
pub mod frame;
pub mod grpc;
pub mod json;
pub mod sse;
#[cfg(test)]
pub mod testkit;

protocols! {
    frame {
        // link
        eth: Eth,
        vlan: Vlan | Ieee8021ad,
        sll: Sll | Sll2,
        null: Null | Loop,
        raw: Raw,
        // network
        arp: Arp,
        ip: Ip,
        ipv6: Ipv6 | HopOpts | Routing | FragHdr | DstOpts | Ah,
        icmp: Icmp,
        icmpv6: Icmpv6,
        // transport
        tcp: Tcp,
        udp: Udp,
    }
    stream {
        // application
        http: Http,
        websocket: WebSocket,
        http2: Http2,
        tls: Tls,
        dns: Dns,
        quic: Quic,
    }
}

/// Layers deeper than this stop dissection (a frame of nested tunnels, or a loop).
pub const MAX_DEPTH: usize = 16;

/// A `LinkType` key no dissector registers: a layer dispatches its payload there to have it
/// shown as data (an 802.3 frame's LLC payload, a Linux-internal SLL protocol).
pub const NOT_DISSECTED: u32 = u32::MAX;

/// Protocols with fields that are neither frame layers nor stream protocols.
static EXTRA: &[&Proto] = &[
    &frame::PROTO,
    &frame::COMMENT_PROTO,
    &data::PROTO,
    &data::MALFORMED,
    &data::SHORT,
    // bodies HTTP hands over (its media-type table), and SSE events
    &http::body::TEXT_LINES,
    &json::PROTO,
    &http::body::URLENCODED,
    &http::body::XML,
    &http::body::MEDIA,
    &sse::PROTO,
    &grpc::PROTO,
    &grpc::PROTOBUF,
];

/// Every protocol that declares fields.
pub fn all_protos() -> impl Iterator<Item = &'static Proto> {
    EXTRA
        .iter()
        .copied()
        .chain(FRAME.iter().map(|d| d.proto()))
        .chain(STREAM.iter().map(|d| d.proto()))
}

/// The protocols of frame dissection (link to transport layers, and the `frame` layer itself
/// with its comments): what the pipeline dissects before any flow or stream is known.
pub fn frame_protos() -> impl Iterator<Item = &'static Proto> {
    [&frame::PROTO, &frame::COMMENT_PROTO]
        .into_iter()
        .chain(FRAME.iter().map(|d| d.proto()))
}

/// The protocols of the stream parsers (application layers the flow engine finds in
/// reassembled streams and datagrams).
pub fn stream_protos() -> impl Iterator<Item = &'static Proto> {
    STREAM.iter().map(|d| d.proto())
}

/// Every field of every protocol, in registry order.
pub fn all_fields() -> impl Iterator<Item = &'static FieldDef> {
    all_protos().flat_map(|p| p.fields.iter().copied())
}

/// The field with this Wireshark name.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    all_fields().find(|f| f.name == name)
}

/// The protocol with this Wireshark name.
pub fn proto(name: &str) -> Option<&'static Proto> {
    all_protos().find(|p| p.name == name)
}

/// The frame dissector registered for `key` in `table` (the first registered, when several
/// are).
pub fn frame_dissector(table: Table, key: u32) -> Option<&'static dyn Dissector> {
    dispatch_index().get(table, key).map(|b| b.dissector)
}

/// One `(table, key)` binding of [`FRAME`], with what the dispatch loop asks of its dissector
/// after every layer worked out once: its protocol, and whether padding and a trailer may
/// follow the payload it dispatches (two calls through the `dyn` per layer before).
#[derive(Clone, Copy)]
struct Binding {
    table: Table,
    key: u32,
    dissector: &'static dyn Dissector,
    proto: &'static Proto,
    trailer: bool,
}

/// Keys below this are found by direct indexing: every registered link type, EtherType and
/// IP protocol number is a 16-bit value.
const DIRECT_KEYS: usize = 1 << 16;
/// How many dissector tables there are ([`Table::UdpPort`] is the last).
const TABLES: usize = Table::UdpPort as usize + 1;

/// Every binding of [`FRAME`], indexed by table and key: every layer of every frame looks its
/// next dissector up here, so the lookup is one load from a table of every 16-bit key (a hash
/// probe before cost a fraction more, a binary search before that about 5 % of stage one's
/// time). The table is 320 KiB of address space, but allocated zeroed and only the few pages
/// holding registered keys are ever written or read. Built on first use and never changed.
struct DispatchIndex {
    /// Index + 1 in `bindings` of the binding of table `t` and key `k` at `t * DIRECT_KEYS + k`
    /// (0: none there, look in `others`).
    direct: Vec<u8>,
    bindings: Vec<Binding>,
    /// Bindings the direct table cannot hold (a key of 2^16 or more, or more than 254
    /// bindings; none today), scanned.
    others: Vec<Binding>,
}

impl DispatchIndex {
    fn build() -> DispatchIndex {
        let mut index = DispatchIndex {
            direct: vec![0u8; TABLES * DIRECT_KEYS],
            bindings: Vec::new(),
            others: Vec::new(),
        };
        for d in FRAME {
            for Bind(table, key) in d.binds() {
                // The first registered wins, as in a scan of the registry.
                if index.get(*table, *key).is_some() {
                    continue;
                }
                let binding = Binding {
                    table: *table,
                    key: *key,
                    dissector: *d,
                    proto: d.proto(),
                    trailer: eth::has_trailer(d.proto()),
                };
                let slot = Self::slot(*table, *key).and_then(|at| {
                    let number = u8::try_from(index.bindings.len() + 1).ok()?;
                    index.direct.get_mut(at).map(|s| (s, number))
                });
                match slot {
                    Some((s, number)) => {
                        *s = number;
                        index.bindings.push(binding);
                    }
                    None => index.others.push(binding),
                }
            }
        }
        index
    }

    /// Where `(table, key)` is in `direct`, if it has a place there.
    #[inline]
    fn slot(table: Table, key: u32) -> Option<usize> {
        let key = usize::try_from(key).ok().filter(|k| *k < DIRECT_KEYS)?;
        Some(table as usize * DIRECT_KEYS + key)
    }

    #[inline]
    fn get(&self, table: Table, key: u32) -> Option<&Binding> {
        let number = Self::slot(table, key).and_then(|at| self.direct.get(at).copied());
        match number.and_then(|n| usize::from(n).checked_sub(1)) {
            Some(i) => self.bindings.get(i),
            None => self
                .others
                .iter()
                .find(|b| b.table == table && b.key == key),
        }
    }
}

fn dispatch_index() -> &'static DispatchIndex {
    static INDEX: std::sync::OnceLock<DispatchIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(DispatchIndex::build)
}

/// The stream protocol with this name (for `-d`).
pub fn stream_dissector(name: &str) -> Option<&'static dyn StreamDissector> {
    STREAM.iter().copied().find(|d| d.proto().name == name)
}

/// Dissects one frame from its link layer down to the transport: emits the `frame` layer, then
/// walks the dissector tables. Stops at the first malformed layer (recorded in `pi`).
pub fn dissect_frame(meta: &FrameMeta, bytes: &[u8], pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    dissect_frame_on(meta, None, bytes, pi, cx);
}

/// [`dissect_frame`] for a frame whose capture interface has a name (pcapng `if_name`).
///
/// Inlined into the pipeline's one caller, as it was before the shortcut made it too large for
/// the compiler to choose so (the call cost every frame of `-P` about 25 instructions).
#[inline]
pub fn dissect_frame_on(
    meta: &FrameMeta,
    interface: Option<crate::pinfo::CaptureInterface<'_>>,
    bytes: &[u8],
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
) {
    dissect_frame_with(meta, interface, bytes, pi, cx, true);
}

/// [`dissect_frame_on`], with the shortcut for plain Ethernet/IPv4/TCP|UDP frames whose layers
/// no output shows allowed (`fast`) or not (the tests compare both); returns whether the
/// shortcut dissected the frame.
#[inline]
fn dissect_frame_with(
    meta: &FrameMeta,
    interface: Option<crate::pinfo::CaptureInterface<'_>>,
    bytes: &[u8],
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
    fast: bool,
) -> bool {
    frame::emit(meta, interface, cx);
    pi.frame_time = (meta.secs, meta.nanos);
    pi.frame_len = meta.len;
    // Most frames of `flows`, `-z conv` and application `-T fields` runs: the facts the flow
    // engine needs, read without the walk (see `fastpath`, which leaves everything as the walk
    // would or declines having changed nothing).
    if fast && fastpath::dissect(meta, bytes, pi, cx) {
        return true;
    }
    let next = Next::Dispatch {
        table: Table::LinkType,
        key: meta.link_type.0,
        data: bytes,
        offset: 0,
    };
    walk(next, pi, cx, Some(meta.len as usize));
    false
}

/// Continues dissection from `next` (also used for reassembled IP datagrams and for the packet
/// quoted in an ICMP error). Undissectable bytes become a `data` layer, as in Wireshark.
pub fn dissect_from(next: Next<'_>, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    walk(next, pi, cx, None);
}

/// Dissects the packet quoted in an ICMP or ICMPv6 error: its layers emit fields but leave the
/// outer packet's facts alone (`pi.quoted`), and a quoted packet cut short is not a malformed
/// frame (routers quote only the first bytes; tshark does not flag it either).
pub fn dissect_quoted(mut next: Next<'_>, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    let saved = pi.quoted;
    pi.quoted = true;
    cx.sink.nest();
    // A quoted UDP datagram's payload: tshark draws its data after the ICMP layer, not in it.
    let mut outside = None;
    for _ in 0..MAX_DEPTH {
        let Next::Dispatch {
            table,
            key,
            data: bytes,
            offset,
        } = next
        else {
            break;
        };
        let Some(dissector) = frame_dissector(table, key) else {
            if matches!(pi.quoted_transport, crate::pinfo::Transport::Udp(_)) {
                outside = Some((bytes, offset));
            } else {
                data::dissect(bytes, offset, cx);
            }
            break;
        };
        match dissector.dissect(bytes, offset, pi, cx) {
            Ok(n) => next = n,
            Err(_) => break,
        }
    }
    cx.sink.unnest();
    if let Some((bytes, offset)) = outside {
        data::dissect(bytes, offset, cx);
    }
    pi.quoted = saved;
}

/// The dispatch loop. With the frame's length on the wire (`frame_len`), it also shows the
/// padding and trailer after the network layer, once every layer has run (as Wireshark's
/// ethertype dissector does after its subdissector returns or fails).
fn walk(mut next: Next<'_>, pi: &mut PacketInfo, cx: &mut Cx<'_>, frame_len: Option<usize>) {
    let index = dispatch_index();
    // The innermost link layer that dispatched a payload, with that payload and its offset.
    let mut link: Option<(&'static Proto, &[u8], usize)> = None;
    for _ in 0..MAX_DEPTH {
        let Next::Dispatch {
            table,
            key,
            data: bytes,
            offset,
        } = next
        else {
            break;
        };
        let Some(binding) = index.get(table, key) else {
            data::dissect(bytes, offset, cx);
            break;
        };
        match binding.dissector.dissect(bytes, offset, pi, cx) {
            Ok(n) => {
                if let Next::Dispatch { data, offset, .. } = n {
                    if binding.trailer && !pi.quoted {
                        link = Some((binding.proto, data, offset));
                    }
                }
                next = n;
            }
            Err(m) => {
                malformed(m, offset, pi, cx);
                break;
            }
        }
    }
    if let (Some((owner, payload, at)), Some(frame_len), Some(net_len)) =
        (link, frame_len, pi.net_len)
    {
        eth::trailer(owner, payload, at, net_len, frame_len, cx);
    }
}

/// What a frame cut by the snapshot length adds to the Info column (no separator, as tshark).
pub const SHORT_INFO: &str = "[Packet size limited during capture]";

/// Records a malformed layer: in `pi`, as an expert line in the sink (`_ws.malformed`) and in
/// the Info column. Like tshark, `frame.protocols` does not list it: the marker is a tree item,
/// not a dissected layer.
pub fn malformed(m: crate::Malformed, offset: usize, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    if pi.malformed.is_none() {
        pi.malformed = Some(m);
    }
    if m.short {
        if cx.wants(&data::SHORT) {
            cx.sink.layer(&data::SHORT, Span::new(offset + m.at, 0));
            cx.retitle(|t| {
                let _ = write!(t, "{m}");
            });
        }
        if let Some(cols) = cx.cols.as_deref_mut() {
            cols.info.push_str(SHORT_INFO);
        }
        return;
    }
    if cx.wants(&data::MALFORMED) {
        cx.sink.layer(&data::MALFORMED, Span::new(offset + m.at, 0));
        cx.field(
            &data::MALFORMED_REASON,
            Span::GENERATED,
            Value::Str(m.reason),
        );
    }
    if let Some(cols) = cx.cols.as_deref_mut() {
        // tshark appends it without a separator: `Neighbor Solicitation[Malformed Packet]`.
        cols.info.push_str("[Malformed Packet]");
    }
}

/// Test helpers shared by the protocol files.
#[cfg(test)]
pub mod testutil {
    use crate::field::{write_tshark, FieldDef, FieldSink, Proto, Span, Value};

    /// A sink that wants every protocol and keeps `name=value` as tshark prints values.
    #[derive(Debug, Default)]
    pub struct Collect {
        pub fields: Vec<(&'static str, String)>,
        pub texts: Vec<String>,
    }

    impl Collect {
        /// Every value of `name`, in emission order, joined with commas (tshark's `-E occurrence=a`).
        pub fn get(&self, name: &str) -> String {
            let v: Vec<&str> = self
                .fields
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .collect();
            v.join(",")
        }
    }

    impl FieldSink for Collect {
        fn wants(&self, _proto: &'static Proto) -> bool {
            true
        }
        fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
        fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
            let mut out = Vec::new();
            write_tshark(def, &value, &mut out);
            self.fields
                .push((def.name, String::from_utf8_lossy(&out).into_owned()));
        }
        fn text(&mut self, _span: Span, text: &str) {
            self.texts.push(text.to_string());
        }
    }
}

#[cfg(test)]
mod dispatch_tests {
    use super::*;

    /// The hash index answers as a scan of the registry does: the first dissector registered
    /// for a binding, and none for keys nobody registers.
    #[test]
    fn dispatch_index_agrees_with_a_registry_scan() {
        let scan = |t: u8, k: u32| {
            FRAME
                .iter()
                .find(|d| {
                    d.binds()
                        .iter()
                        .any(|Bind(bt, bk)| *bt as u8 == t && *bk == k)
                })
                .map(|d| d.proto().name)
        };
        let mut checked = 0;
        for d in FRAME {
            for Bind(t, k) in d.binds() {
                let got = frame_dissector(*t, *k).map(|d| d.proto().name);
                assert_eq!(got, scan(*t as u8, *k), "{t:?} {k}");
                checked += 1;
            }
        }
        assert!(checked > 20);
        for t in [Table::LinkType, Table::EtherType, Table::IpProto] {
            for k in (0..70_000).step_by(7).chain([NOT_DISSECTED, u32::MAX - 1]) {
                let got = frame_dissector(t, k).map(|d| d.proto().name);
                assert_eq!(got, scan(t as u8, k), "{t:?} {k}");
            }
        }
    }
}
