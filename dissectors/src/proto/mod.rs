//! THE registry: one line per protocol, and the dispatcher that walks a frame through it.
//!
//! `frame` layers implement [`Dissector`] (one header of one frame); `stream` protocols
//! implement [`StreamDissector`] (fed reassembled bytes by the flow engine). Adding a protocol
//! is its file plus one line below.

use crate::dissector::{Bind, Cx, Dissector, Next, StreamDissector, Table};
use crate::field::{FieldDef, Proto, Span, Value};
use crate::pinfo::{FrameMeta, PacketInfo};

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
pub mod frame;
pub mod grpc;
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
    // bodies HTTP hands over (its media-type table), and SSE events
    &http::body::TEXT_LINES,
    &http::body::JSON,
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
    let entries = dispatch_table();
    let want = (table as u8, key);
    entries
        .binary_search_by_key(&want, |e| (e.0, e.1))
        .ok()
        .and_then(|i| entries.get(i))
        .map(|e| e.2)
}

/// Every `(table, key)` binding of [`FRAME`], sorted for binary search: the registry scan is
/// done once, not for every layer of every frame. Built on first use and never changed.
fn dispatch_table() -> &'static [(u8, u32, &'static dyn Dissector)] {
    static TABLE: std::sync::OnceLock<Vec<(u8, u32, &'static dyn Dissector)>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut entries: Vec<(u8, u32, &'static dyn Dissector)> = FRAME
            .iter()
            .flat_map(|d| d.binds().iter().map(move |Bind(t, k)| (*t as u8, *k, *d)))
            .collect();
        // A stable sort keeps registry order among equal keys; the first one wins, as in a
        // scan of the registry.
        entries.sort_by_key(|e| (e.0, e.1));
        entries.dedup_by_key(|e| (e.0, e.1));
        entries
    })
}

/// The stream protocol with this name (for `-d`).
pub fn stream_dissector(name: &str) -> Option<&'static dyn StreamDissector> {
    STREAM.iter().copied().find(|d| d.proto().name == name)
}

/// Dissects one frame from its link layer down to the transport: emits the `frame` layer, then
/// walks the dissector tables. Stops at the first malformed layer (recorded in `pi`).
pub fn dissect_frame(meta: &FrameMeta, bytes: &[u8], pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    frame::emit(meta, cx);
    pi.frame_time = (meta.secs, meta.nanos);
    pi.frame_len = meta.len;
    let next = Next::Dispatch {
        table: Table::LinkType,
        key: meta.link_type.0,
        data: bytes,
        offset: 0,
    };
    walk(next, pi, cx, Some(meta.len as usize));
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
            data::dissect(bytes, offset, cx);
            break;
        };
        match dissector.dissect(bytes, offset, pi, cx) {
            Ok(n) => next = n,
            Err(_) => break,
        }
    }
    cx.sink.unnest();
    pi.quoted = saved;
}

/// The dispatch loop. With the frame's length on the wire (`frame_len`), it also shows the
/// padding and trailer after the network layer, once every layer has run (as Wireshark's
/// ethertype dissector does after its subdissector returns or fails).
fn walk(mut next: Next<'_>, pi: &mut PacketInfo, cx: &mut Cx<'_>, frame_len: Option<usize>) {
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
        let Some(dissector) = frame_dissector(table, key) else {
            data::dissect(bytes, offset, cx);
            break;
        };
        match dissector.dissect(bytes, offset, pi, cx) {
            Ok(n) => {
                if let Next::Dispatch { data, offset, .. } = n {
                    if !pi.quoted && eth::has_trailer(dissector.proto()) {
                        link = Some((dissector.proto(), data, offset));
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

/// Records a malformed layer: in `pi`, as an expert line in the sink (`_ws.malformed`) and in
/// the Info column. Like tshark, `frame.protocols` does not list it: the marker is a tree item,
/// not a dissected layer.
pub fn malformed(m: crate::Malformed, offset: usize, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    if pi.malformed.is_none() {
        pi.malformed = Some(m);
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
