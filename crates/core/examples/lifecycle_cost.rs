//! Measures what issue 2's design limits are about: the CPU cost of one full handshake
//! plus a transfer-free four-way close (TIME-WAIT expiring on the virtual clock), with 0
//! and with N idle established connections present, and the heap per idle connection.
//!
//! `cargo run --release -p synack --example lifecycle_cost -- [cycles] [idle]`
//!
//! Two endpoints are wired back to back in memory (no simulator, no delay). This is a
//! quick check for developers; the side-by-side benchmarks live in `synack-bench`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use synack::{Config, ConnId, Endpoint, Instant, ListenerId};

/// Counts live heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

struct Pair {
    now: Instant,
    client: Endpoint,
    server: Endpoint,
    buf: Vec<u8>,
}

impl Pair {
    /// Move packets both ways until neither side has anything to send.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(n) = self.client.poll_transmit(self.now, &mut self.buf) {
                self.server.handle(self.now, &self.buf[..n]);
                moved = true;
            }
            while let Some(n) = self.server.poll_transmit(self.now, &mut self.buf) {
                self.client.handle(self.now, &self.buf[..n]);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    fn open(&mut self, l: ListenerId, server: SocketAddr) -> (ConnId, ConnId) {
        let c = self
            .client
            .connect(self.now, "0.0.0.0:0".parse().unwrap(), server)
            .unwrap();
        self.pump();
        let s = self.server.accept(l).unwrap();
        (c, s)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cycles: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let idle: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let config = Config {
        ephemeral_ports: 1024..=65535,
        ..Config::default()
    };
    let mut p = Pair {
        now: Instant::from_millis(1),
        client: Endpoint::new(config.clone(), [1; 16]),
        server: Endpoint::new(config, [2; 16]),
        buf: vec![0; 2048],
    };
    // Several client addresses so that many idle connections fit the port range.
    for i in 1..=8u8 {
        p.client
            .add_address(format!("198.18.1.{i}").parse().unwrap());
    }
    p.server.add_address("198.18.0.2".parse().unwrap());
    let server: SocketAddr = "198.18.0.2:80".parse().unwrap();
    let l = p.server.listen(server, 1 << 20).unwrap();

    let cost = |p: &mut Pair, n: u32| {
        // The connection cycles, one at a time; TIME-WAIT expires on the virtual clock.
        let start = std::time::Instant::now();
        for _ in 0..n {
            let (c, s) = p.open(l, server);
            p.client.close(p.now, c).unwrap();
            p.pump();
            p.server.close(p.now, s).unwrap();
            p.pump();
            p.now = p.now + Duration::from_secs(61);
            p.client.handle_timeout(p.now);
            p.server.handle_timeout(p.now);
        }
        start.elapsed().as_nanos() as f64 / f64::from(n)
    };

    let ns0 = cost(&mut p, cycles);
    println!(
        "handshake + four-way close + TIME-WAIT expiry, 0 idle: {ns0:.0} ns/cycle (both ends)"
    );

    let before = LIVE.load(Ordering::Relaxed);
    let conns_before = p.client.connection_count() + p.server.connection_count();
    for i in 0..idle {
        let local: SocketAddr = format!("198.18.1.{}:0", 1 + i % 8).parse().unwrap();
        let _c = p.client.connect(p.now, local, server).unwrap();
        p.pump();
        let _s = p.server.accept(l).unwrap();
    }
    let after = LIVE.load(Ordering::Relaxed);
    let conns = p.client.connection_count() + p.server.connection_count() - conns_before;
    println!(
        "heap per idle established connection (one end, incl. demux and timers): {} bytes",
        (after - before) / conns.max(1)
    );
    let ns1 = cost(&mut p, cycles);
    println!(
        "handshake + four-way close + TIME-WAIT expiry, {idle} idle: {ns1:.0} ns/cycle (both ends)"
    );
}
