//! # synack-script: packetdrill scripts against the sans-IO endpoint
//!
//! A script says, line by line and with times, which segments arrive (`<`), which the
//! stack must send (`>`), which socket calls the application makes and what they
//! return:
//!
//! ```text
//! 0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
//! +0    bind(3, ..., ...) = 0
//! +0    listen(3, 1) = 0
//! +0    < S 0:0(0) win 65535 <mss 1460>
//! +0    > S. 0:0(0) ack 1 win 65535 <...>
//! +.1   < . 1:1(0) ack 1 win 65535
//! +0    accept(3, ..., ...) = 4
//! ```
//!
//! This crate runs such scripts — the language of packetdrill (Google's, and the nplab
//! fork the FreeBSD TCP test suite is written for) — against a [`synack::Endpoint`] on
//! a virtual clock: no kernel, no TUN device, no waiting. Every run is deterministic.
//!
//! - [`parser`] (with [`lexer`]) turns text into [`ast::Script`]: times (`0`, `+0.1`,
//!   `a~b`, `*`, blocking `a...b`), packets with flags, `start:end(len)`, `ack`, `win`,
//!   options (`<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>`, `<...>`), ICMP errors,
//!   socket calls with expected results and errnos, shell lines, `%{ }%` blocks,
//!   `#ifdef`, header options (`--ip_version`, `--tolerance_usecs`, `--mss`, `--mtu`).
//! - `exec` drives the endpoint: builds the datagrams, runs timers up to each event,
//!   collects what the stack sends with its send time, learns the stack's ISN from its
//!   SYN and maps relative sequence numbers both ways.
//! - `matcher` compares a sent segment with its `>` line; `sockets` is the socket layer
//!   (descriptors, BSD semantics) over synack's API; `shell` gives `sysctl`, `sockstat`
//!   and `tcpdrop` lines their meaning; [`profile`] holds the configuration profiles.
//! - [`report`] renders results: on failure, the line, expected and actual segment in
//!   script notation, and the segments before it; totals overall and per directory.
//!
//! Two modes beyond packetdrill's: **strict** (an outbound segment no line expected
//! fails the script even at its end) and **portable** (options compared as a set,
//! window and window-scale values allowed to differ where they are an OS's defaults;
//! see the table below).
//!
//! ## Modes
//!
//! | mode | differs from packetdrill's checks |
//! |---|---|
//! | default | — |
//! | `strict` | segments left unmatched at the end of the script fail it |
//! | `portable` | options as a set (NOP/EOL padding and order ignored); window-scale value free; windows equal up to "zero or not"; `SO_RCVBUF`/`SO_SNDBUF` values free |
//!
//! ```
//! use synack_script::{run_source, RunOptions, Status};
//! let script = "
//! 0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
//! +0  bind(3, ..., ...) = 0
//! +0  listen(3, 1) = 0
//! +0  < S 0:0(0) win 65535 <mss 1460>
//! +0  > S. 0:0(0) ack 1 <...>
//! +.1 < . 1:1(0) ack 1 win 65535
//! +0  accept(3, ..., ...) = 4
//! ";
//! let result = run_source("example", script, &RunOptions::default());
//! assert_eq!(result.status, Status::Passed, "{}", result.render(true));
//! ```
#![forbid(unsafe_code)]

pub mod ast;
mod exec;
pub mod lexer;
mod matcher;
pub mod packet;
pub mod parser;
pub mod profile;
pub mod report;
mod shell;
mod sockets;

pub use profile::Profile;
pub use report::{per_directory, ScriptResult, Status, Totals};

use std::path::{Path, PathBuf};

/// How to run scripts.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Fail on outbound segments no line expected, even at the end of a script.
    pub strict: bool,
    /// Compare options as a set and let OS-default values (windows, window scale,
    /// buffer sizes) differ.
    pub portable: bool,
    /// The configuration profile (see [`profile`]).
    pub profile: String,
    /// Extra names for `#ifdef`.
    pub defines: Vec<String>,
    /// The endpoint's secret (ISNs, ports): fixed, so runs repeat exactly.
    pub secret: [u8; 16],
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            strict: false,
            portable: false,
            profile: "synack".into(),
            defines: Vec::new(),
            secret: *b"synack-script-ok",
        }
    }
}

/// Run one script from its text; `name` is used in the report.
pub fn run_source(name: impl Into<PathBuf>, source: &str, opts: &RunOptions) -> ScriptResult {
    let path = name.into();
    let Some(profile) = Profile::named(&opts.profile) else {
        return ScriptResult {
            path,
            status: Status::Skipped(format!(
                "unknown profile `{}` (known: {})",
                opts.profile,
                profile::PROFILES.join(", ")
            )),
            notes: vec![],
            transcript: vec![],
        };
    };
    let mut defines = profile.defines.clone();
    defines.extend(opts.defines.iter().cloned());
    let script = match parser::parse(source, &defines) {
        Ok(s) => s,
        Err(e) => {
            return ScriptResult {
                path,
                status: Status::Failed(Box::new(report::Failure {
                    line: e.line,
                    event: String::new(),
                    message: format!("syntax error: {}", e.message),
                    expected: None,
                    actual: None,
                    at_us: 0,
                })),
                notes: vec![],
                transcript: vec![],
            }
        }
    };
    let mut ex = exec::Exec::new(opts, profile);
    // A panic in the stack is a failure of the script, not of the whole run.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.run(&script)));
    let status = match run {
        Ok(Ok(())) => Status::Passed,
        Ok(Err(exec::Stop::Fail(f))) => Status::Failed(f),
        Ok(Err(exec::Stop::Skip(why))) => Status::Skipped(why),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Status::Failed(Box::new(report::Failure {
                line: ex.line,
                event: ex.text.clone(),
                message: format!("the stack panicked: {what}"),
                expected: None,
                actual: None,
                at_us: 0,
            }))
        }
    };
    ScriptResult {
        path,
        status,
        notes: ex.notes,
        transcript: ex.transcript,
    }
}

/// Run one script file.
pub fn run_file(path: &Path, opts: &RunOptions) -> ScriptResult {
    match std::fs::read_to_string(path) {
        Ok(text) => run_source(path, &text, opts),
        Err(e) => ScriptResult {
            path: path.to_path_buf(),
            status: Status::Failed(Box::new(report::Failure {
                line: 0,
                event: String::new(),
                message: format!("cannot read the script: {e}"),
                expected: None,
                actual: None,
                at_us: 0,
            })),
            notes: vec![],
            transcript: vec![],
        },
    }
}

/// The scripts named by `paths`: files as given, directories searched recursively for
/// `*.pkt`, each directory's files in name order.
pub fn collect_scripts(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", p.display()),
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "pkt") {
            out.push(e);
        }
    }
    Ok(())
}
