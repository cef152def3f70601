//! The command line, split as ripgrep does: [`args`] is what clap parsed (validation only),
//! [`config`] is what the run needs (sources opened, fields resolved, sinks chosen).

pub mod args;
pub mod config;

pub use args::{parse, Args};
