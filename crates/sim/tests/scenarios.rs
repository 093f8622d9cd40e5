//! Scenario tests: real synack endpoints on the simulated network.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::cell::Cell;
use std::rc::Rc;
use synack::{Config, FourTuple, Instant, State, TraceKind};
use synack_sim::{
    DropCause, Exchange, FilterAction, HostId, LinkConfig, Outcome, Report, Rng, Sim, SimError,
};
use synack_trace::{render_ladder, LadderOptions, Side};
use synack_wire::{emit_packet, TcpFlags, TcpRepr};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const LIMIT: Duration = Duration::from_secs(30 * 60);

fn server_addr() -> SocketAddr {
    SocketAddr::new(SERVER, 80)
}

fn two_hosts(seed: u64, link: LinkConfig) -> (Sim, HostId, HostId) {
    let mut sim = Sim::new(seed);
    let client = sim.add_host("client", Config::default(), &[CLIENT]);
    let server = sim.add_host("server", Config::default(), &[SERVER]);
    sim.link(client, server, link);
    (sim, client, server)
}

fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    Rng::new(seed).fill(&mut data);
    data
}

fn exchange(sim: &mut Sim, client: HostId, server: HostId, len: usize) -> Exchange {
    let data = payload(sim.seed(), len);
    Exchange::start(sim, client, CLIENT, server, server_addr(), data).expect("start")
}

fn run(sim: &mut Sim, ex: &mut Exchange) -> Report {
    let deadline = sim.now() + LIMIT;
    ex.run(sim, deadline).expect("run")
}

fn flags_of(sim: &Sim, id: usize) -> TcpFlags {
    sim.packets()[id].parse().expect("parses").tcp.flags
}

#[test]
fn echo_exchange_over_a_perfect_link_ends_closed_on_both_sides() {
    let (mut sim, client, server) = two_hosts(1, LinkConfig::default());
    let mut ex = exchange(&mut sim, client, server, 1000);
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    let trace = sim.trace_between(client, server).expect("a trace");
    assert_eq!(trace.final_state(Side::A), State::Closed);
    assert_eq!(trace.final_state(Side::B), State::Closed);
    assert!(trace
        .transitions()
        .iter()
        .any(|t| t.side == Side::A && t.to == State::TimeWait));
    // TIME-WAIT lasts 2 × MSL (60 s by default): the run ends just after.
    assert!(report.elapsed >= Duration::from_secs(60), "{report:?}");
    assert!(report.elapsed < Duration::from_secs(61), "{report:?}");
    assert_eq!(sim.retransmissions(client) + sim.retransmissions(server), 0);
    assert!(sim.packets().iter().all(|p| p.delivered()));
}

#[test]
fn handshake_ladder_reads_like_rfc_9293_figure_6() {
    let (mut sim, client, server) = two_hosts(1, LinkConfig::default());
    let mut ex = exchange(&mut sim, client, server, 0);
    run(&mut sim, &mut ex);
    let trace = sim.trace_between(client, server).expect("a trace");
    let ladder = render_ladder(&trace, &LadderOptions::default());
    let words: Vec<Vec<&str>> = ladder
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|w: &Vec<&str>| !w.is_empty())
        .collect();
    assert_eq!(words[0], ["client", "server"]);
    assert_eq!(words[1], ["1.", "CLOSED", "LISTEN"]);
    assert_eq!(
        words[2],
        [
            "2.",
            "SYN-SENT",
            "-->",
            "<SEQ=0><CTL=SYN>",
            "-->",
            "SYN-RECEIVED"
        ]
    );
    assert_eq!(
        words[3],
        [
            "3.",
            "ESTABLISHED",
            "<--",
            "<SEQ=0><ACK=1><CTL=SYN,ACK>",
            "<--",
            "SYN-RECEIVED"
        ]
    );
    assert_eq!(
        words[4][..4],
        ["4.", "ESTABLISHED", "-->", "<SEQ=1><ACK=1><CTL=ACK>"]
    );
}

/// Everything a run recorded, for comparing runs.
fn fingerprint(
    sim: &Sim,
) -> (
    Vec<synack_sim::PacketRecord>,
    Vec<synack_sim::HostEvent>,
    Instant,
) {
    (sim.packets().to_vec(), sim.events().to_vec(), sim.now())
}

fn impaired() -> LinkConfig {
    LinkConfig::default()
        .loss(0.1)
        .duplicate(0.05)
        .reorder(0.1, Duration::from_millis(15))
        .corrupt(0.02)
}

#[test]
fn same_seed_gives_identical_records() {
    let mut fingerprints = Vec::new();
    for seed in 1..=4u64 {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (mut sim, client, server) = two_hosts(seed, impaired());
                let mut ex = exchange(&mut sim, client, server, 5000);
                run(&mut sim, &mut ex);
                fingerprint(&sim)
            })
            .collect();
        assert!(runs[0] == runs[1], "seed {seed}: two runs differ");
        assert!(!runs[0].0.is_empty(), "seed {seed}: nothing recorded");
        fingerprints.push(runs[0].clone());
    }
    assert!(
        fingerprints.windows(2).any(|w| w[0] != w[1]),
        "different seeds should give different runs"
    );
}

#[test]
fn random_impairments_never_break_the_exchange() {
    for seed in 0..16u64 {
        let (mut sim, client, server) = two_hosts(seed, impaired());
        let mut ex = exchange(&mut sim, client, server, 3000);
        let report = run(&mut sim, &mut ex);
        assert!(report.success(), "seed {seed}: {report:?}");
    }
}

#[test]
fn filter_dropping_the_first_syn_ack_makes_the_server_retransmit_it() {
    let (mut sim, client, server) = two_hosts(1, LinkConfig::default());
    let mut dropped = false;
    sim.set_filter(server, client, move |ctx| {
        if ctx.is_syn_ack() && !dropped {
            dropped = true;
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    });
    let mut ex = exchange(&mut sim, client, server, 100);
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    let syn_acks: Vec<&synack_sim::PacketRecord> = sim
        .packets()
        .iter()
        .filter(|p| {
            p.from == Some(server) && {
                let f = flags_of(&sim, p.id);
                f.syn() && f.ack()
            }
        })
        .collect();
    assert!(syn_acks.len() >= 2, "{syn_acks:?}");
    assert_eq!(
        syn_acks[0].outcome,
        Outcome::Dropped {
            reason: DropCause::Filtered
        }
    );
    assert!(syn_acks[1].retransmission && syn_acks[1].delivered());
    let trace = sim.trace_between(client, server).expect("trace");
    let ladder = render_ladder(&trace, &LadderOptions::default());
    assert!(
        ladder.contains("(lost) X <-- <SEQ=0><ACK=1><CTL=SYN,ACK>"),
        "{ladder}"
    );
    assert!(
        ladder.contains("<CTL=SYN,ACK> (retransmission)"),
        "{ladder}"
    );
}

#[test]
fn filter_dropping_the_servers_fin_makes_it_retransmit_from_last_ack() {
    let (mut sim, client, server) = two_hosts(2, LinkConfig::default());
    let fins = Rc::new(Cell::new(0u32));
    let seen = Rc::clone(&fins);
    sim.set_filter(server, client, move |ctx| {
        if ctx.is_fin() {
            seen.set(seen.get() + 1);
            if seen.get() == 1 {
                return FilterAction::Drop;
            }
        }
        FilterAction::Deliver
    });
    let mut ex = exchange(&mut sim, client, server, 100);
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    assert!(fins.get() >= 2, "the FIN was sent {} times", fins.get());
    let retransmitted_fin = sim
        .packets()
        .iter()
        .any(|p| p.from == Some(server) && p.retransmission && flags_of(&sim, p.id).fin());
    assert!(retransmitted_fin);
}

#[test]
fn filter_delay_lets_later_segments_overtake() {
    let (mut sim, client, server) = two_hosts(3, LinkConfig::default());
    sim.set_filter(client, server, |ctx| {
        if ctx.payload_len() > 0 && ctx.index <= 2 {
            FilterAction::Delay(Duration::from_millis(30))
        } else {
            FilterAction::Deliver
        }
    });
    let mut ex = exchange(&mut sim, client, server, 5000);
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    let data: Vec<&synack_sim::PacketRecord> = sim
        .packets()
        .iter()
        .filter(|p| p.from == Some(client) && p.parse().is_some_and(|p| !p.payload.is_empty()))
        .collect();
    let arrival = |p: &synack_sim::PacketRecord| match p.outcome {
        Outcome::Delivered { at } => at,
        other => panic!("{other:?}"),
    };
    assert!(
        data.windows(2).any(|w| arrival(w[0]) > arrival(w[1])),
        "no overtaking"
    );
}

#[test]
fn corrupted_datagrams_are_delivered_and_rejected_by_the_checksum() {
    let (mut sim, client, server) = two_hosts(4, LinkConfig::default().corrupt(1.0));
    let mut ex = exchange(&mut sim, client, server, 100);
    sim.run_while(|sim| {
        ex.drive(sim);
        sim.now() < Instant::from_millis(2500)
    })
    .expect("run");
    assert!(!sim.packets().is_empty());
    for p in sim.packets() {
        let in_flight = matches!(p.outcome, Outcome::InFlight { .. });
        assert!(p.corrupted() && (p.delivered() || in_flight), "{p:?}");
        let differing: u32 = p
            .bytes
            .iter()
            .zip(p.delivered_bytes())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(differing, 1);
    }
    // The server never accepted any of it, so it never left LISTEN.
    let server_changes = sim
        .events_of(server)
        .filter(|e| matches!(e.kind, TraceKind::StateChange { .. }))
        .count();
    assert_eq!(server_changes, 0);
    assert!(
        sim.retransmissions(client) >= 1,
        "the SYN should be retried"
    );
    // A clean link lets the retried handshake through.
    sim.link(client, server, LinkConfig::default());
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    let trace = sim.trace_between(client, server).expect("trace");
    let ladder = render_ladder(&trace, &LadderOptions::default());
    println!("{ladder}");
    assert!(ladder.contains("(corrupted)"), "{ladder}");
}

#[test]
fn datagram_to_an_unknown_address_is_dropped_with_no_route() {
    let (mut sim, client, _server) = two_hosts(5, LinkConfig::default());
    let nowhere = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), 80);
    let now = sim.now();
    sim.endpoint_mut(client)
        .connect(now, SocketAddr::new(CLIENT, 0), nowhere)
        .expect("connect");
    sim.run_until(Instant::from_millis(100)).expect("run");
    let first = &sim.packets()[0];
    assert_eq!(first.to, None);
    assert_eq!(
        first.outcome,
        Outcome::Dropped {
            reason: DropCause::NoRoute
        }
    );
}

#[test]
fn injected_old_duplicate_syn_is_answered_and_reset() {
    let (mut sim, client, server) = two_hosts(6, LinkConfig::default());
    sim.endpoint_mut(server)
        .listen(server_addr(), 16)
        .expect("listen");
    let old = TcpRepr {
        src_port: 5555,
        dst_port: 80,
        seq: 90,
        flags: TcpFlags::SYN,
        window: 1000,
        ..TcpRepr::default()
    };
    let mut buf = [0u8; 100];
    let len = emit_packet(&mut buf, CLIENT, SERVER, 64, &old, &[]).expect("emit");
    let id = sim.inject(server, Instant::from_millis(5), buf[..len].to_vec());
    sim.run_until(Instant::from_millis(1000)).expect("run");
    let record = &sim.packets()[id];
    assert_eq!(record.from, None);
    assert_eq!(
        record.outcome,
        Outcome::Delivered {
            at: Instant::from_millis(5)
        }
    );
    // The server answers with a SYN-ACK; the client, which never sent that SYN, resets.
    let tuple = FourTuple {
        local: SocketAddr::new(CLIENT, 5555),
        remote: server_addr(),
    };
    let trace = sim.trace_connection(client, server, tuple);
    let ladder = render_ladder(
        &trace,
        &LadderOptions {
            relative: false,
            ..LadderOptions::default()
        },
    );
    println!("{ladder}");
    assert!(
        ladder.contains("(injected) ... <SEQ=90><CTL=SYN>"),
        "{ladder}"
    );
    assert!(ladder.contains("<ACK=91><CTL=SYN,ACK>"), "{ladder}");
    assert!(ladder.contains("<SEQ=91><CTL=RST>"), "{ladder}");
    let reversed = FourTuple {
        local: tuple.remote,
        remote: tuple.local,
    };
    assert_eq!(sim.endpoint(server).state_of(reversed), None, "{ladder}");
}

#[test]
fn ipv6_exchange_completes() {
    let client_ip = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1));
    let server_ip = IpAddr::V6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2));
    let mut sim = Sim::new(7);
    let client = sim.add_host("client", Config::default(), &[client_ip]);
    let server = sim.add_host("server", Config::default(), &[server_ip]);
    sim.link(client, server, impaired());
    let data = payload(7, 4000);
    let mut ex = Exchange::start(
        &mut sim,
        client,
        client_ip,
        server,
        SocketAddr::new(server_ip, 80),
        data,
    )
    .expect("start");
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    assert!(sim.packets().iter().all(|p| p.bytes[0] >> 4 == 6));
}

#[test]
fn slow_link_with_a_small_queue_drops_the_tail_and_tcp_recovers() {
    let link = LinkConfig::default().rate(1_000_000).queue(6000);
    let (mut sim, client, server) = two_hosts(8, link);
    let mut ex = exchange(&mut sim, client, server, 60_000);
    let report = run(&mut sim, &mut ex);
    assert!(report.success(), "{report:?}");
    let queue_drops = sim
        .packets()
        .iter()
        .filter(|p| {
            p.outcome
                == Outcome::Dropped {
                    reason: DropCause::QueueFull,
                }
        })
        .count();
    assert!(
        queue_drops > 0,
        "an initial window of 10 segments overflows 6000 bytes"
    );
}

#[test]
fn step_limit_stops_a_run() {
    let (mut sim, client, server) = two_hosts(9, LinkConfig::default());
    sim.set_step_limit(3);
    let mut ex = exchange(&mut sim, client, server, 100);
    let result = ex.run(&mut sim, Instant::ZERO + LIMIT);
    assert!(
        matches!(result, Err(SimError::StepLimit { steps: 3, .. })),
        "{result:?}"
    );
}

#[test]
fn run_until_idle_returns_once_nothing_is_left() {
    let (mut sim, client, server) = two_hosts(10, LinkConfig::default());
    let mut ex = exchange(&mut sim, client, server, 100);
    run(&mut sim, &mut ex);
    let at = sim.run_until_idle(sim.now() + LIMIT).expect("idle");
    assert_eq!(at, sim.now());
    assert_eq!(sim.in_flight(), 0);
    assert_eq!(sim.endpoint(client).poll_timeout(), None);
    assert_eq!(sim.endpoint(server).poll_timeout(), None);
}

#[test]
fn run_until_idle_reports_datagrams_still_in_flight() {
    let (mut sim, client, server) = two_hosts(11, LinkConfig::default());
    let _ex = exchange(&mut sim, client, server, 100);
    let result = sim.run_until_idle(Instant::from_millis(5));
    assert_eq!(
        result,
        Err(SimError::NotIdle {
            limit: Instant::from_millis(5)
        })
    );
}
