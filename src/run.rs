//! The pipeline of one run: source → capture filter → dissect → flows → sinks.

use crate::cli::config::{Config, Mode, PacketOutput, SourceSpec, Statistic};
use crate::cli::Args;
use crate::flow::key::L4;
use crate::flow::{FlowConfig, FlowEngine};
use crate::output::conv::{warn_caps, ConvSink, FlowsSink};
use crate::output::display::FilteredSink;
use crate::output::endpoints::{AddrConvSink, EndpointsSink};
use crate::output::fields::fields_sink;
use crate::output::json::JsonSink;
use crate::output::phs::PhsSink;
use crate::output::save::SaveSink;
use crate::output::summary::SummarySink;
use crate::output::verbose::VerboseSink;
use crate::output::{FrameEnd, RunEnd, Sink, Tee};
use crate::pipeline::{Batch, FilterFn, Reader, Wants, BATCHES_IN_FLIGHT, MAX_BATCH_FRAMES};
use crate::source::file::FileSource;
use crate::source::live::{self, CaptureOptions, LiveSource};
use crate::source::write::{FileSaver, LinkInfo};
use crate::source::{Source, SourceError};
use anyhow::{anyhow, Result};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::frame;
use netsniff_dissectors::{Cx, FieldFilter, FieldSink, LinkType};
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

/// The sinks for this configuration, writing to stdout; `save` keeps the frames the display
/// filter passes (`-Y` with `-w`).
pub fn make_sink(config: &Config, save: Option<FileSaver>) -> Box<dyn Sink> {
    let out = || BufWriter::with_capacity(1 << 16, io::stdout());
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let packets: Option<Box<dyn Sink>> = match &config.output {
        PacketOutput::Summary { time } => Some(Box::new(SummarySink::new(out(), *time))),
        PacketOutput::Fields { fields, options } => {
            Some(fields_sink(out(), fields, options.clone()))
        }
        PacketOutput::Json { ndjson } => Some(Box::new(JsonSink::new(out(), *ndjson))),
        PacketOutput::Verbose => Some(Box::new(VerboseSink::new(out()))),
        PacketOutput::Nothing => None,
    };
    // -Y selects the packets shown (and saved); statistics count every packet, as tshark's do.
    let packets = match (packets, save) {
        (Some(p), Some(s)) => Some(Box::new(Tee::new(vec![p, Box::new(SaveSink::new(s))])) as _),
        (None, Some(s)) => Some(Box::new(SaveSink::new(s)) as Box<dyn Sink>),
        (p, None) => p,
    };
    if let Some(packets) = packets {
        sinks.push(match &config.display_filter {
            Some(f) => Box::new(FilteredSink::new(packets, f.clone())),
            None => packets,
        });
    }
    if let Mode::Flows { sort, json } = config.mode {
        sinks.push(Box::new(FlowsSink::new(out(), sort, json)));
    }
    // tshark prints the last -z statistic first.
    for spec in config.statistics.iter().rev() {
        let filter_text = spec.filter.as_ref().map(|(text, _)| text.clone());
        let sink: Box<dyn Sink> = match spec.stat {
            Statistic::ConvTcp => Box::new(ConvSink::new(out(), L4::Tcp)),
            Statistic::ConvUdp => Box::new(ConvSink::new(out(), L4::Udp)),
            Statistic::ConvAddr(layer) => Box::new(AddrConvSink::new(out(), layer, filter_text)),
            Statistic::Endpoints(kind) => Box::new(EndpointsSink::new(out(), kind, filter_text)),
            Statistic::ProtocolHierarchy => Box::new(PhsSink::new(out(), filter_text)),
        };
        // A statistic's filter picks the frames it counts, as -Y picks those shown.
        sinks.push(match &spec.filter {
            Some((_, f)) => Box::new(FilteredSink::new(sink, f.clone())),
            None => sink,
        });
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
fn open_source(config: &Config) -> Result<Box<dyn Source + Send>> {
    match &config.source {
        SourceSpec::File(path) => Ok(Box::new(FileSource::open(path)?)),
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
    let source = open_source(config)?;
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
    // `-w` with `-r`: an empty result still makes a valid file of the source's link type.
    let saver = config.write.clone().filter(|_| is_file).map(|spec| {
        let fallback = LinkInfo {
            link_type: source.first_link_type().unwrap_or(LinkType::ETHERNET),
            snaplen: source
                .first_snaplen()
                .unwrap_or(live::DEFAULT_SNAPLEN.unsigned_abs()),
            interface: None,
        };
        FileSaver::new(spec, fallback)
    });
    // Behind a display filter the frames are saved by an output, after dissection; else as
    // they are read.
    let display_save = config.display_filter.is_some() && saver.is_some();
    let (saver, save) = if display_save {
        (None, saver)
    } else {
        (saver, None)
    };
    let sink = make_sink(config, save);
    let wants = Wants::of(&*sink);
    let want_cols = sink.wants_columns();
    let prerender = sink.prerender();
    // Application parsers run only when some output shows what they find: not for
    // `-q -z conv,…` alone nor for `netsniff flows` (which names protocols by detection).
    let conv_only = config.statistics.iter().all(|s| {
        s.filter.is_none()
            && (s.stat.from_conversations()
                || matches!(s.stat, Statistic::ConvAddr(_) | Statistic::Endpoints(_)))
    });
    let parse_apps = config.display_filter.is_some()
        || !(matches!(config.output, PacketOutput::Nothing) && conv_only);
    let limits = config.flow_limits;
    // Summaries of ended flows are kept only for the conversation tables (see
    // `cli::config`): without one, none were kept on purpose.
    let wants_records = limits.max_records > 0;
    let flows = FlowEngine::new(FlowConfig {
        decode_as: config.decode_as.clone(),
        limits,
        parse_apps,
    });
    let filter = filter.map(|mut f| -> FilterFn { Box::new(move |lt, data| f.matches(lt, data)) });
    let mut reader = Reader::new(source, filter, config.count, want_cols, wants, prerender);
    reader.saver = saver;
    reader.keep_frames = display_save;
    let filter = crate::pipeline::field_filter(sink.fields_used().as_deref());
    let run_flows = sink.needs_flows();
    reader.flow_keys = run_flows;
    let mut stage2 = Stage2 {
        filter,
        run_flows,
        sink,
        flows,
        stack: ProtoStack::default(),
        frames: 0,
        status: RunStatus::Ok,
        want_cols,
    };
    let end_error = if is_file {
        let (result, returned) = run_threaded(reader, &mut stage2);
        reader = returned.ok_or_else(|| anyhow!("the reading thread failed"))?;
        // The saved file is completed whatever ended the run (an output error, a full disk).
        let saved = reader.saver.take().map(FileSaver::finish).transpose();
        let end = result?;
        saved?;
        end
    } else {
        run_inline(&mut reader, &mut stage2)?
    };
    let Stage2 {
        mut sink,
        mut flows,
        frames,
        status,
        ..
    } = stage2;
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
    reader.source.finish(&mut io::stderr())?;
    if let Some(e) = end_error {
        // Everything before the error was printed; the error is the last line.
        io::stdout().flush()?;
        return Err(e.into());
    }
    Ok(status)
}

/// Stage two of the pipeline: the flow engine and the outputs.
struct Stage2 {
    sink: Box<dyn Sink>,
    /// The fields the sink uses (the flow engine's other fields are not handed to it).
    filter: FieldFilter,
    /// Whether the flow engine runs (not when the output needs nothing of it).
    run_flows: bool,
    flows: FlowEngine,
    stack: ProtoStack,
    frames: u64,
    status: RunStatus,
    want_cols: bool,
}

impl Stage2 {
    /// Runs every frame of `batch` through the flow engine into the sink.
    fn consume(&mut self, batch: &mut Batch) -> Result<()> {
        for i in 0..batch.len() {
            if let Some(meta) = batch.meta(i) {
                self.sink.begin_frame(meta);
            }
            let fields: &mut dyn FieldSink = &mut *self.sink;
            let Some(f) = batch.frame(i, fields, &mut self.stack) else {
                continue;
            };
            self.frames += 1;
            {
                let fields: &mut dyn FieldSink = &mut *self.sink;
                let cols = self.want_cols.then_some(&mut *f.cols);
                let mut cx = Cx::new(fields, cols, &mut self.stack).with_filter(self.filter);
                if self.run_flows {
                    self.flows
                        .process_keyed(f.meta, f.pi, f.keyed, f.payload, &mut cx);
                }
                frame::emit_protocols(&mut cx);
            }
            self.sink.end_frame(&FrameEnd {
                meta: f.meta,
                pi: f.pi,
                cols: f.cols,
                protocols: &self.stack,
                pre: f.pre,
                raw: f.raw,
            })?;
            self.warn(batch.warnings_after(i));
        }
        self.warn(batch.warnings_after(batch.len()));
        Ok(())
    }

    fn warn<'w>(&mut self, warnings: impl Iterator<Item = &'w SourceError>) {
        for w in warnings {
            eprintln!("netsniff: {w}");
            self.status = RunStatus::Warnings;
        }
    }
}

/// A live capture: one frame at a time, output flushed whenever the interface is quiet.
fn run_inline(reader: &mut Reader, stage2: &mut Stage2) -> Result<Option<SourceError>> {
    let mut batch = Batch::default();
    loop {
        reader.fill(&mut batch, 1)?;
        stage2.consume(&mut batch)?;
        if let Some(end) = batch.end.take() {
            return Ok(end);
        }
        if reader.source.would_block() {
            stage2.sink.flush()?;
        }
    }
}

/// A file: stage one on its own thread, handing batches to stage two on this one. Returns the
/// run's result and the reader (for its source's closing report).
fn run_threaded(
    mut reader: Reader,
    stage2: &mut Stage2,
) -> (Result<Option<SourceError>>, Option<Reader>) {
    use std::sync::mpsc::sync_channel;
    // Two batches queued at most, plus the one being filled and the one being consumed.
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT - 2);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> (Result<()>, Reader) {
            loop {
                let mut batch = empty_rx.try_recv().unwrap_or_default();
                if let Err(e) = reader.fill(&mut batch, MAX_BATCH_FRAMES) {
                    return (Err(e), reader);
                }
                let end = batch.end.is_some();
                // A closed channel means stage two stopped (an output error): stop too.
                if full_tx.send(batch).is_err() || end {
                    return (Ok(()), reader);
                }
            }
        });
        let consumed = (|| -> Result<Option<SourceError>> {
            for mut batch in full_rx.iter() {
                stage2.consume(&mut batch)?;
                if let Some(end) = batch.end.take() {
                    return Ok(end);
                }
                // Stage one may have ended already; then the batch is simply dropped.
                let _ = empty_tx.send(batch);
            }
            Ok(None)
        })();
        drop(full_rx);
        match producer.join() {
            Ok((produced, reader)) => {
                let result = match (consumed, produced) {
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                    (Ok(end), Ok(())) => Ok(end),
                };
                (result, Some(reader))
            }
            Err(_) => (Err(anyhow!("the reading thread panicked")), None),
        }
    })
}
