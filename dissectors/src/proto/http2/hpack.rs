//! HPACK (RFC 7541): the header compression of HTTP/2, decoder side only.
//!
//! One [`Decoder`] per direction of a connection holds that direction's dynamic table. Header
//! blocks are decoded as their fragments arrive (a HEADERS or PUSH_PROMISE frame, then any
//! CONTINUATION frames), as Wireshark's nghttp2 inflater does, so each field is reported in the
//! frame whose fragment completes it.
//!
//! Written here rather than taken from a crate: the old `hpack` crate panics on crafted input
//! (RUSTSEC-2023-0085) and `loona-hpack` (its fixed fork) cannot tell "index past the table"
//! from "an entry inserted before the capture started", allocates a `Vec` per table entry and per
//! Huffman string, and asserts on table-size changes. A sniffer needs that distinction: a capture
//! that starts mid-connection has an unknown dynamic table, and a block that refers to an entry
//! we never saw is reported as not decodable ([`HpackError::UnknownEntry`]) instead of guessed.
//! `loona-hpack` is kept as a test-time cross-check (a property test decodes its encoder's output
//! with both).
//!
//! Zero-copy where the wire allows: literal strings are borrowed from the block, Huffman strings
//! are decoded into one reused scratch buffer, and the dynamic table lives in one byte arena.
//!
//! Not supported: the encoder side.

use std::collections::VecDeque;

/// The dynamic table's size limit in bytes of RFC 7541 §4.1 size (name + value + 32 per
/// entry), per direction. SETTINGS_HEADER_TABLE_SIZE is 4096 by default and 65536 in the
/// largest common deployments; an encoder that uses more loses entries here, which are then
/// reported as unknown rather than guessed (counted in [`Decoder::cap_evictions`]).
pub const MAX_TABLE_SIZE: usize = 65_536;
/// Bytes of one incomplete header representation carried from one fragment to the next.
/// A single field larger than this cannot be decoded (nginx and Apache refuse 8 KiB fields).
pub const MAX_PENDING: usize = 65_536;
/// The initial dynamic table size (RFC 7540 §6.5.2, SETTINGS_HEADER_TABLE_SIZE default).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// RFC 7541 §4.1: each entry costs its name and value lengths plus 32.
const ENTRY_OVERHEAD: usize = 32;
/// Integers above this are refused (nghttp2 refuses more than 2^32 - 1 too).
const MAX_INT: u64 = u32::MAX as u64;

/// Why a header block could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpackError {
    /// The block ended inside a representation (END_HEADERS was set).
    Truncated,
    /// Index 0, which RFC 7541 §6.1 forbids.
    IndexZero,
    /// An index past the static and dynamic tables whose every entry is known: a broken block.
    IndexPastTable,
    /// An index into the part of the dynamic table filled before the capture started (or lost
    /// to a gap or a cap): the block is not decodable, which is not the peer's fault.
    UnknownEntry,
    /// A Huffman string with an EOS symbol, padding longer than 7 bits, or padding not all ones.
    BadHuffman,
    /// An integer over 2^32 - 1, or longer than its encoding allows.
    IntegerOverflow,
    /// A dynamic table size update after a header field of the same block (RFC 7541 §4.2).
    LateSizeUpdate,
    /// One representation larger than [`MAX_PENDING`] spanning fragments.
    TooLarge,
}

impl HpackError {
    /// A few words for the expert note.
    pub fn reason(self) -> &'static str {
        match self {
            HpackError::Truncated => "header block ends inside a field",
            HpackError::IndexZero => "HPACK index 0",
            HpackError::IndexPastTable => "HPACK index past the header table",
            HpackError::UnknownEntry => {
                "header block refers to a dynamic table entry not seen in this capture"
            }
            HpackError::BadHuffman => "bad HPACK Huffman string",
            HpackError::IntegerOverflow => "HPACK integer overflow",
            HpackError::LateSizeUpdate => "HPACK table size update after a header field",
            HpackError::TooLarge => "HPACK header field larger than the decoder's cap",
        }
    }

    /// Whether the peer broke RFC 7541 (as opposed to our view of the table being incomplete).
    pub fn is_malformed(self) -> bool {
        self != HpackError::UnknownEntry
    }
}

/// How a field was represented (RFC 7541 §6), with Wireshark's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr {
    Indexed,
    IncrementalIndexedName,
    IncrementalNewName,
    WithoutIndexedName,
    WithoutNewName,
    NeverIndexedName,
    NeverNewName,
}

impl Repr {
    /// `http2.header.repr` as Wireshark prints it.
    pub fn name(self) -> &'static str {
        match self {
            Repr::Indexed => "Indexed Header Field",
            Repr::IncrementalIndexedName => {
                "Literal Header Field with Incremental Indexing - Indexed Name"
            }
            Repr::IncrementalNewName => "Literal Header Field with Incremental Indexing - New Name",
            Repr::WithoutIndexedName => "Literal Header Field without Indexing - Indexed Name",
            Repr::WithoutNewName => "Literal Header Field without Indexing - New Name",
            Repr::NeverIndexedName => "Literal Header Field never Indexed - Indexed Name",
            Repr::NeverNewName => "Literal Header Field never Indexed - New Name",
        }
    }

    /// Whether an index is shown (`http2.header.index`).
    pub fn has_index(self) -> bool {
        !matches!(
            self,
            Repr::IncrementalNewName | Repr::WithoutNewName | Repr::NeverNewName
        )
    }
}

/// One decoded header field. `encoded` is the range of its representation in the bytes given
/// to [`Decoder::decode`] (for a field carried over from an earlier fragment, it starts at 0).
#[derive(Debug, Clone, Copy)]
pub struct Field<'x> {
    pub name: &'x [u8],
    pub value: &'x [u8],
    pub repr: Repr,
    /// The table index of the name (or of the whole field); 0 for new names.
    pub index: u32,
    pub encoded: (usize, usize),
}

/// What a block yields, in order.
#[derive(Debug, Clone, Copy)]
pub enum Event<'x> {
    Field(Field<'x>),
    /// A dynamic table size update to this many bytes.
    SizeUpdate { size: u32, encoded: (usize, usize) },
}

/// RFC 7541 Appendix A: the static table, index 1 first.
static STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// RFC 7541 Appendix B: the Huffman code of each symbol (0–255, then EOS = 256), as
/// (code, bit length). The code is canonical, so decoding needs only the tables derived below.
#[rustfmt::skip]
static HUFFMAN_CODES: [(u32, u8); 257] = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28), (0xfffffe5, 28),
    (0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28),
    (0xfffffef, 28), (0xffffff0, 28), (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),
    (0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11), (0x3fa, 10), (0x3fb, 10),
    (0xf9, 8), (0x7fb, 11), (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6),
    (0x1c, 6), (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13), (0x21, 6),
    (0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7), (0x67, 7), (0x68, 7),
    (0x69, 7), (0x6a, 7), (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),
    (0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5), (0x24, 6), (0x5, 5),
    (0x25, 6), (0x26, 6), (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7),
    (0x2c, 6), (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11), (0x3ffd, 14),
    (0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23),
    (0x7fffdb, 23), (0x7fffdc, 23), (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),
    (0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24), (0x3fffda, 22), (0x1fffdd, 21),
    (0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22),
    (0x7fffeb, 23), (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20), (0x3fffe2, 22),
    (0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23),
    (0x3fffe8, 22), (0x1ffffec, 25), (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),
    (0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26), (0xffffffd, 28), (0x7ffffe3, 27),
    (0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22),
    (0x1ffffee, 25), (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27), (0x7ffffe8, 27),
    (0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26), (0x3fffffff, 30),
];

const EOS: u16 = 256;
const MIN_CODE_LEN: u32 = 5;
const MAX_CODE_LEN: u32 = 30;

/// Canonical-code decoding tables: for each length, the first code, the number of codes, the
/// left-aligned (to 30 bits) limit below which a window decodes at that length, and where that
/// length's symbols start in `symbols` (sorted by length, then symbol).
struct Canonical {
    first: [u32; 31],
    count: [u32; 31],
    limit: [u32; 31],
    offset: [u32; 31],
    symbols: [u16; 257],
}

#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build, never a run"
)]
const fn canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; 31],
        count: [0; 31],
        limit: [0; 31],
        offset: [0; 31],
        symbols: [0; 257],
    };
    let mut s = 0;
    while s < 257 {
        c.count[HUFFMAN_CODES[s].1 as usize] += 1;
        s += 1;
    }
    let mut code: u32 = 0;
    let mut at: u32 = 0;
    let mut len = 1;
    while len <= MAX_CODE_LEN as usize {
        c.first[len] = code;
        c.offset[len] = at;
        c.limit[len] = (code + c.count[len]) << (MAX_CODE_LEN as usize - len);
        // Symbols of this length, in symbol order (the canonical assignment order).
        let mut s = 0;
        while s < 257 {
            if HUFFMAN_CODES[s].1 as usize == len {
                // The table is canonical: every code is the next one of its length.
                assert!(HUFFMAN_CODES[s].0 == code);
                c.symbols[at as usize] = s as u16;
                at += 1;
                code += 1;
            }
            s += 1;
        }
        code <<= 1;
        len += 1;
    }
    c
}

static CANONICAL: Canonical = canonical();

/// Decodes a Huffman string (RFC 7541 §5.2) onto the end of `out`.
pub fn huffman_decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), HpackError> {
    const MASK: u64 = (1 << MAX_CODE_LEN) - 1;
    let c = &CANONICAL;
    out.reserve(src.len() + src.len() / 2);
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in src {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= MIN_CODE_LEN {
            let window = if bits >= MAX_CODE_LEN {
                (acc >> (bits - MAX_CODE_LEN)) & MASK
            } else {
                (acc << (MAX_CODE_LEN - bits)) & MASK
            } as u32;
            let mut len = MIN_CODE_LEN;
            while len <= MAX_CODE_LEN {
                if window < c.limit.get(len as usize).copied().unwrap_or(0) {
                    break;
                }
                len += 1;
            }
            if len > bits {
                // The rest is a prefix of a longer code (or padding): wait for more bits.
                break;
            }
            let first = c.first.get(len as usize).copied().unwrap_or(0);
            let offset = c.offset.get(len as usize).copied().unwrap_or(0);
            let at = offset + (window >> (MAX_CODE_LEN - len)) - first;
            let sym = c.symbols.get(at as usize).copied().unwrap_or(EOS);
            if sym >= EOS {
                return Err(HpackError::BadHuffman);
            }
            out.push(sym as u8);
            bits -= len;
            acc &= (1u64 << bits) - 1;
        }
    }
    // RFC 7541 §5.2: at most 7 bits of padding, all ones (the EOS prefix).
    if bits > 7 || acc != (1u64 << bits) - 1 {
        return Err(HpackError::BadHuffman);
    }
    Ok(())
}

/// An integer with an `prefix`-bit prefix (RFC 7541 §5.1) at the start of `buf`: its value
/// and encoded length, `None` when `buf` ends inside it.
fn decode_int(buf: &[u8], prefix: u32) -> Result<Option<(u64, usize)>, HpackError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let max = (1u64 << prefix) - 1;
    let mut value = u64::from(first) & max;
    if value < max {
        return Ok(Some((value, 1)));
    }
    let mut shift = 0u32;
    for (i, &b) in buf.iter().enumerate().skip(1) {
        value += u64::from(b & 0x7f) << shift;
        if value > MAX_INT {
            return Err(HpackError::IntegerOverflow);
        }
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
        shift += 7;
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
    }
    Ok(None)
}

/// Where a decoded string lives until it is reported.
#[derive(Debug, Clone, Copy)]
enum Src {
    Static(&'static [u8]),
    /// Entry `n` of the dynamic table (0 = newest): name or value.
    TableName(usize),
    TableValue(usize),
    /// A range of the block.
    Input(usize, usize),
    /// A range of the scratch buffer (Huffman output).
    Scratch(usize, usize),
}

/// One parsed representation, before it is reported and applied.
#[derive(Debug, Clone, Copy)]
enum Parsed {
    Field {
        name: Src,
        value: Src,
        repr: Repr,
        index: u32,
        insert: bool,
    },
    SizeUpdate(u64),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    name_len: usize,
    value_len: usize,
}

/// The dynamic table (RFC 7541 §2.3.2): entries newest first, their bytes in one arena.
#[derive(Debug)]
struct Table {
    arena: Vec<u8>,
    entries: VecDeque<Entry>,
    /// RFC 7541 §4.1 size of the entries held.
    size: usize,
    /// The maximum size the encoder signalled (or the initial 4096).
    max_size: usize,
    /// False when the capture did not show how the maximum was set (mid-connection start).
    max_known: bool,
    /// Entries older than the ones held may exist that we never saw (or evicted for our cap).
    unknown_tail: bool,
    cap_evictions: u64,
}

impl Table {
    fn new(known: bool) -> Table {
        Table {
            arena: Vec::new(),
            entries: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE,
            max_known: known,
            unknown_tail: !known,
            cap_evictions: 0,
        }
    }

    fn bytes(&self, start: usize, len: usize) -> &[u8] {
        self.arena.get(start..start + len).unwrap_or(&[])
    }

    fn name(&self, n: usize) -> &[u8] {
        self.entries
            .get(n)
            .map_or(&[][..], |e| self.bytes(e.start, e.name_len))
    }

    fn value(&self, n: usize) -> &[u8] {
        self.entries
            .get(n)
            .map_or(&[][..], |e| self.bytes(e.start + e.name_len, e.value_len))
    }

    /// Forgets everything: what follows may refer to entries we cannot know.
    fn forget(&mut self) {
        self.entries.clear();
        self.arena.clear();
        self.size = 0;
        self.unknown_tail = true;
    }

    /// Drops the oldest entry. `by_protocol` is false when only our cap forces it.
    fn evict_oldest(&mut self, by_protocol: bool) {
        if let Some(e) = self.entries.pop_back() {
            self.size -= e.name_len + e.value_len + ENTRY_OVERHEAD;
            if !by_protocol || !self.max_known {
                // The encoder may still hold it (or, with an unknown maximum, may not).
                self.unknown_tail = true;
                if !by_protocol {
                    self.cap_evictions += 1;
                }
            }
        }
    }

    /// Evicts down to `limit` bytes; entries past the protocol's maximum go silently.
    fn shrink_to(&mut self, extra: usize) {
        let limit = self.max_size.min(MAX_TABLE_SIZE);
        while !self.entries.is_empty() && self.size + extra > limit {
            self.evict_oldest(self.size + extra > self.max_size);
        }
    }

    fn set_max(&mut self, max: usize) {
        self.max_size = max;
        self.max_known = true;
        self.shrink_to(0);
    }

    /// Rebuilds the arena from the live entries once dead bytes dominate it.
    fn compact(&mut self) {
        if self.arena.len() <= 2 * MAX_TABLE_SIZE {
            return;
        }
        let mut arena = Vec::with_capacity(self.size);
        for e in self.entries.iter_mut() {
            let len = e.name_len + e.value_len;
            arena.extend_from_slice(self.arena.get(e.start..e.start + len).unwrap_or(&[]));
            e.start = arena.len() - len;
        }
        self.arena = arena;
    }

    /// Adds a field (RFC 7541 §4.4). `name` may be an entry about to be evicted: its bytes are
    /// copied before anything is evicted.
    fn insert(&mut self, name: Src, value: Src, input: &[u8], scratch: &[u8]) {
        self.compact();
        let start = self.arena.len();
        for src in [name, value] {
            match src {
                Src::Static(s) => self.arena.extend_from_slice(s),
                Src::Input(a, n) => self
                    .arena
                    .extend_from_slice(input.get(a..a + n).unwrap_or(&[])),
                Src::Scratch(a, n) => self
                    .arena
                    .extend_from_slice(scratch.get(a..a + n).unwrap_or(&[])),
                Src::TableName(i) | Src::TableValue(i) => {
                    if let Some(e) = self.entries.get(i).copied() {
                        let (a, n) = match src {
                            Src::TableName(_) => (e.start, e.name_len),
                            _ => (e.start + e.name_len, e.value_len),
                        };
                        if a + n <= start {
                            self.arena.extend_from_within(a..a + n);
                        }
                    }
                }
            }
        }
        let name_len = match name {
            Src::Static(s) => s.len(),
            Src::Input(_, n) | Src::Scratch(_, n) => n,
            Src::TableName(i) => self.entries.get(i).map_or(0, |e| e.name_len),
            Src::TableValue(i) => self.entries.get(i).map_or(0, |e| e.value_len),
        };
        let total = self.arena.len() - start;
        let entry_size = total + ENTRY_OVERHEAD;
        if entry_size > self.max_size {
            // RFC 7541 §4.4: the table is emptied and the entry is not added.
            while !self.entries.is_empty() {
                self.evict_oldest(true);
            }
            self.arena.truncate(start);
            if self.max_known {
                self.unknown_tail = false;
            }
            return;
        }
        if entry_size > MAX_TABLE_SIZE {
            // Legal but over our cap: the encoder keeps it, we cannot.
            while !self.entries.is_empty() {
                self.evict_oldest(false);
            }
            self.arena.clear();
            self.unknown_tail = true;
            self.cap_evictions += 1;
            return;
        }
        self.shrink_to(entry_size);
        self.entries.push_front(Entry {
            start,
            name_len,
            value_len: total - name_len,
        });
        self.size += entry_size;
    }
}

/// One direction's HPACK decoder: its dynamic table and the state of the block being read.
#[derive(Debug)]
pub struct Decoder {
    table: Table,
    /// Bytes of a representation cut by a fragment boundary.
    pending: Vec<u8>,
    /// The fragments joined with `pending`.
    joined: Vec<u8>,
    scratch: Vec<u8>,
    /// A header field has been seen in the current block (size updates must precede fields).
    in_fields: bool,
    /// The current block failed: its remaining fragments are skipped.
    failed: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder for a connection seen from its start: the table is known to be empty.
    pub fn new() -> Decoder {
        Decoder::with_table(Table::new(true))
    }

    /// A decoder for a connection whose start was not captured: the table holds entries we
    /// never saw, and its maximum size is unknown until the encoder signals one.
    pub fn mid_connection() -> Decoder {
        Decoder::with_table(Table::new(false))
    }

    fn with_table(table: Table) -> Decoder {
        Decoder {
            table,
            pending: Vec::new(),
            joined: Vec::new(),
            scratch: Vec::new(),
            in_fields: false,
            failed: false,
        }
    }

    /// Entries dropped only because of [`MAX_TABLE_SIZE`].
    pub fn cap_evictions(&self) -> u64 {
        self.table.cap_evictions
    }

    /// Whether the dynamic table may hold entries this decoder never saw.
    pub fn table_incomplete(&self) -> bool {
        self.table.unknown_tail
    }

    /// Bytes of dynamic-table entries held (RFC 7541 size).
    pub fn table_size(&self) -> usize {
        self.table.size
    }

    /// Bytes of this direction were lost (a capture gap): whatever the lost fragments inserted
    /// is unknown, so the table is forgotten and the block in progress abandoned.
    pub fn lose_sync(&mut self) {
        self.table.forget();
        self.table.max_known = false;
        self.pending.clear();
        self.in_fields = false;
        self.failed = false;
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE took effect (nghttp2's
    /// `nghttp2_hd_inflate_change_table_size`, as Wireshark applies it on the SETTINGS ACK):
    /// a smaller value evicts at once.
    pub fn settings_table_size(&mut self, size: u32) {
        let size = size as usize;
        if size < self.table.max_size {
            self.table.set_max(size);
        }
    }

    /// Decodes one fragment of a header block; `end` is its END_HEADERS flag. Fields are
    /// reported to `f` as they complete. After an error the rest of the block is skipped, the
    /// table is forgotten (later blocks that use only static entries and their own insertions
    /// still decode) and the error is returned once.
    pub fn decode(
        &mut self,
        fragment: &[u8],
        end: bool,
        f: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), HpackError> {
        if self.failed {
            if end {
                self.failed = false;
                self.in_fields = false;
            }
            return Ok(());
        }
        let result = if self.pending.is_empty() {
            self.run(fragment, fragment, end, f)
        } else {
            let mut joined = std::mem::take(&mut self.joined);
            joined.clear();
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(fragment);
            self.pending.clear();
            let r = self.run(&joined, fragment, end, f);
            self.joined = joined;
            r
        };
        if end {
            self.in_fields = false;
        }
        if let Err(e) = result {
            self.pending.clear();
            self.table.forget();
            self.failed = !end;
            if end {
                self.in_fields = false;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Decodes `input` (pending bytes + `fragment`) and keeps an incomplete tail.
    fn run(
        &mut self,
        input: &[u8],
        fragment: &[u8],
        end: bool,
        f: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), HpackError> {
        // Offsets are reported in `fragment`: carried-over bytes map to its start.
        let carried = input.len() - fragment.len();
        let at = |o: usize| o.saturating_sub(carried);
        let mut pos = 0;
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = loop {
            let rest = input.get(pos..).unwrap_or(&[]);
            if rest.is_empty() {
                break Ok(());
            }
            scratch.clear();
            let (parsed, used) = match self.parse(rest, pos, &mut scratch) {
                Ok(Some(p)) => p,
                Ok(None) if end => break Err(HpackError::Truncated),
                Ok(None) => {
                    if rest.len() > MAX_PENDING {
                        break Err(HpackError::TooLarge);
                    }
                    self.pending.extend_from_slice(rest);
                    break Ok(());
                }
                Err(e) => break Err(e),
            };
            let encoded = (at(pos), at(pos + used) - at(pos));
            match parsed {
                Parsed::SizeUpdate(size) => {
                    if self.in_fields {
                        break Err(HpackError::LateSizeUpdate);
                    }
                    let size = usize::try_from(size).unwrap_or(usize::MAX);
                    self.table.set_max(size);
                    if size == 0 {
                        // Everything the encoder held is gone: the table is fully known.
                        self.table.unknown_tail = false;
                    }
                    f(Event::SizeUpdate {
                        size: u32::try_from(size).unwrap_or(u32::MAX),
                        encoded,
                    });
                }
                Parsed::Field {
                    name,
                    value,
                    repr,
                    index,
                    insert,
                } => {
                    self.in_fields = true;
                    let name_b = self.resolve(name, input, &scratch);
                    let value_b = self.resolve(value, input, &scratch);
                    f(Event::Field(Field {
                        name: name_b,
                        value: value_b,
                        repr,
                        index,
                        encoded,
                    }));
                    if insert {
                        self.table.insert(name, value, input, &scratch);
                    }
                }
            }
            pos += used;
        };
        self.scratch = scratch;
        result
    }

    fn resolve<'s>(&'s self, src: Src, input: &'s [u8], scratch: &'s [u8]) -> &'s [u8] {
        match src {
            Src::Static(s) => s,
            Src::TableName(i) => self.table.name(i),
            Src::TableValue(i) => self.table.value(i),
            Src::Input(a, n) => input.get(a..a + n).unwrap_or(&[]),
            Src::Scratch(a, n) => scratch.get(a..a + n).unwrap_or(&[]),
        }
    }

    /// The name (or whole field) at table index `index` (RFC 7541 §2.3.3).
    fn lookup(&self, index: u64) -> Result<(Src, Src), HpackError> {
        let index = usize::try_from(index).map_err(|_| HpackError::IndexPastTable)?;
        if index == 0 {
            return Err(HpackError::IndexZero);
        }
        if let Some(&(n, v)) = STATIC_TABLE.get(index - 1) {
            return Ok((Src::Static(n), Src::Static(v)));
        }
        let n = index - 1 - STATIC_TABLE.len();
        if n < self.table.entries.len() {
            Ok((Src::TableName(n), Src::TableValue(n)))
        } else if self.table.unknown_tail {
            Err(HpackError::UnknownEntry)
        } else {
            Err(HpackError::IndexPastTable)
        }
    }

    /// A string literal (RFC 7541 §5.2) at the start of `buf` (which is at `base` in the
    /// block): where it lives and its encoded length; `None` when `buf` ends inside it.
    fn string(
        buf: &[u8],
        base: usize,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<(Src, usize)>, HpackError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let Some((len, used)) = decode_int(buf, 7)? else {
            return Ok(None);
        };
        let len = usize::try_from(len).map_err(|_| HpackError::IntegerOverflow)?;
        let Some(raw) = buf.get(used..used + len) else {
            return Ok(None);
        };
        if first & 0x80 == 0 {
            return Ok(Some((Src::Input(base + used, len), used + len)));
        }
        let start = scratch.len();
        huffman_decode(raw, scratch)?;
        Ok(Some((Src::Scratch(start, scratch.len() - start), used + len)))
    }

    /// One representation (RFC 7541 §6) at the start of `buf`, which is at `base` in the block.
    fn parse(
        &self,
        buf: &[u8],
        base: usize,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<(Parsed, usize)>, HpackError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first & 0x80 != 0 {
            // §6.1 Indexed Header Field.
            let Some((index, used)) = decode_int(buf, 7)? else {
                return Ok(None);
            };
            let (name, value) = self.lookup(index)?;
            return Ok(Some((
                Parsed::Field {
                    name,
                    value,
                    repr: Repr::Indexed,
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    insert: false,
                },
                used,
            )));
        }
        if first & 0xe0 == 0x20 {
            // §6.3 Dynamic Table Size Update.
            let Some((size, used)) = decode_int(buf, 5)? else {
                return Ok(None);
            };
            return Ok(Some((Parsed::SizeUpdate(size), used)));
        }
        // §6.2 literals: with incremental indexing (01), never indexed (0001), without (0000).
        let (prefix, insert, indexed, new) = if first & 0x40 != 0 {
            (6, true, Repr::IncrementalIndexedName, Repr::IncrementalNewName)
        } else if first & 0xf0 == 0x10 {
            (4, false, Repr::NeverIndexedName, Repr::NeverNewName)
        } else {
            (4, false, Repr::WithoutIndexedName, Repr::WithoutNewName)
        };
        let Some((index, mut used)) = decode_int(buf, prefix)? else {
            return Ok(None);
        };
        let (name, repr) = if index == 0 {
            let Some((name, n)) = Self::string(buf.get(used..).unwrap_or(&[]), base + used, scratch)?
            else {
                return Ok(None);
            };
            used += n;
            (name, new)
        } else {
            (self.lookup(index)?.0, indexed)
        };
        let Some((value, n)) = Self::string(buf.get(used..).unwrap_or(&[]), base + used, scratch)?
        else {
            return Ok(None);
        };
        used += n;
        Ok(Some((
            Parsed::Field {
                name,
                value,
                repr,
                index: u32::try_from(index).unwrap_or(u32::MAX),
                insert,
            },
            used,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    type Fields = Vec<(String, String)>;

    fn decode(d: &mut Decoder, block: &[u8]) -> Result<Fields, HpackError> {
        let mut out = Vec::new();
        d.decode(block, true, &mut |ev| {
            if let Event::Field(f) = ev {
                out.push((
                    String::from_utf8_lossy(f.name).into_owned(),
                    String::from_utf8_lossy(f.value).into_owned(),
                ));
            }
        })?;
        Ok(out)
    }

    fn pairs(p: &[(&str, &str)]) -> Fields {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// RFC 7541 C.3 and C.4: three requests on one connection, without and with Huffman.
    #[test]
    fn deconstruct_rfc7541_requests() {
        let expect = [
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache"),
            ]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value"),
            ]),
        ];
        let sizes = [57, 110, 164];
        for blocks in [
            [
                "828684410f7777772e6578616d706c652e636f6d",
                "828684be58086e6f2d6361636865",
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
            ],
            [
                "828684418cf1e3c2e5f23a6ba0ab90f4ff",
                "828684be5886a8eb10649cbf",
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
            ],
        ] {
            let mut d = Decoder::new();
            for i in 0..3 {
                assert_eq!(decode(&mut d, &hex(blocks[i])).unwrap(), expect[i]);
                assert_eq!(d.table_size(), sizes[i]);
            }
        }
    }

    /// RFC 7541 C.5 and C.6: three responses with a 256-byte table (evictions).
    #[test]
    fn deconstruct_rfc7541_responses_with_eviction() {
        let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        let date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
        let loc = "https://www.example.com";
        let expect = [
            pairs(&[
                (":status", "302"),
                ("cache-control", "private"),
                ("date", date1),
                ("location", loc),
            ]),
            pairs(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", date1),
                ("location", loc),
            ]),
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", date2),
                ("location", loc),
                ("content-encoding", "gzip"),
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                ),
            ]),
        ];
        let sizes = [222, 222, 215];
        for blocks in [
            [
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                "4803333037c1c0bf",
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
            ],
            [
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                "4883640effc1c0bf",
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
            ],
        ] {
            let mut d = Decoder::new();
            d.settings_table_size(256);
            let mut check = loona_hpack::Decoder::new();
            check.set_max_table_size(256);
            for i in 0..3 {
                let b = hex(blocks[i]);
                let loona = check.decode(&b);
                let ours = decode(&mut d, &b);
                assert_eq!(ours.is_ok(), loona.is_ok(), "block {i}");
                assert_eq!(ours.unwrap(), expect[i], "block {i}");
                assert_eq!(d.table_size(), sizes[i], "block {i}");
            }
        }
    }

    #[test]
    fn huffman() {
        let mut out = Vec::new();
        huffman_decode(&hex("f1e3c2e5f23a6ba0ab90f4ff"), &mut out).unwrap();
        assert_eq!(out, b"www.example.com");
        // Padding longer than 7 bits (a whole 0xff byte), and an EOS symbol.
        assert_eq!(huffman_decode(&hex("f1e3c2e5f23a6ba0ab90f4ffff"), &mut out), Err(HpackError::BadHuffman));
        assert_eq!(huffman_decode(&hex("ffffffff"), &mut out), Err(HpackError::BadHuffman));
        // Padding that is not all ones ('0' is 00000: three trailing zero bits).
        assert_eq!(huffman_decode(&[0x00], &mut out), Err(HpackError::BadHuffman));
        let mut out = Vec::new();
        huffman_decode(&[], &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn integers() {
        assert_eq!(decode_int(&[10], 5), Ok(Some((10, 1))));
        assert_eq!(decode_int(&[31, 154, 10], 5), Ok(Some((1337, 3))));
        assert_eq!(decode_int(&[31, 154], 5), Ok(None));
        assert_eq!(decode_int(&[255, 0], 8), Ok(Some((255, 2))));
        assert_eq!(
            decode_int(&[31, 0xff, 0xff, 0xff, 0xff, 0x7f], 5),
            Err(HpackError::IntegerOverflow)
        );
        assert_eq!(
            decode_int(&[31, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 5),
            Err(HpackError::IntegerOverflow)
        );
    }

    #[test]
    fn malformed_index_past_table() {
        let mut d = Decoder::new();
        // Index 62: the dynamic table is known to be empty.
        assert_eq!(decode(&mut d, &[0xbe]), Err(HpackError::IndexPastTable));
        assert_eq!(decode(&mut d, &[0x80]), Err(HpackError::IndexZero));
        // A literal whose name index is past the table.
        assert_eq!(decode(&mut d, &[0x7f, 0x30, 0x00]), Err(HpackError::UnknownEntry));
    }

    #[test]
    fn mid_connection_unknown_entry_is_not_decodable() {
        let mut d = Decoder::mid_connection();
        let e = decode(&mut d, &[0x82, 0xbe]).unwrap_err();
        assert_eq!(e, HpackError::UnknownEntry);
        assert!(!e.is_malformed());
        // A block using the static table and its own insertions still decodes.
        let b = hex("828684410f7777772e6578616d706c652e636f6d");
        assert_eq!(decode(&mut d, &b).unwrap().len(), 4);
        assert_eq!(decode(&mut d, &[0xbe]).unwrap()[0].1, "www.example.com");
        // The entry behind it was never seen.
        assert_eq!(decode(&mut d, &[0xbf]), Err(HpackError::UnknownEntry));
        // A size update to 0 empties the encoder's table: everything is known again.
        assert_eq!(decode(&mut d, &[0x20, 0x3f, 0xe1, 0x1f]).unwrap().len(), 0);
        assert_eq!(decode(&mut d, &[0xbe]), Err(HpackError::IndexPastTable));
    }

    #[test]
    fn malformed_late_size_update_and_truncation() {
        let mut d = Decoder::new();
        assert_eq!(decode(&mut d, &[0x82, 0x20]), Err(HpackError::LateSizeUpdate));
        let mut d = Decoder::new();
        assert_eq!(decode(&mut d, &[0x82, 0x41, 0x05, b'a']), Err(HpackError::Truncated));
    }

    #[test]
    fn split_at_every_byte() {
        let b = hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
        let whole = {
            let mut d = Decoder::new();
            decode(&mut d, &hex("828684418cf1e3c2e5f23a6ba0ab90f4ff")).unwrap();
            decode(&mut d, &hex("828684be5886a8eb10649cbf")).unwrap();
            decode(&mut d, &b).unwrap()
        };
        for cut in 0..=b.len() {
            let mut d = Decoder::new();
            decode(&mut d, &hex("828684418cf1e3c2e5f23a6ba0ab90f4ff")).unwrap();
            decode(&mut d, &hex("828684be5886a8eb10649cbf")).unwrap();
            let mut out = Vec::new();
            for (frag, end) in [(&b[..cut], false), (&b[cut..], true)] {
                d.decode(frag, end, &mut |ev| {
                    if let Event::Field(f) = ev {
                        out.push((
                            String::from_utf8_lossy(f.name).into_owned(),
                            String::from_utf8_lossy(f.value).into_owned(),
                        ));
                    }
                })
                .unwrap();
            }
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn truncated_at_every_byte() {
        let b = hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
        for cut in 0..b.len() {
            let mut d = Decoder::new();
            decode(&mut d, &hex("828684418cf1e3c2e5f23a6ba0ab90f4ff")).unwrap();
            decode(&mut d, &hex("828684be5886a8eb10649cbf")).unwrap();
            let r = decode(&mut d, &b[..cut]);
            // Either whole fields (a cut between representations) or a truncation error.
            assert!(r.is_ok() || r == Err(HpackError::Truncated), "cut {cut}: {r:?}");
        }
    }

    #[test]
    fn table_cap_counts_and_marks_unknown() {
        let mut d = Decoder::new();
        // The encoder raises its table to 1 MiB; we keep 64 KiB.
        let mut block = vec![0x3f];
        let mut n = (1u64 << 20) - 31;
        while n >= 128 {
            block.push((n % 128) as u8 | 0x80);
            n /= 128;
        }
        block.push(n as u8);
        decode(&mut d, &block).unwrap();
        let value = vec![b'v'; 40_000];
        for _ in 0..3 {
            let mut b = vec![0x40, 0x01, b'x', 0x7f];
            let mut n = value.len() as u64 - 127;
            while n >= 128 {
                b.push((n % 128) as u8 | 0x80);
                n /= 128;
            }
            b.push(n as u8);
            b.extend_from_slice(&value);
            decode(&mut d, &b).unwrap();
        }
        assert!(d.cap_evictions() > 0);
        assert!(d.table_size() <= MAX_TABLE_SIZE);
        assert_eq!(decode(&mut d, &[0xbf]), Err(HpackError::UnknownEntry));
    }

    /// Deterministic xorshift, so failures reproduce.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Property: random bytes, fed as one or two fragments, never panic, and the table stays
    /// under its cap.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut d = Decoder::new();
        for i in 0..20_000 {
            let len = (rng(&mut seed) % 64) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rng(&mut seed) as u8).collect();
            // Bias towards valid-looking representations half of the time.
            if i % 2 == 0 && !b.is_empty() {
                b[0] = [0x82, 0x40, 0x00, 0x10, 0x20, 0xbe][i % 6];
            }
            let cut = if len == 0 { 0 } else { (rng(&mut seed) as usize) % len };
            let _ = d.decode(&b[..cut], false, &mut |_| {});
            let _ = d.decode(&b[cut..], true, &mut |_| {});
            assert!(d.table_size() <= MAX_TABLE_SIZE);
            if i % 1000 == 0 {
                d = if i % 2000 == 0 { Decoder::new() } else { Decoder::mid_connection() };
            }
        }
    }

    /// Property: whatever loona-hpack's encoder produces (dynamic table insertions, evictions,
    /// Huffman), we decode to the same header list as loona-hpack's decoder.
    #[test]
    fn agrees_with_loona_hpack() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        let names: [&[u8]; 8] = [
            b":method", b":path", b"content-type", b"x-custom", b"cookie", b"user-agent",
            b"grpc-status", b"accept",
        ];
        let mut enc = loona_hpack::Encoder::new();
        let mut theirs = loona_hpack::Decoder::new();
        let mut ours = Decoder::new();
        for _ in 0..2_000 {
            let n = 1 + (rng(&mut seed) % 8) as usize;
            let headers: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
                .map(|_| {
                    let name = names[(rng(&mut seed) % 8) as usize].to_vec();
                    let vlen = (rng(&mut seed) % 300) as usize;
                    let value = (0..vlen)
                        .map(|_| b"abcXYZ019 /-_=;%\xc3\xa9"[(rng(&mut seed) % 18) as usize])
                        .collect();
                    (name, value)
                })
                .collect();
            let block = enc.encode(headers.iter().map(|(n, v)| (&n[..], &v[..])));
            let want = theirs.decode(&block).unwrap();
            let mut got = Vec::new();
            ours.decode(&block, true, &mut |ev| {
                if let Event::Field(f) = ev {
                    got.push((f.name.to_vec(), f.value.to_vec()));
                }
            })
            .unwrap();
            assert_eq!(got, want);
            assert_eq!(got, headers);
        }
    }
}
