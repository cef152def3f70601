//! Where frames come from: capture files ([`file`]) and, later, live interfaces.
//!
//! A source yields [`Frame`]s in capture order, each borrowing its bytes from the source's own
//! buffer until the next call. Errors name the file, the packet number and the byte offset.

pub mod file;

use netsniff_dissectors::FrameMeta;
use std::fmt;
use std::path::PathBuf;

/// One captured frame: what the capture says about it, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub meta: FrameMeta,
    pub data: &'a [u8],
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
