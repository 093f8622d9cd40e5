//! Issue 3 keeps issue 2's promise: an idle established connection stays well under
//! 1 KiB of heap, even after it has been through loss recovery. Everything SACK, RACK,
//! PRR and the scoreboard need lives in boxes that exist only while data is
//! outstanding (or out-of-order data is held), and the send and receive buffers are
//! released once drained (a second later: `BUFFER_LINGER`; the test lets 5 s pass).
//!
//! This file holds one test and a counting global allocator: it measures the whole heap
//! of two endpoints (connections, demultiplexing maps, timer heap) per connection.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use synack::{Config, ConnId, Endpoint, Instant, State};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the same arguments; the
// counter is only bookkeeping.
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

const CONNS: usize = 1000;
const BYTES: usize = 30_000;

/// Two endpoints back to back with a 10 ms delay; every `drop_every`-th data segment
/// from the client is lost (0: none).
struct Pair {
    now: Instant,
    eps: [Endpoint; 2],
    wire: Vec<(Instant, usize, Vec<u8>)>,
    buf: Vec<u8>,
    sent_data: usize,
    drop_every: usize,
}

impl Pair {
    fn flush(&mut self) {
        for i in 0..2 {
            while let Some(n) = self.eps[i].poll_transmit(self.now, &mut self.buf) {
                let pkt = synack_wire::parse_packet(&self.buf[..n]).expect("valid");
                if i == 0 && !pkt.payload.is_empty() && self.drop_every > 0 {
                    self.sent_data += 1;
                    if self.sent_data == self.drop_every {
                        self.sent_data = 0;
                        continue;
                    }
                }
                let at = self.now + Duration::from_millis(10);
                self.wire.push((at, 1 - i, self.buf[..n].to_vec()));
            }
        }
    }

    /// Run every event up to `until`.
    fn run(&mut self, until: Instant) {
        loop {
            self.flush();
            let next_pkt = self.wire.iter().map(|p| p.0).min();
            let next_timer = self.eps.iter().filter_map(|e| e.poll_timeout()).min();
            let Some(next) = [next_pkt, next_timer].into_iter().flatten().min() else {
                break;
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            let now = self.now;
            let mut due = Vec::new();
            self.wire.retain(|p| {
                if p.0 <= now {
                    due.push((p.1, p.2.clone()));
                    false
                } else {
                    true
                }
            });
            for (to, bytes) in due {
                self.eps[to].handle(now, &bytes);
            }
            for e in &mut self.eps {
                e.handle_timeout(now);
            }
        }
        self.now = self.now.max(until);
    }
}

/// Heap bytes per connection (both ends together) once `CONNS` connections, each after
/// sending `BYTES` (with `drop_every` loss), sit idle.
fn idle_heap_per_connection(drop_every: usize, transfer: bool) -> (usize, u64, u32) {
    let config = Config {
        ephemeral_ports: 1024..=65535,
        ..Config::default()
    };
    let mut p = Pair {
        now: Instant::from_millis(1),
        eps: [
            Endpoint::new(config.clone(), [1; 16]),
            Endpoint::new(config, [2; 16]),
        ],
        wire: Vec::new(),
        buf: vec![0; 2048],
        sent_data: 0,
        drop_every,
    };
    p.eps[0].add_address("198.18.0.1".parse().unwrap());
    p.eps[1].add_address("198.18.0.2".parse().unwrap());
    let server: SocketAddr = "198.18.0.2:80".parse().unwrap();
    let l = p.eps[1].listen(server, CONNS * 2).unwrap();
    let mut read = vec![0u8; 65_536];
    let before = LIVE.load(Ordering::Relaxed);
    let mut pairs: Vec<(ConnId, ConnId)> = Vec::new();
    for _ in 0..CONNS {
        let c = p.eps[0]
            .connect(p.now, "0.0.0.0:0".parse().unwrap(), server)
            .unwrap();
        p.run(p.now + Duration::from_millis(30));
        let s = p.eps[1].accept(l).expect("accepted");
        pairs.push((c, s));
    }
    if transfer {
        let data = vec![7u8; BYTES];
        for &(c, _) in &pairs {
            assert_eq!(p.eps[0].send(p.now, c, &data), Ok(BYTES));
        }
        let mut got = vec![0usize; CONNS];
        for _ in 0..2000 {
            p.run(p.now + Duration::from_millis(50));
            for (k, &(_, s)) in pairs.iter().enumerate() {
                while let Ok(n) = p.eps[1].recv(p.now, s, &mut read) {
                    if n == 0 {
                        break;
                    }
                    got[k] += n;
                }
            }
            if got.iter().all(|g| *g == BYTES) {
                break;
            }
        }
        assert!(got.iter().all(|g| *g == BYTES), "every transfer completed");
    }
    // Let delayed ACKs, probes and timers settle.
    p.run(p.now + Duration::from_secs(5));
    let mut lost = 0;
    let mut recoveries = 0;
    for &(c, s) in &pairs {
        assert_eq!(p.eps[0].state(c), Some(State::Established));
        assert_eq!(p.eps[1].state(s), Some(State::Established));
        let st = p.eps[0].stats(c).unwrap();
        assert_eq!(st.bytes_in_flight, 0);
        assert!(!st.in_recovery);
        lost += st.segments_lost;
        recoveries += st.fast_recoveries;
    }
    assert!(p.wire.is_empty());
    p.wire = Vec::new();
    let after = LIVE.load(Ordering::Relaxed);
    let per = after.saturating_sub(before) / CONNS;
    (per, lost, recoveries)
}

#[test]
fn idle_connections_stay_under_a_kibibyte_after_loss_recovery() {
    let (plain, _, _) = idle_heap_per_connection(0, false);
    let (lossy, lost, recoveries) = idle_heap_per_connection(7, true);
    println!(
        "heap per idle connection (both ends): {plain} bytes after the handshake, {lossy} \
         bytes after {BYTES}-byte transfers that lost {lost} segments in {recoveries} \
         recoveries"
    );
    assert!(
        lost > 0 && recoveries > 0,
        "the transfers went through loss recovery"
    );
    assert!(plain < 2 * 1024, "{plain} bytes for two ends");
    assert!(
        lossy < 2 * 1024,
        "{lossy} bytes for two ends: over 1 KiB per connection end"
    );
    assert!(
        lossy <= plain + 128,
        "loss recovery left state behind: {lossy} vs {plain} bytes"
    );
}
