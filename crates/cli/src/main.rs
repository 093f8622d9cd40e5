//! `synack`: the command-line front door of the synack TCP/IP stack.
//!
//! Each subcommand lives in its own module and only wires existing crates together: the
//! simulator (`synack-sim`) runs the endpoints, `synack-trace` draws what they did. Today
//! there is `demo`; `explain`, `ladder`, `plot`, `serve`, `connect` and `script` will
//! join it as the crates they need grow (see DESIGN.md).
#![forbid(unsafe_code)]

mod demo;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
    }
}
