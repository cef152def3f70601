//! One direction of a TCP connection as an in-order byte stream.
//!
//! Segments arrive in capture order; the [`Assembler`] hands out the bytes in stream order, as
//! [`Chunk`]s: in-order data is passed through without copying (a slice of the frame), data
//! that arrives ahead of a hole is copied and held until the hole fills, and bytes that will
//! never be seen become an explicit [`Chunk::Gap`] so that an application parser can
//! resynchronise instead of mis-parsing.
//!
//! # Policy
//!
//! * **Stream offsets** count from the byte after the SYN (or from the first byte seen when
//!   the SYN was not captured) and are 64-bit: the 32-bit sequence space may wrap any number
//!   of times. A segment is placed relative to the next expected byte, so a segment more than
//!   2³¹ bytes away from it is taken to be old.
//! * **Retransmitted and overlapping bytes: the first copy wins.** Bytes already delivered are
//!   dropped; a segment overlapping held data only fills the holes between what is held (as
//!   Wireshark, which keeps the first segment it saw). Overlaps whose bytes differ are counted
//!   in [`Assembler::conflicts`].
//! * **SYN and FIN** take one sequence number each and carry no stream bytes. Bytes after the
//!   FIN are ignored.
//! * **Gaps** are declared when they are certain or when waiting costs too much: the rest of a
//!   segment the snapshot length cut off (the capture will never hold it); bytes the peer
//!   acknowledged although they were never captured ([`Assembler::acked`]); the hole before
//!   held data once more than [`MAX_HELD_PER_DIRECTION`] bytes wait behind it; and every hole
//!   left when the direction ends ([`Assembler::finish`]).

use std::collections::VecDeque;

/// Bytes held out of order per direction before the oldest hole is declared a gap. A
/// receiver's window rarely exceeds this; beyond it the capture has lost the data for good.
pub const MAX_HELD_PER_DIRECTION: usize = 4 * 1024 * 1024;
/// Out-of-order pieces held per direction (bounds the bookkeeping of tiny segments).
pub const MAX_HELD_SEGMENTS: usize = 4096;

/// A piece of the stream, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes at the current stream offset.
    Data(&'a [u8]),
    /// This many bytes were never captured.
    Gap(u64),
}

/// A piece held ahead of the next byte.
#[derive(Debug)]
struct Held {
    at: u64,
    len: u64,
    /// `None`: bytes the snapshot length cut off (a gap when reached).
    bytes: Option<Vec<u8>>,
}

impl Held {
    fn end(&self) -> u64 {
        self.at + self.len
    }
}

/// The in-order byte stream of one direction.
#[derive(Debug, Default)]
pub struct Assembler {
    /// Sequence number of the next byte to hand out, once known.
    next_seq: Option<u32>,
    /// Stream offset of that byte.
    offset: u64,
    /// Pieces ahead of `offset`, sorted, not overlapping each other.
    held: VecDeque<Held>,
    held_bytes: usize,
    /// Stream offset of the FIN, once seen.
    fin_at: Option<u64>,
    /// Everything up to the FIN (or the end) was handed out.
    finished: bool,
    /// Bytes declared missing.
    pub gap_bytes: u64,
    /// Overlapping retransmissions whose bytes differed from the first copy.
    pub conflicts: u64,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Stream offset of the next byte to be handed out.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Whether the direction ended (FIN reached, or [`Assembler::finish`] called).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The stream starts after a SYN with sequence number `isn`.
    pub fn syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    /// Stream offset of sequence number `seq`, placed within 2³¹ of the next byte (`None`
    /// before the start is known).
    fn offset_of(&self, seq: u32) -> Option<i128> {
        let next = self.next_seq?;
        let delta = i128::from(seq.wrapping_sub(next) as i32);
        Some(i128::from(self.offset) + delta)
    }

    /// Whether [`Assembler::segment`] would change nothing and hand out nothing for a segment
    /// of `data`, claiming `claimed` bytes, with `fin`: one without bytes or FIN (most are bare
    /// ACKs), unless the held caps still call for a gap. Every call leaves the held pieces
    /// settled (none at or before the next byte, the end noted), so such a segment finds
    /// nothing to do. Callers skip building the chunk handler for it.
    pub fn ignores(&self, data: &[u8], claimed: u32, fin: bool) -> bool {
        self.finished || (claimed == 0 && data.is_empty() && !fin && !self.over_held_caps())
    }

    /// Whether more waits behind the oldest hole than the caps allow.
    fn over_held_caps(&self) -> bool {
        self.held_bytes > MAX_HELD_PER_DIRECTION || self.held.len() > MAX_HELD_SEGMENTS
    }

    /// Adds a segment: `seq` of its first payload byte (after a SYN, the SYN's number plus
    /// one), the captured payload, the payload length the IP header claims, and whether FIN
    /// is set. Calls `out` with every chunk that becomes deliverable, in stream order.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        claimed: u32,
        fin: bool,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.ignores(data, claimed, fin) {
            return;
        }
        let claimed = u64::from(claimed).max(data.len() as u64);
        if self.next_seq.is_none() {
            if claimed == 0 && !fin {
                return;
            }
            // The SYN was not seen: the stream starts here.
            self.next_seq = Some(seq);
        }
        let Some(start) = self.offset_of(seq) else {
            return;
        };
        let end = start + i128::from(claimed);
        if fin && self.fin_at.is_none() && end >= i128::from(self.offset) {
            self.fin_at = u64::try_from(end).ok();
        }
        let here = i128::from(self.offset);
        if end > here {
            // Trim what was already delivered.
            let skip = u64::try_from(here - start).unwrap_or(0);
            let start = u64::try_from(start.max(here)).unwrap_or(self.offset);
            let data = data
                .get(usize::try_from(skip).unwrap_or(usize::MAX).min(data.len())..)
                .unwrap_or(&[]);
            let cut = u64::try_from(end).unwrap_or(start) - start - data.len() as u64;
            let clear_ahead = self.held.front().is_none_or(|h| h.at > start);
            if start == self.offset && clear_ahead {
                // The common case: in order, nothing held in the way. No copy.
                let room = self.held.front().map_or(u64::MAX, |h| h.at - start);
                let take = data.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                if take > 0 {
                    out(Chunk::Data(data.get(..take).unwrap_or(&[])));
                    self.advance(take as u64);
                }
                if take == data.len() && cut > 0 {
                    // The rest of the segment was cut by the snapshot length.
                    let n = cut.min(room.saturating_sub(take as u64));
                    self.emit_gap(n, out);
                }
            } else {
                self.hold(start, Some(data));
                if cut > 0 {
                    self.hold_missing(start + data.len() as u64, cut);
                }
            }
        }
        self.deliver_ready(out);
        if self.over_held_caps() {
            // Too much waits behind the oldest hole: it will not be filled.
            if let Some(at) = self.held.front().map(|h| h.at) {
                self.gap_to(at, out);
            }
        }
    }

    fn hold_missing(&mut self, at: u64, len: u64) {
        let mut at = at;
        let end = at + len;
        let mut pos = self.held.partition_point(|h| h.end() <= at);
        while at < end {
            match self.held.get(pos) {
                Some(h) if h.at <= at => {
                    at = h.end();
                    pos += 1;
                }
                next => {
                    let stop = next.map_or(end, |h| h.at.min(end));
                    self.held.insert(
                        pos,
                        Held {
                            at,
                            len: stop - at,
                            bytes: None,
                        },
                    );
                    at = stop;
                    pos += 1;
                }
            }
        }
    }

    /// Copies `data` (starting at stream offset `at`, ahead of the next byte) into the held
    /// list, filling only the holes between what is held: the first copy wins.
    fn hold(&mut self, at: u64, data: Option<&[u8]>) {
        let Some(mut data) = data else {
            return;
        };
        let mut at = at;
        let mut pos = self.held.partition_point(|h| h.end() <= at);
        while !data.is_empty() {
            match self.held.get(pos) {
                Some(h) if h.at <= at => {
                    let overlap = usize::try_from(h.end() - at)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    if let Some(bytes) = &h.bytes {
                        let from = usize::try_from(at - h.at).unwrap_or(0);
                        if bytes.get(from..from + overlap) != data.get(..overlap) {
                            self.conflicts += 1;
                        }
                    }
                    data = data.get(overlap..).unwrap_or(&[]);
                    at += overlap as u64;
                    pos += 1;
                }
                next => {
                    let room = next.map_or(u64::MAX, |h| h.at - at);
                    let n = data.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                    let piece = data.get(..n).unwrap_or(&[]);
                    self.held.insert(
                        pos,
                        Held {
                            at,
                            len: n as u64,
                            bytes: Some(piece.to_vec()),
                        },
                    );
                    self.held_bytes += n;
                    data = data.get(n..).unwrap_or(&[]);
                    at += n as u64;
                    pos += 1;
                }
            }
        }
    }

    fn advance(&mut self, n: u64) {
        self.offset += n;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(n as u32);
        }
    }

    fn emit_gap(&mut self, n: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        if n == 0 {
            return;
        }
        out(Chunk::Gap(n));
        self.gap_bytes += n;
        self.advance(n);
    }

    /// Declares the bytes before stream offset `to` that are not held a gap, and hands out
    /// what becomes contiguous.
    fn gap_to(&mut self, to: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        loop {
            self.deliver_ready(out);
            if self.offset >= to {
                break;
            }
            let stop = self.held.front().map_or(to, |h| h.at.min(to));
            self.emit_gap(stop - self.offset, out);
        }
        self.deliver_ready(out);
    }

    /// Hands out held pieces that became contiguous, then notes the FIN.
    fn deliver_ready(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(h) = self.held.front() {
            if h.at > self.offset {
                break;
            }
            let Some(h) = self.held.pop_front() else {
                break;
            };
            if let Some(b) = &h.bytes {
                self.held_bytes -= b.len();
            }
            if h.end() <= self.offset {
                continue;
            }
            let skip = self.offset - h.at;
            match &h.bytes {
                Some(b) => {
                    let rest = b
                        .get(usize::try_from(skip).unwrap_or(usize::MAX)..)
                        .unwrap_or(&[]);
                    out(Chunk::Data(rest));
                    self.advance(rest.len() as u64);
                }
                None => self.emit_gap(h.len - skip, out),
            }
        }
        if self.held.is_empty() && self.fin_at.is_some_and(|f| f <= self.offset) {
            self.finished = true;
        }
    }

    /// The peer acknowledged everything before sequence number `ack`: bytes up to it that were
    /// never captured are a gap.
    pub fn acked(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        if let Some(at) = self.unseen_acked_to(ack) {
            self.gap_to(at, out);
        }
    }

    /// The stream offset up to which `ack` acknowledges bytes not handed out yet (never
    /// captured), if it does: when not, [`Assembler::acked`] does nothing (callers skip
    /// building the chunk handler).
    pub fn unseen_acked_to(&self, ack: u32) -> Option<u64> {
        if self.finished {
            return None;
        }
        let at = u64::try_from(self.offset_of(ack)?).ok()?;
        // A FIN takes a sequence number but no stream byte.
        let at = self.fin_at.map_or(at, |f| at.min(f));
        (at > self.offset).then_some(at)
    }

    /// The direction ends (RST, end of capture, eviction): hands out everything held, with
    /// gaps for the holes.
    pub fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        if self.finished {
            return;
        }
        if let Some(last) = self.held.back().map(Held::end) {
            self.gap_to(last, out);
        }
        self.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects chunks as owned values.
    #[derive(Debug, PartialEq, Eq)]
    enum C {
        D(Vec<u8>),
        G(u64),
    }

    fn seg(a: &mut Assembler, seq: u32, data: &[u8], fin: bool) -> Vec<C> {
        seg_cut(a, seq, data, data.len() as u32, fin)
    }

    fn seg_cut(a: &mut Assembler, seq: u32, data: &[u8], claimed: u32, fin: bool) -> Vec<C> {
        let mut v = Vec::new();
        a.segment(seq, data, claimed, fin, &mut |c| {
            v.push(match c {
                Chunk::Data(d) => C::D(d.to_vec()),
                Chunk::Gap(n) => C::G(n),
            })
        });
        v
    }

    fn joined(chunks: &[C]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            match c {
                C::D(d) => out.extend_from_slice(d),
                C::G(n) => out.extend(std::iter::repeat_n(b'?', *n as usize)),
            }
        }
        out
    }

    #[test]
    fn in_order() {
        let mut a = Assembler::new();
        a.syn(999);
        assert_eq!(
            seg(&mut a, 1000, b"hello", false),
            vec![C::D(b"hello".to_vec())]
        );
        assert_eq!(
            seg(&mut a, 1005, b" world", false),
            vec![C::D(b" world".to_vec())]
        );
        assert_eq!(a.offset(), 11);
    }

    #[test]
    fn out_of_order_is_held_then_delivered() {
        let mut a = Assembler::new();
        a.syn(0);
        assert!(seg(&mut a, 6, b"world", false).is_empty());
        assert_eq!(a.held_bytes(), 5);
        let got = seg(&mut a, 1, b"hello", false);
        assert_eq!(joined(&got), b"helloworld");
        assert_eq!(a.held_bytes(), 0);
    }

    #[test]
    fn duplicate_and_retransmission_are_dropped() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 1, b"abcdef", false);
        assert!(seg(&mut a, 1, b"abcdef", false).is_empty());
        assert!(seg(&mut a, 3, b"cd", false).is_empty());
        // Overlapping the end: only the new bytes come out.
        assert_eq!(seg(&mut a, 5, b"efgh", false), vec![C::D(b"gh".to_vec())]);
    }

    #[test]
    fn overlap_first_copy_wins() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 5, b"EFGH", false);
        seg(&mut a, 3, b"cdXXGHij", false); // overlaps EFGH with different bytes
        assert_eq!(a.conflicts, 1);
        let got = seg(&mut a, 1, b"ab", false);
        assert_eq!(joined(&got), b"abcdEFGHij");
    }

    #[test]
    fn wraps_around_the_sequence_space() {
        let mut a = Assembler::new();
        a.syn(u32::MAX - 3);
        let mut all = seg(&mut a, u32::MAX - 2, b"abc", false);
        all.extend(seg(&mut a, 3, b"ghi", false)); // ahead, across the wrap
        all.extend(seg(&mut a, 0, b"def", false));
        assert_eq!(joined(&all), b"abcdefghi");
        assert_eq!(a.offset(), 9);
    }

    #[test]
    fn acked_hole_becomes_a_gap() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 1, b"ab", false);
        assert!(seg(&mut a, 6, b"fg", false).is_empty());
        let mut v = Vec::new();
        a.acked(8, &mut |c| v.push(format!("{c:?}")));
        assert_eq!(v, vec!["Gap(3)", "Data([102, 103])"]);
        assert_eq!(a.gap_bytes, 3);
    }

    #[test]
    fn snaplen_cut_is_a_gap() {
        let mut a = Assembler::new();
        a.syn(0);
        let got = seg_cut(&mut a, 1, b"abc", 10, false);
        assert_eq!(got, vec![C::D(b"abc".to_vec()), C::G(7)]);
        assert_eq!(
            seg_cut(&mut a, 11, b"xy", 2, false),
            vec![C::D(b"xy".to_vec())]
        );
    }

    #[test]
    fn finish_flushes_holes() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 11, b"zz", false);
        let mut v = Vec::new();
        a.finish(&mut |c| v.push(format!("{c:?}")));
        assert_eq!(v, vec!["Gap(10)", "Data([122, 122])"]);
        assert!(a.is_finished());
    }

    #[test]
    fn fin_ends_the_stream() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 1, b"ab", true);
        assert!(a.is_finished());
        assert!(seg(&mut a, 3, b"late", false).is_empty());
    }

    #[test]
    fn fin_after_a_hole_waits() {
        let mut a = Assembler::new();
        a.syn(0);
        seg(&mut a, 4, b"cd", true);
        assert!(!a.is_finished());
        assert_eq!(joined(&seg(&mut a, 1, b"ab!", false)), b"ab!cd");
        assert!(a.is_finished());
    }

    #[test]
    fn held_cap_declares_a_gap() {
        let mut a = Assembler::new();
        a.syn(0);
        let big = vec![7u8; MAX_HELD_PER_DIRECTION / 2 + 1];
        assert!(seg(&mut a, 100, &big, false).is_empty());
        let got = seg(&mut a, 100 + big.len() as u32, &big, false);
        assert_eq!(got.first(), Some(&C::G(99)));
        assert_eq!(a.held_bytes(), 0);
    }

    #[test]
    fn bare_segments_are_ignored_unless_they_matter() {
        let mut a = Assembler::new();
        a.syn(0);
        assert!(a.ignores(&[], 0, false));
        assert!(!a.ignores(&[], 0, true), "a FIN ends the stream");
        assert!(
            !a.ignores(&[], 3, false),
            "claimed bytes the snapshot cut are a gap"
        );
        seg(&mut a, 5, b"ef", false);
        // Held data waits for its hole: a bare segment neither fills it nor declares a gap.
        assert!(a.ignores(&[], 0, false));
        assert!(seg(&mut a, 1, b"", false).is_empty());
        assert_eq!(a.unseen_acked_to(1), None);
        assert_eq!(a.unseen_acked_to(3), Some(2));
        let mut v = Vec::new();
        a.acked(3, &mut |c| v.push(format!("{c:?}")));
        assert_eq!(v, vec!["Gap(2)"]);
        assert_eq!(a.unseen_acked_to(3), None);
    }

    #[test]
    fn mid_stream_start() {
        let mut a = Assembler::new();
        assert_eq!(
            seg(&mut a, 5000, b"xyz", false),
            vec![C::D(b"xyz".to_vec())]
        );
        // Bytes before the first seen are old.
        assert!(seg(&mut a, 4990, b"0123456789", false).is_empty());
    }
}
