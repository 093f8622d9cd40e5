//! `parse_packet`, which reads the IPv4 header as one array, takes the pseudo-header
//! sum where the family is known and builds the usual option layouts in branches of
//! their own, gives what the views give, checked in the documented order — the same
//! value or the same error — on valid datagrams and on damaged ones.

mod common;

use core::net::IpAddr;

use proptest::prelude::*;
use synack_wire::{
    ip_protocol, ipv6, parse_packet, Ipv4Packet, Ipv6Packet, ParsedPacket, TcpOption, TcpOptions,
    TcpRepr, TcpSegment, WireError,
};

/// The TCP checks through the [`TcpSegment`] view, in the order `parse_tcp` documents.
fn reference_tcp(segment: &[u8], src: IpAddr, dst: IpAddr) -> Result<(TcpRepr, &[u8]), WireError> {
    if segment.len() < 20 {
        return Err(WireError::Truncated);
    }
    if !TcpSegment::new_unchecked(segment).verify_checksum(src, dst) {
        return Err(WireError::TcpBadChecksum);
    }
    let seg = TcpSegment::new_checked(segment)?;
    // The options through the general loop over the raw list, not the fast paths.
    let mut options = TcpOptions::default();
    for option in seg.option_iter() {
        match option? {
            TcpOption::Mss(v) => options.mss = Some(v),
            TcpOption::WindowScale(v) => options.window_scale = Some(v.min(14)),
            TcpOption::SackPermitted => options.sack_permitted = true,
            TcpOption::Sack(list) => options.sack = list,
            TcpOption::Timestamps(ts) => options.timestamps = Some(ts),
            TcpOption::Eol | TcpOption::Nop | TcpOption::Unknown { .. } => {}
        }
    }
    let repr = TcpRepr {
        src_port: seg.src_port(),
        dst_port: seg.dst_port(),
        seq: seg.seq(),
        ack: seg.ack(),
        flags: seg.flags(),
        window: seg.window(),
        urgent: seg.urgent(),
        options,
    };
    Ok((repr, seg.into_payload()))
}

/// `parse_packet` as its documentation describes it, through the views.
fn reference_parse(buf: &[u8]) -> Result<ParsedPacket<'_>, WireError> {
    let first = *buf.first().ok_or(WireError::Truncated)?;
    let (src, dst, hop_limit, segment) = match first >> 4 {
        4 => {
            let ip = Ipv4Packet::new_checked(buf)?;
            if !ip.verify_checksum() {
                return Err(WireError::Ipv4BadChecksum);
            }
            if ip.is_fragment() {
                return Err(WireError::Ipv4Fragment);
            }
            if ip.protocol() != ip_protocol::TCP {
                return Err(WireError::UnsupportedProtocol(ip.protocol()));
            }
            let (s, d, ttl) = (ip.src_addr(), ip.dst_addr(), ip.ttl());
            (IpAddr::V4(s), IpAddr::V4(d), ttl, ip.into_payload())
        }
        6 => {
            let ip = Ipv6Packet::new_checked(buf)?;
            let (s, d, hop) = (ip.src_addr(), ip.dst_addr(), ip.hop_limit());
            let (protocol, upper) =
                ipv6::walk_extension_headers(ip.next_header(), ip.into_payload())?;
            if protocol != ip_protocol::TCP {
                return Err(WireError::UnsupportedProtocol(protocol));
            }
            (IpAddr::V6(s), IpAddr::V6(d), hop, upper)
        }
        version => return Err(WireError::UnsupportedIpVersion(version)),
    };
    let (tcp, payload) = reference_tcp(segment, src, dst)?;
    Ok(ParsedPacket {
        src,
        dst,
        hop_limit,
        tcp,
        payload,
    })
}

/// Recompute whichever checksums the damaged structure still lets us find, so that
/// the checks after them are reached too.
fn refill_checksums(buf: &mut [u8], ip: bool, tcp: bool) {
    let Some(&first) = buf.first() else { return };
    let (src, dst, segment) = match first >> 4 {
        4 => {
            let Ok(view) = Ipv4Packet::new_checked(&*buf) else {
                return;
            };
            let (s, d) = (view.src_addr(), view.dst_addr());
            let (header_len, total) = (view.header_len(), usize::from(view.total_len()));
            if ip {
                Ipv4Packet::new_unchecked(&mut buf[..header_len]).fill_checksum();
            }
            (IpAddr::V4(s), IpAddr::V4(d), header_len..total)
        }
        6 => {
            let Ok(view) = Ipv6Packet::new_checked(&*buf) else {
                return;
            };
            let (s, d) = (view.src_addr(), view.dst_addr());
            let end = ipv6::HEADER_LEN + usize::from(view.payload_len());
            (IpAddr::V6(s), IpAddr::V6(d), ipv6::HEADER_LEN..end)
        }
        _ => return,
    };
    let segment = &mut buf[segment];
    if tcp && segment.len() >= 20 {
        let _ = TcpSegment::new_unchecked(segment).fill_checksum(src, dst);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_packet_agrees_with_the_views(
        (src, dst) in common::addrs(),
        hop_limit in any::<u8>(),
        repr in common::repr(),
        payload in proptest::collection::vec(any::<u8>(), 0..80),
        // Mostly in the IP header and the TCP header's first bytes.
        damage in proptest::collection::vec(
            (prop_oneof![0usize..24, 0usize..100], any::<u8>()),
            0..4,
        ),
        // In the TCP header and options.
        tcp_damage in proptest::collection::vec((0usize..40, any::<u8>()), 0..3),
        cut in proptest::option::of(0usize..140),
        refill_ip in any::<bool>(),
        refill_tcp in any::<bool>(),
    ) {
        let mut buf = common::emit(src, dst, hop_limit, &repr, &payload);
        prop_assert_eq!(parse_packet(&buf), reference_parse(&buf));
        let tcp_at = if src.is_ipv6() { 40 } else { 20 };
        let tcp_damage = tcp_damage.into_iter().map(|(at, x)| (tcp_at + at, x));
        for (at, x) in damage.into_iter().chain(tcp_damage) {
            if let Some(b) = buf.get_mut(at) {
                *b ^= x;
            }
        }
        if let Some(cut) = cut {
            buf.truncate(cut);
        }
        refill_checksums(&mut buf, refill_ip, refill_tcp);
        prop_assert_eq!(parse_packet(&buf), reference_parse(&buf));
    }
}
