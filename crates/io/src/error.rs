//! How the core's errors become the `std::io::Error`s a Rust programmer expects.

use std::io::{Error, ErrorKind};

/// The `io::Error` for a failed call on the sans-IO endpoint.
///
/// | `synack::Error` | `io::ErrorKind` |
/// |---|---|
/// | `ConnectionRefused` (a RST answered our SYN) | `ConnectionRefused` |
/// | `ConnectionReset` (the peer reset) | `ConnectionReset` |
/// | `TimedOut` (R2 reached, keep-alive unanswered) | `TimedOut` |
/// | `BrokenPipe` (writing after `shutdown(Write)`) | `BrokenPipe` |
/// | `AddrInUse` | `AddrInUse` |
/// | `AddrNotAvailable` | `AddrNotAvailable` |
/// | `NotConnected`, `InvalidHandle` | `NotConnected` |
/// | `WouldBlock` | `WouldBlock` |
/// | `InvalidInput` | `InvalidInput` |
pub fn to_io(e: synack::Error) -> Error {
    let kind = match e {
        synack::Error::ConnectionRefused => ErrorKind::ConnectionRefused,
        synack::Error::ConnectionReset => ErrorKind::ConnectionReset,
        synack::Error::TimedOut => ErrorKind::TimedOut,
        synack::Error::BrokenPipe => ErrorKind::BrokenPipe,
        synack::Error::AddrInUse => ErrorKind::AddrInUse,
        synack::Error::AddrNotAvailable => ErrorKind::AddrNotAvailable,
        synack::Error::NotConnected | synack::Error::InvalidHandle => ErrorKind::NotConnected,
        synack::Error::WouldBlock => ErrorKind::WouldBlock,
        synack::Error::InvalidInput => ErrorKind::InvalidInput,
        // The endpoint's buffer-memory limit (like ENOBUFS).
        synack::Error::NoBufferSpace => ErrorKind::OutOfMemory,
        _ => ErrorKind::Other,
    };
    Error::new(kind, e)
}

/// The error every call gets once the event loop has stopped.
pub(crate) fn stopped(reason: &str) -> Error {
    Error::new(
        ErrorKind::NotConnected,
        format!("the synack stack has stopped ({reason})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_ones_std_uses() {
        let cases = [
            (
                synack::Error::ConnectionRefused,
                ErrorKind::ConnectionRefused,
            ),
            (synack::Error::ConnectionReset, ErrorKind::ConnectionReset),
            (synack::Error::TimedOut, ErrorKind::TimedOut),
            (synack::Error::BrokenPipe, ErrorKind::BrokenPipe),
            (synack::Error::AddrInUse, ErrorKind::AddrInUse),
            (synack::Error::NotConnected, ErrorKind::NotConnected),
            (synack::Error::InvalidHandle, ErrorKind::NotConnected),
            (synack::Error::WouldBlock, ErrorKind::WouldBlock),
            (synack::Error::NoBufferSpace, ErrorKind::OutOfMemory),
        ];
        for (e, kind) in cases {
            assert_eq!(to_io(e).kind(), kind, "{e:?}");
        }
        assert_eq!(
            to_io(synack::Error::ConnectionReset).to_string(),
            "connection reset by peer"
        );
    }
}
