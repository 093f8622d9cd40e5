//! Hostile networks (issue 7): a SYN flood met by SYN cookies, blind RST and SYN
//! injection met by RFC 5961, and the memory bounds that hold meanwhile.
//!
//! The floods are full size by default (a million forged segments each; about a second
//! of CPU in release mode for the file), and the environment variables
//! `SYNACK_FLOOD_SYNS` and `SYNACK_FLOOD_BLIND` change the counts:
//!
//! ```sh
//! SYNACK_FLOOD_SYNS=10000000 cargo test --release -p synack-sim --test hostile -- --nocapture
//! ```

#[path = "common/flood.rs"]
mod flood;

use core::net::SocketAddr;
use core::time::Duration;
use flood::*;
use std::collections::HashMap;
use synack::{Config, ConnId, Event, Instant, State};
use synack_sim::Rng;
use synack_wire::TcpFlags;

/// What one legitimate client did.
#[derive(Debug, Default, Clone)]
struct Client {
    connected: bool,
    echoed: usize,
    intact: bool,
    done: bool,
}

/// Play both applications: the server accepts, echoes what it reads and closes when the
/// client has; each client sends `request` once connected, reads the echo and closes.
fn play_apps(
    net: &mut FloodNet,
    listener: synack::ListenerId,
    clients: &mut HashMap<ConnId, Client>,
    request: &[u8],
) {
    let now = net.now;
    let mut buf = vec![0u8; 65_536];
    let echo = |net: &mut FloodNet, c: ConnId, buf: &mut [u8]| loop {
        match net.server.recv(now, c, buf) {
            Ok(0) => {
                let _ = net.server.close(now, c);
                break;
            }
            Err(_) => break,
            Ok(n) => {
                let sent = net.server.send(now, c, &buf[..n]).unwrap_or(0);
                assert_eq!(sent, n, "the echo fits the send buffer");
            }
        }
    };
    while let Some(e) = net.server.poll_event() {
        match e {
            // Data that came before `accept` raised no event: read it now.
            Event::Incoming(_) => {
                while let Ok(c) = net.server.accept(listener) {
                    echo(net, c, &mut buf);
                }
            }
            Event::Readable(c) | Event::PeerClosed(c) => echo(net, c, &mut buf),
            _ => {}
        }
    }
    while let Some(e) = net.client.poll_event() {
        match e {
            Event::Connected(c) => {
                if let Some(cl) = clients.get_mut(&c) {
                    cl.connected = true;
                    let n = net.client.send(now, c, request).unwrap();
                    assert_eq!(n, request.len());
                }
            }
            Event::Readable(c) => {
                let Some(cl) = clients.get_mut(&c) else {
                    continue;
                };
                while let Ok(n) = net.client.recv(now, c, &mut buf) {
                    if n == 0 {
                        break;
                    }
                    let expect = &request[cl.echoed..(cl.echoed + n).min(request.len())];
                    cl.intact &= buf[..n] == *expect;
                    cl.echoed += n;
                }
                if cl.echoed >= request.len() && !cl.done {
                    cl.done = true;
                    let _ = net.client.close(now, c);
                }
            }
            _ => {}
        }
    }
}

/// What a SYN flood run did.
struct FloodRun {
    spoofed: u64,
    served: usize,
    stats: synack::EndpointStats,
    peak_estimate: usize,
    stray: u64,
}

/// `spoofed` SYNs from forged sources over 20 s of virtual time at a listener (backlog
/// 1024) while `clients_n` real clients, arriving at random times in the same 20 s,
/// each connect, send 4,000 bytes, read their echo and close. Runs until every client
/// is done or two minutes have passed.
fn syn_flood(seed: u64, spoofed: u64, clients_n: u64, server_config: &Config) -> FloodRun {
    let flood_time = Duration::from_secs(20);
    let mut net = FloodNet::new(seed, Config::default(), server_config.clone());
    let listener = net.server.listen(server_addr(), 1024).unwrap();
    let mut rng = Rng::new(seed);
    let mut client_rng = Rng::derive(seed, 1);
    let request: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 253) as u8).collect();
    let mut clients: HashMap<ConnId, Client> = HashMap::new();

    let spoof_gap = flood_time.as_nanos() as u64 / spoofed.max(1);
    let client_gap = flood_time.as_nanos() as u64 / clients_n;
    let mut next_spoof = 0u64;
    let mut next_client = client_gap / 2;
    let (mut sent_spoofs, mut started) = (0u64, 0u64);
    let mut peak_estimate = 0usize;
    let end = Instant::from_millis(120_000);
    loop {
        let spoof_at = (sent_spoofs < spoofed).then(|| Instant::from_nanos(next_spoof));
        let client_at = (started < clients_n).then(|| Instant::from_nanos(next_client));
        let t = [spoof_at, client_at]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(end);
        net.run_until(t);
        play_apps(&mut net, listener, &mut clients, &request);
        if spoof_at == Some(t) {
            let src = spoofed_source(&mut rng);
            let seq = rng.next_u64() as u32;
            let options = sent_spoofs % 2 == 0;
            let syn = forged(src, server_addr(), seq, 0, TcpFlags::SYN, options);
            net.forge(&syn);
            sent_spoofs += 1;
            next_spoof += spoof_gap;
            if sent_spoofs % 1024 == 0 {
                peak_estimate = peak_estimate.max(net.server.endpoint_stats().memory_estimate);
            }
        } else if client_at == Some(t) {
            let c = net
                .client
                .connect(net.now, "0.0.0.0:0".parse().unwrap(), server_addr())
                .unwrap();
            clients.insert(
                c,
                Client {
                    intact: true,
                    ..Client::default()
                },
            );
            started += 1;
            // Random gaps: clients do not arrive in step with the network's latency.
            next_client += 1 + client_rng.below(2 * client_gap);
            net.flush();
        } else {
            break;
        }
    }
    // Let the last clients finish.
    let mut t = net.now;
    while t < end && clients.values().any(|c| !c.done) {
        t = t + Duration::from_millis(100);
        net.run_until(t);
        play_apps(&mut net, listener, &mut clients, &request);
    }
    let stats = net.server.endpoint_stats();
    peak_estimate = peak_estimate.max(stats.memory_estimate);
    let served = clients
        .values()
        .filter(|c| c.done && c.intact && c.echoed == request.len())
        .count();
    FloodRun {
        spoofed: sent_spoofs,
        served,
        stats,
        peak_estimate,
        stray: net.stray,
    }
}

/// RFC 4987: a listener under a SYN flood from spoofed sources keeps serving real
/// clients, and its memory stays within the configured limits.
#[test]
fn a_syn_flood_does_not_keep_legitimate_clients_out() {
    let seed = 0x5EED_F100D;
    let spoofed = count_from_env("SYNACK_FLOOD_SYNS", 1_000_000);
    let clients_n = 1000u64;
    let server_config = Config {
        max_connections: 4096,
        max_buffer_memory: 32 << 20,
        ..Config::default()
    };
    let run = syn_flood(seed, spoofed, clients_n, &server_config);
    let (stats, served, peak_estimate) = (run.stats, run.served, run.peak_estimate);
    println!(
        "seed {seed:#x}: {} spoofed SYNs over 20 s, {clients_n} clients: {served} served; \
         cookies sent {}, validated {}, rejected {}; SYN-ACKs to spoofed sources {}; peak \
         connections {}, peak buffer memory {} B, peak memory estimate {} B",
        run.spoofed,
        stats.syn_cookies_sent,
        stats.syn_cookies_validated,
        stats.syn_cookies_rejected,
        run.stray,
        stats.connections_peak,
        stats.buffer_memory_peak,
        peak_estimate,
    );
    assert!(
        served as u64 * 1000 >= clients_n * 999,
        "seed {seed:#x}: only {served} of {clients_n} clients served"
    );
    assert!(stats.syn_cookies_sent > 0 && stats.syn_cookies_validated > 0);
    // The SYN queue held at most its limit of spoofed half-open connections; everything
    // else the flood sent was answered statelessly.
    let syn_queue = server_config.max_syn_backlog.min(2 * 1024) as u64;
    assert!(
        stats.connections_peak as u64 <= syn_queue + clients_n,
        "{stats:?}"
    );
    assert!(stats.buffer_memory_peak <= server_config.max_buffer_memory);
    // The whole endpoint: at most 2 KiB per allowed connection besides the buffers.
    let bound = server_config.max_connections * 2048 + server_config.max_buffer_memory;
    assert!(
        peak_estimate <= bound,
        "seed {seed:#x}: memory estimate {peak_estimate} above {bound}"
    );
}

/// The control: without SYN cookies the same kind of flood fills the SYN queue with
/// half-open connections that last R2 for SYNs (3 minutes), and almost every real
/// client is shut out.
#[test]
fn without_syn_cookies_the_flood_keeps_most_clients_out() {
    let seed = 0xC0_0C1E;
    let server_config = Config {
        syn_cookies: false,
        ..Config::default()
    };
    let run = syn_flood(seed, 100_000, 100, &server_config);
    println!(
        "seed {seed:#x}, cookies off: {} of 100 clients served; {} SYNs dropped",
        run.served, run.stats.syn_queue_drops
    );
    assert!(run.served < 50, "seed {seed:#x}: {} served", run.served);
    assert!(run.stats.syn_queue_drops > 90_000);
    assert_eq!(run.stats.syn_cookies_sent, 0);
}

/// RFC 5961: forged RSTs and SYNs with random sequence numbers, aimed at the 4-tuples of
/// established connections, tear none of them down; the challenge ACKs they provoke
/// stay within the endpoint's rate limit and each connection's share of it.
#[test]
fn blind_resets_and_syns_tear_down_no_connection() {
    let seed = 0xB11_D5EED;
    let forged_n = count_from_env("SYNACK_FLOOD_BLIND", 1_000_000);
    let conns_n = 100usize;
    let server_config = Config::default();
    let mut net = FloodNet::new(seed, Config::default(), server_config.clone());
    let listener = net.server.listen(server_addr(), 128).unwrap();
    let mut pairs: Vec<(ConnId, ConnId)> = Vec::new();
    let mut client_ids = Vec::new();
    for _ in 0..conns_n {
        let c = net
            .client
            .connect(net.now, "0.0.0.0:0".parse().unwrap(), server_addr())
            .unwrap();
        client_ids.push(c);
    }
    net.run_until(Instant::from_millis(1000));
    let mut server_ids = HashMap::new();
    while let Ok(s) = net.server.accept(listener) {
        let t = net.server.tuple(s).unwrap();
        server_ids.insert(t.remote, s);
    }
    for c in &client_ids {
        let local = net.client.tuple(*c).unwrap().local;
        pairs.push((*c, server_ids[&local]));
    }
    assert_eq!(pairs.len(), conns_n);
    while net.client.poll_event().is_some() {}
    while net.server.poll_event().is_some() {}

    let flood_time = Duration::from_secs(100);
    let gap = flood_time.as_nanos() as u64 / forged_n.max(1);
    let start = net.now;
    let acks_before = net.server_pure_acks;
    let stats_before = net.server.endpoint_stats();
    let mut rng = Rng::new(seed);
    let remotes: Vec<SocketAddr> = pairs
        .iter()
        .map(|(c, _)| net.client.tuple(*c).unwrap().local)
        .collect();
    for i in 0..forged_n {
        let at = start + Duration::from_nanos(i * gap);
        net.run_until(at);
        let r = rng.next_u64();
        let src = remotes[(r % conns_n as u64) as usize];
        let seq = (r >> 32) as u32;
        let flags = match i % 3 {
            0 => TcpFlags::RST,
            1 => TcpFlags::RST | TcpFlags::ACK,
            _ => TcpFlags::SYN,
        };
        let ack = rng.next_u64() as u32;
        net.forge(&forged(src, server_addr(), seq, ack, flags, false));
    }
    net.run_until(start + flood_time + Duration::from_secs(1));
    let stats = net.server.endpoint_stats();
    let challenges = stats.challenge_acks_sent - stats_before.challenge_acks_sent;
    let suppressed = stats.challenge_acks_suppressed - stats_before.challenge_acks_suppressed;
    let pure_acks = net.server_pure_acks - acks_before;
    let secs = flood_time.as_secs() + 1;
    println!(
        "seed {seed:#x}: {forged_n} forged RSTs and SYNs at {conns_n} connections over \
         {flood_time:?}: {challenges} challenge ACKs sent, {suppressed} suppressed, \
         {pure_acks} pure ACKs on the wire"
    );
    for (c, s) in &pairs {
        assert_eq!(
            net.client.state(*c),
            Some(State::Established),
            "seed {seed:#x}"
        );
        assert_eq!(
            net.server.state(*s),
            Some(State::Established),
            "seed {seed:#x}"
        );
    }
    assert!(challenges > 0);
    assert!(
        challenges <= u64::from(server_config.challenge_ack_limit) * secs,
        "seed {seed:#x}: {challenges} challenge ACKs in {secs} s"
    );
    assert!(challenges <= u64::from(server_config.challenge_ack_per_conn) * secs * conns_n as u64);
    assert_eq!(pure_acks, challenges, "every ACK sent was a challenge");
    // And every connection still carries data both ways.
    let now = net.now;
    for (c, s) in &pairs {
        net.client.send(now, *c, b"ping").unwrap();
        net.server.send(now, *s, b"pong").unwrap();
    }
    net.run_until(now + Duration::from_secs(1));
    let mut buf = [0u8; 8];
    for (c, s) in &pairs {
        assert_eq!(net.server.recv(net.now, *s, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"ping");
        assert_eq!(net.client.recv(net.now, *c, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"pong");
    }
}

/// RFC 5961 §7 fairness: a flood of forged SYNs at one connection uses up that
/// connection's share of the challenge-ACK budget, not the endpoint's: another
/// connection still answers its own challenge at once.
#[test]
fn one_attacked_connection_does_not_starve_the_others_of_challenge_acks() {
    let mut net = FloodNet::new(3, Config::default(), Config::default());
    let listener = net.server.listen(server_addr(), 16).unwrap();
    let a = net
        .client
        .connect(net.now, "0.0.0.0:0".parse().unwrap(), server_addr())
        .unwrap();
    let b = net
        .client
        .connect(net.now, "0.0.0.0:0".parse().unwrap(), server_addr())
        .unwrap();
    net.run_until(Instant::from_millis(500));
    assert!(net.server.accept(listener).is_ok() && net.server.accept(listener).is_ok());
    let (ta, tb) = (
        net.client.tuple(a).unwrap().local,
        net.client.tuple(b).unwrap().local,
    );
    let before = net.server.endpoint_stats();
    // 5,000 forged SYNs at A within 0.5 s: A's share (10 a second) is used at once.
    for i in 0..5000u32 {
        net.run_until(net.now + Duration::from_micros(100));
        net.forge(&forged(
            ta,
            server_addr(),
            i.wrapping_mul(1_000_003),
            0,
            TcpFlags::SYN,
            false,
        ));
    }
    let mid = net.server.endpoint_stats();
    let per_conn = u64::from(Config::default().challenge_ack_per_conn);
    assert_eq!(
        mid.challenge_acks_sent - before.challenge_acks_sent,
        per_conn
    );
    assert_eq!(
        mid.challenge_acks_suppressed - before.challenge_acks_suppressed,
        5000 - per_conn
    );
    // B's challenge still goes out.
    net.forge(&forged(tb, server_addr(), 12345, 0, TcpFlags::SYN, false));
    let after = net.server.endpoint_stats();
    assert_eq!(after.challenge_acks_sent, mid.challenge_acks_sent + 1);
}
