//! synack-sim: a deterministic network for synack endpoints.
//!
//! A [`Sim`] holds a virtual clock, any number of hosts — each a [`synack::Endpoint`]
//! with one or more addresses — and one-directional links between pairs of hosts, each
//! with its own [`LinkConfig`]: latency, rate (serialisation delay), a drop-tail queue,
//! and random loss, duplication, reordering and corruption (see the [`link`] module for
//! the exact model). Datagrams are routed by destination address.
//!
//! # Determinism
//!
//! Nothing reads a wall clock or the operating system's randomness. All randomness comes
//! from [`Rng`] (xoshiro256**) streams derived from the seed given to [`Sim::new`]: one
//! per link direction and one per host's endpoint secret. Same seed, same calls → the same
//! run, datagram for datagram. A failing randomized test only needs to print its seed.
//!
//! # The event loop
//!
//! [`Sim::step`] advances the clock to the earliest of the next datagram arrival and the
//! earliest endpoint timer (`Endpoint::poll_timeout`), handles it (`handle_timeout` for
//! every host whose timer is due, or `handle` for the datagram), then drains every
//! endpoint's `poll_transmit` onto the links. [`Sim::run_until`], [`Sim::run_while`]
//! (whose closure may also play the applications: accept, send, recv, close) and
//! [`Sim::run_until_idle`] are loops over it, all bounded by a step limit so that a bug
//! cannot hang a test.
//!
//! # Records and traces
//!
//! Every datagram put on a link is a [`PacketRecord`] (who sent it, when, and whether it
//! was delivered or dropped and why, whether it is a network duplicate, which bit was
//! corrupted, its bytes). Every endpoint trace event is kept as a [`HostEvent`] tagged
//! with its host. [`Sim::trace_between`] turns both into the shared
//! [`synack_trace::Trace`] model, ready for [`synack_trace::render_ladder`];
//! [`Sim::trace_with_metrics`] adds the senders' RTT and cwnd samples, and
//! [`Sim::write_capture`] writes every datagram to a pcap or pcapng file (with arrival
//! times, losses and metrics in pcapng packet comments).
//!
//! # Scenarios
//!
//! [`Exchange`] is a ready-made load: a client sends bytes, the server echoes them, both
//! close, each side checks what it read. `synack demo` is this exchange on two hosts.
//!
//! # Soak
//!
//! [`soak`] plays random scenarios on hostile networks (loss up to 30 %, reordering,
//! duplication, corruption, zero windows, half-closes, aborts, crashed hosts) and
//! checks the invariants every run must keep; `cargo run --release -p synack-sim
//! --example soak -- --seeds N [--from S]` runs N of them.
//!
//! # Test hooks
//!
//! [`Sim::set_filter`] puts a closure on a link direction that sees each datagram (parsed
//! when it parses, with its index) and says [`FilterAction::Deliver`], `Drop` or
//! `Delay(extra)`: "drop the first SYN-ACK" is three lines. [`Sim::inject`] delivers a
//! hand-made datagram at a chosen time. [`Sim::endpoint_mut`] gives the endpoints.
//!
//! # Example
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr, SocketAddr};
//! use core::time::Duration;
//! use synack::{Config, Instant, State};
//! use synack_sim::{Exchange, FilterAction, LinkConfig, Sim};
//! use synack_trace::{render_ladder, LadderOptions, Side};
//!
//! let client_ip = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
//! let server_ip = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
//! let mut sim = Sim::new(1);
//! let client = sim.add_host("client", Config::default(), &[client_ip]);
//! let server = sim.add_host("server", Config::default(), &[server_ip]);
//! sim.link(client, server, LinkConfig::default().latency(Duration::from_millis(10)));
//! // Drop the first SYN-ACK.
//! let mut dropped = false;
//! sim.set_filter(server, client, move |ctx| {
//!     if ctx.is_syn_ack() && !dropped {
//!         dropped = true;
//!         FilterAction::Drop
//!     } else {
//!         FilterAction::Deliver
//!     }
//! });
//! let server_addr = SocketAddr::new(server_ip, 80);
//! let mut exchange =
//!     Exchange::start(&mut sim, client, client_ip, server, server_addr, vec![7; 1000]).unwrap();
//! let report = exchange.run(&mut sim, Instant::from_millis(600_000)).unwrap();
//! assert!(report.success());
//!
//! let trace = sim.trace_between(client, server).unwrap();
//! assert_eq!(trace.final_state(Side::A), State::Closed);
//! let ladder = render_ladder(&trace, &LadderOptions::default());
//! assert!(ladder.contains("(lost) X <-- <SEQ=0><ACK=1><CTL=SYN,ACK>"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod capture;
mod convert;
pub mod exchange;
mod filter;
pub mod link;
mod record;
pub mod rng;
mod sim;
pub mod soak;

pub use exchange::{Exchange, Report};
pub use filter::{FilterAction, FilterContext};
pub use link::{DropCause, LinkConfig};
pub use record::{HostEvent, Outcome, PacketRecord};
pub use rng::Rng;
pub use sim::{HostId, Sim, SimError, Stop, DEFAULT_STEP_LIMIT};
