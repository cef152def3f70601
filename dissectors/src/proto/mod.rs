//! THE registry: one line per protocol, and the dispatcher that walks a frame through it.
//!
//! `frame` layers implement [`Dissector`] (one header of one frame); `stream` protocols
//! implement [`StreamDissector`] (fed reassembled bytes by the flow engine). Adding a protocol
//! is its file plus one line below.

use crate::dissector::{Bind, Cx, Dissector, Next, StreamDissector, Table};
use crate::field::{FieldDef, Proto, Span, Value};
use crate::pinfo::{FrameMeta, PacketInfo};

macro_rules! protocols {
    (frame { $($fm:ident: $fty:ident,)* } stream { $($sm:ident: $sty:ident,)* }) => {
        $(pub mod $fm;)*
        $(pub mod $sm;)*
        /// Every per-frame layer dissector.
        pub static FRAME: &[&dyn Dissector] = &[$(&$fm::$fty),*];
        /// Every application protocol fed by the flow engine.
        pub static STREAM: &[&dyn StreamDissector] = &[$(&$sm::$sty),*];
    };
}

pub mod bytes;
pub mod data;
pub mod frame;

protocols! {
    frame {
        // link
        eth: Eth,
        // network
        ip: Ip,
        // transport
        tcp: Tcp,
        udp: Udp,
    }
    stream {
        // application
    }
}

/// Layers deeper than this stop dissection (a frame of nested tunnels, or a loop).
pub const MAX_DEPTH: usize = 16;

/// Protocols with fields that are neither frame layers nor stream protocols.
static EXTRA: &[&Proto] = &[&frame::PROTO, &data::PROTO, &data::MALFORMED];

/// Every protocol that declares fields.
pub fn all_protos() -> impl Iterator<Item = &'static Proto> {
    EXTRA
        .iter()
        .copied()
        .chain(FRAME.iter().map(|d| d.proto()))
        .chain(STREAM.iter().map(|d| d.proto()))
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

/// The frame dissector registered for `key` in `table`.
pub fn frame_dissector(table: Table, key: u32) -> Option<&'static dyn Dissector> {
    FRAME
        .iter()
        .copied()
        .find(|d| d.binds().contains(&Bind(table, key)))
}

/// The stream protocol with this name (for `-d`).
pub fn stream_dissector(name: &str) -> Option<&'static dyn StreamDissector> {
    STREAM.iter().copied().find(|d| d.proto().name == name)
}

/// Dissects one frame from its link layer down to the transport: emits the `frame` layer, then
/// walks the dissector tables. Stops at the first malformed layer (recorded in `pi`).
pub fn dissect_frame(meta: &FrameMeta, bytes: &[u8], pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    frame::emit(meta, cx);
    let next = Next::Dispatch {
        table: Table::LinkType,
        key: meta.link_type.0,
        data: bytes,
        offset: 0,
    };
    dissect_from(next, pi, cx);
}

/// Continues dissection from `next` (also used for reassembled IP datagrams and for the packet
/// quoted in an ICMP error). Undissectable bytes become a `data` layer, as in Wireshark.
pub fn dissect_from(mut next: Next<'_>, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    for _ in 0..MAX_DEPTH {
        let Next::Dispatch {
            table,
            key,
            data: bytes,
            offset,
        } = next
        else {
            return;
        };
        let Some(dissector) = frame_dissector(table, key) else {
            data::dissect(bytes, offset, cx);
            return;
        };
        match dissector.dissect(bytes, offset, pi, cx) {
            Ok(n) => next = n,
            Err(m) => {
                malformed(m, offset, pi, cx);
                return;
            }
        }
    }
}

/// Records a malformed layer: in `pi`, in `frame.protocols` (`_ws.malformed`, as tshark) and as
/// an expert line in the sink.
pub fn malformed(m: crate::Malformed, offset: usize, pi: &mut PacketInfo, cx: &mut Cx<'_>) {
    if pi.malformed.is_none() {
        pi.malformed = Some(m);
    }
    cx.protocols.push("_ws.malformed");
    if cx.wants(&data::MALFORMED) {
        cx.sink.layer(&data::MALFORMED, Span::new(offset + m.at, 0));
        cx.sink.field(
            &data::MALFORMED_REASON,
            Span::GENERATED,
            Value::Str(m.reason),
        );
    }
    if let Some(cols) = cx.cols.as_deref_mut() {
        use std::fmt::Write as _;
        let _ = write!(cols.info, " {m}");
    }
}
