//! Half-close (RFC 9293 §3.6: "CLOSE ... the user who CLOSEs may continue to RECEIVE
//! until the other side also CLOSEs"): the client sends its request and shuts down its
//! direction; the server, in CLOSE-WAIT, goes on sending — a whole megabyte — to a
//! client in FIN-WAIT-2, and only then closes. Every byte arrives, in order, and both
//! ends finish in CLOSED.

mod common;

use common::*;
use synack::{CloseReason, Config, ConnId, Error, Event, State};
use synack_sim::{LinkConfig, Sim};

use State::{CloseWait, Closed, Established, FinWait1, FinWait2, LastAck, TimeWait};

const REQUEST: &[u8] = b"GET /one-megabyte HTTP/1.0\r\n\r\n";
const RESPONSE_LEN: usize = 1 << 20;

fn response() -> Vec<u8> {
    (0..RESPONSE_LEN)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

/// What each application saw.
#[derive(Default)]
struct Apps {
    request: Vec<u8>,
    server_eof: bool,
    sent: usize,
    server_closed: bool,
    received: Vec<u8>,
    client_eof: bool,
    /// States the connection was in whenever the client read response bytes.
    client_states_while_reading: Vec<State>,
    /// States the connection was in whenever the server queued response bytes.
    server_states_while_sending: Vec<State>,
}

fn read_all(sim: &mut Sim, host: synack_sim::HostId, conn: ConnId, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let now = sim.now();
        match sim.endpoint_mut(host).recv(now, conn, &mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(Error::WouldBlock) => return false,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn half_close(net: &mut Net) {
    let (a, b) = (net.a, net.b);
    let (client, server, _) = net.establish();
    let data = response();

    // The client sends its request and closes its sending direction at once.
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, REQUEST),
        Ok(REQUEST.len())
    );
    net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    assert_eq!(net.sim.endpoint(a).state(client), Some(FinWait1));
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"more"),
        Err(Error::BrokenPipe),
        "nothing more to send after shutdown"
    );

    let mut apps = Apps::default();
    run_until(&mut net.sim, |sim| {
        // Server: read the request to its end, then send the response, then close.
        if !apps.server_eof {
            apps.server_eof = read_all(sim, b, server, &mut apps.request);
        }
        if apps.server_eof && apps.sent < data.len() {
            let now = sim.now();
            match sim.endpoint_mut(b).send(now, server, &data[apps.sent..]) {
                Ok(n) => {
                    apps.sent += n;
                    let state = sim.endpoint(b).state(server).unwrap();
                    apps.server_states_while_sending.push(state);
                }
                Err(Error::WouldBlock) => {}
                Err(e) => panic!("send: {e}"),
            }
        }
        if apps.sent == data.len() && !apps.server_closed {
            let now = sim.now();
            sim.endpoint_mut(b).close(now, server).unwrap();
            apps.server_closed = true;
        }
        // Client: read whatever has arrived.
        if !apps.client_eof {
            let before = apps.received.len();
            apps.client_eof = read_all(sim, a, client, &mut apps.received);
            if apps.received.len() > before {
                let state = sim.endpoint(a).state(client).unwrap();
                apps.client_states_while_reading.push(state);
            }
        }
        while sim.endpoint_mut(a).poll_event().is_some() {}
        while sim.endpoint_mut(b).poll_event().is_some() {}
        apps.client_eof && sim.endpoint(b).state_of(b_tuple()).is_none()
    });

    assert_eq!(apps.request, REQUEST);
    assert_eq!(apps.received.len(), data.len());
    assert!(apps.received == data, "the response arrived byte for byte");
    // The client read everything while its own direction was closed (FIN-WAIT-2, or
    // TIME-WAIT for the very end), and the server sent it all from CLOSE-WAIT.
    assert!(!apps.client_states_while_reading.is_empty());
    assert!(
        apps.client_states_while_reading
            .iter()
            .all(|s| matches!(s, FinWait2 | TimeWait)),
        "{:?}",
        apps.client_states_while_reading
    );
    assert!(apps.client_states_while_reading.contains(&FinWait2));
    assert!(apps
        .server_states_while_sending
        .iter()
        .all(|s| *s == CloseWait));

    // The server finished (LAST-ACK → CLOSED); the client is in TIME-WAIT, then CLOSED.
    let server_path = states(&net.sim, b, b_tuple());
    assert_eq!(&server_path[2..], [Established, CloseWait, LastAck, Closed]);
    assert_eq!(net.sim.endpoint(b).connection_count(), 0);
    run_until(&mut net.sim, |sim| {
        sim.endpoint(a).state(client) == Some(Closed)
    });
    assert_eq!(
        &states(&net.sim, a, a_tuple())[2..],
        [Established, FinWait1, FinWait2, TimeWait, Closed]
    );
    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(CloseReason::Normal)
    );
    assert!(drain_events(&mut net.sim, a).contains(&Event::Closed(client, CloseReason::Normal)));
    let now = net.sim.now();
    let mut buf = [0u8; 4];
    assert_eq!(net.sim.endpoint_mut(a).recv(now, client, &mut buf), Ok(0));
    net.sim.endpoint_mut(a).close(now, client).unwrap();
    assert_eq!(net.sim.endpoint(a).connection_count(), 0);
    assert_eq!(net.sim.endpoint(a).state_of(a_tuple()), None);
}

#[test]
fn half_closed_client_receives_a_megabyte_from_a_close_wait_server() {
    let mut net = Net::new(301);
    half_close(&mut net);
}

#[test]
fn half_closed_client_receives_a_megabyte_over_a_lossy_link() {
    for seed in [302, 303, 304] {
        let mut net = Net::new(seed);
        let (a, b) = (net.a, net.b);
        let lossy = LinkConfig::default()
            .latency(LATENCY)
            .rate(50_000_000)
            .queue(128 * 1024)
            .loss(0.02);
        net.sim.link(a, b, lossy);
        half_close(&mut net);
        println!(
            "seed {seed}: {} retransmissions",
            net.sim.retransmissions(b)
        );
        assert!(
            net.sim.retransmissions(b) > 0,
            "seed {seed}: the link did lose data"
        );
    }
}

#[test]
fn half_closed_client_can_still_receive_with_a_small_receive_buffer() {
    // The client's window is smaller than the response many times over: flow control
    // (window updates to the CLOSE-WAIT sender) must keep working after our FIN.
    let small = Config {
        recv_buffer: 8 * 1024,
        ..Config::default()
    };
    let mut net = Net::with_configs(305, small, Config::default());
    half_close(&mut net);
}
