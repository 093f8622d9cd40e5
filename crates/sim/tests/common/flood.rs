//! A lean deterministic network for floods: one server endpoint and one client endpoint
//! (which may hold many connections) joined by a fixed-latency, lossless path, plus an
//! attacker that delivers forged datagrams straight to the server. Unlike `Sim`, it
//! keeps no record of each datagram, so a million forged segments cost no memory; the
//! server's replies to forged (unroutable) sources are counted and dropped.
#![allow(dead_code)]

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use synack::{Config, Endpoint, Instant};
use synack_sim::Rng;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr, Timestamps};

pub const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
pub const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
pub const SERVER_PORT: u16 = 80;

pub fn server_addr() -> SocketAddr {
    SocketAddr::new(SERVER_IP, SERVER_PORT)
}

/// Which endpoint a datagram is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum To {
    Client,
    Server,
}

/// A datagram on the path: arrival time, sending order, receiver, bytes.
type InFlight = Reverse<(Instant, u64, To, Vec<u8>)>;

pub struct FloodNet {
    pub now: Instant,
    pub server: Endpoint,
    pub client: Endpoint,
    wire: BinaryHeap<InFlight>,
    order: u64,
    pub latency: Duration,
    /// Datagrams the server sent to addresses nobody owns (answers to forged sources).
    pub stray: u64,
    /// Datagrams the server sent to the client, by kind: pure ACKs with no data.
    pub server_pure_acks: u64,
    buf: Vec<u8>,
}

impl FloodNet {
    pub fn new(seed: u64, client: Config, server: Config) -> FloodNet {
        let mut secret = [0u8; 16];
        Rng::new(seed).fill(&mut secret);
        let mut s = Endpoint::new(server, secret);
        s.add_address(SERVER_IP);
        Rng::new(seed ^ 0xC11E).fill(&mut secret);
        let mut c = Endpoint::new(client, secret);
        c.add_address(CLIENT_IP);
        FloodNet {
            now: Instant::ZERO,
            server: s,
            client: c,
            wire: BinaryHeap::new(),
            order: 0,
            latency: Duration::from_millis(10),
            stray: 0,
            server_pure_acks: 0,
            buf: vec![0; 65_536],
        }
    }

    fn push(&mut self, at: Instant, to: To, bytes: Vec<u8>) {
        self.order += 1;
        self.wire.push(Reverse((at, self.order, to, bytes)));
    }

    /// Put everything both endpoints want to send on the path.
    pub fn flush(&mut self) {
        let at = self.now + self.latency;
        while let Some(n) = self.server.poll_transmit(self.now, &mut self.buf) {
            let pkt = &self.buf[..n];
            match synack_wire::parse_packet(pkt) {
                Ok(p) if p.dst == CLIENT_IP => {
                    if p.payload.is_empty() && p.tcp.flags == TcpFlags::ACK {
                        self.server_pure_acks += 1;
                    }
                    let bytes = pkt.to_vec();
                    self.push(at, To::Client, bytes);
                }
                _ => self.stray += 1,
            }
        }
        while let Some(n) = self.client.poll_transmit(self.now, &mut self.buf) {
            let bytes = self.buf[..n].to_vec();
            self.push(at, To::Server, bytes);
        }
    }

    /// When the next datagram arrives or timer fires.
    pub fn next_event(&self) -> Option<Instant> {
        let w = self.wire.peek().map(|r| r.0 .0);
        let t = [self.server.poll_timeout(), self.client.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match (w, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handle everything due up to `until` (datagrams and timers, in time order), then
    /// set the clock to `until`.
    pub fn run_until(&mut self, until: Instant) {
        self.flush();
        while let Some(t) = self.next_event() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            if self.server.poll_timeout().is_some_and(|d| d <= self.now) {
                self.server.handle_timeout(self.now);
            }
            if self.client.poll_timeout().is_some_and(|d| d <= self.now) {
                self.client.handle_timeout(self.now);
            }
            while self.wire.peek().is_some_and(|r| r.0 .0 <= self.now) {
                let Some(Reverse((_, _, to, bytes))) = self.wire.pop() else {
                    break;
                };
                match to {
                    To::Client => self.client.handle(self.now, &bytes),
                    To::Server => self.server.handle(self.now, &bytes),
                }
            }
            self.flush();
        }
        self.now = self.now.max(until);
    }

    /// Deliver a forged datagram to the server now.
    pub fn forge(&mut self, datagram: &[u8]) {
        self.server.handle(self.now, datagram);
        self.flush();
    }
}

/// A datagram from `src` to `dst` with the given header fields (a SYN carries MSS 1460,
/// and timestamps, window scaling and SACK-permitted if `options`).
pub fn forged(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    options: bool,
) -> Vec<u8> {
    let options = if flags.syn() {
        TcpOptions {
            mss: Some(1460),
            window_scale: options.then_some(7),
            sack_permitted: options,
            timestamps: options.then_some(Timestamps {
                tsval: seq,
                tsecr: 0,
            }),
            ..TcpOptions::default()
        }
    } else {
        TcpOptions::default()
    };
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack,
        flags,
        window: 65_535,
        urgent: 0,
        options,
    };
    let mut buf = vec![0u8; 120];
    let n = synack_wire::emit_packet(&mut buf, src.ip(), dst.ip(), 64, &repr, &[])
        .expect("emit forged segment");
    buf.truncate(n);
    buf
}

/// A random source inside 198.18.0.0/15 that is neither the client nor the server.
pub fn spoofed_source(rng: &mut Rng) -> SocketAddr {
    loop {
        let r = rng.next_u64();
        let host = (r as u32) & 0x1_FFFF; // 17 bits: 198.18.0.0/15
        let ip = Ipv4Addr::from(0xC612_0000u32 | host);
        let ip = IpAddr::V4(ip);
        if ip != CLIENT_IP && ip != SERVER_IP && host & 0xFF != 0 && host & 0xFF != 0xFF {
            return SocketAddr::new(ip, 1024 + ((r >> 32) as u16 % 60_000));
        }
    }
}

/// A count from the environment variable `name`, or `default`.
pub fn count_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}
