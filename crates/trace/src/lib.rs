//! synack-trace: what happened on a TCP connection, and how to draw it.
//!
//! # The model
//!
//! A [`Trace`] is one connection seen from outside: two [`Peer`]s (drawn as "TCP Peer A"
//! on the left and "TCP Peer B" on the right), the [`Segment`]s they exchanged — who sent
//! each, when, when (or whether) it arrived, and its header fields as a
//! [`synack::SegmentSummary`] — and each peer's state [`Transition`]s with their times.
//! Producers build a trace by recording events in the order they happened
//! ([`Trace::send`], [`Trace::arrive`], [`Trace::inject`], [`Trace::transition`]); the
//! recording order breaks ties between events at the same instant, which on a virtual
//! clock are common. The simulator (`synack-sim`) is the first producer; a TUN runtime
//! and pcap import will produce the same model, so everything that draws a trace works
//! for all of them.
//!
//! # Drawing
//!
//! [`render_ladder`] draws a trace in the notation of RFC 9293 §3.5 (Figures 6 to 13):
//! numbered lines, each peer's state in its column, `-->`/`<--` arrows and segments as
//! `<SEQ=0><CTL=SYN>`. A segment whose send and arrival are separated by other events is
//! drawn on two lines joined by `...`, as Figure 7 does for a simultaneous open; a lost
//! segment ends in `X (lost)`. See the [`ladder`] module for the rules.
//!
//! ```
//! use synack::{Instant, SegmentSummary, State};
//! use synack_trace::{render_ladder, LadderOptions, Peer, Side, Trace};
//! use synack_wire::{TcpFlags, TcpOptions};
//!
//! let syn = SegmentSummary {
//!     seq: 100, ack: 0, flags: TcpFlags::SYN, window: 65535, len: 0,
//!     options: TcpOptions::default(),
//! };
//! let mut trace = Trace::new(Peer::new("TCP Peer A", State::Closed),
//!                            Peer::new("TCP Peer B", State::Listen));
//! trace.transition(Side::A, Instant::ZERO, State::Closed, State::SynSent);
//! let id = trace.send(Side::A, Instant::ZERO, syn);
//! trace.arrive(id, Instant::from_millis(10));
//! trace.transition(Side::B, Instant::from_millis(10), State::Listen, State::SynReceived);
//! let options = LadderOptions { relative: false, ..LadderOptions::default() };
//! let ladder = render_ladder(&trace, &options);
//! let line_2: Vec<&str> = ladder.lines().nth(4).unwrap().split_whitespace().collect();
//! assert_eq!(line_2, ["2.", "SYN-SENT", "-->", "<SEQ=100><CTL=SYN>", "-->", "SYN-RECEIVED"]);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ladder;
pub mod model;

pub use ladder::{render_ladder, LadderOptions};
pub use model::{Peer, Segment, SegmentId, Side, TimelineEvent, Trace, Transition};
