//! `frame`: what the capture says about a frame (number, times, lengths, interface), and the
//! list of protocols dissection found in it.

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::pinfo::{CaptureInterface, FrameMeta, LinkType};
use std::fmt::Write as _;

pub static PROTO: Proto = Proto {
    name: "frame",
    long_name: "Frame",
    fields: &[
        &SECTION_NUMBER,
        &INTERFACE_ID,
        &INTERFACE_NAME,
        &INTERFACE_DESCRIPTION,
        &ENCAP_TYPE,
        &TIME,
        &OFFSET_SHIFT,
        &TIME_EPOCH,
        &TIME_DELTA,
        &TIME_DELTA_DISPLAYED,
        &TIME_RELATIVE,
        &NUMBER,
        &LEN,
        &CAP_LEN,
        &MARKED,
        &IGNORED,
        &PROTOCOLS,
    ],
    summary: &[],
};

pub static SECTION_NUMBER: FieldDef =
    FieldDef::new("frame.section_number", "Section number", Kind::Dec);
pub static INTERFACE_ID: FieldDef = FieldDef::new("frame.interface_id", "Interface id", Kind::Dec);
pub static INTERFACE_NAME: FieldDef =
    FieldDef::new("frame.interface_name", "Interface name", Kind::Str);
pub static INTERFACE_DESCRIPTION: FieldDef = FieldDef::new(
    "frame.interface_description",
    "Interface description",
    Kind::Str,
);
pub static ENCAP_TYPE: FieldDef =
    FieldDef::new("frame.encap_type", "Encapsulation type", Kind::Dec).with_names(encap_name);
pub static TIME: FieldDef = FieldDef::new("frame.time", "Arrival Time", Kind::AbsTime);
pub static OFFSET_SHIFT: FieldDef = FieldDef::new(
    "frame.offset_shift",
    "Time shift for this packet",
    Kind::RelTime,
);
pub static TIME_EPOCH: FieldDef = FieldDef::new("frame.time_epoch", "Epoch Time", Kind::Epoch);
pub static TIME_DELTA: FieldDef = FieldDef::new(
    "frame.time_delta",
    "Time delta from previous captured frame",
    Kind::RelTime,
);
pub static TIME_DELTA_DISPLAYED: FieldDef = FieldDef::new(
    "frame.time_delta_displayed",
    "Time delta from previous displayed frame",
    Kind::RelTime,
);
pub static TIME_RELATIVE: FieldDef = FieldDef::new(
    "frame.time_relative",
    "Time since reference or first frame",
    Kind::RelTime,
);
pub static NUMBER: FieldDef = FieldDef::new("frame.number", "Frame Number", Kind::Dec);
pub static LEN: FieldDef = FieldDef::new("frame.len", "Frame Length", Kind::Dec).unit(" bytes");
pub static CAP_LEN: FieldDef =
    FieldDef::new("frame.cap_len", "Capture Length", Kind::Dec).unit(" bytes");
pub static MARKED: FieldDef = FieldDef::new("frame.marked", "Frame is marked", Kind::Bool);
pub static IGNORED: FieldDef = FieldDef::new("frame.ignored", "Frame is ignored", Kind::Bool);
pub static PROTOCOLS: FieldDef = FieldDef::new("frame.protocols", "Protocols in frame", Kind::Str);

/// Wireshark's encapsulation number (`WTAP_ENCAP_*`) for a capture link type: what
/// `frame.encap_type` shows. Unknown link types show as 0, Wireshark's "Unknown".
pub fn wtap_encap(lt: LinkType) -> u64 {
    match lt {
        LinkType::ETHERNET => 1,
        LinkType::RAW | LinkType(12) | LinkType(14) => 7,
        LinkType::NULL => 15,
        LinkType::LINUX_SLL => 25,
        LinkType::IPV4 => 129,
        LinkType::IPV6 => 130,
        LinkType::LOOP => 174,
        LinkType::LINUX_SLL2 => 210,
        _ => 0,
    }
}

fn encap_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Unknown",
        1 => "Ethernet",
        7 => "Raw IP",
        15 => "NULL/Loopback",
        25 => "Linux cooked-mode capture v1",
        129 => "Raw IPv4",
        130 => "Raw IPv6",
        174 => "OpenBSD loopback",
        210 => "Linux cooked-mode capture v2",
        _ => return None,
    })
}

/// Packet comments (pcapng `opt_comment`): tshark shows them as a `pkt_comment` layer before
/// the frame, not listed in `frame.protocols`.
pub static COMMENT_PROTO: Proto = Proto {
    name: "pkt_comment",
    long_name: "Packet comments",
    fields: &[&COMMENT],
    summary: &[],
};

pub static COMMENT: FieldDef = FieldDef::new("frame.comment", "Comment", Kind::Str);

/// Emits a frame's comments, if it has any.
pub fn emit_comments(comments: &[&[u8]], cx: &mut Cx<'_>) {
    if comments.is_empty() || !cx.wants(&COMMENT_PROTO) {
        return;
    }
    cx.sink.layer(&COMMENT_PROTO, Span::GENERATED);
    for c in comments {
        cx.field(&COMMENT, Span::GENERATED, Value::Text(c));
    }
}

/// Emits the frame layer's fields (all but `frame.protocols`, which [`emit_protocols`] adds once
/// every layer is known), in tshark's order. The frame layer is not itself listed in
/// `frame.protocols`.
pub fn emit(meta: &FrameMeta, interface: Option<CaptureInterface<'_>>, cx: &mut Cx<'_>) {
    if !cx.wants(&PROTO) {
        return;
    }
    let span = Span::new(0, meta.cap_len as usize);
    cx.sink.layer(&PROTO, span);
    // Capture facts have no bytes but are not generated; derived times are.
    let here = Span::new(0, 0);
    let g = Span::GENERATED;
    if let Some(id) = meta.interface_id {
        // `Frame 1: … on interface eth0, id 0`, as the root line of tshark's frame tree.
        cx.append(|t| match interface {
            Some(i) => {
                let _ = write!(t, " on interface {}, id {id}", i.name);
            }
            None => {
                let _ = write!(t, " on unnamed interface, id {id}");
            }
        });
    }
    // `-T fields` runs want one or two of these fields: each value is built only once its
    // field may be wanted (see `Cx::field_built`).
    if let Some(section) = meta.section {
        cx.field_built(&SECTION_NUMBER, here, || Value::U(u64::from(section)));
    }
    if let Some(id) = meta.interface_id {
        match interface {
            Some(i) => {
                cx.field_shown(&INTERFACE_ID, here, Value::U(u64::from(id)), |t| {
                    let _ = write!(t, "{id} ({})", i.name);
                });
                cx.sink.open();
                cx.field(&INTERFACE_NAME, here, Value::Str(i.name));
                if let Some(d) = i.description {
                    cx.field(&INTERFACE_DESCRIPTION, here, Value::Str(d));
                }
                cx.sink.close();
            }
            None => cx.field(&INTERFACE_ID, here, Value::U(u64::from(id))),
        }
    }
    cx.field_built(&ENCAP_TYPE, here, || Value::U(wtap_encap(meta.link_type)));
    let time = |secs, nanos| Value::Time { secs, nanos };
    if !meta.no_timestamp {
        cx.field_built(&TIME, here, || time(meta.secs, meta.nanos));
        cx.field_built(&OFFSET_SHIFT, g, || time(0, 0));
        cx.field_built(&TIME_EPOCH, here, || time(meta.secs, meta.nanos));
        let delta = || time(meta.delta_secs, meta.delta_nanos);
        cx.field_built(&TIME_DELTA, g, delta);
        cx.field_built(&TIME_DELTA_DISPLAYED, g, delta);
        cx.field_built(&TIME_RELATIVE, g, || time(meta.rel_secs, meta.rel_nanos));
    }
    cx.field_built(&NUMBER, here, || Value::U(meta.number));
    cx.field_built(&LEN, here, || Value::U(u64::from(meta.len)));
    cx.field_built(&CAP_LEN, here, || Value::U(u64::from(meta.cap_len)));
    // Marking and ignoring are GUI actions: never set in a file read by tshark.
    cx.field_built(&MARKED, g, || Value::Bool(false));
    cx.field_built(&IGNORED, g, || Value::Bool(false));
}

/// Emits `frame.protocols` (`eth:ethertype:ip:tcp:http`) once the frame is fully dissected.
pub fn emit_protocols(cx: &mut Cx<'_>) {
    if !cx.wants(&PROTO) || !cx.wants_field(&PROTOCOLS) {
        return;
    }
    let mut joined = String::with_capacity(64);
    for (i, name) in cx.protocols.as_slice().iter().enumerate() {
        if i > 0 {
            joined.push(':');
        }
        joined.push_str(name);
    }
    cx.sink.layer(&PROTO, Span::GENERATED);
    cx.field(&PROTOCOLS, Span::GENERATED, Value::Str(&joined));
}
