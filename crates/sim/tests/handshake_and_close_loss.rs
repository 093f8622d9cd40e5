//! Loss at every step of the handshake (RFC 9293 §3.5) and of the close (§3.6), the
//! retransmission timer that recovers each (RFC 6298, §3.8.1–3.8.3), TIME-WAIT's 2 MSL
//! timer and its restart (§3.10.7.4, MUST-13), giving up on a black hole (R2, MUST-23)
//! and a refused connection (§3.10.7.1, §3.10.7.3).

mod common;

use common::*;
use core::time::Duration;
use synack::{CloseReason, Config, Error, Event, Instant, State};
use synack_wire::TcpFlags;

use State::{
    CloseWait, Closed, Established, FinWait1, FinWait2, LastAck, Listen, SynReceived, SynSent,
    TimeWait,
};

/// RFC 6298 §2.1: the RTO before any RTT sample.
const INITIAL_RTO: Duration = Duration::from_secs(1);

#[test]
fn lost_syn_is_retransmitted_after_the_initial_rto_of_one_second() {
    let mut net = Net::new(101);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, |ctx| ctx.is_syn());
    let (client, server, _) = net.establish();
    net.sim.run_for(Duration::from_secs(2)).unwrap();
    net.print_ladder("SYN lost");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[2].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN> (lost)",
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert!(wire[1].retransmission);
    assert_eq!(
        wire[1].sent_at.saturating_since(wire[0].sent_at),
        INITIAL_RTO
    );
    assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    assert_eq!(net.sim.endpoint(b).state(server), Some(Established));
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, Established]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Established]
    );
}

#[test]
fn lost_syn_ack_is_retransmitted_by_the_server_one_rto_later() {
    let mut net = Net::new(102);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, b, a, 1, |ctx| ctx.is_syn_ack());
    // Lose the client's own SYN retransmission too, so that it is the server's
    // retransmission timer that recovers the handshake.
    drop_first(&mut net.sim, a, b, 1, |ctx| ctx.is_syn() && ctx.index > 0);
    let (client, server, _) = net.establish();
    net.sim.run_for(Duration::from_secs(2)).unwrap();
    net.print_ladder("SYN-ACK lost");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK> (lost)",
            "--> <SEQ=100><CTL=SYN> (lost)",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert!(wire[3].retransmission && wire[3].from == Some(b));
    assert_eq!(
        wire[3].sent_at.saturating_since(wire[1].sent_at),
        INITIAL_RTO
    );
    assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    assert_eq!(net.sim.endpoint(b).state(server), Some(Established));
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Established, Instant::ZERO),
        wire[3].arrived_at()
    );
}

#[test]
fn lost_third_ack_is_recovered_by_the_syn_ack_retransmission() {
    let mut net = Net::new(103);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, is_pure_ack);
    let listener = net.listen();
    let client = net.connect();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
    });
    // The client thinks the handshake is over; the server is still in SYN-RECEIVED.
    net.sim.run_for(Duration::from_millis(500)).unwrap();
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), Some(SynReceived));
    let server = accept_when_ready(&mut net.sim, b, listener);
    net.sim.run_for(Duration::from_secs(2)).unwrap();
    net.print_ladder("third ACK lost");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK> (lost)",
            // The server's SYN-ACK again; the ESTABLISHED client answers the old SYN
            // with an ACK (§3.10.7.4, first check: not acceptable → ACK).
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert!(wire[3].retransmission);
    assert_eq!(
        wire[3].sent_at.saturating_since(wire[1].sent_at),
        INITIAL_RTO
    );
    assert_eq!(net.sim.endpoint(a).state(client), Some(Established));
    assert_eq!(net.sim.endpoint(b).state(server), Some(Established));
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Established, Instant::ZERO),
        wire[4].arrived_at()
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, Established]
    );
}

#[test]
fn lost_third_ack_is_made_up_for_by_the_ack_on_the_first_data_segment() {
    let mut net = Net::new(104);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, is_pure_ack);
    let listener = net.listen();
    let client = net.connect();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
    });
    // The client sends at once; its data segment carries the ACK the server missed.
    let now = net.sim.now();
    net.sim
        .endpoint_mut(a)
        .send(now, client, &[7u8; 100])
        .unwrap();
    let server = accept_when_ready(&mut net.sim, b, listener);
    net.sim.run_for(Duration::from_secs(3)).unwrap();
    net.print_ladder("third ACK lost, data carries the ACK");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK> (lost)",
            "--> <SEQ=101><ACK=301><CTL=ACK><DATA=100>",
            "<-- <SEQ=301><ACK=201><CTL=ACK>",
        ]
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Established, Instant::ZERO),
        wire[3].arrived_at()
    );
    assert_eq!(net.sim.retransmissions(a) + net.sim.retransmissions(b), 0);
    let mut buf = [0u8; 200];
    let now = net.sim.now();
    assert_eq!(net.sim.endpoint_mut(b).recv(now, server, &mut buf), Ok(100));
    assert!(buf[..100].iter().all(|&x| x == 7));
}

#[test]
fn lost_first_fin_is_retransmitted_after_an_rto() {
    let mut net = Net::new(105);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let before = net.wire();
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let mark = net.sim.packets().len();
    drop_first(&mut net.sim, a, b, 1, |ctx| ctx.is_fin());
    let now = net.sim.now();
    net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    run_until_state(&mut net.sim, b, b_tuple(), CloseWait);
    run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
    let now = net.sim.now();
    net.sim.endpoint_mut(b).close(now, server).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Closed)
    });
    net.print_ladder("first FIN lost");

    let wire: Vec<Wire> = net.wire().into_iter().filter(|w| w.id >= mark).collect();
    let fig = Figure::default().a(a_next, 100).b(b_next, 300);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><ACK=300><CTL=FIN,ACK> (lost)",
            "--> <SEQ=100><ACK=300><CTL=FIN,ACK>",
            "<-- <SEQ=300><ACK=101><CTL=ACK>",
            "<-- <SEQ=300><ACK=101><CTL=FIN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert!(wire[1].retransmission);
    // One RTT sample of 20 ms gives an RTO under the 200 ms floor (RFC 6298 §2.4 with
    // Linux's minimum), so the FIN goes again 200 ms later.
    assert_eq!(
        wire[1].sent_at.saturating_since(wire[0].sent_at),
        Config::default().rto_min
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), CloseWait, Instant::ZERO),
        wire[1].arrived_at()
    );
    assert_eq!(
        &states(&net.sim, a, a_tuple())[2..],
        [Established, FinWait1, FinWait2, TimeWait, Closed]
    );
    assert_eq!(
        &states(&net.sim, b, b_tuple())[2..],
        [Established, CloseWait, LastAck, Closed]
    );
}

/// The last ACK of the close is lost: B retransmits its FIN, A (in TIME-WAIT) ACKs it
/// again and restarts the 2 MSL timer (§3.10.7.4, eighth step, TIME-WAIT STATE).
/// `release`: A's application `close`s (TIME-WAIT is then a compact record) instead of
/// `shutdown` (TIME-WAIT in the full connection).
fn last_ack_lost(seed: u64, release: bool) {
    let mut net = Net::new(seed);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let before = net.wire();
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let mark = net.sim.packets().len();
    let now = net.sim.now();
    if release {
        net.sim.endpoint_mut(a).close(now, client).unwrap();
    } else {
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    }
    run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
    // The next thing A sends is the ACK of B's FIN: lose it.
    drop_first(&mut net.sim, a, b, 1, |_| true);
    let now = net.sim.now();
    net.sim.endpoint_mut(b).close(now, server).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).state_of(b_tuple()).is_none()
    });

    let wire: Vec<Wire> = net.wire().into_iter().filter(|w| w.id >= mark).collect();
    let fig = Figure::default().a(a_next, 100).b(b_next, 300);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><ACK=300><CTL=FIN,ACK>",
            "<-- <SEQ=300><ACK=101><CTL=ACK>",
            "<-- <SEQ=300><ACK=101><CTL=FIN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK> (lost)",
            "<-- <SEQ=300><ACK=101><CTL=FIN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert!(wire[4].retransmission);
    let first_ack = wire[3].sent_at;
    let second_ack = wire[5].sent_at;
    assert!(second_ack > first_ack);
    assert_eq!(
        entered(&net.sim, a, a_tuple(), TimeWait, Instant::ZERO),
        Some(first_ack)
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Closed, Instant::ZERO),
        wire[5].arrived_at()
    );

    // 2 MSL after the first ACK, TIME-WAIT is still there: the timer was restarted...
    net.sim
        .run_until(first_ack + 2 * MSL + Duration::from_millis(1))
        .unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), Some(TimeWait));
    net.sim
        .run_until(second_ack + 2 * MSL - Duration::from_millis(1))
        .unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), Some(TimeWait));
    // ...and it ends 2 MSL after the second.
    net.sim.run_until(second_ack + 2 * MSL).unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Closed, first_ack),
        Some(second_ack + 2 * MSL)
    );
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 0);
    if release {
        assert_eq!(net.sim.endpoint(a).connection_count(), 0);
    } else {
        assert_eq!(net.sim.endpoint(a).state(client), Some(Closed));
        assert_eq!(
            net.sim.endpoint(a).close_reason(client),
            Some(CloseReason::Normal)
        );
    }
    net.print_ladder("last ACK lost");
}

#[test]
fn lost_last_ack_makes_the_time_wait_record_ack_the_fin_again_and_restart_two_msl() {
    last_ack_lost(106, true);
}

#[test]
fn lost_last_ack_makes_a_time_wait_connection_ack_the_fin_again_and_restart_two_msl() {
    last_ack_lost(107, false);
}

#[test]
fn time_wait_expiry_returns_to_closed_and_frees_the_four_tuple() {
    let mut net = Net::new(108);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let now = net.sim.now();
    net.sim.endpoint_mut(a).close(now, client).unwrap();
    run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
    let now = net.sim.now();
    net.sim.endpoint_mut(b).close(now, server).unwrap();
    run_until_state(&mut net.sim, a, a_tuple(), TimeWait);
    let entered_at = net.sim.now();
    // The record holds the 4-tuple (MUST-13): the same connection cannot be opened.
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 1);
    assert_eq!(
        net.sim.endpoint(a).connection_count(),
        0,
        "a compact record, no TCB"
    );
    assert_eq!(
        net.sim
            .endpoint_mut(a)
            .connect(entered_at, a_addr(), b_addr()),
        Err(Error::AddrInUse)
    );
    net.sim
        .run_until(entered_at + 2 * MSL - Duration::from_millis(1))
        .unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), Some(TimeWait));
    net.sim.run_until(entered_at + 2 * MSL).unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 0);
    assert_eq!(
        states(&net.sim, a, a_tuple()).last(),
        Some(&Closed),
        "the trace shows TIME-WAIT → CLOSED"
    );
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Closed, entered_at),
        Some(entered_at + 2 * MSL)
    );
    // After 2 MSL the 4-tuple is free again.
    let now = net.sim.now();
    let again = net
        .sim
        .endpoint_mut(a)
        .connect(now, a_addr(), b_addr())
        .unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(again) == Some(Established)
    });
}

#[test]
fn syn_retransmissions_back_off_exponentially() {
    let mut net = Net::new(109);
    let (a, b) = (net.a, net.b);
    black_hole(&mut net.sim, a, b);
    net.listen();
    let client = net.connect();
    net.sim.run_until(Instant::from_millis(40_000)).unwrap();
    let syns: Vec<Wire> = net
        .wire()
        .into_iter()
        .filter(|w| w.is(TcpFlags::SYN))
        .collect();
    let times: Vec<u64> = syns.iter().map(|w| w.sent_at.as_micros() / 1000).collect();
    // RFC 6298 §5.5: the RTO doubles after each timeout: 1 s, 2 s, 4 s, 8 s, 16 s.
    assert_eq!(times, [0, 1_000, 3_000, 7_000, 15_000, 31_000]);
    assert!(syns
        .iter()
        .skip(1)
        .all(|w| w.retransmission && w.seq == syns[0].seq));
    assert_eq!(net.sim.endpoint(a).state(client), Some(SynSent));
}

#[test]
fn connect_to_a_black_hole_times_out_after_r2_syn() {
    let r2 = Duration::from_secs(10);
    let config = Config {
        r2_syn: r2,
        ..Config::default()
    };
    let mut net = Net::with_configs(110, config, Config::default());
    let (a, b) = (net.a, net.b);
    black_hole(&mut net.sim, a, b);
    let client = net.connect();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Closed)
    });
    let closed_at = net.sim.now();
    net.sim.run_for(Duration::from_secs(60)).unwrap();

    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(CloseReason::TimedOut)
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Closed(client, CloseReason::TimedOut)));
    let mut buf = [0u8; 4];
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(a).recv(now, client, &mut buf),
        Err(Error::TimedOut)
    );
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"x"),
        Err(Error::TimedOut)
    );
    // It retransmitted for exactly R2, counted from the first SYN: the last backed-off
    // timeout is clamped to land on R2 (as Linux's user timeout does).
    let syns: Vec<Wire> = net
        .wire()
        .into_iter()
        .filter(|w| w.is(TcpFlags::SYN))
        .collect();
    let first_syn = syns.first().unwrap().sent_at;
    let last_syn = syns.last().unwrap().sent_at;
    assert_eq!(
        closed_at,
        first_syn + r2,
        "gave up at {closed_at}, not at R2"
    );
    assert!(last_syn < closed_at, "no SYN after giving up");
    assert_eq!(states(&net.sim, a, a_tuple()), [Closed, SynSent, Closed]);
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
}

#[test]
fn syn_to_a_port_without_listener_is_refused_with_a_reset() {
    let mut net = Net::new(111);
    let a = net.a;
    // No listener on B.
    let client = net.connect();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Closed)
    });
    net.sim.run_for(Duration::from_secs(5)).unwrap();
    net.print_ladder("connection refused");

    let wire = net.wire();
    // §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    let fig = Figure::default().a(wire[0].seq, 100).b(0, 0);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=0><ACK=101><CTL=RST,ACK>"
        ]
    );
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
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"x"),
        Err(Error::ConnectionRefused)
    );
    assert_eq!(states(&net.sim, a, a_tuple()), [Closed, SynSent, Closed]);
    assert_eq!(net.sim.retransmissions(a), 0);
}

#[test]
fn simultaneous_open_with_a_lost_syn_ack_completes_on_the_retransmission() {
    let mut net = Net::new(112);
    let (a, b) = (net.a, net.b);
    drop_first(&mut net.sim, a, b, 1, |ctx| ctx.is_syn_ack());
    let (ca, cb) = net.connect_both();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(ca) == Some(Established)
            && sim.endpoint(b).state(cb) == Some(Established)
    });
    net.sim.run_for(Duration::from_secs(3)).unwrap();
    net.print_ladder("simultaneous open, A's SYN-ACK lost");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=100><ACK=301><CTL=SYN,ACK> (lost)",
            // A is ESTABLISHED (B's SYN-ACK arrived); B is still in SYN-RECEIVED and its
            // retransmission timer (running since its SYN at 0 s) sends the SYN-ACK
            // again; A answers the old SYN with an ACK, which completes B's handshake.
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert_eq!(
        wire[4].sent_at.saturating_since(wire[1].sent_at),
        INITIAL_RTO
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Established, Instant::ZERO),
        wire[5].arrived_at()
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, SynReceived, Established]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Closed, SynSent, SynReceived, Established]
    );
}
