//! The urgent mechanism (RFC 9293 §3.8.5; MUST-30..33, MUST-62, MUST-66), urgent data
//! kept in line as RFC 6093 recommends: the sender marks where urgent data ends, every
//! segment before that mark carries URG and a pointer to the octet after it, and the
//! receiving application is told when the mark appears or moves and how much it must
//! read to reach it.

mod common;

use common::*;
use synack::{Config, ConnId, Event, State};

/// Every segment A sent on the connection: (seq, URG set, urgent pointer, payload length).
fn urgent_fields(net: &Net) -> Vec<(u32, bool, u16, usize)> {
    net.sim
        .packets()
        .iter()
        .filter(|r| r.from == Some(net.a))
        .filter_map(|r| {
            let p = r.parse()?;
            Some((p.tcp.seq, p.tcp.flags.urg(), p.tcp.urgent, p.payload.len()))
        })
        .collect()
}

fn urgent_events(net: &mut Net, conn: ConnId) -> usize {
    drain_events(&mut net.sim, net.b)
        .into_iter()
        .filter(|e| *e == Event::Urgent(conn))
        .count()
}

fn read_exactly(net: &mut Net, conn: ConnId, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    let mut got = 0;
    while got < n {
        let now = net.sim.now();
        match net.sim.endpoint_mut(net.b).recv(now, conn, &mut out[got..]) {
            Ok(k) if k > 0 => got += k,
            _ => {
                let b = net.b;
                let before = got;
                run_until(&mut net.sim, |sim| {
                    sim.endpoint(b).readable_bytes(conn) > 0 || before != got
                });
            }
        }
    }
    out
}

/// A writes 3,000 ordinary bytes, then 10 urgent ones. The segments before the end of
/// the urgent data carry URG with a pointer to the octet just past it (MUST-62); B's
/// application is told once (MUST-32), learns it must read 3,010 bytes to reach the end
/// of the urgent data, then 10, then that nothing urgent is pending (MUST-33); the bytes
/// arrive in line, in order.
#[test]
fn urgent_data_is_marked_up_to_its_last_octet_and_the_reader_learns_how_much_remains() {
    let mut net = Net::new(1);
    let (a, b, _) = net.establish();
    let now = net.sim.now();
    let ordinary: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let ep = net.sim.endpoint_mut(net.a);
    assert_eq!(ep.send(now, a, &ordinary), Ok(3000));
    assert_eq!(ep.send_urgent(now, a, b"URGENTDATA"), Ok(10));
    let host_b = net.b;
    run_until(&mut net.sim, |sim| {
        sim.endpoint(host_b).readable_bytes(b) == 3010
    });

    let segs: Vec<_> = urgent_fields(&net)
        .into_iter()
        .filter(|s| s.3 > 0)
        .collect();
    assert!(segs.len() >= 3, "{segs:?}");
    let end = segs.last().map(|s| s.0.wrapping_add(s.3 as u32)).unwrap();
    for (seq, urg, up, _) in &segs {
        assert!(*urg, "URG on every data segment before the mark: {segs:?}");
        assert_eq!(
            seq.wrapping_add(u32::from(*up)),
            end,
            "the pointer names the octet after the urgent data"
        );
    }

    assert_eq!(urgent_events(&mut net, b), 1, "told once");
    let ep = net.sim.endpoint_mut(net.b);
    assert_eq!(ep.urgent_remaining(b), Ok(Some(3010)));
    let head = read_exactly(&mut net, b, 3000);
    assert_eq!(head, ordinary);
    assert_eq!(
        net.sim.endpoint_mut(net.b).urgent_remaining(b),
        Ok(Some(10))
    );
    assert_eq!(read_exactly(&mut net, b, 10), b"URGENTDATA", "in line");
    assert_eq!(net.sim.endpoint_mut(net.b).urgent_remaining(b), Ok(None));

    // Once B has acknowledged the urgent data, A stops marking segments.
    let host_a = net.a;
    run_until(&mut net.sim, |sim| {
        sim.endpoint(host_a)
            .stats(a)
            .is_some_and(|s| s.bytes_in_flight == 0)
    });
    let now = net.sim.now();
    assert_eq!(net.sim.endpoint_mut(net.a).send(now, a, b"plain"), Ok(5));
    run_until(&mut net.sim, |sim| {
        sim.endpoint(host_b).readable_bytes(b) == 5
    });
    let last = urgent_fields(&net).into_iter().rfind(|s| s.3 > 0).unwrap();
    assert!(!last.1, "no URG after the mark was acknowledged: {last:?}");
    assert_eq!(urgent_events(&mut net, b), 0);
}

/// Urgent data of any length (MUST-31): 100,000 urgent bytes put the mark farther than
/// the 16-bit field reaches, so early segments carry the largest pointer (65,535) and
/// the exact one once it fits. A second urgent send moves the mark and B is told again;
/// segments repeating an old mark tell it nothing new.
#[test]
fn urgent_data_of_any_length_and_each_advance_is_signalled() {
    let mut net = Net::new(2);
    let (a, b, _) = net.establish();
    let now = net.sim.now();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(
        net.sim.endpoint_mut(net.a).send_urgent(now, a, &big),
        Ok(100_000)
    );
    let host_b = net.b;
    let mut got = Vec::new();
    let mut remaining_seen = Vec::new();
    while got.len() < big.len() {
        if let Ok(Some(r)) = net.sim.endpoint_mut(net.b).urgent_remaining(b) {
            remaining_seen.push(got.len() + r);
        }
        let now = net.sim.now();
        let mut buf = [0u8; 4096];
        match net.sim.endpoint_mut(net.b).recv(now, b, &mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => run_until(&mut net.sim, |sim| {
                sim.endpoint(host_b).readable_bytes(b) > 0
            }),
        }
    }
    assert_eq!(got, big);
    assert_eq!(net.sim.endpoint_mut(net.b).urgent_remaining(b), Ok(None));
    // While the true mark is out of the pointer's reach, B sees a nearer one (65,535
    // past some segment); it is never overstated, and B sees the true mark at last.
    assert!(
        remaining_seen.iter().all(|&m| m <= big.len()),
        "the mark as B sees it: {remaining_seen:?}"
    );
    assert_eq!(remaining_seen.last(), Some(&big.len()));
    let segs: Vec<_> = urgent_fields(&net)
        .into_iter()
        .filter(|s| s.3 > 0)
        .collect();
    let first = segs.first().unwrap().0;
    let end = first.wrapping_add(100_000);
    for (seq, urg, up, _) in &segs {
        assert!(*urg);
        let distance = end.wrapping_sub(*seq);
        let want = u16::try_from(distance).unwrap_or(u16::MAX);
        assert_eq!(*up, want, "segment at +{}", seq.wrapping_sub(first));
    }
    assert!(
        segs.iter().any(|s| s.2 == u16::MAX),
        "some far from the mark"
    );
    let told = urgent_events(&mut net, b);
    assert!(told >= 1, "told at least when the mark appeared");

    // A second urgent send: the mark advances, and B is told again.
    let now = net.sim.now();
    assert_eq!(net.sim.endpoint_mut(net.a).send_urgent(now, a, b"!"), Ok(1));
    run_until(&mut net.sim, |sim| {
        sim.endpoint(host_b).readable_bytes(b) == 1
    });
    assert_eq!(urgent_events(&mut net, b), 1);
    assert_eq!(net.sim.endpoint_mut(net.b).urgent_remaining(b), Ok(Some(1)));
}

/// MUST-66: with B's receive window closed (its application reads nothing), A's urgent
/// send still reaches B's application: A's zero-window probe carries URG, and B
/// processes the urgent pointer although the probe's data is not acceptable.
#[test]
fn the_urgent_pointer_is_processed_through_a_zero_window() {
    let small = Config {
        recv_buffer: 32 * 1024,
        recv_buffer_max: 32 * 1024,
        ..Config::default()
    };
    let mut net = Net::with_configs(3, Config::default(), small);
    let (a, b, _) = net.establish();
    let (host_a, host_b) = (net.a, net.b);
    // 40 KB into B's 32 KB buffer, which its application never reads: the window
    // closes with 8 KB still queued at A.
    let now = net.sim.now();
    let data = vec![7u8; 40 * 1024];
    assert_eq!(
        net.sim.endpoint_mut(host_a).send(now, a, &data),
        Ok(data.len())
    );
    run_until(&mut net.sim, |sim| {
        sim.endpoint(host_a)
            .stats(a)
            .is_some_and(|s| s.snd_wnd == 0 && s.bytes_in_flight == 0)
    });
    let buffered = net.sim.endpoint(host_b).readable_bytes(b);
    drain_events(&mut net.sim, host_b);
    assert_eq!(net.sim.endpoint_mut(host_b).urgent_remaining(b), Ok(None));

    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(host_a).send_urgent(now, a, b"X"),
        Ok(1)
    );
    run_until(&mut net.sim, |sim| {
        sim.endpoint_mut(host_b)
            .urgent_remaining(b)
            .is_ok_and(|r| r.is_some())
    });
    let remaining = net
        .sim
        .endpoint_mut(host_b)
        .urgent_remaining(b)
        .unwrap()
        .unwrap();
    assert!(remaining > buffered, "the mark lies past the bytes B holds");
    assert_eq!(urgent_events(&mut net, b), 1);
    assert_eq!(
        net.sim.endpoint(host_b).stats(b).map(|s| s.state),
        Some(State::Established)
    );
}
