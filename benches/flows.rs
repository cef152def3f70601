//! The flow engine alone (packets/s): frames already dissected to L4 are fed to
//! `FlowEngine::process` with no output wanted (the `-q` / `flows` path), for three shapes of
//! traffic: short TCP connections (handshake, request, response, close), one long bulk
//! transfer, and UDP request/response pairs.
//!
//! `cargo bench --bench flows`; the end-to-end comparison with tshark on the 1 GB file is in
//! the timing notes of the flow issue.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use netsniff::flow::{FlowConfig, FlowEngine};
use netsniff_dissectors::pinfo::ProtoStack;
use netsniff_dissectors::{Cx, FrameMeta, Net, NullSink, PacketInfo, TcpInfo, Transport, UdpInfo};
use std::hint::black_box;

/// One dissected frame: what the flow engine receives.
struct Frame {
    meta: FrameMeta,
    pi: PacketInfo,
    payload: Vec<u8>,
}

fn frame(n: u64, src: [u8; 4], dst: [u8; 4], t: Transport, payload: &[u8]) -> Frame {
    let (hdr, proto) = match t {
        Transport::Tcp(_) => (20u32, 6),
        _ => (8, 17),
    };
    Frame {
        meta: FrameMeta {
            number: n,
            secs: 1_700_000_000 + (n / 100_000) as i64,
            nanos: ((n % 100_000) * 10_000) as u32,
            len: 34 + hdr + payload.len() as u32,
            cap_len: 34 + hdr + payload.len() as u32,
            ..FrameMeta::default()
        },
        pi: PacketInfo {
            net: Net::V4 { src, dst },
            ip_proto: proto,
            transport: t,
            l4_claimed_len: Some(hdr + payload.len() as u32),
            payload_start: 34 + hdr,
            payload_len: payload.len() as u32,
            ..PacketInfo::default()
        },
        payload: payload.to_vec(),
    }
}

fn tcp(sp: u16, dp: u16, flags: u16, seq: u32, ack: u32, len: usize) -> Transport {
    Transport::Tcp(TcpInfo {
        src_port: sp,
        dst_port: dp,
        seq,
        ack,
        flags,
        window: 500,
        hdr_len: 20,
        seg_len: len as u32,
        ..TcpInfo::default()
    })
}

/// `conns` short connections to port 9 (no application protocol), 10 frames each.
fn short_connections(conns: u32) -> Vec<Frame> {
    const S: u16 = TcpInfo::SYN;
    const A: u16 = TcpInfo::ACK;
    const P: u16 = TcpInfo::PSH;
    const F: u16 = TcpInfo::FIN;
    let mut out = Vec::new();
    let server = [10, 0, 0, 2];
    let req = vec![b'q'; 200];
    let resp = vec![b'r'; 1400];
    for i in 0..conns {
        let client = [10, 1, (i >> 8) as u8, i as u8];
        let cp = 30_000 + (i % 30_000) as u16;
        let (c, s) = (i.wrapping_mul(7919), i.wrapping_mul(104_729));
        let mut n = out.len() as u64;
        let mut push = |up: bool, t: Transport, p: &[u8]| {
            n += 1;
            out.push(if up {
                frame(n, client, server, t, p)
            } else {
                frame(n, server, client, t, p)
            });
        };
        push(true, tcp(cp, 9, S, c, 0, 0), &[]);
        push(false, tcp(9, cp, S | A, s, c + 1, 0), &[]);
        push(true, tcp(cp, 9, A, c + 1, s + 1, 0), &[]);
        push(true, tcp(cp, 9, A | P, c + 1, s + 1, 200), &req);
        push(false, tcp(9, cp, A, s + 1, c + 201, 0), &[]);
        push(false, tcp(9, cp, A | P, s + 1, c + 201, 1400), &resp);
        push(true, tcp(cp, 9, A, c + 201, s + 1401, 0), &[]);
        push(true, tcp(cp, 9, F | A, c + 201, s + 1401, 0), &[]);
        push(false, tcp(9, cp, F | A, s + 1401, c + 202, 0), &[]);
        push(true, tcp(cp, 9, A, c + 202, s + 1402, 0), &[]);
    }
    out
}

/// One connection carrying `segments` full-size segments, one ACK for every two.
fn bulk(segments: u32) -> Vec<Frame> {
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let data = vec![b'd'; 1448];
    let mut out = Vec::new();
    let (c, s) = (1000u32, 5000u32);
    let mut n = 0;
    let mut push = |up: bool, t: Transport, p: &[u8]| {
        n += 1;
        out.push(if up {
            frame(n, client, server, t, p)
        } else {
            frame(n, server, client, t, p)
        });
    };
    push(true, tcp(40000, 9, TcpInfo::SYN, c, 0, 0), &[]);
    push(
        false,
        tcp(9, 40000, TcpInfo::SYN | TcpInfo::ACK, s, c + 1, 0),
        &[],
    );
    push(true, tcp(40000, 9, TcpInfo::ACK, c + 1, s + 1, 0), &[]);
    for k in 0..segments {
        let seq = (s + 1).wrapping_add(k * 1448);
        push(false, tcp(9, 40000, TcpInfo::ACK, seq, c + 1, 1448), &data);
        if k % 2 == 1 {
            push(
                true,
                tcp(40000, 9, TcpInfo::ACK, c + 1, seq.wrapping_add(1448), 0),
                &[],
            );
        }
    }
    out
}

/// `pairs` UDP request/response pairs, each from its own client port.
fn udp_pairs(pairs: u32) -> Vec<Frame> {
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let q = vec![b'q'; 40];
    let r = vec![b'r'; 120];
    let mut out = Vec::new();
    for i in 0..pairs {
        let cp = 10_000 + (i % 50_000) as u16;
        let n = out.len() as u64;
        let t = |sp: u16, dp: u16, len: u16| {
            Transport::Udp(UdpInfo {
                src_port: sp,
                dst_port: dp,
                length: 8 + len,
            })
        };
        out.push(frame(n + 1, client, server, t(cp, 9999, 40), &q));
        out.push(frame(n + 2, server, client, t(9999, cp, 120), &r));
    }
    out
}

fn run(frames: &[Frame]) -> usize {
    let mut engine = FlowEngine::new(FlowConfig::default());
    let mut sink = NullSink;
    let mut stack = ProtoStack::default();
    for f in frames {
        stack.clear();
        let mut cx = Cx::new(&mut sink, None, &mut stack);
        engine.process(&f.meta, &f.pi, &f.payload, &mut cx);
    }
    engine.finish();
    engine.live_flows()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow_engine");
    for (name, frames) in [
        ("short_tcp_connections", short_connections(5_000)),
        ("tcp_bulk", bulk(50_000)),
        ("udp_pairs", udp_pairs(25_000)),
    ] {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(|| (), |()| black_box(run(&frames)), BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
