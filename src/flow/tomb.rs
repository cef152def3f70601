//! What the flow table remembers of a flow that left it (evicted by a cap, or expired): its
//! stream number and the little that keeps its later packets' numbers right.
//!
//! tshark never forgets a conversation: a packet arriving an hour after its flow's last one
//! still carries the same `tcp.stream` / `udp.stream`, and its relative sequence numbers
//! still count from the connection's first. netsniff bounds its live flows by memory, so a
//! flow may have to leave the table while more of its packets are still to come. Its
//! tombstone keeps, in 32 bytes:
//!
//! * the stream number, so numbering stays tshark's whatever was evicted;
//! * each side's base sequence number and `tcp.completeness`, so `tcp.seq`, `tcp.ack` and the
//!   SYN rule that starts a new connection on a reused 4-tuple still agree;
//! * the roles (client, first sender), so directions and conversation tables agree.
//!
//! What a tombstone does not keep is the analysis and parser state: a flow resumed from one
//! starts its sequence analysis and application parser afresh (the run summary counts such
//! resumptions). Tombstones live in an open-addressing table sized by the flow-memory budget;
//! past it new ones are not kept (counted), and a returning flow then starts a new stream.

use super::key::{Addr, FlowKey, Side, L4};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

/// Slots used at most, in percent: beyond it the table grows (linear probing stays short).
const MAX_LOAD_PERCENT: usize = 80;
/// Slots of a new table; it grows by half each time (less waste than doubling at the size
/// that reaches the budget), and last to whatever the budget leaves.
const INITIAL_SLOTS: usize = 1024;

/// What is kept of a flow that left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tomb {
    /// `tcp.stream` / `udp.stream`.
    pub stream: u32,
    /// Each side's base sequence number (TCP), valid where [`Tomb::has_base`] says so.
    pub base: [u32; 2],
    bits: u8,
    /// `tcp.completeness` as it stood.
    pub completeness: u8,
}

const BASE_LO: u8 = 1;
const BASE_HI: u8 = 2;
const CLIENT_HI: u8 = 4;
const FIRST_HI: u8 = 8;

fn side_bit(side: Side, lo: u8, hi: u8) -> u8 {
    match side {
        Side::Lo => lo,
        Side::Hi => hi,
    }
}

impl Tomb {
    /// A tombstone for stream `stream` (`None` when the number does not fit: not kept).
    pub fn new(
        stream: u64,
        client: Side,
        first_sender: Side,
        bases: [Option<u32>; 2],
        completeness: u8,
    ) -> Option<Tomb> {
        let stream = u32::try_from(stream).ok().filter(|s| *s != EMPTY)?;
        let mut bits = side_bit(client, 0, CLIENT_HI) | side_bit(first_sender, 0, FIRST_HI);
        let mut base = [0; 2];
        for (i, b) in bases.iter().enumerate() {
            if let (Some(b), Some(slot)) = (b, base.get_mut(i)) {
                *slot = *b;
                bits |= if i == 0 { BASE_LO } else { BASE_HI };
            }
        }
        Some(Tomb {
            stream,
            base,
            bits,
            completeness,
        })
    }

    /// The base sequence number of `side`, if one was set.
    pub fn base_of(&self, side: Side) -> Option<u32> {
        let bit = side_bit(side, BASE_LO, BASE_HI);
        (self.bits & bit != 0).then(|| self.base[side.index()])
    }

    /// Both sides' base sequence numbers.
    pub fn bases(&self) -> [Option<u32>; 2] {
        [self.base_of(Side::Lo), self.base_of(Side::Hi)]
    }

    pub fn client(&self) -> Side {
        if self.bits & CLIENT_HI != 0 {
            Side::Hi
        } else {
            Side::Lo
        }
    }

    pub fn first_sender(&self) -> Side {
        if self.bits & FIRST_HI != 0 {
            Side::Hi
        } else {
            Side::Lo
        }
    }
}

/// The stream number no flow is given (it marks a free slot).
const EMPTY: u32 = u32::MAX;

/// An IPv4 key packed in 128 bits: addresses, ports and the protocol.
type Packed = [u32; 4];

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Packed,
    tomb: Tomb,
}

const FREE: Slot = Slot {
    key: [0; 4],
    tomb: Tomb {
        stream: EMPTY,
        base: [0; 2],
        bits: 0,
        completeness: 0,
    },
};

fn pack(key: &FlowKey) -> Option<Packed> {
    let (Addr::V4(lo), Addr::V4(hi)) = (key.lo.addr, key.hi.addr) else {
        return None;
    };
    let l4 = u32::from(key.l4 == L4::Udp);
    Some([
        u32::from_be_bytes(lo),
        u32::from_be_bytes(hi),
        (u32::from(key.lo.port) << 16) | u32::from(key.hi.port),
        l4,
    ])
}

fn hash(key: &Packed) -> u64 {
    let mut h = FxHasher::default();
    key.hash(&mut h);
    h.finish()
}

/// A key's tag: bits of its hash other than those that choose its home slot, never 0.
fn tag(hash: u64) -> u8 {
    ((hash >> 32) as u8).max(1)
}

/// The tombstones of a flow table.
#[derive(Debug, Default)]
pub struct Tombs {
    /// IPv4 keys: open addressing with linear probing (a slot is free when its stream is
    /// [`EMPTY`]).
    slots: Vec<Slot>,
    /// A byte per slot: 0 when it is free, else its key's [`tag`]. Probes read these: every
    /// new flow looks for a tombstone and nearly never has one, and every flow that leaves
    /// puts one, each at a random place in a table of megabytes. In the slots, each of those
    /// first reads was a cache miss (a tenth of the flow engine's time on the benchmark
    /// file); the tags are 32 times smaller and mostly stay in the caches.
    tags: Vec<u8>,
    used: usize,
    /// IPv6 keys: a plain map.
    other: FxHashMap<FlowKey, Tomb>,
    /// Tombstones not kept because the budget was reached.
    pub dropped: u64,
    /// The most bytes held at once, which is while the slot table grows (old and new tables
    /// together).
    pub grow_peak: usize,
}

impl Tombs {
    /// Tombstones kept.
    pub fn len(&self) -> usize {
        self.used + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held (for the memory estimate).
    pub fn memory(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.tags.capacity()
            + self.other.capacity() * (std::mem::size_of::<(FlowKey, Tomb)>() + 1)
    }

    /// The first slot a key of hash `hash` may be in, of `len` slots (`len` need not be a
    /// power of two).
    fn home(hash: u64, len: usize) -> usize {
        ((u128::from(hash) * len as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 >= self.slots.len() {
            0
        } else {
            i + 1
        }
    }

    /// The slot holding `key`, if any.
    fn find(&self, key: &Packed) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let h = hash(key);
        let want = tag(h);
        let mut i = Tombs::home(h, self.slots.len());
        loop {
            match *self.tags.get(i)? {
                0 => return None,
                t if t == want && self.slots.get(i)?.key == *key => return Some(i),
                _ => i = self.next(i),
            }
        }
    }

    /// The tombstone of `key`.
    pub fn get(&self, key: &FlowKey) -> Option<Tomb> {
        match pack(key) {
            Some(p) => self
                .find(&p)
                .and_then(|i| self.slots.get(i))
                .map(|s| s.tomb),
            None => self.other.get(key).copied(),
        }
    }

    /// Removes and returns the tombstone of `key` (its flow is back).
    pub fn take(&mut self, key: &FlowKey) -> Option<Tomb> {
        let Some(p) = pack(key) else {
            return self.other.remove(key);
        };
        let at = self.find(&p)?;
        let tomb = self.slots.get(at)?.tomb;
        self.remove_at(at);
        Some(tomb)
    }

    /// Empties slot `at` and shifts the slots after it back (linear probing's deletion, which
    /// leaves no markers behind).
    fn remove_at(&mut self, at: usize) {
        let len = self.slots.len();
        let mut hole = at;
        let mut i = self.next(at);
        // A free slot ends the run of slots that may have probed past `at`.
        while let Some(slot) = self
            .slots
            .get(i)
            .copied()
            .filter(|s| s.tomb.stream != EMPTY)
        {
            let home = Tombs::home(hash(&slot.key), len);
            // The slot may fill the hole if its home is not in (hole, i] cyclically.
            let stays = if hole <= i {
                hole < home && home <= i
            } else {
                hole < home || home <= i
            };
            if !stays {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = slot;
                }
                let moved_tag = self.tags.get(i).copied().unwrap_or(0);
                if let Some(t) = self.tags.get_mut(hole) {
                    *t = moved_tag;
                }
                hole = i;
            }
            i = self.next(i);
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = FREE;
        }
        if let Some(t) = self.tags.get_mut(hole) {
            *t = 0;
        }
        self.used -= 1;
    }

    /// Keeps `tomb` for `key`, within `budget` bytes of tombstones (beyond it, the tombstone
    /// is dropped and counted).
    pub fn put(&mut self, key: &FlowKey, tomb: Tomb, budget: usize) {
        let Some(p) = pack(key) else {
            let grows = self.other.len() == self.other.capacity() && !self.other.contains_key(key);
            let after =
                (self.other.capacity().max(2) * 2) * (std::mem::size_of::<(FlowKey, Tomb)>() + 1);
            if grows && self.memory() + after > budget {
                self.dropped += 1;
                return;
            }
            self.other.insert(*key, tomb);
            return;
        };
        if (self.used + 1) * 100 > self.slots.len() * MAX_LOAD_PERCENT && !self.grow(budget) {
            self.dropped += 1;
            return;
        }
        let h = hash(&p);
        let want = tag(h);
        let mut i = Tombs::home(h, self.slots.len());
        loop {
            let next = self.next(i);
            let (Some(t), Some(slot)) = (self.tags.get_mut(i), self.slots.get_mut(i)) else {
                self.dropped += 1;
                return;
            };
            if *t == 0 {
                *t = want;
                *slot = Slot { key: p, tomb };
                self.used += 1;
                return;
            }
            if *t == want && slot.key == p {
                slot.tomb = tomb;
                return;
            }
            i = next;
        }
    }

    /// Grows the slot table by half, or to what `budget` leaves if that is less, as long as
    /// the new table takes one more tombstone.
    ///
    /// The table grows in place, so that no second copy of it is ever held (a large block is
    /// extended by remapping its pages): the tombstones are then moved to their new homes
    /// one by one. A bitmap marks the slots that hold a moved tombstone; one being moved
    /// takes the first free-or-unmoved slot from its new home, and an unmoved tombstone it
    /// displaces is moved next. Moved slots are never written again, so every moved
    /// tombstone's probe run (all moved slots) stays intact while the rest move.
    fn grow(&mut self, budget: usize) -> bool {
        let size = std::mem::size_of::<Slot>();
        let old_len = self.slots.len();
        let other = self.memory() - self.slots.capacity() * size - self.tags.capacity();
        // A byte per slot for its tag, and one for the bitmap: an overestimate, an eighth of
        // it is used.
        let room = budget.saturating_sub(other) / (size + 2);
        let new_len = (old_len + old_len / 2).max(INITIAL_SLOTS).min(room);
        if new_len <= old_len || (self.used + 1) * 100 > new_len * MAX_LOAD_PERCENT {
            return false;
        }
        self.slots.reserve_exact(new_len - old_len);
        self.slots.resize(new_len, FREE);
        self.tags.reserve_exact(new_len - self.tags.len());
        let mut moved = vec![0u64; new_len.div_ceil(64)];
        let held = other + self.slots.capacity() * size + self.tags.capacity() + moved.len() * 8;
        self.grow_peak = self.grow_peak.max(held);
        for i in 0..old_len {
            if is_set(&moved, i) {
                continue;
            }
            let Some(slot) = self.slots.get_mut(i) else {
                break;
            };
            if slot.tomb.stream == EMPTY {
                continue;
            }
            let mut moving = std::mem::replace(slot, FREE);
            // Fewer slots are marked moved than there are tombstones, so a probe always ends.
            let mut j = Tombs::home(hash(&moving.key), new_len);
            loop {
                if is_set(&moved, j) {
                    j = self.next(j);
                    continue;
                }
                let Some(s) = self.slots.get_mut(j) else {
                    break;
                };
                let displaced = std::mem::replace(s, moving);
                set(&mut moved, j);
                if displaced.tomb.stream == EMPTY {
                    break;
                }
                moving = displaced;
                j = Tombs::home(hash(&moving.key), new_len);
            }
        }
        // The tags, written again for the slots' new places.
        self.tags.clear();
        self.tags
            .extend(self.slots.iter().map(|s| match s.tomb.stream {
                EMPTY => 0,
                _ => tag(hash(&s.key)),
            }));
        true
    }
}

/// Whether bit `i` of `bits` is set.
fn is_set(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
}

fn set(bits: &mut [u64], i: usize) {
    if let Some(w) = bits.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::key::Endpoint;

    fn key(n: u32, l4: L4) -> FlowKey {
        let (k, _) = FlowKey::new(
            l4,
            Endpoint {
                addr: Addr::V4(n.to_be_bytes()),
                port: (n % 60000) as u16,
            },
            Endpoint {
                addr: Addr::V4([10, 0, 0, 1]),
                port: 53,
            },
        );
        k
    }

    fn tomb(stream: u64) -> Tomb {
        Tomb::new(stream, Side::Hi, Side::Lo, [Some(7), None], 3).unwrap()
    }

    /// Every slot's tag is its key's, or 0 for a free slot.
    fn assert_tags_match(tombs: &Tombs) {
        assert_eq!(tombs.tags.len(), tombs.slots.len());
        for (t, s) in tombs.tags.iter().zip(&tombs.slots) {
            let want = if s.tomb.stream == EMPTY {
                0
            } else {
                tag(hash(&s.key))
            };
            assert_eq!(*t, want);
        }
    }

    #[test]
    fn a_tombstone_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }

    #[test]
    fn keeps_what_it_was_given() {
        let t = tomb(5);
        assert_eq!(t.client(), Side::Hi);
        assert_eq!(t.first_sender(), Side::Lo);
        assert_eq!(t.bases(), [Some(7), None]);
        assert_eq!((t.stream, t.completeness), (5, 3));
        assert!(Tomb::new(u64::from(u32::MAX), Side::Lo, Side::Lo, [None; 2], 0).is_none());
    }

    #[test]
    fn put_get_take_many() {
        let mut tombs = Tombs::default();
        let n = 50_000u32;
        for i in 0..n {
            tombs.put(&key(i, L4::Tcp), tomb(u64::from(i)), usize::MAX);
        }
        // The same addresses over UDP are another flow.
        assert!(tombs.get(&key(3, L4::Udp)).is_none());
        assert_eq!(tombs.len(), n as usize);
        // Take every other one: the rest must still be found (backward-shift deletion).
        for i in (0..n).step_by(2) {
            assert_eq!(tombs.take(&key(i, L4::Tcp)).map(|t| t.stream), Some(i));
        }
        for i in 0..n {
            let got = tombs.get(&key(i, L4::Tcp)).map(|t| t.stream);
            assert_eq!(got, (i % 2 == 1).then_some(i), "key {i}");
        }
        assert_eq!(tombs.len(), n as usize / 2);
        assert_tags_match(&tombs);
    }

    #[test]
    fn growth_in_place_keeps_every_tombstone() {
        // Puts and takes interleaved across many growths, checked against a map.
        let mut tombs = Tombs::default();
        let mut model = std::collections::HashMap::new();
        let mut x = 12345u32;
        for round in 0..60_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = x >> 14;
            let k = key(n, L4::Tcp);
            if round % 3 == 2 {
                assert_eq!(
                    tombs.take(&k).map(|t| t.stream),
                    model.remove(&n),
                    "take {n}"
                );
            } else {
                tombs.put(&k, tomb(u64::from(round)), usize::MAX);
                model.insert(n, round);
            }
            if round % 5_000 == 0 {
                assert_tags_match(&tombs);
            }
        }
        assert_tags_match(&tombs);
        assert_eq!(tombs.len(), model.len());
        for (n, stream) in &model {
            assert_eq!(
                tombs.get(&key(*n, L4::Tcp)).map(|t| t.stream),
                Some(*stream)
            );
        }
    }

    #[test]
    fn budget_bounds_the_table() {
        let mut tombs = Tombs::default();
        let budget = 64 * 1024;
        for i in 0..10_000u32 {
            tombs.put(&key(i, L4::Udp), tomb(u64::from(i)), budget);
        }
        assert!(tombs.memory() <= budget);
        assert!(tombs.grow_peak <= budget);
        assert_eq!(tombs.len() as u64 + tombs.dropped, 10_000);
        assert!(tombs.dropped > 0);
    }

    #[test]
    fn ipv6_uses_the_map() {
        let mut tombs = Tombs::default();
        let (k6, _) = FlowKey::new(
            L4::Tcp,
            Endpoint {
                addr: Addr::V6([1; 16]),
                port: 1,
            },
            Endpoint {
                addr: Addr::V6([2; 16]),
                port: 2,
            },
        );
        tombs.put(&k6, tomb(1), usize::MAX);
        let v4 = key(1, L4::Tcp);
        tombs.put(&v4, tomb(2), usize::MAX);
        assert_eq!(tombs.get(&k6).map(|t| t.stream), Some(1));
        assert_eq!(tombs.take(&v4).map(|t| t.stream), Some(2));
        assert_eq!(tombs.len(), 1);
    }
}
