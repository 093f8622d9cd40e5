//! A zero-copy view of an IPv6 packet (RFC 8200 §3) and the walk over its extension
//! headers (RFC 8200 §4).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Source Address (128 bits)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Destination Address (128 bits)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv6Addr;
use core::ops::Range;

use crate::{ip_protocol, WireError};

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

const VER_TC_FLOW: Range<usize> = 0..4;
const PAYLOAD_LEN: Range<usize> = 4..6;
const NEXT_HEADER: usize = 6;
const HOP_LIMIT: usize = 7;
const SRC: Range<usize> = 8..24;
const DST: Range<usize> = 24..40;

/// A view of an IPv6 packet in a byte buffer.
///
/// Made by [`Ipv6Packet::new_checked`], every accessor is safe to call: the fixed
/// header is present and the payload length fits the buffer. Bytes after the payload
/// length are not part of the packet. Extension headers are walked by
/// [`Ipv6Packet::upper_layer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wrap a buffer without checking it.
    ///
    /// Meant for emission into a buffer the caller has sized (at least
    /// [`HEADER_LEN`] bytes, more for payload). Accessors panic if the buffer is too
    /// short for the field they read; use [`Ipv6Packet::new_checked`] for input.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wrap a buffer after checking (RFC 8200 §3) that it holds a version-6 header and
    /// that the payload length does not exceed the bytes after it.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The structural checks of [`Ipv6Packet::new_checked`].
    ///
    /// Errors: [`WireError::Truncated`] (shorter than 40 bytes),
    /// [`WireError::UnsupportedIpVersion`], [`WireError::Ipv6BadPayloadLength`].
    pub fn check_len(&self) -> Result<(), WireError> {
        let buf = self.buffer.as_ref();
        let first = *buf.first().ok_or(WireError::Truncated)?;
        if first >> 4 != 6 {
            return Err(WireError::UnsupportedIpVersion(first >> 4));
        }
        if buf.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let payload_len = self.payload_len();
        if HEADER_LEN + usize::from(payload_len) > buf.len() {
            return Err(WireError::Ipv6BadPayloadLength(payload_len));
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn first_word(&self) -> u32 {
        let b = &self.buffer.as_ref()[VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The version field (6 for a valid packet).
    pub fn version(&self) -> u8 {
        (self.first_word() >> 28) as u8
    }

    /// The traffic class (DSCP and ECN, RFC 2474 / RFC 3168).
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// The 20-bit flow label (RFC 6437).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & 0x000f_ffff
    }

    /// The payload length: bytes after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[PAYLOAD_LEN];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The type of the header after the fixed header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[NEXT_HEADER]
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[SRC]);
        Ipv6Addr::from(a)
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[DST]);
        Ipv6Addr::from(a)
    }

    /// The payload (extension headers and upper-layer data), `payload_len` bytes.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }

    /// Walk the extension headers to the upper-layer header; see
    /// [`walk_extension_headers`]. Returns its protocol number and the bytes from it
    /// to the end of the payload.
    pub fn upper_layer(&self) -> Result<(u8, &[u8]), WireError> {
        walk_extension_headers(self.next_header(), self.payload())
    }
}

impl<'a> Ipv6Packet<&'a [u8]> {
    /// The payload with the lifetime of the underlying buffer.
    pub fn into_payload(self) -> &'a [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &self.buffer[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Set version 6, the traffic class and the flow label (its upper 12 bits are
    /// dropped).
    pub fn set_version_class_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let word = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        self.buffer.as_mut()[VER_TC_FLOW].copy_from_slice(&word.to_be_bytes());
    }

    /// Set the payload length.
    pub fn set_payload_len(&mut self, value: u16) {
        self.buffer.as_mut()[PAYLOAD_LEN].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the next header.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[NEXT_HEADER] = value;
    }

    /// Set the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[HOP_LIMIT] = value;
    }

    /// Set the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[SRC].copy_from_slice(&addr.octets());
    }

    /// Set the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[DST].copy_from_slice(&addr.octets());
    }

    /// The payload, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// Walk IPv6 extension headers from `next_header` over `payload` (the bytes after the
/// fixed header) to the first header that is not one synack steps over, and return its
/// protocol number and the bytes from there on.
///
/// Stepped over, each by its Hdr Ext Len ((n + 1) × 8 bytes):
/// - Hop-by-Hop Options (0), only as the first header (RFC 8200 §4.1, §4.3);
/// - Routing (43), only with Segments Left = 0, i.e. when this host is the final
///   destination (RFC 8200 §4.4);
/// - Destination Options (60) (RFC 8200 §4.6).
///
/// The options inside Hop-by-Hop and Destination Options headers are walked too: Pad1,
/// PadN and any option whose type says "skip if unrecognised" are skipped; any other
/// option (e.g. Jumbo Payload, which synack does not support) rejects the packet as
/// RFC 8200 §4.2 requires.
///
/// Errors: [`WireError::Truncated`] (a header runs past the payload),
/// [`WireError::Ipv6Fragment`] (next header 44), [`WireError::Ipv6HopByHopNotFirst`],
/// [`WireError::Ipv6RoutingSegmentsLeft`], [`WireError::Ipv6UnrecognizedOption`],
/// [`WireError::Ipv6BadOption`].
pub fn walk_extension_headers(
    mut next_header: u8,
    mut payload: &[u8],
) -> Result<(u8, &[u8]), WireError> {
    let mut first = true;
    loop {
        match next_header {
            ip_protocol::IPV6_HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTS => {
                if next_header == ip_protocol::IPV6_HOP_BY_HOP && !first {
                    return Err(WireError::Ipv6HopByHopNotFirst);
                }
                if payload.len() < 8 {
                    return Err(WireError::Truncated);
                }
                let len = (usize::from(payload[1]) + 1) * 8;
                let header = payload.get(..len).ok_or(WireError::Truncated)?;
                match next_header {
                    ip_protocol::IPV6_ROUTING => {
                        let segments_left = header[3];
                        if segments_left != 0 {
                            return Err(WireError::Ipv6RoutingSegmentsLeft(segments_left));
                        }
                    }
                    _ => check_options(&header[2..])?,
                }
                next_header = header[0];
                payload = &payload[len..];
            }
            ip_protocol::IPV6_FRAGMENT => return Err(WireError::Ipv6Fragment),
            other => return Ok((other, payload)),
        }
        first = false;
    }
}

/// Check the TLV-encoded options of a Hop-by-Hop or Destination Options header
/// (RFC 8200 §4.2).
fn check_options(mut opts: &[u8]) -> Result<(), WireError> {
    const PAD1: u8 = 0;
    const PADN: u8 = 1;
    while let Some(&kind) = opts.first() {
        if kind == PAD1 {
            opts = &opts[1..];
            continue;
        }
        let len = usize::from(*opts.get(1).ok_or(WireError::Ipv6BadOption)?);
        let total = 2 + len;
        if total > opts.len() {
            return Err(WireError::Ipv6BadOption);
        }
        // The two high-order bits of the type say what to do when it is not
        // recognised: 00 skip, anything else discard (RFC 8200 §4.2).
        if kind != PADN && kind >> 6 != 0 {
            return Err(WireError::Ipv6UnrecognizedOption(kind));
        }
        opts = &opts[total..];
    }
    Ok(())
}

/// Write a 40-byte IPv6 header for a packet carrying `payload_len` bytes of
/// `next_header`: traffic class and flow label 0, the given hop limit.
///
/// Errors: [`WireError::PacketTooLarge`] if `payload_len` exceeds 65535 (jumbograms
/// are not supported), [`WireError::BufferTooSmall`] if `buf` is shorter than the
/// header.
pub fn emit_header(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    next_header: u8,
    payload_len: usize,
) -> Result<usize, WireError> {
    let len = u16::try_from(payload_len).map_err(|_| WireError::PacketTooLarge)?;
    let header = buf.get_mut(..HEADER_LEN).ok_or(WireError::BufferTooSmall)?;
    let mut p = Ipv6Packet::new_unchecked(header);
    p.set_version_class_flow(0, 0);
    p.set_payload_len(len);
    p.set_next_header(next_header);
    p.set_hop_limit(hop_limit);
    p.set_src_addr(src);
    p.set_dst_addr(dst);
    Ok(HEADER_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: u8 = ip_protocol::TCP;

    fn packet(next_header: u8, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; HEADER_LEN + payload.len()];
        emit_header(
            &mut buf,
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            64,
            next_header,
            payload.len(),
        )
        .unwrap();
        buf[HEADER_LEN..].copy_from_slice(payload);
        buf
    }

    /// An 8-byte extension header with the given next header and bytes 2..8.
    fn ext(next: u8, rest: [u8; 6]) -> [u8; 8] {
        [
            next, 0, rest[0], rest[1], rest[2], rest[3], rest[4], rest[5],
        ]
    }

    #[test]
    fn emitted_header_reads_back() {
        let mut buf = packet(TCP, b"data");
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        p.set_version_class_flow(0xb8, 0x12345);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 4);
        assert_eq!(p.next_header(), TCP);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload(), b"data");
        assert_eq!(p.upper_layer(), Ok((TCP, &b"data"[..])));
        assert_eq!(p.into_payload(), b"data");
    }

    #[test]
    fn short_buffer_is_truncated() {
        let buf = packet(TCP, b"");
        assert_eq!(
            Ipv6Packet::new_checked(&buf[..39]),
            Err(WireError::Truncated)
        );
        assert_eq!(Ipv6Packet::new_checked(&[][..]), Err(WireError::Truncated));
    }

    #[test]
    fn version_other_than_6_is_rejected() {
        let mut buf = packet(TCP, b"");
        buf[0] = 0x40;
        assert_eq!(
            Ipv6Packet::new_checked(&buf[..]),
            Err(WireError::UnsupportedIpVersion(4))
        );
    }

    #[test]
    fn payload_length_beyond_buffer_is_rejected() {
        let mut buf = packet(TCP, b"abc");
        buf[4..6].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(
            Ipv6Packet::new_checked(&buf[..]),
            Err(WireError::Ipv6BadPayloadLength(4))
        );
    }

    #[test]
    fn trailing_bytes_beyond_payload_length_are_ignored() {
        let mut buf = packet(TCP, b"abc");
        buf.extend_from_slice(&[0xee; 7]);
        assert_eq!(Ipv6Packet::new_checked(&buf[..]).unwrap().payload(), b"abc");
    }

    #[test]
    fn hop_by_hop_routing_and_destination_options_are_walked() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&ext(ip_protocol::IPV6_ROUTING, [1, 4, 0, 0, 0, 0])); // HBH: PadN(4)
        payload.extend_from_slice(&ext(ip_protocol::IPV6_DEST_OPTS, [0, 0, 0, 0, 0, 0])); // routing, segments left 0
        let mut dest = vec![TCP, 1, 0, 0, 0, 0, 0, 0];
        dest.extend_from_slice(&[5, 2, 0, 0, 1, 2, 0, 0]); // router alert (skip), PadN(2)
        payload.extend_from_slice(&dest);
        payload.extend_from_slice(b"tcp");
        let buf = packet(ip_protocol::IPV6_HOP_BY_HOP, &payload);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Ok((TCP, &b"tcp"[..])));
    }

    #[test]
    fn fragment_header_is_rejected() {
        let buf = packet(ip_protocol::IPV6_FRAGMENT, &ext(TCP, [0; 6]));
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6Fragment));
    }

    #[test]
    fn fragment_header_after_destination_options_is_rejected() {
        let mut payload = ext(ip_protocol::IPV6_FRAGMENT, [1, 4, 0, 0, 0, 0]).to_vec();
        payload.extend_from_slice(&ext(TCP, [0; 6]));
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &payload);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6Fragment));
    }

    #[test]
    fn other_next_header_is_returned_for_the_caller_to_reject() {
        let buf = packet(ip_protocol::IPV6_NO_NEXT_HEADER, b"");
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(
            p.upper_layer(),
            Ok((ip_protocol::IPV6_NO_NEXT_HEADER, &b""[..]))
        );
    }

    #[test]
    fn extension_header_running_past_payload_is_truncated() {
        let mut h = ext(TCP, [1, 4, 0, 0, 0, 0]);
        h[1] = 1; // claims 16 bytes
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &h);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Truncated));
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &h[..4]);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Truncated));
    }

    #[test]
    fn hop_by_hop_not_first_is_rejected() {
        let mut payload = ext(ip_protocol::IPV6_HOP_BY_HOP, [1, 4, 0, 0, 0, 0]).to_vec();
        payload.extend_from_slice(&ext(TCP, [1, 4, 0, 0, 0, 0]));
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &payload);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6HopByHopNotFirst));
    }

    #[test]
    fn routing_header_with_segments_left_is_rejected() {
        let buf = packet(ip_protocol::IPV6_ROUTING, &ext(TCP, [4, 2, 0, 0, 0, 0]));
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6RoutingSegmentsLeft(2)));
    }

    #[test]
    fn jumbo_payload_option_is_rejected_as_unrecognised() {
        let buf = packet(
            ip_protocol::IPV6_HOP_BY_HOP,
            &ext(TCP, [0xc2, 4, 0, 1, 0, 0]),
        );
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(
            p.upper_layer(),
            Err(WireError::Ipv6UnrecognizedOption(0xc2))
        );
    }

    #[test]
    fn option_running_past_its_header_is_rejected() {
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &ext(TCP, [1, 5, 0, 0, 0, 0]));
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6BadOption));
        let buf = packet(ip_protocol::IPV6_DEST_OPTS, &ext(TCP, [0, 0, 0, 0, 0, 1]));
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(WireError::Ipv6BadOption));
    }

    #[test]
    fn emit_header_checks_sizes() {
        let a = Ipv6Addr::LOCALHOST;
        assert_eq!(
            emit_header(&mut [0; 39], a, a, 1, TCP, 0),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            emit_header(&mut [0; 40], a, a, 1, TCP, 65_536),
            Err(WireError::PacketTooLarge)
        );
    }
}
