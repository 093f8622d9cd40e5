//! synack: a sans-IO TCP endpoint (RFC 9293). See DESIGN.md and the README.
#![forbid(unsafe_code)]

pub mod config;
pub mod endpoint;
pub mod error;
pub mod seq;
pub mod state;
pub mod time;
pub mod trace;

pub use config::{Config, Keepalive};
pub use endpoint::{CloseReason, ConnId, Endpoint, Event, ListenerId};
pub use error::Error;
pub use seq::SeqNum;
pub use state::State;
pub use time::Instant;
pub use trace::{DropReason, FourTuple, SegmentSummary, TraceEvent, TraceKind};
