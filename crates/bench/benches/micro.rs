//! Criterion micro-benchmarks of the hot paths: the Internet checksum (and the copy
//! made with it), parsing and emitting a data segment, ACK processing at the sender,
//! and reassembly with holes.
//!
//! `cargo bench -p synack-bench --bench micro`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::net::SocketAddr;
use synack::reassembly::ReceiveBuffer;
use synack::Config;
use synack_bench::synack_stack::Pair;

/// An established pair; returns it with the client's and server's connection ids.
fn established() -> (Pair, synack::ConnId, synack::ConnId) {
    let mut p = Pair::new(Config::default());
    let l = p
        .server
        .listen("198.18.0.2:80".parse().unwrap(), 16)
        .unwrap();
    let (c, s) = p
        .open(l, "198.18.1.1:0".parse::<SocketAddr>().unwrap(), 80)
        .unwrap();
    (p, c, s)
}

/// Datagrams the client has to send now.
fn drain(ep: &mut synack::Endpoint, now: synack::Instant) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let mut out = Vec::new();
    while let Some(n) = ep.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

fn checksum(c: &mut Criterion) {
    let mut g = c.benchmark_group("checksum");
    for len in [40usize, 1460, 65_495] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(format!("{len} bytes"), |b| {
            b.iter(|| synack_wire::checksum::checksum(black_box(&data)))
        });
    }
    // Copying a payload and summing it: in one pass (`sum_copy`, the sender's and the
    // receiver's path), and as a sum followed by a copy. The destination starts 52
    // bytes into its buffer, where a payload sits in a datagram with timestamps.
    for len in [1448usize, 65_483] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let mut out = vec![0u8; len + 52];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(format!("copy and sum {len} bytes, one pass"), |b| {
            b.iter(|| synack_wire::checksum::sum_copy(black_box(&data), &mut out[52..]))
        });
        g.bench_function(format!("copy and sum {len} bytes, sum then copy"), |b| {
            b.iter(|| {
                let sum = synack_wire::checksum::sum(black_box(&data));
                out[52..].copy_from_slice(&data);
                sum
            })
        });
    }
    g.finish();
}

fn parse_emit(c: &mut Criterion) {
    let (mut p, conn, _) = established();
    p.client.send(p.now, conn, &[7u8; 1448]).unwrap();
    let pkt = drain(&mut p.client, p.now).remove(0);
    let parsed = synack_wire::parse_packet(&pkt).unwrap();
    let (src, dst, repr, payload) = (parsed.src, parsed.dst, parsed.tcp, parsed.payload.to_vec());
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Bytes(pkt.len() as u64));
    g.bench_function("parse 1500-byte datagram (checksums verified)", |b| {
        b.iter(|| synack_wire::parse_packet(black_box(&pkt)).map(|p| p.payload.len()))
    });
    let mut buf = vec![0u8; 1500];
    g.bench_function("emit 1500-byte datagram (checksums computed)", |b| {
        b.iter(|| synack_wire::emit_packet(&mut buf, src, dst, 64, black_box(&repr), &payload))
    });
    g.finish();
    // A header-only segment with timestamps, as a pure ACK is: 52 bytes.
    let mut small = vec![0u8; 1500];
    let n = synack_wire::emit_packet(&mut small, src, dst, 64, &repr, b"").unwrap();
    small.truncate(n);
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Bytes(small.len() as u64));
    g.bench_function(format!("parse {n}-byte header-only datagram"), |b| {
        b.iter(|| synack_wire::parse_packet(black_box(&small)).map(|p| p.payload.len()))
    });
    g.bench_function(format!("emit {n}-byte header-only datagram"), |b| {
        b.iter(|| synack_wire::emit_packet(&mut buf, src, dst, 64, black_box(&repr), b""))
    });
    // A duplicate ACK during loss recovery: timestamps and three SACK blocks.
    let mut dup_ack = repr;
    for i in 1..=3u32 {
        dup_ack.options.sack.push(synack_wire::SackBlock {
            left: repr.ack.wrapping_add(i * 3000),
            right: repr.ack.wrapping_add(i * 3000 + 1448),
        });
    }
    let len = synack_wire::packet_len(false, &dup_ack, 0);
    g.bench_function(format!("emit {len}-byte ACK with 3 SACK blocks"), |b| {
        b.iter(|| synack_wire::emit_packet(&mut buf, src, dst, 64, black_box(&dup_ack), b""))
    });
    g.finish();
}

fn ack_processing(c: &mut Criterion) {
    let mut g = c.benchmark_group("ack");
    // Setup: the client has sent its initial window (64 KiB queued); the server's ACKs
    // for it are captured.
    let setup = || {
        let (mut p, conn, _) = established();
        p.client.send(p.now, conn, &[7u8; 64 * 1024]).unwrap();
        let data = drain(&mut p.client, p.now);
        // The server's ACKs as it would send them, segment by segment.
        let mut acks = Vec::new();
        for d in &data {
            p.server.handle(p.now, d);
            acks.extend(drain(&mut p.server, p.now));
        }
        (p, acks)
    };
    let n = setup().1.len() as u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function(format!("{n} ACKs for an initial window of data"), |b| {
        b.iter_batched(
            setup,
            |(mut p, acks)| {
                for a in &acks {
                    p.client.handle(p.now, a);
                }
                p
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn reassembly(c: &mut Criterion) {
    let seg = [9u8; 1448];
    let n = 256usize;
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("256 segments, every other one late", |b| {
        let mut out = vec![0u8; n * seg.len()];
        b.iter_batched(
            || ReceiveBuffer::new(1 << 20),
            |mut rb| {
                for i in (1..n).step_by(2) {
                    rb.insert(i * seg.len(), &seg);
                }
                for i in (0..n).step_by(2) {
                    rb.insert(i * seg.len(), &seg);
                }
                rb.read(&mut out)
            },
            BatchSize::SmallInput,
        )
    });
    // Many holes at once (a large window through heavy loss): 1,000 held ranges, then
    // the holes filled in order, each fill making its range readable, with reads in
    // between. The cost per fill should not grow with the ranges still held.
    let holes = 1000usize;
    g.throughput(Throughput::Elements(holes as u64));
    g.bench_function("1000 holes filled in order, read as they fill", |b| {
        let mut out = vec![0u8; 4 * seg.len()];
        b.iter_batched(
            || {
                let mut rb = ReceiveBuffer::new(4 << 20);
                for i in 0..holes {
                    rb.insert((2 * i + 1) * seg.len(), &seg);
                }
                rb
            },
            |mut rb| {
                for _ in 0..holes {
                    rb.insert(0, &seg);
                    rb.read(&mut out);
                }
                rb
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, checksum, parse_emit, ack_processing, reassembly);
criterion_main!(benches);
