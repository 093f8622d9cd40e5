//! The one error type of this crate.

/// Everything that can be wrong with a packet being parsed or emitted.
///
/// Parsing never panics: every defect of the input maps to one of these variants, each
/// naming the rule that was broken so that a trace or a counter can say *why* a packet
/// was dropped. New variants may be added, hence `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ended before a header (or an IPv6 extension header) did.
    #[error("truncated packet")]
    Truncated,
    /// The buffer given for emission is too small for the packet.
    #[error("buffer too small")]
    BufferTooSmall,

    /// The IP version nibble is neither 4 nor 6 (or not the one a view expects).
    #[error("unsupported IP version {0}")]
    UnsupportedIpVersion(u8),
    /// The IPv4 IHL field (header length in 32-bit words) is below 5
    /// (RFC 791 §3.1).
    #[error("IPv4 header length of {0} words is below the minimum of 5")]
    Ipv4HeaderTooShort(u8),
    /// The IPv4 total length is smaller than the header or larger than the bytes
    /// received (RFC 791 §3.1).
    #[error("IPv4 total length {0} does not fit the header and the buffer")]
    Ipv4BadTotalLength(u16),
    /// The IPv4 header checksum does not verify (RFC 791 §3.1, RFC 1071).
    #[error("bad IPv4 header checksum")]
    Ipv4BadChecksum,
    /// The IPv4 datagram is a fragment (MF set or offset non-zero); synack does not
    /// reassemble (RFC 791 §3.2).
    #[error("IPv4 fragment (reassembly is not supported)")]
    Ipv4Fragment,
    /// The IPv6 payload length claims more bytes than were received (RFC 8200 §3).
    #[error("IPv6 payload length {0} exceeds the buffer")]
    Ipv6BadPayloadLength(u16),
    /// The IPv6 packet carries a Fragment header (RFC 8200 §4.5); synack does not
    /// reassemble.
    #[error("IPv6 fragment (reassembly is not supported)")]
    Ipv6Fragment,
    /// A Hop-by-Hop Options header appears somewhere other than right after the IPv6
    /// header (RFC 8200 §4.1).
    #[error("IPv6 hop-by-hop options header not first")]
    Ipv6HopByHopNotFirst,
    /// A Routing header with a non-zero Segments Left: this host is not the final
    /// destination and does not forward (RFC 8200 §4.4).
    #[error("IPv6 routing header with {0} segments left")]
    Ipv6RoutingSegmentsLeft(u8),
    /// An IPv6 Hop-by-Hop or Destination option whose type says "discard if not
    /// recognised" (RFC 8200 §4.2), e.g. a Jumbo Payload.
    #[error("unrecognised IPv6 option type {0:#04x}")]
    Ipv6UnrecognizedOption(u8),
    /// An IPv6 Hop-by-Hop or Destination option that runs past its header
    /// (RFC 8200 §4.2).
    #[error("malformed IPv6 option")]
    Ipv6BadOption,
    /// The IP protocol (IPv4) or next header (IPv6) is neither TCP nor an extension
    /// header synack walks.
    #[error("IP protocol {0} is not TCP")]
    UnsupportedProtocol(u8),

    /// The TCP data offset is below 5 words (RFC 9293 §3.1).
    #[error("TCP data offset {0} is below the minimum of 5")]
    TcpDataOffsetTooSmall(u8),
    /// The TCP data offset points past the end of the segment (RFC 9293 §3.1).
    #[error("TCP data offset {0} exceeds the segment")]
    TcpDataOffsetTooLarge(u8),
    /// The TCP checksum (pseudo-header included) does not verify (RFC 9293 §3.1,
    /// MUST-3).
    #[error("bad TCP checksum")]
    TcpBadChecksum,
    /// A TCP option has a length byte of 0 or 1, or a known option has a length other
    /// than its fixed one (RFC 9293 §3.2, MUST-7).
    #[error("TCP option kind {kind} has invalid length {len}")]
    TcpOptionBadLength {
        /// The option kind.
        kind: u8,
        /// The length byte found.
        len: u8,
    },
    /// A TCP option (or its length byte) runs past the end of the header
    /// (RFC 9293 §3.2, MUST-7).
    #[error("TCP option kind {kind} runs past the end of the header")]
    TcpOptionTruncated {
        /// The option kind.
        kind: u8,
    },

    /// The source and destination addresses given for emission are not of the same
    /// family.
    #[error("source and destination address families differ")]
    AddressFamilyMismatch,
    /// The options to emit need more than the 40 bytes a TCP header has room for
    /// (RFC 9293 §3.1); the value is the bytes they would need.
    #[error("TCP options need {0} bytes, more than the 40 available")]
    TcpOptionsTooLong(usize),
    /// The datagram to emit is longer than the IP length field can express.
    #[error("packet too large for the IP length field")]
    PacketTooLarge,
}
