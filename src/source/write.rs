//! Capture files written by netsniff (`-w`): classic pcap (nanosecond timestamps) or pcapng
//! (one section, one interface, Enhanced Packet Blocks), with tcpdump's rotation by time
//! (`-G`), size (`-C`) and file count (`-W`), and per-packet flushing (`-U`).
//!
//! The contract is that a file on disk is always a valid capture made of whole records:
//!
//! * Records are gathered in an in-memory buffer and handed to the file with one `write(2)`
//!   when the buffer is full, on every packet with `-U`, at rotation and at the end.
//! * `committed` is the file length made only of whole records. When a write fails (a full
//!   disk, a quota, an I/O error) the file is truncated back to `committed`, so the packets
//!   before it are kept and the file stays readable; the error says how many were kept.
//!
//! The writer is ours rather than a crate's (pcap-file) because this contract needs the exact
//! byte offset of every record boundary, and the formats themselves are a few fixed headers.
//! Rotated file names follow tcpdump: `-G` formats the name with `strftime` (local time), `-C`
//! appends a counter, padded to the width of `-W` when given.

use netsniff_dissectors::LinkType;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes of whole records gathered before one write to the file (without `-U`).
pub const WRITE_BUFFER: usize = 64 * 1024;

/// pcap magic for nanosecond timestamps, written in host byte order.
const PCAP_MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_EPB: u32 = 0x0000_0006;
const PCAPNG_ISB: u32 = 0x0000_0005;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// pcapng option codes (draft-ietf-opsawg-pcapng §3.5, §4.2).
const OPT_ENDOFOPT: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_ISB_STARTTIME: u16 = 2;
const OPT_ISB_ENDTIME: u16 = 3;
const OPT_ISB_IFRECV: u16 = 4;
const OPT_ISB_IFDROP: u16 = 5;
const OPT_ISB_OSDROP: u16 = 7;
const OPT_ISB_USRDELIV: u16 = 8;

/// Where and how captured packets are written (`-w`, `-F`, `-U`, `-G`, `-C`, `-W`).
#[derive(Debug, Clone)]
pub struct WriteSpec {
    /// The file name; with `-G` a `strftime` pattern.
    pub path: PathBuf,
    /// pcapng instead of classic pcap.
    pub pcapng: bool,
    /// `-U`: hand every packet to the file as soon as it is captured.
    pub packet_buffered: bool,
    /// `-G`: start a new file every this many seconds.
    pub rotate_seconds: Option<u64>,
    /// `-C` (already multiplied out): start a new file before one would exceed this size.
    pub rotate_bytes: Option<u64>,
    /// `-W`: with `-C`, a ring of this many files; with `-G` alone, stop after this many.
    pub rotate_count: Option<u32>,
}

impl WriteSpec {
    /// Checks what can be checked before capturing: a `-G` pattern must be valid `strftime`.
    pub fn validate(&self) -> Result<(), String> {
        if self.rotate_seconds == Some(0) {
            return Err("-G needs a number of seconds greater than 0".into());
        }
        if self.rotate_bytes == Some(0) {
            return Err("-C needs a size greater than 0".into());
        }
        if self.rotate_count == Some(0) {
            return Err("-W needs a count greater than 0".into());
        }
        if self.rotate_count.is_some()
            && self.rotate_seconds.is_none()
            && self.rotate_bytes.is_none()
        {
            return Err("-W needs -C or -G".into());
        }
        if self.rotate_seconds.is_some() {
            let pattern = self.path.to_string_lossy();
            let bad = chrono::format::StrftimeItems::new(&pattern)
                .any(|i| matches!(i, chrono::format::Item::Error));
            if bad {
                return Err(format!("-w {pattern}: not a valid strftime pattern for -G"));
            }
        }
        Ok(())
    }
}

/// What the file's single interface is.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub link_type: LinkType,
    pub snaplen: u32,
    /// The capture interface's name, recorded in pcapng (`if_name`).
    pub interface: Option<String>,
}

/// A failed write: the file, what happened, and what the file still holds.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub error: io::Error,
    /// Packets the file (the current one, when rotating) still holds, all whole.
    pub packets_kept: u64,
    /// Packets that reached the writer but are not in any file.
    pub packets_lost: u64,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.error.raw_os_error() {
            Some(28) => "the disk is full (no space left on device)".to_string(),
            Some(122) => "the disk quota is exceeded".to_string(),
            _ => self.error.to_string(),
        };
        write!(
            f,
            "writing {}: {what}; the file is valid and keeps its first {} packet{}",
            self.path.display(),
            self.packets_kept,
            if self.packets_kept == 1 { "" } else { "s" }
        )?;
        if self.packets_lost > 0 {
            write!(
                f,
                " ({} captured packets were not saved)",
                self.packets_lost
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for WriteError {}

/// What was written, for the end-of-capture report.
#[derive(Debug, Clone, Default)]
pub struct WriteSummary {
    pub packets: u64,
    /// Files created (1 without rotation).
    pub files: u32,
    /// The file written last.
    pub last_path: PathBuf,
}

/// The capture's counters, recorded at the end of a pcapng file in an Interface Statistics
/// Block (as dumpcap does), so `capinfos` and Wireshark show what the kernel dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndStats {
    /// libpcap's "received by filter".
    pub received: u64,
    /// "dropped by kernel" (`isb_osdrop`).
    pub kernel_dropped: u64,
    /// "dropped by interface" (`isb_ifdrop`).
    pub if_dropped: u64,
    /// Packets handed to netsniff (`isb_usrdeliv`).
    pub captured: u64,
}

/// Whether capture should go on after a packet was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Ok,
    /// `-G` with `-W`: the last file's time is up; tcpdump stops here.
    FileLimitReached,
}

/// The file a [`CaptureWriter`] writes into: a real file, or a fake one in tests.
pub trait CaptureFile: Write {
    /// Cuts the file back to `len` bytes (after a failed write).
    fn truncate_to(&mut self, len: u64) -> io::Result<()>;
}

impl CaptureFile for File {
    fn truncate_to(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        // Writes continue at the cursor; move it back with the length.
        io::Seek::seek(self, io::SeekFrom::Start(len)).map(|_| ())
    }
}

/// How a writer opens its files (real files; tests substitute their own).
type Opener<F> = Box<dyn FnMut(&Path) -> io::Result<F> + Send>;

/// Writes captured packets to one file or a rotation of files.
pub struct CaptureWriter<F: CaptureFile = File> {
    spec: WriteSpec,
    link: LinkInfo,
    open: Opener<F>,
    file: Option<F>,
    path: PathBuf,
    buf: Vec<u8>,
    /// Length of the current file made only of whole records.
    committed: u64,
    /// Packets in `buf`, not yet handed to the file.
    pending: u64,
    /// Where each record in `buf` ends (header bytes excluded: they are committed alone).
    ends: Vec<usize>,
    packets_in_file: u64,
    packets_total: u64,
    files: u32,
    /// `-C` counter within the current `-G` period (tcpdump's `cnt`).
    size_index: u32,
    period_start: Instant,
    /// When the first file was opened (the ISB's `isb_starttime`).
    capture_start: Instant,
    failed: bool,
}

impl CaptureWriter<File> {
    /// Creates the first file. Call it after privileges were dropped, as tcpdump does, so
    /// every rotated file belongs to the same user.
    pub fn create(spec: WriteSpec, link: LinkInfo) -> Result<Self, WriteError> {
        let opener: Opener<File> = Box::new(|p: &Path| File::create(p));
        CaptureWriter::with_opener(spec, link, opener)
    }
}

impl<F: CaptureFile> CaptureWriter<F> {
    /// Creates the first file through `open`.
    pub fn with_opener(
        spec: WriteSpec,
        link: LinkInfo,
        open: Opener<F>,
    ) -> Result<Self, WriteError> {
        let mut w = CaptureWriter {
            path: spec.path.clone(),
            spec,
            link,
            open,
            file: None,
            buf: Vec::with_capacity(WRITE_BUFFER + 1024),
            committed: 0,
            pending: 0,
            ends: Vec::new(),
            packets_in_file: 0,
            packets_total: 0,
            files: 0,
            size_index: 0,
            period_start: Instant::now(),
            capture_start: Instant::now(),
            failed: false,
        };
        w.open_next()?;
        Ok(w)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one packet (`data` is what was captured, `orig_len` its length on the wire).
    pub fn write(
        &mut self,
        secs: i64,
        nanos: u32,
        data: &[u8],
        orig_len: u32,
    ) -> Result<Written, WriteError> {
        if self.failed {
            return Ok(Written::Ok);
        }
        if let Some(period) = self.spec.rotate_seconds {
            if self.period_start.elapsed() >= Duration::from_secs(period) {
                if self.spec.rotate_bytes.is_none()
                    && self.spec.rotate_count.is_some_and(|max| self.files >= max)
                {
                    return Ok(Written::FileLimitReached);
                }
                self.size_index = 0;
                self.rotate()?;
            }
        }
        let record = self.record_len(data.len());
        if let Some(limit) = self.spec.rotate_bytes {
            let size = self.committed + self.buf.len() as u64;
            if self.packets_in_file > 0 && size + record > limit {
                self.size_index += 1;
                if let Some(max) = self.spec.rotate_count {
                    self.size_index %= max;
                }
                self.rotate()?;
            }
        }
        self.push_record(secs, nanos, data, orig_len);
        self.ends.push(self.buf.len());
        self.pending += 1;
        self.packets_in_file += 1;
        self.packets_total += 1;
        if self.spec.packet_buffered || self.buf.len() >= WRITE_BUFFER {
            self.commit()?;
        }
        Ok(Written::Ok)
    }

    /// Hands buffered records to the file (also called when the capture is idle).
    pub fn flush(&mut self) -> Result<(), WriteError> {
        if self.failed {
            return Ok(());
        }
        self.commit()
    }

    /// Writes what is buffered and closes the file.
    pub fn finish(self) -> Result<WriteSummary, WriteError> {
        self.finish_with(None)
    }

    /// As [`CaptureWriter::finish`], recording the capture's counters in a pcapng file.
    pub fn finish_with(mut self, stats: Option<EndStats>) -> Result<WriteSummary, WriteError> {
        if let (Some(st), true, false) = (stats, self.spec.pcapng, self.failed) {
            self.push_statistics(&st);
        }
        self.commit()?;
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| self.error(e, 0))?;
        }
        Ok(WriteSummary {
            packets: self.packets_total,
            files: self.files,
            last_path: self.path.clone(),
        })
    }

    fn record_len(&self, caplen: usize) -> u64 {
        if self.spec.pcapng {
            32 + pad4(caplen) as u64
        } else {
            16 + caplen as u64
        }
    }

    fn push_record(&mut self, secs: i64, nanos: u32, data: &[u8], orig_len: u32) {
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if self.spec.pcapng {
            let total = 32 + pad4(data.len()) as u32;
            let ts = u64::try_from(secs)
                .unwrap_or(0)
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(nanos));
            let b = &mut self.buf;
            put32(b, PCAPNG_EPB);
            put32(b, total);
            put32(b, 0); // interface 0
            put32(b, (ts >> 32) as u32);
            put32(b, ts as u32);
            put32(b, caplen);
            put32(b, orig_len.max(caplen));
            b.extend_from_slice(data);
            b.resize(b.len() + pad4(data.len()) - data.len(), 0);
            put32(b, total);
        } else {
            let b = &mut self.buf;
            put32(b, u32::try_from(secs).unwrap_or(0));
            put32(b, nanos);
            put32(b, caplen);
            put32(b, orig_len.max(caplen));
            b.extend_from_slice(data);
        }
    }

    /// An Interface Statistics Block for interface 0, timestamped now.
    fn push_statistics(&mut self, st: &EndStats) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let start =
            now.saturating_sub(u64::try_from(self.capture_start.elapsed().as_nanos()).unwrap_or(0));
        let ts = |t: u64| {
            let mut v = Vec::with_capacity(8);
            put32(&mut v, (t >> 32) as u32);
            put32(&mut v, t as u32);
            v
        };
        let options: [(u16, Vec<u8>); 6] = [
            (OPT_ISB_STARTTIME, ts(start)),
            (OPT_ISB_ENDTIME, ts(now)),
            (OPT_ISB_IFRECV, st.received.to_ne_bytes().to_vec()),
            (OPT_ISB_IFDROP, st.if_dropped.to_ne_bytes().to_vec()),
            (OPT_ISB_OSDROP, st.kernel_dropped.to_ne_bytes().to_vec()),
            (OPT_ISB_USRDELIV, st.captured.to_ne_bytes().to_vec()),
        ];
        let len = 20
            + options.iter().map(|(_, v)| option_len(v.len())).sum::<usize>()
            + option_len(0) // opt_endofopt
            + 4;
        let b = &mut self.buf;
        put32(b, PCAPNG_ISB);
        put32(b, len as u32);
        put32(b, 0); // interface 0
        b.extend_from_slice(&ts(now));
        for (code, value) in &options {
            put_option(b, *code, value);
        }
        put_option(b, OPT_ENDOFOPT, &[]);
        put32(b, len as u32);
        // Whole, like a record: a failed write cuts it off again.
        self.ends.push(self.buf.len());
    }

    fn file_header(&mut self) {
        let snaplen = self.link.snaplen;
        let b = &mut self.buf;
        if !self.spec.pcapng {
            put32(b, PCAP_MAGIC_NANOS);
            put16(b, 2);
            put16(b, 4);
            put32(b, 0); // thiszone
            put32(b, 0); // sigfigs
            put32(b, snaplen);
            put32(b, self.link.link_type.0);
            return;
        }
        // Section Header Block with the writing application.
        let appl = format!("netsniff {}", env!("CARGO_PKG_VERSION"));
        let shb_len = 28 + option_len(appl.len()) + 4;
        put32(b, PCAPNG_SHB);
        put32(b, shb_len as u32);
        put32(b, PCAPNG_BYTE_ORDER_MAGIC);
        put16(b, 1);
        put16(b, 0);
        b.extend_from_slice(&(-1i64).to_ne_bytes()); // section length unknown
        put_option(b, OPT_SHB_USERAPPL, appl.as_bytes());
        put_option(b, OPT_ENDOFOPT, &[]);
        put32(b, shb_len as u32);
        // Interface Description Block: nanosecond timestamps (if_tsresol = 9).
        let name = self.link.interface.clone().unwrap_or_default();
        let mut idb_len = 20 + option_len(1) + 4;
        if !name.is_empty() {
            idb_len += option_len(name.len());
        }
        put32(b, PCAPNG_IDB);
        put32(b, idb_len as u32);
        put16(b, u16::try_from(self.link.link_type.0).unwrap_or(u16::MAX));
        put16(b, 0);
        put32(b, snaplen);
        if !name.is_empty() {
            put_option(b, OPT_IF_NAME, name.as_bytes());
        }
        put_option(b, OPT_IF_TSRESOL, &[9]);
        put_option(b, OPT_ENDOFOPT, &[]);
        put32(b, idb_len as u32);
    }

    /// Hands the buffer to the file. On failure, cuts the file back to the whole records that
    /// reached it.
    fn commit(&mut self) -> Result<(), WriteError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut done = 0;
        let result = loop {
            let Some(rest) = self.buf.get(done..).filter(|r| !r.is_empty()) else {
                break Ok(());
            };
            match file.write(rest) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        match result {
            Ok(()) => {
                self.committed += self.buf.len() as u64;
                self.buf.clear();
                self.ends.clear();
                self.pending = 0;
                Ok(())
            }
            Err(e) => {
                let whole = self.ends.iter().take_while(|&&end| end <= done).count();
                let keep = whole
                    .checked_sub(1)
                    .and_then(|i| self.ends.get(i))
                    .copied()
                    .unwrap_or(0);
                let lost = self.pending.saturating_sub(whole as u64);
                // A record cut in the middle would make the file unreadable from there on.
                let cut = file.truncate_to(self.committed + keep as u64);
                self.failed = true;
                self.buf.clear();
                self.ends.clear();
                let mut err = self.error(e, lost);
                if let Err(cut) = cut {
                    err.error = io::Error::new(
                        err.error.kind(),
                        format!("{} (and cutting the file back failed: {cut})", err.error),
                    );
                }
                Err(err)
            }
        }
    }

    fn error(&self, error: io::Error, lost: u64) -> WriteError {
        WriteError {
            path: self.path.clone(),
            error,
            packets_kept: self.packets_in_file.saturating_sub(lost),
            packets_lost: lost,
        }
    }

    fn rotate(&mut self) -> Result<(), WriteError> {
        self.commit()?;
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| self.error(e, 0))?;
        }
        self.open_next()
    }

    fn open_next(&mut self) -> Result<(), WriteError> {
        if self.spec.rotate_seconds.is_some() && self.size_index == 0 {
            self.period_start = Instant::now();
        }
        self.path = self.file_name();
        let file = (self.open)(&self.path).map_err(|e| WriteError {
            path: self.path.clone(),
            error: e,
            packets_kept: 0,
            packets_lost: 0,
        })?;
        self.file = Some(file);
        self.files += 1;
        self.committed = 0;
        self.packets_in_file = 0;
        self.file_header();
        // The header goes out at once, so even a capture of nothing leaves a valid file.
        self.commit()
    }

    /// tcpdump's file name: `strftime(pattern)` with `-G`, then the `-C` counter.
    fn file_name(&self) -> PathBuf {
        let base = self.spec.path.to_string_lossy();
        let mut name = if self.spec.rotate_seconds.is_some() {
            use std::fmt::Write as _;
            let mut s = String::new();
            let now = chrono::Local::now();
            match write!(s, "{}", now.format(&base)) {
                Ok(()) => s,
                Err(_) => base.to_string(),
            }
        } else {
            base.to_string()
        };
        if self.spec.rotate_bytes.is_some() {
            let width = self
                .spec
                .rotate_count
                .map_or(0, |w| w.saturating_sub(1).max(1).to_string().len());
            if self.size_index > 0 || width > 0 {
                name.push_str(&format!("{:0width$}", self.size_index));
            }
        }
        PathBuf::from(name)
    }
}

fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn option_len(value_len: usize) -> usize {
    4 + pad4(value_len)
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_ne_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_ne_bytes());
}

fn put_option(b: &mut Vec<u8>, code: u16, value: &[u8]) {
    put16(b, code);
    put16(b, u16::try_from(value.len()).unwrap_or(u16::MAX));
    b.extend_from_slice(value);
    b.resize(b.len() + pad4(value.len()) - value.len(), 0);
}

/// `-w` for frames read from a file (`-r`): the frames that pass the capture filter, saved as
/// they are read, as `tcpdump -r IN -w OUT EXPR` does. A written file has one link type, the
/// first saved frame's; a frame of another link type (a pcapng file mixing interfaces) stops
/// the run with an error saying so, the frames saved before it kept.
pub struct FileSaver {
    spec: WriteSpec,
    /// The link type and snap length the file gets when no frame was saved (tcpdump writes a
    /// valid empty capture then).
    fallback: LinkInfo,
    writer: Option<CaptureWriter>,
    /// `-W` with `-G` reached its file count: nothing more is saved.
    full: bool,
}

impl FileSaver {
    /// A saver for `spec`; `fallback` describes the source (its first link type and snap
    /// length).
    pub fn new(spec: WriteSpec, fallback: LinkInfo) -> FileSaver {
        FileSaver {
            spec,
            fallback,
            writer: None,
            full: false,
        }
    }

    /// Saves frame `number` (`data` as captured, `orig_len` on the wire).
    pub fn save(
        &mut self,
        number: u64,
        link_type: LinkType,
        secs: i64,
        nanos: u32,
        data: &[u8],
        orig_len: u32,
    ) -> anyhow::Result<()> {
        if self.full {
            return Ok(());
        }
        let writer = match &mut self.writer {
            Some(w) => {
                if w.link.link_type != link_type {
                    anyhow::bail!(
                        "-w {}: frame {number} has link type {} but the file holds link type {} \
                         (a capture file netsniff writes has one link type; select one \
                         interface's frames with a capture filter)",
                        self.spec.path.display(),
                        link_type.0,
                        w.link.link_type.0
                    );
                }
                w
            }
            None => {
                let link = LinkInfo {
                    link_type,
                    ..self.fallback.clone()
                };
                self.writer
                    .insert(CaptureWriter::create(self.spec.clone(), link)?)
            }
        };
        if let Written::FileLimitReached = writer.write(secs, nanos, data, orig_len)? {
            self.full = true;
        }
        Ok(())
    }

    /// Completes the file (creating an empty one when no frame was saved).
    pub fn finish(self) -> anyhow::Result<WriteSummary> {
        let writer = match self.writer {
            Some(w) => w,
            None => CaptureWriter::create(self.spec, self.fallback)?,
        };
        Ok(writer.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::file::FileSource;
    use std::sync::{Arc, Mutex};

    fn spec(path: &Path, pcapng: bool) -> WriteSpec {
        WriteSpec {
            path: path.to_path_buf(),
            pcapng,
            packet_buffered: false,
            rotate_seconds: None,
            rotate_bytes: None,
            rotate_count: None,
        }
    }

    fn link() -> LinkInfo {
        LinkInfo {
            link_type: LinkType::ETHERNET,
            snaplen: 262_144,
            interface: Some("lo".into()),
        }
    }

    fn frame(i: u8, len: usize) -> Vec<u8> {
        (0..len).map(|k| i.wrapping_add(k as u8)).collect()
    }

    fn read_all(path: &Path) -> Vec<(i64, u32, u32, Vec<u8>)> {
        let mut src = FileSource::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(f) = src.next().unwrap() {
            out.push((f.meta.secs, f.meta.nanos, f.meta.len, f.data.to_vec()));
        }
        assert!(src.take_warnings().is_empty());
        out
    }

    #[test]
    fn round_trip_both_formats() {
        let dir = tempdir();
        for pcapng in [false, true] {
            let path = dir.join(if pcapng { "a.pcapng" } else { "a.pcap" });
            let mut w = CaptureWriter::create(spec(&path, pcapng), link()).unwrap();
            for i in 0..50u8 {
                let data = frame(i, 1 + usize::from(i) * 3);
                w.write(1_700_000_000 + i64::from(i), 123_456_789, &data, 1500)
                    .unwrap();
            }
            let s = w.finish().unwrap();
            assert_eq!((s.packets, s.files), (50, 1));
            let back = read_all(&path);
            assert_eq!(back.len(), 50);
            for (i, (secs, nanos, len, data)) in back.into_iter().enumerate() {
                assert_eq!(secs, 1_700_000_000 + i as i64);
                assert_eq!(nanos, 123_456_789);
                assert_eq!(len, 1500);
                assert_eq!(data, frame(i as u8, 1 + i * 3));
            }
        }
    }

    #[test]
    fn pcapng_ends_with_statistics() {
        let dir = tempdir();
        let path = dir.join("stats.pcapng");
        let mut w = CaptureWriter::create(spec(&path, true), link()).unwrap();
        w.write(1, 2, &frame(1, 60), 60).unwrap();
        let stats = EndStats {
            received: 10,
            kernel_dropped: 3,
            if_dropped: 1,
            captured: 7,
        };
        w.finish_with(Some(stats)).unwrap();
        assert_eq!(
            read_all(&path).len(),
            1,
            "the statistics block is not a packet"
        );
        let bytes = std::fs::read(&path).unwrap();
        let blocks = pcap_parser::pcapng::parse_section(&bytes).unwrap().1.blocks;
        let Some(pcap_parser::pcapng::Block::InterfaceStatistics(isb)) = blocks.last() else {
            panic!("no ISB at the end: {blocks:?}");
        };
        let u64_opt = |code: u16| {
            isb.options
                .iter()
                .find(|o| o.code.0 == code)
                .map(|o| u64::from_ne_bytes(o.value[..8].try_into().unwrap()))
        };
        assert_eq!(u64_opt(OPT_ISB_IFRECV), Some(10));
        assert_eq!(u64_opt(OPT_ISB_OSDROP), Some(3));
        assert_eq!(u64_opt(OPT_ISB_IFDROP), Some(1));
        assert_eq!(u64_opt(OPT_ISB_USRDELIV), Some(7));
    }

    #[test]
    fn empty_capture_is_valid() {
        let dir = tempdir();
        for pcapng in [false, true] {
            let path = dir.join(format!("empty{pcapng}"));
            CaptureWriter::create(spec(&path, pcapng), link())
                .unwrap()
                .finish()
                .unwrap();
            assert!(read_all(&path).is_empty());
        }
    }

    #[test]
    fn rotation_by_size_ring() {
        let dir = tempdir();
        let mut s = spec(&dir.join("r.pcap"), false);
        s.rotate_bytes = Some(24 + 3 * (16 + 100));
        s.rotate_count = Some(3);
        let mut w = CaptureWriter::create(s, link()).unwrap();
        for i in 0..20u8 {
            w.write(1, 0, &frame(i, 100), 100).unwrap();
        }
        let sum = w.finish().unwrap();
        // 20 packets, 3 per file: 7 files opened in a ring of r.pcap0..r.pcap2.
        assert_eq!(sum.files, 7);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["r.pcap0", "r.pcap1", "r.pcap2"]);
        // The last file (index 6 % 3 = 0) holds packets 18 and 19.
        let last = read_all(&dir.join("r.pcap0"));
        assert_eq!(last.len(), 2);
        assert_eq!(last[0].3, frame(18, 100));
        for n in ["r.pcap1", "r.pcap2"] {
            assert_eq!(read_all(&dir.join(n)).len(), 3);
        }
    }

    #[test]
    fn rotation_by_size_without_count() {
        let dir = tempdir();
        let mut s = spec(&dir.join("s.pcapng"), true);
        s.rotate_bytes = Some(1000);
        let mut w = CaptureWriter::create(s, link()).unwrap();
        for i in 0..30u8 {
            w.write(1, 0, &frame(i, 200), 200).unwrap();
        }
        w.finish().unwrap();
        let mut total = 0;
        for name in ["s.pcapng", "s.pcapng1", "s.pcapng2"] {
            let p = dir.join(name);
            assert!(std::fs::metadata(&p).unwrap().len() <= 1000, "{name}");
            total += read_all(&p).len();
        }
        let more = (3..20)
            .map(|k| dir.join(format!("s.pcapng{k}")))
            .filter(|p| p.exists())
            .map(|p| read_all(&p).len())
            .sum::<usize>();
        assert_eq!(total + more, 30);
    }

    /// A file that accepts `room` bytes, then fails like a full disk, part-way into a write.
    #[derive(Clone)]
    struct Tiny {
        bytes: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for Tiny {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut b = self.bytes.lock().unwrap();
            let free = self.room.saturating_sub(b.len());
            if free == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            let n = free.min(buf.len());
            b.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl CaptureFile for Tiny {
        fn truncate_to(&mut self, len: u64) -> io::Result<()> {
            self.bytes.lock().unwrap().truncate(len as usize);
            Ok(())
        }
    }

    #[test]
    fn disk_full_keeps_whole_records() {
        let dir = tempdir();
        for pcapng in [false, true] {
            let bytes = Arc::new(Mutex::new(Vec::new()));
            let tiny = Tiny {
                bytes: Arc::clone(&bytes),
                room: 10_000,
            };
            let mut s = spec(Path::new("full.pcap"), pcapng);
            s.packet_buffered = pcapng; // both paths: per packet and buffered
            let opener: Opener<Tiny> = Box::new(move |_| Ok(tiny.clone()));
            let mut w = CaptureWriter::with_opener(s, link(), opener).unwrap();
            let mut err = None;
            for i in 0..200u8 {
                if let Err(e) = w.write(5, 0, &frame(i, 300), 300) {
                    err = Some(e);
                    break;
                }
            }
            let err = match err {
                Some(e) => e,
                None => w.finish().unwrap_err(),
            };
            assert!(err.to_string().contains("disk is full"), "{err}");
            let kept = err.packets_kept;
            assert!(kept > 20, "kept {kept}");
            let path = dir.join(format!("full{pcapng}"));
            std::fs::write(&path, &*bytes.lock().unwrap()).unwrap();
            let back = read_all(&path);
            assert_eq!(back.len() as u64, kept);
            assert_eq!(back.last().unwrap().3, frame((kept - 1) as u8, 300));
        }
    }

    #[test]
    fn bad_strftime_rejected() {
        let mut s = spec(Path::new("x-%Q.pcap"), false);
        assert!(s.validate().is_ok(), "no -G: the name is literal");
        s.rotate_seconds = Some(10);
        assert!(s.validate().is_err());
        s.path = PathBuf::from("x-%Y%m%d-%H%M%S.pcap");
        assert!(s.validate().is_ok());
    }

    fn tempdir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "netsniff-write-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
