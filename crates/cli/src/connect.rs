//! `synack connect`: netcat on synack. It opens a connection from synack's address to
//! HOST:PORT (a kernel program, reached through the TUN device), copies standard input
//! to the connection and the connection to standard output, sends a FIN when standard
//! input ends, and exits once the peer has closed its side too.
//!
//! ```text
//! echo -e 'GET / HTTP/1.0\r\n\r\n' | \
//!   synack connect --tun synack0 --host-addr 198.18.0.1/24 --stack-addr 198.18.0.2 198.18.0.1:8000
//! ```
//!
//! Exit status: 0 when both directions closed normally; 2 when the connection was
//! refused, 3 when it was reset, 4 when it timed out, 1 for anything else, each with a
//! one-line reason on stderr.

use crate::realnet::{describe, summary, Interrupts, TunArgs};
use clap::Args;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use synack_io::TcpStream;

/// Options of `synack connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub net: TunArgs,
    /// Where to connect: an IPv4 or IPv6 address and a port (`198.18.0.1:8000`,
    /// `[fd00::1]:8000`), or a host name the system resolves (`/etc/hosts`, DNS) and a
    /// port; the first address of a family synack has (`--stack-addr`) is used.
    #[arg(value_name = "HOST:PORT")]
    pub target: String,
    /// Give up opening the connection after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub connect_timeout: u64,
    /// Say on stderr when the connection opens and closes, and what crossed the device.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `HOST:PORT` as an address: a literal, or the first address the system's resolver gives
/// for the name in a family one of synack's own addresses has.
fn resolve(target: &str, own: &[IpAddr]) -> Result<SocketAddr, String> {
    if let Ok(addr) = target.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let candidates: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .collect();
    candidates
        .iter()
        .find(|a| own.iter().any(|o| o.is_ipv4() == a.is_ipv4()))
        .copied()
        .ok_or_else(|| {
            format!(
                "no address of a family synack has (resolved to {})",
                candidates
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// How the copying ended, when it did not end well.
enum Failure {
    Io(&'static str, io::Error),
}

fn exit_for(e: &io::Error) -> ExitCode {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ExitCode::from(2),
        io::ErrorKind::ConnectionReset => ExitCode::from(3),
        io::ErrorKind::TimedOut => ExitCode::from(4),
        _ => ExitCode::FAILURE,
    }
}

/// Run `synack connect`.
pub fn run(args: &ConnectArgs) -> ExitCode {
    let interrupts = Interrupts::block();
    let stack = match args.net.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("synack connect: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.verbose {
        eprintln!("synack connect: {}", describe(&stack));
    }
    let target = match resolve(&args.target, &args.net.stack_addr) {
        Ok(t) => t,
        Err(why) => {
            eprintln!("synack connect: {}: {why}", args.target);
            let _ = stack.stop();
            return ExitCode::FAILURE;
        }
    };
    let stream = match TcpStream::connect_timeout(
        &stack,
        &target,
        Duration::from_secs(args.connect_timeout.max(1)),
    ) {
        Ok(s) => s,
        Err(e) => {
            let why = match e.kind() {
                io::ErrorKind::ConnectionRefused => {
                    "connection refused (the peer answered with a RST)".to_string()
                }
                io::ErrorKind::TimedOut => format!(
                    "connection timed out after {} s",
                    args.connect_timeout.max(1)
                ),
                _ => e.to_string(),
            };
            eprintln!("synack connect: {}: {why}", args.target);
            let _ = stack.stop();
            return exit_for(&e);
        }
    };
    if args.verbose {
        if let Ok(local) = stream.local_addr() {
            eprintln!("synack connect: {local} -> {}: connected", args.target);
        }
    }
    // Ctrl-C: reset the connection (the peer learns at once), flush the pcap file, exit.
    let for_interrupt = Arc::new(Mutex::new(stream.try_clone().ok()));
    {
        let slot = for_interrupt.clone();
        let stack = stack.clone();
        interrupts.on_interrupt(move |sig| {
            if let Some(s) = slot.lock().ok().and_then(|mut s| s.take()) {
                let _ = s.abort();
            }
            let _ = stack.stop();
            eprintln!("synack connect: {sig}: connection reset");
            std::process::exit(130);
        });
    }

    // Standard input -> connection, on a thread of its own.
    let (done_tx, done_rx) = mpsc::channel::<Result<(), Failure>>();
    let writer = match stream.try_clone() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("synack connect: {e}");
            return ExitCode::FAILURE;
        }
    };
    std::thread::spawn(move || {
        let r = copy_stdin(&writer);
        let _ = done_tx.send(r);
    });

    // Connection -> standard output, here.
    let mut reader = &stream;
    let mut stdout = io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let received = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = stdout.write_all(&buf[..n]).and_then(|()| stdout.flush()) {
                    break Err(Failure::Io("writing standard output", e));
                }
            }
            Err(e) => break Err(Failure::Io("receiving", e)),
        }
    };
    let outcome = received.and_then(|()| {
        // The peer has closed its side; wait until our side is done as well.
        done_rx.recv().unwrap_or(Err(Failure::Io(
            "sending",
            io::Error::other("stdin thread died"),
        )))
    });
    if let Err(Failure::Io(what, e)) = outcome {
        let why = match e.kind() {
            io::ErrorKind::ConnectionReset => "connection reset by peer".to_string(),
            io::ErrorKind::TimedOut => {
                "connection timed out (retransmissions went unanswered)".to_string()
            }
            _ => e.to_string(),
        };
        eprintln!("synack connect: {}: {what}: {why}", args.target);
        let _ = stream.abort();
        let _ = stack.stop();
        return exit_for(&e);
    }
    // Both directions are closed: let our last ACK go out and the stack settle (our FIN
    // acknowledged), then leave. TIME-WAIT ends with the process.
    let state = stream.state();
    if let Ok(mut s) = for_interrupt.lock() {
        s.take();
    }
    drop(stream);
    stack.wait_idle(Duration::from_secs(5));
    let stopped = stack.stop();
    if args.verbose {
        eprintln!(
            "synack connect: closed ({}); {}",
            state.map_or("gone".to_string(), |s| s.to_string()),
            summary(&stack)
        );
    }
    if let Err(e) = stopped {
        eprintln!("synack connect: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Copy standard input to the connection; at its end, send a FIN.
fn copy_stdin(stream: &TcpStream) -> Result<(), Failure> {
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let mut w = stream;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Io("reading standard input", e)),
        };
        w.write_all(&buf[..n])
            .map_err(|e| Failure::Io("sending", e))?;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| Failure::Io("closing", e))
}
