//! RFC 9293 §3.5 and §3.6, figure by figure: each test plays the figure's scenario in
//! the simulator and checks the exact segments on the wire (direction, control bits,
//! SEQ/ACK with A's ISS shown as 100 and B's as 300, as the figures do) and both ends'
//! state transitions. `cargo test --test rfc9293_figures -- --nocapture` prints the
//! ladders.

mod common;

use common::*;
use core::time::Duration;
use synack::{CloseReason, Error, Event, Instant, State};
use synack_sim::{FilterAction, LinkConfig};
use synack_wire::TcpFlags;

use State::{
    CloseWait, Closed, Closing, Established, FinWait1, FinWait2, LastAck, Listen, SynReceived,
    SynSent, TimeWait,
};

/// Figure 6: basic three-way handshake for connection synchronization.
///
/// ```text
///     TCP Peer A                                           TCP Peer B
/// 1.  CLOSED                                               LISTEN
/// 2.  SYN-SENT    --> <SEQ=100><CTL=SYN>               --> SYN-RECEIVED
/// 3.  ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>  <-- SYN-RECEIVED
/// 4.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK>       --> ESTABLISHED
/// 5.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK><DATA> --> ESTABLISHED
/// ```
#[test]
fn figure_6_three_way_handshake_synchronizes_both_sides() {
    let mut net = Net::new(6);
    let listener = net.listen();
    let client = net.connect();
    let server = accept_when_ready(&mut net.sim, net.b, listener);
    let (a, b) = (net.a, net.b);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
    });
    // Line 5: the first data segment.
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"0123456789"),
        Ok(10)
    );
    net.sim.run_for(Duration::from_millis(200)).unwrap();
    net.print_ladder("RFC 9293 Figure 6");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK><DATA=10>",
            // Not in the figure: B acknowledges the data (after its delayed-ACK time).
            "<-- <SEQ=301><ACK=111><CTL=ACK>",
        ]
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, Established]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Established]
    );
    // Each transition happens where the figure puts it: on the arrival of line 2 (B), 3
    // (A) and 4 (B).
    assert_eq!(
        entered(&net.sim, b, b_tuple(), SynReceived, Instant::ZERO),
        wire[0].arrived_at()
    );
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Established, Instant::ZERO),
        wire[1].arrived_at()
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Established, Instant::ZERO),
        wire[2].arrived_at()
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Connected(client)));
    let mut buf = [0u8; 32];
    let now = net.sim.now();
    assert_eq!(net.sim.endpoint_mut(b).recv(now, server, &mut buf), Ok(10));
    assert_eq!(&buf[..10], b"0123456789");
}

/// Figure 7: simultaneous connection synchronization.
///
/// ```text
///     TCP Peer A                                       TCP Peer B
/// 1.  CLOSED                                           CLOSED
/// 2.  SYN-SENT     --> <SEQ=100><CTL=SYN>              ...
/// 3.  SYN-RECEIVED <-- <SEQ=300><CTL=SYN>              <-- SYN-SENT
/// 4.               ... <SEQ=100><CTL=SYN>              --> SYN-RECEIVED
/// 5.  SYN-RECEIVED --> <SEQ=100><ACK=301><CTL=SYN,ACK> ...
/// 6.  ESTABLISHED  <-- <SEQ=300><ACK=101><CTL=SYN,ACK> <-- SYN-RECEIVED
/// 7.               ... <SEQ=100><ACK=301><CTL=SYN,ACK> --> ESTABLISHED
/// ```
#[test]
fn figure_7_simultaneous_open_reaches_established_through_syn_received() {
    let mut net = Net::new(7);
    let (a, b) = (net.a, net.b);
    // Both ends do an active OPEN towards each other at the same instant; no listener.
    let (ca, cb) = net.connect_both();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(ca) == Some(Established)
            && sim.endpoint(b).state(cb) == Some(Established)
    });
    net.sim.run_for(Duration::from_secs(5)).unwrap();
    net.print_ladder("RFC 9293 Figure 7");

    let wire = net.wire();
    let fig = Figure::isns(wire[0].seq, wire[1].seq);
    // The two SYNs cross, each end answers with a SYN-ACK and each SYN-ACK completes
    // the handshake: four segments, as in the figure, and nothing retransmitted.
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "<-- <SEQ=300><CTL=SYN>",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=100><ACK=301><CTL=SYN,ACK>",
        ]
    );
    assert_eq!(net.sim.retransmissions(a) + net.sim.retransmissions(b), 0);
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, SynReceived, Established]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Closed, SynSent, SynReceived, Established]
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Connected(ca)));
    assert!(drain_events(&mut net.sim, b).contains(&Event::Connected(cb)));
    // And the connection works.
    let now = net.sim.now();
    net.sim.endpoint_mut(a).send(now, ca, b"hello").unwrap();
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let mut buf = [0u8; 8];
    let now = net.sim.now();
    assert_eq!(net.sim.endpoint_mut(b).recv(now, cb, &mut buf), Ok(5));
}

/// Figure 8: recovery from an old duplicate SYN.
///
/// ```text
///     TCP Peer A                                           TCP Peer B
/// 1.  CLOSED                                               LISTEN
/// 2.  SYN-SENT    --> <SEQ=100><CTL=SYN>               ...
/// 3.  (duplicate) ... <SEQ=90><CTL=SYN>               --> SYN-RECEIVED
/// 4.  SYN-SENT    <-- <SEQ=300><ACK=91><CTL=SYN,ACK>   <-- SYN-RECEIVED
/// 5.  SYN-SENT    --> <SEQ=91><CTL=RST>                --> LISTEN
/// 6.              ... <SEQ=100><CTL=SYN>               --> SYN-RECEIVED
/// 7.  ESTABLISHED <-- <SEQ=400><ACK=101><CTL=SYN,ACK>  <-- SYN-RECEIVED
/// 8.  ESTABLISHED --> <SEQ=101><ACK=401><CTL=ACK>      --> ESTABLISHED
/// ```
#[test]
fn figure_8_old_duplicate_syn_is_reset_and_the_real_syn_completes_the_handshake() {
    let mut net = Net::new(8);
    let (a, b) = (net.a, net.b);
    let listener = net.listen();
    // The real SYN is slow: it arrives after the old duplicate has been dealt with.
    net.sim.set_filter(a, b, |ctx| {
        if ctx.is_syn() && ctx.index == 0 {
            FilterAction::Delay(Duration::from_millis(30))
        } else {
            FilterAction::Deliver
        }
    });
    let client = net.connect();
    let iss = net.wire()[0].seq;
    // An old duplicate SYN of an earlier incarnation, ten numbers below the ISS.
    let old = iss.wrapping_sub(10);
    net.sim
        .inject(b, Instant::ZERO, a_to_b(old, 0, TcpFlags::SYN));
    let server = accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Established)
    });
    net.sim.run_for(Duration::from_secs(3)).unwrap();
    net.print_ladder("RFC 9293 Figure 8");

    let wire = net.wire();
    let syn_acks: Vec<&Wire> = wire
        .iter()
        .filter(|w| w.is(TcpFlags::SYN | TcpFlags::ACK))
        .collect();
    assert_eq!(syn_acks.len(), 2, "one SYN-ACK per SYN");
    let fig = Figure::default()
        .a(iss, 100)
        .a(old, 90)
        .b(syn_acks[0].seq, 300)
        .b(syn_acks[1].seq, 400);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN>",
            "--> <SEQ=90><CTL=SYN> (injected)",
            "<-- <SEQ=300><ACK=91><CTL=SYN,ACK>",
            "--> <SEQ=91><CTL=RST>",
            "<-- <SEQ=400><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><ACK=401><CTL=ACK>",
        ]
    );
    // The RST reached B before the real SYN did (lines 5 and 6).
    assert!(wire[3].arrived_at() < wire[0].arrived_at());
    assert_ne!(
        syn_acks[0].seq, syn_acks[1].seq,
        "a new incarnation, a new ISS"
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [Closed, SynSent, Established]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Listen, SynReceived, Established]
    );
    assert_eq!(net.sim.endpoint(b).state(server), Some(Established));
    assert_eq!(net.sim.retransmissions(a) + net.sim.retransmissions(b), 0);
}

/// Crash peer A: a new host takes over its address, with an endpoint that knows nothing
/// of the old connection. Returns the new host.
fn crash_a(net: &mut Net) -> synack_sim::HostId {
    let rebooted = net
        .sim
        .add_host("A (rebooted)", synack::Config::default(), &[A_IP]);
    net.sim
        .link(rebooted, net.b, LinkConfig::default().latency(LATENCY));
    rebooted
}

/// Figure 9: half-open connection discovery.
///
/// ```text
///     TCP Peer A                                           TCP Peer B
/// 1.  (CRASH)                               (send 300,receive 100)
/// 2.  CLOSED                                           ESTABLISHED
/// 3.  SYN-SENT --> <SEQ=400><CTL=SYN>              --> (??)
/// 4.  (!!)     <-- <SEQ=300><ACK=100><CTL=ACK>     <-- ESTABLISHED
/// 5.  SYN-SENT --> <SEQ=100><CTL=RST>              --> (Abort!!)
/// 6.  SYN-SENT                                         CLOSED
/// 7.  SYN-SENT --> <SEQ=400><CTL=SYN>              -->
/// ```
#[test]
fn figure_9_crashed_peer_reconnecting_discovers_and_resets_the_half_open_connection() {
    let mut net = Net::new(9);
    let (_client, server, listener) = net.establish();
    let b = net.b;
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let before = net.wire();
    // B sends from 300 and expects 100.
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let crash_at = net.sim.packets().len();
    let crash_time = net.sim.now();

    let a2 = crash_a(&mut net);
    let now = net.sim.now();
    // The rebooted A opens the same 4-tuple again.
    net.sim
        .endpoint_mut(a2)
        .connect(now, a_addr(), b_addr())
        .unwrap();
    net.sim.collect();
    let new_iss = net.sim.packets()[crash_at].parse().unwrap().tcp.seq;
    let server2 = accept_when_ready(&mut net.sim, b, listener);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a2).state_of(a_tuple()) == Some(Established)
            && sim.endpoint(b).state(server2) == Some(Established)
    });
    net.sim.run_for(Duration::from_millis(500)).unwrap();
    print_ladder_since(
        &mut net.sim,
        a2,
        b,
        a_tuple(),
        crash_time,
        [None, None],
        "RFC 9293 Figure 9 (after the crash)",
    );

    let wire: Vec<Wire> = net
        .wire()
        .into_iter()
        .filter(|w| w.id >= crash_at)
        .collect();
    let new_b_iss = wire
        .iter()
        .find(|w| w.is(TcpFlags::SYN | TcpFlags::ACK))
        .unwrap()
        .seq;
    let fig = Figure::default()
        .a(a_next, 100)
        .a(new_iss, 400)
        .b(b_next, 300)
        .b(new_b_iss, 600);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=400><CTL=SYN>",
            // B cannot tell the SYN from an attack (RFC 5961 §4): it answers with an ACK
            // showing what it expects, and that ACK is what A finds unacceptable.
            "<-- <SEQ=300><ACK=100><CTL=ACK>",
            "--> <SEQ=100><CTL=RST>",
            // Line 7: A's SYN again (its retransmission timer), now to a B with no TCB
            // for the 4-tuple, which opens a new connection.
            "--> <SEQ=400><CTL=SYN>",
            "<-- <SEQ=600><ACK=401><CTL=SYN,ACK>",
            "--> <SEQ=401><ACK=601><CTL=ACK>",
        ]
    );
    assert!(wire[3].retransmission);
    assert_eq!(
        wire[3].sent_at.saturating_since(wire[0].sent_at),
        Duration::from_secs(1)
    );
    // B aborted the half-open connection (line 5): reset, and the application is told.
    assert_eq!(net.sim.endpoint(b).state(server), Some(Closed));
    assert_eq!(
        net.sim.endpoint(b).close_reason(server),
        Some(CloseReason::Reset)
    );
    assert!(drain_events(&mut net.sim, b).contains(&Event::Closed(server, CloseReason::Reset)));
    let now = net.sim.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        net.sim.endpoint_mut(b).recv(now, server, &mut buf),
        Err(Error::ConnectionReset)
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [
            Listen,
            SynReceived,
            Established,
            Closed,
            Listen,
            SynReceived,
            Established
        ]
    );
    assert_eq!(
        states(&net.sim, a2, a_tuple()),
        [Closed, SynSent, Established]
    );
}

/// Figure 10: the active side causes half-open connection discovery.
///
/// ```text
///     TCP Peer A                                              TCP Peer B
/// 1.  (REBOOT)                              (send 300,receive 100)
/// 2.  (??)    <-- <SEQ=300><ACK=100><DATA=10><CTL=ACK> <-- ESTABLISHED
/// 3.          --> <SEQ=100><CTL=RST>                   --> (ABORT!!)
/// ```
#[test]
fn figure_10_data_to_a_crashed_peer_draws_a_reset_that_aborts_the_connection() {
    let mut net = Net::new(10);
    let (_client, server, _listener) = net.establish();
    let b = net.b;
    net.sim.run_for(Duration::from_millis(100)).unwrap();
    let before = net.wire();
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let crash_at = net.sim.packets().len();
    let crash_time = net.sim.now();
    let a2 = crash_a(&mut net);

    let now = net.sim.now();
    net.sim
        .endpoint_mut(b)
        .send(now, server, b"0123456789")
        .unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).state(server) == Some(Closed)
    });
    net.sim.run_for(Duration::from_secs(2)).unwrap();
    print_ladder_since(
        &mut net.sim,
        a2,
        b,
        a_tuple(),
        crash_time,
        [None, None],
        "RFC 9293 Figure 10 (after the reboot)",
    );

    let wire: Vec<Wire> = net
        .wire()
        .into_iter()
        .filter(|w| w.id >= crash_at)
        .collect();
    let fig = Figure::default().a(a_next, 100).b(b_next, 300);
    assert_eq!(
        fig.lines(&wire),
        [
            "<-- <SEQ=300><ACK=100><CTL=ACK><DATA=10>",
            "--> <SEQ=100><CTL=RST>",
        ]
    );
    assert_eq!(wire[1].from, Some(a2));
    assert_eq!(
        net.sim.endpoint(b).close_reason(server),
        Some(CloseReason::Reset)
    );
    assert!(drain_events(&mut net.sim, b).contains(&Event::Closed(server, CloseReason::Reset)));
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(b).send(now, server, b"more"),
        Err(Error::ConnectionReset)
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Established, Closed]
    );
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
}

/// Figure 11: an old duplicate SYN initiates a reset on two passive sockets.
///
/// ```text
///     TCP Peer A                                      TCP Peer B
/// 1.  LISTEN                                          LISTEN
/// 2.       ... <SEQ=Z><CTL=SYN>                   --> SYN-RECEIVED
/// 3.  (??) <-- <SEQ=X><ACK=Z+1><CTL=SYN,ACK>      <-- SYN-RECEIVED
/// 4.       --> <SEQ=Z+1><CTL=RST>                 --> (return to LISTEN!)
/// 5.  LISTEN                                          LISTEN
/// ```
#[test]
fn figure_11_old_duplicate_syn_between_two_listeners_resets_back_to_listen() {
    let mut net = Net::new(11);
    let (a, b) = (net.a, net.b);
    let la = net.sim.endpoint_mut(a).listen(a_addr(), 16).unwrap();
    let lb = net.listen();
    // Z: an old SYN "from" A's listening port.
    let z: u32 = 0x1234_5678;
    net.sim
        .inject(b, Instant::ZERO, a_to_b(z, 0, TcpFlags::SYN));
    net.sim.run_for(Duration::from_secs(5)).unwrap();
    print_ladder_since(
        &mut net.sim,
        a,
        b,
        a_tuple(),
        Instant::ZERO,
        [Some(Listen), Some(Listen)],
        "RFC 9293 Figure 11",
    );

    let wire = net.wire();
    // With Z shown as 100 and X as 300.
    let fig = Figure::isns(z, wire[1].seq);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><CTL=SYN> (injected)",
            "<-- <SEQ=300><ACK=101><CTL=SYN,ACK>",
            "--> <SEQ=101><CTL=RST>",
        ]
    );
    assert_eq!(
        wire[2].from,
        Some(a),
        "A's listener answers the SYN-ACK with a RST"
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Listen]
    );
    assert_eq!(states(&net.sim, a, a_tuple()), []);
    assert_eq!(net.sim.endpoint(b).state_of(b_tuple()), None);
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    assert_eq!(
        net.sim.retransmissions(b),
        0,
        "no SYN-ACK retransmission after the RST"
    );

    // Line 5: both are still listening, and both listeners work.
    let now = net.sim.now();
    let any = core::net::SocketAddr::new(A_IP, 0);
    let to_b = net.sim.endpoint_mut(a).connect(now, any, b_addr()).unwrap();
    let any = core::net::SocketAddr::new(B_IP, 0);
    let to_a = net.sim.endpoint_mut(b).connect(now, any, a_addr()).unwrap();
    let at_b = accept_when_ready(&mut net.sim, b, lb);
    let at_a = accept_when_ready(&mut net.sim, a, la);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(to_b) == Some(Established)
            && sim.endpoint(b).state(to_a) == Some(Established)
            && sim.endpoint(a).state(at_a) == Some(Established)
            && sim.endpoint(b).state(at_b) == Some(Established)
    });
}

/// Figure 12: normal close sequence.
///
/// ```text
///     TCP Peer A                                           TCP Peer B
/// 1.  ESTABLISHED                                          ESTABLISHED
/// 2.  (Close)
///     FIN-WAIT-1  --> <SEQ=100><ACK=300><CTL=FIN,ACK>  --> CLOSE-WAIT
/// 3.  FIN-WAIT-2  <-- <SEQ=300><ACK=101><CTL=ACK>      <-- CLOSE-WAIT
/// 4.                                                       (Close)
///     TIME-WAIT   <-- <SEQ=300><ACK=101><CTL=FIN,ACK>  <-- LAST-ACK
/// 5.  TIME-WAIT   --> <SEQ=101><ACK=301><CTL=ACK>      --> CLOSED
/// 6.  (2 MSL)
///     CLOSED
/// ```
#[test]
fn figure_12_normal_close_goes_through_time_wait_for_two_msl() {
    let mut net = Net::new(12);
    let (client, server, _listener) = net.establish();
    let (a, b) = (net.a, net.b);
    let before = net.wire();
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let mark = net.sim.packets().len();

    let now = net.sim.now();
    net.sim.endpoint_mut(a).close(now, client).unwrap();
    // B's application closes once A has the ACK of its FIN (so that, as in the figure,
    // B's ACK and FIN are separate segments).
    run_until_state(&mut net.sim, a, a_tuple(), FinWait2);
    let mut buf = [0u8; 8];
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(b).recv(now, server, &mut buf),
        Ok(0),
        "end of stream"
    );
    assert_eq!(net.sim.endpoint(b).state(server), Some(CloseWait));
    net.sim.endpoint_mut(b).close(now, server).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(b).state_of(b_tuple()).is_none()
    });
    let time_wait_at = entered(&net.sim, a, a_tuple(), TimeWait, Instant::ZERO).unwrap();
    // TIME-WAIT holds the 4-tuple for 2 MSL, and not a moment longer.
    net.sim
        .run_until(time_wait_at + 2 * MSL - Duration::from_millis(1))
        .unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), Some(TimeWait));
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 1);
    net.sim.run_until(time_wait_at + 2 * MSL).unwrap();
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
    assert_eq!(net.sim.endpoint(a).time_wait_count(), 0);
    net.print_ladder("RFC 9293 Figure 12");

    let wire: Vec<Wire> = net.wire().into_iter().filter(|w| w.id >= mark).collect();
    let fig = Figure::default().a(a_next, 100).b(b_next, 300);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><ACK=300><CTL=FIN,ACK>",
            "<-- <SEQ=300><ACK=101><CTL=ACK>",
            "<-- <SEQ=300><ACK=101><CTL=FIN,ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    assert_eq!(
        states(&net.sim, a, a_tuple()),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        states(&net.sim, b, b_tuple()),
        [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
    );
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Closed, time_wait_at),
        Some(time_wait_at + 2 * MSL)
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Closed, Instant::ZERO),
        wire[3].arrived_at()
    );
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    assert_eq!(net.sim.endpoint(a).connection_count(), 0);
}

/// Figure 13: simultaneous close sequence.
///
/// ```text
///     TCP Peer A                                           TCP Peer B
/// 1.  ESTABLISHED                                          ESTABLISHED
/// 2.  (Close)                                              (Close)
///     FIN-WAIT-1  --> <SEQ=100><ACK=300><CTL=FIN,ACK>  ... FIN-WAIT-1
///                 <-- <SEQ=300><ACK=100><CTL=FIN,ACK>  <--
///                 ... <SEQ=100><ACK=300><CTL=FIN,ACK>  -->
/// 3.  CLOSING     --> <SEQ=101><ACK=301><CTL=ACK>      ... CLOSING
///                 <-- <SEQ=301><ACK=101><CTL=ACK>      <--
///                 ... <SEQ=101><ACK=301><CTL=ACK>      -->
/// 4.  TIME-WAIT                                            TIME-WAIT
///     (2 MSL)                                              (2 MSL)
///     CLOSED                                               CLOSED
/// ```
#[test]
fn figure_13_simultaneous_close_goes_through_closing_to_time_wait_on_both_sides() {
    let mut net = Net::new(13);
    let (client, server, _listener) = net.establish();
    let (a, b) = (net.a, net.b);
    let before = net.wire();
    let (a_next, b_next) = (snd_nxt(&before, Dir::AtoB), snd_nxt(&before, Dir::BtoA));
    let mark = net.sim.packets().len();

    let now = net.sim.now();
    net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    net.sim.endpoint_mut(b).shutdown(now, server).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(TimeWait)
            && sim.endpoint(b).state(server) == Some(TimeWait)
    });
    let tw_a = entered(&net.sim, a, a_tuple(), TimeWait, Instant::ZERO).unwrap();
    let tw_b = entered(&net.sim, b, b_tuple(), TimeWait, Instant::ZERO).unwrap();
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Closed)
            && sim.endpoint(b).state(server) == Some(Closed)
    });
    net.print_ladder("RFC 9293 Figure 13");

    let wire: Vec<Wire> = net.wire().into_iter().filter(|w| w.id >= mark).collect();
    let fig = Figure::default().a(a_next, 100).b(b_next, 300);
    assert_eq!(
        fig.lines(&wire),
        [
            "--> <SEQ=100><ACK=300><CTL=FIN,ACK>",
            "<-- <SEQ=300><ACK=100><CTL=FIN,ACK>",
            // The two ACKs cross, as the FINs did; B's FIN-ACK reached B's side first in
            // the simulator's order, so its ACK is listed first.
            "<-- <SEQ=301><ACK=101><CTL=ACK>",
            "--> <SEQ=101><ACK=301><CTL=ACK>",
        ]
    );
    // Crossing: each pair left both ends at the same instant.
    assert_eq!(wire[0].sent_at, wire[1].sent_at);
    assert_eq!(wire[2].sent_at, wire[3].sent_at);
    for (host, tuple) in [(a, a_tuple()), (b, b_tuple())] {
        let path = states(&net.sim, host, tuple);
        assert_eq!(
            &path[path.len() - 5..],
            [Established, FinWait1, Closing, TimeWait, Closed],
            "{tuple:?}"
        );
    }
    assert_eq!(
        entered(&net.sim, a, a_tuple(), Closed, tw_a),
        Some(tw_a + 2 * MSL)
    );
    assert_eq!(
        entered(&net.sim, b, b_tuple(), Closed, tw_b),
        Some(tw_b + 2 * MSL)
    );
    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(CloseReason::Normal)
    );
    assert_eq!(
        net.sim.endpoint(b).close_reason(server),
        Some(CloseReason::Normal)
    );
}
