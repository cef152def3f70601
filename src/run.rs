//! The pipeline of one run: source → capture filter → dissect → flows → sinks.

use crate::cli::config::{Config, Mode, PacketOutput, SourceSpec, Statistic};
use crate::cli::Args;
use crate::flow::key::{Keyed, L4};
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
use crate::pipeline::{Batch, FilterFn, Reader, Wants, BATCHES_IN_FLIGHT, READ_AHEAD_BATCHES};
use crate::source::file::FileSource;
use crate::source::live::{self, CaptureOptions, LiveSource};
use crate::source::write::{FileSaver, LinkInfo};
use crate::source::{Source, SourceError};
use anyhow::{anyhow, Result};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::frame;
use netsniff_dissectors::{FieldSink, LinkType};
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
            let dead = pcap::Capture::dead(crate::source::dlt_of(link_type))
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
    // Detected only for an output that names them: without, no payload is looked at.
    let detect_apps = parse_apps || matches!(config.mode, Mode::Flows { .. });
    let limits = config.flow_limits;
    // Summaries of ended flows are kept only for the conversation tables (see
    // `cli::config`): without one, none were kept on purpose.
    let wants_records = limits.max_records > 0;
    // Wireshark's TCP sequence analysis runs unless no output shows what it finds: a list
    // of fields none of which it touches (`-T fields -e dns.qry.name`), or conversation
    // tables alone (`-q -z conv,tcp`; `netsniff flows` shows retransmissions and RTTs).
    let packets_only =
        matches!(config.mode, Mode::Packets) && config.display_filter.is_none() && !want_cols;
    let tcp_analysis = !packets_only
        || match config.output {
            PacketOutput::Nothing => !conv_only,
            PacketOutput::Fields { .. } => {
                !config.statistics.is_empty()
                    || sink
                        .fields_used()
                        .is_none_or(|fields| crate::flow::analysis_needed_for_fields(&fields))
            }
            _ => true,
        };
    let flows = FlowEngine::new(FlowConfig {
        decode_as: config.decode_as.clone(),
        limits,
        parse_apps,
        detect_apps,
        tcp_analysis,
    });
    let filter = filter.map(|mut f| -> FilterFn { Box::new(move |lt, data| f.matches(lt, data)) });
    let mut reader = Reader::new(
        source,
        filter,
        config.count,
        want_cols,
        wants.clone(),
        prerender,
    );
    reader.saver = saver;
    reader.keep_frames = display_save;
    let run_flows = sink.needs_flows();
    // Flow keys are worked out on the reading thread when the flow engine is the busier
    // stage (it parses applications, or runs the TCP analysis for `netsniff flows`), else
    // beside the flow engine (reading is then the longest stage): see `run_threaded`.
    reader.flow_keys = run_flows && (parse_apps || tcp_analysis);
    // Protocol lists are kept only for an output that looks at frames (`frame.protocols`,
    // `-z io,phs` …); the flow engine compares only how much its own layers added.
    let uses_frames = sink.uses_frames();
    reader.keep_protocols = uses_frames;
    reader.payloads = flows.kept_payloads();
    // Asked once here rather than of every frame's `Cx` (the answers do not change).
    let emit_protocols = uses_frames && wants.records(&frame::PROTO, &frame::PROTOCOLS);
    let mut flow_stage = FlowStage {
        run_flows,
        parse_apps,
        flows,
        wants,
        stack: ProtoStack::default(),
        want_cols,
        keep_protocols: uses_frames,
        emit_protocols,
    };
    let mut output = OutputStage {
        sink,
        uses_frames,
        stack: ProtoStack::default(),
        frames: 0,
        status: RunStatus::Ok,
    };
    let end_error = if is_file {
        let (result, returned) = run_threaded(&mut reader, flow_stage, &mut output);
        flow_stage = returned.ok_or_else(|| anyhow!("the flow engine's thread failed"))?;
        // The saved file is completed whatever ended the run (an output error, a full disk).
        let saved = reader.saver.take().map(FileSaver::finish).transpose();
        let end = result?;
        saved?;
        end
    } else {
        run_inline(&mut reader, &mut flow_stage, &mut output)?
    };
    let OutputStage {
        mut sink,
        frames,
        status,
        ..
    } = output;
    let mut flows = flow_stage.flows;
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

/// Stage two of the pipeline: the flow engine. What it emits is recorded on the batch for
/// the outputs (stage three), so that the outputs' work runs beside it.
struct FlowStage {
    /// Whether the flow engine runs (not when the output needs nothing of it).
    run_flows: bool,
    /// Whether it runs the application parsers: then it is the longest stage.
    parse_apps: bool,
    flows: FlowEngine,
    /// The outputs' answers to `wants`, for the recording.
    wants: Wants,
    stack: ProtoStack,
    want_cols: bool,
    /// Keep each frame's protocols for the outputs (see [`Sink::uses_frames`]).
    keep_protocols: bool,
    /// Whether an output shows `frame.protocols`.
    emit_protocols: bool,
}

impl FlowStage {
    /// Runs every frame of `batch` through the flow engine.
    fn process(&mut self, batch: &mut Batch) {
        let (flows, run_flows) = (&mut self.flows, self.run_flows);
        let (keep_protocols, emit_protocols) = (self.keep_protocols, self.emit_protocols);
        // The tape records with the outputs' answers while this stage holds the batch.
        batch.swap_wants(&mut self.wants);
        for i in 0..batch.len() {
            let stack = &mut self.stack;
            batch.run_flows(i, self.want_cols, keep_protocols, stack, |f, cx| {
                if run_flows {
                    let keyed = f.keyed.or_else(|| key_of(f.pi));
                    flows.process_keyed(f.meta, f.pi, keyed, f.payload, cx);
                }
                if emit_protocols {
                    frame::emit_protocols(cx);
                }
            });
        }
        batch.swap_wants(&mut self.wants);
    }
}

/// [`Keyed::of`] out of line: when the reading thread worked the keys out, an inlined copy
/// in the per-frame loop only cost the flow engine's (busier) thread instructions.
#[inline(never)]
fn key_of(pi: &netsniff_dissectors::PacketInfo) -> Option<Keyed> {
    Keyed::of(pi)
}

/// Stage three of the pipeline: the outputs.
struct OutputStage {
    sink: Box<dyn Sink>,
    /// Whether the sink looks at frames one by one ([`Sink::uses_frames`]).
    uses_frames: bool,
    stack: ProtoStack,
    frames: u64,
    status: RunStatus,
}

impl OutputStage {
    /// Hands every frame of `batch`, with what every stage found, to the sink.
    fn consume(&mut self, batch: &mut Batch) -> Result<()> {
        if !self.uses_frames {
            // Only counted (the tables come from the flow engine at the end); the warnings
            // still go out in the order they arose.
            self.frames += batch.len() as u64;
            self.warn(batch.warnings());
            return Ok(());
        }
        for i in 0..batch.len() {
            if let Some(meta) = batch.meta(i) {
                self.sink.begin_frame(meta);
            }
            let fields: &mut dyn FieldSink = &mut *self.sink;
            let Some(f) = batch.output_frame(i, fields, &mut self.stack) else {
                continue;
            };
            self.frames += 1;
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
fn run_inline(
    reader: &mut Reader,
    flow_stage: &mut FlowStage,
    output: &mut OutputStage,
) -> Result<Option<SourceError>> {
    let mut batch = Batch::default();
    loop {
        reader.fill(&mut batch, 1)?;
        flow_stage.process(&mut batch);
        output.consume(&mut batch)?;
        if let Some(end) = batch.end.take() {
            return Ok(end);
        }
        if reader.source.would_block() {
            output.sink.flush()?;
        }
    }
}

/// A file, on two threads. When the flow engine parses applications it is the longest
/// stage: it gets a thread to itself, and reading and the outputs share this one (callgrind,
/// instructions on the busier thread, 20 MB of the benchmark file: `-T fields` with
/// application fields 206 M -> 173 M, `-P` 220 M -> 198 M, `-z io,phs` 154 M -> 142 M).
/// Otherwise (no flows, or only conversation tables) reading is the longest, and has the
/// other thread. Returns the run's result, and the flow stage for the end of the run.
fn run_threaded(
    reader: &mut Reader,
    mut flow_stage: FlowStage,
    output: &mut OutputStage,
) -> (Result<Option<SourceError>>, Option<FlowStage>) {
    if flow_stage.run_flows && flow_stage.parse_apps {
        run_beside_flows(reader, flow_stage, output)
    } else {
        let result = run_beside_reader(reader, &mut flow_stage, output);
        (result, Some(flow_stage))
    }
}

/// The flow engine on its own thread; reading and the outputs on this one, which reads ahead
/// while the flow engine works and hands each batch it gets back to the outputs.
fn run_beside_flows(
    reader: &mut Reader,
    mut flow_stage: FlowStage,
    output: &mut OutputStage,
) -> (Result<Option<SourceError>>, Option<FlowStage>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::sync_channel;
    // Room for every batch in flight: neither side ever waits to send.
    let (read_tx, read_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    let (flowed_tx, flowed_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    // Batches sent to the flow engine and not yet taken up by it.
    let waiting = &AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let flow_thread = scope.spawn(move || -> FlowStage {
            for mut batch in read_rx.iter() {
                // With more batches queued behind this one, this thread is the busier: it
                // leaves the TCP layer's Info text to the outputs' thread.
                let behind = waiting.fetch_sub(1, Ordering::Relaxed) > 1;
                flow_stage.flows.defer_tcp_info = behind;
                flow_stage.process(&mut batch);
                if flowed_tx.send(batch).is_err() {
                    break;
                }
            }
            flow_stage
        });
        let result = (|| -> Result<Option<SourceError>> {
            let mut free: Vec<Batch> = Vec::new();
            let mut in_flight = 0usize;
            let mut reading = true;
            // A reading error (a capture filter that does not compile for a new link type,
            // a full disk under -w) ends the run once every frame read before it is output.
            let mut read_error = None;
            loop {
                // Output every batch the flow engine has finished; wait for one when the
                // file is read or every batch is in flight.
                let wait = !reading || in_flight >= BATCHES_IN_FLIGHT;
                if wait && in_flight == 0 {
                    return read_error.map_or(Ok(None), Err);
                }
                let flowed = if wait {
                    Some(
                        flowed_rx
                            .recv()
                            .map_err(|_| anyhow!("the flow engine's thread stopped"))?,
                    )
                } else {
                    flowed_rx.try_recv().ok()
                };
                if let Some(mut batch) = flowed {
                    in_flight -= 1;
                    output.consume(&mut batch)?;
                    if let Some(end) = batch.end.take() {
                        return Ok(end);
                    }
                    free.push(batch);
                    continue;
                }
                let mut batch = free.pop().unwrap_or_default();
                let frames = reader.batch_frames();
                if let Err(e) = reader.fill(&mut batch, frames) {
                    read_error = Some(e);
                }
                reading = batch.end.is_none() && read_error.is_none();
                in_flight += 1;
                waiting.fetch_add(1, Ordering::Relaxed);
                read_tx
                    .send(batch)
                    .map_err(|_| anyhow!("the flow engine's thread stopped"))?;
            }
        })();
        drop(read_tx);
        drop(flowed_rx);
        match flow_thread.join() {
            Ok(flow_stage) => (result, Some(flow_stage)),
            Err(_) => (Err(anyhow!("the flow engine's thread panicked")), None),
        }
    })
}

/// Reading and L2–L4 dissection on their own thread; the rest on this one.
fn run_beside_reader(
    reader: &mut Reader,
    flow_stage: &mut FlowStage,
    output: &mut OutputStage,
) -> Result<Option<SourceError>> {
    use std::sync::mpsc::sync_channel;
    // Batches queued, plus the one being filled and the one being consumed.
    let (full_tx, full_rx) = sync_channel::<Batch>(READ_AHEAD_BATCHES - 2);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(READ_AHEAD_BATCHES);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> Result<()> {
            loop {
                let mut batch = empty_rx.try_recv().unwrap_or_default();
                let frames = reader.batch_frames();
                // On a reading error the frames read before it still go out, then the error.
                let filled = reader.fill(&mut batch, frames);
                let end = batch.end.is_some() || filled.is_err();
                // A closed channel means this side stopped (an output error): stop too.
                if full_tx.send(batch).is_err() || end {
                    return filled;
                }
            }
        });
        let consumed = (|| -> Result<Option<SourceError>> {
            for mut batch in full_rx.iter() {
                flow_stage.process(&mut batch);
                output.consume(&mut batch)?;
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
            Ok(produced) => match (consumed, produced) {
                (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                (Ok(end), Ok(())) => Ok(end),
            },
            Err(_) => Err(anyhow!("the reading thread panicked")),
        }
    })
}
