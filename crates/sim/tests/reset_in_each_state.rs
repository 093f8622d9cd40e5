//! A RST arriving in each state does what RFC 9293 §3.10.7 says (with the RFC 5961
//! checks that §3.10.7.4 adopts): SYN-SENT believes only a RST that acknowledges its
//! SYN; SYN-RECEIVED goes back to LISTEN (passive open) or reports "refused" (active
//! open); the synchronized states close, telling the application "reset". A RST whose
//! SEQ is in the window but not exactly RCV.NXT draws a challenge ACK, one outside the
//! window is dropped, a SYN in a synchronized state draws a challenge ACK, and
//! challenge ACKs are rate limited. The RSTs are made by hand from the numbers on the
//! wire and injected with `Sim::inject`.

mod common;

use common::*;
use core::time::Duration;
use synack::{CloseReason, Config, ConnId, Error, Event, Instant, State};
use synack_sim::{FilterAction, HostId};
use synack_wire::TcpFlags;

use State::{
    CloseWait, Closed, Closing, Established, FinWait1, FinWait2, LastAck, Listen, SynReceived,
    SynSent, TimeWait,
};

const RST: TcpFlags = TcpFlags::RST;

/// Inject `datagram` at `host` now and run 100 ms; returns the packet id mark taken
/// just before, for `sent_since`.
fn inject_now(net: &mut Net, host: HostId, datagram: Vec<u8>) -> usize {
    let mark = net.sim.packets().len();
    let now = net.sim.now();
    net.sim.inject(host, now, datagram);
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    mark
}

/// The application of `host` was told the connection was reset, and its calls say so.
fn assert_app_sees_reset(net: &mut Net, host: HostId, conn: ConnId) {
    assert_eq!(net.sim.endpoint(host).state(conn), Some(Closed));
    assert_eq!(
        net.sim.endpoint(host).close_reason(conn),
        Some(CloseReason::Reset)
    );
    assert!(
        drain_events(&mut net.sim, host).contains(&Event::Closed(conn, CloseReason::Reset)),
        "Closed(Reset) event"
    );
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(host).send(now, conn, b"x"),
        Err(Error::ConnectionReset)
    );
}

// ---- SYN-SENT (§3.10.7.3) ----

#[test]
fn syn_sent_rst_acknowledging_the_syn_refuses_the_connection() {
    let mut net = Net::new(201);
    let (a, b) = (net.a, net.b);
    black_hole(&mut net.sim, a, b);
    let client = net.connect();
    let iss = net.wire()[0].seq;
    let mark = inject_now(
        &mut net,
        a,
        b_to_a(0, iss.wrapping_add(1), RST | TcpFlags::ACK),
    );
    assert_eq!(net.sim.endpoint(a).state(client), Some(Closed));
    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(CloseReason::Refused)
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Closed(client, CloseReason::Refused)));
    let now = net.sim.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        net.sim.endpoint_mut(a).recv(now, client, &mut buf),
        Err(Error::ConnectionRefused)
    );
    assert_eq!(states(&net.sim, a, a_tuple()), [Closed, SynSent, Closed]);
    assert!(
        sent_since(&net.sim, a, mark).is_empty(),
        "a RST is never answered"
    );
    net.sim.run_for(Duration::from_secs(5)).unwrap();
    assert_eq!(
        net.wire().iter().filter(|w| w.is(TcpFlags::SYN)).count(),
        1,
        "no more SYNs"
    );
}

/// A RST the SYN-SENT side must not believe: the SYN is not retransmitted at once, no
/// reply goes out, and the handshake completes later as if nothing had happened.
fn syn_sent_ignores(seed: u64, rst: impl Fn(u32) -> Vec<u8>) {
    let mut net = Net::new(seed);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, |ctx| ctx.is_syn());
    let listener = net.listen();
    let client = net.connect();
    let iss = net.wire()[0].seq;
    let mark = inject_now(&mut net, a, rst(iss));
    assert_eq!(net.sim.endpoint(a).state(client), Some(SynSent));
    assert!(
        sent_since(&net.sim, a, mark).is_empty(),
        "the RST is dropped silently"
    );
    assert!(drain_events(&mut net.sim, a).is_empty());
    // The SYN's retransmission (1 s) completes the handshake.
    accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
    });
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, Established]
    );
}

#[test]
fn syn_sent_rst_without_ack_is_ignored() {
    // §3.10.7.3, second: "If the ACK was acceptable, then signal ... 'connection reset'
    // ... Otherwise (no ACK), drop the segment and return." (RFC 5961 §3.2 too.)
    syn_sent_ignores(202, |iss| b_to_a(iss.wrapping_add(1), 0, RST));
    syn_sent_ignores(203, |_| b_to_a(0, 0, RST));
}

#[test]
fn syn_sent_rst_with_an_unacceptable_ack_is_ignored() {
    // §3.10.7.3, first: SEG.ACK =< ISS or SEG.ACK > SND.NXT with RST set: drop.
    syn_sent_ignores(204, |iss| b_to_a(0, iss, RST | TcpFlags::ACK));
    syn_sent_ignores(205, |iss| {
        b_to_a(0, iss.wrapping_add(2), RST | TcpFlags::ACK)
    });
    syn_sent_ignores(206, |iss| {
        b_to_a(0, iss.wrapping_sub(1000), RST | TcpFlags::ACK)
    });
}

// ---- SYN-RECEIVED (§3.10.7.4, second, MUST-11) ----

#[test]
fn syn_received_from_passive_open_rst_returns_to_listen_and_the_listener_still_works() {
    let mut net = Net::new(207);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, b, a, 1, |ctx| ctx.is_syn_ack());
    let listener = net.listen();
    let client = net.connect();
    run_until_state(&mut net.sim, b, b_tuple(), SynReceived);
    let iss_a = net.wire()[0].seq;
    let mark = inject_now(&mut net, b, a_to_b(iss_a.wrapping_add(1), 0, RST));
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Listen]
    );
    assert!(sent_since(&net.sim, b, mark).is_empty());
    assert_eq!(
        net.sim.endpoint_mut(b).accept(listener),
        Err(Error::WouldBlock),
        "nothing to accept"
    );
    // The client's SYN retransmission finds the listener as it was.
    let server = accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
            && sim.endpoint(b).state(server) == Some(Established)
    });
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Listen, SynReceived, Established]
    );
    assert_eq!(
        net.sim.retransmissions(b),
        0,
        "the reset TCB's SYN-ACK timer is gone"
    );
    net.print_ladder("RST in SYN-RECEIVED (passive open)");
}

#[test]
fn resets_in_syn_received_give_the_listeners_syn_queue_back() {
    // Many old duplicate SYNs from ports A has no connection on: A answers each SYN-ACK
    // with a RST (Figure 8/11), each RST sends its half-open TCB back to LISTEN. If
    // those TCBs stayed counted in the SYN queue, the listener would stop answering.
    let mut net = Net::new(221);
    let (a, b) = (net.a, net.b);
    let listener = net.listen();
    let rounds = 100u16;
    for i in 0..rounds {
        let from = core::net::SocketAddr::new(A_IP, 10_000 + i);
        let syn = segment(
            from,
            b_addr(),
            1_000_000 * u32::from(i),
            0,
            TcpFlags::SYN,
            &[],
        );
        let now = net.sim.now();
        net.sim.inject(b, now, syn);
        net.sim.run_for(Duration::from_millis(30)).unwrap();
    }
    let from_a = net
        .sim
        .packets()
        .iter()
        .filter(|p| p.from == Some(a))
        .count();
    let from_b = net
        .sim
        .packets()
        .iter()
        .filter(|p| p.from == Some(b))
        .count();
    assert_eq!(
        (from_b, from_a),
        (rounds as usize, rounds as usize),
        "SYN-ACK, RST each"
    );
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    let client = net.connect();
    let server = accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
            && sim.endpoint(b).state(server) == Some(Established)
    });
    assert_eq!(net.sim.retransmissions(a), 0, "the first SYN was answered");
}

#[test]
fn syn_received_from_active_open_rst_closes_the_connection_as_refused() {
    let mut net = Net::new(208);
    let (a, b) = (net.a, net.b);
    // Simultaneous open whose SYN-ACKs are lost: both ends stay in SYN-RECEIVED.
    net.sim.set_filter(a, b, |ctx| {
        if ctx.is_syn_ack() {
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    });
    net.sim.set_filter(b, a, |ctx| {
        if ctx.is_syn_ack() {
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    });
    let (ca, cb) = net.connect_both();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(ca) == Some(SynReceived)
            && sim.endpoint(b).state(cb) == Some(SynReceived)
    });
    let iss_b = net.wire().iter().find(|w| w.dir == Dir::BtoA).unwrap().seq;
    let mark = inject_now(&mut net, a, b_to_a(iss_b.wrapping_add(1), 0, RST));
    assert_eq!(net.sim.endpoint(a).state(ca), Some(Closed));
    assert_eq!(
        net.sim.endpoint(a).close_reason(ca),
        Some(CloseReason::Refused)
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Closed(ca, CloseReason::Refused)));
    let now = net.sim.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        net.sim.endpoint_mut(a).recv(now, ca, &mut buf),
        Err(Error::ConnectionRefused)
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, SynReceived, Closed]
    );
    assert!(sent_since(&net.sim, a, mark).is_empty());
    assert_eq!(
        net.sim.endpoint(b).state(cb),
        Some(SynReceived),
        "B is not affected"
    );
}

// ---- Synchronized states (§3.10.7.4, second) ----

/// Establish, bring the connection to the point `setup` leaves it, then inject a RST
/// at exactly RCV.NXT of `at_b ? B : A`. Returns the net, both handles and the mark.
fn reset_after(
    seed: u64,
    at_b: bool,
    setup: impl FnOnce(&mut Net, ConnId, ConnId),
) -> (Net, ConnId, ConnId, usize) {
    let mut net = Net::new(seed);
    let (client, server, _) = net.establish();
    setup(&mut net, client, server);
    let wire = net.wire();
    let (host, datagram) = if at_b {
        let seq = rcv_nxt(&wire, Dir::AtoB);
        (net.b, a_to_b(seq, 0, RST))
    } else {
        let seq = rcv_nxt(&wire, Dir::BtoA);
        (net.a, b_to_a(seq, 0, RST))
    };
    let mark = inject_now(&mut net, host, datagram);
    let answered = sent_since(&net.sim, host, mark);
    assert!(answered.is_empty(), "a RST is never answered: {answered:?}");
    (net, client, server, mark)
}

#[test]
fn established_rst_closes_the_connection_and_reports_connection_reset() {
    let (mut net, client, _server, _) = reset_after(209, false, |_, _, _| {});
    let a = net.a;
    assert_app_sees_reset(&mut net, a, client);
    let now = net.sim.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        net.sim.endpoint_mut(a).recv(now, client, &mut buf),
        Err(Error::ConnectionReset)
    );
    assert_eq!(&states(&net.sim, a, a_tuple())[2..], [Established, Closed]);
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
}

#[test]
fn fin_wait_1_rst_closes_the_connection_and_reports_connection_reset() {
    let (mut net, client, _server, _) = reset_after(210, false, |net, client, _| {
        let (a, b) = (net.a, net.b);
        black_hole(&mut net.sim, a, b); // the FIN never arrives
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        net.sim.run_for(Duration::from_millis(50)).unwrap();
        assert_eq!(net.sim.endpoint(a).state(client), Some(FinWait1));
    });
    let a = net.a;
    assert_app_sees_reset(&mut net, a, client);
    assert_eq!(
        &states(&net.sim, a, a_tuple())[2..],
        [Established, FinWait1, Closed]
    );
    // No FIN retransmission after the reset.
    let fins = net.wire().iter().filter(|w| w.flags.fin()).count();
    net.sim.run_for(Duration::from_secs(10)).unwrap();
    assert_eq!(net.wire().iter().filter(|w| w.flags.fin()).count(), fins);
}

#[test]
fn fin_wait_2_rst_closes_the_connection_and_reports_connection_reset() {
    let (mut net, client, _server, _) = reset_after(211, false, |net, client, _| {
        let a = net.a;
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
    });
    let a = net.a;
    assert_app_sees_reset(&mut net, a, client);
    assert_eq!(
        &states(&net.sim, a, a_tuple())[2..],
        [Established, FinWait1, FinWait2, Closed]
    );
}

#[test]
fn close_wait_rst_closes_the_connection_and_reports_connection_reset() {
    let (mut net, _client, server, _) = reset_after(212, true, |net, client, _| {
        let (a, b) = (net.a, net.b);
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        run_until_state(&mut net.sim, b, b_tuple(), CloseWait);
    });
    let b = net.b;
    assert_app_sees_reset(&mut net, b, server);
    assert_eq!(
        &states(&net.sim, b, b_tuple())[2..],
        [Established, CloseWait, Closed]
    );
}

#[test]
fn closing_rst_closes_the_connection() {
    let (net, client, server, _) = reset_after(213, false, |net, client, server| {
        let (a, b) = (net.a, net.b);
        // Simultaneous close whose ACKs are lost: both ends stay in CLOSING.
        net.sim.set_filter(a, b, |ctx| {
            if is_pure_ack(ctx) {
                FilterAction::Drop
            } else {
                FilterAction::Deliver
            }
        });
        net.sim.set_filter(b, a, |ctx| {
            if is_pure_ack(ctx) {
                FilterAction::Drop
            } else {
                FilterAction::Deliver
            }
        });
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        net.sim.endpoint_mut(b).shutdown(now, server).unwrap();
        run_until(&mut net.sim, |sim| {
            sim.endpoint(a).state(client) == Some(Closing)
                && sim.endpoint(b).state(server) == Some(Closing)
        });
    });
    let (a, b) = (net.a, net.b);
    assert_eq!(net.sim.endpoint(a).state(client), Some(Closed));
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(
        &states(&net.sim, a, a_tuple())[2..],
        [Established, FinWait1, Closing, Closed]
    );
    assert_eq!(
        net.sim.endpoint(b).state(server),
        Some(Closing),
        "B is not affected"
    );
}

#[test]
fn last_ack_rst_closes_the_connection() {
    let (mut net, _client, server, _) = reset_after(214, true, |net, client, server| {
        let (a, b) = (net.a, net.b);
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        run_until_state(&mut net.sim, b, b_tuple(), CloseWait);
        black_hole(&mut net.sim, b, a); // B's FIN never arrives
        let now = net.sim.now();
        net.sim.endpoint_mut(b).close(now, server).unwrap();
        run_until_state(&mut net.sim, b, b_tuple(), LastAck);
        net.sim.run_for(Duration::from_millis(50)).unwrap();
    });
    let b = net.b;
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
    assert_eq!(
        net.sim.endpoint(b).state(server),
        None,
        "released and freed"
    );
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    assert_eq!(
        &states(&net.sim, b, b_tuple())[2..],
        [Established, CloseWait, LastAck, Closed]
    );
    let fins = net.wire().iter().filter(|w| w.flags.fin()).count();
    net.sim.run_for(Duration::from_secs(10)).unwrap();
    assert_eq!(
        net.wire().iter().filter(|w| w.flags.fin()).count(),
        fins,
        "no FIN retransmission"
    );
}

/// TIME-WAIT: `release` = the application closed (compact record) or only shut down.
fn time_wait_rst(seed: u64, release: bool) {
    let mut reached = Instant::ZERO;
    let (net, client, _server, _) = reset_after(seed, false, |net, client, server| {
        let (a, b) = (net.a, net.b);
        let now = net.sim.now();
        if release {
            net.sim.endpoint_mut(a).close(now, client).unwrap();
        } else {
            net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        }
        run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
        let now = net.sim.now();
        net.sim.endpoint_mut(b).close(now, server).unwrap();
        run_until_state(&mut net.sim, a, a_tuple(), TimeWait);
        net.sim.run_for(Duration::from_millis(100)).unwrap();
        reached = net.sim.now();
    });
    let a = net.a;
    // The RST ended TIME-WAIT at once, long before 2 MSL.
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 0);
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Closed, reached),
        Some(reached),
        "CLOSED when the RST arrived"
    );
    let path = states(&net.sim, a, a_tuple());
    assert_eq!(&path[path.len() - 2..], [TimeWait, Closed]);
    if release {
        assert_eq!(net.sim.endpoint(a).connection_count(), 0);
    } else {
        assert_eq!(net.sim.endpoint(a).state(client), Some(Closed));
    }
}

#[test]
fn time_wait_record_rst_closes_it() {
    time_wait_rst(215, true);
}

#[test]
fn time_wait_connection_rst_closes_it() {
    time_wait_rst(216, false);
}

// ---- RFC 5961 ----

/// An established connection whose A end has a small challenge-ACK budget.
fn established_with_limit(seed: u64, limit: u32) -> (Net, ConnId, ConnId, u32, u32) {
    let config = Config {
        challenge_ack_limit: limit,
        ..Config::default()
    };
    let mut net = Net::with_configs(seed, config, Config::default());
    let (client, server, _) = net.establish();
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let wire = net.wire();
    // A's SND.NXT and RCV.NXT.
    (
        net,
        client,
        server,
        snd_nxt(&wire, Dir::AtoB),
        rcv_nxt(&wire, Dir::BtoA),
    )
}

/// The connection still carries data both ways.
fn assert_survives(net: &mut Net, client: ConnId, server: ConnId) {
    let (a, b) = (net.a, net.b);
    assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    let now = net.sim.now();
    net.sim.endpoint_mut(a).send(now, client, b"ping").unwrap();
    net.sim.endpoint_mut(b).send(now, server, b"pong").unwrap();
    net.sim.run_for(Duration::from_millis(200)).unwrap();
    let now = net.sim.now();
    let mut buf = [0u8; 8];
    assert_eq!(net.sim.endpoint_mut(b).recv(now, server, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"ping");
    assert_eq!(net.sim.endpoint_mut(a).recv(now, client, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"pong");
    assert!(drain_events(&mut net.sim, a)
        .iter()
        .all(|e| !matches!(e, Event::Closed(..))));
}

#[test]
fn in_window_rst_not_at_rcv_nxt_draws_a_challenge_ack_and_the_connection_survives() {
    let (mut net, client, server, snd, rcv) = established_with_limit(217, 1000);
    let a = net.a;
    for offset in [1u32, 1000, 60_000] {
        let mark = inject_now(&mut net, a, b_to_a(rcv.wrapping_add(offset), 0, RST));
        let sent = sent_since(&net.sim, a, mark);
        // RFC 5961 §3.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
        let fig = Figure::default().a(snd, 100).b(rcv, 300);
        assert_eq!(
            fig.lines(&sent),
            ["--> <SEQ=100><ACK=300><CTL=ACK>"],
            "offset {offset}"
        );
        assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    }
    assert_survives(&mut net, client, server);
}

#[test]
fn out_of_window_rst_is_dropped_silently() {
    let (mut net, client, server, _snd, rcv) = established_with_limit(218, 1000);
    let a = net.a;
    for seq in [
        rcv.wrapping_add(70_000),
        rcv.wrapping_add(1 << 30),
        rcv.wrapping_sub(1),
        rcv.wrapping_sub(100_000),
    ] {
        let mark = inject_now(&mut net, a, b_to_a(seq, 0, RST));
        assert!(
            sent_since(&net.sim, a, mark).is_empty(),
            "no reply to {seq}"
        );
        assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    }
    assert_survives(&mut net, client, server);
}

#[test]
fn syn_in_established_draws_a_challenge_ack_and_the_connection_survives() {
    let (mut net, client, server, snd, rcv) = established_with_limit(219, 1000);
    let a = net.a;
    // RFC 5961 §4.2: whatever its sequence number — in the window, at RCV.NXT, an old
    // duplicate of the peer's SYN, or far away.
    for seq in [
        rcv,
        rcv.wrapping_add(500),
        rcv.wrapping_sub(1),
        rcv.wrapping_add(1 << 31),
    ] {
        let mark = inject_now(&mut net, a, b_to_a(seq, 0, TcpFlags::SYN));
        let sent = sent_since(&net.sim, a, mark);
        let fig = Figure::default().a(snd, 100).b(rcv, 300);
        assert_eq!(
            fig.lines(&sent),
            ["--> <SEQ=100><ACK=300><CTL=ACK>"],
            "SYN at {seq}"
        );
        assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    }
    assert_survives(&mut net, client, server);
}

#[test]
fn challenge_acks_are_rate_limited_per_second() {
    let limit = 3;
    let (mut net, client, server, _snd, rcv) = established_with_limit(220, limit);
    let a = net.a;
    let burst = |net: &mut Net| {
        let mark = net.sim.packets().len();
        let now = net.sim.now();
        for i in 0..10u32 {
            let seq = rcv.wrapping_add(100 + i);
            net.sim.inject(a, now, b_to_a(seq, 0, RST));
            net.sim.inject(a, now, b_to_a(seq, 0, TcpFlags::SYN));
        }
        net.sim.run_for(Duration::from_millis(100)).unwrap();
        sent_since(&net.sim, a, mark)
    };
    let sent = burst(&mut net);
    assert_eq!(sent.len(), limit as usize, "20 challenges, {limit} ACKs");
    assert!(sent.iter().all(|w| w.is(TcpFlags::ACK) && w.ack == rcv));
    // Still within the same second: nothing more.
    assert!(burst(&mut net).is_empty());
    // A new second, a new budget.
    net.sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(burst(&mut net).len(), limit as usize);
    assert_survives(&mut net, client, server);
}
