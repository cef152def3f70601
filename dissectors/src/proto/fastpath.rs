//! A shortcut past the dispatch loop for the commonest frame — Ethernet II, IPv4 without
//! options or fragmentation, then TCP (no options, NOP NOP Timestamps, or a Linux SYN's
//! options) or UDP — when no output may want a field of those layers (`-P`, `netsniff flows`,
//! `-z conv`, `-z io,phs`, `-T fields` of application fields).
//!
//! Dissection of such a frame only fills [`PacketInfo`], `frame.protocols` and the summary
//! columns: the walk does that through four `dyn` dissectors, their checks for cut and broken
//! headers, and the dispatch table, about 660 instructions a frame. Reading the same few facts
//! straight from the bytes costs a fraction of that.
//!
//! The contract with [`walk`](super::walk): [`dissect`] either declines, having changed
//! nothing, and the walk runs; or it leaves `pi`, `cx.protocols` and the columns exactly as the
//! walk would, in a frame where the walk emits nothing into the sink. That holds because:
//!
//! * `eth`, `ip`, `tcp` and `udp` emit fields only when [`Cx::wants`] their protocol (their
//!   other field checks all sit behind that one), and the Ethernet padding and trailer
//!   ([`eth::trailer`]) are emitted only when `eth` is wanted; the shortcut requires all four
//!   out of the outputs' protocol filter ([`Cx::may_want`] false), which makes `wants` false;
//! * the columns they write for such a frame are few: Ethernet names the protocol, IPv4 sets the
//!   addresses (its bogus-version Info text is for frames not taken), TCP under IP leaves the
//!   Info column to the flow engine, UDP writes its ports and length (`udp::write_info`);
//! * the frames taken are well formed, so no layer fails (no `_ws.malformed`, no `_ws.short`),
//!   and TCP and UDP end the walk (`Next::Done`), so no `data` layer follows.
//!
//! Anything else — another link or EtherType, VLAN tags, IPv4 options, a fragment, a total
//! length of 0 (TSO) or beyond the bytes captured, a TCP header cut short or with other
//! options, a UDP length that does not fit — is declined. The tests compare both paths on every
//! frame of every bundled capture, and on those frames cut short and altered byte by byte.

use crate::dissector::Cx;
use crate::pinfo::{Address, FrameMeta, LinkType, Net, PacketInfo, TcpInfo, Transport, UdpInfo};
use crate::proto::bytes::{array, be16, be32, slice, tail, u8_at};
use crate::proto::eth::ethertype;
use crate::proto::ip::ipproto;
use crate::proto::{eth, ip, tcp, udp};

/// The Ethernet II header: destination, source, EtherType (see `eth.rs`).
const ETH_HEADER_LEN: usize = 14;
const ETH_DST_AT: usize = 0;
const ETH_SRC_AT: usize = 6;
const ETH_TYPE_AT: usize = 12;
/// What Ethernet pushes onto `frame.protocols` after itself for an EtherType (tshark lists the
/// `ethertype` dissector; see `eth.rs`).
const ETHERTYPE_LAYER: &str = "ethertype";

/// Where the IPv4 header starts in the frame, and offsets in it (RFC 791 §3.1).
const IP_AT: usize = ETH_HEADER_LEN;
const IP_TOTAL_LEN_AT: usize = 2;
const IP_FLAGS_FRAG_AT: usize = 6;
const IP_TTL_AT: usize = 8;
const IP_PROTO_AT: usize = 9;
const IP_SRC_AT: usize = 12;
const IP_DST_AT: usize = 16;
/// Version 4 and a header length of 5 words: no options.
const IP_VERSION_4_NO_OPTIONS: u8 = 0x45;
/// The MF bit and the fragment offset: either set makes a fragment.
const IP_MORE_FRAGMENTS_OR_OFFSET: u16 = 0x3fff;
/// Where the transport header starts in a frame taken here.
const TRANSPORT_AT: usize = ETH_HEADER_LEN + ip::MIN_HEADER_LEN;

/// TCP header offsets (RFC 9293 §3.1).
const TCP_SRC_PORT_AT: usize = 0;
const TCP_DST_PORT_AT: usize = 2;
const TCP_SEQ_AT: usize = 4;
const TCP_ACK_AT: usize = 8;
const TCP_OFFSET_FLAGS_AT: usize = 12;
/// The 12 flag bits below the data offset.
const TCP_FLAGS_MASK: u16 = 0x0fff;
const TCP_WINDOW_AT: usize = 14;
const TCP_URGENT_AT: usize = 18;

/// UDP header offsets (RFC 768).
const UDP_SRC_PORT_AT: usize = 0;
const UDP_DST_PORT_AT: usize = 2;
const UDP_LENGTH_AT: usize = 4;

/// Dissects `frame` from its Ethernet header to its transport layer as the walk would, when
/// it is a frame this shortcut covers and nothing of those layers is shown (see the module
/// doc); returns whether it did. When it returns `false`, `pi` and `cx` are untouched.
/// Call it after `frame::emit` and after `pi.frame_len` is set, as the walk is.
///
/// Only the checks of the output and the link are inlined into the caller: outputs that show
/// these layers (`-P`, L2-L4 `-T fields`) pay a few instructions a frame for the shortcut,
/// where a call would cost them more than that.
#[inline(always)]
pub(super) fn dissect(
    meta: &FrameMeta,
    frame: &[u8],
    pi: &mut PacketInfo,
    cx: &mut Cx<'_>,
) -> bool {
    // Fields or a trailer of these layers need the dissectors; a quoted packet (never
    // the case for a frame) keeps the outer packet's facts. The four protocols must be out of
    // the outputs' protocol filter, which makes them unwanted without asking the sink: each
    // test is a constant mask, and an output that wants one of them (L2-L4 `-T fields`) does
    // not pay a call to the sink here and again in the walk.
    if meta.link_type != LinkType::ETHERNET
        || pi.quoted
        || cx.may_want(&eth::PROTO)
        || cx.may_want(&ip::PROTO)
        || cx.may_want(&tcp::PROTO)
        || cx.may_want(&udp::PROTO)
    {
        return false;
    }
    dissect_ethernet(frame, pi, cx)
}

/// [`dissect`] once the output and the link allow the shortcut: the frame's headers decide.
fn dissect_ethernet(frame: &[u8], pi: &mut PacketInfo, cx: &mut Cx<'_>) -> bool {
    // Both headers, as an array: every read below is at a constant offset in it, so none
    // needs a bounds check.
    let Some(headers) = frame
        .get(..TRANSPORT_AT)
        .and_then(|h| <&[u8; TRANSPORT_AT]>::try_from(h).ok())
    else {
        return false;
    };
    let packet = tail(frame, ETH_HEADER_LEN);
    // Ethernet II carrying IPv4 (an 802.3 length, VLAN tags or any other type: the walk), and
    // IPv4 without options, whose total length is real (not 0 as in TSO captures), covers its
    // header and was captured whole: the walk's cut, bogus and TSO cases are all excluded.
    if be16(headers, ETH_TYPE_AT) != ethertype::IPV4
        || u8_at(headers, IP_AT) != IP_VERSION_4_NO_OPTIONS
    {
        return false;
    }
    let total_len = be16(headers, IP_AT + IP_TOTAL_LEN_AT);
    if usize::from(total_len) < ip::MIN_HEADER_LEN || usize::from(total_len) > packet.len() {
        return false;
    }
    // A fragment goes to the pipeline's defragmenter or is shown as data: the walk.
    if be16(headers, IP_AT + IP_FLAGS_FRAG_AT) & IP_MORE_FRAGMENTS_OR_OFFSET != 0 {
        return false;
    }
    let proto = u8_at(headers, IP_AT + IP_PROTO_AT);
    // The IP payload, cut at the total length (what follows is Ethernet padding or trailer).
    let segment = slice(packet, ip::MIN_HEADER_LEN, usize::from(total_len));
    let layer4 = match proto {
        ipproto::TCP => tcp_header(segment),
        ipproto::UDP => udp_header(segment),
        _ => None,
    };
    let Some(layer4) = layer4 else {
        return false;
    };

    // Taken: from here on, exactly what `Eth`, `Ip` and `Tcp`/`Udp::dissect` record.
    // Ethernet:
    pi.l2_src = Some(array(headers, ETH_SRC_AT));
    pi.l2_dst = Some(array(headers, ETH_DST_AT));
    cx.protocols.push(eth::PROTO.name);
    cx.protocols.push(ETHERTYPE_LAYER);
    // IPv4:
    cx.protocols.push(ip::PROTO.name);
    let net = Net::V4 {
        src: array(headers, IP_AT + IP_SRC_AT),
        dst: array(headers, IP_AT + IP_DST_AT),
    };
    pi.inner_net = net;
    pi.net_len.get_or_insert(u32::from(total_len));
    pi.net = net;
    if let (Some(cols), Net::V4 { src, dst }) = (cx.cols.as_deref_mut(), net) {
        // Ethernet names the protocol, IPv4 the addresses (TCP under IP leaves the Info
        // column to the flow engine).
        cols.src = Address::Ipv4(src);
        cols.dst = Address::Ipv4(dst);
        cols.protocol = eth::COLUMN_NAME;
    }
    pi.ttl = u8_at(headers, IP_AT + IP_TTL_AT);
    pi.ip_proto = proto;
    let l4_claimed = pi.claimed_within_frame(segment.len(), TRANSPORT_AT);
    pi.l4_claimed_len = Some(l4_claimed);
    // TCP or UDP. The header facts are written straight into `pi` (a `TcpInfo` built apart
    // and moved in cost as much again as reading it).
    let (header_len, payload_len) = match layer4 {
        Layer4::Tcp {
            fixed,
            header_len,
            options,
        } => {
            cx.protocols.push(tcp::PROTO.name);
            pi.transport = Transport::Tcp(TcpInfo {
                src_port: be16(fixed, TCP_SRC_PORT_AT),
                dst_port: be16(fixed, TCP_DST_PORT_AT),
                seq: be32(fixed, TCP_SEQ_AT),
                ack: be32(fixed, TCP_ACK_AT),
                flags: be16(fixed, TCP_OFFSET_FLAGS_AT) & TCP_FLAGS_MASK,
                window: be16(fixed, TCP_WINDOW_AT),
                urgent: be16(fixed, TCP_URGENT_AT),
                hdr_len: u8::try_from(header_len).unwrap_or(u8::MAX),
                seg_len: l4_claimed.saturating_sub(header_len as u32),
                ..TcpInfo::default()
            });
            if let Transport::Tcp(info) = &mut pi.transport {
                options.read_into(info);
            }
            (header_len, segment.len().saturating_sub(header_len))
        }
        Layer4::Udp { length } => {
            cx.protocols.push(udp::PROTO.name);
            let (src_port, dst_port) = (
                be16(segment, UDP_SRC_PORT_AT),
                be16(segment, UDP_DST_PORT_AT),
            );
            pi.transport = Transport::Udp(UdpInfo {
                src_port,
                dst_port,
                length,
            });
            if let Some(info) = cx.info(udp::COLUMN_NAME) {
                udp::write_info(info, src_port, dst_port, length);
            }
            (udp::HEADER_LEN, usize::from(length) - udp::HEADER_LEN)
        }
    };
    pi.payload_start = u32::try_from(TRANSPORT_AT + header_len).unwrap_or(u32::MAX);
    pi.payload_len = u32::try_from(payload_len).unwrap_or(u32::MAX);
    true
}

/// A transport header this shortcut takes, with what deciding so already read.
#[derive(Debug, Clone, Copy)]
enum Layer4<'a> {
    /// A TCP header captured whole (its fixed part, and its length), with one of the option
    /// lists below.
    Tcp {
        fixed: &'a [u8; tcp::MIN_HEADER_LEN],
        header_len: usize,
        options: TcpOptions,
    },
    /// A UDP header whose length field covers the header and fits in the IP payload.
    Udp { length: u16 },
}

/// The TCP option lists this shortcut reads (any other takes the walk), with their values.
#[derive(Debug, Clone, Copy)]
enum TcpOptions {
    None,
    /// Exactly NOP, NOP, Timestamps (kind 8, length 10): nearly every segment of a Linux or
    /// BSD host (RFC 7323 appendix A's layout). TSval, TSecr.
    Timestamps(u32, u32),
    /// Exactly MSS, SACK permitted, Timestamps, NOP, Window scale: every SYN and SYN-ACK of a
    /// Linux host (a tenth of the frames of a capture of many short connections).
    LinuxSyn {
        mss: u16,
        timestamps: (u32, u32),
        shift: u8,
    },
}

impl TcpOptions {
    /// Records the options as the option walk of `tcp.rs` does (NOPs add nothing), noted in
    /// header order.
    #[inline(always)]
    fn read_into(self, info: &mut TcpInfo) {
        match self {
            TcpOptions::None => {}
            TcpOptions::Timestamps(value, echo) => {
                info.timestamps = Some((value, echo));
                info.note_option(TcpInfo::OPT_TIMESTAMPS);
            }
            TcpOptions::LinuxSyn {
                mss,
                timestamps,
                shift,
            } => {
                info.mss = Some(mss);
                info.sack_perm = true;
                info.timestamps = Some(timestamps);
                info.wscale = Some(shift);
                for tag in [
                    TcpInfo::OPT_MSS,
                    TcpInfo::OPT_SACK_PERM,
                    TcpInfo::OPT_TIMESTAMPS,
                    TcpInfo::OPT_WSCALE,
                ] {
                    info.note_option(tag);
                }
            }
        }
    }
}

/// A TCP header `Tcp::dissect` takes without a malformed or short mark (a data offset of at
/// least 5 words, captured whole) and whose options are one of [`TcpOptions`]; `None` for
/// any other.
#[inline]
fn tcp_header(segment: &[u8]) -> Option<Layer4<'_>> {
    let fixed = <&[u8; tcp::MIN_HEADER_LEN]>::try_from(segment.get(..tcp::MIN_HEADER_LEN)?).ok()?;
    let header_len = usize::from(u8_at(fixed, TCP_OFFSET_FLAGS_AT) >> 4) * 4;
    // Empty for a data offset of 5; `None` for one below 5 or past the segment.
    let options = segment.get(tcp::MIN_HEADER_LEN..header_len)?;
    let be = u32::from_be_bytes;
    #[rustfmt::skip]
    let options = match *options {
        [] => TcpOptions::None,
        [tcp::kind::NOP, tcp::kind::NOP, tcp::kind::TIMESTAMPS, 10, v0, v1, v2, v3, e0, e1, e2, e3] => {
            TcpOptions::Timestamps(be([v0, v1, v2, v3]), be([e0, e1, e2, e3]))
        }
        [
            tcp::kind::MSS, 4, m0, m1,
            tcp::kind::SACK_PERM, 2,
            tcp::kind::TIMESTAMPS, 10, v0, v1, v2, v3, e0, e1, e2, e3,
            tcp::kind::NOP,
            tcp::kind::WSCALE, 3, shift,
        ] => TcpOptions::LinuxSyn {
            mss: u16::from_be_bytes([m0, m1]),
            timestamps: (be([v0, v1, v2, v3]), be([e0, e1, e2, e3])),
            shift,
        },
        _ => return None,
    };
    Some(Layer4::Tcp {
        fixed,
        header_len,
        options,
    })
}

/// A UDP header whose length field covers it and fits in the IP payload; `None` otherwise (a
/// length of 0, too short, or past the IP payload: the walk).
#[inline]
fn udp_header(segment: &[u8]) -> Option<Layer4<'_>> {
    let length = be16(segment, UDP_LENGTH_AT);
    let len = usize::from(length);
    if segment.len() < udp::HEADER_LEN || len < udp::HEADER_LEN || len > segment.len() {
        return None;
    }
    Some(Layer4::Udp { length })
}

#[cfg(test)]
mod tests {
    //! The shortcut against the walk: every frame of every bundled capture, those frames cut
    //! short, padded and altered byte by byte, and built frames of every branch, dissected both
    //! ways under sinks wanting nothing, everything, or one protocol each; `PacketInfo`, the
    //! protocol stack, every sink call and the columns must be identical.

    use crate::dissector::Cx;
    use crate::field::{FieldDef, FieldSink, Proto, ProtoFilter, Shown, Span, Value};
    use crate::pinfo::{Columns, FrameMeta, LinkType, PacketInfo, ProtoStack, Transport};

    /// Which protocols a [`Recorder`] wants.
    #[derive(Debug, Clone, Copy)]
    enum Wanted {
        All,
        Nothing,
        Only(&'static str),
    }

    /// A sink that keeps every call it gets, in order.
    struct Recorder {
        wanted: Wanted,
        text: bool,
        calls: Vec<String>,
    }

    impl FieldSink for Recorder {
        fn wants(&self, proto: &'static Proto) -> bool {
            match self.wanted {
                Wanted::All => true,
                Wanted::Nothing => false,
                Wanted::Only(name) => proto.name == name,
            }
        }
        fn layer(&mut self, proto: &'static Proto, span: Span) {
            self.calls.push(format!("layer {} {span:?}", proto.name));
        }
        fn layer_apart(&mut self, proto: &'static Proto, span: Span) {
            self.calls
                .push(format!("layer_apart {} {span:?}", proto.name));
        }
        fn field(&mut self, def: &'static FieldDef, span: Span, value: Value<'_>) {
            self.calls
                .push(format!("field {} {span:?} {value:?}", def.name));
        }
        fn open(&mut self) {
            self.calls.push("open".into());
        }
        fn close(&mut self) {
            self.calls.push("close".into());
        }
        fn text(&mut self, span: Span, text: &str) {
            self.calls.push(format!("text {span:?} {text}"));
        }
        fn wants_text(&self) -> bool {
            self.text
        }
        fn field_shown(
            &mut self,
            def: &'static FieldDef,
            span: Span,
            value: Value<'_>,
            shown: Shown<'_>,
        ) {
            self.calls.push(format!(
                "field_shown {} {span:?} {value:?} {shown:?}",
                def.name
            ));
        }
        fn label(&mut self, span: Span, text: &str) {
            self.calls.push(format!("label {span:?} {text}"));
        }
        fn append(&mut self, text: &str) {
            self.calls.push(format!("append {text}"));
        }
        fn retitle(&mut self, text: &str) {
            self.calls.push(format!("retitle {text}"));
        }
        fn reopen(&mut self, def: &'static FieldDef) {
            self.calls.push(format!("reopen {}", def.name));
        }
        fn append_open(&mut self, text: &str) {
            self.calls.push(format!("append_open {text}"));
        }
        fn mark(&mut self) {
            self.calls.push("mark".into());
        }
        fn layer_at_mark(&mut self, proto: &'static Proto, span: Span) {
            self.calls
                .push(format!("layer_at_mark {} {span:?}", proto.name));
        }
        fn nest(&mut self) {
            self.calls.push("nest".into());
        }
        fn unnest(&mut self) {
            self.calls.push("unnest".into());
        }
    }

    /// What an output asks of dissection: the protocols its sink wants, whether it draws `-V`
    /// text, whether it shows columns.
    #[derive(Debug, Clone, Copy)]
    struct Output {
        /// The protocol filter is [`ProtoFilter::ALL`] whatever the sink wants (a `Cx` built
        /// without one): the shortcut must decline.
        unfiltered: bool,
        wanted: Wanted,
        text: bool,
        cols: bool,
    }

    /// The output of `flows`, `-z conv` and application `-T fields`: the shortcut's case.
    const NOTHING: Output = Output {
        unfiltered: false,
        wanted: Wanted::Nothing,
        text: false,
        cols: false,
    };

    /// The output of `-P`: columns, no field (the shortcut's case too).
    const SUMMARY: Output = Output {
        cols: true,
        ..NOTHING
    };

    /// Outputs the shortcut must decline, or whose other protocols it must not mind.
    fn outputs() -> Vec<Output> {
        let mut all = vec![
            NOTHING,
            Output {
                unfiltered: false,
                wanted: Wanted::All,
                text: true,
                cols: true,
            },
            Output {
                unfiltered: false,
                wanted: Wanted::All,
                text: false,
                cols: false,
            },
            SUMMARY,
            Output {
                unfiltered: true,
                ..NOTHING
            },
        ];
        for name in [
            "eth",
            "ethertype",
            "ip",
            "tcp",
            "udp",
            "data",
            "_ws.malformed",
            "_ws.short",
            "frame",
            "vlan",
            "ipv6",
            "icmp",
            "dns",
        ] {
            all.push(Output {
                unfiltered: false,
                wanted: Wanted::Only(name),
                text: false,
                cols: false,
            });
        }
        all
    }

    /// Dissects one frame for `output`, with or without the shortcut: whether the shortcut
    /// took it, and everything dissection produced.
    fn dissect(
        meta: &FrameMeta,
        bytes: &[u8],
        output: Output,
        fast: bool,
    ) -> (bool, Transport, String) {
        let (mut pi, mut stack, mut cols) = (
            PacketInfo::default(),
            ProtoStack::default(),
            Columns::default(),
        );
        let mut sink = Recorder {
            wanted: output.wanted,
            text: output.text,
            calls: Vec::new(),
        };
        // As the pipeline does, the outputs' protocols as a filter (all when they want all).
        let protos = match output.wanted {
            _ if output.unfiltered => ProtoFilter::ALL,
            Wanted::All => ProtoFilter::ALL,
            Wanted::Nothing => ProtoFilter::of([]),
            Wanted::Only(name) => {
                ProtoFilter::of(crate::proto::all_protos().filter(|p| p.name == name))
            }
        };
        let mut cx =
            Cx::new(&mut sink, output.cols.then_some(&mut cols), &mut stack).with_protos(protos);
        let taken = super::super::dissect_frame_with(meta, None, bytes, &mut pi, &mut cx, fast);
        let got = format!("{pi:?}\n{:?}\n{:?}\n{cols:?}", stack.as_slice(), sink.calls);
        (taken, pi.transport, got)
    }

    /// How many frames the shortcut took and declined.
    #[derive(Debug, Default)]
    struct Tally {
        tcp: usize,
        udp: usize,
        declined: usize,
    }

    /// Dissects `bytes` both ways for `output` and requires the same result; returns whether
    /// the shortcut took it.
    fn same_both_ways(
        what: &str,
        meta: &FrameMeta,
        bytes: &[u8],
        output: Output,
        tally: &mut Tally,
    ) -> bool {
        let (taken, transport, fast) = dissect(meta, bytes, output, true);
        let (walked, _, slow) = dissect(meta, bytes, output, false);
        assert!(!walked, "{what}: the shortcut ran while off");
        assert_eq!(fast, slow, "{what}, {output:?}: {bytes:02x?}");
        if taken {
            assert!(
                !output.unfiltered && matches!(output.wanted, Wanted::Nothing | Wanted::Only(_)),
                "{what}: taken for {output:?}"
            );
            match transport {
                Transport::Tcp(_) => tally.tcp += 1,
                _ => tally.udp += 1,
            }
        } else {
            tally.declined += 1;
        }
        taken
    }

    use crate::proto::testkit::{read_capture, Frame};

    fn captures() -> Vec<(String, Vec<Frame>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
        let mut names: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        names.sort();
        assert!(names.len() >= 10, "captures under {root:?}");
        names
            .into_iter()
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    read_capture(&p),
                )
            })
            .collect()
    }

    /// Frames of each capture also altered byte by byte and cut short (the first ones: the
    /// header shapes repeat).
    const ALTERED_FRAMES: usize = 40;
    /// Bytes altered: the Ethernet type, the IPv4 header and the transport header (with a
    /// Linux SYN's 20 bytes of options).
    const ALTERED_BYTES: std::ops::Range<usize> = 12..74;

    /// Every captured frame, for every output; then variants for the shortcut's output.
    #[test]
    fn the_shortcut_leaves_what_the_walk_leaves() {
        let mut tally = Tally::default();
        for (name, frames) in captures() {
            for (i, (meta, bytes)) in frames.iter().enumerate() {
                let what = format!("{name} frame {}", meta.number);
                for output in outputs() {
                    same_both_ways(&what, meta, bytes, output, &mut tally);
                }
                if i >= ALTERED_FRAMES {
                    continue;
                }
                // Cut by a snapshot length anywhere in the headers, and just before the end.
                for cut in
                    (0..bytes.len().min(ALTERED_BYTES.end)).chain([bytes.len().saturating_sub(1)])
                {
                    let short = FrameMeta {
                        cap_len: cut as u32,
                        ..*meta
                    };
                    for output in [NOTHING, SUMMARY] {
                        same_both_ways(
                            &format!("{what} cut at {cut}"),
                            &short,
                            &bytes[..cut],
                            output,
                            &mut tally,
                        );
                    }
                }
                // A wire length that disagrees with the capture.
                for len in [0, meta.len.saturating_sub(1), meta.len + 4, meta.len + 1000] {
                    let odd = FrameMeta { len, ..*meta };
                    for output in [NOTHING, SUMMARY] {
                        same_both_ways(
                            &format!("{what} len {len}"),
                            &odd,
                            bytes,
                            output,
                            &mut tally,
                        );
                    }
                }
                // Padding, a trailer, and a trailer with what looks like an FCS.
                for extra in [
                    &[0u8; 6][..],
                    &[0xde, 0xad, 0xbe, 0xef],
                    &[0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
                ] {
                    let mut longer = bytes.clone();
                    longer.extend_from_slice(extra);
                    let n = longer.len() as u32;
                    let padded = FrameMeta {
                        len: n,
                        cap_len: n,
                        ..*meta
                    };
                    for output in outputs() {
                        same_both_ways(
                            &format!("{what} + {extra:?}"),
                            &padded,
                            &longer,
                            output,
                            &mut tally,
                        );
                    }
                }
                // Every header byte altered a few ways.
                for at in ALTERED_BYTES.clone().filter(|at| *at < bytes.len()) {
                    let b = bytes[at];
                    for v in [
                        0,
                        0xff,
                        b ^ 0x01,
                        b ^ 0x08,
                        b ^ 0x20,
                        b ^ 0x40,
                        b ^ 0x80,
                        b.wrapping_add(1),
                        b.wrapping_sub(1),
                    ] {
                        let mut altered = bytes.clone();
                        altered[at] = v;
                        for output in [NOTHING, SUMMARY] {
                            same_both_ways(
                                &format!("{what} [{at}] = {v:#x}"),
                                meta,
                                &altered,
                                output,
                                &mut tally,
                            );
                        }
                    }
                }
            }
        }
        // Not vacuous: the shortcut took both TCP and UDP frames, and declined others.
        assert!(
            tally.tcp > 1000 && tally.udp > 100 && tally.declined > 1000,
            "{tally:?}"
        );
    }

    // ------------------------------------------------------------------------------------------
    // Built frames, one per branch.

    /// An Ethernet II frame of `ethertype` around `payload`.
    fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![
            0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c, 0x02, 0x42, 0xac, 0x11, 0x00, 0x02,
        ];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// An IPv4 header (no options unless `options`) with `flags_frag` around `l4` of `proto`.
    fn ipv4(proto: u8, flags_frag: u16, options: &[u8], l4: &[u8]) -> Vec<u8> {
        let hl = 20 + options.len();
        let total = u16::try_from(hl + l4.len()).unwrap();
        let ihl = 0x40 | u8::try_from(hl / 4).unwrap();
        #[rustfmt::skip]
        let mut p = vec![
            ihl, 0x00,                              // version, IHL; DS field
            (total >> 8) as u8, total as u8,        // total length
            0x12, 0x34,                             // identification
            (flags_frag >> 8) as u8, flags_frag as u8,
            64, proto, 0xbe, 0xef,                  // TTL, protocol, checksum
            192, 168, 1, 2,                         // source
            93, 184, 216, 34,                       // destination
        ];
        p.extend_from_slice(options);
        p.extend_from_slice(l4);
        p
    }

    /// A TCP header with `options` (a multiple of 4 bytes) and `payload`.
    fn tcp(options: &[u8], payload: &[u8]) -> Vec<u8> {
        let offset = u8::try_from((20 + options.len()) / 4).unwrap();
        #[rustfmt::skip]
        let mut s = vec![
            0xc3, 0x50, 0x01, 0xbb,                 // ports 50000 → 443
            0x11, 0x22, 0x33, 0x44,                 // sequence number
            0x55, 0x66, 0x77, 0x88,                 // acknowledgement number
            offset << 4, 0x18,                      // data offset; PSH, ACK
            0xfa, 0xf0, 0xab, 0xcd, 0x00, 0x00,     // window, checksum, urgent pointer
        ];
        s.extend_from_slice(options);
        s.extend_from_slice(payload);
        s
    }

    /// A UDP header with this length field, then `payload`.
    fn udp(length: u16, payload: &[u8]) -> Vec<u8> {
        let mut d = vec![
            0xd4,
            0x31,
            0x00,
            0x35,
            (length >> 8) as u8,
            length as u8,
            0x12,
            0x34,
        ];
        d.extend_from_slice(payload);
        d
    }

    #[rustfmt::skip]
    const TIMESTAMPS: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9];
    #[rustfmt::skip]
    const SYN_OPTIONS: [u8; 20] = [
        2, 4, 0x05, 0xb4,  4, 2,  8, 10, 0, 0, 0, 1, 0, 0, 0, 0,  1,  3, 3, 7,
    ];
    /// MSS, NOP, window scale, NOP, NOP, SACK permitted.
    #[rustfmt::skip]
    const WINDOWS_SYN_OPTIONS: [u8; 12] = [2, 4, 0x05, 0xb4,  1,  3, 3, 8,  1,  1,  4, 2];
    #[rustfmt::skip]
    const SACK: [u8; 12] = [1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0];

    /// Each branch: whether the shortcut takes it, and that it leaves what the walk leaves.
    #[test]
    fn each_branch_is_taken_or_declined_as_documented() {
        let body = b"GET / HTTP/1.1\r\n\r\n";
        let ipv6_tcp = {
            let l4 = tcp(&[], body);
            let mut p = vec![0x60, 0, 0, 0, 0, u8::try_from(l4.len()).unwrap(), 6, 64];
            p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            p.extend_from_slice(&l4);
            ether(0x86dd, &p)
        };
        let vlan_tcp = {
            let mut p = vec![0x00, 0x64, 0x08, 0x00];
            p.extend_from_slice(&ipv4(6, 0x4000, &[], &tcp(&[], body)));
            ether(0x8100, &p)
        };
        let tso = {
            let mut f = ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&[], body)));
            f[16] = 0;
            f[17] = 0;
            f
        };
        let long_total = {
            let mut f = ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&[], body)));
            f[17] += 1;
            f
        };
        let tcp_cut_in_options = {
            let mut f = ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&TIMESTAMPS, &[])));
            f.truncate(f.len() - 4);
            f[17] -= 4;
            f
        };
        // A case is taken or not; padded, it is alike but for a total length past the
        // capture, which the padding then covers.
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            (
                "TCP, no options",
                ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&[], body))),
                true,
            ),
            (
                "TCP, no payload",
                ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&[], &[]))),
                true,
            ),
            (
                "TCP, timestamps",
                ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&TIMESTAMPS, body))),
                true,
            ),
            (
                "TCP, reserved IP flag",
                ether(0x0800, &ipv4(6, 0x8000, &[], &tcp(&[], body))),
                true,
            ),
            (
                "TCP, Linux SYN options",
                ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&SYN_OPTIONS, &[]))),
                true,
            ),
            (
                "TCP, Windows SYN options",
                ether(
                    0x0800,
                    &ipv4(6, 0x4000, &[], &tcp(&WINDOWS_SYN_OPTIONS, &[])),
                ),
                false,
            ),
            (
                "TCP, EOL after the options",
                ether(
                    0x0800,
                    &ipv4(6, 0x4000, &[], &tcp(&[2, 4, 5, 0xb4, 1, 0, 0, 0], &[])),
                ),
                false,
            ),
            (
                "TCP, SACK",
                ether(0x0800, &ipv4(6, 0x4000, &[], &tcp(&SACK, &[]))),
                false,
            ),
            ("TCP, cut in options", tcp_cut_in_options, false),
            (
                "TCP, header cut",
                ether(0x0800, &ipv4(6, 0, &[], &tcp(&[], &[]))[..30]),
                false,
            ),
            (
                "UDP",
                ether(0x0800, &ipv4(17, 0, &[], &udp(12, b"abcd"))),
                true,
            ),
            (
                "UDP, empty",
                ether(0x0800, &ipv4(17, 0, &[], &udp(8, &[]))),
                true,
            ),
            (
                "UDP, length short of the IP payload",
                ether(0x0800, &ipv4(17, 0, &[], &udp(10, b"abcd"))),
                true,
            ),
            (
                "UDP, length past the IP payload",
                ether(0x0800, &ipv4(17, 0, &[], &udp(13, b"abcd"))),
                false,
            ),
            (
                "UDP, length 0",
                ether(0x0800, &ipv4(17, 0, &[], &udp(0, b"abcd"))),
                false,
            ),
            (
                "UDP, length 7",
                ether(0x0800, &ipv4(17, 0, &[], &udp(7, b"abcd"))),
                false,
            ),
            (
                "UDP, header cut",
                ether(0x0800, &ipv4(17, 0, &[], &[0xd4, 0x31, 0, 0x35, 0])),
                false,
            ),
            (
                "ICMP",
                ether(0x0800, &ipv4(1, 0, &[], &[8, 0, 0xf7, 0xff, 0, 0, 0, 0])),
                false,
            ),
            (
                "IPv4 options",
                ether(0x0800, &ipv4(6, 0, &[1, 1, 1, 0], &tcp(&[], body))),
                false,
            ),
            (
                "first fragment",
                ether(0x0800, &ipv4(17, 0x2000, &[], &udp(100, b"abcd"))),
                false,
            ),
            (
                "later fragment",
                ether(0x0800, &ipv4(17, 0x0004, &[], b"abcdefgh")),
                false,
            ),
            ("TSO total length 0", tso, false),
            ("total length past the capture", long_total, false),
            ("IPv6", ipv6_tcp, false),
            ("VLAN", vlan_tcp, false),
            ("802.3 length", ether(46, &[0; 46]), false),
            ("ARP", ether(0x0806, &[0; 28]), false),
            (
                "IPv4 header cut",
                ether(0x0800, &[0x45, 0, 0, 40, 0, 0]),
                false,
            ),
            (
                "Ethernet header cut",
                ether(0x0800, &[])[..10].to_vec(),
                false,
            ),
        ];
        let mut tally = Tally::default();
        for (what, bytes, taken) in cases {
            for trailer in [
                &[][..],
                &[0u8; 20][..],
                &[
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4,
                ],
            ] {
                let mut frame = bytes.clone();
                frame.extend_from_slice(trailer);
                let n = frame.len() as u32;
                let meta = FrameMeta {
                    number: 1,
                    len: n,
                    cap_len: n,
                    link_type: LinkType::ETHERNET,
                    ..FrameMeta::default()
                };
                let what = format!("{what} + {} bytes", trailer.len());
                let padded_past = trailer.len() > 1 && what.starts_with("total length past");
                assert_eq!(
                    same_both_ways(&what, &meta, &frame, NOTHING, &mut tally),
                    taken || padded_past,
                    "{what}"
                );
                for output in outputs() {
                    same_both_ways(&what, &meta, &frame, output, &mut tally);
                }
                // Any other link type: never.
                let raw = FrameMeta {
                    link_type: LinkType::RAW,
                    ..meta
                };
                assert!(
                    !same_both_ways(&what, &raw, &frame, NOTHING, &mut tally),
                    "{what} as raw IP"
                );
            }
        }
    }

    /// What the shortcut assumes of the registry: the walk dispatches these keys to the
    /// dissectors whose work it repeats.
    #[test]
    fn the_registry_binds_what_the_shortcut_repeats() {
        use crate::dissector::Table;
        use crate::proto::frame_dissector;
        let name = |t, k| frame_dissector(t, k).map(|d| d.proto().name);
        assert_eq!(name(Table::LinkType, LinkType::ETHERNET.0), Some("eth"));
        assert_eq!(name(Table::EtherType, 0x0800), Some("ip"));
        assert_eq!(name(Table::IpProto, 6), Some("tcp"));
        assert_eq!(name(Table::IpProto, 17), Some("udp"));
    }
}
