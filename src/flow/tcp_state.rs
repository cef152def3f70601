//! The state of each TCP endpoint as the wire shows it: RFC 9293's state machine, kept as a
//! timeline of transitions with the frame that caused each, and Zeek's one-word `conn_state`
//! summary of the connection.
//!
//! # RFC 9293 states from a sniffer's seat
//!
//! Both endpoints' states are inferred from the segments between them, assuming every segment
//! seen was delivered (a sniffer sees neither LISTEN nor a segment's loss). A segment moves its
//! sender when sent and its receiver when received, in the same frame:
//!
//! | segment | sender | receiver |
//! |---|---|---|
//! | SYN | CLOSED → SYN-SENT | SYN-SENT → SYN-RECEIVED (simultaneous open) |
//! | SYN/ACK | CLOSED or SYN-SENT → SYN-RECEIVED | SYN-SENT or SYN-RECEIVED → ESTABLISHED |
//! | ACK of the SYN/ACK | (SYN-SENT → ESTABLISHED if the SYN/ACK was missed) | SYN-RECEIVED → ESTABLISHED |
//! | ACK of a FIN | | FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT, LAST-ACK → CLOSED |
//! | FIN | ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK (→ CLOSING if it does not ACK the peer's FIN: a simultaneous close) | ESTABLISHED → CLOSE-WAIT, FIN-WAIT-1 → CLOSING, FIN-WAIT-2 → TIME-WAIT |
//! | RST | → CLOSED | → CLOSED |
//!
//! A segment's ACK is applied before its FIN (a FIN/ACK answering a FIN takes the first closer
//! through FIN-WAIT-2 to TIME-WAIT). Retransmissions change nothing. A connection picked up
//! mid-stream starts both endpoints in ESTABLISHED at its first segment. The timeline is
//! capped at [`MAX_TRANSITIONS`] entries per endpoint (what is dropped is counted).
//!
//! # Zeek's `conn_state`
//!
//! Each endpoint also gets Zeek's coarser state (inactive, SYN sent, SYN/ACK sent, partial,
//! established, closed, reset — from what it *sent*), and [`TcpState::conn_state`] maps the
//! pair to Zeek's vocabulary with the rules of Zeek's `conn_state` function: S0, S1, SF, REJ,
//! S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH.

use super::key::Side;
use netsniff_dissectors::TcpInfo;

/// Transitions remembered per endpoint (a connection has about six; more means a long
/// fight of SYNs or RSTs, which the count of dropped transitions shows).
pub const MAX_TRANSITIONS: usize = 16;

/// RFC 9293 §3.3.2 connection states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RfcState {
    /// Nothing seen yet (CLOSED or LISTEN).
    #[default]
    Closed,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl RfcState {
    /// The RFC's name.
    pub fn name(self) -> &'static str {
        match self {
            RfcState::Closed => "CLOSED",
            RfcState::SynSent => "SYN-SENT",
            RfcState::SynReceived => "SYN-RECEIVED",
            RfcState::Established => "ESTABLISHED",
            RfcState::FinWait1 => "FIN-WAIT-1",
            RfcState::FinWait2 => "FIN-WAIT-2",
            RfcState::CloseWait => "CLOSE-WAIT",
            RfcState::Closing => "CLOSING",
            RfcState::LastAck => "LAST-ACK",
            RfcState::TimeWait => "TIME-WAIT",
        }
    }
}

/// Zeek's endpoint states (from what the endpoint sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Zeek {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// One endpoint's view.
#[derive(Debug, Clone, Default)]
pub struct EndpointState {
    pub state: RfcState,
    /// `(frame, new state)`, oldest first.
    pub timeline: Vec<(u64, RfcState)>,
    zeek: Zeek,
    /// The acknowledgement number that acknowledges this endpoint's FIN.
    fin_ack: Option<u32>,
    fin_acked: bool,
    sent_syn: bool,
    sent_synack: bool,
    sent_fin: bool,
    /// Payload bytes sent.
    pub bytes: u64,
}

/// Both endpoints of a connection.
#[derive(Debug, Clone, Default)]
pub struct TcpState {
    /// Per side (index [`Side::index`]).
    pub ends: [EndpointState; 2],
    /// Whether any segment was seen (the first one decides mid-stream pickup).
    started: bool,
    /// Transitions not recorded because a timeline was full.
    pub dropped: u64,
    /// Keep no timelines (only a flow's history shows them; two allocations per connection
    /// otherwise).
    no_timeline: bool,
}

fn ack_covers(ack: u32, target: u32) -> bool {
    (ack.wrapping_sub(target) as i32) >= 0
}

impl TcpState {
    /// A connection's state; `timeline`: whether to keep each endpoint's transitions.
    pub fn new(timeline: bool) -> TcpState {
        TcpState {
            no_timeline: !timeline,
            ..TcpState::default()
        }
    }

    /// Whether the connection is over: both endpoints back in CLOSED (after a reset, or once
    /// the last FIN was acknowledged) or in TIME-WAIT.
    pub fn is_closed(&self) -> bool {
        self.started
            && self
                .ends
                .iter()
                .all(|e| matches!(e.state, RfcState::Closed | RfcState::TimeWait))
    }

    /// Heap bytes held (for the memory estimate).
    pub fn heap_bytes(&self) -> usize {
        self.ends
            .iter()
            .map(|e| e.timeline.capacity() * std::mem::size_of::<(u64, RfcState)>())
            .sum()
    }

    fn set(&mut self, side: usize, to: RfcState, frame: u64) {
        let Some(e) = self.ends.get_mut(side) else {
            return;
        };
        if e.state == to {
            return;
        }
        e.state = to;
        if self.no_timeline {
            return;
        }
        if e.timeline.len() < MAX_TRANSITIONS {
            e.timeline.push((frame, to));
        } else {
            self.dropped += 1;
        }
    }

    fn state(&self, side: usize) -> RfcState {
        self.ends.get(side).map_or(RfcState::Closed, |e| e.state)
    }

    /// Applies a segment sent by `side` in `frame` (`seglen` payload bytes).
    #[inline]
    pub fn segment(&mut self, side: Side, t: &TcpInfo, seglen: u32, frame: u64) {
        let (me, peer) = (side.index(), side.other().index());
        if self.moves_nothing(me, peer, t) {
            if let Some(e) = self.ends.get_mut(me) {
                e.bytes += u64::from(seglen);
            }
            return;
        }
        self.transition(me, peer, t, seglen, frame);
    }

    /// Whether a segment from `me` leaves every state as it is (only its bytes count), by the
    /// rules of [`TcpState::transition`]: no SYN, FIN or RST; its sender past Zeek's handshake
    /// states; and, when it acknowledges, no handshake step or unacknowledged FIN of the peer
    /// for the ACK to complete. Most segments of a connection are such, and skip the rest.
    fn moves_nothing(&self, me: usize, peer: usize, t: &TcpInfo) -> bool {
        let (Some(m), Some(p)) = (self.ends.get(me), self.ends.get(peer)) else {
            return false;
        };
        self.started
            && t.flags & (TcpInfo::SYN | TcpInfo::FIN | TcpInfo::RST) == 0
            && !matches!(m.zeek, Zeek::Inactive | Zeek::SynSent | Zeek::SynAckSent)
            && (!t.has(TcpInfo::ACK)
                || (m.state != RfcState::SynSent
                    && p.state != RfcState::SynReceived
                    && (p.fin_ack.is_none() || p.fin_acked)))
    }

    /// [`TcpState::segment`]'s rules, whatever the segment. Kept out of line: the short way
    /// around it then costs its caller a few instructions, not this body's set-up.
    #[inline(never)]
    fn transition(&mut self, me: usize, peer: usize, t: &TcpInfo, seglen: u32, frame: u64) {
        use RfcState::*;
        let (syn, ack, fin, rst) = (
            t.has(TcpInfo::SYN),
            t.has(TcpInfo::ACK),
            t.has(TcpInfo::FIN),
            t.has(TcpInfo::RST),
        );
        self.zeek(me, peer, syn, ack, fin, rst);
        if let Some(e) = self.ends.get_mut(me) {
            e.bytes += u64::from(seglen);
        }
        if !self.started {
            self.started = true;
            if !syn && !rst {
                // Picked up mid-stream.
                self.set(me, Established, frame);
                self.set(peer, Established, frame);
            }
        }
        if rst {
            self.set(me, Closed, frame);
            self.set(peer, Closed, frame);
            return;
        }
        if syn && !ack {
            if self.state(me) == Closed {
                self.set(me, SynSent, frame);
            }
            if self.state(peer) == SynSent {
                self.set(peer, SynReceived, frame);
            }
        } else if syn {
            if matches!(self.state(me), Closed | SynSent) {
                self.set(me, SynReceived, frame);
            }
            if matches!(self.state(peer), SynSent | SynReceived) {
                self.set(peer, Established, frame);
            }
        } else if ack {
            if self.state(me) == SynSent {
                self.set(me, Established, frame);
            }
            if self.state(peer) == SynReceived {
                self.set(peer, Established, frame);
            }
        }
        if ack {
            let covers = self
                .ends
                .get(peer)
                .and_then(|e| e.fin_ack.filter(|_| !e.fin_acked))
                .is_some_and(|f| ack_covers(t.ack, f));
            if covers {
                if let Some(e) = self.ends.get_mut(peer) {
                    e.fin_acked = true;
                }
                match self.state(peer) {
                    FinWait1 => self.set(peer, FinWait2, frame),
                    Closing => self.set(peer, TimeWait, frame),
                    LastAck => self.set(peer, Closed, frame),
                    _ => {}
                }
            }
        }
        if fin {
            let first = self.ends.get(me).is_some_and(|e| e.fin_ack.is_none());
            if first {
                let fin_ack = t
                    .seq
                    .wrapping_add(seglen)
                    .wrapping_add(u32::from(syn))
                    .wrapping_add(1);
                if let Some(e) = self.ends.get_mut(me) {
                    e.fin_ack = Some(fin_ack);
                }
                // A FIN that does not acknowledge the peer's FIN was sent before that FIN
                // arrived: a simultaneous close (RFC 9293 §3.6, case 2).
                let acks_peer_fin = self
                    .ends
                    .get(peer)
                    .and_then(|e| e.fin_ack)
                    .is_some_and(|f| ack && ack_covers(t.ack, f));
                match self.state(me) {
                    Established | SynReceived => self.set(me, FinWait1, frame),
                    CloseWait if !acks_peer_fin => self.set(me, Closing, frame),
                    CloseWait => self.set(me, LastAck, frame),
                    _ => {}
                }
                match self.state(peer) {
                    Established | SynReceived => self.set(peer, CloseWait, frame),
                    FinWait1 => self.set(peer, Closing, frame),
                    FinWait2 => self.set(peer, TimeWait, frame),
                    _ => {}
                }
            }
        }
    }

    /// Zeek's endpoint states, from what each endpoint sends.
    fn zeek(&mut self, me: usize, peer: usize, syn: bool, ack: bool, fin: bool, rst: bool) {
        let peer_state = self.ends.get(peer).map_or(Zeek::Inactive, |e| e.zeek);
        let Some(e) = self.ends.get_mut(me) else {
            return;
        };
        let mut establish_peer = false;
        if rst {
            e.zeek = Zeek::Reset;
        } else if e.zeek == Zeek::Reset {
            // A reset endpoint stays reset.
        } else if fin {
            e.sent_fin = true;
            e.zeek = Zeek::Closed;
        } else if syn && !ack {
            e.sent_syn = true;
            if e.zeek == Zeek::Inactive {
                e.zeek = Zeek::SynSent;
            }
        } else if syn {
            e.sent_synack = true;
            if matches!(e.zeek, Zeek::Inactive | Zeek::SynSent) {
                e.zeek = Zeek::SynAckSent;
            }
        } else {
            match e.zeek {
                Zeek::Inactive => e.zeek = Zeek::Partial,
                Zeek::SynSent | Zeek::SynAckSent
                    if matches!(
                        peer_state,
                        Zeek::SynSent | Zeek::SynAckSent | Zeek::Established
                    ) =>
                {
                    e.zeek = Zeek::Established;
                    establish_peer = matches!(peer_state, Zeek::SynSent | Zeek::SynAckSent);
                }
                _ => {}
            }
        }
        if establish_peer {
            if let Some(p) = self.ends.get_mut(peer) {
                p.zeek = Zeek::Established;
            }
        }
    }

    /// Zeek's `conn_state` of the connection whose originator is `client`.
    pub fn conn_state(&self, client: Side) -> &'static str {
        let (Some(o), Some(r)) = (
            self.ends.get(client.index()),
            self.ends.get(client.other().index()),
        ) else {
            return "OTH";
        };
        let (os, rs) = (o.zeek, r.zeek);
        let o_inactive = matches!(os, Zeek::Inactive | Zeek::Partial);
        let r_inactive = matches!(rs, Zeek::Inactive | Zeek::Partial);
        if rs == Zeek::Reset {
            if matches!(os, Zeek::SynSent | Zeek::SynAckSent)
                || (os == Zeek::Reset && o.bytes == 0 && r.bytes == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Zeek::Reset {
            if r_inactive {
                // Zeek: history `^S[^HAFGIQ]*R$` — a SYN, nothing answered, then the RST.
                if o.sent_syn && rs == Zeek::Inactive && !o.sent_fin {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Zeek::Closed && os == Zeek::Closed {
            "SF"
        } else if os == Zeek::Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Zeek::Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if os == Zeek::SynSent && rs == Zeek::Inactive {
            "S0"
        } else if os == Zeek::Established && rs == Zeek::Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RfcState::*;
    use super::*;

    const S: u16 = TcpInfo::SYN;
    const A: u16 = TcpInfo::ACK;
    const F: u16 = TcpInfo::FIN;
    const R: u16 = TcpInfo::RST;
    const C: Side = Side::Lo;
    const V: Side = Side::Hi;

    /// `(sender, flags, seq, ack, payload length)`.
    type Seg = (Side, u16, u32, u32, u32);

    /// Replays segments and returns the final states and conn_state.
    fn run(segs: &[Seg]) -> (TcpState, RfcState, RfcState, &'static str) {
        let mut st = TcpState::default();
        for (i, (side, flags, seq, ack, len)) in segs.iter().enumerate() {
            let t = TcpInfo {
                flags: *flags,
                seq: *seq,
                ack: *ack,
                ..TcpInfo::default()
            };
            st.segment(*side, &t, *len, i as u64 + 1);
        }
        let (c, s) = (st.ends[C.index()].state, st.ends[V.index()].state);
        let cs = st.conn_state(C);
        (st, c, s, cs)
    }

    const HANDSHAKE: [Seg; 3] = [
        (C, S, 100, 0, 0),
        (V, S | A, 500, 101, 0),
        (C, A, 101, 501, 0),
    ];

    #[test]
    fn three_way_handshake() {
        let (st, c, s, cs) = run(&HANDSHAKE);
        assert_eq!((c, s, cs), (Established, Established, "S1"));
        assert_eq!(st.ends[0].timeline, vec![(1, SynSent), (2, Established)]);
        assert_eq!(
            st.ends[1].timeline,
            vec![(2, SynReceived), (3, Established)]
        );
    }

    #[test]
    fn orderly_close_by_client() {
        let mut segs = HANDSHAKE.to_vec();
        segs.extend([
            (C, F | A, 101, 501, 0), // client FIN-WAIT-1, server CLOSE-WAIT
            (V, A, 501, 102, 0),     // client FIN-WAIT-2
            (V, F | A, 501, 102, 0), // server LAST-ACK, client TIME-WAIT
            (C, A, 102, 502, 0),     // server CLOSED
        ]);
        let (st, c, s, cs) = run(&segs);
        assert_eq!((c, s, cs), (TimeWait, Closed, "SF"));
        assert_eq!(
            st.ends[0].timeline,
            vec![
                (1, SynSent),
                (2, Established),
                (4, FinWait1),
                (5, FinWait2),
                (6, TimeWait)
            ]
        );
        assert_eq!(
            st.ends[1].timeline,
            vec![
                (2, SynReceived),
                (3, Established),
                (4, CloseWait),
                (6, LastAck),
                (7, Closed)
            ]
        );
    }

    #[test]
    fn fin_ack_answering_a_fin() {
        let mut segs = HANDSHAKE.to_vec();
        segs.extend([
            (C, F | A, 101, 501, 0),
            (V, F | A, 501, 102, 0),
            (C, A, 102, 502, 0),
        ]);
        let (st, c, s, _) = run(&segs);
        assert_eq!((c, s), (TimeWait, Closed));
        assert!(st.ends[0].timeline.contains(&(5, FinWait2)));
    }

    #[test]
    fn simultaneous_close() {
        let mut segs = HANDSHAKE.to_vec();
        segs.extend([
            (C, F | A, 101, 501, 0), // both send FIN before seeing the other's
            (V, F | A, 501, 101, 0),
            (C, A, 102, 502, 0),
            (V, A, 502, 102, 0),
        ]);
        let (st, c, s, cs) = run(&segs);
        assert_eq!((c, s, cs), (TimeWait, TimeWait, "SF"));
        assert!(st.ends[0].timeline.contains(&(5, Closing)));
        assert!(st.ends[1].timeline.contains(&(5, Closing)));
        assert!(st.ends[1].timeline.contains(&(6, TimeWait)));
        assert!(st.ends[0].timeline.contains(&(7, TimeWait)));
    }

    #[test]
    fn simultaneous_open() {
        let segs = [
            (C, S, 100, 0, 0),
            (V, S, 500, 0, 0),
            (C, S | A, 100, 501, 0),
            (V, S | A, 500, 101, 0),
        ];
        let (st, c, s, _) = run(&segs);
        assert_eq!((c, s), (Established, Established));
        assert_eq!(
            st.ends[0].timeline,
            vec![(1, SynSent), (2, SynReceived), (4, Established)]
        );
        assert_eq!(st.ends[1].timeline, vec![(2, SynSent), (3, Established)]);
    }

    #[test]
    fn half_close_keeps_the_other_direction_open() {
        let mut segs = HANDSHAKE.to_vec();
        segs.extend([
            (C, F | A, 101, 501, 0),
            (V, A, 501, 102, 0),
            (V, A, 501, 102, 100), // server keeps sending
        ]);
        let (_, c, s, cs) = run(&segs);
        assert_eq!((c, s, cs), (FinWait2, CloseWait, "S2"));
    }

    #[test]
    fn syn_retransmission_changes_nothing() {
        let (st, c, s, cs) = run(&[(C, S, 100, 0, 0), (C, S, 100, 0, 0), (C, S, 100, 0, 0)]);
        assert_eq!((c, s, cs), (SynSent, Closed, "S0"));
        assert_eq!(st.ends[0].timeline.len(), 1);
    }

    #[test]
    fn rejected_connection() {
        let (_, c, s, cs) = run(&[(C, S, 100, 0, 0), (V, R | A, 0, 101, 0)]);
        assert_eq!((c, s, cs), (Closed, Closed, "REJ"));
    }

    #[test]
    fn rst_in_each_state() {
        // (prefix of a connection, who resets) → expected conn_state
        let mut est = HANDSHAKE.to_vec();
        est.push((C, A, 101, 501, 10));
        let cases: Vec<(Vec<Seg>, Side, &str)> = vec![
            (vec![(C, S, 100, 0, 0)], C, "RSTOS0"),
            (vec![(C, S, 100, 0, 0), (V, S | A, 500, 101, 0)], V, "REJ"),
            (HANDSHAKE.to_vec(), C, "RSTO"),
            (est.clone(), V, "RSTR"),
            (
                {
                    let mut v = est.clone();
                    v.push((C, F | A, 111, 501, 0));
                    v
                },
                V,
                "RSTR",
            ),
            (
                {
                    let mut v = est.clone();
                    v.push((V, F | A, 501, 111, 0));
                    v
                },
                C,
                "RSTO",
            ),
        ];
        for (prefix, who, want) in cases {
            let mut segs = prefix.clone();
            segs.push((who, R, 0, 0, 0));
            let (_, c, s, cs) = run(&segs);
            assert_eq!((c, s), (Closed, Closed), "{prefix:?}");
            assert_eq!(cs, want, "{prefix:?} reset by {who:?}");
        }
    }

    #[test]
    fn mid_stream_pickup() {
        let (st, c, s, cs) = run(&[(C, A, 5000, 9000, 100), (V, A, 9000, 5100, 0)]);
        assert_eq!((c, s), (Established, Established));
        assert_eq!(cs, "OTH");
        assert_eq!(st.ends[0].timeline, vec![(1, Established)]);
    }

    #[test]
    fn half_open_variants() {
        // SYN then FIN, no answer.
        assert_eq!(run(&[(C, S, 1, 0, 0), (C, F, 2, 0, 0)]).3, "SH");
        // SYN/ACK then FIN from a responder whose SYN was not seen.
        assert_eq!(run(&[(V, S | A, 1, 1, 0), (V, F | A, 2, 1, 0)]).3, "SHR");
        // Responder resets after a SYN/ACK, the SYN never seen.
        assert_eq!(run(&[(V, S | A, 1, 1, 0), (V, R, 2, 0, 0)]).3, "RSTRH");
        let mut segs = HANDSHAKE.to_vec();
        segs.push((V, F | A, 501, 101, 0));
        assert_eq!(run(&segs).3, "S3");
    }

    /// The short way for segments that move nothing leaves exactly what the full rules leave,
    /// over many random conversations (every flag combination, ACKs that do and do not cover
    /// a FIN, both timeline settings).
    #[test]
    fn the_short_way_changes_nothing_the_full_rules_would() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for run_no in 0..4000 {
            let timeline = run_no % 2 == 0;
            let (mut fast, mut full) = (TcpState::new(timeline), TcpState::new(timeline));
            let mut seqs = [100u32, 500u32];
            for frame in 0..12 {
                let r = next();
                let side = if r & 1 == 0 { C } else { V };
                // Mostly bare ACKs, as on the wire; now and then a SYN, FIN or RST.
                let flags = match (r >> 1) % 8 {
                    0 => ((r >> 4) as u16) & (S | A | F | R),
                    1 => A | F,
                    _ => A,
                };
                let len = ((r >> 8) % 3) as u32;
                let me = side.index();
                let peer = side.other().index();
                let seq = seqs[me];
                // The ACK covers the peer's next byte, one short of it, or one past it.
                let ack = seqs[peer]
                    .wrapping_add(((r >> 12) % 3) as u32)
                    .wrapping_sub(1);
                seqs[me] = seq.wrapping_add(len + u32::from(flags & (S | F) != 0));
                let t = TcpInfo {
                    flags,
                    seq,
                    ack,
                    ..TcpInfo::default()
                };
                fast.segment(side, &t, len, frame);
                full.transition(me, peer, &t, len, frame);
                assert_eq!(format!("{fast:?}"), format!("{full:?}"), "run {run_no}");
            }
        }
    }

    #[test]
    fn timeline_is_capped() {
        let mut segs = Vec::new();
        for i in 0..40u32 {
            segs.push((C, S, i * 10, 0, 0));
            segs.push((V, R, 0, 0, 0));
        }
        let (st, ..) = run(&segs);
        assert_eq!(st.ends[0].timeline.len(), MAX_TRANSITIONS);
        assert!(st.dropped > 0);
    }
}
