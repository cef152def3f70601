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

use super::{Frame, SourceError};
use netsniff_dissectors::{FrameMeta, LinkType};
use pcap_parser::pcapng::{parse_block_be, parse_block_le, Block};
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

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Obsolete Packet Block (pcapng drafts before the EPB); pcap-parser leaves it unknown.
const OPB_TYPE: u32 = 0x0000_0002;

/// A growable read buffer over a file with explicit `fill` / `consume` steps.
struct ReadBuf {
    file: File,
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
    /// Bytes of the frame returned last, consumed at the next call.
    pending: usize,
    next_number: u64,
    first_ts: Option<(i64, u32)>,
    warnings: Vec<SourceError>,
    warned_snaplen: bool,
    warned_link_types: Vec<LinkType>,
    /// Decryption secrets found so far (pcapng DSB).
    pub secrets: Vec<DecryptionSecrets>,
}

impl FileSource {
    /// Opens `path` and reads its file header.
    pub fn open(path: &Path) -> Result<FileSource, SourceError> {
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
        let mut buf = ReadBuf {
            file,
            data: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
        };
        buf.fill(4).map_err(|e| err(io_reason(&e)))?;
        let magic = buf.available().get(..4).map(|m| [m[0], m[1], m[2], m[3]]);
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
            pending: 0,
            next_number: 1,
            first_ts: None,
            warnings: Vec::new(),
            warned_snaplen: false,
            warned_link_types: Vec::new(),
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

    /// Non-fatal problems met since the last call.
    pub fn take_warnings(&mut self) -> Vec<SourceError> {
        std::mem::take(&mut self.warnings)
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
        // The upper bits carry FCS information (pcap-linktype draft); the type is the rest.
        let link_type = LinkType(u32_at(20) & 0x03ff_ffff);
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
        let data = self.buf.available().get(start..start + len).unwrap_or(&[]);
        Ok(Some(Frame { meta, data }))
    }

    fn check_link_type(&mut self, lt: LinkType, number: u64) {
        let known =
            netsniff_dissectors::proto::frame_dissector(netsniff_dissectors::Table::LinkType, lt.0)
                .is_some();
        if !known && !self.warned_link_types.contains(&lt) {
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
        if !self.fill(record_len, number, "a packet record header")? {
            return Ok(None);
        }
        let h = self.buf.available();
        let (ts_sec, ts_frac) = (read_u32(h, 0, le), read_u32(h, 4, le));
        let (caplen, origlen) = (read_u32(h, 8, le), read_u32(h, 12, le));
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
        if !self.fill(total, number, "a packet")? {
            return Ok(None);
        }
        self.pending = total;
        let nanos = if iface.units == 1_000_000 {
            ts_frac.saturating_mul(1000)
        } else {
            ts_frac
        };
        let (secs, nanos) = normalize(i64::from(ts_sec), u64::from(nanos));
        let meta = FrameMeta {
            secs,
            nanos,
            len: origlen.max(caplen),
            cap_len: caplen,
            link_type: iface.link_type,
            ts_digits: iface.ts_digits,
            ..FrameMeta::default()
        };
        Ok(Some((meta, record_len, caplen as usize)))
    }

    /// Reads blocks until a packet block: `(meta, offset of the data in the buffer, length)`.
    fn next_pcapng_packet(&mut self) -> Result<Option<(FrameMeta, usize, usize)>, SourceError> {
        loop {
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
            let packet = match block {
                Block::InterfaceDescription(idb) => {
                    let iface = interface_from_idb(&idb);
                    self.interfaces.push(iface);
                    None
                }
                Block::EnhancedPacket(epb) => Some((
                    epb.if_id,
                    (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
                    epb.origlen,
                    at(epb.data),
                    (epb.caplen as usize).min(epb.data.len()),
                )),
                Block::SimplePacket(spb) => {
                    let snap = self.interfaces.first().map_or(MAX_FRAME_LEN, |i| i.snaplen);
                    let caplen = (spb.origlen.min(snap) as usize).min(spb.data.len());
                    Some((0, u64::MAX, spb.origlen, at(spb.data), caplen))
                }
                Block::DecryptionSecrets(dsb) => {
                    self.secrets.push(DecryptionSecrets {
                        secrets_type: dsb.secrets_type.0,
                        data: dsb.data.to_vec(),
                    });
                    None
                }
                Block::Unknown(ref u) if u.block_type == OPB_TYPE => {
                    // interface id u16, drops u16, ts high, ts low, caplen, origlen, data.
                    let b = u.data;
                    let caplen = read_u32(b, 12, le) as usize;
                    Some((
                        u32::from(read_u16(b, 0, le)),
                        (u64::from(read_u32(b, 4, le)) << 32) | u64::from(read_u32(b, 8, le)),
                        read_u32(b, 16, le),
                        at(b.get(20..).unwrap_or(&[])),
                        caplen.min(b.len().saturating_sub(20)),
                    ))
                }
                _ => None,
            };
            let Some((if_id, ts, origlen, start, caplen)) = packet else {
                self.buf.consume(block_len);
                continue;
            };
            let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
                return Err(self.error(
                    number,
                    format!("packet refers to interface {if_id}, which was not described"),
                ));
            };
            if caplen > MAX_FRAME_LEN as usize {
                return Err(self.error(
                    number,
                    format!(
                        "packet of {caplen} bytes is bigger than the maximum of {MAX_FRAME_LEN}"
                    ),
                ));
            }
            let (secs, nanos) = if ts == u64::MAX {
                (0, 0) // SPBs carry no timestamp.
            } else {
                let whole = ts / iface.units;
                let frac = u128::from(ts % iface.units) * 1_000_000_000 / u128::from(iface.units);
                normalize(
                    i64::try_from(whole)
                        .unwrap_or(i64::MAX)
                        .saturating_add(iface.ts_offset),
                    u64::try_from(frac).unwrap_or(0),
                )
            };
            self.pending = block_len;
            let caplen_u32 = u32::try_from(caplen).unwrap_or(u32::MAX);
            let meta = FrameMeta {
                secs,
                nanos,
                len: origlen.max(caplen_u32),
                cap_len: caplen_u32,
                link_type: iface.link_type,
                interface_id: if_id,
                ts_digits: iface.ts_digits,
                ..FrameMeta::default()
            };
            return Ok(Some((meta, start, caplen)));
        }
    }
}

fn interface_from_idb(idb: &pcap_parser::pcapng::InterfaceDescriptionBlock<'_>) -> Interface {
    let resol = idb.if_tsresol().and_then(|r| r.ok()).unwrap_or(6);
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
        ts_offset: idb.if_tsoffset().and_then(|r| r.ok()).unwrap_or(0),
        ts_digits: digits,
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

/// Carries nanoseconds of a second or more into the seconds (invalid sub-second fields in
/// pcap records exist: see tcpdump's `timestamp_invalid_*` tests).
fn normalize(secs: i64, nanos: u64) -> (i64, u32) {
    let carry = i64::try_from(nanos / 1_000_000_000).unwrap_or(0);
    (
        secs.saturating_add(carry),
        u32::try_from(nanos % 1_000_000_000).unwrap_or(0),
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
