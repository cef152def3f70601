//! netsniff: a packet capture and protocol dissector with tshark's vocabulary.
//!
//! The crate is a straight pipeline, and its modules are listed in pipeline order:
//! source → dissect → flow → output. Protocol knowledge lives in the `netsniff-dissectors`
//! crate; this crate owns I/O, policy (ordering, caps, reassembly) and presentation.

/// Command line: clap arguments (what the user typed) and the resolved configuration.
pub mod cli;
/// Display filters (`-Y`): Wireshark's filter language over the fields of a frame.
pub mod display_filter;
/// One frame through the dissector registry, plus IP defragmentation.
pub mod dissect;
/// Flows: the TCP/UDP conversation table, TCP analysis, reassembly, application parsers.
pub mod flow;
/// Outputs ("sinks"): summary lines, `-T fields`, JSON, `-V`, statistics.
pub mod output;
/// Frames in batches between the reading thread (L2–L4) and the flow/output thread.
pub mod pipeline;
/// Capture files and live interfaces, yielding frames in capture order.
pub mod source;

mod run;

pub use run::{is_broken_pipe, run, RunStatus};
