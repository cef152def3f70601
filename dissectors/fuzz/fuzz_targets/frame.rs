//! Dissects arbitrary bytes as a frame of every link type netsniff registers (smoltcp's
//! "print everything" target): every field is wanted and formatted as `-T fields` and `-V`
//! would format it (with the dissectors' `-V` texts built), and the summary columns are filled,
//! so that parsing, field emission and value formatting all run on hostile input. The first
//! input byte picks the link type.
//!
//! `cargo +nightly fuzz run frame` (from `dissectors/fuzz`); seeds: `corpus/frame/`, made from
//! the frames of `testdata/captures` by `seed.sh`. Each crash becomes a named test in
//! `dissectors/tests/fuzz_regressions.rs`.

#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::frame(data);
});
