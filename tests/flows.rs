//! `netsniff flows` and `-z conv,tcp|udp` on every capture of `testdata/`, against tshark's
//! conversation tables in `testdata/oracle/NAME.conv.txt` (`tshark -q -z conv,tcp -z conv,udp`).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_netsniff");

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Every capture with a conversation oracle: (name, path, extra tshark options).
fn captures() -> Vec<(String, PathBuf, Vec<String>)> {
    let dir = testdata().join("captures");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let oracle = testdata().join("oracle").join(format!("{name}.conv.txt"));
        if !oracle.exists() {
            continue;
        }
        let args = std::fs::read_to_string(
            testdata()
                .join("oracle")
                .join(format!("{name}.tshark-args")),
        )
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
        out.push((name, path, args));
    }
    out.sort();
    assert!(out.len() >= 10, "testdata captures missing: {out:?}");
    out
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run netsniff");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "netsniff {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn conv_tables_match_tshark_byte_for_byte() {
    for (name, path, args) in captures() {
        let mut cmd: Vec<&str> = vec!["-r", path.to_str().unwrap()];
        cmd.extend(args.iter().map(String::as_str));
        cmd.extend(["-q", "-z", "conv,tcp", "-z", "conv,udp"]);
        let ours = run(&cmd);
        let theirs =
            std::fs::read_to_string(testdata().join("oracle").join(format!("{name}.conv.txt")))
                .unwrap();
        assert_eq!(
            ours, theirs,
            "{name}: -q -z conv,tcp -z conv,udp differs from tshark"
        );
    }
}

/// One row of tshark's table: (A, B, frames B→A, bytes B→A, frames A→B, bytes A→B); bytes
/// as tshark prints them (`872 bytes`, `4949 kB`).
type Row = (String, String, u64, String, u64, String);

fn tshark_rows(name: &str, title: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(testdata().join("oracle").join(format!("{name}.conv.txt")))
        .unwrap();
    let mut rows = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.ends_with("Conversations") {
            inside = line.starts_with(title);
            continue;
        }
        if !inside || !line.contains("<->") {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        // A <-> B frames size unit frames size unit ...
        rows.push((
            t[0].to_string(),
            t[2].to_string(),
            t[3].parse().unwrap(),
            format!("{} {}", t[4], t[5]),
            t[6].parse().unwrap(),
            format!("{} {}", t[7], t[8]),
        ));
    }
    rows
}

/// tshark's `format_size` (as `src/output/conv.rs`), kept apart so the test does not trust
/// the code it checks.
fn size(n: u64) -> String {
    for (power, p) in [(1_000_000_000u64, "G"), (1_000_000, "M"), (1_000, "k")] {
        if n >= power * 10 {
            return format!("{} {p}B", n / power);
        }
    }
    format!("{n} bytes")
}

#[test]
fn netsniff_flows_agrees_with_tshark_conversations() {
    for (name, path, args) in captures() {
        let mut cmd: Vec<&str> = vec!["flows", "-r", path.to_str().unwrap(), "-T", "json"];
        let decode: Vec<String> = args;
        for pair in decode.chunks(2) {
            if pair.first().map(String::as_str) == Some("-d") {
                cmd.push("-d");
                cmd.push(pair.get(1).unwrap().as_str());
            }
        }
        let doc: serde_json::Value = serde_json::from_str(&run(&cmd)).expect("flows JSON");
        let flows = doc["flows"].as_array().expect("flows array");
        for (proto, title) in [("tcp", "TCP"), ("udp", "UDP")] {
            let want = tshark_rows(&name, title);
            let ours: Vec<&serde_json::Value> =
                flows.iter().filter(|f| f["proto"] == proto).collect();
            assert_eq!(ours.len(), want.len(), "{name}: {proto} conversations");
            for (a, b, frames_ba, bytes_ba, frames_ab, bytes_ab) in want {
                let ep = |v: &serde_json::Value| {
                    format!("{}:{}", v["addr"].as_str().unwrap(), v["port"])
                };
                let row = ours
                    .iter()
                    .find(|f| {
                        let (c, s) = (ep(&f["client"]), ep(&f["server"]));
                        (c == a && s == b) || (c == b && s == a)
                    })
                    .unwrap_or_else(|| panic!("{name}: no {proto} flow {a} <-> {b}"));
                let a_is_client = ep(&row["client"]) == a;
                let get = |k: &str| row[k].as_u64().unwrap();
                let (fab, bab, fba, bba) = if a_is_client {
                    (
                        get("packets_to_server"),
                        get("bytes_to_server"),
                        get("packets_to_client"),
                        get("bytes_to_client"),
                    )
                } else {
                    (
                        get("packets_to_client"),
                        get("bytes_to_client"),
                        get("packets_to_server"),
                        get("bytes_to_server"),
                    )
                };
                assert_eq!(
                    (fab, fba),
                    (frames_ab, frames_ba),
                    "{name}: {a} <-> {b} frames"
                );
                assert_eq!(
                    (size(bab), size(bba)),
                    (bytes_ab, bytes_ba),
                    "{name}: {a} <-> {b} bytes"
                );
            }
        }
        let summary = &doc["summary"];
        assert_eq!(summary["evicted"], 0, "{name}");
    }
}

#[test]
fn flows_text_sorts_and_reports_caps() {
    let path = testdata().join("captures").join("tcp-handshake.pcap");
    let p = path.to_str().unwrap();
    let text = run(&["flows", "-r", p]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROTO  STREAM  CLIENT"), "{text}");
    assert!(
        lines[1].contains("127.0.0.1:40606") && lines[1].contains(" SF "),
        "{text}"
    );
    assert!(lines[2].contains(" REJ "), "{text}");
    assert!(lines[3].contains(" RSTR "), "{text}");
    assert!(
        lines[4].starts_with("# 20 frames; 3 TCP and 0 UDP conversations; 0 evicted"),
        "{text}"
    );
    let by_bytes = run(&["flows", "-r", p, "--sort", "bytes"]);
    let order: Vec<&str> = by_bytes
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(order, ["0", "2", "1"]);
    // A cap of one live flow evicts the other two and says so.
    let capped = run(&["flows", "-r", p, "--max-flows", "1"]);
    assert!(capped.contains("; 2 evicted (caps)"), "{capped}");
    assert_eq!(
        capped.lines().count(),
        5,
        "evicted flows are still listed: {capped}"
    );
}
