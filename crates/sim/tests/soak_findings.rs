//! What the soak (`synack_sim::soak`, issue 7) found, one test each: a peer that
//! vanishes (crashes, loses its link) is found out whatever state the connection waits
//! in, so no connection stays open for ever once its peer is gone; and two peers whose
//! windows are both closed do not trade ACKs for ever.

mod common;

use common::*;
use core::time::Duration;
use synack::{CloseReason, Config, Event, Keepalive, State};

fn closed_reason(events: &[Event]) -> Option<CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed(_, r) => Some(*r),
        _ => None,
    })
}

/// B vanishes (both directions of the link black-holed); A's connection `client` must
/// close with `TimedOut` within an hour. Returns when B vanished.
fn vanish_and_wait_for_time_out(net: &mut Net, client: synack::ConnId) -> synack::Instant {
    let (a, b) = (net.a, net.b);
    black_hole(&mut net.sim, a, b);
    black_hole(&mut net.sim, b, a);
    let vanished = net.sim.now();
    let mut events = Vec::new();
    net.sim
        .run_while(|sim| {
            events.extend(drain_events(sim, a));
            closed_reason(&events).is_none() && sim.now() < vanished + Duration::from_secs(3600)
        })
        .unwrap();
    assert_eq!(
        closed_reason(&events),
        Some(CloseReason::TimedOut),
        "A still {:?} an hour after B vanished",
        net.sim.endpoint(a).state(client)
    );
    vanished
}

/// §3.8.4: A half-closes, B acknowledges the FIN but keeps its own direction open, so A
/// waits in FIN-WAIT-2 with nothing outstanding (no retransmission timer, no R2). B
/// then vanishes. Keep-alive must probe in FIN-WAIT-2 as in ESTABLISHED, and declare B
/// dead after the configured unanswered probes.
#[test]
fn keepalive_finds_a_peer_that_vanished_while_we_wait_in_fin_wait_2() {
    let ka = Keepalive {
        idle: Duration::from_secs(30),
        interval: Duration::from_secs(5),
        probes: 3,
    };
    let config = Config {
        keepalive: Some(ka),
        ..Config::default()
    };
    let mut net = Net::with_configs(1, config.clone(), config);
    let (client, _server, _) = net.establish();
    let now = net.sim.now();
    net.sim.endpoint_mut(net.a).shutdown(now, client).unwrap();
    run_until_state(&mut net.sim, net.a, a_tuple(), State::FinWait2);
    let vanished = vanish_and_wait_for_time_out(&mut net, client);
    let limit = ka.idle + ka.interval * (ka.probes + 1);
    assert!(
        net.sim.now().saturating_since(vanished) <= limit,
        "found out at {}, more than {limit:?} after B vanished at {vanished}",
        net.sim.now()
    );
}

/// MUST-37 keeps a connection open behind a zero window only while the receiver
/// acknowledges the probes. Here the receiver stops reading, its window closes, and
/// then it vanishes: the probes go unanswered, and after R2 (the user timeout) the
/// sender gives up with `TimedOut` instead of probing for ever.
#[test]
fn zero_window_probes_unanswered_for_r2_time_the_connection_out() {
    let r2 = Duration::from_secs(120);
    let receiver = Config {
        recv_buffer: 4096,
        recv_buffer_max: 4096,
        ..Config::default()
    };
    let mut net = Net::with_configs(2, Config::default(), receiver);
    let (client, _server, _) = net.establish();
    let now = net.sim.now();
    net.sim
        .endpoint_mut(net.a)
        .set_user_timeout(client, r2)
        .unwrap();
    let queued = net
        .sim
        .endpoint_mut(net.a)
        .send(now, client, &[7u8; 20_000])
        .unwrap();
    assert_eq!(queued, 20_000);
    // B never reads: its 4 KiB window fills and closes; the probes are answered for a
    // while (longer than R2 would allow a retransmission).
    let a = net.a;
    net.sim.run_for(r2 * 2).unwrap();
    assert_eq!(
        net.sim.endpoint(a).state(client),
        Some(State::Established),
        "MUST-37: answered probes keep the connection open"
    );
    let vanished = vanish_and_wait_for_time_out(&mut net, client);
    // R2 after the last answer, plus at most one (capped, 60 s) probe interval.
    let waited = net.sim.now().saturating_since(vanished);
    assert!(
        waited >= r2 - Duration::from_secs(60) && waited <= r2 + Duration::from_secs(61),
        "gave up {waited:?} after B vanished (R2 {r2:?})"
    );
}

/// §3.10.7.4: both applications stop reading, both 2 KiB windows close, and each side
/// probes the other's zero window with one byte that the other refuses. Each side then
/// counts that byte in the SEQ of its ACKs, so each finds the other's ACKs unacceptable
/// and answers them with an ACK: without a limit the two trade ACKs for ever, once per
/// round trip and more with every duplicate on the link (the soak saw millions in
/// seconds). Answers to unacceptable pure ACKs are limited to one per 500 ms per
/// connection (as Linux's `tcp_invalid_ratelimit`); once both read, every byte arrives.
#[test]
fn two_closed_windows_probed_both_ways_do_not_trade_acks_for_ever() {
    let small = Config {
        recv_buffer: 2048,
        recv_buffer_max: 2048,
        ..Config::default()
    };
    let mut net = Net::with_configs(3, small.clone(), small);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let now = net.sim.now();
    for (host, conn) in [(a, client), (b, server)] {
        let n = net.sim.endpoint_mut(host).send(now, conn, &data).unwrap();
        assert_eq!(n, data.len());
    }
    let before = net.sim.packets().len();
    net.sim.run_for(Duration::from_secs(300)).unwrap();
    let sent = net.sim.packets().len() - before;
    // Filling two 2 KiB windows and probing with backoff is a few dozen segments, and
    // at most two rate-limited answers a second each way come on top; an unlimited
    // exchange is one ACK per round trip (20 ms) each way, 30,000 in five minutes.
    let limit = 100 + 2 * 2 * 300;
    eprintln!("{sent} datagrams in five minutes with both windows closed");
    assert!(
        sent < limit,
        "{sent} datagrams in five minutes with both windows closed (limit {limit})"
    );
    // Both read everything: the transfers finish.
    let mut got = [Vec::new(), Vec::new()];
    let mut buf = vec![0u8; 4096];
    net.sim
        .run_while(|sim| {
            let now = sim.now();
            for (i, (host, conn)) in [(a, client), (b, server)].into_iter().enumerate() {
                while let Ok(n) = sim.endpoint_mut(host).recv(now, conn, &mut buf) {
                    if n == 0 {
                        break;
                    }
                    got[i].extend_from_slice(&buf[..n]);
                }
            }
            got.iter().any(|g| g.len() < data.len()) && now < LIMIT
        })
        .unwrap();
    assert!(got[0] == data && got[1] == data, "every byte, both ways");
}
