//! `synack demo`: a client and a server on a simulated network, one echo exchange, the
//! ladder diagram of what TCP did, and a verdict.
//!
//! The client (198.18.0.1) connects to the server (198.18.0.2:80), sends `--bytes` bytes
//! of pseudo-random data derived from the seed, reads the echo, and shuts down; the
//! server echoes, reads to end of stream and closes; the client's side waits out
//! TIME-WAIT (2 × MSL on the virtual clock). The exit status is 0 only if the data
//! arrived intact both ways and both connections ended CLOSED within the time limit.

use clap::Args;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;
use synack::{Config, Instant, State};
use synack_sim::{DropCause, Exchange, LinkConfig, Outcome, Report, Rng, Sim};
use synack_trace::capture::Format;
use synack_trace::{
    render_ladder, render_svg_ladder, LadderOptions, Side, SvgLadderOptions, Trace,
};

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const SERVER_PORT: u16 = 80;
/// The random stream the demo's payload is drawn from (independent of the network's).
const PAYLOAD_STREAM: u64 = 0xDA7A;
/// Give up after this much virtual time.
const TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Options of `synack demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the run: same seed, same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Probability that the network loses a datagram, each direction (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub loss: f64,
    /// Bytes the client sends (and the server echoes back).
    #[arg(long, default_value_t = 1000)]
    pub bytes: usize,
    /// One-way latency of the link, in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub latency_ms: u64,
    /// Show each line's virtual time in the ladder.
    #[arg(long)]
    pub times: bool,
    /// Show sequence numbers as on the wire instead of relative to each side's ISN.
    #[arg(long)]
    pub absolute: bool,
    /// Write every datagram of the run to a capture file: pcapng if OUT ends in
    /// `.pcapng` (with arrival times, losses and the senders' RTT and cwnd in each
    /// packet's comment), pcap otherwise. Read it with `synack ladder`, `synack plot`,
    /// Wireshark or tshark.
    #[arg(long, value_name = "OUT")]
    pub pcap: Option<PathBuf>,
    /// Also draw the ladder as SVG, with arrows slanted from send to arrival time.
    #[arg(long, value_name = "OUT")]
    pub svg: Option<PathBuf>,
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability between 0 and 1"))
    }
}

/// Run the demo and print the ladder and the verdict.
pub fn run(args: &DemoArgs) -> ExitCode {
    let mut sim = Sim::new(args.seed);
    let client = sim.add_host("client", Config::default(), &[IpAddr::V4(CLIENT_IP)]);
    let server = sim.add_host("server", Config::default(), &[IpAddr::V4(SERVER_IP)]);
    let link = LinkConfig::default()
        .latency(Duration::from_millis(args.latency_ms))
        .loss(args.loss);
    sim.link(client, server, link);

    let mut data = vec![0u8; args.bytes];
    Rng::derive(args.seed, PAYLOAD_STREAM).fill(&mut data);
    let server_addr = SocketAddr::new(IpAddr::V4(SERVER_IP), SERVER_PORT);
    let mut exchange = match Exchange::start(
        &mut sim,
        client,
        IpAddr::V4(CLIENT_IP),
        server,
        server_addr,
        data,
    ) {
        Ok(exchange) => exchange,
        Err(e) => {
            eprintln!("synack demo: could not start the exchange: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = match exchange.run(&mut sim, Instant::ZERO + TIME_LIMIT) {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "synack demo: the simulation stopped: {e} (seed {})",
                args.seed
            );
            return ExitCode::FAILURE;
        }
    };

    println!(
        "synack demo: seed {}, loss {}, {} bytes each way, {} ms one-way latency",
        args.seed, args.loss, args.bytes, args.latency_ms
    );
    let trace = sim.trace_between(client, server);
    match &trace {
        Some(trace) => {
            let peer = |side| {
                let p = trace.peer(side);
                p.addr.map_or(p.name.clone(), |a| format!("{} {a}", p.name))
            };
            println!(
                "TCP Peer A = {}, TCP Peer B = {}",
                peer(Side::A),
                peer(Side::B)
            );
            println!();
            let mut shown = trace.clone();
            shown.peer_mut(Side::A).name = "TCP Peer A".to_string();
            shown.peer_mut(Side::B).name = "TCP Peer B".to_string();
            let options = LadderOptions {
                relative: !args.absolute,
                times: args.times,
                colour: crate::term::Term::stdout().colour,
                ..LadderOptions::default()
            };
            print!("{}", render_ladder(&shown, &options));
            if let Some(path) = &args.svg {
                let svg_options = SvgLadderOptions {
                    text: LadderOptions {
                        relative: !args.absolute,
                        ..LadderOptions::default()
                    },
                    title: Some("synack demo"),
                };
                if let Err(e) = std::fs::write(path, render_svg_ladder(&shown, &svg_options)) {
                    eprintln!("synack demo: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        None => println!("(no connection was traced)"),
    }
    println!();
    let ok = print_verdict(&sim, client, server, &report, trace.as_ref());
    if let Some(path) = &args.pcap {
        let about = format!(
            "synack demo --seed {} --loss {} --bytes {} --latency-ms {} (virtual time)",
            args.seed, args.loss, args.bytes, args.latency_ms
        );
        if let Err(e) = write_capture(&mut sim, path, &about) {
            eprintln!("synack demo: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn state_name(state: Option<State>) -> &'static str {
    state.map_or("CLOSED", State::name)
}

/// Print the verdict; true if the run succeeded.
fn print_verdict(
    sim: &Sim,
    client: synack_sim::HostId,
    server: synack_sim::HostId,
    report: &Report,
    trace: Option<&Trace>,
) -> bool {
    let intact = |ok: bool| if ok { "intact" } else { "NOT INTACT" };
    println!("Verdict");
    println!(
        "  client -> server: {} bytes sent, {} received, {}",
        report.client_sent,
        report.server_received,
        intact(report.server_received_intact)
    );
    println!(
        "  server -> client: {} bytes sent, {} received, {}",
        report.server_sent,
        report.client_received,
        intact(report.client_received_intact)
    );
    let packets = sim.packets();
    let lost = packets
        .iter()
        .filter(|p| {
            matches!(
                p.outcome,
                Outcome::Dropped {
                    reason: DropCause::Loss
                }
            )
        })
        .count();
    println!(
        "  datagrams: {} sent, {} lost by the network",
        packets.len(),
        lost
    );
    println!(
        "  retransmissions: client {}, server {}",
        sim.retransmissions(client),
        sim.retransmissions(server)
    );
    let through_time_wait = trace.is_some_and(|t| {
        t.transitions()
            .iter()
            .any(|tr| tr.side == Side::A && tr.to == State::TimeWait)
    });
    println!(
        "  final states: client {}{}, server {}",
        state_name(report.client_state),
        if through_time_wait {
            " (through TIME-WAIT)"
        } else {
            ""
        },
        if report.server_accepted {
            state_name(report.server_state)
        } else {
            "(never accepted a connection)"
        }
    );
    println!("  virtual time elapsed: {:?}", report.elapsed);
    for e in &report.errors {
        println!("  error: {e}");
    }
    let ok = report.success();
    if ok {
        println!("  result: OK");
    } else if report.timed_out {
        println!(
            "  result: FAILED (not finished within {:?} of virtual time; seed {})",
            TIME_LIMIT,
            sim.seed()
        );
    } else {
        println!("  result: FAILED (seed {})", sim.seed());
    }
    ok
}

/// Write the simulator's capture to `path` (pcapng or pcap by extension).
pub fn write_capture(sim: &mut Sim, path: &std::path::Path, about: &str) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    sim.write_capture(file, Format::for_path(path), about)
}
