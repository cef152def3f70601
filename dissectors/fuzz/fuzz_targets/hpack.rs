//! Decodes HPACK header blocks (RFC 7541) whole with one decoder and in fuzzer-chosen
//! fragments with another, and asserts both yield the same fields, errors and dynamic-table
//! size. Input layout: `tests/harness/mod.rs`, `hpack`.
//!
//! `cargo +nightly fuzz run hpack` (from `dissectors/fuzz`). Each crash becomes a named test in
//! `dissectors/tests/fuzz_regressions.rs`.

#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::hpack(data));
