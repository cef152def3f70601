//! The resolved configuration of one run ("HiArgs"): which source, which output, which fields,
//! which filter. Everything a user can get wrong is checked here, before any packet is read,
//! and reported in one line.

use super::args::{Args, Command, FlowCapArgs, FlowSort, OutputFormat, TimeFormat};
use crate::flow::key::L4;
use crate::flow::FlowLimits;
use crate::output::endpoints::{AddrLayer, EndpointKind};
use anyhow::{anyhow, bail, Context, Result};
use netsniff_dissectors::{proto, FieldDef, Proto, Table};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Where packets come from.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    File(PathBuf),
    Live(LiveSpec),
}

pub use crate::source::live::LiveSpec;
pub use crate::source::write::WriteSpec;

/// `-E` options of `-T fields`.
#[derive(Debug, Clone)]
pub struct FieldsOptions {
    pub header: bool,
    /// One character, as tshark takes it (`/t` tab, `/s` space, else the first character).
    pub separator: String,
    pub occurrence: Occurrence,
    /// One character (`/s` space, else the first character).
    pub aggregator: String,
    pub quote: Option<char>,
    /// Start the output with a UTF-8 byte-order mark.
    pub bom: bool,
    /// The format of `_ws.col.Time` (`-t`).
    pub time: TimeFormat,
}

impl Default for FieldsOptions {
    fn default() -> Self {
        FieldsOptions {
            header: false,
            separator: "\t".into(),
            occurrence: Occurrence::All,
            aggregator: ",".into(),
            quote: None,
            bom: false,
            time: TimeFormat::default(),
        }
    }
}

/// Which occurrences of a repeated field `-T fields` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    First,
    Last,
    All,
    /// The Nth (1-based).
    Nth(u32),
}

/// One `-e` column of `-T fields`.
#[derive(Debug, Clone, Copy)]
pub enum FieldColumn {
    Field(&'static FieldDef),
    /// A protocol by name (`-e ip`): tshark prints the layer's line of the `-V` tree.
    Proto(&'static Proto),
}

/// What is printed per packet.
#[derive(Debug, Clone)]
pub enum PacketOutput {
    /// One summary line (tshark's default columns), the time as `-t` says.
    Summary { time: TimeFormat },
    /// `-T fields`.
    Fields {
        fields: Vec<FieldColumn>,
        options: FieldsOptions,
    },
    /// `-T json` (one array) or `-T ndjson` (one object per line).
    Json { ndjson: bool },
    /// `-V`.
    Verbose,
    /// `-q`: nothing per packet.
    Nothing,
}

/// A `-z` statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    ConvTcp,
    ConvUdp,
    /// `conv,eth`, `conv,ip`, `conv,ipv6`.
    ConvAddr(AddrLayer),
    Endpoints(EndpointKind),
    ProtocolHierarchy,
}

/// A `-z` option: the statistic, and the display filter of the frames it counts, when given
/// (`-z conv,ip,udp`), with its text for the table's `Filter:` line.
#[derive(Debug, Clone)]
pub struct StatSpec {
    pub stat: Statistic,
    pub filter: Option<(String, crate::display_filter::DisplayFilter)>,
}

impl Statistic {
    /// Whether the table is made from the flow engine's conversations (it keeps the summaries
    /// of ended flows for it, and needs no application parser).
    pub fn from_conversations(self) -> bool {
        matches!(
            self,
            Statistic::ConvTcp | Statistic::ConvUdp | Statistic::Endpoints(EndpointKind::Port(_))
        )
    }
}

/// A `-d LAYER==VALUE,PROTO` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeAs {
    pub table: Table,
    pub port: u16,
    /// The stream protocol's name (`http2`).
    pub proto: &'static str,
}

/// What `netsniff` does.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Read packets and print them.
    Packets,
    /// `-D`.
    ListInterfaces,
    /// `--list-fields`.
    ListFields,
    /// `netsniff flows`.
    Flows { sort: FlowSort, json: bool },
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub source: SourceSpec,
    pub count: Option<u64>,
    pub capture_filter: Option<String>,
    pub output: PacketOutput,
    pub statistics: Vec<StatSpec>,
    pub decode_as: Vec<DecodeAs>,
    pub write: Option<WriteSpec>,
    /// `-Y`: the packets the packet output shows.
    pub display_filter: Option<crate::display_filter::DisplayFilter>,
    /// The flow engine's caps.
    pub flow_limits: FlowLimits,
}

/// Resolves `--max-flows`, `--flow-memory`, `--flow-timeout` over the defaults.
/// `wants_records`: a conversation table will list every flow, so summaries of ended flows
/// are kept (and the default memory budget is the larger one that holds them); otherwise none
/// are.
fn flow_limits(caps: &FlowCapArgs, wants_records: bool, live: bool) -> Result<FlowLimits> {
    let mut l = FlowLimits::default();
    if !live {
        // A file's flows are not expired unless asked: tshark never forgets a conversation
        // (a flow resumed after an hour keeps its analysis), and the memory caps bound the
        // table all the same, evicting the least recently active flows first.
        l.idle_timeout = crate::flow::tcp_analysis::Nanos::MAX;
    }
    if wants_records {
        l.max_memory = crate::flow::table::DEFAULT_MAX_MEMORY_WITH_RECORDS;
    } else {
        l.max_records = 0;
    }
    if let Some(n) = caps.max_flows {
        if n == 0 {
            bail!("--max-flows must be at least 1");
        }
        l.max_flows = n;
    }
    if let Some(mib) = caps.flow_memory {
        if mib == 0 {
            bail!("--flow-memory must be at least 1 (MiB)");
        }
        l.max_memory = mib.saturating_mul(1 << 20);
    }
    if let Some(secs) = caps.flow_timeout {
        l.idle_timeout = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000_000);
    }
    Ok(l)
}

impl Config {
    /// Resolves the command line. Errors are one line, ready to print after `netsniff: `.
    pub fn from_args(args: Args) -> Result<Config> {
        if let Some(Command::Flows(f)) = args.command {
            let json = match f.output_format {
                None | Some(OutputFormat::Text) => false,
                Some(OutputFormat::Json) => true,
                Some(other) => bail!("netsniff flows prints text or json, not {other:?}"),
            };
            return Ok(Config {
                mode: Mode::Flows { sort: f.sort, json },
                source: SourceSpec::File(f.read_file),
                count: f.count,
                capture_filter: f.capture_filter,
                output: PacketOutput::Nothing,
                statistics: Vec::new(),
                decode_as: parse_decode_as(&f.decode_as)?,
                write: None,
                display_filter: None,
                flow_limits: FlowLimits {
                    // The JSON rows carry each flow's transitions and throughput over time.
                    history: json,
                    ..flow_limits(&f.flow_caps, true, false)?
                },
            });
        }
        let mode = if args.list_fields {
            Mode::ListFields
        } else if args.list_interfaces {
            Mode::ListInterfaces
        } else {
            Mode::Packets
        };
        let source = match (&args.read_file, &args.interface) {
            (Some(_), Some(_)) => bail!("-r and -i cannot be used together"),
            (Some(path), None) => SourceSpec::File(path.clone()),
            (None, iface) => SourceSpec::Live(LiveSpec {
                interface: iface.clone(),
                snaplen: args.snaplen,
                promiscuous: !args.no_promiscuous,
                buffer_kib: args.buffer_size,
                immediate: args.immediate_mode,
                user: args.user.clone(),
            }),
        };
        let capture_filter = match (&args.capture_filter, args.filter_words.is_empty()) {
            (Some(_), false) => {
                bail!("give the capture filter either with -f or as trailing words, not both")
            }
            (Some(f), true) => Some(f.clone()),
            (None, false) => Some(args.filter_words.join(" ")),
            (None, true) => None,
        };
        let statistics = args
            .statistics
            .iter()
            .map(|z| parse_statistic(z))
            .collect::<Result<Vec<_>>>()?;
        let output = packet_output(&args)?;
        let wants_records = statistics.iter().any(|s| s.stat.from_conversations());
        let write = args.write_file.as_ref().map(|path| WriteSpec {
            pcapng: match args.write_format {
                Some(f) => f == super::args::FileFormat::Pcapng,
                None => path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("pcapng")),
            },
            path: path.clone(),
            packet_buffered: args.packet_buffered,
            rotate_seconds: args.rotate_seconds,
            rotate_bytes: args.rotate_size.map(|mb| mb.saturating_mul(1_000_000)),
            rotate_count: args.rotate_count,
        });
        let display_filter = args
            .display_filter
            .as_deref()
            .map(crate::display_filter::DisplayFilter::parse)
            .transpose()?;
        if display_filter.is_some() && write.is_some() && matches!(source, SourceSpec::Live(_)) {
            bail!(
                "-Y cannot select what a live capture saves: -w saves what the capture filter \
                 keeps (give one with -f or as trailing words); save, then read the file with \
                 -r FILE -Y FILTER -w OUT"
            );
        }
        let live = matches!(source, SourceSpec::Live(_));
        Ok(Config {
            mode,
            source,
            count: args.count,
            capture_filter,
            output,
            statistics,
            decode_as: parse_decode_as(&args.decode_as)?,
            write,
            display_filter,
            flow_limits: flow_limits(&args.flow_caps, wants_records, live)?,
        })
    }
}

fn packet_output(args: &Args) -> Result<PacketOutput> {
    if !args.fields.is_empty() && args.output_format != Some(OutputFormat::Fields) {
        bail!("-e needs -T fields");
    }
    if args.quiet {
        return Ok(PacketOutput::Nothing);
    }
    // tcpdump -w and tshark -w save without printing unless asked (-P, -T, -V).
    if args.write_file.is_some() && !args.print && !args.verbose && args.output_format.is_none() {
        return Ok(PacketOutput::Nothing);
    }
    let time = args.time_format.unwrap_or_default();
    Ok(match args.output_format {
        Some(OutputFormat::Fields) => {
            if args.fields.is_empty() {
                bail!("-T fields needs at least one -e FIELD");
            }
            let fields = args
                .fields
                .iter()
                .map(|name| resolve_column(name))
                .collect::<Result<Vec<_>>>()?;
            let mut options = FieldsOptions {
                time: args.time_format.unwrap_or_default(),
                ..FieldsOptions::default()
            };
            for opt in &args.field_options {
                apply_field_option(&mut options, opt)?;
            }
            PacketOutput::Fields { fields, options }
        }
        Some(OutputFormat::Json) => PacketOutput::Json { ndjson: false },
        Some(OutputFormat::Ndjson) => PacketOutput::Json { ndjson: true },
        Some(OutputFormat::Text) | None if args.verbose => PacketOutput::Verbose,
        Some(OutputFormat::Text) => PacketOutput::Summary { time },
        // The TUI will open here when stdout is a terminal; until it exists, print.
        None => {
            let _interactive = std::io::stdout().is_terminal() && !args.print;
            PacketOutput::Summary { time }
        }
    })
}

/// Resolves a `-e` name: a field, else a protocol (tshark takes both).
fn resolve_column(name: &str) -> Result<FieldColumn> {
    match resolve_field(name) {
        Ok(f) => Ok(FieldColumn::Field(f)),
        Err(e) => proto::proto(name).map(FieldColumn::Proto).ok_or(e),
    }
}

/// Resolves a Wireshark field name, suggesting the nearest known names when it is unknown.
pub fn resolve_field(name: &str) -> Result<&'static FieldDef> {
    if let Some(f) = proto::field(name).or_else(|| crate::output::columns::field(name)) {
        return Ok(f);
    }
    let mut near: Vec<(f64, &str)> = proto::all_fields()
        .map(|f| (strsim::jaro_winkler(name, f.name), f.name))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    near.dedup_by(|a, b| a.1 == b.1);
    let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
    if names.is_empty() {
        bail!("unknown field '{name}' (netsniff --list-fields shows every field)")
    }
    bail!("unknown field '{name}'; did you mean {}?", names.join(", "))
}

fn apply_field_option(o: &mut FieldsOptions, opt: &str) -> Result<()> {
    let (key, value) = opt
        .split_once('=')
        .ok_or_else(|| anyhow!("-E {opt}: expected OPTION=VALUE"))?;
    // tshark keeps one character: `/t` (separator only) and `/s` name tab and space, any other
    // `/X` is a backslash, anything else is its first character.
    let one_char = |v: &str, tab: bool| -> Result<String> {
        let mut chars = v.chars();
        Ok(match (chars.next(), chars.next()) {
            (None, _) => bail!("-E {opt}: the value cannot be empty"),
            (Some('/'), Some('t')) if tab => "\t".into(),
            (Some('/'), Some('s')) => " ".into(),
            (Some('/'), _) => "\\".into(),
            (Some(c), _) => c.to_string(),
        })
    };
    match key {
        "header" => o.header = parse_yes_no(value).with_context(|| format!("-E {opt}"))?,
        "bom" => o.bom = parse_yes_no(value).with_context(|| format!("-E {opt}"))?,
        "separator" => o.separator = one_char(value, true)?,
        "aggregator" => o.aggregator = one_char(value, false)?,
        "occurrence" => {
            o.occurrence = match value {
                "f" => Occurrence::First,
                "l" => Occurrence::Last,
                "a" => Occurrence::All,
                n => Occurrence::Nth(
                    n.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| anyhow!("-E {opt}: occurrence is f, l, a or a number"))?,
                ),
            }
        }
        "quote" => {
            o.quote = match value {
                "d" => Some('"'),
                "s" => Some('\''),
                "n" => None,
                _ => bail!("-E {opt}: quote is d, s or n"),
            }
        }
        // Newer tshark's escape=y|n; netsniff always escapes as tshark 4.0 does.
        "escape" => {}
        _ => bail!(
            "-E {opt}: unknown option (header, separator, occurrence, aggregator, quote, bom)"
        ),
    }
    Ok(())
}

/// tshark looks at the first character only.
fn parse_yes_no(v: &str) -> Result<bool> {
    match v.chars().next() {
        Some('y' | 'Y') => Ok(true),
        Some('n' | 'N') => Ok(false),
        _ => bail!("expected y or n"),
    }
}

fn parse_statistic(z: &str) -> Result<StatSpec> {
    // tshark's form: KIND,LAYER[,FILTER] (the filter may hold commas).
    let mut parts = z.splitn(3, ',');
    let name = match (parts.next(), parts.next()) {
        (Some(kind), Some(layer)) => format!("{kind},{layer}"),
        _ => z.to_string(),
    };
    let filter_text = parts.next().filter(|f| !f.is_empty());
    let stat = match name.as_str() {
        "conv,tcp" => Statistic::ConvTcp,
        "conv,udp" => Statistic::ConvUdp,
        "conv,eth" => Statistic::ConvAddr(AddrLayer::Eth),
        "conv,ip" => Statistic::ConvAddr(AddrLayer::Ipv4),
        "conv,ipv6" => Statistic::ConvAddr(AddrLayer::Ipv6),
        "endpoints,eth" => Statistic::Endpoints(EndpointKind::Addr(AddrLayer::Eth)),
        "endpoints,ip" => Statistic::Endpoints(EndpointKind::Addr(AddrLayer::Ipv4)),
        "endpoints,ipv6" => Statistic::Endpoints(EndpointKind::Addr(AddrLayer::Ipv6)),
        "endpoints,tcp" => Statistic::Endpoints(EndpointKind::Port(L4::Tcp)),
        "endpoints,udp" => Statistic::Endpoints(EndpointKind::Port(L4::Udp)),
        "io,phs" => Statistic::ProtocolHierarchy,
        _ => bail!(
            "-z {z}: unknown statistic (conv,tcp|udp|eth|ip|ipv6  endpoints,tcp|udp|eth|ip|ipv6  io,phs)"
        ),
    };
    let filter = match filter_text {
        None => None,
        // Those tables are summed from the flow engine's conversations, not frame by frame.
        Some(_) if stat.from_conversations() => bail!(
            "-z {z}: a filter is taken by conv,eth|ip|ipv6, endpoints,eth|ip|ipv6 and io,phs, \
             not by the TCP and UDP tables"
        ),
        Some(text) => Some((
            text.to_string(),
            crate::display_filter::DisplayFilter::parse_for(&format!("-z {name}"), text)?,
        )),
    };
    Ok(StatSpec { stat, filter })
}

/// Parses `tcp.port==8080,http` (tshark's `-d`). A rule naming a protocol netsniff does not
/// dissect is reported on stderr and ignored (the rest of the run is still useful).
pub fn parse_decode_as(rules: &[String]) -> Result<Vec<DecodeAs>> {
    rules
        .iter()
        .filter_map(|rule| {
            let parsed = parse_one_decode_as(rule);
            match parsed {
                Ok(Some(d)) => Some(Ok(d)),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            }
        })
        .collect()
}

fn parse_one_decode_as(rule: &str) -> Result<Option<DecodeAs>> {
    {
        {
            let bad =
                || anyhow!("-d {rule}: expected tcp.port==PORT,PROTO or udp.port==PORT,PROTO");
            let (selector, proto_name) = rule.split_once(',').ok_or_else(bad)?;
            let (layer, value) = selector.split_once("==").ok_or_else(bad)?;
            let table = match layer {
                "tcp.port" => Table::TcpPort,
                "udp.port" => Table::UdpPort,
                _ => return Err(bad()),
            };
            let port = value.parse().map_err(|_| bad())?;
            let Some(proto) = proto::stream_dissector(proto_name).map(|d| d.proto().name) else {
                eprintln!(
                    "netsniff: -d {rule}: netsniff has no '{proto_name}' dissector; rule ignored"
                );
                return Ok(None);
            };
            Ok(Some(DecodeAs { table, port, proto }))
        }
    }
}
