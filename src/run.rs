//! The pipeline of one run: source → capture filter → dissect → flows → sinks.

use crate::cli::config::{Config, Mode, PacketOutput, SourceSpec, Statistic};
use crate::cli::Args;
use crate::dissect::Dissect;
use crate::flow::key::L4;
use crate::flow::{FlowConfig, FlowEngine};
use crate::output::conv::{warn_caps, ConvSink, FlowsSink};
use crate::output::fields::FieldsSink;
use crate::output::json::JsonSink;
use crate::output::phs::PhsSink;
use crate::output::summary::SummarySink;
use crate::output::verbose::VerboseSink;
use crate::output::{FrameEnd, RunEnd, Sink, Tee};
use crate::source::file::{sub_time, FileSource};
use crate::source::live::{self, CaptureOptions, LiveSource};
use crate::source::Source;
use anyhow::{anyhow, bail, Result};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::frame;
use netsniff_dissectors::{Columns, Cx, FieldSink, LinkType, PacketInfo};
use rustc_hash::FxHashMap;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

/// How a run ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Everything was read.
    Ok,
    /// The whole file was read, but problems were reported on stderr (a packet longer than
    /// the snapshot length, an unsupported link type, a damaged pcapng block skipped). A file
    /// that cannot be read to its end is an error instead (exit status 2).
    Warnings,
}

impl From<RunStatus> for ExitCode {
    fn from(s: RunStatus) -> ExitCode {
        match s {
            RunStatus::Ok => ExitCode::SUCCESS,
            RunStatus::Warnings => ExitCode::from(1),
        }
    }
}

/// Whether `err` is a closed stdout (`netsniff … | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Runs netsniff with parsed arguments.
pub fn run(args: Args) -> Result<RunStatus> {
    let config = Config::from_args(args)?;
    match config.mode {
        Mode::ListFields => list_fields(),
        Mode::ListInterfaces => {
            let mut out = io::stdout().lock();
            live::list_interfaces(&mut out)?;
            out.flush()?;
            Ok(RunStatus::Ok)
        }
        Mode::Flows { .. } | Mode::Packets => read_packets(&config),
    }
}

fn list_fields() -> Result<RunStatus> {
    let mut out = BufWriter::new(io::stdout().lock());
    crate::output::list_fields(&mut out)?;
    out.flush()?;
    Ok(RunStatus::Ok)
}

/// The sinks for this configuration, writing to stdout.
pub fn make_sink(config: &Config) -> Box<dyn Sink> {
    let out = || BufWriter::with_capacity(1 << 16, io::stdout());
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    match &config.output {
        PacketOutput::Summary => sinks.push(Box::new(SummarySink::new(out()))),
        PacketOutput::Fields { fields, options } => {
            sinks.push(Box::new(FieldsSink::new(out(), fields, options.clone())))
        }
        PacketOutput::Json { ndjson } => sinks.push(Box::new(JsonSink::new(out(), *ndjson))),
        PacketOutput::Verbose => sinks.push(Box::new(VerboseSink::new(out()))),
        PacketOutput::Nothing => {}
    }
    if let Mode::Flows { sort, json } = config.mode {
        sinks.push(Box::new(FlowsSink::new(out(), sort, json)));
    }
    // tshark prints the last -z statistic first.
    for stat in config.statistics.iter().rev() {
        match stat {
            Statistic::ConvTcp => sinks.push(Box::new(ConvSink::new(out(), L4::Tcp))),
            Statistic::ConvUdp => sinks.push(Box::new(ConvSink::new(out(), L4::Udp))),
            Statistic::ProtocolHierarchy => sinks.push(Box::new(PhsSink::new(out()))),
        }
    }
    if sinks.len() == 1 {
        if let Some(only) = sinks.pop() {
            return only;
        }
    }
    Box::new(Tee::new(sinks))
}

/// A tcpdump capture filter applied to frames read from a file, compiled once per link type.
struct CaptureFilter {
    expr: String,
    programs: FxHashMap<LinkType, pcap::BpfProgram>,
}

impl CaptureFilter {
    fn matches(&mut self, link_type: LinkType, data: &[u8]) -> Result<bool> {
        if !self.programs.contains_key(&link_type) {
            let lt = i32::try_from(link_type.0).unwrap_or(i32::MAX);
            let dead = pcap::Capture::dead(pcap::Linktype(lt))
                .map_err(|e| anyhow!("capture filter: {e}"))?;
            let program = dead
                .compile(&self.expr, true)
                .map_err(|e| anyhow!("capture filter '{}': {e}", self.expr))?;
            self.programs.insert(link_type, program);
        }
        Ok(self
            .programs
            .get(&link_type)
            .is_some_and(|p| p.filter(data)))
    }
}

/// The configured source. A live capture's filter runs in the kernel; a file's in
/// [`CaptureFilter`].
fn open_source(config: &Config) -> Result<Box<dyn Source>> {
    match &config.source {
        SourceSpec::File(path) => {
            if config.write.is_some() {
                bail!("-w saves a live capture (-i); it cannot be used with -r yet");
            }
            Ok(Box::new(FileSource::open(path)?))
        }
        SourceSpec::Live(spec) => {
            let options = CaptureOptions {
                filter: config.capture_filter.clone(),
                count: config.count,
                write: config.write.clone(),
            };
            let source = LiveSource::open(spec, options)?;
            if let Some(b) = source.banner() {
                eprintln!("netsniff: {b}");
            }
            Ok(Box::new(source))
        }
    }
}

fn read_packets(config: &Config) -> Result<RunStatus> {
    let mut source = open_source(config)?;
    let is_file = matches!(config.source, SourceSpec::File(_));
    let mut filter = config
        .capture_filter
        .as_ref()
        .filter(|_| is_file)
        .map(|expr| CaptureFilter {
            expr: expr.clone(),
            programs: FxHashMap::default(),
        });
    if let (Some(f), Some(lt)) = (filter.as_mut(), source.first_link_type()) {
        // Compile before the first packet, so a bad filter fails fast and alone.
        f.matches(lt, &[])?;
    }
    let mut sink = make_sink(config);
    let mut dissect = Dissect::new();
    // Application parsers run only when some output shows what they find: not for
    // `-q -z conv,…` alone nor for `netsniff flows` (which names protocols by detection).
    let conv_only = config
        .statistics
        .iter()
        .all(|s| matches!(s, Statistic::ConvTcp | Statistic::ConvUdp));
    let parse_apps = !(matches!(config.output, PacketOutput::Nothing) && conv_only);
    // Summaries of ended flows are kept only for the conversation tables: without one, memory
    // stays at the live table's cap whatever the file's size.
    let mut limits = config.flow_limits;
    let wants_records = matches!(config.mode, Mode::Flows { .. })
        || config
            .statistics
            .iter()
            .any(|s| matches!(s, Statistic::ConvTcp | Statistic::ConvUdp));
    if !wants_records {
        limits.max_records = 0;
    }
    let mut flows = FlowEngine::new(FlowConfig {
        decode_as: config.decode_as.clone(),
        limits,
        parse_apps,
    });
    let mut cols = Columns::default();
    let mut stack = ProtoStack::default();
    let mut frames = 0u64;
    let mut status = RunStatus::Ok;
    let want_cols = sink.wants_columns();
    // The previous frame's time, for `frame.time_delta`.
    let mut prev_time: Option<(i64, u32)> = None;
    let end_error = loop {
        if config.count.is_some_and(|c| frames >= c) {
            break None;
        }
        let next = source.next();
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => break None,
            Err(e) => break Some(e),
        };
        let (mut meta, data, comments) = (frame.meta, frame.data, frame.comments);
        if !meta.no_timestamp {
            let (ps, pn) = prev_time
                .replace((meta.secs, meta.nanos))
                .unwrap_or((meta.secs, meta.nanos));
            (meta.delta_secs, meta.delta_nanos) = sub_time(meta.secs, meta.nanos, ps, pn);
        }
        if let Some(f) = filter.as_mut() {
            if !f.matches(meta.link_type, data)? {
                continue;
            }
        }
        frames += 1;
        let mut pi = PacketInfo::default();
        cols.clear();
        stack.clear();
        sink.begin_frame(&meta);
        {
            let fields: &mut dyn FieldSink = &mut *sink;
            let mut cx = Cx::new(fields, want_cols.then_some(&mut cols), &mut stack);
            frame::emit_comments(comments.as_slice(), &mut cx);
            let payload = dissect.frame(&meta, data, &mut pi, &mut cx);
            flows.process(&meta, &pi, payload, &mut cx);
            frame::emit_protocols(&mut cx);
        }
        sink.end_frame(&FrameEnd {
            meta: &meta,
            pi: &pi,
            cols: &cols,
            protocols: &stack,
        })?;
        if source.would_block() {
            sink.flush()?;
        }
        for w in source.take_warnings() {
            eprintln!("netsniff: {w}");
            status = RunStatus::Warnings;
        }
    };
    for w in source.take_warnings() {
        eprintln!("netsniff: {w}");
        status = RunStatus::Warnings;
    }
    flows.finish();
    sink.finish(&RunEnd {
        frames,
        flows: &flows,
    })?;
    if !matches!(config.mode, Mode::Flows { .. }) {
        // `netsniff flows` reports its caps in its own summary.
        let mut stats = flows.stats();
        if !wants_records {
            // Nothing asked for summaries of ended flows: none were kept on purpose.
            stats.table.records_dropped = 0;
        }
        warn_caps(&stats);
    }
    io::stdout().flush()?;
    source.finish(&mut io::stderr())?;
    if let Some(e) = end_error {
        // Everything before the error was printed; the error is the last line.
        io::stdout().flush()?;
        return Err(e.into());
    }
    Ok(status)
}
