//! Shared helpers of the integration tests: run the real `netsniff` binary on `testdata/` and
//! check what it printed, ripgrep-style (`nstest!`, `eqnice!`).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A capture bundled in `testdata/captures/`.
pub fn capture(name: &str) -> PathBuf {
    root().join("testdata/captures").join(name)
}

/// A fresh scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The netsniff binary under test.
pub fn netsniff() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netsniff"));
    cmd.env_remove("RUST_BACKTRACE").stdin(Stdio::null());
    cmd
}

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when a signal ended the process (or it timed out).
    pub code: Option<i32>,
    pub timed_out: bool,
}

impl Run {
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Asserts a clean run: exit 0, nothing on stderr.
    pub fn ok(&self) -> &Run {
        assert_eq!(self.code, Some(0), "exit status; stderr: {}", self.stderr);
        assert_eq!(self.stderr, "", "stderr");
        self
    }

    /// Asserts a netsniff error exit: `code`, one `netsniff: ...` line on stderr containing
    /// `needle`, and no panic.
    pub fn fails(&self, code: i32, needle: &str) -> &Run {
        self.no_panic();
        assert_eq!(
            self.code,
            Some(code),
            "exit status; stderr: {}",
            self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one stderr line, got: {:?}", self.stderr);
        assert!(lines[0].starts_with("netsniff: "), "{:?}", lines[0]);
        assert!(
            lines[0].contains(needle),
            "{:?} should contain {needle:?}",
            lines[0]
        );
        self
    }

    /// Asserts netsniff neither panicked nor was killed by a signal nor hung.
    pub fn no_panic(&self) -> &Run {
        assert!(!self.timed_out, "timed out");
        assert!(
            self.code.is_some(),
            "killed by a signal; stderr: {}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "panic: {}",
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion, killing it after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn netsniff");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            timed_out = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    Run {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: if timed_out { None } else { status.code() },
        timed_out,
    }
}

/// Runs netsniff with `args` (60 s timeout).
pub fn run(args: &[&str]) -> Run {
    let mut cmd = netsniff();
    cmd.args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Runs netsniff on `file` with `args` after `-r FILE`.
pub fn run_on(file: &Path, args: &[&str]) -> Run {
    let mut cmd = netsniff();
    cmd.arg("-r").arg(file).args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Output of a finished process, for tests that build their own `Command`.
pub fn output(mut cmd: Command) -> Output {
    cmd.output().expect("run")
}

/// Like `assert_eq!` on text, printing both sides whole (line breaks kept) on failure.
#[macro_export]
macro_rules! eqnice {
    ($expected:expr, $got:expr) => {{
        let expected: &str = &$expected;
        let got: &str = &$got;
        if expected != got {
            panic!(
                "\n---- expected ----\n{}\n---- got ----\n{}\n---- end ----\n",
                expected, got
            );
        }
    }};
}

/// Declares a test that runs with a scratch directory: `nstest!(name, |dir| { ... })`.
#[macro_export]
macro_rules! nstest {
    ($name:ident, |$dir:ident| $body:block) => {
        #[test]
        fn $name() {
            let $dir: std::path::PathBuf = $crate::util::scratch(stringify!($name));
            $body
        }
    };
}

/// Classic pcap bytes, little-endian, microseconds.
pub struct Pcap {
    pub bytes: Vec<u8>,
}

impl Pcap {
    pub fn new(link_type: u32, snaplen: u32) -> Pcap {
        let mut bytes = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        for v in [0u32, 0, snaplen, link_type] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        Pcap { bytes }
    }

    pub fn record(mut self, secs: u32, usecs: u32, data: &[u8], origlen: u32) -> Pcap {
        for v in [secs, usecs, data.len() as u32, origlen] {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.bytes.extend_from_slice(data);
        self
    }

    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, &self.bytes).expect("write capture");
        path.to_path_buf()
    }
}

/// The first `n` records of a bundled capture as raw frames (for building damaged files).
pub fn frames_of(name: &str, n: usize) -> (u32, Vec<Vec<u8>>) {
    let bytes = std::fs::read(capture(name)).expect("read capture");
    let le = bytes.get(..4) == Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]);
    assert!(le, "{name}: a little-endian microsecond pcap is expected");
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let link_type = u32_at(20);
    let mut at = 24;
    let mut out = Vec::new();
    while out.len() < n && at + 16 <= bytes.len() {
        let caplen = u32_at(at + 8) as usize;
        out.push(bytes[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    (link_type, out)
}
