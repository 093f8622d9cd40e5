//! synack: a sans-IO TCP endpoint (RFC 9293). See DESIGN.md and the README.
#![forbid(unsafe_code)]

pub mod config;
mod congestion;
mod connection;
pub mod endpoint;
pub mod error;
pub mod isn;
mod listener;
mod outbox;
pub mod reassembly;
pub mod rtt;
pub mod send_buffer;
pub mod seq;
mod slab;
pub mod state;
pub mod time;
mod time_wait;
pub mod timer;
pub mod trace;

pub use config::{Config, Keepalive};
pub use endpoint::{CloseReason, ConnId, Endpoint, Event, ListenerId};
pub use error::Error;
pub use seq::SeqNum;
pub use state::State;
pub use time::Instant;
pub use trace::{DropReason, FourTuple, SegmentSummary, TraceEvent, TraceKind};
