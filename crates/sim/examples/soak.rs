//! The soak: `cargo run --release -p synack-sim --example soak -- --seeds N [--from S]`
//! runs the random scenarios of seeds S..S+N (see `synack_sim::soak`) and prints
//! totals; every failing seed is printed with the command that replays it alone. The
//! exit status is 1 if any seed failed.

use std::process::ExitCode;
use std::time::Instant;
use synack_sim::soak;

fn usage() -> ExitCode {
    eprintln!("usage: soak --seeds N [--from S]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut seeds: u64 = 1000;
    let mut from: u64 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--seeds", Some(v)) => seeds = v,
            ("--from", Some(v)) => from = v,
            _ => return usage(),
        }
    }
    let started = Instant::now();
    // Report progress every 10,000 seeds, so a long run shows it is alive.
    let batch = 10_000;
    let mut totals = soak::Totals::default();
    let mut next = from;
    let end = from.saturating_add(seeds);
    while next < end {
        let n = batch.min(end - next);
        let t = soak::run_many(next, n, 20);
        for f in &t.failures {
            println!("{f}");
        }
        totals.seeds += t.seeds;
        totals.completed += t.completed;
        totals.errored += t.errored;
        totals.failed += t.failed;
        totals.steps += t.steps;
        next += n;
        eprintln!(
            "... {} seeds, {} failed, {:.1}s",
            totals.seeds,
            totals.failed,
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "soak: seeds {from}..{end}: {} run, {} passed ({} completed cleanly, {} ended in an \
         allowed error), {} FAILED; {} simulator steps; {:.1}s wall",
        totals.seeds,
        totals.seeds - totals.failed,
        totals.completed,
        totals.errored,
        totals.failed,
        totals.steps,
        started.elapsed().as_secs_f64()
    );
    if totals.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
