//! Strategies shared by the property tests.
#![allow(dead_code)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use synack_wire::{SackBlock, SackList, TcpFlags, TcpOptions, TcpRepr, Timestamps};

/// A source/destination pair of the same family.
pub fn addrs() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<[u8; 4]>())
            .prop_map(|(s, d)| (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))),
        (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(s, d)| (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))),
    ]
}

/// Any combination of options that fits in 40 bytes, with as many SACK blocks (0..=4)
/// as the others leave room for. Window scale within 0..=14 (parsing clamps larger).
pub fn options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(0u8..=14),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
    )
        .prop_flat_map(|(mss, window_scale, sack_permitted, ts)| {
            let base = TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                sack: SackList::default(),
            };
            let max = base.max_sack_blocks();
            proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=max).prop_map(
                move |blocks| {
                    let mut opts = base;
                    for (left, right) in blocks {
                        assert!(opts.sack.push(SackBlock { left, right }));
                    }
                    opts
                },
            )
        })
}

/// Any TCP header synack can emit.
pub fn repr() -> impl Strategy<Value = TcpRepr> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        options(),
    )
        .prop_map(
            |(src_port, dst_port, seq, ack, flags, window, urgent, options)| TcpRepr {
                src_port,
                dst_port,
                seq,
                ack,
                flags: TcpFlags(flags),
                window,
                urgent,
                options,
            },
        )
}

/// A payload of 0..1600 bytes.
pub fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..1600)
}

/// Emit a packet into a fresh, exactly sized buffer.
pub fn emit(src: IpAddr, dst: IpAddr, hop_limit: u8, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let len = synack_wire::packet_len(src.is_ipv6(), repr, payload.len());
    let mut buf = vec![0u8; len];
    let n = synack_wire::emit_packet(&mut buf, src, dst, hop_limit, repr, payload)
        .expect("emit a valid packet");
    assert_eq!(n, len);
    buf
}
