//! Fuzz harnesses for synack (DESIGN.md "Tests, in layers", layer 6).
//!
//! The harness logic lives here, in an ordinary workspace crate, so that the same code
//! runs under `cargo fuzz` (the thin targets in `fuzz/fuzz_targets/`) and under stable
//! `cargo test`, which replays the committed corpus (`fuzz/corpus/<target>/`, see
//! `tests/corpus_replay.rs`).
//!
//! - [`run_wire`]: bytes through the wire parser, and emit → parse round trips
//!   ([`wire`]).
//! - [`run_endpoint`]: an arbitrary sequence of packets, clock moves and application
//!   calls against an endpoint, with invariants checked after every step
//!   ([`endpoint`]).
//!
//! Both panic when a property fails; any panic is a finding.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod endpoint;
pub mod wire;

pub use endpoint::{run_endpoint, run_input, EndpointInput};
pub use wire::run_wire;
