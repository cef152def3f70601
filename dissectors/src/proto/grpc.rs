//! gRPC over HTTP/2 (the gRPC "PROTOCOL-HTTP2" spec): the 5-byte length-prefixed message
//! framing inside DATA frames, the call's service and method from `:path`, `grpc-status` and
//! `grpc-message` from the trailers, and the call's shape.
//!
//! The HTTP/2 parser (`http2/mod.rs`) recognises a stream by `content-type: application/grpc`
//! and feeds each direction's DATA payload to a [`MessageReader`]; a message is reported in the
//! frame whose DATA frame completes it, as Wireshark's gRPC dissector does in HTTP/2 streaming
//! mode. `grpc`, then `protobuf`, are recorded in `frame.protocols` per message, as tshark
//! shows them.
//!
//! Not supported: protobuf decoding (the messages are shown as `grpc.message_data`),
//! decompression of compressed messages, gRPC-Web.

use crate::dissector::Cx;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use std::fmt::Write as _;

/// The message prefix: compressed flag (1) and big-endian length (4).
pub const PREFIX_LEN: usize = 5;

/// The shape of a call, from how many messages each side sent (named once the call ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallShape {
    Unary,
    ServerStreaming,
    ClientStreaming,
    Bidirectional,
}

impl CallShape {
    /// From the number of request and response messages.
    pub fn from_counts(requests: u64, responses: u64) -> CallShape {
        match (requests > 1, responses > 1) {
            (false, false) => CallShape::Unary,
            (false, true) => CallShape::ServerStreaming,
            (true, false) => CallShape::ClientStreaming,
            (true, true) => CallShape::Bidirectional,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CallShape::Unary => "unary",
            CallShape::ServerStreaming => "server streaming",
            CallShape::ClientStreaming => "client streaming",
            CallShape::Bidirectional => "bidirectional streaming",
        }
    }
}

/// `/package.Service/Method` split into service and method; `None` for other paths.
pub fn service_method(path: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = path.strip_prefix(b"/")?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (service, method) = rest.split_at(slash);
    let method = method.get(1..)?;
    if service.is_empty() || method.is_empty() || method.contains(&b'/') {
        return None;
    }
    Some((service, method))
}

/// Whether a media type (lowercased, parameters removed) is gRPC, and whether its messages are
/// protobuf (Wireshark's `grpc` registers `application/grpc` and `application/grpc+proto`).
pub fn is_grpc(media: &[u8]) -> bool {
    media == b"application/grpc" || media == b"application/grpc+proto"
}

/// One message prefix, once its 5 bytes have been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// The flags byte (bit 0: compressed; Wireshark's `grpc.frame_type` is bit 7).
    pub flags: u8,
    pub length: u32,
}

/// What [`MessageReader::feed`] found in a chunk of one direction's DATA bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// A message completed: its header, and its body's range in the chunk when the whole body
    /// lies in it (`None` when the body began in an earlier chunk).
    Message {
        header: MessageHeader,
        body: Option<(usize, usize)>,
    },
}

/// Splits one direction of a gRPC stream into messages across DATA frames and segments. Holds
/// at most the 5 prefix bytes: message bodies are never buffered.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageReader {
    prefix: [u8; PREFIX_LEN],
    have: usize,
    /// Body bytes still to come for the current message (`None` while reading a prefix).
    left: Option<u32>,
    /// Where the current body started in the chunk being fed (when it did start there).
    body_start: Option<usize>,
    current: Option<MessageHeader>,
    /// Messages completed so far.
    pub messages: u64,
}

impl MessageReader {
    /// Feeds `chunk`, reporting each message that completes in it.
    pub fn feed(&mut self, chunk: &[u8], mut f: impl FnMut(Piece)) {
        let mut pos = 0;
        // A body whose first byte starts this chunk lies whole in it if it ends here too.
        self.body_start = match (self.left, self.current) {
            (Some(left), Some(h)) if left == h.length => Some(0),
            _ => None,
        };
        loop {
            match self.left {
                None => {
                    if pos >= chunk.len() {
                        return;
                    }
                    while self.have < PREFIX_LEN {
                        let Some(&b) = chunk.get(pos) else {
                            return;
                        };
                        if let Some(slot) = self.prefix.get_mut(self.have) {
                            *slot = b;
                        }
                        self.have += 1;
                        pos += 1;
                    }
                    let [flags, a, b, c, d] = self.prefix;
                    let header = MessageHeader {
                        flags,
                        length: u32::from_be_bytes([a, b, c, d]),
                    };
                    self.have = 0;
                    self.current = Some(header);
                    self.left = Some(header.length);
                    self.body_start = Some(pos);
                }
                Some(left) => {
                    let avail = chunk.len().saturating_sub(pos);
                    let take = (left as usize).min(avail);
                    pos += take;
                    let left = left - take as u32;
                    if left > 0 {
                        self.left = Some(left);
                        return;
                    }
                    self.left = None;
                    self.messages += 1;
                    if let Some(header) = self.current.take() {
                        let body = self.body_start.map(|s| (s, pos - s));
                        f(Piece::Message { header, body });
                    }
                    self.body_start = None;
                }
            }
        }
    }

    /// Whether a message is partly read.
    pub fn in_message(&self) -> bool {
        self.have > 0 || self.left.is_some()
    }
}

pub static PROTO: Proto = Proto {
    name: "grpc",
    long_name: "GRPC Message",
    fields: &[
        &FRAME_TYPE,
        &COMPRESSED_FLAG,
        &MESSAGE_LENGTH,
        &MESSAGE_DATA,
        &SERVICE,
        &METHOD,
        &CALL_TYPE,
        &STATUS,
        &MESSAGE,
    ],
    summary: &[],
};

/// Protocol Buffers: recorded in `frame.protocols` after each gRPC message (tshark's
/// `protobuf`); its fields are not decoded.
pub static PROTOBUF: Proto = Proto {
    name: "protobuf",
    long_name: "Protocol Buffers",
    fields: &[
        &PB_MESSAGE,
        &PB_FIELD,
        &PB_FIELD_NAME,
        &PB_FIELD_NUMBER,
        &PB_WIRE_TYPE,
        &PB_VALUE_LENGTH,
        &PB_VALUE,
        &PB_UINT32,
        &PB_UINT64,
    ],
    summary: &[],
};

/// The items of a message tshark draws without its schema ([`protobuf_tree`]).
pub static PB_MESSAGE: FieldDef = FieldDef::new("protobuf.message", "Message", Kind::None);
pub static PB_FIELD: FieldDef = FieldDef::new("protobuf.field", "Field", Kind::None);
pub static PB_FIELD_NAME: FieldDef = FieldDef::new("protobuf.field.name", "Field Name", Kind::Str);
pub static PB_FIELD_NUMBER: FieldDef =
    FieldDef::new("protobuf.field.number", "Field Number", Kind::Dec).bits(0x78, 8);
pub static PB_WIRE_TYPE: FieldDef =
    FieldDef::new("protobuf.field.wiretype", "Wire Type", Kind::Dec)
        .with_names(wire_type_name)
        .bits(0x07, 8);
pub static PB_VALUE_LENGTH: FieldDef =
    FieldDef::new("protobuf.field.value.length", "Value Length", Kind::Dec);
pub static PB_VALUE: FieldDef = FieldDef::new("protobuf.field.value", "Value", Kind::Bytes);
pub static PB_UINT32: FieldDef = FieldDef::new("protobuf.field.value.uint32", "Uint32", Kind::Dec);
pub static PB_UINT64: FieldDef = FieldDef::new("protobuf.field.value.uint64", "Uint64", Kind::Dec);

fn wire_type_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "varint",
        1 => "64-bit",
        2 => "Length-delimited",
        3 => "Start group",
        4 => "End group",
        5 => "32-bit",
        _ => return None,
    })
}

/// A protobuf varint at the start of `b`: its value and length.
fn pb_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// A message drawn as tshark draws one whose type it does not know: each top-level field with
/// its number, wire type and raw value (varints also as a number). Stops quietly at what it
/// does not read (groups, fixed-width values, tags over one byte). Call when the `protobuf`
/// layer is wanted.
pub fn protobuf_tree(cx: &mut Cx<'_>, msg: &[u8], at: usize) {
    let g = Span::GENERATED;
    cx.field_line(&PB_MESSAGE, Span::new(at, msg.len()), Value::None, |t| {
        t.push_str("Message: <UNKNOWN> Message Type")
    });
    cx.sink.open();
    let mut pos = 0;
    while let Some(rest) = msg.get(pos..).filter(|r| !r.is_empty()) {
        let Some((tag, tag_len)) = pb_varint(rest).filter(|&(_, n)| n == 1) else {
            break;
        };
        let (number, wire) = (tag >> 3, tag & 7);
        let body = rest.get(tag_len..).unwrap_or(&[]);
        let (value, value_len, shown) = match wire {
            0 => match pb_varint(body) {
                Some((v, n)) => (body.get(..n).unwrap_or(&[]), None, Some(v)),
                None => break,
            },
            2 => match pb_varint(body) {
                Some((len, n)) => {
                    match usize::try_from(len).ok().and_then(|l| body.get(n..n + l)) {
                        Some(v) => (v, Some((len, n)), None),
                        None => break,
                    }
                }
                None => break,
            },
            _ => break,
        };
        let total = tag_len + value_len.map_or(0, |(_, n)| n) + value.len();
        let span = Span::new(at + pos, total);
        cx.field_line(&PB_FIELD, span, Value::None, |t| {
            let _ = write!(t, "Field({number}):");
            if let Some(v) = shown {
                let _ = write!(
                    t,
                    " {v} ({})",
                    if v <= u64::from(u32::MAX) {
                        "uint32"
                    } else {
                        "uint64"
                    }
                );
            }
        });
        cx.sink.open();
        cx.field(&PB_FIELD_NAME, g, Value::Str("<UNKNOWN>"));
        cx.field(&PB_FIELD_NUMBER, Span::new(at + pos, 1), Value::U(number));
        cx.field(&PB_WIRE_TYPE, Span::new(at + pos, 1), Value::U(wire));
        if let Some((len, _)) = value_len {
            cx.field(&PB_VALUE_LENGTH, span, Value::U(len));
        }
        cx.field(&PB_VALUE, span, Value::Bytes(value));
        if let Some(v) = shown {
            cx.sink.open();
            if let Ok(v32) = u32::try_from(v) {
                cx.field(&PB_UINT32, span, Value::U(u64::from(v32)));
            } else {
                cx.field(&PB_UINT64, span, Value::U(v));
            }
            cx.sink.close();
        }
        cx.sink.close();
        pos += total;
    }
    cx.sink.close();
}

pub static FRAME_TYPE: FieldDef = FieldDef::new("grpc.frame_type", "Frame Type", Kind::Dec)
    .with_names(frame_type_name)
    .bits(0x80, 8);
pub static COMPRESSED_FLAG: FieldDef =
    FieldDef::new("grpc.compressed_flag", "Compressed Flag", Kind::Dec)
        .with_names(compressed_name)
        .bits(0x1, 8);
pub static MESSAGE_LENGTH: FieldDef =
    FieldDef::new("grpc.message_length", "Message Length", Kind::Dec);
pub static MESSAGE_DATA: FieldDef = FieldDef::new("grpc.message_data", "Message Data", Kind::Bytes);
/// netsniff's own (not Wireshark's): the call's service, from `:path`.
pub static SERVICE: FieldDef = FieldDef::new("grpc.service", "Service", Kind::Str);
/// netsniff's own: the call's method, from `:path`.
pub static METHOD: FieldDef = FieldDef::new("grpc.method", "Method", Kind::Str);
/// netsniff's own: unary, server streaming, client streaming or bidirectional streaming,
/// shown on the frame that ends the call.
pub static CALL_TYPE: FieldDef = FieldDef::new("grpc.call_type", "Call Type", Kind::Str);
/// netsniff's own: `grpc-status` from the trailers.
pub static STATUS: FieldDef =
    FieldDef::new("grpc.status", "Status", Kind::Dec).with_names(status_name);
/// netsniff's own: `grpc-message` from the trailers.
pub static MESSAGE: FieldDef = FieldDef::new("grpc.message", "Status Message", Kind::Str);

fn frame_type_name(v: u64) -> Option<&'static str> {
    match v {
        0 => Some("Data"),
        1 => Some("Trailer"),
        _ => None,
    }
}

fn compressed_name(v: u64) -> Option<&'static str> {
    match v {
        0 => Some("Not Compressed"),
        1 => Some("Compressed"),
        _ => None,
    }
}

/// gRPC status codes (grpc/doc/statuscodes.md).
pub fn status_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_varints_and_their_limits() {
        assert_eq!(pb_varint(&[0x01]), Some((1, 1)));
        assert_eq!(pb_varint(&[0xac, 0x02]), Some((300, 2)));
        // Unterminated, and longer than ten bytes: not a varint.
        assert_eq!(pb_varint(&[0x80]), None);
        assert_eq!(pb_varint(&[0xff; 11]), None);
        assert_eq!(wire_type_name(2), Some("Length-delimited"));
        // The tree stops quietly at a length past the message (no panic, nothing drawn
        // beyond what is whole).
        let mut sink = crate::field::NullSink;
        let mut stack = crate::pinfo::ProtoStack::default();
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        protobuf_tree(&mut cx, &[0x0a, 0x7f, 0x01], 0);
        protobuf_tree(&mut cx, &[0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i'], 0);
    }

    fn messages(chunks: &[&[u8]]) -> Vec<(MessageHeader, Option<Vec<u8>>)> {
        let mut r = MessageReader::default();
        let mut out = Vec::new();
        for c in chunks {
            r.feed(c, |Piece::Message { header, body }| {
                out.push((header, body.map(|(s, n)| c[s..s + n].to_vec())));
            });
        }
        out
    }

    #[test]
    fn deconstruct() {
        let b = [0, 0, 0, 0, 2, 0x0a, 0x00, 1, 0, 0, 0, 1, 0x55];
        let m = messages(&[&b]);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].0,
            MessageHeader {
                flags: 0,
                length: 2
            }
        );
        assert_eq!(m[0].1.as_deref(), Some(&[0x0a, 0][..]));
        assert_eq!(
            m[1].0,
            MessageHeader {
                flags: 1,
                length: 1
            }
        );
    }

    #[test]
    fn split_at_every_byte() {
        let b = [0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 0];
        for cut in 0..=b.len() {
            let m = messages(&[&b[..cut], &b[cut..]]);
            assert_eq!(m.len(), 2, "cut {cut}");
            assert_eq!(m[0].0.length, 3);
            assert_eq!(m[1].0.length, 0);
            // A body is reported only when it lies whole in one chunk.
            if cut <= 5 || cut >= 8 {
                assert_eq!(m[0].1.as_deref(), Some(&[1, 2, 3][..]), "cut {cut}");
            } else {
                assert_eq!(m[0].1, None);
            }
        }
    }

    #[test]
    fn paths_and_shapes() {
        assert_eq!(
            service_method(b"/netsniff.demo.Greeter/SayHello"),
            Some((&b"netsniff.demo.Greeter"[..], &b"SayHello"[..]))
        );
        assert_eq!(service_method(b"/index.html"), None);
        assert_eq!(service_method(b"//x"), None);
        assert_eq!(CallShape::from_counts(1, 1), CallShape::Unary);
        assert_eq!(CallShape::from_counts(1, 4), CallShape::ServerStreaming);
        assert_eq!(CallShape::from_counts(4, 1), CallShape::ClientStreaming);
        assert_eq!(CallShape::from_counts(4, 4), CallShape::Bidirectional);
    }
}
