//! Trace events: what an endpoint did, with the time it did it. Recording is off until
//! [`crate::Endpoint::set_tracing`] turns it on; the simulator, the TUN runtime and the
//! drawing code (`synack-trace`) consume these.

use crate::{Instant, State};
use core::net::SocketAddr;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// A connection's identity on the wire: our address and port, theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FourTuple {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// The addresses and ports, in one `write`: the demultiplexer hashes a tuple for every
/// segment with SipHash, which pays per call, and the derived impl made a dozen small
/// calls. Equal tuples hash equally, as `Hash` requires (`Eq` also compares IPv6 flow
/// information and scope, which only makes fewer tuples equal).
impl core::hash::Hash for FourTuple {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        let mut bytes = [0u8; 36];
        let mut n = 0;
        for addr in [self.local, self.remote] {
            match addr.ip() {
                core::net::IpAddr::V4(ip) => {
                    bytes[n..n + 4].copy_from_slice(&ip.octets());
                    n += 4;
                }
                core::net::IpAddr::V6(ip) => {
                    bytes[n..n + 16].copy_from_slice(&ip.octets());
                    n += 16;
                }
            }
            bytes[n..n + 2].copy_from_slice(&addr.port().to_be_bytes());
            n += 2;
        }
        state.write(&bytes[..n]);
    }
}

/// The header fields of one segment, for tracing and drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSummary {
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Payload length in bytes.
    pub len: u32,
    pub options: TcpOptions,
}

impl SegmentSummary {
    /// Summarise a header and payload length.
    pub fn new(tcp: &TcpRepr, len: usize) -> Self {
        SegmentSummary {
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            window: tcp.window,
            len: u32::try_from(len).unwrap_or(u32::MAX),
            options: tcp.options,
        }
    }
}

/// One thing that happened to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    pub at: Instant,
    pub conn: FourTuple,
    pub kind: TraceKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceKind {
    /// The connection moved between RFC 9293 states. A connection being created shows as
    /// a change from `Closed` (active open) or `Listen` (passive open).
    StateChange { from: State, to: State },
    /// A segment was emitted by `poll_transmit`.
    Sent {
        seg: SegmentSummary,
        retransmission: bool,
    },
    /// A segment for this 4-tuple arrived and was processed.
    Received { seg: SegmentSummary },
    /// A segment arrived and was discarded (checksum, not acceptable, no such connection…).
    Dropped {
        seg: Option<SegmentSummary>,
        reason: DropReason,
    },
    /// The sender's view after an ACK advanced SND.UNA: the numbers that time-sequence,
    /// RTT and cwnd plots are drawn from (`synack plot`).
    Metrics(Metrics),
}

/// A connection's send-side numbers at one instant (see [`TraceKind::Metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metrics {
    /// The round-trip time measured by this ACK, if it completed a timing (RFC 6298,
    /// Karn's rule applies: never from a retransmitted segment).
    pub rtt_sample: Option<core::time::Duration>,
    /// SRTT, once there is a measurement.
    pub srtt: Option<core::time::Duration>,
    /// The retransmission timeout now (with any backoff).
    pub rto: core::time::Duration,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes (`u32::MAX` until the first loss).
    pub ssthresh: u32,
    /// The peer's advertised window, bytes.
    pub snd_wnd: u32,
    /// Bytes sent and not yet acknowledged.
    pub flight: u32,
}

impl crate::connection::Connection {
    /// Trace [`TraceKind::Metrics`] after an ACK that advanced SND.UNA; `rtt_sample` is
    /// the round-trip time that ACK measured, if any.
    pub(crate) fn trace_metrics(
        &self,
        ctx: &mut crate::outbox::Ctx<'_>,
        rtt_sample: Option<core::time::Duration>,
    ) {
        use crate::congestion::CongestionControl;
        if ctx.out.trace.is_none() {
            return;
        }
        let metrics = Metrics {
            rtt_sample,
            srtt: self.rtt.srtt(),
            rto: self.rtt.rto(),
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            snd_wnd: self.snd_wnd,
            flight: self.flight(),
        };
        ctx.out
            .trace(ctx.now, self.tuple, TraceKind::Metrics(metrics));
    }
}

/// Why an arriving segment was discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// It failed to parse (bad lengths, bad checksum, not TCP).
    Malformed,
    /// Not addressed to this endpoint.
    NotOurs,
    /// It fell outside the receive window (RFC 9293 §3.10.7.4, first check).
    NotAcceptable,
    /// A listener's SYN queue or accept queue was full.
    QueueFull,
    /// RST that did not pass the RFC 5961 checks, or other ignored segment.
    Ignored,
}
