//! WebSocket (RFC 6455) frames, on a stream that HTTP handed over after a `101 Switching
//! Protocols` answer to `Upgrade: websocket` (the handshake, including the Sec-WebSocket-Accept
//! check, is in [`http`](crate::proto::http)).
//!
//! Each frame: FIN, RSV, opcode, MASK, the payload length in its 7-, 16- or 64-bit form, the
//! masking key, and the unmasked payload: text (opcode 1, and continuations of a text message) as
//! `websocket.payload.text` plus a `data-text-lines` layer, binary as a `data` layer, close as
//! status code and reason, ping and pong as bytes. A frame is attributed to the TCP segment that
//! completes it; frames up to [`MAX_HELD`] are held whole by the flow engine, longer ones are
//! streamed (their payload is then not shown), and a length over [`MAX_PAYLOAD`] is malformed.
//!
//! As in tshark, `frame.protocols` shows `http` before `websocket`: the connection is still the
//! HTTP conversation.
//!
//! Not supported: joining the payloads of a fragmented message (each fragment is shown alone),
//! permessage-deflate decompression (compressed payloads are shown as sent, flagged by RSV1).

use crate::dissector::{Bind, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::proto::bytes::{array, be16, slice, u8_at};
use crate::proto::{data, http};
use std::fmt::Write as _;

/// A frame announcing a longer payload is malformed: RFC 6455 allows 2^63 bytes, but such a
/// length is a desynchronised or hostile stream, not a message.
pub const MAX_PAYLOAD: u64 = 1 << 30;
/// Frames up to this size are held whole by the flow engine until complete (payload shown);
/// longer ones are streamed (attributed to the frame that completes them, payload not shown).
pub const MAX_HELD: u64 = 512 * 1024;
/// Control frames carry at most this much (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// Opcodes (RFC 6455 §11.8).
pub mod opcode {
    pub const CONTINUATION: u8 = 0;
    pub const TEXT: u8 = 1;
    pub const BINARY: u8 = 2;
    pub const CLOSE: u8 = 8;
    pub const PING: u8 = 9;
    pub const PONG: u8 = 10;

    /// Wireshark's name for an opcode.
    pub fn name(v: u64) -> Option<&'static str> {
        Some(match u8::try_from(v).ok()? {
            CONTINUATION => "Continuation",
            TEXT => "Text",
            BINARY => "Binary",
            CLOSE => "Connection Close",
            PING => "Ping",
            PONG => "Pong",
            _ => return None,
        })
    }
}

/// Close status codes (RFC 6455 §7.4.1), as Wireshark names them.
fn close_name(v: u64) -> Option<&'static str> {
    Some(match v {
        1000 => "Normal Closure",
        1001 => "Going Away",
        1002 => "Protocol error",
        1003 => "Unsupported Data",
        1005 => "No Status Rcvd",
        1006 => "Abnormal Closure",
        1007 => "Invalid frame payload data",
        1008 => "Policy Violation",
        1009 => "Message Too Big",
        1010 => "Mandatory Ext.",
        1011 => "Internal Server",
        1015 => "TLS handshake",
        _ => return None,
    })
}

/// A frame header whose bytes are all present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    /// RSV1-3 (bits 6-4 of the first byte, shifted down).
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// The 7-bit length field (126: a 16-bit length follows; 127: a 64-bit one).
    pub len7: u8,
    pub payload_len: u64,
    pub mask: Option<[u8; 4]>,
    /// Header length: 2 + extended length + masking key.
    pub len: usize,
}

/// What the start of a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    Header(Header),
    /// At least this many more bytes are needed for the header.
    Need(usize),
}

/// Parses a frame header (RFC 6455 §5.2).
pub fn parse_header(b: &[u8]) -> Result<Parse, Malformed> {
    if b.len() < 2 {
        return Ok(Parse::Need(2 - b.len()));
    }
    let (b0, b1) = (u8_at(b, 0), u8_at(b, 1));
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    let ext = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let len = 2 + ext + if masked { 4 } else { 0 };
    if b.len() < len {
        return Ok(Parse::Need(len - b.len()));
    }
    let payload_len = match len7 {
        126 => u64::from(be16(b, 2)),
        127 => u64::from_be_bytes(array::<8>(b, 2)),
        n => u64::from(n),
    };
    if payload_len > MAX_PAYLOAD {
        let reason = if payload_len >> 63 != 0 {
            "64-bit payload length with the most significant bit set"
        } else {
            "payload length over MAX_PAYLOAD"
        };
        return Err(Malformed::new(&PROTO, 2, reason).len_from("websocket.payload_length"));
    }
    Ok(Parse::Header(Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0f,
        masked,
        len7,
        payload_len,
        mask: masked.then(|| array::<4>(b, 2 + ext)),
        len,
    }))
}

/// The WebSocket protocol: reached only through an HTTP upgrade, never by port or probe.
pub struct WebSocket;

impl StreamDissector for WebSocket {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }
    fn binds(&self) -> &'static [Bind] {
        &[]
    }
    fn probe(&self, _dir: Direction, _data: &[u8]) -> Probe {
        Probe::No
    }
    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(WsParser::default())
    }
}

/// A frame whose payload is being streamed past.
#[derive(Debug, Clone, Copy)]
struct Streaming {
    h: Header,
    /// Payload bytes still to come.
    left: u64,
    /// Stream offset of the frame's first byte.
    at: u64,
}

/// One connection's WebSocket state.
#[derive(Debug, Default)]
pub struct WsParser {
    /// A frame too big to hold, per direction.
    streaming: (Option<Streaming>, Option<Streaming>),
    /// Opcode of the fragmented message in progress, per direction.
    message: (Option<u8>, Option<u8>),
    /// Unmasked payload of the current frame (the one copy: masked bytes must be XORed).
    unmasked: Vec<u8>,
    /// Frame whose Info column this parser wrote last, and where its part of it starts.
    info_frame: Option<u64>,
    fence: usize,
    /// A gap lost the frame boundaries: later bytes are not parsed.
    lost: bool,
}

impl StreamParser for WsParser {
    fn data(&mut self, dir: Direction, bytes: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        if self.lost {
            return Progress::Done;
        }
        let mut pos = 0usize;
        loop {
            let rest = slice(bytes, pos, bytes.len());
            if let Some(mut st) = *self.streaming(dir) {
                let n = st.left.min(rest.len() as u64);
                st.left -= n;
                pos += n as usize;
                if st.left > 0 {
                    *self.streaming(dir) = Some(st);
                    return Progress::Done;
                }
                *self.streaming(dir) = None;
                self.emit(dir, &st.h, None, st.at, cx);
                continue;
            }
            if rest.is_empty() {
                return Progress::Done;
            }
            let h = match parse_header(rest) {
                Ok(Parse::Header(h)) => h,
                // `needed` counts the bytes missing beyond the held tail.
                Ok(Parse::Need(n)) => {
                    return Progress::NeedMore {
                        consumed: pos,
                        needed: n,
                    }
                }
                Err(mut m) => {
                    m.at += pos;
                    return Progress::Fatal(m);
                }
            };
            if h.payload_len > MAX_HELD {
                *self.streaming(dir) = Some(Streaming {
                    h,
                    left: h.payload_len,
                    at: cx.stream_offset + pos as u64,
                });
                pos += h.len;
                continue;
            }
            // payload_len <= MAX_HELD, so this fits.
            let total = h.len + h.payload_len as usize;
            if rest.len() < total {
                return Progress::NeedMore {
                    consumed: pos,
                    needed: total - rest.len(),
                };
            }
            let payload = slice(rest, h.len, total);
            self.emit(dir, &h, Some(payload), cx.stream_offset + pos as u64, cx);
            pos += total;
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) {
        match *self.streaming(dir) {
            // Lost payload bytes: the frame still ends where its length says.
            Some(mut st) if len < st.left => {
                st.left -= len;
                *self.streaming(dir) = Some(st);
            }
            _ => {
                // Frame boundaries are lost for good (nothing marks the next header).
                *self.streaming(dir) = None;
                *self.message(dir) = None;
                self.lost = true;
            }
        }
    }
}

impl WsParser {
    fn streaming(&mut self, dir: Direction) -> &mut Option<Streaming> {
        match dir {
            Direction::ToServer => &mut self.streaming.0,
            Direction::ToClient => &mut self.streaming.1,
        }
    }

    fn message(&mut self, dir: Direction) -> &mut Option<u8> {
        match dir {
            Direction::ToServer => &mut self.message.0,
            Direction::ToClient => &mut self.message.1,
        }
    }

    fn emit(
        &mut self,
        dir: Direction,
        h: &Header,
        payload: Option<&[u8]>,
        at: u64,
        cx: &mut StreamCx<'_, '_>,
    ) {
        let shown = payload.is_some();
        let payload = payload.unwrap_or(&[]);
        let payload_len = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
        // The opcode that gives a continuation's payload its meaning.
        let message_op = if h.opcode == opcode::CONTINUATION {
            self.message(dir).unwrap_or(opcode::CONTINUATION)
        } else {
            h.opcode
        };
        if h.opcode < 8 {
            *self.message(dir) = if h.fin { None } else { Some(message_op) };
        }

        // Info: HTTP's part of this frame (the 101) stays; earlier WebSocket frames of this
        // frame are replaced, as in tshark (its HTTP dissector sets a column fence).
        if self.info_frame != Some(cx.frame) {
            self.info_frame = Some(cx.frame);
            self.fence = match cx.cx.cols.as_deref() {
                Some(c) if cx.cx.protocols.last() == Some(http::PROTO.name) => c.info.len(),
                _ => 0,
            };
        }
        if let Some(cols) = cx.cx.cols.as_deref_mut() {
            cols.protocol = "WebSocket";
            cols.info.truncate(self.fence);
            let name = opcode::name(u64::from(h.opcode)).unwrap_or("Unknown Opcode");
            let _ = write!(
                cols.info,
                "WebSocket {name}{}{}",
                if h.fin { " [FIN]" } else { "[FRAGMENT] " },
                if h.masked { " [MASKED]" } else { " " }
            );
        }

        if cx.cx.protocols.last() != Some(http::PROTO.name) {
            cx.cx.protocols.push(http::PROTO.name);
        }
        let span = Span::new(at as usize, h.len.saturating_add(payload_len));
        let payload_at = at as usize + h.len;
        let payload = match h.mask {
            Some(key) => {
                self.unmasked.clear();
                self.unmasked.extend(
                    payload
                        .iter()
                        .zip(key.iter().cycle())
                        .map(|(b, k)| b ^ k),
                );
                self.unmasked.as_slice()
            }
            None => payload,
        };
        crate::proto::tcp::pdu_size(cx.cx, span.len as usize);
        if cx.cx.layer(&PROTO, span) {
            let f = |o: usize, l: usize| Span::new(at as usize + o, l);
            cx.cx.field(&FIN, f(0, 1), Value::Bool(h.fin));
            cx.cx.field(&RSV, f(0, 1), Value::U(u64::from(h.rsv)));
            // websocket.pmc (RSV1 as permessage-deflate) is shown by tshark only once the
            // extension was negotiated, which this parser is not told: left out.
            cx.cx.field(&OPCODE, f(0, 1), Value::U(u64::from(h.opcode)));
            cx.cx.field(&MASK, f(1, 1), Value::Bool(h.masked));
            cx.cx.field_shown(&PAYLOAD_LENGTH, f(1, 1), Value::U(u64::from(h.len7)), |t| {
                let _ = write!(t, "{}", h.len7);
                match h.len7 {
                    126 => t.push_str(" Extended Payload Length (16 bits)"),
                    127 => t.push_str(" Extended Payload Length (64 bits)"),
                    _ => {}
                }
            });
            match h.len7 {
                126 => cx.cx.field(&PAYLOAD_LENGTH_16, f(2, 2), Value::U(h.payload_len)),
                127 => cx.cx.field(&PAYLOAD_LENGTH_64, f(2, 8), Value::U(h.payload_len)),
                _ => {}
            }
            let pspan = Span::new(payload_at, payload.len());
            if let Some(key) = h.mask {
                cx.cx
                    .field(&MASKING_KEY, f(h.len - 4, 4), Value::Bytes(&key));
                if payload_len > 0 {
                    cx.cx.field(&MASKED_PAYLOAD, pspan, Value::None);
                }
            }
            // tshark draws what the payload holds under a `Payload` item.
            if payload_len > 0 {
                cx.cx.field(&PAYLOAD, pspan, Value::None);
                cx.cx.sink.open();
            }
            match h.opcode {
                _ if !shown => {}
                opcode::TEXT => cx.cx.field(&PAYLOAD_TEXT, pspan, Value::Text(payload)),
                opcode::CONTINUATION if message_op == opcode::TEXT => {
                    cx.cx.field(&PAYLOAD_TEXT, pspan, Value::Text(payload))
                }
                opcode::CONTINUATION if message_op != opcode::BINARY => {
                    cx.cx.field(&PAYLOAD_CONTINUE, pspan, Value::Bytes(payload))
                }
                opcode::CLOSE if !payload.is_empty() => {
                    cx.cx.field(&PAYLOAD_CLOSE, pspan, Value::None);
                    cx.cx.sink.open();
                    if payload.len() >= 2 {
                        cx.cx.field(
                            &CLOSE_STATUS,
                            Span::new(payload_at, 2),
                            Value::U(u64::from(be16(payload, 0))),
                        );
                    }
                    if payload.len() > 2 {
                        cx.cx.field(
                            &CLOSE_REASON,
                            Span::new(payload_at + 2, payload.len() - 2),
                            Value::Text(slice(payload, 2, payload.len())),
                        );
                    }
                    cx.cx.sink.close();
                }
                opcode::PING => cx.cx.field(&PAYLOAD_PING, pspan, Value::Bytes(payload)),
                opcode::PONG => cx.cx.field(&PAYLOAD_PONG, pspan, Value::Bytes(payload)),
                opcode::TEXT..=opcode::BINARY | opcode::CONTINUATION | opcode::CLOSE => {}
                _ => cx
                    .cx
                    .field(&PAYLOAD_UNKNOWN, pspan, Value::Bytes(payload)),
            }
            if payload_len > 0 {
                cx.cx.sink.close();
            }
            if h.opcode >= 8 && (!h.fin || h.payload_len > MAX_CONTROL_PAYLOAD) {
                cx.cx.sink.text(
                    span,
                    "control frame fragmented or longer than 125 bytes (RFC 6455 §5.5)",
                );
            }
        }
        // The payload's own layer, as tshark shows it.
        if payload_len > 0 {
            let pspan = Span::new(payload_at, payload_len);
            match (h.opcode, message_op) {
                (opcode::TEXT, _) | (opcode::CONTINUATION, opcode::TEXT) => {
                    let drawn = cx.cx.layer(&http::body::TEXT_LINES, pspan);
                    if drawn && shown {
                        http::body::text_lines(payload, payload_at, None, cx.cx);
                    }
                }
                (opcode::BINARY, _) | (opcode::CONTINUATION, opcode::BINARY) => {
                    if shown {
                        data::dissect(payload, payload_at, cx.cx);
                    } else if cx.cx.layer(&data::PROTO, pspan) {
                        cx.cx
                            .field(&data::LEN, Span::GENERATED, Value::U(h.payload_len));
                    }
                }
                _ => {}
            }
        }
    }
}

pub static PROTO: Proto = Proto {
    name: "websocket",
    long_name: "WebSocket",
    fields: &[
        &FIN,
        &RSV,
        &PMC,
        &OPCODE,
        &MASK,
        &PAYLOAD_LENGTH,
        &PAYLOAD_LENGTH_16,
        &PAYLOAD_LENGTH_64,
        &MASKING_KEY,
        &MASKED_PAYLOAD,
        &PAYLOAD,
        &PAYLOAD_TEXT,
        &PAYLOAD_CONTINUE,
        &PAYLOAD_CLOSE,
        &CLOSE_STATUS,
        &CLOSE_REASON,
        &PAYLOAD_PING,
        &PAYLOAD_PONG,
        &PAYLOAD_UNKNOWN,
    ],
    summary: &[],
};

pub static FIN: FieldDef = FieldDef::new("websocket.fin", "Fin", Kind::Bool).bits(0x80, 8).tfs("True", "False");
pub static RSV: FieldDef = FieldDef::new("websocket.rsv", "Reserved", Kind::Hex(2)).bits(0x70, 8);
pub static PMC: FieldDef = FieldDef::new("websocket.pmc", "Per-Message Compressed", Kind::Bool).bits(0x40, 8);
pub static OPCODE: FieldDef =
    FieldDef::new("websocket.opcode", "Opcode", Kind::Dec).with_names(opcode::name).bits(0xf, 8);
pub static MASK: FieldDef = FieldDef::new("websocket.mask", "Mask", Kind::Bool).bits(0x80, 8).tfs("True", "False");
pub static MASKED_PAYLOAD: FieldDef = FieldDef::new("websocket.masked_payload", "Masked payload", Kind::None);
pub static PAYLOAD: FieldDef = FieldDef::new("websocket.payload", "Payload", Kind::None);
pub static PAYLOAD_LENGTH: FieldDef =
    FieldDef::new("websocket.payload_length", "Payload length", Kind::Dec).bits(0x7f, 8);
pub static PAYLOAD_LENGTH_16: FieldDef = FieldDef::new(
    "websocket.payload_length_ext_16",
    "Extended Payload length (16 bits)",
    Kind::Dec,
);
pub static PAYLOAD_LENGTH_64: FieldDef = FieldDef::new(
    "websocket.payload_length_ext_64",
    "Extended Payload length (64 bits)",
    Kind::Dec,
);
pub static MASKING_KEY: FieldDef =
    FieldDef::new("websocket.masking_key", "Masking-Key", Kind::Bytes);
pub static PAYLOAD_TEXT: FieldDef = FieldDef::new("websocket.payload.text", "Text", Kind::Str);
pub static PAYLOAD_CONTINUE: FieldDef =
    FieldDef::new("websocket.payload.continue", "Continue", Kind::Bytes);
pub static PAYLOAD_CLOSE: FieldDef = FieldDef::new("websocket.payload.close", "Close", Kind::None);
pub static CLOSE_STATUS: FieldDef = FieldDef::new(
    "websocket.payload.close.status_code",
    "Status code",
    Kind::Dec,
)
.with_names(close_name);
pub static CLOSE_REASON: FieldDef =
    FieldDef::new("websocket.payload.close.reason", "Reason", Kind::Str);
pub static PAYLOAD_PING: FieldDef = FieldDef::new("websocket.payload.ping", "Ping", Kind::Bytes);
pub static PAYLOAD_PONG: FieldDef = FieldDef::new("websocket.payload.pong", "Pong", Kind::Bytes);
pub static PAYLOAD_UNKNOWN: FieldDef =
    FieldDef::new("websocket.payload.unknown", "Unknown", Kind::Bytes);


#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissector::Direction::{ToClient as S, ToServer as C};
    use crate::proto::testkit::{all_fields, run, Driver};

    fn ws() -> Box<dyn StreamParser> {
        WebSocket.start()
    }

    fn frame(op: u8, fin: bool, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![if fin { 0x80 } else { 0 } | op];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => v.push(m | n as u8),
            n if n < 65536 => {
                v.push(m | 126);
                v.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                v.push(m | 127);
                v.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                v.extend_from_slice(&k);
                v.extend(payload.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k));
            }
            None => v.extend_from_slice(payload),
        }
        v
    }

    const KEY: [u8; 4] = [0x0e, 0x35, 0x88, 0xc9];

    #[test]
    fn deconstruct() {
        let close = [&1000u16.to_be_bytes()[..], b"bye"].concat();
        let out = run(
            ws(),
            &[
                (C, &frame(1, true, Some(KEY), b"hello")),
                (S, &frame(2, true, None, &[7; 300])),
                (C, &frame(9, true, Some(KEY), b"ping")),
                (C, &frame(8, true, Some(KEY), &close)),
            ],
        );
        let t = &out[0];
        assert_eq!(t.protocols, ["http", "websocket", "data-text-lines"]);
        assert_eq!(t.get("websocket.fin"), "1");
        assert_eq!(t.get("websocket.rsv"), "0x00");
        assert_eq!(t.get("websocket.opcode"), "1");
        assert_eq!(t.get("websocket.mask"), "1");
        assert_eq!(t.get("websocket.payload_length"), "5");
        assert_eq!(t.get("websocket.masking_key"), "0e3588c9");
        assert_eq!(t.get("websocket.payload.text"), "hello");
        assert_eq!(t.info, "WebSocket Text [FIN] [MASKED]");
        assert_eq!(t.protocol_col, "WebSocket");
        let b = &out[1];
        assert_eq!(b.protocols, ["http", "websocket", "data"]);
        assert_eq!(b.get("websocket.payload_length"), "126");
        assert_eq!(b.get("websocket.payload_length_ext_16"), "300");
        assert_eq!(b.get("websocket.mask"), "0");
        assert_eq!(b.get("data.len"), "300");
        assert_eq!(b.info, "WebSocket Binary [FIN] ");
        assert_eq!(out[2].get("websocket.payload.ping"), "70696e67");
        assert_eq!(out[2].info, "WebSocket Ping [FIN] [MASKED]");
        assert_eq!(out[3].get("websocket.payload.close.status_code"), "1000");
        assert_eq!(out[3].get("websocket.payload.close.reason"), "bye");
        assert_eq!(out[3].info, "WebSocket Connection Close [FIN] [MASKED]");
    }

    #[test]
    fn lengths_7_16_64() {
        for n in [0usize, 125, 126, 65535, 65536, 70000] {
            let f = frame(2, true, None, &vec![1; n]);
            let out = run(ws(), &[(S, &f)]);
            let ext = match n {
                0..=125 => ("websocket.payload_length", n.to_string()),
                126..=65535 => ("websocket.payload_length_ext_16", n.to_string()),
                _ => ("websocket.payload_length_ext_64", n.to_string()),
            };
            assert_eq!(out[0].get(ext.0), ext.1, "{n}");
        }
    }

    #[test]
    fn fragments_and_info() {
        let two = [frame(1, false, None, b"frag1"), frame(0, true, None, b"frag2")].concat();
        let out = run(ws(), &[(S, &two), (C, &frame(2, false, Some(KEY), &[0, 255]))]);
        // The last frame of a TCP segment names the Info column, as in tshark.
        assert_eq!(out[0].info, "WebSocket Continuation [FIN] ");
        assert_eq!(out[0].get("websocket.fin"), "0,1");
        assert_eq!(out[0].get("websocket.payload.text"), "frag1,frag2");
        assert_eq!(out[1].info, "WebSocket Binary[FRAGMENT]  [MASKED]");
    }

    #[test]
    fn split_at_every_byte() {
        let stream = [
            frame(1, true, Some(KEY), b"hello"),
            frame(2, true, Some(KEY), &[9; 300]),
            frame(10, true, None, b""),
        ]
        .concat();
        let expect = all_fields(&run(ws(), &[(C, &stream)]));
        for i in 1..stream.len() {
            let got = run(ws(), &[(C, &stream[..i]), (C, &stream[i..])]);
            assert_eq!(all_fields(&got), expect, "split at {i}");
        }
    }

    #[test]
    fn truncated_at_every_byte() {
        let f = frame(1, true, Some(KEY), &[b'a'; 200]);
        for i in 0..f.len() {
            let out = run(ws(), &[(C, &f[..i])]);
            assert!(out[0].fields.is_empty() && out[0].fatal.is_none(), "{i}");
        }
    }

    #[test]
    fn big_frame_is_streamed() {
        let n = MAX_HELD as usize + 10;
        let stream = [frame(2, true, None, &vec![5; n]), frame(1, true, None, b"next")].concat();
        let mut d = Driver::new(ws());
        let mut shown = Vec::new();
        for c in stream.chunks(30000) {
            let f = d.frame(S, c, 0);
            if !f.fields.is_empty() {
                shown.push(f);
            }
        }
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].get("websocket.payload_length_ext_64"), n.to_string());
        assert_eq!(shown[0].get("data.len"), n.to_string());
        assert_eq!(shown[0].get("websocket.payload.text"), "next");
        // A gap inside the payload keeps the frame boundaries.
        let mut d = Driver::new(ws());
        d.frame(S, &stream[..1000], 0);
        d.gap(S, 10);
        let f = d.frame(S, &stream[1010..], 0);
        assert_eq!(f.get("websocket.opcode"), "2,1");
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 11u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..2000 {
            let len = (next() % 300) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let cut = if len == 0 { 0 } else { (next() as usize) % len };
            let mut d = Driver::new(ws());
            d.frame(S, &bytes[..cut], 0);
            d.frame(S, &bytes[cut..], 0);
        }
    }

    #[test]
    fn malformed_64_bit_length_over_cap() {
        let mut f = vec![0x82, 127];
        f.extend_from_slice(&(MAX_PAYLOAD + 1).to_be_bytes());
        let out = run(ws(), &[(S, &f)]);
        assert_eq!(out[0].fatal, Some("payload length over MAX_PAYLOAD"));
        let mut f = vec![0x82, 127];
        f.extend_from_slice(&u64::MAX.to_be_bytes());
        let mut d = Driver::new(ws());
        assert!(d.frame(S, &f, 0).fatal.is_some());
        assert!(matches!(parse_header(&f[..5]), Ok(Parse::Need(5))));
    }
}
