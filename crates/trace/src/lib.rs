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
//! Each segment can also carry [`Marks`] — retransmission, duplicate ACK, zero window,
//! out of order... — filled in by [`analyze()`], and a trace can hold the sender's
//! [`Sample`]s (RTT, RTO, cwnd, ssthresh, window, flight) for plots.
//!
//! # Captures
//!
//! [`capture`] reads pcap and pcapng files from any source (Ethernet, raw IP, Linux
//! cooked SLL/SLL2, BSD loopback; IPv4 and IPv6) and writes raw-IP ones; [`infer`] splits
//! a capture into [`Connection`]s and infers both ends' RFC 9293 states, producing the
//! same [`Trace`] a simulator run gives. synack's own pcapng files carry, in packet
//! comments ([`annotations`]), what only the simulator knows (arrival times, losses,
//! metrics), so they read back as the very run.
//!
//! # Drawing
//!
//! [`render_ladder`] draws a trace in the notation of RFC 9293 §3.5 (Figures 6 to 13):
//! numbered lines, each peer's state in its column, `-->`/`<--` arrows and segments as
//! `<SEQ=0><CTL=SYN>`. A segment whose send and arrival are separated by other events is
//! drawn on two lines joined by `...`, as Figure 7 does for a simultaneous open; a lost
//! segment ends in `X (lost)`. See the [`ladder`] module for the rules.
//!
//! [`render_svg_ladder`] draws the same ladder as SVG with time running down the page and
//! arrows slanted from send to arrival; [`render_plot`] draws time-sequence (tcptrace and
//! Stevens), throughput, RTT and cwnd plots as SVG, and [`svg::to_png`] rasterises any of
//! them.
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

pub mod analyze;
pub mod annotations;
pub mod capture;
pub mod infer;
pub mod ladder;
pub mod model;
pub mod plot;
mod seqspace;
pub mod svg;
pub mod svg_ladder;

pub use analyze::analyze;
pub use infer::{connections, syn_options, Connection};
pub use ladder::{ladder_lines, render_ladder, LadderOptions};
pub use model::{Marks, Peer, Sample, Segment, SegmentId, Side, TimelineEvent, Trace, Transition};
pub use plot::{render_plot, PlotKind, PlotOptions};
pub use svg_ladder::{render_svg_ladder, SvgLadderOptions};
