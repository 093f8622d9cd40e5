//! The `Config` switches that give FreeBSD's answers where RFC 9293 leaves a choice open
//! (whole-segment receive buffers, RCV.WND from the free buffer, the FIN resent in a
//! simultaneous close, ACKs for every second segment, immediate D-SACKs, SYN-ACKs to
//! listeners dropped) change details on the wire, never the outcome: echo exchanges
//! over lossy, duplicating, reordering links arrive intact and close cleanly with the
//! switches on, whether one side or both have them.

mod common;

use common::*;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use synack::{CloseReason, Config, Event, State};
use synack_sim::{Exchange, LinkConfig, Rng, Sim};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));

/// FreeBSD's buffer sizes and delayed-ACK time, and every FreeBSD choice switched on.
fn freebsd_like() -> Config {
    Config {
        recv_buffer: 65_536,
        send_buffer: 32_768,
        recv_buffer_max: 2 << 20,
        send_buffer_max: 2 << 20,
        delayed_ack: Duration::from_millis(100),
        rst_challenge: false,
        syn_challenge: false,
        recv_buffer_whole_segments: true,
        accept_beyond_advertised: true,
        simultaneous_close_resends_fin: true,
        ack_every_second_segment: true,
        immediate_dsack: true,
        listen_ignores_syn_ack: true,
        ..Config::default()
    }
}

#[test]
fn exchanges_with_freebsds_choices_arrive_intact_over_impaired_links() {
    for seed in 1..=24u64 {
        let mut rng = Rng::derive(seed, 0xF8EE_B5D0);
        let mut link = LinkConfig::default()
            .latency(Duration::from_millis(1 + rng.below(40)))
            .loss(rng.next_f64() * 0.08);
        if rng.chance(0.5) {
            link = link.duplicate(rng.next_f64() * 0.05);
        }
        if rng.chance(0.5) {
            link = link.reorder(rng.next_f64() * 0.2, Duration::from_millis(rng.below(30)));
        }
        // Both sides FreeBSD-like, or only one (mixed with synack's defaults).
        let (client_config, server_config) = match seed % 3 {
            0 => (freebsd_like(), freebsd_like()),
            1 => (freebsd_like(), Config::default()),
            _ => (Config::default(), freebsd_like()),
        };
        let mut sim = Sim::new(seed);
        let client = sim.add_host("client", client_config, &[CLIENT]);
        let server = sim.add_host("server", server_config, &[SERVER]);
        sim.link(client, server, link.clone());
        let len = [0usize, 1, 1000, 40_000, 150_000][rng.below(5) as usize];
        let mut data = vec![0u8; len];
        rng.fill(&mut data);
        let mut ex = Exchange::start(
            &mut sim,
            client,
            CLIENT,
            server,
            SocketAddr::new(SERVER, 80),
            data,
        )
        .expect("start");
        let deadline = sim.now() + Duration::from_secs(30 * 60);
        let report = ex.run(&mut sim, deadline).expect("run");
        assert!(
            report.success(),
            "seed {seed} ({len} bytes over {link:?}): {report:?}"
        );
    }
}

/// Both ends close at the same instant (RFC 9293 §3.6, Figure 13) with the FIN resent in
/// the ACK of the peer's FIN: over a clean link each side sends its FIN twice and both
/// end normally; over lossy links they still end normally.
#[test]
fn a_simultaneous_close_with_the_fin_resent_ends_normally_on_both_sides() {
    for seed in 0..=12u64 {
        let mut net = Net::with_configs(seed, freebsd_like(), freebsd_like());
        let (client, server, _) = net.establish();
        let (a, b) = (net.a, net.b);
        if seed > 0 {
            let mut rng = Rng::derive(seed, 0x51C1_05E5);
            let link = LinkConfig::default()
                .latency(Duration::from_millis(1 + rng.below(20)))
                .loss(rng.next_f64() * 0.3);
            net.sim.link(a, b, link);
        }
        let now = net.sim.now();
        net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
        net.sim.endpoint_mut(b).shutdown(now, server).unwrap();
        let mut ended = [None, None];
        run_until(&mut net.sim, |sim| {
            for (i, (host, conn)) in [(a, client), (b, server)].into_iter().enumerate() {
                while let Some(e) = sim.endpoint_mut(host).poll_event() {
                    if let Event::Closed(c, reason) = e {
                        if c == conn {
                            ended[i] = Some(reason);
                        }
                    }
                }
            }
            let gone =
                |host, conn| matches!(sim.endpoint(host).state(conn), None | Some(State::Closed));
            ended.iter().all(Option::is_some) && gone(a, client) && gone(b, server)
        });
        assert_eq!(
            ended,
            [Some(CloseReason::Normal), Some(CloseReason::Normal)],
            "seed {seed}"
        );
        if seed == 0 {
            let wire = net.wire();
            for dir in [Dir::AtoB, Dir::BtoA] {
                let fins = wire
                    .iter()
                    .filter(|w| w.dir == dir && w.flags.fin())
                    .count();
                assert_eq!(fins, 2, "seed 0, {dir:?}: the FIN and its resend");
            }
        }
    }
}
