//! DNS (RFC 1035 and its extensions) over UDP and TCP: header, flags, questions and the
//! answer, authority and additional records, with query/response matching per flow.
//!
//! Over UDP each datagram is one message; over TCP messages carry a two-byte length prefix
//! (RFC 1035 §4.2.2) and a stream holds several, split across segments anywhere: the parser
//! asks the flow engine for the rest with [`Progress::NeedMore`] and never buffers.
//!
//! Decoded record data: A, AAAA, NS, CNAME, PTR, MD/MF/MB/MG/MR, MX, TXT (every string), SOA,
//! SRV, OPT (EDNS, RFC 6891, with its options) and SVCB/HTTPS (RFC 9460). Every other type is
//! kept as raw `dns.data` — a message never fails because of a type we do not know.
//!
//! Matching follows Wireshark: a request opens a transaction keyed by its ID in the flow; the
//! response names its request (`dns.response_to`) and the time since (`dns.time`). A request
//! with the ID of an unanswered one less than [`RETRANSMISSION_SECS`] old is a retransmission,
//! as is a second response. The request's `dns.response_in` would need a second pass and is not
//! emitted (tshark's one-pass output shows none either).
//!
//! tshark quirks kept on purpose (so that `-T fields` agrees with it):
//! * names are shown through Wireshark's `format_text` (octal escapes, `<Root>`, placeholders
//!   for loops and over-long names), and their length and label count follow its rules;
//! * several messages in one TCP segment show as one `dns` layer and the Info of the last one;
//!   a message completed by this segment followed by others adds a second `dns` and Info.
//!
//! Not supported: mDNS/LLMNR (ports 5353/5355, separate protocols in Wireshark), DNS over TLS,
//! HTTPS or QUIC, TSIG verification, the record data of DNSSEC and rarer types (shown raw).

mod parse;

use crate::dissector::{Bind, Cx, Direction, Probe, Progress, StreamCx, StreamDissector, StreamParser, Table};
use crate::error::Malformed;
use crate::field::{write_bits, FieldDef, Kind, Proto, Span, Value};
use crate::proto::data;
use parse::{Header, Name, NameError, HEADER_LEN};
use std::collections::VecDeque;
use std::fmt::Write as _;

pub use parse::{format_text, read_name, MAX_NAME_LEN, MAX_POINTERS};

// ---------------------------------------------------------------------------------------------
// Caps

/// Open transactions remembered per flow; the oldest is forgotten beyond this (a resolver
/// talking to one server from one port can have thousands of IDs in flight over a capture).
pub const MAX_TRANSACTIONS: usize = 1024;

/// A request with the ID of an unanswered request younger than this is a retransmission
/// (Wireshark's `dns.retransmission_timer` default).
pub const RETRANSMISSION_SECS: i64 = 5;

/// Questions or records decoded per section: the 16-bit counts allow 65535, but a message
/// of at most 64 KiB cannot hold more than about 5000 records (13 bytes each at least).
/// Counts above what the message holds fail on the missing bytes long before this.
pub const MAX_RECORDS: usize = 65_535;

/// The DNS port (RFC 1035 §4.2).
pub const PORT: u16 = 53;

// ---------------------------------------------------------------------------------------------
// Numbers

/// Record types: (value, short name for the Info column, Wireshark's long name).
static TYPES: &[(u16, &str, &str)] = &[
    (0, "Unused", "Unused"),
    (1, "A", "A (Host Address)"),
    (2, "NS", "NS (authoritative Name Server)"),
    (3, "MD", "MD (Mail Destination)"),
    (4, "MF", "MF (Mail Forwarder)"),
    (5, "CNAME", "CNAME (Canonical NAME for an alias)"),
    (6, "SOA", "SOA (Start Of a zone of Authority)"),
    (7, "MB", "MB (MailBox domain name)"),
    (8, "MG", "MG (Mail Group member)"),
    (9, "MR", "MR (Mail Rename domain)"),
    (10, "NULL", "NULL RR"),
    (11, "WKS", "WKS (Well Known Service)"),
    (12, "PTR", "PTR (domain name PoinTeR)"),
    (13, "HINFO", "HINFO (host information)"),
    (14, "MINFO", "MINFO (Mailbox or mail list information)"),
    (15, "MX", "MX (Mail eXchange)"),
    (16, "TXT", "TXT (Text strings)"),
    (17, "RP", "RP (Responsible Person)"),
    (18, "AFSDB", "AFSDB (AFS Data Base location)"),
    (19, "X25", "X25 (XX.25 PSDN address)"),
    (20, "ISDN", "ISDN (ISDN address)"),
    (21, "RT", "RT (Route Through)"),
    (22, "NSAP", "NSAP (NSAP address)"),
    (23, "NSAP-PTR", "NSAP-PTR (NSAP domain name pointer)"),
    (24, "SIG", "SIG (security signature)"),
    (25, "KEY", "KEY (security key)"),
    (26, "PX", "PX (X.400 mail mapping information)"),
    (27, "GPOS", "GPOS (Geographical Position)"),
    (28, "AAAA", "AAAA (IPv6 Address)"),
    (29, "LOC", "LOC (Location Information)"),
    (30, "NXT", "NXT (Next Domain)"),
    (31, "EID", "EID (Endpoint Identifier)"),
    (32, "NIMLOC", "NIMLOC (Nimrod Locator)"),
    (33, "SRV", "SRV (Server Selection)"),
    (34, "ATMA", "ATMA (ATM Address)"),
    (35, "NAPTR", "NAPTR (Naming Authority Pointer)"),
    (36, "KX", "KX (Key Exchanger)"),
    (37, "CERT", "CERT"),
    (38, "A6", "A6 (OBSOLETE - use AAAA)"),
    (39, "DNAME", "DNAME"),
    (40, "SINK", "SINK"),
    (41, "OPT", "OPT"),
    (42, "APL", "APL"),
    (43, "DS", "DS (Delegation Signer)"),
    (44, "SSHFP", "SSHFP (SSH Key Fingerprint)"),
    (45, "IPSECKEY", "IPSECKEY"),
    (46, "RRSIG", "RRSIG (Resource Record Signature)"),
    (47, "NSEC", "NSEC (Next Secure)"),
    (48, "DNSKEY", "DNSKEY (DNS Public Key)"),
    (49, "DHCID", "DHCID"),
    (50, "NSEC3", "NSEC3"),
    (51, "NSEC3PARAM", "NSEC3PARAM"),
    (52, "TLSA", "TLSA"),
    (55, "HIP", "HIP (Host Identity Protocol)"),
    (57, "RKEY", "RKEY"),
    (58, "TALINK", "TALINK (Trust Anchor LINK)"),
    (59, "CDS", "CDS (Child DS)"),
    (60, "CDNSKEY", "CDNSKEY (DNSKEY(s) the Child wants reflected in DS)"),
    (61, "OPENPGPKEY", "OPENPGPKEY (OpenPGP Key)"),
    (62, "CSYNC", "CSYNC (Child-to-Parent Synchronization)"),
    (63, "ZONEMD", "ZONEMD"),
    (64, "SVCB", "SVCB (General Purpose Service Endpoints)"),
    (65, "HTTPS", "HTTPS (HTTPS Specific Service Endpoints)"),
    (99, "SPF", "SPF"),
    (100, "UINFO", "UINFO"),
    (101, "UID", "UID"),
    (102, "GID", "GID"),
    (103, "UNSPEC", "UNSPEC"),
    (104, "NID", "NID (NodeID)"),
    (105, "L32", "L32 (Locator32)"),
    (106, "L64", "L64 (Locator64)"),
    (107, "LP", "LP (Locator FQDN)"),
    (108, "EUI48", "EUI48"),
    (109, "EUI64", "EUI64"),
    (249, "TKEY", "TKEY (Transaction Key)"),
    (250, "TSIG", "TSIG (Transaction Signature)"),
    (251, "IXFR", "IXFR (incremental transfer)"),
    (252, "AXFR", "AXFR (transfer of an entire zone)"),
    (253, "MAILB", "MAILB (mailbox-related RRs)"),
    (254, "MAILA", "MAILA (mail agent RRs)"),
    (255, "ANY", "* (A request for all records the server/cache has available)"),
    (256, "URI", "URI"),
    (257, "CAA", "CAA (Certification Authority Restriction)"),
    (32768, "TA", "TA (DNSSEC Trust Authorities)"),
    (32769, "DLV", "DLV (DNSSEC Lookaside Validation)"),
    (65281, "WINS", "WINS"),
    (65282, "WINS-R", "WINS-R"),
    (65422, "XPF", "XPF"),
];

/// Named types that Wireshark 4.0 nevertheless shows as raw `dns.data`.
const RAW_IN_WIRESHARK: &[u16] = &[
    0, 31, 32, 34, 40, 57, 58, 100, 101, 102, 103, 251, 252, 253, 254, 255, 256, 32768,
];

pub mod rrtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const MD: u16 = 3;
    pub const MF: u16 = 4;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const MB: u16 = 7;
    pub const MG: u16 = 8;
    pub const MR: u16 = 9;
    pub const NULL: u16 = 10;
    pub const WKS: u16 = 11;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const SIG: u16 = 24;
    pub const AAAA: u16 = 28;
    pub const LOC: u16 = 29;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const NSEC3: u16 = 50;
    pub const NSEC3PARAM: u16 = 51;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
}

/// The opcode for dynamic updates (RFC 2136), whose sections have other names.
const OPCODE_UPDATE: u16 = 5;

fn type_entry(t: u16) -> Option<&'static (u16, &'static str, &'static str)> {
    TYPES.binary_search_by_key(&t, |e| e.0).ok().and_then(|i| TYPES.get(i))
}

fn type_names(v: u64) -> Option<&'static str> {
    u16::try_from(v).ok().and_then(type_entry).map(|e| e.2)
}

/// Appends the type's short name (`A`, `HTTPS`, `Unknown (999)`) as the Info column shows it.
/// `{:04x}` of `v`, without `core::fmt` (every DNS Info column shows the transaction id so).
fn push_hex4(out: &mut String, v: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in [12, 8, 4, 0] {
        let digit = HEX.get(usize::from((v >> shift) & 0xf)).copied().unwrap_or(b'0');
        out.push(char::from(digit));
    }
}

fn push_type(t: u16, out: &mut String) {
    match type_entry(t) {
        Some(e) => out.push_str(e.1),
        None => {
            let _ = write!(out, "Unknown ({t})");
        }
    }
}

fn opcode_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Standard query",
        1 => "Inverse query",
        2 => "Server status request",
        4 => "Zone change notification",
        5 => "Dynamic update",
        6 => "DNS Stateful operations (DSO)",
        _ => return None,
    })
}

fn rcode_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "No error",
        1 => "Format error",
        2 => "Server failure",
        3 => "No such name",
        4 => "Not implemented",
        5 => "Refused",
        6 => "Name exists",
        7 => "RRset exists",
        8 => "RRset does not exist",
        9 => "Not authoritative",
        10 => "Name out of zone",
        11 => "DSO-Type not implemented",
        16 => "Bad OPT Version or TSIG Signature Failure",
        17 => "Key not recognized",
        18 => "Signature out of time window",
        19 => "Bad TKEY Mode",
        20 => "Duplicate key name",
        21 => "Algorithm not supported",
        22 => "Bad Truncation",
        23 => "Bad/missing Server Cookie",
        _ => return None,
    })
}

/// Seconds as Wireshark's `time_secs_to_str` writes them (`1 day, 2 hours, 5 seconds`): the
/// text `-V` shows after a TTL or an SOA interval.
fn write_duration(secs: u64, out: &mut String) {
    if secs == 0 {
        out.push_str("0 seconds");
        return;
    }
    let parts = [
        (secs / 86_400, "day"),
        (secs / 3_600 % 24, "hour"),
        (secs / 60 % 60, "minute"),
        (secs % 60, "second"),
    ];
    let mut first = true;
    for (n, unit) in parts {
        if n == 0 {
            continue;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        let plural = if n == 1 { "" } else { "s" };
        let _ = write!(out, "{n} {unit}{plural}");
    }
}

/// `3600 (1 hour)`: seconds and their duration, as `-V` shows TTLs and SOA intervals.
fn write_secs(secs: u32, out: &mut String) {
    let _ = write!(out, "{secs} (");
    write_duration(u64::from(secs), out);
    out.push(')');
}

fn class_name(v: u64) -> Option<&'static str> {
    Some(match v {
        1 => "IN",
        2 => "CS",
        3 => "CH",
        4 => "HS",
        254 => "NONE",
        255 => "ANY",
        _ => return None,
    })
}

fn opt_code_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "Reserved",
        1 => "LLQ - Long-lived query",
        2 => "UL - Update lease",
        3 => "NSID - Name Server Identifier",
        4 => "Owner (reserved)",
        5 => "DAU - DNSSEC Algorithm Understood (RFC6975)",
        6 => "DHU - DS Hash Understood (RFC6975)",
        7 => "N3U - NSEC3 Hash Understood (RFC6975)",
        8 => "CSUBNET - Client subnet",
        9 => "EDNS EXPIRE (RFC7314)",
        10 => "COOKIE",
        11 => "EDNS TCP Keepalive",
        12 => "PADDING",
        13 => "CHAIN",
        15 => "Extended DNS Error",
        20730 => "Experimental - CSUBNET - Client subnet",
        _ => return None,
    })
}

fn svc_key_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "mandatory",
        1 => "alpn",
        2 => "no-default-alpn",
        3 => "port",
        4 => "ipv4hint",
        5 => "echconfig",
        6 => "ipv6hint",
        32769 => "odohconfig",
        65535 => "key65535",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The dissector

/// The DNS stream dissector (UDP and TCP port 53).
pub struct Dns;

impl StreamDissector for Dns {
    fn proto(&self) -> &'static Proto {
        &PROTO
    }

    fn binds(&self) -> &'static [Bind] {
        &[
            Bind(Table::UdpPort, PORT as u32),
            Bind(Table::TcpPort, PORT as u32),
        ]
    }

    /// A message whose header is plausible and whose first question parses, either bare (UDP)
    /// or after a two-byte length (TCP).
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if looks_like_message(data) {
            return Probe::Yes;
        }
        let [hi, lo, msg @ ..] = data else {
            return Probe::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if len < HEADER_LEN {
            return Probe::No;
        }
        if let Ok((_, h)) = parse::header(msg) {
            if !plausible(&h, len) {
                return Probe::No;
            }
        }
        match msg.get(..len) {
            Some(whole) if looks_like_message(whole) => Probe::Yes,
            Some(_) => Probe::No,
            None => Probe::NeedMore,
        }
    }

    fn start(&self) -> Box<dyn StreamParser> {
        Box::new(DnsParser::default())
    }
}

/// Whether `msg` starts like a DNS message: a known opcode, exactly one question whose name and
/// class parse, and record counts the message could hold.
fn looks_like_message(msg: &[u8]) -> bool {
    let Ok((_, h)) = parse::header(msg) else {
        return false;
    };
    if !plausible(&h, msg.len()) {
        return false;
    }
    let Ok(name) = read_name(msg, HEADER_LEN, None) else {
        return false;
    };
    // NetBIOS Name Service (UDP 137, a protocol of its own in Wireshark) uses DNS's format with
    // a 32-letter first-level encoding of the name (RFC 1002 §4.1): not DNS.
    if let Some(label) = msg.get(HEADER_LEN + 1..HEADER_LEN + 33) {
        if msg.get(HEADER_LEN) == Some(&32) && label.iter().all(|c| (b'A'..=b'P').contains(c)) {
            return false;
        }
    }
    match parse::question_tail(parse::rest(msg, name.end)) {
        Ok((_, (_, class))) => matches!(class & 0x7fff, 1 | 3 | 4 | 254 | 255),
        Err(_) => false,
    }
}

/// Whether a header could start a message of `len` bytes: a known opcode, one question, and
/// no more records than fit (11 bytes is the smallest record).
fn plausible(h: &Header, len: usize) -> bool {
    let records = usize::from(h.ancount) + usize::from(h.nscount) + usize::from(h.arcount);
    h.qdcount == 1 && opcode_name(u64::from(h.opcode())).is_some() && records * 11 <= len
}

/// One request waiting for (or matched with) its response.
#[derive(Debug, Clone, Copy)]
struct Transaction {
    id: u16,
    req_frame: u64,
    req_secs: i64,
    req_nanos: u32,
    /// 0 until a response is seen.
    rep_frame: u64,
}

/// Reused buffers for names and the Info text (no allocation per message once warm).
#[derive(Debug, Default)]
struct Scratch {
    raw: Vec<u8>,
    text: String,
    /// The current record's owner name, as displayed.
    owner: String,
    info: String,
    /// The `-V` line of the current question or record (`name: type A, class IN, addr …`).
    label: String,
}

/// One flow's DNS parser.
#[derive(Debug, Default)]
pub struct DnsParser {
    transactions: VecDeque<Transaction>,
    scratch: Scratch,
    /// Per direction: the last call left a partial message for the flow engine to keep, so the
    /// first message of the next call was reassembled from several segments.
    carried: [bool; 2],
    /// Per direction: bytes were lost; the TCP framing cannot be found again.
    lost: [bool; 2],
    /// The frame whose DNS layers are being written, and how its Info column is built.
    frame: Option<u64>,
    group: Group,
    /// Transactions forgotten because of [`MAX_TRANSACTIONS`].
    pub dropped_transactions: u64,
}

/// How one frame's messages were shown so far (tshark's column fence and protocol list).
#[derive(Debug, Default, Clone, Copy)]
struct Group {
    /// A `dns` entry for this frame's own (not reassembled) messages was pushed.
    started: bool,
    /// This frame's Info column already holds DNS text.
    any: bool,
    /// Info text before this offset belongs to a reassembled message and is kept.
    fence: usize,
}

/// Buffer capacity a recycled parser keeps at most (bigger ones are dropped with it).
const RECYCLED_CAPACITY: usize = 4096;

impl StreamParser for DnsParser {
    fn recycle(&mut self) -> Option<&'static Proto> {
        let Scratch {
            mut raw,
            mut text,
            mut owner,
            mut info,
            mut label,
        } = std::mem::take(&mut self.scratch);
        let mut transactions = std::mem::take(&mut self.transactions);
        let kept = raw.capacity()
            + text.capacity()
            + owner.capacity()
            + info.capacity()
            + label.capacity();
        if kept > RECYCLED_CAPACITY || transactions.capacity() > 64 {
            return None;
        }
        raw.clear();
        text.clear();
        owner.clear();
        info.clear();
        label.clear();
        transactions.clear();
        *self = DnsParser {
            transactions,
            scratch: Scratch {
                raw,
                text,
                owner,
                info,
                label,
            },
            ..DnsParser::default()
        };
        Some(&PROTO)
    }

    fn data(&mut self, dir: Direction, data: &[u8], cx: &mut StreamCx<'_, '_>) -> Progress {
        if self.frame != Some(cx.frame) {
            self.frame = Some(cx.frame);
            self.group = Group::default();
        }
        if !cx.tcp {
            let base = usize::try_from(cx.stream_offset).unwrap_or(0);
            self.message(data, base, None, false, cx);
            return Progress::Done;
        }
        let d = dir.index();
        if self.lost.get(d).copied().unwrap_or(false) {
            return Progress::Done;
        }
        let mut reassembled = self.carried.get(d).copied().unwrap_or(false);
        let mut at = 0usize;
        loop {
            let rest = parse::rest(data, at);
            let Some(&[hi, lo]) = rest.get(..2) else {
                return self.need(d, at, 2);
            };
            let len = u16::from_be_bytes([hi, lo]);
            let whole = 2 + usize::from(len);
            let Some(msg) = rest.get(2..whole) else {
                return self.need(d, at, whole);
            };
            let base = usize::try_from(cx.stream_offset).unwrap_or(0) + at;
            self.message(msg, base + 2, Some((len, base)), reassembled, cx);
            reassembled = false;
            at += whole;
            if at == data.len() {
                if let Some(c) = self.carried.get_mut(d) {
                    *c = false;
                }
                return Progress::Done;
            }
        }
    }

    fn gap(&mut self, dir: Direction, _len: u64) {
        // A length prefix cannot be told from message bytes: stop this direction.
        if let Some(l) = self.lost.get_mut(dir.index()) {
            *l = true;
        }
    }
}

impl DnsParser {
    /// `NeedMore` for a message starting at `at` that needs `whole` bytes from there (Suricata's
    /// convention: `consumed + needed` exceeds what was given).
    fn need(&mut self, d: usize, at: usize, whole: usize) -> Progress {
        if let Some(c) = self.carried.get_mut(d) {
            *c = true;
        }
        Progress::NeedMore {
            consumed: at,
            needed: whole,
        }
    }

    /// Dissects one whole message: `msg` starts at stream offset `base`; `prefix` is the TCP
    /// length field and its offset. A broken message marks the frame malformed.
    fn message(
        &mut self,
        msg: &[u8],
        base: usize,
        prefix: Option<(u16, usize)>,
        reassembled: bool,
        cx: &mut StreamCx<'_, '_>,
    ) {
        let start = prefix.map_or(base, |(_, at)| at);
        let span = Span::new(start, msg.len() + if prefix.is_some() { 2 } else { 0 });
        if prefix.is_some() {
            crate::proto::tcp::pdu_size(cx.cx, span.len as usize);
        }
        // tshark's layering: one `dns` per reassembled message, one for the frame's own ones.
        let emit = if reassembled || !self.group.started {
            self.group.started |= !reassembled;
            cx.cx.layer(&PROTO, span)
        } else {
            let emit = cx.cx.wants(&PROTO);
            if emit {
                cx.cx.sink.layer(&PROTO, span);
            }
            emit
        };
        // Wireshark tracks the transaction as soon as the header is read, and shows the
        // match after the records: a message broken later still counts, but shows no match.
        let matched = parse::header(msg).ok().map(|(_, h)| self.matching(&h, cx));
        let want_info = cx.cx.shows_columns();
        self.scratch.info.clear();
        let mut w = Walk {
            msg,
            base,
            emit,
            want_info,
            scratch: &mut self.scratch,
        };
        if let Some((len, at)) = prefix {
            if emit {
                cx.cx.field(&LENGTH, Span::new(at, 2), Value::U(u64::from(len)));
            }
        }
        let result = w.message(cx.cx);
        if let (Ok(_), Some(m), true) = (&result, matched, emit) {
            m.emit(cx);
        }
        // The Info column: a reassembled message's text is kept (tshark's column fence); the
        // frame's own messages replace each other.
        if let Some(cols) = cx.cx.cols.as_deref_mut() {
            if self.group.any {
                cols.info.truncate(self.group.fence.min(cols.info.len()));
            } else {
                cols.info.clear();
            }
            cols.protocol = "DNS";
            cols.info.push_str(&self.scratch.info);
            self.group.any = true;
            if reassembled {
                self.group.fence = cols.info.len();
            }
        }
        if let Err(m) = result {
            malformed_pdu(m, base, cx.cx);
        }
    }

    /// Request/response matching (Wireshark's rules): updates the flow's transactions and says
    /// what to show.
    fn matching(&mut self, h: &Header, cx: &StreamCx<'_, '_>) -> Match {
        let latest = self.transactions.iter_mut().rev().find(|t| t.id == h.id);
        if !h.is_response() {
            if let Some(t) = latest {
                let age = elapsed(t.req_secs, t.req_nanos, cx.secs, cx.nanos);
                if t.rep_frame == 0 && age.0 < RETRANSMISSION_SECS {
                    return Match::RetransmittedRequest(t.req_frame);
                }
            }
            if self.transactions.len() >= MAX_TRANSACTIONS {
                self.transactions.pop_front();
                self.dropped_transactions += 1;
            }
            self.transactions.push_back(Transaction {
                id: h.id,
                req_frame: cx.frame,
                req_secs: cx.secs,
                req_nanos: cx.nanos,
                rep_frame: 0,
            });
            return Match::Request;
        }
        match latest {
            Some(t) if t.rep_frame == 0 || t.rep_frame == cx.frame => {
                t.rep_frame = cx.frame;
                let (secs, nanos) = elapsed(t.req_secs, t.req_nanos, cx.secs, cx.nanos);
                Match::Response {
                    request: t.req_frame,
                    secs,
                    nanos,
                }
            }
            Some(t) => Match::RetransmittedResponse(t.rep_frame),
            None => Match::Unsolicited,
        }
    }
}

/// What matching says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Request,
    RetransmittedRequest(u64),
    Response { request: u64, secs: i64, nanos: u32 },
    RetransmittedResponse(u64),
    Unsolicited,
}

impl Match {
    fn emit(self, cx: &mut StreamCx<'_, '_>) {
        let g = Span::GENERATED;
        match self {
            Match::Request => {}
            Match::RetransmittedRequest(original) => {
                cx.cx.field(&RETRANSMISSION, g, Value::Bool(true));
                cx.cx.field(&RETRANSMIT_REQUEST_IN, g, Value::U(original));
            }
            Match::Response {
                request,
                secs,
                nanos,
            } => {
                cx.cx.field(&RESPONSE_TO, g, Value::U(request));
                cx.cx.field(&TIME, g, Value::Time { secs, nanos });
            }
            Match::RetransmittedResponse(original) => {
                cx.cx.field(&RETRANSMISSION, g, Value::Bool(true));
                cx.cx.field(&RETRANSMIT_RESPONSE_IN, g, Value::U(original));
            }
            Match::Unsolicited => cx.cx.field(&UNSOLICITED, g, Value::Bool(true)),
        }
    }
}

/// `now - then` as (seconds, nanoseconds), the nanoseconds in 0..1e9.
fn elapsed(secs: i64, nanos: u32, now_secs: i64, now_nanos: u32) -> (i64, u32) {
    let mut s = now_secs.saturating_sub(secs);
    let mut n = i64::from(now_nanos) - i64::from(nanos);
    if n < 0 {
        n += 1_000_000_000;
        s = s.saturating_sub(1);
    }
    (s, u32::try_from(n).unwrap_or(0))
}

/// Marks the current frame malformed for an application PDU (the frame dissector's
/// `proto::malformed` without the `PacketInfo`, which stream parsers do not see): `_ws.malformed`
/// in `frame.protocols`, the reason in the tree and the Info column.
pub fn malformed_pdu(m: Malformed, base: usize, cx: &mut Cx<'_>) {
    cx.protocols.push("_ws.malformed");
    if cx.wants(&data::MALFORMED) {
        cx.sink.layer(&data::MALFORMED, Span::new(base + m.at, 0));
        cx.sink
            .field(&data::MALFORMED_REASON, Span::GENERATED, Value::Str(m.reason));
    }
    if let Some(cols) = cx.cols.as_deref_mut() {
        let _ = write!(cols.info, " {m}");
    }
}

// ---------------------------------------------------------------------------------------------
// Walking one message

/// The three record sections, with their field and Wireshark names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Answer,
    Authority,
    Additional,
}

/// One message being dissected: parses, emits fields (when `emit`) and builds the Info text.
struct Walk<'m, 's> {
    msg: &'m [u8],
    /// Stream offset of `msg[0]`, for spans.
    base: usize,
    emit: bool,
    /// Whether the Info column is shown: its text is built only then.
    want_info: bool,
    scratch: &'s mut Scratch,
}

impl<'m> Walk<'m, '_> {
    fn span(&self, at: usize, len: usize) -> Span {
        Span::new(self.base + at, len)
    }

    fn bad(&self, at: usize, reason: &'static str) -> Malformed {
        Malformed::new(&PROTO, at, reason)
    }

    /// Reads the name at `at`; with `text`, its display text is left in `scratch.text` (else
    /// that is left empty). Building the text is most of a name's cost, and most outputs show
    /// few of a message's names: callers ask for it only when something shows it.
    fn name(&mut self, at: usize, text: bool) -> Result<Name, Malformed> {
        self.scratch.raw.clear();
        self.scratch.text.clear();
        let raw = text.then_some(&mut self.scratch.raw);
        let name = read_name(self.msg, at, raw).map_err(|e: NameError| self.bad(e.at(), e.reason()))?;
        if text {
            match name.placeholder() {
                Some(p) => self.scratch.text.push_str(p),
                None => format_text(&self.scratch.raw, &mut self.scratch.text),
            }
        }
        Ok(name)
    }

    /// Whether a name emitted as `def` is shown: in the `-V` tree, or as a field the output
    /// may want.
    fn shows_name(&self, cx: &Cx<'_>, def: &'static FieldDef) -> bool {
        self.emit && (cx.wants_text() || cx.wants_field(def))
    }

    fn field(&self, cx: &mut Cx<'_>, def: &'static FieldDef, at: usize, len: usize, v: Value<'_>) {
        if self.emit {
            cx.field(def, self.span(at, len), v);
        }
    }

    fn u(&self, cx: &mut Cx<'_>, def: &'static FieldDef, at: usize, len: usize, v: impl Into<u64>) {
        self.field(cx, def, at, len, Value::U(v.into()));
    }

    /// Emits the last name read.
    fn name_field(&self, cx: &mut Cx<'_>, def: &'static FieldDef, at: usize, name: &Name) {
        if self.emit {
            cx.field(def, self.span(at, name.end.saturating_sub(at)), Value::Str(&self.scratch.text));
        }
    }

    fn info_name(&mut self) {
        if !self.want_info {
            return;
        }
        self.scratch.info.push(' ');
        let Scratch { text, info, .. } = &mut *self.scratch;
        info.push_str(text);
    }

    fn message(&mut self, cx: &mut Cx<'_>) -> Result<Header, Malformed> {
        // A short header still shows the fields it has, as Wireshark shows them.
        let avail = self.msg.len().min(HEADER_LEN);
        let mut padded = [0u8; HEADER_LEN];
        if let (Some(dst), Some(src)) = (padded.get_mut(..avail), self.msg.get(..avail)) {
            dst.copy_from_slice(src);
        }
        let (_, h) = parse::header(&padded).map_err(|_| self.bad(0, "DNS header"))?;
        if avail < 4 {
            return Err(self.short_header());
        }
        let response = h.is_response();
        let opcode = h.opcode();
        if self.want_info {
            let info = &mut self.scratch.info;
            match opcode_name(u64::from(opcode)) {
                Some(n) => info.push_str(n),
                None => {
                    let _ = write!(info, "Unknown operation ({opcode})");
                }
            }
            if response {
                info.push_str(" response");
            }
            info.push_str(" 0x");
            push_hex4(info, h.id);
            if response && h.rcode() != 0 {
                match rcode_name(u64::from(h.rcode())) {
                    Some(n) => {
                        let _ = write!(info, " {n}");
                    }
                    None => {
                        let _ = write!(info, " Unknown error ({})", h.rcode());
                    }
                }
            }
        }
        if self.emit {
            cx.append(|t| t.push_str(if response { " (response)" } else { " (query)" }));
            self.header_fields(cx, &h, avail);
        }
        if avail < HEADER_LEN {
            return Err(self.short_header());
        }
        let update = opcode == OPCODE_UPDATE;
        let mut at = HEADER_LEN;
        let questions = if update { "Zone" } else { "Queries" };
        at = self.section(cx, questions, h.qdcount, at, |w, cx, at| w.question(cx, at))?;
        for (count, section) in [
            (h.ancount, Section::Answer),
            (h.nscount, Section::Authority),
            (h.arcount, Section::Additional),
        ] {
            let title = match (section, update) {
                (Section::Answer, false) => "Answers",
                (Section::Answer, true) => "Prerequisites",
                (Section::Authority, false) => "Authoritative nameservers",
                (Section::Authority, true) => "Updates",
                (Section::Additional, _) => "Additional records",
            };
            at = self.section(cx, title, count, at, |w, cx, at| w.record(cx, at))?;
        }
        if at < self.msg.len() && self.emit {
            cx.sink.text(self.span(at, self.msg.len() - at), "Extraneous data");
        }
        Ok(h)
    }

    /// The `count` entries of one section from `at` (each read by `entry`), under the
    /// section's `-V` item (`Queries`, `Answers` …); returns the offset after them.
    fn section(
        &mut self,
        cx: &mut Cx<'_>,
        title: &str,
        count: u16,
        at: usize,
        mut entry: impl FnMut(&mut Self, &mut Cx<'_>, usize) -> Result<usize, Malformed>,
    ) -> Result<usize, Malformed> {
        let labeled = count > 0 && self.emit && cx.wants_text();
        if labeled {
            cx.sink.label(self.span(at, 0), title);
            cx.sink.open();
        }
        let mut at = Ok(at);
        for _ in 0..usize::from(count).min(MAX_RECORDS) {
            at = at.and_then(|at| entry(self, cx, at));
        }
        if labeled {
            cx.sink.close();
        }
        at
    }

    /// Opens the `-V` item of a question or record (owner name in `scratch.owner`):
    /// `name: type T, class C`, then what the record's data adds (see [`Walk::entry_suffix`]).
    fn open_entry(
        &mut self,
        cx: &mut Cx<'_>,
        span: Span,
        rtype: u16,
        class: Option<u16>,
        rdata: Option<(&[u8], usize)>,
    ) -> bool {
        if !self.emit || !cx.wants_text() {
            return false;
        }
        let mut label = std::mem::take(&mut self.scratch.label);
        label.clear();
        label.push_str(&self.scratch.owner);
        label.push_str(": type ");
        push_type(rtype, &mut label);
        if let Some(class) = class {
            label.push_str(", class ");
            label.push_str(class_name(u64::from(class)).unwrap_or("Unknown"));
        }
        if let Some((rdata, at)) = rdata {
            self.entry_suffix(rtype, rdata, at, &mut label);
        }
        cx.sink.label(span, &label);
        cx.sink.open();
        self.scratch.label = label;
        true
    }

    /// Appends the text a record's `-V` item ends with (Wireshark's, per type):
    /// `, addr 10.0.0.1`, `, ns ns1.example`, `, preference 10, mx mail.example` …; nothing
    /// for other types or empty data. Reads names into `scratch.text`.
    fn entry_suffix(&mut self, rtype: u16, rdata: &[u8], at: usize, out: &mut String) {
        if rdata.is_empty() {
            return;
        }
        let name_at = |w: &mut Self, pos: usize, out: &mut String| {
            if w.name(pos, true).is_ok() {
                out.push_str(&w.scratch.text);
            }
        };
        match rtype {
            rrtype::A => {
                if let Ok((_, a)) = parse::ipv4(rdata) {
                    let _ = write!(out, ", addr {}", std::net::Ipv4Addr::from(a));
                }
            }
            rrtype::AAAA => {
                if let Ok(a) = <[u8; 16]>::try_from(rdata) {
                    let _ = write!(out, ", addr {}", std::net::Ipv6Addr::from(a));
                }
            }
            rrtype::NS | rrtype::CNAME | rrtype::SOA | rrtype::PTR => {
                out.push_str(match rtype {
                    rrtype::NS => ", ns ",
                    rrtype::CNAME => ", cname ",
                    rrtype::SOA => ", mname ",
                    _ => ", ",
                });
                name_at(self, at, out);
            }
            rrtype::MX => {
                if let Ok((_, pref)) = parse::u16_be(rdata) {
                    let _ = write!(out, ", preference {pref}, mx ");
                    name_at(self, at + 2, out);
                }
            }
            rrtype::SRV => {
                if let Ok((_, (prio, weight, port))) = parse::srv_numbers(rdata) {
                    let _ = write!(out, ", priority {prio}, weight {weight}, port {port}, target ");
                    name_at(self, at + 6, out);
                }
            }
            _ => {}
        }
    }

    fn short_header(&self) -> Malformed {
        self.bad(self.msg.len(), "DNS message shorter than its header")
            .len_from("dns.length")
    }

    /// The header's fields, those of the first `avail` bytes only.
    fn header_fields(&self, cx: &mut Cx<'_>, h: &Header, avail: usize) {
        let f = h.flags;
        let response = h.is_response();
        self.u(cx, &ID, 0, 2, h.id);
        cx.field_shown(&FLAGS, self.span(2, 2), Value::U(f.into()), |t| {
            let _ = write!(t, "0x{f:04x} ");
            match opcode_name(u64::from(h.opcode())) {
                Some(n) => t.push_str(n),
                None => {
                    let _ = write!(t, "Unknown operation ({})", h.opcode());
                }
            }
            if response {
                t.push_str(" response, ");
                match rcode_name(u64::from(h.rcode())) {
                    Some(n) => t.push_str(n),
                    None => {
                        let _ = write!(t, "Unknown error ({})", h.rcode());
                    }
                }
            }
        });
        cx.sink.open();
        let bit = |m: u16| Value::Bool(f & m != 0);
        self.field(cx, &FLAGS_RESPONSE, 2, 2, bit(0x8000));
        self.u(cx, &FLAGS_OPCODE, 2, 2, h.opcode());
        if response {
            self.field(cx, &FLAGS_AUTHORITATIVE, 2, 2, bit(0x0400));
        }
        self.field(cx, &FLAGS_TRUNCATED, 2, 2, bit(0x0200));
        self.field(cx, &FLAGS_RECDESIRED, 2, 2, bit(0x0100));
        if response {
            self.field(cx, &FLAGS_RECAVAIL, 2, 2, bit(0x0080));
        }
        self.field(cx, &FLAGS_Z, 2, 2, bit(0x0040));
        if response {
            self.field(cx, &FLAGS_AUTHENTICATED, 2, 2, bit(0x0020));
        } else if f & 0x0020 != 0 {
            // Wireshark names the bit by its RFC 6840 use in queries, and shows it only set.
            let v = bit(0x0020);
            cx.field_line(&FLAGS_AUTHENTICATED, self.span(2, 2), v, |t| {
                write_bits(&FLAGS_AUTHENTICATED, &v, t);
                t.push_str(" = AD bit: ");
                t.push_str(if f & 0x0020 != 0 { "Set" } else { "Not set" });
            });
        }
        self.field(cx, &FLAGS_CHECKDISABLE, 2, 2, bit(0x0010));
        if response {
            self.u(cx, &FLAGS_RCODE, 2, 2, h.rcode());
        }
        cx.sink.close();
        let update = h.opcode() == OPCODE_UPDATE;
        let (q, an, ns) = if update {
            (&COUNT_ZONES, &COUNT_PREREQUISITES, &COUNT_UPDATES)
        } else {
            (&COUNT_QUERIES, &COUNT_ANSWERS, &COUNT_AUTH_RR)
        };
        for (def, at, v) in [
            (q, 4, h.qdcount),
            (an, 6, h.ancount),
            (ns, 8, h.nscount),
            (&COUNT_ADD_RR, 10, h.arcount),
        ] {
            if at + 2 <= avail {
                self.u(cx, def, at, 2, v);
            }
        }
    }

    /// One question; returns the offset after it.
    fn question(&mut self, cx: &mut Cx<'_>, at: usize) -> Result<usize, Malformed> {
        let text = self.want_info || self.shows_name(cx, &QRY_NAME);
        let name = self.name(at, text)?;
        let (_, (qtype, class)) = parse::question_tail(parse::rest(self.msg, name.end))
            .map_err(|_| self.bad(self.msg.len(), "DNS question runs past the end of the message"))?;
        if self.emit {
            self.scratch.owner.clear();
            let Scratch { owner, text, .. } = &mut *self.scratch;
            owner.push_str(text);
            let opened = self.open_entry(cx, self.span(at, name.end + 4 - at), qtype, Some(class), None);
            let (len, labels) = name.len_and_labels();
            self.name_field(cx, &QRY_NAME, at, &name);
            // Computed, not read: shown in brackets.
            cx.field(&QRY_NAME_LEN, Span::GENERATED, Value::U(len as u64));
            cx.field(&COUNT_LABELS, Span::GENERATED, Value::U(labels as u64));
            self.u(cx, &QRY_TYPE, name.end, 2, qtype);
            self.u(cx, &QRY_CLASS, name.end + 2, 2, class);
            if opened {
                cx.sink.close();
            }
        }
        if self.want_info {
            self.scratch.info.push(' ');
            push_type(qtype, &mut self.scratch.info);
            self.info_name();
        }
        Ok(name.end + 4)
    }

    /// One resource record; returns the offset after it.
    fn record(&mut self, cx: &mut Cx<'_>, at: usize) -> Result<usize, Malformed> {
        // The owner's text shows in the tree and as `dns.resp.name` (or SRV's three parts);
        // the Info column shows it only for two rare types, read again below.
        let owner_text = self.shows_name(cx, &RESP_NAME)
            || [&SRV_SERVICE, &SRV_PROTO, &SRV_NAME]
                .into_iter()
                .any(|def| self.shows_name(cx, def));
        let mut name = self.name(at, owner_text)?;
        let fixed_at = name.end;
        let (_, rr) = parse::rr_fixed(parse::rest(self.msg, fixed_at))
            .map_err(|_| self.bad(self.msg.len(), "DNS record runs past the end of the message").len_from("dns.resp.len"))?;
        if !owner_text && self.want_info && matches!(rr.rtype, rrtype::NULL | rrtype::NSEC3PARAM) {
            name = self.name(at, true)?;
        }
        self.scratch.owner.clear();
        let Scratch { owner, text, .. } = &mut *self.scratch;
        owner.push_str(text);
        let rdata_at = fixed_at + 10;
        let end = rdata_at + rr.rdata.len();
        if self.want_info {
            self.scratch.info.push(' ');
            push_type(rr.rtype, &mut self.scratch.info);
        }
        let span = self.span(at, end - at);
        if rr.rtype == rrtype::OPT {
            let opened = self.open_entry(cx, span, rr.rtype, None, None);
            let done = self.opt(cx, at, &name, &rr, rdata_at);
            if opened {
                cx.sink.close();
            }
            return done.map(|()| end);
        }
        let opened = self.open_entry(cx, span, rr.rtype, Some(rr.class), Some((rr.rdata, rdata_at)));
        if self.emit {
            self.owner(cx, at, &name, rr.rtype);
            self.u(cx, &RESP_TYPE, fixed_at, 2, rr.rtype);
            self.u(cx, &RESP_CLASS, fixed_at + 2, 2, rr.class);
            cx.field_shown(&RESP_TTL, self.span(fixed_at + 4, 4), Value::U(rr.ttl.into()), |t| {
                write_secs(rr.ttl, t);
            });
            self.u(cx, &RESP_LEN, fixed_at + 8, 2, rr.rdata.len() as u64);
        }
        let done = self.rdata(cx, rr.rtype, rr.rdata, rdata_at);
        if opened {
            cx.sink.close();
        }
        done.map(|()| end)
    }

    /// The owner name: SRV owners are split into service, protocol and name as Wireshark does.
    fn owner(&self, cx: &mut Cx<'_>, at: usize, name: &Name, rtype: u16) {
        let span = self.span(at, name.end - at);
        if rtype == rrtype::SRV && name.placeholder().is_none() {
            let mut parts = self.scratch.owner.splitn(3, '.');
            if let (Some(service), Some(proto), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
                cx.field(&SRV_SERVICE, span, Value::Str(service));
                cx.field(&SRV_PROTO, span, Value::Str(proto));
                cx.field(&SRV_NAME, span, Value::Str(rest));
                return;
            }
        }
        cx.field(&RESP_NAME, span, Value::Str(&self.scratch.owner));
    }

    fn short(&self, at: usize) -> Malformed {
        self.bad(at, "DNS record data shorter than its type needs").len_from("dns.resp.len")
    }

    /// The record data of `rtype`, fenced by RDLENGTH (names may point outside it). Empty
    /// RDATA (dynamic updates delete RRsets with it) decodes to nothing, as in Wireshark.
    fn rdata(&mut self, cx: &mut Cx<'_>, rtype: u16, rdata: &'m [u8], at: usize) -> Result<(), Malformed> {
        if rdata.is_empty() {
            return Ok(());
        }
        match rtype {
            rrtype::A => {
                let (_, a) = parse::ipv4(rdata).map_err(|_| self.short(at))?;
                self.field(cx, &A, at, 4, Value::Ipv4(a));
                if self.want_info {
                    self.scratch.info.push(' ');
                    crate::text::push_ipv4(&mut self.scratch.info, a);
                }
            }
            rrtype::AAAA => {
                let (_, a) = parse::ipv6(rdata).map_err(|_| self.short(at))?;
                self.field(cx, &AAAA, at, 16, Value::Ipv6(a));
                if self.want_info {
                    self.scratch.info.push(' ');
                    crate::text::push_ipv6(&mut self.scratch.info, a);
                }
            }
            rrtype::NS | rrtype::CNAME | rrtype::PTR | rrtype::MD | rrtype::MF | rrtype::MB | rrtype::MG | rrtype::MR => {
                let def: &'static FieldDef = match rtype {
                    rrtype::NS => &NS,
                    rrtype::CNAME => &CNAME,
                    rrtype::PTR => &PTR_DOMAIN_NAME,
                    rrtype::MD => &MD,
                    rrtype::MF => &MF,
                    rrtype::MB => &MB,
                    rrtype::MG => &MG,
                    _ => &MR,
                };
                let text = self.want_info || self.shows_name(cx, def);
                let name = self.name(at, text)?;
                self.name_field(cx, def, at, &name);
                self.info_name();
            }
            rrtype::MX => {
                let (_, pref) = parse::u16_be(rdata).map_err(|_| self.short(at))?;
                self.u(cx, &MX_PREFERENCE, at, 2, pref);
                let text = self.want_info || self.shows_name(cx, &MX_MAIL_EXCHANGE);
                let name = self.name(at + 2, text)?;
                self.name_field(cx, &MX_MAIL_EXCHANGE, at + 2, &name);
                if self.want_info {
                    self.scratch.info.push(' ');
                    crate::text::push_int(&mut self.scratch.info, pref);
                    self.info_name();
                }
            }
            rrtype::SOA => {
                let text = self.want_info || self.shows_name(cx, &SOA_MNAME);
                let mname = self.name(at, text)?;
                self.name_field(cx, &SOA_MNAME, at, &mname);
                self.info_name();
                let text = self.shows_name(cx, &SOA_RNAME);
                let rname = self.name(mname.end, text)?;
                self.name_field(cx, &SOA_RNAME, mname.end, &rname);
                let n_at = rname.end;
                let (_, n) = parse::soa_numbers(parse::rest(self.msg, n_at)).map_err(|_| self.short(n_at))?;
                let defs: [&'static FieldDef; 5] = [
                    &SOA_SERIAL_NUMBER,
                    &SOA_REFRESH_INTERVAL,
                    &SOA_RETRY_INTERVAL,
                    &SOA_EXPIRE_LIMIT,
                    &SOA_MINIMUM_TTL,
                ];
                for (i, (def, v)) in defs.iter().zip(n).enumerate() {
                    if i == 0 || !self.emit {
                        self.u(cx, def, n_at + 4 * i, 4, v);
                    } else {
                        // The intervals show as durations too: `3600 (1 hour)`.
                        cx.field_shown(def, self.span(n_at + 4 * i, 4), Value::U(v.into()), |t| {
                            write_secs(v, t);
                        });
                    }
                }
            }
            rrtype::TXT => {
                let mut rest = rdata;
                while !rest.is_empty() {
                    let s_at = at + (rdata.len() - rest.len());
                    let (r, s) = parse::character_string(rest).map_err(|_| self.short(s_at))?;
                    self.u(cx, &TXT_LENGTH, s_at, 1, s.len() as u64);
                    self.field(cx, &TXT, s_at + 1, s.len(), Value::Text(s));
                    rest = r;
                }
            }
            rrtype::SRV => {
                let (_, (prio, weight, port)) = parse::srv_numbers(rdata).map_err(|_| self.short(at))?;
                self.u(cx, &SRV_PRIORITY, at, 2, prio);
                self.u(cx, &SRV_WEIGHT, at + 2, 2, weight);
                self.u(cx, &SRV_PORT, at + 4, 2, port);
                let text = self.want_info || self.shows_name(cx, &SRV_TARGET);
                let target = self.name(at + 6, text)?;
                self.name_field(cx, &SRV_TARGET, at + 6, &target);
                if self.want_info {
                    for n in [prio, weight, port] {
                        self.scratch.info.push(' ');
                        crate::text::push_int(&mut self.scratch.info, n);
                    }
                    self.info_name();
                }
            }
            rrtype::SVCB | rrtype::HTTPS => self.svcb(cx, rdata, at)?,
            rrtype::NULL | rrtype::NSEC3PARAM => {
                // Wireshark's Info shows the owner name for these.
                if self.want_info {
                    self.scratch.info.push(' ');
                    let Scratch { owner, info, .. } = &mut *self.scratch;
                    info.push_str(owner);
                }
            }
            rrtype::WKS => {
                let (_, a) = parse::ipv4(rdata).map_err(|_| self.short(at))?;
                if self.want_info {
                    self.scratch.info.push(' ');
                    crate::text::push_ipv4(&mut self.scratch.info, a);
                }
            }
            rrtype::HINFO => {
                let (r, cpu) = parse::character_string(rdata).map_err(|_| self.short(at))?;
                let (_, os) = parse::character_string(r).map_err(|_| self.short(at))?;
                if self.want_info {
                    self.scratch.info.push(' ');
                    format_text(cpu, &mut self.scratch.info);
                    self.scratch.info.push(' ');
                    format_text(os, &mut self.scratch.info);
                }
            }
            rrtype::NSEC => {
                let next = self.name(at, self.want_info)?;
                self.info_name();
                let bitmap = self.msg.get(next.end..at + rdata.len()).unwrap_or(&[]);
                self.type_bitmap(cx, bitmap, next.end)?;
            }
            rrtype::NSEC3 => {
                let tail = parse::nsec3_bitmap(rdata).map_err(|_| self.short(at))?;
                self.type_bitmap(cx, tail, at + rdata.len() - tail.len())?;
            }
            rrtype::SIG | rrtype::RRSIG => {
                if rdata.len() < 18 {
                    return Err(self.short(at));
                }
                // Only read: nothing shows the signer's name.
                self.name(at + 18, false)?;
            }
            rrtype::LOC => {
                if rdata.first() == Some(&0) && rdata.len() < 16 {
                    return Err(self.short(at));
                }
            }
            t => {
                // Kept raw only where Wireshark has no decoder either: a known type that we do
                // not decode shows nothing rather than something Wireshark would not show.
                if type_entry(t).is_none() || RAW_IN_WIRESHARK.contains(&t) {
                    self.field(cx, &DATA, at, rdata.len(), Value::Bytes(rdata));
                }
            }
        }
        Ok(())
    }

    /// An NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2): each type present is shown as
    /// `dns.resp.type`, as Wireshark does.
    fn type_bitmap(&self, cx: &mut Cx<'_>, mut bitmap: &[u8], at: usize) -> Result<(), Malformed> {
        let total = bitmap.len();
        while !bitmap.is_empty() {
            let w_at = at + (total - bitmap.len());
            let (r, (window, bits)) = parse::bitmap_window(bitmap).map_err(|_| self.short(w_at))?;
            bitmap = r;
            if !self.emit {
                continue;
            }
            for (i, byte) in bits.iter().enumerate() {
                for bit in 0..8u16 {
                    if byte & (0x80 >> bit) != 0 {
                        let t = u16::from(window) * 256 + (i as u16) * 8 + bit;
                        self.u(cx, &RESP_TYPE, w_at + 2 + i, 1, t);
                    }
                }
            }
        }
        Ok(())
    }

    /// SVCB/HTTPS (RFC 9460 §2.2): priority, target, then key/value parameters.
    fn svcb(&mut self, cx: &mut Cx<'_>, rdata: &'m [u8], at: usize) -> Result<(), Malformed> {
        let (_, prio) = parse::u16_be(rdata).map_err(|_| self.short(at))?;
        self.u(cx, &SVCB_PRIORITY, at, 2, prio);
        let text = self.shows_name(cx, &SVCB_TARGETNAME);
        let target = self.name(at + 2, text)?;
        self.name_field(cx, &SVCB_TARGETNAME, at + 2, &target);
        let params_at = target.end;
        let end = at + rdata.len();
        let mut rest = self.msg.get(params_at..end).unwrap_or(&[]);
        while !rest.is_empty() {
            let p_at = end - rest.len();
            let (r, (key, value)) = parse::key_value(rest).map_err(|_| self.short(p_at))?;
            rest = r;
            if !self.emit {
                continue;
            }
            let v_at = p_at + 4;
            self.field(cx, &SVCB_SVCPARAM, p_at, 4 + value.len(), Value::None);
            cx.sink.open();
            self.u(cx, &SVCB_KEY, p_at, 2, key);
            self.u(cx, &SVCB_VALUE_LENGTH, p_at + 2, 2, value.len() as u64);
            let r = self.svc_value(cx, key, value, v_at);
            cx.sink.close();
            r?;
        }
        Ok(())
    }

    /// One SvcParam value; an ALPN list or a port that does not fit its length is malformed.
    fn svc_value(&self, cx: &mut Cx<'_>, key: u16, value: &[u8], at: usize) -> Result<(), Malformed> {
        match key {
            0 => {
                for (i, k) in value.chunks_exact(2).enumerate() {
                    if let Ok((_, k)) = parse::u16_be(k) {
                        self.u(cx, &SVCB_MANDATORY_KEY, at + 2 * i, 2, k);
                    }
                }
            }
            1 => {
                let mut rest = value;
                while !rest.is_empty() {
                    let a_at = at + (value.len() - rest.len());
                    let (r, id) = parse::character_string(rest).map_err(|_| self.short(a_at))?;
                    self.u(cx, &SVCB_ALPN_LENGTH, a_at, 1, id.len() as u64);
                    self.field(cx, &SVCB_ALPN, a_at + 1, id.len(), Value::Text(id));
                    rest = r;
                }
            }
            3 => {
                // Wireshark reads two bytes and takes what follows as the next parameter.
                let (rest, port) = parse::u16_be(value).map_err(|_| self.short(at))?;
                self.u(cx, &SVCB_PORT, at, 2, port);
                if !rest.is_empty() {
                    return Err(self.short(at + 2));
                }
            }
            4 => {
                for (i, a) in value.chunks_exact(4).enumerate() {
                    if let Ok((_, a)) = parse::ipv4(a) {
                        self.field(cx, &SVCB_IPV4HINT, at + 4 * i, 4, Value::Ipv4(a));
                    }
                }
            }
            5 => self.field(cx, &SVCB_ECHCONFIG, at, value.len(), Value::Bytes(value)),
            6 => {
                for (i, a) in value.chunks_exact(16).enumerate() {
                    if let Ok((_, a)) = parse::ipv6(a) {
                        self.field(cx, &SVCB_IPV6HINT, at + 16 * i, 16, Value::Ipv6(a));
                    }
                }
            }
            _ => {
                if !value.is_empty() {
                    self.field(cx, &SVCB_VALUE, at, value.len(), Value::Bytes(value));
                }
            }
        }
        Ok(())
    }

    /// The OPT pseudo-record (RFC 6891 §6.1.2): class and TTL hold EDNS facts, RDATA options.
    fn opt(&mut self, cx: &mut Cx<'_>, at: usize, name: &Name, rr: &parse::RrFixed<'m>, rdata_at: usize) -> Result<(), Malformed> {
        if !self.emit {
            return Ok(());
        }
        let f = name.end;
        let ttl = parse::OptTtl::from_ttl(rr.ttl);
        self.name_field(cx, &RESP_NAME, at, name);
        self.u(cx, &RESP_TYPE, f, 2, rr.rtype);
        self.u(cx, &RR_UDP_PAYLOAD_SIZE, f + 2, 2, rr.class);
        self.u(cx, &RESP_EXT_RCODE, f + 4, 1, ttl.ext_rcode);
        self.u(cx, &RESP_EDNS0_VERSION, f + 5, 1, ttl.version);
        self.u(cx, &RESP_Z, f + 6, 2, ttl.z);
        cx.sink.open();
        self.field(cx, &RESP_Z_DO, f + 6, 2, Value::Bool(ttl.z & 0x8000 != 0));
        self.u(cx, &RESP_Z_RESERVED, f + 6, 2, ttl.z & 0x7fff);
        cx.sink.close();
        self.u(cx, &RESP_LEN, f + 8, 2, rr.rdata.len() as u64);
        let mut rest = rr.rdata;
        while !rest.is_empty() {
            let o_at = rdata_at + (rr.rdata.len() - rest.len());
            let Ok((r, (code, value))) = parse::key_value(rest) else {
                // Wireshark shows the option's code and length, read past RDLENGTH, then fails.
                let past = parse::rest(self.msg, o_at);
                if let (Ok((_, code)), Ok((_, len))) =
                    (parse::u16_be(past), parse::u16_be(parse::rest(past, 2)))
                {
                    self.field(cx, &OPT, o_at, 4, Value::None);
                    cx.sink.open();
                    self.u(cx, &OPT_CODE, o_at, 2, code);
                    self.u(cx, &OPT_LEN, o_at + 2, 2, len);
                    cx.sink.close();
                }
                return Err(self.short(o_at));
            };
            rest = r;
            cx.field_shown(&OPT, self.span(o_at, 4 + value.len()), Value::None, |t| {
                match opt_code_name(u64::from(code)) {
                    Some(n) => t.push_str(n),
                    None => {
                        let _ = write!(t, "Unknown ({code})");
                    }
                }
            });
            cx.sink.open();
            self.u(cx, &OPT_CODE, o_at, 2, code);
            self.u(cx, &OPT_LEN, o_at + 2, 2, value.len() as u64);
            let v_at = o_at + 4;
            self.field(cx, &OPT_DATA, v_at, value.len(), Value::Bytes(value));
            if code == 10 {
                // COOKIE (RFC 7873): an 8-byte client cookie, then the server's if any.
                let (client, server) = value.split_at(value.len().min(8));
                self.field(cx, &OPT_COOKIE_CLIENT, v_at, client.len(), Value::Bytes(client));
                let span = self.span(v_at + client.len(), server.len());
                // An absent server cookie is an empty item: tshark 4.0 says <MISSING>
                // (the field's empty text).
                cx.field_shown(&OPT_COOKIE_SERVER, span, Value::Bytes(server), |t| {
                    if server.is_empty() {
                        t.push_str(OPT_COOKIE_SERVER.view.empty_text);
                    } else {
                        for b in server {
                            let _ = write!(t, "{b:02x}");
                        }
                    }
                });
            } else if code == 12 {
                self.field(cx, &OPT_PADDING, v_at, value.len(), Value::Bytes(value));
            }
            cx.sink.close();
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Fields

pub static PROTO: Proto = Proto {
    name: "dns",
    long_name: "Domain Name System",
    fields: &[
        &LENGTH, &ID, &FLAGS, &FLAGS_RESPONSE, &FLAGS_OPCODE, &FLAGS_AUTHORITATIVE,
        &FLAGS_TRUNCATED, &FLAGS_RECDESIRED, &FLAGS_RECAVAIL, &FLAGS_Z, &FLAGS_AUTHENTICATED,
        &FLAGS_CHECKDISABLE, &FLAGS_RCODE, &COUNT_QUERIES, &COUNT_ZONES, &COUNT_ANSWERS,
        &COUNT_PREREQUISITES, &COUNT_AUTH_RR, &COUNT_UPDATES, &COUNT_ADD_RR, &QRY_NAME,
        &QRY_NAME_LEN, &COUNT_LABELS, &QRY_TYPE, &QRY_CLASS, &RESP_NAME, &RESP_TYPE,
        &RESP_CLASS, &RESP_TTL, &RESP_LEN, &A, &AAAA, &NS, &CNAME, &PTR_DOMAIN_NAME, &MD, &MF,
        &MB, &MG, &MR, &MX_PREFERENCE, &MX_MAIL_EXCHANGE, &TXT_LENGTH, &TXT, &SOA_MNAME,
        &SOA_RNAME, &SOA_SERIAL_NUMBER, &SOA_REFRESH_INTERVAL, &SOA_RETRY_INTERVAL,
        &SOA_EXPIRE_LIMIT, &SOA_MINIMUM_TTL, &SRV_SERVICE, &SRV_PROTO, &SRV_NAME,
        &SRV_PRIORITY, &SRV_WEIGHT, &SRV_PORT, &SRV_TARGET, &RR_UDP_PAYLOAD_SIZE,
        &RESP_EXT_RCODE, &RESP_EDNS0_VERSION, &RESP_Z, &RESP_Z_DO, &RESP_Z_RESERVED, &OPT,
        &OPT_CODE, &OPT_LEN, &OPT_DATA, &OPT_COOKIE_CLIENT, &OPT_COOKIE_SERVER, &OPT_PADDING,
        &SVCB_PRIORITY, &SVCB_TARGETNAME, &SVCB_SVCPARAM, &SVCB_KEY, &SVCB_VALUE_LENGTH,
        &SVCB_VALUE, &SVCB_MANDATORY_KEY, &SVCB_ALPN_LENGTH, &SVCB_ALPN, &SVCB_PORT,
        &SVCB_IPV4HINT, &SVCB_ECHCONFIG, &SVCB_IPV6HINT, &DATA, &RESPONSE_IN, &RESPONSE_TO,
        &TIME, &RETRANSMISSION, &RETRANSMIT_REQUEST_IN, &RETRANSMIT_RESPONSE_IN, &UNSOLICITED,
    ],
    summary: &[],
};

macro_rules! fields {
    ($($id:ident = $name:literal, $label:literal, $kind:expr $(, $names:expr)? $(=> $(.$view:ident($($arg:expr),*))+)?;)*) => {
        $(pub static $id: FieldDef = FieldDef::new($name, $label, $kind) $(.with_names($names))?$($(.$view($($arg),*))+)?;)*
    };
}

fields! {
    LENGTH = "dns.length", "Length", Kind::Dec;
    ID = "dns.id", "Transaction ID", Kind::Hex(4);
    FLAGS = "dns.flags", "Flags", Kind::Hex(4);
    FLAGS_RESPONSE = "dns.flags.response", "Response", Kind::Bool => .bits(0x8000, 16).tfs("Message is a response", "Message is a query");
    FLAGS_OPCODE = "dns.flags.opcode", "Opcode", Kind::Dec, opcode_name => .bits(0x7800, 16);
    FLAGS_AUTHORITATIVE = "dns.flags.authoritative", "Authoritative", Kind::Bool => .bits(0x400, 16).tfs("Server is an authority for domain", "Server is not an authority for domain");
    FLAGS_TRUNCATED = "dns.flags.truncated", "Truncated", Kind::Bool => .bits(0x200, 16).tfs("Message is truncated", "Message is not truncated");
    FLAGS_RECDESIRED = "dns.flags.recdesired", "Recursion desired", Kind::Bool => .bits(0x100, 16).tfs("Do query recursively", "Don't do query recursively");
    FLAGS_RECAVAIL = "dns.flags.recavail", "Recursion available", Kind::Bool => .bits(0x80, 16).tfs("Server can do recursive queries", "Server can't do recursive queries");
    FLAGS_Z = "dns.flags.z", "Z", Kind::Bool => .bits(0x40, 16).tfs("reserved - incorrect!", "reserved (0)");
    FLAGS_AUTHENTICATED = "dns.flags.authenticated", "Answer authenticated", Kind::Bool => .bits(0x20, 16).tfs("Answer/authority portion was authenticated by the server", "Answer/authority portion was not authenticated by the server");
    FLAGS_CHECKDISABLE = "dns.flags.checkdisable", "Non-authenticated data", Kind::Bool => .bits(0x10, 16).tfs("Acceptable", "Unacceptable");
    FLAGS_RCODE = "dns.flags.rcode", "Reply code", Kind::Dec, rcode_name => .bits(0xf, 16);
    COUNT_QUERIES = "dns.count.queries", "Questions", Kind::Dec;
    COUNT_ZONES = "dns.count.zones", "Zones", Kind::Dec;
    COUNT_ANSWERS = "dns.count.answers", "Answer RRs", Kind::Dec;
    COUNT_PREREQUISITES = "dns.count.prerequisites", "Prerequisites", Kind::Dec;
    COUNT_AUTH_RR = "dns.count.auth_rr", "Authority RRs", Kind::Dec;
    COUNT_UPDATES = "dns.count.updates", "Updates", Kind::Dec;
    COUNT_ADD_RR = "dns.count.add_rr", "Additional RRs", Kind::Dec;
    QRY_NAME = "dns.qry.name", "Name", Kind::Str;
    QRY_NAME_LEN = "dns.qry.name.len", "Name Length", Kind::Dec;
    COUNT_LABELS = "dns.count.labels", "Label Count", Kind::Dec;
    QRY_TYPE = "dns.qry.type", "Type", Kind::Dec, type_names;
    QRY_CLASS = "dns.qry.class", "Class", Kind::Hex(4), class_name;
    RESP_NAME = "dns.resp.name", "Name", Kind::Str;
    RESP_TYPE = "dns.resp.type", "Type", Kind::Dec, type_names;
    RESP_CLASS = "dns.resp.class", "Class", Kind::Hex(4), class_name;
    RESP_TTL = "dns.resp.ttl", "Time to live", Kind::Dec;
    RESP_LEN = "dns.resp.len", "Data length", Kind::Dec;
    A = "dns.a", "Address", Kind::Ipv4;
    AAAA = "dns.aaaa", "AAAA Address", Kind::Ipv6;
    NS = "dns.ns", "Name Server", Kind::Str;
    CNAME = "dns.cname", "CNAME", Kind::Str;
    PTR_DOMAIN_NAME = "dns.ptr.domain_name", "Domain Name", Kind::Str;
    MD = "dns.md", "Mail Destination", Kind::Str;
    MF = "dns.mf", "Mail Forwarder", Kind::Str;
    MB = "dns.mb", "MailBox Domaine", Kind::Str;
    MG = "dns.mg", "Mail Group member", Kind::Str;
    MR = "dns.mr", "Mail Rename domaine", Kind::Str;
    MX_PREFERENCE = "dns.mx.preference", "Preference", Kind::Dec;
    MX_MAIL_EXCHANGE = "dns.mx.mail_exchange", "Mail Exchange", Kind::Str;
    TXT_LENGTH = "dns.txt.length", "TXT Length", Kind::Dec;
    TXT = "dns.txt", "TXT", Kind::Str;
    SOA_MNAME = "dns.soa.mname", "Primary name server", Kind::Str;
    SOA_RNAME = "dns.soa.rname", "Responsible authority's mailbox", Kind::Str;
    SOA_SERIAL_NUMBER = "dns.soa.serial_number", "Serial Number", Kind::Dec;
    SOA_REFRESH_INTERVAL = "dns.soa.refresh_interval", "Refresh Interval", Kind::Dec;
    SOA_RETRY_INTERVAL = "dns.soa.retry_interval", "Retry Interval", Kind::Dec;
    SOA_EXPIRE_LIMIT = "dns.soa.expire_limit", "Expire limit", Kind::Dec;
    SOA_MINIMUM_TTL = "dns.soa.minimum_ttl", "Minimum TTL", Kind::Dec;
    SRV_SERVICE = "dns.srv.service", "Service", Kind::Str;
    SRV_PROTO = "dns.srv.proto", "Protocol", Kind::Str;
    SRV_NAME = "dns.srv.name", "Name", Kind::Str;
    SRV_PRIORITY = "dns.srv.priority", "Priority", Kind::Dec;
    SRV_WEIGHT = "dns.srv.weight", "Weight", Kind::Dec;
    SRV_PORT = "dns.srv.port", "Port", Kind::Dec;
    SRV_TARGET = "dns.srv.target", "Target", Kind::Str;
    RR_UDP_PAYLOAD_SIZE = "dns.rr.udp_payload_size", "UDP payload size", Kind::Dec;
    RESP_EXT_RCODE = "dns.resp.ext_rcode", "Higher bits in extended RCODE", Kind::Hex(2);
    RESP_EDNS0_VERSION = "dns.resp.edns0_version", "EDNS0 version", Kind::Dec;
    RESP_Z = "dns.resp.z", "Z", Kind::Hex(4);
    RESP_Z_DO = "dns.resp.z.do", "DO bit", Kind::Bool => .bits(0x8000, 16).tfs("Accepts DNSSEC security RRs", "Cannot handle DNSSEC security RRs");
    RESP_Z_RESERVED = "dns.resp.z.reserved", "Reserved", Kind::Hex(4) => .bits(0x7fff, 16);
    OPT = "dns.opt", "Option", Kind::None;
    OPT_CODE = "dns.opt.code", "Option Code", Kind::Dec, opt_code_name;
    OPT_LEN = "dns.opt.len", "Option Length", Kind::Dec;
    OPT_DATA = "dns.opt.data", "Option Data", Kind::Bytes;
    OPT_COOKIE_CLIENT = "dns.opt.cookie.client", "Client Cookie", Kind::Bytes;
    OPT_COOKIE_SERVER = "dns.opt.cookie.server", "Server Cookie", Kind::Bytes => .empty_text("<MISSING>");
    OPT_PADDING = "dns.opt.padding", "Padding", Kind::Bytes;
    SVCB_PRIORITY = "dns.svcb.svcpriority", "SvcPriority", Kind::Dec;
    SVCB_TARGETNAME = "dns.svcb.targetname", "TargetName", Kind::Str;
    SVCB_SVCPARAM = "dns.svcb.svcparam", "SvcParam", Kind::None;
    SVCB_KEY = "dns.svcb.svcparam.key", "SvcParamKey", Kind::Dec, svc_key_name;
    SVCB_VALUE_LENGTH = "dns.svcb.svcparam.value.length", "SvcParamValue length", Kind::Dec;
    SVCB_VALUE = "dns.svcb.svcparam.value", "SvcParamValue", Kind::Bytes;
    SVCB_MANDATORY_KEY = "dns.svcb.svcparam.mandatory.key", "Mandatory key", Kind::Dec, svc_key_name;
    SVCB_ALPN_LENGTH = "dns.svcb.svcparam.alpn.length", "ALPN length", Kind::Dec;
    SVCB_ALPN = "dns.svcb.svcparam.alpn", "ALPN", Kind::Str;
    SVCB_PORT = "dns.svcb.svcparam.port", "Port", Kind::Dec;
    SVCB_IPV4HINT = "dns.svcb.svcparam.ipv4hint.ip", "IP", Kind::Ipv4;
    SVCB_ECHCONFIG = "dns.svcb.svcparam.echconfig", "ECHConfig", Kind::Bytes;
    SVCB_IPV6HINT = "dns.svcb.svcparam.ipv6hint.ip", "IP", Kind::Ipv6;
    DATA = "dns.data", "Data", Kind::Bytes;
    RESPONSE_IN = "dns.response_in", "Response In", Kind::Dec;
    RESPONSE_TO = "dns.response_to", "Request In", Kind::Dec;
    TIME = "dns.time", "Time", Kind::RelTime;
    RETRANSMISSION = "dns.retransmission", "Retransmission", Kind::Bool;
    RETRANSMIT_REQUEST_IN = "dns.retransmit_request_in", "Retransmitted request. Original request in", Kind::Dec;
    RETRANSMIT_RESPONSE_IN = "dns.retransmit_response_in", "Retransmitted response. Original response in", Kind::Dec;
    UNSOLICITED = "dns.unsolicited", "Unsolicited", Kind::Bool;
}

#[cfg(test)]
mod tests;
