//! TLS (RFC 8446, RFC 5246) over a reassembled TCP stream, and TLS handshake messages carried
//! by QUIC CRYPTO frames.
//!
//! Three levels, in the rusticata manner:
//!
//! 1. [`record`] frames records out of one direction's stream: a record split over segments
//!    waits (`Progress::NeedMore` with the count of missing bytes), several records in one segment are
//!    dissected in turn, and a length above 2^14 + 2048 is not a record.
//! 2. [`handshake`] reassembles handshake messages that span records (an owning buffer capped at
//!    [`handshake::MAX_HANDSHAKE_LEN`]) and hands each whole message to `tls-parser`, then emits
//!    Wireshark's `tls.handshake.*` fields (ClientHello and ServerHello in full, certificates'
//!    subject and issuer, key exchanges, CertificateRequest …) and the fingerprints of [`ja`].
//! 3. [`state`] advances a transition table per connection.
//!
//! `tls-parser` and its nom 7 stay inside this module: nothing of theirs is in a public
//! signature.
//!
//! # What a frame shows (as tshark does)
//!
//! A record is attributed to the frame that completes it. Each call of the parser for a frame
//! is one `tls` layer in `frame.protocols`, plus a separate first layer when the frame completes
//! a record that began in an earlier frame (tshark's "reassembled PDU" followed by the rest of
//! the segment, hence `tls:tls`). A frame holding only the start of a record still gets its
//! `tls` layer but no fields, and tshark's `[TCP segment of a reassembled PDU]` under Protocol
//! `TCP`; a frame in the middle of a record is not given to the parser at all. Certificates add `x509sat` / `x509ce` entries to `frame.protocols` for
//! each name attribute and extension, as Wireshark's X.509 dissectors do.
//!
//! The negotiated version comes from the ServerHello's supported_versions extension. Before it
//! is known the Protocol column shows the record version (`TLSv1` for a ClientHello in a
//! TLS 1.0 record); after it, `TLSv1.2` or `TLSv1.3`. Without keys, TLS 1.3 records after the
//! ServerHello are `tls.record.opaque_type` Application Data and TLS 1.2 handshake records
//! after ChangeCipherSpec are "Encrypted Handshake Message".
//!
//! # For QUIC
//!
//! [`dissect_handshake_messages`] dissects a buffer of whole handshake messages without a record
//! layer (the reassembled CRYPTO stream of a QUIC packet number space) and emits the same
//! `tls.handshake.*` fields, JA3 and JA4 (with QUIC's `q`) into a [`Cx`].
//!
//! Not supported: decryption (no key log), SSLv2 records other than the SSLv2-compatible
//! ClientHello, DTLS, compressed certificates' contents.

pub mod handshake;
pub mod ja;
pub mod record;
pub mod state;
pub mod x509;

use crate::dissector::{
    Bind, Cx, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser, Table,
};
use crate::error::Malformed;
use crate::field::{FieldDef, Kind, Proto, Span, Value};
use crate::proto::bytes::tail;
use crate::proto::data;
use handshake::HsBuf;
use record::{content, version, Framed};
use state::{Event, State};
use std::fmt::Write as _;

/// TCP ports Wireshark associates with TLS (HTTPS, SMTPS, LDAPS, IMAPS, POP3S, DoT, SIP-TLS …).
static BINDS: &[Bind] = &[
    Bind(Table::TcpPort, 443),
    Bind(Table::TcpPort, 465),
    Bind(Table::TcpPort, 563),
    Bind(Table::TcpPort, 636),
    Bind(Table::TcpPort, 853),
    Bind(Table::TcpPort, 989),
    Bind(Table::TcpPort, 990),
    Bind(Table::TcpPort, 992),
    Bind(Table::TcpPort, 993),
    Bind(Table::TcpPort, 994),
    Bind(Table::TcpPort, 995),
    Bind(Table::TcpPort, 5061),
    Bind(Table::TcpPort, 8443),
];

/// The TLS stream dissector.
pub struct Tls;

impl StreamDissector for Tls {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        BINDS
    }

    /// A handshake or application-data record header of SSL 3.0 to TLS 1.2 with a sane length
    /// (Wireshark's TLS heuristic).
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        match record::looks_like_record(data) {
            Some(true) => Probe::Yes,
            Some(false) => Probe::No,
            None => Probe::NeedMore,
        }
    }

    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(TlsParser::default())
    }
}

/// What both directions share: tshark's "session".
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The session version once known: from a record that is not a ClientHello, then from the
    /// ServerHello (its supported_versions extension for TLS 1.3).
    pub version: Option<u16>,
    /// The cipher suite the ServerHello selected (for the key-exchange formats).
    pub cipher: Option<u16>,
    pub state: State,
    /// The frame of the last ChangeCipherSpec, per direction ([`Direction::index`]): TLS 1.2
    /// handshake records of later frames are encrypted (Wireshark's rule; within the frame of
    /// the ChangeCipherSpec its heuristics decide).
    pub ccs_frame: [Option<u64>; 2],
    /// Handshake bytes over QUIC rather than TLS records.
    pub quic: bool,
    /// The long name of the protocol the server's ALPN chose, when Wireshark knows it
    /// ([`app_by_alpn`]): what `-V` says the application data carries.
    pub alpn_app: Option<&'static str>,
    /// The flow's ports (lower endpoint first): without ALPN, Wireshark names the application
    /// protocol by port ([`app_by_port`]).
    pub ports: [u16; 2],
}

impl Session {
    fn is_tls13(&self) -> bool {
        self.version == Some(version::TLS13)
    }

    /// The long name of the protocol the application data carries, as `-V` names it: by the
    /// server's ALPN, else by Wireshark's TLS port table (the lower port first, as TCP tries).
    fn app_proto(&self) -> Option<&'static str> {
        let [a, b] = self.ports;
        let (lo, hi) = (a.min(b), a.max(b));
        self.alpn_app.or_else(|| app_by_port(lo)).or_else(|| app_by_port(hi))
    }

    /// Advances the state machine; an unexpected event becomes an expert note.
    pub(crate) fn advance(&mut self, ev: Event, dir: Direction, e: &mut Emit<'_, '_>) {
        match state::next(self.state, ev, dir) {
            Ok(st) => self.state = st,
            Err(state::Unexpected) => e.text(Span::GENERATED, "Unexpected message in this state"),
        }
    }
}

/// Per-direction framing state.
#[derive(Debug, Default)]
struct DirState {
    /// Bytes at the start of the next `data` call that an earlier call left unconsumed: the
    /// record there began in an earlier frame.
    held: usize,
    /// A handshake message that spans records.
    hs: HsBuf,
    /// Not at a record boundary (after a gap or garbage): wait for bytes that look like one.
    resync: bool,
    /// The held bytes are a record header cut short.
    held_header: bool,
}

/// One connection's TLS parser.
#[derive(Debug, Default)]
pub struct TlsParser {
    sess: Session,
    client: DirState,
    server: DirState,
}

/// Where fields, layers and columns go while one call dissects: the frame's [`Cx`] plus what
/// this call already wrote.
pub(crate) struct Emit<'e, 'a> {
    pub cx: &'e mut Cx<'a>,
    /// Fields of the current `tls` layer are wanted.
    want: bool,
    /// A malformed message was met: the rest of this call is framed but not shown (tshark stops
    /// at the exception).
    silent: bool,
    /// This call writes the Protocol and Info columns (not for QUIC, whose dissector owns them).
    columns: bool,
    info_started: bool,
    protocol: &'static str,
    /// The frame being dissected (0 for QUIC, where it does not matter).
    pub frame: u64,
}

impl<'e, 'a> Emit<'e, 'a> {
    fn new(cx: &'e mut Cx<'a>, columns: bool, protocol: &'static str) -> Self {
        Emit {
            cx,
            want: false,
            silent: false,
            columns,
            info_started: false,
            protocol,
            frame: 0,
        }
    }

    /// Opens a `tls` layer (one entry in `frame.protocols`).
    fn layer(&mut self, span: Span) {
        self.want = self.cx.layer(&PROTO, span);
    }

    /// Opens a `tls` layer that trees draw apart from the one before (the records after a
    /// reassembled one, as tshark draws them).
    fn layer_apart(&mut self, span: Span) {
        self.cx.protocols.push(PROTO.name);
        self.want = self.cx.wants(&PROTO);
        if self.want {
            self.cx.sink.layer_apart(&PROTO, span);
        }
    }

    /// Emits a field whose whole `-V` line `show` writes (the plain field elsewhere).
    #[inline]
    pub fn field_line(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>, show: impl FnOnce(&mut String)) {
        if self.on() {
            self.cx.field_line(def, span, value, show);
        }
    }

    /// Emits a field whose `-V` value text (after `Label: `) `show` writes.
    #[inline]
    pub fn field_shown(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>, show: impl FnOnce(&mut String)) {
        if self.on() {
            self.cx.field_shown(def, span, value, show);
        }
    }

    /// A tree item that is not a field (`Extension: server_name (len=24)`), the parent of the
    /// items up to the matching [`Emit::close_label`]; drawn only by sinks that draw trees.
    #[inline]
    pub fn label(&mut self, span: Span, text: std::fmt::Arguments<'_>) -> bool {
        self.on() && self.cx.open_label(span, text)
    }

    /// Closes what [`Emit::label`] opened (`drawn` is what it returned).
    #[inline]
    pub fn close_label(&mut self, drawn: bool) {
        self.cx.close_label(drawn);
    }

    /// Whether fields are being emitted.
    #[inline]
    pub fn on(&self) -> bool {
        self.want && !self.silent
    }

    /// Whether field `def` may be wanted (ask before computing a costly value).
    #[inline]
    pub fn wants_field(&self, def: &'static FieldDef) -> bool {
        self.on() && self.cx.wants_field(def)
    }

    #[inline]
    pub fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
        if self.on() {
            self.cx.field(def, span, value);
        }
    }

    #[inline]
    pub fn open(&mut self) {
        if self.on() {
            self.cx.sink.open();
        }
    }

    #[inline]
    pub fn close(&mut self) {
        if self.on() {
            self.cx.sink.close();
        }
    }

    /// An expert note in the current layer.
    pub fn text(&mut self, span: Span, text: &str) {
        if self.on() {
            self.cx.sink.text(span, text);
        }
    }

    /// Records a protocol in `frame.protocols` without a field layer (`x509sat`, `x509ce`):
    /// Wireshark lists every dissector its X.509 code calls.
    pub fn push_proto(&mut self, name: &'static str) {
        if !self.silent {
            self.cx.protocols.push(name);
        }
    }

    /// Appends one item to the Info column (", " between items, as tshark).
    pub fn info(&mut self, item: &str) {
        self.info_args(format_args!("{item}"));
    }

    /// Appends formatted text as one Info item.
    pub fn info_args(&mut self, args: std::fmt::Arguments<'_>) {
        if !self.columns || self.silent || !self.cx.shows_columns() {
            return;
        }
        let info = if self.info_started {
            let Some(cols) = self.cx.cols.as_deref_mut() else {
                return;
            };
            cols.info.push_str(", ");
            &mut cols.info
        } else {
            self.info_started = true;
            let protocol = self.protocol;
            match self.cx.info(protocol) {
                Some(info) => info,
                None => return,
            }
        };
        let _ = info.write_fmt(args);
    }

    /// A frame whose TLS bytes only begin a record: tshark's TCP shows it as
    /// `[TCP segment of a reassembled PDU]` under Protocol `TCP`, though TLS was called on it
    /// (and is in `frame.protocols`).
    fn segment_of_reassembled_pdu(&mut self) {
        if self.columns && !self.info_started && !self.silent {
            if let Some(info) = self.cx.info("TCP") {
                info.push_str("[TCP segment of a reassembled PDU]");
            }
        }
    }

    /// Sets the Protocol column (it is written with the first Info item).
    pub fn set_protocol(&mut self, p: &'static str) {
        self.protocol = p;
        if self.columns && self.info_started {
            if let Some(cols) = self.cx.cols.as_deref_mut() {
                cols.protocol = p;
            }
        }
    }

    /// Marks the frame malformed for a fault that leaves the framing around it intact (an
    /// extension whose inner lengths disagree with its own): dissection goes on after it.
    pub fn malformed_note(&mut self, m: Malformed, span: Span) {
        if self.silent {
            return;
        }
        self.malformed(m, span);
        self.silent = false;
        // Back into the `tls` layer for the fields that follow.
        if self.want {
            self.cx.sink.layer(&PROTO, span);
        }
    }

    /// Marks the frame malformed (`_ws.malformed`, its reason, the Info note) and silences the
    /// rest of this call.
    pub fn malformed(&mut self, m: Malformed, span: Span) {
        if self.silent {
            return;
        }
        self.cx.protocols.push(data::MALFORMED.name);
        if self.cx.wants(&data::MALFORMED) {
            self.cx.sink.layer(&data::MALFORMED, span);
            self.cx.field(
                &data::MALFORMED_REASON,
                Span::GENERATED,
                Value::Str(m.reason),
            );
        }
        if self.columns {
            if let Some(cols) = self.cx.cols.as_deref_mut() {
                let _ = write!(cols.info, " {m}");
            }
        }
        self.silent = true;
    }
}

impl TlsParser {
    /// The session and the state of direction `dir`.
    fn parts(&mut self, dir: Direction) -> (&mut Session, &mut DirState) {
        match dir {
            Direction::ToServer => (&mut self.sess, &mut self.client),
            Direction::ToClient => (&mut self.sess, &mut self.server),
        }
    }

    /// Dissects one complete record whose first byte is at `at` in the call's buffer.
    fn record(&mut self, rec: record::Record<'_>, at: usize, base: u64, dir: Direction, e: &mut Emit<'_, '_>) {
        let di = dir.index();
        let span = |rel: usize, len: usize| Span::new(usize::try_from(offset(base, at + rel)).unwrap_or(usize::MAX), len);
        let body_span = span(record::HEADER_LEN, rec.body.len());
        let (sess, d) = self.parts(dir);

        // tshark's session version: until known, the Protocol column follows the record version
        // and any record but a ClientHello settles it.
        match sess.version {
            None => {
                e.set_protocol(version::short_name(rec.version));
                let client_hello = rec.content_type == content::HANDSHAKE
                    && rec.body.first() == Some(&handshake::kind::CLIENT_HELLO);
                if !client_hello {
                    sess.version = version::session(rec.version);
                }
            }
            Some(v) => e.set_protocol(version::short_name(v)),
        }
        let opaque = sess.is_tls13() && rec.content_type == content::APPLICATION_DATA;

        let short = version::short_name(sess.version.unwrap_or(rec.version));
        let hs_active = d.hs.is_active();
        let ccs_before = sess.ccs_frame.get(di).copied().flatten().is_some_and(|f| f < e.frame);
        e.field_line(&RECORD, span(0, rec.total_len()), Value::None, |t| {
            let _ = write!(t, "{short} Record Layer: ");
            match rec.content_type {
                content::CHANGE_CIPHER_SPEC => t.push_str("Change Cipher Spec Protocol: Change Cipher Spec"),
                content::ALERT => match rec.body {
                    &[level, desc] => {
                        let _ = write!(
                            t,
                            "Alert (Level: {}, Description: {})",
                            record::alert::level_name(level.into()).unwrap_or("Unknown"),
                            record::alert::desc_name(desc.into()).unwrap_or("Unknown"),
                        );
                    }
                    _ => t.push_str("Encrypted Alert"),
                },
                content::HANDSHAKE => {
                    let what = if hs_active {
                        None
                    } else {
                        handshake::record_label(rec.body, ccs_before)
                    };
                    // A record that continues a message: Wireshark's reassembly labels are not
                    // reproduced, so the plain label stays.
                    match what {
                        Some(w) => {
                            let _ = write!(t, "Handshake Protocol: {w}");
                        }
                        None => {
                            t.clear();
                            t.push_str(RECORD.label);
                        }
                    }
                }
                content::APPLICATION_DATA => {
                    let _ = write!(
                        t,
                        "Application Data Protocol: {}",
                        sess.app_proto().unwrap_or("Application Data")
                    );
                }
                ct => {
                    let _ = write!(t, "{} Protocol", content::name(ct.into()).unwrap_or("unknown"));
                }
            }
        });
        e.open();
        let ct = Value::U(u64::from(rec.content_type));
        if opaque {
            e.field(&RECORD_OPAQUE_TYPE, span(0, 1), ct);
        } else {
            e.field(&RECORD_CONTENT_TYPE, span(0, 1), ct);
        }
        e.field(&RECORD_VERSION, span(1, 2), Value::U(u64::from(rec.version)));
        e.field(&RECORD_LENGTH, span(3, 2), Value::U(rec.body.len() as u64));

        match rec.content_type {
            content::CHANGE_CIPHER_SPEC => {
                e.info("Change Cipher Spec");
                e.field(&CHANGE_CIPHER_SPEC, body_span, Value::None);
                // TLS 1.3's ChangeCipherSpec is a compatibility no-op (RFC 8446 §D.4).
                if !sess.is_tls13() {
                    if let Some(f) = sess.ccs_frame.get_mut(di) {
                        *f = Some(e.frame);
                    }
                }
                sess.advance(Event::ChangeCipherSpec, dir, e);
            }
            content::ALERT => {
                if rec.body.len() == 2 {
                    e.field(&ALERT_MESSAGE, body_span, Value::None);
                } else {
                    e.field_line(&ALERT_MESSAGE, body_span, Value::None, |t| {
                        t.push_str("Alert Message: Encrypted Alert")
                    });
                }
                // Alerts are two bytes; anything else is encrypted (Wireshark's rule).
                match rec.body {
                    &[level, desc] => {
                        e.info_args(format_args!(
                            "Alert (Level: {}, Description: {})",
                            record::alert::level_name(level.into()).unwrap_or("Unknown"),
                            record::alert::desc_name(desc.into()).unwrap_or("Unknown"),
                        ));
                        e.open();
                        e.field(&ALERT_LEVEL, span(5, 1), Value::U(level.into()));
                        e.field(&ALERT_DESC, span(6, 1), Value::U(desc.into()));
                        e.close();
                    }
                    _ => e.info("Encrypted Alert"),
                }
            }
            content::HANDSHAKE => {
                let base_body = offset(base, at + record::HEADER_LEN);
                if let Err(m) = handshake::dissect_record_body(
                    rec.body,
                    usize::try_from(base_body).unwrap_or(usize::MAX),
                    &mut d.hs,
                    sess,
                    dir,
                    e,
                ) {
                    e.close();
                    e.malformed(m, body_span);
                    return;
                }
            }
            content::APPLICATION_DATA => {
                e.info("Application Data");
                e.field(&APP_DATA, body_span, Value::Bytes(rec.body));
                if let Some(app) = sess.app_proto() {
                    e.field(&APP_DATA_PROTO, Span::GENERATED, Value::Str(app));
                }
                sess.advance(Event::ApplicationData, dir, e);
            }
            content::HEARTBEAT => {
                e.info("Encrypted Heartbeat");
            }
            _ => {}
        }
        e.close();
        if rec.oversized() {
            let m = Malformed::new(&PROTO, at + 3, "record length exceeds 2^14 + 2048")
                .len_from("tls.record.length");
            e.malformed(m, span(3, 2));
        }
    }
}

impl TlsParser {
    /// An SSL 2.0-compatible ClientHello (`msg` after the two-byte header), as Wireshark shows
    /// it: record version SSL 2.0, the offered version, 3-byte cipher specs, the challenge.
    fn sslv2_client_hello(&mut self, msg: &[u8], at: usize, base: u64, dir: Direction, e: &mut Emit<'_, '_>) {
        let span = |rel: usize, len: usize| {
            Span::new(usize::try_from(offset(base, at + rel)).unwrap_or(usize::MAX), len)
        };
        e.set_protocol("SSLv2");
        e.info("Client Hello");
        let mut r = handshake::Rd::new(msg);
        let fixed = (|| Some((r.u8()?, r.u16()?, r.u16()?, r.u16()?, r.u16()?)))();
        e.field(&RECORD, span(0, 2 + msg.len()), Value::None);
        e.open();
        e.field(&RECORD_VERSION, Span::GENERATED, Value::U(version::SSL2.into()));
        e.field(&RECORD_LENGTH, span(0, 2), Value::U(msg.len() as u64));
        let Some((t, v, spec_len, sid_len, challenge_len)) = fixed else {
            e.close();
            e.malformed(Malformed::new(&PROTO, at, "SSLv2 ClientHello truncated"), span(0, msg.len()));
            return;
        };
        e.field(&HS_TYPE, span(2, 1), Value::U(t.into()));
        e.field(&HS_VERSION, span(3, 2), Value::U(v.into()));
        e.field(&HS_CIPHER_SPEC_LEN, span(5, 2), Value::U(spec_len.into()));
        e.field(&HS_SESSION_ID_LENGTH, span(7, 2), Value::U(sid_len.into()));
        e.field(&HS_CHALLENGE_LENGTH, span(9, 2), Value::U(challenge_len.into()));
        let parts = (|| Some((r.take(spec_len.into())?, r.take(sid_len.into())?, r.take(challenge_len.into())?)))();
        let Some((specs, sid, challenge)) = parts else {
            e.close();
            e.malformed(Malformed::new(&PROTO, at, "SSLv2 ClientHello lengths disagree"), span(0, msg.len()));
            return;
        };
        e.field(&HS_CIPHERSUITES, span(11, specs.len()), Value::None);
        e.open();
        for (i, c) in specs.chunks_exact(3).enumerate() {
            let v = u64::from(c.first().copied().unwrap_or(0)) << 16 | u64::from(crate::proto::bytes::be16(c, 1));
            e.field(&HS_CIPHER_SPEC, span(11 + 3 * i, 3), Value::U(v));
        }
        e.close();
        if !sid.is_empty() {
            e.field(&HS_SESSION_ID, span(11 + specs.len(), sid.len()), Value::Bytes(sid));
        }
        e.field(&HS_CHALLENGE, span(11 + specs.len() + sid.len(), challenge.len()), Value::None);
        e.close();
        self.sess.advance(Event::ClientHello, dir, e);
    }
}

/// `base + at` as a stream offset.
fn offset(base: u64, at: usize) -> u64 {
    base.saturating_add(at as u64)
}

impl StreamParser for TlsParser {
    fn data(&mut self, dir: Direction, data: &[u8], scx: &mut StreamCx<'_, '_>) -> Progress {
        let base = scx.stream_offset;
        self.sess.ports = scx.ports;
        let protocol = version::short_name(self.sess.version.unwrap_or(0));
        let frame = scx.frame;
        let mut e = Emit::new(scx.cx, true, protocol);
        e.frame = frame;

        let (_, d) = self.parts(dir);
        let held = std::mem::take(&mut d.held);
        // A record header split at the end of the last segment is reassembled with the whole
        // next one as a single PDU (tshark's "one more segment"): one layer for all of it.
        let held_header = std::mem::take(&mut d.held_header);
        let resync = d.resync;
        // Four printable characters at a segment start are no TLS (Wireshark's dissect_ssl
        // refuses them, and TCP shows the bytes as data).
        let printable = data.get(..4).is_some_and(|h| h.iter().all(|b| (0x20..0x7f).contains(b)));
        if held == 0 && data.len() > 4 && printable {
            data::dissect(data, usize::try_from(base).unwrap_or(usize::MAX), e.cx);
            return Progress::Done;
        }
        if resync {
            match record::looks_like_boundary(data) {
                Some(true) => self.parts(dir).1.resync = false,
                Some(false) => {
                    // Not a record boundary: this segment is continuation data (tshark shows it
                    // as such and tries again at the next segment).
                    e.layer(Span::new(usize::try_from(base).unwrap_or(usize::MAX), data.len()));
                    e.info("Continuation Data");
                    return Progress::Done;
                }
                None => {
                    return Progress::NeedMore {
                        consumed: 0,
                        needed: 3 - data.len(),
                    }
                }
            }
        }

        // The first record completes a PDU begun in an earlier frame: it is a layer of its own.
        let mut reassembled = held > 0 && !held_header;
        // After a reassembled record, the rest of the segment is a tree of its own.
        let apart = reassembled;
        let mut layer_open = false;
        let mut at = 0usize;
        while at < data.len() {
            let rest = tail(data, at);
            let open_layer = |e: &mut Emit<'_, '_>, layer_open: &mut bool, len: usize| {
                if !*layer_open {
                    let span = Span::new(usize::try_from(offset(base, at)).unwrap_or(usize::MAX), len);
                    if apart {
                        e.layer_apart(span);
                    } else {
                        e.layer(span);
                    }
                    *layer_open = true;
                }
            };
            match record::frame(rest) {
                Framed::Record(rec) => {
                    if reassembled {
                        e.layer(Span::new(usize::try_from(base).unwrap_or(usize::MAX), rec.total_len()));
                    } else {
                        open_layer(&mut e, &mut layer_open, rest.len());
                    }
                    self.record(rec, at, base, dir, &mut e);
                    reassembled = false;
                    at += rec.total_len();
                }
                Framed::Sslv2ClientHello(msg) => {
                    let total = 2 + msg.len();
                    if reassembled {
                        e.layer(Span::new(usize::try_from(base).unwrap_or(usize::MAX), total));
                    } else {
                        open_layer(&mut e, &mut layer_open, rest.len());
                    }
                    self.sslv2_client_hello(msg, at, base, dir, &mut e);
                    reassembled = false;
                    at += total;
                }
                Framed::Partial { needed } => {
                    // The start of a record: wait for the rest, keeping it unconsumed. A frame
                    // with nothing else still shows the layer (tshark called TLS on it).
                    if !reassembled {
                        open_layer(&mut e, &mut layer_open, rest.len());
                        e.segment_of_reassembled_pdu();
                    }
                    let (_, d) = self.parts(dir);
                    d.held = rest.len();
                    d.held_header = rest.len() < record::HEADER_LEN;
                    return Progress::NeedMore {
                        consumed: at,
                        needed,
                    };
                }
                Framed::BadContentType(_) => {
                    open_layer(&mut e, &mut layer_open, rest.len());
                    // tshark: a known TLS 1.0–1.2 session ignores unknown records; otherwise the
                    // rest of the segment is continuation data.
                    let known12 = matches!(
                        self.sess.version,
                        Some(version::TLS10 | version::TLS11 | version::TLS12)
                    );
                    e.info(if known12 {
                        "Ignored Unknown Record"
                    } else {
                        "Continuation Data"
                    });
                    let (_, d) = self.parts(dir);
                    d.resync = true;
                    d.hs.clear();
                    return Progress::Done;
                }
            }
        }
        Progress::Done
    }

    fn gap(&mut self, dir: Direction, _len: u64) {
        // Bytes are missing: the next record boundary is unknown and a handshake message in
        // progress cannot be completed.
        let (_, d) = self.parts(dir);
        d.held = 0;
        d.hs.clear();
        d.resync = true;
    }
}

/// Dissects TLS handshake messages without a record layer — QUIC CRYPTO stream data
/// (RFC 9001 §4) — and emits the same `tls.handshake.*` fields, JA3 and JA4 (with QUIC's `q`
/// transport letter) as over TCP, in a `tls` layer of its own.
///
/// `bytes` holds handshake messages back to back (the reassembled CRYPTO data of one packet
/// number space, from its start or from a message boundary); `offset` is where `bytes[0]` lies
/// in the buffer the spans refer to (the frame, or the decrypted payload). The session is taken
/// to be TLS 1.3. The Protocol and Info columns are left to the caller.
///
/// Returns how many bytes were whole messages: a message cut at the end of `bytes` is left for
/// the caller to complete and call again (nothing is emitted for it). A message that is not
/// well formed marks the frame malformed (`_ws.malformed`) and is returned as `Err` after the
/// fields before it were emitted.
pub fn dissect_handshake_messages(
    bytes: &[u8],
    offset: usize,
    cx: &mut Cx<'_>,
) -> Result<usize, Malformed> {
    let mut sess = Session {
        version: Some(version::TLS13),
        quic: true,
        ..Session::default()
    };
    let mut e = Emit::new(cx, false, "QUIC");
    e.layer(Span::new(offset, bytes.len()));
    if e.on() {
        let what = handshake::record_label(bytes, false).unwrap_or("Encrypted Handshake Message");
        e.cx.retitle(|t| {
            let _ = write!(t, "TLSv1.3 Record Layer: Handshake Protocol: {what}");
        });
    }
    match handshake::dissect_messages(bytes, offset, &mut sess, &mut e) {
        Ok(n) => Ok(n),
        Err(m) => {
            e.malformed(m, Span::new(offset + m.at, 0));
            Err(m)
        }
    }
}

/// The protocol Wireshark hands a TLS session's application data to by the server's ALPN
/// choice (its `ssl_alpn_protocols` table, exact names and the `h2-` drafts), by long name.
fn app_by_alpn(alpn: &[u8]) -> Option<&'static str> {
    Some(match alpn {
        b"http/1.1" => "Hypertext Transfer Protocol",
        b"h2" => "HyperText Transfer Protocol 2",
        a if a.starts_with(b"h2-") => "HyperText Transfer Protocol 2",
        b"dot" | b"doq" => "Domain Name System",
        b"imap" => "Internet Message Access Protocol",
        b"pop3" => "Post Office Protocol",
        b"mqtt" => "MQ Telemetry Transport Protocol",
        b"coap" => "Constrained Application Protocol",
        _ => return None,
    })
}

/// Wireshark 4.0's `tls.port` table: the protocol of a TLS session on a port, by long name.
fn app_by_port(port: u16) -> Option<&'static str> {
    Some(match port {
        443 => "Hypertext Transfer Protocol",
        853 => "Domain Name System",
        465 => "Simple Mail Transfer Protocol",
        993 => "Internet Message Access Protocol",
        995 => "Post Office Protocol",
        636 => "Lightweight Directory Access Protocol",
        5061 => "Session Initiation Protocol",
        8883 => "MQ Telemetry Transport Protocol",
        5684 => "Constrained Application Protocol",
        5671 => "Advanced Message Queuing Protocol",
        5868 => "Diameter Protocol",
        27017 => "Mongo Wire Protocol",
        11207 => "Couchbase Protocol",
        19999 => "Distributed Network Protocol 3.0",
        2221 => "EtherNet/IP (Industrial Protocol)",
        2443 => "Skinny Client Control Protocol",
        1300 => "Q.931",
        3496 => "DoIP (ISO13400) Protocol",
        3389 => "TPKT - ISO on TCP - RFC1006",
        802 => "Modbus/TCP",
        324 => "RPKI-Router Protocol",
        3249..=3252 => "Intel Omni-Path FE Header - Omni-Path Fabric Executive Header",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Fields (Wireshark's names and types).

macro_rules! fields {
    ($($id:ident = $name:literal, $label:literal, $kind:expr $(, $names:expr)? $(=> $(.$view:ident($($arg:expr),*))+)?;)*) => {
        $(pub static $id: FieldDef = FieldDef::new($name, $label, $kind)$(.with_names($names))?$($(.$view($($arg),*))+)?;)*
        /// Every field of the `tls` layer, in declaration order.
        pub static FIELDS: &[&FieldDef] = &[$(&$id),*];
    };
}

use handshake::names as hn;
use Kind::{Bytes, Dec, Hex, Str};

fields! {
    RECORD = "tls.record", "Record Layer", Kind::None;
    RECORD_CONTENT_TYPE = "tls.record.content_type", "Content Type", Dec, content::name;
    RECORD_OPAQUE_TYPE = "tls.record.opaque_type", "Opaque Type", Dec, content::name;
    RECORD_VERSION = "tls.record.version", "Version", Hex(4), version::name;
    RECORD_LENGTH = "tls.record.length", "Length", Dec;
    APP_DATA = "tls.app_data", "Encrypted Application Data", Bytes;
    APP_DATA_PROTO = "tls.app_data_proto", "Application Data Protocol", Str;
    CHANGE_CIPHER_SPEC = "tls.change_cipher_spec", "Change Cipher Spec Message", Kind::None;
    ALERT_MESSAGE = "tls.alert_message", "Alert Message", Kind::None;
    ALERT_LEVEL = "tls.alert_message.level", "Level", Dec, record::alert::level_name;
    ALERT_DESC = "tls.alert_message.desc", "Description", Dec, record::alert::desc_name;
    HANDSHAKE = "tls.handshake", "Handshake Protocol", Kind::None;
    HS_TYPE = "tls.handshake.type", "Handshake Type", Dec, hn::handshake_type;
    HS_LENGTH = "tls.handshake.length", "Length", Dec;
    HS_VERSION = "tls.handshake.version", "Version", Hex(4), version::name;
    HS_RANDOM = "tls.handshake.random", "Random", Bytes;
    HS_RANDOM_TIME = "tls.handshake.random_time", "GMT Unix Time", Kind::AbsTime;
    HS_RANDOM_BYTES = "tls.handshake.random_bytes", "Random Bytes", Bytes;
    HS_SESSION_ID_LENGTH = "tls.handshake.session_id_length", "Session ID Length", Dec;
    HS_SESSION_ID = "tls.handshake.session_id", "Session ID", Bytes;
    HS_CIPHER_SUITES_LENGTH = "tls.handshake.cipher_suites_length", "Cipher Suites Length", Dec;
    HS_CIPHERSUITES = "tls.handshake.ciphersuites", "Cipher Suites", Kind::None;
    HS_CIPHERSUITE = "tls.handshake.ciphersuite", "Cipher Suite", Hex(4), hn::cipher_suite;
    HS_COMP_METHODS_LENGTH = "tls.handshake.comp_methods_length", "Compression Methods Length", Dec;
    HS_COMP_METHODS = "tls.handshake.comp_methods", "Compression Methods", Kind::None;
    HS_COMP_METHOD = "tls.handshake.comp_method", "Compression Method", Dec, hn::compression;
    HS_CIPHER_SPEC_LEN = "tls.handshake.cipher_spec_len", "Cipher Spec Length", Dec;
    HS_CHALLENGE_LENGTH = "tls.handshake.challenge_length", "Challenge Length", Dec;
    HS_CIPHER_SPEC = "tls.handshake.cipherspec", "Cipher Spec", Hex(6);
    HS_CHALLENGE = "tls.handshake.challenge", "Challenge", Kind::None;
    HS_EXTENSIONS_LENGTH = "tls.handshake.extensions_length", "Extensions Length", Dec;
    EXT_TYPE = "tls.handshake.extension.type", "Type", Dec, hn::extension;
    EXT_LEN = "tls.handshake.extension.len", "Length", Dec;
    EXT_DATA = "tls.handshake.extension.data", "Data", Bytes;
    SNI_LIST_LEN = "tls.handshake.extensions_server_name_list_len", "Server Name list length", Dec;
    SNI_TYPE = "tls.handshake.extensions_server_name_type", "Server Name Type", Dec, hn::sni_type;
    SNI_LEN = "tls.handshake.extensions_server_name_len", "Server Name length", Dec;
    SNI = "tls.handshake.extensions_server_name", "Server Name", Str;
    GROUPS_LENGTH = "tls.handshake.extensions_supported_groups_length", "Supported Groups List Length", Dec;
    GROUPS = "tls.handshake.extensions_supported_groups", "Supported Groups List", Kind::None;
    GROUP = "tls.handshake.extensions_supported_group", "Supported Group", Hex(4), hn::group;
    EC_POINT_FORMATS_LENGTH = "tls.handshake.extensions_ec_point_formats_length", "EC point formats Length", Dec;
    EC_POINT_FORMATS = "tls.handshake.extensions_ec_point_formats", "EC point formats", Kind::None;
    EC_POINT_FORMAT = "tls.handshake.extensions_ec_point_format", "EC point format", Dec, hn::ec_point_format;
    SIG_HASH_ALG_LEN = "tls.handshake.sig_hash_alg_len", "Signature Hash Algorithms Length", Dec;
    SIG_HASH_ALGS = "tls.handshake.sig_hash_algs", "Signature Hash Algorithms", Kind::None;
    SIG_HASH_ALG = "tls.handshake.sig_hash_alg", "Signature Algorithm", Hex(4), hn::signature_scheme;
    SIG_HASH_HASH = "tls.handshake.sig_hash_hash", "Signature Hash Algorithm Hash", Dec, hn::hash_algorithm;
    SIG_HASH_SIG = "tls.handshake.sig_hash_sig", "Signature Hash Algorithm Signature", Dec, hn::signature_algorithm;
    ALPN_LEN = "tls.handshake.extensions_alpn_len", "ALPN Extension Length", Dec;
    ALPN_LIST = "tls.handshake.extensions_alpn_list", "ALPN Protocol", Kind::None;
    ALPN_STR_LEN = "tls.handshake.extensions_alpn_str_len", "ALPN string length", Dec;
    ALPN_STR = "tls.handshake.extensions_alpn_str", "ALPN Next Protocol", Str;
    PADDING_DATA = "tls.handshake.extensions_padding_data", "Padding Data", Bytes;
    SUPPORTED_VERSIONS_LEN = "tls.handshake.extensions.supported_versions_len", "Supported Versions length", Dec;
    SUPPORTED_VERSION = "tls.handshake.extensions.supported_version", "Supported Version", Hex(4), version::name;
    PSK_KE_MODES_LENGTH = "tls.extension.psk_ke_modes_length", "PSK Key Exchange Modes Length", Dec;
    PSK_KE_MODE = "tls.extension.psk_ke_mode", "PSK Key Exchange Mode", Dec, hn::psk_ke_mode;
    KEY_SHARE_CLIENT_LENGTH = "tls.handshake.extensions_key_share_client_length", "Client Key Share Length", Dec;
    KEY_SHARE_GROUP = "tls.handshake.extensions_key_share_group", "Group", Dec, hn::group;
    KEY_SHARE_KX_LENGTH = "tls.handshake.extensions_key_share_key_exchange_length", "Key Exchange Length", Dec;
    KEY_SHARE_KX = "tls.handshake.extensions_key_share_key_exchange", "Key Exchange", Bytes;
    KEY_SHARE_SELECTED_GROUP = "tls.handshake.extensions_key_share_selected_group", "Selected Group", Dec, hn::group;
    RENEG_INFO_LEN = "tls.handshake.extensions_reneg_info_len", "Renegotiation info extension length", Dec;
    RENEG_INFO = "tls.handshake.extensions_reneg_info", "Renegotiation info", Bytes;
    PSK_IDENTITIES_LENGTH = "tls.handshake.extensions.psk.identities.length", "Identities Length", Dec;
    PSK_IDENTITY_LENGTH = "tls.handshake.extensions.psk.identity.identity_length", "Identity Length", Dec;
    PSK_IDENTITY = "tls.handshake.extensions.psk.identity.identity", "Identity", Bytes;
    PSK_TICKET_AGE = "tls.handshake.extensions.psk.identity.obfuscated_ticket_age", "Obfuscated Ticket Age", Dec;
    PSK_BINDERS_LEN = "tls.handshake.extensions.psk.binders_len", "PSK Binders length", Dec;
    PSK_BINDERS = "tls.handshake.extensions.psk.binders", "PSK Binders", Kind::None;
    PSK_SELECTED = "tls.handshake.extensions.psk.identity.selected", "Selected Identity", Dec;
    ESNI_SUITE = "tls.esni.suite", "Cipher Suite", Hex(4), hn::cipher_suite;
    ESNI_RECORD_DIGEST_LENGTH = "tls.esni.record_digest_length", "Record Digest Length", Dec;
    ESNI_RECORD_DIGEST = "tls.esni.record_digest", "Record Digest", Bytes;
    ESNI_ENCRYPTED_SNI_LENGTH = "tls.esni.encrypted_sni_length", "Encrypted SNI Length", Dec;
    ESNI_ENCRYPTED_SNI = "tls.esni.encrypted_sni", "Encrypted SNI", Bytes;
    COOKIE_LEN = "tls.handshake.extensions.cookie_len", "Cookie length", Dec;
    COOKIE = "tls.handshake.extensions.cookie", "Cookie", Bytes;
    STATUS_REQUEST_TYPE = "tls.handshake.extensions_status_request_type", "Certificate Status Type", Dec;
    STATUS_REQUEST_RESPONDER_IDS_LEN = "tls.handshake.extensions_status_request_responder_ids_len", "Responder ID list Length", Dec;
    STATUS_REQUEST_EXTS_LEN = "tls.handshake.extensions_status_request_exts_len", "Request Extensions Length", Dec;
    MAX_EARLY_DATA_SIZE = "tls.early_data.max_early_data_size", "Maximum Early Data Size", Dec;
    RECORD_SIZE_LIMIT = "tls.record_size_limit", "Record Size Limit", Dec;
    TICKET_LIFETIME_HINT = "tls.handshake.session_ticket_lifetime_hint", "Session Ticket Lifetime Hint", Dec;
    TICKET_AGE_ADD = "tls.handshake.session_ticket_age_add", "Session Ticket Age Add", Dec;
    TICKET_NONCE_LENGTH = "tls.handshake.session_ticket_nonce_length", "Session Ticket Nonce Length", Dec;
    TICKET_NONCE = "tls.handshake.session_ticket_nonce", "Session Ticket Nonce", Bytes;
    TICKET_LENGTH = "tls.handshake.session_ticket_length", "Session Ticket Length", Dec;
    TICKET = "tls.handshake.session_ticket", "Session Ticket", Bytes;
    CERTIFICATES_LENGTH = "tls.handshake.certificates_length", "Certificates Length", Dec;
    CERTIFICATES = "tls.handshake.certificates", "Certificates", Kind::None;
    CERTIFICATE_LENGTH = "tls.handshake.certificate_length", "Certificate Length", Dec;
    CERTIFICATE = "tls.handshake.certificate", "Certificate", Bytes;
    CERT_REQUEST_CONTEXT_LENGTH = "tls.handshake.certificate_request_context_length", "Certificate Request Context Length", Dec;
    CERT_REQUEST_CONTEXT = "tls.handshake.certificate_request_context", "Certificate Request Context", Bytes;
    CERT_TYPES_COUNT = "tls.handshake.cert_types_count", "Certificate types count", Dec;
    CERT_TYPES = "tls.handshake.cert_types", "Certificate types", Kind::None;
    CERT_TYPE = "tls.handshake.cert_type", "Certificate type", Dec, hn::client_cert_type;
    DNAMES_LEN = "tls.handshake.dnames_len", "Distinguished Names Length", Dec;
    DNAMES = "tls.handshake.dnames", "Distinguished Names", Kind::None;
    DNAME_LEN = "tls.handshake.dname_len", "Distinguished Name Length", Dec;
    DNAME = "tls.handshake.dname", "Distinguished Name", Kind::None;
    SERVER_CURVE_TYPE = "tls.handshake.server_curve_type", "Curve Type", Hex(2), hn::curve_type;
    SERVER_NAMED_CURVE = "tls.handshake.server_named_curve", "Named Curve", Hex(4), hn::group;
    SERVER_POINT_LEN = "tls.handshake.server_point_len", "Pubkey Length", Dec;
    SERVER_POINT = "tls.handshake.server_point", "Pubkey", Bytes;
    CLIENT_POINT_LEN = "tls.handshake.client_point_len", "Pubkey Length", Dec;
    CLIENT_POINT = "tls.handshake.client_point", "Pubkey", Bytes;
    P_LEN = "tls.handshake.p_len", "p Length", Dec;
    P = "tls.handshake.p", "p", Bytes;
    G_LEN = "tls.handshake.g_len", "g Length", Dec;
    G = "tls.handshake.g", "g", Bytes;
    YS_LEN = "tls.handshake.ys_len", "Pubkey Length", Dec;
    YS = "tls.handshake.ys", "Pubkey", Bytes;
    YC_LEN = "tls.handshake.yc_len", "Pubkey Length", Dec;
    YC = "tls.handshake.yc", "Pubkey", Bytes;
    EPMS_LEN = "tls.handshake.epms_len", "Encrypted PreMaster length", Dec;
    EPMS = "tls.handshake.epms", "Encrypted PreMaster", Bytes;
    SIG_LEN = "tls.handshake.sig_len", "Signature Length", Dec;
    SIG = "tls.handshake.sig", "Signature", Bytes;
    CERT_VERIFY_SIG_LEN = "tls.handshake.client_cert_vrfy.sig_len", "Signature length", Dec;
    CERT_VERIFY_SIG = "tls.handshake.client_cert_vrfy.sig", "Signature", Bytes;
    SCT_SCTS_LENGTH = "tls.sct.scts_length", "Serialized SCT List Length", Dec;
    SCT_SCT_LENGTH = "tls.sct.sct_length", "Serialized SCT Length", Dec;
    SCT_VERSION = "tls.sct.sct_version", "SCT Version", Dec;
    SCT_LOGID = "tls.sct.sct_logid", "Log ID", Bytes;
    SCT_EXTENSIONS_LENGTH = "tls.sct.sct_extensions_length", "Extensions length", Dec;
    SCT_SIGNATURE_LENGTH = "tls.sct.sct_signature_length", "Signature Length", Dec;
    SCT_SIGNATURE = "tls.sct.sct_signature", "Signature", Bytes;
    VERIFY_DATA = "tls.handshake.verify_data", "Verify Data", Kind::None;
    KEY_UPDATE_REQUEST = "tls.handshake.key_update.request_update", "Key Update Request", Dec;
    JA3_FULL = "tls.handshake.ja3_full", "JA3 Fullstring", Str;
    JA3 = "tls.handshake.ja3", "JA3", Str;
    JA3S_FULL = "tls.handshake.ja3s_full", "JA3S Fullstring", Str;
    JA3S = "tls.handshake.ja3s", "JA3S", Str;
    JA4 = "tls.handshake.ja4", "JA4", Str;
    JA4_R = "tls.handshake.ja4_r", "JA4_r", Str;
    // The X.509 parts of certificates and distinguished names, under Wireshark's names.
    X509_ISSUER = "x509af.issuer", "issuer", Dec, hn::rdn_choice;
    X509_SUBJECT = "x509af.subject", "subject", Dec, hn::rdn_choice;
    X509_RDN_SEQUENCE = "x509if.rdnSequence", "rdnSequence", Dec;
    X509_RDN_ITEM = "x509if.RDNSequence_item", "RDNSequence item", Dec;
    X509_OID = "x509if.oid", "Object Id", Str;
    X509_UTF8 = "x509sat.uTF8String", "uTF8String", Str;
    X509_PRINTABLE = "x509sat.printableString", "printableString", Str;
    X509_IA5 = "x509sat.IA5String", "IA5String", Str;
    X509_SYNTAX_PRINTABLE = "x509sat.PrintableString", "PrintableString", Str;
    X509_SYNTAX_BMP = "x509sat.BMPString", "BMPString", Str;
    X509_TELETEX = "x509sat.teletexString", "teletexString", Str;
    X509_BMP = "x509sat.bmpString", "bmpString", Str;
    X509_UNIVERSAL = "x509sat.universalString", "universalString", Str;
    X509_COUNTRY = "x509sat.CountryName", "CountryName", Str;
    X509_EXTENSION_ID = "x509af.extension.id", "Extension Id", Str;
    X509_SIGNED_CERTIFICATE = "x509af.signedCertificate_element", "signedCertificate", Kind::None;
    X509_VERSION = "x509af.version", "version", Dec, x509::version_name;
    X509_SERIAL = "x509af.serialNumber", "serialNumber", Bytes;
    X509_SIGNATURE = "x509af.signature_element", "signature", Kind::None;
    X509_ALGORITHM_ID = "x509af.algorithm.id", "Algorithm Id", Str;
    X509_VALIDITY = "x509af.validity_element", "validity", Kind::None;
    X509_NOT_BEFORE = "x509af.notBefore", "notBefore", Dec, x509::time_choice;
    X509_NOT_AFTER = "x509af.notAfter", "notAfter", Dec, x509::time_choice;
    X509_UTC_TIME = "x509af.utcTime", "utcTime", Str;
    X509_SPKI = "x509af.subjectPublicKeyInfo_element", "subjectPublicKeyInfo", Kind::None;
    X509_ALGORITHM = "x509af.algorithm_element", "algorithm", Kind::None;
    X509_SUBJECT_PUBLIC_KEY = "x509af.subjectPublicKey", "subjectPublicKey", Bytes;
    PKCS1_MODULUS = "pkcs1.modulus", "modulus", Bytes;
    PKCS1_EXPONENT = "pkcs1.publicExponent", "publicExponent", Dec;
    X509_EXTENSIONS = "x509af.extensions", "extensions", Dec;
    X509_EXTENSION = "x509af.Extension_element", "Extension", Kind::None;
    X509_CRITICAL = "x509af.critical", "critical", Kind::Bool;
    X509CE_GENERAL_NAMES = "x509ce.GeneralNames", "GeneralNames", Dec;
    X509CE_GENERAL_NAME = "x509ce.GeneralName", "GeneralName", Dec, x509::general_name_choice;
    X509CE_DNS_NAME = "x509ce.dNSName", "dNSName", Str;
    X509CE_KEY_PURPOSE_IDS = "x509ce.KeyPurposeIDs", "KeyPurposeIDs", Dec;
    X509CE_KEY_PURPOSE_ID = "x509ce.KeyPurposeId", "KeyPurposeId", Str;
    X509CE_SKI = "x509ce.SubjectKeyIdentifier", "SubjectKeyIdentifier", Bytes;
    X509CE_AKI = "x509ce.AuthorityKeyIdentifier_element", "AuthorityKeyIdentifier", Kind::None;
    X509CE_KEY_IDENTIFIER = "x509ce.keyIdentifier", "keyIdentifier", Bytes;
    X509CE_BASIC_CONSTRAINTS = "x509ce.BasicConstraintsSyntax_element", "BasicConstraintsSyntax", Kind::None;
    X509CE_CA = "x509ce.cA", "cA", Kind::Bool;
    X509CE_PATH_LEN = "x509ce.pathLenConstraint", "pathLenConstraint", Dec;
    X509_ALGORITHM_IDENTIFIER = "x509af.algorithmIdentifier_element", "algorithmIdentifier", Kind::None;
    BER_PADDING = "ber.bitstring.padding", "Padding", Dec;
    X509_ENCRYPTED = "x509af.encrypted", "encrypted", Bytes;
    X509_RDN_ELEMENT = "x509if.RelativeDistinguishedName_item_element", "RelativeDistinguishedName item", Kind::None;
    X509_DIRECTORY_STRING = "x509sat.DirectoryString", "DirectoryString", Dec, x509::directory_choice;
}

/// The `tls` protocol.
pub static PROTO: Proto = Proto {
    name: "tls",
    long_name: "Transport Layer Security",
    fields: FIELDS,
    summary: &[],
};

#[cfg(test)]
mod tests;
