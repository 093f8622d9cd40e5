//! `synack script`: run packetdrill-style scripts against synack's endpoint on a virtual
//! clock (the `synack-script` crate) and report each result and the totals.

use clap::Args;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use synack_script::{collect_scripts, per_directory, run_file, RunOptions, ScriptResult, Totals};

#[derive(Debug, Args)]
pub struct ScriptArgs {
    /// Scripts to run; a directory means every `.pkt` file below it.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also fail on outbound segments that no line of the script expected, even after
    /// the last line that expects one.
    #[arg(long)]
    strict: bool,
    /// Compare TCP options as a set and let window, window-scale and buffer-size values
    /// differ where they are an operating system's defaults rather than protocol rules.
    #[arg(long)]
    portable: bool,
    /// Configuration profile: `synack` (the default, synack's own Linux-like defaults) or
    /// `freebsd` (FreeBSD's buffer sizes, delayed-ACK and SYN timeouts, window scale 6…).
    #[arg(long, default_value = "synack")]
    profile: String,
    /// Define a name for `#ifdef` in scripts (STANDARD is always defined).
    #[arg(long = "define", value_name = "NAME")]
    defines: Vec<String>,
    /// Print pass rates per directory (the first level below each directory given).
    #[arg(long)]
    by_dir: bool,
    /// Print the segments of passing scripts too, every note, and whole transcripts of
    /// failures.
    #[arg(short, long)]
    verbose: bool,
    /// Print only the totals (and the per-directory table with --by-dir), not a line
    /// per script.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: &ScriptArgs) -> ExitCode {
    if synack_script::Profile::named(&args.profile).is_none() {
        eprintln!(
            "synack script: unknown profile `{}` (known: {})",
            args.profile,
            synack_script::profile::PROFILES.join(", ")
        );
        return ExitCode::from(2);
    }
    let files = match collect_scripts(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("synack script: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = RunOptions {
        strict: args.strict,
        portable: args.portable,
        profile: args.profile.clone(),
        defines: args.defines.clone(),
        ..RunOptions::default()
    };
    let results = run_all(&files, &opts);
    // Output goes through one locked handle; a closed pipe (`| head`) ends it quietly.
    let mut out = std::io::stdout().lock();
    if !args.quiet {
        for r in &results {
            if write!(out, "{}", r.render(args.verbose)).is_err() {
                return exit_code(&Totals::of(&results));
            }
        }
    }
    let totals = Totals::of(&results);
    if args.by_dir {
        for root in args.paths.iter().filter(|p| p.is_dir()) {
            let mine: Vec<ScriptResult> = results
                .iter()
                .filter(|r| r.path.starts_with(root))
                .cloned()
                .collect();
            let _ = writeln!(out, "\n{}:", root.display());
            for (dir, t) in per_directory(&mine, root) {
                let _ = writeln!(
                    out,
                    "  {dir:<24} {:>4}/{:<4} {:>6.1}%   {}",
                    t.passed,
                    t.total(),
                    t.pass_rate(),
                    t.line()
                );
            }
            let t = Totals::of(&mine);
            let _ = writeln!(
                out,
                "  {:<24} {:>4}/{:<4} {:>6.1}%",
                "all",
                t.passed,
                t.total(),
                t.pass_rate()
            );
        }
    }
    let _ = writeln!(out, "{}", totals.line());
    exit_code(&totals)
}

fn exit_code(totals: &Totals) -> ExitCode {
    if totals.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Run every script, spread over the machine's cores; results in the order given.
fn run_all(files: &[PathBuf], opts: &RunOptions) -> Vec<ScriptResult> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<ScriptResult>>> =
        files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let r = run_file(file, opts);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every script ran")
        })
        .collect()
}
