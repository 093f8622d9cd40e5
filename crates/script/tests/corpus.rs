//! The external conformance corpus: FreeBSD's TCP test suite
//! (`../shared/conformance/freebsd-tcp-testsuite/` beside the repository), run with the
//! `freebsd` profile in portable mode.
//!
//! Every script that does not pass must be listed, with its reason, in the appendix of
//! `docs/conformance.md`, and every reason must be one of the categories explained
//! there: a new failure (a regression, or a new script) fails this test, and so does a
//! listed script that now passes, so that the list stays exact. Without the shared
//! directory the test says so and passes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use synack_script::{collect_scripts, per_directory, run_file, RunOptions, Status, Totals};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `| `path` | CATEGORY |` rows of the appendix, and the `### CATEGORY` headings.
fn explained() -> (BTreeMap<String, String>, BTreeSet<String>) {
    let doc =
        std::fs::read_to_string(repo().join("docs/conformance.md")).expect("docs/conformance.md");
    let mut rows = BTreeMap::new();
    let mut categories = BTreeSet::new();
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            if let Some(cat) = h.split(':').next() {
                categories.insert(cat.trim().to_string());
            }
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() == 2 && cells[0].starts_with('`') && cells[0].ends_with(".pkt`") {
            rows.insert(cells[0].trim_matches('`').to_string(), cells[1].to_string());
        }
    }
    (rows, categories)
}

#[test]
fn freebsd_corpus_failures_are_all_explained() {
    let root = repo().join("../shared/conformance/freebsd-tcp-testsuite");
    if !root.is_dir() {
        eprintln!(
            "skipping the FreeBSD corpus: {} not found (it sits beside the repository in CI)",
            root.display()
        );
        return;
    }
    let files = collect_scripts(std::slice::from_ref(&root)).expect("corpus readable");
    let opts = RunOptions {
        portable: true,
        profile: "freebsd".into(),
        ..RunOptions::default()
    };
    let results: Vec<_> = files.iter().map(|f| run_file(f, &opts)).collect();
    let (rows, categories) = explained();
    let mut unexplained = Vec::new();
    let mut now_passing = Vec::new();
    for r in &results {
        let rel = r
            .path
            .strip_prefix(&root)
            .unwrap_or(&r.path)
            .to_string_lossy()
            .into_owned();
        match (&r.status, rows.get(&rel)) {
            (Status::Passed, Some(cat)) => now_passing.push(format!("{rel} ({cat})")),
            (Status::Passed, None) => {}
            (_, Some(cat)) if categories.contains(cat) => {}
            (_, Some(cat)) => unexplained.push(format!(
                "{rel}: category {cat} is not explained in docs/conformance.md"
            )),
            (_, None) => unexplained.push(r.render(false)),
        }
    }
    for (dir, t) in per_directory(&results, &root) {
        eprintln!(
            "{dir:<22} {:>4}/{:<4} {:>5.1}%",
            t.passed,
            t.total(),
            t.pass_rate()
        );
    }
    let totals = Totals::of(&results);
    eprintln!(
        "{:<22} {:>4}/{:<4} {:>5.1}%  ({})",
        "all",
        totals.passed,
        totals.total(),
        totals.pass_rate(),
        totals.line()
    );
    assert!(
        now_passing.is_empty(),
        "{} script(s) listed in docs/conformance.md now pass; remove them from the list \
         (and update the pass rates):\n  {}",
        now_passing.len(),
        now_passing.join("\n  ")
    );
    assert!(
        unexplained.is_empty(),
        "{} corpus script(s) fail without an explanation in docs/conformance.md:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(
        files.len() > 900,
        "the corpus has {} scripts; 931 expected",
        files.len()
    );
}

#[test]
fn the_explanations_are_well_formed() {
    let (rows, categories) = explained();
    assert!(
        !rows.is_empty(),
        "no failures listed: the appendix table did not parse"
    );
    for (script, cat) in &rows {
        assert!(
            categories.contains(cat),
            "{script}: category {cat} has no ### section"
        );
    }
    // Every category explains at least one script.
    for cat in &categories {
        if cat
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            assert!(
                rows.values().any(|c| c == cat),
                "category {cat} explains no script"
            );
        }
    }
}
