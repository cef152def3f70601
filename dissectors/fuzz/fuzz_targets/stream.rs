//! Feeds one application protocol's parser (the first input byte picks it among the registry's
//! `StreamDissector`s) through a minimal driver that honours the `Progress` contract, once
//! whole and once cut at fuzzer-chosen points, and asserts that both runs emit the same fields
//! (Suricata's separator harness). With the UDP flag each piece is a datagram and only panics
//! are findings. Input layout: `tests/harness/mod.rs`, `parse_stream_input`.
//!
//! `cargo +nightly fuzz run stream` (from `dissectors/fuzz`); seeds: `corpus/stream/` from
//! `seed.sh`. Each crash becomes a named test in `dissectors/tests/fuzz_regressions.rs`.

#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::stream(data));
