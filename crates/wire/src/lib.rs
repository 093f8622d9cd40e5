//! Wire formats for synack: IPv4, IPv6 and TCP.
//!
//! CONTRACT (used by the `synack` core; keep these names and signatures):
//! - [`parse_packet`] parses one IP datagram carrying TCP, validating every length and
//!   both checksums, and returns a [`ParsedPacket`] borrowing the payload.
//! - [`emit_packet`] writes an IP datagram carrying the given [`TcpRepr`] and payload
//!   into a caller's buffer, computing the checksums, and returns its length.
//! - [`TcpRepr`], [`TcpFlags`], [`TcpOptions`], [`Timestamps`], [`SackBlock`],
//!   [`SackList`] are plain data.

mod repr;
pub use repr::*;

use core::net::IpAddr;

/// Errors found while parsing or emitting a packet. Never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ended before a header did.
    #[error("truncated packet")]
    Truncated,
    /// The buffer given for emission is too small.
    #[error("buffer too small")]
    BufferTooSmall,
    /// Something else is wrong (placeholder until the wire module is written).
    #[error("malformed packet")]
    Malformed,
}

/// One parsed IP datagram carrying a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    pub tcp: TcpRepr,
    pub payload: &'a [u8],
}

/// Parse an IPv4 or IPv6 datagram carrying TCP; verifies the IPv4 header checksum and the
/// TCP checksum (pseudo-header included).
pub fn parse_packet(buf: &[u8]) -> Result<ParsedPacket<'_>, WireError> {
    let _ = buf;
    todo!("wire helper")
}

/// Length of the datagram [`emit_packet`] would write.
pub fn packet_len(ipv6: bool, tcp: &TcpRepr, payload_len: usize) -> usize {
    (if ipv6 { 40 } else { 20 }) + tcp.header_len() + payload_len
}

/// Write an IP datagram (IPv4 if both addresses are IPv4, IPv6 if both are IPv6) with the
/// TCP segment `tcp` + `payload` into `buf`; returns the number of bytes written.
pub fn emit_packet(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpRepr,
    payload: &[u8],
) -> Result<usize, WireError> {
    let _ = (buf, src, dst, hop_limit, tcp, payload);
    todo!("wire helper")
}
