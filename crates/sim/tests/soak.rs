//! The soak in CI: 1,000 seeds of `synack_sim::soak` (random scenarios with loss up to
//! 30 %, reordering, duplication, corruption, zero windows, half-closes, aborts and
//! crashed hosts; see that module for the invariants). The long run is the example:
//! `cargo run --release -p synack-sim --example soak -- --seeds 100000`.
//!
//! `SYNACK_SEED=N` replays one seed instead (it prints its scenario).

use synack_sim::soak;

/// Seeds CI runs.
const SEEDS: u64 = 1_000;

#[test]
fn soak_seeds_keep_every_invariant() {
    let (from, count) = match std::env::var("SYNACK_SEED") {
        Ok(s) => {
            let seed: u64 = s.trim().parse().expect("SYNACK_SEED must be a number");
            eprintln!("scenario: {:?}", soak::Scenario::from_seed(seed));
            (seed, 1)
        }
        Err(_) => (0, SEEDS),
    };
    let totals = soak::run_many(from, count, 20);
    eprintln!(
        "{} seeds: {} clean, {} with an allowed error, {} failed, {} simulator steps",
        totals.seeds, totals.completed, totals.errored, totals.failed, totals.steps
    );
    let report: Vec<String> = totals.failures.iter().map(ToString::to_string).collect();
    assert_eq!(
        totals.failed,
        0,
        "{} of {} soak seeds failed:\n{}",
        totals.failed,
        totals.seeds,
        report.join("\n")
    );
    // The scenarios are not vacuous: most transfers complete, and the hostile ones
    // (crashes, aborts) do end in reported errors.
    assert!(totals.completed > totals.seeds / 2, "{totals:?}");
    assert!(totals.errored > 0, "{totals:?}");
}

#[test]
fn a_soak_seed_replays_identically() {
    for seed in [7, 4242] {
        let a = soak::run(seed).unwrap_or_else(|f| panic!("{f}"));
        let b = soak::run(seed).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(a, b, "seed {seed} ran differently twice");
    }
}
