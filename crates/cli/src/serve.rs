//! `synack serve`: a TCP server running on synack, reached by the kernel (curl, Python,
//! anything) through a TUN device.
//!
//! ```text
//! synack serve --tun synack0 --host-addr 198.18.0.1/24 --stack-addr 198.18.0.2 --port 80 --http ./site
//! ```
//!
//! The stack answers on every `--stack-addr`, port `--port`, with one of four services:
//! `--echo` sends back what it reads, `--discard` reads and drops, `--source BYTES` sends
//! that many bytes of a fixed pseudo-random stream and closes, `--http DIR` is a small
//! HTTP/1.1 file server. It serves any number of connections at once until SIGINT or
//! SIGTERM (or, with `--once`, until the first connection has closed), then lets open
//! connections finish (up to `--linger` seconds), flushes the pcap file and prints what
//! crossed the device. Each connection gets a line on stderr when it opens and one when it
//! closes, with the byte counts and SHA-256 digests of both directions.

use crate::realnet::{describe, parse_bytes, summary, Interrupts, Pattern, Tally, TunArgs};
use clap::Args;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use synack_io::tokio_net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

/// Options of `synack serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub net: TunArgs,
    /// TCP port to listen on, on every stack address.
    #[arg(long)]
    pub port: u16,
    #[command(flatten)]
    pub mode: ModeArgs,
    /// Exit once the first connection has closed.
    #[arg(long)]
    pub once: bool,
    /// On exit, wait at most this many seconds for open connections to deliver what they
    /// still hold and finish closing.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub linger: u64,
}

/// The service (exactly one).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ModeArgs {
    /// Send back everything received; close after the client does.
    #[arg(long)]
    pub echo: bool,
    /// Read and drop everything received; close after the client does.
    #[arg(long)]
    pub discard: bool,
    /// Send this many bytes (100000, 64k, 100M, 100Mi, ...) of a fixed pseudo-random
    /// stream, then close.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub source: Option<u64>,
    /// Serve the files under this directory over HTTP/1.1 (GET and HEAD, Content-Length,
    /// keep-alive, 404).
    #[arg(long, value_name = "DIR")]
    pub http: Option<PathBuf>,
}

#[derive(Debug, Clone)]
enum Mode {
    Echo,
    Discard,
    Source(u64),
    Http(Arc<PathBuf>),
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::Echo => write!(f, "echo"),
            Mode::Discard => write!(f, "discard"),
            Mode::Source(n) => write!(f, "source of {n} bytes"),
            Mode::Http(dir) => write!(f, "HTTP for {}", dir.display()),
        }
    }
}

/// Run `synack serve`.
pub fn run(args: &ServeArgs) -> ExitCode {
    let mode = if args.mode.echo {
        Mode::Echo
    } else if args.mode.discard {
        Mode::Discard
    } else if let Some(n) = args.mode.source {
        Mode::Source(n)
    } else if let Some(dir) = &args.mode.http {
        match std::fs::canonicalize(dir) {
            Ok(d) if d.is_dir() => Mode::Http(Arc::new(d)),
            _ => {
                eprintln!("synack serve: {} is not a directory", dir.display());
                return ExitCode::FAILURE;
            }
        }
    } else {
        eprintln!("synack serve: choose one of --echo, --discard, --source, --http");
        return ExitCode::FAILURE;
    };
    // Before any thread starts, so that every thread inherits the blocked mask.
    let interrupts = Interrupts::block();
    let stack = match args.net.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("synack serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("synack serve: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (code, interrupted) = runtime.block_on(serve(&stack, args, mode, interrupts));
    drop(runtime);
    let linger = if interrupted {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(args.linger)
    };
    if !stack.wait_idle(linger) {
        eprintln!(
            "synack serve: {} connection(s) still open after {} s; leaving them",
            stack.connection_count(),
            linger.as_secs()
        );
    }
    let stopped = stack.stop();
    eprintln!("synack serve: done: {}", summary(&stack));
    if let Err(e) = stopped {
        eprintln!("synack serve: {e}");
        return ExitCode::FAILURE;
    }
    code
}

/// Accept and serve until interrupted (or, with `--once`, until the first connection has
/// been served). Returns the exit code and whether an interrupt ended it.
async fn serve(
    stack: &synack_io::Stack,
    args: &ServeArgs,
    mode: Mode,
    interrupts: Interrupts,
) -> (ExitCode, bool) {
    let mut listeners = Vec::new();
    for p in stack.addrs() {
        match TcpListener::bind(stack, SocketAddr::new(p.stack, args.port)).await {
            Ok(l) => listeners.push(l),
            Err(e) => {
                eprintln!("synack serve: listening on {}:{}: {e}", p.stack, args.port);
                return (ExitCode::FAILURE, false);
            }
        }
    }
    let on: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();
    eprintln!(
        "synack serve: {mode} on {}; {}",
        on.join(" and "),
        describe(stack)
    );
    let (tx, mut interrupted) = tokio::sync::oneshot::channel();
    interrupts.on_interrupt(move |sig| {
        let _ = tx.send(sig);
    });
    let mut tasks = JoinSet::new();
    let mut first = None;
    let mut code = ExitCode::SUCCESS;
    let mut was_interrupted = false;
    loop {
        tokio::select! {
            sig = &mut interrupted => {
                eprintln!("synack serve: {}: stopping", sig.unwrap_or("interrupted"));
                was_interrupted = true;
                break;
            }
            r = accept_any(&listeners) => match r {
                Ok((stream, peer)) => {
                    eprintln!("synack serve: {peer}: connected");
                    let handle = tasks.spawn(handle(stream, peer, mode.clone()));
                    if first.is_none() {
                        first = Some(handle.id());
                    }
                }
                Err(e) => {
                    eprintln!("synack serve: accept: {e}");
                    code = ExitCode::FAILURE;
                    break;
                }
            },
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                if args.once && first == Some(id) {
                    break;
                }
            }
        }
    }
    drop(listeners);
    // Connections still being served are closed (dropping a stream closes it).
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    (code, was_interrupted)
}

/// The next connection on any of the listeners.
async fn accept_any(listeners: &[TcpListener]) -> io::Result<(TcpStream, SocketAddr)> {
    poll_fn(|cx| {
        for l in listeners {
            if let Poll::Ready(r) = l.poll_accept(cx) {
                return Poll::Ready(r);
            }
        }
        Poll::Pending
    })
    .await
}

/// Serve one connection and report how it went.
async fn handle(mut stream: TcpStream, peer: SocketAddr, mode: Mode) {
    let result = match &mode {
        Mode::Echo => echo(&mut stream).await,
        Mode::Discard => discard(&mut stream).await,
        Mode::Source(n) => source(&mut stream, *n).await,
        Mode::Http(dir) => crate::http::serve(&mut stream, dir).await,
    };
    match result {
        Ok(report) => eprintln!("synack serve: {peer}: closed: {report}"),
        Err(e) => eprintln!("synack serve: {peer}: {e}"),
    }
}

const CHUNK: usize = 64 * 1024;

async fn echo(s: &mut TcpStream) -> io::Result<String> {
    let (mut rx, mut tx) = (Tally::new(), Tally::new());
    let mut buf = vec![0; CHUNK];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        rx.add(&buf[..n]);
        s.write_all(&buf[..n]).await?;
        tx.add(&buf[..n]);
    }
    s.shutdown().await?;
    Ok(format!("received {}, sent {}", rx.finish(), tx.finish()))
}

async fn discard(s: &mut TcpStream) -> io::Result<String> {
    let mut rx = Tally::new();
    let mut buf = vec![0; CHUNK];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        rx.add(&buf[..n]);
    }
    s.shutdown().await?;
    Ok(format!("received {}", rx.finish()))
}

async fn source(s: &mut TcpStream, total: u64) -> io::Result<String> {
    let mut tx = Tally::new();
    let mut pattern = Pattern::new();
    let mut buf = vec![0; CHUNK];
    let mut left = total;
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
        pattern.fill(&mut buf[..n]);
        s.write_all(&buf[..n]).await?;
        tx.add(&buf[..n]);
        left -= n as u64;
    }
    s.shutdown().await?;
    // Read until the client closes too, so that nothing it sent is left unread (which
    // would turn our close into a RST).
    let mut rx = Tally::new();
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        rx.add(&buf[..n]);
    }
    Ok(format!("sent {}, received {}", tx.finish(), rx.finish()))
}
