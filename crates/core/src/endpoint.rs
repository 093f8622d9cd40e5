//! The endpoint: every connection, listener and TIME-WAIT record of one host.

use crate::{Config, Error, FourTuple, Instant, State, TraceEvent};
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

/// Names one connection of an endpoint. Stale handles are detected (generation count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Names one listener of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub(crate) u32);

/// How a connection ended (MUST-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both FINs were exchanged and acknowledged.
    Normal,
    /// The peer sent a RST.
    Reset,
    /// The peer refused our SYN with a RST.
    Refused,
    /// R2 was reached, or keep-alive probes went unanswered.
    TimedOut,
    /// The application aborted the connection.
    Aborted,
}

/// Something the application may want to act on. Read them with
/// [`Endpoint::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An active open reached ESTABLISHED.
    Connected(ConnId),
    /// A listener has a connection ready for [`Endpoint::accept`].
    Incoming(ListenerId),
    /// Data, or the end of the peer's stream, can be read.
    Readable(ConnId),
    /// Send-buffer space became available.
    Writable(ConnId),
    /// The peer closed its direction normally (its FIN arrived in order).
    PeerClosed(ConnId),
    /// One segment has been retransmitted R1 times (RFC 9293 §3.8.3).
    RetransmitThreshold(ConnId),
    /// The connection reached CLOSED (or TIME-WAIT, where the application is done).
    Closed(ConnId, CloseReason),
}

/// A TCP endpoint: the sans-IO core. See the crate docs for how to drive it.
pub struct Endpoint {
    _config: Config,
}

impl Endpoint {
    /// A new endpoint. `secret` keys the ISN generator and the ephemeral port choice
    /// (MUST-9); give each host a different one.
    pub fn new(config: Config, secret: [u8; 16]) -> Self {
        let _ = secret;
        todo!("{config:?}")
    }
    /// Claim `addr` as one of this host's addresses.
    pub fn add_address(&mut self, addr: IpAddr) {
        let _ = addr;
        todo!()
    }
    /// Record trace events from now on (or stop).
    pub fn set_tracing(&mut self, on: bool) {
        let _ = on;
        todo!()
    }
    /// Take the trace events recorded so far.
    pub fn drain_trace(&mut self) -> Vec<TraceEvent> {
        todo!()
    }
    /// Passive OPEN (RFC 9293 §3.10.1): listen on `local`, with at most `backlog`
    /// established connections waiting for `accept`.
    pub fn listen(&mut self, local: SocketAddr, backlog: usize) -> Result<ListenerId, Error> {
        let _ = (local, backlog);
        todo!()
    }
    /// Stop listening; half-open and unaccepted connections are reset.
    pub fn unlisten(&mut self, now: Instant, listener: ListenerId) -> Result<(), Error> {
        let _ = (now, listener);
        todo!()
    }
    /// Take one established connection from the listener's accept queue.
    pub fn accept(&mut self, listener: ListenerId) -> Result<ConnId, Error> {
        let _ = listener;
        todo!()
    }
    /// Active OPEN (RFC 9293 §3.10.1): send a SYN from `local` (its port 0 picks an
    /// ephemeral port) to `remote`.
    pub fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<ConnId, Error> {
        let _ = (now, local, remote);
        todo!()
    }
    /// SEND (§3.10.2): queue bytes; returns how many fit in the send buffer.
    pub fn send(&mut self, now: Instant, conn: ConnId, data: &[u8]) -> Result<usize, Error> {
        let _ = (now, conn, data);
        todo!()
    }
    /// RECEIVE (§3.10.3): copy received bytes out. `Ok(0)` means the peer closed and
    /// everything has been read; `Err(WouldBlock)` means nothing yet.
    pub fn recv(&mut self, now: Instant, conn: ConnId, buf: &mut [u8]) -> Result<usize, Error> {
        let _ = (now, conn, buf);
        todo!()
    }
    /// Half-close (RFC 9293 CLOSE, §3.10.4): send a FIN after queued data; reading goes on.
    pub fn shutdown(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        let _ = (now, conn);
        todo!()
    }
    /// Full close: like `shutdown`, and the application gives up the handle. Unread data,
    /// or data arriving later, makes the endpoint send a RST instead (SHLD-3).
    pub fn close(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        let _ = (now, conn);
        todo!()
    }
    /// ABORT (§3.10.5): send a RST if synchronized, drop everything, free the handle.
    pub fn abort(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        let _ = (now, conn);
        todo!()
    }
    /// Turn Nagle's algorithm off (`true`) or on (MUST-17).
    pub fn set_nodelay(&mut self, conn: ConnId, nodelay: bool) -> Result<(), Error> {
        let _ = (conn, nodelay);
        todo!()
    }
    /// Set R2 for this connection (MUST-21).
    pub fn set_user_timeout(&mut self, conn: ConnId, r2: Duration) -> Result<(), Error> {
        let _ = (conn, r2);
        todo!()
    }
    /// Switch keep-alive on (with these parameters) or off for this connection (MUST-24).
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        conn: ConnId,
        keepalive: Option<crate::Keepalive>,
    ) -> Result<(), Error> {
        let _ = (now, conn, keepalive);
        todo!()
    }
    /// The connection's state, or `None` for a stale handle.
    pub fn state(&self, conn: ConnId) -> Option<State> {
        let _ = conn;
        todo!()
    }
    /// The state of whatever this endpoint holds for a 4-tuple (connection or TIME-WAIT).
    pub fn state_of(&self, tuple: FourTuple) -> Option<State> {
        let _ = tuple;
        todo!()
    }
    /// The connection's 4-tuple.
    pub fn tuple(&self, conn: ConnId) -> Option<FourTuple> {
        let _ = conn;
        todo!()
    }
    /// Why the connection closed, once it has.
    pub fn close_reason(&self, conn: ConnId) -> Option<CloseReason> {
        let _ = conn;
        todo!()
    }
    /// Next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        todo!()
    }
    /// Process one arriving IP datagram.
    pub fn handle(&mut self, now: Instant, packet: &[u8]) {
        let _ = (now, packet);
        todo!()
    }
    /// Write the next datagram to send into `buf` (which should hold an MTU); returns its
    /// length, or `None` when there is nothing to send now.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let _ = (now, buf);
        todo!()
    }
    /// When [`Endpoint::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }
    /// Run every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        todo!()
    }
    /// Number of connections (not counting TIME-WAIT records).
    pub fn connection_count(&self) -> usize {
        todo!()
    }
    /// Number of TIME-WAIT records.
    pub fn time_wait_count(&self) -> usize {
        todo!()
    }
}
