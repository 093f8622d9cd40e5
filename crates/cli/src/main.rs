//! `synack`: the command-line front door of the synack TCP/IP stack.
//!
//! Each subcommand lives in its own module and only wires existing crates together: the
//! simulator (`synack-sim`) runs the endpoints, `synack-trace` reads captures and draws
//! what happened, `synack-io` runs synack on a TUN device for `serve` and `connect`,
//! and `synack-script` plays packetdrill-style scripts (see DESIGN.md).
#![forbid(unsafe_code)]

mod connect;
mod demo;
mod explain;
mod http;
mod ladder;
mod plot;
mod realnet;
mod script;
mod serve;
mod term;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// synack: a userspace TCP/IP stack (RFC 9293) that shows its work.
#[derive(Debug, Parser)]
#[command(name = "synack", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a client and a server over a simulated network, draw the connection as an
    /// RFC 9293 ladder diagram and check that the data arrived intact.
    Demo(demo::DemoArgs),
    /// Play a textbook TCP scenario in the simulator (handshake, close, TIME-WAIT,
    /// resets...) and explain the ladder step by step: what each side knows and why.
    Explain(explain::ExplainArgs),
    /// List the TCP connections of a pcap/pcapng file and draw each as an RFC 9293
    /// ladder with both ends' inferred states.
    Ladder(ladder::LadderArgs),
    /// Plot one direction of a connection in a pcap/pcapng file: time-sequence
    /// (tcptrace, stevens), throughput, RTT or cwnd, as SVG or PNG.
    Plot(plot::PlotArgs),
    /// Serve TCP on a TUN device to the kernel's programs (curl, Python, ...): echo,
    /// discard, a byte source, or static files over HTTP/1.1.
    Serve(Box<serve::ServeArgs>),
    /// netcat on a TUN device: connect to a kernel program, stdin to the connection,
    /// the connection to stdout.
    Connect(Box<connect::ConnectArgs>),
    /// Run packetdrill-style scripts (a directory: every .pkt below it) against synack
    /// on a virtual clock; ends with `N passed, M failed`, non-zero if any failed.
    Script(script::ScriptArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Ladder(args) => ladder::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Connect(args) => connect::run(&args),
        Command::Script(args) => script::run(&args),
    }
}
