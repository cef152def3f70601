//! The flow engine's application-layer driver, proved with a tiny protocol: PDUs split at every
//! byte, many PDUs per segment, out-of-order segments, gaps, FIN/RST, protocol switches,
//! fatal errors, UDP datagrams, detection order, and where `data` layers appear.

use netsniff::cli::config::DecodeAs;
use netsniff::flow::app::Registry;
use netsniff::flow::key::L4;
use netsniff::flow::{FlowEngine, FlowLimits};
use netsniff_dissectors::field::write_tshark;
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::{
    Bind, Columns, Cx, Direction, FieldDef, FieldSink, FrameMeta, Kind, Malformed, Net, PacketInfo,
    Probe, Progress, Proto, Span, StreamCx, StreamDissector, StreamParser, Table, TcpInfo,
    Transport, UdpInfo, Value,
};

// ---- the test protocols -------------------------------------------------------------------

/// `lp`: length-prefixed PDUs (one length byte, then that many bytes). A length of 0xff is a
/// fatal error; 0xfe switches the rest of the direction to `up`.
static LP: Proto = Proto {
    name: "lp",
    long_name: "Length-prefixed test protocol",
    fields: &[&LP_PDU, &LP_GAP, &LP_END, &LP_AT],
    summary: &[],
};
static LP_PDU: FieldDef = FieldDef::new("lp.pdu", "PDU", Kind::Str);
static LP_GAP: FieldDef = FieldDef::new("lp.gap", "Gap before", Kind::Dec);
static LP_END: FieldDef = FieldDef::new("lp.end", "Direction ended", Kind::Str);
static LP_AT: FieldDef = FieldDef::new("lp.at", "Stream offset", Kind::Dec);

/// `up`: upper-cases whatever it gets (the target of a switch).
static UP: Proto = Proto {
    name: "up",
    long_name: "Upper-case test protocol",
    fields: &[&UP_TEXT],
    summary: &[],
};
static UP_TEXT: FieldDef = FieldDef::new("up.text", "Text", Kind::Str);

struct Lp;
/// The same protocol, its parser counting `needed` beyond the tail (the contract's count;
/// [`Lp`] uses Suricata's size-from-`consumed`, which the driver also accepts), on port 7778.
struct LpBeyond;
struct LpParser {
    gap: [u64; 2],
    beyond: bool,
}

fn dir_name(d: Direction) -> &'static str {
    match d {
        Direction::ToServer => "c",
        Direction::ToClient => "s",
    }
}

impl StreamDissector for Lp {
    fn proto(&self) -> &'static Proto {
        &LP
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::TcpPort, 7777), Bind(Table::UdpPort, 7777)]
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        match data {
            [] | [b'L'] => Probe::NeedMore,
            [b'L', b'P', ..] => Probe::Yes,
            _ => Probe::No,
        }
    }
    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(LpParser {
            gap: [0, 0],
            beyond: false,
        })
    }
}

impl StreamDissector for LpBeyond {
    fn proto(&self) -> &'static Proto {
        &LP
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::TcpPort, 7778)]
    }
    fn probe(&self, _dir: Direction, _data: &[u8]) -> Probe {
        Probe::No
    }
    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(LpParser {
            gap: [0, 0],
            beyond: true,
        })
    }
}

impl StreamParser for LpParser {
    fn data(&mut self, dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        let mut off = 0;
        // A probed stream starts with the magic "LP".
        if cx.stream_offset == 0 && data.starts_with(b"LP") {
            off = 2;
        }
        while off < data.len() {
            let len = usize::from(data[off]);
            if len == 0xff {
                return Progress::Fatal(Malformed::new(&LP, off, "length 255 is reserved"));
            }
            if len == 0xfe {
                return Progress::Switch {
                    proto: "up",
                    consumed: off + 1,
                };
            }
            if data.len() - off < 1 + len {
                // Suricata's contract: `needed` counts from `consumed`; or the bytes missing.
                let needed = if self.beyond {
                    1 + len - (data.len() - off)
                } else {
                    1 + len
                };
                return Progress::NeedMore {
                    consumed: off,
                    needed,
                };
            }
            let body = &data[off + 1..off + 1 + len];
            if cx.cx.layer(&LP, Span::new(off, 1 + len)) {
                let g = std::mem::take(&mut self.gap[dir.index()]);
                if g > 0 {
                    cx.cx.field(&LP_GAP, Span::GENERATED, Value::U(g));
                }
                let text = format!("{}:{}", dir_name(dir), String::from_utf8_lossy(body));
                cx.cx.field(&LP_PDU, Span::GENERATED, Value::Str(&text));
                cx.cx.field(
                    &LP_AT,
                    Span::GENERATED,
                    Value::U(cx.stream_offset + off as u64),
                );
            }
            off += 1 + len;
        }
        Progress::Done
    }
    fn gap(&mut self, dir: Direction, len: u64) {
        self.gap[dir.index()] += len;
    }
    fn end(&mut self, dir: Direction, cx: &mut StreamCx<'_, '_>) {
        if cx.cx.layer(&LP, Span::GENERATED) {
            cx.cx
                .field(&LP_END, Span::GENERATED, Value::Str(dir_name(dir)));
        }
    }
}

struct Up;
struct UpParser;

impl StreamDissector for Up {
    fn proto(&self) -> &'static Proto {
        &UP
    }
    fn binds(&self) -> &'static [Bind] {
        &[Bind(Table::TcpPort, 8888)]
    }
    fn probe(&self, _dir: Direction, _data: &[u8]) -> Probe {
        Probe::No
    }
    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(UpParser)
    }
}

impl StreamParser for UpParser {
    fn data(&mut self, _dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        if cx.cx.layer(&UP, Span::new(0, data.len())) {
            let text = String::from_utf8_lossy(data).to_uppercase();
            cx.cx.field(&UP_TEXT, Span::GENERATED, Value::Str(&text));
        }
        Progress::Done
    }
}

static PROTOCOLS: &[&dyn StreamDissector] = &[&Lp, &Up, &LpBeyond];

// ---- the harness --------------------------------------------------------------------------

/// Records every field as `name=value`.
#[derive(Default)]
struct Recorder {
    lines: Vec<String>,
}

impl FieldSink for Recorder {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, def: &'static FieldDef, _span: Span, value: Value<'_>) {
        let mut v = Vec::new();
        write_tshark(def, &value, &mut v);
        self.lines
            .push(format!("{}={}", def.name, String::from_utf8_lossy(&v)));
    }
}

/// What one frame produced.
#[derive(Debug, Default)]
struct Out {
    fields: Vec<String>,
    protocols: String,
    info: String,
}

impl Out {
    /// The values of field `name`.
    fn all(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}=");
        self.fields
            .iter()
            .filter_map(|f| f.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }
}

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

struct Harness {
    engine: FlowEngine,
    frame: u64,
    cport: u16,
    sport: u16,
    /// Next sequence numbers of client and server.
    cseq: u32,
    sseq: u32,
}

impl Harness {
    fn new(sport: u16, decode_as: Vec<DecodeAs>) -> Harness {
        Harness {
            engine: FlowEngine::with_registry(
                FlowLimits::default(),
                Registry::with(PROTOCOLS, decode_as),
            ),
            frame: 0,
            cport: 40000,
            sport,
            cseq: 1000,
            sseq: 5000,
        }
    }

    /// Sends one TCP segment.
    fn tcp(&mut self, from_client: bool, flags: u16, seq: u32, ack: u32, payload: &[u8]) -> Out {
        let (src, dst, sp, dp) = if from_client {
            (CLIENT, SERVER, self.cport, self.sport)
        } else {
            (SERVER, CLIENT, self.sport, self.cport)
        };
        let t = TcpInfo {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags,
            window: 1000,
            hdr_len: 20,
            seg_len: payload.len() as u32,
            ..TcpInfo::default()
        };
        let pi = PacketInfo {
            net: Net::V4 { src, dst },
            ip_proto: 6,
            transport: Transport::Tcp(t),
            l4_claimed_len: Some(20 + payload.len() as u32),
            payload_start: 54,
            payload_len: payload.len() as u32,
            ..PacketInfo::default()
        };
        self.run(&pi, payload)
    }

    fn udp(&mut self, from_client: bool, payload: &[u8]) -> Out {
        let (src, dst, sp, dp) = if from_client {
            (CLIENT, SERVER, self.cport, self.sport)
        } else {
            (SERVER, CLIENT, self.sport, self.cport)
        };
        let pi = PacketInfo {
            net: Net::V4 { src, dst },
            ip_proto: 17,
            transport: Transport::Udp(UdpInfo {
                src_port: sp,
                dst_port: dp,
                length: 8 + payload.len() as u16,
            }),
            l4_claimed_len: Some(8 + payload.len() as u32),
            payload_start: 42,
            payload_len: payload.len() as u32,
            ..PacketInfo::default()
        };
        self.run(&pi, payload)
    }

    fn run(&mut self, pi: &PacketInfo, payload: &[u8]) -> Out {
        self.frame += 1;
        let meta = FrameMeta {
            number: self.frame,
            secs: 1000,
            nanos: self.frame as u32 * 1000,
            rel_secs: 0,
            rel_nanos: self.frame as u32 * 1000,
            len: 54 + payload.len() as u32,
            cap_len: 54 + payload.len() as u32,
            ..FrameMeta::default()
        };
        let mut rec = Recorder::default();
        let mut stack = ProtoStack::default();
        let mut cols = Columns::default();
        stack.push("tcp");
        {
            let mut cx = Cx::new(&mut rec, Some(&mut cols), &mut stack);
            self.engine.process(&meta, pi, payload, &mut cx);
        }
        Out {
            fields: rec.lines,
            protocols: stack.as_slice().join(":"),
            info: cols.info,
        }
    }

    /// The three-way handshake.
    fn handshake(&mut self) {
        let (c, s) = (self.cseq, self.sseq);
        self.tcp(true, TcpInfo::SYN, c, 0, &[]);
        self.tcp(false, TcpInfo::SYN | TcpInfo::ACK, s, c + 1, &[]);
        self.tcp(true, TcpInfo::ACK, c + 1, s + 1, &[]);
        self.cseq = c + 1;
        self.sseq = s + 1;
    }

    /// Client data at the current sequence number (advancing it).
    fn client(&mut self, payload: &[u8]) -> Out {
        let (seq, ack) = (self.cseq, self.sseq);
        self.cseq = seq.wrapping_add(payload.len() as u32);
        self.tcp(true, TcpInfo::ACK | TcpInfo::PSH, seq, ack, payload)
    }

    fn server(&mut self, payload: &[u8]) -> Out {
        let (seq, ack) = (self.sseq, self.cseq);
        self.sseq = seq.wrapping_add(payload.len() as u32);
        self.tcp(false, TcpInfo::ACK | TcpInfo::PSH, seq, ack, payload)
    }

    /// Ends the run; fields emitted by `end()` there go nowhere.
    fn finish(&mut self) {
        self.engine.finish();
    }
}

/// Three PDUs and an empty one: `abc`, `de`, ``, `wxyz`.
const STREAM: &[u8] = b"\x03abc\x02de\x00\x04wxyz";
/// Where each PDU of [`STREAM`] ends (exclusive).
const ENDS: [usize; 4] = [4, 7, 8, 13];
const PDUS: [&str; 4] = ["c:abc", "c:de", "c:", "c:wxyz"];

// ---- the tests ----------------------------------------------------------------------------

#[test]
fn split_at_every_byte() {
    split_at_every_byte_on(7777);
}

#[test]
fn split_at_every_byte_needed_counted_beyond_the_tail() {
    split_at_every_byte_on(7778);
}

fn split_at_every_byte_on(port: u16) {
    for split in 1..STREAM.len() {
        let mut h = Harness::new(port, vec![]);
        h.handshake();
        let first = h.client(&STREAM[..split]);
        let second = h.client(&STREAM[split..]);
        let want_first: Vec<String> = ENDS
            .iter()
            .zip(PDUS)
            .filter(|(e, _)| **e <= split)
            .map(|(_, p)| p.to_string())
            .collect();
        let want_second: Vec<String> = ENDS
            .iter()
            .zip(PDUS)
            .filter(|(e, _)| **e > split)
            .map(|(_, p)| p.to_string())
            .collect();
        assert_eq!(first.all("lp.pdu"), want_first, "split at {split}");
        assert_eq!(second.all("lp.pdu"), want_second, "split at {split}");
        // A frame that completes nothing is a segment of a reassembled PDU, never data.
        assert!(!first.protocols.contains("data"));
        if want_first.is_empty() {
            assert!(first.info.ends_with("[TCP segment of a reassembled PDU]"));
            assert_eq!(first.protocols, "tcp");
        } else {
            assert!(first.protocols.starts_with("tcp:lp"));
        }
    }
}

#[test]
fn one_byte_segments() {
    for port in [7777, 7778] {
        one_byte_segments_on(port);
    }
}

fn one_byte_segments_on(port: u16) {
    let mut h = Harness::new(port, vec![]);
    h.handshake();
    let mut got = Vec::new();
    for (i, b) in STREAM.iter().enumerate() {
        let out = h.client(&[*b]);
        for p in out.all("lp.pdu") {
            got.push((i + 1, p));
        }
    }
    let want: Vec<(usize, String)> = ENDS
        .iter()
        .zip(PDUS)
        .map(|(e, p)| (*e, p.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// A PDU the parser waits for is buffered with room for all of it at once: while it arrives
/// byte by byte the flow's memory stays the same (growing the buffer by doubling, as it did,
/// copied it again at each step), and the PDU comes out whole. (On port 7778 the parser
/// counts what it needs from `consumed`, which the driver cannot tell from a count of bytes
/// missing, and takes as the smaller: the room is then what is missing.)
#[test]
fn an_awaited_pdu_is_buffered_in_one_piece() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    let body = [b'x'; 200];
    let mut pdu = vec![b'L', b'P', body.len() as u8];
    pdu.extend_from_slice(&body);
    h.client(&pdu[..4]);
    // Each piece acknowledged: the TCP analysis then holds no segment list.
    h.server(&[]);
    let waiting = h.engine.memory();
    for b in &pdu[4..pdu.len() - 1] {
        assert!(h.client(&[*b]).all("lp.pdu").is_empty());
        h.server(&[]);
        assert_eq!(h.engine.memory(), waiting);
    }
    let out = h.client(&pdu[pdu.len() - 1..]);
    let want = format!("c:{}", String::from_utf8_lossy(&body));
    assert_eq!(out.all("lp.pdu"), [want]);
}

#[test]
fn many_pdus_per_segment_and_stream_offsets() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    let out = h.client(STREAM);
    assert_eq!(out.all("lp.pdu"), PDUS);
    assert_eq!(out.all("lp.at"), ["0", "4", "7", "8"]);
    let out = h.client(b"\x01z");
    assert_eq!(out.all("lp.at"), ["13"]);
}

#[test]
fn both_directions_interleaved() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    assert!(h.client(b"\x05hel").all("lp.pdu").is_empty());
    assert_eq!(h.server(b"\x02ok\x01").all("lp.pdu"), ["s:ok"]);
    assert_eq!(h.client(b"lo").all("lp.pdu"), ["c:hello"]);
    assert_eq!(h.server(b"!").all("lp.pdu"), ["s:!"]);
}

#[test]
fn out_of_order_segments_complete_in_the_filling_frame() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    let base = h.cseq;
    let ack = h.sseq;
    // The second half arrives first: nothing can be parsed yet.
    let late = h.tcp(true, TcpInfo::ACK, base + 5, ack, &STREAM[5..]);
    assert!(late.all("lp.pdu").is_empty());
    assert!(late.all("tcp.analysis.lost_segment").len() == 1);
    // The first half fills the hole: every PDU completes in this frame.
    let early = h.tcp(true, TcpInfo::ACK, base, ack, &STREAM[..5]);
    assert_eq!(early.all("lp.pdu"), PDUS);
    // A retransmission of delivered bytes adds nothing and shows no data.
    let again = h.tcp(true, TcpInfo::ACK, base, ack, &STREAM[..5]);
    assert!(again.all("lp.pdu").is_empty());
    assert!(!again.protocols.contains("data"));
}

#[test]
fn lost_segment_becomes_a_gap_when_acknowledged() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    h.client(b"\x02ab");
    let lost = h.cseq; // this segment is never captured
    h.cseq += 3;
    let after = h.client(b"\x02ef");
    assert!(after.all("lp.pdu").is_empty());
    // The server acknowledges everything: the hole was delivered, just not captured.
    let ack = h.tcp(false, TcpInfo::ACK, h.sseq, lost + 6, &[]);
    assert_eq!(ack.all("lp.gap"), ["3"]);
    assert_eq!(ack.all("lp.pdu"), ["c:ef"]);
    // Wireshark flags it too.
    assert_eq!(ack.all("tcp.analysis.ack_lost_segment").len(), 1);
}

#[test]
fn fin_ends_the_direction_and_flushes_the_tail() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    h.client(b"\x09incomp");
    let (seq, ack) = (h.cseq, h.sseq);
    let fin = h.tcp(true, TcpInfo::FIN | TcpInfo::ACK, seq, ack, &[]);
    assert_eq!(fin.all("lp.end"), ["c"]);
    // The server side ends only at its own FIN.
    let fin2 = h.tcp(false, TcpInfo::FIN | TcpInfo::ACK, ack, seq + 1, &[]);
    assert_eq!(fin2.all("lp.end"), ["s"]);
}

#[test]
fn rst_ends_both_directions() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    h.client(b"\x01a");
    let (seq, ack) = (h.sseq, h.cseq);
    let rst = h.tcp(false, TcpInfo::RST | TcpInfo::ACK, seq, ack, &[]);
    let mut ends = rst.all("lp.end");
    ends.sort();
    assert_eq!(ends, ["c", "s"]);
}

#[test]
fn switch_hands_the_rest_to_the_new_protocol() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    let out = h.client(b"\x02hi\xfeupgraded");
    assert_eq!(out.all("lp.pdu"), ["c:hi"]);
    assert_eq!(out.all("up.text"), ["UPGRADED"]);
    assert_eq!(out.protocols, "tcp:lp:up");
    assert_eq!(h.client(b"more").all("up.text"), ["MORE"]);
}

#[test]
fn fatal_marks_the_frame_and_later_payload_is_data() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    let bad = h.client(b"\x01a\xff");
    assert_eq!(bad.all("lp.pdu"), ["c:a"]);
    assert!(bad.protocols.ends_with("_ws.malformed"));
    let later = h.client(b"\x01b");
    assert!(later.all("lp.pdu").is_empty());
    assert!(later.protocols.ends_with("data"));
}

#[test]
fn udp_gets_one_datagram_per_call() {
    let mut h = Harness::new(7777, vec![]);
    let out = h.udp(true, b"\x01a\x02bc");
    assert_eq!(out.all("lp.pdu"), ["c:a", "c:bc"]);
    assert_eq!(out.all("udp.stream"), ["0"]);
    // An incomplete PDU in a datagram is not carried into the next one.
    let out = h.udp(false, b"\x05ab");
    assert!(out.all("lp.pdu").is_empty());
    let out = h.udp(false, b"\x01z");
    assert_eq!(out.all("lp.pdu"), ["s:z"]);
    assert_eq!(out.all("udp.stream"), ["0"]);
}

#[test]
fn detection_decode_as_beats_the_port_table() {
    // Port 7777 is lp's, but -d tcp.port==7777,up wins.
    let rule = DecodeAs {
        table: Table::TcpPort,
        port: 7777,
        proto: "up",
    };
    let mut h = Harness::new(7777, vec![rule]);
    h.handshake();
    // (tshark 4.0's -T fields prints a control character other than \b \f \n \r \t as it is.)
    assert_eq!(h.client(b"\x01a").all("up.text"), ["\u{1}A"]);
}

#[test]
fn detection_by_server_port_then_low_then_high() {
    // Client port 8888 (up's) talks to server port 7777 (lp's): the SYN names the server.
    let mut h = Harness::new(7777, vec![]);
    h.cport = 8888;
    h.handshake();
    assert_eq!(h.client(b"\x01a").all("lp.pdu"), ["c:a"]);
    // Without a handshake, the lower port wins.
    let mut h = Harness::new(7777, vec![]);
    h.cport = 8888;
    assert_eq!(h.client(b"\x01a").all("lp.pdu"), ["c:a"]);
}

#[test]
fn detection_by_probe() {
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    // "L" alone is not enough to tell.
    let first = h.client(b"L");
    assert!(first.protocols.ends_with("data"));
    let second = h.client(b"P\x02ok");
    assert_eq!(second.all("lp.pdu"), ["c:ok"]);
}

#[test]
fn unclaimed_payload_is_data_but_not_when_retransmitted() {
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    let out = h.client(b"hello");
    assert!(out.protocols.ends_with("data"));
    assert_eq!(out.all("data.data"), ["68656c6c6f"]);
    let (seq, ack) = (h.cseq - 5, h.sseq);
    let again = h.tcp(true, TcpInfo::ACK, seq, ack, b"hello");
    assert_eq!(again.all("tcp.analysis.retransmission").len(), 1);
    assert!(!again.protocols.contains("data"));
    // UDP payload nobody claims is data too.
    let mut h = Harness::new(9999, vec![]);
    assert!(h.udp(true, b"zz").protocols.ends_with("data"));
}

#[test]
fn foreign_port_shows_neither_data_nor_protocol() {
    // tshark's gryphon holds port-7000 payload waiting for a PDU.
    let mut h = Harness::new(7000, vec![]);
    h.handshake();
    let out = h.client(b"HELLO netsniff");
    assert_eq!(out.protocols, "tcp");
    assert!(out.info.ends_with("[TCP segment of a reassembled PDU]"));
}

#[test]
fn end_of_capture_ends_every_parser() {
    let mut h = Harness::new(7777, vec![]);
    h.handshake();
    h.client(b"\x05ab");
    h.finish();
    let s = h.engine.summaries();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].app, Some("lp"));
}

#[test]
fn icmp_quoted_headers_get_stream_numbers_but_no_frames() {
    // An ICMP error quoting a UDP datagram of a conversation never seen creates it (tshark
    // does: the quoted header shows udp.stream 0), the later real datagram continues it.
    let mut h = Harness::new(9999, vec![]);
    let quoted = PacketInfo {
        net: Net::V4 {
            src: SERVER,
            dst: CLIENT,
        },
        inner_net: Net::V4 {
            src: CLIENT,
            dst: SERVER,
        },
        ip_proto: 1,
        quoted_transport: Transport::Udp(UdpInfo {
            src_port: 40000,
            dst_port: 9999,
            length: 12,
        }),
        ..PacketInfo::default()
    };
    let out = h.run(&quoted, &[]);
    assert_eq!(out.all("udp.stream"), ["0"]);
    let other = Harness::udp;
    h.sport = 53;
    assert_eq!(other(&mut h, true, b"zz").all("udp.stream"), ["1"]);
    h.sport = 9999;
    assert_eq!(h.udp(true, b"zz").all("udp.stream"), ["0"]);
    h.finish();
    let flows = h.engine.conversations();
    let first = flows.iter().find(|f| f.stream == 0).unwrap();
    // Only the real datagram counts.
    assert_eq!(first.frames_ab + first.frames_ba, 1);
    assert_eq!(first.first_frame, 3);
}

#[test]
fn port_reuse_starts_a_new_stream_and_a_repeated_syn_does_not() {
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    h.tcp(true, TcpInfo::FIN | TcpInfo::ACK, c, s, &[]);
    h.tcp(false, TcpInfo::FIN | TcpInfo::ACK, s, c + 1, &[]);
    h.tcp(true, TcpInfo::ACK, c + 1, s + 1, &[]);
    // The first SYN again (same ISN): a retransmission on stream 0.
    let again = h.tcp(true, TcpInfo::SYN, 1000, 0, &[]);
    assert_eq!(again.all("tcp.stream"), ["0"]);
    assert_eq!(again.all("tcp.analysis.retransmission").len(), 1);
    assert!(again.all("tcp.analysis.reused_ports").is_empty());
    // A SYN with a new ISN on the same 4-tuple: stream 1, ports reused.
    let fresh = h.tcp(true, TcpInfo::SYN, 777_777, 0, &[]);
    assert_eq!(fresh.all("tcp.stream"), ["1"]);
    assert_eq!(fresh.all("tcp.analysis.reused_ports").len(), 1);
    assert_eq!(fresh.all("tcp.seq"), ["0"]);
    assert!(
        fresh.info.starts_with("[TCP Port numbers reused] "),
        "{}",
        fresh.info
    );
    let reply = h.tcp(false, TcpInfo::SYN | TcpInfo::ACK, 42, 777_778, &[]);
    assert_eq!(reply.all("tcp.stream"), ["1"]);
    assert_eq!(
        (reply.all("tcp.seq"), reply.all("tcp.ack")),
        (vec!["0".into()], vec!["1".into()])
    );
    h.finish();
    let flows = h.engine.conversations();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].state, Some("SF"));
}

#[test]
fn analysis_flags_as_wireshark() {
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    h.tcp(true, TcpInfo::ACK, c, s, b"0123456789");
    // The server acknowledges, then repeats the same ACK twice: duplicate ACKs #1 and #2,
    // each printed twice (tree item and expert item), as in the oracle.
    h.tcp(false, TcpInfo::ACK, s, c + 10, &[]);
    let d1 = h.tcp(false, TcpInfo::ACK, s, c + 10, &[]);
    assert_eq!(d1.all("tcp.analysis.duplicate_ack"), ["1", "1"]);
    assert_eq!(d1.all("tcp.analysis.duplicate_ack_num"), ["1"]);
    assert_eq!(d1.all("tcp.analysis.duplicate_ack_frame"), ["5"]);
    assert!(d1.info.starts_with("[TCP Dup ACK 5#1] "), "{}", d1.info);
    // Already acknowledged data sent again: a spurious retransmission, which also prints
    // tcp.analysis.retransmission.
    let sp = h.tcp(true, TcpInfo::ACK, c, s, b"0123456789");
    assert_eq!(sp.all("tcp.analysis.spurious_retransmission").len(), 1);
    assert_eq!(sp.all("tcp.analysis.retransmission").len(), 1);
    // A zero window, then the window opening again: zero window, window update.
    let mut h2 = Harness::new(9999, vec![]);
    h2.handshake();
    let (c, s) = (h2.cseq, h2.sseq);
    let pi_zero = |h: &mut Harness, win: u16| {
        let t = TcpInfo {
            src_port: 9999,
            dst_port: 40000,
            seq: s,
            ack: c,
            flags: TcpInfo::ACK,
            window: win,
            hdr_len: 20,
            ..TcpInfo::default()
        };
        let pi = PacketInfo {
            net: Net::V4 {
                src: SERVER,
                dst: CLIENT,
            },
            ip_proto: 6,
            transport: Transport::Tcp(t),
            l4_claimed_len: Some(20),
            payload_start: 54,
            ..PacketInfo::default()
        };
        h.run(&pi, &[])
    };
    let zero = pi_zero(&mut h2, 0);
    assert_eq!(zero.all("tcp.analysis.zero_window").len(), 1);
    let open = pi_zero(&mut h2, 800);
    assert_eq!(open.all("tcp.analysis.window_update").len(), 1);
    // Unscaled (no window scale option in the handshake): the window as sent.
    assert_eq!(open.all("tcp.window_size"), ["800"]);
    assert_eq!(open.all("tcp.window_size_scalefactor"), ["-2"]);
}

#[test]
fn acked_unseen_segment_flagged_again_only_past_newly_seen_data() {
    // As tshark 4.0.17 flags arkime's socks4-https.pcap (a capture that starts mid-stream).
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    let unseen = |o: &Out| !o.all("tcp.analysis.ack_lost_segment").is_empty();
    h.tcp(true, TcpInfo::ACK, c, s, b"0123456789");
    assert!(unseen(&h.tcp(false, TcpInfo::ACK, s, c + 200, &[])));
    // The client's next segment starts past what was seen (a hole)...
    h.tcp(true, TcpInfo::ACK, c + 200, s, &[]);
    // ...and the server's next acknowledgement of it flags the unseen bytes again,
    let pa = TcpInfo::ACK | TcpInfo::PSH;
    assert!(unseen(&h.tcp(false, pa, s, c + 200, b"abc")));
    // but once the client went on from there, not a third time.
    h.tcp(true, TcpInfo::ACK, c + 200, s + 3, &[]);
    assert!(!unseen(&h.tcp(false, pa, s + 3, c + 200, b"def")));
}

#[test]
fn a_retransmission_after_an_acked_unseen_segment_is_fast() {
    // Wireshark's duplicate-ACK counter is unsigned: the -1 that an ACKed unseen segment
    // leaves on the other side reads as "two or more", so the resent segment that follows is
    // a fast retransmission (as tshark 4.0.17 flags it).
    let mut h = Harness::new(9999, vec![]);
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    let data = [7u8; 100];
    h.tcp(false, TcpInfo::ACK, s, c, &data);
    h.tcp(false, TcpInfo::ACK, s + 100, c, &data);
    h.tcp(true, TcpInfo::ACK, c, s + 100, &[]);
    let unseen = h.tcp(false, TcpInfo::ACK, s + 200, c + 49, &[]);
    assert!(!unseen.all("tcp.analysis.ack_lost_segment").is_empty());
    let again = h.tcp(false, TcpInfo::ACK, s + 100, c + 49, &data);
    assert!(!again.all("tcp.analysis.fast_retransmission").is_empty());
}

#[test]
fn a_syn_after_its_syn_ack_has_an_analysis_record() {
    // The SYN/ACK captured first sets the client's base from its ACK; the SYN that follows
    // repeats that base, and Wireshark gives it an (empty) SEQ/ACK analysis.
    let mut h = Harness::new(9999, vec![]);
    let (c, s) = (h.cseq, h.sseq);
    h.tcp(false, TcpInfo::SYN | TcpInfo::ACK, s, c + 1, &[]);
    let syn = h.tcp(true, TcpInfo::SYN, c, 0, &[]);
    assert!(!syn.all("tcp.analysis").is_empty());
}

#[test]
fn evicted_flows_come_back_with_their_stream_and_sequence_numbers() {
    // One live flow at most: every new flow evicts the other one.
    let limits = FlowLimits {
        max_flows: 1,
        ..FlowLimits::default()
    };
    let mut h = Harness::new(9999, vec![]);
    h.engine = FlowEngine::with_registry(limits, Registry::with(PROTOCOLS, vec![]));
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    let a1 = h.tcp(true, TcpInfo::ACK, c, s, b"abc");
    assert_eq!(
        (a1.all("tcp.stream"), a1.all("tcp.seq")),
        (vec!["0".into()], vec!["1".into()])
    );
    // A second connection from another port: stream 1; the first leaves the table.
    h.cport = 40001;
    let b = h.tcp(true, TcpInfo::SYN, 5_000_000, 0, &[]);
    assert_eq!(b.all("tcp.stream"), ["1"]);
    // The first one again: still stream 0, its relative numbers still counting from its SYNs.
    h.cport = 40000;
    let a2 = h.tcp(true, TcpInfo::ACK, c + 3, s, b"def");
    assert_eq!(a2.all("tcp.stream"), ["0"]);
    assert_eq!(
        (a2.all("tcp.seq"), a2.all("tcp.ack")),
        (vec!["4".into()], vec!["1".into()])
    );
    let a3 = h.tcp(false, TcpInfo::ACK, s, c + 6, &[]);
    assert_eq!(
        (a3.all("tcp.stream"), a3.all("tcp.ack")),
        (vec!["0".into()], vec!["7".into()])
    );
    // A SYN with a new ISN on the first 4-tuple, after it left again: a new stream, as a port
    // reuse.
    h.cport = 40001;
    h.tcp(true, TcpInfo::ACK, 5_000_001, 0, &[]);
    h.cport = 40000;
    let reuse = h.tcp(true, TcpInfo::SYN, 123, 0, &[]);
    assert_eq!(reuse.all("tcp.stream"), ["2"]);
    assert_eq!(reuse.all("tcp.analysis.reused_ports").len(), 1);
    // UDP too.
    let mut u = Harness::new(7777, vec![]);
    u.engine = FlowEngine::with_registry(limits, Registry::with(PROTOCOLS, vec![]));
    assert_eq!(u.udp(true, b"\x01a").all("udp.stream"), ["0"]);
    u.cport = 40001;
    assert_eq!(u.udp(true, b"\x01b").all("udp.stream"), ["1"]);
    u.cport = 40000;
    assert_eq!(u.udp(false, b"\x01c").all("udp.stream"), ["0"]);
    let stats = u.engine.stats().table;
    assert_eq!((stats.udp_streams, stats.resumed), (2, 1));
    // Conversation summaries of a flow that came back are one row with every frame.
    u.finish();
    let rows = u.engine.conversations();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].frames_ab + rows[0].frames_ba, 2);
}

#[test]
fn closed_connections_are_evicted_before_idle_open_ones() {
    let limits = FlowLimits {
        max_flows: 2,
        ..FlowLimits::default()
    };
    let mut h = Harness::new(9999, vec![]);
    h.engine = FlowEngine::with_registry(limits, Registry::with(PROTOCOLS, vec![]));
    // Stream 0: open, then idle.
    h.cport = 40000;
    h.tcp(true, TcpInfo::SYN, 100, 0, &[]);
    // Stream 1: opened and closed after it, so more recently active.
    h.cport = 40001;
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    h.tcp(true, TcpInfo::FIN | TcpInfo::ACK, c, s, &[]);
    h.tcp(false, TcpInfo::FIN | TcpInfo::ACK, s, c + 1, &[]);
    h.tcp(true, TcpInfo::ACK, c + 1, s + 1, &[]);
    // Stream 2 needs room: the closed connection leaves, not the idle open one.
    h.cport = 40002;
    h.tcp(true, TcpInfo::SYN, 300, 0, &[]);
    h.cport = 40000;
    let again = h.tcp(true, TcpInfo::ACK, 101, 0, &[]);
    assert_eq!(again.all("tcp.stream"), ["0"]);
    let stats = h.engine.stats().table;
    assert_eq!((stats.evicted, stats.resumed), (1, 0));
}

#[test]
fn tcp_and_udp_streams_of_one_number_come_back_to_their_own_summaries() {
    // TCP stream 0 and UDP stream 0 push each other out of a one-flow table, twice.
    let limits = FlowLimits {
        max_flows: 1,
        ..FlowLimits::default()
    };
    let mut h = Harness::new(9999, vec![]);
    h.engine = FlowEngine::with_registry(limits, Registry::with(PROTOCOLS, vec![]));
    h.handshake();
    let (c, s) = (h.cseq, h.sseq);
    assert_eq!(h.udp(true, b"\x01a").all("udp.stream"), ["0"]);
    let t = h.tcp(true, TcpInfo::ACK, c, s, b"abc");
    assert_eq!(
        (t.all("tcp.stream"), t.all("tcp.seq")),
        (vec!["0".into()], vec!["1".into()])
    );
    assert_eq!(h.udp(false, b"\x01b").all("udp.stream"), ["0"]);
    h.finish();
    let stats = h.engine.stats().table;
    assert_eq!((stats.evicted, stats.resumed, stats.forgotten), (3, 2, 0));
    let rows: Vec<_> = h
        .engine
        .conversations()
        .iter()
        .map(|r| (r.l4, r.stream, r.frames_ab + r.frames_ba))
        .collect();
    assert_eq!(rows, [(L4::Tcp, 0, 4), (L4::Udp, 0, 2)]);
}
