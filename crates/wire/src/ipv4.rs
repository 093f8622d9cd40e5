//! A zero-copy view of an IPv4 datagram (RFC 791 §3.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |    DSCP   |ECN|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv4Addr;
use core::ops::Range;

use crate::{checksum, WireError};

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;
/// Longest IPv4 header (IHL = 15).
pub const MAX_HEADER_LEN: usize = 60;

const VER_IHL: usize = 0;
const TOS: usize = 1;
const TOTAL_LEN: Range<usize> = 2..4;
const IDENT: Range<usize> = 4..6;
const FLAGS_FRAG: Range<usize> = 6..8;
const TTL: usize = 8;
const PROTOCOL: usize = 9;
const CHECKSUM: Range<usize> = 10..12;
const SRC: Range<usize> = 12..16;
const DST: Range<usize> = 16..20;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 datagram in a byte buffer.
///
/// Made by [`Ipv4Packet::new_checked`], every accessor is safe to call: the header and
/// the total length have been checked against the buffer. Bytes after the total length
/// (e.g. Ethernet padding) are not part of the datagram and [`Ipv4Packet::payload`]
/// excludes them.
///
/// `new_checked` validates *structure* only. The semantic checks a TCP receiver makes
/// — [`Ipv4Packet::verify_checksum`], [`Ipv4Packet::is_fragment`], the protocol — are
/// separate methods, applied by [`crate::parse_packet`], so that tools can look at any
/// datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wrap a buffer without checking it.
    ///
    /// Meant for emission into a buffer the caller has sized (at least
    /// [`HEADER_LEN`] bytes, more for payload). Accessors panic if the buffer is too
    /// short for the field they read; use [`Ipv4Packet::new_checked`] for input.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wrap a buffer after checking (RFC 791 §3.1) that it holds a header of version 4
    /// with IHL ≥ 5, that the header fits, and that the total length covers the header
    /// and does not exceed the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The structural checks of [`Ipv4Packet::new_checked`].
    ///
    /// Errors: [`WireError::Truncated`] (the buffer ends inside the header),
    /// [`WireError::UnsupportedIpVersion`], [`WireError::Ipv4HeaderTooShort`] (IHL < 5),
    /// [`WireError::Ipv4BadTotalLength`] (total length below the header length or above
    /// the buffer length).
    pub fn check_len(&self) -> Result<(), WireError> {
        let buf = self.buffer.as_ref();
        let first = *buf.first().ok_or(WireError::Truncated)?;
        if first >> 4 != 4 {
            return Err(WireError::UnsupportedIpVersion(first >> 4));
        }
        if buf.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let ihl = first & 0x0f;
        if ihl < 5 {
            return Err(WireError::Ipv4HeaderTooShort(ihl));
        }
        let header_len = usize::from(ihl) * 4;
        if buf.len() < header_len {
            return Err(WireError::Truncated);
        }
        let total = self.total_len();
        if usize::from(total) < header_len || usize::from(total) > buf.len() {
            return Err(WireError::Ipv4BadTotalLength(total));
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, r: Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[r];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The version field (4 for a valid packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[VER_IHL] >> 4
    }

    /// The header length in bytes (IHL × 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[VER_IHL] & 0x0f) * 4
    }

    /// The Differentiated Services code point (RFC 2474), the upper 6 bits of the
    /// former type-of-service byte.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[TOS] >> 2
    }

    /// The ECN field (RFC 3168 §5), the lower 2 bits of the former type-of-service byte.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[TOS] & 0x03
    }

    /// The total length of the datagram, header included.
    pub fn total_len(&self) -> u16 {
        self.read_u16(TOTAL_LEN)
    }

    /// The identification field (RFC 791 §3.1, RFC 6864).
    pub fn identification(&self) -> u16 {
        self.read_u16(IDENT)
    }

    /// The Don't Fragment flag.
    pub fn dont_fragment(&self) -> bool {
        self.read_u16(FLAGS_FRAG) & FLAG_DF != 0
    }

    /// The More Fragments flag.
    pub fn more_fragments(&self) -> bool {
        self.read_u16(FLAGS_FRAG) & FLAG_MF != 0
    }

    /// The fragment offset in bytes (the field counts 8-byte units).
    pub fn fragment_offset(&self) -> u16 {
        (self.read_u16(FLAGS_FRAG) & FRAG_OFFSET_MASK) * 8
    }

    /// True if this datagram is a fragment of a larger one: More Fragments set or a
    /// non-zero offset (RFC 791 §3.2).
    pub fn is_fragment(&self) -> bool {
        self.read_u16(FLAGS_FRAG) & (FLAG_MF | FRAG_OFFSET_MASK) != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[TTL]
    }

    /// The protocol of the payload (6 for TCP).
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[PROTOCOL]
    }

    /// The header checksum field as found.
    pub fn checksum(&self) -> u16 {
        self.read_u16(CHECKSUM)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[SRC];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[DST];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The IP options (the header beyond its first 20 bytes); synack ignores them.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// True if the header checksum verifies (RFC 791 §3.1, RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        let buf = self.buffer.as_ref();
        let len = self.header_len();
        match buf.first_chunk::<HEADER_LEN>() {
            // The usual header, without options: summed as five words.
            Some(h) if len == HEADER_LEN => checksum::sum_words(h) == 0xffff,
            _ => checksum::sum(&buf[..len]) == 0xffff,
        }
    }

    /// The payload: from the end of the header to the total length (trailing bytes
    /// beyond the total length are excluded).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<'a> Ipv4Packet<&'a [u8]> {
    /// The payload with the lifetime of the underlying buffer.
    pub fn into_payload(self) -> &'a [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &self.buffer[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn write_u16(&mut self, r: Range<usize>, value: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the version to 4 and the header length (a multiple of 4 between 20 and 60;
    /// other values are rounded down and clamped).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let ihl = (header_len.clamp(HEADER_LEN, MAX_HEADER_LEN) / 4) as u8;
        self.buffer.as_mut()[VER_IHL] = 0x40 | ihl;
    }

    /// Set DSCP (6 bits) and ECN (2 bits).
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[TOS] = (dscp << 2) | (ecn & 0x03);
    }

    /// Set the total length.
    pub fn set_total_len(&mut self, value: u16) {
        self.write_u16(TOTAL_LEN, value);
    }

    /// Set the identification field.
    pub fn set_identification(&mut self, value: u16) {
        self.write_u16(IDENT, value);
    }

    /// Set the flags and the fragment offset (in bytes; must be a multiple of 8, the
    /// remainder is dropped).
    pub fn set_fragmentation(&mut self, dont_fragment: bool, more_fragments: bool, offset: u16) {
        let mut v = (offset / 8) & FRAG_OFFSET_MASK;
        if dont_fragment {
            v |= FLAG_DF;
        }
        if more_fragments {
            v |= FLAG_MF;
        }
        self.write_u16(FLAGS_FRAG, v);
    }

    /// Set the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[TTL] = value;
    }

    /// Set the protocol.
    pub fn set_protocol(&mut self, value: u8) {
        self.buffer.as_mut()[PROTOCOL] = value;
    }

    /// Set the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(CHECKSUM, value);
    }

    /// Set the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[SRC].copy_from_slice(&addr.octets());
    }

    /// Set the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[DST].copy_from_slice(&addr.octets());
    }

    /// Compute and write the header checksum (call after every other header field).
    ///
    /// Panics if the buffer is shorter than the IHL says, which only an unchecked view
    /// can be.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let len = self.header_len();
        let c = checksum::checksum(&self.buffer.as_ref()[..len]);
        self.set_checksum(c);
    }

    /// The payload, mutable (header length to total length).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// What [`crate::parse_packet`] needs of an IPv4 datagram carrying TCP: source,
/// destination, TTL and the payload (to the total length). The checks and their order
/// are those of [`Ipv4Packet::check_len`], [`Ipv4Packet::verify_checksum`],
/// [`Ipv4Packet::is_fragment`] and the protocol, made on the fixed header read once as
/// an array rather than field by field through the view.
///
/// Errors: [`WireError::Truncated`], [`WireError::UnsupportedIpVersion`],
/// [`WireError::Ipv4HeaderTooShort`], [`WireError::Ipv4BadTotalLength`],
/// [`WireError::Ipv4BadChecksum`], [`WireError::Ipv4Fragment`],
/// [`WireError::UnsupportedProtocol`].
#[inline(always)]
pub(crate) fn parse_tcp_datagram(buf: &[u8]) -> Result<(Ipv4Addr, Ipv4Addr, u8, &[u8]), WireError> {
    // RFC 791 §3.1.
    let first = *buf.first().ok_or(WireError::Truncated)?;
    if first >> 4 != 4 {
        return Err(WireError::UnsupportedIpVersion(first >> 4));
    }
    let h = buf
        .first_chunk::<HEADER_LEN>()
        .ok_or(WireError::Truncated)?;
    let ihl = first & 0x0f;
    if ihl < 5 {
        return Err(WireError::Ipv4HeaderTooShort(ihl));
    }
    let header_len = usize::from(ihl) * 4;
    let header = buf.get(..header_len).ok_or(WireError::Truncated)?;
    let total = u16::from_be_bytes([h[TOTAL_LEN.start], h[TOTAL_LEN.start + 1]]);
    let payload = buf
        .get(header_len..usize::from(total))
        .ok_or(WireError::Ipv4BadTotalLength(total))?;
    let sum = if header_len == HEADER_LEN {
        checksum::sum_words(h)
    } else {
        checksum::sum(header)
    };
    if sum != 0xffff {
        return Err(WireError::Ipv4BadChecksum);
    }
    let flags_frag = u16::from_be_bytes([h[FLAGS_FRAG.start], h[FLAGS_FRAG.start + 1]]);
    if flags_frag & (FLAG_MF | FRAG_OFFSET_MASK) != 0 {
        return Err(WireError::Ipv4Fragment);
    }
    if h[PROTOCOL] != crate::ip_protocol::TCP {
        return Err(WireError::UnsupportedProtocol(h[PROTOCOL]));
    }
    let addr = |at: usize| Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]);
    Ok((addr(SRC.start), addr(DST.start), h[TTL], payload))
}

/// Write a 20-byte IPv4 header for a datagram carrying `payload_len` bytes of
/// `protocol`: no options, DSCP/ECN 0, identification 0 with Don't Fragment set (an
/// atomic datagram, RFC 6864 §4.1), the given TTL, and the header checksum.
///
/// Errors: [`WireError::PacketTooLarge`] if the total length exceeds 65535,
/// [`WireError::BufferTooSmall`] if `buf` is shorter than the header.
pub fn emit_header(
    buf: &mut [u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    protocol: u8,
    payload_len: usize,
) -> Result<usize, WireError> {
    let total = u16::try_from(HEADER_LEN + payload_len).map_err(|_| WireError::PacketTooLarge)?;
    let header = buf
        .first_chunk_mut::<HEADER_LEN>()
        .ok_or(WireError::BufferTooSmall)?;
    write_header(header, src, dst, ttl, protocol, total);
    Ok(HEADER_LEN)
}

/// The header [`emit_header`] writes, for a datagram of `total` bytes: the checksum
/// summed from the fields (ten words, eight of them constant or the addresses, RFC
/// 1071 §2) rather than from bytes just written, and the header written as three
/// big-endian stores (8, 8 and 4 bytes).
#[inline(always)]
pub(crate) fn write_header(
    h: &mut [u8; HEADER_LEN],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    protocol: u8,
    total: u16,
) {
    // Version 4, IHL 5, DSCP/ECN 0; total length; identification 0 (an atomic
    // datagram, RFC 6864 §4.1); Don't Fragment, offset 0.
    let first = (u64::from(0x4500u16) << 48) | (u64::from(total) << 32) | u64::from(FLAG_DF);
    let ttl_protocol = u16::from_be_bytes([ttl, protocol]);
    // The addresses each add as one 32-bit value: the sum of their halves modulo
    // 2^16 - 1.
    let sum = 0x4500
        + u64::from(total)
        + u64::from(FLAG_DF)
        + u64::from(ttl_protocol)
        + u64::from(src.to_bits())
        + u64::from(dst.to_bits());
    let c = !checksum::fold(sum);
    let second = (u64::from(ttl_protocol) << 48) | (u64::from(c) << 32) | u64::from(src.to_bits());
    let (a, rest) = h.split_at_mut(8);
    let (b, d) = rest.split_at_mut(8);
    a.copy_from_slice(&first.to_be_bytes());
    b.copy_from_slice(&second.to_be_bytes());
    d.copy_from_slice(&dst.to_bits().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid header (with checksum) of the given total length, buffer that long.
    fn datagram(payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; HEADER_LEN + payload.len()];
        emit_header(
            &mut buf,
            Ipv4Addr::new(198, 18, 0, 1),
            Ipv4Addr::new(198, 18, 0, 2),
            64,
            6,
            payload.len(),
        )
        .unwrap();
        buf[HEADER_LEN..].copy_from_slice(payload);
        buf
    }

    fn refill(buf: &mut [u8]) {
        let len = usize::from(buf[0] & 0x0f) * 4;
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..len]);
        p.fill_checksum();
    }

    #[test]
    fn emitted_header_reads_back() {
        let buf = datagram(b"abc");
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 23);
        assert_eq!(p.identification(), 0);
        assert!(p.dont_fragment());
        assert!(!p.more_fragments());
        assert_eq!(p.fragment_offset(), 0);
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 6);
        assert_eq!(p.src_addr(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 18, 0, 2));
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), b"abc");
        assert_eq!(p.into_payload(), b"abc");
    }

    #[test]
    fn empty_buffer_is_truncated() {
        assert_eq!(Ipv4Packet::new_checked(&[][..]), Err(WireError::Truncated));
    }

    #[test]
    fn short_buffer_is_truncated() {
        let buf = datagram(b"");
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..19]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn version_other_than_4_is_rejected() {
        let mut buf = datagram(b"");
        buf[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..]),
            Err(WireError::UnsupportedIpVersion(6))
        );
    }

    #[test]
    fn ihl_below_5_is_rejected() {
        let mut buf = datagram(b"");
        buf[0] = 0x44;
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..]),
            Err(WireError::Ipv4HeaderTooShort(4))
        );
    }

    #[test]
    fn ihl_beyond_buffer_is_truncated() {
        let mut buf = datagram(b"");
        buf[0] = 0x46; // 24-byte header in a 20-byte buffer
        assert_eq!(Ipv4Packet::new_checked(&buf[..]), Err(WireError::Truncated));
    }

    #[test]
    fn total_length_below_header_is_rejected() {
        let mut buf = datagram(b"xyz");
        buf[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..]),
            Err(WireError::Ipv4BadTotalLength(19))
        );
    }

    #[test]
    fn total_length_beyond_buffer_is_rejected() {
        let mut buf = datagram(b"xyz");
        buf[2..4].copy_from_slice(&24u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..]),
            Err(WireError::Ipv4BadTotalLength(24))
        );
    }

    #[test]
    fn trailing_bytes_beyond_total_length_are_ignored() {
        let mut buf = datagram(b"xyz");
        buf.extend_from_slice(&[0; 20]); // Ethernet padding
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload(), b"xyz");
        assert!(p.verify_checksum());
    }

    #[test]
    fn header_options_are_skipped_and_covered_by_checksum() {
        let mut buf = datagram(b"");
        buf[0] = 0x46;
        buf.extend_from_slice(&[1, 1, 1, 0, b'p']); // NOP NOP NOP EOL + payload
        buf[2..4].copy_from_slice(&25u16.to_be_bytes());
        refill(&mut buf);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload(), b"p");
        buf[21] = 0; // corrupt an option byte
        assert!(!Ipv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[test]
    fn more_fragments_or_offset_marks_a_fragment() {
        let mut buf = datagram(b"");
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_fragmentation(false, true, 0);
        assert!(p.is_fragment());
        p.set_fragmentation(true, false, 1480);
        assert!(p.is_fragment());
        assert_eq!(p.fragment_offset(), 1480);
        p.set_fragmentation(true, false, 0);
        assert!(!p.is_fragment());
    }

    #[test]
    fn flipped_header_bit_fails_checksum() {
        let mut buf = datagram(b"");
        buf[8] ^= 0x01; // TTL
        assert!(!Ipv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[test]
    fn emit_header_checks_sizes() {
        let a = Ipv4Addr::LOCALHOST;
        assert_eq!(
            emit_header(&mut [0; 19], a, a, 1, 6, 0),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            emit_header(&mut [0; 20], a, a, 1, 6, 65_516),
            Err(WireError::PacketTooLarge)
        );
    }
}
