//! L2–L4 dissection per packet (criterion): each layer alone, whole frames from the link layer
//! down with no field wanted (the `-P` / flow path) and with every field wanted (`-V`, JSON),
//! and whole bundled captures as packets per second.
//!
//! `cargo bench --bench dissect`. The end-to-end comparison with tshark and tcpdump on the
//! 1 GB file is `benches/compare/run.sh`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsniff::source::file::FileSource;
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::proto::{self, frame_dissector};
use netsniff_dissectors::{
    Columns, Cx, FieldDef, FieldSink, FrameMeta, NullSink, PacketInfo, Proto, Span, Table, Value,
};
use std::hint::black_box;
use std::path::Path;

/// Wants every field and counts them (the cost of emission without any formatting).
#[derive(Default)]
struct CountSink(u64);

impl FieldSink for CountSink {
    fn wants(&self, _proto: &'static Proto) -> bool {
        true
    }
    fn layer(&mut self, _proto: &'static Proto, _span: Span) {}
    fn field(&mut self, _def: &'static FieldDef, _span: Span, value: Value<'_>) {
        self.0 += 1;
        black_box(value);
    }
}

fn frames(capture: &str) -> Vec<(FrameMeta, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/captures")
        .join(capture);
    let mut src = FileSource::open(&path).expect("bundled capture");
    let mut out = Vec::new();
    while let Ok(Some(f)) = src.next() {
        out.push((f.meta, f.data.to_vec()));
    }
    out
}

/// The first frame of `capture` whose `frame.protocols` is `path`.
fn frame_with(capture: &str, path: &str) -> (FrameMeta, Vec<u8>) {
    for (meta, data) in frames(capture) {
        let (mut pi, mut stack, mut sink) =
            (PacketInfo::default(), ProtoStack::default(), NullSink);
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        proto::dissect_frame(&meta, &data, &mut pi, &mut cx);
        if stack.as_slice().join(":") == path {
            return (meta, data);
        }
    }
    panic!("{capture}: no frame is {path}");
}

fn whole_frame(c: &mut Criterion) {
    let cases = [
        (
            "eth-ipv4-tcp",
            frame_with("tcp-handshake.pcap", "eth:ethertype:ip:tcp"),
        ),
        (
            "eth-vlan-ipv4-udp",
            frame_with("dns.pcap", "eth:ethertype:vlan:ethertype:ip:udp"),
        ),
        (
            "eth-ipv6-tcp",
            frame_with("ipv6-icmp.pcap", "eth:ethertype:ipv6:tcp"),
        ),
        (
            "sll2-ipv4-tcp",
            frame_with("grpc.pcap", "sll:ethertype:ip:tcp"),
        ),
    ];
    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Elements(1));
    for (name, (meta, data)) in &cases {
        g.bench_function(format!("{name}/no-fields"), |b| {
            let (mut stack, mut sink, mut cols) =
                (ProtoStack::default(), NullSink, Columns::default());
            b.iter(|| {
                let mut pi = PacketInfo::default();
                stack.clear();
                cols.clear();
                let mut cx = Cx::new(&mut sink, Some(&mut cols), &mut stack);
                proto::dissect_frame(meta, black_box(data), &mut pi, &mut cx);
                black_box(pi.payload_len)
            })
        });
        g.bench_function(format!("{name}/all-fields"), |b| {
            let (mut stack, mut sink) = (ProtoStack::default(), CountSink::default());
            b.iter(|| {
                let mut pi = PacketInfo::default();
                stack.clear();
                let mut cx = Cx::new(&mut sink, None, &mut stack);
                proto::dissect_frame(meta, black_box(data), &mut pi, &mut cx);
                black_box(pi.payload_len)
            })
        });
    }
    g.finish();
}

fn per_layer(c: &mut Criterion) {
    let (_, tcp4) = frame_with("tcp-handshake.pcap", "eth:ethertype:ip:tcp");
    let (_, udp4) = frame_with("dns.pcap", "eth:ethertype:vlan:ethertype:ip:udp");
    let (_, tcp6) = frame_with("ipv6-icmp.pcap", "eth:ethertype:ipv6:tcp");
    // (name, table, key, bytes, offset of the layer in the frame)
    let layers: [(&str, Table, u32, &[u8], usize); 6] = [
        ("eth", Table::LinkType, 1, &tcp4, 0),
        ("vlan", Table::EtherType, 0x8100, &udp4[12..], 12),
        ("ipv4", Table::EtherType, 0x0800, &tcp4[14..], 14),
        ("ipv6", Table::EtherType, 0x86dd, &tcp6[14..], 14),
        ("tcp", Table::IpProto, 6, &tcp4[34..], 34),
        ("udp", Table::IpProto, 17, &udp4[38..], 38),
    ];
    let mut g = c.benchmark_group("layer");
    g.throughput(Throughput::Elements(1));
    for (name, table, key, bytes, offset) in layers {
        let d = frame_dissector(table, key).expect("registered");
        g.bench_function(name, |b| {
            let (mut stack, mut sink) = (ProtoStack::default(), NullSink);
            b.iter(|| {
                let mut pi = PacketInfo::default();
                stack.clear();
                let mut cx = Cx::new(&mut sink, None, &mut stack);
                black_box(
                    d.dissect(black_box(bytes), offset, &mut pi, &mut cx)
                        .is_ok(),
                )
            })
        });
    }
    g.finish();
}

fn captures(c: &mut Criterion) {
    let mut g = c.benchmark_group("capture");
    for name in ["tcp-impairments.pcap", "http1.pcap", "dns.pcap"] {
        let all = frames(name);
        g.throughput(Throughput::Elements(all.len() as u64));
        g.bench_function(name, |b| {
            let (mut stack, mut sink) = (ProtoStack::default(), NullSink);
            b.iter(|| {
                for (meta, data) in &all {
                    let mut pi = PacketInfo::default();
                    stack.clear();
                    let mut cx = Cx::new(&mut sink, None, &mut stack);
                    proto::dissect_frame(meta, data, &mut pi, &mut cx);
                    black_box(pi.payload_len);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, whole_frame, per_layer, captures);
criterion_main!(benches);
