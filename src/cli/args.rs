//! What the user typed, in tshark's and tcpdump's dialect. Doc comments are the `--help` text.
//! Validation that needs no I/O happens here; everything else in [`super::config`].

use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Packet capture and protocol dissector: tcpdump's speed, Wireshark's field names.
///
/// Reads a capture file (-r) or a live interface (-i) and prints one line per packet, the
/// fields you name (-T fields -e ...), JSON, or the full dissection tree (-V).
/// A capture filter in tcpdump's syntax may follow the options.
#[derive(Debug, Parser)]
#[command(
    name = "netsniff",
    version,
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  netsniff -r capture.pcap\n  netsniff -r capture.pcap -T fields -e ip.src -e tcp.dstport tcp port 80\n  netsniff -r capture.pcap -V -c 1\n  netsniff flows -r capture.pcap --sort bytes\n  sudo netsniff -i eth0 -w out.pcapng\n\nExit status: 0 success; 1 finished, but problems were reported on stderr (a packet longer than\nthe snapshot length, an unsupported link type, a skipped damaged block); 2 stopped by an error\n(bad usage, unreadable file, a file cut short or damaged: the frames before it are printed)."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Read packets from this capture file (pcap or pcapng).
    #[arg(short = 'r', long = "read-file", value_name = "FILE")]
    pub read_file: Option<PathBuf>,

    /// Capture live from this interface ("any" for all; see -D).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,

    /// List the interfaces available for live capture and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Write the captured packets to this file (pcap, or pcapng by extension or -F).
    #[arg(short = 'w', value_name = "FILE")]
    pub write_file: Option<PathBuf>,

    /// Format of the -w file.
    #[arg(short = 'F', value_name = "FORMAT")]
    pub write_format: Option<FileFormat>,

    /// Flush the -w file after every packet.
    #[arg(short = 'U', long = "packet-buffered")]
    pub packet_buffered: bool,

    /// Stop after this many packets.
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,

    /// Capture filter in tcpdump's (BPF) syntax; applies to files too.
    #[arg(short = 'f', value_name = "FILTER")]
    pub capture_filter: Option<String>,

    /// Display filter in Wireshark's syntax: only matching packets are printed, e.g.
    /// -Y 'dns.flags.response == 1 && ip.src == 10.0.0.0/8'
    #[arg(short = 'Y', long = "display-filter", value_name = "FILTER")]
    pub display_filter: Option<String>,

    /// Output format: fields, json, ndjson, text (the default).
    #[arg(short = 'T', value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,

    /// A field to print with -T fields (Wireshark's field name); repeatable.
    #[arg(short = 'e', value_name = "FIELD")]
    pub fields: Vec<String>,

    /// -T fields options: header=y|n, separator=/t|/s|CHAR, occurrence=f|l|a|N,
    /// aggregator=,|/s|CHAR, quote=d|s|n.
    #[arg(short = 'E', value_name = "OPTION=VALUE")]
    pub field_options: Vec<String>,

    /// Print the full dissection tree of each packet.
    #[arg(short = 'V')]
    pub verbose: bool,

    /// Print one summary line per packet (the default when stdout is not a terminal).
    #[arg(short = 'P', long = "print")]
    pub print: bool,

    /// Time column format, as tshark's -t: r (since the first frame), a / ad / adoy (local
    /// time; with the date; with the day of the year), u / ud / udoy (the same in UTC), e
    /// (epoch), d (since the previous frame), dd (since the previous frame shown).
    #[arg(short = 't', value_name = "FORMAT", hide_possible_values = true)]
    pub time_format: Option<TimeFormat>,

    /// Quiet: print no packets (statistics from -z only).
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Statistics: conv,tcp|udp|eth|ip|ipv6  endpoints,tcp|udp|eth|ip|ipv6  io,phs
    #[arg(short = 'z', value_name = "STATISTIC")]
    pub statistics: Vec<String>,

    /// Decode traffic on a port as a protocol, as tshark: tcp.port==8080,http
    #[arg(short = 'd', long = "decode-as", value_name = "LAYER==VALUE,PROTO")]
    pub decode_as: Vec<String>,

    /// Disable name resolution (always off; accepted for compatibility).
    #[arg(short = 'n', action = ArgAction::SetTrue)]
    pub no_resolve: bool,

    /// Snapshot length for live capture, in bytes.
    #[arg(short = 's', long = "snapshot-length", value_name = "SNAPLEN")]
    pub snaplen: Option<i32>,

    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promiscuous: bool,

    /// Kernel capture buffer size, in KiB.
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB")]
    pub buffer_size: Option<i32>,

    /// Deliver packets as soon as they arrive (no kernel batching).
    #[arg(long = "immediate-mode")]
    pub immediate_mode: bool,

    /// Rotate the -w file every this many seconds.
    #[arg(short = 'G', value_name = "SECONDS")]
    pub rotate_seconds: Option<u64>,

    /// Rotate the -w file when it exceeds this many millions of bytes.
    #[arg(short = 'C', value_name = "MB")]
    pub rotate_size: Option<u64>,

    /// Keep at most this many rotated files.
    #[arg(short = 'W', value_name = "COUNT")]
    pub rotate_count: Option<u32>,

    /// After opening the capture, drop privileges to this user ("root" keeps them).
    #[arg(short = 'Z', value_name = "USER")]
    pub user: Option<String>,

    /// List every field netsniff knows (name, type, description) and exit.
    #[arg(long = "list-fields")]
    pub list_fields: bool,

    #[command(flatten)]
    pub flow_caps: FlowCapArgs,

    /// Print version information.
    #[arg(long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,

    /// Capture filter words (tcpdump style), e.g. `tcp port 80`.
    #[arg(value_name = "FILTER", trailing_var_arg = true)]
    pub filter_words: Vec<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per TCP/UDP conversation: endpoints, packets and bytes each way, duration,
    /// state, handshake RTT, retransmissions.
    Flows(FlowsArgs),
}

/// Arguments of `netsniff flows`.
#[derive(Debug, clap::Args)]
pub struct FlowsArgs {
    /// Capture file to read.
    #[arg(short = 'r', long = "read-file", value_name = "FILE")]
    pub read_file: PathBuf,

    /// Sort rows by this column (descending for bytes, packets, duration).
    #[arg(long = "sort", value_name = "KEY", default_value = "start")]
    pub sort: FlowSort,

    /// Output format: text (default) or json.
    #[arg(short = 'T', value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,

    /// Read only this many packets (after the capture filter), as with -r.
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,

    /// Capture filter in tcpdump's syntax.
    #[arg(short = 'f', value_name = "FILTER")]
    pub capture_filter: Option<String>,

    /// Decode traffic on a port as a protocol: tcp.port==8080,http
    #[arg(short = 'd', long = "decode-as", value_name = "LAYER==VALUE,PROTO")]
    pub decode_as: Vec<String>,

    #[command(flatten)]
    pub flow_caps: FlowCapArgs,
}

/// The flow engine's caps (memory stays bounded; what a cap drops is counted and reported).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FlowCapArgs {
    /// Live TCP/UDP flows kept at most; past it the least recently active closed
    /// connection, else the least recently active flow, is evicted (its stream number is
    /// kept for its return) [default: 1048576].
    #[arg(long = "max-flows", value_name = "N")]
    pub max_flows: Option<usize>,

    /// Memory for flow state, in MiB: half for live flows (tables, reassembly and parser
    /// buffers), half for what keeps the stream numbers of flows that left the table; with a
    /// conversation table (`-z conv`, `netsniff flows`), half for the summaries of ended
    /// flows and a quarter each for the others [default: 32, or 128 with a conversation
    /// table].
    #[arg(long = "flow-memory", value_name = "MIB")]
    pub flow_memory: Option<usize>,

    /// Seconds without a packet (capture time) after which a flow is expired [default: 3600
    /// on a live capture; none reading a file, as tshark, within the memory caps].
    #[arg(long = "flow-timeout", value_name = "SECS")]
    pub flow_timeout: Option<u64>,
}

/// How `netsniff flows` sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowSort {
    Bytes,
    Packets,
    Start,
    Duration,
}

/// `-T` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Fields,
    Json,
    Ndjson,
    Text,
}

/// `-t` values: the Time column's format, named as tshark names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TimeFormat {
    /// Seconds since the first frame (the default).
    #[default]
    #[value(name = "r")]
    Relative,
    /// Local time of day.
    #[value(name = "a")]
    Absolute,
    /// Local date and time.
    #[value(name = "ad")]
    AbsoluteDate,
    /// Local year/day-of-year and time.
    #[value(name = "adoy")]
    AbsoluteDoy,
    /// Seconds since the previous captured frame.
    #[value(name = "d")]
    Delta,
    /// Seconds since the previous displayed frame.
    #[value(name = "dd")]
    DeltaDisplayed,
    /// Seconds since the epoch.
    #[value(name = "e")]
    Epoch,
    /// UTC time of day.
    #[value(name = "u")]
    Utc,
    /// UTC date and time.
    #[value(name = "ud")]
    UtcDate,
    /// UTC year/day-of-year and time.
    #[value(name = "udoy")]
    UtcDoy,
}

/// `-F` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Pcap,
    Pcapng,
}

/// Parses the process's command line (exits with clap's message on a usage error).
pub fn parse() -> Args {
    Args::parse()
}
