//! What the CLI's namespace tests share: the skip rule, `synack serve` as a child
//! process whose stderr is read line by line, and SHA-256 in hex.

#![allow(dead_code)] // each test binary uses a part

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use synack_io::netns::{ChildGuard, NetNs};

/// The `synack` binary under test.
pub const SYNACK: &str = env!("CARGO_BIN_EXE_synack");
/// The address synack owns on the device.
pub const STACK: &str = "198.18.0.2";

/// The impairment the impaired runs apply, in both directions.
pub const IMPAIR: &str = "loss=0.05,reorder=0.05,dup=0.01";

/// The device options every run uses, plus an impairment with its own seed.
pub fn net_args(impaired: Option<u64>) -> Vec<String> {
    let mut a: Vec<String> = [
        "--tun",
        "synack0",
        "--host-addr",
        "198.18.0.1/24",
        "--stack-addr",
        STACK,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(seed) = impaired {
        a.push("--impair".into());
        a.push(format!("{IMPAIR},seed={seed}"));
    }
    a
}

/// Whether a namespace test can run here (root, /dev/net/tun, curl and python3); under
/// `CI=true` a missing piece is a failure, otherwise the test says why it skips.
pub fn can_run(test: &str) -> bool {
    if !synack_io::netns::tests_can_run(test) {
        return false;
    }
    for (tool, arg) in [("curl", "--version"), ("python3", "--version")] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("{test}: CI is set but `{tool}` is missing");
            }
            // Not `eprintln!`, which libtest would hide for a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: `{tool}` is not installed"
            );
            return false;
        }
    }
    true
}

pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `synack serve` running in the namespace, its stderr collected line by line.
pub struct Server {
    pub child: ChildGuard,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    pub fn start(ns: &NetNs, args: &[String]) -> Server {
        let mut cmd = ns.command(SYNACK);
        cmd.arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = ChildGuard::spawn(&mut cmd).expect("start synack serve");
        let stderr = child.0.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[serve] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child,
            lines,
            seen: Vec::new(),
        };
        s.wait_for(" on ", Duration::from_secs(10));
        s
    }

    /// The first stderr line containing `what`.
    pub fn wait_for(&mut self, what: &str, limit: Duration) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(what)) {
            return l.clone();
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(what) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "serve never said `{what}`; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Wait for the process to exit by itself; its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.0.try_wait().unwrap() {
                // Collect what is left of stderr.
                while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(l);
                }
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, then wait for the exit.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        self.wait_exit(Duration::from_secs(10))
    }
}
