//! Resource limits (issue 7): each `Config` limit holds, and says so (an error or a
//! counter), and a peer that never reads or never acknowledges costs bounded memory.

mod common;

use common::*;
use core::net::SocketAddr;
use core::time::Duration;
use synack::{CloseReason, Config, Error, Instant, State};
use synack_wire::TcpFlags;

/// Fill `conn`'s send buffer from `host` as far as it goes; returns bytes taken.
fn fill(net: &mut Net, host: synack_sim::HostId, conn: synack::ConnId, chunk: &[u8]) -> usize {
    let now = net.sim.now();
    let mut total = 0;
    while let Ok(n) = net.sim.endpoint_mut(host).send(now, conn, chunk) {
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}

/// MUST-37 (§3.8.6.1): a receiver that never reads closes its window; the sender
/// probes it for as long as the probes are answered — far past R2 — and neither side's
/// memory grows beyond its buffers. When the application reads at last, the data
/// arrives intact.
#[test]
fn a_peer_that_never_reads_is_probed_and_kept_open_with_bounded_memory() {
    let mut net = Net::new(11);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    // Byte i of the stream is i mod 241.
    let mut queued = 0usize;
    let end = net.sim.now() + Duration::from_secs(40 * 60); // well past R2 (15 min)
    while net.sim.now() < end {
        loop {
            let chunk: Vec<u8> = (queued..queued + 16_384).map(|i| (i % 241) as u8).collect();
            let now = net.sim.now();
            match net.sim.endpoint_mut(a).send(now, client, &chunk) {
                Ok(n) if n > 0 => queued += n,
                _ => break,
            }
        }
        net.sim.run_for(Duration::from_secs(10)).unwrap();
    }
    let (sa, sb) = (
        net.sim.endpoint(a).endpoint_stats(),
        net.sim.endpoint(b).endpoint_stats(),
    );
    let cfg = Config::default();
    println!(
        "never-read: {queued} bytes queued; sender buffer peak {} B, receiver buffer peak {} B",
        sa.buffer_memory_peak, sb.buffer_memory_peak
    );
    assert_eq!(net.sim.endpoint(a).state(client), Some(State::Established));
    assert_eq!(net.sim.endpoint(b).state(server), Some(State::Established));
    // The buffer is full (up to the window's rounding to the scale factor).
    let held = net.sim.endpoint(b).readable_bytes(server);
    assert!(
        held <= cfg.recv_buffer && held + 1024 > cfg.recv_buffer,
        "{held}"
    );
    assert!(sb.buffer_memory_peak <= cfg.recv_buffer + 1024, "{sb:?}");
    assert!(sa.buffer_memory_peak <= cfg.send_buffer_max, "{sa:?}");
    // The window stayed shut, and the zero-window probes were answered.
    let probes = net
        .wire()
        .iter()
        .filter(|w| w.dir == Dir::AtoB && w.len == 1 && !w.injected())
        .count();
    assert!(probes >= 20, "{probes} probes in 40 minutes");
    // Reading at last: everything arrives, in order.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65_536];
    run_until(&mut net.sim, |sim| {
        let now = sim.now();
        while let Ok(n) = sim.endpoint_mut(b).recv(now, server, &mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() >= queued
    });
    assert_eq!(got.len(), queued);
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 241) as u8));
}

/// R2 (§3.8.3, MUST-20): a peer that never acknowledges makes the sender retransmit
/// until R2, then give up with `TimedOut`; its buffers are bounded meanwhile and freed
/// after.
#[test]
fn a_peer_that_never_acks_times_out_after_r2_and_frees_the_buffers() {
    let mut net = Net::new(12);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    black_hole(&mut net.sim, a, b); // A's ACKs never reach B
    let chunk = vec![5u8; 65_536];
    let queued = fill(&mut net, b, server, &chunk);
    let start = net.sim.now();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).state(server) == Some(State::Closed)
    });
    let took = net.sim.now().saturating_since(start);
    let stats = net.sim.endpoint(b).endpoint_stats();
    println!(
        "never-ack: {queued} bytes queued, timed out after {took:?}; buffer peak {} B, now {} B",
        stats.buffer_memory_peak, stats.buffer_memory
    );
    assert_eq!(
        net.sim.endpoint(b).close_reason(server),
        Some(CloseReason::TimedOut)
    );
    let r2 = Config::default().r2_data;
    assert!(
        took >= r2 && took <= r2 + Config::default().rto_max,
        "{took:?}"
    );
    assert!(stats.buffer_memory_peak <= Config::default().send_buffer_max);
    assert_eq!(stats.buffer_memory, 0);
    let _ = client;
}

#[test]
fn the_connection_limit_refuses_connect_and_drops_syns_without_cookies() {
    let a_config = Config {
        max_connections: 1,
        ..Config::default()
    };
    let b_config = Config {
        max_connections: 1,
        syn_cookies: false,
        ..Config::default()
    };
    let mut net = Net::with_configs(13, a_config, b_config);
    net.establish();
    let (a, b) = (net.a, net.b);
    let now = net.sim.now();
    let second = SocketAddr::new(A_IP, A_PORT + 1);
    assert_eq!(
        net.sim.endpoint_mut(a).connect(now, second, b_addr()),
        Err(Error::ConnectionLimit)
    );
    assert_eq!(
        net.sim.endpoint(a).endpoint_stats().connection_limit_drops,
        1
    );
    // B is full too: a SYN from elsewhere is dropped.
    net.sim.inject(
        b,
        now,
        segment(second, b_addr(), 1000, 0, TcpFlags::SYN, &[]),
    );
    net.sim.run_for(Duration::from_millis(50)).unwrap();
    let sb = net.sim.endpoint(b).endpoint_stats();
    assert_eq!(sb.connection_limit_drops, 1);
    assert_eq!(sb.connections, 1);
}

#[test]
fn a_full_connection_table_answers_with_cookies_and_admits_the_client_once_there_is_room() {
    let b_config = Config {
        max_connections: 1,
        ..Config::default()
    };
    let mut net = Net::with_configs(14, Config::default(), b_config);
    let (first, first_server, listener) = net.establish();
    let (a, b) = (net.a, net.b);
    let now = net.sim.now();
    let second = net
        .sim
        .endpoint_mut(a)
        .connect(now, SocketAddr::new(A_IP, A_PORT + 1), b_addr())
        .unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(second) == Some(State::Established)
    });
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let sb = net.sim.endpoint(b).endpoint_stats();
    assert_eq!(sb.syn_cookies_sent, 1);
    assert!(sb.connection_limit_drops >= 1, "{sb:?}");
    assert_eq!(sb.connections, 1);
    // The first connection ends; the second client's next segment brings its cookie back.
    let now = net.sim.now();
    net.sim.endpoint_mut(b).abort(now, first_server).unwrap();
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    assert_eq!(net.sim.endpoint(a).state(first), Some(State::Closed));
    let now = net.sim.now();
    net.sim.endpoint_mut(a).send(now, second, b"late").unwrap();
    let server = accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).readable_bytes(server) == 4
    });
    assert_eq!(
        net.sim.endpoint(b).endpoint_stats().syn_cookies_validated,
        1
    );
}

/// The TIME-WAIT table's policy when full: the connection closes without a record (as
/// Linux does when `tcp_max_tw_buckets` is reached), and the counter says so.
#[test]
fn a_full_time_wait_table_closes_the_next_connection_without_a_record() {
    let a_config = Config {
        max_time_wait: 1,
        ..Config::default()
    };
    let mut net = Net::with_configs(15, a_config, Config::default());
    let (a, b) = (net.a, net.b);
    let listener = net.listen();
    for port in [A_PORT, A_PORT + 1] {
        let now = net.sim.now();
        let local = SocketAddr::new(A_IP, port);
        let c = net
            .sim
            .endpoint_mut(a)
            .connect(now, local, b_addr())
            .unwrap();
        let s = accept_when_ready(&mut net.sim, b, listener);
        run_until(&mut net.sim, |sim| {
            sim.endpoint(a).state(c) == Some(State::Established)
        });
        // A closes first (TIME-WAIT is A's), then B.
        let now = net.sim.now();
        net.sim.endpoint_mut(a).close(now, c).unwrap();
        net.sim.run_for(Duration::from_millis(50)).unwrap();
        let now = net.sim.now();
        net.sim.endpoint_mut(b).close(now, s).unwrap();
        net.sim.run_for(Duration::from_millis(100)).unwrap();
    }
    let sa = net.sim.endpoint(a).endpoint_stats();
    assert_eq!(sa.time_wait_records, 1);
    assert_eq!(sa.time_wait_overflows, 1);
    assert_eq!(sa.connections, 0);
    let second = synack::FourTuple {
        local: SocketAddr::new(A_IP, A_PORT + 1),
        remote: b_addr(),
    };
    assert_eq!(net.sim.endpoint(a).state_of(second), None);
    assert_eq!(
        net.sim.endpoint(a).state_of(a_tuple()),
        Some(State::TimeWait)
    );
}

/// Out-of-order holes per connection are bounded (`Config::max_out_of_order`): a
/// segment that would open one more is dropped, counted, and not SACKed.
#[test]
fn out_of_order_ranges_beyond_the_limit_are_dropped_and_counted() {
    let b_config = Config {
        max_out_of_order: 2,
        ..Config::default()
    };
    let mut net = Net::with_configs(16, Config::default(), b_config);
    let (_, server, _) = net.establish();
    let (b, wire) = (net.b, net.wire());
    let (seq, ack) = (rcv_nxt(&wire, Dir::AtoB), snd_nxt(&wire, Dir::BtoA));
    let now = net.sim.now();
    for k in 1..=3u32 {
        let s = segment(
            a_addr(),
            b_addr(),
            seq + 100 * k,
            ack,
            TcpFlags::ACK,
            &[k as u8; 10],
        );
        net.sim.inject(b, now, s);
    }
    net.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(net.sim.endpoint(b).endpoint_stats().out_of_order_drops, 1);
    // The in-order bytes fill the first hole; the held ranges stay held.
    let s = segment(a_addr(), b_addr(), seq, ack, TcpFlags::ACK, &[9; 100]);
    net.sim.inject(b, net.sim.now(), s);
    net.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(net.sim.endpoint(b).readable_bytes(server), 110);
}

/// Total buffer memory (`Config::max_buffer_memory`): at the limit, a send that needs
/// more memory gets `NoBufferSpace`, arriving data that needs more is not stored (the
/// peer retransmits it), and both recover once memory is freed.
#[test]
fn buffer_memory_pressure_refuses_new_allocations_until_memory_is_freed() {
    let limit = 60_000;
    let b_config = Config {
        max_buffer_memory: limit,
        ..Config::default()
    };
    let mut net = Net::with_configs(17, Config::default(), b_config);
    let (a, b) = (net.a, net.b);
    let listener = net.listen();
    let mut pairs = Vec::new();
    for port in [A_PORT, A_PORT + 1] {
        let now = net.sim.now();
        let c = net
            .sim
            .endpoint_mut(a)
            .connect(now, SocketAddr::new(A_IP, port), b_addr())
            .unwrap();
        let s = accept_when_ready(&mut net.sim, b, listener);
        pairs.push((c, s));
    }
    // A fills B's receive buffer on the first connection (64 KiB, B never reads it yet).
    let data = vec![1u8; 65_536];
    let now = net.sim.now();
    net.sim
        .endpoint_mut(a)
        .send(now, pairs[0].0, &data)
        .unwrap();
    net.sim.run_for(Duration::from_secs(1)).unwrap();
    let held = net.sim.endpoint(b).readable_bytes(pairs[0].1);
    assert!(held > limit, "{held}");
    // B is at its limit now: the second connection's data is not stored...
    let now = net.sim.now();
    net.sim
        .endpoint_mut(a)
        .send(now, pairs[1].0, b"second")
        .unwrap();
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    assert_eq!(net.sim.endpoint(b).readable_bytes(pairs[1].1), 0);
    let sb = net.sim.endpoint(b).endpoint_stats();
    assert!(sb.memory_drops >= 1, "{sb:?}");
    // ...and B cannot queue new data either.
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(b).send(now, pairs[1].1, b"reply"),
        Err(Error::NoBufferSpace)
    );
    assert!(sb.buffer_memory_peak <= limit + 65_536);
    // Reading the first connection frees its buffer: the second's data gets in on
    // retransmission, and sending works again.
    let mut buf = vec![0u8; 65_536];
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(b).recv(now, pairs[0].1, &mut buf),
        Ok(held)
    );
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).readable_bytes(pairs[1].1) == 6
    });
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(b).send(now, pairs[1].1, b"reply"),
        Ok(5)
    );
    let _ = Instant::ZERO;
}
