//! SYN cookies (RFC 4987 §3.6) end to end: a listener whose SYN queue is full answers
//! with a stateless SYN-ACK, and the final ACK (or the first data segment, if the ACK
//! was lost) rebuilds the connection with the options the cookie carried.

mod common;

use common::*;
use core::time::Duration;
use synack::{Config, Instant, State};
use synack_sim::FilterAction;
use synack_wire::TcpFlags;

/// A server whose every SYN finds the SYN queue full.
fn cookie_server() -> Config {
    Config {
        max_syn_backlog: 0,
        ..Config::default()
    }
}

/// Send `data` from A to B on an established pair and read it all at B.
fn transfer(net: &mut Net, client: synack::ConnId, server: synack::ConnId, data: &[u8]) -> Vec<u8> {
    let (a, b) = (net.a, net.b);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65_536];
    run_until(&mut net.sim, |sim| {
        let now = sim.now();
        if sent < data.len() {
            if let Ok(n) = sim.endpoint_mut(a).send(now, client, &data[sent..]) {
                sent += n;
            }
        }
        while let Ok(n) = sim.endpoint_mut(b).recv(now, server, &mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    });
    got
}

#[test]
fn a_full_syn_queue_answers_with_a_cookie_and_the_connection_keeps_every_option() {
    let mut net = Net::with_configs(1, Config::default(), cookie_server());
    let (client, server, _) = net.establish();
    let stats = net.sim.endpoint(net.b).endpoint_stats();
    assert_eq!(stats.syn_cookies_sent, 1);
    assert_eq!(stats.syn_cookies_validated, 1);
    assert_eq!(stats.syn_cookies_rejected, 0);
    // Window scaling and SACK came back through the timestamp echo; the MSS through
    // the cookie (1460 is in the table).
    let s = net.sim.endpoint(net.b).stats(server).unwrap();
    let c = net.sim.endpoint(net.a).stats(client).unwrap();
    assert!(s.timestamps && s.sack && c.timestamps && c.sack);
    assert_eq!(s.snd_wscale, c.rcv_wscale);
    assert_eq!(s.rcv_wscale, c.snd_wscale);
    assert!(s.snd_wscale.is_some());
    assert_eq!(s.snd_mss, c.snd_mss);
    // And it carries data like any other connection.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(transfer(&mut net, client, server, &data), data);
}

#[test]
fn without_timestamps_a_cookie_connection_does_without_window_scaling_and_sack() {
    let client_config = Config {
        timestamps: false,
        ..Config::default()
    };
    let mut net = Net::with_configs(2, client_config, cookie_server());
    let (client, server, _) = net.establish();
    let s = net.sim.endpoint(net.b).stats(server).unwrap();
    let c = net.sim.endpoint(net.a).stats(client).unwrap();
    assert!(!s.timestamps && !s.sack && s.snd_wscale.is_none() && s.rcv_wscale.is_none());
    assert!(!c.sack && c.snd_wscale.is_none() && c.rcv_wscale.is_none());
    let data = vec![7u8; 100_000];
    assert_eq!(transfer(&mut net, client, server, &data), data);
}

#[test]
fn a_lost_final_ack_is_made_good_by_the_first_data_segment() {
    let mut net = Net::with_configs(3, Config::default(), cookie_server());
    let listener = net.listen();
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, is_pure_ack);
    let client = net.connect();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(State::Established)
    });
    // The server has nothing: the handshake's ACK was lost and the SYN-ACK left no state.
    net.sim.run_for(Duration::from_millis(30)).unwrap();
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
    let now = net.sim.now();
    net.sim.endpoint_mut(a).send(now, client, b"hello").unwrap();
    let server = accept_when_ready(&mut net.sim, b, listener);
    let mut buf = [0u8; 16];
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).readable_bytes(server) == 5
    });
    let now = net.sim.now();
    let n = net.sim.endpoint_mut(b).recv(now, server, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(
        net.sim.endpoint(b).endpoint_stats().syn_cookies_validated,
        1
    );
}

#[test]
fn an_expired_cookie_is_rejected_with_a_reset() {
    let mut net = Net::with_configs(4, Config::default(), cookie_server());
    net.listen();
    let (a, b) = (net.a, net.b);
    // The handshake's ACK arrives 200 s late: past the cookie's life (64–128 s).
    let mut delayed = false;
    net.sim.set_filter(a, b, move |ctx| {
        if !delayed && is_pure_ack(ctx) {
            delayed = true;
            FilterAction::Delay(Duration::from_secs(200))
        } else {
            FilterAction::Deliver
        }
    });
    let client = net.connect();
    // Another client at 150 s keeps the listener checking cookies (it sent one lately).
    net.sim.run_until(Instant::from_millis(150_000)).unwrap();
    let now = net.sim.now();
    let other = std::net::SocketAddr::new(A_IP, A_PORT + 1);
    net.sim
        .endpoint_mut(a)
        .connect(now, other, b_addr())
        .unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(State::Closed)
            || sim.now() > Instant::from_millis(300_000)
    });
    let stats = net.sim.endpoint(b).endpoint_stats();
    assert_eq!(stats.syn_cookies_validated, 1, "only the second client's");
    assert_eq!(stats.syn_cookies_rejected, 1);
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(synack::CloseReason::Reset)
    );
}

#[test]
fn forged_cookie_acks_are_reset_and_counted() {
    let mut net = Net::with_configs(5, Config::default(), cookie_server());
    let (_, _, _) = net.establish();
    let b = net.b;
    let before = net.sim.endpoint(b).endpoint_stats();
    // ACKs from other ports with guessed acknowledgment numbers.
    let now = net.sim.now();
    for i in 0..1000u32 {
        let src = std::net::SocketAddr::new(A_IP, 50_000 + (i % 1000) as u16);
        let seg = segment(
            src,
            b_addr(),
            i.wrapping_mul(7919),
            i.wrapping_mul(2_654_435_761),
            TcpFlags::ACK,
            &[],
        );
        net.sim.inject(b, now, seg);
    }
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let after = net.sim.endpoint(b).endpoint_stats();
    assert_eq!(
        after.syn_cookies_rejected - before.syn_cookies_rejected,
        1000
    );
    assert_eq!(after.syn_cookies_validated, before.syn_cookies_validated);
    assert_eq!(after.connections, before.connections);
}

#[test]
fn acks_are_not_taken_for_cookies_by_a_listener_that_sent_none() {
    let mut net = Net::new(6);
    net.establish();
    let b = net.b;
    let now = net.sim.now();
    let src = std::net::SocketAddr::new(A_IP, 50_001);
    net.sim
        .inject(b, now, segment(src, b_addr(), 1, 2, TcpFlags::ACK, &[]));
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let stats = net.sim.endpoint(b).endpoint_stats();
    assert_eq!(stats.syn_cookies_sent, 0);
    assert_eq!(stats.syn_cookies_rejected, 0);
}

#[test]
fn with_cookies_off_a_full_syn_queue_drops_the_syn() {
    let server = Config {
        syn_cookies: false,
        ..cookie_server()
    };
    let mut net = Net::with_configs(7, Config::default(), server);
    net.listen();
    let client = net.connect();
    net.sim.run_for(Duration::from_secs(5)).unwrap();
    assert_eq!(net.sim.endpoint(net.a).state(client), Some(State::SynSent));
    let stats = net.sim.endpoint(net.b).endpoint_stats();
    assert_eq!(stats.syn_cookies_sent, 0);
    assert!(stats.syn_queue_drops >= 2, "{stats:?}");
}

#[test]
fn a_full_accept_queue_drops_syns_even_with_cookies() {
    let mut net = Net::new(8);
    let (a, b) = (net.a, net.b);
    let listener = net.sim.endpoint_mut(b).listen(b_addr(), 1).unwrap();
    let now = net.sim.now();
    let first = net
        .sim
        .endpoint_mut(a)
        .connect(now, a_addr(), b_addr())
        .unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(first) == Some(State::Established)
    });
    // Not accepted: the accept queue (backlog 1) is full.
    let second_addr = std::net::SocketAddr::new(A_IP, A_PORT + 1);
    let now = net.sim.now();
    let second = net
        .sim
        .endpoint_mut(a)
        .connect(now, second_addr, b_addr())
        .unwrap();
    net.sim.run_for(Duration::from_secs(2)).unwrap();
    assert_eq!(net.sim.endpoint(a).state(second), Some(State::SynSent));
    assert!(net.sim.endpoint(b).endpoint_stats().accept_queue_drops >= 1);
    // Accepting makes room; the retransmitted SYN gets through.
    net.sim.endpoint_mut(b).accept(listener).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(second) == Some(State::Established)
    });
}

#[test]
fn an_ipv6_cookie_connection_keeps_its_mss_and_carries_data() {
    use synack_sim::{LinkConfig, Sim};
    let a_ip: std::net::IpAddr = "2001:db8::1".parse().unwrap();
    let b_ip: std::net::IpAddr = "2001:db8::2".parse().unwrap();
    let mut sim = Sim::new(9);
    let a = sim.add_host("A", Config::default(), &[a_ip]);
    let b = sim.add_host("B", cookie_server(), &[b_ip]);
    sim.link(
        a,
        b,
        LinkConfig::default().latency(Duration::from_millis(10)),
    );
    let server_addr = std::net::SocketAddr::new(b_ip, 80);
    let listener = sim.endpoint_mut(b).listen(server_addr, 8).unwrap();
    let client = sim
        .endpoint_mut(a)
        .connect(
            Instant::ZERO,
            std::net::SocketAddr::new(a_ip, 0),
            server_addr,
        )
        .unwrap();
    let server = accept_when_ready(&mut sim, b, listener);
    run_until(&mut sim, |sim| {
        sim.endpoint(a).state(client) == Some(State::Established)
    });
    assert_eq!(sim.endpoint(b).endpoint_stats().syn_cookies_validated, 1);
    // 1500 − 60 = 1440, an entry of the cookie's MSS table, less the timestamps option.
    let s = sim.endpoint(b).stats(server).unwrap();
    assert_eq!(s.snd_mss, 1440 - 12);
    let data = vec![3u8; 50_000];
    let now = sim.now();
    assert_eq!(sim.endpoint_mut(a).send(now, client, &data), Ok(50_000));
    run_until(&mut sim, |sim| {
        sim.endpoint(b).readable_bytes(server) == 50_000
    });
}
