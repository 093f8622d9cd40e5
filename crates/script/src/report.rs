//! Results: one per script, rendered for people (a failure shows the line, what was
//! expected and what the stack did, and the segments exchanged before it), and totals,
//! overall and per directory.

use crate::exec::secs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where and why a script failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The script line (0: the end of the script).
    pub line: usize,
    /// The event's text.
    pub event: String,
    pub message: String,
    /// The expectation, in script notation.
    pub expected: Option<String>,
    /// What happened instead, in script notation.
    pub actual: Option<String>,
    /// Script time of the failure, microseconds.
    pub at_us: i64,
}

/// How a script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed(Box<Failure>),
    /// The script uses something the runner does not model; the reason says what.
    Skipped(String),
}

/// The result of one script.
#[derive(Debug, Clone)]
pub struct ScriptResult {
    pub path: PathBuf,
    pub status: Status,
    /// Remarks: sysctl lines that had no effect, non-fatal errors…
    pub notes: Vec<String>,
    /// The segments exchanged, in order (`<` injected, `>` sent by the stack).
    pub transcript: Vec<String>,
}

impl ScriptResult {
    pub fn passed(&self) -> bool {
        self.status == Status::Passed
    }

    /// One line (`PASS path`, `SKIP path: reason`) or, for a failure, a block with the
    /// failing line, expected and actual, and the last segments exchanged.
    pub fn render(&self, verbose: bool) -> String {
        let path = self.path.display();
        let mut s = match &self.status {
            Status::Passed => format!("PASS {path}\n"),
            Status::Skipped(why) => format!("SKIP {path}: {why}\n"),
            Status::Failed(f) => {
                let mut s = if f.line > 0 {
                    format!("FAIL {path}:{}: {}\n", f.line, f.message)
                } else {
                    format!("FAIL {path}: {}\n", f.message)
                };
                s.push_str(&format!(
                    "     at {} s, line: {}\n",
                    secs(f.at_us),
                    f.event.trim()
                ));
                if let Some(e) = &f.expected {
                    s.push_str(&format!("     - expected: {}\n", indent(e)));
                }
                if let Some(a) = &f.actual {
                    s.push_str(&format!("     + actual:   {}\n", indent(a)));
                }
                let tail = if verbose { self.transcript.len() } else { 6 };
                if !self.transcript.is_empty() {
                    s.push_str("     segments before the failure:\n");
                    let skip = self.transcript.len().saturating_sub(tail);
                    if skip > 0 {
                        s.push_str(&format!("       … {skip} earlier\n"));
                    }
                    for t in &self.transcript[skip..] {
                        s.push_str(&format!("       {t}\n"));
                    }
                }
                s
            }
        };
        if verbose && !matches!(self.status, Status::Failed(_)) {
            for t in &self.transcript {
                s.push_str(&format!("       {t}\n"));
            }
        }
        if verbose {
            for n in &self.notes {
                s.push_str(&format!("     note: {n}\n"));
            }
        }
        s
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n                 ")
}

/// Totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a ScriptResult>) -> Totals {
        let mut t = Totals::default();
        for r in results {
            t.add(&r.status);
        }
        t
    }

    fn add(&mut self, s: &Status) {
        match s {
            Status::Passed => self.passed += 1,
            Status::Failed(_) => self.failed += 1,
            Status::Skipped(_) => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }

    /// Passed scripts as a percentage of all (skipped ones count as not passed).
    pub fn pass_rate(&self) -> f64 {
        if self.total() == 0 {
            return 0.0;
        }
        100.0 * self.passed as f64 / self.total() as f64
    }

    /// `N passed, M failed` and, when there are any, `, K skipped`.
    pub fn line(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }
}

/// Totals per directory below `root` (the first path component under it), sorted.
pub fn per_directory(results: &[ScriptResult], root: &Path) -> BTreeMap<String, Totals> {
    let mut map: BTreeMap<String, Totals> = BTreeMap::new();
    for r in results {
        let rel = r.path.strip_prefix(root).unwrap_or(&r.path);
        let dir = match rel.components().next() {
            Some(c) if rel.components().count() > 1 => c.as_os_str().to_string_lossy().into_owned(),
            _ => ".".to_string(),
        };
        map.entry(dir).or_default().add(&r.status);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(path: &str, status: Status) -> ScriptResult {
        ScriptResult {
            path: PathBuf::from(path),
            status,
            notes: vec![],
            transcript: vec![],
        }
    }

    #[test]
    fn totals_and_directories() {
        let fail = Status::Failed(Box::new(Failure {
            line: 3,
            event: "+0 > S 0:0(0)".into(),
            message: "m".into(),
            expected: None,
            actual: None,
            at_us: 0,
        }));
        let results = vec![
            r("root/a/x.pkt", Status::Passed),
            r("root/a/y.pkt", fail),
            r("root/b/c/z.pkt", Status::Skipped("why".into())),
            r("root/top.pkt", Status::Passed),
        ];
        let t = Totals::of(&results);
        assert_eq!(t.line(), "2 passed, 1 failed, 1 skipped");
        assert_eq!(t.pass_rate(), 50.0);
        let d = per_directory(&results, Path::new("root"));
        assert_eq!(
            d["a"],
            Totals {
                passed: 1,
                failed: 1,
                skipped: 0
            }
        );
        assert_eq!(d["b"].skipped, 1);
        assert_eq!(d["."].passed, 1);
        assert_eq!(
            Totals {
                passed: 3,
                failed: 0,
                skipped: 0
            }
            .line(),
            "3 passed, 0 failed"
        );
        assert!(results[1]
            .render(false)
            .starts_with("FAIL root/a/y.pkt:3: m"));
    }
}
