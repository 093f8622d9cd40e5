//! Configuration as data: one [`Config`] per endpoint, with defaults close to Linux's.

use crate::CongestionAlgorithm;
use core::time::Duration;

/// Everything tunable about an [`crate::Endpoint`]. Construct with `Config::default()` and
/// override fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The MTU of the link the endpoint sends on; the advertised MSS is derived from it
    /// (MTU − 40 for IPv4, MTU − 60 for IPv6; RFC 9293 §3.7.1). Default 1500.
    pub mtu: u16,
    /// Send buffer per connection to begin with, bytes: how much the application may
    /// queue. It grows with the congestion window (to twice `cwnd`) up to
    /// `send_buffer_max`. Default 256 KiB.
    pub send_buffer: usize,
    /// The most the send buffer grows to. Default 16 MiB (Linux's `tcp_wmem` maximum
    /// is 4 MiB; 16 MiB lets one connection fill 1 Gbit/s at 100 ms). Memory is only
    /// used for data actually queued.
    ///
    /// This is what a peer that never acknowledges can cost: the send buffer never holds
    /// more (it only grows with a congestion window that such a peer never opens), and
    /// the connection is closed after R2 ([`Config::r2_data`]).
    pub send_buffer_max: usize,
    /// Receive buffer per connection to begin with, bytes; the advertised window never
    /// exceeds the buffer (nor, without window scaling, 65,535). Default 64 KiB.
    pub recv_buffer: usize,
    /// The most receive-buffer auto-tuning grows the buffer (and so the window) to, as
    /// the measured bandwidth-delay product asks (twice what the application read in a
    /// round trip, as Linux's dynamic right-sizing); it also sets
    /// the window scale we offer. At most 65,535 × 2^14 is usable. Default 16 MiB
    /// (Linux's `tcp_rmem` maximum is 6 MiB; 16 MiB covers 1 Gbit/s at 100 ms). Memory
    /// is only used for data actually held.
    ///
    /// An application that never reads costs at most its buffer: the buffer grows only
    /// as the application reads, so one that never does keeps it at
    /// [`Config::recv_buffer`]; the window then closes, and the peer's zero-window probes
    /// are answered for as long as they come (MUST-37).
    pub recv_buffer_max: usize,
    /// Offer and use the Window Scale option (RFC 7323 §2). Default true.
    pub window_scaling: bool,
    /// Offer and use the Timestamps option: RTT measurement on every ACK and PAWS
    /// (RFC 7323 §3–§5). Default true.
    pub timestamps: bool,
    /// Offer and use selective acknowledgments (RFC 2018, with D-SACK, RFC 2883), which
    /// also enables RFC 6675 loss recovery and RACK-TLP (RFC 8985). Default true.
    pub sack: bool,
    /// Congestion controller of new connections; [`crate::Endpoint::set_congestion_control`]
    /// changes one connection's. Default CUBIC (RFC 9438), as on Linux.
    pub congestion_control: CongestionAlgorithm,
    /// Maximum Segment Lifetime. TIME-WAIT lasts 2 × MSL (RFC 9293 §3.6.1, MUST-13).
    /// Default 30 s, so TIME-WAIT lasts 60 s, as on Linux (RFC 793 suggested 2 minutes).
    pub msl: Duration,
    /// RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    pub rto_initial: Duration,
    /// Lower bound on the RTO. RFC 6298 says 1 s; Linux uses 200 ms, and so do we.
    pub rto_min: Duration,
    /// Upper bound on the RTO (RFC 6298 §2.5 allows ≥ 60 s; Linux uses 120 s).
    pub rto_max: Duration,
    /// Delayed-ACK timer (RFC 9293 §3.8.6.3: under 0.5 s, MUST-40). Default 40 ms.
    pub delayed_ack: Duration,
    /// R1 (RFC 9293 §3.8.3, MUST-20): after this many retransmissions of one segment the
    /// endpoint reports [`crate::Event::RetransmitThreshold`] ("negative advice"). Default 3.
    pub r1_retransmissions: u32,
    /// R2 for data (MUST-20/21): a connection whose oldest unacknowledged data has been
    /// retransmitted for this long is closed with [`crate::CloseReason::TimedOut`].
    /// Applications can override it per connection. Default 15 min (Linux's 15 retries).
    pub r2_data: Duration,
    /// R2 for SYN and SYN-ACK retransmission (MUST-22/23: at least 3 minutes). Default 3 min.
    pub r2_syn: Duration,
    /// Keep-alive (RFC 9293 §3.8.4): off by default (MUST-25); `Some` turns it on for
    /// every new connection (applications can also switch it per connection, MUST-24).
    pub keepalive: Option<Keepalive>,
    /// Disable Nagle's algorithm on new connections (MUST-17). Default false.
    pub nodelay: bool,
    /// Challenge ACKs (RFC 5961 §7) sent per second per endpoint at most. Default 1000
    /// (as Linux's `tcp_challenge_ack_limit`).
    ///
    /// The budget is shared fairly: besides this endpoint-wide cap, one connection may
    /// send at most [`Config::challenge_ack_per_conn`] challenge ACKs per second, so a
    /// flood of forged segments aimed at one connection uses a small share of the budget
    /// and the other connections still answer their own challenges.
    pub challenge_ack_limit: u32,
    /// Challenge ACKs one connection may send per second at most (RFC 5961 §7 leaves
    /// the limiting to the implementation). Default 10: one attacked connection takes at
    /// most 1 % of the default endpoint budget. 0 means no per-connection limit.
    pub challenge_ack_per_conn: u32,
    /// RFC 5961 §3 (blind reset attacks), which RFC 9293 §3.10.7.4 describes as an
    /// optional mitigation: an in-window RST that is not exactly at RCV.NXT gets a
    /// challenge ACK instead of resetting the connection. `false` restores RFC 793's rule
    /// that any in-window RST resets (FreeBSD's `net.inet.tcp.insecure_rst=1`). Default true.
    pub rst_challenge: bool,
    /// RFC 5961 §4 (blind SYN attacks, RFC 9293 §3.10.7.4): a SYN in a synchronized state
    /// gets a challenge ACK. `false` restores RFC 793: an in-window SYN resets the
    /// connection with `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>` and an out-of-window one
    /// is acknowledged (FreeBSD's `net.inet.tcp.insecure_syn=1`). Default true.
    pub syn_challenge: bool,
    /// IPv4 TTL / IPv6 hop limit of emitted packets. Default 64.
    pub hop_limit: u8,
    /// Ephemeral ports for active opens (Linux: 32768..=60999).
    pub ephemeral_ports: core::ops::RangeInclusive<u16>,
    /// Half-open connections one listener may hold in SYN-RECEIVED at most (the SYN queue),
    /// whatever its backlog (the queue is also at most twice the backlog, and at least
    /// 16). Default 1024. When it is full, a SYN is answered with a SYN cookie (if
    /// [`Config::syn_cookies`]) or dropped (counted in
    /// [`crate::EndpointStats::syn_queue_drops`]).
    pub max_syn_backlog: usize,
    /// Answer SYNs with SYN cookies (RFC 4987; see [`crate::syn_cookie`]) when the SYN
    /// queue is full or the connection table is, instead of dropping them: a listener
    /// under a SYN flood keeps accepting real clients. Default true.
    pub syn_cookies: bool,
    /// The most established connections a listener's accept queue holds: `listen`'s
    /// backlog is capped at this (Linux's `somaxconn`). When the queue is full, SYNs are
    /// dropped (counted in [`crate::EndpointStats::accept_queue_drops`]). Default 4096.
    pub max_backlog: usize,
    /// The most connections (in any state; TIME-WAIT records are counted apart) the
    /// endpoint holds. At the limit `connect` returns
    /// [`crate::Error::ConnectionLimit`] and a listener answers SYNs with cookies (or
    /// drops them without), and drops ACKs whose cookies would create a connection
    /// (counted in [`crate::EndpointStats::connection_limit_drops`]). Default 1,048,576.
    pub max_connections: usize,
    /// The most TIME-WAIT records the endpoint keeps (Linux's `tcp_max_tw_buckets`).
    /// When it is full, a connection that reaches TIME-WAIT is closed at once, without a
    /// record — Linux's policy: the 4-tuple loses its protection against old duplicates
    /// (RFC 9293 §3.6.1), which a full table cannot give anyway, and no live connection
    /// is disturbed (counted in [`crate::EndpointStats::time_wait_overflows`]). Default
    /// 262,144.
    pub max_time_wait: usize,
    /// The most bytes all send and receive buffers together may allocate. At the limit
    /// ("memory pressure") data arriving beyond what a connection's buffer has already
    /// allocated is not stored (the peer retransmits it), and `send` takes only what fits
    /// the send buffer's allocation, returning [`crate::Error::NoBufferSpace`] if nothing
    /// does (counted in [`crate::EndpointStats::memory_drops`]). It can be overshot by the
    /// one allocation that crosses it. Default 1 GiB.
    pub max_buffer_memory: usize,
    /// The most out-of-order ranges (holes' right-hand sides) one connection's receive
    /// buffer holds; a segment that would need another is dropped, neither stored nor
    /// SACKed (counted in [`crate::EndpointStats::out_of_order_drops`] and the
    /// connection's `out_of_order_refused`). Default 1024, 16 KiB of ranges at most:
    /// enough for a 16 MiB window through 5% loss (see
    /// [`crate::reassembly::MAX_OUT_OF_ORDER`]).
    pub max_out_of_order: usize,
    /// Initial congestion window in segments (RFC 6928). Default 10.
    pub initial_cwnd_segments: u32,
    /// Round each connection's receive buffer up to a whole number of segments (the
    /// effective send MSS) once the SYNs have settled it, as FreeBSD's `tcp_mss` does
    /// (64 KiB becomes 65,700 bytes with an MSS of 1460). The buffer then may exceed
    /// what the header can advertise without window scaling (65,535, MUST-1); the
    /// advertised window is still capped there. How much buffer stands behind the
    /// window is the receiver's choice (RFC 9293 §3.8.6). Default false.
    pub recv_buffer_whole_segments: bool,
    /// The acceptability test's RCV.WND (RFC 9293 §3.10.7.4, first check) is the larger
    /// of the window advertised and the free receive buffer, so a segment the buffer can
    /// hold is accepted even past the right edge the header could carry (FreeBSD's
    /// `tcp_input`: `rcv_wnd = max(sbspace, rcv_adv - rcv_nxt)`). It applies where the
    /// connection has a buffer of its own: not to a passive connection still in the
    /// listener's SYN queue, nor in TIME-WAIT (FreeBSD's SYN cache and compact
    /// TIME-WAIT use the window offered). RFC 9293 §3.3.1 and
    /// §3.8.6 define RCV.WND as what the receiver is prepared to accept but leave open
    /// what it is when the buffer exceeds what SEG.WND can express (65,535 without
    /// window scaling, multiples of 2^shift with it, RFC 7323 §2.3); accepting it errs
    /// on the robust side (§3.8.6: "be liberal in what you accept"). Default false:
    /// RCV.WND is the window advertised.
    pub accept_beyond_advertised: bool,
    /// In a simultaneous close (RFC 9293 §3.6, Figure 13), acknowledge the peer's FIN
    /// that moves FIN-WAIT-1 to CLOSING by sending our unacknowledged FIN again with
    /// the ACK, as FreeBSD's `tcp_output` does, instead of a bare
    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`. §3.10.7.4 (eighth step) asks for "an
    /// acknowledgment for the FIN" without saying what else the segment carries, and a
    /// retransmission of unacknowledged sequence space is always permitted (§3.8.1).
    /// Default false.
    pub simultaneous_close_resends_fin: bool,
    /// Acknowledge the second in-order data segment since the last ACK at once,
    /// whatever its size, as FreeBSD does (its delayed ACK covers one segment only).
    /// RFC 9293 §3.8.6.3 (SHLD-19) and RFC 5681 §4.2 ask for an ACK for *at least* every
    /// second full-sized segment and leave more frequent ACKs to the receiver. Default
    /// false: small segments wait up to the delayed-ACK time (MUST-40) until two
    /// full-sized segments' worth has arrived.
    pub ack_every_second_segment: bool,
    /// Send the ACK that carries a D-SACK block (RFC 2883) at once, as FreeBSD does,
    /// rather than when the delayed-ACK rules say (RFC 5681 §4.2 requires immediate
    /// ACKs only for out-of-order segments and ones that fill a gap; RFC 2883 §4 does
    /// not say when the D-SACK is sent, only that it reports the most recent
    /// duplicate). Default false.
    pub immediate_dsack: bool,
    /// Drop a SYN-ACK that arrives for a listening socket silently, as FreeBSD does,
    /// instead of answering `<SEQ=SEG.ACK><CTL=RST>`. RFC 9293 §3.10.7.2 (LISTEN,
    /// second check) says a reset "should be formed" for an ACK-bearing segment — a
    /// recommendation; a SYN-ACK nobody asked for is most often backscatter from a
    /// spoofed SYN, and answering it helps nobody. Default false.
    pub listen_ignores_syn_ack: bool,
    /// Abort a connection being opened (SYN-SENT) when an ICMP hard error (protocol or
    /// port unreachable, administratively prohibited) about its SYN arrives: RFC 9293
    /// §3.9.2.2, "a TCP implementation SHOULD abort the connection" (SHLD-26). Once
    /// synchronized, hard errors are soft ones (RFC 5461 §4), whatever this says.
    /// `false` treats every ICMP error as soft (FreeBSD's `icmp_may_rst=0`). Default
    /// true.
    pub icmp_hard_errors_abort: bool,
}

/// Keep-alive parameters (RFC 9293 §3.8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe; MUST-28 says no less than 2 hours by default.
    pub idle: Duration,
    /// Time between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is declared dead (MUST-29: more than one).
    pub probes: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            idle: Duration::from_secs(2 * 60 * 60),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mtu: 1500,
            send_buffer: 256 * 1024,
            send_buffer_max: 16 * 1024 * 1024,
            recv_buffer: 64 * 1024,
            recv_buffer_max: 16 * 1024 * 1024,
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion_control: CongestionAlgorithm::Cubic,
            msl: Duration::from_secs(30),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            delayed_ack: Duration::from_millis(40),
            r1_retransmissions: 3,
            r2_data: Duration::from_secs(15 * 60),
            r2_syn: Duration::from_secs(180),
            keepalive: None,
            nodelay: false,
            challenge_ack_limit: 1000,
            challenge_ack_per_conn: 10,
            rst_challenge: true,
            syn_challenge: true,
            hop_limit: 64,
            ephemeral_ports: 32768..=60999,
            max_syn_backlog: 1024,
            syn_cookies: true,
            max_backlog: 4096,
            max_connections: 1 << 20,
            max_time_wait: 262_144,
            max_buffer_memory: 1 << 30,
            max_out_of_order: crate::reassembly::MAX_OUT_OF_ORDER,
            initial_cwnd_segments: 10,
            recv_buffer_whole_segments: false,
            accept_beyond_advertised: false,
            simultaneous_close_resends_fin: false,
            ack_every_second_segment: false,
            immediate_dsack: false,
            listen_ignores_syn_ack: false,
            icmp_hard_errors_abort: true,
        }
    }
}
