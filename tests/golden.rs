//! The golden test: netsniff against tshark's own output for every bundled capture.
//!
//! For each `testdata/captures/NAME` with an oracle (`testdata/oracle/NAME.tsv`, made by tshark
//! 4.0.17 with the fields of `testdata/oracle-fields.txt`), netsniff prints `-T fields` with
//! every oracle field it knows, and each cell is compared with tshark's (a cell counts when
//! either side is non-empty, as `../shared/tools/oracle-diff` counts). Each `-P` line is
//! compared with `testdata/oracle-summary/NAME.txt` (`tshark -n -r NAME`) as the pseudo-field
//! `_summary_line`.
//!
//! `testdata/oracle-floor.tsv` holds the minimum agreement of each field, in percent: the test
//! fails when a field falls below its floor, so later work can only raise agreement. After an
//! improvement, `NETSNIFF_RAISE_FLOOR=1 cargo test --release --test golden` raises the floors
//! to today's figures (never lowers them); commit the file. Fields without a floor are reported
//! but do not fail.

mod util;

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Protocols after which tshark's `frame.protocols` is cut for comparison (as oracle-diff does):
/// what comes after an application protocol is judged with that protocol.
const APP_PROTOCOLS: &[&str] = &[
    "dns",
    "mdns",
    "tls",
    "ssl",
    "http",
    "http2",
    "websocket",
    "quic",
    "grpc",
    "arp",
    "icmp",
    "icmpv6",
    "data",
];

/// The pseudo-field of `-P` lines.
const SUMMARY: &str = "_summary_line";

fn normalize(field: &str, value: &str) -> String {
    if field != "frame.protocols" || value.is_empty() {
        return value.to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    for p in value.split(':') {
        if p == "ethertype" {
            continue;
        }
        out.push(p);
        if APP_PROTOCOLS.contains(&p) {
            break;
        }
    }
    out.join(":")
}

/// `-d` options of a capture's oracle (its `.tshark-args`).
fn decode_as(name: &str) -> Vec<String> {
    let path = util::root().join(format!("testdata/oracle/{name}.tshark-args"));
    let words: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "-d" {
            if let Some(v) = it.next() {
                out.extend(["-d".to_string(), v.clone()]);
            }
        } else if let Some(v) = w.strip_prefix("-d") {
            out.extend(["-d".to_string(), v.to_string()]);
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Score {
    agree: u64,
    cells: u64,
}

impl Score {
    fn percent(&self) -> f64 {
        if self.cells == 0 {
            100.0
        } else {
            100.0 * self.agree as f64 / self.cells as f64
        }
    }
}

fn read_floor() -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(util::root().join("testdata/oracle-floor.tsv"))
        .expect("testdata/oracle-floor.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (f, p) = l.split_once('\t')?;
            Some((f.to_string(), p.trim().parse().ok()?))
        })
        .collect()
}

fn write_floor(floor: &BTreeMap<String, f64>) {
    let mut text = String::from(
        "# Minimum agreement with tshark per field, in percent (tests/golden.rs). Raise with\n\
         # NETSNIFF_RAISE_FLOOR=1 cargo test --release --test golden; never lower by hand.\n",
    );
    for (f, p) in floor {
        let _ = writeln!(text, "{f}\t{p:.2}");
    }
    std::fs::write(util::root().join("testdata/oracle-floor.tsv"), text).expect("write floor");
}

#[test]
fn agreement_with_tshark_never_drops() {
    let root = util::root();
    let fields_txt = std::fs::read_to_string(root.join("testdata/oracle-fields.txt")).unwrap();
    let known: Vec<&str> = fields_txt
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|f| netsniff_dissectors::proto::field(f).is_some())
        .collect();
    assert!(known.contains(&"frame.number"));

    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    let mut captures: Vec<_> = std::fs::read_dir(root.join("testdata/captures"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    captures.sort();
    let mut used = 0;
    for cap in &captures {
        let name = cap.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let Ok(oracle) = std::fs::read_to_string(root.join(format!("testdata/oracle/{name}.tsv")))
        else {
            continue;
        };
        used += 1;
        let decode = decode_as(name);
        let mut args: Vec<String> = ["-T", "fields", "-E", "header=y", "-E", "occurrence=a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for f in &known {
            args.extend(["-e".to_string(), f.to_string()]);
        }
        args.extend(decode.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = util::run_on(cap, &args);
        r.no_panic();
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);

        let mut o_lines = oracle.lines();
        let o_header: Vec<&str> = o_lines.next().unwrap_or("").split('\t').collect();
        let o_rows: Vec<Vec<&str>> = o_lines.map(|l| l.split('\t').collect()).collect();
        let mut n_lines = r.stdout.lines();
        let n_header: Vec<&str> = n_lines.next().unwrap_or("").split('\t').collect();
        let n_rows: Vec<Vec<&str>> = n_lines.map(|l| l.split('\t').collect()).collect();
        for f in &known {
            let oi = o_header.iter().position(|h| h == f);
            let ni = n_header.iter().position(|h| h == f);
            let score = scores.entry(f.to_string()).or_default();
            for row in 0..o_rows.len().max(n_rows.len()) {
                let cell = |rows: &Vec<Vec<&str>>, i: Option<usize>| {
                    i.and_then(|i| rows.get(row)?.get(i).copied())
                        .map(|v| normalize(f, v))
                        .unwrap_or_default()
                };
                let (ov, nv) = (cell(&o_rows, oi), cell(&n_rows, ni));
                if ov.is_empty() && nv.is_empty() {
                    continue;
                }
                score.cells += 1;
                if ov == nv {
                    score.agree += 1;
                } else {
                    examples.entry(f.to_string()).or_insert_with(|| {
                        format!("{name} #{}: tshark={ov:?} netsniff={nv:?}", row + 1)
                    });
                }
            }
        }

        // The summary lines.
        let Ok(expected) =
            std::fs::read_to_string(root.join(format!("testdata/oracle-summary/{name}.txt")))
        else {
            continue;
        };
        let mut args = vec!["-P".to_string()];
        args.extend(decode.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = util::run_on(cap, &args);
        r.no_panic();
        let (e, g): (Vec<&str>, Vec<&str>) =
            (expected.lines().collect(), r.stdout.lines().collect());
        let score = scores.entry(SUMMARY.to_string()).or_default();
        for i in 0..e.len().max(g.len()) {
            let (ov, nv) = (
                e.get(i).copied().unwrap_or(""),
                g.get(i).copied().unwrap_or(""),
            );
            score.cells += 1;
            if ov == nv {
                score.agree += 1;
            } else {
                examples
                    .entry(SUMMARY.to_string())
                    .or_insert_with(|| format!("{name}:\n  tshark:   {ov}\n  netsniff: {nv}"));
            }
        }
    }
    assert!(used > 0, "no capture with an oracle");

    let mut floor = read_floor();
    let mut report = String::new();
    let mut failures = Vec::new();
    let _ = writeln!(
        report,
        "{:44} {:>8} {:>8} {:>8} {:>8}",
        "field", "agree", "cells", "%", "floor"
    );
    for (f, s) in &scores {
        if s.cells == 0 {
            continue;
        }
        let min = floor.get(f).copied();
        let _ = writeln!(
            report,
            "{f:44} {:8} {:8} {:8.2} {:>8}",
            s.agree,
            s.cells,
            s.percent(),
            min.map_or("-".to_string(), |m| format!("{m:.2}"))
        );
        // Floors are stored with two decimals, rounded down.
        if min.is_some_and(|m| s.percent() + 1e-9 < m) {
            failures.push(format!(
                "{f}: {:.2}% < floor {:.2}% (first mismatch: {})",
                s.percent(),
                min.unwrap_or(0.0),
                examples.get(f).map_or("", String::as_str)
            ));
        }
    }
    println!("{report}");
    if std::env::var_os("NETSNIFF_RAISE_FLOOR").is_some() {
        for (f, s) in &scores {
            if s.cells == 0 {
                continue;
            }
            let now = (s.percent() * 100.0).floor() / 100.0;
            let slot = floor.entry(f.clone()).or_insert(now);
            *slot = slot.max(now);
        }
        write_floor(&floor);
    }
    assert!(
        failures.is_empty(),
        "agreement with tshark dropped below the floor (testdata/oracle-floor.tsv):\n{}",
        failures.join("\n")
    );
}
