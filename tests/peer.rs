//! Robustness over other projects' captures (`testdata/peer/`, see its README): netsniff must
//! end every one normally or with a clean error (exit 0, 1 or 2), never with a panic, a signal
//! or a hang. Each file is read with `-V` (every field of every layer) and `-P` (the columns).

mod util;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Per-run limit: the largest file here takes well under a second.
const TIMEOUT: Duration = Duration::from_secs(60);

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            captures(&path, out);
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let meta = name.ends_with(".tsv")
            || name.ends_with(".md")
            || name.ends_with(".py")
            || name.ends_with(".txt")
            || name.to_ascii_uppercase().starts_with("LICENSE")
            || name.to_ascii_uppercase().starts_with("UNLICENSE");
        if !meta {
            out.push(path);
        }
    }
}

#[test]
fn every_peer_capture_ends_cleanly() {
    let mut files = Vec::new();
    captures(&util::root().join("testdata/peer"), &mut files);
    files.sort();
    assert!(
        files.len() > 1000,
        "the corpus is missing: {} files",
        files.len()
    );
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                for args in [&["-V"][..], &["-P"]] {
                    let mut cmd = util::netsniff();
                    cmd.arg("-r").arg(file).args(args);
                    let r = util::run_with_timeout(cmd, TIMEOUT);
                    let clean = !r.timed_out
                        && matches!(r.code, Some(0..=2))
                        && !r.stderr.contains("panicked")
                        && !r.stderr.contains("RUST_BACKTRACE");
                    if !clean {
                        let what = if r.timed_out {
                            "timed out".to_string()
                        } else {
                            format!(
                                "exit {:?}: {}",
                                r.code,
                                r.stderr.lines().last().unwrap_or("")
                            )
                        };
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{} {args:?}: {what}", file.display()));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
