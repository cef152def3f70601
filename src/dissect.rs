//! One frame through the dissector registry, then IPv4/IPv6 defragmentation.
//!
//! Dissection itself is the `netsniff-dissectors` crate's; this stage owns the one piece of
//! L3 state, the fragment table, so that the frame completing a datagram is dissected down to
//! its transport as Wireshark does (`ip.defragment` on), and the earlier fragments show as data.

use netsniff_dissectors::proto::{self, data};
use netsniff_dissectors::{Cx, FragInfo, FrameMeta, Net, Next, PacketInfo, Table};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// The largest datagram reassembled: the IPv4/IPv6 length fields' limit.
pub const MAX_DATAGRAM: u32 = 65_535;
/// Datagrams being reassembled at once; the oldest is dropped beyond this.
pub const MAX_PENDING_DATAGRAMS: usize = 4096;
/// Fragments a datagram's `-V` tree lists at most (a datagram of 64 KiB in 8-byte fragments
/// would have 8192).
const MAX_FRAGMENTS_LISTED: usize = 1024;
/// Bytes held for unfinished datagrams; the oldest are dropped beyond this.
pub const MAX_PENDING_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DatagramKey {
    net: Net,
    id: u32,
    proto: u8,
}

#[derive(Debug, Default)]
struct Pending {
    buf: Vec<u8>,
    /// Byte ranges present, unordered.
    have: Vec<(u32, u32)>,
    /// Total length, known once the last fragment arrived.
    total: Option<u32>,
    /// The fragments' frames, offsets and lengths (for the `-V` tree), in arrival order.
    frames: Vec<(u64, u32, u32)>,
}

impl Pending {
    fn complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        let mut ranges = self.have.clone();
        ranges.sort_unstable();
        let mut covered = 0u32;
        for (start, end) in ranges {
            if start > covered {
                return false;
            }
            covered = covered.max(end);
        }
        covered >= total
    }
}

/// IPv4 and IPv6 fragment reassembly with bounded memory.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: FxHashMap<DatagramKey, Pending>,
    order: VecDeque<DatagramKey>,
    bytes: usize,
    /// The last datagram completed (lent to the caller until the next call).
    done: Vec<u8>,
    /// Its fragments (frame, offset, length), in offset order.
    pub done_frames: Vec<(u64, u32, u32)>,
    /// Fragments dropped by a cap (reported in the run summary).
    pub dropped: u64,
}

impl Defragmenter {
    /// Adds a fragment; returns the whole datagram when this fragment completes it.
    pub fn add(&mut self, net: Net, frag: &FragInfo, frame: u64, data: &[u8]) -> Option<&[u8]> {
        self.add_fragment(net, frag, frame, data)
            .then_some(self.done.as_slice())
    }

    /// [`Defragmenter::add`], saying only whether a datagram completed (it is then in
    /// `done`, its fragments in `done_frames`).
    fn add_fragment(&mut self, net: Net, frag: &FragInfo, frame: u64, data: &[u8]) -> bool {
        self.add_inner(net, frag, frame, data).is_some()
    }

    fn add_inner(&mut self, net: Net, frag: &FragInfo, frame: u64, data: &[u8]) -> Option<()> {
        let end = frag.offset.checked_add(u32::try_from(data.len()).ok()?)?;
        if end > MAX_DATAGRAM {
            self.dropped += 1;
            return None;
        }
        let key = DatagramKey {
            net,
            id: frag.id,
            proto: frag.proto,
        };
        if !self.pending.contains_key(&key) {
            self.evict_for(data.len());
            self.order.push_back(key);
        }
        let p = self.pending.entry(key).or_default();
        let (start, end_us) = (frag.offset as usize, end as usize);
        if p.buf.len() < end_us {
            self.bytes += end_us - p.buf.len();
            p.buf.resize(end_us, 0);
        }
        if let Some(dst) = p.buf.get_mut(start..end_us) {
            dst.copy_from_slice(data);
        }
        // A fragment cut by the snapshot length leaves its missing bytes as a hole for good.
        p.have.push((frag.offset, end));
        if p.frames.len() < MAX_FRAGMENTS_LISTED {
            p.frames.push((frame, frag.offset, end - frag.offset));
        }
        if !frag.more {
            p.total = Some(frag.offset.saturating_add(frag.claimed_len));
        }
        if !p.complete() {
            return None;
        }
        let mut p = self.pending.remove(&key)?;
        self.order.retain(|k| k != &key);
        self.bytes = self.bytes.saturating_sub(p.buf.len());
        p.buf.truncate(p.total.unwrap_or(0) as usize);
        self.done = p.buf;
        p.frames.sort_unstable_by_key(|&(_, off, _)| off);
        self.done_frames = p.frames;
        Some(())
    }

    fn evict_for(&mut self, incoming: usize) {
        while self.order.len() >= MAX_PENDING_DATAGRAMS
            || (self.bytes + incoming > MAX_PENDING_BYTES && !self.order.is_empty())
        {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(p) = self.pending.remove(&old) {
                self.bytes = self.bytes.saturating_sub(p.buf.len());
                self.dropped += p.have.len() as u64;
            }
        }
    }
}

/// The dissect stage.
#[derive(Debug, Default)]
pub struct Dissect {
    pub defrag: Defragmenter,
}

impl Dissect {
    pub fn new() -> Dissect {
        Dissect::default()
    }

    /// Dissects `frame` from the link layer to the transport, reassembling IP fragments.
    /// Returns the transport payload for the flow engine: a slice of the frame, or of the
    /// reassembled datagram when this frame completed one.
    pub fn frame<'a>(
        &'a mut self,
        meta: &FrameMeta,
        interface: Option<netsniff_dissectors::pinfo::CaptureInterface<'_>>,
        frame: &'a [u8],
        pi: &mut PacketInfo,
        cx: &mut Cx<'_>,
    ) -> &'a [u8] {
        proto::dissect_frame_on(meta, interface, frame, pi, cx);
        let Some(frag) = pi.fragment else {
            return pi.payload(frame);
        };
        let start = frag.data_start as usize;
        let piece = frame
            .get(start..start.saturating_add(frag.data_len as usize))
            .unwrap_or(&[]);
        if !self.defrag.add_fragment(pi.net, &frag, meta.number, piece) {
            data::dissect(piece, start, cx);
            return &[];
        }
        let datagram: &'a [u8] = &self.defrag.done;
        let defs = match pi.net {
            Net::V6 { .. } => &netsniff_dissectors::proto::ipv6::FRAGMENT_DEFS,
            _ => &netsniff_dissectors::proto::ip::FRAGMENT_DEFS,
        };
        netsniff_dissectors::proto::ip::fragments_tree(
            cx,
            defs,
            &self.defrag.done_frames,
            datagram,
        );
        pi.fragment = None;
        pi.l4_claimed_len = u32::try_from(datagram.len()).ok();
        let next = Next::Dispatch {
            table: Table::IpProto,
            key: u32::from(frag.proto),
            data: datagram,
            offset: 0,
        };
        proto::dissect_from(next, pi, cx);
        pi.payload(datagram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(offset: u32, more: bool, len: u32) -> FragInfo {
        FragInfo {
            id: 7,
            offset,
            more,
            proto: 17,
            data_start: 0,
            data_len: len,
            claimed_len: len,
        }
    }

    #[test]
    fn reassembles_out_of_order() {
        let mut d = Defragmenter::default();
        let net = Net::V4 {
            src: [1; 4],
            dst: [2; 4],
        };
        assert!(d.add(net, &frag(8, false, 4), 1, &[3, 3, 3, 3]).is_none());
        assert!(d
            .add(net, &frag(0, true, 8), 2, &[1; 8])
            .is_some_and(|dg| dg.len() == 12));
        assert!(d.pending.is_empty());
    }

    #[test]
    fn oversized_and_truncated_fragments_never_complete() {
        let mut d = Defragmenter::default();
        let net = Net::None;
        assert!(d.add(net, &frag(65_530, false, 10), 1, &[0; 10]).is_none());
        assert_eq!(d.dropped, 1);
        let mut cut = frag(0, false, 4);
        cut.claimed_len = 100;
        assert!(d.add(net, &cut, 1, &[0; 4]).is_none());
    }

    #[test]
    fn pending_datagrams_are_capped() {
        let mut d = Defragmenter::default();
        for id in 0..(MAX_PENDING_DATAGRAMS as u32 + 10) {
            let mut f = frag(0, true, 8);
            f.id = id;
            d.add(Net::None, &f, 1, &[0; 8]);
        }
        assert_eq!(d.pending.len(), MAX_PENDING_DATAGRAMS);
        assert_eq!(d.dropped, 10);
    }
}
