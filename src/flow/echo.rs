//! ICMP and ICMPv6 echo request/reply matching, as tshark does it in one pass.
//!
//! tshark keeps, per conversation (the two IP addresses, either way round), the last request
//! seen for each key of checksum and identifier/sequence number; a reply takes the request
//! with its key out of the table and shows `icmp.resp_to`, `icmp.resptime` and
//! "(request in N)". The checksum is part of the key, adjusted for the type byte that differs
//! between request and reply, so a reply pairs only with a request carrying the same data:
//!
//! * ICMP: the reply's checksum minus 0x0800 in ones' complement arithmetic (0 counts as
//!   0xffff, on both sides);
//! * ICMPv6: the reply's checksum plus 0x100 as a plain integer (a sum past 0xffff matches
//!   nothing, as in tshark).
//!
//! A second request with the same key replaces the first; a second reply finds nothing.
//! Requests are never marked "(reply in N)": that needs tshark's second pass (`-2`).

use netsniff_dissectors::{Echo, Net};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Unanswered requests kept; the oldest is forgotten beyond this (a ping flood with no
/// replies must not grow memory: each entry is about 80 bytes).
pub const MAX_PENDING_ECHOES: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    /// The conversation's addresses, lower first.
    net: Net,
    v6: bool,
    /// The request's checksum (for a reply: the checksum its request must have had).
    checksum: u32,
    id: u16,
    seq: u16,
}

#[derive(Debug, Clone, Copy)]
struct Request {
    frame: u64,
    secs: i64,
    nanos: u32,
}

/// A reply's match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matched {
    /// The request's frame number.
    pub request: u64,
    /// Milliseconds from the request to the reply (`icmp.resptime`).
    pub ms: f64,
}

/// The unanswered requests.
#[derive(Debug, Default)]
pub struct EchoTable {
    pending: FxHashMap<Key, Request>,
    /// Keys in order of arrival, for eviction (entries whose request was answered or
    /// replaced are skipped when reached).
    order: VecDeque<(Key, u64)>,
    /// Requests forgotten because of [`MAX_PENDING_ECHOES`].
    pub dropped: u64,
}

/// `a - b` in ones' complement arithmetic (RFC 1624).
fn ones_sub(a: u16, b: u16) -> u16 {
    let sum = u32::from(!a) + u32::from(b);
    !(((sum & 0xffff) + (sum >> 16)) as u16)
}

/// The checksum a request and its reply share in the key.
fn key_checksum(e: &Echo) -> u32 {
    if e.v6 {
        // ICMPv6 type 129 is one more than 128 in the checksum's first word.
        return u32::from(e.checksum) + if e.reply { 0x100 } else { 0 };
    }
    let c = if e.reply {
        ones_sub(e.checksum, 0x0800)
    } else {
        e.checksum
    };
    u32::from(if c == 0 { 0xffff } else { c })
}

/// The conversation of `net`: its two addresses, lower first.
fn conversation(net: Net) -> Net {
    match net {
        Net::V4 { src, dst } if dst < src => Net::V4 { src: dst, dst: src },
        Net::V6 { src, dst } if dst < src => Net::V6 { src: dst, dst: src },
        other => other,
    }
}

impl EchoTable {
    /// Records a request, or pairs a reply with its request. `net` holds the echo's own IP
    /// addresses; `(secs, nanos)` is the frame's capture time.
    pub fn process(
        &mut self,
        e: &Echo,
        net: Net,
        frame: u64,
        secs: i64,
        nanos: u32,
    ) -> Option<Matched> {
        let key = Key {
            net: conversation(net),
            v6: e.v6,
            checksum: key_checksum(e),
            id: e.id,
            seq: e.seq,
        };
        if e.reply {
            let req = self.pending.remove(&key)?;
            if req.frame >= frame {
                return None;
            }
            let (ds, dn) = if nanos >= req.nanos {
                (secs - req.secs, nanos - req.nanos)
            } else {
                (secs - req.secs - 1, nanos + 1_000_000_000 - req.nanos)
            };
            return Some(Matched {
                request: req.frame,
                ms: ds as f64 * 1000.0 + f64::from(dn) / 1_000_000.0,
            });
        }
        if !self.pending.contains_key(&key) {
            self.evict();
        }
        self.pending.insert(key, Request { frame, secs, nanos });
        self.order.push_back((key, frame));
        if self.order.len() > 2 * MAX_PENDING_ECHOES {
            let pending = &self.pending;
            self.order
                .retain(|(k, f)| pending.get(k).is_some_and(|r| r.frame == *f));
        }
        None
    }

    /// Makes room for one more request.
    fn evict(&mut self) {
        while self.pending.len() >= MAX_PENDING_ECHOES {
            let Some((key, frame)) = self.order.pop_front() else {
                break;
            };
            if self.pending.get(&key).is_some_and(|r| r.frame == frame) {
                self.pending.remove(&key);
                self.dropped += 1;
            }
        }
    }

    /// Requests waiting for a reply.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];
    const C: [u8; 4] = [10, 0, 0, 3];

    fn v4(src: [u8; 4], dst: [u8; 4]) -> Net {
        Net::V4 { src, dst }
    }

    fn echo(v6: bool, reply: bool, checksum: u16, id: u16) -> Echo {
        Echo {
            v6,
            reply,
            id,
            seq: 1,
            checksum,
        }
    }

    /// Pairs one request and one reply with the given checksums; the frame matched, if any.
    fn pair(v6: bool, request: u16, reply: u16) -> Option<u64> {
        let mut t = EchoTable::default();
        assert!(t
            .process(&echo(v6, false, request, 7), v4(A, B), 1, 0, 0)
            .is_none());
        t.process(&echo(v6, true, reply, 7), v4(B, A), 2, 1, 0)
            .map(|m| m.request)
    }

    // The cases were checked against tshark 4.0.17 on a crafted capture.
    #[test]
    fn icmp_checksum_key() {
        assert_eq!(pair(false, 0x1000, 0x1800), Some(1));
        assert_eq!(pair(false, 0xf900, 0x0101), Some(1));
        assert_eq!(pair(false, 0xf7ff, 0xffff), Some(1));
        assert_eq!(pair(false, 0xf800, 0x0001), Some(1));
        assert_eq!(pair(false, 0x0000, 0x0800), Some(1));
        assert_eq!(pair(false, 0xffff, 0x0800), Some(1));
        assert_eq!(pair(false, 0x1000, 0x1234), None);
        assert_eq!(pair(false, 0xfffe, 0x0007), None);
    }

    #[test]
    fn icmpv6_checksum_key() {
        assert_eq!(pair(true, 0x1000, 0x0f00), Some(1));
        assert_eq!(pair(true, 0x0100, 0x0000), Some(1));
        // tshark adds without wrapping: these never match.
        assert_eq!(pair(true, 0x0050, 0xff50), None);
        assert_eq!(pair(true, 0x0000, 0xff00), None);
        assert_eq!(pair(true, 0x1000, 0x1234), None);
    }

    #[test]
    fn last_request_wins_and_replies_match_once() {
        let mut t = EchoTable::default();
        let (q, r) = (echo(false, false, 0x2000, 3), echo(false, true, 0x2800, 3));
        t.process(&q, v4(A, B), 29, 0, 0);
        t.process(&q, v4(A, B), 30, 0, 0);
        let m = t.process(&r, v4(B, A), 31, 1, 500_000).unwrap();
        assert_eq!(m.request, 30);
        assert_eq!(m.ms, 1000.5);
        assert!(t.process(&r, v4(B, A), 32, 1, 0).is_none());
    }

    #[test]
    fn conversation_is_the_address_pair() {
        let mut t = EchoTable::default();
        let (q, r) = (echo(false, false, 0x3000, 4), echo(false, true, 0x3800, 4));
        t.process(&q, v4(A, B), 1, 0, 0);
        assert!(t.process(&r, v4(C, A), 2, 0, 0).is_none());
        assert_eq!(t.process(&r, v4(B, A), 3, 0, 79_000).unwrap().ms, 0.079);
        // A reply in the request's own direction still pairs.
        t.process(&q, v4(A, B), 4, 0, 0);
        assert!(t.process(&r, v4(A, B), 5, 0, 0).is_some());
    }

    #[test]
    fn pending_requests_are_capped() {
        let mut t = EchoTable::default();
        for i in 0..MAX_PENDING_ECHOES as u64 + 10 {
            let mut q = echo(false, false, 0x1000, (i % 65_536) as u16);
            q.seq = (i / 65_536) as u16;
            t.process(&q, v4(A, B), i + 1, 0, 0);
        }
        assert_eq!(t.len(), MAX_PENDING_ECHOES);
        assert_eq!(t.dropped, 10);
        assert!(t.order.len() <= 2 * MAX_PENDING_ECHOES);
    }
}
