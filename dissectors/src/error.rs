//! What a dissector reports when bytes do not make sense.
//!
//! [`Malformed`] ends the dissection of a frame at the layer that failed (the layers before it
//! are kept, as Wireshark shows `[Malformed Packet]` after them). [`Expert`] is an anomaly that
//! does not stop parsing (Wireshark's expert info).

use crate::field::Proto;
use std::fmt;

/// A layer whose bytes cannot be parsed. Shown like Wireshark's `[Malformed Packet: PROTO]`.
#[derive(Debug, Clone, Copy)]
pub struct Malformed {
    /// The protocol whose header or message is broken.
    pub proto: &'static Proto,
    /// Offset, in the buffer that layer was given, where parsing stopped.
    pub at: usize,
    /// The field whose length claim was violated (`ip.len`, `tcp.hdr_len`), if one was.
    pub len_source: Option<&'static str>,
    /// Why, in a few words.
    pub reason: &'static str,
    /// Not broken but cut by the capture's snapshot length where the layer still needed bytes:
    /// Wireshark's `[Packet size limited during capture: TCP truncated]` (`_ws.short`), not
    /// a malformed packet. `reason` then names the layer as Wireshark does (`TCP`).
    pub short: bool,
}

impl Malformed {
    /// A malformed-layer report.
    pub fn new(proto: &'static Proto, at: usize, reason: &'static str) -> Malformed {
        Malformed {
            proto,
            at,
            len_source: None,
            reason,
            short: false,
        }
    }

    /// A layer cut by the snapshot length (see [`Malformed::short`]); `name` is the
    /// protocol's short name as Wireshark writes it (`TCP`).
    pub fn short(proto: &'static Proto, at: usize, name: &'static str) -> Malformed {
        Malformed {
            short: true,
            ..Malformed::new(proto, at, name)
        }
    }

    /// The same report naming the length field that lied.
    pub fn len_from(mut self, field: &'static str) -> Malformed {
        self.len_source = Some(field);
        self
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.short {
            return write!(
                f,
                "[Packet size limited during capture: {} truncated]",
                self.reason
            );
        }
        write!(f, "[Malformed Packet: {}: {}", self.proto.name, self.reason)?;
        if let Some(src) = self.len_source {
            write!(f, " ({src})")?;
        }
        write!(f, " at byte {}]", self.at)
    }
}

/// How serious an expert item is (Wireshark's severities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

/// An anomaly that does not stop dissection (a bad checksum, a reserved bit set, a retransmission).
#[derive(Debug, Clone, Copy)]
pub struct Expert {
    pub severity: Severity,
    pub proto: &'static Proto,
    pub what: &'static str,
}
