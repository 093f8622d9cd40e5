//! `docs/rfc9293.md` is complete and honest about its evidence: every requirement ID of
//! RFC 9293 Appendix B appears exactly once with a known status, and every test the
//! table names exists — a `fn NAME` in the Rust sources under `crates/`, or a script
//! file under `tests/scripts/`.
//!
//! The IDs come from `../shared/rfc9293-requirements.md` when the shared directory sits
//! beside the repository (as in CI), else from the copy committed as
//! `docs/rfc9293-ids.txt`; when both exist they must agree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ids_from_shared(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter_map(|l| l.split_once(" ["))
        .map(|(id, _)| id.to_string())
        .filter(|id| is_id(id))
        .collect()
}

fn is_id(s: &str) -> bool {
    let Some((kind, n)) = s.split_once('-') else {
        return false;
    };
    matches!(kind, "MUST" | "SHLD" | "MAY" | "REC")
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
}

fn required_ids() -> Vec<String> {
    let copy =
        std::fs::read_to_string(repo().join("docs/rfc9293-ids.txt")).expect("docs/rfc9293-ids.txt");
    let copy: Vec<String> = copy
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let shared = repo().join("../shared/rfc9293-requirements.md");
    match std::fs::read_to_string(&shared) {
        Ok(text) => {
            let ids = ids_from_shared(&text);
            assert_eq!(
                ids,
                copy,
                "docs/rfc9293-ids.txt differs from {}: regenerate it",
                shared.display()
            );
            ids
        }
        Err(_) => {
            eprintln!(
                "note: {} not found; using docs/rfc9293-ids.txt",
                shared.display()
            );
            copy
        }
    }
}

struct Row {
    id: String,
    status: String,
    evidence: Vec<String>,
}

fn table_rows(doc: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() != 4 || !is_id(cells[0]) {
            continue;
        }
        // The tests come first; a note may follow in parentheses or after a dash.
        let names = cells[3].split(" (").next().unwrap_or("");
        let names = names.split(" — ").next().unwrap_or("");
        let evidence = names
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s.to_string())
            .collect();
        rows.push(Row {
            id: cells[0].to_string(),
            status: cells[2].to_string(),
            evidence,
        });
    }
    rows
}

/// Every `fn name` in the Rust sources under `crates/`.
fn rust_fns() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![repo().join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("fn ").skip(1) {
                    let name: String = piece
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_requirement_appears_once_with_a_status_and_existing_tests() {
    let doc = std::fs::read_to_string(repo().join("docs/rfc9293.md")).expect("docs/rfc9293.md");
    let rows = table_rows(&doc);
    let required = required_ids();
    assert_eq!(required.len(), 119, "RFC 9293 Appendix B has 119 IDs");
    let mut problems = Vec::new();
    for id in &required {
        let n = rows.iter().filter(|r| &r.id == id).count();
        if n != 1 {
            problems.push(format!("{id} appears {n} times in the table"));
        }
    }
    for r in &rows {
        if !required.contains(&r.id) {
            problems.push(format!("{} is not an RFC 9293 requirement ID", r.id));
        }
    }
    let fns = rust_fns();
    for r in &rows {
        let status_ok = r.status == "implemented"
            || r.status.starts_with("implemented (")
            || r.status.starts_with("partial: ")
            || r.status == "not implemented"
            || r.status.starts_with("not implemented: ")
            || r.status.starts_with("not applicable: ");
        if !status_ok {
            problems.push(format!("{}: unknown status {:?}", r.id, r.status));
        }
        if (r.status.starts_with("implemented") || r.status.starts_with("partial"))
            && r.evidence.is_empty()
        {
            problems.push(format!("{}: {} but no test is named", r.id, r.status));
        }
        for name in &r.evidence {
            let exists = if name.ends_with(".pkt") {
                name.starts_with("tests/scripts/") && repo().join(name).is_file()
            } else {
                fns.contains(name)
            };
            if !exists {
                problems.push(format!("{}: `{name}` does not exist", r.id));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/rfc9293.md:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_table_check_notices_a_missing_test() {
    // The checker itself: a made-up test name is found missing, a real one found.
    let fns = rust_fns();
    assert!(fns.contains("every_requirement_appears_once_with_a_status_and_existing_tests"));
    assert!(!fns.contains("no_such_test_exists_anywhere_in_synack"));
    let rows = table_rows(
        "| MUST-1 | x | implemented | `a_test`, `tests/scripts/x.pkt` (see `Config::mtu`) |",
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].evidence,
        vec!["a_test".to_string(), "tests/scripts/x.pkt".to_string()]
    );
}
