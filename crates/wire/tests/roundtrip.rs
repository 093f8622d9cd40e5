//! Emit-then-parse is the identity, for every header synack can emit.

mod common;

use proptest::prelude::*;
use synack_wire::{emit_tcp, packet_len, parse_packet, parse_tcp, ParsedPacket, TcpSegment};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parse_of_emit_returns_the_same_fields(
        (src, dst) in common::addrs(),
        hop_limit in any::<u8>(),
        repr in common::repr(),
        payload in common::payload(),
    ) {
        let buf = common::emit(src, dst, hop_limit, &repr, &payload);
        prop_assert_eq!(buf.len(), packet_len(src.is_ipv6(), &repr, payload.len()));
        let parsed = parse_packet(&buf).expect("parse what we emitted");
        prop_assert_eq!(parsed, ParsedPacket { src, dst, hop_limit, tcp: repr, payload: &payload });
    }

    #[test]
    fn emit_writes_exactly_header_len_header_bytes(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut buf = vec![0u8; 200];
        let n = emit_tcp(&mut buf, src, dst, &repr, &payload).unwrap();
        prop_assert_eq!(n, repr.header_len() + payload.len());
        let seg = TcpSegment::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!(seg.header_len(), repr.header_len());
        prop_assert_eq!(seg.header_len() % 4, 0);
        prop_assert!(seg.header_len() <= 60);
        prop_assert_eq!(parse_tcp(&buf[..n], src, dst), Ok((repr, &payload[..])));
    }

    #[test]
    fn emit_into_a_larger_buffer_leaves_the_rest_untouched(
        (src, dst) in common::addrs(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        extra in 1usize..64,
    ) {
        let len = packet_len(src.is_ipv6(), &repr, payload.len());
        let mut buf = vec![0xa5u8; len + extra];
        let n = synack_wire::emit_packet(&mut buf, src, dst, 9, &repr, &payload).unwrap();
        prop_assert_eq!(n, len);
        prop_assert!(buf[n..].iter().all(|&b| b == 0xa5));
        // The padding after the datagram is ignored by the parser.
        let parsed = parse_packet(&buf).unwrap();
        prop_assert_eq!(parsed.payload, &payload[..]);
    }
}
