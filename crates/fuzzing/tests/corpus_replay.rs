//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same
//! harnesses the cargo-fuzz targets run, so CI checks every input the fuzzers found
//! interesting (crash reproducers included) on stable Rust.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    for file in &files {
        let data = std::fs::read(file).expect("corpus file");
        let result = std::panic::catch_unwind(|| run(&data));
        assert!(
            result.is_ok(),
            "{target}: {} fails; reproduce with: cargo +nightly fuzz run {target} {}",
            file.display(),
            file.display()
        );
    }
    eprintln!("{target}: {} corpus files replayed", files.len());
}

#[test]
fn wire_corpus_replays_without_a_finding() {
    replay("wire_parse", synack_fuzzing::run_wire);
}

#[test]
fn endpoint_corpus_replays_without_a_finding() {
    replay("endpoint", synack_fuzzing::run_endpoint);
}
