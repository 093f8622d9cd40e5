//! `synack plot FILE --kind K --out X.svg|X.png`: time-sequence graphs (tcptrace and
//! Stevens style), throughput, RTT and cwnd of one direction of one connection.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use synack_trace::capture::read_capture_file;
use synack_trace::plot::busier_side;
use synack_trace::{connections, render_plot, PlotKind, PlotOptions, Side};

/// Options of `synack plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A pcap or pcapng file. synack's own pcapng (`--pcap x.pcapng`) also carries the
    /// sender's RTT samples and congestion window.
    pub file: PathBuf,
    /// stevens, tcptrace, throughput, rtt or cwnd.
    #[arg(long, default_value = "tcptrace")]
    pub kind: PlotKind,
    /// Where to write: `.svg` for SVG, `.png` for PNG.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Which connection (as `synack ladder FILE --list` numbers them); default: the one
    /// that carried the most data.
    #[arg(long, value_name = "N")]
    pub conn: Option<usize>,
    /// Which end's data to plot: `a` or `b`; default: the end that sent more.
    #[arg(long, value_name = "a|b", value_parser = parse_side)]
    pub sender: Option<Side>,
    /// Width of the image in pixels.
    #[arg(long, default_value_t = 960)]
    pub width: u32,
    /// Height of the image in pixels.
    #[arg(long, default_value_t = 540)]
    pub height: u32,
}

fn parse_side(s: &str) -> Result<Side, String> {
    match s {
        "a" | "A" => Ok(Side::A),
        "b" | "B" => Ok(Side::B),
        _ => Err(format!("{s:?} is not a side: use a or b")),
    }
}

/// Run `synack plot`.
pub fn run(args: &PlotArgs) -> ExitCode {
    match plot(args) {
        Ok(message) => {
            crate::say!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synack plot: {e}");
            ExitCode::FAILURE
        }
    }
}

fn plot(args: &PlotArgs) -> Result<String, String> {
    let png = match args.out.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("png") => true,
        Some(e) if e.eq_ignore_ascii_case("svg") => false,
        _ => {
            return Err(format!(
                "{}: the output must end in .svg or .png",
                args.out.display()
            ))
        }
    };
    if !(200..=10_000).contains(&args.width) || !(150..=10_000).contains(&args.height) {
        return Err("the image must be 200 to 10000 pixels wide and 150 to 10000 high".into());
    }
    let capture = read_capture_file(&args.file).map_err(|e| e.to_string())?;
    let conns = connections(&capture);
    let conn = match args.conn {
        Some(n) => conns.iter().find(|c| c.number == n).ok_or_else(|| {
            format!(
                "no connection {n} in {} (it has {})",
                args.file.display(),
                conns.len()
            )
        })?,
        None => conns
            .iter()
            .max_by_key(|c| (c.bytes().iter().sum::<u64>(), std::cmp::Reverse(c.number)))
            .ok_or_else(|| format!("no TCP connection in {}", args.file.display()))?,
    };
    let sender = args.sender.unwrap_or_else(|| busier_side(&conn.trace));
    let options = PlotOptions {
        sender: Some(sender),
        width: f64::from(args.width),
        height: f64::from(args.height),
        ..PlotOptions::new(args.kind)
    };
    let svg = render_plot(&conn.trace, &options)?;
    let bytes = if png {
        synack_trace::svg::to_png(&svg, 1.0)?
    } else {
        svg.into_bytes()
    };
    std::fs::write(&args.out, bytes)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let (from, to) = match sender {
        Side::A => (conn.a, conn.b),
        Side::B => (conn.b, conn.a),
    };
    Ok(format!(
        "wrote {} ({} plot of connection {}, data {from} -> {to})",
        args.out.display(),
        args.kind,
        conn.number
    ))
}
