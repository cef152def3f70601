//! Test support for stream parsers: a sink that records fields as tshark prints them, and a
//! driver that feeds a parser the way the flow engine does (keeps unconsumed tails, calls again
//! once `needed` more bytes arrived, performs `Switch`, stops at `Fatal`).

use crate::dissector::{Cx, Direction, Progress, StreamCx, StreamParser};
use crate::field::{write_tshark, FieldDef, FieldSink, Proto, Span, Value};
use crate::pinfo::{Columns, FrameMeta, LinkType, ProtoStack};

/// Records `(field name, tshark value)` pairs and notes.
#[derive(Debug, Default)]
pub struct Rec {
    pub fields: Vec<(&'static str, String)>,
    pub texts: Vec<String>,
}

impl FieldSink for Rec {
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

/// What one frame showed.
#[derive(Debug, Default, Clone)]
pub struct FrameOut {
    pub protocols: Vec<&'static str>,
    pub protocol_col: &'static str,
    pub info: String,
    pub fields: Vec<(&'static str, String)>,
    pub texts: Vec<String>,
    /// The parser gave up on the stream in this frame.
    pub fatal: Option<&'static str>,
}

impl FrameOut {
    /// Every value of field `name`, joined with commas (tshark's `-E aggregator=,`).
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The flow engine's side of the contract, for one flow.
pub struct Driver {
    parser: Box<dyn StreamParser>,
    buf: [Vec<u8>; 2],
    /// Stream offset of `buf[d][0]`.
    offset: [u64; 2],
    /// Call again once the buffer holds this many bytes.
    want: [usize; 2],
    dead: bool,
    frame: u64,
}

impl Driver {
    pub fn new(parser: Box<dyn StreamParser>) -> Driver {
        Driver {
            parser,
            buf: [Vec::new(), Vec::new()],
            offset: [0, 0],
            want: [1, 1],
            dead: false,
            frame: 0,
        }
    }

    /// One frame carrying `bytes` of direction `dir`, at `secs` seconds.
    pub fn frame(&mut self, dir: Direction, bytes: &[u8], secs: i64) -> FrameOut {
        self.frame += 1;
        let mut rec = Rec::default();
        let mut cols = Columns::default();
        let mut stack = ProtoStack::default();
        let mut fatal = None;
        {
            let mut cx = Cx::new(&mut rec, Some(&mut cols), &mut stack);
            let d = dir.index();
            self.buf[d].extend_from_slice(bytes);
            if !self.dead {
                fatal = self.feed(dir, &mut cx, secs);
            }
            let _ = d;
        }
        FrameOut {
            protocols: stack.as_slice().to_vec(),
            protocol_col: cols.protocol,
            info: cols.info,
            fields: rec.fields,
            texts: rec.texts,
            fatal,
        }
    }

    /// The parser, once the flow is over (to recycle it).
    pub fn into_parser(self) -> Box<dyn StreamParser> {
        self.parser
    }

    /// `len` bytes of `dir` were lost: the kept tail is dropped too, as the flow engine does.
    pub fn gap(&mut self, dir: Direction, len: u64) {
        let i = dir.index();
        let dropped = self.buf[i].len() as u64;
        self.buf[i].clear();
        self.want[i] = 1;
        self.offset[i] += dropped + len;
        if dropped > 0 {
            self.parser.gap(dir, dropped);
        }
        self.parser.gap(dir, len);
    }

    /// Direction `dir` ends (FIN), in a frame of its own.
    pub fn end(&mut self, dir: Direction, secs: i64) -> FrameOut {
        self.frame += 1;
        let mut rec = Rec::default();
        let mut cols = Columns::default();
        let mut stack = ProtoStack::default();
        {
            let mut cx = Cx::new(&mut rec, Some(&mut cols), &mut stack);
            let mut scx = StreamCx {
                cx: &mut cx,
                frame: self.frame,
                secs,
                nanos: 0,
                stream_offset: self.offset[dir.index()],
                stream: 0,
                tcp: true,
                ports: [0, 0],
                ordinal: 0,
            };
            if !self.dead {
                self.parser.end(dir, &mut scx);
            }
        }
        FrameOut {
            protocols: stack.as_slice().to_vec(),
            protocol_col: cols.protocol,
            info: cols.info,
            fields: rec.fields,
            texts: rec.texts,
            fatal: None,
        }
    }

    fn feed(&mut self, dir: Direction, cx: &mut Cx<'_>, secs: i64) -> Option<&'static str> {
        let d = dir.index();
        // A switch hands both directions' buffered bytes to the new parser.
        for round in 0..4 {
            let dirs = if round == 0 {
                [dir, dir]
            } else {
                [dir, dir.reverse()]
            };
            let mut switched = false;
            for dd in dirs {
                let i = dd.index();
                if self.buf[i].is_empty() || self.buf[i].len() < self.want[i] {
                    continue;
                }
                let data = std::mem::take(&mut self.buf[i]);
                let mut scx = StreamCx {
                    cx,
                    frame: self.frame,
                    secs,
                    nanos: 0,
                    stream_offset: self.offset[i],
                    stream: 0,
                    ports: [0, 0],
                    ordinal: 0,
                    tcp: true,
                };
                let p = self.parser.data(dd, &data, &mut scx);
                let keep_from = match p {
                    Progress::Done => {
                        self.want[i] = 1;
                        data.len()
                    }
                    Progress::NeedMore { consumed, needed } => {
                        assert!(consumed <= data.len(), "consumed past the end");
                        // `needed` counts the bytes missing beyond the kept tail.
                        assert!(needed >= 1, "needed must be at least 1");
                        self.want[i] = data.len() - consumed + needed;
                        consumed
                    }
                    Progress::Switch { proto, consumed } => {
                        assert!(consumed <= data.len());
                        match crate::proto::stream_dissector(proto) {
                            Some(sd) => self.parser = sd.start(),
                            None => {
                                // Not registered in this build: stop as the engine would.
                                self.dead = true;
                            }
                        }
                        self.want = [1, 1];
                        switched = true;
                        consumed
                    }
                    Progress::Fatal(m) => {
                        self.dead = true;
                        return Some(m.reason);
                    }
                };
                self.offset[i] += keep_from as u64;
                self.buf[i] = data.get(keep_from..).unwrap_or(&[]).to_vec();
                if switched {
                    break;
                }
            }
            if !switched || self.dead {
                break;
            }
        }
        let _ = d;
        None
    }
}

/// Runs `frames` through a fresh parser and returns what each frame showed.
pub fn run(parser: Box<dyn StreamParser>, frames: &[(Direction, &[u8])]) -> Vec<FrameOut> {
    let mut d = Driver::new(parser);
    frames
        .iter()
        .enumerate()
        .map(|(i, (dir, b))| d.frame(*dir, b, i as i64))
        .collect()
}

/// Every `(name, value)` of every frame, in order: what a split must not change.
pub fn all_fields(out: &[FrameOut]) -> Vec<(&'static str, String)> {
    out.iter().flat_map(|f| f.fields.iter().cloned()).collect()
}

/// The fields, Info and protocols of one message, looked up by field name (the DNS and QUIC
/// tests, which feed messages without a flow engine).
#[derive(Debug, Default, PartialEq)]
pub struct Shown {
    pub fields: Vec<(&'static str, String)>,
    pub info: String,
    pub protocols: Vec<&'static str>,
}

impl Shown {
    /// Every value of field `name`, in order.
    pub fn get(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of field `name`, or "".
    pub fn one(&self, name: &str) -> &str {
        self.get(name).first().copied().unwrap_or("")
    }

    /// Whether the dissector marked the message malformed.
    pub fn malformed(&self) -> bool {
        self.protocols.contains(&"_ws.malformed")
    }
}

/// A captured frame: its metadata and bytes.
pub type Frame = (FrameMeta, Vec<u8>);

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The frames of a classic pcap or pcapng (little-endian) capture, as a test reads the
/// bundled ones: metadata (number, lengths, link type) and bytes. Panics on anything else.
pub fn read_capture(path: &std::path::Path) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap();
    let mut frames = Vec::new();
    let meta = |n: usize, len: u32, cap: usize, link_type: LinkType| FrameMeta {
        number: n as u64 + 1,
        len,
        cap_len: cap as u32,
        link_type,
        ..FrameMeta::default()
    };
    if le32(&data, 0) == 0x0a0d_0d0a {
        // Interface description blocks (type 1) give the link type of the packet blocks
        // (type 6, enhanced) that follow.
        let (mut at, mut links) = (0, Vec::new());
        while at + 12 <= data.len() {
            let (ty, len) = (le32(&data, at), le32(&data, at + 4) as usize);
            if ty == 1 {
                links.push(LinkType(u32::from(u16::from_le_bytes([
                    data[at + 8],
                    data[at + 9],
                ]))));
            }
            if ty == 6 {
                let (iface, cap, orig) = (
                    le32(&data, at + 8) as usize,
                    le32(&data, at + 20) as usize,
                    le32(&data, at + 24),
                );
                let bytes = data[at + 28..at + 28 + cap].to_vec();
                frames.push((meta(frames.len(), orig, cap, links[iface]), bytes));
            }
            at += len.max(12);
        }
    } else {
        let link_type = LinkType(le32(&data, 20));
        let mut at = 24;
        while at + 16 <= data.len() {
            let (cap, orig) = (le32(&data, at + 8) as usize, le32(&data, at + 12));
            let bytes = data[at + 16..at + 16 + cap].to_vec();
            frames.push((meta(frames.len(), orig, cap, link_type), bytes));
            at += 16 + cap;
        }
    }
    frames
}
