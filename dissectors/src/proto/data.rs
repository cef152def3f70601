//! `data`: bytes no dissector claimed, shown as Wireshark's "Data" layer; and `_ws.malformed`,
//! the marker of a layer that could not be parsed.

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};

pub static PROTO: Proto = Proto {
    name: "data",
    long_name: "Data",
    fields: &[&DATA, &LEN],
    summary: &[],
};

pub static DATA: FieldDef = FieldDef::new("data.data", "Data", Kind::Bytes);
pub static LEN: FieldDef = FieldDef::new("data.len", "Length", Kind::Dec);

pub static MALFORMED: Proto = Proto {
    name: "_ws.malformed",
    long_name: "Malformed Packet",
    fields: &[&MALFORMED_REASON],
    summary: &[],
};

/// Wireshark's marker of a layer cut by the snapshot length (`[Packet size limited during
/// capture: TCP truncated]`): a tree item, listed by `-z io,phs`, not by `frame.protocols`.
pub static SHORT: Proto = Proto {
    name: "_ws.short",
    long_name: "Short Frame",
    fields: &[],
    summary: &[],
};

pub static MALFORMED_REASON: FieldDef = FieldDef::new("_ws.malformed.reason", "Reason", Kind::Str);

/// Emits `bytes` (at `offset` in the buffer) as a data layer; nothing for empty input.
pub fn dissect(bytes: &[u8], offset: usize, cx: &mut Cx<'_>) {
    if bytes.is_empty() {
        return;
    }
    let span = Span::new(offset, bytes.len());
    if cx.layer(&PROTO, span) {
        cx.field(&DATA, span, Value::Bytes(bytes));
        cx.field(&LEN, Span::GENERATED, Value::U(bytes.len() as u64));
    }
}
