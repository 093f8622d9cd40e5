//! `synack ladder FILE`: the TCP connections in a pcap or pcapng file, each drawn as an
//! RFC 9293-style ladder with both ends' inferred states.

use crate::term::{widest, Term};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use synack_trace::capture::{read_capture_file, Capture, Skip};
use synack_trace::{
    connections, render_ladder, render_svg_ladder, syn_options, Connection, LadderOptions, Side,
    SvgLadderOptions,
};

/// Options of `synack ladder`.
#[derive(Debug, Args)]
pub struct LadderArgs {
    /// A pcap or pcapng file (tcpdump, Wireshark, `synack demo --pcap`...).
    pub file: PathBuf,
    /// Draw only connection N (as numbered in the list).
    #[arg(long, value_name = "N")]
    pub conn: Option<usize>,
    /// Also write the ladder as an SVG drawing (one file per connection: with several,
    /// `OUT` gets `-N` before its extension).
    #[arg(long, value_name = "OUT")]
    pub svg: Option<PathBuf>,
    /// Hide the time column (seconds since the first packet of the file).
    #[arg(long)]
    pub no_times: bool,
    /// Show sequence numbers as on the wire instead of relative to each side's ISN.
    #[arg(long)]
    pub absolute: bool,
    /// Show the advertised window of every segment.
    #[arg(long)]
    pub window: bool,
    /// Show every option of every segment (time stamps, SACK blocks...).
    #[arg(long)]
    pub options: bool,
    /// Only list the connections.
    #[arg(long)]
    pub list: bool,
}

/// Run `synack ladder`.
pub fn run(args: &LadderArgs) -> ExitCode {
    let capture = match read_capture_file(&args.file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("synack ladder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let conns = connections(&capture);
    let term = Term::stdout();
    print_summary(&args.file, &capture, &conns);
    if let Some(w) = &capture.warning {
        crate::say!("warning: {w}");
    }
    if conns.is_empty() {
        crate::say!("(no TCP segments in this file)");
        return ExitCode::SUCCESS;
    }
    if args.list {
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<&Connection> = match args.conn {
        Some(n) => match conns.iter().find(|c| c.number == n) {
            Some(c) => vec![c],
            None => {
                eprintln!(
                    "synack ladder: no connection {n} in {} (it has {})",
                    args.file.display(),
                    conns.len()
                );
                return ExitCode::FAILURE;
            }
        },
        None => conns.iter().collect(),
    };
    let origin = capture.frames.first().map(|f| f.time);
    let mut ok = true;
    for conn in &chosen {
        crate::say!();
        print_connection(conn, args, origin, term);
        if let Some(out) = &args.svg {
            let path = if chosen.len() > 1 {
                numbered(out, conn.number)
            } else {
                out.clone()
            };
            let options = SvgLadderOptions {
                text: text_options(args, origin, false),
                title: None,
            };
            let title = format!("Connection {}: {} \u{2192} {}", conn.number, conn.a, conn.b);
            let svg = render_svg_ladder(&conn.trace, &options).replacen(
                ">TCP connection<",
                &format!(">{}<", synack_trace::svg::escape(&title)),
                2,
            );
            match std::fs::write(&path, svg) {
                Ok(()) => crate::say!("wrote {}", path.display()),
                Err(e) => {
                    eprintln!("synack ladder: cannot write {}: {e}", path.display());
                    ok = false;
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `out.svg` → `out-3.svg`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("ladder");
    let name = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-{n}.{ext}"),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

fn text_options(args: &LadderArgs, origin: Option<synack::Instant>, colour: bool) -> LadderOptions {
    LadderOptions {
        relative: !args.absolute,
        times: !args.no_times,
        window: args.window,
        options: args.options,
        syn_options: true,
        time_origin: origin,
        colour,
        ..LadderOptions::default()
    }
}

fn human_duration(d: core::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else {
        format!("{:.3} ms", s * 1000.0)
    }
}

fn print_summary(path: &Path, capture: &Capture, conns: &[Connection]) {
    let tcp = capture.tcp().count();
    let other = capture
        .frames
        .iter()
        .filter(|f| matches!(f.packet, Err(Skip::NotIp | Skip::NotTcp)))
        .count();
    let bad = capture.frames.len() - tcp - other;
    let mut line = format!(
        "{}: {}, {} packets ({} TCP",
        path.display(),
        capture.format.name(),
        capture.frames.len(),
        tcp
    );
    if other > 0 {
        line.push_str(&format!(", {other} other"));
    }
    if bad > 0 {
        line.push_str(&format!(", {bad} undecodable"));
    }
    line.push_str(&format!("), {} TCP connection(s)", conns.len()));
    crate::say!("{line}");
    if conns.is_empty() {
        return;
    }
    let rows: Vec<[String; 8]> = conns
        .iter()
        .map(|c| {
            let [a, b] = c.bytes();
            [
                c.number.to_string(),
                c.a.to_string(),
                c.b.to_string(),
                c.frames.len().to_string(),
                a.to_string(),
                b.to_string(),
                human_duration(c.duration()),
                format!(
                    "{} / {}",
                    c.trace.final_state(Side::A),
                    c.trace.final_state(Side::B)
                ),
            ]
        })
        .collect();
    let header = [
        "#",
        "peer A",
        "peer B",
        "segments",
        "bytes A>B",
        "bytes B>A",
        "duration",
        "last states (A / B)",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let fmt_row = |cells: &[&str]| {
        let mut out = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            // Numbers right-aligned, text left-aligned.
            let right = matches!(i, 0 | 3 | 4 | 5 | 6);
            if right {
                out.push_str(&format!(" {cell:>w$}"));
            } else {
                out.push_str(&format!(" {cell:<w$}"));
            }
        }
        out.trim_end().to_string()
    };
    crate::say!("{}", fmt_row(&header));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        crate::say!("{}", fmt_row(&cells));
    }
}

fn print_connection(
    conn: &Connection,
    args: &LadderArgs,
    origin: Option<synack::Instant>,
    term: Term,
) {
    crate::say!(
        "Connection {}: TCP Peer A = {}, TCP Peer B = {} (frames {})",
        conn.number,
        conn.a,
        conn.b,
        frame_ranges(&conn.frames)
    );
    for side in [Side::A, Side::B] {
        if let Some(o) = syn_options(&conn.trace, side) {
            let name = if side == Side::A { "A" } else { "B" };
            crate::say!("  SYN options of {name}: {o}");
        }
    }
    for note in &conn.notes {
        crate::say!("  note: {note}");
    }
    crate::say!();
    let mut options = text_options(args, origin, term.colour);
    let mut ladder = render_ladder(&conn.trace, &options);
    // Too wide for the terminal: drop what costs width, most expendable first.
    if let Some(width) = term.width {
        let shrinks: [fn(&mut synack_trace::LadderOptions); 3] = [
            |o| o.syn_options = false,
            |o| o.times = false,
            |o| o.spacing = false,
        ];
        for shrink in shrinks {
            if widest(&ladder) <= width {
                break;
            }
            shrink(&mut options);
            ladder = render_ladder(&conn.trace, &options);
        }
    }
    crate::term::emit(&ladder);
}

/// `[1,2,3,7,8]` → `1-3, 7-8`.
fn frame_ranges(frames: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut end = start;
        while i + 1 < frames.len() && frames[i + 1] == end + 1 {
            i += 1;
            end = frames[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ranges_are_compact() {
        assert_eq!(frame_ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(frame_ranges(&[]), "");
    }

    #[test]
    fn numbered_paths_keep_the_extension() {
        assert_eq!(
            numbered(Path::new("a/b.svg"), 2),
            PathBuf::from("a/b-2.svg")
        );
        assert_eq!(numbered(Path::new("x"), 1), PathBuf::from("x-1"));
    }
}
