//! The floor under bulk transfer: only the byte work synack's bulk benchmark cannot do
//! without, with synack's own buffers and wire code, and no TCP logic at all.
//!
//! `cargo run --release -p synack-bench --example bulk_floor [MTU] [MIB]`
//!
//! As in `synack-bench`'s bulk benchmark (1 MiB buffers, the application writing from
//! a 64 KiB block and reading into a 256 KiB one, both ends in one thread), each round:
//! - the application fills the sender's [`SendBuffer`] (1 MiB);
//! - a window of data segments (the receive buffer's free space) goes out, each summed
//!   and copied out of the send buffer (`SendBuffer::peek_summed`), its headers (ACK,
//!   timestamps) written by `synack_wire::emit_packet_in_place_summed`, then parsed
//!   with `synack_wire::parse_packet` (checksum verified) and appended to the
//!   receiver's [`ReceiveBuffer`] (1 MiB);
//! - everything sent is taken as acknowledged (the send buffer drops it);
//! - the application reads the receive buffer empty.
//!
//! No sequence-number checks, no ACK segments, no timers, no congestion control, no
//! demultiplexing: what it prints is a lower bound for synack's time per datagram with
//! these buffers and this wire code, whatever the protocol logic around them.
//! `crates/bench/README.md` sets it beside the benchmark's figures.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;
use synack::reassembly::ReceiveBuffer;
use synack::send_buffer::SendBuffer;
use synack_wire::{
    emit_packet_in_place_summed, parse_packet, payload_offset, TcpFlags, TcpOptions, TcpRepr,
    Timestamps,
};

const MIB: usize = 1 << 20;

/// One transfer of `total` bytes at `mtu`: (seconds, datagrams).
fn transfer(mtu: usize, total: u64) -> (f64, u64) {
    let src = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
    let dst = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
    let mut repr = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        seq: 1,
        ack: 1,
        flags: TcpFlags::ACK,
        window: 0xffff,
        urgent: 0,
        options: TcpOptions {
            timestamps: Some(Timestamps { tsval: 1, tsecr: 1 }),
            ..TcpOptions::default()
        },
    };
    let at = payload_offset(false, &repr);
    let mss = mtu - at;
    let data = synack_bench::pattern_block();
    let mut send = SendBuffer::new(MIB);
    let mut recv = ReceiveBuffer::new(MIB);
    let mut rbuf = vec![0u8; 256 * 1024];
    let mut datagram = vec![0u8; mtu];
    let (mut sent, mut received, mut datagrams) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    while received < total {
        while sent < total {
            let want = (total - sent).min(data.len() as u64) as usize;
            match send.write(&data[..want]) {
                0 => break,
                n => sent += n as u64,
            }
        }
        let window = recv.window();
        let mut off = 0;
        while off < send.len() && off < window {
            let n = mss.min(send.len() - off).min(window - off);
            let (n, sum) = send.peek_summed(off, &mut datagram[at..at + n]);
            let len = emit_packet_in_place_summed(&mut datagram, src, dst, 64, &repr, n, sum)
                .expect("emit");
            repr.seq = repr.seq.wrapping_add(n as u32);
            let packet = parse_packet(&datagram[..len]).expect("parse");
            let advanced = recv.insert(0, packet.payload);
            assert_eq!(advanced, n, "in order, within the window");
            off += n;
            datagrams += 1;
        }
        send.consume(off);
        loop {
            match recv.read(&mut rbuf) {
                0 => break,
                n => received += n as u64,
            }
        }
        black_box(&rbuf);
    }
    (start.elapsed().as_secs_f64(), datagrams)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mtu: usize = args.next().map_or(1500, |a| a.parse().expect("MTU"));
    let mib: u64 = args.next().map_or(1024, |a| a.parse().expect("MiB"));
    let total = mib << 20;
    let mut best = f64::MAX;
    let mut datagrams = 0;
    for _ in 0..3 {
        let (secs, n) = transfer(mtu, total);
        best = best.min(secs);
        datagrams = n;
    }
    println!(
        "bulk floor, MTU {mtu}: {mib} MiB in {best:.4} s (best of 3), {datagrams} datagrams, \
         {:.1} ns per datagram, {:.2} Gbit/s",
        best * 1e9 / datagrams as f64,
        total as f64 * 8.0 / best / 1e9
    );
}
