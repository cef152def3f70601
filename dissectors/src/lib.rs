//! netsniff's protocol dissectors: pure functions from bytes to typed, zero-copy facts.
//!
//! # The dissector contract
//!
//! 1. **Never panic, never allocate per packet, never copy payload.** Every layer checks its
//!    lengths once (`check_len` or a nom length fence); after that, accessors cannot fail.
//!    Indexing, `unwrap`, `expect` and `panic!` are denied in this crate by lint.
//! 2. **A layer succeeds or returns [`Malformed`].** Dissection of that frame stops there and the
//!    layers already parsed are kept. Recoverable oddities are [`Expert`] items and parsing goes
//!    on. A checksum is a field with a status, never a reason to reject.
//! 3. **Numbers are newtypes**, so unknown values survive parsing; unknown options, extensions
//!    and record types are kept raw.
//! 4. **Every cap is a named `const`** at the top of the protocol file, with its reason.
//! 5. **Fields are declared once**, in each protocol's `FIELDS` table under Wireshark's names and
//!    types. That one table drives `-e` validation, JSON keys, `-V` labels and `--list-fields`.
//! 6. **Every emitted field carries a [`Span`]**, a byte range in the buffer the layer was given
//!    (the frame for L2–L4, the direction's stream for application data).
//!
//! This crate has no I/O, no clock, no threads and no global state: it can be fuzzed, benchmarked
//! and tested in isolation. The flow table, reassembly buffers and output formats live in the
//! `netsniff` crate; application protocols receive reassembled bytes through [`StreamParser`].
//!
//! # Adding a protocol
//!
//! Write `src/proto/NAME.rs` (sections in this order: doc, caps, numbers, `mod field`, types and
//! parse, the dissector impl, `FIELDS`, `Display`, tests) and add one line to the registry in
//! `src/proto/mod.rs`. `udp.rs` is the small reference dissector to copy from.

#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod dissector;
pub mod error;
pub mod field;
pub mod pinfo;
pub mod proto;
pub mod text;

pub use dissector::{
    Bind, Cx, Direction, Dissector, Next, Probe, Progress, StreamCx, StreamDissector, StreamParser,
    Table,
};
pub use error::{Expert, Malformed, Severity};
pub use field::{
    FieldDef, FieldFilter, FieldSink, Group, Kind, NullSink, Proto, ProtoFilter, Shown, Span, Value,
};
pub use pinfo::{
    Address, Columns, Echo, FragInfo, FrameMeta, LinkType, Net, PacketInfo, ProtoStack, TcpInfo,
    Transport, UdpInfo,
};
