//! RFC 9293 §3.9.1.1 and §3.9.2.3: address validation (MUST-46, MUST-57, MUST-63) and
//! §3.10.7.4's acknowledgment aggregation (MUST-58, MUST-59), at the endpoint's API.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack::{Config, Endpoint, Error, Instant};
use synack_wire::{emit_packet, parse_packet, TcpFlags, TcpOptions, TcpRepr};

const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

fn endpoint() -> Endpoint {
    let mut ep = Endpoint::new(Config::default(), [7; 16]);
    ep.add_address(IpAddr::V4(LOCAL));
    ep
}

fn datagram(
    src: IpAddr,
    dst: IpAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &[u8],
) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: 5000,
        dst_port: 80,
        seq,
        ack,
        flags,
        window: 65535,
        urgent: 0,
        options: TcpOptions::default(),
    };
    let mut buf = vec![0u8; 1600];
    let n = emit_packet(&mut buf, src, dst, 64, &repr, payload).unwrap();
    buf.truncate(n);
    buf
}

fn drain(ep: &mut Endpoint, now: Instant) -> Vec<TcpRepr> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1600];
    while let Some(n) = ep.poll_transmit(now, &mut buf) {
        out.push(parse_packet(&buf[..n]).unwrap().tcp);
    }
    out
}

#[test]
fn open_to_broadcast_or_multicast_is_an_error() {
    let mut ep = endpoint();
    let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    for remote in [
        IpAddr::V4(Ipv4Addr::BROADCAST),
        IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3)),
    ] {
        assert_eq!(
            ep.connect(Instant::ZERO, any, SocketAddr::new(remote, 80)),
            Err(Error::InvalidInput),
            "{remote}"
        );
    }
    let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
    let mcast6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)), 80);
    assert_eq!(
        ep.connect(Instant::ZERO, any6, mcast6),
        Err(Error::InvalidInput)
    );
    assert!(drain(&mut ep, Instant::ZERO).is_empty(), "no SYN may leave");
    // A unicast peer is fine.
    assert!(ep
        .connect(Instant::ZERO, any, SocketAddr::new(IpAddr::V4(PEER), 80))
        .is_ok());
}

#[test]
fn syns_from_invalid_sources_or_to_group_addresses_are_dropped_silently() {
    let mut ep = endpoint();
    ep.listen(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80), 8)
        .unwrap();
    let me = IpAddr::V4(LOCAL);
    for (src, dst) in [
        (IpAddr::V4(Ipv4Addr::BROADCAST), me),
        (IpAddr::V4(Ipv4Addr::new(224, 0, 0, 5)), me),
        (IpAddr::V4(Ipv4Addr::UNSPECIFIED), me),
        (IpAddr::V4(PEER), IpAddr::V4(Ipv4Addr::BROADCAST)),
        (IpAddr::V4(PEER), IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1))),
    ] {
        ep.handle(
            Instant::ZERO,
            &datagram(src, dst, 100, 0, TcpFlags::SYN, b""),
        );
        assert!(
            drain(&mut ep, Instant::ZERO).is_empty(),
            "{src} -> {dst} was answered"
        );
        assert_eq!(
            ep.connection_count(),
            0,
            "{src} -> {dst} opened a connection"
        );
    }
    // The same SYN from a unicast peer to us is answered.
    ep.handle(
        Instant::ZERO,
        &datagram(IpAddr::V4(PEER), me, 100, 0, TcpFlags::SYN, b""),
    );
    let out = drain(&mut ep, Instant::ZERO);
    assert_eq!(out.len(), 1);
    assert!(out[0].flags.syn() && out[0].flags.ack());
}

#[test]
fn segments_processed_together_are_acknowledged_once() {
    // MUST-58/59: segments handled before the stack gets to transmit are all processed
    // first; one ACK covers them.
    let mut ep = endpoint();
    let l = ep
        .listen(SocketAddr::new(IpAddr::V4(LOCAL), 80), 8)
        .unwrap();
    let (me, peer) = (IpAddr::V4(LOCAL), IpAddr::V4(PEER));
    ep.handle(
        Instant::ZERO,
        &datagram(peer, me, 100, 0, TcpFlags::SYN, b""),
    );
    let syn_ack = drain(&mut ep, Instant::ZERO).pop().unwrap();
    let ack = syn_ack.seq.wrapping_add(1);
    ep.handle(
        Instant::ZERO,
        &datagram(peer, me, 101, ack, TcpFlags::ACK, b""),
    );
    let conn = ep.accept(l).unwrap();
    // Three segments, the first two out of order, arriving back to back.
    let now = Instant::from_millis(10);
    ep.handle(now, &datagram(peer, me, 111, ack, TcpFlags::ACK, &[1; 10]));
    ep.handle(now, &datagram(peer, me, 121, ack, TcpFlags::ACK, &[2; 10]));
    ep.handle(now, &datagram(peer, me, 101, ack, TcpFlags::ACK, &[0; 10]));
    let out = drain(&mut ep, now);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, 131);
    let mut buf = [0u8; 64];
    assert_eq!(ep.recv(now, conn, &mut buf), Ok(30));
}

#[test]
fn unspecified_local_address_is_chosen_before_the_syn_and_kept() {
    // MUST-44: with several addresses and none given, the source address is picked
    // (one of the remote's family) before the first SYN; MUST-45: every later segment
    // of the connection uses it.
    let mut ep = Endpoint::new(Config::default(), [7; 16]);
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    ep.add_address(v6);
    ep.add_address(IpAddr::V4(LOCAL));
    let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let conn = ep
        .connect(Instant::ZERO, any, SocketAddr::new(IpAddr::V4(PEER), 80))
        .unwrap();
    let tuple = ep.tuple(conn).unwrap();
    assert_eq!(tuple.local.ip(), IpAddr::V4(LOCAL));
    let mut buf = [0u8; 1600];
    let n = ep.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    let syn = parse_packet(&buf[..n]).unwrap();
    assert_eq!(syn.src, IpAddr::V4(LOCAL));
    // The peer's SYN-ACK; our ACK leaves from the same address and port.
    let (me, peer) = (IpAddr::V4(LOCAL), IpAddr::V4(PEER));
    let repr = TcpRepr {
        src_port: 80,
        dst_port: tuple.local.port(),
        seq: 900,
        ack: syn.tcp.seq.wrapping_add(1),
        flags: TcpFlags::SYN | TcpFlags::ACK,
        window: 65535,
        urgent: 0,
        options: TcpOptions::default(),
    };
    let mut dgram = vec![0u8; 1600];
    let n = emit_packet(&mut dgram, peer, me, 64, &repr, b"").unwrap();
    ep.handle(Instant::from_millis(1), &dgram[..n]);
    let n = ep.poll_transmit(Instant::from_millis(1), &mut buf).unwrap();
    let ack = parse_packet(&buf[..n]).unwrap();
    assert_eq!(
        (ack.src, ack.tcp.src_port),
        (IpAddr::V4(LOCAL), tuple.local.port())
    );
    assert_eq!(ep.state(conn), Some(synack::State::Established));
}
