//! Throughput over time of one flow: transport payload bytes each way per time bucket, from
//! the flow's first packet to its last — the series a throughput or flow-control chart draws.
//!
//! The flow's length is not known while it runs, so the series keeps a fixed number of
//! buckets and adapts their width: it starts at one microsecond, and whenever a packet
//! arrives past the last bucket, neighbouring buckets are merged in pairs and the width
//! doubles. A finished flow of duration D is therefore described by between
//! [`BUCKETS`]/2 and [`BUCKETS`] buckets of width between D/[`BUCKETS`] and
//! 2·D/[`BUCKETS`], in constant memory whatever its length.
//!
//! Bytes are the TCP or UDP payload lengths as the packets carry them (retransmissions
//! included), as Wireshark's throughput graph counts them.

use super::key::Side;
use super::tcp_analysis::Nanos;

/// Buckets kept per direction.
pub const BUCKETS: usize = 32;
/// Width of a bucket at the start.
const FIRST_WIDTH: Nanos = 1_000;

/// Payload bytes per bucket, each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throughput {
    /// Capture time of the flow's first packet.
    start: Nanos,
    /// Width of every bucket.
    width: Nanos,
    /// Buckets in use (the last one holds the latest packet).
    used: usize,
    /// Bytes per bucket, indexed by [`Side::index`].
    bytes: [[u64; BUCKETS]; 2],
}

impl Throughput {
    /// A series for a flow whose first packet came at `start`.
    pub fn new(start: Nanos) -> Throughput {
        Throughput {
            start,
            width: FIRST_WIDTH,
            used: 0,
            bytes: [[0; BUCKETS]; 2],
        }
    }

    /// Counts `payload` bytes sent by `side` at capture time `now`. A packet stamped before
    /// the flow's start (capture files are not always in time order) counts in the first
    /// bucket.
    pub fn add(&mut self, side: Side, now: Nanos, payload: u64) {
        let offset = now.saturating_sub(self.start).max(0);
        while offset / self.width >= BUCKETS as Nanos {
            self.widen();
        }
        // In range: the loop above made offset / width < BUCKETS.
        let bucket = (offset / self.width) as usize;
        self.used = self.used.max(bucket + 1);
        let slot = &mut self.bytes[side.index()][bucket];
        *slot = slot.saturating_add(payload);
    }

    /// Merges neighbouring buckets in pairs and doubles the width.
    fn widen(&mut self) {
        for side in &mut self.bytes {
            for i in 0..BUCKETS / 2 {
                side[i] = side[2 * i].saturating_add(side[2 * i + 1]);
            }
            side[BUCKETS / 2..].fill(0);
        }
        self.used = self.used.div_ceil(2);
        self.width = self.width.saturating_mul(2);
    }

    /// Width of each bucket, in nanoseconds.
    pub fn width(&self) -> Nanos {
        self.width
    }

    /// Bytes per bucket sent by `side`, from the flow's start to the bucket of its last
    /// packet.
    pub fn series(&self, side: Side) -> &[u64] {
        &self.bytes[side.index()][..self.used]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_narrow() {
        let mut t = Throughput::new(5_000);
        t.add(Side::Lo, 5_000, 100);
        t.add(Side::Hi, 5_500, 40);
        t.add(Side::Lo, 7_200, 60);
        assert_eq!(t.width(), 1_000);
        assert_eq!(t.series(Side::Lo), [100, 0, 60]);
        assert_eq!(t.series(Side::Hi), [40, 0, 0]);
    }

    #[test]
    fn long_flows_widen_the_buckets_and_keep_every_byte() {
        let mut t = Throughput::new(0);
        // One packet of 10 bytes every millisecond for ten seconds.
        for ms in 0..10_000i64 {
            t.add(Side::Lo, ms * 1_000_000, 10);
        }
        let series = t.series(Side::Lo);
        assert!(series.len() > BUCKETS / 2 && series.len() <= BUCKETS);
        assert_eq!(series.iter().sum::<u64>(), 100_000);
        // Ten seconds over at most 32 buckets of a power-of-two number of microseconds.
        assert_eq!(t.width(), 524_288_000);
        assert_eq!(series[0], 10 * 525); // packets at 0..=524 ms
        assert!(t.series(Side::Hi).iter().all(|&b| b == 0));
    }

    #[test]
    fn a_late_packet_after_a_long_silence() {
        let mut t = Throughput::new(0);
        t.add(Side::Hi, 0, 1);
        t.add(Side::Hi, 3_600_000_000_000, 2); // an hour later
        let series = t.series(Side::Hi);
        assert_eq!(series.first(), Some(&1));
        assert_eq!(series.last(), Some(&2));
        assert_eq!(series.iter().sum::<u64>(), 3);
        assert!(series.len() <= BUCKETS);
    }

    #[test]
    fn out_of_order_timestamps_and_extremes_do_not_panic() {
        let mut t = Throughput::new(1_000_000);
        t.add(Side::Lo, 0, 7); // before the start: first bucket
        t.add(Side::Lo, Nanos::MAX, u64::MAX);
        t.add(Side::Lo, Nanos::MAX, 1); // saturates
        assert_eq!(t.series(Side::Lo).first(), Some(&7));
        assert_eq!(t.series(Side::Lo).last(), Some(&u64::MAX));
        let mut early = Throughput::new(Nanos::MAX);
        early.add(Side::Lo, Nanos::MIN, 3);
        assert_eq!(early.series(Side::Lo), [3]);
    }
}
