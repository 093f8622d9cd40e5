//! # synack-io: synack on a real network
//!
//! This crate runs the sans-IO [`synack::Endpoint`] on a Linux TUN device so that real
//! programs — curl, Python, anything using the kernel's TCP — talk to it:
//!
//! - [`TunConfig`] / the device: synack creates the TUN interface, gives the kernel's end
//!   the *host* address (e.g. `198.18.0.1/24`), brings it up, and answers for the *stack*
//!   address (e.g. `198.18.0.2`) itself; IPv4 and IPv6; GSO/GRO offloads by default.
//! - [`Stack`]: the runtime. One event-loop thread drives the endpoint from the device and
//!   its timers (`ppoll` on the device and an eventfd, with the timeout the endpoint asks
//!   for: no busy polling).
//! - Sockets: blocking [`TcpListener`]/[`TcpStream`] mirroring `std::net`, and
//!   [`tokio_net::TcpListener`]/[`tokio_net::TcpStream`] implementing tokio's
//!   `AsyncRead`/`AsyncWrite`. Errors are `std::io::Error`s of the usual kinds.
//! - [`Impairment`]: the simulator's link model (loss, duplication, reordering, delay,
//!   corruption) between the device and the stack, both ways.
//! - [`PcapRecorder`]: every datagram crossing the device, as a pcap file.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use synack_io::{Stack, StackConfig, TcpStream, TunConfig};
//!
//! // Needs root (CAP_NET_ADMIN) and /dev/net/tun.
//! let tun = TunConfig::new("synack0", "198.18.0.1/24".parse()?, "198.18.0.2".parse()?);
//! let stack = Stack::start(StackConfig::new(tun))?;
//! // A kernel program listening on 198.18.0.1:8000 (e.g. `python3 -m http.server`):
//! let mut s = TcpStream::connect(&stack, "198.18.0.1:8000")?;
//! s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
//! s.shutdown(std::net::Shutdown::Write)?;
//! let mut page = String::new();
//! s.read_to_string(&mut page)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod impair;
pub mod net;
pub mod netns;
pub mod pcap;
mod stack;
pub mod tokio_net;
pub mod tun;

pub use error::to_io;
pub use impair::{ImpairError, Impairment, PathStats};
pub use net::{TcpListener, TcpStream};
pub use pcap::PcapRecorder;
pub use stack::{Stack, StackConfig, Stats};
pub use tun::{AddrPair, HostAddr, TunConfig};
