//! The floor under a connection cycle: only the operations synack's cycle cannot do
//! without, with synack's own wire code, and no TCP logic at all.
//!
//! `cargo run --release -p synack-bench --example cycle_floor [CYCLES]`
//!
//! Per cycle, as in `synack-bench`'s cycles benchmark (connect, accept, four-way close):
//! - the 7 segments (SYN and SYN-ACK with MSS, window scale, SACK-permitted and
//!   timestamps; ACK, FIN, ACK, FIN, ACK with timestamps) each emitted with
//!   `synack_wire::emit_packet` (checksums computed) and parsed with
//!   `synack_wire::parse_packet` (checksums verified);
//! - three keyed SipHash-2-4 hashes of the 4-tuple (the two ISNs and the ephemeral
//!   port's offset, RFC 6528 and RFC 6056), with the `siphasher` crate;
//! - the demultiplexing table: each end's 4-tuple entered, looked up for each segment
//!   it receives, and removed, in a `hashbrown` table under keyed SipHash-1-3;
//! - a timer-heap entry per segment, all popped at the end;
//! - two 680-byte TCBs built and freed in a slab.
//!
//! What it prints is a lower bound for what synack's cycle could cost with this wire
//! code and these hashes, whatever the state machine around them; `crates/bench/README.md`
//! sets it against the 2× target of issue 6.

use hashbrown::HashTable;
use siphasher::sip::{SipHasher13, SipHasher24};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hasher;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use synack_wire::{emit_packet, parse_packet, TcpFlags, TcpOptions, TcpRepr, Timestamps};

/// A TCB's size in synack (`size_of::<Connection>()`).
struct Tcb {
    _words: [u64; 85],
}

/// A 4-tuple packed in two words, as the demultiplexer packs an IPv4 one.
type Key = (u64, u64);

fn key(local: u32, remote: u32, local_port: u16, remote_port: u16) -> Key {
    (
        (u64::from(local) << 32) | u64::from(remote),
        (u64::from(local_port) << 16) | u64::from(remote_port),
    )
}

fn sip13(k: Key) -> u64 {
    let mut h = SipHasher13::new_with_keys(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
    h.write_u64(k.0);
    h.write_u64(k.1);
    h.finish()
}

fn sip24(k: Key) -> u64 {
    let mut h = SipHasher24::new_with_keys(0x1716_1514_1312_1110, 0x1f1e_1d1c_1b1a_1918);
    h.write_u64(k.0);
    h.write_u64(k.1);
    h.finish()
}

/// The 7 segments of a cycle: (from the client?, flags, options).
fn segments() -> [(bool, TcpRepr); 7] {
    let ts = Some(Timestamps {
        tsval: 100,
        tsecr: 200,
    });
    let syn = TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: ts,
        ..TcpOptions::default()
    };
    let plain = TcpOptions {
        timestamps: ts,
        ..TcpOptions::default()
    };
    let repr = |client: bool, flags, options| {
        let (src_port, dst_port) = if client { (40000, 80) } else { (80, 40000) };
        (
            client,
            TcpRepr {
                src_port,
                dst_port,
                seq: 1000,
                ack: 2000,
                flags,
                window: 500,
                urgent: 0,
                options,
            },
        )
    };
    [
        repr(true, TcpFlags::SYN, syn),
        repr(false, TcpFlags::SYN | TcpFlags::ACK, syn),
        repr(true, TcpFlags::ACK, plain),
        repr(true, TcpFlags::FIN | TcpFlags::ACK, plain),
        repr(false, TcpFlags::ACK, plain),
        repr(false, TcpFlags::FIN | TcpFlags::ACK, plain),
        repr(true, TcpFlags::ACK, plain),
    ]
}

fn main() {
    let cycles: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let client = Ipv4Addr::new(198, 18, 1, 1);
    let server = Ipv4Addr::new(198, 18, 0, 2);
    let segments = segments();
    let mut table: HashTable<(Key, u32)> = HashTable::with_capacity(64);
    let mut timers: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::with_capacity(64);
    let mut slab: Vec<Option<Tcb>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; 1500];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let mut acc = 0u64;
        for i in 0..cycles {
            let now = i * 1_000;
            let port = 1024 + (i % 60_000) as u16;
            let tuple = key(client.to_bits(), server.to_bits(), port, 80);
            // The ephemeral port's offset and the client's ISN; the server's ISN below.
            acc ^= sip24(tuple) ^ sip24((tuple.0, tuple.1 ^ 1));
            let mut ends = [0u32; 2];
            for (end, slot) in ends.iter_mut().enumerate() {
                let index = free.pop().unwrap_or_else(|| {
                    slab.push(None);
                    slab.len() - 1
                });
                slab[index] = Some(black_box(Tcb {
                    _words: [now ^ end as u64; 85],
                }));
                let k = (tuple.0 ^ end as u64, tuple.1);
                table.insert_unique(sip13(k), (k, index as u32), |e| sip13(e.0));
                *slot = index as u32;
            }
            acc ^= sip24((tuple.1, tuple.0));
            for (j, (from_client, repr)) in segments.iter().enumerate() {
                let (src, dst) = if *from_client {
                    (client, server)
                } else {
                    (server, client)
                };
                let mut repr = *repr;
                repr.seq = repr.seq.wrapping_add(i as u32);
                let n = emit_packet(&mut buf, IpAddr::V4(src), IpAddr::V4(dst), 64, &repr, &[])
                    .expect("emit");
                let parsed = parse_packet(black_box(&buf[..n])).expect("parse");
                acc ^= u64::from(parsed.tcp.seq);
                // Delivered to the other end.
                let end = usize::from(*from_client);
                let k = (tuple.0 ^ end as u64, tuple.1);
                if let Some(e) = table.find(sip13(k), |e| e.0 == k) {
                    acc ^= u64::from(e.1);
                }
                timers.push(Reverse((now + 200 + j as u64, ends[end])));
            }
            while let Some(Reverse((_, index))) = timers.pop() {
                acc ^= u64::from(index);
            }
            for (end, &index) in ends.iter().enumerate() {
                let k = (tuple.0 ^ end as u64, tuple.1);
                if let Ok(e) = table.find_entry(sip13(k), |e| e.0 == k) {
                    e.remove();
                }
                slab[index as usize] = None;
                free.push(index as usize);
            }
        }
        black_box(acc);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{cycles} cycles of only the unavoidable operations: {:.1} ns per cycle (best of 3)",
        best * 1e9 / cycles as f64
    );
}
