//! `synack explain`: textbook TCP scenarios played in the simulator, each printed as a
//! ladder with numbered explanations keyed to its lines — what each side sends, what it
//! learns, and why its state changes. Every scenario runs with a fixed seed, so the
//! output is the same every time (the golden tests hold it to that).

mod narrate;
pub mod scenarios;

use crate::term::{wrap, Term};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use synack_trace::{
    ladder_lines, render_ladder, render_svg_ladder, LadderOptions, Side, SvgLadderOptions,
};

/// Options of `synack explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The scenario (see `--list`).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// List the scenarios.
    #[arg(long)]
    pub list: bool,
    /// Also draw the ladder as SVG, arrows slanted from send to arrival time.
    #[arg(long, value_name = "OUT")]
    pub svg: Option<PathBuf>,
    /// Write the scenario's datagrams to a capture (pcapng if OUT ends in `.pcapng`).
    #[arg(long, value_name = "OUT")]
    pub pcap: Option<PathBuf>,
    /// Show each line's virtual time.
    #[arg(long)]
    pub times: bool,
}

/// Run `synack explain`.
pub fn run(args: &ExplainArgs) -> ExitCode {
    if args.list {
        crate::term::emit(&list());
        return ExitCode::SUCCESS;
    }
    let Some(name) = args.name.as_deref() else {
        eprintln!("synack explain: name a scenario (see --list)");
        return ExitCode::FAILURE;
    };
    let term = Term::stdout();
    match explain(name, args.times, term) {
        Ok((text, played)) => {
            crate::term::emit(&text);
            let mut played = played;
            if let Some(path) = &args.svg {
                let scenario = scenarios::all().into_iter().find(|s| s.name == name);
                let options = SvgLadderOptions {
                    text: LadderOptions {
                        relative: scenario.is_none_or(|s| s.relative),
                        ..LadderOptions::default()
                    },
                    title: scenario.map(|s| s.title),
                };
                if let Err(e) = std::fs::write(path, render_svg_ladder(&played.trace, &options)) {
                    eprintln!("synack explain: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                crate::say!("wrote {}", path.display());
            }
            if let Some(path) = &args.pcap {
                let about = format!("synack explain {name} (seed {})", scenarios::SEED);
                if let Err(e) = crate::demo::write_capture(&mut played.sim, path, &about) {
                    eprintln!("synack explain: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                crate::say!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synack explain: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `--list` text.
pub fn list() -> String {
    let all = scenarios::all();
    let w = all.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = String::from("Scenarios (synack explain NAME):\n\n");
    for s in &all {
        let _ = writeln!(out, "  {:<w$}  {}", s.name, s.blurb);
        if let Err(why) = s.play {
            let _ = writeln!(out, "  {:<w$}  ({why})", "");
        }
    }
    out
}

/// Play scenario `name` and write its explanation.
pub fn explain(name: &str, times: bool, term: Term) -> Result<(String, scenarios::Played), String> {
    let all = scenarios::all();
    let Some(scenario) = all.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = all.iter().map(|s| s.name).collect();
        return Err(format!(
            "no scenario {name:?}; there are: {}",
            names.join(", ")
        ));
    };
    let play = scenario.play.map_err(|why| format!("{name}: {why}"))?;
    let played = play().map_err(|e| format!("{name}: the simulation went wrong: {e}"))?;
    let trace = &played.trace;
    let width = term.width.unwrap_or(96).clamp(60, 110);
    let mut out = String::new();
    let _ = writeln!(out, "{}", scenario.title);
    let _ = writeln!(out, "{}", "=".repeat(scenario.title.chars().count()));
    let _ = writeln!(out);
    let peer = |side: Side| {
        let p = trace.peer(side);
        p.addr.map_or(String::new(), |a| a.to_string())
    };
    let _ = writeln!(
        out,
        "{}",
        wrap(
            &format!(
                "A ({}) and B ({}) in the simulator, 10 ms apart (seed {}). Sequence numbers \
                 are {}.",
                peer(Side::A),
                peer(Side::B),
                scenarios::SEED,
                if scenario.relative {
                    "relative to each side's initial sequence number (ISN), as Wireshark shows them"
                } else {
                    "as on the wire"
                }
            ),
            width,
            0
        )
    );
    let _ = writeln!(out);
    let options = LadderOptions {
        relative: scenario.relative,
        times,
        colour: term.colour,
        ..LadderOptions::default()
    };
    out.push_str(&render_ladder(trace, &options));
    let _ = writeln!(out);
    let lines = ladder_lines(trace);
    for (number, text) in narrate::explain(trace, &lines, scenario.relative) {
        let label = format!("{number:>3}. ");
        let body = wrap(&text, width.saturating_sub(label.len()), 0);
        for (i, l) in body.lines().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{label}{l}");
            } else {
                let _ = writeln!(out, "{}{l}", " ".repeat(label.len()));
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        wrap(&format!("Why: {}", scenario.moral), width, 5)
    );
    Ok((out, played))
}
