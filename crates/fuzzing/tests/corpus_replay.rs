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
    let mut replayed = 0usize;
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            // A fuzzer running on the same tree may replace an input it has reduced
            // between the listing and the read; the committed corpus never loses files.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading {}: {e}", file.display()),
        };
        replayed += 1;
        let result = std::panic::catch_unwind(|| run(&data));
        assert!(
            result.is_ok(),
            "{target}: {} fails; reproduce with: cargo +nightly fuzz run {target} {}",
            file.display(),
            file.display()
        );
    }
    assert!(replayed > 0, "no file of the {target} corpus could be read");
    eprintln!("{target}: {replayed} corpus files replayed");
}

#[test]
fn wire_corpus_replays_without_a_finding() {
    replay("wire_parse", synack_fuzzing::run_wire);
}

#[test]
fn endpoint_corpus_replays_without_a_finding() {
    replay("endpoint", synack_fuzzing::run_endpoint);
}
