//! A zero-copy view of a TCP segment (RFC 9293 §3.1), and the conversions between it
//! and [`TcpRepr`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! |       |       |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           [Options]                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Data                              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::IpAddr;
use core::ops::Range;

use crate::options::{TcpOptionIter, MAX_OPTIONS_LEN};
use crate::{checksum, ip_protocol, TcpFlags, TcpOptions, TcpRepr, WireError};

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = 20;
/// Longest TCP header (data offset 15).
pub const MAX_HEADER_LEN: usize = 60;

const SRC_PORT: Range<usize> = 0..2;
const DST_PORT: Range<usize> = 2..4;
const SEQ: Range<usize> = 4..8;
const ACK: Range<usize> = 8..12;
const OFFSET: usize = 12;
const FLAGS: usize = 13;
const WINDOW: Range<usize> = 14..16;
const CHECKSUM: Range<usize> = 16..18;
const URGENT: Range<usize> = 18..20;

/// A view of a TCP segment (header, options and data) in a byte buffer: the whole
/// buffer is the segment, as the IP layer delimits it.
///
/// Made by [`TcpSegment::new_checked`], every accessor is safe to call. The checksum
/// needs the IP addresses and is checked separately ([`TcpSegment::verify_checksum`]),
/// as are the options ([`TcpSegment::option_iter`], [`TcpRepr::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<T> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpSegment<T> {
    /// Wrap a buffer without checking it.
    ///
    /// Meant for emission into a buffer the caller has sized (at least
    /// [`HEADER_LEN`] bytes plus options and data). Accessors panic if the buffer is
    /// too short for the field they read; use [`TcpSegment::new_checked`] for input.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpSegment { buffer }
    }

    /// Wrap a buffer after checking (RFC 9293 §3.1) that the fixed header is present
    /// and that the data offset is at least 5 and within the segment.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let segment = Self::new_unchecked(buffer);
        segment.check_len()?;
        Ok(segment)
    }

    /// The structural checks of [`TcpSegment::new_checked`].
    ///
    /// Errors: [`WireError::Truncated`] (shorter than 20 bytes),
    /// [`WireError::TcpDataOffsetTooSmall`], [`WireError::TcpDataOffsetTooLarge`].
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let offset = self.data_offset();
        if offset < 5 {
            return Err(WireError::TcpDataOffsetTooSmall(offset));
        }
        if usize::from(offset) * 4 > len {
            return Err(WireError::TcpDataOffsetTooLarge(offset));
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

    fn read_u32(&self, r: Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[r];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.read_u16(SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.read_u16(DST_PORT)
    }

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        self.read_u32(SEQ)
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        self.read_u32(ACK)
    }

    /// Data offset: the header length in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[OFFSET] >> 4
    }

    /// Header length in bytes, options included (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// The four reserved bits between data offset and flags (RFC 9293 §3.1: must be
    /// zero when sent, ignored when received).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[OFFSET] & 0x0f
    }

    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[FLAGS])
    }

    /// Window.
    pub fn window(&self) -> u16 {
        self.read_u16(WINDOW)
    }

    /// The checksum field as found.
    pub fn checksum(&self) -> u16 {
        self.read_u16(CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        self.read_u16(URGENT)
    }

    /// The option bytes (from byte 20 to the data offset).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// Iterate over the options as they appear on the wire.
    pub fn option_iter(&self) -> TcpOptionIter<'_> {
        TcpOptionIter::new(self.options())
    }

    /// The data after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// True if the checksum verifies over the pseudo-header for `src` → `dst` and the
    /// whole segment (RFC 9293 §3.1, MUST-3). False if the address families differ.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let bytes = self.buffer.as_ref();
        match checksum::pseudo_header(src, dst, ip_protocol::TCP, bytes.len()) {
            Ok(mut c) => c.add_bytes(bytes).sum() == 0xffff,
            Err(_) => false,
        }
    }
}

impl<'a> TcpSegment<&'a [u8]> {
    /// The data after the header, with the lifetime of the underlying buffer.
    pub fn into_payload(self) -> &'a [u8] {
        let start = self.header_len();
        &self.buffer[start..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpSegment<T> {
    fn write_u16(&mut self, r: Range<usize>, value: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&value.to_be_bytes());
    }

    fn write_u32(&mut self, r: Range<usize>, value: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the source port.
    pub fn set_src_port(&mut self, value: u16) {
        self.write_u16(SRC_PORT, value);
    }

    /// Set the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        self.write_u16(DST_PORT, value);
    }

    /// Set the sequence number.
    pub fn set_seq(&mut self, value: u32) {
        self.write_u32(SEQ, value);
    }

    /// Set the acknowledgment number.
    pub fn set_ack(&mut self, value: u32) {
        self.write_u32(ACK, value);
    }

    /// Set the header length in bytes (a multiple of 4 between 20 and 60; other values
    /// are rounded down and clamped) and clear the reserved bits.
    pub fn set_header_len(&mut self, len: usize) {
        let words = (len.clamp(HEADER_LEN, MAX_HEADER_LEN) / 4) as u8;
        self.buffer.as_mut()[OFFSET] = words << 4;
    }

    /// Set the control bits.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        self.buffer.as_mut()[FLAGS] = flags.bits();
    }

    /// Set the window.
    pub fn set_window(&mut self, value: u16) {
        self.write_u16(WINDOW, value);
    }

    /// Set the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.write_u16(CHECKSUM, value);
    }

    /// Set the urgent pointer.
    pub fn set_urgent(&mut self, value: u16) {
        self.write_u16(URGENT, value);
    }

    /// The option bytes, mutable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// The data after the header, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Compute and write the checksum over the pseudo-header for `src` → `dst` and
    /// the whole segment (RFC 9293 §3.1, MUST-2). Call after everything else is written.
    ///
    /// Errors: [`WireError::AddressFamilyMismatch`], [`WireError::PacketTooLarge`] (a
    /// segment over IPv4 longer than 65535 bytes).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        let mut c = checksum::pseudo_header(src, dst, ip_protocol::TCP, len)?;
        self.set_checksum(0);
        let value = c.add_bytes(self.buffer.as_ref()).finish();
        self.set_checksum(value);
        Ok(())
    }
}

impl TcpRepr {
    /// Read the header fields and options out of a checked segment view. Does not
    /// verify the checksum (see [`TcpSegment::verify_checksum`], or use [`parse_tcp`]
    /// which does both). The reserved bits are ignored (RFC 9293 §3.1).
    ///
    /// Errors: the first malformed option ([`TcpOptions::parse`]).
    pub fn parse<T: AsRef<[u8]>>(segment: &TcpSegment<T>) -> Result<TcpRepr, WireError> {
        // The fixed header read as one array: one bounds check, not one per field.
        let h = segment
            .buffer
            .as_ref()
            .first_chunk::<HEADER_LEN>()
            .ok_or(WireError::Truncated)?;
        Ok(TcpRepr::from_fixed(
            h,
            TcpOptions::parse(segment.options())?,
        ))
    }

    /// The header from its fixed 20 bytes and its parsed options.
    #[inline]
    pub(crate) fn from_fixed(h: &[u8; HEADER_LEN], options: TcpOptions) -> TcpRepr {
        let u16_at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        TcpRepr {
            src_port: u16_at(SRC_PORT.start),
            dst_port: u16_at(DST_PORT.start),
            seq: u32_at(SEQ.start),
            ack: u32_at(ACK.start),
            flags: TcpFlags(h[FLAGS]),
            window: u16_at(WINDOW.start),
            urgent: u16_at(URGENT.start),
            options,
        }
    }

    /// Write this header (fields, data offset, options; reserved bits and checksum
    /// zero) at the start of `segment`'s buffer. The payload and the checksum are the
    /// caller's (see [`emit_tcp`], which does all of it).
    ///
    /// Errors: [`WireError::TcpOptionsTooLong`], [`WireError::BufferTooSmall`] if the
    /// buffer is shorter than [`TcpRepr::header_len`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        segment: &mut TcpSegment<T>,
    ) -> Result<(), WireError> {
        let options_len = self.options.wire_len();
        if options_len > MAX_OPTIONS_LEN {
            return Err(WireError::TcpOptionsTooLong(options_len));
        }
        let header_len = HEADER_LEN + options_len;
        let buf = segment
            .buffer
            .as_mut()
            .get_mut(..header_len)
            .ok_or(WireError::BufferTooSmall)?;
        let (fixed, options) = buf
            .split_first_chunk_mut::<HEADER_LEN>()
            .ok_or(WireError::BufferTooSmall)?;
        // CHECKSUM stays zero: the caller sums the segment with it so.
        write_fixed(fixed, self, header_len, 0);
        self.options.emit(options)?;
        Ok(())
    }

    /// The ones' complement sum (not folded) of the fixed header [`write_fixed`] writes
    /// for this header, its checksum field zero, from the fields: each 16-bit field
    /// and each half of a 32-bit one is a word (a 32-bit value added whole is the sum
    /// of its halves modulo `2^16 - 1`).
    #[inline(always)]
    pub(crate) fn fixed_sum(&self, header_len: usize) -> u64 {
        u64::from(self.src_port)
            + u64::from(self.dst_port)
            + u64::from(self.seq)
            + u64::from(self.ack)
            + u64::from(offset_and_flags(header_len, self.flags))
            + u64::from(self.window)
            + u64::from(self.urgent)
    }
}

/// The 16-bit word of data offset (header length in 32-bit words), reserved bits
/// (zero, RFC 9293 §3.1) and control bits.
#[inline(always)]
fn offset_and_flags(header_len: usize, flags: TcpFlags) -> u16 {
    (((header_len / 4) as u16) << 12) | u16::from(flags.bits())
}

/// Write the fixed header of `repr`, `header_len` bytes long with its options, and
/// `checksum`, as three big-endian stores (8, 8 and 4 bytes) rather than a field at a
/// time or through a copy of an array built on the stack.
#[inline(always)]
pub(crate) fn write_fixed(
    h: &mut [u8; HEADER_LEN],
    repr: &TcpRepr,
    header_len: usize,
    checksum: u16,
) {
    let ports_seq =
        (u64::from(repr.src_port) << 48) | (u64::from(repr.dst_port) << 32) | u64::from(repr.seq);
    let ack_offset_window = (u64::from(repr.ack) << 32)
        | (u64::from(offset_and_flags(header_len, repr.flags)) << 16)
        | u64::from(repr.window);
    let checksum_urgent = (u32::from(checksum) << 16) | u32::from(repr.urgent);
    let (a, rest) = h.split_at_mut(8);
    let (b, c) = rest.split_at_mut(8);
    a.copy_from_slice(&ports_seq.to_be_bytes());
    b.copy_from_slice(&ack_offset_window.to_be_bytes());
    c.copy_from_slice(&checksum_urgent.to_be_bytes());
}

/// Parse a TCP segment (the whole of `segment`) that travelled from `src` to `dst`:
/// check its structure, verify its checksum (RFC 9293 §3.1, MUST-3), parse its options.
/// Returns the header and the data.
///
/// Errors, in the order checked: [`WireError::Truncated`] (shorter than the fixed
/// header), [`WireError::TcpBadChecksum`] (also for mixed address families) — so that a
/// corrupted segment is reported as such rather than by whichever field the corruption
/// hit — then [`WireError::TcpDataOffsetTooSmall`], [`WireError::TcpDataOffsetTooLarge`]
/// and option errors.
pub fn parse_tcp(segment: &[u8], src: IpAddr, dst: IpAddr) -> Result<(TcpRepr, &[u8]), WireError> {
    // Mixed families or an over-long segment have no pseudo-header: a bad checksum.
    let pseudo = checksum::pseudo_header(src, dst, ip_protocol::TCP, segment.len()).ok();
    let (fixed, options, payload, _) = parse_tcp_parts::<true>(segment, pseudo.map(|c| c.sum()))?;
    Ok((
        TcpRepr::from_fixed(fixed, TcpOptions::parse(options)?),
        payload,
    ))
}

/// The length of the header nearly every segment of a connection has: the fixed
/// header and the timestamps option with two NOPs (RFC 7323 Appendix A).
const USUAL_HEADER_LEN: usize = HEADER_LEN + 12;

/// A checked segment's fixed header, option bytes and payload, and the sum of its
/// pseudo-header and header (options included) when the payload is still to be summed
/// ([`parse_tcp_parts`] with `WHOLE` false; 0 otherwise).
pub(crate) type TcpParts<'a> = (&'a [u8; HEADER_LEN], &'a [u8], &'a [u8], u16);

/// The checks of [`parse_tcp`] up to the options: the fixed header, the option bytes
/// and the payload, all borrowed. [`crate::parse_packet`] builds the header from them
/// where it returns it, so the parsed header is not copied from one `Result` into
/// another (a copy read back with wider loads than it was written with, which stalls).
/// `pseudo` is the pseudo-header's sum for this segment, computed by the caller for
/// its address family (`None`: there is none, and the checksum cannot verify).
///
/// With `WHOLE`, the checksum is verified over the whole segment first (RFC 9293
/// §3.1, MUST-3). Without, only the structure is checked and the sum of the
/// pseudo-header and header is returned: the caller must verify the payload's sum
/// against it ([`crate::UncheckedPacket`]) before it acts on the segment.
#[inline(always)]
pub(crate) fn parse_tcp_parts<const WHOLE: bool>(
    segment: &[u8],
    pseudo: Option<u16>,
) -> Result<TcpParts<'_>, WireError> {
    let (fixed, rest) = segment
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(WireError::Truncated)?;
    // RFC 9293 §3.1, MUST-3: the sum over pseudo-header and segment is all ones.
    let pseudo = match pseudo {
        Some(p) if !WHOLE || checksum::add16(p, checksum::sum(segment)) == 0xffff => p,
        _ => return Err(WireError::TcpBadChecksum),
    };
    // The structural checks of `TcpSegment::check_len`, in its order.
    let offset = fixed[OFFSET] >> 4;
    if offset < 5 {
        return Err(WireError::TcpDataOffsetTooSmall(offset));
    }
    let (options, payload) = rest
        .split_at_checked(usize::from(offset) * 4 - HEADER_LEN)
        .ok_or(WireError::TcpDataOffsetTooLarge(offset))?;
    let header_sum = if WHOLE {
        0
    } else {
        let header = segment.get(..HEADER_LEN + options.len()).unwrap_or(&[]);
        // The usual header (the timestamps option alone) summed in line, as whole
        // words; any other through the general loop.
        let sum = match <&[u8; USUAL_HEADER_LEN]>::try_from(header) {
            Ok(usual) => checksum::sum_words(usual),
            Err(_) => checksum::sum(header),
        };
        checksum::add16(pseudo, sum)
    };
    Ok((fixed, options, payload, header_sum))
}

/// Write the TCP segment `repr` + `payload` travelling from `src` to `dst` at the start
/// of `buf`, checksum computed (RFC 9293 §3.1, MUST-2); returns its length,
/// `repr.header_len() + payload.len()`. Nothing is written on error.
///
/// Errors: [`WireError::AddressFamilyMismatch`], [`WireError::TcpOptionsTooLong`],
/// [`WireError::PacketTooLarge`] (longer than the IPv4 pseudo-header can express),
/// [`WireError::BufferTooSmall`].
pub fn emit_tcp(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    repr: &TcpRepr,
    payload: &[u8],
) -> Result<usize, WireError> {
    let (len, options_len, pseudo) = check_emit(buf, src, dst, repr, payload.len())?;
    let segment = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
    // Summed from the caller's slice, before the copy (see
    // `crate::emit_packet_in_place_summed`).
    let sum = checksum::sum(payload);
    segment[len - payload.len()..].copy_from_slice(payload);
    write_segment(segment, repr, options_len, pseudo, Some(sum))
}

/// As [`emit_tcp`], for a payload of `payload_len` bytes that the caller has already
/// written where it belongs, at `buf[repr.header_len()..]`: the header goes before it
/// and the checksum covers it, with no copy (the sender's path, which peeks its send
/// buffer straight into the datagram). Errors as [`emit_tcp`]; nothing is written on
/// error.
pub fn emit_tcp_in_place(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    repr: &TcpRepr,
    payload_len: usize,
) -> Result<usize, WireError> {
    let (len, options_len, pseudo) = check_emit(buf, src, dst, repr, payload_len)?;
    let segment = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
    write_segment(segment, repr, options_len, pseudo, None)
}

/// Write the header of the segment that is the whole of `segment`, its payload
/// already in place after the header, with the checksum over the pseudo-header sum
/// `pseudo` and the segment (RFC 9293 §3.1, MUST-2); returns the segment's length.
/// `options_len` is `repr.options.wire_len()`, which the caller has checked against
/// [`MAX_OPTIONS_LEN`] (as it has the segment's length).
///
/// The header's part of the checksum is summed from `repr`'s fields and only the
/// payload is read: the header is written once, checksum included, and never read
/// back (reading back bytes just stored with wider loads stalls store-to-load
/// forwarding, and a header-only segment then needs no summing of bytes at all).
///
/// Errors: [`WireError::BufferTooSmall`] if `segment` is shorter than the header
/// (callers have checked).
pub(crate) fn write_segment(
    segment: &mut [u8],
    repr: &TcpRepr,
    options_len: usize,
    pseudo: u16,
    payload_sum: Option<u16>,
) -> Result<usize, WireError> {
    let len = segment.len();
    let header_len = HEADER_LEN + options_len;
    let (fixed, rest) = segment
        .split_first_chunk_mut::<HEADER_LEN>()
        .ok_or(WireError::BufferTooSmall)?;
    let (options, payload) = rest
        .split_at_mut_checked(options_len)
        .ok_or(WireError::BufferTooSmall)?;
    let options_sum = repr.options.emit_summed(options)?;
    // The payload starts at an even offset (the header is whole 32-bit words), so its
    // sum adds to the header's as it is (RFC 1071 §2).
    // `payload_sum`, when the caller has it, was taken before the payload was copied
    // here.
    let payload_sum = match payload_sum {
        Some(s) => s,
        None if payload.is_empty() => 0,
        None => checksum::sum(payload),
    };
    let total =
        u64::from(pseudo) + repr.fixed_sum(header_len) + options_sum + u64::from(payload_sum);
    write_fixed(fixed, repr, header_len, !checksum::fold(total));
    Ok(len)
}

/// The checks [`emit_tcp`] makes before writing anything: the segment's length and
/// its options' length, and the pseudo-header's sum (computed for the length check
/// anyway).
fn check_emit(
    buf: &[u8],
    src: IpAddr,
    dst: IpAddr,
    repr: &TcpRepr,
    payload_len: usize,
) -> Result<(usize, usize, u16), WireError> {
    let options_len = repr.options.wire_len();
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(WireError::AddressFamilyMismatch);
    }
    if options_len > MAX_OPTIONS_LEN {
        return Err(WireError::TcpOptionsTooLong(options_len));
    }
    let len = HEADER_LEN + options_len + payload_len;
    // The pseudo-header's length field: 16 bits over IPv4, 32 over IPv6.
    let pseudo = checksum::pseudo_header(src, dst, ip_protocol::TCP, len)?;
    if buf.len() < len {
        return Err(WireError::BufferTooSmall);
    }
    Ok((len, options_len, pseudo.sum()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SackBlock, Timestamps};
    use core::net::{Ipv4Addr, Ipv6Addr};

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));

    fn repr() -> TcpRepr {
        let mut options = TcpOptions {
            timestamps: Some(Timestamps { tsval: 7, tsecr: 9 }),
            ..Default::default()
        };
        options.sack.push(SackBlock {
            left: 100,
            right: 200,
        });
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 0xdeadbeef,
            ack: 0x01020304,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 65535,
            urgent: 0,
            options,
        }
    }

    fn segment(repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 100 + payload.len()];
        let n = emit_tcp(&mut buf, SRC, DST, repr, payload).unwrap();
        buf.truncate(n);
        buf
    }

    /// Change header bytes with `f`, then recompute the checksum so only `f`'s defect
    /// remains.
    fn tamper(buf: &mut [u8], f: impl FnOnce(&mut [u8])) {
        f(buf);
        let mut seg = TcpSegment::new_unchecked(buf);
        seg.fill_checksum(SRC, DST).unwrap();
    }

    #[test]
    fn emitted_segment_reads_back() {
        let r = repr();
        let buf = segment(&r, b"hello");
        assert_eq!(buf.len(), r.header_len() + 5);
        let seg = TcpSegment::new_checked(&buf[..]).unwrap();
        assert_eq!(seg.src_port(), 40000);
        assert_eq!(seg.dst_port(), 80);
        assert_eq!(seg.seq(), 0xdeadbeef);
        assert_eq!(seg.ack(), 0x01020304);
        assert_eq!(seg.header_len(), r.header_len());
        assert_eq!(seg.reserved(), 0);
        assert_eq!(seg.flags(), TcpFlags::ACK | TcpFlags::PSH);
        assert_eq!(seg.window(), 65535);
        assert_eq!(seg.urgent(), 0);
        assert!(seg.verify_checksum(SRC, DST));
        assert_eq!(seg.payload(), b"hello");
        assert_eq!(parse_tcp(&buf, SRC, DST), Ok((r, &b"hello"[..])));
    }

    #[test]
    fn short_segment_is_truncated() {
        let buf = segment(&TcpRepr::default(), b"");
        assert_eq!(parse_tcp(&buf[..19], SRC, DST), Err(WireError::Truncated));
    }

    #[test]
    fn data_offset_below_5_is_rejected() {
        let mut buf = segment(&TcpRepr::default(), b"abcd");
        tamper(&mut buf, |b| b[12] = 4 << 4);
        assert_eq!(
            parse_tcp(&buf, SRC, DST),
            Err(WireError::TcpDataOffsetTooSmall(4))
        );
    }

    #[test]
    fn data_offset_past_segment_is_rejected() {
        let mut buf = segment(&TcpRepr::default(), b"abc");
        tamper(&mut buf, |b| b[12] = 6 << 4); // 24 > 23 bytes
        assert_eq!(
            parse_tcp(&buf, SRC, DST),
            Err(WireError::TcpDataOffsetTooLarge(6))
        );
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut buf = segment(&repr(), b"x");
        let last = buf.len() - 1;
        buf[last] ^= 0x80;
        assert_eq!(parse_tcp(&buf, SRC, DST), Err(WireError::TcpBadChecksum));
    }

    #[test]
    fn checksum_covers_the_pseudo_header() {
        let buf = segment(&repr(), b"x");
        let other = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 3));
        assert_eq!(parse_tcp(&buf, SRC, other), Err(WireError::TcpBadChecksum));
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(parse_tcp(&buf, SRC, v6), Err(WireError::TcpBadChecksum));
    }

    #[test]
    fn malformed_option_is_rejected_after_checksum() {
        let r = TcpRepr {
            options: TcpOptions {
                mss: Some(1460),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut buf = segment(&r, b"");
        tamper(&mut buf, |b| b[21] = 5); // MSS length 5
        assert_eq!(
            parse_tcp(&buf, SRC, DST),
            Err(WireError::TcpOptionBadLength { kind: 2, len: 5 })
        );
    }

    #[test]
    fn reserved_bits_are_ignored_on_receive() {
        let mut buf = segment(&repr(), b"");
        tamper(&mut buf, |b| b[12] |= 0x0f);
        assert_eq!(parse_tcp(&buf, SRC, DST).unwrap().0, repr());
    }

    #[test]
    fn emit_rejects_mixed_families_and_small_buffers_without_writing() {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let mut buf = [0xaau8; 100];
        assert_eq!(
            emit_tcp(&mut buf, SRC, v6, &repr(), b""),
            Err(WireError::AddressFamilyMismatch)
        );
        let need = repr().header_len() + 3;
        assert_eq!(
            emit_tcp(&mut buf[..need - 1], SRC, DST, &repr(), b"abc"),
            Err(WireError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn emit_rejects_options_over_40_bytes() {
        let mut r = repr();
        for i in 0..3 {
            r.options.sack.push(SackBlock {
                left: i,
                right: i + 1,
            });
        }
        assert_eq!(
            emit_tcp(&mut [0; 200], SRC, DST, &r, b""),
            Err(WireError::TcpOptionsTooLong(48))
        );
    }

    #[test]
    fn setters_write_what_getters_read() {
        let mut buf = [0u8; 24];
        let mut seg = TcpSegment::new_unchecked(&mut buf[..]);
        seg.set_header_len(24);
        seg.set_src_port(1);
        seg.set_dst_port(2);
        seg.set_seq(3);
        seg.set_ack(4);
        seg.set_flags(TcpFlags::SYN);
        seg.set_window(5);
        seg.set_urgent(6);
        seg.options_mut().copy_from_slice(&[2, 4, 0, 7]);
        seg.fill_checksum(SRC, DST).unwrap();
        let (r, payload) = parse_tcp(&buf, SRC, DST).unwrap();
        assert_eq!(
            (r.src_port, r.dst_port, r.seq, r.ack, r.window, r.urgent),
            (1, 2, 3, 4, 5, 6)
        );
        assert_eq!(r.flags, TcpFlags::SYN);
        assert_eq!(r.options.mss, Some(7));
        assert!(payload.is_empty());
    }
}
