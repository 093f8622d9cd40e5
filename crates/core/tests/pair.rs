//! Two endpoints wired back to back with a fixed one-way delay and no loss: the smallest
//! harness that drives the sans-IO core end to end (the simulator crate does far more).

use std::net::SocketAddr;
use synack::{Config, ConnId, Endpoint, Instant, State};

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

    /// A connection from endpoint 0 to a listener on endpoint 1, established at both
    /// ends and accepted: `(client, server)`.
    fn connected(&mut self, limit: Instant) -> (ConnId, ConnId) {
        let server: SocketAddr = "198.18.0.2:80".parse().unwrap();
        let l = self.eps[1].listen(server, 16).unwrap();
        let c = self.eps[0]
            .connect(self.now, "0.0.0.0:0".parse().unwrap(), server)
            .unwrap();
        while self.eps[0].state(c) != Some(State::Established) {
            assert!(self.step(limit));
        }
        loop {
            if let Ok(s) = self.eps[1].accept(l) {
                return (c, s);
            }
            assert!(self.step(limit));
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
    let limit = Instant::from_millis(200_000);
    let (c, s) = p.connected(limit);
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

/// MUST-3 on the receiver's in-order path, where the payload is summed as it is copied
/// into the receive buffer: a data segment with one payload bit flipped changes
/// nothing a reader sees, and the same segment intact then delivers exactly its bytes.
#[test]
fn in_order_data_with_a_corrupted_payload_is_dropped_and_the_intact_copy_delivered() {
    let mut p = Pair::new();
    let limit = Instant::from_millis(10_000);
    let (c, s) = p.connected(limit);
    let mut buf = vec![0u8; 4096];
    // Some data first, read at once: the receive buffer's ring is allocated and empty.
    assert_eq!(p.eps[0].send(p.now, c, &[7; 300]).unwrap(), 300);
    while p.eps[1].readable_bytes(s) < 300 {
        assert!(p.step(limit));
    }
    assert_eq!(p.eps[1].recv(p.now, s, &mut buf), Ok(300));
    // Until that data is acknowledged (so that Nagle does not hold the next).
    let quiet = p.now + std::time::Duration::from_millis(500);
    while p.step(quiet) {}
    // The next segment, taken off the wire before it arrives.
    let data: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(13)).collect();
    assert_eq!(p.eps[0].send(p.now, c, &data).unwrap(), 200);
    p.flush();
    let at = p
        .wire
        .iter()
        .position(|w| w.1 == 1 && w.2.len() > 200)
        .expect("the data segment");
    let (_, _, intact) = p.wire.remove(at);
    for flip in [intact.len() - 1, intact.len() - 100, intact.len() - 200] {
        let mut bad = intact.clone();
        bad[flip] ^= 0x10;
        p.eps[1].handle(p.now, &bad);
        assert_eq!(p.eps[1].readable_bytes(s), 0, "bit flipped at {flip}");
    }
    p.eps[1].handle(p.now, &intact);
    assert_eq!(p.eps[1].readable_bytes(s), 200);
    assert_eq!(p.eps[1].recv(p.now, s, &mut buf), Ok(200));
    assert_eq!(&buf[..200], &data[..]);
}

/// Sends `data` from `c` (endpoint 0) to `s` (endpoint 1), calling `read` with the
/// receiving endpoint, `s`, the time and the bytes received so far after every send,
/// and stepping the pair, until all of `data` has arrived: what arrived. Once
/// everything has arrived, reading alone makes progress, so a step that moves nothing
/// is a stall only when `read` found nothing.
fn transfer_reading(
    p: &mut Pair,
    (c, s): (ConnId, ConnId),
    data: &[u8],
    limit: Instant,
    mut read: impl FnMut(&mut Endpoint, ConnId, Instant, &mut Vec<u8>) -> Result<usize, synack::Error>,
) -> Vec<u8> {
    let (mut sent, mut got) = (0, Vec::new());
    while got.len() < data.len() {
        if sent < data.len() {
            if let Ok(n) = p.eps[0].send(p.now, c, &data[sent..]) {
                sent += n;
            }
        }
        let r = read(&mut p.eps[1], s, p.now, &mut got);
        let moved = p.step(limit);
        assert!(
            moved || r.is_ok(),
            "stalled at {} of {}",
            got.len(),
            data.len()
        );
    }
    got
}

/// The zero-copy receive: `recv_with` lends the readable bytes in place, one piece of the
/// ring at a time, and removes only what the reader says it took. A reader that takes
/// half of each piece still gets every byte once and in order, through a receive
/// buffer that wraps many times; the closure is not called when nothing is readable,
/// and after the peer's FIN `recv_with` reports the end of stream as `recv` does.
#[test]
fn recv_with_lends_bytes_in_place_and_removes_only_what_the_reader_took() {
    let mut p = Pair::new();
    let limit = Instant::from_millis(200_000);
    let (c, s) = p.connected(limit);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut partial = 0;
    let got = transfer_reading(&mut p, (c, s), &data, limit, |ep, s, now, got| {
        let mut called = false;
        let r = ep.recv_with(now, s, |bytes| {
            called = true;
            assert!(!bytes.is_empty(), "lent an empty piece");
            let take = bytes.len().div_ceil(2);
            got.extend_from_slice(&bytes[..take]);
            partial += usize::from(take < bytes.len());
            take
        });
        match r {
            Ok(n) => assert!(called && n > 0, "Ok({n}) before the end of stream"),
            Err(e) => assert!(!called && e == synack::Error::WouldBlock, "{e:?}"),
        }
        r
    });
    assert_eq!(got, data);
    assert!(partial > 0, "the reader never left bytes behind");
    p.eps[0].shutdown(p.now, c).unwrap();
    let mut ended = false;
    while !ended {
        assert!(p.step(limit));
        ended = p.eps[1].recv_with(p.now, s, |_| panic!("nothing is left to lend")) == Ok(0);
    }
    assert_eq!(p.eps[1].state(s), Some(State::CloseWait));
}

/// API misuse: a reader that claims more than it was lent (here `usize::MAX`) takes only
/// the piece it saw. Bytes past a wrap of the receive buffer, which it was not shown,
/// stay for the next call: nothing is lost, every byte arrives once and in order.
#[test]
fn recv_with_never_removes_more_than_it_lent() {
    let mut p = Pair::new();
    let limit = Instant::from_millis(200_000);
    let (c, s) = p.connected(limit);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 17 % 251) as u8).collect();
    let mut overclaimed = 0;
    let got = transfer_reading(&mut p, (c, s), &data, limit, |ep, s, now, got| {
        // The reader takes half of each piece, so the buffer seldom empties and the
        // readable bytes come to run past the end of the ring; when the piece it is
        // lent is shorter than what is readable, it claims everything.
        let readable = ep.readable_bytes(s);
        ep.recv_with(now, s, |bytes| {
            if bytes.len() < readable {
                overclaimed += 1;
                got.extend_from_slice(bytes);
                return usize::MAX;
            }
            let take = bytes.len().div_ceil(2);
            got.extend_from_slice(&bytes[..take]);
            take
        })
    });
    assert_eq!(got, data);
    assert!(
        overclaimed > 0,
        "the readable bytes never ran past the ring's end"
    );
}
