//! Per-frame facts: what the capture says about a frame ([`FrameMeta`]), what L2–L4 dissection
//! found ([`PacketInfo`], read by the flow engine), and the summary columns ([`Columns`]).
//!
//! Everything here is plain `Copy` data except [`Columns`], whose info text is a reused buffer.

/// A capture link type (the `LINKTYPE_*` registry of tcpdump.org). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (the version nibble tells IPv4 from IPv6).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Not a link type: the records Wireshark makes of pcapng custom blocks (their bytes are
    /// shown as data). Outside the 16-bit `LINKTYPE_*` range, so it cannot collide.
    pub const PCAPNG_CUSTOM: LinkType = LinkType(0x1_0000);

    /// The name tcpdump prints for this link type.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            LinkType::PCAPNG_CUSTOM => "PCAPNG_CUSTOM",
            _ => "unknown",
        }
    }
}

/// What the capture file (or live capture) says about one frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameMeta {
    /// 1-based frame number, as Wireshark counts.
    pub number: u64,
    /// Seconds since the epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Time since the first frame of the capture.
    pub rel_secs: i64,
    pub rel_nanos: u32,
    /// Time since the previous frame (0 for the first). Sources leave it 0; the pipeline
    /// fills it in, so that every source gets it the same way.
    pub delta_secs: i64,
    pub delta_nanos: u32,
    /// Length on the wire.
    pub len: u32,
    /// Bytes captured (at most `len`).
    pub cap_len: u32,
    pub link_type: LinkType,
    /// pcapng interface index; `None` for classic pcap files, which have no interfaces (tshark
    /// then shows no `frame.interface_id`).
    pub interface_id: Option<u32>,
    /// pcapng section number, 1 for the first (tshark's `frame.section_number`); `None` for
    /// classic pcap files and live captures.
    pub section: Option<u32>,
    /// Decimal digits of the capture's timestamp resolution (6 for microseconds, 9 for
    /// nanoseconds): the Time column shows this many.
    pub ts_digits: u8,
    /// The record has no timestamp (pcapng simple packet and custom blocks): `secs`/`nanos`
    /// are 0, and the time fields and Time column are left empty, as tshark does.
    pub no_timestamp: bool,
}

/// The capture interface of a pcapng frame, as Wireshark names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureInterface<'a> {
    /// `if_name`, else `if_description`, else `if_hardware`, else "unknown".
    pub name: &'a str,
    /// `if_description`, if given.
    pub description: Option<&'a str>,
}

/// Network-layer addresses of a frame (the outermost IP header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Net {
    #[default]
    None,
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
    },
}

/// TCP header facts, in host byte order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    /// Raw (absolute) sequence number.
    pub seq: u32,
    /// Raw acknowledgement number (meaningful when the ACK flag is set).
    pub ack: u32,
    /// The 12 flag bits (NS/AE … FIN).
    pub flags: u16,
    /// The unscaled window field.
    pub window: u16,
    pub urgent: u16,
    /// Header length in bytes.
    pub hdr_len: u8,
    /// Segment length as the IP header claims it (may exceed what was captured).
    pub seg_len: u32,
    pub mss: Option<u16>,
    /// Window-scale shift as sent (not capped).
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// Timestamps option (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks (left, right edge), `sack_count` of them valid.
    pub sack: [(u32, u32); 4],
    pub sack_count: u8,
    /// The options above in the order they occur in the header (tshark's Info column lists
    /// them so): [`TcpInfo::OPT_MSS`] … tags of 3 bits each, the first in the lowest bits,
    /// each kind once; 0 ends the list. See [`TcpInfo::options_in_order`].
    pub opt_order: u16,
}

impl TcpInfo {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;

    /// Tags of [`TcpInfo::opt_order`].
    pub const OPT_MSS: u8 = 1;
    pub const OPT_WSCALE: u8 = 2;
    pub const OPT_SACK_PERM: u8 = 3;
    pub const OPT_TIMESTAMPS: u8 = 4;
    pub const OPT_SACK: u8 = 5;

    /// Notes that option `tag` occurred (after those noted before); a kind already noted keeps
    /// its first place.
    pub fn note_option(&mut self, tag: u8) {
        let mut n = 0;
        while n < 5 {
            let t = (self.opt_order >> (3 * n)) & 7;
            if t == 0 {
                self.opt_order |= u16::from(tag & 7) << (3 * n);
                return;
            }
            if t == u16::from(tag) {
                return;
            }
            n += 1;
        }
    }

    /// The option tags present, in header order; options set without a place (a `TcpInfo`
    /// built by hand) follow in a fixed order.
    pub fn options_in_order(&self) -> impl Iterator<Item = u8> + '_ {
        let placed = (0..5)
            .map(move |n| ((self.opt_order >> (3 * n)) & 7) as u8)
            .take_while(|t| *t != 0);
        let present = [
            (Self::OPT_MSS, self.mss.is_some()),
            (Self::OPT_SACK_PERM, self.sack_perm),
            (Self::OPT_SACK, self.sack_count > 0),
            (Self::OPT_TIMESTAMPS, self.timestamps.is_some()),
            (Self::OPT_WSCALE, self.wscale.is_some()),
        ];
        // One bit per tag that has a place (tags are 3 bits), worked out once rather than
        // looked for again for each kind of option.
        let placed_tags = placed.clone().fold(0u8, |m, t| m | (1 << t));
        let unplaced = present
            .into_iter()
            .filter_map(move |(tag, on)| (on && placed_tags & (1 << tag) == 0).then_some(tag));
        placed.chain(unplaced)
    }

    /// Whether every flag of `mask` is set.
    pub fn has(&self, mask: u16) -> bool {
        self.flags & mask == mask
    }

    /// The valid SACK blocks.
    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        self.sack.get(..usize::from(self.sack_count)).unwrap_or(&[])
    }
}

/// UDP header facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field (header included).
    pub length: u16,
}

/// The transport layer of a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    None,
    Tcp(TcpInfo),
    Udp(UdpInfo),
}

/// What L2–L4 dissection found in a frame: the facts the flow engine and the summary line need.
#[derive(Debug, Clone, Copy, Default)]
pub struct PacketInfo {
    /// Ethernet source and destination, where the link has them.
    pub l2_src: Option<[u8; 6]>,
    pub l2_dst: Option<[u8; 6]>,
    /// VLAN ids, outermost first (0 = none). Flows are keyed on them.
    pub vlan: [u16; 2],
    pub net: Net,
    /// The addresses of the IP header dissected last, quoted or not (inside an ICMP error,
    /// the quoted packet's): the pseudo-header of the transport checksum that follows it.
    pub inner_net: Net,
    /// The outer IPv4 TTL or IPv6 hop limit (ICMP's Info column shows it).
    pub ttl: u8,
    /// The frame's capture time (seconds and nanoseconds since the epoch), copied from
    /// [`FrameMeta`] for layers that compare with it (ICMP's guess of a timestamp in echo data).
    pub frame_time: (i64, u32),
    /// The frame's length on the wire, copied from [`FrameMeta`] (IPv4 shows a total length of
    /// 0, a TSO capture, as the length the frame reports).
    pub frame_len: u32,
    /// IP protocol / IPv6 next header of the transport (after extension headers).
    pub ip_proto: u8,
    /// Set when the IP layer is a fragment (first or later): the transport is dissected only
    /// once the datagram is reassembled (the pipeline's defragmenter does it).
    pub fragment: Option<FragInfo>,
    pub transport: Transport,
    /// The transport's length as the network header claims it (IPv4 total length minus the
    /// header, IPv6 payload length minus extension headers); `None` before an IP layer.
    pub l4_claimed_len: Option<u32>,
    /// The length the network layer claims for itself (IPv4 total length, 40 plus the IPv6
    /// payload length, the ARP message), set by the first network layer after the link (a
    /// tunnelled packet inside does not change it). The
    /// link payload's bytes past it are the link layer's padding or trailer (`eth.padding`,
    /// `eth.trailer`, `vlan.trailer`, `sll.trailer`). `None` when the layer could not say.
    pub net_len: Option<u32>,
    /// Captured transport payload: offset in the frame and length.
    pub payload_start: u32,
    pub payload_len: u32,
    /// Set while dissecting the packet quoted inside an ICMP error: the layers there emit
    /// fields, but do not overwrite the outer packet's facts.
    pub quoted: bool,
    /// The TCP or UDP header quoted inside an ICMP error (its addresses are `inner_net`):
    /// tshark gives it a `tcp.stream` / `udp.stream`, so the flow engine looks it up.
    pub quoted_transport: Transport,
    /// The layer that stopped dissection, if one did.
    pub malformed: Option<crate::Malformed>,
    /// An ICMP or ICMPv6 echo request or reply (not one quoted in an error): the flow engine
    /// pairs replies with requests, as tshark's ICMP transaction tracking does.
    pub echo: Option<Echo>,
}

impl PacketInfo {
    /// The transport length a network layer claims for a payload starting at frame offset
    /// `at`, cut to what the frame reports on the wire past it (as tshark's tvb reported
    /// length is: a total length beyond the frame does not make a longer segment).
    pub fn claimed_within_frame(&self, claimed: usize, at: usize) -> u32 {
        let claimed = u32::try_from(claimed).unwrap_or(u32::MAX);
        match self.frame_len {
            0 => claimed,
            n => claimed.min(n.saturating_sub(u32::try_from(at).unwrap_or(u32::MAX))),
        }
    }

    /// The captured transport payload of `frame`.
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let start = self.payload_start as usize;
        frame
            .get(start..start.saturating_add(self.payload_len as usize))
            .unwrap_or(&[])
    }
}

/// The header of an ICMP or ICMPv6 echo message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Echo {
    /// ICMPv6 (types 128/129) rather than ICMP (8/0).
    pub v6: bool,
    /// A reply rather than a request.
    pub reply: bool,
    pub id: u16,
    pub seq: u16,
    /// The checksum field as sent: tshark's matching key includes it (a reply pairs with the
    /// request whose checksum differs only by the type change).
    pub checksum: u16,
}

/// One IPv4 or IPv6 fragment, for the pipeline's defragmenter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragInfo {
    /// IPv4 identification or IPv6 fragment identification.
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// Protocol of the reassembled datagram.
    pub proto: u8,
    /// The fragment's captured data: offset in the frame and length.
    pub data_start: u32,
    pub data_len: u32,
    /// The fragment's data length as the IP header claims it.
    pub claimed_len: u32,
}

/// An address shown in the Source / Destination columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Address {
    #[default]
    None,
    Ether([u8; 6]),
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Address::None => Ok(()),
            Address::Ether(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            Address::Ipv4(a) => std::net::Ipv4Addr::from(a).fmt(f),
            Address::Ipv6(a) => std::net::Ipv6Addr::from(a).fmt(f),
        }
    }
}

/// The names of the protocols found in a frame, in order (`frame.protocols`).
#[derive(Debug, Clone, Copy)]
pub struct ProtoStack {
    names: [&'static str; ProtoStack::MAX],
    len: u8,
}

impl Default for ProtoStack {
    fn default() -> Self {
        ProtoStack {
            names: [""; ProtoStack::MAX],
            len: 0,
        }
    }
}

impl ProtoStack {
    /// Deeper nesting than this is not recorded (tunnels of tunnels are rare; a looping
    /// dissection is stopped by the dispatcher's own depth cap first). Large because tshark
    /// also lists every X.509 attribute and extension dissector a TLS certificate chain calls
    /// (`x509sat`, `x509ce` …): real chains reach a hundred entries.
    pub const MAX: usize = 160;

    pub fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.names.get_mut(usize::from(self.len)) {
            *slot = name;
            self.len += 1;
        }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn as_slice(&self) -> &[&'static str] {
        self.names.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The last protocol pushed.
    pub fn last(&self) -> Option<&'static str> {
        self.as_slice().last().copied()
    }
}

/// The summary columns of a frame (tshark's default columns), filled by dissectors when the
/// output shows them.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub src: Address,
    pub dst: Address,
    /// The Protocol column (`TCP`, `DNS`, `TLSv1.3`).
    pub protocol: &'static str,
    /// The Info column.
    pub info: String,
    /// How many times [`Cx::info`](crate::Cx::info) handed the Info column over to a new
    /// writer: the flow engine tells by it whether an application rewrote the column after
    /// the TCP layer wrote its part.
    pub rewrites: u32,
    /// The TCP layer's Info text, not yet written: it goes in at its place before the
    /// column is read ([`tcp::settle_info`](crate::proto::tcp::settle_info)).
    pub tcp_text: Option<crate::proto::tcp::InfoText>,
}

impl Columns {
    pub fn clear(&mut self) {
        self.src = Address::None;
        self.dst = Address::None;
        self.protocol = "";
        self.info.clear();
        self.rewrites = 0;
        self.tcp_text = None;
    }
}
