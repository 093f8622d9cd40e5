//! The emitters, which sum the headers' checksums from the fields and write each header
//! with a few whole-word stores, write byte for byte the datagram that the views'
//! setters and `fill_checksum` (which sums the bytes as written) build.

mod common;

use core::net::IpAddr;

use proptest::prelude::*;
use synack_wire::{
    checksum, emit_packet, emit_packet_in_place, emit_packet_in_place_summed, emit_tcp,
    emit_tcp_in_place, ip_protocol, ipv4, ipv6, payload_offset, Ipv4Packet, Ipv6Packet, SackList,
    TcpOption, TcpOptions, TcpRepr, TcpSegment, Timestamps,
};

/// The options one at a time with [`TcpOption::emit`], in the layout documented on
/// `TcpOptions::wire_len` (Linux's), not through `TcpOptions::emit`.
fn reference_options(repr: &TcpRepr) -> Vec<u8> {
    let o = &repr.options;
    let mut list = Vec::new();
    if let Some(mss) = o.mss {
        list.push(TcpOption::Mss(mss));
    }
    match (o.timestamps, o.sack_permitted) {
        (Some(ts), true) => list.extend([TcpOption::SackPermitted, TcpOption::Timestamps(ts)]),
        (Some(ts), false) => {
            list.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Timestamps(ts)])
        }
        (None, true) => list.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::SackPermitted]),
        (None, false) => {}
    }
    if let Some(shift) = o.window_scale {
        list.extend([TcpOption::Nop, TcpOption::WindowScale(shift)]);
    }
    if o.sack != SackList::default() {
        list.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(o.sack)]);
    }
    let mut out = Vec::new();
    for option in list {
        let mut buf = [0u8; 40];
        let n = option.emit(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// The TCP segment built field by field through a [`TcpSegment`] view.
fn reference_segment(src: IpAddr, dst: IpAddr, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let options = reference_options(repr);
    let header_len = 20 + options.len();
    let mut buf = vec![0u8; header_len + payload.len()];
    let mut seg = TcpSegment::new_unchecked(&mut buf[..]);
    seg.set_src_port(repr.src_port);
    seg.set_dst_port(repr.dst_port);
    seg.set_seq(repr.seq);
    seg.set_ack(repr.ack);
    seg.set_header_len(header_len);
    seg.set_flags(repr.flags);
    seg.set_window(repr.window);
    seg.set_urgent(repr.urgent);
    seg.options_mut().copy_from_slice(&options);
    seg.payload_mut().copy_from_slice(payload);
    seg.fill_checksum(src, dst).unwrap();
    buf
}

/// The datagram built through the [`Ipv4Packet`] / [`Ipv6Packet`] views.
fn reference_datagram(
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    repr: &TcpRepr,
    payload: &[u8],
) -> Vec<u8> {
    let segment = reference_segment(src, dst, repr, payload);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut buf = vec![0u8; ipv4::HEADER_LEN];
            let mut ip = Ipv4Packet::new_unchecked(&mut buf[..]);
            ip.set_version_and_header_len(ipv4::HEADER_LEN);
            ip.set_dscp_ecn(0, 0);
            ip.set_total_len((ipv4::HEADER_LEN + segment.len()) as u16);
            ip.set_identification(0);
            ip.set_fragmentation(true, false, 0);
            ip.set_ttl(hop_limit);
            ip.set_protocol(ip_protocol::TCP);
            ip.set_src_addr(s);
            ip.set_dst_addr(d);
            ip.fill_checksum();
            buf.extend_from_slice(&segment);
            buf
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut buf = vec![0u8; ipv6::HEADER_LEN];
            let mut ip = Ipv6Packet::new_unchecked(&mut buf[..]);
            ip.set_version_class_flow(0, 0);
            ip.set_payload_len(segment.len() as u16);
            ip.set_next_header(ip_protocol::TCP);
            ip.set_hop_limit(hop_limit);
            ip.set_src_addr(s);
            ip.set_dst_addr(d);
            buf.extend_from_slice(&segment);
            buf
        }
        _ => unreachable!("the strategy pairs addresses of one family"),
    }
}

/// `emit_packet_in_place_summed`, the payload put in place and its sum given, writes
/// `want` into a buffer with room to spare, and nothing past it.
fn in_place_summed_writes(
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    repr: &TcpRepr,
    payload: &[u8],
    want: &[u8],
) -> Result<(), TestCaseError> {
    let n = want.len();
    let mut buf = vec![0x5au8; n + 7];
    let at = payload_offset(src.is_ipv6(), repr);
    buf[at..at + payload.len()].copy_from_slice(payload);
    let sum = checksum::sum(payload);
    prop_assert_eq!(
        emit_packet_in_place_summed(&mut buf, src, dst, hop_limit, repr, payload.len(), sum),
        Ok(n)
    );
    prop_assert_eq!(&buf[..n], want);
    prop_assert!(buf[n..].iter().all(|&b| b == 0x5a));
    Ok(())
}

/// A header with the options nearly every segment of a connection has: timestamps
/// alone, or none (the summed in-place emitter's own path over IPv4).
fn usual_repr() -> impl Strategy<Value = TcpRepr> {
    (
        common::repr(),
        proptest::option::of((any::<u32>(), any::<u32>())),
    )
        .prop_map(|(mut repr, ts)| {
            repr.options = TcpOptions {
                timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                ..TcpOptions::default()
            };
            repr
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The summed in-place emitter with the usual options, over both families, writes
    /// what the views build (the general strategy below reaches these options rarely).
    #[test]
    fn the_usual_header_is_written_as_the_views_build_it(
        (src, dst) in common::addrs(),
        hop_limit in any::<u8>(),
        repr in usual_repr(),
        payload in common::payload(),
    ) {
        let want = reference_datagram(src, dst, hop_limit, &repr, &payload);
        in_place_summed_writes(src, dst, hop_limit, &repr, &payload, &want)?;
    }

    /// All four emitters, into buffers with room to spare (left untouched).
    #[test]
    fn emitters_write_what_the_views_build(
        (src, dst) in common::addrs(),
        hop_limit in any::<u8>(),
        repr in common::repr(),
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..8),
            common::payload(),
        ],
    ) {
        let want = reference_datagram(src, dst, hop_limit, &repr, &payload);
        let n = want.len();

        let mut buf = vec![0x5au8; n + 7];
        prop_assert_eq!(emit_packet(&mut buf, src, dst, hop_limit, &repr, &payload), Ok(n));
        prop_assert_eq!(&buf[..n], &want[..]);
        prop_assert!(buf[n..].iter().all(|&b| b == 0x5a));

        let mut buf = vec![0x5au8; n + 7];
        let at = payload_offset(src.is_ipv6(), &repr);
        buf[at..at + payload.len()].copy_from_slice(&payload);
        prop_assert_eq!(
            emit_packet_in_place(&mut buf, src, dst, hop_limit, &repr, payload.len()),
            Ok(n)
        );
        prop_assert_eq!(&buf[..n], &want[..]);
        prop_assert!(buf[n..].iter().all(|&b| b == 0x5a));

        // The same with the payload's sum given, as the sender takes it from its send
        // buffer.
        in_place_summed_writes(src, dst, hop_limit, &repr, &payload, &want)?;

        let ip_len = if src.is_ipv6() { ipv6::HEADER_LEN } else { ipv4::HEADER_LEN };
        let segment = &want[ip_len..];
        let mut buf = vec![0x5au8; segment.len() + 7];
        prop_assert_eq!(emit_tcp(&mut buf, src, dst, &repr, &payload), Ok(segment.len()));
        prop_assert_eq!(&buf[..segment.len()], segment);

        let mut buf = vec![0x5au8; segment.len() + 7];
        let at = repr.header_len();
        buf[at..at + payload.len()].copy_from_slice(&payload);
        prop_assert_eq!(
            emit_tcp_in_place(&mut buf, src, dst, &repr, payload.len()),
            Ok(segment.len())
        );
        prop_assert_eq!(&buf[..segment.len()], segment);
        prop_assert!(buf[segment.len()..].iter().all(|&b| b == 0x5a));
    }
}
