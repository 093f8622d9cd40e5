//! Private network namespaces, for running synack and kernel programs side by side with
//! nothing leaving the machine. The integration tests are built on this; it is public so
//! that a user can do the same.
//!
//! ```no_run
//! use synack_io::netns::NetNs;
//! use synack_io::{Stack, StackConfig, TunConfig};
//!
//! let ns = NetNs::create("synack-demo")?; // `ip netns add synack-demo-<random>`
//! let mut tun = TunConfig::new("synack0", "198.18.0.1/24".parse()?, "198.18.0.2".parse()?);
//! tun.netns = Some(ns.name().to_string());
//! let stack = Stack::start(StackConfig::new(tun))?;
//! // A kernel socket inside the namespace, reaching synack through the device:
//! let s = ns.run(|| std::net::TcpStream::connect("198.18.0.2:80"))??;
//! # drop((s, stack));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The namespace is deleted when the [`NetNs`] is dropped, also when a test panics.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Why TUN-backed runs cannot happen here, if they cannot: not root, no `/dev/net/tun`,
/// or no `ip` command (iproute2).
pub fn missing_prerequisite() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not running as root (TUN devices and namespaces need it)".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    match Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        _ => Some("the `ip` command (iproute2) is not installed".into()),
    }
}

/// For tests: `true` if TUN-backed tests can run. Otherwise prints why they are skipped
/// and returns `false` — unless the `CI` environment variable is `true` (or `1`), where a
/// missing prerequisite is a failure: the function panics.
pub fn tests_can_run(test: &str) -> bool {
    let Some(why) = missing_prerequisite() else {
        return true;
    };
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if ci {
        panic!("{test}: CI is set, so this test must run, but {why}");
    }
    // Straight to the process's stderr: libtest would hide an `eprintln!` of a test that
    // passes, and a skip must not go unnoticed.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    false
}

/// A network namespace of our own, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// `ip netns add PREFIX-<random>` and bring its loopback up.
    pub fn create(prefix: &str) -> io::Result<NetNs> {
        let mut r = [0u8; 4];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut r)?;
        let name = format!("{prefix}-{:08x}", u32::from_le_bytes(r));
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = NetNs { name };
        run(ns.command("ip").args(["link", "set", "lo", "up"]))?;
        Ok(ns)
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec NAME program`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Run `f` on a thread that has joined the namespace: sockets it creates belong to
    /// the namespace (and keep belonging to it when used from other threads).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        let path = format!("/run/netns/{}", self.name);
        let file = std::fs::File::open(&path)?;
        std::thread::scope(|s| {
            s.spawn(move || {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(io::Error::from)?;
                Ok(f())
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
        })
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A child process that is killed (by its PID) and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Spawn `cmd`.
    pub fn spawn(cmd: &mut Command) -> io::Result<ChildGuard> {
        Ok(ChildGuard(cmd.spawn()?))
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) -> io::Result<()> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
