//! Two endpoints wired back to back with a fixed one-way delay and no loss: the smallest
//! harness that drives the sans-IO core end to end (the simulator crate does far more).

use std::net::SocketAddr;
use synack::{Config, Endpoint, Instant, State};

struct Pair {
    now: Instant,
    eps: [Endpoint; 2],
    /// (deliver_at, to, bytes)
    wire: Vec<(Instant, usize, Vec<u8>)>,
    delay: std::time::Duration,
}

impl Pair {
    fn new() -> Self {
        let mut a = Endpoint::new(Config::default(), [1; 16]);
        let mut b = Endpoint::new(Config::default(), [2; 16]);
        a.add_address("198.18.0.1".parse().unwrap());
        b.add_address("198.18.0.2".parse().unwrap());
        Pair {
            now: Instant::ZERO,
            eps: [a, b],
            wire: Vec::new(),
            delay: std::time::Duration::from_millis(10),
        }
    }

    fn flush(&mut self) {
        let mut buf = vec![0u8; 1500];
        for i in 0..2 {
            while let Some(n) = self.eps[i].poll_transmit(self.now, &mut buf) {
                self.wire
                    .push((self.now + self.delay, 1 - i, buf[..n].to_vec()));
            }
        }
    }

    /// Advance to the next event; false when nothing is left before `limit`.
    fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let next_pkt = self.wire.iter().map(|p| p.0).min();
        let next_timer = self.eps.iter().filter_map(|e| e.poll_timeout()).min();
        let next = match (next_pkt, next_timer) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => return false,
        };
        if next > limit {
            return false;
        }
        self.now = self.now.max(next);
        let (due, rest): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|p| p.0 <= self.now);
        self.wire = rest;
        for (_, to, bytes) in due {
            self.eps[to].handle(self.now, &bytes);
        }
        for e in &mut self.eps {
            e.handle_timeout(self.now);
        }
        self.flush();
        true
    }
}

#[test]
fn handshake_data_both_ways_and_four_way_close() {
    let mut p = Pair::new();
    let server: SocketAddr = "198.18.0.2:80".parse().unwrap();
    let l = p.eps[1].listen(server, 16).unwrap();
    let c = p.eps[0]
        .connect(p.now, "0.0.0.0:0".parse().unwrap(), server)
        .unwrap();
    let limit = Instant::from_millis(200_000);
    while p.eps[0].state(c) != Some(State::Established) {
        assert!(p.step(limit));
    }
    let mut s = None;
    while s.is_none() {
        assert!(p.step(limit));
        s = p.eps[1].accept(l).ok();
    }
    let s = s.unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 8192];
    while got.len() < data.len() {
        if sent < data.len() {
            if let Ok(n) = p.eps[0].send(p.now, c, &data[sent..]) {
                sent += n;
            }
        }
        if let Ok(n) = p.eps[1].recv(p.now, s, &mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        assert!(p.step(limit), "stalled at {} of {}", got.len(), data.len());
    }
    assert_eq!(got, data);
    // the server answers, then the client closes first
    assert_eq!(p.eps[1].send(p.now, s, b"pong").unwrap(), 4);
    let mut reply = Vec::new();
    while reply.len() < 4 {
        if let Ok(n) = p.eps[0].recv(p.now, c, &mut buf) {
            reply.extend_from_slice(&buf[..n]);
        }
        assert!(p.step(limit));
    }
    assert_eq!(reply, b"pong");
    p.eps[0].shutdown(p.now, c).unwrap();
    while p.eps[1].recv(p.now, s, &mut buf) != Ok(0) {
        assert!(p.step(limit));
    }
    assert_eq!(p.eps[1].state(s), Some(State::CloseWait));
    p.eps[1].close(p.now, s).unwrap();
    while p.eps[0].state(c) != Some(State::TimeWait) {
        assert!(p.step(limit));
    }
    assert_eq!(p.eps[0].recv(p.now, c, &mut buf), Ok(0));
    p.eps[0].close(p.now, c).unwrap();
    assert_eq!(p.eps[0].time_wait_count(), 1);
    while p.step(limit) {}
    assert_eq!(p.eps[0].time_wait_count(), 0);
    assert_eq!(p.eps[0].connection_count(), 0);
    assert_eq!(p.eps[1].connection_count(), 0);
}
