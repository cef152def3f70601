//! The bare libpcap read loop the timing script measures netsniff against: open a capture
//! file with libpcap and fetch every packet, touching one byte of each so the read is not
//! optimised away. Prints the packet and byte counts.
//!
//!     cargo run --release --example pcap_read_loop -- FILE

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: pcap_read_loop FILE");
        return ExitCode::from(2);
    };
    let mut capture = match pcap::Capture::from_file(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pcap_read_loop: {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let (mut packets, mut bytes, mut checksum) = (0u64, 0u64, 0u8);
    while let Ok(packet) = capture.next_packet() {
        packets += 1;
        bytes += u64::from(packet.header.caplen);
        checksum ^= packet.data.first().copied().unwrap_or(0);
    }
    println!("{packets} packets, {bytes} bytes (xor {checksum})");
    ExitCode::SUCCESS
}
