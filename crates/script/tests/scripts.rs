//! Our own scripts, `tests/scripts/**/*.pkt` at the repository root, run against
//! synack's default configuration in strict mode: each must pass, and no segment may
//! be sent that its script does not expect.

use std::path::{Path, PathBuf};
use synack_script::{collect_scripts, run_file, RunOptions, Status, Totals};

fn scripts_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scripts")
}

#[test]
fn every_script_passes_in_strict_mode() {
    let root = scripts_root();
    let files = collect_scripts(std::slice::from_ref(&root)).expect("tests/scripts exists");
    assert!(
        files.len() > 300,
        "only {} scripts found under {}",
        files.len(),
        root.display()
    );
    let opts = RunOptions {
        strict: true,
        ..RunOptions::default()
    };
    let results: Vec<_> = files.iter().map(|f| run_file(f, &opts)).collect();
    let mut report = String::new();
    for r in &results {
        if r.status != Status::Passed {
            report.push_str(&r.render(true));
        }
    }
    let totals = Totals::of(&results);
    assert!(
        totals.failed == 0 && totals.skipped == 0,
        "{report}\n{}",
        totals.line()
    );
}

#[test]
fn every_directory_of_scripts_is_covered() {
    // The matrix and the hand-written groups the issue asks for are all there.
    let root = scripts_root();
    for dir in [
        "state-event",
        "close",
        "time-wait",
        "rfc5961",
        "handshake",
        "data",
    ] {
        let files = collect_scripts(&[root.join(dir)]).unwrap_or_default();
        assert!(!files.is_empty(), "tests/scripts/{dir} has no scripts");
    }
}
