//! No input makes the parser or the views panic, and corruption is caught.

mod common;

use core::net::IpAddr;

use proptest::prelude::*;
use synack_wire::options::TcpOptionIter;
use synack_wire::{
    ipv6, parse_packet, parse_tcp, Ipv4Packet, Ipv6Packet, TcpOptions, TcpRepr, TcpSegment,
};

/// Call every accessor of every view that accepts `bytes`.
fn poke_views(bytes: &[u8]) {
    if let Ok(p) = Ipv4Packet::new_checked(bytes) {
        let _ = (
            p.version(),
            p.header_len(),
            p.dscp(),
            p.ecn(),
            p.total_len(),
            p.identification(),
            p.dont_fragment(),
            p.more_fragments(),
            p.fragment_offset(),
            p.is_fragment(),
            p.ttl(),
            p.protocol(),
            p.checksum(),
            p.src_addr(),
            p.dst_addr(),
            p.options(),
            p.verify_checksum(),
            p.payload(),
        );
        poke_tcp(p.payload());
    }
    if let Ok(p) = Ipv6Packet::new_checked(bytes) {
        let _ = (
            p.version(),
            p.traffic_class(),
            p.flow_label(),
            p.payload_len(),
            p.next_header(),
            p.hop_limit(),
            p.src_addr(),
            p.dst_addr(),
            p.payload(),
        );
        if let Ok((_, upper)) = p.upper_layer() {
            poke_tcp(upper);
        }
    }
    let _ = ipv6::walk_extension_headers(bytes.first().copied().unwrap_or(0), bytes);
    poke_tcp(bytes);
    let _ = TcpOptions::parse(bytes);
    for _ in TcpOptionIter::new(bytes) {}
}

fn poke_tcp(bytes: &[u8]) {
    if let Ok(s) = TcpSegment::new_checked(bytes) {
        let _ = (
            s.src_port(),
            s.dst_port(),
            s.seq(),
            s.ack(),
            s.data_offset(),
            s.header_len(),
            s.reserved(),
            s.flags(),
            s.window(),
            s.checksum(),
            s.urgent(),
            s.options(),
            s.payload(),
        );
        for _ in s.option_iter() {}
        let _ = TcpRepr::parse(&s);
    }
    let any = "198.18.0.1".parse().unwrap();
    let _ = parse_tcp(bytes, any, any);
}

/// A mutation of a valid packet.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    FlipBit(usize),
    SetByte(usize, u8),
    /// Overwrite the IPv4 total length / IPv6 payload length.
    LieIpLength(u16),
    /// Overwrite the TCP data offset nibble.
    LieDataOffset(u8),
    /// Overwrite the length byte of the first TCP option.
    LieOptionLength(u8),
    Extend(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::FlipBit),
        any::<(usize, u8)>().prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<u16>().prop_map(Mutation::LieIpLength),
        (0u8..16).prop_map(Mutation::LieDataOffset),
        any::<u8>().prop_map(Mutation::LieOptionLength),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Extend),
    ]
}

fn apply(buf: &mut Vec<u8>, m: &Mutation) {
    let ipv6 = buf[0] >> 4 == 6;
    let tcp_start = if ipv6 { 40 } else { 20 };
    match m {
        Mutation::Truncate(n) => buf.truncate(n % buf.len()),
        Mutation::FlipBit(i) => {
            let i = i % (buf.len() * 8);
            buf[i / 8] ^= 1 << (i % 8);
        }
        Mutation::SetByte(i, b) => {
            let i = i % buf.len();
            buf[i] = *b;
        }
        Mutation::LieIpLength(v) => {
            let at = if ipv6 { 4 } else { 2 };
            if let Some(field) = buf.get_mut(at..at + 2) {
                field.copy_from_slice(&v.to_be_bytes());
            }
        }
        Mutation::LieDataOffset(v) => {
            if let Some(b) = buf.get_mut(tcp_start + 12) {
                *b = (v << 4) | (*b & 0xf);
            }
        }
        Mutation::LieOptionLength(v) => {
            if let Some(b) = buf.get_mut(tcp_start + 21) {
                *b = *v;
            }
        }
        Mutation::Extend(bytes) => buf.extend_from_slice(bytes),
    }
}

/// Recompute the checksums of a mutated packet where its lengths allow, so that the
/// mutation reaches the checks behind the checksums (lying data offsets, bad options).
fn refill_checksums(buf: &mut [u8], src: IpAddr, dst: IpAddr) {
    let ipv6 = src.is_ipv6();
    let ip_len = if ipv6 { 40 } else { 20 };
    if buf.len() < ip_len + 20 {
        return;
    }
    if !ipv6 {
        // The IHL may have been mutated: sum whatever header it claims, if present.
        let ihl_len = usize::from(buf[0] & 0x0f) * 4;
        if (20..=buf.len()).contains(&ihl_len) {
            Ipv4Packet::new_unchecked(&mut buf[..ihl_len]).fill_checksum();
        }
    }
    let _ = TcpSegment::new_unchecked(&mut buf[ip_len..]).fill_checksum(src, dst);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_packet(&bytes);
        poke_views(&bytes);
    }

    /// Arbitrary bytes behind a plausible first byte, so that the parser gets past the
    /// version check and into the length and option logic.
    #[test]
    fn arbitrary_bytes_after_a_version_byte_never_panic(
        first in prop_oneof![Just(0x45u8), 0x40u8..0x50, Just(0x60u8)],
        rest in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut bytes = vec![first];
        bytes.extend_from_slice(&rest);
        let _ = parse_packet(&bytes);
        poke_views(&bytes);
    }

    #[test]
    fn mutated_valid_packets_never_panic(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        mutations in proptest::collection::vec(mutation(), 1..4),
        fix_checksums in any::<bool>(),
    ) {
        let mut buf = common::emit(src, dst, 64, &repr, &payload);
        for m in &mutations {
            if buf.is_empty() {
                break;
            }
            apply(&mut buf, m);
        }
        if fix_checksums {
            refill_checksums(&mut buf, src, dst);
        }
        let _ = parse_packet(&buf);
        poke_views(&buf);
    }

    /// One flipped bit anywhere a checksum covers makes the packet unacceptable. (The
    /// IPv6 traffic class, flow label and hop limit are covered by no checksum, and a
    /// flip that shortens the IPv6 payload length drops bytes whose sum may, one time in
    /// 65535, make up for it; those bits are left out.)
    #[test]
    fn single_flipped_bit_is_rejected(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        bit in any::<usize>(),
    ) {
        let good = common::emit(src, dst, 64, &repr, &payload);
        let mut bit = bit % (good.len() * 8);
        if src.is_ipv6() {
            // Skip bytes 0..8 of the IPv6 header save the version nibble and next header.
            let byte = bit / 8;
            let uncovered = (byte == 0 && bit % 8 < 4) || (1..6).contains(&byte) || byte == 7;
            if uncovered {
                bit = 6 * 8 + bit % 8; // next header instead
            }
        }
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(parse_packet(&bad).is_err(), "bit {} flipped in {:02x?}", bit, bad);
    }

    #[test]
    fn every_single_bit_flip_in_the_tcp_segment_fails_the_checksum(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let good = common::emit(src, dst, 64, &repr, &payload);
        let start = if src.is_ipv6() { 40 } else { 20 };
        for bit in start * 8..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(
                parse_packet(&bad),
                Err(synack_wire::WireError::TcpBadChecksum),
                "bit {}", bit
            );
        }
    }

    /// The unchecked parse: the intact datagram parses to what `parse_packet` gives and
    /// its checksum verifies, with the payload summed by the parse or by the caller; a
    /// flipped bit in the segment either fails the structural checks or fails the
    /// checksum, whichever way the payload is summed.
    #[test]
    fn the_unchecked_parse_verifies_as_parse_packet_does(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let good = common::emit(src, dst, 64, &repr, &payload);
        let unchecked = synack_wire::parse_packet_unchecked(&good).expect("parses");
        prop_assert!(unchecked.checksum_ok());
        prop_assert!(unchecked.checksum_ok_with(synack_wire::checksum::sum(&payload)));
        prop_assert_eq!(Ok(unchecked.packet.clone()), parse_packet(&good));
        let start = if src.is_ipv6() { 40 } else { 20 };
        for bit in start * 8..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            if let Ok(u) = synack_wire::parse_packet_unchecked(&bad) {
                prop_assert!(!u.checksum_ok(), "bit {}", bit);
                let sum = synack_wire::checksum::sum(u.packet.payload);
                prop_assert!(!u.checksum_ok_with(sum), "bit {}", bit);
            }
        }
    }
}
