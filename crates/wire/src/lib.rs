//! Wire formats for synack: IPv4, IPv6 and TCP.
//!
//! This crate turns bytes into meaning and back, and nothing else: no state, no
//! allocation, no I/O, no panics on any input. It works at two levels.
//!
//! # Views: bytes with accessors
//!
//! [`Ipv4Packet`], [`Ipv6Packet`] and [`TcpSegment`] wrap a buffer
//! (`T: AsRef<[u8]>`, e.g. `&[u8]`, `Vec<u8>`, `&mut [u8]`) and read fields in place,
//! zero-copy. `new_checked` validates the *structure* — every length field against the
//! buffer — so that no accessor can then read out of bounds; semantic checks (checksums,
//! fragments, the protocol, TCP options) are separate methods, so that tools such as a
//! pcap reader can look at packets a TCP would drop. Over `T: AsMut<[u8]>` the views
//! have setters, used for emission. A view is the right tool when you want one field,
//! want the raw bytes (e.g. [`options::TcpOptionIter`] over the options exactly as
//! sent), or want to write into a buffer someone else owns.
//!
//! # Reprs: plain data
//!
//! [`TcpRepr`] (with [`TcpFlags`], [`TcpOptions`], [`Timestamps`], [`SackBlock`],
//! [`SackList`]) is the header as plain `Copy` data, independent of any buffer, with the
//! options reduced to the ones synack understands. It is what the TCP core reasons
//! about. [`TcpRepr::parse`] reads one out of a checked [`TcpSegment`];
//! [`TcpRepr::emit`] writes one into a segment. Fields that follow from the rest — data
//! offset, checksum, IP lengths — are not in the repr: they are validated on parse and
//! computed on emit.
//!
//! # The contract the core uses
//!
//! - [`parse_packet`] parses one IP datagram carrying TCP, validating every length and
//!   both checksums, and returns a [`ParsedPacket`] borrowing the payload.
//!   [`parse_packet_unchecked`] makes every check but the TCP checksum's pass over the
//!   payload, for a receiver that sums the payload as it copies it
//!   ([`checksum::sum_copy`]) and verifies it before acting on the segment.
//! - [`emit_packet`] writes an IP datagram carrying the given [`TcpRepr`] and payload
//!   into a caller's buffer, computing the checksums, and returns its length;
//!   [`packet_len`] says how long it will be.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use synack_wire::{emit_packet, packet_len, parse_packet, TcpFlags, TcpOptions, TcpRepr};
//!
//! let src = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
//! let dst = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
//! let syn = TcpRepr {
//!     src_port: 49152,
//!     dst_port: 80,
//!     seq: 1000,
//!     flags: TcpFlags::SYN,
//!     window: 65535,
//!     options: TcpOptions { mss: Some(1460), sack_permitted: true, ..Default::default() },
//!     ..Default::default()
//! };
//! let mut buf = [0u8; 1500];
//! let n = emit_packet(&mut buf, src, dst, 64, &syn, b"")?;
//! assert_eq!(n, packet_len(false, &syn, 0));
//!
//! let packet = parse_packet(&buf[..n])?;
//! assert_eq!((packet.src, packet.dst, packet.hop_limit), (src, dst, 64));
//! assert_eq!(packet.tcp, syn);
//! # Ok::<(), synack_wire::WireError>(())
//! ```
//!
//! # What is checked on receive
//!
//! IPv4 (RFC 791): version, IHL ≥ 5, header and total length within the buffer (bytes
//! beyond the total length, e.g. Ethernet padding, are ignored), header checksum, no
//! fragments, protocol 6. IPv6 (RFC 8200): version, payload length within the buffer,
//! extension headers Hop-by-Hop, Routing (when this host is the final destination) and
//! Destination Options walked to TCP; fragments and anything else rejected. TCP
//! (RFC 9293): checksum with the pseudo-header (MUST-3), data offset, options
//! (MUST-6, MUST-7). Every failure is a distinct [`WireError`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checksum;
mod error;
pub mod ipv4;
pub mod ipv6;
pub mod options;
mod repr;
pub mod tcp;

pub use error::WireError;
pub use ipv4::Ipv4Packet;
pub use ipv6::Ipv6Packet;
pub use options::{TcpOption, TcpOptionIter};
pub use repr::*;
pub use tcp::{emit_tcp, emit_tcp_in_place, parse_tcp, TcpSegment};

use core::net::IpAddr;

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") this crate deals
/// with; in IPv6 they are Next Header values.
pub mod ip_protocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    pub const IPV6_HOP_BY_HOP: u8 = 0;
    /// TCP (RFC 9293).
    pub const TCP: u8 = 6;
    /// UDP (RFC 768).
    pub const UDP: u8 = 17;
    /// IPv6 Routing header (RFC 8200 §4.4).
    pub const IPV6_ROUTING: u8 = 43;
    /// IPv6 Fragment header (RFC 8200 §4.5).
    pub const IPV6_FRAGMENT: u8 = 44;
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: u8 = 58;
    /// IPv6 No Next Header (RFC 8200 §4.7).
    pub const IPV6_NO_NEXT_HEADER: u8 = 59;
    /// IPv6 Destination Options (RFC 8200 §4.6).
    pub const IPV6_DEST_OPTS: u8 = 60;
}

/// One parsed IP datagram carrying a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPacket<'a> {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    /// The TCP header.
    pub tcp: TcpRepr,
    /// The segment's data, borrowed from the input buffer.
    pub payload: &'a [u8],
}

/// Parse an IPv4 or IPv6 datagram carrying TCP; verifies the IPv4 header checksum and
/// the TCP checksum (pseudo-header included).
///
/// The version nibble picks the family. For IPv4 the checks are, in order: structure
/// ([`Ipv4Packet::check_len`]), header checksum ([`WireError::Ipv4BadChecksum`]),
/// fragments ([`WireError::Ipv4Fragment`]), protocol
/// ([`WireError::UnsupportedProtocol`]). For IPv6: structure
/// ([`Ipv6Packet::check_len`]), extension headers
/// ([`ipv6::walk_extension_headers`]), protocol. Then the TCP segment, as
/// [`parse_tcp`] describes. An empty buffer is [`WireError::Truncated`], a version other
/// than 4 or 6 [`WireError::UnsupportedIpVersion`].
pub fn parse_packet(buf: &[u8]) -> Result<ParsedPacket<'_>, WireError> {
    parse_datagram::<true>(buf).map(|p| p.packet)
}

/// [`parse_packet`] without the TCP checksum's pass over the payload: every other
/// check is made, in the same order, and the pseudo-header and header are summed. The
/// packet is not to be acted on until [`UncheckedPacket::checksum_ok`] (or
/// [`UncheckedPacket::checksum_ok_with`], given the payload's sum) says its checksum
/// is right (RFC 9293 §3.1, MUST-3). What it is for: a receiver that copies the
/// payload somewhere anyway can sum it in the same pass (`checksum::sum_copy`),
/// instead of reading it once to verify and once more to copy. A segment whose
/// checksum and structure are both wrong may report the structural error here where
/// [`parse_packet`] reports [`WireError::TcpBadChecksum`].
pub fn parse_packet_unchecked(buf: &[u8]) -> Result<UncheckedPacket<'_>, WireError> {
    parse_datagram::<false>(buf)
}

/// A datagram [`parse_packet_unchecked`] parsed: its TCP checksum is yet to be
/// verified over the payload. Read its fields only to decide where the payload would
/// go; act on it only once the checksum is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedPacket<'a> {
    /// The packet, as [`parse_packet`] would return it if its checksum is right.
    pub packet: ParsedPacket<'a>,
    /// The ones' complement sum of the pseudo-header and the TCP header.
    header_sum: u16,
}

impl UncheckedPacket<'_> {
    /// Whether the TCP checksum is right, the payload summed here.
    #[inline]
    pub fn checksum_ok(&self) -> bool {
        let payload = self.packet.payload;
        self.checksum_ok_with(if payload.is_empty() {
            0
        } else {
            checksum::sum(payload)
        })
    }

    /// Whether the TCP checksum is right, given [`checksum::sum`] of the payload (taken
    /// by the caller, while copying it, say). The payload starts at an even offset
    /// (the header is whole 32-bit words), so its sum adds to the header's as it is.
    #[inline]
    pub fn checksum_ok_with(&self, payload_sum: u16) -> bool {
        checksum::add16(self.header_sum, payload_sum) == 0xffff
    }
}

/// The body of [`parse_packet`] (`WHOLE`: the checksum verified over the whole
/// segment) and [`parse_packet_unchecked`] (the payload left unsummed).
#[inline(always)]
fn parse_datagram<const WHOLE: bool>(buf: &[u8]) -> Result<UncheckedPacket<'_>, WireError> {
    let first = *buf.first().ok_or(WireError::Truncated)?;
    // The pseudo-header's sum is taken here, where the family is known (RFC 9293 §3.1
    // for IPv4, RFC 8200 §8.1 for IPv6); a segment's length fits either length field,
    // being bounded by a 16-bit IP length.
    let (src, dst, hop_limit, segment, pseudo) = match first >> 4 {
        4 => {
            let (s, d, ttl, segment) = ipv4::parse_tcp_datagram(buf)?;
            let pseudo = u16::try_from(segment.len())
                .ok()
                .map(|len| checksum::pseudo_header_v4(s, d, ip_protocol::TCP, len).sum());
            (IpAddr::V4(s), IpAddr::V4(d), ttl, segment, pseudo)
        }
        6 => {
            let ip = Ipv6Packet::new_checked(buf)?;
            let (protocol, upper) =
                ipv6::walk_extension_headers(ip.next_header(), ip.into_payload())?;
            if protocol != ip_protocol::TCP {
                return Err(WireError::UnsupportedProtocol(protocol));
            }
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            let pseudo = u32::try_from(upper.len())
                .ok()
                .map(|len| checksum::pseudo_header_v6(s, d, ip_protocol::TCP, len).sum());
            (IpAddr::V6(s), IpAddr::V6(d), ip.hop_limit(), upper, pseudo)
        }
        version => return Err(WireError::UnsupportedIpVersion(version)),
    };
    let (fixed, options, payload, header_sum) = tcp::parse_tcp_parts::<WHOLE>(segment, pseudo)?;
    let packet = |options| UncheckedPacket {
        packet: ParsedPacket {
            src,
            dst,
            hop_limit,
            tcp: TcpRepr::from_fixed(fixed, options),
            payload,
        },
        header_sum,
    };
    // The usual option layouts (timestamps alone, on nearly every segment; a SYN's)
    // build the result where it is returned, each in a branch of its own: merged
    // with the general case, the options were built in scattered stack slots and
    // then copied field by field (measured: 25 more instructions a segment).
    if let Some(ts) = options::parse_timestamps_only(options) {
        return Ok(packet(TcpOptions {
            timestamps: Some(ts),
            ..TcpOptions::default()
        }));
    }
    if let Some(syn) = options::parse_syn_layout(options) {
        return Ok(packet(syn));
    }
    Ok(packet(TcpOptions::parse(options)?))
}

/// Length of the datagram [`emit_packet`] would write.
pub fn packet_len(ipv6: bool, tcp: &TcpRepr, payload_len: usize) -> usize {
    (if ipv6 {
        ipv6::HEADER_LEN
    } else {
        ipv4::HEADER_LEN
    }) + tcp.header_len()
        + payload_len
}

/// Write an IP datagram (IPv4 if both addresses are IPv4, IPv6 if both are IPv6) with
/// the TCP segment `tcp` + `payload` into `buf`; returns the number of bytes written,
/// [`packet_len`]. Only that prefix of `buf` is touched, and nothing is written on
/// error.
///
/// IPv4 (RFC 791): 20-byte header, DSCP/ECN 0, identification 0 with Don't Fragment
/// (RFC 6864 §4.1), TTL `hop_limit`, header checksum. IPv6 (RFC 8200): traffic class and
/// flow label 0, hop limit `hop_limit`, no extension headers. TCP: as [`emit_tcp`], with
/// the options laid out as [`TcpOptions::emit`] does and the checksum always computed
/// (RFC 9293 §3.1, MUST-2).
///
/// Errors: [`WireError::AddressFamilyMismatch`], [`WireError::TcpOptionsTooLong`],
/// [`WireError::PacketTooLarge`] (beyond the 16-bit IP length field),
/// [`WireError::BufferTooSmall`].
pub fn emit_packet(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpRepr,
    payload: &[u8],
) -> Result<usize, WireError> {
    // Summed from the caller's slice, before the copy (see `emit_packet_in_place_summed`).
    let sum = checksum::sum(payload);
    emit_datagram(buf, src, dst, hop_limit, tcp, Payload::Copy(payload, sum))
}

/// Where [`emit_packet_in_place`] expects the payload: this many bytes into the
/// datagram (the IP header plus the TCP header with its options).
#[inline]
pub fn payload_offset(ipv6: bool, tcp: &TcpRepr) -> usize {
    packet_len(ipv6, tcp, 0)
}

/// As [`emit_packet`], for a payload of `payload_len` bytes that the caller has
/// already written at [`payload_offset`] in `buf`: the headers go around it and the
/// checksum covers it, with no copy. Errors as [`emit_packet`]; nothing is written on
/// error.
pub fn emit_packet_in_place(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpRepr,
    payload_len: usize,
) -> Result<usize, WireError> {
    let payload = Payload::InPlace {
        len: payload_len,
        sum: None,
    };
    emit_datagram(buf, src, dst, hop_limit, tcp, payload)
}

/// As [`emit_packet_in_place`], with `payload_sum`, the payload's [`checksum::sum`],
/// already known: the sender takes it from its send buffer before copying, so that the
/// payload just written into `buf` is not read back at once (a read of fresh stores at
/// another alignment waits for them). Only the headers are summed here.
pub fn emit_packet_in_place_summed(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpRepr,
    payload_len: usize,
    payload_sum: u16,
) -> Result<usize, WireError> {
    if let (IpAddr::V4(s), IpAddr::V4(d), Some(timestamps)) = (src, dst, tcp.options.usual()) {
        return emit_usual_v4(
            buf,
            s,
            d,
            hop_limit,
            tcp,
            timestamps,
            payload_len,
            payload_sum,
        );
    }
    let payload = Payload::InPlace {
        len: payload_len,
        sum: Some(payload_sum),
    };
    emit_datagram(buf, src, dst, hop_limit, tcp, payload)
}

/// [`emit_packet_in_place_summed`] for what nearly every segment of a connection over
/// IPv4 is: no option but `timestamps` (if any). The same bytes as [`emit_datagram`]
/// writes, with its checks in its order, but the checksum is summed once from the
/// fields (pseudo-header, header, options and the payload's sum) and folded once, and
/// the option layout is not worked out.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // emit_packet_in_place_summed's, split
fn emit_usual_v4(
    buf: &mut [u8],
    src: core::net::Ipv4Addr,
    dst: core::net::Ipv4Addr,
    ttl: u8,
    tcp: &TcpRepr,
    timestamps: Option<Timestamps>,
    payload_len: usize,
    payload_sum: u16,
) -> Result<usize, WireError> {
    let options_len = if timestamps.is_some() { 12 } else { 0 };
    let header_len = tcp::HEADER_LEN + options_len;
    let segment_len = header_len + payload_len;
    let total = ipv4::HEADER_LEN + segment_len;
    let Ok(total_field) = u16::try_from(total) else {
        return Err(WireError::PacketTooLarge);
    };
    let out = buf.get_mut(..total).ok_or(WireError::BufferTooSmall)?;
    let (header, segment) = out
        .split_first_chunk_mut::<{ ipv4::HEADER_LEN }>()
        .ok_or(WireError::BufferTooSmall)?;
    let (fixed, rest) = segment
        .split_first_chunk_mut::<{ tcp::HEADER_LEN }>()
        .ok_or(WireError::BufferTooSmall)?;
    // The pseudo-header (RFC 9293 §3.1) with each address added as one 32-bit value
    // (the sum of its halves modulo 2^16 - 1), the header from its fields and the
    // payload's sum; nonzero (the protocol is), so its fold is what folding each part
    // first would give.
    let mut acc = u64::from(src.to_bits())
        + u64::from(dst.to_bits())
        + u64::from(ip_protocol::TCP)
        + segment_len as u64
        + tcp.fixed_sum(header_len)
        + u64::from(payload_sum);
    if let (Some(ts), Some(options)) = (timestamps, rest.first_chunk_mut::<12>()) {
        acc += options::emit_nop_nop_timestamps_summed(options, ts);
    }
    tcp::write_fixed(fixed, tcp, header_len, !checksum::fold(acc));
    ipv4::write_header(header, src, dst, ttl, ip_protocol::TCP, total_field);
    Ok(total)
}

/// The payload of a datagram [`emit_datagram`] writes.
#[derive(Clone, Copy)]
enum Payload<'a> {
    /// To be copied into the datagram; its [`checksum::sum`].
    Copy(&'a [u8], u16),
    /// Already in place, `len` bytes; its sum if the caller has it.
    InPlace { len: usize, sum: Option<u16> },
}

/// [`emit_packet`] (a payload to copy) and [`emit_packet_in_place`] and
/// [`emit_packet_in_place_summed`] (a payload in place). Every check comes first, in the documented order, so that nothing is
/// written on error: options length ([`WireError::TcpOptionsTooLong`]), address
/// families, datagram length ([`WireError::PacketTooLarge`]), buffer length. The
/// options' length is computed once, and the address family matched once.
#[inline(always)]
fn emit_datagram(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpRepr,
    payload: Payload<'_>,
) -> Result<usize, WireError> {
    let (payload_len, copy, payload_sum) = match payload {
        Payload::Copy(bytes, sum) => (bytes.len(), Some(bytes), Some(sum)),
        Payload::InPlace { len, sum } => (len, None, sum),
    };
    let options_len = tcp.options.wire_len();
    if options_len > options::MAX_OPTIONS_LEN {
        return Err(WireError::TcpOptionsTooLong(options_len));
    }
    let segment_len = tcp::HEADER_LEN + options_len + payload_len;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = ipv4::HEADER_LEN + segment_len;
            // The IPv4 total length bounds the pseudo-header's length too.
            let (Ok(total_field), Ok(segment_field)) =
                (u16::try_from(total), u16::try_from(segment_len))
            else {
                return Err(WireError::PacketTooLarge);
            };
            let out = buf.get_mut(..total).ok_or(WireError::BufferTooSmall)?;
            copy_payload(out, copy);
            let (header, segment) = out
                .split_first_chunk_mut::<{ ipv4::HEADER_LEN }>()
                .ok_or(WireError::BufferTooSmall)?;
            let pseudo = checksum::pseudo_header_v4(s, d, ip_protocol::TCP, segment_field);
            tcp::write_segment(segment, tcp, options_len, pseudo.sum(), payload_sum)?;
            ipv4::write_header(header, s, d, hop_limit, ip_protocol::TCP, total_field);
            Ok(total)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let Ok(segment_field) = u16::try_from(segment_len) else {
                return Err(WireError::PacketTooLarge);
            };
            let total = ipv6::HEADER_LEN + segment_len;
            let out = buf.get_mut(..total).ok_or(WireError::BufferTooSmall)?;
            copy_payload(out, copy);
            let (header, segment) = out.split_at_mut(ipv6::HEADER_LEN);
            let pseudo =
                checksum::pseudo_header_v6(s, d, ip_protocol::TCP, u32::from(segment_field));
            tcp::write_segment(segment, tcp, options_len, pseudo.sum(), payload_sum)?;
            ipv6::emit_header(header, s, d, hop_limit, ip_protocol::TCP, segment_len)?;
            Ok(total)
        }
        _ => Err(WireError::AddressFamilyMismatch),
    }
}

/// Copy `payload` (if any) to the end of the datagram `out`, where it belongs.
#[inline(always)]
fn copy_payload(out: &mut [u8], payload: Option<&[u8]>) {
    // The datagram is at least as long as the payload (checked by the caller).
    if let Some((dst, payload)) = payload.and_then(|p| {
        let at = out.len().checked_sub(p.len())?;
        Some((out.get_mut(at..)?, p))
    }) {
        dst.copy_from_slice(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
    const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
    const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

    fn repr() -> TcpRepr {
        TcpRepr {
            src_port: 1234,
            dst_port: 80,
            seq: 1,
            ack: 2,
            flags: TcpFlags::ACK,
            window: 1000,
            urgent: 0,
            options: TcpOptions {
                timestamps: Some(Timestamps { tsval: 5, tsecr: 6 }),
                ..Default::default()
            },
        }
    }

    fn packet(src: IpAddr, dst: IpAddr, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 2000];
        let n = emit_packet(&mut buf, src, dst, 64, &repr(), payload).unwrap();
        buf.truncate(n);
        buf
    }

    fn refill_ipv4_checksum(buf: &mut [u8]) {
        Ipv4Packet::new_unchecked(&mut buf[..20]).fill_checksum();
    }

    #[test]
    fn emitting_in_place_writes_the_same_datagram_as_emitting_a_copy() {
        let payload: Vec<u8> = (0..999u32).map(|i| (i * 13) as u8).collect();
        for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
            let copied = packet(src, dst, &payload);
            let mut buf = vec![0xa5u8; 2000];
            let at = payload_offset(src.is_ipv6(), &repr());
            buf[at..at + payload.len()].copy_from_slice(&payload);
            let n = emit_packet_in_place(&mut buf, src, dst, 64, &repr(), payload.len()).unwrap();
            assert_eq!(&buf[..n], &copied[..]);
            assert!(
                buf[n..].iter().all(|&b| b == 0xa5),
                "nothing past the datagram"
            );
        }
    }

    #[test]
    fn ipv4_round_trip() {
        let buf = packet(V4_SRC, V4_DST, b"payload");
        assert_eq!(buf.len(), packet_len(false, &repr(), 7));
        let p = parse_packet(&buf).unwrap();
        assert_eq!(
            p,
            ParsedPacket {
                src: V4_SRC,
                dst: V4_DST,
                hop_limit: 64,
                tcp: repr(),
                payload: b"payload"
            }
        );
        let ip = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(ip.dont_fragment());
        assert_eq!(ip.identification(), 0);
    }

    #[test]
    fn ipv6_round_trip() {
        let buf = packet(V6_SRC, V6_DST, b"payload");
        assert_eq!(buf.len(), packet_len(true, &repr(), 7));
        let p = parse_packet(&buf).unwrap();
        assert_eq!((p.src, p.dst, p.hop_limit), (V6_SRC, V6_DST, 64));
        assert_eq!(p.tcp, repr());
        assert_eq!(p.payload, b"payload");
    }

    #[test]
    fn empty_buffer_is_truncated() {
        assert_eq!(parse_packet(&[]), Err(WireError::Truncated));
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut buf = packet(V4_SRC, V4_DST, b"");
        buf[0] = 0x55;
        assert_eq!(parse_packet(&buf), Err(WireError::UnsupportedIpVersion(5)));
    }

    #[test]
    fn ipv4_bad_header_checksum_is_rejected() {
        let mut buf = packet(V4_SRC, V4_DST, b"");
        buf[8] = 1; // TTL
        assert_eq!(parse_packet(&buf), Err(WireError::Ipv4BadChecksum));
    }

    #[test]
    fn ipv4_fragment_is_rejected() {
        let mut buf = packet(V4_SRC, V4_DST, b"");
        buf[6] = 0x20; // MF
        refill_ipv4_checksum(&mut buf);
        assert_eq!(parse_packet(&buf), Err(WireError::Ipv4Fragment));
        buf[6] = 0x00;
        buf[7] = 0x01; // offset 8
        refill_ipv4_checksum(&mut buf);
        assert_eq!(parse_packet(&buf), Err(WireError::Ipv4Fragment));
    }

    #[test]
    fn ipv4_non_tcp_protocol_is_rejected() {
        let mut buf = packet(V4_SRC, V4_DST, b"");
        buf[9] = ip_protocol::UDP;
        refill_ipv4_checksum(&mut buf);
        assert_eq!(parse_packet(&buf), Err(WireError::UnsupportedProtocol(17)));
    }

    #[test]
    fn ipv4_lying_total_length_is_rejected() {
        let mut buf = packet(V4_SRC, V4_DST, b"abc");
        let too_long = buf.len() as u16 + 1;
        buf[2..4].copy_from_slice(&too_long.to_be_bytes());
        refill_ipv4_checksum(&mut buf);
        assert_eq!(
            parse_packet(&buf),
            Err(WireError::Ipv4BadTotalLength(too_long))
        );
    }

    #[test]
    fn ipv4_ethernet_padding_is_ignored() {
        let mut buf = packet(V4_SRC, V4_DST, b"");
        buf.extend_from_slice(&[0; 6]);
        assert_eq!(parse_packet(&buf).unwrap().payload, b"");
    }

    #[test]
    fn ipv6_non_tcp_next_header_is_rejected() {
        let mut buf = packet(V6_SRC, V6_DST, b"");
        buf[6] = ip_protocol::ICMPV6;
        assert_eq!(parse_packet(&buf), Err(WireError::UnsupportedProtocol(58)));
    }

    #[test]
    fn ipv6_fragment_header_is_rejected() {
        let mut buf = packet(V6_SRC, V6_DST, b"");
        buf[6] = ip_protocol::IPV6_FRAGMENT;
        assert_eq!(parse_packet(&buf), Err(WireError::Ipv6Fragment));
    }

    #[test]
    fn ipv6_lying_payload_length_is_rejected() {
        let mut buf = packet(V6_SRC, V6_DST, b"");
        let too_long = (buf.len() - 40) as u16 + 1;
        buf[4..6].copy_from_slice(&too_long.to_be_bytes());
        assert_eq!(
            parse_packet(&buf),
            Err(WireError::Ipv6BadPayloadLength(too_long))
        );
    }

    #[test]
    fn ipv6_destination_options_before_tcp_are_walked() {
        let plain = packet(V6_SRC, V6_DST, b"data");
        let segment = &plain[40..];
        let mut buf = plain[..40].to_vec();
        buf[6] = ip_protocol::IPV6_DEST_OPTS;
        buf[4..6].copy_from_slice(&((segment.len() + 8) as u16).to_be_bytes());
        buf.extend_from_slice(&[ip_protocol::TCP, 0, 1, 4, 0, 0, 0, 0]);
        buf.extend_from_slice(segment);
        let p = parse_packet(&buf).unwrap();
        assert_eq!(p.tcp, repr());
        assert_eq!(p.payload, b"data");
    }

    #[test]
    fn tcp_bad_checksum_is_rejected_over_both_families() {
        for (s, d) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
            let mut buf = packet(s, d, b"data");
            let last = buf.len() - 1;
            buf[last] ^= 1;
            assert_eq!(parse_packet(&buf), Err(WireError::TcpBadChecksum));
        }
    }

    #[test]
    fn mixed_address_families_are_rejected_on_emit() {
        let mut buf = [0u8; 200];
        assert_eq!(
            emit_packet(&mut buf, V4_SRC, V6_DST, 64, &repr(), b""),
            Err(WireError::AddressFamilyMismatch)
        );
        assert_eq!(
            emit_packet(&mut buf, V6_SRC, V4_DST, 64, &repr(), b""),
            Err(WireError::AddressFamilyMismatch)
        );
    }

    #[test]
    fn small_buffer_is_rejected_on_emit_without_writing() {
        for (s, d, v6) in [(V4_SRC, V4_DST, false), (V6_SRC, V6_DST, true)] {
            let need = packet_len(v6, &repr(), 10);
            let mut buf = vec![0x55u8; need - 1];
            assert_eq!(
                emit_packet(&mut buf, s, d, 64, &repr(), &[0; 10]),
                Err(WireError::BufferTooSmall)
            );
            assert!(buf.iter().all(|&b| b == 0x55));
        }
    }

    /// The summed in-place emitter, whose usual IPv4 header takes a path of its own,
    /// rejects what the others reject, in their order, and writes nothing then: with
    /// timestamps alone, with no option, and with other options.
    #[test]
    fn the_summed_in_place_emitter_rejects_small_buffers_and_oversized_payloads() {
        let mut none = repr();
        none.options = TcpOptions::default();
        let mut mss = repr();
        mss.options.mss = Some(1460);
        for tcp in [repr(), none, mss] {
            for (s, d, v6) in [(V4_SRC, V4_DST, false), (V6_SRC, V6_DST, true)] {
                let need = packet_len(v6, &tcp, 10);
                let mut buf = vec![0x55u8; need - 1];
                assert_eq!(
                    emit_packet_in_place_summed(&mut buf, s, d, 64, &tcp, 10, 0),
                    Err(WireError::BufferTooSmall)
                );
                assert!(buf.iter().all(|&b| b == 0x55));
                let mut buf = vec![0x55u8; 70_000];
                let max = 65_535 - tcp.header_len();
                assert_eq!(
                    emit_packet_in_place_summed(&mut buf, s, d, 64, &tcp, max + 1, 0),
                    Err(WireError::PacketTooLarge)
                );
                assert!(buf.iter().all(|&b| b == 0x55));
            }
            let mut buf = vec![0u8; 200];
            assert_eq!(
                emit_packet_in_place_summed(&mut buf, V4_SRC, V6_DST, 64, &tcp, 0, 0),
                Err(WireError::AddressFamilyMismatch)
            );
        }
    }

    #[test]
    fn oversized_payload_is_rejected_on_emit() {
        let payload = vec![0u8; 65_536];
        let mut buf = vec![0u8; 70_000];
        for (s, d) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
            assert_eq!(
                emit_packet(&mut buf, s, d, 64, &repr(), &payload),
                Err(WireError::PacketTooLarge)
            );
        }
        // The largest IPv6 payload still fits where IPv4 does not.
        let max = 65_535 - repr().header_len();
        assert!(emit_packet(&mut buf, V6_SRC, V6_DST, 1, &repr(), &payload[..max]).is_ok());
        assert_eq!(
            emit_packet(&mut buf, V4_SRC, V4_DST, 1, &repr(), &payload[..max]),
            Err(WireError::PacketTooLarge)
        );
    }
}
