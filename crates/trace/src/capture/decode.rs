//! From captured frame bytes to a TCP segment: the link layer (Ethernet with VLAN tags,
//! raw IP, Linux cooked SLL and SLL2, BSD loopback/null), then IPv4 or IPv6, then TCP.
//!
//! Decoding is lenient where real captures need it and strict where it matters:
//! - lengths come from the IP header, not from what was captured, so a capture cut
//!   short by its snap length still gives the right payload length;
//! - the TCP checksum is verified only when the whole segment was captured, and a bad one
//!   is reported, not fatal: a capture taken on the sending host sees segments before the
//!   NIC fills the checksum in (checksum offload);
//! - the IP total length may be 0 for segmentation-offloaded super-segments (TSO/GSO); the
//!   captured length is used then;
//! - non-first IPv4 fragments and anything that is not TCP are skipped.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack_wire::{ip_protocol, ipv6, TcpFlags, TcpOptions, TcpRepr, TcpSegment};

/// Link-layer types (LINKTYPE_* of the tcpdump.org registry) this module decodes.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II (and 802.1Q/802.1ad tagged).
    pub const ETHERNET: u32 = 1;
    /// Raw IP as some systems number it (DLT_RAW on OpenBSD).
    pub const RAW_OPENBSD: u32 = 14;
    /// Raw IP as some systems number it (DLT_RAW on other BSDs).
    pub const RAW_BSD: u32 = 12;
    /// Raw IP, version from the first nibble.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (`tcpdump -i any`).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

/// Whether a segment's TCP checksum could be checked, and how that went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Verified correct.
    Good,
    /// Wrong: corruption, or (commonly) checksum offload on the capturing host.
    Bad,
    /// Not all of the segment was captured.
    Unverified,
}

/// One TCP segment decoded from a captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The TCP header. Options that fail to parse are left out (see `options_ok`).
    pub tcp: TcpRepr,
    /// Payload bytes, from the IP length fields (not from what was captured).
    pub payload_len: u32,
    /// Whether the checksum was checked.
    pub checksum: Checksum,
    /// The options parsed cleanly.
    pub options_ok: bool,
}

/// Why a frame gave no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A link-layer type this decoder does not know.
    UnknownLinkType(u32),
    /// Not IPv4/IPv6 (ARP, LLDP...).
    NotIp,
    /// IP, but not TCP (UDP, ICMP...), or a non-first fragment.
    NotTcp,
    /// Too short or inconsistent to decode.
    Malformed,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Strip the link layer; returns the IP datagram.
pub fn link_payload(linktype: u32, frame: &[u8]) -> Result<&[u8], Skip> {
    // EtherType values.
    const IPV4: u16 = 0x0800;
    const IPV6: u16 = 0x86DD;
    const VLAN: [u16; 3] = [0x8100, 0x88A8, 0x9100];
    let by_ethertype = |ethertype: u16, rest: &'_ [u8]| -> Result<(), Skip> {
        match ethertype {
            IPV4 | IPV6 if !rest.is_empty() => Ok(()),
            IPV4 | IPV6 => Err(Skip::Malformed),
            _ => Err(Skip::NotIp),
        }
    };
    match linktype {
        linktype::ETHERNET => {
            let mut at = 12;
            let mut ethertype = be16(frame, at).ok_or(Skip::Malformed)?;
            while VLAN.contains(&ethertype) {
                at += 4;
                ethertype = be16(frame, at).ok_or(Skip::Malformed)?;
            }
            let rest = frame.get(at + 2..).ok_or(Skip::Malformed)?;
            by_ethertype(ethertype, rest)?;
            Ok(rest)
        }
        linktype::RAW
        | linktype::RAW_BSD
        | linktype::RAW_OPENBSD
        | linktype::IPV4
        | linktype::IPV6 => match frame.first().map(|b| b >> 4) {
            Some(4 | 6) => Ok(frame),
            Some(_) => Err(Skip::NotIp),
            None => Err(Skip::Malformed),
        },
        linktype::LINUX_SLL => {
            let ethertype = be16(frame, 14).ok_or(Skip::Malformed)?;
            let rest = frame.get(16..).ok_or(Skip::Malformed)?;
            by_ethertype(ethertype, rest)?;
            Ok(rest)
        }
        linktype::LINUX_SLL2 => {
            let ethertype = be16(frame, 0).ok_or(Skip::Malformed)?;
            let rest = frame.get(20..).ok_or(Skip::Malformed)?;
            by_ethertype(ethertype, rest)?;
            Ok(rest)
        }
        linktype::NULL | linktype::LOOP => {
            let raw: [u8; 4] = frame
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Malformed)?;
            // NULL is in the capturing host's byte order: whichever reading is small.
            let family = if linktype == linktype::LOOP {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le < 256 {
                    le
                } else {
                    u32::from_be_bytes(raw)
                }
            };
            let rest = frame.get(4..).ok_or(Skip::Malformed)?;
            match family {
                // AF_INET everywhere; AF_INET6 on Linux, the BSDs, macOS.
                2 | 10 | 24 | 28 | 30 => Ok(rest),
                _ => Err(Skip::NotIp),
            }
        }
        other => Err(Skip::UnknownLinkType(other)),
    }
}

/// Decode a whole captured frame.
pub fn decode_frame(linktype: u32, frame: &[u8]) -> Result<TcpPacket, Skip> {
    decode_ip(link_payload(linktype, frame)?)
}

/// Decode an IP datagram (possibly cut short by the snap length) carrying TCP.
pub fn decode_ip(ip: &[u8]) -> Result<TcpPacket, Skip> {
    let version = ip.first().map(|b| b >> 4).ok_or(Skip::Malformed)?;
    // (src, dst, captured TCP bytes, TCP length on the wire)
    let (src, dst, segment, wire_len): (IpAddr, IpAddr, &[u8], usize) = match version {
        4 => {
            let ihl = usize::from(ip.first().ok_or(Skip::Malformed)? & 0x0F) * 4;
            if ihl < 20 || ip.len() < ihl {
                return Err(Skip::Malformed);
            }
            let total = usize::from(be16(ip, 2).ok_or(Skip::Malformed)?);
            let flags_frag = be16(ip, 6).ok_or(Skip::Malformed)?;
            if flags_frag & 0x1FFF != 0 || flags_frag & 0x2000 != 0 {
                return Err(Skip::NotTcp); // a fragment: no reassembly here
            }
            if ip.get(9) != Some(&ip_protocol::TCP) {
                return Err(Skip::NotTcp);
            }
            let addr = |at: usize| -> Result<IpAddr, Skip> {
                let b: [u8; 4] = ip
                    .get(at..at + 4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(Skip::Malformed)?;
                Ok(IpAddr::V4(Ipv4Addr::from(b)))
            };
            // Total length 0: a TSO super-segment; trust what was captured.
            let total = if total == 0 { ip.len() } else { total };
            if total < ihl {
                return Err(Skip::Malformed);
            }
            let captured_end = total.min(ip.len());
            (
                addr(12)?,
                addr(16)?,
                ip.get(ihl..captured_end).ok_or(Skip::Malformed)?,
                total - ihl,
            )
        }
        6 => {
            if ip.len() < 40 {
                return Err(Skip::Malformed);
            }
            let payload_len = usize::from(be16(ip, 4).ok_or(Skip::Malformed)?);
            let next = *ip.get(6).ok_or(Skip::Malformed)?;
            let addr = |at: usize| -> Result<IpAddr, Skip> {
                let b: [u8; 16] = ip
                    .get(at..at + 16)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(Skip::Malformed)?;
                Ok(IpAddr::V6(Ipv6Addr::from(b)))
            };
            let payload_len = if payload_len == 0 {
                ip.len() - 40
            } else {
                payload_len
            };
            let captured = ip
                .get(40..(40 + payload_len).min(ip.len()))
                .ok_or(Skip::Malformed)?;
            let (protocol, upper) =
                ipv6::walk_extension_headers(next, captured).map_err(|_| Skip::Malformed)?;
            if protocol != ip_protocol::TCP {
                return Err(Skip::NotTcp);
            }
            let ext_len = captured.len() - upper.len();
            (
                addr(8)?,
                addr(24)?,
                upper,
                payload_len.checked_sub(ext_len).ok_or(Skip::Malformed)?,
            )
        }
        _ => return Err(Skip::NotIp),
    };
    decode_tcp(src, dst, segment, wire_len)
}

fn decode_tcp(
    src: IpAddr,
    dst: IpAddr,
    segment: &[u8],
    wire_len: usize,
) -> Result<TcpPacket, Skip> {
    if segment.len() < 20 || wire_len < 20 {
        return Err(Skip::Malformed);
    }
    let view = TcpSegment::new_unchecked(segment);
    let header_len = view.header_len();
    if header_len < 20 || header_len > wire_len {
        return Err(Skip::Malformed);
    }
    let options_bytes = segment.get(20..header_len);
    let parsed = options_bytes.map(TcpOptions::parse);
    let (options, options_ok) = match parsed {
        Some(Ok(o)) => (o, true),
        _ => (TcpOptions::default(), false),
    };
    let checksum = if segment.len() >= wire_len {
        let whole = TcpSegment::new_unchecked(segment.get(..wire_len).unwrap_or(segment));
        if whole.verify_checksum(src, dst) {
            Checksum::Good
        } else {
            Checksum::Bad
        }
    } else {
        Checksum::Unverified
    };
    let tcp = TcpRepr {
        src_port: view.src_port(),
        dst_port: view.dst_port(),
        seq: view.seq(),
        ack: view.ack(),
        flags: TcpFlags(view.flags().bits()),
        window: view.window(),
        urgent: view.urgent(),
        options,
    };
    Ok(TcpPacket {
        src: SocketAddr::new(src, tcp.src_port),
        dst: SocketAddr::new(dst, tcp.dst_port),
        payload_len: u32::try_from(wire_len - header_len).unwrap_or(u32::MAX),
        tcp,
        checksum,
        options_ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::emit_packet;

    fn datagram(payload: &[u8]) -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 7,
            ack: 9,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 1000,
            urgent: 0,
            options: TcpOptions {
                mss: Some(1460),
                ..TcpOptions::default()
            },
        };
        let mut buf = vec![0; 1500];
        let n = emit_packet(
            &mut buf,
            "198.18.0.1".parse().unwrap(),
            "198.18.0.2".parse().unwrap(),
            64,
            &tcp,
            payload,
        )
        .unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn raw_ip_decodes_with_a_good_checksum() {
        let p = decode_frame(linktype::RAW, &datagram(b"hello")).unwrap();
        assert_eq!(p.payload_len, 5);
        assert_eq!(p.checksum, Checksum::Good);
        assert_eq!(p.tcp.options.mss, Some(1460));
        assert_eq!(p.src, "198.18.0.1:40000".parse().unwrap());
    }

    #[test]
    fn truncated_capture_keeps_the_wire_length_and_skips_the_checksum() {
        let d = datagram(&[1; 500]);
        let p = decode_frame(linktype::RAW, &d[..80]).unwrap();
        assert_eq!(p.payload_len, 500);
        assert_eq!(p.checksum, Checksum::Unverified);
    }

    #[test]
    fn every_link_layer_gives_the_same_segment() {
        let ip = datagram(b"x");
        let want = decode_ip(&ip).unwrap();
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        eth.extend_from_slice(&ip);
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&ip);
        for (lt, frame) in [
            (linktype::ETHERNET, &eth),
            (linktype::LINUX_SLL, &sll),
            (linktype::LINUX_SLL2, &sll2),
            (linktype::NULL, &null),
            (linktype::LOOP, &lo),
            (linktype::IPV4, &ip),
        ] {
            assert_eq!(decode_frame(lt, frame).as_ref(), Ok(&want), "linktype {lt}");
        }
    }

    #[test]
    fn bad_checksum_is_reported_not_fatal() {
        let mut d = datagram(b"abc");
        let last = d.len() - 1;
        d[last] ^= 0xFF;
        assert_eq!(decode_ip(&d).unwrap().checksum, Checksum::Bad);
    }

    #[test]
    fn garbage_is_skipped_without_panicking() {
        for len in 0..64 {
            let frame: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            for lt in [0, 1, 101, 108, 113, 228, 229, 276, 999] {
                let _ = decode_frame(lt, &frame);
            }
        }
        assert_eq!(decode_frame(999, &[0; 60]), Err(Skip::UnknownLinkType(999)));
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 0]);
        assert_eq!(decode_frame(linktype::ETHERNET, &arp), Err(Skip::NotIp));
    }
}
