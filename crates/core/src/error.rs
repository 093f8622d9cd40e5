//! Errors an application call can return.

/// Why an application call on an [`crate::Endpoint`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The handle does not name a live connection or listener of this endpoint.
    #[error("invalid connection or listener handle")]
    InvalidHandle,
    /// Nothing can be done now (no data to read, no room to write, nothing to accept);
    /// try again after the next event.
    #[error("operation would block")]
    WouldBlock,
    /// The connection is not yet (or no longer) able to do this.
    #[error("not connected")]
    NotConnected,
    /// The peer answered our SYN with a RST (RFC 9293 §3.10.7.3).
    #[error("connection refused")]
    ConnectionRefused,
    /// The peer reset the connection (RFC 9293 §3.10.7.4).
    #[error("connection reset by peer")]
    ConnectionReset,
    /// Retransmissions reached R2, or keep-alive probes went unanswered (§3.8.3, §3.8.4).
    #[error("connection timed out")]
    TimedOut,
    /// The application closed this connection for sending (or aborted it).
    #[error("connection closed for sending")]
    BrokenPipe,
    /// The local address is already bound by a listener or connection.
    #[error("address in use")]
    AddrInUse,
    /// No local address or ephemeral port is available.
    #[error("address not available")]
    AddrNotAvailable,
    /// The endpoint holds [`crate::Config::max_connections`] connections already.
    #[error("too many connections")]
    ConnectionLimit,
    /// Buffer memory is at [`crate::Config::max_buffer_memory`]: nothing could be queued
    /// now; try again once data has been acknowledged or read.
    #[error("no buffer space available")]
    NoBufferSpace,
    /// An argument is invalid (e.g. mixing IPv4 and IPv6 addresses, port 0 to connect to).
    #[error("invalid argument")]
    InvalidInput,
}
