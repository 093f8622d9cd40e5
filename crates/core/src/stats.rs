//! Per-connection statistics an application can read, like Linux's `TCP_INFO`
//! ([`crate::Endpoint::stats`]).

use crate::{CongestionAlgorithm, State};
use core::time::Duration;

/// A snapshot of one connection: its state, round-trip estimates, windows, negotiated
/// options and counters since it was opened. Byte counts are of payload (sequence
/// space without SYN and FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnStats {
    /// RFC 9293 state.
    pub state: State,
    /// The congestion controller in use.
    pub congestion_control: CongestionAlgorithm,

    /// Smoothed round-trip time (RFC 6298 SRTT), once measured.
    pub srtt: Option<Duration>,
    /// Round-trip time variation (RFC 6298 RTTVAR), once measured.
    pub rttvar: Option<Duration>,
    /// The smallest round-trip time measured recently (RACK's min_RTT).
    pub min_rtt: Option<Duration>,
    /// The retransmission timeout now, with any backoff.
    pub rto: Duration,

    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes (`u32::MAX` until the first loss).
    pub ssthresh: u32,
    /// The window the peer last advertised (scaled), bytes.
    pub snd_wnd: u32,
    /// The window we advertise now, bytes.
    pub rcv_wnd: u32,
    /// Our sending MSS (the smaller of ours and the peer's, MUST-16).
    pub snd_mss: u16,
    /// The MSS we advertised.
    pub rcv_mss: u16,
    /// Send-buffer capacity now (grows with auto-tuning), bytes.
    pub send_buffer: usize,
    /// Receive-buffer capacity now (grows with auto-tuning), bytes.
    pub recv_buffer: usize,
    /// Bytes sent and not yet cumulatively acknowledged (SND.NXT − SND.UNA).
    pub bytes_in_flight: u32,
    /// RFC 6675 pipe: the bytes the sender believes are still in the network.
    pub pipe: u32,
    /// In fast (SACK or duplicate-ACK) loss recovery now.
    pub in_recovery: bool,

    /// The shift applied to windows the peer sends (RFC 7323), if negotiated.
    pub snd_wscale: Option<u8>,
    /// The shift applied to windows we send, if negotiated.
    pub rcv_wscale: Option<u8>,
    /// SACK was negotiated (RFC 2018).
    pub sack: bool,
    /// Timestamps were negotiated (RFC 7323).
    pub timestamps: bool,

    /// Payload bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes retransmitted.
    pub bytes_retransmitted: u64,
    /// Payload bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Payload bytes received in order (delivered to the receive buffer).
    pub bytes_received: u64,
    /// Segments sent (ACKs and control segments included).
    pub segments_sent: u64,
    /// Segments received for this connection.
    pub segments_received: u64,
    /// Segments retransmitted (by the timeout, fast retransmit, RACK or a probe).
    pub segments_retransmitted: u64,
    /// Segments deemed lost (by duplicate ACKs, SACK, RACK or a timeout).
    pub segments_lost: u64,
    /// Fast recovery episodes entered (RFC 6675 / RFC 6582), whether SACK or
    /// duplicate ACKs started them.
    pub fast_recoveries: u32,
    /// Retransmission timeouts (RTO recoveries).
    pub timeouts: u32,
    /// Tail loss probes sent (RFC 8985 §7).
    pub tail_loss_probes: u32,
    /// D-SACK blocks received: the peer got a segment twice (RFC 2883).
    pub dsacks_received: u32,
    /// Segments dropped by PAWS (RFC 7323 §5).
    pub paws_rejected: u32,
    /// The path has been seen to reorder segments (RACK's `reordering_seen`).
    pub reordering_seen: bool,
    /// Out-of-order segments dropped because the reassembly buffer already held its
    /// limit of separate ranges ([`crate::reassembly::MAX_OUT_OF_ORDER`]).
    pub out_of_order_refused: u32,
}

/// Counters kept in the TCB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub bytes_sent: u64,
    pub bytes_retransmitted: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub segments_sent: u64,
    pub segments_received: u64,
    pub segments_lost: u64,
    pub fast_recoveries: u32,
    pub timeouts: u32,
    pub tail_loss_probes: u32,
    pub dsacks_received: u32,
    pub paws_rejected: u32,
    pub out_of_order_refused: u32,
}

/// Endpoint-wide counters and memory use ([`crate::Endpoint::endpoint_stats`]): what the
/// endpoint's defences and limits did, like the SNMP/`netstat -s` counters of a kernel.
/// Counters start at zero when the endpoint is made and only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointStats {
    /// SYN-ACKs sent with a SYN cookie because a listener's SYN queue (or the connection
    /// table) was full (RFC 4987).
    pub syn_cookies_sent: u64,
    /// ACKs that returned a valid cookie and created a connection.
    pub syn_cookies_validated: u64,
    /// ACKs to a listener that had sent cookies recently whose cookie did not check out
    /// (forged, expired, or for another 4-tuple); each got a RST.
    pub syn_cookies_rejected: u64,
    /// SYNs dropped because the SYN queue was full and SYN cookies are off.
    pub syn_queue_drops: u64,
    /// SYNs, and ACKs with valid cookies, dropped because the listener's accept queue
    /// was full (the peer retransmits).
    pub accept_queue_drops: u64,
    /// SYNs and cookie ACKs dropped, and `connect` calls refused, because
    /// [`crate::Config::max_connections`] connections exist.
    pub connection_limit_drops: u64,
    /// Connections that reached TIME-WAIT while [`crate::Config::max_time_wait`]
    /// records existed, and were closed at once instead.
    pub time_wait_overflows: u64,
    /// Challenge ACKs sent (RFC 5961 §3.2, §4.2, §5.2).
    pub challenge_acks_sent: u64,
    /// Challenge ACKs not sent because of the rate limits (RFC 5961 §7).
    pub challenge_acks_suppressed: u64,
    /// Arriving segments (or parts of them) not stored, and `send` calls refused with
    /// [`crate::Error::NoBufferSpace`], because buffer memory was at
    /// [`crate::Config::max_buffer_memory`].
    pub memory_drops: u64,
    /// Out-of-order segments dropped because their connection already held
    /// [`crate::Config::max_out_of_order`] out-of-order ranges.
    pub out_of_order_drops: u64,
    /// Bytes allocated to send and receive buffers now, all connections together.
    pub buffer_memory: usize,
    /// The most `buffer_memory` has been.
    pub buffer_memory_peak: usize,
    /// Connections now (every state but TIME-WAIT records).
    pub connections: usize,
    /// The most connections there have been at once.
    pub connections_peak: usize,
    /// TIME-WAIT records now.
    pub time_wait_records: usize,
    /// An estimate of the heap the endpoint holds, bytes: the connection, listener and
    /// TIME-WAIT tables (slots ever allocated, times their sizes), the demultiplexing
    /// maps, and the buffers.
    pub memory_estimate: usize,
}
