//! Capture files: classic pcap (micro- and nanosecond, both byte orders, the "modified" variant)
//! and pcapng (several sections and interfaces, per-interface link types and `if_tsresol`,
//! EPB/SPB/OPB packet blocks; Decryption Secrets Blocks kept for the TLS layer).
//!
//! The file is streamed through one buffer that grows only to the largest block seen (capped),
//! so memory does not grow with file size. pcapng blocks are parsed with `pcap-parser`; the
//! buffer management and the classic record headers are ours, because we need exact byte
//! offsets for error messages and a borrow that outlives the parse.
//!
//! A problem that makes the rest of the file unreadable is a [`SourceError`] (after every frame
//! before it was returned). A problem with one frame that does not stop reading (a frame longer
//! than the snapshot length, an unsupported link type) is a warning: see
//! [`FileSource::take_warnings`].

use super::{Comments, Frame, SourceError};
use netsniff_dissectors::pinfo::CaptureInterface;
use netsniff_dissectors::{FrameMeta, LinkType};
use pcap_parser::pcapng::{parse_block_be, parse_block_le, Block};
use pcap_parser::OptionCode;
use std::borrow::Cow;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// The largest frame accepted: libpcap's and wiretap's maximum snapshot length.
pub const MAX_FRAME_LEN: u32 = 262_144;
/// The largest pcapng block accepted (name resolution or custom blocks may exceed a frame).
pub const MAX_BLOCK_LEN: usize = 16 * 1024 * 1024;
/// Bytes read from the file at a time.
const READ_CHUNK: usize = 1024 * 1024;
/// Warnings kept for the caller between two [`FileSource::take_warnings`] calls.
const MAX_PENDING_WARNINGS: usize = 16;
/// Interfaces kept per pcapng section; packets naming a later one are an error (a real capture
/// has a handful; a corrupt file could describe millions).
const MAX_INTERFACES: usize = 65_536;
/// Decryption Secrets Blocks kept (each holds a whole key log; real files have one or two).
const MAX_SECRETS_BLOCKS: usize = 64;

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 0x0000_0001;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Obsolete Packet Block (pcapng drafts before the EPB); pcap-parser leaves it unknown.
const OPB_TYPE: u32 = 0x0000_0002;

/// A growable read buffer over a file with explicit `fill` / `consume` steps.
struct ReadBuf {
    file: Box<dyn Read + Send>,
    data: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `data[start]`.
    offset: u64,
}

impl ReadBuf {
    fn available(&self) -> &[u8] {
        self.data.get(self.start..self.end).unwrap_or(&[])
    }

    /// Makes at least `n` bytes available. `Ok(false)` when the file ends first.
    fn fill(&mut self, n: usize) -> std::io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.data.len() - self.start < n.max(READ_CHUNK) {
                // Move the tail to the front, growing when one block needs more room.
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                let want = n.max(READ_CHUNK) + READ_CHUNK;
                if self.data.len() < want {
                    self.data.resize(want, 0);
                }
            }
            let space = self.data.get_mut(self.end..).unwrap_or(&mut []);
            match self.file.read(space) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }
}

/// A record found in a pcapng block: interface (none for a custom block), timestamp in the
/// interface's units (none for an SPB or custom block), original length, and where the
/// captured bytes are in the block.
struct Packet {
    if_id: Option<u32>,
    ts: Option<u64>,
    origlen: u32,
    start: usize,
    caplen: usize,
}

/// The pseudo-interface of custom-block records.
const CUSTOM_RECORD: Interface = Interface {
    link_type: LinkType::PCAPNG_CUSTOM,
    snaplen: MAX_FRAME_LEN,
    units: 1_000_000,
    ts_offset: 0,
    ts_digits: 6,
};

/// Where the comments of the current frame are in the read buffer.
#[derive(Debug, Clone, Copy, Default)]
struct CommentSpans {
    spans: [(usize, usize); Comments::MAX],
    len: usize,
}

impl CommentSpans {
    fn push(&mut self, start: usize, len: usize) {
        if let Some(slot) = self.spans.get_mut(self.len) {
            *slot = (start, len);
            self.len += 1;
        }
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        self.spans.get(..self.len).unwrap_or(&[])
    }
}

/// One pcapng interface (or the single implicit interface of a classic pcap file).
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    ts_offset: i64,
    ts_digits: u8,
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Pcap {
        little_endian: bool,
        /// Record header length: 16, or 24 for the "modified" (Kuznetzov) format.
        record_len: usize,
        iface: Interface,
    },
    PcapNg {
        little_endian: bool,
    },
}

/// A pcapng Decryption Secrets Block: the secrets type (e.g. `0x544c534b`, TLS key log) and
/// its bytes.
#[derive(Debug, Clone)]
pub struct DecryptionSecrets {
    pub secrets_type: u32,
    pub data: Vec<u8>,
}

/// A capture file read frame by frame.
pub struct FileSource {
    path: PathBuf,
    buf: ReadBuf,
    format: Format,
    interfaces: Vec<Interface>,
    /// Each interface's name and description (index as `interfaces`).
    interface_names: Vec<(String, Option<String>)>,
    /// Sections read so far (pcapng; the current one's number, 1-based).
    sections: u32,
    /// Bytes of the frame returned last, consumed at the next call.
    pending: usize,
    next_number: u64,
    first_ts: Option<(i64, u32)>,
    warnings: Vec<SourceError>,
    warned_snaplen: bool,
    warned_link_types: Vec<LinkType>,
    /// The link type checked last (files rarely change it, so most frames skip the check).
    checked_link_type: Option<LinkType>,
    /// Comments of the frame returned last (offsets in the buffer, like its data).
    comments: CommentSpans,
    /// Decryption secrets found so far (pcapng DSB).
    pub secrets: Vec<DecryptionSecrets>,
}

impl FileSource {
    /// Opens `path` (`-` is standard input) and reads its file header.
    pub fn open(path: &Path) -> Result<FileSource, SourceError> {
        if path.as_os_str() == "-" {
            return FileSource::from_reader(path, Box::new(std::io::stdin()));
        }
        let err = |what: String| SourceError {
            path: path.to_path_buf(),
            packet: None,
            offset: None,
            what,
        };
        let file = File::open(path).map_err(|e| err(io_reason(&e)))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(err("is a directory, not a capture file".into()));
        }
        FileSource::from_reader(path, Box::new(file))
    }

    /// Reads a capture from any byte stream; `path` names it in messages.
    pub fn from_reader(
        path: &Path,
        reader: Box<dyn Read + Send>,
    ) -> Result<FileSource, SourceError> {
        let err = |what: String| SourceError {
            path: path.to_path_buf(),
            packet: None,
            offset: None,
            what,
        };
        let mut buf = ReadBuf {
            file: reader,
            data: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
        };
        buf.fill(4).map_err(|e| err(io_reason(&e)))?;
        let magic = buf
            .available()
            .get(..4)
            .and_then(|m| <[u8; 4]>::try_from(m).ok());
        let Some(magic) = magic else {
            return Err(err(if buf.available().is_empty() {
                "the file is empty, not a capture file".into()
            } else {
                "the file is too short to be a capture file".into()
            }));
        };
        let mut src = FileSource {
            path: path.to_path_buf(),
            buf,
            format: Format::PcapNg {
                little_endian: true,
            },
            interfaces: Vec::new(),
            interface_names: Vec::new(),
            sections: 0,
            pending: 0,
            next_number: 1,
            first_ts: None,
            warnings: Vec::new(),
            warned_snaplen: false,
            warned_link_types: Vec::new(),
            checked_link_type: None,
            comments: CommentSpans::default(),
            secrets: Vec::new(),
        };
        if u32::from_le_bytes(magic) == SHB_TYPE {
            return Ok(src); // pcapng: the section header is read as the first block.
        }
        src.format = src.read_pcap_header(magic)?;
        Ok(src)
    }

    /// The path this source reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The link type of the first interface (the only one of a classic pcap file), once known.
    pub fn first_link_type(&self) -> Option<LinkType> {
        match self.format {
            Format::Pcap { iface, .. } => Some(iface.link_type),
            Format::PcapNg { .. } => self.interfaces.first().map(|i| i.link_type),
        }
    }

    /// The snap length of the first interface, once known.
    pub fn first_snaplen(&self) -> Option<u32> {
        match self.format {
            Format::Pcap { iface, .. } => Some(iface.snaplen),
            Format::PcapNg { .. } => self.interfaces.first().map(|i| i.snaplen),
        }
    }

    /// Non-fatal problems met since the last call.
    pub fn take_warnings(&mut self) -> Vec<SourceError> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether [`FileSource::take_warnings`] has anything to give.
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }

    fn error(&self, packet: Option<u64>, what: impl Into<String>) -> SourceError {
        SourceError {
            path: self.path.clone(),
            packet,
            offset: Some(self.buf.offset),
            what: what.into(),
        }
    }

    fn warn(&mut self, packet: Option<u64>, what: impl Into<String>) {
        if self.warnings.len() < MAX_PENDING_WARNINGS {
            let e = self.error(packet, what);
            self.warnings.push(e);
        }
    }

    fn fill(&mut self, n: usize, packet: Option<u64>, what: &str) -> Result<bool, SourceError> {
        let had = self.buf.available().len();
        match self.buf.fill(n) {
            Ok(true) => Ok(true),
            Ok(false) if had == 0 && self.buf.available().is_empty() => Ok(false),
            Ok(false) => Err(self.error(
                packet,
                format!(
                    "the file ends in the middle of {what} ({} of {n} bytes present)",
                    self.buf.available().len()
                ),
            )),
            Err(e) => Err(self.error(packet, io_reason(&e))),
        }
    }

    fn read_pcap_header(&mut self, magic: [u8; 4]) -> Result<Format, SourceError> {
        let (little_endian, nanos, modified) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (true, false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (false, false, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (true, true, false),
            [0xa1, 0xb2, 0x3c, 0x4d] => (false, true, false),
            [0x34, 0xcd, 0xb2, 0xa1] => (true, false, true),
            [0xa1, 0xb2, 0xcd, 0x34] => (false, false, true),
            _ => {
                return Err(self.error(
                    None,
                    format!(
                        "not a pcap or pcapng file (unknown magic number {:02x}{:02x}{:02x}{:02x})",
                        magic[0], magic[1], magic[2], magic[3]
                    ),
                ))
            }
        };
        if !self.fill(24, None, "the pcap file header")? {
            return Err(self.error(None, "truncated pcap file header"));
        }
        let h = self.buf.available();
        let u32_at = |at: usize| read_u32(h, at, little_endian);
        let major = read_u16(h, 4, little_endian);
        if major != 2 {
            return Err(self.error(None, format!("unsupported pcap version {major}")));
        }
        let snaplen = match u32_at(16) {
            0 => MAX_FRAME_LEN,
            n => n,
        };
        // LinkType and additional information (draft-ietf-opsawg-pcap): the type is the low 16
        // bits, bits 16-25 are reserved and must be zero, the top bits describe an FCS.
        let field = u32_at(20);
        if field & 0x03ff_0000 != 0 {
            return Err(self.error(
                None,
                format!(
                    "the link type field's reserved bits are not zero ({:#010x})",
                    field & 0x03ff_0000
                ),
            ));
        }
        let link_type = LinkType(field & 0xffff);
        self.buf.consume(24);
        let iface = Interface {
            link_type,
            snaplen,
            units: if nanos { 1_000_000_000 } else { 1_000_000 },
            ts_offset: 0,
            ts_digits: if nanos { 9 } else { 6 },
        };
        Ok(Format::Pcap {
            little_endian,
            record_len: if modified { 24 } else { 16 },
            iface,
        })
    }

    /// The next frame, or `None` at the end of the file. The frame borrows this source until
    /// the next call.
    #[allow(clippy::should_implement_trait)] // a lending iterator: the frame borrows `self`
    pub fn next(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        self.buf.consume(std::mem::take(&mut self.pending));
        let found = match self.format {
            Format::Pcap {
                little_endian,
                record_len,
                iface,
            } => self.next_pcap_record(little_endian, record_len, iface)?,
            Format::PcapNg { .. } => self.next_pcapng_packet()?,
        };
        let Some((mut meta, start, len)) = found else {
            return Ok(None);
        };
        meta.number = self.next_number;
        self.next_number += 1;
        let (first_s, first_n) = *self.first_ts.get_or_insert((meta.secs, meta.nanos));
        let (rs, rn) = sub_time(meta.secs, meta.nanos, first_s, first_n);
        meta.rel_secs = rs;
        meta.rel_nanos = rn;
        self.check_link_type(meta.link_type, meta.number);
        let avail = self.buf.available();
        let data = avail.get(start..start + len).unwrap_or(&[]);
        let comments = Comments::new(avail, self.comments.as_slice());
        let interface = meta
            .interface_id
            .and_then(|id| self.interface_names.get(id as usize))
            .map(|(name, description)| CaptureInterface {
                name,
                description: description.as_deref(),
            });
        Ok(Some(Frame {
            meta,
            data,
            comments,
            interface,
        }))
    }

    fn check_link_type(&mut self, lt: LinkType, number: u64) {
        if self.checked_link_type == Some(lt) {
            return;
        }
        self.checked_link_type = Some(lt);
        let known =
            netsniff_dissectors::proto::frame_dissector(netsniff_dissectors::Table::LinkType, lt.0)
                .is_some();
        if !known && lt != LinkType::PCAPNG_CUSTOM && !self.warned_link_types.contains(&lt) {
            self.warned_link_types.push(lt);
            self.warn(
                Some(number),
                format!(
                    "link type {} is not supported; its frames are shown undissected",
                    lt.0
                ),
            );
        }
    }

    /// Reads one classic pcap record: `(meta, offset of the data in the buffer, length)`.
    fn next_pcap_record(
        &mut self,
        le: bool,
        record_len: usize,
        iface: Interface,
    ) -> Result<Option<(FrameMeta, usize, usize)>, SourceError> {
        let number = Some(self.next_number);
        // The buffer nearly always holds the whole record already: `fill` only when it does not.
        if self.buf.available().len() < record_len
            && !self.fill(record_len, number, "a packet record header")?
        {
            return Ok(None);
        }
        // The four fields read at once from a fixed-size header (the modified format's has
        // more after them), in the file's byte order decided once.
        let Some(h) = self.buf.available().first_chunk::<16>() else {
            return Ok(None); // `fill` made at least `record_len` >= 16 bytes available
        };
        let mut fields = [0u32; 4];
        for (field, bytes) in fields.iter_mut().zip(h.chunks_exact(4)) {
            *field = u32::from_le_bytes(<[u8; 4]>::try_from(bytes).unwrap_or([0; 4]));
        }
        if !le {
            fields = fields.map(u32::swap_bytes);
        }
        let [ts_sec, ts_frac, caplen, origlen] = fields;
        if caplen > MAX_FRAME_LEN {
            return Err(self.error(
                number,
                format!(
                    "packet of {caplen} bytes is bigger than the maximum of {MAX_FRAME_LEN} (corrupt record)"
                ),
            ));
        }
        if caplen > iface.snaplen && !self.warned_snaplen {
            self.warned_snaplen = true;
            self.warn(
                number,
                format!(
                    "packet of {caplen} bytes is longer than the file's snapshot length of {}",
                    iface.snaplen
                ),
            );
        }
        let total = record_len + caplen as usize;
        if self.buf.available().len() < total && !self.fill(total, number, "a packet")? {
            return Ok(None);
        }
        self.pending = total;
        // As wiretap: seconds are unsigned, and microseconds become (signed) nanoseconds
        // in 32-bit arithmetic (fuzzed files overflow it; tshark shows the wrapped value).
        let frac = if iface.units == 1_000_000 {
            ts_frac.wrapping_mul(1000)
        } else {
            ts_frac
        };
        let (secs, nanos) = match u32::try_from(frac as i32) {
            // The usual sub-second field, already in range: nothing to carry.
            Ok(nanos) if nanos < 1_000_000_000 => (i64::from(ts_sec), nanos),
            _ => normalize(i64::from(ts_sec), i64::from(frac as i32)),
        };
        // Wiretap removes a link type's pseudo-header from the frame (and from its lengths).
        let strip = pseudo_header_len(iface.link_type).min(caplen);
        let meta = FrameMeta {
            secs,
            nanos,
            len: origlen.saturating_sub(strip),
            cap_len: caplen - strip,
            link_type: iface.link_type,
            ts_digits: iface.ts_digits,
            ..FrameMeta::default()
        };
        Ok(Some((
            meta,
            record_len + strip as usize,
            (caplen - strip) as usize,
        )))
    }

    /// Reads blocks until a packet block: `(meta, offset of the data in the buffer, length)`.
    fn next_pcapng_packet(&mut self) -> Result<Option<(FrameMeta, usize, usize)>, SourceError> {
        loop {
            self.comments.clear();
            let number = Some(self.next_number);
            if !self.fill(8, number, "a block header")? {
                return Ok(None);
            }
            let mut le = match self.format {
                Format::PcapNg { little_endian } => little_endian,
                Format::Pcap { .. } => return Ok(None),
            };
            let block_type = read_u32(self.buf.available(), 0, le);
            if block_type == SHB_TYPE {
                if !self.fill(12, number, "a section header")? {
                    return Ok(None);
                }
                le = match read_u32(self.buf.available(), 8, true) {
                    BYTE_ORDER_MAGIC => true,
                    m if m.swap_bytes() == BYTE_ORDER_MAGIC => false,
                    _ => {
                        return Err(
                            self.error(number, "bad byte-order magic in a pcapng section header")
                        )
                    }
                };
                self.format = Format::PcapNg { little_endian: le };
                self.interfaces.clear();
                self.interface_names.clear();
                self.sections = self.sections.saturating_add(1);
            }
            let block_len = read_u32(self.buf.available(), 4, le) as usize;
            if block_len < 12 || block_len % 4 != 0 {
                return Err(self.error(number, format!("bad pcapng block length {block_len}")));
            }
            if block_len > MAX_BLOCK_LEN {
                return Err(self.error(
                    number,
                    format!("pcapng block of {block_len} bytes is bigger than the maximum of {MAX_BLOCK_LEN}"),
                ));
            }
            if !self.fill(block_len, number, "a pcapng block")? {
                return Ok(None);
            }
            let raw = self.buf.available().get(..block_len).unwrap_or(&[]);
            if read_u32(raw, block_len - 4, le) as usize != block_len {
                return Err(self.error(
                    number,
                    format!(
                        "pcapng block of type {block_type:#x}: its trailing length {} differs from its length {block_len}",
                        read_u32(raw, block_len - 4, le)
                    ),
                ));
            }
            let parsed = if le {
                parse_block_le(raw)
            } else {
                parse_block_be(raw)
            };
            let block = match parsed {
                Ok((_, b)) => b,
                Err(_) if block_type == SHB_TYPE => {
                    return Err(self.error(number, "malformed pcapng section header block"))
                }
                Err(_) if block_type == IDB_TYPE => {
                    // Later packets name interfaces by position: without this one, none can be
                    // attributed.
                    return Err(self.error(number, "malformed pcapng interface description block"));
                }
                Err(_) => {
                    // One broken block: skip it, as its length is known to be sane.
                    self.warn(
                        number,
                        format!("malformed pcapng block of type {block_type:#x} skipped"),
                    );
                    self.buf.consume(block_len);
                    continue;
                }
            };
            let base = raw.as_ptr() as usize;
            let at = |s: &[u8]| (s.as_ptr() as usize).wrapping_sub(base);
            let mut comments = CommentSpans::default();
            let packet = match block {
                Block::SectionHeader(shb) => {
                    let (major, minor) = (shb.major_version, shb.minor_version);
                    // libpcap accepts 1.0 and 1.2 (1.2 was written by some tools by mistake).
                    if major != 1 || (minor != 0 && minor != 2) {
                        return Err(self.error(
                            number,
                            format!("unsupported pcapng version {major}.{minor}"),
                        ));
                    }
                    None
                }
                Block::InterfaceDescription(idb) => {
                    let iface = interface_from_idb(&idb, le);
                    if self.interfaces.len() < MAX_INTERFACES {
                        self.interfaces.push(iface);
                        self.interface_names.push(interface_name(&idb));
                    }
                    None
                }
                Block::EnhancedPacket(epb) => {
                    for opt in &epb.options {
                        if let (OptionCode::Comment, Cow::Borrowed(value)) = (opt.code, &opt.value)
                        {
                            let len = usize::from(opt.len).min(value.len());
                            comments.push(at(value), len);
                        }
                    }
                    Some(Packet {
                        if_id: Some(epb.if_id),
                        ts: Some((u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low)),
                        origlen: epb.origlen,
                        start: at(epb.data),
                        caplen: (epb.caplen as usize).min(epb.data.len()),
                    })
                }
                Block::SimplePacket(spb) => {
                    let snap = self.interfaces.first().map_or(MAX_FRAME_LEN, |i| i.snaplen);
                    let caplen = (spb.origlen.min(snap) as usize).min(spb.data.len());
                    Some(Packet {
                        if_id: Some(0),
                        ts: None,
                        origlen: spb.origlen,
                        start: at(spb.data),
                        caplen,
                    })
                }
                Block::DecryptionSecrets(dsb) => {
                    if self.secrets.len() < MAX_SECRETS_BLOCKS {
                        self.secrets.push(DecryptionSecrets {
                            secrets_type: dsb.secrets_type.0,
                            data: dsb.data.to_vec(),
                        });
                    }
                    None
                }
                Block::Custom(cb) => {
                    // Wireshark shows custom blocks as records of their own (custom data and
                    // options together: their boundary is not encoded).
                    Some(Packet {
                        if_id: None,
                        ts: None,
                        origlen: u32::try_from(cb.data.len()).unwrap_or(u32::MAX),
                        start: at(cb.data),
                        caplen: cb.data.len(),
                    })
                }
                Block::Unknown(ref u) if block_type == OPB_TYPE => {
                    // interface id u16, drops u16, ts high, ts low, caplen, origlen, data.
                    let b = u.data;
                    let caplen = read_u32(b, 12, le) as usize;
                    Some(Packet {
                        if_id: Some(u32::from(read_u16(b, 0, le))),
                        ts: Some(
                            (u64::from(read_u32(b, 4, le)) << 32) | u64::from(read_u32(b, 8, le)),
                        ),
                        origlen: read_u32(b, 16, le),
                        start: at(b.get(20..).unwrap_or(&[])),
                        caplen: caplen.min(b.len().saturating_sub(20)),
                    })
                }
                _ => None,
            };
            let Some(Packet {
                if_id,
                ts,
                origlen,
                start,
                caplen,
            }) = packet
            else {
                self.buf.consume(block_len);
                continue;
            };
            let iface = match if_id {
                None => CUSTOM_RECORD,
                Some(id) => match self.interfaces.get(id as usize) {
                    Some(iface) => *iface,
                    None if id == 0 && ts.is_none() => {
                        return Err(self.error(
                            number,
                            "simple packet block before any interface description",
                        ))
                    }
                    None => {
                        return Err(self.error(
                            number,
                            format!("packet refers to interface {id}, which was not described"),
                        ))
                    }
                },
            };
            if caplen > MAX_FRAME_LEN as usize {
                return Err(self.error(
                    number,
                    format!(
                        "packet of {caplen} bytes is bigger than the maximum of {MAX_FRAME_LEN}"
                    ),
                ));
            }
            if caplen > iface.snaplen as usize && !self.warned_snaplen {
                self.warned_snaplen = true;
                self.warn(
                    number,
                    format!(
                        "packet of {caplen} bytes is longer than its interface's snapshot length of {}",
                        iface.snaplen
                    ),
                );
            }
            let (secs, nanos) = match ts {
                // SPBs and custom blocks carry no timestamp. Wireshark then shows none, but
                // still counts the record as time 0 (the first frame is the reference).
                None => (0, 0),
                Some(ts) => {
                    let whole = ts / iface.units;
                    let frac =
                        u128::from(ts % iface.units) * 1_000_000_000 / u128::from(iface.units);
                    normalize(
                        i64::try_from(whole)
                            .unwrap_or(i64::MAX)
                            .saturating_add(iface.ts_offset),
                        i64::try_from(frac).unwrap_or(0),
                    )
                }
            };
            self.pending = block_len;
            self.comments = comments;
            let caplen_u32 = u32::try_from(caplen).unwrap_or(u32::MAX);
            let meta = FrameMeta {
                secs,
                nanos,
                len: origlen,
                cap_len: caplen_u32,
                link_type: iface.link_type,
                interface_id: if_id,
                section: Some(self.sections.max(1)),
                ts_digits: iface.ts_digits,
                no_timestamp: ts.is_none(),
                ..FrameMeta::default()
            };
            return Ok(Some((meta, start, caplen)));
        }
    }
}

/// The IDB's `if_hardware` option (pcap-parser has no name for it).
const IF_HARDWARE: u16 = 15;
/// Longest interface name kept (`if_name` is free text; a corrupt file could make it huge).
const MAX_INTERFACE_NAME: usize = 256;

/// The name Wireshark gives an interface (its `if_name`, else its `if_description`, else its
/// `if_hardware`, else "unknown"), and its `if_description`.
fn interface_name(
    idb: &pcap_parser::pcapng::InterfaceDescriptionBlock<'_>,
) -> (String, Option<String>) {
    let text = |code: OptionCode| {
        let o = idb.options.iter().find(|o| o.code == code)?;
        let len = usize::from(o.len)
            .min(o.value.len())
            .min(MAX_INTERFACE_NAME);
        let text = String::from_utf8_lossy(o.value.get(..len)?).into_owned();
        // Options are padded with zeros; some writers count them in the length.
        Some(text.trim_end_matches('\0').to_string())
    };
    let description = text(OptionCode::IfDescription);
    let name = text(OptionCode::IfName)
        .or_else(|| description.clone())
        .or_else(|| text(OptionCode(IF_HARDWARE)))
        .unwrap_or_else(|| "unknown".to_string());
    (name, description)
}

fn interface_from_idb(
    idb: &pcap_parser::pcapng::InterfaceDescriptionBlock<'_>,
    le: bool,
) -> Interface {
    let option = |code: OptionCode| idb.options.iter().find(|o| o.code == code);
    let resol = option(OptionCode::IfTsresol)
        .and_then(|o| o.value.first().copied())
        .unwrap_or(6);
    // pcap-parser reads if_tsoffset as little-endian whatever the section's byte order.
    let ts_offset = option(OptionCode::IfTsoffset)
        .and_then(|o| <[u8; 8]>::try_from(o.value.get(..8)?).ok())
        .map_or(0, |b| {
            if le {
                i64::from_le_bytes(b)
            } else {
                i64::from_be_bytes(b)
            }
        });
    let (units, digits) = if resol & 0x80 == 0 {
        let p = u32::from(resol.min(19));
        (10u64.pow(p), u8::try_from(p.min(9)).unwrap_or(9))
    } else {
        let p = u32::from((resol & 0x7f).min(63));
        // 2^-p seconds needs about p·log10(2) decimals.
        (
            1u64 << p,
            u8::try_from((p * 30103).div_ceil(100_000).min(9)).unwrap_or(9),
        )
    };
    Interface {
        link_type: LinkType(u32::from(idb.linktype.0 as u16)),
        snaplen: match idb.snaplen {
            0 => MAX_FRAME_LEN,
            n => n,
        },
        units: units.max(1),
        ts_offset,
        ts_digits: digits,
    }
}

/// Bytes of per-packet pseudo-header that wiretap takes off the front of a frame for this link
/// type, so that `frame.len` and `frame.cap_len` agree with tshark's.
fn pseudo_header_len(lt: LinkType) -> u32 {
    match lt.0 {
        123 => 4, // LINKTYPE_SUNATM: flags, VPI, VCI
        _ => 0,
    }
}

fn read_u32(b: &[u8], at: usize, le: bool) -> u32 {
    let a = b
        .get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .unwrap_or([0; 4]);
    if le {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    }
}

fn read_u16(b: &[u8], at: usize, le: bool) -> u16 {
    let a = b
        .get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .unwrap_or([0; 2]);
    if le {
        u16::from_le_bytes(a)
    } else {
        u16::from_be_bytes(a)
    }
}

/// Brings nanoseconds into 0..1e9, carrying whole seconds (invalid sub-second fields in pcap
/// records exist: see tcpdump's `timestamp_invalid_*` tests; tshark prints them unnormalised,
/// e.g. `1418145370.1000000000`, which is the same instant).
fn normalize(secs: i64, nanos: i64) -> (i64, u32) {
    (
        secs.saturating_add(nanos.div_euclid(1_000_000_000)),
        u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
    )
}

/// `a - b` as seconds and nanoseconds (nanoseconds always in 0..1e9).
pub fn sub_time(a_s: i64, a_n: u32, b_s: i64, b_n: u32) -> (i64, u32) {
    let mut s = a_s.saturating_sub(b_s);
    let mut n = i64::from(a_n) - i64::from(b_n);
    if n < 0 {
        n += 1_000_000_000;
        s = s.saturating_sub(1);
    }
    (s, u32::try_from(n).unwrap_or(0))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A capture file in memory: header plus records, in either byte order.
    struct Bytes {
        le: bool,
        out: Vec<u8>,
    }

    impl Bytes {
        fn new(le: bool) -> Bytes {
            Bytes {
                le,
                out: Vec::new(),
            }
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            let b = if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            self.out.extend_from_slice(&b);
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            let b = if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            self.out.extend_from_slice(&b);
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.out.extend_from_slice(b);
            self
        }
        fn pad4(&mut self) -> &mut Self {
            while self.out.len() % 4 != 0 {
                self.out.push(0);
            }
            self
        }
    }

    fn pcap_header(le: bool, magic: u32, link_type: u32, snaplen: u32) -> Bytes {
        let mut b = Bytes::new(le);
        b.u32(magic)
            .u16(2)
            .u16(4)
            .u32(0)
            .u32(0)
            .u32(snaplen)
            .u32(link_type);
        b
    }

    fn pcap_record(b: &mut Bytes, secs: u32, frac: u32, data: &[u8], origlen: u32) {
        b.u32(secs)
            .u32(frac)
            .u32(data.len() as u32)
            .u32(origlen)
            .raw(data);
    }

    /// A pcapng block: type, length, body (padded), options, length.
    fn block(le: bool, block_type: u32, body: &[u8], options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut inner = Bytes::new(le);
        inner.raw(body).pad4();
        if !options.is_empty() {
            for (code, value) in options {
                inner.u16(*code).u16(value.len() as u16).raw(value).pad4();
            }
            inner.u16(0).u16(0);
        }
        let len = inner.out.len() as u32 + 12;
        let mut b = Bytes::new(le);
        b.u32(block_type).u32(len).raw(&inner.out).u32(len);
        b.out
    }

    fn shb(le: bool, major: u16, minor: u16) -> Vec<u8> {
        let mut body = Bytes::new(le);
        body.u32(BYTE_ORDER_MAGIC)
            .u16(major)
            .u16(minor)
            .raw(&[0xff; 8]);
        block(le, SHB_TYPE, &body.out, &[])
    }

    fn idb(le: bool, link_type: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Bytes::new(le);
        body.u16(link_type).u16(0).u32(snaplen);
        block(le, IDB_TYPE, &body.out, options)
    }

    fn epb(le: bool, if_id: u32, ts: u64, data: &[u8], options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Bytes::new(le);
        body.u32(if_id)
            .u32((ts >> 32) as u32)
            .u32(ts as u32)
            .u32(data.len() as u32)
            .u32(data.len() as u32)
            .raw(data);
        block(le, 6, &body.out, options)
    }

    struct Read {
        frames: Vec<(FrameMeta, Vec<u8>, Vec<Vec<u8>>)>,
        warnings: Vec<String>,
        end: Option<String>,
        secrets: usize,
    }

    fn read(bytes: &[u8]) -> Read {
        let mut r = Read {
            frames: Vec::new(),
            warnings: Vec::new(),
            end: None,
            secrets: 0,
        };
        let path = Path::new("t.cap");
        let mut src = match FileSource::from_reader(path, Box::new(Cursor::new(bytes.to_vec()))) {
            Ok(s) => s,
            Err(e) => {
                r.end = Some(e.to_string());
                return r;
            }
        };
        loop {
            match src.next() {
                Ok(Some(f)) => {
                    let comments = f.comments.iter().map(|c| c.to_vec()).collect();
                    r.frames.push((f.meta, f.data.to_vec(), comments));
                }
                Ok(None) => break,
                Err(e) => {
                    r.end = Some(e.to_string());
                    break;
                }
            }
        }
        r.warnings = src.take_warnings().iter().map(|w| w.to_string()).collect();
        r.secrets = src.secrets.len();
        r
    }

    #[test]
    fn pcap_micro_and_nano_both_byte_orders() {
        for le in [true, false] {
            for (magic, nanos) in [(0xa1b2_c3d4, false), (0xa1b2_3c4d, true)] {
                let mut b = pcap_header(le, magic, 1, 65535);
                pcap_record(&mut b, 100, 250, &[1, 2, 3], 60);
                pcap_record(&mut b, 101, 0, &[4; 14], 14);
                let r = read(&b.out);
                assert_eq!(r.end, None);
                assert_eq!(r.frames.len(), 2);
                let (m, data, _) = &r.frames[0];
                assert_eq!((m.secs, m.len, m.cap_len, m.number), (100, 60, 3, 1));
                assert_eq!(m.nanos, if nanos { 250 } else { 250_000 });
                assert_eq!(m.ts_digits, if nanos { 9 } else { 6 });
                assert_eq!(m.interface_id, None);
                assert_eq!(data, &[1, 2, 3]);
                let m2 = r.frames[1].0;
                assert_eq!(
                    (m2.rel_secs, m2.rel_nanos),
                    (0, if nanos { 999_999_750 } else { 999_750_000 })
                );
            }
        }
    }

    #[test]
    fn pcap_modified_records() {
        let mut b = pcap_header(true, 0xa1b2_cd34, 1, 65535);
        b.u32(7).u32(0).u32(2).u32(2).raw(&[0; 8]).raw(&[9, 9]);
        let r = read(&b.out);
        assert_eq!(r.end, None);
        assert_eq!(r.frames[0].1, vec![9, 9]);
    }

    #[test]
    fn pcap_bad_headers() {
        assert!(read(b"").end.unwrap().contains("empty"));
        assert!(read(b"\xd4\xc3").end.unwrap().contains("too short"));
        assert!(read(b"hello world")
            .end
            .unwrap()
            .contains("not a pcap or pcapng file"));
        let mut v1 = pcap_header(true, 0xa1b2_c3d4, 1, 0);
        v1.out[4] = 1;
        assert!(read(&v1.out)
            .end
            .unwrap()
            .contains("unsupported pcap version 1"));
        let reserved = pcap_header(true, 0xa1b2_c3d4, 0x0030_0001, 0);
        assert!(read(&reserved.out).end.unwrap().contains("reserved bits"));
        let short = pcap_header(true, 0xa1b2_c3d4, 1, 0);
        assert!(read(&short.out[..20])
            .end
            .unwrap()
            .contains("pcap file header"));
    }

    #[test]
    fn pcap_cut_off_mid_packet_keeps_earlier_frames() {
        let mut b = pcap_header(true, 0xa1b2_c3d4, 1, 65535);
        pcap_record(&mut b, 1, 0, &[1; 20], 20);
        pcap_record(&mut b, 2, 0, &[2; 20], 20);
        let cut = &b.out[..b.out.len() - 5];
        let r = read(cut);
        assert_eq!(r.frames.len(), 1);
        assert_eq!(
            r.end.as_deref(),
            Some("t.cap: packet 2 at byte offset 60: the file ends in the middle of a packet (31 of 36 bytes present)")
        );
        let r = read(&b.out[..b.out.len() - 30]);
        assert_eq!(r.frames.len(), 1);
        assert!(r.end.unwrap().contains(
            "packet 2 at byte offset 60: the file ends in the middle of a packet record header"
        ));
    }

    #[test]
    fn pcap_oversized_and_snaplen() {
        let mut b = pcap_header(true, 0xa1b2_c3d4, 1, 10);
        pcap_record(&mut b, 1, 0, &[1; 20], 20);
        pcap_record(&mut b, 1, 0, &[1; 20], 20);
        b.u32(1).u32(0).u32(MAX_FRAME_LEN + 1).u32(5);
        let r = read(&b.out);
        assert_eq!(r.frames.len(), 2);
        assert_eq!(r.warnings.len(), 1, "one warning for the whole file");
        assert!(r.warnings[0].contains("packet 1 at byte offset 24: packet of 20 bytes is longer than the file's snapshot length of 10"));
        assert!(r.end.unwrap().contains(
            "packet 3 at byte offset 96: packet of 262145 bytes is bigger than the maximum"
        ));
    }

    #[test]
    fn pcap_unknown_link_type_is_a_warning() {
        let mut b = pcap_header(true, 0xa1b2_c3d4, 147, 65535);
        pcap_record(&mut b, 1, 0, &[1; 4], 4);
        let r = read(&b.out);
        assert_eq!(r.frames.len(), 1);
        assert!(r.warnings[0].contains("link type 147 is not supported"));
    }

    #[test]
    fn pcap_timestamps_as_wiretap_reads_them() {
        let mut b = pcap_header(true, 0xa1b2_c3d4, 1, 65535);
        // Seconds past 2038 are unsigned; 1 000 001 µs carries into the seconds.
        pcap_record(&mut b, 4_294_967_295, 0, &[0], 1);
        pcap_record(&mut b, 10, 1_000_001, &[0], 1);
        let r = read(&b.out);
        assert_eq!(
            (r.frames[0].0.secs, r.frames[0].0.nanos),
            (4_294_967_295, 0)
        );
        assert_eq!((r.frames[1].0.secs, r.frames[1].0.nanos), (11, 1000));
    }

    #[test]
    fn pcapng_interface_names_and_section_numbers() {
        let mut f = shb(true, 1, 0);
        f.extend(idb(true, 1, 0, &[(2, b"eth0"), (3, b"Wi-Fi")])); // if_name, if_description
        f.extend(idb(true, 1, 0, &[(3, b"Loopback")])); // a description only
        f.extend(idb(true, 1, 0, &[]));
        for i in 0..3 {
            f.extend(epb(true, i, 1, &[0; 14], &[]));
        }
        f.extend(shb(true, 1, 0));
        f.extend(idb(true, 1, 0, &[(15, b"nic")])); // if_hardware
        f.extend(epb(true, 0, 1, &[0; 14], &[]));
        let path = Path::new("t.pcapng");
        let mut src = FileSource::from_reader(path, Box::new(Cursor::new(f))).unwrap();
        let mut seen = Vec::new();
        while let Some(frame) = src.next().unwrap() {
            let i = frame.interface.unwrap();
            seen.push((
                frame.meta.section,
                i.name.to_string(),
                i.description.map(str::to_string),
            ));
        }
        let own = |s: &str| s.to_string();
        assert_eq!(
            seen,
            [
                (Some(1), own("eth0"), Some(own("Wi-Fi"))),
                (Some(1), own("Loopback"), Some(own("Loopback"))),
                (Some(1), own("unknown"), None),
                (Some(2), own("nic"), None),
            ]
        );
        // Classic pcap has neither.
        let b = pcap_header(true, 0xa1b2_c3d4, 1, 65535);
        let mut b = b;
        pcap_record(&mut b, 1, 0, &[0; 14], 14);
        let r = read(&b.out);
        assert_eq!(
            (r.frames[0].0.section, r.frames[0].0.interface_id),
            (None, None)
        );
    }

    #[test]
    fn pcapng_sections_interfaces_resolutions() {
        let mut f = shb(true, 1, 0);
        f.extend(idb(true, 1, 0, &[(9, &[9])])); // if_tsresol 10^-9
        f.extend(idb(
            true,
            101,
            1500,
            &[(9, &[0x8a]), (14, &5i64.to_le_bytes())],
        )); // 2^-10, +5 s
        f.extend(epb(
            true,
            0,
            1_500_000_000_123_456_789,
            &[1, 2, 3],
            &[(1, b"first")],
        ));
        f.extend(epb(true, 1, 3 * 1024 + 512, &[4; 5], &[]));
        // A big-endian section with microsecond (default) resolution.
        f.extend(shb(false, 1, 0));
        f.extend(idb(false, 228, 0, &[(14, &(-1i64).to_be_bytes())]));
        f.extend(epb(false, 0, 2_000_001, &[6], &[(1, b"a"), (1, b"bb")]));
        let r = read(&f);
        assert_eq!(r.end, None);
        let m: Vec<_> = r.frames.iter().map(|f| f.0).collect();
        assert_eq!(
            (m[0].secs, m[0].nanos, m[0].ts_digits),
            (1_500_000_000, 123_456_789, 9)
        );
        assert_eq!(m[0].interface_id, Some(0));
        assert_eq!(m[0].link_type, LinkType::ETHERNET);
        assert_eq!((m[1].secs, m[1].nanos, m[1].ts_digits), (8, 500_000_000, 4));
        assert_eq!(m[1].link_type, LinkType::RAW);
        assert_eq!((m[2].secs, m[2].nanos, m[2].ts_digits), (1, 1000, 6));
        assert_eq!(m[2].link_type, LinkType::IPV4);
        assert_eq!(
            m[2].interface_id,
            Some(0),
            "interfaces are numbered per section"
        );
        assert_eq!(r.frames[0].2, vec![b"first".to_vec()]);
        assert_eq!(r.frames[2].2, vec![b"a".to_vec(), b"bb".to_vec()]);
        assert_eq!(r.frames[1].1, vec![4; 5]);
    }

    #[test]
    fn pcapng_spb_opb_dsb_and_custom_blocks() {
        let le = true;
        let mut f = shb(le, 1, 0);
        f.extend(idb(le, 1, 4, &[]));
        let mut spb = Bytes::new(le);
        spb.u32(10).raw(&[7; 10]);
        f.extend(block(le, 3, &spb.out, &[]));
        let mut opb = Bytes::new(le);
        opb.u16(0)
            .u16(0)
            .u32(0)
            .u32(3_000_000)
            .u32(2)
            .u32(9)
            .raw(&[8, 8]);
        f.extend(block(le, OPB_TYPE, &opb.out, &[(1, b"old")]));
        let mut dsb = Bytes::new(le);
        dsb.u32(0x544c_534b).u32(5).raw(b"keys!");
        f.extend(block(le, 0x0000_000A, &dsb.out, &[]));
        let mut cb = Bytes::new(le);
        cb.u32(32473).raw(b"custom data!");
        f.extend(block(le, 0x0000_0BAD, &cb.out, &[]));
        let r = read(&f);
        assert_eq!(r.end, None);
        assert_eq!(r.secrets, 1);
        let (spb, opb, cb) = (&r.frames[0], &r.frames[1], &r.frames[2]);
        assert_eq!(
            (spb.0.len, spb.0.cap_len, spb.0.no_timestamp),
            (10, 4, true)
        );
        assert_eq!(
            spb.1,
            vec![7; 4],
            "an SPB is cut at the interface's snaplen"
        );
        assert_eq!((opb.0.secs, opb.0.len, opb.0.cap_len), (3, 9, 2));
        assert_eq!(opb.1, vec![8, 8]);
        assert_eq!(cb.0.link_type, LinkType::PCAPNG_CUSTOM);
        assert_eq!((cb.0.interface_id, cb.0.no_timestamp), (None, true));
        assert_eq!(cb.1, b"custom data!".to_vec());
    }

    #[test]
    fn pcapng_damage() {
        let le = true;
        let good = || {
            let mut f = shb(le, 1, 0);
            f.extend(idb(le, 1, 0, &[]));
            f.extend(epb(le, 0, 1, &[1; 8], &[]));
            f
        };
        // An unsupported version in a later section: the first section's frame is kept.
        let mut f = good();
        f.extend(shb(le, 2, 0));
        let r = read(&f);
        assert_eq!(r.frames.len(), 1);
        let end = r.end.unwrap();
        assert!(
            end.contains("packet 2 at byte offset 88: unsupported pcapng version 2.0"),
            "{end}"
        );
        // Unknown interface.
        let mut f = good();
        f.extend(epb(le, 3, 1, &[1; 8], &[]));
        assert!(read(&f)
            .end
            .unwrap()
            .contains("interface 3, which was not described"));
        // Trailing length differs from the leading one.
        let mut f = good();
        let at = f.len() - 4;
        f[at] ^= 4;
        assert!(read(&f).end.unwrap().contains("trailing length"));
        // Length not a multiple of 4, and cut short.
        let mut f = good();
        let mut e = epb(le, 0, 1, &[1; 8], &[]);
        e[4] = 13;
        f.extend(e);
        assert!(read(&f).end.unwrap().contains("bad pcapng block length 13"));
        let f = good();
        let r = read(&f[..f.len() - 3]);
        assert!(r.frames.is_empty());
        assert!(r
            .end
            .unwrap()
            .contains("packet 1 at byte offset 48: the file ends in the middle of a pcapng block"));
        // Bad byte-order magic.
        let mut f = good();
        f[8] = 0;
        assert!(read(&f).end.unwrap().contains("byte-order magic"));
        // A packet block before any interface.
        let mut f = shb(le, 1, 0);
        f.extend(epb(le, 0, 1, &[1; 8], &[]));
        assert!(read(&f)
            .end
            .unwrap()
            .contains("interface 0, which was not described"));
    }

    #[test]
    fn pcapng_malformed_block_is_skipped_with_a_warning() {
        let le = true;
        let mut f = shb(le, 1, 0);
        f.extend(idb(le, 1, 0, &[]));
        // An EPB whose captured length runs past its block.
        let mut body = Bytes::new(le);
        body.u32(0).u32(0).u32(0).u32(400).u32(400).raw(&[0; 8]);
        f.extend(block(le, 6, &body.out, &[]));
        f.extend(epb(le, 0, 1, &[1; 8], &[]));
        let r = read(&f);
        assert_eq!(r.end, None);
        assert_eq!(r.frames.len(), 1);
        assert!(r.warnings[0].contains("malformed pcapng block of type 0x6 skipped"));
    }

    #[test]
    fn memory_does_not_grow_with_the_file() {
        let mut b = pcap_header(true, 0xa1b2_c3d4, 1, 65535);
        for i in 0..3000 {
            pcap_record(&mut b, i, 0, &[0; 1500], 1500);
        }
        let path = Path::new("big.cap");
        let mut src = FileSource::from_reader(path, Box::new(Cursor::new(b.out))).unwrap();
        let mut n = 0;
        while let Ok(Some(_)) = src.next() {
            n += 1;
        }
        assert_eq!(n, 3000);
        assert!(src.buf.data.len() <= 2 * READ_CHUNK + MAX_FRAME_LEN as usize);
    }
}
