//! Live capture through libpcap (the `pcap` crate): interface listing (`-D`), the default
//! interface, capture options in tcpdump's spelling, the kernel's BPF filter, `-w` files, and
//! kernel statistics.
//!
//! Two threads share the work, so a busy dissector or a slow terminal never makes the capture
//! fall behind:
//!
//! * The **capture thread** owns the libpcap handle. It reads packets (non-blocking, sleeping
//!   in `poll` when the ring is empty), writes each one to the `-w` file at once, and copies it
//!   into an owned batch. A batch is handed over when it is full or when the ring runs dry, so
//!   a quiet interface still shows packets at once.
//! * The **consumer** (the caller, through [`LiveSource`] and the [`Source`] trait) takes
//!   batches from a bounded queue and yields [`Frame`]s from them, as the file reader does.
//!
//! When the queue is full the capture thread does not wait: it drops that batch for display
//! (the `-w` file already has it) and counts the packets. Nothing is dropped silently: the
//! kernel's counts (received by filter, dropped by kernel, dropped by interface) and
//! netsniff's own are in [`LiveStats`] while capturing (for the TUI) and in the closing
//! [`CaptureReport`], printed as tcpdump prints them.
//!
//! Root is needed only to open the handle: [`LiveSource::open`] drops privileges
//! ([`super::privdrop`]) right after the handle and its filter are set, before the capture
//! thread starts and before the `-w` file is created (as tcpdump does, so rotated files all
//! belong to the same user).

use super::privdrop::{self, Dropped};
use super::write::{
    CaptureWriter, EndStats, LinkInfo, WriteError, WriteSpec, WriteSummary, Written,
};
use super::{Frame, Source, SourceError};
use anyhow::{anyhow, bail, Context, Result};
use netsniff_dissectors::{FrameMeta, LinkType};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use pcap::{Active, Capture, Device, IfFlags};
use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// tcpdump's default snapshot length (and what `-s 0` means).
pub const DEFAULT_SNAPLEN: i32 = 262_144;
/// libpcap's read timeout: how long the kernel may hold packets before handing a block over
/// (TPACKET_V3 block retirement). Short, so printed packets appear without visible delay.
const READ_TIMEOUT_MS: i32 = 100;
/// How long the capture thread sleeps in `poll` when the ring is empty; also the longest it
/// takes to notice Ctrl-C.
const POLL_TIMEOUT_MS: u16 = 100;
/// A batch is handed to the consumer at this many packets…
const MAX_BATCH_PACKETS: usize = 1024;
/// …or this many bytes, whichever comes first.
const MAX_BATCH_BYTES: usize = 1 << 20;
/// Bytes (packet bytes plus their records) queued between the threads. Enough for about
/// five seconds of a saturated 100 Mb/s link, or half a second of 1 Gb/s; beyond it the
/// consumer is dropped from, never the capture.
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// After a stop request, how long packets already in the kernel's ring are still read: one
/// block timeout (TPACKET_V3 shows a block only once it is retired) and a margin. Without it
/// packets that arrived just before Ctrl-C would be "received" but neither captured nor
/// dropped.
const DRAIN: Duration = Duration::from_millis(READ_TIMEOUT_MS as u64 + 150);
/// How often the kernel's counters are read into [`LiveStats`] while capturing.
const STATS_INTERVAL: Duration = Duration::from_millis(250);

/// Live-capture settings (tcpdump's options).
#[derive(Debug, Clone, Default)]
pub struct LiveSpec {
    /// `-i`; `None`: the first suitable interface, as tcpdump picks it.
    pub interface: Option<String>,
    /// `-s` (0 or unset: [`DEFAULT_SNAPLEN`]).
    pub snaplen: Option<i32>,
    /// Not `-p`.
    pub promiscuous: bool,
    /// `-B`, in KiB.
    pub buffer_kib: Option<i32>,
    /// `--immediate-mode`.
    pub immediate: bool,
    /// `-Z USER`.
    pub user: Option<String>,
}

/// Everything a capture needs beyond the interface settings.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    /// The capture filter (tcpdump syntax), compiled for the interface and run in the kernel.
    pub filter: Option<String>,
    /// `-c`: stop after this many packets.
    pub count: Option<u64>,
    /// `-w`.
    pub write: Option<WriteSpec>,
}

/// Counters of a running capture, shared with whoever shows them (the TUI reads them live).
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Packets read from the kernel (and written to `-w`).
    pub captured: AtomicU64,
    /// The kernel's "received by filter" (on Linux this includes what it dropped).
    pub received: AtomicU64,
    /// The kernel's "dropped by kernel" (its buffer was full: see `-B`).
    pub kernel_dropped: AtomicU64,
    /// The kernel's "dropped by interface" (the driver's count).
    pub if_dropped: AtomicU64,
    /// Captured packets not dissected because the consumer fell too far behind (see
    /// [`MAX_QUEUED_BYTES`]); they are in the `-w` file.
    pub queue_dropped: AtomicU64,
}

/// A copy of [`LiveStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub captured: u64,
    pub received: u64,
    pub kernel_dropped: u64,
    pub if_dropped: u64,
    pub queue_dropped: u64,
}

impl LiveStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            captured: self.captured.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            kernel_dropped: self.kernel_dropped.load(Ordering::Relaxed),
            if_dropped: self.if_dropped.load(Ordering::Relaxed),
            queue_dropped: self.queue_dropped.load(Ordering::Relaxed),
        }
    }
}

/// The end of a capture: final counters and what was written.
#[derive(Debug)]
pub struct CaptureReport {
    pub stats: StatsSnapshot,
    pub written: Option<WriteSummary>,
}

impl fmt::Display for CaptureReport {
    /// tcpdump's closing lines, plus netsniff's own drops when there were any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        writeln!(f, "{} packet{} captured", s.captured, plural(s.captured))?;
        writeln!(
            f,
            "{} packet{} received by filter",
            s.received,
            plural(s.received)
        )?;
        writeln!(
            f,
            "{} packet{} dropped by kernel",
            s.kernel_dropped,
            plural(s.kernel_dropped)
        )?;
        if s.if_dropped > 0 {
            writeln!(
                f,
                "{} packet{} dropped by interface",
                s.if_dropped,
                plural(s.if_dropped)
            )?;
        }
        if s.queue_dropped > 0 {
            writeln!(
                f,
                "{} packet{} not dissected: the output fell behind (all were saved with -w)",
                s.queue_dropped,
                plural(s.queue_dropped)
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Interfaces

/// One interface as `-D` shows it.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub description: Option<String>,
    /// `address/prefix`, IPv4 then IPv6 as libpcap lists them.
    pub addresses: Vec<String>,
    /// tcpdump's bracketed flags, e.g. `Up, Running, Loopback`; `None` when libpcap reports no
    /// flags at all (tcpdump then prints no brackets).
    pub flags: Option<String>,
}

impl fmt::Display for Interface {
    /// tcpdump's `-D` line without the number, then the addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        if let Some(flags) = &self.flags {
            write!(f, " [{flags}]")?;
        }
        for a in &self.addresses {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// The interfaces libpcap can capture on, in its order (the order tcpdump numbers them).
pub fn interfaces() -> Result<Vec<Interface>> {
    let devices = Device::list().map_err(|e| anyhow!("listing interfaces: {e}"))?;
    Ok(devices.iter().map(interface_of).collect())
}

fn interface_of(d: &Device) -> Interface {
    let addresses = d
        .addresses
        .iter()
        .map(|a| match a.netmask.and_then(prefix_len) {
            Some(p) => format!("{}/{p}", a.addr),
            None => a.addr.to_string(),
        })
        .collect();
    Interface {
        name: d.name.clone(),
        description: d.desc.clone(),
        addresses,
        flags: flags_text(&d.flags),
    }
}

/// tcpdump's `show_devices_and_exit` flag text.
fn flags_text(flags: &pcap::DeviceFlags) -> Option<String> {
    use pcap::ConnectionStatus as C;
    let f = flags.if_flags;
    if f.is_empty() && flags.connection_status == C::Unknown {
        return None; // all flag bits zero
    }
    let mut words: Vec<&str> = [
        (IfFlags::UP, "Up"),
        (IfFlags::RUNNING, "Running"),
        (IfFlags::LOOPBACK, "Loopback"),
        (IfFlags::WIRELESS, "Wireless"),
    ]
    .iter()
    .filter(|(bit, _)| f.contains(*bit))
    .map(|(_, w)| *w)
    .collect();
    if words.is_empty() {
        words.push("none");
    }
    let status = match (f.contains(IfFlags::WIRELESS), &flags.connection_status) {
        (_, C::NotApplicable) => None,
        (true, C::Unknown) => Some("Association status unknown"),
        (true, C::Connected) => Some("Associated"),
        (true, C::Disconnected) => Some("Not associated"),
        (false, C::Unknown) => Some("Connection status unknown"),
        (false, C::Connected) => Some("Connected"),
        (false, C::Disconnected) => Some("Disconnected"),
    };
    let mut text = words.join(", ");
    if let Some(s) = status {
        text.push_str(", ");
        text.push_str(s);
    }
    Some(text)
}

fn prefix_len(mask: IpAddr) -> Option<u32> {
    match mask {
        IpAddr::V4(m) => Some(u32::from(m).leading_ones()),
        IpAddr::V6(m) => Some(u128::from(m).leading_ones()),
    }
}

/// `-D`: one numbered line per interface, as tcpdump prints them, addresses appended.
pub fn list_interfaces(out: &mut dyn Write) -> Result<()> {
    let list = interfaces()?;
    if list.is_empty() {
        bail!("no interfaces available for capture (is netsniff allowed to capture? see -D in the README)");
    }
    for (i, iface) in list.iter().enumerate() {
        writeln!(out, "{}.{iface}", i + 1)?;
    }
    Ok(())
}

/// The interface tcpdump picks without `-i`: the first one libpcap lists.
pub fn default_interface() -> Result<String> {
    match Device::lookup() {
        Ok(Some(d)) => Ok(d.name),
        Ok(None) => {
            bail!("no interfaces available for capture; name one with -i (netsniff -D lists them)")
        }
        Err(e) => bail!("finding an interface to capture on: {e}; name one with -i"),
    }
}

// ---------------------------------------------------------------------------------------------
// The capture

/// One packet's place in a [`Batch`].
#[derive(Debug, Clone, Copy)]
struct Record {
    number: u64,
    secs: i64,
    nanos: u32,
    /// Length on the wire.
    len: u32,
    start: usize,
    caplen: usize,
}

/// Packets handed from the capture thread to the consumer: owned bytes, one allocation.
#[derive(Debug, Default)]
struct Batch {
    data: Vec<u8>,
    records: Vec<Record>,
}

impl Batch {
    fn is_full(&self) -> bool {
        self.records.len() >= MAX_BATCH_PACKETS || self.data.len() >= MAX_BATCH_BYTES
    }

    /// What the batch weighs against [`MAX_QUEUED_BYTES`].
    fn cost(&self) -> usize {
        self.data.len() + self.records.len() * std::mem::size_of::<Record>()
    }
}

/// How the capture thread ended.
#[derive(Debug, Default)]
struct CaptureEnd {
    stats: StatsSnapshot,
    /// libpcap failed while reading (an interface that went away).
    read_error: Option<String>,
    write: Option<Result<WriteSummary, WriteError>>,
}

/// A running live capture, read frame by frame like a file.
pub struct LiveSource {
    interface: String,
    link_type: LinkType,
    snaplen: u32,
    dropped: Dropped,
    rx: Option<Receiver<Batch>>,
    batch: Batch,
    pos: usize,
    thread: Option<JoinHandle<CaptureEnd>>,
    end: Option<CaptureEnd>,
    /// Set by Ctrl-C / SIGTERM / SIGHUP, or when the consumer is done.
    stop: Arc<AtomicBool>,
    /// Set by the signals only: the consumer stops too, without draining the queue.
    interrupted: Arc<AtomicBool>,
    stats: Arc<LiveStats>,
    /// Bytes waiting in the channel (see [`MAX_QUEUED_BYTES`]).
    queued: Arc<AtomicUsize>,
    first_ts: Option<(i64, u32)>,
    last_number: u64,
}

impl LiveSource {
    /// Opens the interface, installs the filter, drops privileges, creates the `-w` file and
    /// starts capturing.
    pub fn open(spec: &LiveSpec, options: CaptureOptions) -> Result<LiveSource> {
        if let Some(w) = &options.write {
            w.validate().map_err(|e| anyhow!(e))?;
        }
        let interface = match &spec.interface {
            Some(i) => i.clone(),
            None => default_interface()?,
        };
        let snaplen = match spec.snaplen {
            None | Some(0) => DEFAULT_SNAPLEN,
            Some(n) if n < 0 => bail!("-s {n}: the snapshot length must be positive"),
            Some(n) => n.min(DEFAULT_SNAPLEN),
        };
        let mut cap = activate(&interface, spec, snaplen)?;
        if interface == "any" {
            // Linux "cooked" v2 headers carry the interface index and the packet direction.
            let sll2 = pcap::Linktype(LinkType::LINUX_SLL2.0 as i32);
            if cap.list_datalinks().is_ok_and(|l| l.contains(&sll2)) {
                cap.set_datalink(sll2)
                    .map_err(|e| anyhow!("{interface}: selecting LINUX_SLL2: {e}"))?;
            }
        }
        if let Some(expr) = &options.filter {
            cap.filter(expr, true)
                .map_err(|e| anyhow!("capture filter '{expr}': {e}"))?;
        }
        let link = cap.get_datalink();
        let link_type = super::link_type_of_dlt(link);
        // The handle is open: nothing below needs root, and packets are parsed only after.
        let dropped = privdrop::drop_privileges(spec.user.as_deref()).map_err(|e| anyhow!(e))?;
        let writer = match &options.write {
            None => None,
            Some(w) => Some(
                CaptureWriter::create(
                    w.clone(),
                    LinkInfo {
                        link_type,
                        snaplen: snaplen as u32,
                        interface: Some(interface.clone()),
                    },
                )
                .map_err(|e| create_error(e, &dropped))?,
            ),
        };
        let cap = cap.setnonblock().map_err(|e| anyhow!("{interface}: {e}"))?;

        let stop = Arc::new(AtomicBool::new(false));
        let interrupted = Arc::new(AtomicBool::new(false));
        install_signal_handlers(&stop, &interrupted)?;
        let stats = Arc::new(LiveStats::default());
        // Unbounded as a channel, bounded in bytes by `queued` (batches vary in size).
        let (tx, rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let thread = {
            let ctl = Control {
                stop: Arc::clone(&stop),
                stats: Arc::clone(&stats),
                count: options.count,
                queued: Arc::clone(&queued),
            };
            std::thread::Builder::new()
                .name("netsniff-capture".into())
                .spawn(move || capture_loop(cap, writer, tx, ctl))
                .context("starting the capture thread")?
        };
        Ok(LiveSource {
            interface,
            link_type,
            snaplen: snaplen as u32,
            dropped,
            rx: Some(rx),
            batch: Batch::default(),
            pos: 0,
            thread: Some(thread),
            end: None,
            stop,
            interrupted,
            stats,
            queued,
            first_ts: None,
            last_number: 0,
        })
    }

    /// The interface being captured.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// What the privilege drop did.
    pub fn dropped(&self) -> &Dropped {
        &self.dropped
    }

    /// The live counters (updated a few times a second while capturing).
    pub fn stats(&self) -> Arc<LiveStats> {
        Arc::clone(&self.stats)
    }

    /// A flag that stops the capture when set (what Ctrl-C sets).
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Stops the capture (if still running), waits for the capture thread and returns the
    /// final counters. A failed `-w` write is returned as the error, after the counters were
    /// written to `report_to`.
    pub fn finish_capture(&mut self) -> Result<Option<CaptureReport>> {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver unblocks a capture thread waiting to hand over its last batch.
        self.rx = None;
        self.join();
        let Some(end) = self.end.take() else {
            return Ok(None);
        };
        match end.write {
            Some(Err(e)) => {
                self.end = Some(CaptureEnd {
                    stats: end.stats,
                    read_error: None,
                    write: None,
                });
                Err(e.into())
            }
            Some(Ok(w)) => Ok(Some(CaptureReport {
                stats: end.stats,
                written: Some(w),
            })),
            None => Ok(Some(CaptureReport {
                stats: end.stats,
                written: None,
            })),
        }
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let end = t.join().unwrap_or_else(|_| CaptureEnd {
                read_error: Some("the capture thread failed".into()),
                ..CaptureEnd::default()
            });
            self.end = Some(end);
        }
    }

    /// Makes the next record available; `false` at the end of the capture.
    fn advance(&mut self) -> Result<bool, SourceError> {
        while self.pos >= self.batch.records.len() {
            if self.interrupted.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let Some(rx) = &self.rx else {
                return Ok(false);
            };
            match rx.recv() {
                Ok(b) => {
                    self.queued.fetch_sub(b.cost(), Ordering::Relaxed);
                    self.batch = b;
                    self.pos = 0;
                }
                Err(_) => {
                    // The capture thread is done: see why.
                    self.rx = None;
                    self.join();
                    if let Some(e) = self.end.as_mut().and_then(|e| e.read_error.take()) {
                        return Err(SourceError {
                            path: PathBuf::from(&self.interface),
                            packet: Some(self.last_number + 1),
                            offset: None,
                            what: e,
                        });
                    }
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

impl Drop for LiveSource {
    /// A consumer that stops early (an error, a closed pipe) still leaves a complete `-w` file.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.rx = None;
        self.join();
    }
}

impl Source for LiveSource {
    fn next(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        if !self.advance()? {
            return Ok(None);
        }
        let Some(r) = self.batch.records.get(self.pos).copied() else {
            return Ok(None);
        };
        self.pos += 1;
        self.last_number = r.number;
        let (first_s, first_n) = *self.first_ts.get_or_insert((r.secs, r.nanos));
        let (rel_secs, rel_nanos) = super::file::sub_time(r.secs, r.nanos, first_s, first_n);
        let meta = FrameMeta {
            number: r.number,
            secs: r.secs,
            nanos: r.nanos,
            rel_secs,
            rel_nanos,
            len: r.len,
            cap_len: u32::try_from(r.caplen).unwrap_or(u32::MAX),
            link_type: self.link_type,
            // tshark captures through dumpcap's pcapng, whose one interface is id 0.
            interface_id: Some(0),
            ts_digits: 9,
            ..FrameMeta::default()
        };
        let data = self
            .batch
            .data
            .get(r.start..r.start + r.caplen)
            .unwrap_or(&[]);
        Ok(Some(Frame::new(meta, data)))
    }

    fn first_link_type(&self) -> Option<LinkType> {
        Some(self.link_type)
    }

    fn would_block(&self) -> bool {
        self.pos >= self.batch.records.len() && self.queued.load(Ordering::Relaxed) == 0
    }

    fn banner(&self) -> Option<String> {
        let lt = super::dlt_of(self.link_type);
        let name = lt
            .get_name()
            .unwrap_or_else(|_| self.link_type.0.to_string());
        let desc = lt.get_description().unwrap_or_default();
        Some(format!(
            "listening on {}, link-type {name} ({desc}), snapshot length {} bytes",
            self.interface, self.snaplen
        ))
    }

    fn finish(&mut self, report: &mut dyn Write) -> Result<()> {
        // The counters print even when the -w file failed, before its error.
        let result = self.finish_capture();
        let stats = match &result {
            Ok(Some(r)) => Some(r.to_string()),
            Ok(None) => None,
            Err(_) => self.end.as_ref().map(|e| {
                CaptureReport {
                    stats: e.stats,
                    written: None,
                }
                .to_string()
            }),
        };
        if let Some(s) = stats {
            write!(report, "{s}")?;
        }
        result.map(|_| ())
    }
}

fn activate(interface: &str, spec: &LiveSpec, snaplen: i32) -> Result<Capture<Active>> {
    let inactive = Capture::from_device(interface).map_err(|e| open_error(interface, &e))?;
    let mut inactive = inactive
        .snaplen(snaplen)
        // libpcap refuses promiscuous mode on "any" (a warning the pcap crate treats as an
        // error); tcpdump does not ask for it there either.
        .promisc(spec.promiscuous && interface != "any")
        .timeout(READ_TIMEOUT_MS)
        .immediate_mode(spec.immediate)
        .precision(pcap::Precision::Nano);
    if let Some(kib) = spec.buffer_kib {
        if kib <= 0 {
            bail!("-B {kib}: the buffer size must be positive (KiB)");
        }
        inactive = inactive.buffer_size(kib.saturating_mul(1024));
    }
    inactive.open().map_err(|e| open_error(interface, &e))
}

/// A human message for a failed open: what to do, not only libpcap's words.
fn open_error(interface: &str, e: &pcap::Error) -> anyhow::Error {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("operation not permitted") {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "netsniff".into());
        return anyhow!(
            "no permission to capture on {interface} (libpcap: {text}). Live capture needs root \
             or the capabilities cap_net_raw and cap_net_admin: run it with sudo \
             (sudo netsniff -i {interface} ...), or allow this binary once with: \
             sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
        );
    }
    if lower.contains("no such device") {
        return anyhow!(
            "there is no interface named {interface} (netsniff -D lists them) (libpcap: {text})"
        );
    }
    if lower.contains("not up") || lower.contains("network is down") {
        return anyhow!("{interface} is down; bring it up first (libpcap: {text})");
    }
    anyhow!("cannot capture on {interface}: {text}")
}

fn create_error(e: WriteError, dropped: &Dropped) -> anyhow::Error {
    match dropped {
        Dropped::To { name, gid, .. } if e.error.kind() == io::ErrorKind::PermissionDenied => {
            anyhow!(
                "cannot create {}: permission denied for user {name} (group {}): netsniff \
                 stops being root once the interface is open; write where {name} may, or \
                 choose the user with -Z (-Z root keeps root)",
                e.path.display(),
                privdrop::group_name(*gid)
            )
        }
        _ => anyhow!("cannot create {}: {}", e.path.display(), e.error),
    }
}

/// The first Ctrl-C / SIGTERM / SIGHUP stops the capture cleanly (files are completed, the
/// counters printed); a second one ends the process at once.
fn install_signal_handlers(stop: &Arc<AtomicBool>, interrupted: &Arc<AtomicBool>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    for (sig, code) in [(SIGINT, 130), (SIGTERM, 143), (SIGHUP, 129)] {
        signal_hook::flag::register_conditional_shutdown(sig, code, Arc::clone(interrupted))
            .context("installing signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(interrupted))
            .context("installing signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(stop)).context("installing signal handlers")?;
    }
    Ok(())
}

/// What the capture thread shares with the consumer.
struct Control {
    stop: Arc<AtomicBool>,
    stats: Arc<LiveStats>,
    count: Option<u64>,
    queued: Arc<AtomicUsize>,
}

fn capture_loop(
    mut cap: Capture<Active>,
    mut writer: Option<CaptureWriter>,
    tx: Sender<Batch>,
    ctl: Control,
) -> CaptureEnd {
    let mut batch = Batch::default();
    let mut number = 0u64;
    let mut last_stats = Instant::now();
    let mut read_error = None;
    let mut write_error = None;
    let mut consumer_gone = false;
    // Set once a stop was asked for: read what the ring holds until then, and no longer.
    let mut drain_until: Option<Instant> = None;
    'capture: loop {
        match drain_until {
            None if ctl.stop.load(Ordering::Relaxed) => {
                drain_until = Some(Instant::now() + DRAIN);
            }
            // Under continuous traffic the ring never runs dry: the deadline ends the drain.
            Some(t) if Instant::now() >= t => break,
            _ => {}
        }
        if ctl.count.is_some_and(|c| number >= c) {
            break;
        }
        match cap.next_packet() {
            Ok(p) => {
                number += 1;
                #[allow(clippy::useless_conversion, reason = "time_t is i32 on some targets")]
                let secs = i64::from(p.header.ts.tv_sec);
                // Nanosecond precision was asked for: tv_usec holds nanoseconds.
                let nanos = u32::try_from(p.header.ts.tv_usec).unwrap_or(0);
                if let Some(w) = writer.as_mut() {
                    match w.write(secs, nanos, p.data, p.header.len) {
                        Ok(Written::Ok) => {}
                        Ok(Written::FileLimitReached) => {
                            break 'capture;
                        }
                        Err(e) => {
                            write_error = Some(e);
                            break 'capture;
                        }
                    }
                }
                ctl.stats.captured.store(number, Ordering::Relaxed);
                let start = batch.data.len();
                batch.data.extend_from_slice(p.data);
                batch.records.push(Record {
                    number,
                    secs,
                    nanos,
                    len: p.header.len,
                    start,
                    caplen: p.data.len(),
                });
                if batch.is_full() && !hand_over(&tx, &mut batch, &ctl) {
                    consumer_gone = true;
                    break;
                }
                if number % 256 == 0 && last_stats.elapsed() >= STATS_INTERVAL {
                    read_kernel_stats(&mut cap, &ctl.stats);
                    last_stats = Instant::now();
                }
            }
            Err(pcap::Error::TimeoutExpired) => {
                let wait = match drain_until {
                    None => Duration::from_millis(u64::from(POLL_TIMEOUT_MS)),
                    Some(t) => match t.checked_duration_since(Instant::now()) {
                        Some(left) => left.min(Duration::from_millis(u64::from(POLL_TIMEOUT_MS))),
                        None => break,
                    },
                };
                // The ring is empty: hand over what we have and sleep until packets come.
                if !batch.records.is_empty() && !hand_over(&tx, &mut batch, &ctl) {
                    consumer_gone = true;
                    break;
                }
                if last_stats.elapsed() >= STATS_INTERVAL {
                    read_kernel_stats(&mut cap, &ctl.stats);
                    last_stats = Instant::now();
                    if let Some(w) = writer.as_mut() {
                        // An idle capture's file is complete on disk within a moment.
                        if let Err(e) = w.flush() {
                            write_error = Some(e);
                            break;
                        }
                    }
                }
                let mut fds = [PollFd::new(
                    std::os::fd::AsFd::as_fd(&cap),
                    PollFlags::POLLIN,
                )];
                let wait_ms = u16::try_from(wait.as_millis()).unwrap_or(POLL_TIMEOUT_MS);
                match poll(&mut fds, PollTimeout::from(wait_ms.max(1))) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => {
                        read_error = Some(format!("waiting for packets: {e}"));
                        break;
                    }
                }
            }
            Err(e) => {
                read_error = Some(e.to_string());
                break;
            }
        }
    }
    if !batch.records.is_empty() && !consumer_gone {
        // The last batch goes over the cap if need be: the capture is over.
        ctl.queued.fetch_add(batch.cost(), Ordering::Relaxed);
        let _ = tx.send(std::mem::take(&mut batch));
    }
    drop(tx);
    read_kernel_stats(&mut cap, &ctl.stats);
    let end = ctl.stats.snapshot();
    let write = writer.map(|w| match write_error {
        Some(e) => Err(e),
        None => w.finish_with(Some(EndStats {
            received: end.received,
            kernel_dropped: end.kernel_dropped,
            if_dropped: end.if_dropped,
            captured: end.captured,
        })),
    });
    CaptureEnd {
        stats: ctl.stats.snapshot(),
        read_error,
        write,
    }
}

/// Gives the batch to the consumer without waiting. While the queue is full the batch keeps
/// growing; a full batch that still finds no room is dropped for display and counted.
/// `false` when the consumer is gone.
fn hand_over(tx: &Sender<Batch>, batch: &mut Batch, ctl: &Control) -> bool {
    let cost = batch.cost();
    if ctl.queued.load(Ordering::Relaxed) + cost > MAX_QUEUED_BYTES {
        if batch.is_full() {
            ctl.stats
                .queue_dropped
                .fetch_add(batch.records.len() as u64, Ordering::Relaxed);
            batch.data.clear();
            batch.records.clear();
        }
        return true;
    }
    ctl.queued.fetch_add(cost, Ordering::Relaxed);
    tx.send(std::mem::take(batch)).is_ok()
}

fn read_kernel_stats(cap: &mut Capture<Active>, stats: &LiveStats) {
    if let Ok(s) = cap.stats() {
        stats
            .received
            .store(u64::from(s.received), Ordering::Relaxed);
        stats
            .kernel_dropped
            .store(u64::from(s.dropped), Ordering::Relaxed);
        stats
            .if_dropped
            .store(u64::from(s.if_dropped), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(prefix_len("255.0.0.0".parse().unwrap()), Some(8));
        assert_eq!(
            prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()),
            Some(64)
        );
    }

    #[test]
    fn flags_like_tcpdump() {
        use pcap::{ConnectionStatus as C, DeviceFlags};
        let f = |bits: IfFlags, c: C| {
            flags_text(&DeviceFlags {
                if_flags: bits,
                connection_status: c,
            })
        };
        assert_eq!(
            f(IfFlags::UP | IfFlags::RUNNING, C::Connected).as_deref(),
            Some("Up, Running, Connected")
        );
        assert_eq!(
            f(
                IfFlags::UP | IfFlags::RUNNING | IfFlags::LOOPBACK,
                C::NotApplicable
            )
            .as_deref(),
            Some("Up, Running, Loopback")
        );
        assert_eq!(
            f(IfFlags::empty(), C::NotApplicable).as_deref(),
            Some("none")
        );
        assert_eq!(
            f(IfFlags::WIRELESS, C::Unknown).as_deref(),
            Some("Wireless, Association status unknown")
        );
        assert_eq!(f(IfFlags::empty(), C::Unknown), None);
    }

    #[test]
    fn report_like_tcpdump() {
        let r = CaptureReport {
            stats: StatsSnapshot {
                captured: 1,
                received: 2,
                kernel_dropped: 0,
                if_dropped: 0,
                queue_dropped: 0,
            },
            written: None,
        };
        assert_eq!(
            r.to_string(),
            "1 packet captured\n2 packets received by filter\n0 packets dropped by kernel\n"
        );
    }
}
