//! # synack: a sans-IO TCP endpoint (RFC 9293)
//!
//! This crate is the protocol: the connection state machine of RFC 9293 with everything
//! a real connection needs between the handshake and the close (retransmission, flow
//! control, congestion control, the four-way close and TIME-WAIT). It does no I/O of
//! its own. An [`Endpoint`] owns every connection, listener and TIME-WAIT record of one
//! host and is driven entirely by its caller:
//!
//! ```text
//!   datagram arrives ─────────► endpoint.handle(now, &bytes)
//!   application calls ────────► connect / listen / accept / send / recv / shutdown / close / abort
//!   loop { endpoint.poll_transmit(now, &mut buf) } ──► datagrams to put on the wire
//!   endpoint.poll_timeout() ──► sleep until then ──► endpoint.handle_timeout(now)
//!   endpoint.poll_event() ────► Connected / Incoming / Readable / Writable / PeerClosed / Closed
//! ```
//!
//! Time comes in as [`Instant`] arguments and randomness as a secret given to
//! [`Endpoint::new`], so the same inputs always give the same outputs: the simulator
//! (`synack-sim`), the test scripts and a real TUN runtime all drive this same code, and
//! a failing seed replays exactly.
//!
//! ## Where things are
//!
//! - [`endpoint`]: demultiplexing by 4-tuple (a keyed hash map), listeners with a SYN
//!   queue, an accept queue and SYN cookies when the SYN queue is full (`endpoint/listen`,
//!   RFC 4987), the limits of [`Config`] with their counters ([`EndpointStats`]), RSTs
//!   for segments that match nothing (§3.10.7.1),
//!   TIME-WAIT records, one timer heap for everything, and a ready queue of connections
//!   with something to send. No per-packet or per-poll path looks at more than the
//!   connections it concerns. Beside it: `demux` (the 4-tuple tables), `addresses` (the
//!   host's own addresses, a sorted set, and the listeners by local address) and `sip`
//!   (SipHash on whole words, for the ISN, port and demultiplexing hashes).
//! - `connection`: the TCB (§3.3.1). `input` processes arriving segments in the RFC's
//!   order (§3.10.7: sequence number, RST, SYN, ACK, text, FIN); `output` decides what
//!   to send (windows, Nagle, SWS avoidance, delayed ACKs, probes, NextSeg); `timers`
//!   runs the retransmission (RFC 6298), loss-detection, persist, delayed-ACK,
//!   keep-alive and TIME-WAIT timers; `recovery` ties loss recovery together, and
//!   `tx_pool` keeps the endpoint's spare sender states (scoreboard, RACK, PRR), so
//!   that a burst of sending does not cost an allocation.
//! - Fast, robust transfer, one module per concern: `window` (RFC 7323 window scaling,
//!   receive- and send-buffer auto-tuning), `timestamps` (RFC 7323 RTTM and PAWS),
//!   `sack` (the receiver's SACK and D-SACK blocks, RFC 2018, RFC 2883), `scoreboard`
//!   (the sender's per-segment record: RFC 6675 pipe, IsLost, NextSeg), `rack`
//!   (RACK-TLP, RFC 8985), `prr` (Proportional Rate Reduction, RFC 9937), `congestion`
//!   (a small trait with one file per controller: NewReno, RFC 5681/6582, and CUBIC,
//!   RFC 9438, the default; see [`CongestionAlgorithm`]), `stats` ([`ConnStats`]).
//!   All of it is negotiated with the peer and on by default; [`Config`] switches each
//!   option off.
//! - `icmp`: ICMP and ICMPv6 errors about our segments (MUST-54), validated by the
//!   quoted sequence number (RFC 5927) and passed to their connection.
//! - [`seq`] sequence-number arithmetic, [`send_buffer`], [`reassembly`] (the receive
//!   buffer with out-of-order ranges), [`rtt`] (RFC 6298), [`isn`] (RFC 9293 §3.4.1
//!   ISNs and RFC 6056 ephemeral ports), [`syn_cookie`] (RFC 4987), [`timer`] (the lazy-deletion timer heap).
//!
//! ## Example
//!
//! ```
//! use synack::{Config, Endpoint, Instant};
//! let mut client = Endpoint::new(Config::default(), [1; 16]);
//! client.add_address("198.18.0.1".parse().unwrap());
//! let conn = client
//!     .connect(Instant::ZERO, "0.0.0.0:0".parse().unwrap(), "198.18.0.2:80".parse().unwrap())
//!     .unwrap();
//! let mut buf = [0u8; 1500];
//! let n = client.poll_transmit(Instant::ZERO, &mut buf).expect("a SYN");
//! let syn = synack_wire::parse_packet(&buf[..n]).unwrap();
//! assert!(syn.tcp.flags.syn());
//! assert_eq!(client.state(conn), Some(synack::State::SynSent));
//! ```
#![forbid(unsafe_code)]

mod addresses;
pub mod config;
mod congestion;
mod connection;
mod copy;
mod demux;
pub mod endpoint;
pub mod error;
mod icmp;
pub mod isn;
mod listener;
mod outbox;
mod prr;
mod rack;
pub mod reassembly;
pub mod rtt;
mod sack;
mod scoreboard;
pub mod send_buffer;
pub mod seq;
pub(crate) mod sip;
mod slab;
pub mod state;
mod stats;
pub mod syn_cookie;
pub mod time;
mod time_wait;
pub mod timer;
mod timestamps;
pub mod trace;
mod window;

pub use config::{Config, Keepalive};
pub use congestion::CongestionAlgorithm;
pub use endpoint::{CloseReason, ConnId, Endpoint, Event, ListenerId};
pub use error::Error;
pub use seq::SeqNum;
pub use state::State;
pub use stats::{ConnStats, EndpointStats};
pub use time::Instant;
pub use trace::{DropReason, FourTuple, Metrics, SegmentSummary, TraceEvent, TraceKind};
