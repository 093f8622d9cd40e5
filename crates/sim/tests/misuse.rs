//! Application misuse gets an error, never a panic (issue 7): writing after shutdown,
//! opening to a group address (MUST-46), listening twice on one address, and every call
//! on a connection that was reset, aborted, closed or never existed.

mod common;

use common::*;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use synack::{CloseReason, Config, Error, State};
use synack_wire::TcpFlags;

#[test]
fn writing_after_shutdown_is_a_broken_pipe() {
    let mut net = Net::new(21);
    let (client, _, _) = net.establish();
    let a = net.a;
    let now = net.sim.now();
    net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"late"),
        Err(Error::BrokenPipe)
    );
    // Shutting down again is harmless, and still no writing.
    assert_eq!(net.sim.endpoint_mut(a).shutdown(now, client), Ok(()));
    net.sim.run_for(Duration::from_secs(1)).unwrap();
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(a).send(now, client, b"x"),
        Err(Error::BrokenPipe)
    );
}

#[test]
fn opening_to_a_broadcast_or_multicast_address_is_an_error() {
    let mut net = Net::new(22);
    let a = net.a;
    let now = net.sim.now();
    let v4 = SocketAddr::new(A_IP, 0);
    let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
    for (local, remote) in [
        (v4, IpAddr::V4(Ipv4Addr::BROADCAST)),
        (v4, IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1))),
        (v4, IpAddr::V4(Ipv4Addr::new(239, 255, 255, 250))),
        (v6, IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1))),
    ] {
        assert_eq!(
            net.sim
                .endpoint_mut(a)
                .connect(now, local, SocketAddr::new(remote, 80)),
            Err(Error::InvalidInput),
            "{remote}"
        );
    }
    assert_eq!(net.sim.endpoint(a).connection_count(), 0);
}

#[test]
fn listening_on_an_address_in_use_is_refused() {
    let mut net = Net::new(23);
    let b = net.b;
    let first = net.sim.endpoint_mut(b).listen(b_addr(), 8).unwrap();
    assert_eq!(
        net.sim.endpoint_mut(b).listen(b_addr(), 8),
        Err(Error::AddrInUse)
    );
    // Port 0 is no port to listen on.
    assert_eq!(
        net.sim.endpoint_mut(b).listen(SocketAddr::new(B_IP, 0), 8),
        Err(Error::InvalidInput)
    );
    // Once the first listener is gone the address is free again.
    let now = net.sim.now();
    net.sim.endpoint_mut(b).unlisten(now, first).unwrap();
    assert_eq!(
        net.sim.endpoint_mut(b).unlisten(now, first),
        Err(Error::InvalidHandle)
    );
    assert_eq!(
        net.sim.endpoint_mut(b).accept(first),
        Err(Error::InvalidHandle)
    );
    assert!(net.sim.endpoint_mut(b).listen(b_addr(), 8).is_ok());
}

#[test]
fn connecting_from_a_four_tuple_in_use_is_refused() {
    let mut net = Net::new(24);
    net.establish();
    let a = net.a;
    let now = net.sim.now();
    assert_eq!(
        net.sim.endpoint_mut(a).connect(now, a_addr(), b_addr()),
        Err(Error::AddrInUse)
    );
}

#[test]
fn calls_on_a_reset_connection_report_the_reset() {
    let mut net = Net::new(25);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let wire = net.wire();
    let rst = b_to_a(snd_nxt(&wire, Dir::BtoA), 0, TcpFlags::RST);
    // The RST at exactly RCV.NXT: accepted (RFC 5961 §3.2).
    net.sim.inject(a, net.sim.now(), rst);
    net.sim.run_for(Duration::from_millis(10)).unwrap();
    assert_eq!(net.sim.endpoint(a).state(client), Some(State::Closed));
    assert_eq!(
        net.sim.endpoint(a).close_reason(client),
        Some(CloseReason::Reset)
    );
    let now = net.sim.now();
    let ep = net.sim.endpoint_mut(a);
    let mut buf = [0u8; 8];
    assert_eq!(ep.send(now, client, b"x"), Err(Error::ConnectionReset));
    assert_eq!(ep.recv(now, client, &mut buf), Err(Error::ConnectionReset));
    assert_eq!(ep.shutdown(now, client), Err(Error::ConnectionReset));
    assert_eq!(ep.send_capacity(client), 0);
    // Closing releases the handle; every later call says the handle is gone.
    assert_eq!(ep.close(now, client), Ok(()));
    assert_eq!(ep.send(now, client, b"x"), Err(Error::InvalidHandle));
    assert_eq!(ep.recv(now, client, &mut buf), Err(Error::InvalidHandle));
    assert_eq!(ep.close(now, client), Err(Error::InvalidHandle));
    assert_eq!(ep.abort(now, client), Err(Error::InvalidHandle));
    assert_eq!(ep.set_nodelay(client, true), Err(Error::InvalidHandle));
    assert_eq!(ep.state(client), None);
    let _ = (b, server);
}

#[test]
fn calls_on_an_aborted_or_closed_connection_are_errors() {
    let mut net = Net::new(26);
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let now = net.sim.now();
    net.sim.endpoint_mut(a).abort(now, client).unwrap();
    let mut buf = [0u8; 8];
    let ep = net.sim.endpoint_mut(a);
    assert_eq!(ep.send(now, client, b"x"), Err(Error::InvalidHandle));
    assert_eq!(ep.recv(now, client, &mut buf), Err(Error::InvalidHandle));
    assert_eq!(ep.shutdown(now, client), Err(Error::InvalidHandle));
    // The peer got the RST: its calls say so.
    net.sim.run_for(Duration::from_millis(50)).unwrap();
    let now = net.sim.now();
    let ep = net.sim.endpoint_mut(b);
    assert_eq!(ep.send(now, server, b"x"), Err(Error::ConnectionReset));
    assert_eq!(ep.recv(now, server, &mut buf), Err(Error::ConnectionReset));
}

#[test]
fn calls_after_a_normal_close_return_end_of_stream_or_broken_pipe() {
    let mut net = Net::with_configs(27, Config::default(), Config::default());
    let (client, server, _) = net.establish();
    let (a, b) = (net.a, net.b);
    let now = net.sim.now();
    net.sim.endpoint_mut(a).shutdown(now, client).unwrap();
    net.sim.run_for(Duration::from_millis(50)).unwrap();
    let now = net.sim.now();
    net.sim.endpoint_mut(b).shutdown(now, server).unwrap();
    net.sim.run_for(Duration::from_millis(50)).unwrap();
    let now = net.sim.now();
    let mut buf = [0u8; 8];
    let ep = net.sim.endpoint_mut(b);
    assert_eq!(ep.state(server), Some(State::Closed));
    assert_eq!(ep.recv(now, server, &mut buf), Ok(0));
    assert_eq!(ep.send(now, server, b"x"), Err(Error::BrokenPipe));
    let ep = net.sim.endpoint_mut(a);
    assert_eq!(ep.state(client), Some(State::TimeWait));
    assert_eq!(ep.recv(now, client, &mut buf), Ok(0));
    assert_eq!(ep.send(now, client, b"x"), Err(Error::BrokenPipe));
}
