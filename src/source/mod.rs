//! Where frames come from: capture files ([`file`]) and live interfaces ([`live`]), both
//! behind the small [`Source`] trait; [`write`] saves captured frames (`-w`) and [`privdrop`]
//! gives up root once a live capture is open.
//!
//! A source yields [`Frame`]s in capture order, each borrowing its bytes from the source's own
//! buffer until the next call. Errors name the file (or interface), the packet number and the
//! byte offset.

pub mod file;
pub mod live;
pub mod privdrop;
pub mod write;

use netsniff_dissectors::{FrameMeta, LinkType};
use std::fmt;
use std::io;
use std::path::PathBuf;

/// A stream of frames: a capture file or a live interface.
pub trait Source {
    /// The next frame, or `None` at the end (of the file, of a `-c` count, after Ctrl-C).
    /// The frame borrows the source until the next call.
    fn next(&mut self) -> Result<Option<Frame<'_>>, SourceError>;

    /// Non-fatal problems met since the last call.
    fn take_warnings(&mut self) -> Vec<SourceError> {
        Vec::new()
    }

    /// Whether [`Source::take_warnings`] has anything to give (asked after every frame, so a
    /// source that can tell cheaply saves the caller a call that nearly always finds none).
    fn has_warnings(&self) -> bool {
        true
    }

    /// The link type of the first interface, once known.
    fn first_link_type(&self) -> Option<LinkType>;

    /// The snap length of the first interface, once known.
    fn first_snaplen(&self) -> Option<u32> {
        None
    }

    /// Whether the next call to [`Source::next`] would wait for frames to arrive (a live
    /// capture between bursts); the caller flushes its output then.
    fn would_block(&self) -> bool {
        false
    }

    /// A line for stderr before the first frame (a live capture says where it listens, as
    /// tcpdump does).
    fn banner(&self) -> Option<String> {
        None
    }

    /// The run is over: stop reading and write any closing report (a live capture's kernel
    /// statistics) to `report`. An error here (a `-w` file that could not be completed) fails
    /// the run after the report was written.
    fn finish(&mut self, _report: &mut dyn io::Write) -> anyhow::Result<()> {
        Ok(())
    }
}

impl Source for file::FileSource {
    fn next(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        file::FileSource::next(self)
    }
    fn take_warnings(&mut self) -> Vec<SourceError> {
        file::FileSource::take_warnings(self)
    }
    fn has_warnings(&self) -> bool {
        file::FileSource::has_warnings(self)
    }
    fn first_link_type(&self) -> Option<LinkType> {
        file::FileSource::first_link_type(self)
    }
    fn first_snaplen(&self) -> Option<u32> {
        file::FileSource::first_snaplen(self)
    }
}

/// One captured frame: what the capture says about it, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub meta: FrameMeta,
    pub data: &'a [u8],
    /// The frame's comments (pcapng `opt_comment`), shown as tshark's `frame.comment`.
    pub comments: Comments<'a>,
    /// Its capture interface (pcapng files).
    pub interface: Option<netsniff_dissectors::pinfo::CaptureInterface<'a>>,
}

impl<'a> Frame<'a> {
    /// A frame without comments.
    pub fn new(meta: FrameMeta, data: &'a [u8]) -> Frame<'a> {
        Frame {
            meta,
            data,
            comments: Comments::default(),
            interface: None,
        }
    }
}

/// The comments attached to a frame, borrowed from the source's buffer: where each is in
/// `buf`. (Spans, not slices: a frame is copied a few times on its way to the batch, and most
/// have no comment, so the frame carries two slices rather than an array of them.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Comments<'a> {
    buf: &'a [u8],
    /// `(start, length)` in `buf` of each comment, in file order.
    spans: &'a [(usize, usize)],
}

impl<'a> Comments<'a> {
    /// Comments kept per frame; more are dropped (a frame rarely has more than one).
    pub const MAX: usize = 4;

    /// The comments at `spans` of `buf` (those beyond [`Comments::MAX`] are dropped; a span
    /// outside `buf` is an empty comment).
    pub fn new(buf: &'a [u8], spans: &'a [(usize, usize)]) -> Comments<'a> {
        Comments {
            buf,
            spans: spans.get(..Comments::MAX).unwrap_or(spans),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The comments, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.spans
            .iter()
            .map(move |&(start, len)| buf.get(start..start.saturating_add(len)).unwrap_or(&[]))
    }

    /// The comments as an array of slices (the first `n` used).
    pub fn to_array(&self) -> ([&'a [u8]; Comments::MAX], usize) {
        let mut items: [&'a [u8]; Comments::MAX] = [&[]; Comments::MAX];
        let mut n = 0;
        for (slot, c) in items.iter_mut().zip(self.iter()) {
            *slot = c;
            n += 1;
        }
        (items, n)
    }
}

/// A problem reading a capture, with where it happened.
#[derive(Debug)]
pub struct SourceError {
    pub path: PathBuf,
    /// The packet being read when it happened (1-based), if one was.
    pub packet: Option<u64>,
    /// The byte offset in the file, if known.
    pub offset: Option<u64>,
    pub what: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(n) = self.packet {
            write!(f, ": packet {n}")?;
        }
        if let Some(o) = self.offset {
            write!(f, " at byte offset {o}")?;
        }
        write!(f, ": {}", self.what)
    }
}

impl std::error::Error for SourceError {}

/// Link types whose `LINKTYPE_*` number (in capture files, and netsniff's [`LinkType`])
/// differs from libpcap's `DLT_*` number, by libpcap's name for them: a raw-IP interface is
/// `DLT_RAW` (12 on Linux, 14 on OpenBSD) but `LINKTYPE_RAW` (101) in a file.
const RENUMBERED: [(u32, &str); 4] = [
    (100, "ATM_RFC1483"),
    (101, "RAW"),
    (102, "SLIP-BSDOS"),
    (103, "PPP_BSDOS"),
];

/// libpcap's `DLT_*` value for link type `lt` (to compile a capture filter for it).
pub fn dlt_of(lt: LinkType) -> pcap::Linktype {
    RENUMBERED
        .iter()
        .find(|(linktype, _)| *linktype == lt.0)
        .and_then(|(_, name)| pcap::Linktype::from_name(name).ok())
        .unwrap_or(pcap::Linktype(i32::try_from(lt.0).unwrap_or(i32::MAX)))
}

/// The link type of libpcap's `DLT_*` value `dlt` (what a live interface reports).
pub fn link_type_of_dlt(dlt: pcap::Linktype) -> LinkType {
    RENUMBERED
        .iter()
        .find(|(_, name)| pcap::Linktype::from_name(name).is_ok_and(|d| d == dlt))
        .map_or(
            LinkType(u32::try_from(dlt.0).unwrap_or(u32::MAX)),
            |(lt, _)| LinkType(*lt),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ip_is_renumbered_between_files_and_libpcap() {
        // libpcap's own table (pcap_datalink_name_to_val), whatever the platform's number.
        let dlt_raw = pcap::Linktype::from_name("RAW").unwrap();
        assert_ne!(dlt_raw.0, 101);
        assert_eq!(dlt_of(LinkType::RAW), dlt_raw);
        assert_eq!(link_type_of_dlt(dlt_raw), LinkType::RAW);
        for lt in [
            LinkType::ETHERNET,
            LinkType::NULL,
            LinkType::LINUX_SLL2,
            LinkType::IPV4,
        ] {
            assert_eq!(dlt_of(lt).0 as u32, lt.0);
            assert_eq!(link_type_of_dlt(dlt_of(lt)), lt);
        }
    }
}
