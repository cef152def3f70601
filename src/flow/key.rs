//! Flow keys: the bidirectional 5-tuple (plus VLAN ids) that names a TCP or UDP conversation.
//!
//! A key is canonical — its two endpoints are stored in a fixed order ([`Side::Lo`] is the
//! smaller address/port pair) — so both directions of a conversation find the same entry. Which
//! side sent a packet travels beside the key as a [`Side`]. Client and server roles are a
//! different matter, decided by the flow engine from the handshake (see `table.rs`).

use netsniff_dissectors::{Net, PacketInfo, Transport};
use std::fmt;

/// The transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4 {
    Tcp,
    Udp,
}

impl L4 {
    /// Wireshark's protocol name.
    pub fn name(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
        }
    }
}

/// A network address (IPv4 or IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// IPv4 before IPv6, then the bytes in order (as the derived order would), compared as whole
/// numbers: every frame orders its two endpoints, and the byte arrays went through `memcmp`.
impl Ord for Addr {
    fn cmp(&self, other: &Addr) -> std::cmp::Ordering {
        match (self, other) {
            (Addr::V4(a), Addr::V4(b)) => u32::from_be_bytes(*a).cmp(&u32::from_be_bytes(*b)),
            (Addr::V6(a), Addr::V6(b)) => u128::from_be_bytes(*a).cmp(&u128::from_be_bytes(*b)),
            (Addr::V4(_), Addr::V6(_)) => std::cmp::Ordering::Less,
            (Addr::V6(_), Addr::V4(_)) => std::cmp::Ordering::Greater,
        }
    }
}

impl PartialOrd for Addr {
    fn partial_cmp(&self, other: &Addr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Addr::V4(a) => std::net::Ipv4Addr::from(a).fmt(f),
            Addr::V6(a) => std::net::Ipv6Addr::from(a).fmt(f),
        }
    }
}

/// One end of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: Addr,
    pub port: u16,
}

impl Addr {
    /// Appends the address as [`fmt::Display`] writes it, without `core::fmt` (tables of a
    /// million conversations write two per row).
    pub fn push_text(&self, out: &mut String) {
        match *self {
            Addr::V4(a) => netsniff_dissectors::text::push_ipv4(out, a),
            Addr::V6(a) => netsniff_dissectors::text::push_ipv6(out, a),
        }
    }
}

impl Endpoint {
    /// Appends the endpoint as [`fmt::Display`] writes it.
    pub fn push_text(&self, out: &mut String) {
        self.addr.push_text(out);
        out.push(':');
        netsniff_dissectors::text::push_int(out, self.port);
    }
}

impl fmt::Display for Endpoint {
    /// `10.0.0.1:80`, and `fd00::1:80` for IPv6 (tshark's conversation tables use no brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.addr, self.port)
    }
}

/// Which of the key's two endpoints sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The smaller endpoint (address, then port).
    Lo,
    Hi,
}

impl Side {
    /// 0 for [`Side::Lo`], 1 for [`Side::Hi`]: an index for per-side state.
    pub fn index(self) -> usize {
        match self {
            Side::Lo => 0,
            Side::Hi => 1,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Lo => Side::Hi,
            Side::Hi => Side::Lo,
        }
    }
}

/// The canonical key of a conversation. As tshark 4.0's conversations, it holds addresses
/// and ports only: the same packet seen on two VLANs (a trunk capture) is one flow, its second
/// copy a retransmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    pub l4: L4,
    pub lo: Endpoint,
    pub hi: Endpoint,
}

/// Hashed as a few whole words: every frame looks its flow up, and the derived `Hash` fed the
/// hasher field by field, each byte array with its length (about 2 % of stage two's time).
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let meta = hash_meta(self.l4, self.lo.port, self.hi.port);
        match (&self.lo.addr, &self.hi.addr) {
            (Addr::V4(lo), Addr::V4(hi)) => {
                hash_v4(h, u32::from_be_bytes(*lo), u32::from_be_bytes(*hi), meta);
            }
            (lo, hi) => {
                for a in [lo, hi] {
                    match a {
                        Addr::V4(v4) => h.write_u64(u64::from(u32::from_be_bytes(*v4))),
                        Addr::V6(v6) => {
                            let whole = u128::from_be_bytes(*v6);
                            h.write_u64((whole >> 64) as u64);
                            h.write_u64(whole as u64);
                        }
                    }
                }
                h.write_u64(meta | (1 << 61));
            }
        }
    }
}

/// The word of a key's hash that holds its protocol and ports.
fn hash_meta(l4: L4, lo_port: u16, hi_port: u16) -> u64 {
    u64::from(lo_port) | (u64::from(hi_port) << 16) | ((l4 as u64) << 62)
}

/// How a key of two IPv4 addresses (as big-endian numbers) is hashed: shared by the `Hash`
/// impl and [`Keyed::of`]'s IPv4 path, so that both give the same hash.
fn hash_v4<H: std::hash::Hasher>(h: &mut H, lo: u32, hi: u32, meta: u64) {
    h.write_u64((u64::from(lo) << 32) | u64::from(hi));
    h.write_u64(meta);
}

/// The flow protocol and the source and destination ports of a TCP or UDP header.
fn ports(transport: &Transport) -> Option<(L4, u16, u16)> {
    match transport {
        Transport::Tcp(t) => Some((L4::Tcp, t.src_port, t.dst_port)),
        Transport::Udp(u) => Some((L4::Udp, u.src_port, u.dst_port)),
        Transport::None => None,
    }
}

impl FlowKey {
    /// The key of a dissected packet and the side that sent it; `None` without an IP layer and
    /// a TCP or UDP header.
    pub fn of(pi: &PacketInfo) -> Option<(FlowKey, Side)> {
        FlowKey::of_parts(&pi.transport, &pi.net)
    }

    /// The key of the TCP or UDP header quoted inside an ICMP error (`pi.quoted_transport`
    /// with the quoted IP header's addresses).
    pub fn of_quoted(pi: &PacketInfo) -> Option<(FlowKey, Side)> {
        FlowKey::of_parts(&pi.quoted_transport, &pi.inner_net)
    }

    fn of_parts(transport: &Transport, net: &Net) -> Option<(FlowKey, Side)> {
        let (l4, sport, dport) = ports(transport)?;
        let (src, dst) = match *net {
            Net::V4 { src, dst } => (Addr::V4(src), Addr::V4(dst)),
            Net::V6 { src, dst } => (Addr::V6(src), Addr::V6(dst)),
            Net::None => return None,
        };
        Some(FlowKey::new(
            l4,
            Endpoint {
                addr: src,
                port: sport,
            },
            Endpoint {
                addr: dst,
                port: dport,
            },
        ))
    }

    /// The key of a packet from `src` to `dst`, and the side `src` is on.
    pub fn new(l4: L4, src: Endpoint, dst: Endpoint) -> (FlowKey, Side) {
        if src <= dst {
            (
                FlowKey {
                    l4,
                    lo: src,
                    hi: dst,
                },
                Side::Lo,
            )
        } else {
            (
                FlowKey {
                    l4,
                    lo: dst,
                    hi: src,
                },
                Side::Hi,
            )
        }
    }

    /// The endpoint on `side`.
    pub fn endpoint(&self, side: Side) -> Endpoint {
        match side {
            Side::Lo => self.lo,
            Side::Hi => self.hi,
        }
    }

    /// The key's hash in the flow table.
    pub fn hash64(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// A frame's flow key, the side that sent it, and the key's hash: worked out on whichever
/// thread is the less busy, beside the dissection when the flow engine parses applications
/// (its thread is then the busier one), beside the flow engine otherwise (`run::read_packets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed {
    pub key: FlowKey,
    pub side: Side,
    pub hash: u64,
}

impl Keyed {
    /// The key of a dissected packet (see [`FlowKey::of`]).
    #[inline]
    pub fn of(pi: &PacketInfo) -> Option<Keyed> {
        let Net::V4 { src, dst } = pi.net else {
            return Keyed::of_general(pi);
        };
        let (l4, sport, dport) = ports(&pi.transport)?;
        Some(Keyed::of_v4(l4, (src, sport), (dst, dport)))
    }

    /// [`Keyed::of`] for IPv6 and frames without IP: kept out of line, so that the IPv4 path
    /// stays small enough to inline.
    #[inline(never)]
    fn of_general(pi: &PacketInfo) -> Option<Keyed> {
        FlowKey::of(pi).map(|(key, side)| Keyed::new(key, side))
    }

    /// [`Keyed::of`] for IPv4, nearly every frame: each endpoint is ordered as one number
    /// (address, then port, as `Endpoint`'s order) and hashed without building the key first
    /// (building, ordering and hashing the general way cost about 90 instructions a frame).
    #[inline]
    fn of_v4(l4: L4, src: ([u8; 4], u16), dst: ([u8; 4], u16)) -> Keyed {
        let number = |(addr, port): ([u8; 4], u16)| {
            (u64::from(u32::from_be_bytes(addr)) << 16) | u64::from(port)
        };
        let (s, d) = (number(src), number(dst));
        let (lo, hi, side) = if s <= d {
            (src, dst, Side::Lo)
        } else {
            (dst, src, Side::Hi)
        };
        let mut h = rustc_hash::FxHasher::default();
        hash_v4(
            &mut h,
            u32::from_be_bytes(lo.0),
            u32::from_be_bytes(hi.0),
            hash_meta(l4, lo.1, hi.1),
        );
        let endpoint = |(addr, port): ([u8; 4], u16)| Endpoint {
            addr: Addr::V4(addr),
            port,
        };
        Keyed {
            key: FlowKey {
                l4,
                lo: endpoint(lo),
                hi: endpoint(hi),
            },
            side,
            hash: std::hash::Hasher::finish(&h),
        }
    }

    pub fn new(key: FlowKey, side: Side) -> Keyed {
        Keyed {
            key,
            side,
            hash: key.hash64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint {
            addr: Addr::V4([10, 0, 0, last]),
            port,
        }
    }

    #[test]
    fn both_directions_share_a_key() {
        let (k1, s1) = FlowKey::new(L4::Tcp, ep(1, 40000), ep(2, 80));
        let (k2, s2) = FlowKey::new(L4::Tcp, ep(2, 80), ep(1, 40000));
        assert_eq!(k1, k2);
        assert_eq!((s1, s2), (Side::Lo, Side::Hi));
        // Same addresses: the port decides.
        let (k3, s3) = FlowKey::new(L4::Tcp, ep(1, 7000), ep(1, 40606));
        assert_eq!((k3.lo.port, s3), (7000, Side::Lo));
    }

    #[test]
    fn addresses_order_as_their_bytes() {
        let v6 = |b: u8| Addr::V6([b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert!(Addr::V4([10, 0, 0, 2]) < Addr::V4([10, 0, 1, 1]));
        assert!(Addr::V4([9, 255, 255, 255]) < Addr::V4([10, 0, 0, 0]));
        assert!(Addr::V4([255, 255, 255, 255]) < v6(0));
        assert!(v6(0xfd) < v6(0xfe) && v6(0xfe) > Addr::V4([1, 2, 3, 4]));
        assert_eq!(v6(1).cmp(&v6(1)), std::cmp::Ordering::Equal);
    }

    #[test]
    fn protocol_splits_flows() {
        let (a, _) = FlowKey::new(L4::Udp, ep(1, 1), ep(2, 2));
        let (c, _) = FlowKey::new(L4::Tcp, ep(1, 1), ep(2, 2));
        assert_ne!(a, c);
    }

    #[test]
    fn display_like_tshark() {
        assert_eq!(ep(1, 80).to_string(), "10.0.0.1:80");
        let v6 = Endpoint {
            addr: Addr::V6([0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            port: 52990,
        };
        assert_eq!(v6.to_string(), "fd00:10::1:52990");
    }

    /// The IPv4 path of `Keyed::of` gives the key, side and hash of the general one, and
    /// the hash is the one the flow table has always used (whole words of the key, fed to
    /// `FxHasher`), whatever the order of the addresses and ports.
    #[test]
    fn keyed_of_v4_agrees_with_the_general_key() {
        use netsniff_dissectors::{TcpInfo, UdpInfo};
        use std::hash::Hasher;
        let reference = |k: &FlowKey| {
            let word = |a: &[u8]| a.iter().fold(0u64, |w, b| (w << 8) | u64::from(*b));
            let mut h = rustc_hash::FxHasher::default();
            let meta = u64::from(k.lo.port) | (u64::from(k.hi.port) << 16) | ((k.l4 as u64) << 62);
            match (k.lo.addr, k.hi.addr) {
                (Addr::V4(lo), Addr::V4(hi)) => {
                    h.write_u64((word(&lo) << 32) | word(&hi));
                    h.write_u64(meta);
                }
                (lo, hi) => {
                    for a in [lo, hi] {
                        match a {
                            Addr::V4(v4) => h.write_u64(word(&v4)),
                            Addr::V6(v6) => {
                                h.write_u64(word(&v6[..8]));
                                h.write_u64(word(&v6[8..]));
                            }
                        }
                    }
                    h.write_u64(meta | (1 << 61));
                }
            }
            h.finish()
        };
        let addrs = [
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            [192, 168, 1, 1],
            [255, 0, 0, 0],
            [1, 2, 3, 4],
        ];
        let ports = [0u16, 53, 443, 40000, 65535];
        for (src, dst) in addrs
            .iter()
            .flat_map(|a| addrs.iter().map(move |b| (*a, *b)))
        {
            for (sp, dp) in ports
                .iter()
                .flat_map(|a| ports.iter().map(move |b| (*a, *b)))
            {
                for tcp in [false, true] {
                    let transport = if tcp {
                        Transport::Tcp(TcpInfo {
                            src_port: sp,
                            dst_port: dp,
                            ..TcpInfo::default()
                        })
                    } else {
                        Transport::Udp(UdpInfo {
                            src_port: sp,
                            dst_port: dp,
                            length: 8,
                        })
                    };
                    let pi = PacketInfo {
                        net: Net::V4 { src, dst },
                        transport,
                        ..PacketInfo::default()
                    };
                    let (key, side) = FlowKey::of(&pi).expect("a key");
                    let keyed = Keyed::of(&pi).expect("a key");
                    assert_eq!(keyed, Keyed::new(key, side));
                    assert_eq!(keyed.hash, reference(&key));
                }
            }
        }
        let v6 = |b: u8| [0xfd, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 9, b];
        let pi = PacketInfo {
            net: Net::V6 {
                src: v6(2),
                dst: v6(1),
            },
            transport: Transport::Udp(UdpInfo {
                src_port: 5,
                dst_port: 6,
                length: 8,
            }),
            ..PacketInfo::default()
        };
        let keyed = Keyed::of(&pi).expect("a key");
        assert_eq!(keyed.side, Side::Hi);
        assert_eq!(keyed.hash, reference(&keyed.key));
        let mixed = FlowKey::new(
            L4::Tcp,
            ep(1, 2),
            Endpoint {
                addr: Addr::V6(v6(3)),
                port: 4,
            },
        )
        .0;
        assert_eq!(mixed.hash64(), reference(&mixed));
        assert_eq!(Keyed::of(&PacketInfo::default()), None);
    }
}
